//! The test harnesses that hold the engine to DuckDB: its function catalogue, its own
//! sqllogictest records, and the differential fuzzer. Test support: it reads the production code,
//! which never reads it.

mod catalogue;
mod catalogue_rows;
mod fuzz;
mod readme;
mod sqllogic;

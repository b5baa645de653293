//! Plan-time expansions that need the engine to look first: `COLUMNS(...)`, `PIVOT`, `UNPIVOT`
//! and aliases used later in their SELECT.

pub(crate) mod aliases;
pub(crate) mod pivots;
pub(crate) mod star_columns;
pub(crate) mod unpivots;

//! Where data comes from: CARTO's API (against the test server), the demo organisation's
//! per-day cache, folders of files, and the range read from the SQL.

mod api_source;
mod demo_cache;
mod folder_source;
mod inferred_range;

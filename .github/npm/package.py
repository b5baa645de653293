#!/usr/bin/env python3
"""Builds the npm packages of carto-activity from Cargo.toml and a built executable.

    package.py --binary PATH --platform linux-x64 --out DIR   the platform's package
    package.py --main --out DIR                               the package users install

The main package runs the executable of the platform package npm installed as one of its
optional dependencies (the layout esbuild and biome use). Prints the tarballs written."""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
# npm platform key -> (os, cpu, libc)
PLATFORMS = {
    "linux-x64": ("linux", "x64", "glibc"),
    "linux-arm64": ("linux", "arm64", "glibc"),
    "linux-x64-musl": ("linux", "x64", "musl"),
    "linux-arm64-musl": ("linux", "arm64", "musl"),
    "darwin-x64": ("darwin", "x64", None),
    "darwin-arm64": ("darwin", "arm64", None),
    "win32-x64": ("win32", "x64", None),
}


def cargo_package():
    with open(os.path.join(ROOT, "Cargo.toml"), "rb") as f:
        return tomllib.load(f)["package"]


def common(package):
    return {
        "version": package["version"],
        "description": package["description"],
        "license": package["license"],
        "repository": package.get("repository", ""),
        "homepage": package.get("homepage", ""),
    }


def pack(folder, out):
    done = subprocess.run(
        ["npm", "pack", "--silent", "--pack-destination", out], cwd=folder, check=True, capture_output=True, text=True
    )
    return os.path.join(out, done.stdout.strip().splitlines()[-1])


def platform_package(package, binary, key, out):
    system, cpu, libc = PLATFORMS[key]
    with tempfile.TemporaryDirectory() as folder:
        os.makedirs(os.path.join(folder, "bin"))
        exe = "carto-activity.exe" if system == "win32" else "carto-activity"
        shutil.copy2(binary, os.path.join(folder, "bin", exe))
        os.chmod(os.path.join(folder, "bin", exe), 0o755)
        manifest = {"name": f"carto-activity-{key}", **common(package), "os": [system], "cpu": [cpu]}
        if libc:
            manifest["libc"] = [libc]
        manifest.update({"files": ["bin/"], "preferUnplugged": True})
        with open(os.path.join(folder, "package.json"), "w") as f:
            json.dump(manifest, f, indent=2)
        return pack(folder, out)


def main_package(package, out):
    with tempfile.TemporaryDirectory() as folder:
        os.makedirs(os.path.join(folder, "bin"))
        shutil.copy2(os.path.join(HERE, "launcher.js"), os.path.join(folder, "bin", "carto-activity.js"))
        shutil.copy2(os.path.join(ROOT, "README.md"), os.path.join(folder, "README.md"))
        manifest = {
            "name": "carto-activity",
            **common(package),
            "bin": {"carto-activity": "bin/carto-activity.js"},
            "optionalDependencies": {f"carto-activity-{key}": package["version"] for key in PLATFORMS},
            "engines": {"node": ">=18"},
            "files": ["bin/", "README.md"],
        }
        with open(os.path.join(folder, "package.json"), "w") as f:
            json.dump(manifest, f, indent=2)
        return pack(folder, out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary")
    parser.add_argument("--platform", choices=sorted(PLATFORMS))
    parser.add_argument("--main", action="store_true")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    package = cargo_package()
    if args.main:
        print(main_package(package, os.path.abspath(args.out)))
    elif args.binary and args.platform:
        print(platform_package(package, args.binary, args.platform, os.path.abspath(args.out)))
    else:
        parser.error("give --main, or --binary and --platform")


if __name__ == "__main__":
    sys.exit(main())

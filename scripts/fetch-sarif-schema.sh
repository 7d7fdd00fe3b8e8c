#!/usr/bin/env bash
# The official SARIF 2.1.0 JSON schema for the lint SARIF test, taken from the serde-sarif
# crate's sources (it ships the OASIS schema as src/schema.json), fetched with cargo from
# crates.io into a throwaway project; copied to /opt/boxwise-lint/sarif-schema-2.1.0.json.
set -euo pipefail
dest=/opt/boxwise-lint/sarif-schema-2.1.0.json
[ -s "$dest" ] && exit 0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/src"
printf '[package]\nname = "sarif-schema-fetch"\nversion = "0.0.0"\nedition = "2021"\n\n[dependencies]\nserde-sarif = "=0.8.0"\n' >"$tmp/Cargo.toml"
echo 'fn main() {}' >"$tmp/src/main.rs"
cargo fetch --manifest-path "$tmp/Cargo.toml" -q
src=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/serde-sarif-0.8.0/src/schema.json | head -1)
grep -q '"title": "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema"' "$src"
mkdir -p "$(dirname "$dest")"
cp "$src" "$dest"

#!/usr/bin/env bash
# Runs every cargo-fuzz target in fuzz/ (or the ones named as arguments) for a bounded time
# each: FUZZ_SECONDS (default 60) per target. Not run by CI: it needs libFuzzer and a
# sanitizer, so a nightly toolchain. With `rustup toolchain install nightly` present it uses
# `cargo +nightly fuzz`; otherwise it falls back to the stable toolchain with
# RUSTC_BOOTSTRAP=1, which lets stable rustc accept the -Z flags cargo-fuzz passes (fine for a
# local fuzzing run, never for a release build).
# Each target starts from the seeds in fuzz/corpus/<target> (small real files: fixtures,
# lint corpus, gctrace logs, ELF pieces); what libFuzzer finds goes into a temp directory, so
# the committed corpus is not touched (FUZZ_WORK=dir keeps it). Crashes land in
# fuzz/artifacts/<target>/ and make the script exit 1 after the remaining targets ran.
# Needs: cargo-fuzz (`cargo install cargo-fuzz --locked`), a C++ compiler for libFuzzer.
# Extra libFuzzer flags: FUZZ_FLAGS (e.g. "-jobs=4 -workers=4", "-max_len=65536").
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

seconds=${FUZZ_SECONDS:-60}
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz.sh: cargo-fuzz is missing: cargo install cargo-fuzz --locked" >&2
  exit 2
fi
if rustup run nightly rustc --version >/dev/null 2>&1; then
  fuzz=(cargo +nightly fuzz)
  echo "fuzz.sh: nightly toolchain" >&2
else
  export RUSTC_BOOTSTRAP=1
  fuzz=(cargo fuzz)
  echo "fuzz.sh: no nightly toolchain, stable with RUSTC_BOOTSTRAP=1" >&2
fi

if [ $# -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <("${fuzz[@]}" list)
fi

if [ -n "${FUZZ_WORK:-}" ]; then
  work=$FUZZ_WORK
  mkdir -p "$work"
else
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT INT TERM
fi

# One build of every target, then the runs (which would otherwise each rebuild).
"${fuzz[@]}" build

failed=()
for t in "${targets[@]}"; do
  mkdir -p "$work/$t" "fuzz/corpus/$t"
  echo "== $t: ${seconds}s" >&2
  # The first corpus directory receives new inputs; the seeds are only read.
  # shellcheck disable=SC2086 # FUZZ_FLAGS is a list of flags
  if ! "${fuzz[@]}" run "$t" "$work/$t" "fuzz/corpus/$t" -- \
    -max_total_time="$seconds" -timeout="${FUZZ_TIMEOUT:-10}" -print_final_stats=1 \
    ${FUZZ_FLAGS:-}; then
    failed+=("$t")
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz.sh: failures in: ${failed[*]} (inputs in fuzz/artifacts/)" >&2
  exit 1
fi
echo "fuzz.sh: ${#targets[@]} targets, ${seconds}s each, no failures" >&2

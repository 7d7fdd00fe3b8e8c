#!/bin/sh
# Side-by-side `boxwise pprof top` vs `go tool pprof -top` on the large synthetic profile
# (100,000 samples, 60,000 locations, ~5.6 MB gzip): wall time and peak RSS from
# /usr/bin/time -v, best and worst of N runs, and the ratios judged worst case (slowest or
# largest boxwise run against the fastest or smallest go run). Results go in
# docs/benchmarks.md (## pprof top).
# Usage: crates/pprof/benches/pprof_top.sh [RUNS]   (from the workspace root)
set -eu
runs=${1:-3}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cargo build --release -q -p boxwise
cargo run --release -q -p boxwise-pprof --example gen_large_profile -- "$dir/large.pb.gz"
go version
measure() { # name, command...: prints and records best and worst wall time and peak RSS
    name=$1; shift
    best_t=; worst_t=; best_m=; worst_m=
    i=0
    while [ "$i" -lt "$runs" ]; do
        /usr/bin/time -v "$@" > "$dir/$name.out" 2> "$dir/time.txt"
        t=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$dir/time.txt")
        m=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$dir/time.txt")
        s=$(echo "$t" | awk -F: '{ if (NF == 3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
        if [ -z "$best_t" ] || awk "BEGIN{exit !($s < $best_t)}"; then best_t=$s; fi
        if [ -z "$worst_t" ] || awk "BEGIN{exit !($s > $worst_t)}"; then worst_t=$s; fi
        if [ -z "$best_m" ] || [ "$m" -lt "$best_m" ]; then best_m=$m; fi
        if [ -z "$worst_m" ] || [ "$m" -gt "$worst_m" ]; then worst_m=$m; fi
        i=$((i + 1))
    done
    echo "$name: wall ${best_t}-${worst_t}s, peak RSS $((best_m / 1024))-$((worst_m / 1024)) MiB ($runs runs)"
    eval "${name}_t=$worst_t ${name}_m=$worst_m ${name}_bt=$best_t ${name}_bm=$best_m"
}
measure boxwise target/release/boxwise pprof top "$dir/large.pb.gz"
measure go env TZ=UTC go tool pprof -top "$dir/large.pb.gz"
# Worst boxwise run against best go run: the ratios the targets (10x, 1/10) are judged on.
awk "BEGIN { printf \"speed-up: %.1fx (slowest boxwise vs fastest go)\\n\", $go_bt / $boxwise_t;
             printf \"memory: 1/%.1f (largest boxwise vs smallest go)\\n\", $go_bm / $boxwise_m }"
if cmp -s "$dir/boxwise.out" "$dir/go.out"; then
    echo "outputs identical ($(wc -l < "$dir/go.out") lines)"
else
    echo "OUTPUTS DIFFER"; diff "$dir/go.out" "$dir/boxwise.out" | head -20; exit 1
fi

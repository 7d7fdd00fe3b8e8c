#!/bin/sh
# Side-by-side `boxwise pprof top` vs `go tool pprof -top` on the large synthetic profile
# (100,000 samples, 60,000 locations, ~5.6 MB gzip): wall time and peak RSS from
# /usr/bin/time -v, best of N runs. Results go in docs/benchmarks.md (## pprof top).
# Usage: crates/pprof/benches/pprof_top.sh [RUNS]   (from the workspace root)
set -eu
runs=${1:-3}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cargo build --release -q -p boxwise
cargo run --release -q -p boxwise-pprof --example gen_large_profile -- "$dir/large.pb.gz"
go version
measure() { # name, command...
    name=$1; shift
    best_t=; best_m=
    i=0
    while [ "$i" -lt "$runs" ]; do
        /usr/bin/time -v "$@" > "$dir/$name.out" 2> "$dir/time.txt"
        t=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$dir/time.txt")
        m=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$dir/time.txt")
        s=$(echo "$t" | awk -F: '{ if (NF == 3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
        if [ -z "$best_t" ] || awk "BEGIN{exit !($s < $best_t)}"; then best_t=$s; fi
        if [ -z "$best_m" ] || [ "$m" -lt "$best_m" ]; then best_m=$m; fi
        i=$((i + 1))
    done
    echo "$name: wall ${best_t}s, peak RSS $((best_m / 1024)) MiB (best of $runs)"
}
measure boxwise target/release/boxwise pprof top "$dir/large.pb.gz"
measure go env TZ=UTC go tool pprof -top "$dir/large.pb.gz"
if cmp -s "$dir/boxwise.out" "$dir/go.out"; then
    echo "outputs identical ($(wc -l < "$dir/go.out") lines)"
else
    echo "OUTPUTS DIFFER"; diff "$dir/go.out" "$dir/boxwise.out" | head -20; exit 1
fi

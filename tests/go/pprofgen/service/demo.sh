#!/bin/sh
# The README's `boxwise pprof` example, for real: runs this service in a CPU-throttled cgroup
# (v1 `cpu` controller, 0.5 CPU, created beneath this shell's own cgroup) with GOMAXPROCS=8,
# loads it from outside the cgroup (127.0.0.1 only, bounded in count and time), and prints
# `boxwise pprof summary` and `pprof top` of 5 s CPU profiles fetched from its
# net/http/pprof endpoint. Removes the cgroup and every process it started on exit.
# Usage (root, from the workspace root): tests/go/pprofgen/service/demo.sh [BOXWISE]
set -eu
boxwise=${1:-target/release/boxwise}
tmp=$(mktemp -d)
(cd tests/go/pprofgen && go build -o "$tmp/service" ./service)

# This shell's cgroup for the v1 cpu controller, and where that hierarchy is mounted.
rel=$(awk -F: '{ n = split($2, c, ","); for (i = 1; i <= n; i++) if (c[i] == "cpu") print $3 }' /proc/self/cgroup)
set -- $(awk '{ for (i = 1; $i != "-"; i++); if ($(i+1) == "cgroup") { n = split($(i+3), o, ","); for (j = 1; j <= n; j++) if (o[j] == "cpu") print $4, $5 } }' /proc/self/mountinfo)
[ -n "$rel" ] && [ $# -eq 2 ] || { echo "no v1 cpu controller here" >&2; exit 1; }
root=$1 mnt=$2
rel=${rel#"${root%/}"}
cg="$mnt${rel%/}/boxwise-readme-pprof"
mkdir "$cg"
svc= load=
cleanup() {
    [ -n "$load" ] && kill "$load" 2>/dev/null || true
    [ -n "$svc" ] && kill "$svc" 2>/dev/null || true
    wait 2>/dev/null || true
    rmdir "$cg"
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
echo 100000 > "$cg/cpu.cfs_period_us"
echo 50000 > "$cg/cpu.cfs_quota_us"

# The shell joins the cgroup, then becomes the service (same pid).
sh -c 'echo $$ > "$1/cgroup.procs" && exec env GOMAXPROCS=8 "$2" serve 127.0.0.1:0' sh "$cg" "$tmp/service" > "$tmp/serve.out" &
svc=$!
i=0
until grep -q '^listening on ' "$tmp/serve.out"; do
    i=$((i + 1)); [ "$i" -lt 100 ] || { echo "service did not start" >&2; exit 1; }
    sleep 0.1
done
addr=$(sed -n 's/^listening on //p' "$tmp/serve.out")
echo "service pid $svc on $addr in $cg: quota $(cat "$cg/cpu.cfs_quota_us")/$(cat "$cg/cpu.cfs_period_us") us, GOMAXPROCS=8" >&2

"$tmp/service" load "http://$addr/work" 100000 32 40s > "$tmp/load.out" &
load=$!
sleep 3
echo "\$ boxwise pprof summary http://$addr/debug/pprof/profile --seconds 5"
"$boxwise" pprof summary "http://$addr/debug/pprof/profile" --seconds 5
echo
echo "\$ boxwise pprof top http://$addr/debug/pprof/profile --seconds 5 -n 8"
"$boxwise" pprof top "http://$addr/debug/pprof/profile" --seconds 5 -n 8
echo
echo "\$ boxwise doctor --pid $svc --profile http://$addr/debug/pprof/profile --profile-seconds 5"
"$boxwise" doctor --pid "$svc" --profile "http://$addr/debug/pprof/profile" --profile-seconds 5 || true
sed 's/^/cpu.stat: /' "$cg/cpu.stat" >&2
kill "$load" 2>/dev/null || true
wait "$load" 2>/dev/null || true
load=

#!/usr/bin/env bash
# The measurements behind docs/guide.md and docs/bench.md, one file per claim in OUTDIR.
# Needs root, Docker, fio/iperf3/qperf/sockperf (see .ci/run), hyperfine, Go 1.25.
#
#   scripts/guide-measure.sh OUTDIR      (BW=path/to/static/boxwise to use another build)
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BW=${BW:-$(bash scripts/build-static.sh | tail -1)}
G=${1:?usage: guide-measure.sh OUTDIR}
mkdir -p "$G"
go125=${GO125:-/opt/boxwise-go/go-1.25/bin/go}
export GOTOOLCHAIN=local GOPROXY=off CGO_ENABLED=0 GOFLAGS=
(cd tests/go/probe-go125 && "$go125" build -o "$G/probe-go125" .)
(cd tests/go/probe && go build -o "$G/probe-go119" .)
(cd examples/workloads/allocsvc && "$go125" build -o "$G/allocsvc" .)
{ date -u +"%Y-%m-%d %H:%M UTC"; uname -r; cut -d' ' -f1-3 /proc/loadavg; } > $G/env.txt
( echo '$ boxwise bench net'; $BW bench net ) > $G/net.txt 2>&1
( echo '$ boxwise bench io --dir /var/tmp --dir /dev/shm'; $BW bench io --dir /var/tmp --dir /dev/shm ) > $G/io.txt 2>&1
# Inside a container: the overlay upper dir (/), a volume on the disk, tmpfs.
ctx=$(mktemp -d); cp "$BW" "$ctx/boxwise"
printf 'FROM scratch\nCOPY boxwise /boxwise\nENTRYPOINT ["/boxwise"]\n' > "$ctx/Dockerfile"
tag=boxwise-bench-guide:$$
docker build --no-cache -q -t "$tag" "$ctx" >/dev/null
vol=$(mktemp -d /var/tmp/boxwise-vol.XXXX)
( echo '$ docker run --rm -v /var/tmp/vol:/vol --tmpfs /scratch IMAGE bench io --dir / --dir /vol --dir /scratch --block 4k,64k --sync none,fsync --buffers none'
  docker run --rm -v "$vol:/vol" --tmpfs /scratch "$tag" bench io --dir / --dir /vol --dir /scratch --block 4k,64k --sync none,fsync --buffers none ) > $G/docker-io.txt 2>&1
docker rmi -f "$tag" >/dev/null; rm -rf "$ctx" "$vol"
BENCH_SECS=3 bash scripts/bench-peers.sh "$BW" /var/tmp > $G/peers.txt 2>&1
( cd "$G" && BW="$BW" bash -c '
  echo "\$ boxwise run --memory 100m --isolate pid,net,uts,ipc -- boxwise inspect"
  $BW run --memory 100m --isolate pid,net,uts,ipc -- $BW inspect' ) > $G/c1.txt 2>&1
for p in probe-go119 probe-go125; do
  echo "\$ boxwise run --cpus 0.6 -- ./$p"; (cd "$G" && $BW run --cpus 0.6 -- ./$p)
done > $G/c5.txt 2>&1
for p in probe-go119 probe-go125; do
  echo "\$ boxwise run --cpus 1.5 -- boxwise exec --dry-run -- ./$p"
  (cd "$G" && $BW run --cpus 1.5 -- $BW exec --dry-run -- ./$p)
done > $G/c7.txt 2>&1
# C6: GOMAXPROCS 1 vs 2 under 0.6 CPU.
( echo '$ boxwise sweep --cpus 0.6 --env GOMAXPROCS=1,2 --repeat 3 --seed 13 --http http://127.0.0.1:18091/ --rate 500 --duration 4s -- env ADDR=127.0.0.1:18091 LIVE_MIB=64 ALLOC_KIB=256 ./allocsvc'
  $BW sweep --cpus 0.6 --env GOMAXPROCS=1,2 --repeat 3 --seed 13 --http http://127.0.0.1:18091/ --rate 500 --duration 4s -- env ADDR=127.0.0.1:18091 LIVE_MIB=64 ALLOC_KIB=256 $G/allocsvc ) > $G/c6.txt 2>&1
# C8/C10: GOGC x GOMEMLIMIT under 256 MiB.
( echo '$ boxwise sweep --cpus 1 --memory 256m --env GOGC=20,50,100,200 --env GOMEMLIMIT=off,200MiB --repeat 2 --seed 8 --http http://127.0.0.1:18092/ --rate 500 --duration 4s -- env ADDR=127.0.0.1:18092 LIVE_MIB=64 ALLOC_KIB=256 ./allocsvc'
  $BW sweep --cpus 1 --memory 256m --env GOGC=20,50,100,200 --env GOMEMLIMIT=off,200MiB --repeat 2 --seed 8 --http http://127.0.0.1:18092/ --rate 500 --duration 4s --json $G/c8.json -- env ADDR=127.0.0.1:18092 LIVE_MIB=64 ALLOC_KIB=256 $G/allocsvc ) > $G/c8.txt 2>&1
echo measured
# C12: start-up of a scratch image with a static Go program, and of the same image with a
# 300 MiB layer added (size alone), against the program without a container.
ctx=$(mktemp -d); cp $G/probe-go125 "$ctx/probe"
printf 'FROM scratch\nCOPY probe /probe\nENTRYPOINT ["/probe"]\n' > "$ctx/Dockerfile"
docker build --no-cache -q -t boxwise-guide-small:$$ "$ctx" >/dev/null
head -c 300M /dev/urandom > "$ctx/pad"
printf 'FROM scratch\nCOPY probe /probe\nCOPY pad /pad\nENTRYPOINT ["/probe"]\n' > "$ctx/Dockerfile"
docker build --no-cache -q -t boxwise-guide-fat:$$ "$ctx" >/dev/null
docker images --format '{{.Repository}} {{.Size}}' | grep boxwise-guide > $G/c12-sizes.txt
hyperfine -N --warmup 2 --runs 15 --export-markdown $G/c12.md \
  -n 'probe (no container)' "$G/probe-go125" \
  -n 'docker run, scratch 5 MB' "docker run --rm boxwise-guide-small:$$" \
  -n 'docker run, scratch + 300 MiB layer' "docker run --rm boxwise-guide-fat:$$" > $G/c12.txt 2>&1
docker rmi -f boxwise-guide-small:$$ boxwise-guide-fat:$$ >/dev/null; rm -rf "$ctx"
echo c12 done

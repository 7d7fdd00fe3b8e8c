#!/usr/bin/env bash
# The measurements behind docs/guide.md and docs/bench.md, one file per claim in OUTDIR.
# Needs root, Docker, fio/iperf3/qperf/sockperf (see .ci/run), hyperfine, Go 1.25; the c12 part
# needs debootstrap and the machine's Debian mirror, c15 docker-compose (v1, --compatibility).
#
#   scripts/guide-measure.sh OUTDIR      (BW=path/to/static/boxwise to use another build)
#   scripts/guide-measure.sh OUTDIR c9 c12 c15    only those parts (the later claims)
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BW=${BW:-$(bash scripts/build-static.sh | tail -1)}
G=${1:?usage: guide-measure.sh OUTDIR}
mkdir -p "$G"
go125=${GO125:-/opt/boxwise-go/go-1.25/bin/go}
export GOTOOLCHAIN=local GOPROXY=off CGO_ENABLED=0 GOFLAGS=
env_line() { echo "# $(date -u +'%Y-%m-%d %H:%M UTC') $(uname -r) load $(cut -d' ' -f1-3 /proc/loadavg)"; }

# C9: a 256 MiB heap dropped, watched for 6 s: Go 1.19 and 1.25, idle, with a GC every 500 ms,
# and with debug.FreeOSMemory; plus the scavenger's own lines through `boxwise gctrace`.
c9() {
  (cd tests/go/freeos && go build -o "$G/freeos-go119" . && "$go125" build -o "$G/freeos-go125" .)
  { env_line
    for v in go119 go125; do
      for flags in "" "-tickgc" "-free"; do
        echo "\$ boxwise run --memory 512m -- freeos-$v $flags"
        $BW run --memory 512m -- "$G/freeos-$v" $flags 2>&1
      done
    done
    echo '$ GODEBUG=gctrace=1,scavtrace=1 freeos-go125 -tickgc -for 3s 2> scav.txt; boxwise gctrace scav.txt'
    GODEBUG=gctrace=1,scavtrace=1 "$G/freeos-go125" -tickgc -for 3s 2> "$G/c9-scav.txt" >/dev/null
    $BW gctrace "$G/c9-scav.txt"
  } > "$G/c9.txt" 2>&1
}

# C2/C12: a Debian bookworm minbase root (debootstrap from the machine's own Debian mirror,
# imported into Docker, no registry) with a dynamic Go binary, against the static one on
# scratch; and one image with 1 layer against one with 50 layers of the same 100 MiB. Each
# image is timed for `docker run` and for `docker load` of its saved tar (what a new node
# pays to pull and unpack), then removed.
c12() {
  local work; work=$(mktemp -d /var/tmp/boxwise-guide.XXXX)
  if ! docker image inspect boxwise-guide-distro:base >/dev/null 2>&1; then
    local mirror
    mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
    debootstrap --variant=minbase bookworm "$work/root" "$mirror" > "$work/debootstrap.log"
    tar -C "$work/root" -c . | docker import - boxwise-guide-distro:base >/dev/null
    rm -rf "$work/root"
  fi
  (cd tests/go/hello && CGO_ENABLED=1 "$go125" build -o "$work/hello-dynamic" . \
    && "$go125" build -o "$work/hello-static" .)
  ctx="$work/ctx"; mkdir -p "$ctx"
  cp "$work/hello-dynamic" "$work/hello-static" "$ctx/"
  printf 'FROM boxwise-guide-distro:base\nCOPY hello-dynamic /hello\nENTRYPOINT ["/hello", "-for", "1ms"]\n' > "$ctx/Dockerfile.distro"
  printf 'FROM scratch\nCOPY hello-static /hello\nENTRYPOINT ["/hello", "-for", "1ms"]\n' > "$ctx/Dockerfile.scratch"
  mkdir -p "$ctx/pad"
  for i in $(seq -w 1 50); do head -c 2M /dev/urandom > "$ctx/pad/f$i"; done
  { echo 'FROM scratch'; echo 'COPY hello-static /hello'; echo 'COPY pad /pad'
    echo 'ENTRYPOINT ["/hello", "-for", "1ms"]'; } > "$ctx/Dockerfile.one"
  { echo 'FROM scratch'; echo 'COPY hello-static /hello'
    for i in $(seq -w 1 50); do echo "COPY pad/f$i /pad/f$i"; done
    echo 'ENTRYPOINT ["/hello", "-for", "1ms"]'; } > "$ctx/Dockerfile.fifty"
  local names=(distro scratch one fifty)
  for n in "${names[@]}"; do
    docker build --no-cache -q -f "$ctx/Dockerfile.$n" -t "boxwise-guide-$n:1" "$ctx" >/dev/null
    docker save -o "$work/$n.tar" "boxwise-guide-$n:1"
  done
  # Untagged, so removing the distro image really removes its base layer and each load of it
  # unpacks the whole base, as on a node that never had it.
  docker rmi boxwise-guide-distro:base >/dev/null
  { env_line
    docker images --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep '^boxwise-guide-'
    for n in "${names[@]}"; do
      echo "\$ boxwise image boxwise-guide-$n:1"; $BW image "boxwise-guide-$n:1"
    done
  } > "$G/c12-images.txt" 2>&1
  local runs=() loads=()
  for n in "${names[@]}"; do
    runs+=(-n "docker run, $n" "docker run --rm --network none boxwise-guide-$n:1")
    loads+=(-n "docker load, $n" --prepare "docker rmi -f boxwise-guide-$n:1" "docker load -q -i $work/$n.tar")
  done
  env_line > "$G/c12-run.txt"
  flock /work/bench.lock hyperfine -N --warmup 2 --runs 15 --export-markdown "$G/c12-run.md" "${runs[@]}" >> "$G/c12-run.txt" 2>&1
  env_line > "$G/c12-load.txt"
  flock /work/bench.lock hyperfine -N --runs 8 --export-markdown "$G/c12-load.md" "${loads[@]}" >> "$G/c12-load.txt" 2>&1
  for n in "${names[@]}"; do docker rmi -f "boxwise-guide-$n:1" >/dev/null 2>&1; done
  rm -rf "$work"
}

# C15: Compose's deploy.resources limits (docker-compose --compatibility turns them into the
# container's limits), scaled to this 2-CPU machine: no limits, against cpus 1 / memory 512M
# (reservations 0.25 / 128M), and the same limits with GOMAXPROCS=1. allocsvc in a scratch
# image; each service is loaded by `boxwise load` at 300 req/s (latency) and at 3000 req/s
# (more than any can serve: the achieved rate is its capacity), one at a time, in 3 rounds.
c15() {
  local work; work=$(mktemp -d /var/tmp/boxwise-guide.XXXX)
  (cd examples/workloads/allocsvc && "$go125" build -o "$work/allocsvc" .)
  printf 'FROM scratch\nCOPY allocsvc /allocsvc\nENTRYPOINT ["/allocsvc"]\n' > "$work/Dockerfile"
  cat > "$work/docker-compose.yml" <<'YAML'
version: "3.8"
x-svc: &svc
  build: .
  image: boxwise-guide-allocsvc:1
  environment: {ADDR: ":8080", LIVE_MIB: "64", ALLOC_KIB: "256"}
services:
  unlimited:
    <<: *svc
    ports: ["127.0.0.1:18111:8080"]
  limited:
    <<: *svc
    ports: ["127.0.0.1:18112:8080"]
    deploy:
      resources:
        limits: {cpus: "1", memory: 512M}
        reservations: {cpus: "0.25", memory: 128M}
  limited-gomaxprocs1:
    <<: *svc
    environment: {ADDR: ":8080", LIVE_MIB: "64", ALLOC_KIB: "256", GOMAXPROCS: "1"}
    ports: ["127.0.0.1:18113:8080"]
    deploy:
      resources:
        limits: {cpus: "1", memory: 512M}
        reservations: {cpus: "0.25", memory: 128M}
YAML
  (cd "$work" && docker-compose -p boxwiseguide --compatibility build -q >/dev/null 2>&1 \
    && docker-compose -p boxwiseguide --compatibility up -d >/dev/null 2>&1)
  { env_line
    cat "$work/docker-compose.yml"
    for c in unlimited limited limited-gomaxprocs1; do
      echo "\$ docker inspect boxwiseguide_${c}_1 (NanoCpus Memory CpuShares MemoryReservation)"
      docker inspect -f '{{.HostConfig.NanoCpus}} {{.HostConfig.Memory}} {{.HostConfig.CpuShares}} {{.HostConfig.MemoryReservation}}' "boxwiseguide_${c}_1"
    done
    for round in 1 2 3; do
      for rate in 300 3000; do
        for port in 18111 18112 18113; do
          echo "\$ boxwise load http://127.0.0.1:$port/ --rate $rate --duration 10s   # round $round"
          flock /work/bench.lock $BW load "http://127.0.0.1:$port/" --rate $rate --duration 10s --ready-timeout 20s
        done
      done
    done
    env_line
  } > "$G/c15.txt" 2>&1
  (cd "$work" && docker-compose -p boxwiseguide --compatibility down --rmi all >/dev/null 2>&1)
  rm -rf "$work"
}

if [[ $# -gt 1 ]]; then
  shift
  for part in "$@"; do "$part"; done
  exit 0
fi
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

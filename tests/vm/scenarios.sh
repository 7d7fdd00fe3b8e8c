#!/bin/sh
# The VM test scenarios, run by the guest's /init (tests/vm/init) as root in the root cgroup
# of a cgroup2-only hierarchy. Each scenario builds its cgroups under /sys/fs/cgroup/s-*,
# records what boxwise and the Go probes say from inside, and removes them. Output on the
# console, parsed by crates/boxwise/tests/vm.rs:
#
#   @@SCENARIO name
#   @@BEGIN name label        the command's stdout follows
#   @@END name label rc=N     (label.stderr blocks carry its stderr when not empty)
#
#   sh scenarios.sh record NAME    records the standard set for NAME (used inside cgns)
CG=/sys/fs/cgroup
# go125old: Go 1.25 building a module that says go 1.19 (containermaxprocs=0).
VERSIONS="go119 go123 go125 go126 go125old"
CONTROLLERS="+cpuset +cpu +io +memory +pids"

# block LABEL CMD ARGS...: run CMD, print its stdout (and stderr) as delimited blocks. A
# command that hangs is killed after a minute (rc 143), so one scenario cannot eat the
# guest's whole time budget; the shell functions below run as they are.
block() {
  label=$1
  shift
  case $1 in
    facts | levels) "$@" >/tmp/out 2>/tmp/err ;;
    *) timeout 60 "$@" >/tmp/out 2>/tmp/err ;;
  esac
  rc=$?
  emit "$label" /tmp/out "$rc"
  if [ -s /tmp/err ]; then
    emit "$label.stderr" /tmp/err 0
  fi
  return 0
}

emit() {
  echo "@@BEGIN $SCEN $1"
  cat "$2"
  # A last line without a newline would swallow the end marker.
  [ -n "$(tail -c1 "$2")" ] && echo
  echo "@@END $SCEN $1 rc=$3"
}

# cgroup files of every level from DIR up to the root, for the reader of a failure.
levels() {
  d=$1
  while :; do
    echo "[$d]"
    for f in cgroup.type cpu.max cpu.max.burst cpuset.cpus cpuset.cpus.effective memory.max \
      memory.high memory.low memory.min pids.max cgroup.subtree_control; do
      [ -f "$d/$f" ] && echo "$f: $(cat "$d/$f")"
    done
    [ "$d" = "$CG" ] && break
    d=${d%/*}
  done
}

facts() {
  echo "cgroup: $(cat /proc/self/cgroup)"
  grep cgroup2 /proc/self/mountinfo | sed 's/^/mountinfo: /'
  grep Cpus_allowed_list /proc/self/status
  echo "online: $(cat /sys/devices/system/cpu/online)"
}

# The standard record: boxwise's view, its plan under each policy, and each probe run alone
# and under `boxwise exec`. Runs in the caller's cgroup (and namespaces).
record() {
  block facts facts
  block inspect boxwise inspect --json
  block dryrun boxwise exec --dry-run
  block dryrun-floor boxwise exec --dry-run --cpu-policy floor
  block dryrun-ceil boxwise exec --dry-run --cpu-policy ceil
  for v in $VERSIONS; do
    block "alone-$v" "/go/probe-$v"
    block "exec-$v" boxwise exec -- "/go/probe-$v"
  done
}

# mk PATH: create $CG/PATH level by level, enabling the controllers in every level above the
# last, which is left empty of controllers so processes can join it.
mk() {
  p=$CG
  rest=$1
  while [ -n "$rest" ]; do
    part=${rest%%/*}
    [ "$part" = "$rest" ] && rest= || rest=${rest#*/}
    if [ "$p" != "$CG" ]; then
      echo "$CONTROLLERS" >"$p/cgroup.subtree_control" || echo "@@WARN $SCEN cannot enable controllers in $p"
    fi
    p=$p/$part
    mkdir -p "$p"
  done
}

# set PATH FILE VALUE
set_() {
  echo "$3" >"$CG/$1/$2" || echo "@@WARN $SCEN cannot write '$3' to $1/$2"
}

# rm_tree PATH: remove $CG/PATH and everything below it, deepest first. A cgroup stays busy
# for a moment after its last process exits (timeout's watcher polls once a second), so each
# rmdir is retried for up to 5 s.
rm_tree() {
  [ -d "$CG/$1" ] || return 0
  find "$CG/$1" -depth -type d | while read -r d; do
    n=0
    until rmdir "$d" 2>/dev/null; do
      n=$((n + 1))
      if [ "$n" -ge 25 ]; then
        echo "@@WARN $SCEN cannot remove $d: $(cat "$d/cgroup.procs" 2>/dev/null | tr '\n' ' ')"
        break
      fi
      sleep 0.2
    done
  done
}

begin() {
  SCEN=$1
  echo "@@SCENARIO $SCEN"
}

# inside PATH: record the standard set from a subshell that has joined $CG/PATH.
inside() {
  (
    echo 0 >"$CG/$1/cgroup.procs" || echo "@@WARN $SCEN cannot join $1"
    block levels levels "$CG/$1"
    record
  )
}

if [ "$1" = record ]; then
  SCEN=$2
  record
  exit 0
fi

# --- CPU quota ---------------------------------------------------------------------------

begin none
mk s-none/leaf
inside s-none/leaf
rm_tree s-none

begin leaf-quota
mk s-leafq/leaf
set_ s-leafq/leaf cpu.max "250000 100000"
inside s-leafq/leaf
rm_tree s-leafq

begin parent-quota
mk s-parq/leaf
set_ s-parq cpu.max "150000 100000"
inside s-parq/leaf
rm_tree s-parq

begin grandparent-quota
mk s-gpq/mid/leaf
set_ s-gpq cpu.max "50000 100000"
inside s-gpq/mid/leaf
rm_tree s-gpq

begin nested-lower-above
mk s-nla/leaf
set_ s-nla cpu.max "150000 100000"
set_ s-nla/leaf cpu.max "250000 100000"
inside s-nla/leaf
rm_tree s-nla

begin nested-lower-below
mk s-nlb/leaf
set_ s-nlb cpu.max "250000 100000"
set_ s-nlb/leaf cpu.max "150000 100000"
inside s-nlb/leaf
rm_tree s-nlb

# --- cpuset --------------------------------------------------------------------------------

begin cpuset-leaf
mk s-csl/leaf
set_ s-csl/leaf cpuset.cpus 0-2
inside s-csl/leaf
rm_tree s-csl

begin cpuset-parent
mk s-csp/leaf
set_ s-csp cpuset.cpus 4-5
inside s-csp/leaf
rm_tree s-csp

# --- memory --------------------------------------------------------------------------------

begin memory-leaf
mk s-meml/leaf
set_ s-meml/leaf memory.max 268435456
set_ s-meml/leaf memory.high 201326592
inside s-meml/leaf
rm_tree s-meml

begin memory-parent
mk s-memp/leaf
set_ s-memp memory.max 209715200
set_ s-memp memory.high 314572800
inside s-memp/leaf
rm_tree s-memp

# --- v2 facts: burst, low, min -------------------------------------------------------------

begin burst-low-min
mk s-blm/leaf
set_ s-blm/leaf cpu.max "150000 100000"
set_ s-blm/leaf cpu.max.burst 50000
set_ s-blm/leaf memory.max 536870912
set_ s-blm/leaf memory.low 67108864
set_ s-blm/leaf memory.min 33554432
inside s-blm/leaf
rm_tree s-blm

# --- cgroup namespaces: limits above the namespace root (cpu) and on it (memory) ----------

begin cgns-noremount
mk s-cgns/leaf
set_ s-cgns cpu.max "150000 100000"
set_ s-cgns/leaf cpu.max "250000 100000"
set_ s-cgns/leaf memory.max 209715200
(
  echo 0 >"$CG/s-cgns/leaf/cgroup.procs" || echo "@@WARN $SCEN cannot join s-cgns/leaf"
  block levels levels "$CG/s-cgns/leaf"
  cgns sh /scenarios.sh record "$SCEN"
)
rm_tree s-cgns

begin cgns-remount
mk s-cgnr/leaf
set_ s-cgnr cpu.max "150000 100000"
set_ s-cgnr/leaf cpu.max "250000 100000"
set_ s-cgnr/leaf memory.max 209715200
(
  echo 0 >"$CG/s-cgnr/leaf/cgroup.procs" || echo "@@WARN $SCEN cannot join s-cgnr/leaf"
  block levels levels "$CG/s-cgnr/leaf"
  cgns -remount sh /scenarios.sh record "$SCEN"
)
rm_tree s-cgnr

# --- boxwise run ---------------------------------------------------------------------------

# From a cgroup that holds processes (the shell): works, or fails naming --parent, and
# leaves the caller's subtree_control and children as they were.
begin run-occupied
mk s-runo/leaf
(
  echo 0 >"$CG/s-runo/leaf/cgroup.procs" || echo "@@WARN $SCEN cannot join s-runo/leaf"
  block subtree-before cat "$CG/s-runo/leaf/cgroup.subtree_control"
  block run boxwise run --cpus 1 -- true
  block subtree-after cat "$CG/s-runo/leaf/cgroup.subtree_control"
  block children sh -c "cd $CG/s-runo/leaf && find . -mindepth 1 -type d"
)
rm_tree s-runo

# From the root cgroup (where init runs): the run's cgroup goes under /sys/fs/cgroup/boxwise.
begin run-root
block run-alone boxwise run --cpus 2.5 --memory 100m --stats-json /tmp/stats.json -- /go/probe-go125
block stats cat /tmp/stats.json
block run-exec boxwise run --cpus 2.5 --memory 100m -- boxwise exec -- /go/probe-go119
block leftovers sh -c "find $CG/boxwise -mindepth 1 -type d 2>/dev/null; true"
rm_tree boxwise

# run --at: the CPU limit goes from 2 to 5 CPUs while gmpwatch prints GOMAXPROCS every
# 200 ms; Go 1.25 follows (2, then 5), Go 1.23 keeps the 8 CPUs it started with.
begin run-at
block at-go125 boxwise run --cpus 2 --at 1500ms:cpus=5 -- /go/gmpwatch-go125 6s
block at-go123 boxwise run --cpus 2 --at 1500ms:cpus=5 -- /go/gmpwatch-go123 3s
block leftovers sh -c "find $CG/boxwise -mindepth 1 -type d 2>/dev/null; true"
rm_tree boxwise

# A Go program that needs 32 threads under --pids 10, in a --parent cgroup of its own.
begin run-pids
mkdir -p "$CG/s-pids"
rm -f /tmp/stats.json
block run boxwise run --pids 10 --parent /s-pids --stats-json /tmp/stats.json -- /bin/threads 32
block stats cat /tmp/stats.json
block leftovers sh -c "find $CG/s-pids -mindepth 1 -type d; true"
rm_tree s-pids

# Nothing may be left behind in the hierarchy.
SCEN=end
block leftovers sh -c "find $CG -mindepth 1 -type d"

//! The BPF programs, assembled here instruction by instruction (no clang at build time).
//!
//! `sys_enter` counts the call in a per-CPU array indexed by syscall number and stores
//! `ktime << 12 | flags | nr` in an array indexed by thread id and in `cur`, a per-CPU
//! entry about the task on that CPU; `sys_exit` takes the start from `cur` when no context
//! switch came between (else from the thread's slot), turns it into a duration, adds it,
//! counts errors (return -4095..-1) per errno and, with latency on, a log2 bucket.
//! `sched_switch` clears `cur`, so whether a task is traced is asked (a helper call) once
//! per switch, not on every hit. A tid-indexed array is cheaper than a hash map (measured
//! 1.7x vs 2.3x on a write storm); the packed start time wraps after 2^52 ns (52 days), far
//! beyond any call. What each step costs: crate::floor and docs/benchmarks.md.

/// Syscall numbers counted (both arches stay below 470 today).
pub const MAX_NR: u32 = 512;
/// Errno buckets per syscall: errno itself below 200, the kernel's restart codes
/// ERESTARTSYS..ERESTART_RESTARTBLOCK (512-516, a call interrupted by a signal) at 200-204,
/// anything else in the last slot.
pub const ERRNO_SLOTS: u32 = 256;
/// Where errno 512 (ERESTARTSYS) is counted.
pub const RESTART_SLOT: u32 = 200;
/// Log2 latency buckets per syscall: bucket k holds [2^k, 2^(k+1)) ns, bucket 0 also 0.
pub const LAT_SLOTS: u32 = 64;
/// Without `--latency`, every call of a syscall is timed until it has made this many calls
/// on a CPU; after that one call in [`SAMPLE_ONE_IN`], chosen at random, is timed and its
/// duration counted that many times (an unbiased estimate of the total). Reading the clock
/// (bpf_ktime_get_ns) twice per call is most of what counting costs beyond the
/// tracepoints themselves (docs/benchmarks.md). `--latency` times every call.
pub const EXACT_CALLS: u32 = 256;
/// See [`EXACT_CALLS`].
pub const SAMPLE_ONE_IN: u32 = 8;
/// A start value is `ktime << START_SHIFT | flags | nr` (nr below 1024); ktime is left
/// out of an untimed call's (which is non-zero by its flag alone).
const START_SHIFT: i32 = 12;
const START_TIMED: i32 = 1 << 10;
const START_WEIGHTED: i32 = 1 << 11;
const START_UNTIMED: i32 = 1 << 11;

/// Per-syscall value in the counts map: calls, errors, time_ns, max_ns.
pub const COUNT_VALUE: u32 = 32;

const R0: u8 = 0;
const R1: u8 = 1;
const R2: u8 = 2;
const R3: u8 = 3;
const R4: u8 = 4;
const R6: u8 = 6;
const R7: u8 = 7;
const R8: u8 = 8;
const R9: u8 = 9;
const R10: u8 = 10;

const HELPER_LOOKUP: i32 = 1;
const HELPER_KTIME: i32 = 5;
const HELPER_PID_TGID: i32 = 14;
const HELPER_PROBE_READ_KERNEL: i32 = 113;
const HELPER_NS_PID_TGID: i32 = 120;

/// Which processes count: one tgid baked in, or a tgid-indexed array of flags (`-f`).
#[derive(Debug, Clone, Copy)]
pub enum Filter {
    Tgid(u32),
    Tracked {
        map_fd: i32,
    },
    /// One tgid as seen in the pid namespace `(dev, ino)` (boxwise inside a container:
    /// the kernel's own tgid is the host's, so `bpf_get_ns_current_pid_tgid` translates).
    NsTgid {
        tgid: u32,
        dev: u64,
        ino: u64,
    },
}

/// The map fds a program refers to.
#[derive(Debug, Clone, Copy)]
pub struct Maps {
    pub counts: i32,
    pub starts: i32,
    /// `starts` holds `1 << start_bits` slots (see [`start_slot`]).
    pub start_bits: u32,
    /// Per-CPU, one 16-byte entry: what is known about the task running on this CPU
    /// since the last context switch (traced tid, or not traced) and the start of its
    /// call in progress; the `sched_switch` program clears it.
    pub cur: i32,
    /// Syscalls that never return (exit, exit_group): no start is kept in `cur` for them.
    pub no_return: [u32; 2],
    pub errnos: i32,
    pub latency: Option<i32>,
    /// Per-thread (tid-indexed) calls and time, for `--by-thread`.
    pub threads: Option<i32>,
}

/// Where thread `tid`'s start time lives in the `1 << bits`-slot start array: the low six
/// bits of the tid move to the top of the index. Threads made one after another get
/// consecutive tids; stored side by side, eight of them share a cache line and every call
/// bounces it between CPUs (the write storm's main cost after the tracepoints themselves).
/// Spread this way, two threads share a line only when their tids differ by a multiple of
/// 64 within 512. A bijection on `0..1 << bits`, so no two live threads collide.
pub fn start_slot(tid: u32, bits: u32) -> u32 {
    ((tid & 63) << (bits - 6)) | (tid >> 6)
}

/// The smallest `bits` (at least 10) with `1 << bits >= pid_max`.
pub fn start_bits(pid_max: u32) -> u32 {
    pid_max.max(1024).next_power_of_two().trailing_zeros()
}

/// An instruction list with forward jumps patched by label.
#[derive(Default)]
struct Asm {
    insns: Vec<u64>,
    /// (instruction index, label) of jumps awaiting their target.
    fixups: Vec<(usize, usize)>,
    labels: Vec<Option<usize>>,
}

fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> u64 {
    code as u64
        | ((dst as u64 & 0xf) << 8)
        | ((src as u64 & 0xf) << 12)
        | ((off as u16 as u64) << 16)
        | ((imm as u32 as u64) << 32)
}

impl Asm {
    fn label(&mut self) -> usize {
        self.labels.push(None);
        self.labels.len() - 1
    }
    fn bind(&mut self, l: usize) {
        self.labels[l] = Some(self.insns.len());
    }
    fn raw(&mut self, code: u8, dst: u8, src: u8, off: i16, imm: i32) {
        self.insns.push(insn(code, dst, src, off, imm));
    }
    fn mov(&mut self, dst: u8, src: u8) {
        self.raw(0xbf, dst, src, 0, 0);
    }
    fn mov32(&mut self, dst: u8, src: u8) {
        self.raw(0xbc, dst, src, 0, 0);
    }
    fn movi(&mut self, dst: u8, imm: i32) {
        self.raw(0xb7, dst, 0, 0, imm);
    }
    fn addi(&mut self, dst: u8, imm: i32) {
        self.raw(0x07, dst, 0, 0, imm);
    }
    fn add(&mut self, dst: u8, src: u8) {
        self.raw(0x0f, dst, src, 0, 0);
    }
    fn sub(&mut self, dst: u8, src: u8) {
        self.raw(0x1f, dst, src, 0, 0);
    }
    fn or(&mut self, dst: u8, src: u8) {
        self.raw(0x4f, dst, src, 0, 0);
    }
    fn xor(&mut self, dst: u8, src: u8) {
        self.raw(0xaf, dst, src, 0, 0);
    }
    fn andi(&mut self, dst: u8, imm: i32) {
        self.raw(0x57, dst, 0, 0, imm);
    }
    fn lshi(&mut self, dst: u8, imm: i32) {
        self.raw(0x67, dst, 0, 0, imm);
    }
    fn rshi(&mut self, dst: u8, imm: i32) {
        self.raw(0x77, dst, 0, 0, imm);
    }
    fn neg(&mut self, dst: u8) {
        self.raw(0x87, dst, 0, 0, 0);
    }
    fn ldx64(&mut self, dst: u8, src: u8, off: i16) {
        self.raw(0x79, dst, src, off, 0);
    }
    fn ldx32(&mut self, dst: u8, src: u8, off: i16) {
        self.raw(0x61, dst, src, off, 0);
    }
    fn stx64(&mut self, dst: u8, off: i16, src: u8) {
        self.raw(0x7b, dst, src, off, 0);
    }
    fn stx32(&mut self, dst: u8, off: i16, src: u8) {
        self.raw(0x63, dst, src, off, 0);
    }
    /// `lock *(u64 *)(dst + off) += src`
    fn atomic_add64(&mut self, dst: u8, off: i16, src: u8) {
        self.raw(0xdb, dst, src, off, 0);
    }
    fn call(&mut self, helper: i32) {
        self.raw(0x85, 0, 0, 0, helper);
    }
    fn exit(&mut self) {
        self.raw(0x95, 0, 0, 0, 0);
    }
    fn ld_imm64(&mut self, dst: u8, v: u64) {
        self.raw(0x18, dst, 0, 0, v as u32 as i32);
        self.insns.push(((v >> 32) as u32 as u64) << 32);
    }
    fn ld_map(&mut self, dst: u8, fd: i32) {
        self.raw(0x18, dst, 1, 0, fd);
        self.insns.push(0);
    }
    /// Conditional jump on an immediate (op: 0x10 jeq, 0x20 jgt, 0x50 jne, 0xa0 jlt, 0xb0 jle, 0xc0 jslt, 0x60 jsgt).
    fn jmpi(&mut self, op: u8, dst: u8, imm: i32, to: usize) {
        self.fixups.push((self.insns.len(), to));
        self.raw(0x05 | op, dst, 0, 0, imm);
    }
    /// Conditional jump on a register.
    fn jmpr(&mut self, op: u8, dst: u8, src: u8, to: usize) {
        self.fixups.push((self.insns.len(), to));
        self.raw(0x0d | op, dst, src, 0, 0);
    }
    fn ja(&mut self, to: usize) {
        self.fixups.push((self.insns.len(), to));
        self.raw(0x05, 0, 0, 0, 0);
    }
    /// `r0 = map[*(u32 *)(r10 + off)]` after storing `key` there; clobbers r1-r5.
    fn lookup(&mut self, map_fd: i32, key: u8, off: i16) {
        self.stx32(R10, off, key);
        self.ld_map(R1, map_fd);
        self.mov(R2, R10);
        self.addi(R2, off as i32);
        self.call(HELPER_LOOKUP);
    }
    fn finish(mut self) -> Vec<u64> {
        for (at, label) in std::mem::take(&mut self.fixups) {
            let target = self.labels[label].expect("every label is bound");
            let off = target as i64 - at as i64 - 1;
            let mut i = self.insns[at];
            i = (i & !(0xffff << 16)) | (((off as i16) as u16 as u64) << 16);
            self.insns[at] = i;
        }
        self.insns
    }

    /// `dst = start_slot(tid, bits)`; `tid` is left alone.
    fn start_slot(&mut self, dst: u8, tid: u8, bits: u32) {
        self.mov(dst, tid);
        self.rshi(dst, 6);
        self.mov(R1, tid);
        self.andi(R1, 63);
        self.lshi(R1, bits as i32 - 6);
        self.or(dst, R1);
    }

    /// Leaves the tgid check's verdict: falls through for a traced process, else jumps to `out`.
    /// Clobbers r0-r5, leaves pid_tgid in r7.
    fn filter(&mut self, filter: Filter, out: usize) {
        self.call(HELPER_PID_TGID);
        self.mov(R7, R0);
        self.rshi(R0, 32);
        match filter {
            Filter::Tgid(tgid) => self.jmpi(0x50, R0, tgid as i32, out),
            Filter::Tracked { map_fd } => {
                self.lookup(map_fd, R0, -4);
                self.jmpi(0x10, R0, 0, out);
                self.ldx32(R1, R0, 0);
                self.jmpi(0x10, R1, 0, out);
            }
            Filter::NsTgid { tgid, dev, ino } => {
                self.ld_imm64(R1, dev);
                self.ld_imm64(R2, ino);
                self.mov(R3, R10);
                self.addi(R3, -32);
                self.movi(R4, 8);
                self.call(HELPER_NS_PID_TGID);
                self.jmpi(0x50, R0, 0, out); // not in that namespace
                self.ldx32(R0, R10, -28); // bpf_pidns_info.tgid
                self.jmpi(0x50, R0, tgid as i32, out);
            }
        }
    }
}

/// `cur`'s first word: not yet known since the last context switch.
const CUR_UNKNOWN: i32 = 0;
/// `cur`'s first word: the task on this CPU is not traced.
const CUR_UNTRACED: i32 = 1;
/// `cur`'s first word for a traced task: this bit or'ed with its tid.
const CUR_TRACED_SHIFT: i32 = 32;

impl Asm {
    /// `r9 = &cur[this cpu]`; jumps to `out` for a task that is not traced; falls through
    /// with the tid in r7 for one that is. The tgid check (a helper call) runs once per
    /// context switch instead of once per call. Clobbers r0-r5.
    fn current(&mut self, filter: Filter, cur: i32, out: usize) {
        self.movi(R7, 0);
        self.lookup(cur, R7, -16);
        self.jmpi(0x10, R0, 0, out);
        self.mov(R9, R0);
        self.ldx64(R7, R9, 0);
        self.jmpi(0x10, R7, CUR_UNTRACED, out);
        let known = self.label();
        let untraced = self.label();
        self.jmpi(0x50, R7, CUR_UNKNOWN, known);
        self.filter(filter, untraced);
        self.mov32(R7, R7);
        self.movi(R1, 1);
        self.lshi(R1, CUR_TRACED_SHIFT);
        self.or(R7, R1);
        self.stx64(R9, 0, R7);
        self.ja(known);
        self.bind(untraced);
        self.movi(R1, CUR_UNTRACED);
        self.stx64(R9, 0, R1);
        self.ja(out);
        self.bind(known);
        self.mov32(R7, R7); // tid
    }
}

/// The `sys_enter` program: count the call, remember when it started (in the thread's
/// start slot, and in `cur` for an exit on the same CPU with no switch in between).
pub fn sys_enter(filter: Filter, maps: Maps) -> Vec<u64> {
    let mut a = Asm::default();
    let out = a.label();
    a.ldx64(R8, R1, 8); // args[1]: syscall number
    a.current(filter, maps.cur, out);
    a.jmpi(0x20, R8, MAX_NR as i32 - 1, out); // nr > MAX_NR - 1 (and -1 as unsigned)
    a.lookup(maps.counts, R8, -8);
    a.jmpi(0x10, R0, 0, out);
    a.ldx64(R1, R0, 0);
    a.addi(R1, 1);
    a.stx64(R0, 0, R1);
    // r6: how this call is timed (the start's low bits).
    a.movi(R6, START_TIMED);
    if maps.latency.is_none() {
        let decided = a.label();
        a.jmpi(0xb0, R1, EXACT_CALLS as i32, decided); // calls <= EXACT_CALLS
        // xorshift64 in cur[16]: one call in SAMPLE_ONE_IN is timed.
        a.ldx64(R1, R9, 16);
        let seeded = a.label();
        a.jmpi(0x50, R1, 0, seeded);
        a.ld_imm64(R1, 0x9e37_79b9_7f4a_7c15);
        a.bind(seeded);
        for (left, k) in [(true, 13), (false, 7), (true, 17)] {
            a.mov(R2, R1);
            if left {
                a.lshi(R2, k);
            } else {
                a.rshi(R2, k);
            }
            a.xor(R1, R2);
        }
        a.stx64(R9, 16, R1);
        a.rshi(R1, 64 - SAMPLE_ONE_IN.trailing_zeros() as i32);
        a.movi(R6, START_TIMED | START_WEIGHTED);
        a.jmpi(0x10, R1, 0, decided);
        a.movi(R6, START_UNTIMED);
        a.bind(decided);
    }
    a.start_slot(R2, R7, maps.start_bits);
    a.lookup(maps.starts, R2, -12);
    a.jmpi(0x10, R0, 0, out);
    a.mov(R7, R0);
    a.mov(R0, R6);
    let store = a.label();
    a.mov(R1, R6);
    a.andi(R1, START_TIMED);
    a.jmpi(0x10, R1, 0, store);
    a.call(HELPER_KTIME);
    a.lshi(R0, START_SHIFT);
    a.or(R0, R6);
    a.bind(store);
    a.or(R0, R8);
    a.stx64(R7, 0, R0);
    // exit and exit_group never return: leave no start in `cur` for them.
    let skip = a.label();
    for nr in maps.no_return {
        a.jmpi(0x10, R8, nr as i32, skip);
    }
    a.stx64(R9, 8, R0);
    a.bind(skip);
    a.bind(out);
    a.movi(R0, 0);
    a.exit();
    a.finish()
}

/// The `sched_switch` program: whatever `cur` says about this CPU's task is stale now.
pub fn sched_switch(cur: i32) -> Vec<u64> {
    let mut a = Asm::default();
    let out = a.label();
    a.movi(R7, 0);
    a.lookup(cur, R7, -4);
    a.jmpi(0x10, R0, 0, out);
    a.stx64(R0, 0, R7);
    a.stx64(R0, 8, R7);
    a.bind(out);
    a.movi(R0, 0);
    a.exit();
    a.finish()
}

/// The `sys_exit` program: duration, errors per errno, and the latency bucket.
pub fn sys_exit(filter: Filter, maps: Maps) -> Vec<u64> {
    let mut a = Asm::default();
    let out = a.label();
    a.mov(R6, R1);
    a.current(filter, maps.cur, out);
    // Same CPU, no switch since the entry: the start is in `cur`. Otherwise (the call
    // blocked or was preempted) it is in the thread's slot.
    let slot = a.label();
    let have = a.label();
    a.ldx64(R8, R9, 8);
    a.jmpi(0x10, R8, 0, slot);
    a.movi(R1, 0);
    a.stx64(R9, 8, R1);
    a.start_slot(R2, R7, maps.start_bits);
    a.lookup(maps.starts, R2, -4);
    a.jmpi(0x10, R0, 0, have);
    a.movi(R1, 0);
    a.stx64(R0, 0, R1);
    a.ja(have);
    a.bind(slot);
    a.start_slot(R2, R7, maps.start_bits);
    a.lookup(maps.starts, R2, -4);
    a.jmpi(0x10, R0, 0, out);
    a.ldx64(R8, R0, 0);
    a.jmpi(0x10, R8, 0, out); // entered before we attached
    a.movi(R1, 0);
    a.stx64(R0, 0, R1);
    a.bind(have);
    a.mov(R9, R8);
    a.andi(R9, 1023); // nr
    // The duration (r8; 0 for an untimed call) and its weight in the total (at r10-24).
    a.movi(R1, 0);
    a.stx64(R10, -24, R1);
    let untimed = a.label();
    let timed = a.label();
    a.mov(R1, R8);
    a.andi(R1, START_TIMED);
    a.jmpi(0x10, R1, 0, untimed);
    a.call(HELPER_KTIME);
    a.lshi(R0, START_SHIFT);
    a.mov(R1, R8);
    a.rshi(R1, START_SHIFT);
    a.lshi(R1, START_SHIFT);
    a.sub(R0, R1);
    a.rshi(R0, START_SHIFT);
    a.mov(R1, R0);
    let single = a.label();
    a.andi(R8, START_WEIGHTED);
    a.jmpi(0x10, R8, 0, single);
    a.lshi(R1, SAMPLE_ONE_IN.trailing_zeros() as i32);
    a.bind(single);
    a.stx64(R10, -24, R1);
    a.mov(R8, R0);
    a.ja(timed);
    a.bind(untimed);
    a.movi(R8, 0);
    a.bind(timed);
    a.lookup(maps.counts, R9, -8);
    a.jmpi(0x10, R0, 0, out);
    a.ldx64(R1, R0, 16);
    a.ldx64(R2, R10, -24);
    a.add(R1, R2);
    a.stx64(R0, 16, R1);
    let no_max = a.label();
    a.ldx64(R1, R0, 24);
    a.jmpr(0x30, R1, R8, no_max); // max >= d
    a.stx64(R0, 24, R8);
    a.bind(no_max);
    let no_err = a.label();
    a.ldx64(R1, R6, 8); // args[1]: return value
    a.jmpi(0x60, R1, -1, no_err); // ret > -1 (signed)
    a.jmpi(0xc0, R1, -4095, no_err); // ret < -4095
    a.ldx64(R2, R0, 8);
    a.addi(R2, 1);
    a.stx64(R0, 8, R2);
    a.neg(R1);
    let small = a.label();
    a.jmpi(0xa0, R1, RESTART_SLOT as i32, small); // errno < 200
    a.mov(R2, R1);
    a.addi(R2, -512);
    let other = a.label();
    a.jmpi(0x20, R2, 4, other); // not 512..=516 (unsigned)
    a.mov(R1, R2);
    a.addi(R1, RESTART_SLOT as i32);
    a.ja(small);
    a.bind(other);
    a.movi(R1, ERRNO_SLOTS as i32 - 1);
    a.bind(small);
    a.mov(R2, R9);
    a.lshi(R2, ERRNO_SLOTS.trailing_zeros() as i32);
    a.add(R2, R1);
    a.lookup(maps.errnos, R2, -12);
    a.jmpi(0x10, R0, 0, no_err);
    a.movi(R1, 1);
    a.atomic_add64(R0, 0, R1);
    a.bind(no_err);
    if let Some(threads) = maps.threads {
        // Only this thread writes its slot, so plain adds are exact.
        let skip = a.label();
        a.lookup(threads, R7, -28);
        a.jmpi(0x10, R0, 0, skip);
        a.ldx64(R1, R0, 0);
        a.addi(R1, 1);
        a.stx64(R0, 0, R1);
        a.ldx64(R1, R0, 8);
        a.ldx64(R2, R10, -24);
        a.add(R1, R2);
        a.stx64(R0, 8, R1);
        a.bind(skip);
    }
    if let Some(lat) = maps.latency {
        // floor(log2(d)) by halving steps; d = 0 lands in bucket 0 with d = 1.
        a.mov(R1, R8);
        a.movi(R3, 0);
        for s in [32, 16, 8, 4, 2, 1] {
            let skip = a.label();
            a.mov(R2, R1);
            a.rshi(R2, s);
            a.jmpi(0x10, R2, 0, skip);
            a.addi(R3, s);
            a.mov(R1, R2);
            a.bind(skip);
        }
        a.mov(R2, R9);
        a.lshi(R2, LAT_SLOTS.trailing_zeros() as i32);
        a.add(R2, R3);
        a.lookup(lat, R2, -16);
        a.jmpi(0x10, R0, 0, out);
        a.ldx64(R1, R0, 0);
        a.addi(R1, 1);
        a.stx64(R0, 0, R1);
    }
    a.bind(out);
    a.movi(R0, 0);
    a.exit();
    a.finish()
}

/// `return 0`: the floor measurement's program (crate::floor).
pub fn empty() -> Vec<u64> {
    let mut a = Asm::default();
    a.movi(R0, 0);
    a.exit();
    a.finish()
}

/// Only the tgid check, for the floor measurement (crate::floor).
pub fn filter_only(filter: Filter) -> Vec<u64> {
    let mut a = Asm::default();
    let out = a.label();
    a.filter(filter, out);
    a.bind(out);
    a.movi(R0, 0);
    a.exit();
    a.finish()
}

/// The tgid check and one clock read, for the floor measurement (crate::floor).
pub fn filter_ktime(filter: Filter) -> Vec<u64> {
    let mut a = Asm::default();
    let out = a.label();
    a.filter(filter, out);
    a.call(HELPER_KTIME);
    a.bind(out);
    a.movi(R0, 0);
    a.exit();
    a.finish()
}

/// The `sched_process_fork` program (`-f`): a traced parent's child becomes traced.
/// `tgid_offset` is `task_struct.tgid`'s byte offset, read from the kernel's BTF.
pub fn fork(tracked_fd: i32, tgid_offset: u32) -> Vec<u64> {
    let mut a = Asm::default();
    let out = a.label();
    a.mov(R6, R1);
    a.filter(Filter::Tracked { map_fd: tracked_fd }, out);
    a.ldx64(R3, R6, 8); // args[1]: the child's task_struct
    a.addi(R3, tgid_offset as i32);
    a.mov(R1, R10);
    a.addi(R1, -8);
    a.movi(R2, 4);
    a.call(HELPER_PROBE_READ_KERNEL);
    a.jmpi(0x50, R0, 0, out);
    a.ldx32(R8, R10, -8);
    a.lookup(tracked_fd, R8, -12);
    a.jmpi(0x10, R0, 0, out);
    a.movi(R1, 1);
    a.stx32(R0, 0, R1);
    a.bind(out);
    a.movi(R0, 0);
    a.exit();
    a.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_little_endian_fields() {
        // r2 = *(u64 *)(r6 + 8): code 0x79, dst 2, src 6, off 8.
        assert_eq!(insn(0x79, 2, 6, 8, 0), 0x0008_6279);
        assert_eq!(insn(0x07, 1, 0, 0, -1) >> 32, 0xffff_ffff);
    }

    #[test]
    fn start_slots_are_one_to_one_and_keep_neighbours_a_cache_line_apart() {
        assert_eq!(start_bits(1000), 10);
        assert_eq!(start_bits(32768), 15);
        assert_eq!(start_bits(40000), 16);
        assert_eq!(start_bits(1 << 22), 22);
        for bits in [10, 15, 22] {
            let n = 1u32 << bits;
            let mut seen = vec![false; n as usize];
            for tid in 0..n {
                let s = start_slot(tid, bits) as usize;
                assert!(!seen[s], "tid {tid} shares slot {s} ({bits} bits)");
                seen[s] = true;
                if tid + 1 < n {
                    // Eight 8-byte slots make a 64-byte line.
                    assert!(start_slot(tid + 1, bits).abs_diff(s as u32) >= 8, "{tid}");
                }
            }
        }
    }

    #[test]
    fn jumps_land_inside_the_program() {
        let maps = Maps {
            counts: 3,
            starts: 4,
            start_bits: 22,
            cur: 9,
            no_return: [60, 231],
            errnos: 5,
            latency: Some(6),
            threads: Some(8),
        };
        for prog in [
            sys_enter(Filter::Tgid(1), maps),
            sys_exit(
                Filter::NsTgid {
                    tgid: 1,
                    dev: 4,
                    ino: 1 << 33,
                },
                maps,
            ),
            sys_exit(Filter::Tracked { map_fd: 7 }, maps),
            fork(7, 2000),
            sched_switch(9),
        ] {
            for (i, &x) in prog.iter().enumerate() {
                let code = x as u8;
                if code & 0x07 == 0x05 && code != 0x85 && code != 0x95 {
                    let off = (x >> 16) as u16 as i16 as i64;
                    let t = i as i64 + 1 + off;
                    assert!(
                        t > i as i64 && (t as usize) < prog.len(),
                        "jump at {i} to {t}"
                    );
                }
            }
            assert_eq!(*prog.last().unwrap() as u8, 0x95);
        }
    }
}

//! Peak heap of decode + top on a profile, by phase (a dev aid for docs/benchmarks.md):
//! `cargo run --release -p boxwise-pprof --example heap_peak -- large.pb.gz`

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

struct Counting;
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let n = LIVE.fetch_add(l.size(), Relaxed) + l.size();
        PEAK.fetch_max(n, Relaxed);
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size(), Relaxed);
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        if new > l.size() {
            let n = LIVE.fetch_add(new - l.size(), Relaxed) + new - l.size();
            PEAK.fetch_max(n, Relaxed);
        } else {
            LIVE.fetch_sub(l.size() - new, Relaxed);
        }
        unsafe { System.realloc(p, l, new) }
    }
}

#[global_allocator]
static A: Counting = Counting;

fn report(what: &str) {
    let mb = |n: usize| n as f64 / (1 << 20) as f64;
    eprintln!(
        "{what:>10}: live {:6.1} MiB, peak so far {:6.1} MiB",
        mb(LIVE.load(Relaxed)),
        mb(PEAK.load(Relaxed))
    );
}

fn main() {
    let path = std::env::args().nth(1).expect("usage: heap_peak PROFILE");
    let f = std::fs::File::open(&path).unwrap();
    let mut p = boxwise_pprof::decode_reader(f).unwrap();
    report("decode");
    boxwise_pprof::filter::remove_uninteresting(&mut p).unwrap();
    boxwise_pprof::filter::simplify_names(&mut p);
    report("filter");
    let r = boxwise_pprof::top::top(&p, &Default::default()).unwrap();
    report("top");
    let text = r.to_text();
    report("text");
    eprintln!("{} lines", text.lines().count());
}

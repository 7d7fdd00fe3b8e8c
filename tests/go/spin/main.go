// spin is a CPU-bound program for boxwise profile's tests: about three quarters of its CPU
// in main.spin and one quarter in main.warm (which calls main.mix, small enough to be
// inlined), in a fixed ratio per loop so any sampler sees the same shares.
//
//	spin [-for D] [-cpuprofile FILE] [-threads N] [-report]
//
// With -cpuprofile it also records runtime/pprof's own CPU profile of the same run, for
// comparison. It prints "ready" once running and exits after -for (default: never); with
// -report it then prints "loops=N cpu_seconds=S": work done per CPU second is what a
// profiler's overhead takes away (scripts/bench-profile.py).
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

var loops int64

var sink uint64

//go:noinline
func spin(n int) uint64 {
	var x uint64 = 1
	for i := 0; i < n; i++ {
		x = x*6364136223846793005 + 1442695040888963407
	}
	return x
}

// mix is inlined into warm.
func mix(x uint64, i int) uint64 { return (x ^ uint64(i)) * 0x9E3779B97F4A7C15 }

//go:noinline
func warm(n int) uint64 {
	var x uint64 = 7
	for i := 0; i < n; i++ {
		x = mix(x, i)
	}
	return x
}

func loop(stop <-chan struct{}) {
	for {
		select {
		case <-stop:
			return
		default:
		}
		sink += spin(3_000_000)
		sink += warm(1_000_000)
		atomic.AddInt64(&loops, 1)
	}
}

func main() {
	d := flag.Duration("for", 0, "run this long (0 = until killed)")
	prof := flag.String("cpuprofile", "", "write runtime/pprof's CPU profile here")
	threads := flag.Int("threads", 1, "busy goroutines")
	report := flag.Bool("report", false, "print loops and CPU seconds at exit")
	flag.Parse()
	if *prof != "" {
		f, err := os.Create(*prof)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < *threads; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); loop(stop) }()
	}
	fmt.Println("ready")
	if *d > 0 {
		time.Sleep(*d)
		close(stop)
		wg.Wait()
		if *report {
			var ru syscall.Rusage
			_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
			cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
			fmt.Printf("loops=%d cpu_seconds=%.3f\n", atomic.LoadInt64(&loops), cpu.Seconds())
		}
		return
	}
	select {}
}

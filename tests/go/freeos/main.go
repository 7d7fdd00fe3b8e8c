// Command freeos shows whether the Go runtime gives memory back to the OS after a large heap
// is dropped (seed claim C9): it allocates and touches MIB mebibytes in 1 MiB slices, drops
// them, runs a GC, optionally calls debug.FreeOSMemory, then prints its RSS and the
// runtime's own view of the heap every 500 ms for FOR.
//
//	freeos [-mib 256] [-free] [-tickgc] [-for 6s]
//
// Lines: `t_ms=N phase=P rss_mib=R heap_inuse_mib=I heap_released_mib=L`.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
)

var sink [][]byte

func rssMiB() float64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return -1
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return -1
	}
	pages, _ := strconv.ParseFloat(f[1], 64)
	return pages * float64(os.Getpagesize()) / (1 << 20)
}

func main() {
	mib := flag.Int("mib", 256, "heap to allocate and drop, MiB")
	free := flag.Bool("free", false, "call debug.FreeOSMemory after dropping the heap")
	life := flag.Duration("for", 6*time.Second, "how long to watch after dropping")
	tickGC := flag.Bool("tickgc", false, "run a GC every 500 ms while watching (as a busy service's allocations would)")
	flag.Parse()
	start := time.Now()
	report := func(phase string) {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		fmt.Printf("t_ms=%d phase=%s rss_mib=%.1f heap_inuse_mib=%.1f heap_released_mib=%.1f\n",
			time.Since(start).Milliseconds(), phase, rssMiB(),
			float64(m.HeapInuse)/(1<<20), float64(m.HeapReleased)/(1<<20))
	}
	for i := 0; i < *mib; i++ {
		b := make([]byte, 1<<20)
		for j := 0; j < len(b); j += 4096 {
			b[j] = 1
		}
		sink = append(sink, b)
	}
	report("allocated")
	sink = nil
	runtime.GC()
	report("dropped")
	if *free {
		debug.FreeOSMemory()
		report("freed")
	}
	for t := time.Now(); time.Since(t) < *life; {
		time.Sleep(500 * time.Millisecond)
		if *tickGC {
			runtime.GC()
		}
		report("after")
	}
}

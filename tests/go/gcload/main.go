// Command gcload is an allocation-heavy Go program for boxwise's gctrace and schedtrace
// tests: run it with GODEBUG=gctrace=1,scavtrace=1,schedtrace=100 and it makes GC cycles
// (background and forced), scavenger work and a busy scheduler, and writes its own lines
// to stderr between the runtime's, as real services do.
//
//	gcload SECONDS [LIVE_MIB]
package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync"
	"time"
)

var sink []byte

// force makes a forced cycle ("(forced)") and a forced scavenge.
func force() {
	runtime.GC()
	debug.FreeOSMemory()
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: gcload SECONDS [LIVE_MIB]")
		os.Exit(2)
	}
	secs, err := strconv.ParseFloat(os.Args[1], 64)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gcload: bad SECONDS:", err)
		os.Exit(2)
	}
	liveMiB := 32
	if len(os.Args) > 2 {
		if liveMiB, err = strconv.Atoi(os.Args[2]); err != nil {
			fmt.Fprintln(os.Stderr, "gcload: bad LIVE_MIB:", err)
			os.Exit(2)
		}
	}
	deadline := time.Now().Add(time.Duration(secs * float64(time.Second)))

	// A live set that survives every cycle, replaced slowly so the marked heap moves.
	live := make([][]byte, liveMiB*4)
	for i := range live {
		live[i] = make([]byte, 256<<10)
	}

	// More goroutines than Ps, so the run queues hold work.
	var wg sync.WaitGroup
	for w := 0; w < 4*runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			n := 0
			for time.Now().Before(deadline) {
				// Short-lived garbage of mixed sizes.
				b := make([]byte, 1<<10+(n%64)<<10)
				b[0] = byte(n)
				if n%512 == 0 {
					sink = b
				}
				if n%4096 == 0 {
					live[(w*7+n)%len(live)] = make([]byte, 256<<10)
				}
				n++
			}
		}(w)
	}

	half := time.Now().Add(time.Duration(secs * float64(time.Second) / 2))
	tick := 0
	for time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		tick++
		// The program's own output, interleaved with the runtime's trace lines.
		fmt.Fprintf(os.Stderr, "gcload: tick %d live=%d MiB\n", tick, liveMiB)
		if !half.IsZero() && time.Now().After(half) {
			half = time.Time{}
			force()
		}
	}
	wg.Wait()
	if !half.IsZero() {
		// A loaded machine can starve this loop past the deadline: force anyway.
		force()
	}
	runtime.KeepAlive(live)
	fmt.Println("done")
}

// Command gmpwatch prints runtime.GOMAXPROCS(0) every 200 ms for a while, so a test can
// see whether the runtime follows a CPU limit changed under it (Go 1.25+ re-reads the
// cgroup's quota about once a second; older Go never does).
//
//	gmpwatch [DURATION]    default 6s
package main

import (
	"fmt"
	"os"
	"runtime"
	"time"
)

func main() {
	d := 6 * time.Second
	if len(os.Args) > 1 {
		var err error
		if d, err = time.ParseDuration(os.Args[1]); err != nil {
			fmt.Fprintln(os.Stderr, "gmpwatch:", err)
			os.Exit(2)
		}
	}
	start := time.Now()
	for time.Since(start) < d {
		fmt.Printf("t_ms=%d gomaxprocs=%d\n", time.Since(start).Milliseconds(), runtime.GOMAXPROCS(0))
		time.Sleep(200 * time.Millisecond)
	}
}

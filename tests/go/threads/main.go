// Command threads holds N OS threads at once (each goroutine locked to its own thread), so a
// pids limit below N makes the runtime fail to create a thread, as a real service would.
//
//	threads N
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
)

func main() {
	n := 32
	if len(os.Args) > 1 {
		v, err := strconv.Atoi(os.Args[1])
		if err != nil {
			fmt.Fprintln(os.Stderr, "usage: threads N")
			os.Exit(2)
		}
		n = v
	}
	var ready, release sync.WaitGroup
	ready.Add(n)
	release.Add(1)
	for i := 0; i < n; i++ {
		go func() {
			runtime.LockOSThread()
			ready.Done()
			release.Wait()
		}()
	}
	ready.Wait()
	fmt.Printf("threads=%d\n", n)
	release.Done()
}

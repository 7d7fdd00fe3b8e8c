// Command threads holds N OS threads at once, for boxwise's `run --pids` tests: each of N
// goroutines locks itself to its thread and blocks, so the runtime needs a thread apiece.
// Under a pids limit below N the runtime dies with "failed to create new OS thread".
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
	n, err := strconv.Atoi(os.Args[len(os.Args)-1])
	if len(os.Args) != 2 || err != nil {
		fmt.Fprintln(os.Stderr, "usage: threads N")
		os.Exit(2)
	}
	var started sync.WaitGroup
	hold := make(chan struct{})
	for i := 0; i < n; i++ {
		started.Add(1)
		go func() {
			// A locked goroutine that blocks keeps its thread to itself.
			runtime.LockOSThread()
			started.Done()
			<-hold
		}()
	}
	started.Wait()
	fmt.Println("started", n)
}

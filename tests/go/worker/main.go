// Command worker is a Go process for boxwise's doctor and ps tests: it sleeps, burns CPU
// or allocates memory, so tests can look at a live Go process in a real cgroup.
//
//	worker sleep            block until killed
//	worker burn SECONDS     keep every P busy for SECONDS, then exit
//	worker alloc MIB        allocate and touch MIB mebibytes, then block
//	worker allocexit MIB    allocate and touch MIB mebibytes, then exit 0
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: worker sleep | burn SECONDS | alloc MIB | allocexit MIB")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "sleep":
		fmt.Println("ready")
		block()
	case "burn":
		secs, _ := strconv.ParseFloat(os.Args[2], 64)
		deadline := time.Now().Add(time.Duration(secs * float64(time.Second)))
		done := make(chan struct{})
		for i := 0; i < runtime.GOMAXPROCS(0); i++ {
			go func() {
				x := 0
				for time.Now().Before(deadline) {
					for j := 0; j < 100000; j++ {
						x += j
					}
				}
				_ = x
				done <- struct{}{}
			}()
		}
		for i := 0; i < runtime.GOMAXPROCS(0); i++ {
			<-done
		}
		fmt.Println("done")
	case "alloc", "allocexit":
		mib, _ := strconv.Atoi(os.Args[2])
		var keep [][]byte
		for i := 0; i < mib; i++ {
			b := make([]byte, 1<<20)
			for j := range b {
				b[j] = byte(j)
			}
			keep = append(keep, b)
		}
		fmt.Println("ready", len(keep))
		if os.Args[1] == "alloc" {
			block()
		}
	default:
		fmt.Fprintln(os.Stderr, "unknown mode", os.Args[1])
		os.Exit(2)
	}
}

// block waits until the process is killed. A sleeping timer, unlike `select {}`, keeps the
// runtime from declaring a deadlock when no other goroutine runs.
func block() {
	for {
		time.Sleep(time.Hour)
	}
}

// pprofgen writes real Go runtime profiles for boxwise's golden tests: cpu, heap, allocs,
// goroutine, mutex and block, with inlined frames (small helpers) and recursion (fib).
//
//	pprofgen write DIR      write DIR/{cpu,heap,allocs,goroutine,mutex,block}.pb.gz
//	pprofgen serve ADDR     serve net/http/pprof on ADDR (prints "listening on ADDR") with load
package main

import (
	"fmt"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sync"
	"time"
)

var sink []byte
var keep [][]byte

func fib(n int) int {
	if n < 2 {
		return n
	}
	return fib(n-1) + fib(n-2)
}

// square is small enough to be inlined into its callers.
func square(x int) int { return x * x }

func sumSquares(n int) int {
	s := 0
	for i := 0; i < n; i++ {
		s += square(i) % 7
	}
	return s
}

// alloc is inlined, so heap samples show "main.alloc (inline)".
func alloc(n int) []byte { return make([]byte, n) }

func churn(d time.Duration) {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		sink = alloc(1 << 12)
		keep = append(keep, alloc(1<<10))
		if len(keep) > 4096 {
			keep = keep[:0]
		}
	}
}

func spin(d time.Duration) int {
	deadline := time.Now().Add(d)
	x := 0
	for time.Now().Before(deadline) {
		x += fib(18) + sumSquares(1000)
	}
	return x
}

func contend(d time.Duration) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	deadline := time.Now().Add(d)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				mu.Lock()
				sumSquares(200)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
}

func parked(ch chan struct{}, depth int) {
	if depth > 0 {
		parked(ch, depth-1)
		return
	}
	<-ch
}

func write(dir string) error {
	runtime.MemProfileRate = 4096
	runtime.SetMutexProfileFraction(1)
	runtime.SetBlockProfileRate(1)
	ch := make(chan struct{})
	for i := 0; i < 8; i++ {
		go parked(ch, i)
	}

	f, err := os.Create(filepath.Join(dir, "cpu.pb.gz"))
	if err != nil {
		return err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		return err
	}
	var wg sync.WaitGroup
	wg.Add(3)
	go func() { defer wg.Done(); spin(700 * time.Millisecond) }()
	go func() { defer wg.Done(); churn(500 * time.Millisecond) }()
	go func() { defer wg.Done(); contend(300 * time.Millisecond) }()
	wg.Wait()
	pprof.StopCPUProfile()
	f.Close()

	runtime.GC()
	for _, name := range []string{"heap", "allocs", "goroutine", "mutex", "block"} {
		f, err := os.Create(filepath.Join(dir, name+".pb.gz"))
		if err != nil {
			return err
		}
		if err := pprof.Lookup(name).WriteTo(f, 0); err != nil {
			return err
		}
		f.Close()
	}
	close(ch)
	return nil
}

func serve(addr string) error {
	runtime.MemProfileRate = 4096
	runtime.SetMutexProfileFraction(1)
	runtime.SetBlockProfileRate(1)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fmt.Printf("listening on %s\n", ln.Addr())
	go func() {
		for {
			spin(50 * time.Millisecond)
			churn(20 * time.Millisecond)
			contend(10 * time.Millisecond)
		}
	}()
	return http.Serve(ln, nil)
}

func main() {
	var err error
	switch {
	case len(os.Args) == 3 && os.Args[1] == "write":
		err = write(os.Args[2])
	case len(os.Args) == 3 && os.Args[1] == "serve":
		err = serve(os.Args[2])
	default:
		err = fmt.Errorf("usage: pprofgen write DIR | serve ADDR")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "pprofgen:", err)
		os.Exit(1)
	}
}

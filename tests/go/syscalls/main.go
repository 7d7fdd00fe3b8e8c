// Command syscalls makes a known number of system calls, for boxwise syscalls' tests:
//
//	writes G N          G goroutines each write(2) one byte to /dev/null N times
//	wait-writes G N     the same after a line arrives on stdin (for --pid tests)
//	children K G N      starts K copies of itself with "writes G N" and waits
//	enoent N            opens a missing file N times (N openat calls failing ENOENT)
//	sleep               sleeps until killed
//	spin G MS           G goroutines spin for MS milliseconds (a throttled Go reading)
//	http N              serves and fetches N keep-alive HTTP requests over loopback
package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"
)

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bad number:", s)
		os.Exit(2)
	}
	return n
}

// writes makes exactly g*n write calls: raw syscall.Write bypasses the netpoller and
// any buffering.
func writes(g, n int) {
	fd, err := syscall.Open("/dev/null", syscall.O_WRONLY, 0)
	if err != nil {
		panic(err)
	}
	var wg sync.WaitGroup
	buf := []byte{'x'}
	for i := 0; i < g; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < n; j++ {
				syscall.Write(fd, buf)
			}
		}()
	}
	wg.Wait()
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: syscalls writes|wait-writes|children|enoent|sleep|spin ...")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "writes":
		writes(atoi(os.Args[2]), atoi(os.Args[3]))
	case "wait-writes":
		bufio.NewReader(os.Stdin).ReadString('\n')
		writes(atoi(os.Args[2]), atoi(os.Args[3]))
	case "children":
		k := atoi(os.Args[2])
		for i := 0; i < k; i++ {
			cmd := exec.Command(os.Args[0], "writes", os.Args[3], os.Args[4])
			cmd.Stderr = os.Stderr
			if err := cmd.Run(); err != nil {
				panic(err)
			}
		}
	case "enoent":
		for i := atoi(os.Args[2]); i > 0; i-- {
			if _, err := os.Open("/nonexistent/boxwise-syscalls-test"); err == nil {
				panic("opened a missing file")
			}
		}
	case "sleep":
		for {
			time.Sleep(time.Hour)
		}
	case "http":
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			panic(err)
		}
		go http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "ok\n")
		}))
		url := "http://" + ln.Addr().String() + "/"
		for i := atoi(os.Args[2]); i > 0; i-- {
			resp, err := http.Get(url)
			if err != nil {
				panic(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	case "spin":
		for i := atoi(os.Args[2]); i > 0; i-- {
			go func() {
				for {
				}
			}()
		}
		time.Sleep(time.Duration(atoi(os.Args[3])) * time.Millisecond)
	}
}

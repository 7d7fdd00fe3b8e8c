// Command probe prints the Go runtime settings a process actually got, so
// boxwise's integration tests can check what `boxwise exec` handed over.
//
// Output is one key=value pair per line; the env lines show the raw values
// (empty when unset) so tests can tell "set by boxwise" from "runtime default".
// tests/go/probe-go125 and probe-go124 build this file from modules whose go
// line turns containermaxprocs on and off in Go 1.25+.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
)

func main() {
	fmt.Printf("gomaxprocs=%d\n", runtime.GOMAXPROCS(0))
	fmt.Printf("gomemlimit=%d\n", debug.SetMemoryLimit(-1))
	fmt.Printf("numcpu=%d\n", runtime.NumCPU())
	fmt.Printf("pid=%d\n", os.Getpid())
	fmt.Printf("GOMAXPROCS=%s\n", os.Getenv("GOMAXPROCS"))
	fmt.Printf("GOMEMLIMIT=%s\n", os.Getenv("GOMEMLIMIT"))
	fmt.Printf("cgroupfds=%s\n", strings.Join(cgroupFiles(), ","))
}

// cgroupFiles lists the cgroup CPU files this process holds open: with
// containermaxprocs on, Go 1.25+ keeps the quota files of the cgroup it found
// open for its updates, so this shows which cgroup the runtime reads (none
// when it found none, or when containermaxprocs is off).
func cgroupFiles() []string {
	var files []string
	entries, _ := os.ReadDir("/proc/self/fd")
	for _, e := range entries {
		target, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name()))
		if err != nil {
			continue
		}
		switch filepath.Base(target) {
		case "cpu.max", "cpu.cfs_quota_us", "cpu.cfs_period_us":
			files = append(files, target)
		}
	}
	return files
}

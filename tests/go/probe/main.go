// Command probe prints the Go runtime settings a process actually got, so
// boxwise's integration tests can check what `boxwise exec` handed over.
//
// Output is one key=value pair per line; the env lines show the raw values
// (empty when unset) so tests can tell "set by boxwise" from "runtime default".
package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
)

func main() {
	fmt.Printf("gomaxprocs=%d\n", runtime.GOMAXPROCS(0))
	fmt.Printf("gomemlimit=%d\n", debug.SetMemoryLimit(-1))
	fmt.Printf("numcpu=%d\n", runtime.NumCPU())
	fmt.Printf("pid=%d\n", os.Getpid())
	fmt.Printf("GOMAXPROCS=%s\n", os.Getenv("GOMAXPROCS"))
	fmt.Printf("GOMEMLIMIT=%s\n", os.Getenv("GOMEMLIMIT"))
}

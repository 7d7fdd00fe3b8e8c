// Command automaxprocs is the peer boxwise exec is measured against: a Go program that
// imports go.uber.org/automaxprocs (Debian's golang-uber-automaxprocs-dev, built in GOPATH
// mode), printing the GOMAXPROCS the library chose in the probe's key=value format.
package main

import (
	"fmt"
	"runtime"

	_ "go.uber.org/automaxprocs"
)

func main() {
	fmt.Printf("gomaxprocs=%d\n", runtime.GOMAXPROCS(0))
}

// hello: the smallest useful HTTP server, for load generator benchmarks and tests.
// It listens on -addr (127.0.0.1:0 picks a free port), prints "listening on ADDR" once
// it accepts connections, answers every path with "hello\n", and exits after -for.
package main

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	life := flag.Duration("for", 10*time.Minute, "exit after this long (bounds a forgotten server)")
	flag.Parse()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "hello:", err)
		os.Exit(1)
	}
	fmt.Printf("listening on %s\n", ln.Addr())
	time.AfterFunc(*life, func() { os.Exit(0) })

	body := []byte("hello\n")
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write(body)
	})
	if err := http.Serve(ln, h); err != nil {
		fmt.Fprintln(os.Stderr, "hello:", err)
		os.Exit(1)
	}
}

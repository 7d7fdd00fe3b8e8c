// Command allocsvc is an example workload for `boxwise sweep`: an HTTP service whose handler
// allocates heavily while a large live heap stays reachable, so GOGC, GOMEMLIMIT and
// GOMAXPROCS all show in its latency under a CPU quota.
//
//	ADDR=127.0.0.1:8080 LIVE_MIB=64 ALLOC_KIB=256 allocsvc
//
// GET /        allocate ALLOC_KIB of short-lived objects, do a little work on them, answer
// GET /healthz answer "ok" (readiness)
package main

import (
	"fmt"
	"log"
	"net/http"
	"os"
	"strconv"
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// node is a pointer-rich object: the GC has to trace through every one.
type node struct {
	next    *node
	payload [48]byte
}

// live is kept reachable for the whole run: the GC must mark all of it every cycle.
var live []*node

func main() {
	addr := os.Getenv("ADDR")
	if addr == "" {
		addr = "127.0.0.1:8080"
	}
	liveMiB := envInt("LIVE_MIB", 64)
	allocKiB := envInt("ALLOC_KIB", 256)
	var prev *node
	for i := 0; i < liveMiB<<20/64; i++ {
		n := &node{next: prev}
		n.payload[0] = byte(i)
		live = append(live, n)
		prev = n
	}

	http.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		sum := 0
		// Many small pointer-rich objects: the allocation rate drives GC frequency.
		var head *node
		for i := 0; i < allocKiB*16; i++ {
			head = &node{next: head}
			head.payload[i%48] = byte(i)
			sum += int(live[i%len(live)].payload[0])
		}
		for n := head; n != nil; n = n.next {
			sum += int(n.payload[0])
		}
		fmt.Fprintf(w, "%d\n", sum)
	})
	log.Printf("allocsvc: listening on %s, live heap %d MiB, %d KiB garbage per request", addr, liveMiB, allocKiB)
	log.Fatal(http.ListenAndServe(addr, nil))
}

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

// live is kept reachable for the whole run: the GC must mark it every cycle.
var live [][]byte

func main() {
	addr := os.Getenv("ADDR")
	if addr == "" {
		addr = "127.0.0.1:8080"
	}
	liveMiB := envInt("LIVE_MIB", 64)
	allocKiB := envInt("ALLOC_KIB", 256)
	for i := 0; i < liveMiB*16; i++ {
		b := make([]byte, 64<<10)
		for j := range b {
			b[j] = byte(i + j)
		}
		live = append(live, b)
	}

	http.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		sum := 0
		// Many small objects: the allocation rate drives GC frequency.
		for i := 0; i < allocKiB; i++ {
			b := make([]byte, 1024)
			b[i%1024] = byte(i)
			sum += int(b[i%1024]) + len(live[i%len(live)])
		}
		fmt.Fprintf(w, "%d\n", sum)
	})
	log.Printf("allocsvc: listening on %s, live heap %d MiB, %d KiB garbage per request", addr, liveMiB, allocKiB)
	log.Fatal(http.ListenAndServe(addr, nil))
}

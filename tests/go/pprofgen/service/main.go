// service is a small Go HTTP service with CPU-heavy handlers and net/http/pprof, for the
// README's `boxwise pprof summary` on a throttled service (see docs/pprof.md), and its own
// bounded load generator, so the demo needs nothing but Go.
//
//	service serve ADDR                  serve /work and /debug/pprof/ on ADDR (prints "listening on ADDR")
//	service load URL COUNT CONC MAXDUR  COUNT GETs of URL over CONC connections, at most MAXDUR
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

type item struct {
	ID    int      `json:"id"`
	Name  string   `json:"name"`
	Score float64  `json:"score"`
	Tags  []string `json:"tags"`
}

// stats is shared by every request, behind one mutex, as request counters often are.
var stats = struct {
	sync.Mutex
	byKey map[string]int
}{byKey: map[string]int{}}

// work builds a response document, encodes it, hashes it a few rounds and counts it.
func work(w http.ResponseWriter, r *http.Request) {
	n, _ := strconv.Atoi(r.URL.Query().Get("n"))
	if n <= 0 || n > 5000 {
		n = 300
	}
	items := make([]item, n)
	for i := range items {
		items[i] = item{ID: i, Name: "item-" + strconv.Itoa(i*7919), Score: float64(i) / 3,
			Tags: []string{"a", strconv.Itoa(i % 17)}}
	}
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(items); err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	sum := sha256.Sum256(buf.Bytes())
	for i := 0; i < 200; i++ {
		sum = sha256.Sum256(sum[:])
	}
	key := fmt.Sprintf("%x", sum[:1])
	stats.Lock()
	stats.byKey[key]++
	stats.Unlock()
	fmt.Fprintf(w, "%x %d\n", sum[:8], buf.Len())
}

func serve(addr string) {
	http.HandleFunc("/work", work)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("listening on %s\n", ln.Addr())
	fmt.Fprintln(os.Stderr, http.Serve(ln, nil))
	os.Exit(1)
}

func load(url string, count, conc int, maxDur time.Duration) {
	deadline := time.Now().Add(maxDur)
	client := &http.Client{Timeout: 10 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: conc}}
	var next, ok, failed int64
	var wg sync.WaitGroup
	for c := 0; c < conc; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for atomic.AddInt64(&next, 1) <= int64(count) && time.Now().Before(deadline) {
				resp, err := client.Get(url)
				if err != nil {
					atomic.AddInt64(&failed, 1)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				atomic.AddInt64(&ok, 1)
			}
		}()
	}
	wg.Wait()
	fmt.Printf("%d ok, %d failed\n", ok, failed)
}

func main() {
	args := os.Args[1:]
	switch {
	case len(args) == 2 && args[0] == "serve":
		serve(args[1])
	case len(args) == 5 && args[0] == "load":
		count, err1 := strconv.Atoi(args[2])
		conc, err2 := strconv.Atoi(args[3])
		maxDur, err3 := time.ParseDuration(args[4])
		if err1 != nil || err2 != nil || err3 != nil || count < 1 || conc < 1 {
			fmt.Fprintln(os.Stderr, "usage: service load URL COUNT CONC MAXDUR")
			os.Exit(2)
		}
		load(args[1], count, conc, maxDur)
	default:
		fmt.Fprintln(os.Stderr, "usage: service serve ADDR | service load URL COUNT CONC MAXDUR")
		os.Exit(2)
	}
}

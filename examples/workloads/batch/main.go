// Command batch is an example workload for `boxwise sweep`: a CPU-parallel batch job that
// hashes BLOCKS blocks with one worker per P and prints how long it took, for
// `--metric elapsed_ms=elapsed_ms=([0-9.]+)`.
//
//	BLOCKS=400 batch
package main

import (
	"crypto/sha256"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"time"
)

func main() {
	blocks := 400
	if v, err := strconv.Atoi(os.Getenv("BLOCKS")); err == nil && v > 0 {
		blocks = v
	}
	start := time.Now()
	work := make(chan int)
	var wg sync.WaitGroup
	sums := make([][32]byte, blocks)
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 1<<20)
			for i := range work {
				for j := range buf {
					buf[j] = byte(i * j)
				}
				sums[i] = sha256.Sum256(buf)
			}
		}()
	}
	for i := 0; i < blocks; i++ {
		work <- i
	}
	close(work)
	wg.Wait()
	elapsed := time.Since(start)
	fmt.Printf("blocks=%d gomaxprocs=%d elapsed_ms=%.1f first=%x\n", blocks, runtime.GOMAXPROCS(0), float64(elapsed.Microseconds())/1000, sums[0][:4])
}

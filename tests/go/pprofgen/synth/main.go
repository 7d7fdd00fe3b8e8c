//go:build pprofsynth

// synth writes profiles with the github.com/google/pprof/profile package, covering fields the
// Go runtime never writes: drop_frames/keep_frames, comments, default_sample_type, string and
// numeric labels, negative values, build ids, unsymbolized locations, nameless functions,
// several mappings, microsecond units. Built in GOPATH mode against Debian's
// golang-github-google-pprof-dev: GO111MODULE=off GOPATH=/usr/share/gocode go build -tags pprofsynth
//
//	synth DIR    writes DIR/synth_heap.pb.gz (gzip) and DIR/synth_wall.pb (uncompressed)
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/google/pprof/profile"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: synth DIR")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "synth:", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	main := &profile.Mapping{ID: 1, Start: 0x400000, Limit: 0x800000, File: "/usr/local/bin/synth",
		BuildID: "abc123", HasFunctions: true, HasFilenames: true, HasLineNumbers: true, HasInlineFrames: true}
	lib := &profile.Mapping{ID: 2, Start: 0x7f0000000000, Limit: 0x7f0000100000, File: "/nonexistent/libfoo.so"}

	var fns []*profile.Function
	fn := func(name, file string) *profile.Function {
		f := &profile.Function{ID: uint64(len(fns) + 1), Name: name, SystemName: name, Filename: file, StartLine: 3}
		fns = append(fns, f)
		return f
	}
	mainF := fn("main.main", "/src/main.go")
	serve := fn("main.serve", "/src/main.go")
	parse := fn("main.parse", "/src/parse.go")
	small := fn("main.small", "/src/parse.go")
	tiny := fn("main.tiny", "/src/parse.go")
	walk := fn("main.walk", "/src/walk.go")
	drop := fn("runtime.dropMe", "/src/rt.go")
	keep := fn("runtime.dropKeep", "/src/rt.go")
	nameless := fn("", "/src/anon.go")
	cpp := fn("ns::Klass::method(int, char*)", "/src/k.cc")

	var locs []*profile.Location
	loc := func(m *profile.Mapping, addr uint64, fs ...*profile.Function) *profile.Location {
		l := &profile.Location{ID: uint64(len(locs) + 1), Mapping: m, Address: addr}
		for i, f := range fs {
			l.Line = append(l.Line, profile.Line{Function: f, Line: int64(10 + i)})
		}
		locs = append(locs, l)
		return l
	}
	lMain := loc(main, 0x401000, mainF)
	lServe := loc(main, 0x402000, serve)
	lParse := loc(main, 0x403000, tiny, small, parse) // tiny and small inlined into parse
	lSmall := loc(main, 0x403100, small)              // small also called out of line
	lWalk := loc(main, 0x404000, walk)
	lDrop := loc(main, 0x405000, drop)
	lKeep := loc(main, 0x405100, keep)
	lAnon := loc(main, 0x406000, nameless)
	lLib := loc(lib, 0x7f0000001000)
	lNone := loc(nil, 0x9000)
	lCpp := loc(main, 0x407000, cpp)

	stack := func(ls ...*profile.Location) []*profile.Location { return ls }
	lab := func(k, v string) map[string][]string { return map[string][]string{k: {v}} }

	heap := &profile.Profile{
		SampleType: []*profile.ValueType{
			{Type: "alloc_objects", Unit: "count"}, {Type: "alloc_space", Unit: "bytes"},
			{Type: "inuse_objects", Unit: "count"}, {Type: "inuse_space", Unit: "bytes"},
		},
		DefaultSampleType: "alloc_space",
		PeriodType:        &profile.ValueType{Type: "space", Unit: "bytes"},
		Period:            524288,
		TimeNanos:         1_700_000_000_000_000_000,
		DurationNanos:     30_000_000_000,
		DropFrames:        `runtime\.drop.*`,
		KeepFrames:        `runtime\.dropKeep`,
		Comments:          []string{"synthetic heap profile", "#hidden comment"},
		Mapping:           []*profile.Mapping{main, lib},
		Function:          fns,
		Location:          locs,
	}
	add := func(p *profile.Profile, ls []*profile.Location, labels map[string][]string, num map[string][]int64, v ...int64) {
		p.Sample = append(p.Sample, &profile.Sample{Location: ls, Value: v, Label: labels, NumLabel: num})
	}
	add(heap, stack(lParse, lServe, lMain), lab("handler", "/api"), map[string][]int64{"bytes": {4096}}, 10, 3<<30, 2, 1<<20)
	add(heap, stack(lSmall, lWalk, lServe, lMain), nil, nil, 5, 7<<20, 1, 4096)
	add(heap, stack(lWalk, lWalk, lWalk, lMain), lab("handler", "/walk"), nil, 4, 9<<20, 4, 9<<20)
	add(heap, stack(lDrop, lParse, lMain), nil, nil, 3, 11<<20, 3, 11<<20)
	add(heap, stack(lKeep, lServe, lMain), nil, nil, 2, 13<<20, 2, 13<<20)
	add(heap, stack(lAnon, lMain), nil, nil, 1, 100<<10, 1, 100<<10)
	add(heap, stack(lLib, lServe, lMain), nil, nil, 1, 300<<10, 0, 0)
	add(heap, stack(lNone), nil, nil, 1, 1000, 1, 1000)
	add(heap, stack(lCpp, lMain), nil, nil, 1, 1<<20, 1, 1<<20)
	add(heap, stack(lParse, lServe, lMain), nil, nil, -3, -(2 << 30), -1, -(1 << 19))
	for i := 0; i < 40; i++ { // many small ones, to make pprof drop nodes
		add(heap, stack(lWalk, lMain), nil, nil, 1, int64(100+i), 1, int64(10+i))
	}
	if err := heap.CheckValid(); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(dir, "synth_heap.pb.gz"))
	if err != nil {
		return err
	}
	if err := heap.Write(f); err != nil {
		return err
	}
	f.Close()

	wall := heap.Copy()
	wall.SampleType = []*profile.ValueType{{Type: "samples", Unit: "count"}, {Type: "wall", Unit: "microseconds"}}
	wall.DefaultSampleType = ""
	wall.DropFrames, wall.KeepFrames = "", ""
	wall.PeriodType = &profile.ValueType{Type: "wall", Unit: "microseconds"}
	wall.Period = 1000
	wall.DurationNanos = 7_200_000_000_000
	for i, s := range wall.Sample {
		s.Value = []int64{s.Value[0], s.Value[0] * int64(1000*(i+1)*(i+1))}
	}
	if err := wall.CheckValid(); err != nil {
		return err
	}
	f, err = os.Create(filepath.Join(dir, "synth_wall.pb"))
	if err != nil {
		return err
	}
	if err := wall.WriteUncompressed(f); err != nil {
		return err
	}
	return f.Close()
}

// Package profiling gives the example programs the same three flags,
// --cpuprofile FILE, --memprofile FILE and --trace FILE, so that a user can
// see where a program spends its time and memory with `go tool pprof`, and
// where its goroutines wait with `go tool trace`:
//
//	go run ./examples/collect --dir logs --cpuprofile cpu.pprof > /dev/null
//	go tool pprof -top cpu.pprof
//
// A program registers the flags on its flag set, calls Start after parsing
// and calls the returned stop function once before it exits (also on
// failure), so that the CPU profile is complete and the heap profile
// (allocations since start, live heap after a final collection) is written.
package profiling

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
)

// Flags holds the profile file names given on the command line; the zero
// value profiles nothing.
type Flags struct {
	CPU, Mem, Trace string
}

// Register adds --cpuprofile and --memprofile to fs.
func (f *Flags) Register(fs *flag.FlagSet) {
	fs.StringVar(&f.CPU, "cpuprofile", "", "write a CPU profile to `FILE` (go tool pprof)")
	fs.StringVar(&f.Mem, "memprofile", "", "write a heap profile to `FILE` at exit (go tool pprof)")
	fs.StringVar(&f.Trace, "trace", "", "write an execution trace to `FILE` (go tool trace)")
}

// Start starts CPU profiling when --cpuprofile was given and tracing when
// --trace was given. The returned function stops them and writes the heap profile when --memprofile was
// given; it reports the first error and is safe to call more than once
// (later calls do nothing). Start fails when a profile file cannot be
// created.
func (f Flags) Start() (stop func() error, err error) {
	var cpu *os.File
	if f.CPU != "" {
		if cpu, err = os.Create(f.CPU); err != nil {
			return nil, fmt.Errorf("cpuprofile: %w", err)
		}
		if err := pprof.StartCPUProfile(cpu); err != nil {
			cpu.Close()
			return nil, fmt.Errorf("cpuprofile %s: %w", f.CPU, err)
		}
	}
	var tr *os.File
	if f.Trace != "" {
		if tr, err = os.Create(f.Trace); err == nil {
			if err = trace.Start(tr); err != nil {
				tr.Close()
			}
		}
		if err != nil {
			if cpu != nil {
				pprof.StopCPUProfile()
				cpu.Close()
			}
			return nil, fmt.Errorf("trace: %w", err)
		}
	}
	done := false
	return func() error {
		if done {
			return nil
		}
		done = true
		var errs []error
		if tr != nil {
			trace.Stop()
			if err := tr.Close(); err != nil {
				errs = append(errs, fmt.Errorf("trace %s: %w", f.Trace, err))
			}
		}
		if cpu != nil {
			pprof.StopCPUProfile()
			if err := cpu.Close(); err != nil {
				errs = append(errs, fmt.Errorf("cpuprofile %s: %w", f.CPU, err))
			}
		}
		if f.Mem != "" {
			errs = append(errs, writeHeap(f.Mem))
		}
		return errors.Join(errs...)
	}, nil
}

func writeHeap(path string) error {
	out, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("memprofile: %w", err)
	}
	runtime.GC() // the live heap as of now
	if err := pprof.Lookup("allocs").WriteTo(out, 0); err != nil {
		out.Close()
		return fmt.Errorf("memprofile %s: %w", path, err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("memprofile %s: %w", path, err)
	}
	return nil
}

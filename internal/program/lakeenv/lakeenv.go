// Package lakeenv gives a Security Lake sink a program's Logger, Observer
// and --metrics-partitions, as the option functions of package program do
// for the other components. It is apart from program so that programs
// without a Security Lake sink do not link arrow-go.
package lakeenv

import (
	"github.com/lakerelay/lakerelay/internal/program"
	"github.com/lakerelay/lakerelay/sink/securitylake"
)

// Options returns an option function for securitylake.New. Pass it before
// the program's own option functions, which may then override what it sets.
func Options(e *program.Env) func(*securitylake.Options) {
	return func(o *securitylake.Options) {
		o.Logger, o.Observer, o.PartitionLabel = e.Logger, e.Observer, e.MetricsPartitions()
	}
}

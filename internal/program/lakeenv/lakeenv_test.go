package lakeenv_test

import (
	"flag"
	"io"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lakerelay/lakerelay/internal/program"
	"github.com/lakerelay/lakerelay/internal/program/lakeenv"
	"github.com/lakerelay/lakerelay/sink/securitylake"
)

// TestOptions: the sink gets the program's Logger and Observer, and the
// partition label with --metrics-partitions only.
func TestOptions(t *testing.T) {
	for _, partitions := range []bool{false, true} {
		var f program.Flags
		fs := flag.NewFlagSet("prog", flag.ContinueOnError)
		f.Register(fs)
		args := []string{}
		if partitions {
			args = append(args, "--metrics-partitions")
		}
		require.NoError(t, fs.Parse(args))
		env, err := program.Start("prog", f, io.Discard)
		require.NoError(t, err)
		var o securitylake.Options
		lakeenv.Options(env)(&o)
		require.Same(t, env.Logger, o.Logger)
		require.Equal(t, env.Observer, o.Observer)
		require.Equal(t, partitions, o.PartitionLabel)
		require.NoError(t, env.Close())
	}
}

//go:build race

package securitylake

// raceEnabled makes the volume tests smaller under the race detector, which
// slows this code down about tenfold.
const raceEnabled = true

func init() {
	// Under the race detector arrow-go's pooled zstd encoders are dropped a
	// quarter of the time (sync.Pool's race mode), and every new encoder of
	// the default level clears match tables that the detector checks byte by
	// byte, once per column page of a 431-column file: three quarters of this
	// package's race run (TestBatcherNacksWhenStoreFails/server_down: 179 s,
	// 46 s at level 1). The race run looks for races; the other runs of the
	// tests keep the default level.
	defaultCompressionLevel = 1
}

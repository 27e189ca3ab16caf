package pqzstd

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/stretchr/testify/require"
)

// TestZstdCodecSameBytes: the registered zstd codec is this package's, and
// compresses every page up to pageWindow byte for byte as arrow-go's codec
// does, at the levels the sink writes with and others; what it writes
// decodes back, larger pages too.
func TestZstdCodecSameBytes(t *testing.T) {
	c, err := compress.GetCodec(compress.Codecs.Zstd)
	require.NoError(t, err)
	ours, ok := c.(*zstdCodec)
	require.True(t, ok, "registered: %T", c)
	_, ok = c.(compress.StreamingCodec)
	require.True(t, ok, "arrow-go's page reader streams with it")
	arrow := ours.arrowZstd

	rng := rand.New(rand.NewPCG(7, 8))
	text := bytes.Repeat([]byte(`{"time":1764626400000,"cloud":{"region":"us-east-1"}},`), 1<<16)
	random := make([]byte, 3*pageWindow)
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	for _, level := range []int{compress.DefaultCompressionLevel, 1, 3, 7} {
		for _, size := range []int{1, 15, 100, 4 << 10, 200 << 10, pageWindow, pageWindow + 1, 3 * pageWindow} {
			for name, src := range map[string][]byte{"text": text[:size], "random": random[:size]} {
				t.Run(fmt.Sprintf("level %d, %d bytes of %s", level, size, name), func(t *testing.T) {
					want := arrow.EncodeLevel(nil, src, level)
					for range 2 { // a new encoder, then an idle one
						got := ours.EncodeLevel(make([]byte, 0, 64), src, level)
						if size <= pageWindow {
							require.Equal(t, want, got)
						} else { // matches up to pageWindow back only
							require.InEpsilon(t, len(want), len(got), 0.02, "compressed size")
						}
						back, err := compress.Decode(c, nil, got)
						require.NoError(t, err)
						require.Equal(t, src, back)
					}
				})
			}
		}
	}
}

// TestZstdCodecKeepsEncoders: encoders are made once and kept, at most
// maxIdleEncoders per level, also when many pages are compressed at once.
func TestZstdCodecKeepsEncoders(t *testing.T) {
	arrow, err := compress.GetCodec(compress.Codecs.Zstd)
	require.NoError(t, err)
	c := newZstdCodec(arrow.(*zstdCodec).arrowZstd)
	page := bytes.Repeat([]byte("page "), 1000)
	for range 100 {
		c.EncodeLevel(nil, page, 1)
	}
	require.EqualValues(t, 1, c.made.Load(), "one page at a time: one encoder")

	var wg sync.WaitGroup
	for range 4 * maxIdleEncoders {
		wg.Go(func() {
			for range 20 {
				c.EncodeLevel(nil, page, 1)
			}
		})
	}
	wg.Wait()
	require.LessOrEqual(t, c.made.Load(), int64(4*maxIdleEncoders+1))
	c.mu.Lock()
	defer c.mu.Unlock()
	for l, idle := range c.idle {
		require.LessOrEqual(t, len(idle), maxIdleEncoders, "level %v", l)
	}
}

// TestZstdCodecEncoderMemory: an encoder compressing a page allocates a
// few MiB, not the 18 MiB of zstd's default 8 MiB window (history for
// twice the window).
func TestZstdCodecEncoderMemory(t *testing.T) {
	arrow, err := compress.GetCodec(compress.Codecs.Zstd)
	require.NoError(t, err)
	c := newZstdCodec(arrow.(*zstdCodec).arrowZstd)
	page := make([]byte, 256<<10) // the Security Lake sink's page size
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range page {
		page[i] = "abcdefgh{}:,\""[rng.IntN(13)]
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	out := c.EncodeLevel(nil, page, compress.DefaultCompressionLevel)
	runtime.ReadMemStats(&after)
	require.EqualValues(t, 1, c.made.Load())
	require.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(6<<20), "bytes allocated by a new encoder and its first page")
	back, err := compress.Decode(c, nil, out)
	require.NoError(t, err)
	require.Equal(t, page, back)
}

// Package pqzstd registers, in arrow-go's process-wide codec registry, the
// zstd codec of the Parquet pages this module writes; a package that writes
// Parquet imports it for that effect alone (import _).
//
// arrow-go's zstd codec keeps its encoders in a sync.Pool, which the garbage
// collector empties at every other cycle; the next page then makes a new
// encoder: a megabyte of match tables and, for pages above 128 KiB, 16 MiB
// of history (twice zstd's default window), all fresh memory the kernel
// must fault in. Under the race
// detector, whose sync.Pool also drops a quarter of what it is given, each
// new encoder cost tens of milliseconds of the detector's bookkeeping, and
// writing one object of 431 columns took 8 s or more.
//
// This package therefore registers, in arrow-go's codec registry, a zstd
// codec that keeps up to maxIdleEncoders encoders per level for the life of
// the process, and hands everything else (Encode, decoding, streams) to
// arrow-go's own. The registry is the process's: every Parquet writer of the
// program uses it from then on.
//
// The encoders are made with arrow-go's options and a window of
// pageWindow instead of zstd's 8 MiB. A page's frame stands alone, so a
// window larger than the page is never used, but the encoder allocates
// history for it: 18 MiB per encoder for a 256 KiB page, 4 MiB with a
// 1 MiB window. Pages up to pageWindow are compressed byte for byte as
// arrow-go's codec does (TestZstdCodecSameBytes); a larger page (one huge
// value) finds matches up to pageWindow back only.
package pqzstd

import (
	"sync"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/klauspost/compress/zstd"
)

// maxIdleEncoders bounds the encoders kept per level: as many as pages are
// compressed at once (one per object being written), each up to 4 MiB.
const maxIdleEncoders = 8

// pageWindow is the encoders' window: four times the 256 KiB pages of the
// Security Lake sink, above what pages overshoot it by.
const pageWindow = 1 << 20

// arrowZstd is what arrow-go's zstd codec implements: the block codec
// with errors, and streams (which its page reader uses when present).
type arrowZstd interface {
	compress.ErrorCodec
	compress.StreamingCodec
}

// zstdCodec is arrow-go's zstd codec with encoders that outlive garbage
// collections.
type zstdCodec struct {
	arrowZstd // arrow-go's, for everything but EncodeLevel
	mu        sync.Mutex
	idle      map[zstd.EncoderLevel][]*zstd.Encoder
	made      atomic.Int64 // encoders made, for tests
}

func init() {
	c, err := compress.GetCodec(compress.Codecs.Zstd)
	if arrow, ok := c.(arrowZstd); err == nil && ok {
		compress.RegisterCodec(compress.Codecs.Zstd, newZstdCodec(arrow))
	} // else: another arrow-go; its codec stays
}

func newZstdCodec(arrow arrowZstd) *zstdCodec {
	return &zstdCodec{arrowZstd: arrow, idle: map[zstd.EncoderLevel][]*zstd.Encoder{}}
}

// EncodeLevel compresses src at level as arrow-go's codec does.
func (c *zstdCodec) EncodeLevel(dst, src []byte, level int) []byte {
	l := zstd.EncoderLevelFromZstd(level)
	if level == compress.DefaultCompressionLevel {
		l = zstd.SpeedDefault
	}
	enc := c.encoder(l)
	out := enc.EncodeAll(src, dst[:0])
	c.mu.Lock()
	if len(c.idle[l]) < maxIdleEncoders {
		c.idle[l] = append(c.idle[l], enc)
	}
	c.mu.Unlock()
	return out
}

// encoder returns an idle encoder of level l, or a new one made with
// arrow-go's options and a window of pageWindow.
func (c *zstdCodec) encoder(l zstd.EncoderLevel) *zstd.Encoder {
	c.mu.Lock()
	if idle := c.idle[l]; len(idle) > 0 {
		enc := idle[len(idle)-1]
		c.idle[l] = idle[:len(idle)-1]
		c.mu.Unlock()
		return enc
	}
	c.mu.Unlock()
	c.made.Add(1)
	enc, err := zstd.NewWriter(nil, zstd.WithZeroFrames(true), zstd.WithEncoderLevel(l),
		zstd.WithEncoderConcurrency(1), zstd.WithAllLitEntropyCompression(true), zstd.WithWindowSize(pageWindow))
	if err != nil {
		panic(err) // options fixed above: cannot fail
	}
	return enc
}

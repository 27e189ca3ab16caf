package source

import (
	"context"
	"errors"
	"io"
	"sync"

	"github.com/lakerelay/lakerelay"
)

// Concat returns a [lakerelay.Source] that reads srcs one after another:
// each until it returns io.EOF, then the next, and io.EOF after the last.
// Any other error is returned as it is, and the next Read asks the same
// source again (each source says whether it can go on after its errors).
// Close closes every source and joins their errors; Read then returns
// lakerelay.ErrClosed. A Concat is safe for concurrent use.
func Concat(srcs ...lakerelay.Source) lakerelay.Source {
	return &concat{srcs: srcs}
}

type concat struct {
	mu     sync.Mutex
	srcs   []lakerelay.Source
	i      int
	closed bool
}

func (c *concat) Read(ctx context.Context) (lakerelay.Record, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for !c.closed && c.i < len(c.srcs) {
		rec, err := c.srcs[c.i].Read(ctx)
		if err == io.EOF {
			c.i++
			continue
		}
		return rec, err
	}
	if c.closed {
		return lakerelay.Record{}, lakerelay.ErrClosed
	}
	return lakerelay.Record{}, io.EOF
}

func (c *concat) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	c.closed = true
	var errs []error
	for _, s := range c.srcs {
		errs = append(errs, s.Close())
	}
	return errors.Join(errs...)
}

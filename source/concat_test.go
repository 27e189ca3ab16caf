package source

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/lakerelay/lakerelay"
)

type closeTracker struct {
	io.Reader
	closed bool
}

func (c *closeTracker) Close() error { c.closed = true; return nil }

func TestConcat(t *testing.T) {
	a := &closeTracker{Reader: strings.NewReader("1\n2\n")}
	b := &closeTracker{Reader: strings.NewReader("")}
	c := &closeTracker{Reader: strings.NewReader("3\n")}
	var srcs []lakerelay.Source
	for i, r := range []*closeTracker{a, b, c} {
		rd, err := NewReader(string(rune('a'+i)), r, func(o *ReaderOptions) { o.Decode.StreamType, o.CloseStream = Lines, true })
		if err != nil {
			t.Fatal(err)
		}
		srcs = append(srcs, rd)
	}
	s := Concat(srcs...)
	var got []string
	for {
		r, err := s.Read(context.Background())
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, r.Origin.Key+":"+string(r.Data))
	}
	if strings.Join(got, " ") != "a:1 a:2 c:3" {
		t.Fatalf("records %q", got)
	}
	if _, err := s.Read(context.Background()); err != io.EOF {
		t.Fatalf("after the end: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if !a.closed || !b.closed || !c.closed {
		t.Fatalf("streams closed: %v %v %v", a.closed, b.closed, c.closed)
	}
	if _, err := s.Read(context.Background()); !errors.Is(err, lakerelay.ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
	if err := Concat().Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := Concat().Read(context.Background()); err != io.EOF {
		t.Fatalf("empty Concat: %v", err)
	}
}

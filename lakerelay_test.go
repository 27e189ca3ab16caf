package lakerelay_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lakerelay/lakerelay"
)

func TestOnceSettlesExactlyOnce(t *testing.T) {
	var calls atomic.Int32
	ack := lakerelay.Once(func(err error) { calls.Add(1) })
	first := errors.New("first")
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if i == 0 {
				ack(first)
				return
			}
			ack(nil)
		}(i)
	}
	wg.Wait()
	require.EqualValues(t, 1, calls.Load())
	require.Nil(t, lakerelay.Once(nil))
}

func TestSettle(t *testing.T) {
	lakerelay.Record{}.Settle(nil) // nil Ack: nothing to do, no panic
	var got error
	boom := errors.New("boom")
	lakerelay.Record{Ack: func(err error) { got = err }}.Settle(boom)
	require.ErrorIs(t, got, boom)
}

func TestPermanent(t *testing.T) {
	base := errors.New("access denied")
	require.Nil(t, lakerelay.Permanent(nil))
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"plain", base, false},
		{"permanent", lakerelay.Permanent(base), true},
		{"wrapped permanent", fmt.Errorf("sink: put: %w", lakerelay.Permanent(base)), true},
		{"invalid record", fmt.Errorf("line 3: %w", lakerelay.ErrInvalidRecord), true},
		{"too large", fmt.Errorf("record: %w", lakerelay.ErrTooLarge), true},
		{"nil", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, lakerelay.IsPermanent(tc.err))
		})
	}
	require.ErrorIs(t, lakerelay.Permanent(base), base, "Permanent keeps the original reachable")
	require.Equal(t, base.Error(), lakerelay.Permanent(base).Error())
}

func TestOriginString(t *testing.T) {
	require.Equal(t, "s3://b/a/k.gz#3", lakerelay.Origin{Bucket: "b", Key: "a/k.gz", Index: 3}.String())
	require.Equal(t, "s3://b/k?versionId=v1#0", lakerelay.Origin{Bucket: "b", Key: "k", VersionID: "v1"}.String())
	require.Equal(t, "/tmp/x.log#7", lakerelay.Origin{Key: "/tmp/x.log", Index: 7}.String())
}

func TestSinkFunc(t *testing.T) {
	var n int
	var s lakerelay.Sink = lakerelay.SinkFunc(func(_ context.Context, p string, rs []lakerelay.Record) error {
		n += len(rs)
		require.Equal(t, "p", p)
		return nil
	})
	require.NoError(t, s.WriteBatch(context.Background(), "p", make([]lakerelay.Record, 3)))
	require.Equal(t, 3, n)
}

func TestFinding(t *testing.T) {
	f := lakerelay.Finding{Path: "actor.user.uid", Code: "required", Message: "required attribute is missing", Severity: lakerelay.SeverityError}
	require.Equal(t, "error actor.user.uid: required: required attribute is missing", f.String())
	b, err := json.Marshal(f)
	require.NoError(t, err)
	require.JSONEq(t, `{"path":"actor.user.uid","code":"required","severity":"error","message":"required attribute is missing"}`, string(b))
	require.Equal(t, "warning (document): version: v", lakerelay.Finding{Code: "version", Severity: lakerelay.SeverityWarning, Message: "v"}.String())

	for _, tt := range []struct {
		sevs []lakerelay.Severity
		want bool
	}{
		{nil, false},
		{[]lakerelay.Severity{lakerelay.SeverityWarning, lakerelay.SeveritySuggestion, lakerelay.SeveritySecurityWarning}, false},
		{[]lakerelay.Severity{lakerelay.SeverityWarning, lakerelay.SeverityError}, true},
	} {
		var fs []lakerelay.Finding
		for _, s := range tt.sevs {
			fs = append(fs, lakerelay.Finding{Severity: s})
		}
		require.Equal(t, tt.want, lakerelay.HasErrors(fs), "%v", tt.sevs)
	}
}

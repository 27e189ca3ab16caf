package batch

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fieldsOf returns the Field of every *FieldError in err's tree.
func fieldsOf(err error) []string {
	var fields []string
	var walk func(error)
	walk = func(e error) {
		var fe *FieldError
		switch x := e.(type) {
		case nil:
		case interface{ Unwrap() []error }:
			for _, e := range x.Unwrap() {
				walk(e)
			}
		default:
			if errors.As(e, &fe) {
				fields = append(fields, fe.Field)
			}
		}
	}
	walk(err)
	return fields
}

func TestLimitsValidate(t *testing.T) {
	ok := DefaultLimits()
	with := func(f func(*Limits)) Limits { l := ok; f(&l); return l }
	tests := []struct {
		name   string
		limits Limits
		fields []string
	}{
		{"defaults", ok, nil},
		{"smallest", Limits{MaxRecords: 1, MaxBytes: 1, MaxAge: time.Nanosecond, MaxPendingBytes: 1}, nil},
		{"zero value", Limits{}, []string{"Limits.MaxRecords", "Limits.MaxBytes", "Limits.MaxAge", "Limits.MaxPendingBytes"}},
		{"negative MaxRecords", with(func(l *Limits) { l.MaxRecords = -1 }), []string{"Limits.MaxRecords"}},
		{"zero MaxBytes", with(func(l *Limits) { l.MaxBytes = 0 }), []string{"Limits.MaxBytes"}},
		{"negative MaxAge", with(func(l *Limits) { l.MaxAge = -time.Second }), []string{"Limits.MaxAge"}},
		{"negative MaxPendingBytes", with(func(l *Limits) { l.MaxPendingBytes = -5 }), []string{"Limits.MaxPendingBytes"}},
		{"MaxPendingBytes below MaxBytes", with(func(l *Limits) { l.MaxPendingBytes = l.MaxBytes - 1 }), []string{"Limits.MaxPendingBytes"}},
		{"MaxPendingBytes equal to MaxBytes", with(func(l *Limits) { l.MaxPendingBytes = l.MaxBytes }), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.limits.Validate()
			if tt.fields == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrInvalidOptions)
			assert.Equal(t, tt.fields, fieldsOf(err))
			for _, line := range strings.Split(err.Error(), "\n") {
				assert.True(t, strings.HasPrefix(line, "batch: Limits."), "message %q names the field", line)
			}
		})
	}
}

func TestOptionsValidate(t *testing.T) {
	ok := defaultOptions()
	with := func(f func(*Options)) Options { o := ok; f(&o); return o }
	tests := []struct {
		name   string
		opts   Options
		fields []string
	}{
		{"defaults", ok, nil},
		{"no retries, no backoff", with(func(o *Options) { o.MaxRetries, o.RetryBackoff, o.MaxRetryBackoff = 0, 0, 0 }), nil},
		{"negative MaxRetries", with(func(o *Options) { o.MaxRetries = -1 }), []string{"Options.MaxRetries"}},
		{"retries without backoff", with(func(o *Options) { o.RetryBackoff = 0 }), []string{"Options.RetryBackoff"}},
		{"negative RetryBackoff", with(func(o *Options) { o.MaxRetries, o.RetryBackoff = 0, -1 }), []string{"Options.RetryBackoff"}},
		{"MaxRetryBackoff below RetryBackoff", with(func(o *Options) { o.MaxRetryBackoff = o.RetryBackoff / 2 }), []string{"Options.MaxRetryBackoff"}},
		{"zero FlushConcurrency", with(func(o *Options) { o.FlushConcurrency = 0 }), []string{"Options.FlushConcurrency"}},
		{"limits and options together", with(func(o *Options) { o.MaxAge = 0; o.FlushConcurrency = 0 }), []string{"Limits.MaxAge", "Options.FlushConcurrency"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.opts.Validate()
			if tt.fields == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrInvalidOptions)
			assert.Equal(t, tt.fields, fieldsOf(err))
		})
	}
}

func TestFieldErrorMessage(t *testing.T) {
	err := Limits{MaxRecords: 1, MaxBytes: 0, MaxAge: time.Second, MaxPendingBytes: 1}.Validate()
	var fe *FieldError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "batch: Limits.MaxBytes: must be > 0 (got 0)", fe.Error())
}

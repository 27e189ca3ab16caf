package testenv

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// FaultProxy is a reverse proxy in front of a real server that can answer
// the next requests with an error, to test throttling and server errors
// against otherwise real behaviour.
type FaultProxy struct {
	srv      *http.Server
	url      string
	requests atomic.Int64

	mu     sync.Mutex
	fails  int
	status int
	code   string
}

// NewFaultProxy starts a proxy on 127.0.0.1 that forwards to target (a base
// URL such as MinIO's Endpoint). It stops at the end of the test.
func NewFaultProxy(t testing.TB, target string) *FaultProxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatalf("testenv: proxy target: %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testenv: proxy listen: %v", err)
	}
	p := &FaultProxy{url: "http://" + l.Addr().String()}
	// The outgoing request keeps the Host header the client signed, so
	// SigV4 signatures still verify at the target.
	rp := httputil.NewSingleHostReverseProxy(u)
	p.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.requests.Add(1)
		if status, code, ok := p.take(); ok {
			writeFault(w, r, status, code)
			return
		}
		rp.ServeHTTP(w, r)
	})}
	go func() { _ = p.srv.Serve(l) }()
	t.Cleanup(func() { p.srv.Close() })
	return p
}

// URL is the proxy's base URL; point clients at it instead of the target.
func (p *FaultProxy) URL() string { return p.url }

// FailNext makes the next n requests fail with status and the AWS error code
// (for example 503 and "SlowDown"), without reaching the target.
func (p *FaultProxy) FailNext(n, status int, code string) {
	p.mu.Lock()
	p.fails, p.status, p.code = n, status, code
	p.mu.Unlock()
}

// Requests is the number of requests the proxy received, failed or not.
func (p *FaultProxy) Requests() int { return int(p.requests.Load()) }

func (p *FaultProxy) take() (int, string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fails <= 0 {
		return 0, "", false
	}
	p.fails--
	return p.status, p.code, true
}

func writeFault(w http.ResponseWriter, r *http.Request, status int, code string) {
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-amz-json") {
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.Header().Set("x-amzn-query-error", code+";Sender")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"__type":"com.amazonaws.sqs#%s","message":"injected fault %s"}`, code, code)
		return
	}
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>injected fault %s</Message><RequestId>testenv</RequestId></Error>`, code, code)
}

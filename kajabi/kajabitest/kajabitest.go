// Package kajabitest provides a stand-in Kajabi for tests, as net/http/httptest does for
// HTTP servers: a loopback server in front of the sandbox (or any handler) that records
// every request and, when Kajabi's OpenAPI description is at hand, holds each request and
// response to it when the test ends. A test that drives the facade through an Upstream is
// therefore also a contract test of what the client sends and what the sandbox answers.
package kajabitest

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/kajabi-graphql/facade/kajabi"
	"github.com/kajabi-graphql/facade/kajabi/sandbox"
)

// tokenPath is the OAuth endpoint; Requests leaves its POSTs out, since they come and go
// with token lifetimes rather than with what the code under test asked for.
const tokenPath = "/v1/oauth/token"

// maxRetainedBodies bounds the response bytes kept for the checks over one Upstream's
// life. Bodies beyond it are not kept, and the cleanup says how many went unchecked.
const maxRetainedBodies = 256 << 20

// Upstream is a loopback HTTP server standing in for Kajabi that records every request,
// and (when the spec is available) checks each one against openapi.yaml at test cleanup.
type Upstream struct {
	URL     string           // base URL, e.g. http://127.0.0.1:port
	Sandbox *sandbox.Sandbox // nil when built with NewRecorder over another handler

	inner atomic.Pointer[http.Handler]

	mu        sync.Mutex
	exchanges []*exchange // everything seen, for the contract checks
	from      int         // Requests starts here; moved by Reset
	retained  int         // response body bytes kept
	dropped   int         // responses not kept: over a body budget, or the handler panicked
}

// Request is one request the upstream received, with the status it answered.
type Request struct {
	Method   string
	Path     string // unescaped, as in url.URL.Path
	RawQuery string
	Header   http.Header
	Status   int // 0 until the answer's status is written
}

// exchange is a recorded request and the response it got.
type exchange struct {
	req         Request
	escapedPath string
	respHeader  http.Header
	body        []byte
	bodyKept    bool
	done        bool
}

// NewSandbox starts a sandbox built from opts behind a recording server that closes when
// the test ends. Zero values are the sandbox's defaults but one: Sites 0 is one site here,
// not two. On several sites Kajabi lists customers only with filter[site_id], and the
// facade refuses a customers query without siteId; a test that is about something else
// should not have to name a site, and a test of the multi-site rules asks for Sites: 2.
func NewSandbox(t testing.TB, opts sandbox.Options) *Upstream {
	t.Helper()
	if opts.Sites == 0 {
		opts.Sites = 1
	}
	sb := sandbox.New(opts)
	u := NewRecorder(t, sb)
	u.Sandbox = sb
	return u
}

// NewRecorder starts a recording server in front of h, for tests that script Kajabi's
// answers themselves. It closes when the test ends, after which the contract checks run.
func NewRecorder(t testing.TB, h http.Handler) *Upstream {
	t.Helper()
	u := &Upstream{}
	u.inner.Store(&h)
	if path, ok := SpecPath(t); ok {
		s, err := loadSpec(path)
		if err != nil {
			t.Fatalf("kajabitest: %v", err)
		}
		// Cleanups run last-in first-out: this one runs after the server has closed and
		// every handler has returned.
		t.Cleanup(func() { u.check(t, s) })
	}
	srv := httptest.NewServer(http.HandlerFunc(u.serve))
	t.Cleanup(srv.Close)
	u.URL = srv.URL
	return u
}

// Client returns a client of u, authenticated with the sandbox's client credentials
// unless opts choose other auth (later options win). Over a scripted handler, either
// answer POST /v1/oauth/token or pass kajabi.WithAccessToken.
func (u *Upstream) Client(t testing.TB, opts ...kajabi.Option) *kajabi.Client {
	t.Helper()
	all := append([]kajabi.Option{
		kajabi.WithBaseURL(u.URL),
		kajabi.WithClientCredentials(sandbox.ClientID, sandbox.ClientSecret),
	}, opts...)
	c, err := kajabi.NewClient(all...)
	if err != nil {
		t.Fatalf("kajabitest: new client: %v", err)
	}
	return c
}

// Requests returns the requests received since the start or the last Reset, in arrival
// order, leaving out POST /v1/oauth/token.
func (u *Upstream) Requests() []Request {
	u.mu.Lock()
	defer u.mu.Unlock()
	var out []Request
	for _, x := range u.exchanges[u.from:] {
		if x.req.Method == http.MethodPost && x.req.Path == tokenPath {
			continue
		}
		r := x.req
		r.Header = r.Header.Clone()
		out = append(out, r)
	}
	return out
}

// Calls is len(Requests()).
func (u *Upstream) Calls() int { return len(u.Requests()) }

// Reset forgets the requests recorded so far. The contract checks still cover them.
func (u *Upstream) Reset() {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.from = len(u.exchanges)
}

// Handle wraps the handler behind the recorder, for example to fail one path:
//
//	u.Handle(func(next http.Handler) http.Handler { ... })
//
// Requests already being served finish with the handler they started with. Responses
// the wrapper writes are recorded and checked like the sandbox's own.
func (u *Upstream) Handle(wrap func(http.Handler) http.Handler) {
	for {
		old := u.inner.Load()
		h := wrap(*old)
		if u.inner.CompareAndSwap(old, &h) {
			return
		}
	}
}

func (u *Upstream) serve(w http.ResponseWriter, r *http.Request) {
	x := &exchange{
		req: Request{
			Method:   r.Method,
			Path:     r.URL.Path,
			RawQuery: r.URL.RawQuery,
			Header:   r.Header.Clone(),
		},
		escapedPath: r.URL.EscapedPath(),
	}
	u.mu.Lock()
	u.exchanges = append(u.exchanges, x)
	u.mu.Unlock()

	// The status is recorded as soon as it is written: the client can read the whole
	// answer and ask Requests() before this handler's deferred bookkeeping has run.
	cw := &captureWriter{ResponseWriter: w, onStatus: func(code int) {
		u.mu.Lock()
		x.req.Status = code
		u.mu.Unlock()
	}}
	defer func() {
		if p := recover(); p != nil {
			// net/http drops the connection: there is no response to record or check.
			u.mu.Lock()
			u.dropped++
			u.mu.Unlock()
			panic(p)
		}
		status, header := cw.status, cw.header
		if status == 0 { // the handler wrote nothing: net/http answers 200, empty
			status, header = http.StatusOK, w.Header().Clone()
		}
		u.mu.Lock()
		defer u.mu.Unlock()
		x.req.Status, x.respHeader, x.done = status, header, true
		switch {
		case cw.truncated || u.retained+cw.body.Len() > maxRetainedBodies:
			u.dropped++
		default:
			x.body, x.bodyKept = cw.body.Bytes(), true
			u.retained += len(x.body)
		}
	}()
	(*u.inner.Load()).ServeHTTP(cw, r)
}

// captureWriter passes a response through and keeps its status, headers and (up to
// maxCheckedBody) body.
type captureWriter struct {
	http.ResponseWriter
	status    int
	header    http.Header
	body      bytes.Buffer
	truncated bool
	onStatus  func(int)
}

func (c *captureWriter) WriteHeader(code int) {
	if c.status == 0 && code >= 200 {
		c.status, c.header = code, c.ResponseWriter.Header().Clone()
		c.onStatus(code)
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *captureWriter) Write(p []byte) (int, error) {
	if c.status == 0 {
		c.WriteHeader(http.StatusOK)
	}
	if room := maxCheckedBody - c.body.Len(); room >= len(p) {
		c.body.Write(p)
	} else {
		c.body.Write(p[:max(room, 0)])
		c.truncated = true
	}
	return c.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the real writer (Flush, deadlines).
func (c *captureWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// Flush keeps streaming handlers streaming.
func (c *captureWriter) Flush() {
	if c.status == 0 {
		c.WriteHeader(http.StatusOK)
	}
	_ = http.NewResponseController(c.ResponseWriter).Flush()
}

// snapshot copies the finished exchanges, token requests included.
func (u *Upstream) snapshot() []exchange {
	all, _ := u.everything()
	return slices.DeleteFunc(all, func(x exchange) bool { return !x.done })
}

// everything copies every exchange seen, finished or not, and the count of responses
// that were not kept.
func (u *Upstream) everything() ([]exchange, int) {
	u.mu.Lock()
	defer u.mu.Unlock()
	out := make([]exchange, len(u.exchanges))
	for i, x := range u.exchanges {
		out[i] = *x
	}
	return out, u.dropped
}

// violation is one contract problem, with how often and where it was first seen.
type violation struct {
	what  string
	first string
	count int
}

// check runs the contract over everything the upstream saw and reports each distinct
// problem once, with the first request that showed it and how many did.
func (u *Upstream) check(t testing.TB, s *spec) {
	t.Helper()
	all, dropped := u.everything()

	var order []string
	found := map[string]*violation{}
	add := func(key, what, where string) {
		v := found[key]
		if v == nil {
			v = &violation{what: what, first: where}
			found[key] = v
			order = append(order, key)
		}
		v.count++
	}
	for _, x := range all {
		where := x.req.Method + " " + x.escapedPath
		if x.req.RawQuery != "" {
			where += "?" + x.req.RawQuery
		}
		header := x.req.Header
		if x.req.Method == http.MethodPost && x.req.Path == tokenPath {
			header = nil // the token endpoint is where a bearer token comes from
		}
		tmpl, problems := s.requestProblems(x.req.Method, x.escapedPath, x.req.RawQuery, header)
		for _, p := range problems {
			op := x.req.Method + " " + tmpl
			if tmpl == "" {
				op = x.req.Method + " " + x.escapedPath
			}
			add("req|"+op+"|"+p, fmt.Sprintf("request %s: %s", op, p), where)
		}
		if tmpl == "" || !x.done || !x.bodyKept {
			continue
		}
		for _, p := range s.responseProblems(x.req.Method, x.escapedPath, x.req.Status, x.respHeader, x.body) {
			op := x.req.Method + " " + tmpl
			key := fmt.Sprintf("resp|%s|%d|%s", op, x.req.Status, indexes.ReplaceAllString(p, "/*"))
			add(key, fmt.Sprintf("response %s %d: %s", op, x.req.Status, p), where)
		}
	}
	for _, key := range order {
		v := found[key]
		more := ""
		if v.count > 1 {
			more = fmt.Sprintf(" (and %d more like it)", v.count-1)
		}
		t.Errorf("kajabitest: contract: %s\n\tfirst seen on %s%s", v.what, v.first, more)
	}
	if dropped > 0 {
		t.Logf("kajabitest: %d responses were not checked against openapi.yaml: their handler panicked, or their body was over the %d MiB per-body or %d MiB total budget", dropped, maxCheckedBody>>20, maxRetainedBodies>>20)
	}
}

// indexes matches array positions in JSON pointers, so the same problem on every item of
// a list is reported once.
var indexes = regexp.MustCompile(`/[0-9]+\b`)

package kajabi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"sync"
	"time"
)

// flightGroup makes identical concurrent GETs once. Unlike x/sync/singleflight, a caller
// whose context ends leaves at once with its own error, and the shared call is cancelled
// only when no caller is left waiting for it; until then it runs within the latest of the
// waiting callers' deadlines.
type flightGroup struct {
	mu sync.Mutex
	m  map[string]*flight
}

// flight is one shared call. Its result is written before done closes and only read after.
type flight struct {
	done    chan struct{}
	cancel  context.CancelFunc
	waiters map[*waiter]struct{} // guarded by flightGroup.mu

	resp *http.Response
	body []byte
	err  error
}

type waiter struct {
	deadline    time.Time
	hasDeadline bool
}

// flightKey identifies a GET by the bearer token it is sent with and its URL. The token is
// hashed so the key can never leak it, and two credentials never share an answer.
func flightKey(token, rawURL string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:16]) + " " + rawURL
}

// do returns the result of fn for key, running fn once for all callers that ask while it
// runs. Each caller gets its own copy of the response and error; the body bytes are
// shared and must only be read. When ctx ends first, do returns ctx.Err().
func (g *flightGroup) do(ctx context.Context, key string, fn func(context.Context, deadlineFunc) (*http.Response, []byte, error)) (*http.Response, []byte, error) {
	w := &waiter{}
	w.deadline, w.hasDeadline = ctx.Deadline()
	g.mu.Lock()
	if g.m == nil {
		g.m = make(map[string]*flight)
	}
	f := g.m[key]
	if f == nil {
		// The shared call keeps the first caller's values (loggers, traces) but none of
		// its cancellation: it ends when the last waiting caller leaves.
		fctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		f = &flight{done: make(chan struct{}), cancel: cancel, waiters: map[*waiter]struct{}{}}
		g.m[key] = f
		go g.run(fctx, key, f, fn)
	}
	f.waiters[w] = struct{}{}
	g.mu.Unlock()

	select {
	case <-f.done:
		return cloneResponse(f.resp), f.body, cloneError(f.err)
	case <-ctx.Done():
		g.leave(key, f, w)
		return nil, nil, ctx.Err()
	}
}

func (g *flightGroup) run(ctx context.Context, key string, f *flight, fn func(context.Context, deadlineFunc) (*http.Response, []byte, error)) {
	defer f.cancel()
	resp, body, err := fn(ctx, func() (time.Time, bool) { return g.deadline(f) })
	g.mu.Lock()
	if g.m[key] == f {
		delete(g.m, key)
	}
	g.mu.Unlock()
	f.resp, f.body, f.err = resp, body, err
	close(f.done)
}

// leave removes a caller that stopped waiting; the last one out cancels the call, which
// is then no longer joinable.
func (g *flightGroup) leave(key string, f *flight, w *waiter) {
	g.mu.Lock()
	delete(f.waiters, w)
	last := len(f.waiters) == 0
	if last && g.m[key] == f {
		delete(g.m, key)
	}
	g.mu.Unlock()
	if last {
		f.cancel()
	}
}

// deadline is the latest deadline of the callers still waiting; ok is false when one of
// them has none.
func (g *flightGroup) deadline(f *flight) (latest time.Time, ok bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for w := range f.waiters {
		if !w.hasDeadline {
			return time.Time{}, false
		}
		if w.deadline.After(latest) {
			latest = w.deadline
		}
	}
	return latest, !latest.IsZero()
}

// cloneResponse copies what a caller might touch of a shared response.
func cloneResponse(r *http.Response) *http.Response {
	if r == nil {
		return nil
	}
	c := *r
	c.Header = r.Header.Clone()
	c.Trailer = r.Trailer.Clone()
	c.Body = http.NoBody
	if r.Request != nil {
		c.Request = r.Request.Clone(r.Request.Context())
	}
	return &c
}

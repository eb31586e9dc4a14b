package kajabi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"time"
)

// How a call reaches Kajabi, outermost first:
//
//	single-flight  identical GETs under the same token share one upstream call (flight.go)
//	breaker        refuses the call at once while Kajabi is down, and counts its outcome
//	               once, after its retries (breaker.go)
//	retry loop     up to RetryPolicy.MaxAttempts attempts, backing off between them, while
//	               the breaker stays closed (send)
//	pause          waits out a pause Kajabi asked the account for with 429 (Pacer)
//	gate           waits for a concurrency slot, then the account's rate turn (Pacer),
//	               served round-robin between callers (turns.go)
//	http.Client    one HTTP attempt, bounded by its own timeout and the context
//
// The breaker, the concurrency bound and NewPacer's budget and pauses are per Client, and
// a process builds one Client, so their limits are process-wide. The 401 renew-and-resend
// of ClientCredentials wraps the retry loop and is not a retry.

// RetryPolicy says how a failed read is tried again. Only answers that a later attempt may
// not get are retried: 429, 502, 503 and 504, and calls that got no answer (a refused or
// reset connection, an attempt's timeout). Every call the client makes is a GET or the
// token POST, which are safe to repeat; writes are retried by writeRetryable's rule.
//
// The wait before retry n (1-based) is BaseDelay·2^(n-1), capped at MaxDelay, with the
// upper half jittered; a Retry-After from Kajabi is a floor on it. No wait is longer than
// MaxDelay: when Kajabi asks for longer, the call ends with that answer (its RetryAfter
// tells the caller when to come back). No wait runs past the caller's deadline either: when
// it would, the call ends with the last error right away.
//
// The zero value turns retrying off; zero delays take DefaultRetryPolicy's.
type RetryPolicy struct {
	// MaxAttempts counts every attempt, the first included; 0 or 1 means no retries.
	MaxAttempts int
	BaseDelay   time.Duration
	MaxDelay    time.Duration
}

// Limits bound the calls one Client has in flight to Kajabi and how fast it starts them,
// so a burst of GraphQL traffic cannot trip Kajabi's own rate limits. A call waits for a
// slot (as long as its context allows). Token POSTs and retries count like any call.
//
// Zero fields are unlimited: the zero value turns limiting off.
type Limits struct {
	// Concurrency is the most HTTP calls in flight at once.
	Concurrency int
	// Rate is the sustained calls per second started; Burst how many may start at once
	// after a quiet spell (0 means Rate rounded up, at least 1).
	Rate  float64
	Burst int
	// Reserve is how many turns of Burst are kept for callers without a backlog. A
	// caller with more calls queued behind the one taking its turn takes it only while
	// more than Reserve are left, so another caller's one call goes at once instead of
	// waiting for the next turn and its round behind the busy one. Under a steady flood
	// the busy caller still gets all of Rate; only its bursts are Reserve smaller. At
	// most Burst-1.
	Reserve int
}

// BreakerPolicy says when the circuit breaker opens. It counts calls, not attempts: a
// call that succeeds on a retry is a success, so a burst of transient faults is retried
// through rather than opening the breaker. When at least MinCalls calls ended within the
// last Window (a rolling window of ten buckets) and at least FailureRatio of them failed
// (a 5xx answer, no answer, an attempt's timeout, after the call's retries), the breaker
// opens: for Cooldown every call fails at once with ErrCircuitOpen, then one probe call
// goes through, without retries; its success closes the breaker, its failure opens it for
// another Cooldown. Any answer below 500, 429 included, counts as Kajabi being up. A caller
// cancelling or running out of its own deadline counts for nothing.
//
// The zero value turns the breaker off; zero fields but MinCalls take DefaultBreakerPolicy's.
type BreakerPolicy struct {
	MinCalls     int
	FailureRatio float64 // of the calls in Window, 0 < FailureRatio <= 1
	Window       time.Duration
	Cooldown     time.Duration
}

// The protections NewClient turns on unless told otherwise.
var (
	DefaultRetryPolicy = RetryPolicy{MaxAttempts: 3, BaseDelay: 100 * time.Millisecond, MaxDelay: 2 * time.Second}
	// DefaultLimits lets a page of 20 customers with every relation (about 46 calls) go out
	// in one wave, while a burst of GraphQL traffic is held to 100 calls a second, with
	// 10 of the burst kept for callers without a backlog.
	DefaultLimits = Limits{Concurrency: 64, Rate: 100, Burst: 100, Reserve: 10}
	// DefaultBreakerPolicy opens when half of at least 20 calls in 10 s failed: a page's
	// burst of failures that its retries get through opens nothing.
	DefaultBreakerPolicy = BreakerPolicy{MinCalls: 20, FailureRatio: 0.5, Window: 10 * time.Second, Cooldown: 5 * time.Second}
)

// Observer receives what the client's protections do, for metrics. Each field is optional.
// The functions are called from many goroutines at once and must return quickly.
type Observer struct {
	// OnRequest follows every HTTP attempt sent to Kajabi: first attempts, retries, the
	// resend after a 401 and token POSTs. status is 0 when no answer came; err is nil on a
	// 2xx. pathPattern has ids replaced, e.g. "/v1/customers/{id}", so it can be a label.
	// Calls refused by the breaker or shared through single-flight send nothing and are
	// not reported.
	OnRequest func(method, pathPattern string, status int, dur time.Duration, err error)
	// OnRetry is called before waiting to retry: attempt (1-based) failed with err and the
	// next one starts after wait.
	OnRetry func(method, pathPattern string, attempt int, wait time.Duration, err error)
	// OnBreakerState reports each change of the breaker's state. It is called with the
	// breaker's lock held, so changes arrive in order; it must not call the Client.
	OnBreakerState func(from, to BreakerState)
}

func (o *Observer) request(method, pattern string, status int, dur time.Duration, err error) {
	if o.OnRequest != nil {
		o.OnRequest(method, pattern, status, dur, err)
	}
}

func (o *Observer) retry(method, pattern string, attempt int, wait time.Duration, err error) {
	if o.OnRetry != nil {
		o.OnRetry(method, pattern, attempt, wait, err)
	}
}

// WithRetry replaces DefaultRetryPolicy; RetryPolicy{} turns retrying off.
func WithRetry(p RetryPolicy) Option {
	return func(c *Client) error {
		if p.MaxAttempts < 0 || p.BaseDelay < 0 || p.MaxDelay < 0 {
			return errors.New("kajabi: negative retry policy")
		}
		c.retry = p
		return nil
	}
}

// WithLimits replaces DefaultLimits; Limits{} turns limiting off.
func WithLimits(l Limits) Option {
	return func(c *Client) error {
		if l.Concurrency < 0 || l.Burst < 0 || l.Rate < 0 || math.IsNaN(l.Rate) {
			return errors.New("kajabi: negative limits")
		}
		c.limits = l
		return nil
	}
}

// WithBreaker replaces DefaultBreakerPolicy; BreakerPolicy{} turns the breaker off.
func WithBreaker(p BreakerPolicy) Option {
	return func(c *Client) error {
		if p.MinCalls < 0 || p.Window < 0 || p.Cooldown < 0 || !(p.FailureRatio >= 0 && p.FailureRatio <= 1) {
			return errors.New("kajabi: negative breaker policy, or a failure ratio outside 0..1")
		}
		c.breakerPolicy = p
		return nil
	}
}

// WithSingleflight turns sharing of identical concurrent GETs on (the default) or off.
// Calls are identical when they have the same URL and the same bearer token; each caller
// still gets values of its own.
func WithSingleflight(on bool) Option {
	return func(c *Client) error {
		c.shareReads = on
		return nil
	}
}

// WithObserver reports requests, retries and breaker changes to o.
func WithObserver(o Observer) Option {
	return func(c *Client) error {
		c.observer = o
		return nil
	}
}

// withDefaults fills a policy's zero durations.
func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.BaseDelay == 0 {
		p.BaseDelay = DefaultRetryPolicy.BaseDelay
	}
	if p.MaxDelay == 0 {
		p.MaxDelay = max(DefaultRetryPolicy.MaxDelay, p.BaseDelay)
	}
	p.MaxAttempts = max(p.MaxAttempts, 1)
	return p
}

// wait is how long to wait before the attempt after failed attempt n (1-based) that
// ended in err; ok is false when Kajabi asked for a longer wait than the policy allows.
func (p RetryPolicy) wait(n int, err error) (d time.Duration, ok bool) {
	d = p.BaseDelay
	for i := 1; i < n && d < p.MaxDelay; i++ {
		d *= 2
	}
	d = min(d, p.MaxDelay)
	// Equal jitter: callers that failed together spread out, none retries at once.
	d = d/2 + rand.N(d/2+1)
	var apiErr *ErrorResponse
	if errors.As(err, &apiErr) && apiErr.RetryAfter > 0 {
		if apiErr.RetryAfter > p.MaxDelay {
			return 0, false
		}
		d = max(d, apiErr.RetryAfter)
	}
	return d, true
}

// retryable reports whether the call may be tried again after err.
func (cl *call) retryable(err error) bool {
	if cl.write {
		return writeRetryable(err)
	}
	return retryable(err)
}

// retryable reports whether another attempt may get a different answer.
func retryable(err error) bool {
	var apiErr *ErrorResponse
	if errors.As(err, &apiErr) {
		switch apiErr.StatusCode {
		case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			return true
		}
		return false
	}
	// No answer: a refused or reset connection, or the attempt's own timeout. (A caller
	// that gave up is not retried: send stops when its context has ended.)
	var te *TransportError
	return errors.As(err, &te) && !errors.Is(te.Err, ErrCircuitOpen)
}

// deadlineFunc reports the latest time the callers waiting on a call still want its
// answer; ok is false when one of them has no deadline.
type deadlineFunc func() (t time.Time, ok bool)

// call is one request to Kajabi that send may repeat.
type call struct {
	method  string
	pattern string // path with ids replaced, for observers
	url     string // redacted, for errors
	account string // the Pacer's key for the credential the call is made with
	// write marks a call that changes something: it is retried only as writeRetryable
	// allows (writes.go).
	write bool
	// newRequest builds a fresh request for each attempt (a POST body is read once).
	newRequest func(ctx context.Context) (*http.Request, error)
}

// maxBody bounds a successful answer held in memory; a page of 100 customers is well
// under 1 MiB.
const maxBody = 64 << 20

// send makes a call: asks the breaker, attempts it, and retries what RetryPolicy allows
// within the deadline while the breaker stays closed. It returns the answer with its body
// read, or the last error. The breaker counts the call once, by its last answer.
func (c *Client) send(ctx context.Context, deadline deadlineFunc, cl *call) (*http.Response, []byte, error) {
	done, err := c.breaker.allow()
	if err != nil {
		return nil, nil, &TransportError{Method: cl.method, URL: cl.url, Err: err}
	}
	var last outcome
	defer func() { done(last) }()
	var lastErr error
	for attempt := 1; ; attempt++ {
		if attempt > 1 && !c.breaker.closed() {
			// The breaker opened while we waited to retry (or this call is the half-open
			// probe, which is not retried): what Kajabi last said is the answer.
			return nil, nil, lastErr
		}
		resp, body, o, err := c.attempt(ctx, deadline, cl)
		if o != outcomeNone {
			last = o
		}
		if err == nil {
			return resp, body, nil
		}
		lastErr = err
		if attempt >= c.retry.MaxAttempts || !cl.retryable(err) || ctx.Err() != nil {
			return nil, nil, err
		}
		wait, ok := c.retry.wait(attempt, err)
		if !ok {
			return nil, nil, err
		}
		if dl, ok := deadline(); ok && time.Now().Add(wait).After(dl) {
			return nil, nil, err
		}
		c.observer.retry(cl.method, cl.pattern, attempt, wait, err)
		if !sleep(ctx, wait) {
			return nil, nil, &TransportError{Method: cl.method, URL: cl.url, Err: ctx.Err()}
		}
	}
}

// attempt sends a call once: after any pause of its account, through the limiter. It
// reports what the answer says about Kajabi's health.
func (c *Client) attempt(ctx context.Context, deadline deadlineFunc, cl *call) (*http.Response, []byte, outcome, error) {
	if err := c.waitPause(ctx, deadline, cl); err != nil {
		return nil, nil, outcomeNone, err
	}
	release, err := c.gate.acquire(ctx, cl.account)
	if err != nil {
		return nil, nil, outcomeNone, &TransportError{Method: cl.method, URL: cl.url, Err: err}
	}
	start := time.Now()
	resp, body, err := c.roundTrip(ctx, cl)
	release()
	status := 0
	if resp != nil {
		status = resp.StatusCode
	}
	o := classify(ctx, status, err)
	c.health.record(status, o, err)
	var apiErr *ErrorResponse
	if errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusTooManyRequests && apiErr.RetryAfter > 0 {
		until := time.Now().Add(apiErr.RetryAfter)
		c.pacer.Pause(ctx, cl.account, until)
		c.health.paused(until)
	}
	c.observer.request(cl.method, cl.pattern, status, time.Since(start), err)
	return resp, body, o, err
}

// waitPause waits out a pause Kajabi asked of the call's account. A pause longer than
// RetryPolicy.MaxDelay, or one that outlasts the deadline, ends the call at once with the
// 429 that Kajabi's pause stands for.
func (c *Client) waitPause(ctx context.Context, deadline deadlineFunc, cl *call) error {
	until := c.pacer.PausedUntil(ctx, cl.account)
	left := time.Until(until)
	if until.IsZero() || left <= 0 {
		return nil
	}
	dl, hasDeadline := deadline()
	if left > c.retry.MaxDelay || (hasDeadline && until.After(dl)) {
		return &ErrorResponse{Method: cl.method, URL: cl.url, StatusCode: http.StatusTooManyRequests, RetryAfter: left,
			Errors: []APIError{{Status: "429", Title: http.StatusText(http.StatusTooManyRequests),
				Detail: "Kajabi asked for a pause of this account's calls (not sent)"}}}
	}
	if !sleep(ctx, left) {
		return &TransportError{Method: cl.method, URL: cl.url, Err: ctx.Err()}
	}
	return nil
}

// roundTrip is one HTTP exchange with its body read and closed.
func (c *Client) roundTrip(ctx context.Context, cl *call) (*http.Response, []byte, error) {
	callCtx := ctx
	if c.callTimeout > 0 {
		var cancel context.CancelFunc
		callCtx, cancel = context.WithTimeout(ctx, c.callTimeout)
		defer cancel()
	}
	req, err := cl.newRequest(callCtx)
	if err != nil {
		return nil, nil, err
	}
	resp, err := c.httpClient.Do(req)
	if err != nil {
		return nil, nil, transportError(ctx, req, err)
	}
	defer resp.Body.Close()
	limit := int64(maxBody)
	ok := resp.StatusCode >= 200 && resp.StatusCode <= 299
	if !ok {
		limit = 1 << 20
	}
	body, err := readBody(resp, limit)
	if err != nil {
		return resp, nil, transportError(ctx, req, err)
	}
	resp.Body = http.NoBody
	if !ok {
		return resp, nil, newErrorResponse(resp, body)
	}
	if int64(len(body)) > limit {
		return resp, nil, &DecodeError{Method: req.Method, URL: redactURL(req.URL), Err: fmt.Errorf("answer over %d MiB", maxBody>>20)}
	}
	return resp, body, nil
}

// readBody reads up to limit+1 bytes of the body, in one buffer of the announced length
// when there is one (io.ReadAll would grow its buffer from 512 bytes, copying as it goes).
func readBody(resp *http.Response, limit int64) ([]byte, error) {
	var buf bytes.Buffer
	if n := resp.ContentLength; n > 0 && n <= limit {
		buf.Grow(int(n) + bytes.MinRead)
	}
	_, err := buf.ReadFrom(io.LimitReader(resp.Body, limit+1))
	return buf.Bytes(), err
}

// classify tells the breaker what an attempt says about Kajabi's health.
func classify(ctx context.Context, status int, err error) outcome {
	switch {
	case status >= 500:
		return outcomeFailure
	case status != 0:
		return outcomeSuccess // Kajabi answered, if only to refuse
	case err == nil:
		return outcomeSuccess
	case ctx.Err() != nil:
		return outcomeNone // the caller gave up; that says nothing about Kajabi
	}
	var te *TransportError
	if errors.As(err, &te) {
		return outcomeFailure
	}
	return outcomeNone // could not even build the request
}

// sleep waits d or until ctx ends, reporting whether the full wait elapsed.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

package kajabi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// These tests need to see inside the client: how many callers wait on a shared call (so
// they can release the server only once all have joined), and the breaker with a fake clock.

// waiting counts the callers waiting on shared calls.
func (g *flightGroup) waiting() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := 0
	for _, f := range g.m {
		n += len(f.waiters)
	}
	return n
}

// eventually polls cond, failing the test after about five seconds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for range 500 {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("timed out waiting until %s", what)
}

// ctxToken authenticates each call with the token its context carries, standing in for
// a server that calls Kajabi with each user's own credential.
type ctxToken struct{}

type tokenKey struct{}

func (ctxToken) Token(ctx context.Context) (string, error) {
	tok, _ := ctx.Value(tokenKey{}).(string)
	return tok, nil
}

// gatedSites answers GET /v1/sites with one site titled after the bearer token, once
// release is closed.
func gatedSites(t *testing.T, hits *atomic.Int32, release <-chan struct{}) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		w.Header().Set("Content-Type", mediaType)
		fmt.Fprintf(w, `{"data":[{"id":"1","type":"sites","attributes":{"title":%q,"subdomain":"s"}}],"meta":{"total_count":1,"total_pages":1,"current_page":1}}`,
			strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestSingleflightSharesIdenticalGETs(t *testing.T) {
	var hits atomic.Int32
	release := make(chan struct{})
	srv := gatedSites(t, &hits, release)
	c, err := NewClient(WithBaseURL(srv.URL), WithAccessToken("tok"))
	if err != nil {
		t.Fatal(err)
	}
	const n = 20
	sites := make([][]*Site, n)
	resps := make([]*Response, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { sites[i], resps[i], errs[i] = c.Sites.List(context.Background(), nil) })
	}
	eventually(t, "20 callers share one call", func() bool { return c.flights.waiting() == n })
	close(release)
	wg.Wait()

	if got := hits.Load(); got != 1 {
		t.Errorf("server hits: got %d, want 1", got)
	}
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("caller %d: %v", i, errs[i])
		}
		if !reflect.DeepEqual(sites[i], sites[0]) || !reflect.DeepEqual(resps[i].Meta, resps[0].Meta) {
			t.Errorf("caller %d: got %+v, want %+v", i, sites[i], sites[0])
		}
	}
	// Independent: changing one caller's values changes nobody else's.
	sites[0][0].Title = "changed"
	resps[0].Header.Set("X-Changed", "1")
	for i := 1; i < n; i++ {
		if sites[i][0] == sites[0][0] || sites[i][0].Title != "tok" {
			t.Errorf("caller %d shares the site value with caller 0 (title %q)", i, sites[i][0].Title)
		}
		if resps[i].Header.Get("X-Changed") != "" || resps[i].Response == resps[0].Response {
			t.Errorf("caller %d shares the response with caller 0", i)
		}
	}
}

func TestSingleflightNeverMergesCredentials(t *testing.T) {
	var hits atomic.Int32
	release := make(chan struct{})
	srv := gatedSites(t, &hits, release)
	c, err := NewClient(WithBaseURL(srv.URL), WithTokenSource(ctxToken{}))
	if err != nil {
		t.Fatal(err)
	}
	const perToken = 10
	tokens := []string{"alice-token", "bob-token"}
	got := make([]string, 2*perToken)
	var wg sync.WaitGroup
	for i := range got {
		tok := tokens[i%2]
		wg.Go(func() {
			ctx := context.WithValue(context.Background(), tokenKey{}, tok)
			sites, _, err := c.Sites.List(ctx, nil)
			if err != nil {
				t.Error(err)
				return
			}
			got[i] = sites[0].Title
		})
	}
	eventually(t, "all callers wait", func() bool { return c.flights.waiting() == 2*perToken })
	close(release)
	wg.Wait()
	if n := hits.Load(); n != 2 {
		t.Errorf("server hits: got %d, want 2 (one per token)", n)
	}
	for i, title := range got {
		if want := tokens[i%2]; title != want {
			t.Errorf("caller %d: got the answer for %q, want the one for %q", i, title, want)
		}
	}
	if key := flightKey("alice-token", "u"); strings.Contains(key, "alice") {
		t.Errorf("flight key %q shows the token", key)
	}
}

func TestSingleflightCallerLeaving(t *testing.T) {
	var hits atomic.Int32
	release := make(chan struct{})
	srv := gatedSites(t, &hits, release)
	c, err := NewClient(WithBaseURL(srv.URL), WithAccessToken("tok"))
	if err != nil {
		t.Fatal(err)
	}

	// One caller gives up: it gets its own deadline error, the other still gets the answer.
	short, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, _, err := c.Sites.List(context.Background(), nil)
		done <- err
	}()
	eventually(t, "the first caller waits", func() bool { return c.flights.waiting() == 1 })
	_, _, err = c.Sites.List(short, nil)
	var te *TransportError
	if !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &te) || !te.Timeout() {
		t.Errorf("caller that left: got %v, want a timed-out TransportError", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Errorf("caller that stayed: %v", err)
	}
	if n := hits.Load(); n != 1 {
		t.Errorf("server hits: got %d, want 1", n)
	}

	// Every caller gives up: the shared call is cancelled, and the next caller starts afresh.
	hits.Store(0)
	block := make(chan struct{})
	cancelled := make(chan struct{})
	srv2 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		select {
		case <-block:
			io.WriteString(w, `{"data":[]}`)
		case <-r.Context().Done():
			close(cancelled)
		}
	}))
	defer srv2.Close()
	defer close(block)
	c2, _ := NewClient(WithBaseURL(srv2.URL), WithAccessToken("tok"), WithRetry(RetryPolicy{}))
	ctx, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	left := make(chan error, 1)
	go func() {
		_, _, err := c2.Sites.List(ctx, nil)
		left <- err
	}()
	eventually(t, "the request reaches the server", func() bool { return hits.Load() == 1 })
	cancel2()
	if err := <-left; !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
	select {
	case <-cancelled:
	case <-time.After(5 * time.Second):
		t.Fatal("the upstream request was not cancelled when its last caller left")
	}
	if n := c2.flights.waiting(); n != 0 {
		t.Errorf("%d callers still recorded as waiting", n)
	}
}

// TestBreakerStates drives the breaker's state machine call by call. gobreaker reads the
// real clock, so the cool-down is short and waited out; no test here measures time.
func TestBreakerStates(t *testing.T) {
	const cooldown = 50 * time.Millisecond
	newTest := func(window time.Duration) (*breaker, *[]string) {
		var mu sync.Mutex
		var changes []string
		b := newBreaker(BreakerPolicy{MinCalls: 4, FailureRatio: 0.5, Window: window, Cooldown: cooldown},
			func(from, to BreakerState) {
				mu.Lock()
				changes = append(changes, from.String()+">"+to.String())
				mu.Unlock()
			})
		return b, &changes
	}
	call := func(t *testing.T, b *breaker, o outcome) {
		t.Helper()
		done, err := b.allow()
		if err != nil {
			t.Fatalf("allow: %v, want admitted", err)
		}
		done(o)
	}
	refused := func(t *testing.T, b *breaker) *CircuitOpenError {
		t.Helper()
		_, err := b.allow()
		var coe *CircuitOpenError
		if !errors.As(err, &coe) || !errors.Is(err, ErrCircuitOpen) {
			t.Fatalf("allow: got %v, want a CircuitOpenError", err)
		}
		return coe
	}
	state := func(b *breaker) BreakerState { return breakerState(b.cb.State()) }
	open := func(t *testing.T, b *breaker) {
		t.Helper()
		for range 4 {
			call(t, b, outcomeFailure)
		}
		if got := state(b); got != BreakerOpen {
			t.Fatalf("state after 4 of 4 calls failed: got %v, want open", got)
		}
	}
	waitCooldown := func() { time.Sleep(cooldown + 10*time.Millisecond) }

	t.Run("half of MinCalls failing opens, cool-down, one probe, success closes", func(t *testing.T) {
		b, changes := newTest(time.Minute)
		call(t, b, outcomeSuccess)
		call(t, b, outcomeFailure)
		call(t, b, outcomeFailure)
		if got := state(b); got != BreakerClosed {
			t.Fatalf("state after 3 calls, below MinCalls: got %v, want closed", got)
		}
		call(t, b, outcomeSuccess)
		call(t, b, outcomeFailure) // 3 of 5 failed
		if coe := refused(t, b); coe.RetryAfter <= 0 || coe.RetryAfter > cooldown {
			t.Errorf("RetryAfter: got %v, want within (0, %v]", coe.RetryAfter, cooldown)
		}
		waitCooldown()
		probe, err := b.allow()
		if err != nil {
			t.Fatalf("probe refused: %v", err)
		}
		if coe := refused(t, b); coe.RetryAfter != 0 {
			t.Errorf("while probing: RetryAfter %v, want 0", coe.RetryAfter)
		}
		probe(outcomeSuccess)
		call(t, b, outcomeSuccess)
		if got, want := strings.Join(*changes, " "), "closed>open open>half-open half-open>closed"; got != want {
			t.Errorf("changes: got %q, want %q", got, want)
		}
	})
	t.Run("failed probe opens again", func(t *testing.T) {
		b, _ := newTest(time.Minute)
		open(t, b)
		waitCooldown()
		call(t, b, outcomeFailure)
		refused(t, b)
		waitCooldown()
		call(t, b, outcomeSuccess)
		if got := state(b); got != BreakerClosed {
			t.Errorf("state: got %v, want closed", got)
		}
	})
	t.Run("a probe whose caller left lets the next call probe", func(t *testing.T) {
		b, _ := newTest(time.Minute)
		open(t, b)
		waitCooldown()
		call(t, b, outcomeNone)
		call(t, b, outcomeSuccess)
		if got := state(b); got != BreakerClosed {
			t.Errorf("state: got %v, want closed", got)
		}
	})
	t.Run("failures below the ratio keep it closed", func(t *testing.T) {
		b, _ := newTest(time.Minute)
		for range 10 {
			call(t, b, outcomeSuccess)
			call(t, b, outcomeSuccess)
			call(t, b, outcomeFailure)
		}
		if got := state(b); got != BreakerClosed {
			t.Errorf("state after 10 of 30 calls failed: got %v, want closed", got)
		}
	})
	t.Run("calls that say nothing are not counted", func(t *testing.T) {
		b, _ := newTest(time.Minute)
		call(t, b, outcomeFailure)
		call(t, b, outcomeFailure)
		for range 10 {
			call(t, b, outcomeNone)
		}
		if got := state(b); got != BreakerClosed {
			t.Fatalf("state: got %v, want closed", got)
		}
		call(t, b, outcomeFailure)
		call(t, b, outcomeFailure)
		refused(t, b)
	})
	t.Run("failures older than the window fall out of it", func(t *testing.T) {
		const window = 200 * time.Millisecond
		b, _ := newTest(window)
		for range 3 {
			call(t, b, outcomeFailure)
		}
		time.Sleep(window + window/5)
		call(t, b, outcomeFailure)
		if got := state(b); got != BreakerClosed {
			t.Fatalf("state: got %v, want closed: the first 3 failures left the window", got)
		}
	})
	t.Run("late outcomes of an older state are ignored", func(t *testing.T) {
		b, _ := newTest(time.Minute)
		slow, _ := b.allow()
		open(t, b)
		slow(outcomeSuccess) // admitted before the breaker opened
		refused(t, b)
	})
	t.Run("off", func(t *testing.T) {
		b := newBreaker(BreakerPolicy{}, nil)
		for range 100 {
			call(t, b, outcomeFailure)
		}
	})
}

func TestRetryWait(t *testing.T) {
	p := RetryPolicy{MaxAttempts: 10, BaseDelay: 100 * time.Millisecond, MaxDelay: 2 * time.Second}.withDefaults()
	for n, want := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 3: 400 * time.Millisecond, 5: 1600 * time.Millisecond, 6: 2 * time.Second, 60: 2 * time.Second} {
		for range 50 {
			got, ok := p.wait(n, errors.New("x"))
			if !ok || got < want/2 || got > want {
				t.Fatalf("wait after attempt %d: got %v, want within [%v, %v]", n, got, want/2, want)
			}
		}
	}
	busy := &ErrorResponse{StatusCode: 429, RetryAfter: time.Second}
	if got, ok := p.wait(1, busy); !ok || got != time.Second {
		t.Errorf("Retry-After 1s: got %v, %v, want 1s", got, ok)
	}
	busy.RetryAfter = 3 * time.Second
	if _, ok := p.wait(1, busy); ok {
		t.Errorf("Retry-After 3s over MaxDelay 2s: want no retry")
	}
}

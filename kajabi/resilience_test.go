package kajabi_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kajabi-graphql/facade/kajabi"
	"github.com/kajabi-graphql/facade/kajabi/kajabitest"
	"github.com/kajabi-graphql/facade/kajabi/sandbox"
)

// fastRetry retries like the default policy without the waiting.
var fastRetry = kajabi.WithRetry(kajabi.RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 2 * time.Second})

// script is a Kajabi stand-in whose n-th answer (1-based) to GET /v1/sites is
// answer(n, w, r); it counts the calls and notes when each arrived.
type script struct {
	mu       sync.Mutex
	arrivals []time.Time
}

func (s *script) calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.arrivals)
}

func (s *script) gap(i, j int) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.arrivals[j].Sub(s.arrivals[i])
}

func scripted(t *testing.T, answer func(n int, w http.ResponseWriter, r *http.Request), opts ...kajabi.Option) (*kajabi.Client, *script) {
	t.Helper()
	s := &script{}
	client, mux := setup(t, append([]kajabi.Option{kajabi.WithAccessToken("tok")}, opts...)...)
	mux.HandleFunc("GET /v1/sites", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.arrivals = append(s.arrivals, time.Now())
		n := len(s.arrivals)
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/vnd.api+json")
		answer(n, w, r)
	})
	return client, s
}

// statuses answers with the given statuses in turn, repeating the last; 200 is an empty list.
func statuses(codes ...int) func(int, http.ResponseWriter, *http.Request) {
	return func(n int, w http.ResponseWriter, r *http.Request) {
		code := codes[min(n, len(codes))-1]
		if code == http.StatusOK {
			io.WriteString(w, `{"data":[]}`)
			return
		}
		w.WriteHeader(code)
		fmt.Fprintf(w, `{"errors":[{"status":"%d","title":%q,"detail":"attempt %d"}]}`, code, http.StatusText(code), n)
	}
}

func wantStatus(t *testing.T, err error, status int) {
	t.Helper()
	var apiErr *kajabi.ErrorResponse
	switch {
	case status == 0 && err != nil:
		t.Errorf("got %v, want success", err)
	case status != 0 && (!errors.As(err, &apiErr) || apiErr.StatusCode != status):
		t.Errorf("got %v, want a %d ErrorResponse", err, status)
	}
}

func TestRetries(t *testing.T) {
	tests := []struct {
		name         string
		answers      []int
		wantAttempts int
		wantStatus   int // 0: success
	}{
		{"503 then success", []int{503, 200}, 2, 0},
		{"502 then success", []int{502, 200}, 2, 0},
		{"504 then success", []int{504, 200}, 2, 0},
		{"429 then success", []int{429, 200}, 2, 0},
		{"400 is final", []int{400, 200}, 1, 400},
		{"401 with a fixed token is final", []int{401, 200}, 1, 401},
		{"403 is final", []int{403, 200}, 1, 403},
		{"404 is final", []int{404, 200}, 1, 404},
		{"422 is final", []int{422, 200}, 1, 422},
		{"500 is final", []int{500, 200}, 1, 500},
		{"gives up after max attempts", []int{503, 502, 503, 200}, 3, 503},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var retries atomic.Int32
			client, s := scripted(t, statuses(tt.answers...), fastRetry, kajabi.WithObserver(kajabi.Observer{
				OnRetry: func(string, string, int, time.Duration, error) { retries.Add(1) },
			}))
			_, _, err := client.Sites.List(context.Background(), nil)
			wantStatus(t, err, tt.wantStatus)
			if got := s.calls(); got != tt.wantAttempts {
				t.Errorf("attempts: got %d, want %d", got, tt.wantAttempts)
			}
			if got := int(retries.Load()); got != tt.wantAttempts-1 {
				t.Errorf("OnRetry: got %d calls, want %d", got, tt.wantAttempts-1)
			}
			if tt.wantStatus != 0 && tt.wantAttempts > 1 && !strings.Contains(err.Error(), fmt.Sprintf("attempt %d", tt.wantAttempts)) {
				t.Errorf("got %v, want the last attempt's error", err)
			}
		})
	}
}

func TestRetryConnectionError(t *testing.T) {
	client, s := scripted(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 1 { // drop the connection without an answer
			conn, _, err := http.NewResponseController(w).Hijack()
			if err != nil {
				t.Error(err)
				return
			}
			conn.Close()
			return
		}
		io.WriteString(w, `{"data":[]}`)
	}, fastRetry)
	if _, _, err := client.Sites.List(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if got := s.calls(); got != 2 {
		t.Errorf("attempts: got %d, want 2", got)
	}
}

func TestRetryHonoursRetryAfter(t *testing.T) {
	client, s := scripted(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			w.Header().Set("Retry-After", "1")
			statuses(429)(n, w, r)
			return
		}
		io.WriteString(w, `{"data":[]}`)
	})
	if _, _, err := client.Sites.List(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if got := s.calls(); got != 2 {
		t.Fatalf("attempts: got %d, want 2", got)
	}
	if gap := s.gap(0, 1); gap < time.Second {
		t.Errorf("second attempt came %v after the first, want at least the Retry-After of 1s", gap)
	}
}

// TestRetryNeverWaitsPastTheDeadline: a wait that would outlast the caller's deadline is
// not started; the call ends at once with what Kajabi said.
func TestRetryNeverWaitsPastTheDeadline(t *testing.T) {
	patient := kajabi.WithRetry(kajabi.RetryPolicy{MaxAttempts: 3, BaseDelay: 10 * time.Second, MaxDelay: time.Minute})
	tests := []struct {
		name       string
		retryAfter string
		status     int
		opts       []kajabi.Option
		deadline   time.Duration // 0: none
	}{
		{"Retry-After beyond the deadline", "30", 429, []kajabi.Option{patient}, 300 * time.Millisecond},
		{"Retry-After beyond the deadline, no single-flight", "30", 429, []kajabi.Option{patient, kajabi.WithSingleflight(false)}, 300 * time.Millisecond},
		{"backoff beyond the deadline", "", 503, []kajabi.Option{patient}, 300 * time.Millisecond},
		{"backoff beyond the deadline, no single-flight", "", 503, []kajabi.Option{patient, kajabi.WithSingleflight(false)}, 300 * time.Millisecond},
		{"Retry-After beyond MaxDelay, no deadline", "7", 429, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client, s := scripted(t, func(n int, w http.ResponseWriter, r *http.Request) {
				if tt.retryAfter != "" {
					w.Header().Set("Retry-After", tt.retryAfter)
				}
				statuses(tt.status)(n, w, r)
			}, tt.opts...)
			ctx := context.Background()
			if tt.deadline > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.deadline)
				defer cancel()
			}
			start := time.Now()
			_, _, err := client.Sites.List(ctx, nil)
			wantStatus(t, err, tt.status)
			if took := time.Since(start); took > 5*time.Second {
				t.Errorf("took %v, want an answer at once", took)
			}
			if got := s.calls(); got != 1 {
				t.Errorf("attempts: got %d, want 1", got)
			}
		})
	}
}

func TestTokenRequestIsRetried(t *testing.T) {
	var patterns []string
	var mu sync.Mutex
	client, mux := setup(t, kajabi.WithClientCredentials("id", "shh"), fastRetry, kajabi.WithObserver(kajabi.Observer{
		OnRetry: func(method, pattern string, _ int, _ time.Duration, _ error) {
			mu.Lock()
			patterns = append(patterns, method+" "+pattern)
			mu.Unlock()
		},
	}))
	var grants atomic.Int32
	mux.HandleFunc("POST /v1/oauth/token", func(w http.ResponseWriter, r *http.Request) {
		if grants.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, `{"error":"temporarily_unavailable"}`)
			return
		}
		io.WriteString(w, `{"access_token":"a","expires_in":3600}`)
	})
	mux.HandleFunc("GET /v1/sites", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{"data":[]}`) })
	if _, _, err := client.Sites.List(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if got := grants.Load(); got != 2 {
		t.Errorf("token requests: got %d, want 2", got)
	}
	if fmt.Sprint(patterns) != "[POST /v1/oauth/token]" {
		t.Errorf("retries: got %v, want one of POST /v1/oauth/token", patterns)
	}
}

// TestRenewalAfter401IsNotARetry: the renew-once-resend-once path of ClientCredentials is
// reported as requests, not as a retry.
func TestRenewalAfter401IsNotARetry(t *testing.T) {
	var retries atomic.Int32
	var requests []string
	var mu sync.Mutex
	ts := &tokenServer{expiresIn: 3600}
	client, mux := setup(t, kajabi.WithClientCredentials("id", "shh"), kajabi.WithObserver(kajabi.Observer{
		OnRequest: func(method, pattern string, status int, _ time.Duration, _ error) {
			mu.Lock()
			requests = append(requests, fmt.Sprintf("%s %s %d", method, pattern, status))
			mu.Unlock()
		},
		OnRetry: func(string, string, int, time.Duration, error) { retries.Add(1) },
	}))
	ts.handle(t, mux)
	if _, _, err := client.Sites.List(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	ts.mu.Lock()
	ts.validToken = "revoked"
	ts.mu.Unlock()
	if _, _, err := client.Sites.List(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if n := retries.Load(); n != 0 {
		t.Errorf("OnRetry: got %d calls, want 0", n)
	}
	want := "[POST /v1/oauth/token 200 GET /v1/sites 200 GET /v1/sites 401 POST /v1/oauth/token 200 GET /v1/sites 200]"
	if got := fmt.Sprint(requests); got != want {
		t.Errorf("requests:\n got %s\nwant %s", got, want)
	}
}

func TestObserverSeesPathPatterns(t *testing.T) {
	var seen []string
	var mu sync.Mutex
	client, mux := setup(t, kajabi.WithAccessToken("tok"), kajabi.WithObserver(kajabi.Observer{
		OnRequest: func(method, pattern string, status int, dur time.Duration, err error) {
			mu.Lock()
			seen = append(seen, fmt.Sprintf("%s %s %d %v", method, pattern, status, err == nil))
			mu.Unlock()
		},
	}))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/404") {
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"errors":[{"status":"404","title":"Not Found"}]}`)
			return
		}
		io.WriteString(w, `{"data":{"id":"1","type":"x","attributes":{}}}`)
	})
	ctx := context.Background()
	client.Customers.Get(ctx, "42")
	client.Customers.ListOfferIDs(ctx, "42") // answered 200; that it does not decode is no HTTP failure
	client.Offers.Get(ctx, "404")
	want := "[GET /v1/customers/{id} 200 true GET /v1/customers/{id}/relationships/offers 200 true GET /v1/offers/{id} 404 false]"
	if got := fmt.Sprint(seen); got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
}

func TestLimitsConcurrency(t *testing.T) {
	var inFlight, most atomic.Int32
	client, mux := setup(t, kajabi.WithAccessToken("tok"), kajabi.WithLimits(kajabi.Limits{Concurrency: 2}))
	mux.HandleFunc("GET /v1/sites/{id}", func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		time.Sleep(20 * time.Millisecond)
		io.WriteString(w, `{"data":{"id":"1","type":"sites","attributes":{}}}`)
	})
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Go(func() {
			if _, _, err := client.Sites.Get(context.Background(), strconv.Itoa(i)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := most.Load(); got > 2 {
		t.Errorf("at most %d calls in flight at the server, want at most 2", got)
	}
	t.Logf("most in flight: %d", most.Load())
}

func TestLimitsRate(t *testing.T) {
	client, s := scripted(t, statuses(200), kajabi.WithLimits(kajabi.Limits{Rate: 20, Burst: 2}), kajabi.WithSingleflight(false))
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			if _, _, err := client.Sites.List(context.Background(), nil); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	// A burst of 2, then 8 more at 20/s: the last cannot start before 400ms after the first.
	if gap := s.gap(0, 9); gap < 350*time.Millisecond {
		t.Errorf("10 calls spread over %v, want at least 400ms at 20/s with a burst of 2", gap)
	}
}

func TestLimitsWaitHonoursContext(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	client, s := scripted(t, func(n int, w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}, kajabi.WithLimits(kajabi.Limits{Concurrency: 1}), kajabi.WithSingleflight(false))
	go client.Sites.List(context.Background(), nil) // holds the only slot
	for i := 0; s.calls() == 0 && i < 500; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, _, err := client.Sites.List(ctx, nil)
	var te *kajabi.TransportError
	if !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &te) || !te.Timeout() {
		t.Errorf("got %v, want a timed-out TransportError", err)
	}
	if got := s.calls(); got != 1 {
		t.Errorf("server calls: got %d, want 1", got)
	}
}

func TestBreaker(t *testing.T) {
	var down atomic.Bool
	down.Store(true)
	probe := make(chan struct{}) // closed: the server answers the probe
	var probing atomic.Bool
	var changes []string
	var mu sync.Mutex
	client, s := scripted(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			statuses(503)(n, w, r)
			return
		}
		probing.Store(true)
		<-probe
		io.WriteString(w, `{"data":[]}`)
	},
		kajabi.WithRetry(kajabi.RetryPolicy{}),
		kajabi.WithSingleflight(false), // the call made during the probe would join it
		kajabi.WithBreaker(kajabi.BreakerPolicy{MinCalls: 3, Window: time.Minute, Cooldown: 200 * time.Millisecond}),
		kajabi.WithObserver(kajabi.Observer{OnBreakerState: func(from, to kajabi.BreakerState) {
			mu.Lock()
			changes = append(changes, from.String()+">"+to.String())
			mu.Unlock()
		}}))
	ctx := context.Background()
	for range 3 {
		_, _, err := client.Sites.List(ctx, nil)
		wantStatus(t, err, 503)
	}
	if client.BreakerState() != kajabi.BreakerOpen {
		t.Fatalf("state after 3 failures: got %v, want open", client.BreakerState())
	}
	for range 10 {
		_, _, err := client.Sites.List(ctx, nil)
		var te *kajabi.TransportError
		var coe *kajabi.CircuitOpenError
		if !errors.Is(err, kajabi.ErrCircuitOpen) || !errors.As(err, &te) || !errors.As(err, &coe) || coe.RetryAfter <= 0 {
			t.Fatalf("got %v, want a CircuitOpenError in a TransportError", err)
		}
	}
	if got := s.calls(); got != 3 {
		t.Errorf("server calls while open: got %d, want 3", got)
	}

	// Kajabi is back. After the cool-down one probe goes out; others fail fast meanwhile.
	down.Store(false)
	time.Sleep(250 * time.Millisecond)
	probeDone := make(chan error, 1)
	go func() {
		_, _, err := client.Sites.List(ctx, nil)
		probeDone <- err
	}()
	for i := 0; !probing.Load() && i < 500; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if _, _, err := client.Sites.List(ctx, nil); !errors.Is(err, kajabi.ErrCircuitOpen) {
		t.Errorf("during the probe: got %v, want ErrCircuitOpen", err)
	}
	if got := s.calls(); got != 4 {
		t.Errorf("server calls during the probe: got %d, want 4", got)
	}
	close(probe)
	if err := <-probeDone; err != nil {
		t.Fatalf("probe: %v", err)
	}
	for range 3 {
		if _, _, err := client.Sites.List(ctx, nil); err != nil {
			t.Errorf("after the probe: %v", err)
		}
	}
	if got := s.calls(); got != 7 {
		t.Errorf("server calls: got %d, want 7", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if got, want := strings.Join(changes, " "), "closed>open open>half-open half-open>closed"; got != want {
		t.Errorf("breaker changes: got %q, want %q", got, want)
	}
}

func TestBreakerIgnores429And4xx(t *testing.T) {
	for _, status := range []int{429, 404} {
		client, s := scripted(t, statuses(status), kajabi.WithRetry(kajabi.RetryPolicy{}),
			kajabi.WithBreaker(kajabi.BreakerPolicy{MinCalls: 2, Cooldown: time.Minute}))
		for range 10 {
			_, _, err := client.Sites.List(context.Background(), nil)
			wantStatus(t, err, status)
		}
		if got := s.calls(); got != 10 {
			t.Errorf("%d: server calls got %d, want 10", status, got)
		}
	}
}

// TestBreakerOpeningMidRetryKeepsKajabisAnswer: the breaker opens, on other calls'
// failures, while a call waits to retry; the call ends with Kajabi's last answer instead
// of retrying, and the next one fails fast.
func TestBreakerOpeningMidRetryKeepsKajabisAnswer(t *testing.T) {
	client, s := scripted(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			w.Header().Set("Retry-After", "2") // the first call waits while the others fail
		}
		statuses(503)(n, w, r)
	}, fastRetry, kajabi.WithSingleflight(false),
		kajabi.WithBreaker(kajabi.BreakerPolicy{MinCalls: 2, Cooldown: time.Minute}))
	first := make(chan error, 1)
	go func() {
		_, _, err := client.Sites.List(context.Background(), nil)
		first <- err
	}()
	for i := 0; s.calls() == 0 && i < 500; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	for range 2 { // two calls, each failing all 3 attempts: 2 of 2 calls failed
		_, _, err := client.Sites.List(context.Background(), nil)
		wantStatus(t, err, 503)
	}
	if got := client.BreakerState(); got != kajabi.BreakerOpen {
		t.Fatalf("breaker: got %v, want open", got)
	}
	err := <-first
	wantStatus(t, err, 503)
	if err != nil && !strings.Contains(err.Error(), "attempt 1") {
		t.Errorf("got %v, want the first call's own (first) answer", err)
	}
	if got := s.calls(); got != 7 {
		t.Errorf("server calls: got %d, want 7 (1 + 3 + 3: no retry once open)", got)
	}
	if _, _, err := client.Sites.List(context.Background(), nil); !errors.Is(err, kajabi.ErrCircuitOpen) {
		t.Errorf("next call: got %v, want ErrCircuitOpen", err)
	}
}

// TestBreakerCountsCallsNotAttempts: a burst of calls whose first attempts all fail and
// whose retries all succeed is ten successes to the breaker, however low its MinCalls.
func TestBreakerCountsCallsNotAttempts(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{}
	client, mux := setup(t, kajabi.WithAccessToken("tok"), fastRetry,
		kajabi.WithBreaker(kajabi.BreakerPolicy{MinCalls: 2, Cooldown: time.Minute}))
	mux.HandleFunc("GET /v1/sites/{id}", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.PathValue("id")]++
		n := seen[r.PathValue("id")]
		mu.Unlock()
		w.Header().Set("Content-Type", "application/vnd.api+json")
		if n == 1 {
			w.Header().Set("Retry-After", "0")
			statuses(503)(n, w, r)
			return
		}
		fmt.Fprintf(w, `{"data":{"id":%q,"type":"sites","attributes":{}}}`, r.PathValue("id"))
	})
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Go(func() {
			if _, _, err := client.Sites.Get(context.Background(), strconv.Itoa(i)); err != nil {
				t.Errorf("site %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	for id, n := range seen {
		if n != 2 {
			t.Errorf("site %s: got %d GETs, want 2", id, n)
		}
	}
	if got := client.BreakerState(); got != kajabi.BreakerClosed {
		t.Errorf("breaker: got %v, want closed", got)
	}
}

// TestPauseIsPerAccount: Kajabi's 429 with Retry-After pauses the calls made with that
// credential, in every caller of the client; another credential's calls go on.
func TestPauseIsPerAccount(t *testing.T) {
	var mu sync.Mutex
	var log []string
	client, mux := setup(t, kajabi.WithAccessToken("alice"), kajabi.WithSingleflight(false))
	mux.HandleFunc("GET /v1/sites", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		log = append(log, r.Header.Get("Authorization"))
		first := len(log) == 1
		mu.Unlock()
		w.Header().Set("Content-Type", "application/vnd.api+json")
		if first {
			w.Header().Set("Retry-After", "1")
			statuses(429)(1, w, r)
			return
		}
		io.WriteString(w, `{"data":[]}`)
	})
	calls := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(log)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		if _, _, err := client.Sites.List(context.Background(), nil); err != nil {
			t.Errorf("the call answered 429: %v", err)
		}
	})
	for i := 0; client.Health().PausedUntil.IsZero() && i < 500; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if until := client.Health().PausedUntil; until.IsZero() {
		t.Fatalf("Health().PausedUntil: got zero, want the pause")
	}
	for range 3 {
		wg.Go(func() {
			if _, _, err := client.Sites.List(context.Background(), nil); err != nil {
				t.Errorf("a paused call: %v", err)
			}
		})
	}
	if _, _, err := client.ForToken("bob").Sites.List(context.Background(), nil); err != nil {
		t.Fatalf("another account: %v", err)
	}
	if got, want := fmt.Sprint(calls()), "[Bearer alice Bearer bob]"; got != want {
		t.Errorf("calls while alice is paused: got %s, want %s", got, want)
	}
	wg.Wait()
	if got := len(calls()); got != 6 {
		t.Errorf("calls: got %d, want 6 (alice's 429, bob, then alice's 4 after the pause)", got)
	}
}

// TestPauseLongerThanMaxDelayFailsAtOnce: while a pause Kajabi asked for outlasts what a
// call may wait, the call ends at once as rate limited, without reaching Kajabi.
func TestPauseLongerThanMaxDelayFailsAtOnce(t *testing.T) {
	client, s := scripted(t, func(n int, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "30")
		statuses(429)(n, w, r)
	}, kajabi.WithSingleflight(false))
	for range 3 {
		_, _, err := client.Sites.List(context.Background(), nil)
		var apiErr *kajabi.ErrorResponse
		if !errors.As(err, &apiErr) || apiErr.StatusCode != 429 || apiErr.RetryAfter <= 0 {
			t.Errorf("got %v, want a 429 with its RetryAfter", err)
		}
	}
	if got := s.calls(); got != 1 {
		t.Errorf("server calls: got %d, want 1", got)
	}
}

func TestSingleflightOff(t *testing.T) {
	const n = 5
	all := make(chan struct{})
	var once sync.Once
	var hits atomic.Int32
	client, mux := setup(t, kajabi.WithAccessToken("tok"), kajabi.WithSingleflight(false))
	mux.HandleFunc("GET /v1/sites", func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == n {
			once.Do(func() { close(all) })
		}
		select { // hold every call until all have arrived: they were concurrent
		case <-all:
		case <-time.After(5 * time.Second):
		}
		io.WriteString(w, `{"data":[]}`)
	})
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() { client.Sites.List(context.Background(), nil) })
	}
	wg.Wait()
	if got := hits.Load(); got != n {
		t.Errorf("server hits: got %d, want %d", got, n)
	}
}

func TestOptionsRefuseNegatives(t *testing.T) {
	for _, opt := range []kajabi.Option{
		kajabi.WithRetry(kajabi.RetryPolicy{MaxAttempts: -1}),
		kajabi.WithRetry(kajabi.RetryPolicy{BaseDelay: -time.Second}),
		kajabi.WithLimits(kajabi.Limits{Concurrency: -1}),
		kajabi.WithLimits(kajabi.Limits{Rate: -1}),
		kajabi.WithBreaker(kajabi.BreakerPolicy{MinCalls: -1}),
		kajabi.WithBreaker(kajabi.BreakerPolicy{MinCalls: 1, FailureRatio: 1.5}),
	} {
		if _, err := kajabi.NewClient(opt); err == nil {
			t.Errorf("NewClient accepted a negative setting")
		}
	}
}

// TestFaultRunAgainstSandbox measures what retries buy against a sandbox that answers
// 30% of calls with 429 (Retry-After: 1) or 503.
func TestFaultRunAgainstSandbox(t *testing.T) {
	if testing.Short() {
		t.Skip("waits out Retry-After")
	}
	const faultRate, calls = 0.3, 200
	up := kajabitest.NewSandbox(t, sandbox.Options{Customers: calls, FaultRate: faultRate})
	customers := up.Sandbox.Store().Customers
	// The rate limit is lifted to keep the test short; it changes when calls start, not
	// whether the sandbox fails them. Retries and the breaker are as NewClient sets them.
	noRate := kajabi.WithLimits(kajabi.Limits{Concurrency: 20})
	run := func(opts ...kajabi.Option) float64 {
		client := up.Client(t, append([]kajabi.Option{noRate}, opts...)...)
		ids := make(chan string)
		var ok atomic.Int32
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() {
				for id := range ids {
					c, _, err := client.Customers.Get(context.Background(), id)
					var apiErr *kajabi.ErrorResponse
					switch {
					case err == nil && c.ID == id:
						ok.Add(1)
					case errors.As(err, &apiErr) && (apiErr.StatusCode == 429 || apiErr.StatusCode == 503):
					case errors.Is(err, kajabi.ErrCircuitOpen):
					default:
						t.Errorf("customer %s: got %v, %v; want the customer or a fault", id, c, err)
					}
				}
			})
		}
		for _, c := range customers {
			ids <- c.ID
		}
		close(ids)
		wg.Wait()
		return float64(ok.Load()) / float64(len(customers))
	}
	start := time.Now()
	without := run(kajabi.WithRetry(kajabi.RetryPolicy{}))
	tookWithout, start := time.Since(start), time.Now()
	with := run()
	t.Logf("fault rate %.0f%%, %d calls: %.1f%% succeeded without retries (in %v), %.1f%% with the default retries (in %v)",
		faultRate*100, len(customers), without*100, tookWithout.Round(time.Millisecond), with*100, time.Since(start).Round(time.Millisecond))
	if with <= without {
		t.Errorf("success with retries %.3f, want more than without, %.3f", with, without)
	}
}

// TestNoGoroutineLeaks drives every path that waits (shared calls left by their callers,
// limiter queues, retry backoffs, open breaker, timeouts) and checks that the goroutine
// count comes back down.
func TestNoGoroutineLeaks(t *testing.T) {
	before := runtime.NumGoroutine()
	func() {
		var mu sync.Mutex
		mode := "hang"
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			m := mode
			mu.Unlock()
			switch m {
			case "hang":
				<-r.Context().Done()
			case "503":
				w.WriteHeader(http.StatusServiceUnavailable)
			default:
				io.WriteString(w, `{"data":[]}`)
			}
		}))
		defer srv.Close()
		hc := kajabi.NewHTTPClient(2 * time.Second)
		defer hc.CloseIdleConnections()
		client, err := kajabi.NewClient(kajabi.WithBaseURL(srv.URL), kajabi.WithAccessToken("tok"), kajabi.WithHTTPClient(hc),
			kajabi.WithLimits(kajabi.Limits{Concurrency: 3, Rate: 100}),
			kajabi.WithRetry(kajabi.RetryPolicy{MaxAttempts: 3, BaseDelay: 50 * time.Millisecond}),
			kajabi.WithBreaker(kajabi.BreakerPolicy{MinCalls: 5, Cooldown: time.Minute}))
		if err != nil {
			t.Fatal(err)
		}
		burst := func(timeout time.Duration, paths int) {
			var wg sync.WaitGroup
			for i := range 30 {
				wg.Go(func() {
					ctx, cancel := context.WithTimeout(context.Background(), timeout)
					defer cancel()
					client.Sites.Get(ctx, strconv.Itoa(i%paths))
				})
			}
			wg.Wait()
		}
		burst(100*time.Millisecond, 5) // shared calls abandoned, limiter queues cancelled
		mu.Lock()
		mode = "503"
		mu.Unlock()
		burst(120*time.Millisecond, 30) // retries cut short, then the breaker opens
		if client.BreakerState() != kajabi.BreakerOpen {
			t.Errorf("breaker: got %v, want open", client.BreakerState())
		}
		burst(time.Second, 30) // fail fast
	}()
	var after int
	for range 300 {
		if after = runtime.NumGoroutine(); after <= before {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	buf := make([]byte, 1<<20)
	t.Errorf("goroutines: %d before, %d after\n%s", before, after, buf[:runtime.Stack(buf, true)])
}

// wrapped is a RoundTripper net/http does not know, as the telemetry wrapper is.
type wrapped struct{ base http.RoundTripper }

func (w wrapped) RoundTrip(r *http.Request) (*http.Response, error) { return w.base.RoundTrip(r) }

// TestCallTimeoutCoversTheWholeCall: the http.Client's Timeout bounds one call, body
// included, through a transport net/http does not know (the client applies it as a
// context deadline, so net/http starts no goroutine and timer of its own per call).
func TestCallTimeoutCoversTheWholeCall(t *testing.T) {
	for _, stall := range []string{"headers", "body"} {
		t.Run(stall, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if stall == "body" {
					w.Header().Set("Content-Type", "application/vnd.api+json")
					io.WriteString(w, `{"data":[`)
					w.(http.Flusher).Flush()
				}
				<-r.Context().Done()
			}))
			defer srv.Close()
			hc := kajabi.NewHTTPClient(200 * time.Millisecond)
			hc.Transport = wrapped{hc.Transport}
			client, err := kajabi.NewClient(kajabi.WithBaseURL(srv.URL), kajabi.WithAccessToken("tok"), kajabi.WithHTTPClient(hc),
				kajabi.WithRetry(kajabi.RetryPolicy{MaxAttempts: 1}), kajabi.WithLimits(kajabi.Limits{}))
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			_, _, err = client.Sites.List(context.Background(), nil)
			var te *kajabi.TransportError
			if !errors.As(err, &te) || !te.Timeout() {
				t.Fatalf("got %v, want a TransportError that timed out", err)
			}
			if d := time.Since(start); d < 200*time.Millisecond || d > 3*time.Second {
				t.Errorf("the call ended after %s, want about 200ms", d)
			}
			if hc.Timeout != 200*time.Millisecond {
				t.Errorf("the caller's http.Client was changed: Timeout %s", hc.Timeout)
			}
		})
	}
}

package graph_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kajabi-graphql/facade/graph"
	"github.com/kajabi-graphql/facade/kajabi"
	"github.com/kajabi-graphql/facade/kajabi/kajabitest"
	"github.com/kajabi-graphql/facade/kajabi/sandbox"
)

// These tests are issue 12's fault matrix for one process, through the real handler
// against the sandbox, with the client's protections as NewClient sets them unless a
// test says otherwise.

// unavailable answers like Kajabi does when it is briefly down.
func unavailable(w http.ResponseWriter, retryAfter string) {
	w.Header().Set("Content-Type", "application/vnd.api+json")
	w.Header().Set("Retry-After", retryAfter)
	w.WriteHeader(http.StatusServiceUnavailable)
	io.WriteString(w, `{"errors":[{"status":"503","title":"Service Unavailable","detail":"try again"}]}`)
}

// TestBurstOfTransientFaultsIsRetriedThrough: every contact's first GET answers 503 with
// Retry-After: 0 and the second succeeds. The page's ten concurrent failures are each
// retried through, the breaker counting ten calls that succeeded, not ten failures.
func TestBurstOfTransientFaultsIsRetriedThrough(t *testing.T) {
	up := kajabitest.NewSandbox(t, sandbox.Options{Customers: 10})
	var mu sync.Mutex
	seen := map[string]int{}
	up.Handle(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasPrefix(r.URL.Path, "/v1/contacts/") {
				mu.Lock()
				seen[r.URL.Path]++
				first := seen[r.URL.Path] == 1
				mu.Unlock()
				if first {
					unavailable(w, "0")
					return
				}
			}
			next.ServeHTTP(w, r)
		})
	})
	client := up.Client(t)
	srv := newTestServer(t, up, &graph.Resolver{Client: client})
	var out struct {
		Customers struct {
			Nodes []struct {
				ID      string
				Contact *struct{ Name string }
			}
		}
	}
	srv.mustQuery(t, `{ customers(first: 10) { nodes { id contact { name } } } }`, nil, &out)
	contacts := 0
	for _, n := range out.Customers.Nodes {
		if n.Contact != nil && n.Contact.Name != "" {
			contacts++
		}
	}
	if contacts != 10 {
		t.Errorf("contacts: got %d of %d, want 10", contacts, len(out.Customers.Nodes))
	}
	gets := 0
	for path, n := range seen {
		gets += n
		if n != 2 {
			t.Errorf("%s: got %d GETs, want 2 (the 503, then the retry)", path, n)
		}
	}
	if len(seen) != 10 {
		t.Errorf("contacts fetched: got %d, want 10", len(seen))
	}
	if got := client.BreakerState(); got != kajabi.BreakerClosed {
		t.Errorf("breaker: got %v, want closed", got)
	}
	t.Logf("10 contacts, first GET of each 503: %d/10 contacts, %d contact GETs, breaker %v", contacts, gets, client.BreakerState())
}

// TestRateLimitPausesTheAccount: Kajabi answers one call 429 with Retry-After: 2. Every
// call with that credential in the process waits out the pause (none reaches Kajabi
// meanwhile), then all of them succeed.
func TestRateLimitPausesTheAccount(t *testing.T) {
	if testing.Short() {
		t.Skip("waits out a 2 s pause")
	}
	up := kajabitest.NewSandbox(t, sandbox.Options{Customers: 20})
	var mu sync.Mutex
	limited := false
	up.Handle(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			first := !limited && r.URL.Path == "/v1/customers"
			limited = limited || first
			mu.Unlock()
			if first {
				w.Header().Set("Content-Type", "application/vnd.api+json")
				w.Header().Set("Retry-After", "2")
				w.WriteHeader(http.StatusTooManyRequests)
				io.WriteString(w, `{"errors":[{"status":"429","title":"Too Many Requests","detail":"rate limit exceeded"}]}`)
				return
			}
			next.ServeHTTP(w, r)
		})
	})
	client := up.Client(t)
	srv := newTestServer(t, up, &graph.Resolver{Client: client, DefaultSiteID: "101"})

	const queries = 5
	answers := make([]gqlResponse, queries)
	var wg sync.WaitGroup
	wg.Go(func() { answers[0] = srv.do(t, `{ customers(first: 5) { nodes { id } } }`, nil) })
	for i := 0; client.Health().PausedUntil.IsZero() && i < 500; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if client.Health().PausedUntil.IsZero() {
		t.Fatal("no pause after Kajabi's 429")
	}
	for i := 1; i < queries; i++ { // distinct pages: no two share one upstream call
		wg.Go(func() { answers[i] = srv.do(t, fmt.Sprintf(`{ customers(first: %d) { nodes { id } } }`, i), nil) })
	}
	time.Sleep(500 * time.Millisecond) // well inside the 2 s pause
	during := up.Calls()
	wg.Wait()
	if during != 1 {
		t.Errorf("Kajabi calls during the pause: got %d, want 1 (the 429)", during)
	}
	ok := 0
	for i, a := range answers {
		if len(a.Errors) == 0 {
			ok++
		} else {
			t.Errorf("query %d: %+v", i, a.Errors)
		}
	}
	if got := up.Calls(); got != queries+1 {
		t.Errorf("Kajabi calls: got %d, want %d (the 429, its retry, and one a query)", got, queries+1)
	}
	t.Logf("429 with Retry-After: 2: %d Kajabi call(s) during the pause, %d in all, %d/%d queries answered", during, up.Calls(), ok, queries)
}

// TestFullOutageOpensTheBreakerAndRecovers: every call answers 503. Once enough calls
// have failed the breaker opens, calls stop reaching Kajabi, and queries fail at once with
// UPSTREAM_UNAVAILABLE; when Kajabi is back, one cool-down later queries succeed again.
func TestFullOutageOpensTheBreakerAndRecovers(t *testing.T) {
	const cooldown = 500 * time.Millisecond
	up := kajabitest.NewSandbox(t, sandbox.Options{Customers: 20})
	policy := kajabi.DefaultBreakerPolicy
	policy.Cooldown = cooldown // the default's 5 s, shortened to keep the test short
	client := up.Client(t, kajabi.WithBreaker(policy),
		kajabi.WithRetry(kajabi.RetryPolicy{MaxAttempts: 3, BaseDelay: 5 * time.Millisecond}))
	srv := newTestServer(t, up, &graph.Resolver{Client: client})
	const query = `{ customers(first: 5) { nodes { id } } }`
	srv.mustQuery(t, query, nil, &struct{}{}) // token and connections warm
	up.Reset()

	up.Sandbox.SetFaults(1, http.StatusServiceUnavailable)
	codes := map[string]int{}
	opened := 0
	for i := range 100 {
		r := srv.do(t, query, nil)
		codes[r.code()]++
		if client.BreakerState() == kajabi.BreakerOpen {
			opened = i + 1
			break
		}
	}
	if opened == 0 {
		t.Fatalf("the breaker did not open in 100 queries against a full outage (codes %v)", codes)
	}
	callsToOpen := up.Calls()
	up.Reset()
	for range 20 {
		r := srv.do(t, query, nil)
		codes[r.code()]++
	}
	refusedCalls := up.Calls()
	if refusedCalls > 1 { // at most the one probe of a cool-down that ended meanwhile
		t.Errorf("Kajabi calls for 20 queries with the breaker open: got %d, want none", refusedCalls)
	}
	if len(codes) != 1 || codes[graph.CodeUpstreamUnavailable] == 0 {
		t.Errorf("codes during the outage: got %v, want only %s", codes, graph.CodeUpstreamUnavailable)
	}

	up.Sandbox.SetFaults(0)
	time.Sleep(cooldown + 100*time.Millisecond)
	ok := 0
	for range 10 {
		if r := srv.do(t, query, nil); len(r.Errors) == 0 {
			ok++
		} else {
			t.Errorf("after one cool-down: %+v", r.Errors)
		}
	}
	if got := client.BreakerState(); got != kajabi.BreakerClosed {
		t.Errorf("breaker after recovery: got %v, want closed", got)
	}
	t.Logf("full outage: breaker open after %d queries (%d Kajabi calls, 3 attempts each); 20 queries while open made %d calls; codes %v; after one cool-down %d/10 queries answered",
		opened, callsToOpen, refusedCalls, codes, ok)
}

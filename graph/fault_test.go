package graph_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/kajabi-graphql/facade/graph"
	"github.com/kajabi-graphql/facade/graph/edge"
	"github.com/kajabi-graphql/facade/kajabi"
	"github.com/kajabi-graphql/facade/kajabi/kajabitest"
	"github.com/kajabi-graphql/facade/kajabi/sandbox"
)

const faultQuery = `{ customers(first: 5) { nodes { id contact { id } site { id } } } }`

// faultRun fires n queries, conc at a time, and sorts the answers: whole successes, and
// the error codes of the rest.
type faultRun struct {
	ok    int
	codes map[string]int
}

func runQueries(t *testing.T, hc *http.Client, url string, n, conc int) faultRun {
	t.Helper()
	var mu sync.Mutex
	run := faultRun{codes: map[string]int{}}
	work := make(chan struct{}, n)
	for range n {
		work <- struct{}{}
	}
	close(work)
	var wg sync.WaitGroup
	for range conc {
		wg.Go(func() {
			for range work {
				body, _ := json.Marshal(map[string]string{"query": faultQuery})
				resp, err := hc.Post(url, "application/json", bytes.NewReader(body))
				if err != nil {
					t.Errorf("the server stopped answering: %v", err)
					return
				}
				var out gqlResponse
				err = json.NewDecoder(resp.Body).Decode(&out)
				resp.Body.Close()
				mu.Lock()
				switch {
				case err != nil:
					run.codes["undecodable"]++
				case len(out.Errors) == 0:
					run.ok++
				default:
					for _, e := range out.Errors {
						code, _ := e.Extensions["code"].(string)
						run.codes[code]++
					}
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return run
}

// TestFaultsOutageAndRecovery drives the sandbox at a 50% 429/503 rate, then through a full
// outage and back, through the real handler: no crash, only clean upstream error codes,
// retries lift the success rate, the breaker fails fast during the outage, success returns
// with Kajabi, and no goroutine is left behind.
func TestFaultsOutageAndRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("fault run takes a few seconds")
	}
	up := kajabitest.NewSandbox(t, sandbox.Options{Customers: 200})
	// Up to 4 attempts, waiting as long as the sandbox's Retry-After (1s) asks.
	retry := kajabi.RetryPolicy{MaxAttempts: 4, BaseDelay: 10 * time.Millisecond, MaxDelay: 1200 * time.Millisecond}
	breaker := kajabi.BreakerPolicy{MinCalls: 10, Window: 5 * time.Second, Cooldown: 300 * time.Millisecond}
	hc := kajabi.NewHTTPClient(5 * time.Second)
	newServer := func(retry kajabi.RetryPolicy) string {
		client := up.Client(t, kajabi.WithHTTPClient(hc), kajabi.WithRetry(retry), kajabi.WithBreaker(breaker),
			kajabi.WithLimits(kajabi.Limits{}))
		srv := httptest.NewServer(edge.NewHandler(&graph.Resolver{Client: client}, edge.HandlerOptions{}))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	withRetries, withoutRetries := newServer(retry), newServer(kajabi.RetryPolicy{})
	caller := &http.Client{Timeout: 30 * time.Second}

	// Warm up (token, connections), then count goroutines.
	runQueries(t, caller, withRetries, 2, 1)
	settle()
	before := runtime.NumGoroutine()

	clean := func(name string, r faultRun) {
		t.Helper()
		for code := range r.codes {
			if code != graph.CodeRateLimited && code != graph.CodeUpstreamUnavailable {
				t.Errorf("%s: error code %q; want only RATE_LIMITED or UPSTREAM_UNAVAILABLE (%v)", name, code, r.codes)
			}
		}
	}

	up.Sandbox.SetFaults(0.5, 503, 429)
	const n = 60
	retried := runQueries(t, caller, withRetries, n, 12)
	single := runQueries(t, caller, withoutRetries, n, 12)
	clean("with retries", retried)
	clean("without retries", single)
	t.Logf("at a 50%% 429/503 fault rate, %d queries each (7 Kajabi calls a query): %.0f%% whole with retries, %.0f%% without; errors %v / %v",
		n, 100*float64(retried.ok)/n, 100*float64(single.ok)/n, retried.codes, single.codes)
	if retried.ok <= single.ok {
		t.Errorf("retries did not help: %d whole answers with, %d without", retried.ok, single.ok)
	}

	// Full outage: every call fails; the breaker opens and later queries fail fast.
	up.Sandbox.SetFaults(1, 503)
	outage := runQueries(t, caller, withRetries, 40, 4)
	clean("outage", outage)
	if outage.ok != 0 {
		t.Errorf("%d queries succeeded during a full outage", outage.ok)
	}
	up.Reset()
	runQueries(t, caller, withRetries, 20, 4)
	if calls := up.Calls(); calls > 10 {
		t.Errorf("open breaker still let %d calls through for 20 queries", calls)
	}

	// Kajabi comes back: within a bounded number of tries, queries succeed again.
	up.Sandbox.SetFaults(0)
	deadline := time.Now().Add(10 * time.Second)
	recovered := false
	for i := 0; i < 100 && time.Now().Before(deadline); i++ {
		if runQueries(t, caller, withRetries, 1, 1).ok == 1 {
			recovered = true
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !recovered {
		t.Fatal("queries did not succeed again after Kajabi recovered")
	}
	if r := runQueries(t, caller, withRetries, 20, 4); r.ok != 20 {
		t.Errorf("after recovery %d of 20 whole answers (%v)", r.ok, r.codes)
	}

	caller.CloseIdleConnections()
	hc.CloseIdleConnections()
	after := settleAt(before)
	if after > before+2 {
		t.Errorf("goroutines: %d before, %d after the fault run", before, after)
	}
}

// settle waits for goroutines that are winding down.
func settle() { settleAt(0) }

// settleAt waits up to 3s for the goroutine count to fall to target, returning the count.
func settleAt(target int) int {
	n := runtime.NumGoroutine()
	for i := 0; i < 60 && n > target; i++ {
		time.Sleep(50 * time.Millisecond)
		n = runtime.NumGoroutine()
	}
	return n
}

package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kajabi-graphql/facade/graph/fleet/fleettest"
	"github.com/kajabi-graphql/facade/kajabi/sandbox"
)

// kajabiUpstream is the sandbox as a fleet of replicas meets Kajabi: one account, reached
// over loopback HTTP, counting every call and every 429 it answers, and able to fail on
// command: down (every call 503) or the next call answered 429 with Retry-After.
type kajabiUpstream struct {
	sb       *sandbox.Sandbox
	url      string
	siteID   string
	calls    atomic.Int64 // API calls, token requests left out
	limited  atomic.Int64 // of which answered 429
	down     atomic.Bool
	throttle atomic.Int32 // answer this many more calls 429 + Retry-After: 2

	mu      sync.Mutex
	callsAt []time.Time
}

// callsBetween counts the API calls that arrived in [from, to).
func (u *kajabiUpstream) callsBetween(from, to time.Time) int {
	u.mu.Lock()
	defer u.mu.Unlock()
	n := 0
	for _, at := range u.callsAt {
		if !at.Before(from) && at.Before(to) {
			n++
		}
	}
	return n
}

func newKajabiUpstream(t testing.TB, opts sandbox.Options) *kajabiUpstream {
	t.Helper()
	u := &kajabiUpstream{sb: sandbox.New(opts)}
	u.siteID = u.sb.Store().Sites[0].ID
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/oauth/token") {
			u.sb.ServeHTTP(w, r)
			return
		}
		u.calls.Add(1)
		u.mu.Lock()
		u.callsAt = append(u.callsAt, time.Now())
		u.mu.Unlock()
		switch {
		case u.down.Load():
			w.Header().Set("Content-Type", "application/vnd.api+json")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, `{"errors":[{"status":"503","title":"Service Unavailable"}]}`)
			return
		case u.throttle.Add(-1) >= 0:
			u.limited.Add(1)
			w.Header().Set("Content-Type", "application/vnd.api+json")
			w.Header().Set("Retry-After", "2")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = io.WriteString(w, `{"errors":[{"status":"429","title":"Too Many Requests"}]}`)
			return
		}
		rec := &statusCapture{ResponseWriter: w, status: http.StatusOK}
		u.sb.ServeHTTP(rec, r)
		if rec.status == http.StatusTooManyRequests {
			u.limited.Add(1)
		}
	}))
	t.Cleanup(srv.Close)
	u.url = srv.URL
	return u
}

type statusCapture struct {
	http.ResponseWriter
	status int
}

func (s *statusCapture) WriteHeader(code int) { s.status = code; s.ResponseWriter.WriteHeader(code) }

// replica starts one instance of the service against up, sharing redisURL.
func replica(t testing.TB, up *kajabiUpstream, redisURL string, extra map[string]string) string {
	t.Helper()
	env := map[string]string{
		"KAJABI_BASE_URL":      up.url,
		"KAJABI_CLIENT_ID":     sandbox.ClientID,
		"KAJABI_CLIENT_SECRET": sandbox.ClientSecret,
		"KAJABI_SITE_ID":       up.siteID,
		"REDIS_URL":            redisURL,
	}
	for k, v := range extra {
		env[k] = v
	}
	base, _ := startServer(t, env)
	return base
}

// gql posts a query and returns the decoded answer; transport failures are errors.
func gql(base string, body map[string]any) (map[string]any, error) {
	b, _ := json.Marshal(body)
	resp, err := http.Post(base+"/graphql", "application/json", bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, fmt.Errorf("status %d: %w", resp.StatusCode, err)
	}
	return out, nil
}

func errorsOf(out map[string]any) []any {
	errs, _ := out["errors"].([]any)
	return errs
}

const fleetRelationsQuery = `query Fleet($n: Int) { customers(first: $n) { nodes { id contact { name } site { title } } } }`

// Three replicas, one account the sandbox limits to 40 calls a second, the fleet's
// KAJABI_MAX_RPS=30 (burst 5): 15 s of relation queries spread over the replicas meet not
// one 429, stay within the budget, and every answer is whole.
func TestFleetSharesOneKajabiBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("15 s of load")
	}
	t.Parallel()
	redis := fleettest.Start(t)
	// Kajabi's window (40/s over the paced 30/s + 5) and 2% on the paced total leave room
	// for the time between a turn taken and its call arriving, which stretches on a loaded
	// machine; three replicas each pacing 30/s on their own would send 90/s and fail both
	// checks by far.
	up := newKajabiUpstream(t, sandbox.Options{Customers: 300, RateLimit: 40})
	var bases []string
	for range 3 {
		bases = append(bases, replica(t, up, redis.URL, map[string]string{"KAJABI_MAX_RPS": "30", "KAJABI_BURST": "5", "CACHE_TTL": "0"}))
	}
	const run = 15 * time.Second
	start := time.Now()
	var queries, failed atomic.Int64
	var firstErr sync.Once
	var wg sync.WaitGroup
	for w := range 6 {
		wg.Go(func() {
			base := bases[w%3]
			for i := 0; time.Since(start) < run && i < 10_000; i++ {
				out, err := gql(base, map[string]any{"query": fleetRelationsQuery, "variables": map[string]any{"n": 2 + (w+i)%4}})
				queries.Add(1)
				if err != nil || len(errorsOf(out)) > 0 {
					failed.Add(1)
					firstErr.Do(func() { t.Logf("first failure: %v %v", err, errorsOf(out)) })
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start).Seconds()
	calls, limited := up.calls.Load(), up.limited.Load()
	budget := int64(30*elapsed*1.02) + 5 + 1
	t.Logf("%d queries in %.1f s over 3 replicas: %d Kajabi calls (%.1f/s; budget %d), %d answered 429, %d failed",
		queries.Load(), elapsed, calls, float64(calls)/elapsed, budget, limited, failed.Load())
	if limited != 0 {
		t.Errorf("the sandbox answered 429 %d times, want 0", limited)
	}
	if calls > budget {
		t.Errorf("Kajabi calls: got %d, want at most %d (30/s × %.1f s + 2%% + one burst)", calls, budget, elapsed)
	}
	if failed.Load() != 0 {
		t.Errorf("%d of %d GraphQL requests failed, want 0", failed.Load(), queries.Load())
	}
	if queries.Load() < 20 {
		t.Errorf("only %d queries ran", queries.Load())
	}
}

// What replica A cached, replica B serves without calling Kajabi; a query persisted on A
// runs by hash on B; and two credentials never share an entry.
func TestFleetSharesCacheAndPersistedQueries(t *testing.T) {
	redis := fleettest.Start(t)
	up := newKajabiUpstream(t, sandbox.Options{Customers: 50})
	a := replica(t, up, redis.URL, nil)
	b := replica(t, up, redis.URL, nil)

	const catalogue = `{ sites { id title } }`
	if out, err := gql(a, map[string]any{"query": catalogue}); err != nil || len(errorsOf(out)) > 0 {
		t.Fatalf("replica A: %v %v", err, errorsOf(out))
	}
	before := up.calls.Load()
	out, err := gql(b, map[string]any{"query": catalogue})
	if err != nil || len(errorsOf(out)) > 0 {
		t.Fatalf("replica B: %v %v", err, errorsOf(out))
	}
	if n := up.calls.Load() - before; n != 0 {
		t.Errorf("replica B called Kajabi %d times for what A had cached, want 0", n)
	}

	query := `query Persisted { sites { id } }`
	sum := sha256.Sum256([]byte(query))
	apq := map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hex.EncodeToString(sum[:])}}
	if out, err := gql(a, map[string]any{"query": query, "extensions": apq}); err != nil || len(errorsOf(out)) > 0 {
		t.Fatalf("register on A: %v %v", err, errorsOf(out))
	}
	out, err = gql(b, map[string]any{"extensions": apq})
	if err != nil || len(errorsOf(out)) > 0 || out["data"] == nil {
		t.Errorf("hash alone on B: got %v %v, want the query A registered to run", err, errorsOf(out))
	}
}

// Redis killed while two replicas serve, then started again: no request fails, the
// replicas run on their local fallbacks meanwhile, and return to shared mode on their own.
func TestRedisKilledMidLoad(t *testing.T) {
	t.Parallel()
	redis := fleettest.Start(t)
	up := newKajabiUpstream(t, sandbox.Options{Customers: 100})
	bases := []string{replica(t, up, redis.URL, nil), replica(t, up, redis.URL, nil)}
	var queries, failed atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := 0; i < 5_000; i++ {
				select {
				case <-stop:
					return
				default:
				}
				out, err := gql(bases[w%2], map[string]any{"query": fleetRelationsQuery, "variables": map[string]any{"n": 3}})
				queries.Add(1)
				if err != nil || len(errorsOf(out)) > 0 {
					failed.Add(1)
					t.Logf("failed: %v %v", err, errorsOf(out))
				}
			}
		})
	}
	time.Sleep(time.Second)
	redis.Stop()
	time.Sleep(2 * time.Second)
	local := metricValue(t, bases[0], "fleet_redis_shared")
	redis.Restart()
	deadline := time.Now().Add(10 * time.Second)
	for metricValue(t, bases[0], "fleet_redis_shared") != 1 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	shared := metricValue(t, bases[0], "fleet_redis_shared")
	time.Sleep(time.Second)
	close(stop)
	wg.Wait()
	t.Logf("%d queries across Redis stop and restart, %d failed; fleet_redis_shared %v while down, %v after", queries.Load(), failed.Load(), local, shared)
	if failed.Load() != 0 {
		t.Errorf("%d requests failed across a Redis restart, want 0", failed.Load())
	}
	if local != 0 || shared != 1 {
		t.Errorf("fleet_redis_shared: %v while Redis was down, %v after it came back; want 0 then 1", local, shared)
	}
	if resp, err := http.Get(bases[0] + "/readyz"); err != nil || resp.StatusCode != 200 {
		t.Errorf("/readyz after a short Redis outage: %v %v, want 200", err, resp)
	}
}

func metricValue(t *testing.T, base, name string) float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, _ := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return f
		}
	}
	return -1
}

// A 429 with Retry-After: 2 seen by one replica pauses the account's calls on every
// replica; after it, both serve again.
func TestFleetPausesOn429(t *testing.T) {
	redis := fleettest.Start(t)
	up := newKajabiUpstream(t, sandbox.Options{Customers: 50})
	a := replica(t, up, redis.URL, map[string]string{"KAJABI_RETRIES": "1", "CACHE_TTL": "0"})
	b := replica(t, up, redis.URL, map[string]string{"KAJABI_RETRIES": "1", "CACHE_TTL": "0"})
	const one = `{ customers(first: 1) { nodes { id } } }`
	up.throttle.Store(1)
	out, _ := gql(a, map[string]any{"query": one})
	pausedAt := time.Now()
	if code := firstCode(out); code != "RATE_LIMITED" {
		t.Fatalf("replica A's throttled call: got %q, want RATE_LIMITED", code)
	}
	// B waits the pause out (it is within the retry policy's 2 s), then calls.
	out, _ = gql(b, map[string]any{"query": one})
	waited := time.Since(pausedAt)
	during := up.callsBetween(pausedAt, pausedAt.Add(1800*time.Millisecond))
	t.Logf("replica B during A's 2 s pause: answered after %v with %v; Kajabi calls in the pause: %d", waited.Round(10*time.Millisecond), errorsOf(out), during)
	if during != 0 {
		t.Errorf("Kajabi got %d calls during the fleet's pause, want 0", during)
	}
	if len(errorsOf(out)) != 0 {
		t.Errorf("replica B after waiting out the pause: %v, want a whole answer", errorsOf(out))
	}
	for name, base := range map[string]string{"A": a, "B": b} {
		if out, err := gql(base, map[string]any{"query": one}); err != nil || len(errorsOf(out)) > 0 {
			t.Errorf("replica %s after the pause: %v %v", name, err, errorsOf(out))
		}
	}
}

// A 30 s Kajabi outage: the breaker opens and calls stop; sites are served from cache past
// their TTL, marked stale; customers (never served stale) fail with UPSTREAM_UNAVAILABLE;
// /readyz answers 200 throughout; the first query after one cool-down succeeds.
func TestKajabiOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("a 30 s outage")
	}
	t.Parallel()
	redis := fleettest.Start(t)
	up := newKajabiUpstream(t, sandbox.Options{Customers: 50})
	base := replica(t, up, redis.URL, map[string]string{"CACHE_TTL": "1s", "STALE_IF_ERROR": "1h"})
	const sites = `{ sites { id title } }`
	if out, err := gql(base, map[string]any{"query": sites}); err != nil || len(errorsOf(out)) > 0 {
		t.Fatalf("before the outage: %v %v", err, errorsOf(out))
	}
	time.Sleep(1100 * time.Millisecond) // past CACHE_TTL
	up.down.Store(true)
	start := time.Now()
	var staleOK, customerErrs, readyFails, queries int
	var callsAtHalf int64
	for time.Since(start) < 30*time.Second {
		out, _ := gql(base, map[string]any{"query": sites})
		queries++
		if ext, _ := out["extensions"].(map[string]any); ext["stale"] != nil && len(errorsOf(out)) == 0 {
			staleOK++
		}
		out, _ = gql(base, map[string]any{"query": `{ customers(first: 2) { nodes { id } } }`})
		if firstCode(out) == "UPSTREAM_UNAVAILABLE" {
			customerErrs++
		}
		if resp, err := http.Get(base + "/readyz"); err != nil || resp.StatusCode != 200 {
			readyFails++
		}
		if callsAtHalf == 0 && time.Since(start) > 15*time.Second {
			callsAtHalf = up.calls.Load()
		}
		time.Sleep(250 * time.Millisecond)
	}
	callsLate := up.calls.Load() - callsAtHalf
	up.down.Store(false)
	time.Sleep(5500 * time.Millisecond) // one breaker cool-down
	out, err := gql(base, map[string]any{"query": `{ customers(first: 2) { nodes { id } } }`})
	t.Logf("30 s outage: %d rounds; sites stale and whole %d; customers UPSTREAM_UNAVAILABLE %d; /readyz failures %d; Kajabi calls in the last 15 s %d; after one cool-down: %v", queries, staleOK, customerErrs, readyFails, callsLate, errorsOf(out))
	if staleOK != queries {
		t.Errorf("sites answered stale and whole %d of %d times, want all", staleOK, queries)
	}
	if customerErrs != queries {
		t.Errorf("customers failed with UPSTREAM_UNAVAILABLE %d of %d times, want all", customerErrs, queries)
	}
	if readyFails != 0 {
		t.Errorf("/readyz failed %d times during the outage, want 0", readyFails)
	}
	if callsLate > int64(queries/2) {
		t.Errorf("Kajabi got %d calls in the outage's last 15 s with the breaker open; want only its probes", callsLate)
	}
	if err != nil || len(errorsOf(out)) != 0 {
		t.Errorf("after the outage and one cool-down: %v %v, want a whole answer", err, errorsOf(out))
	}
}

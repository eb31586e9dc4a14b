package edge_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/kajabi-graphql/facade/graph"
	"github.com/kajabi-graphql/facade/graph/edge"
	"github.com/kajabi-graphql/facade/kajabi/kajabitest"
	"github.com/kajabi-graphql/facade/kajabi/sandbox"
)

// Once requests have been waiting for a place without a break, the queue stands: what
// waited is refused, and new arrivals get a short wait instead of QUEUE_TIMEOUT (a
// ten minutes here), so they are refused while the only place is still held. When the place
// frees, the next request runs. Codes and counts, not times: without the standing-queue
// test the first arrival would wait for the held one past the test's own timeout.
func TestAdmissionShedsStandingQueue(t *testing.T) {
	up := kajabitest.NewSandbox(t, sandbox.Options{Customers: 5})
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	up.Handle(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			once.Do(func() { close(entered); <-release })
			next.ServeHTTP(w, r)
		})
	})
	var keys []string
	for i := range 8 {
		keys = append(keys, fmt.Sprintf("admission-test-key-%d-0123456789abcdef", i))
	}
	srv := admissionServer(t, up, keys, edge.Admission{Inflight: 1, Queued: 8, QueueTimeout: 10 * time.Minute})
	post := func(key string) (int, string) {
		body, _ := json.Marshal(map[string]string{"query": `{ customers(first: 1, filter: {siteId: "101"}) { nodes { id } } }`})
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-API-Key", key)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Error(err)
			return 0, ""
		}
		defer resp.Body.Close()
		var out gqlResponse
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out.code()
	}
	type answer struct {
		status int
		code   string
	}
	holder := make(chan answer, 1)
	go func() { s, c := post(keys[0]); holder <- answer{s, c} }()
	<-entered // the only place is held until release

	waited := make(chan answer, 1)
	go func() { s, c := post(keys[1]); waited <- answer{s, c} }()
	time.Sleep(2 * 100 * time.Millisecond) // a queue that has not emptied for twice CoDel's interval stands

	for i, key := range keys[2:] {
		if s, c := post(key); s != http.StatusServiceUnavailable || c != graph.CodeOverloaded {
			t.Errorf("arrival %d while the queue stands: got %d %q, want 503 %s", i, s, c, graph.CodeOverloaded)
		}
	}
	select {
	case a := <-waited:
		if a.status != http.StatusServiceUnavailable || a.code != graph.CodeOverloaded {
			t.Errorf("request that waited while the queue stood: got %d %q, want 503 %s", a.status, a.code, graph.CodeOverloaded)
		}
	case <-holder:
		t.Fatal("the held request ended before release")
	}
	close(release)
	if a := <-holder; a.status != http.StatusOK || a.code != "" {
		t.Errorf("held request: got %d %q, want 200", a.status, a.code)
	}
	if s, c := post(keys[1]); s != http.StatusOK || c != "" {
		t.Errorf("after the place freed: got %d %q, want 200", s, c)
	}
}

// While another caller is active, a busy caller holds three eighths of the places, not
// three quarters: with 8 places and caller B's request running, caller A's 8 concurrent
// requests get 3 places and 5 are refused at once; every admitted one then succeeds.
// Alone, A has 6.
func TestAdmissionShareWhileAnotherCallerIsActive(t *testing.T) {
	for _, tc := range []struct {
		name        string
		otherFirst  bool
		wantRefused int
	}{
		{"another caller active", true, 5},
		{"alone", false, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			up := kajabitest.NewSandbox(t, sandbox.Options{Customers: 5})
			var entered sync.WaitGroup
			var calls sync.Mutex
			n := 0
			release := make(chan struct{})
			var releaseOnce sync.Once
			free := func() { releaseOnce.Do(func() { close(release) }) }
			defer free() // a failed check must not leave requests blocked for srv.Close
			up.Handle(func(next http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					calls.Lock()
					n++
					calls.Unlock()
					<-release
					next.ServeHTTP(w, r)
				})
			})
			keyA, keyB := "admission-share-key-a-0123456789abcdef", "admission-share-key-b-0123456789abcdef"
			srv := admissionServer(t, up, []string{keyA, keyB}, edge.Admission{Inflight: 8, Queued: 8, QueueTimeout: 10 * time.Minute})
			type answer struct {
				status int
				code   string
			}
			defer free() // runs before srv.Close
			post := func(key string, out chan<- answer) {
				body, _ := json.Marshal(map[string]string{"query": `{ customers(first: 1, filter: {siteId: "101"}) { nodes { id } } }`})
				req, _ := http.NewRequest(http.MethodPost, srv.URL+"/graphql", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-API-Key", key)
				resp, err := srv.Client().Do(req)
				if err != nil {
					t.Error(err)
					out <- answer{}
					return
				}
				defer resp.Body.Close()
				var r gqlResponse
				_ = json.NewDecoder(resp.Body).Decode(&r)
				out <- answer{resp.StatusCode, r.code()}
			}
			inUpstream := func(want int) {
				t.Helper()
				for i := 0; i < 500; i++ {
					calls.Lock()
					got := n
					calls.Unlock()
					if got >= want {
						return
					}
					time.Sleep(10 * time.Millisecond)
				}
				t.Fatalf("calls waiting upstream: never reached %d", want)
			}
			others := make(chan answer, 1)
			if tc.otherFirst {
				go post(keyB, others)
				inUpstream(1)
			}
			answers := make(chan answer, 8)
			for range 8 {
				entered.Add(1)
				go func() { defer entered.Done(); post(keyA, answers) }()
			}
			refused := 0
			for refused < tc.wantRefused {
				select {
				case a := <-answers:
					if a.status != http.StatusServiceUnavailable || a.code != graph.CodeOverloaded {
						t.Fatalf("before release: got %d %q, want 503 %s", a.status, a.code, graph.CodeOverloaded)
					}
					refused++
				case <-time.After(10 * time.Second):
					t.Fatalf("got %d refusals, want %d", refused, tc.wantRefused)
				}
			}
			free()
			entered.Wait()
			close(answers)
			for a := range answers {
				if a.status != http.StatusOK || a.code != "" {
					t.Errorf("admitted request of A: got %d %q, want 200", a.status, a.code)
				}
			}
			if tc.otherFirst {
				if a := <-others; a.status != http.StatusOK {
					t.Errorf("caller B: got %d %q, want 200", a.status, a.code)
				}
			}
		})
	}
}

// admissionServer serves the edge over up with an API key for each of keys and adm.
func admissionServer(t *testing.T, up *kajabitest.Upstream, keys []string, adm edge.Admission) *httptest.Server {
	t.Helper()
	apiKeys, err := edge.NewAPIKeys(keys)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(edge.NewHandler(&graph.Resolver{Client: up.Client(t)}, edge.HandlerOptions{
		APIKeys: apiKeys, DisableCSRFPrevention: true, Timeout: 20 * time.Minute, Admission: adm,
	}))
	t.Cleanup(srv.Close)
	return srv
}

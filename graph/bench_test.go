package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/kajabi-graphql/facade/graph"
	"github.com/kajabi-graphql/facade/graph/edge"
	"github.com/kajabi-graphql/facade/graph/fleet"
	"github.com/kajabi-graphql/facade/graph/fleet/fleettest"
	"github.com/kajabi-graphql/facade/graph/loader"
	"github.com/kajabi-graphql/facade/kajabi"
	"github.com/kajabi-graphql/facade/kajabi/kajabitest"
	"github.com/kajabi-graphql/facade/kajabi/sandbox"
)

// BenchmarkRelationsAtLatency runs the 20-customers-with-relations query against a sandbox
// that adds SANDBOX_LATENCY (default 50ms) to every call, and reports the wall time per
// query in upstream round trips: one plain GET of the same customers page, measured side
// by side. The goal is at most 3 round trips end to end, not one per row.
//
//	go test ./graph -run '^$' -bench RelationsAtLatency -benchtime 20x
func BenchmarkRelationsAtLatency(b *testing.B) {
	latency := sandboxLatency(b)
	up := kajabitest.NewSandbox(b, sandbox.Options{Customers: 1000, Latency: latency})
	// The process-wide rate limit (100 calls/s by default) would pace 46 calls a query after
	// the first burst; this measures the shape of one query, so it is off.
	client := up.Client(b, kajabi.WithLimits(kajabi.Limits{}))
	srv := newBenchServer(b, up, client)
	ctx := context.Background()
	opts := &kajabi.CustomerListOptions{ListOptions: kajabi.ListOptions{Page: 3, PageSize: 20}}
	if _, _, err := client.Customers.List(ctx, opts); err != nil { // token and connections warm
		b.Fatal(err)
	}

	var roundTrip, query time.Duration
	up.Reset()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		if _, _, err := client.Customers.List(ctx, opts); err != nil {
			b.Fatal(err)
		}
		roundTrip += time.Since(start)

		start = time.Now()
		srv.post(b, relationsQuery)
		query += time.Since(start)
	}
	b.StopTimer()
	calls := float64(up.Calls()-b.N) / float64(b.N)
	b.ReportMetric(float64(roundTrip.Microseconds())/float64(b.N)/1000, "roundtrip-ms")
	b.ReportMetric(float64(query.Microseconds())/float64(b.N)/1000, "query-ms")
	b.ReportMetric(float64(query)/float64(roundTrip), "roundtrips/query")
	b.ReportMetric(calls, "upstream-calls/query")
}

// sandboxLatency is SANDBOX_LATENCY, what the latency benchmarks add to every sandbox
// call; 50ms unless set.
func sandboxLatency(b *testing.B) time.Duration {
	v := os.Getenv("SANDBOX_LATENCY")
	if v == "" {
		return 50 * time.Millisecond
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		b.Fatalf("SANDBOX_LATENCY: %v", err)
	}
	return d
}

// serveEach sends body to h once per benchmark iteration, failing on any error answer.
func serveEach(b *testing.B, h http.Handler, body []byte) {
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK || bytes.Contains(w.Body.Bytes(), []byte(`"errors"`)) {
			b.Fatalf("status %d: %s", w.Code, w.Body.Bytes())
		}
	}
}

type benchServer struct{ url string }

func newBenchServer(b *testing.B, up *kajabitest.Upstream, client *kajabi.Client) *benchServer {
	srv := newTestServer(b, up, &graph.Resolver{Client: client, DefaultSiteID: "101"})
	return &benchServer{url: srv.url}
}

func (s *benchServer) post(b *testing.B, query string) {
	body, _ := json.Marshal(map[string]string{"query": query})
	resp, err := http.Post(s.url, "application/json", bytes.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b.Fatalf("status %d", resp.StatusCode)
	}
}

// The three workloads of the bench harness (bench/workloads.go), one page each.
var benchQueries = []struct{ name, query string }{
	{"a-scalars", `{ customers(page: {number: 3, size: 20}) { nodes { id name email avatar netRevenue signInCount createdAt updatedAt } } }`},
	{"b-relations", `{ customers(page: {number: 3, size: 20}) { nodes { id name email avatar netRevenue signInCount createdAt updatedAt
		contact { id email phoneNumber addressCity addressCountry } site { id title } products { id title productType } } } }`},
	{"c-filtered", `{ customers(page: {number: 3, size: 20}, filter: {subscribed: true, netRevenueGreaterThan: "100"},
		sort: {field: NET_REVENUE, direction: DESC}) { nodes { id name email avatar netRevenue signInCount createdAt updatedAt } } }`},
}

// BenchmarkHandler sends whole GraphQL requests through the real handler (no network in
// front of it) to a sandbox on loopback, as in production but without the client's rate
// limit, which would measure the limit rather than our cost. The shared catalogue cache
// is on, as it is by default. The sandbox's own time is included: compare with
// BenchmarkListCustomers in kajabi/sandbox for its share.
//
//	go test ./graph -run '^$' -bench Handler -benchmem
func BenchmarkHandler(b *testing.B) {
	sb := sandbox.New(sandbox.Options{Customers: 1000})
	up := httptest.NewServer(sb)
	b.Cleanup(up.Close)
	client, err := kajabi.NewClient(kajabi.WithBaseURL(up.URL),
		kajabi.WithClientCredentials(sandbox.ClientID, sandbox.ClientSecret),
		kajabi.WithLimits(kajabi.Limits{}))
	if err != nil {
		b.Fatal(err)
	}
	h := edge.NewHandler(&graph.Resolver{Client: client, DefaultSiteID: "101"}, edge.HandlerOptions{Cache: loader.NewCache(time.Minute, 0)})
	for _, q := range benchQueries {
		body, _ := json.Marshal(map[string]string{"query": q.query})
		b.Run(q.name, func(b *testing.B) {
			serveEach(b, h, body)
		})
	}
}

// BenchmarkListWithFleet is workload (a) through the handler with the client paced in
// process and by the fleet's pacer on a loopback Redis, side by side, with a budget no
// request waits for: what REDIS_URL costs a list request (two Redis round trips a Kajabi
// call: the pause look-up and the turn).
//
//	go test ./graph -run '^$' -bench ListWithFleet -benchmem
func BenchmarkListWithFleet(b *testing.B) {
	sb := sandbox.New(sandbox.Options{Customers: 1000})
	up := httptest.NewServer(sb)
	b.Cleanup(up.Close)
	redis := fleettest.Start(b)
	store, err := fleet.Open(context.Background(), fleet.Options{URL: redis.URL, Timeout: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = store.Close() })
	const rate, burst = 1e9, 1 << 30
	body, _ := json.Marshal(map[string]string{"query": benchQueries[0].query})
	for _, tt := range []struct {
		name  string
		pacer kajabi.Pacer
	}{
		{"in-process", kajabi.NewPacer(rate, burst)},
		{"redis", store.Pacer(rate, burst, kajabi.NewPacer(rate, burst))},
	} {
		client, err := kajabi.NewClient(kajabi.WithBaseURL(up.URL),
			kajabi.WithClientCredentials(sandbox.ClientID, sandbox.ClientSecret),
			kajabi.WithLimits(kajabi.Limits{}), kajabi.WithPacer(tt.pacer))
		if err != nil {
			b.Fatal(err)
		}
		h := edge.NewHandler(&graph.Resolver{Client: client, DefaultSiteID: "101"}, edge.HandlerOptions{})
		b.Run(tt.name, func(b *testing.B) {
			serveEach(b, h, body)
		})
	}
}

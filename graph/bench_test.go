package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/kajabi-graphql/facade/graph"
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
	latency := 50 * time.Millisecond
	if v := os.Getenv("SANDBOX_LATENCY"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			b.Fatalf("SANDBOX_LATENCY: %v", err)
		}
		latency = d
	}
	up := kajabitest.NewSandbox(b, sandbox.Options{Customers: 1000, Latency: latency})
	client := up.Client(b)
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

type benchServer struct{ url string }

func newBenchServer(b *testing.B, up *kajabitest.Upstream, client *kajabi.Client) *benchServer {
	srv := newTestServer(b, up, &graph.Resolver{Client: client})
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

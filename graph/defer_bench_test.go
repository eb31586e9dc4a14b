package graph_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kajabi-graphql/facade/kajabi"
	"github.com/kajabi-graphql/facade/kajabi/kajabitest"
	"github.com/kajabi-graphql/facade/kajabi/sandbox"
)

// BenchmarkDeferAtLatency measures what @defer buys a frontend: a page of 20 customers
// with contact, site, products and offers deferred, its time to the first payload (the
// list alone) and to the last, against the same query without @defer; all in Kajabi round
// trips (one plain GET of the same customers page, measured side by side), at
// SANDBOX_LATENCY (default 50ms). The goal: the first payload within 1.3 round trips.
//
//	go test ./graph -run '^$' -bench DeferAtLatency -benchtime 20x
func BenchmarkDeferAtLatency(b *testing.B) {
	latency := sandboxLatency(b)
	const (
		fields    = `id name email createdAt`
		relations = `contact { id email phoneNumber } site { id title } products { id title } offers { id title }`
	)
	deferred := `{ customers(page: {number: 3, size: 20}) { nodes { ` + fields + ` ... @defer { ` + relations + ` } } } }`
	whole := `{ customers(page: {number: 3, size: 20}) { nodes { ` + fields + ` ` + relations + ` } } }`

	up := kajabitest.NewSandbox(b, sandbox.Options{Customers: 1000, Latency: latency})
	client := up.Client(b, kajabi.WithLimits(kajabi.Limits{})) // the shape of one query, not the rate limit
	srv := newBenchServer(b, up, client)
	ctx := context.Background()
	opts := &kajabi.CustomerListOptions{ListOptions: kajabi.ListOptions{Page: 3, PageSize: 20}}
	if _, _, err := client.Customers.List(ctx, opts); err != nil { // token and connections warm
		b.Fatal(err)
	}

	var roundTrip, first, last, plain time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		if _, _, err := client.Customers.List(ctx, opts); err != nil {
			b.Fatal(err)
		}
		roundTrip += time.Since(start)

		f, l := streamTimes(b, srv.url, deferred)
		first, last = first+f, last+l

		start = time.Now()
		srv.post(b, whole)
		plain += time.Since(start)
	}
	b.StopTimer()
	rt := float64(roundTrip)
	b.ReportMetric(rt/float64(b.N)/1e6, "roundtrip-ms")
	b.ReportMetric(float64(first)/rt, "first-payload-roundtrips")
	b.ReportMetric(float64(last)/rt, "deferred-complete-roundtrips")
	b.ReportMetric(float64(plain)/rt, "non-deferred-roundtrips")
}

// streamTimes posts a deferred query as Apollo Client does and returns the time to the
// end of the first part and to the end of the whole stream.
func streamTimes(b *testing.B, url, query string) (first, last time.Duration) {
	body, _ := json.Marshal(map[string]string{"query": query})
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", apolloAccept)
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	r := bufio.NewReader(resp.Body)
	// The first part ends at the first boundary line after its JSON body.
	for seen := 0; seen < 2; {
		line, err := r.ReadString('\n')
		if err != nil {
			b.Fatalf("stream ended before its first part: %v", err)
		}
		if strings.HasPrefix(line, "--graphql") {
			seen++
		}
	}
	first = time.Since(start)
	if _, err := io.Copy(io.Discard, r); err != nil {
		b.Fatal(err)
	}
	return first, time.Since(start)
}

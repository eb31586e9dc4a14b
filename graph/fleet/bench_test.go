package fleet_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/kajabi-graphql/facade/graph/fleet"
	"github.com/kajabi-graphql/facade/graph/fleet/fleettest"
	"github.com/kajabi-graphql/facade/kajabi"
)

// BenchmarkPacerWait is what pacing one Kajabi call costs: the in-process pacer against the
// fleet's, one Lua script on a loopback Redis, side by side, with a budget too large to
// make anyone wait. p50 and p99 are of single calls.
//
//	go test ./graph/fleet -run '^$' -bench PacerWait -benchtime 20000x
func BenchmarkPacerWait(b *testing.B) {
	r := fleettest.Start(b)
	s, err := fleet.Open(context.Background(), fleet.Options{URL: r.URL, Timeout: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	const rate, burst = 1e9, 1 << 30
	pacers := []struct {
		name  string
		pacer kajabi.Pacer
	}{
		{"local", kajabi.NewPacer(rate, burst)},
		{"redis", s.Pacer(rate, burst, kajabi.NewPacer(rate, burst))},
	}
	for _, p := range pacers {
		b.Run(p.name, func(b *testing.B) {
			ctx := context.Background()
			var took []time.Duration
			for b.Loop() {
				start := time.Now()
				if err := p.pacer.Wait(ctx, "acct", 0); err != nil {
					b.Fatal(err)
				}
				took = append(took, time.Since(start))
			}
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(took[len(took)*99/100].Microseconds()), "p99-µs")
			if !s.Shared() {
				b.Fatal("the store fell back to local mode during the run")
			}
		})
	}
}

package kajabi

import (
	"context"
	"slices"
	"testing"
	"time"
)

// BenchmarkGateAloneUnderFlood is how long one call of a second caller waits for its turn
// while 24 callers' worth of calls of one busy caller keep the default budget (100 calls a
// second) spent: the reserve and the skip of the round give it at once what without them
// was the next turn and a round (p50 about 29 ms before, 11 µs after, on the 2-core VM).
//
//	go test ./kajabi -run '^$' -bench GateAloneUnderFlood -benchtime 50x
func BenchmarkGateAloneUnderFlood(b *testing.B) {
	g := newGate(DefaultLimits, NewPacer(DefaultLimits.Rate, DefaultLimits.Burst))
	ctx, cancel := context.WithCancel(WithCaller(context.Background(), "busy"))
	defer cancel()
	for range 24 {
		go func() {
			for ctx.Err() == nil {
				if release, err := g.acquire(ctx, "acct"); err == nil {
					time.Sleep(time.Millisecond) // the call's round trip
					release()
				}
			}
		}()
	}
	time.Sleep(2 * time.Second) // the burst spent: the busy caller is paced
	var waits []time.Duration
	for b.Loop() {
		time.Sleep(100 * time.Millisecond) // a light caller: one call now and then
		start := time.Now()
		release, err := g.acquire(WithCaller(context.Background(), "light"), "acct")
		if err != nil {
			b.Fatal(err)
		}
		waits = append(waits, time.Since(start))
		release()
	}
	slices.Sort(waits)
	b.ReportMetric(float64(waits[len(waits)/2].Microseconds()), "p50-µs")
}

package fleet_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/rs/zerolog"
	"golang.org/x/time/rate"

	"github.com/kajabi-graphql/facade/graph/fleet"
	"github.com/kajabi-graphql/facade/graph/fleet/fleettest"
)

func open(t *testing.T, url string, states *atomic.Int32) *fleet.Store {
	t.Helper()
	s, err := fleet.Open(context.Background(), fleet.Options{
		URL: url, ProbeInterval: 50 * time.Millisecond, Logger: zerolog.New(zerolog.NewTestWriter(t)),
		OnStateChange: func(shared bool) {
			if states != nil {
				states.Add(1)
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// shareLocal is a process's own limiter at a third of the budget, as a replica of three
// runs while Redis is gone.
type shareLocal struct {
	lim   *rate.Limiter
	waits atomic.Int32
}

func (s *shareLocal) Wait(ctx context.Context, _ string, _ int) error {
	s.waits.Add(1)
	return s.lim.Wait(ctx)
}
func (s *shareLocal) Pause(context.Context, string, time.Time)         {}
func (s *shareLocal) PausedUntil(context.Context, string) time.Time    { return time.Time{} }
func (s *shareLocal) Until(context.Context, string, int) time.Duration { return 0 }

// countingLocal stands for the process's own limiter; it only counts what falls back to it.
type countingLocal struct{ waits, pauses atomic.Int32 }

func (c *countingLocal) Wait(context.Context, string, int) error          { c.waits.Add(1); return nil }
func (c *countingLocal) Pause(context.Context, string, time.Time)         { c.pauses.Add(1) }
func (c *countingLocal) PausedUntil(context.Context, string) time.Time    { return time.Time{} }
func (c *countingLocal) Until(context.Context, string, int) time.Duration { return 0 }

// Three replicas calling as fast as they can for one second start no more than the
// account's budget (rate × seconds + one burst) between them, and every call gets a slot.
func TestLimiterHoldsTheFleetToOneBudget(t *testing.T) {
	r := fleettest.Start(t)
	const perSecond, burst = 50.0, 5
	var started atomic.Int32
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	var wg sync.WaitGroup
	var locals []*shareLocal
	for range 3 {
		local := &shareLocal{lim: rate.NewLimiter(rate.Limit(perSecond/3), 1)}
		locals = append(locals, local)
		l := open(t, r.URL, nil).Pacer(perSecond, burst, local)
		for range 4 {
			wg.Go(func() {
				for ctx.Err() == nil {
					err := l.Wait(ctx, "acct-1", 0)
					var we *fleet.WaitError
					if errors.As(err, &we) || errors.Is(err, context.DeadlineExceeded) {
						return
					}
					if err != nil {
						t.Errorf("Wait: %v", err)
						return
					}
					started.Add(1)
				}
			})
		}
	}
	wg.Wait()
	if got, limit := started.Load(), int32(perSecond*1+burst+1); got > limit || got < int32(perSecond/2) {
		t.Errorf("calls started in 1s by 3 replicas: got %d, want between %d and %d", got, int32(perSecond/2), limit)
	}
	// A Redis call slower than the Store's timeout (a loaded CI machine) falls back for a
	// moment; the local share keeps the budget even then.
	var fallbacks int32
	for _, l := range locals {
		fallbacks += l.waits.Load()
	}
	t.Logf("calls started: %d; served by the local fallback: %d", started.Load(), fallbacks)
}

// Accounts have budgets of their own.
func TestLimiterKeepsAccountsApart(t *testing.T) {
	r := fleettest.Start(t)
	l := open(t, r.URL, nil).Pacer(1, 1, &countingLocal{})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := l.Wait(ctx, "a", 0); err != nil {
		t.Fatal(err)
	}
	if err := l.Wait(ctx, "b", 0); err != nil {
		t.Errorf("account b waited on account a's budget: %v", err)
	}
	var we *fleet.WaitError
	if err := l.Wait(ctx, "a", 0); !errors.As(err, &we) {
		t.Errorf("second call of a within its 1s interval and a 200ms deadline: got %v, want *WaitError", err)
	}
}

// A pause set by one replica holds the others; past it they go on.
func TestPauseHoldsEveryReplica(t *testing.T) {
	r := fleettest.Start(t)
	a := open(t, r.URL, nil).Pacer(1000, 100, &countingLocal{})
	b := open(t, r.URL, nil).Pacer(1000, 100, &countingLocal{})
	a.Pause(context.Background(), "acct", time.Now().Add(300*time.Millisecond))
	if left := time.Until(b.PausedUntil(context.Background(), "acct")); left < 200*time.Millisecond {
		t.Errorf("replica b sees the pause end in %v, want about 300ms", left)
	}

	short, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	var we *fleet.WaitError
	if err := b.Wait(short, "acct", 0); !errors.As(err, &we) || we.Wait < 150*time.Millisecond {
		t.Fatalf("replica b during a's 300ms pause with 100ms to spare: got %v, want *WaitError of about 300ms", err)
	}
	long, cancel2 := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel2()
	start := time.Now()
	if err := b.Wait(long, "acct", 0); err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited < 100*time.Millisecond {
		t.Errorf("replica b started %v after a's pause began; the pause was 300ms", waited)
	}
}

// Redis killed: calls fall back to the local limiter at once, none fails; restarted: the
// Store finds it again and goes back to sharing.
func TestRedisOutageFallsBackAndRecovers(t *testing.T) {
	r := fleettest.Start(t)
	var changes atomic.Int32
	s := open(t, r.URL, &changes)
	local := &countingLocal{}
	l := s.Pacer(1000, 100, local)
	ctx := context.Background()
	if err := l.Wait(ctx, "acct", 0); err != nil || !s.Shared() {
		t.Fatalf("with Redis up: err %v, shared %v", err, s.Shared())
	}
	s.Set(ctx, "k", []byte("v"), time.Minute)
	if v, ok := s.Get(ctx, "k"); !ok || string(v) != "v" {
		t.Fatalf("Get after Set: %q %v", v, ok)
	}

	r.Stop()
	for i := range 50 {
		if err := l.Wait(ctx, "acct", 0); err != nil {
			t.Fatalf("call %d with Redis down: %v", i, err)
		}
	}
	if s.Shared() {
		t.Fatal("still shared with Redis down")
	}
	if local.waits.Load() < 49 {
		t.Errorf("local fallback served %d of 50 calls", local.waits.Load())
	}
	if _, ok := s.Get(ctx, "k"); ok {
		t.Error("Get answered from a dead Redis")
	}

	r.Restart()
	deadline := time.Now().Add(5 * time.Second)
	for !s.Shared() && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if !s.Shared() {
		t.Fatal("did not return to shared mode within 5s of Redis restarting")
	}
	before := local.waits.Load()
	if err := l.Wait(ctx, "acct", 0); err != nil || local.waits.Load() != before {
		t.Errorf("after recovery: err %v, local waits %d → %d", err, before, local.waits.Load())
	}
	// open → shared, Stop → local, Restart → shared
	if got := changes.Load(); got != 3 {
		t.Errorf("state changes reported: got %d, want 3", got)
	}
}

// A malformed URL stops the service at start; an unreachable Redis does not.
func TestOpen(t *testing.T) {
	if _, err := fleet.Open(context.Background(), fleet.Options{URL: "http://nope"}); err == nil {
		t.Error("Open accepted an http:// URL")
	}
	s, err := fleet.Open(context.Background(), fleet.Options{URL: "redis://127.0.0.1:1/0", Logger: zerolog.Nop()})
	if err != nil {
		t.Fatalf("unreachable Redis: %v", err)
	}
	defer s.Close()
	if s.Shared() {
		t.Error("shared with nothing listening")
	}
}

// A persisted query added on one replica is found on another; with Redis gone each replica
// still finds its own.
func TestQueriesAcrossReplicas(t *testing.T) {
	r := fleettest.Start(t)
	ctx := context.Background()
	a := open(t, r.URL, nil).Queries(lru.New[string](100), time.Hour)
	bStore := open(t, r.URL, nil)
	b := bStore.Queries(lru.New[string](100), time.Hour)
	a.Add(ctx, "caller\x00hash1", "{ sites { id } }")
	if got, ok := b.Get(ctx, "caller\x00hash1"); !ok || got != "{ sites { id } }" {
		t.Fatalf("replica b: got %q %v, want the query replica a registered", got, ok)
	}
	if _, ok := b.Get(ctx, "other\x00hash1"); ok {
		t.Error("another caller's key found the query")
	}
	r.Stop()
	a.Add(ctx, "caller\x00hash2", "{ offers(siteId: 1) { id } }")
	if _, ok := a.Get(ctx, "caller\x00hash2"); !ok {
		t.Error("with Redis down, replica a lost the query it just registered")
	}
	if _, ok := b.Get(ctx, "caller\x00hash1"); !ok {
		t.Error("with Redis down, replica b lost the query it had already fetched")
	}
}

// A turn that keeps a reserve of the burst leaves it in the fleet's budget for calls that
// keep none; asking to keep more than the burst keeps burst-1. One turn per 1,000 s, so
// no turn comes back within the test: a turn past the deadline fails at once.
func TestPacerKeepsReserve(t *testing.T) {
	r := fleettest.Start(t)
	s := open(t, r.URL, nil)
	tests := []struct{ keep, kept, rest int }{
		{keep: 0, kept: 5, rest: 0},
		{keep: 2, kept: 3, rest: 2},
		{keep: 9, kept: 1, rest: 4},
	}
	for i, tt := range tests {
		local := &countingLocal{}
		p := s.Pacer(0.001, 5, local)
		account := fmt.Sprintf("acct-%d", i)
		turns := func(keep int) (n int) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			for n < 10 && p.Wait(ctx, account, keep) == nil {
				n++
			}
			return n
		}
		if got := turns(tt.keep); got != tt.kept {
			t.Errorf("keep %d: got %d turns, want %d", tt.keep, got, tt.kept)
		}
		if got := turns(0); got != tt.rest {
			t.Errorf("keep %d, then keep 0: got %d turns, want %d", tt.keep, got, tt.rest)
		}
		if n := local.waits.Load(); n != 0 {
			t.Errorf("keep %d: %d turns from the local fallback, want 0 (Redis is up)", tt.keep, n)
		}
	}
}

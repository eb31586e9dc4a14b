package kajabi

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// A caller with many calls queued gets no more than every other turn once a second caller
// queues one: the second is served next, not after the first's backlog.
func TestGateServesCallersRoundRobin(t *testing.T) {
	g := newGate(Limits{Concurrency: 1}, NewPacer(0, 0))
	hold, err := g.acquire(context.Background(), "acct")
	if err != nil {
		t.Fatal(err)
	}
	order := make(chan string, 10)
	queue := func(caller string, want int) {
		go func() {
			release, err := g.acquire(WithCaller(context.Background(), caller), "acct")
			if err != nil {
				t.Error(err)
				return
			}
			order <- caller
			release()
		}()
		for i := 0; ; i++ { // bounded: the goroutine queues within microseconds
			g.mu.Lock()
			n := len(g.queues[caller])
			g.mu.Unlock()
			if n == want {
				break
			}
			if i > 10000 {
				t.Fatalf("%s: got %d queued, want %d", caller, n, want)
			}
			time.Sleep(100 * time.Microsecond)
		}
	}
	for i := range 5 {
		queue("busy", i+1)
	}
	queue("light", 1)
	hold()
	var got []string
	for range 6 {
		got = append(got, <-order)
	}
	want := []string{"busy", "light", "busy", "busy", "busy", "busy"}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got order %v, want %v", got, want)
		}
	}
}

// Until reads the local budget without taking from it.
func TestLocalPacerUntil(t *testing.T) {
	p := NewPacer(10, 10)
	tests := []struct {
		n       int
		atLeast time.Duration
		atMost  time.Duration
	}{
		{n: 0, atMost: 0},
		{n: 10, atMost: 0},
		{n: 20, atLeast: 900 * time.Millisecond, atMost: time.Second},
		{n: 110, atLeast: 9900 * time.Millisecond, atMost: 10 * time.Second},
	}
	for _, tt := range tests {
		if got := p.Until(context.Background(), "a", tt.n); got < tt.atLeast || got > tt.atMost {
			t.Errorf("Until(%d) = %v, want %v..%v", tt.n, got, tt.atLeast, tt.atMost)
		}
	}
	if got := p.Until(context.Background(), "a", 10); got != 0 {
		t.Errorf("after asking: Until(10) = %v, want 0 (asking reserves nothing)", got)
	}
}

// With a reserve, a caller with a backlog takes turns only above it, and a caller with one
// call takes its turn at once from the reserve, while the busy caller's next call waits
// in the Pacer for a refill that does not come within the test (one turn per 1,000 s).
// Counts of turns, not times: a call that had to wait for its round would fail instead,
// the Pacer refusing at once a turn past the deadline.
func TestGateReserveServesCallerWithoutBacklog(t *testing.T) {
	tests := []struct {
		reserve     int
		busy, alone int // turns taken by each, of the 5 left of a burst of 7
	}{
		{reserve: 0, busy: 5, alone: 0},
		{reserve: 2, busy: 3, alone: 2},
		{reserve: 9, busy: 0, alone: 5}, // at most burst-1 is kept
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("reserve %d", tt.reserve), func(t *testing.T) {
			g := newGate(Limits{Concurrency: 2, Rate: 0.001, Burst: 7, Reserve: tt.reserve}, NewPacer(0.001, 7))
			// Two calls hold both slots (and 2 turns), so the busy caller's ten queue
			// before any goes: a backlog, not ten calls one after the other.
			var holds []func()
			for _, caller := range []string{"a", "b"} {
				release, err := g.acquire(WithCaller(context.Background(), caller), "acct")
				if err != nil {
					t.Fatal(err)
				}
				holds = append(holds, release)
			}
			busyCtx, stopBusy := context.WithCancel(WithCaller(context.Background(), "busy"))
			var busy atomic.Int32
			var wg sync.WaitGroup
			for range 10 {
				wg.Go(func() {
					if release, err := g.acquire(busyCtx, "acct"); err == nil {
						busy.Add(1)
						release()
					}
				})
			}
			defer func() { stopBusy(); wg.Wait() }()
			waitFor := func(what string, done func() bool) {
				t.Helper()
				for i := 0; !done(); i++ { // bounded: the gate moves within microseconds
					if i > 10000 {
						g.mu.Lock()
						defer g.mu.Unlock()
						t.Fatalf("%s: got %d busy turns, %d queued, pacing %v", what, busy.Load(), len(g.queues["busy"]), g.pacing)
					}
					time.Sleep(100 * time.Microsecond)
				}
			}
			waitFor("busy caller queues 10", func() bool {
				g.mu.Lock()
				defer g.mu.Unlock()
				return len(g.queues["busy"]) == 10
			})
			for _, release := range holds {
				release()
			}
			waitFor(fmt.Sprintf("busy caller takes %d turns, then waits", tt.busy), func() bool {
				g.mu.Lock()
				defer g.mu.Unlock()
				return int(busy.Load()) == tt.busy && g.pacing && len(g.queues["busy"]) == 10-tt.busy-1
			})
			alone := 0
			for range 6 {
				ctx, cancel := context.WithTimeout(WithCaller(context.Background(), "light"), time.Minute)
				release, err := g.acquire(ctx, "acct")
				cancel()
				if err != nil {
					break
				}
				alone++
				release()
			}
			if alone != tt.alone {
				t.Errorf("caller without a backlog: got %d turns, want %d", alone, tt.alone)
			}
			if got := int(busy.Load()); got != tt.busy {
				t.Errorf("busy caller after the other's calls: got %d turns, want %d", got, tt.busy)
			}
		})
	}
}

// A Pacer's turn that keeps a reserve leaves it for others; asking to keep more than the
// burst keeps burst-1.
func TestLocalPacerKeepsReserve(t *testing.T) {
	tests := []struct{ keep, kept, rest int }{
		{keep: 0, kept: 5, rest: 0},
		{keep: 2, kept: 3, rest: 2},
		{keep: 9, kept: 1, rest: 4},
	}
	for _, tt := range tests {
		p := NewPacer(0.001, 5)
		turns := func(keep int) (n int) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			for n < 10 && p.Wait(ctx, "acct", keep) == nil {
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
	}
}

// Admission's estimate counts the reserve as out of reach: n calls are a backlog.
func TestRateWaitCountsReserve(t *testing.T) {
	c, err := NewClient(WithLimits(Limits{Rate: 10, Burst: 10, Reserve: 2}))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.RateWait(context.Background(), 8); got != 0 {
		t.Errorf("RateWait(8) of a full bucket of 10 keeping 2: got %v, want 0", got)
	}
	if got := c.RateWait(context.Background(), 9); got <= 0 {
		t.Errorf("RateWait(9) of a full bucket of 10 keeping 2: got %v, want > 0", got)
	}
}

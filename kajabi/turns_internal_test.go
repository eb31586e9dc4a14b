package kajabi

import (
	"context"
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

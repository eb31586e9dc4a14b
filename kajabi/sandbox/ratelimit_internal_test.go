package sandbox

import (
	"testing"
	"time"
)

// TestRateWindowSlides drives the window with a synthetic clock: in no second are more
// than the limit admitted, even across a second's boundary, and the Retry-After is the
// whole seconds until the oldest call leaves the window.
func TestRateWindowSlides(t *testing.T) {
	const limit = 4
	s := &Sandbox{}
	s.SetRateLimit(limit)
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var admitted []time.Time
	refused := 0
	// A call every 50 ms for 10 s: 200 calls at 20 a second against a limit of 4.
	for i := range 200 {
		now := start.Add(time.Duration(i) * 50 * time.Millisecond)
		retryAfter, ok := s.admit(now)
		if !ok {
			refused++
			if retryAfter != 1 {
				t.Fatalf("Retry-After at %v: got %d, want 1", now.Sub(start), retryAfter)
			}
			continue
		}
		admitted = append(admitted, now)
	}
	for i := limit; i < len(admitted); i++ {
		if span := admitted[i].Sub(admitted[i-limit]); span < time.Second {
			t.Fatalf("%d calls admitted within %v, want at most %d in any second", limit+1, span, limit)
		}
	}
	if got, want := len(admitted), 40; got != want {
		t.Errorf("admitted over 10 s: got %d, want %d (%d a second)", got, want, limit)
	}
	t.Logf("admitted %d, refused %d", len(admitted), refused)
}

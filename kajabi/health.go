package kajabi

import (
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Health is what the client has seen of Kajabi, for a status page and metrics. It says
// nothing about whether this process can serve: with Kajabi down it still answers every
// request, with errors that have codes.
type Health struct {
	Breaker BreakerState
	// LastErrorAt is when Kajabi last failed a call (5xx, no answer, a timeout) or
	// refused one with 429; LastError says how, without query strings or tokens.
	LastErrorAt time.Time
	LastError   string
	// PausedUntil is the end of the latest pause Kajabi asked for with 429 and
	// Retry-After, when it is still to come.
	PausedUntil time.Time
}

// Health reports what the client has seen of Kajabi.
func (c *Client) Health() Health {
	h := c.health.snapshot()
	h.Breaker = c.BreakerState()
	if !h.PausedUntil.After(time.Now()) {
		h.PausedUntil = time.Time{}
	}
	return h
}

type health struct {
	mu          sync.Mutex
	lastErrorAt time.Time
	lastError   string
	pausedUntil time.Time
}

func (h *health) record(status int, o outcome, err error) {
	if o != outcomeFailure && status != http.StatusTooManyRequests {
		return
	}
	msg := strconv.Itoa(status) + " " + http.StatusText(status)
	if status == 0 && err != nil {
		msg = err.Error() // a TransportError: method and redacted URL
	}
	h.mu.Lock()
	h.lastErrorAt, h.lastError = time.Now(), msg
	h.mu.Unlock()
}

func (h *health) paused(until time.Time) {
	h.mu.Lock()
	if until.After(h.pausedUntil) {
		h.pausedUntil = until
	}
	h.mu.Unlock()
}

func (h *health) snapshot() Health {
	h.mu.Lock()
	defer h.mu.Unlock()
	return Health{LastErrorAt: h.lastErrorAt, LastError: h.lastError, PausedUntil: h.pausedUntil}
}

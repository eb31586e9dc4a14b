package kajabi

import (
	"sync"
	"time"
)

// BreakerState is the state of the client's circuit breaker.
type BreakerState int

const (
	// BreakerClosed lets every call through.
	BreakerClosed BreakerState = iota
	// BreakerOpen refuses every call with ErrCircuitOpen until the cool-down ends.
	BreakerOpen
	// BreakerHalfOpen lets one probe call through; the others are refused meanwhile.
	BreakerHalfOpen
)

func (s BreakerState) String() string {
	switch s {
	case BreakerClosed:
		return "closed"
	case BreakerOpen:
		return "open"
	case BreakerHalfOpen:
		return "half-open"
	}
	return "unknown"
}

// outcome is what one attempt says about Kajabi's health.
type outcome int

const (
	outcomeNone    outcome = iota // says nothing: the caller gave up first
	outcomeSuccess                // Kajabi answered below 500
	outcomeFailure                // 5xx, no answer, or the attempt timed out
)

// breaker is a consecutive-failures circuit breaker; a nil *breaker lets everything through.
type breaker struct {
	policy  BreakerPolicy
	observe func(from, to BreakerState)
	now     func() time.Time

	mu           sync.Mutex
	state        BreakerState
	gen          int // bumped on every state change: late outcomes of an older state are ignored
	failures     int // consecutive, while closed
	firstFailure time.Time
	openedAt     time.Time
	probing      bool // half-open and the probe is out
}

func newBreaker(p BreakerPolicy, observe func(from, to BreakerState)) *breaker {
	if p.Threshold == 0 {
		return nil
	}
	if p.Window == 0 {
		p.Window = DefaultBreakerPolicy.Window
	}
	if p.Cooldown == 0 {
		p.Cooldown = DefaultBreakerPolicy.Cooldown
	}
	return &breaker{policy: p, observe: observe, now: time.Now}
}

func noOutcome(outcome) {}

// allow admits an attempt, or refuses it with a *CircuitOpenError. An admitted attempt
// must report its outcome through done, exactly once.
func (b *breaker) allow() (done func(outcome), err error) {
	if b == nil {
		return noOutcome, nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.state == BreakerOpen {
		left := b.openedAt.Add(b.policy.Cooldown).Sub(b.now())
		if left > 0 {
			return nil, &CircuitOpenError{RetryAfter: left}
		}
		b.set(BreakerHalfOpen)
	}
	if b.state == BreakerHalfOpen {
		if b.probing {
			return nil, &CircuitOpenError{}
		}
		b.probing = true
	}
	gen := b.gen
	var once sync.Once
	return func(o outcome) { once.Do(func() { b.record(gen, o) }) }, nil
}

func (b *breaker) record(gen int, o outcome) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if gen != b.gen {
		return
	}
	switch b.state {
	case BreakerClosed:
		switch o {
		case outcomeSuccess:
			b.failures = 0
		case outcomeFailure:
			now := b.now()
			if b.failures == 0 || now.Sub(b.firstFailure) > b.policy.Window {
				b.failures, b.firstFailure = 0, now
			}
			b.failures++
			if b.failures >= b.policy.Threshold {
				b.openedAt = now
				b.set(BreakerOpen)
			}
		}
	case BreakerHalfOpen:
		switch o {
		case outcomeSuccess:
			b.set(BreakerClosed)
		case outcomeFailure:
			b.openedAt = b.now()
			b.set(BreakerOpen)
		default:
			b.probing = false // the probe's caller left; the next call probes
		}
	}
}

// set changes state; b.mu must be held, so observers see changes in order.
func (b *breaker) set(to BreakerState) {
	from := b.state
	b.state, b.gen, b.probing, b.failures = to, b.gen+1, false, 0
	if b.observe != nil {
		b.observe(from, to)
	}
}

// BreakerState reports the state of the client's circuit breaker, for health checks;
// BreakerClosed when the breaker is off. An open breaker whose cool-down has ended stays
// open until the next call probes.
func (c *Client) BreakerState() BreakerState {
	if c.breaker == nil {
		return BreakerClosed
	}
	c.breaker.mu.Lock()
	defer c.breaker.mu.Unlock()
	return c.breaker.state
}

package kajabi

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sony/gobreaker/v2"
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

func breakerState(s gobreaker.State) BreakerState {
	switch s {
	case gobreaker.StateOpen:
		return BreakerOpen
	case gobreaker.StateHalfOpen:
		return BreakerHalfOpen
	}
	return BreakerClosed
}

// outcome is what one call (or one attempt of it) says about Kajabi's health.
type outcome int

const (
	outcomeNone    outcome = iota // says nothing: the caller gave up first
	outcomeSuccess                // Kajabi answered below 500
	outcomeFailure                // 5xx, no answer, or the attempt timed out
)

// gobreaker judges a call by its error: these stand for the outcomes it does not carry.
var (
	errKajabiFailing = errors.New("kajabi failing")
	errNoOutcome     = errors.New("no outcome")
)

// breaker is the failure-rate circuit breaker of BreakerPolicy, on sony/gobreaker's
// rolling window. A nil *breaker lets everything through.
type breaker struct {
	cb       *gobreaker.TwoStepCircuitBreaker[struct{}]
	cooldown time.Duration
	openedAt atomic.Int64 // unix nanoseconds of the latest opening, for CircuitOpenError
}

func newBreaker(p BreakerPolicy, observe func(from, to BreakerState)) *breaker {
	if p.MinCalls == 0 {
		return nil
	}
	if p.FailureRatio == 0 {
		p.FailureRatio = DefaultBreakerPolicy.FailureRatio
	}
	if p.Window == 0 {
		p.Window = DefaultBreakerPolicy.Window
	}
	if p.Cooldown == 0 {
		p.Cooldown = DefaultBreakerPolicy.Cooldown
	}
	b := &breaker{cooldown: p.Cooldown}
	minCalls := uint32(p.MinCalls)
	b.cb = gobreaker.NewTwoStepCircuitBreaker[struct{}](gobreaker.Settings{
		Name: "kajabi",
		// One probe at a time while half-open; its success closes the breaker.
		MaxRequests: 1,
		// Ten buckets: a failure leaves the count within a tenth of Window of its age.
		Interval:     p.Window,
		BucketPeriod: p.Window / 10,
		Timeout:      p.Cooldown,
		ReadyToTrip: func(c gobreaker.Counts) bool {
			n := c.TotalSuccesses + c.TotalFailures
			return n >= minCalls && float64(c.TotalFailures) >= p.FailureRatio*float64(n)
		},
		IsExcluded: func(err error) bool { return errors.Is(err, errNoOutcome) },
		// gobreaker calls this with its lock held, so observers see changes in order.
		OnStateChange: func(_ string, from, to gobreaker.State) {
			if to == gobreaker.StateOpen {
				b.openedAt.Store(time.Now().UnixNano())
			}
			if observe != nil {
				observe(breakerState(from), breakerState(to))
			}
		},
	})
	return b
}

func noOutcome(outcome) {}

// allow admits a call, or refuses it with a *CircuitOpenError. An admitted call must
// report its outcome through done; only the first report counts.
func (b *breaker) allow() (done func(outcome), err error) {
	if b == nil {
		return noOutcome, nil
	}
	report, err := b.cb.Allow()
	if errors.Is(err, gobreaker.ErrOpenState) {
		left := time.Unix(0, b.openedAt.Load()).Add(b.cooldown).Sub(time.Now())
		return nil, &CircuitOpenError{RetryAfter: max(left, time.Nanosecond)}
	}
	if err != nil { // half-open, and the probe is out
		return nil, &CircuitOpenError{}
	}
	var once sync.Once
	return func(o outcome) {
		once.Do(func() {
			switch o {
			case outcomeSuccess:
				report(nil)
			case outcomeFailure:
				report(errKajabiFailing)
			default:
				report(errNoOutcome)
			}
		})
	}, nil
}

// closed reports whether calls flow freely; a retry waits for that.
func (b *breaker) closed() bool {
	return b == nil || b.cb.State() == gobreaker.StateClosed
}

// BreakerState reports the state of the client's circuit breaker, for metrics and status;
// BreakerClosed when the breaker is off. An open breaker whose cool-down has ended reads
// half-open.
func (c *Client) BreakerState() BreakerState {
	if c.breaker == nil {
		return BreakerClosed
	}
	return breakerState(c.breaker.cb.State())
}

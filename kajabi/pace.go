package kajabi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Pacer holds what paces the calls to a Kajabi account: the account's rate budget, and
// the pause Kajabi asks for when it answers 429 with Retry-After. account is an opaque
// key per credential (a hash: never the credential itself).
//
// NewPacer's is in process: its pauses are shared by every caller of the Client, and its
// rate is the process's. A Pacer on a shared store (Redis) makes both the fleet's; it
// must bound each call to the store and keep serving when the store does not answer.
type Pacer interface {
	// Wait takes one call's turn in account's rate budget, waiting for it while ctx
	// allows; it fails at once when the turn would come after ctx's deadline. The turn
	// must leave keep turns of the burst in the budget (at most burst-1 are kept): a
	// caller with a backlog takes its turns only above that reserve, so a caller without
	// one finds a turn at once (see Limits.Reserve). keep 0 may take the last turn.
	Wait(ctx context.Context, account string, keep int) error
	// Pause holds account's calls until until (a later pause wins over an earlier one).
	Pause(ctx context.Context, account string, until time.Time)
	// PausedUntil is when account's pause ends; the zero time when it is not paused.
	PausedUntil(ctx context.Context, account string) time.Time
	// Until is how long from now until n more calls of account would all have had their
	// turns, counting the turns already taken; it reserves nothing. It is what admission
	// asks before it lets a request start that needs n calls.
	Until(ctx context.Context, account string, n int) time.Duration
}

// NewPacer returns the in-process Pacer: a token bucket of ratePerSec calls a second with
// room for burst at once (golang.org/x/time/rate), shared by every account, since one
// process of this service serves one account or forwards its callers' tokens within
// one budget; and pauses kept per account. ratePerSec 0 (or +Inf) is no rate bound;
// burst 0 means ratePerSec rounded up, at least 1.
func NewPacer(ratePerSec float64, burst int) Pacer {
	p := &localPacer{paused: map[string]time.Time{}}
	if ratePerSec > 0 && !math.IsInf(ratePerSec, 1) {
		if burst <= 0 {
			burst = max(int(math.Ceil(ratePerSec)), 1)
		}
		p.limit = rate.NewLimiter(rate.Limit(ratePerSec), burst)
	}
	return p
}

type localPacer struct {
	limit *rate.Limiter // nil: no rate bound

	mu     sync.Mutex
	paused map[string]time.Time
}

func (p *localPacer) Wait(ctx context.Context, _ string, keep int) error {
	if p.limit == nil {
		return nil
	}
	if keep = min(keep, p.limit.Burst()-1); keep <= 0 {
		if err := p.limit.Wait(ctx); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return errNoTurn
		}
		return nil
	}
	// x/time/rate books turns ahead but cannot book one that leaves tokens behind, so a
	// call keeping a reserve looks, sleeps until the bucket has refilled above it, and
	// takes its turn then. Calls without a backlog may take one in between: they are
	// what the reserve is for.
	deadline, hasDeadline := ctx.Deadline()
	for {
		now := time.Now()
		missing := float64(keep+1) - p.limit.TokensAt(now)
		if missing <= 0 {
			if p.limit.AllowN(now, 1) {
				return nil
			}
			continue // taken in between: look again
		}
		wait := time.Duration(math.Ceil(missing / float64(p.limit.Limit()) * float64(time.Second)))
		if hasDeadline && now.Add(wait).After(deadline) {
			return errNoTurn
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
}

// errNoTurn is a turn that would come after the deadline: it fails now, as the deadline
// would.
var errNoTurn = fmt.Errorf("%w: no rate slot before the deadline", context.DeadlineExceeded)

func (p *localPacer) Until(_ context.Context, _ string, n int) time.Duration {
	if p.limit == nil || n <= 0 {
		return 0
	}
	// Tokens is negative while turns are booked ahead; the n-th call waits for what is
	// missing at the limiter's rate.
	missing := float64(n) - p.limit.Tokens()
	if missing <= 0 {
		return 0
	}
	return time.Duration(missing / float64(p.limit.Limit()) * float64(time.Second))
}

func (p *localPacer) Pause(_ context.Context, account string, until time.Time) {
	now := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	for a, t := range p.paused { // few entries: one per account paused in the last seconds
		if !t.After(now) {
			delete(p.paused, a)
		}
	}
	if until.After(p.paused[account]) {
		p.paused[account] = until
	}
}

func (p *localPacer) PausedUntil(_ context.Context, account string) time.Time {
	p.mu.Lock()
	t := p.paused[account]
	p.mu.Unlock()
	if !t.After(time.Now()) {
		return time.Time{}
	}
	return t
}

// RateWait is how long until n more calls of this client would all have had their turns
// in its account's rate budget, and past any pause Kajabi asked for; it reserves nothing.
// Calls waiting in the client for their turn are not counted: callers that know how many
// are coming (the HTTP edge's admission) add them to n.
func (c *Client) RateWait(ctx context.Context, n int) time.Duration {
	token := ""
	if t, ok := c.tokens.(StaticToken); ok {
		token = string(t)
	}
	account := c.accountKey(token)
	// Calls with a backlog leave the reserve in the budget, and n calls are a backlog.
	wait := c.pacer.Until(ctx, account, n+c.gate.reserve)
	if until := c.pacer.PausedUntil(ctx, account); !until.IsZero() {
		wait = max(wait, time.Until(until))
	}
	return wait
}

// WithPacer replaces the Pacer NewClient builds from Limits' Rate and Burst, for example
// with one that shares the budget and pauses across processes.
func WithPacer(p Pacer) Option {
	return func(c *Client) error {
		c.pacer = p
		return nil
	}
}

// accountKey names the account a call spends the budget of: the client's own client id
// when it has client credentials (its tokens come and go), otherwise the bearer token.
// Hashed, so the key can never leak the credential.
func (c *Client) accountKey(token string) string {
	if cc, ok := c.tokens.(*ClientCredentials); ok {
		token = "client_id:" + cc.ClientID
	}
	if token == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:16])
}

package fleet

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/redis/go-redis/v9"
)

// reserve is GCRA over Redis's own clock, atomic in one script: every replica asking for
// the same account reads and moves the same theoretical arrival time (tat). A call may start
// at max(now, pause end, tat - tolerance); reserving moves tat one interval on. When the
// start is further away than the caller can wait, nothing is reserved and the wait is
// returned negated, so a refused call costs the budget nothing.
//
// KEYS[1] tat (µs), KEYS[2] pause; ARGV[1] interval µs, ARGV[2] tolerance µs, ARGV[3] max wait µs.
var reserve = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local maxwait = tonumber(ARGV[3])
local earliest = now
local pause = redis.call('PTTL', KEYS[2])
if pause > 0 then earliest = now + pause * 1000 end
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < earliest then tat = earliest end
local start = tat - tolerance
if start < earliest then start = earliest end
local wait = start - now
if wait > maxwait then return -wait end
local newtat = tat + interval
redis.call('SET', KEYS[1], newtat, 'PX', math.floor((newtat - now) / 1000) + 1000)
return wait
`)

// extendPause sets the account's pause to end in ARGV[1] ms unless it already ends later.
var extendPause = redis.NewScript(`
local ms = tonumber(ARGV[1])
if redis.call('PTTL', KEYS[1]) < ms then redis.call('SET', KEYS[1], '1', 'PX', ms) end
return 0
`)

// Local is what a Limiter falls back to in local mode: the process's own limiter, built
// with a share of the budget small enough that the fleet stays within it while Redis is
// gone.
type Local interface {
	Wait(ctx context.Context, account string) error
	Pause(account string, d time.Duration)
}

// Limiter holds every replica together to one rate per Kajabi account, and makes a pause
// that one replica was asked for (429 with Retry-After) hold on all of them.
type Limiter struct {
	s         *Store
	interval  time.Duration
	tolerance time.Duration
	local     Local
}

// Limiter returns the fleet's limiter for rate calls a second per account with bursts of
// burst calls; local serves while Redis cannot be reached.
func (s *Store) Limiter(rate float64, burst int, local Local) *Limiter {
	burst = max(burst, 1)
	interval := time.Duration(float64(time.Second) / rate)
	return &Limiter{s: s, interval: interval, tolerance: time.Duration(burst-1) * interval, local: local}
}

// WaitError says the account's next slot starts later than the caller can wait.
type WaitError struct{ Wait time.Duration }

func (e *WaitError) Error() string {
	return fmt.Sprintf("fleet: the account's next Kajabi slot is %v away, past the deadline", e.Wait.Round(time.Millisecond))
}

// Wait blocks until the account's next call may start. When that is after ctx's deadline
// it returns a *WaitError at once, having reserved nothing.
func (l *Limiter) Wait(ctx context.Context, account string) error {
	maxWait := time.Duration(math.MaxInt64)
	if d, ok := ctx.Deadline(); ok {
		maxWait = time.Until(d)
	}
	var got int64
	err := l.s.call(ctx, func(ctx context.Context, r *redis.Client) (err error) {
		keys := []string{l.s.key("tat", "{"+account+"}"), l.s.key("pause", "{"+account+"}")}
		got, err = reserve.Run(ctx, r, keys, l.interval.Microseconds(), l.tolerance.Microseconds(), min(maxWait.Microseconds(), math.MaxInt64/2)).Int64()
		return err
	})
	if err != nil {
		return l.local.Wait(ctx, account)
	}
	if got < 0 {
		return &WaitError{Wait: time.Duration(-got) * time.Microsecond}
	}
	if got == 0 {
		return nil
	}
	t := time.NewTimer(time.Duration(got) * time.Microsecond)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Pause holds every replica's calls for the account for d. The local limiter pauses too,
// so the pause survives a switch to local mode.
func (l *Limiter) Pause(ctx context.Context, account string, d time.Duration) {
	l.local.Pause(account, d)
	_ = l.s.call(ctx, func(ctx context.Context, r *redis.Client) error {
		return extendPause.Run(ctx, r, []string{l.s.key("pause", "{"+account+"}")}, max(d.Milliseconds(), 1)).Err()
	})
}

package fleet

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/kajabi-graphql/facade/kajabi"
)

// reserve is GCRA over Redis's own clock, atomic in one script: every replica asking for
// the same account reads and moves the same theoretical arrival time (tat). A call may start
// at max(now, pause end, tat - tolerance); reserving moves tat one interval on. When the
// start is further away than the caller can wait, nothing is reserved and the wait is
// returned negated, so a refused call costs the budget nothing.
//
// A call that keeps a reserve of the burst (kajabi.Limits.Reserve) may start only once that
// many more turns would also be free: reserve intervals later, so ARGV[4] is taken off the
// tolerance.
//
// KEYS[1] tat (µs), KEYS[2] pause; ARGV[1] interval µs, ARGV[2] tolerance µs, ARGV[3] max
// wait µs, ARGV[4] reserve µs (at most the tolerance).
var reserve = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2]) - tonumber(ARGV[4])
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

// until reads, without reserving, how far from now the n-th of n more turns would start:
// reserve's arithmetic, n-1 intervals on.
//
// KEYS[1] tat (µs), KEYS[2] pause; ARGV[1] interval µs, ARGV[2] tolerance µs, ARGV[3] n.
var until = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local earliest = now
local pause = redis.call('PTTL', KEYS[2])
if pause > 0 then earliest = now + pause * 1000 end
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < earliest then tat = earliest end
local start = tat + (tonumber(ARGV[3]) - 1) * tonumber(ARGV[1]) - tonumber(ARGV[2])
if start < earliest then start = earliest end
return start - now
`)

// extendPause sets the account's pause to end in ARGV[1] ms unless it already ends later.
var extendPause = redis.NewScript(`
local ms = tonumber(ARGV[1])
if redis.call('PTTL', KEYS[1]) < ms then redis.call('SET', KEYS[1], '1', 'PX', ms) end
return 0
`)

// Pacer is the fleet's kajabi.Pacer: every replica together holds one rate per Kajabi
// account, and a pause that one replica was asked for (429 with Retry-After) holds all of
// them. While Redis is away, local (the process's own pacer, built with a share of the
// budget small enough that the fleet stays within it) paces alone.
type Pacer struct {
	s         *Store
	interval  time.Duration
	tolerance time.Duration
	local     kajabi.Pacer
}

var _ kajabi.Pacer = (*Pacer)(nil)

// Pacer returns the fleet's pacer for rate calls a second per account with bursts of
// burst calls.
func (s *Store) Pacer(rate float64, burst int, local kajabi.Pacer) *Pacer {
	burst = max(burst, 1)
	interval := time.Duration(float64(time.Second) / rate)
	return &Pacer{s: s, interval: interval, tolerance: time.Duration(burst-1) * interval, local: local}
}

// WaitError says the account's next turn comes later than the caller can wait.
type WaitError struct{ Wait time.Duration }

func (e *WaitError) Error() string {
	return fmt.Sprintf("fleet: the account's next Kajabi turn is %v away, past the deadline", e.Wait.Round(time.Millisecond))
}

// Unwrap makes a turn past the deadline fail as the deadline would.
func (e *WaitError) Unwrap() error { return context.DeadlineExceeded }

func (p *Pacer) keys(account string) (tat, pause string) {
	return p.s.key("tat", "{"+account+"}"), p.s.key("pause", "{"+account+"}")
}

// Wait takes the account's next turn in the fleet's budget that leaves keep turns of the
// burst free. When that turn is after ctx's deadline it returns a *WaitError at once,
// having reserved nothing.
func (p *Pacer) Wait(ctx context.Context, account string, keep int) error {
	maxWait := time.Duration(math.MaxInt64 / 2)
	if d, ok := ctx.Deadline(); ok {
		maxWait = time.Until(d)
	}
	kept := min(time.Duration(max(keep, 0))*p.interval, p.tolerance)
	var got int64
	err := p.s.call(ctx, func(ctx context.Context, r *redis.Client) (err error) {
		tat, pause := p.keys(account)
		got, err = reserve.Run(ctx, r, []string{tat, pause}, p.interval.Microseconds(), p.tolerance.Microseconds(), maxWait.Microseconds(), kept.Microseconds()).Int64()
		return err
	})
	if err != nil {
		return p.local.Wait(ctx, account, keep)
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

// Until is how long until n more of the account's turns would have started across the
// fleet, read from Redis without reserving; the local pacer's answer while Redis is away.
func (p *Pacer) Until(ctx context.Context, account string, n int) time.Duration {
	if n <= 0 {
		return 0
	}
	var got int64
	err := p.s.call(ctx, func(ctx context.Context, r *redis.Client) (err error) {
		tat, pause := p.keys(account)
		got, err = until.Run(ctx, r, []string{tat, pause}, p.interval.Microseconds(), p.tolerance.Microseconds(), n).Int64()
		return err
	})
	if err != nil {
		return p.local.Until(ctx, account, n)
	}
	return time.Duration(max(got, 0)) * time.Microsecond
}

// Pause holds every replica's calls for the account until until. The local pacer pauses
// too, so the pause outlives a switch to local mode.
func (p *Pacer) Pause(ctx context.Context, account string, until time.Time) {
	p.local.Pause(ctx, account, until)
	ms := time.Until(until).Milliseconds()
	if ms <= 0 {
		return
	}
	_, pause := p.keys(account)
	_ = p.s.call(ctx, func(ctx context.Context, r *redis.Client) error {
		return extendPause.Run(ctx, r, []string{pause}, ms).Err()
	})
}

// PausedUntil is when the account's fleet-wide pause ends; the local pacer's answer while
// Redis is away.
func (p *Pacer) PausedUntil(ctx context.Context, account string) time.Time {
	var left time.Duration
	_, pause := p.keys(account)
	err := p.s.call(ctx, func(ctx context.Context, r *redis.Client) (err error) {
		left, err = r.PTTL(ctx, pause).Result()
		return err
	})
	if err != nil {
		return p.local.PausedUntil(ctx, account)
	}
	if left <= 0 {
		return time.Time{}
	}
	return time.Now().Add(left)
}

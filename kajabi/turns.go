package kajabi

import (
	"context"
	"math"
	"slices"
	"sync"
)

type callerKey struct{}

// WithCaller is ctx naming who the calls made with it are for: an API key's id, a hash of
// a caller's token. Waiting calls are served round-robin between callers (see gate), so
// one caller with many calls queued cannot hold back another's few. Calls without a
// caller share the name "".
func WithCaller(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, callerKey{}, id)
}

func callerOf(ctx context.Context) string {
	id, _ := ctx.Value(callerKey{}).(string)
	return id
}

// gate hands out what a call needs before it is sent, a concurrency slot (Limits.
// Concurrency) and then its turn in the Pacer's rate budget, fairly between callers.
// Calls that cannot go at once wait in one queue per caller; callers are served
// round-robin, one call each in turn. Of the calls whose caller has others waiting,
// only one at a time takes its turn from the Pacer, so the Pacer never holds more than
// one such reservation of this process: a turn reserved is a turn given to the caller
// whose round it is, not to whoever queued first. That is the point: with x/time/rate
// (or GCRA on Redis) alone, every waiting call books the next free turn, and a caller
// with 2,000 calls queued books 20 s of a 100/s budget ahead of everyone else.
//
// A call alone (its caller has no other call waiting here) does not wait for that
// round: with a slot free it takes its turn at once, and may take it from Limits.
// Reserve, which a call with more of its caller's queued behind it leaves in the budget.
// So under a flood from one caller another caller's few calls go at once, instead of
// waiting for the next turn (1/Rate) and their round. At most one call per caller is
// alone, so what skips the round is bounded by the callers.
//
// The cost is that the round's turns are taken one after the other: a Pacer answering
// from Redis gives this process at most one turn per round trip (a few thousand a
// second), far above any Kajabi budget. A channel of slots (the old limiter) was FIFO
// per call.
type gate struct {
	pacer     Pacer
	reserve   int  // Limits.Reserve, within the burst
	unlimited bool // no concurrency bound
	mu        sync.Mutex
	free      int            // concurrency slots free
	pacing    bool           // a call of the round is taking its turn from the Pacer
	turns     map[string]int // calls taking their turn from the Pacer, per caller
	queues    map[string][]*ticket
	ring      []string // callers with calls waiting, in the order they are served
}

type ticket struct {
	ready   chan struct{}
	granted bool // guarded by gate.mu, as are the fields below
	alone   bool // granted outside the round
	keep    int  // turns to leave in the budget
}

func newGate(l Limits, p Pacer) *gate {
	burst := l.Burst
	if burst <= 0 {
		burst = max(int(math.Ceil(l.Rate)), 1)
	}
	return &gate{
		pacer: p, reserve: min(max(l.Reserve, 0), burst-1),
		unlimited: l.Concurrency == 0, free: l.Concurrency,
		turns: map[string]int{}, queues: map[string][]*ticket{},
	}
}

// acquire waits for a slot and the account's turn for ctx's caller; release gives the
// slot back. It fails as the Pacer does, or when ctx ends first.
func (g *gate) acquire(ctx context.Context, account string) (release func(), err error) {
	caller := callerOf(ctx)
	t := &ticket{ready: make(chan struct{})}
	g.mu.Lock()
	if len(g.queues[caller]) == 0 {
		g.ring = append(g.ring, caller)
	}
	g.queues[caller] = append(g.queues[caller], t)
	g.dispatch()
	g.mu.Unlock()
	select {
	case <-t.ready:
	case <-ctx.Done():
		g.mu.Lock()
		if !t.granted {
			g.drop(caller, t)
			g.dispatch() // its caller's last call may be alone now
			g.mu.Unlock()
			return nil, ctx.Err()
		}
		g.mu.Unlock()
		// Granted as ctx ended: pass the turn and the slot on.
		g.paced(caller, t)
		g.releaseSlot()
		return nil, ctx.Err()
	}
	err = g.pacer.Wait(ctx, account, t.keep)
	g.paced(caller, t)
	if err != nil {
		g.releaseSlot()
		return nil, err
	}
	var once sync.Once
	return func() { once.Do(g.releaseSlot) }, nil
}

// paced ends t's taking of its turn, handing the Pacer to the next call of the round.
func (g *gate) paced(caller string, t *ticket) {
	g.mu.Lock()
	if !t.alone {
		g.pacing = false
	}
	if g.turns[caller]--; g.turns[caller] <= 0 {
		delete(g.turns, caller)
	}
	g.dispatch()
	g.mu.Unlock()
}

func (g *gate) releaseSlot() {
	g.mu.Lock()
	if !g.unlimited {
		g.free++
	}
	g.dispatch()
	g.mu.Unlock()
}

// dispatch grants, while slots are free, every call that is alone, and the next call of
// the round when the Pacer is free; g.mu is held.
func (g *gate) dispatch() {
	for i := 0; i < len(g.ring) && (g.unlimited || g.free > 0); {
		caller := g.ring[i]
		q := g.queues[caller]
		alone := len(q) == 1 && g.turns[caller] == 0
		if !alone && g.pacing {
			i++
			continue
		}
		t := q[0]
		q[0] = nil
		g.ring = slices.Delete(g.ring, i, i+1)
		if q = q[1:]; len(q) > 0 {
			g.queues[caller] = q
			g.ring = append(g.ring, caller)
		} else {
			delete(g.queues, caller)
		}
		if !g.unlimited {
			g.free--
		}
		g.turns[caller]++
		t.alone = alone
		if !alone {
			g.pacing = true
			if len(q) > 0 {
				t.keep = g.reserve
			}
		}
		t.granted = true
		close(t.ready)
	}
}

// drop takes a ticket that gave up out of its caller's queue; g.mu is held.
func (g *gate) drop(caller string, t *ticket) {
	q := g.queues[caller]
	for i, x := range q {
		if x == t {
			q = slices.Delete(q, i, i+1)
			break
		}
	}
	if len(q) > 0 {
		g.queues[caller] = q
		return
	}
	delete(g.queues, caller)
	for i, c := range g.ring {
		if c == caller {
			g.ring = slices.Delete(g.ring, i, i+1)
			break
		}
	}
}

package kajabi

import (
	"context"
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
// round-robin, one call each in turn. Only the call at the head takes its turn from the
// Pacer, so the Pacer never holds more than one reservation of this process: a turn
// reserved is a turn given to the caller whose round it is, not to whoever queued first.
// That is the point: with x/time/rate (or GCRA on Redis) alone, every waiting call books
// the next free turn, and a caller with 2,000 calls queued books 20 s of a 100/s budget
// ahead of everyone else.
//
// The cost is that turns are taken one after the other: a Pacer answering from Redis
// gives this process at most one turn per round trip (a few thousand a second), far
// above any Kajabi budget. A channel of slots (the old limiter) was FIFO per call.
type gate struct {
	pacer     Pacer
	unlimited bool // no concurrency bound
	mu        sync.Mutex
	free      int  // concurrency slots free
	pacing    bool // a granted call is taking its turn from the Pacer
	queues    map[string][]*ticket
	ring      []string // callers with calls waiting, in the order they are served
}

type ticket struct {
	ready   chan struct{}
	granted bool // guarded by gate.mu
}

func newGate(l Limits, p Pacer) *gate {
	return &gate{pacer: p, unlimited: l.Concurrency == 0, free: l.Concurrency, queues: map[string][]*ticket{}}
}

// acquire waits for a slot and the account's turn for ctx's caller; release gives the
// slot back. It fails as the Pacer does, or when ctx ends first.
func (g *gate) acquire(ctx context.Context, account string) (release func(), err error) {
	g.mu.Lock()
	if len(g.ring) == 0 && !g.pacing && (g.unlimited || g.free > 0) {
		g.take()
		g.mu.Unlock()
	} else {
		caller := callerOf(ctx)
		t := &ticket{ready: make(chan struct{})}
		if len(g.queues[caller]) == 0 {
			g.ring = append(g.ring, caller)
		}
		g.queues[caller] = append(g.queues[caller], t)
		g.mu.Unlock()
		select {
		case <-t.ready:
		case <-ctx.Done():
			g.mu.Lock()
			if !t.granted {
				g.drop(caller, t)
				g.mu.Unlock()
				return nil, ctx.Err()
			}
			g.mu.Unlock()
			// Granted as ctx ended: pass the turn and the slot on.
			g.paced()
			g.releaseSlot()
			return nil, ctx.Err()
		}
	}
	err = g.pacer.Wait(ctx, account)
	g.paced()
	if err != nil {
		g.releaseSlot()
		return nil, err
	}
	var once sync.Once
	return func() { once.Do(g.releaseSlot) }, nil
}

// take gives the caller at hand a slot and the Pacer; g.mu is held.
func (g *gate) take() {
	if !g.unlimited {
		g.free--
	}
	g.pacing = true
}

// paced hands the Pacer to the next caller in the round.
func (g *gate) paced() {
	g.mu.Lock()
	g.pacing = false
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

// dispatch grants the next call of the round when the Pacer and a slot are free; g.mu is
// held.
func (g *gate) dispatch() {
	if g.pacing || len(g.ring) == 0 || (!g.unlimited && g.free == 0) {
		return
	}
	caller := g.ring[0]
	g.ring = g.ring[1:]
	q := g.queues[caller]
	t := q[0]
	q[0] = nil
	if q = q[1:]; len(q) > 0 {
		g.queues[caller] = q
		g.ring = append(g.ring, caller)
	} else {
		delete(g.queues, caller)
	}
	g.take()
	t.granted = true
	close(t.ready)
}

// drop takes a ticket that gave up out of its caller's queue; g.mu is held.
func (g *gate) drop(caller string, t *ticket) {
	q := g.queues[caller]
	for i, x := range q {
		if x == t {
			q = append(q[:i:i], q[i+1:]...)
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
			g.ring = append(g.ring[:i:i], g.ring[i+1:]...)
			break
		}
	}
}

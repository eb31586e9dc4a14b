package live

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/kajabi-graphql/facade/graph/loader"
)

// Bus carries events between the replicas of a fleet; graph/fleet.Store on Redis is one.
type Bus interface {
	Publish(ctx context.Context, channel string, msg []byte) error
	Subscribe(ctx context.Context, channel string, fn func([]byte))
	Claim(ctx context.Context, key string, ttl time.Duration) (first, ok bool)
}

// Options configure a Hub.
type Options struct {
	// Bus, when set, fans events out to every replica; nil keeps them in process.
	Bus Bus
	// Cache is forgotten in where an event changes what it holds; nil holds nothing.
	Cache *loader.Cache
	// Buffer is how many events a subscriber may fall behind before it is dropped; 0
	// means 64.
	Buffer int
	// MaxPerCaller bounds the subscriptions one caller holds at once; 0 means 20.
	MaxPerCaller int
	// Window is how long an event id is remembered, so a retried delivery is delivered
	// once; 0 means 1h.
	Window time.Duration
	// Observe hears the outcome of every delivery to the Receiver (accepted, duplicate,
	// bad_secret, too_large, bad_shape, bad_method, overloaded), for metrics.
	Observe func(outcome string)
	Logger  zerolog.Logger
}

// Filter chooses the events a subscription sees: "" and nil are all.
type Filter struct {
	SiteID string
	Kinds  []Kind
}

func (f Filter) matches(e *Event) bool {
	if f.SiteID != "" && e.SiteID != "" && f.SiteID != e.SiteID {
		return false
	}
	if len(f.Kinds) == 0 {
		return true
	}
	for _, k := range f.Kinds {
		if k == e.Kind {
			return true
		}
	}
	return false
}

// Errors a subscription ends or is refused with.
var (
	ErrTooSlow              = errors.New("the subscriber fell behind by more events than its buffer holds and was dropped; subscribe again")
	ErrTooManySubscriptions = errors.New("this caller holds as many subscriptions as it may; end one first")
)

// Hub fans events out to this process's subscribers, and through the Bus to the other
// replicas'. Publishing never waits for a subscriber.
type Hub struct {
	opts  Options
	queue chan received

	mu       sync.Mutex
	subs     map[*Subscription]struct{}
	byCaller map[string]int
	seen     map[string]time.Time // event ids delivered, while the Bus is not shared
}

type received struct {
	body []byte
	at   time.Time
}

// wire is an event as it travels between replicas: the body Kajabi sent, so every
// replica decodes it the same way, and when it arrived.
type wire struct {
	At   time.Time       `json:"at"`
	Body json.RawMessage `json:"body"`
}

const channel = "webhooks"

// NewHub starts a hub that runs until ctx ends.
func NewHub(ctx context.Context, opts Options) *Hub {
	if opts.Buffer <= 0 {
		opts.Buffer = 64
	}
	if opts.MaxPerCaller <= 0 {
		opts.MaxPerCaller = 20
	}
	if opts.Window <= 0 {
		opts.Window = time.Hour
	}
	if opts.Observe == nil {
		opts.Observe = func(string) {}
	}
	h := &Hub{opts: opts, queue: make(chan received, 1024), subs: map[*Subscription]struct{}{}, byCaller: map[string]int{}, seen: map[string]time.Time{}}
	if opts.Bus != nil {
		opts.Bus.Subscribe(ctx, channel, func(msg []byte) {
			var w wire
			if json.Unmarshal(msg, &w) != nil {
				return
			}
			if e, err := Parse(w.Body, w.At); err == nil {
				h.dispatch(ctx, e)
			}
		})
	}
	go h.work(ctx)
	return h
}

// enqueue hands a checked delivery to the worker, or reports that the queue is full.
func (h *Hub) enqueue(body []byte, at time.Time) bool {
	select {
	case h.queue <- received{body, at}:
		return true
	default:
		return false
	}
}

func (h *Hub) work(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case r := <-h.queue:
			e, err := Parse(r.body, r.at)
			if err != nil {
				continue // checked before it was queued
			}
			h.Deliver(ctx, e, r.body)
		}
	}
}

// Deliver publishes e (whose webhook body is body) to every replica's subscribers, once
// per event id within the window.
func (h *Hub) Deliver(ctx context.Context, e *Event, body []byte) {
	if !h.first(ctx, e.ID) {
		h.opts.Observe("duplicate")
		return
	}
	if h.opts.Bus != nil {
		msg, _ := json.Marshal(wire{At: e.ReceivedAt, Body: body})
		if h.opts.Bus.Publish(ctx, channel, msg) == nil {
			return // it comes back through the subscription, to this replica too
		}
	}
	h.dispatch(ctx, e)
}

// first reports whether id is new: on the Bus when it answers (SET NX with expiry, so the
// first replica wins), in process otherwise.
func (h *Hub) first(ctx context.Context, id string) bool {
	if h.opts.Bus != nil {
		if first, ok := h.opts.Bus.Claim(ctx, "webhook:"+id, h.opts.Window); ok {
			return first
		}
	}
	now := time.Now()
	h.mu.Lock()
	defer h.mu.Unlock()
	if until, ok := h.seen[id]; ok && now.Before(until) {
		return false
	}
	if len(h.seen) >= 100_000 {
		for k, until := range h.seen {
			if now.After(until) {
				delete(h.seen, k)
			}
		}
	}
	h.seen[id] = now.Add(h.opts.Window)
	return true
}

// dispatch forgets what e made stale in the cache and hands e to every matching
// subscriber of this process. A subscriber whose buffer is full is dropped.
func (h *Hub) dispatch(ctx context.Context, e *Event) {
	if e.SiteID != "" {
		switch e.Kind {
		case Purchase, OrderCreated, PaymentSucceeded:
			h.opts.Cache.ForgetPurchase(ctx, e.SiteID)
		case TagAdded, TagRemoved:
			h.opts.Cache.ForgetTagging(ctx, e.SiteID)
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		if !s.filter.matches(e) {
			continue
		}
		if !s.send(e) {
			s.err = ErrTooSlow
			h.removeLocked(s)
		}
	}
}

// Subscription is one subscriber. The hub sends it events itself, as they are
// dispatched, so a subscription holds a buffered channel and no goroutine of its own.
type Subscription struct {
	hub    *Hub
	caller string
	filter Filter
	err    error
	send   func(*Event) bool // false: the buffer is full
	end    func(err error)   // closes the channel, after a last value when err != nil
}

// Subscribe starts a subscription of h for caller, unless it holds MaxPerCaller already:
// each matching event, as as makes it, on the channel returned, which closes when the
// subscription ends. A subscriber that falls Buffer events behind is dropped with
// ErrTooSlow: dropped(n), n being the events it was sent, is then the channel's last value
// (none when dropped is nil).
func Subscribe[T any](h *Hub, caller string, f Filter, as func(*Event) T, dropped func(sent int) T) (*Subscription, <-chan T, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.byCaller[caller] >= h.opts.MaxPerCaller {
		return nil, nil, ErrTooManySubscriptions
	}
	h.byCaller[caller]++
	// Sorted and compacted, a copy: a caller may name one kind 90,000 times, and every
	// event is matched against every subscriber's kinds under h.mu.
	f.Kinds = slices.Compact(slices.Sorted(slices.Values(f.Kinds)))
	c := make(chan T, h.opts.Buffer+1) // the one more is dropped's
	sent := 0
	s := &Subscription{hub: h, caller: caller, filter: f}
	s.send = func(e *Event) bool {
		if len(c) >= h.opts.Buffer { // only the hub sends, under its lock, so this holds
			return false
		}
		c <- as(e)
		sent++
		return true
	}
	s.end = func(err error) {
		if err != nil && dropped != nil {
			c <- dropped(sent)
		}
		close(c)
	}
	h.subs[s] = struct{}{}
	return s, c, nil
}

// Subscribers is how many subscriptions this process holds.
func (h *Hub) Subscribers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}

// Err is why the subscription ended: ErrTooSlow, or nil.
func (s *Subscription) Err() error {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	return s.err
}

// Close ends the subscription; closing twice is fine.
func (s *Subscription) Close() {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	s.hub.removeLocked(s)
}

func (h *Hub) removeLocked(s *Subscription) {
	if _, ok := h.subs[s]; !ok {
		return
	}
	delete(h.subs, s)
	if h.byCaller[s.caller]--; h.byCaller[s.caller] <= 0 {
		delete(h.byCaller, s.caller)
	}
	s.end(s.err)
}

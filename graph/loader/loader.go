// Package loader holds the per-request dataloaders that resolve a customer's contact, site,
// products and offers without one Kajabi call per row.
//
// A fresh Loaders is built for every HTTP request by Middleware, for the request's Caller
// (decided by the HTTP edge and carried in the context), and fetched with For(ctx). Never
// share one between requests: its caches hold what one caller's credential may see.
//
// Every Kajabi call of a request goes through callOnce, which makes each URL at most once per
// request (later askers share the first answer) and bounds how many calls one request has
// in flight. Slow-changing records (sites, products, offers) may also come from a Cache
// shared across requests, always partitioned by the caller's credential identity.
package loader

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/graph-gophers/dataloader/v7"

	"github.com/kajabi-graphql/facade/kajabi"
)

// Config is what every request's loaders are built from.
type Config struct {
	// Concurrency bounds the Kajabi calls one GraphQL request has in flight; 0 means 64,
	// enough for a page of 20 customers with every relation to go out in one wave.
	Concurrency int
	// Cache shares sites, products and offers across requests; nil turns sharing off.
	Cache *Cache
	// Wait is how long a loader gathers keys before it calls Kajabi; 0 means 2ms.
	Wait time.Duration
	// Observer receives batch sizes and shared-cache look-ups, for metrics.
	Observer Observer
}

// Loaders are one request's loaders and its memo of what Kajabi already answered.
type Loaders struct {
	cfg      Config
	client   *kajabi.Client
	cache    *Cache
	identity string
	observer Observer
	slots    chan struct{}
	calls    atomic.Int64 // Kajabi calls started, cache hits and shared answers not counted

	memoMu sync.Mutex
	memo   map[string]*call
	stale  []StaleAnswer

	// Each loader is built on first use: a list of plain customers needs none of them, and
	// building all eight cost about 100 allocations a request.
	wait time.Duration
	// primed are the customers lists returned before the customers loader was built (most
	// requests never build it); it primes them when it is.
	primeMu        sync.Mutex
	primed         []*kajabi.Customer
	customersBuilt bool

	contacts         lazy[*dataloader.Loader[string, *kajabi.Contact]]
	customers        lazy[*dataloader.Loader[string, *kajabi.Customer]]
	customersByEmail lazy[*dataloader.Loader[emailKey, *kajabi.Customer]]
	customerOffers   lazy[*dataloader.Loader[string, []kajabi.Identifier]]
	sites            lazy[*dataloader.Loader[string, *kajabi.Site]]
	products         lazy[*catalog[*kajabi.Product]]
	offers           lazy[*catalog[*kajabi.Offer]]
	tags             lazy[*catalog[*kajabi.ContactTag]]
}

// lazy is a value built once, by the first get.
type lazy[T any] struct {
	once sync.Once
	v    T
}

func (z *lazy[T]) get(build func() T) T {
	z.once.Do(func() { z.v = build() })
	return z.v
}

func (l *Loaders) contactLoader() *dataloader.Loader[string, *kajabi.Contact] {
	return l.contacts.get(func() *dataloader.Loader[string, *kajabi.Contact] {
		return newLoader(l, "contacts", l.loadContacts, l.wait)
	})
}

func (l *Loaders) customerLoader(ctx context.Context) *dataloader.Loader[string, *kajabi.Customer] {
	return l.customers.get(func() *dataloader.Loader[string, *kajabi.Customer] {
		ld := newLoader(l, "customers", l.loadCustomers, l.wait)
		l.primeMu.Lock()
		defer l.primeMu.Unlock()
		for _, c := range l.primed {
			ld.Prime(ctx, c.ID, c)
		}
		l.primed, l.customersBuilt = nil, true
		return ld
	})
}

func (l *Loaders) customerByEmailLoader() *dataloader.Loader[emailKey, *kajabi.Customer] {
	return l.customersByEmail.get(func() *dataloader.Loader[emailKey, *kajabi.Customer] {
		return newLoader(l, "customers_by_email", l.loadCustomersByEmail, l.wait)
	})
}

func (l *Loaders) customerOfferLoader() *dataloader.Loader[string, []kajabi.Identifier] {
	return l.customerOffers.get(func() *dataloader.Loader[string, []kajabi.Identifier] {
		return newLoader(l, "customer_offers", l.loadCustomerOffers, l.wait)
	})
}

func (l *Loaders) siteLoader() *dataloader.Loader[string, *kajabi.Site] {
	return l.sites.get(func() *dataloader.Loader[string, *kajabi.Site] {
		return newLoader(l, "sites", l.loadSites, l.wait)
	})
}

func (l *Loaders) productCatalog() *catalog[*kajabi.Product] {
	return l.products.get(func() *catalog[*kajabi.Product] { return newCatalog(l, l.wait, productsEndpoint(l.client)) })
}

func (l *Loaders) offerCatalog() *catalog[*kajabi.Offer] {
	return l.offers.get(func() *catalog[*kajabi.Offer] { return newCatalog(l, l.wait, offersEndpoint(l.client)) })
}

func (l *Loaders) tagCatalog() *catalog[*kajabi.ContactTag] {
	return l.tags.get(func() *catalog[*kajabi.ContactTag] { return newCatalog(l, l.wait, tagsEndpoint(l.client)) })
}

type ctxKey struct{}

// New builds the loaders for one request that reaches Kajabi through client, with the
// credential named by identity.
func New(cfg Config, client *kajabi.Client, identity string) *Loaders {
	concurrency := cfg.Concurrency
	if concurrency <= 0 {
		concurrency = 64
	}
	wait := cfg.Wait
	if wait <= 0 {
		wait = 2 * time.Millisecond
	}
	l := &Loaders{
		cfg:      cfg,
		client:   client,
		cache:    cfg.Cache,
		identity: identity,
		observer: cfg.Observer,
		slots:    make(chan struct{}, concurrency),
		memo:     map[string]*call{},
		wait:     wait,
	}
	return l
}

func newLoader[K comparable, V any](l *Loaders, name string, batch dataloader.BatchFunc[K, V], wait time.Duration) *dataloader.Loader[K, V] {
	if observe := l.observer.OnBatch; observe != nil {
		inner := batch
		batch = func(ctx context.Context, keys []K) []*dataloader.Result[V] {
			observe(name, len(keys))
			return inner(ctx, keys)
		}
	}
	return dataloader.NewBatchedLoader(batch, dataloader.WithWait[K, V](wait))
}

// Middleware gives every request its own Loaders, reaching Kajabi as the request's Caller
// (see WithCaller). It panics when no Caller was put in the context, which is a wiring
// bug no request can recover from.
func Middleware(cfg Config, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		caller, ok := CallerOf(r.Context())
		if !ok {
			panic("loader: no Caller in context; the edge's auth step must run first")
		}
		// The client serves waiting calls round-robin by caller, so a busy caller's
		// backlog does not hold back another's calls.
		ctx := kajabi.WithCaller(r.Context(), caller.ID)
		ctx = context.WithValue(ctx, ctxKey{}, New(cfg, caller.Client, caller.Credential))
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// Calls is how many Kajabi calls this request has started so far (each URL once; shared
// cache hits are not calls).
func (l *Loaders) Calls() int64 { return l.calls.Load() }

// Client is the Kajabi client this request's calls go through.
func (l *Loaders) Client() *kajabi.Client { return l.client }

// For returns the request's loaders; it panics when Middleware was left out, which is a
// wiring bug no request can recover from.
func For(ctx context.Context) *Loaders {
	l, ok := ctx.Value(ctxKey{}).(*Loaders)
	if !ok {
		panic("loader: no Loaders in context; wrap the handler in loader.Middleware")
	}
	return l
}

// call is one Kajabi call of a request, shared by everyone who asks for the same key.
type call struct {
	done chan struct{}
	val  any
	err  error
}

// callOnce runs fn at most once per request for key and shares its answer. With shared set,
// the answer may come from, and is put in, the cross-request cache of this identity.
// Calls wait for one of the request's slots, so a wide query cannot flood Kajabi.
func callOnce[T any](ctx context.Context, l *Loaders, key string, shared bool, fn func(context.Context) (T, error)) (T, error) {
	l.memoMu.Lock()
	c, ok := l.memo[key]
	if !ok {
		c = &call{done: make(chan struct{})}
		l.memo[key] = c
	}
	l.memoMu.Unlock()
	if ok {
		select {
		case <-c.done:
		case <-ctx.Done():
			var zero T
			return zero, ctx.Err()
		}
		v, _ := c.val.(T)
		return v, c.err
	}

	defer close(c.done)
	var (
		stale    T
		staleAge time.Duration
		haveOld  bool
	)
	if shared && l.cache != nil {
		v, age, hit := cached[T](ctx, l.cache, l.identity, key)
		fresh := hit && age < l.cache.ttl
		l.observer.cacheLookup(fresh)
		if fresh {
			c.val = v
			return v, nil
		}
		stale, staleAge, haveOld = v, age, hit
	}
	select {
	case l.slots <- struct{}{}:
	case <-ctx.Done():
		c.err = ctx.Err()
		var zero T
		return zero, c.err
	}
	l.calls.Add(1)
	v, err := fn(ctx)
	<-l.slots
	if err != nil && haveOld && kajabiFailed(err) {
		l.noteStale(key, staleAge)
		c.val = stale
		return stale, nil
	}
	c.val, c.err = v, err
	if err == nil && shared && l.cache != nil {
		store(ctx, l.cache, l.identity, key, v)
	}
	return v, err
}

// StaleAnswer names a cached answer served past its TTL because Kajabi failed.
type StaleAnswer struct {
	Resource   string `json:"resource"`
	AgeSeconds int    `json:"ageSeconds"`
}

func (l *Loaders) noteStale(key string, age time.Duration) {
	l.memoMu.Lock()
	defer l.memoMu.Unlock()
	l.stale = append(l.stale, StaleAnswer{Resource: key, AgeSeconds: int(age.Seconds())})
}

// Stale lists what this request was answered from cache past its TTL, because Kajabi
// failed; the edge marks the response with it.
func (l *Loaders) Stale() []StaleAnswer {
	l.memoMu.Lock()
	defer l.memoMu.Unlock()
	return slices.Clone(l.stale)
}

// asked reports whether this request has already made, or is making, the call for key.
func (l *Loaders) asked(key string) bool {
	l.memoMu.Lock()
	defer l.memoMu.Unlock()
	_, ok := l.memo[key]
	return ok
}

// now runs batch on the distinct keys at once, without a loader's window to gather them,
// and returns how to wait for the answers in the order of keys (one error for each key,
// nil when it loaded). The calls go through the request's memo, so they are shared with
// the loaders' own. A panic in batch answers every key with an error, as a loader's would.
func now[K comparable, V any](ctx context.Context, l *Loaders, name string, keys []K, batch dataloader.BatchFunc[K, V]) func() ([]V, []error) {
	index := make(map[K]int, len(keys))
	var distinct []K
	for _, k := range keys {
		if _, ok := index[k]; !ok {
			index[k] = len(distinct)
			distinct = append(distinct, k)
		}
	}
	done := make(chan []*dataloader.Result[V], 1)
	go func() {
		var results []*dataloader.Result[V]
		defer func() {
			if r := recover(); r != nil || len(results) != len(distinct) {
				err := fmt.Errorf("loader: %s batch: panic %v or %d answers for %d keys", name, r, len(results), len(distinct))
				results = make([]*dataloader.Result[V], len(distinct))
				for i := range results {
					results[i] = &dataloader.Result[V]{Error: err}
				}
			}
			done <- results
		}()
		if observe := l.observer.OnBatch; observe != nil && len(distinct) > 0 {
			observe(name, len(distinct))
		}
		results = batch(ctx, distinct)
	}()
	return func() ([]V, []error) {
		results := <-done
		out, errs := make([]V, len(keys)), make([]error, len(keys))
		for i, k := range keys {
			if r := results[index[k]]; r != nil {
				out[i], errs[i] = r.Data, r.Error
			}
		}
		return out, errs
	}
}

// each runs fn for every index at once and waits for all of them; one index runs on the
// caller's goroutine.
func each(n int, fn func(i int)) {
	if n == 1 {
		fn(0)
		return
	}
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { fn(i) })
	}
	wg.Wait()
}

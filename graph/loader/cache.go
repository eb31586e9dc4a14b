package loader

import (
	"bytes"
	"context"
	"encoding/gob"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"

	"github.com/kajabi-graphql/facade/kajabi"
)

// Cache keeps slow-changing Kajabi records (sites, products, offers) across requests for a
// while. Entries are partitioned by credential identity: two tokens never share one, so a
// caller can only be served what its own credential was answered.
//
// With SharedIn, replicas share entries through a byte store (graph/fleet on Redis): what
// one replica fetched, the others serve. With StaleIfError, an entry past its TTL is kept a
// while longer and served when Kajabi fails, marked stale in the answer (see Loaders.Stale).
type Cache struct {
	ttl    time.Duration
	stale  time.Duration
	shared SharedStore
	// nil when the ttl is not positive: such a cache holds nothing, as entries that
	// expire on arrival would. (expirable reads a zero ttl as "never expire".)
	lru *expirable.LRU[cacheKey, entry]
}

type cacheKey struct{ identity, key string }

type entry struct {
	val any
	at  time.Time // when Kajabi answered it
}

// SharedStore is a byte store the replicas of a fleet share; graph/fleet.Store is one. A
// failure there is a miss, never an error.
type SharedStore interface {
	Get(ctx context.Context, key string) ([]byte, bool)
	Set(ctx context.Context, key string, val []byte, ttl time.Duration)
	Delete(ctx context.Context, keys ...string)
}

// CacheOption changes what NewCache builds.
type CacheOption func(*Cache)

// SharedIn shares the cache's entries with the other replicas through store.
func SharedIn(store SharedStore) CacheOption { return func(c *Cache) { c.shared = store } }

// StaleIfError keeps entries for d past their TTL, to answer with when Kajabi fails.
func StaleIfError(d time.Duration) CacheOption { return func(c *Cache) { c.stale = max(d, 0) } }

// NewCache returns a cache whose entries live for ttl, holding at most maxEntries (10,000
// when not positive); past the bound the least recently used entry goes. Each cache keeps
// one goroutine that drops expired entries for the life of the process, so build one per
// process, not per request.
func NewCache(ttl time.Duration, maxEntries int, opts ...CacheOption) *Cache {
	if maxEntries <= 0 {
		maxEntries = 10_000
	}
	c := &Cache{ttl: ttl}
	for _, o := range opts {
		o(c)
	}
	if ttl > 0 {
		c.lru = expirable.NewLRU[cacheKey, entry](maxEntries, nil, ttl+c.stale)
	}
	return c
}

// wire is an entry as the shared store holds it. gob, not JSON: the Kajabi records' JSON
// form is JSON:API's, and gob carries their ids and relationships as the structs hold them.
type wire[T any] struct {
	At time.Time
	V  T
}

func sharedKey(identity, key string) string { return "cache:" + identity + ":" + key }

// cached returns the entry for key and how old it is: this process's copy, else the
// fleet's.
func cached[T any](ctx context.Context, c *Cache, identity, key string) (v T, age time.Duration, ok bool) {
	if c.lru == nil {
		return v, 0, false
	}
	if e, hit := c.lru.Get(cacheKey{identity, key}); hit {
		v, ok = e.val.(T)
		return v, time.Since(e.at), ok
	}
	if c.shared == nil {
		return v, 0, false
	}
	b, hit := c.shared.Get(ctx, sharedKey(identity, key))
	if !hit {
		return v, 0, false
	}
	var w wire[T]
	if gob.NewDecoder(bytes.NewReader(b)).Decode(&w) != nil {
		return v, 0, false
	}
	c.lru.Add(cacheKey{identity, key}, entry{val: w.V, at: w.At})
	return w.V, time.Since(w.At), true
}

// store keeps v as Kajabi's answer for key, here and in the fleet's store.
func store[T any](ctx context.Context, c *Cache, identity, key string, v T) {
	if c.lru == nil {
		return
	}
	now := time.Now()
	c.lru.Add(cacheKey{identity, key}, entry{val: v, at: now})
	if c.shared == nil {
		return
	}
	var b bytes.Buffer
	if gob.NewEncoder(&b).Encode(wire[T]{At: now, V: v}) == nil {
		c.shared.Set(ctx, sharedKey(identity, key), b.Bytes(), c.ttl+c.stale)
	}
}

// Forget drops entries of identity, here and in the fleet's store: what a write or an
// event made stale.
func (c *Cache) Forget(ctx context.Context, identity string, keys ...string) {
	if c.lru == nil {
		return
	}
	full := make([]string, len(keys))
	for i, k := range keys {
		c.lru.Remove(cacheKey{identity, k})
		full[i] = sharedKey(identity, k)
	}
	if c.shared != nil {
		c.shared.Delete(ctx, full...)
	}
}

// Len is the number of entries held, expired ones included until they are swept.
func (c *Cache) Len() int {
	if c.lru == nil {
		return 0
	}
	return c.lru.Len()
}

// kajabiFailed reports whether err says Kajabi could not answer (5xx, 429, no answer, the
// breaker open), when a stale entry is better than none. Answers about the request itself
// (401, 403, 404) are not.
func kajabiFailed(err error) bool {
	var apiErr *kajabi.ErrorResponse
	if errors.As(err, &apiErr) {
		return apiErr.StatusCode >= 500 || apiErr.StatusCode == http.StatusTooManyRequests
	}
	var te *kajabi.TransportError
	return errors.As(err, &te) || errors.Is(err, kajabi.ErrCircuitOpen)
}

// forget drops the identity's entries whose key starts with prefix: what a write changed.
// The fleet's copies of the entries this process holds go too; one only another replica
// fetched lives out its TTL there.
func (c *Cache) forget(ctx context.Context, identity, prefix string) {
	if c == nil || c.lru == nil {
		return
	}
	var keys []string
	for _, k := range c.lru.Keys() {
		if k.identity == identity && strings.HasPrefix(k.key, prefix) {
			keys = append(keys, k.key)
		}
	}
	c.Forget(ctx, identity, keys...)
}

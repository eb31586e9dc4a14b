package loader

import (
	"strings"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"
)

// Cache keeps slow-changing Kajabi records (sites, products, offers) across requests for a
// while. Entries are partitioned by credential identity: two tokens never share one, so a
// caller can only be served what its own credential was answered.
type Cache struct {
	// nil when the ttl is not positive: such a cache holds nothing, as entries that
	// expire on arrival would. (expirable reads a zero ttl as "never expire".)
	lru *expirable.LRU[cacheKey, any]
}

type cacheKey struct{ identity, key string }

// NewCache returns a cache whose entries live for ttl, holding at most maxEntries (10,000
// when not positive); past the bound the least recently used entry goes. Each cache keeps
// one goroutine that drops expired entries for the life of the process, so build one per
// process, not per request.
func NewCache(ttl time.Duration, maxEntries int) *Cache {
	if maxEntries <= 0 {
		maxEntries = 10_000
	}
	if ttl <= 0 {
		return &Cache{}
	}
	return &Cache{lru: expirable.NewLRU[cacheKey, any](maxEntries, nil, ttl)}
}

func (c *Cache) get(identity, key string) (any, bool) {
	if c.lru == nil {
		return nil, false
	}
	return c.lru.Get(cacheKey{identity, key})
}

func (c *Cache) set(identity, key string, val any) {
	if c.lru != nil {
		c.lru.Add(cacheKey{identity, key}, val)
	}
}

// Len is the number of entries held, expired ones included until they are swept.
func (c *Cache) Len() int {
	if c.lru == nil {
		return 0
	}
	return c.lru.Len()
}

// forget drops the identity's entries whose key starts with prefix: what a write changed.
func (c *Cache) forget(identity, prefix string) {
	if c == nil || c.lru == nil {
		return
	}
	for _, k := range c.lru.Keys() {
		if k.identity == identity && strings.HasPrefix(k.key, prefix) {
			c.lru.Remove(k)
		}
	}
}

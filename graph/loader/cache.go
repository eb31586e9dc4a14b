package loader

import (
	"sync"
	"time"
)

// Cache keeps slow-changing Kajabi records (sites, products, offers) across requests for a
// while. Entries are partitioned by credential identity: two tokens never share one, so a
// caller can only be served what its own credential was answered.
type Cache struct {
	ttl time.Duration
	max int
	now func() time.Time

	mu      sync.Mutex
	entries map[cacheKey]cacheEntry
}

type cacheKey struct{ identity, key string }

type cacheEntry struct {
	val     any
	expires time.Time
}

// NewCache returns a cache whose entries live for ttl, holding at most maxEntries.
func NewCache(ttl time.Duration, maxEntries int) *Cache {
	if maxEntries <= 0 {
		maxEntries = 10_000
	}
	return &Cache{ttl: ttl, max: maxEntries, now: time.Now, entries: map[cacheKey]cacheEntry{}}
}

func (c *Cache) get(identity, key string) (any, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[cacheKey{identity, key}]
	if !ok || !c.now().Before(e.expires) {
		return nil, false
	}
	return e.val, true
}

func (c *Cache) set(identity, key string, val any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if len(c.entries) >= c.max {
		c.evict(now)
	}
	c.entries[cacheKey{identity, key}] = cacheEntry{val: val, expires: now.Add(c.ttl)}
}

// evict drops expired entries, and when none had expired, about a tenth of the rest.
func (c *Cache) evict(now time.Time) {
	for k, e := range c.entries {
		if !now.Before(e.expires) {
			delete(c.entries, k)
		}
	}
	for k := range c.entries {
		if len(c.entries) < c.max*9/10 {
			break
		}
		delete(c.entries, k)
	}
}

// Len is the number of entries held, expired ones included until they are evicted.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

package fleet

import (
	"context"
	"time"

	"github.com/99designs/gqlgen/graphql"
)

// Queries keeps persisted queries (APQ) for the whole fleet: a query registered on one
// replica runs by its hash on every other. It has gqlgen's cache shape; local keeps a copy
// of what this replica saw, and answers alone while Redis is away.
type Queries struct {
	s     *Store
	local graphql.Cache[string]
	ttl   time.Duration
}

// Queries returns the fleet's persisted-query store, entries kept for ttl after their
// last registration.
func (s *Store) Queries(local graphql.Cache[string], ttl time.Duration) *Queries {
	return &Queries{s: s, local: local, ttl: ttl}
}

var _ graphql.Cache[string] = (*Queries)(nil)

func (q *Queries) Get(ctx context.Context, key string) (string, bool) {
	if v, ok := q.local.Get(ctx, key); ok {
		return v, true
	}
	b, ok := q.s.Get(ctx, "apq:"+key)
	if !ok {
		return "", false
	}
	q.local.Add(ctx, key, string(b))
	return string(b), true
}

func (q *Queries) Add(ctx context.Context, key, value string) {
	q.local.Add(ctx, key, value)
	q.s.Set(ctx, "apq:"+key, []byte(value), q.ttl)
}

package graph

import (
	"context"
	"sync"

	"github.com/99designs/gqlgen/graphql"
)

// findEach resolves a gateway's batch of entity representations at once. The look-ups go
// through the request's loaders, so the whole batch shares their batching and memo; one
// that fails is null with its own error at _entities[i], and the others still resolve.
func findEach[R, E any](ctx context.Context, reps []R, find func(context.Context, R) (E, error)) ([]E, error) {
	entities := make([]E, len(reps))
	errs := make(graphql.BatchErrorList, len(reps))
	var wg sync.WaitGroup
	for i, rep := range reps {
		wg.Go(func() { entities[i], errs[i] = find(ctx, rep) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return entities, errs
		}
	}
	return entities, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

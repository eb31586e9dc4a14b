// Package graph is the GraphQL layer: the generated engine, thin resolvers that turn
// arguments into Kajabi client calls, the cost model (NewSchema), the error presenter and
// the one list of error codes (codes.go). It speaks no HTTP: graph/edge serves it.
package graph

//go:generate go run github.com/99designs/gqlgen generate

import (
	"github.com/kajabi-graphql/facade/graph/live"
	"github.com/kajabi-graphql/facade/kajabi"
)

// Resolver holds what the resolvers need; one is shared by all requests.
type Resolver struct {
	Client *kajabi.Client
	// DefaultSiteID fills CustomerFilter.siteId when the caller leaves it out.
	DefaultSiteID string
	// Mutations lets the Mutation fields run (MUTATIONS=true); off, each is FORBIDDEN.
	Mutations bool
	// Live feeds the subscriptions; nil refuses them (LIVE_UNAVAILABLE).
	Live *live.Hub
}

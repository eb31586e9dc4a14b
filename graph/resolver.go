// Package graph is the GraphQL layer: the generated engine, thin resolvers that turn
// arguments into Kajabi client calls, and the HTTP handler with its error presenter.
package graph

//go:generate go run github.com/99designs/gqlgen generate

import "github.com/kajabi-graphql/facade/kajabi"

// Resolver holds what the resolvers need; one is shared by all requests.
type Resolver struct {
	Client *kajabi.Client
	// DefaultSiteID fills CustomerFilter.siteId when the caller leaves it out.
	DefaultSiteID string
}

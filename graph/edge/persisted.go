package edge

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/kajabi-graphql/facade/graph"
)

// persistedQueries is Apollo's automatic persisted queries (gqlgen's extension): a client
// sends a query's SHA-256 instead of its text, and the text once when the service answers
// PERSISTED_QUERY_NOT_FOUND. Hashes are kept per caller, so a hash one caller registered is
// never found by another. Turned off, a request for one answers
// PERSISTED_QUERY_NOT_SUPPORTED, as Apollo Server does, so clients fall back to sending text.
type persistedQueries struct {
	apq *extension.AutomaticPersistedQuery // nil when off
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
} = persistedQueries{}

func newPersistedQueries(on bool, store graphql.Cache[string]) persistedQueries {
	if !on {
		return persistedQueries{}
	}
	return persistedQueries{apq: &extension.AutomaticPersistedQuery{
		Cache: partitionedCache[string]{store},
	}}
}

func (persistedQueries) ExtensionName() string { return "PersistedQueries" }

func (p persistedQueries) Validate(es graphql.ExecutableSchema) error {
	if p.apq == nil {
		return nil
	}
	return p.apq.Validate(es)
}

func (p persistedQueries) MutateOperationParameters(ctx context.Context, params *graphql.RawParams) *gqlerror.Error {
	if params.Extensions["persistedQuery"] == nil {
		return nil
	}
	if p.apq == nil {
		return &gqlerror.Error{
			Message:    "PersistedQueryNotSupported",
			Extensions: map[string]any{"code": graph.CodePersistedQueryDisabled},
		}
	}
	err := p.apq.MutateOperationParameters(ctx, params)
	if err != nil && err.Extensions["code"] == nil {
		// A malformed extension or a hash that does not match the query sent with it.
		if err.Extensions == nil {
			err.Extensions = map[string]any{}
		}
		err.Extensions["code"] = graph.CodeBadRequest
	}
	return err
}

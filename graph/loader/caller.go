package loader

import (
	"context"

	"github.com/kajabi-graphql/facade/kajabi"
)

// Caller is who sent a request and the Kajabi credential that answers it. The HTTP edge's
// auth step decides it once per request and puts it in the context (WithCaller);
// Middleware, the loaders and the resolvers read it from there and decide nothing again.
type Caller struct {
	// ID names the caller without revealing a secret: an API key's id, a hash of the
	// caller's token, or "open". What a caller leaves behind for later requests (persisted
	// queries, parsed documents) is kept under it.
	ID string
	// Client reaches Kajabi with the caller's credential: the service's own, or the
	// caller's token forwarded (kajabi.Client.ForToken).
	Client *kajabi.Client
	// Credential names that credential, never the credential itself; the shared Cache
	// keeps each credential's records apart under it.
	Credential string
	// ReadOnly is a caller whose API key lacks the write scope: mutations are refused
	// before any Kajabi call.
	ReadOnly bool
}

type callerKey struct{}

// WithCaller is ctx carrying c.
func WithCaller(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// CallerOf is the caller ctx carries, and whether it carries one.
func CallerOf(ctx context.Context) (Caller, bool) {
	c, ok := ctx.Value(callerKey{}).(Caller)
	return c, ok
}

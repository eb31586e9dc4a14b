package edge

import (
	"context"
	"io"
	"net/http"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/rs/zerolog"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/kajabi-graphql/facade/graph"
	"github.com/kajabi-graphql/facade/graph/loader"
	"github.com/kajabi-graphql/facade/graph/telemetry"
)

// HandlerOptions tune the GraphQL endpoint.
type HandlerOptions struct {
	// MaxBodyBytes bounds a request body; gqlgen reads POST bodies without limit otherwise.
	MaxBodyBytes int64
	// Introspection lets clients (GraphiQL, codegen) read the schema.
	Introspection bool
	// RequestConcurrency bounds the Kajabi calls one GraphQL request has in flight; 0 means 64.
	RequestConcurrency int
	// Cache shares sites, products and offers across requests of the same credential; nil
	// turns sharing off.
	Cache *loader.Cache
	// Passthrough forwards each caller's own Kajabi token (Authorization: Bearer) through
	// the resolver's client instead of the client's own credentials; a request without a
	// token is refused with 401 (see authenticate).
	Passthrough bool
	// Telemetry, when set, gives every operation a span, metrics and the access log's error
	// codes, and reports the loaders' batches and cache look-ups.
	Telemetry *telemetry.T

	// APIKeys, when set, admits only callers that present one of them (service mode):
	// others get 401 UNAUTHENTICATED before anything runs.
	APIKeys *APIKeys
	// Limits bound what one request may ask for; nil means DefaultRequestLimits.
	Limits *RequestLimits
	// Timeout is the deadline of one GraphQL request, Kajabi calls included; 0 means none.
	Timeout time.Duration
	// FieldSuggestions keeps "Did you mean" hints in validation errors; they reveal the
	// schema, so they go with Introspection.
	FieldSuggestions bool
	// PersistedQueries turns on automatic persisted queries, kept per caller.
	PersistedQueries bool
	// QueryStore keeps persisted queries; nil means 1000 in this process. A fleet passes
	// one on Redis, so a query registered on one replica runs by hash on every other.
	QueryStore graphql.Cache[string]
	// Allowlist, when set, refuses every operation that is not on it.
	Allowlist *OperationAllowlist
	// DisableCSRFPrevention lets GETs and simple-content-type requests through without a
	// preflight header (see preventCSRF). Only for a service no browser can reach.
	DisableCSRFPrevention bool
	// CORSOrigins are the browser origins allowed to call cross-origin; "*" allows any.
	CORSOrigins []string
	// Admission bounds the requests running and waiting, and refuses up front what the
	// Kajabi rate budget cannot serve before the deadline (see Admission).
	Admission Admission
}

// NewHandler builds the GraphQL-over-HTTP endpoint over r's resolvers: POST with JSON and
// GET for queries, with Kajabi errors presented as stable codes and panics contained. The
// order a request passes through is in the package comment; whatever refuses it answers
// with a coded GraphQL error, and nothing before execution calls Kajabi.
func NewHandler(r *graph.Resolver, opts HandlerOptions) http.Handler {
	limits := DefaultRequestLimits
	if opts.Limits != nil {
		limits = *opts.Limits
	}
	srv := handler.New(graph.NewSchema(r))
	srv.AddTransport(transport.Options{AllowedMethods: []string{http.MethodGet, http.MethodPost, http.MethodOptions}})
	for _, t := range subscriptionTransports(opts.CORSOrigins) {
		srv.AddTransport(t)
	}
	// Not transport.GET/POST: they answer 422 to a document error under application/json
	// and send "data": null with request errors; httpTransport follows GraphQL over HTTP.
	srv.AddTransport(httpTransport{})
	// Parsed documents are kept per caller, like persisted queries: nothing one caller
	// leaves behind is found by another, not even by timing.
	queries := partitionedCache[*ast.QueryDocument]{lru.New[*ast.QueryDocument](1000)}
	srv.SetQueryCache(queries)
	srv.SetParserTokenLimit(limits.MaxTokens)
	srv.SetDisableSuggestion(!opts.FieldSuggestions)
	if opts.Introspection {
		srv.Use(extension.Introspection{})
	}
	persisted := opts.QueryStore
	if persisted == nil {
		persisted = lru.New[string](1000)
	}
	srv.Use(newPersistedQueries(opts.PersistedQueries, persisted))
	srv.Use(streamsOnly{})
	srv.Use(&limitsExtension{limits: limits, introspection: opts.Introspection, allowlist: opts.Allowlist, queries: queries})
	admit := newAdmission(opts.Admission)
	srv.Use(rateGate{admit})
	srv.SetErrorPresenter(graph.ErrorPresenter(opts.FieldSuggestions))
	srv.SetRecoverFunc(graph.RecoverPanic)
	srv.AroundOperations(nameOperation)
	srv.AroundOperations(graph.AroundSubscription)
	srv.AroundResponses(graph.AroundEvent)
	srv.AroundResponses(markStale)
	srv.AroundFields(graph.PlainFields)
	if opts.Telemetry != nil {
		srv.Use(opts.Telemetry.GraphQL())
	}

	maxBody := opts.MaxBodyBytes
	if maxBody <= 0 {
		maxBody = 1 << 20
	}
	loaders := loader.Config{Concurrency: opts.RequestConcurrency, Cache: opts.Cache}
	loaders.Observer = opts.Telemetry.LoaderObserver()
	h := loader.Middleware(loaders, srv)
	h = unlessStreaming(h, withDeadline(opts.Timeout, admit.limit(h)))
	h = authenticate(opts.APIKeys, opts.Passthrough, r.Client, h)
	if !opts.DisableCSRFPrevention {
		h = preventCSRF(h)
	}
	h = cors(opts.CORSOrigins, h)
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body := req.Body
		req.Body = limitBody(w, req, maxBody)
		h.ServeHTTP(w, req)
		if req.ContentLength > maxBody {
			drainRefused(w, body)
		}
	})
}

// limitBody bounds what the handlers may read of a request body. A body whose
// Content-Length is already over the bound reads as over it at once, so it is refused
// with the same 413 PAYLOAD_TOO_LARGE without waiting for bytes that would be thrown
// away. Connection: close matters: without it net/http reads up to 256 kB of the unread
// body before it sends the answer, and waits for them.
func limitBody(w http.ResponseWriter, req *http.Request, maxBody int64) io.ReadCloser {
	if req.ContentLength > maxBody {
		w.Header().Set("Connection", "close")
		return declaredTooLarge{limit: maxBody}
	}
	return http.MaxBytesReader(w, req.Body, maxBody)
}

// drainRefused reads and drops, for a moment after the 413 has gone out, what the client
// still sends of a body refused by its Content-Length. Closing a socket with unread bytes
// resets it, and a client still writing its body then loses the answer it was sent.
// Bounded in time and bytes, so a refused request holds nothing for long.
func drainRefused(w http.ResponseWriter, body io.Reader) {
	rc := http.NewResponseController(w)
	_ = rc.Flush()
	_ = rc.SetReadDeadline(time.Now().Add(time.Second))
	_, _ = io.CopyN(io.Discard, body, 64<<20)
}

// declaredTooLarge is a body refused by its Content-Length: it fails as MaxBytesReader does.
type declaredTooLarge struct{ limit int64 }

func (b declaredTooLarge) Read([]byte) (int, error) { return 0, &http.MaxBytesError{Limit: b.limit} }
func (declaredTooLarge) Close() error               { return nil }

// markStale tells the caller which parts of the answer came from cache past their TTL
// because Kajabi failed (loader.StaleIfError): extensions.stale lists them with their age.
func markStale(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	if resp == nil {
		return nil
	}
	if stale := loader.For(ctx).Stale(); len(stale) > 0 {
		if resp.Extensions == nil {
			resp.Extensions = map[string]any{}
		}
		resp.Extensions["stale"] = stale
	}
	return resp
}

// nameOperation adds the operation's name to the request's logger, so the access log line
// says which operation it was.
func nameOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	if op := graphql.GetOperationContext(ctx); op != nil {
		name := op.OperationName
		if name == "" && op.Operation != nil {
			name = op.Operation.Name
		}
		if name != "" {
			zerolog.Ctx(ctx).UpdateContext(func(c zerolog.Context) zerolog.Context {
				return c.Str("operation", name)
			})
		}
	}
	return next(ctx)
}

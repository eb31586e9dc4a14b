package graph

import (
	"context"
	"net/http"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/rs/zerolog"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/kajabi-graphql/facade/graph/loader"
	"github.com/kajabi-graphql/facade/kajabi"
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
	// Credentials, when set, gives each request its own Kajabi client (see Passthrough);
	// otherwise every request uses the resolver's client.
	Credentials func(*http.Request) (*kajabi.Client, string, error)
}

// NewHandler builds the GraphQL-over-HTTP endpoint: POST with JSON and GET for queries,
// with Kajabi errors presented as stable codes and panics contained.
func NewHandler(r *Resolver, opts HandlerOptions) http.Handler {
	srv := handler.New(NewExecutableSchema(Config{Resolvers: r}))
	srv.AddTransport(transport.Options{AllowedMethods: []string{http.MethodGet, http.MethodPost, http.MethodOptions}})
	// Not transport.GET/POST: they answer 422 to a document error under application/json
	// and send "data": null with request errors; httpTransport follows GraphQL over HTTP.
	srv.AddTransport(httpTransport{})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	if opts.Introspection {
		srv.Use(extension.Introspection{})
	}
	srv.SetErrorPresenter(presentError)
	srv.SetRecoverFunc(recoverPanic)
	srv.AroundOperations(nameOperation)

	maxBody := opts.MaxBodyBytes
	if maxBody <= 0 {
		maxBody = 1 << 20
	}
	loaders := loader.Config{Client: r.Client, Concurrency: opts.RequestConcurrency, Cache: opts.Cache, Credentials: opts.Credentials}
	withLoaders := loader.Middleware(loaders, srv)
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		req.Body = http.MaxBytesReader(w, req.Body, maxBody)
		withLoaders.ServeHTTP(w, req)
	})
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

// AccessLog logs one line per request after it is served: method, path, status, size,
// duration and, for GraphQL, the operation name. Headers, bodies and query strings are
// never logged: they carry tokens and customer data.
func AccessLog(logger zerolog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		l := logger.With().Logger()
		r = r.WithContext(l.WithContext(r.Context()))
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		zerolog.Ctx(r.Context()).Info().
			Str("method", r.Method).
			Str("path", r.URL.Path).
			Int("status", rec.status).
			Int64("bytes", rec.bytes).
			Dur("duration", time.Since(start)).
			Msg("request")
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	n, err := s.ResponseWriter.Write(b)
	s.bytes += int64(n)
	return n, err
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

package edge

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	coderws "github.com/coder/websocket"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/kajabi-graphql/facade/graph"
)

// subscriptionTransports are graphql-ws and graphql-transport-ws over WebSocket, and
// GraphQL over SSE (a POST that accepts text/event-stream). SSE comes before httpTransport,
// which would take the POST otherwise; nothing else changes for POST and GET.
//
// A browser's WebSocket skips CORS, so its Origin is checked when it is accepted: the
// page's own host, or one of CORS_ALLOWED_ORIGINS. Its credentials come in headers or, from
// a browser, in the connection_init payload (authenticateInit).
func subscriptionTransports(corsOrigins []string) []graphql.Transport {
	var patterns []string
	for _, o := range corsOrigins {
		o = strings.TrimSpace(o)
		if o == "*" {
			patterns = append(patterns, "*")
			continue
		}
		if u, err := url.Parse(o); err == nil && u.Host != "" {
			patterns = append(patterns, u.Host)
		}
	}
	readLimit := int64(64 << 10)
	return []graphql.Transport{
		transport.SSE{KeepAlivePingInterval: 15 * time.Second},
		transport.Websocket{
			Implementation:        transport.CoderWebsocketImplementation{AcceptOptions: coderws.AcceptOptions{OriginPatterns: patterns}},
			InitFunc:              authenticateInit,
			InitTimeout:           10 * time.Second,
			KeepAlivePingInterval: 15 * time.Second,
			PayloadReadLimit:      &readLimit,
		},
	}
}

// streaming is a request that stays open for a subscription's events: it holds no place
// in admission and has no deadline, as neither would let it live. It is exactly what the
// streaming transports take, so nothing else reaches gqlgen past admission.
func streaming(r *http.Request) bool {
	return transport.SSE{}.Supports(r) || transport.Websocket{}.Supports(r)
}

type streamingKey struct{}

// unlessStreaming sends streams to stream, marked, and everything else to other. The mark
// is what lets streamsOnly refuse a query or mutation that came this way: it would run
// without admission or deadline otherwise.
func unlessStreaming(stream, other http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if streaming(r) {
			if (transport.SSE{}).Supports(r) {
				w = renewingWriter{w, http.NewResponseController(w)}
			}
			stream.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), streamingKey{}, true)))
			return
		}
		other.ServeHTTP(w, r)
	})
}

// streamsOnly refuses, on a stream, every operation but a subscription, before it runs.
type streamsOnly struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = streamsOnly{}

func (streamsOnly) ExtensionName() string                   { return "StreamsOnly" }
func (streamsOnly) Validate(graphql.ExecutableSchema) error { return nil }
func (streamsOnly) MutateOperationContext(ctx context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	if err := refusePending(ctx); err != nil {
		return err
	}
	if opCtx.Operation != nil && opCtx.Operation.Operation == ast.Subscription {
		return oneStream(opCtx)
	}
	if on, _ := ctx.Value(streamingKey{}).(bool); !on || opCtx.Operation == nil {
		return nil
	}
	return &gqlerror.Error{
		Message:    fmt.Sprintf("a %s cannot be sent over SSE or WebSocket, which carry subscriptions only: POST it to /graphql as application/json", opCtx.Operation.Operation),
		Extensions: map[string]any{"code": graph.CodeSubscriptionsOnly},
	}
}

// oneStream refuses a subscription whose root selection is not exactly one response key
// (the spec's "Single root field"). gqlparser's rule counts field names, so two aliases of
// customerActivity, or its only field skipped by @skip, pass validation, and gqlgen then
// refuses to run them with an uncoded error that reads as INTERNAL_SERVER_ERROR.
func oneStream(opCtx *graphql.OperationContext) *gqlerror.Error {
	fields := graphql.CollectFields(opCtx, opCtx.Operation.SelectionSet, []string{"Subscription"})
	if len(fields) == 1 {
		return nil
	}
	return &gqlerror.Error{
		Message:    fmt.Sprintf("a subscription selects exactly one root field, one stream; this one selects %d", len(fields)),
		Extensions: map[string]any{"code": graph.CodeValidationFailed},
	}
}

// streamWriteTimeout bounds each write of an SSE stream: twice the keep-alive ping, so a
// subscriber that stops reading is cut off, while one that reads lives on.
const streamWriteTimeout = 30 * time.Second

// renewingWriter renews the write deadline before each write of an SSE stream. The
// server's WriteTimeout bounds a whole response, which would end every subscription after
// a minute. (A WebSocket leaves the server's timeouts behind when it takes the connection.)
type renewingWriter struct {
	http.ResponseWriter
	rc *http.ResponseController
}

func (w renewingWriter) Write(b []byte) (int, error) {
	_ = w.rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
	return w.ResponseWriter.Write(b)
}

func (w renewingWriter) Flush() { _ = w.rc.Flush() }

func (w renewingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

package edge

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	coderws "github.com/coder/websocket"
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
// in admission and has no deadline, as neither would let it live.
func streaming(r *http.Request) bool {
	return isUpgrade(r) || (r.Method == http.MethodPost && strings.Contains(r.Header.Get("Accept"), "text/event-stream"))
}

func unlessStreaming(stream, other http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if streaming(r) {
			stream.ServeHTTP(w, r)
			return
		}
		other.ServeHTTP(w, r)
	})
}

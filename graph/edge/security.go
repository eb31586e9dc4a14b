package edge

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/kajabi-graphql/facade/graph"
	"github.com/kajabi-graphql/facade/graph/telemetry"
)

// PreflightHeaders are the headers that mark a request as sent by a script that was allowed
// to send them, Apollo's: a browser sends either cross-site only after a CORS preflight.
var PreflightHeaders = []string{"X-Apollo-Operation-Name", "Apollo-Require-Preflight"}

// simpleContentTypes are the content types a cross-site <form> or fetch may send without
// a CORS preflight.
var simpleContentTypes = []string{"text/plain", "application/x-www-form-urlencoded", "multipart/form-data"}

// preventCSRF blocks requests a browser would send cross-site without a preflight, as
// Apollo Server and Apollo Router do: a request whose Content-Type is missing (every GET)
// or one of the simple types must carry a non-empty preflight header. A JSON POST passes
// as it is. Such a request could read nothing back, but it would still run on the
// service's credentials, from inside the network or from the machine the service is on.
func preventCSRF(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A WebSocket's Origin is checked when it is accepted (see subscriptionTransports).
		if r.Method == http.MethodOptions || isWebSocketHandshake(r) || !needsPreflightHeader(r.Header) {
			next.ServeHTTP(w, r)
			return
		}
		for _, h := range PreflightHeaders {
			if r.Header.Get(h) != "" {
				next.ServeHTTP(w, r)
				return
			}
		}
		reject(w, r, http.StatusBadRequest, graph.CodeCSRFBlocked, fmt.Sprintf(
			"this request has been blocked as a potential cross-site request forgery: send a Content-Type other than %s, or a non-empty %s header",
			strings.Join(simpleContentTypes, ", "), strings.Join(PreflightHeaders, " or ")))
	})
}

func needsPreflightHeader(h http.Header) bool {
	ct := h.Values("Content-Type")
	if len(ct) == 0 {
		return true
	}
	// The essence as browsers read it, leniently: "text/plain; charset" is text/plain to a
	// browser (and sent without a preflight) though mime.ParseMediaType refuses it.
	essence, _, _ := strings.Cut(ct[0], ";")
	essence = strings.ToLower(strings.TrimSpace(essence))
	for _, simple := range simpleContentTypes {
		if essence == simple {
			return true
		}
	}
	return false
}

// corsAllowHeaders are the request headers a browser app may send cross-origin.
var corsAllowHeaders = strings.Join([]string{
	"Accept", "Content-Type", "Authorization", "X-API-Key",
	"Apollo-Require-Preflight", "X-Apollo-Operation-Name",
	"Apollographql-Client-Name", "Apollographql-Client-Version",
	"Traceparent", "Tracestate", "X-Request-Id",
}, ", ")

// cors lets browser apps on the listed origins call the endpoint ("*" lets any origin,
// without credentials). Other origins get no CORS headers, so their pages cannot read
// answers or send anything a preflight guards. Cookies are never involved: callers
// authenticate with headers.
func cors(origins []string, next http.Handler) http.Handler {
	if len(origins) == 0 {
		return next
	}
	anyOrigin := false
	allowed := map[string]bool{}
	for _, o := range origins {
		o = strings.TrimRight(strings.TrimSpace(o), "/")
		if o == "*" {
			anyOrigin = true
		}
		allowed[strings.ToLower(o)] = true
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Add("Vary", "Origin")
		origin := r.Header.Get("Origin")
		ok := origin != "" && (anyOrigin || allowed[strings.ToLower(origin)])
		preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
		if preflight {
			h.Add("Vary", "Access-Control-Request-Method")
			h.Add("Vary", "Access-Control-Request-Headers")
		}
		if ok {
			if anyOrigin {
				h.Set("Access-Control-Allow-Origin", "*")
			} else {
				h.Set("Access-Control-Allow-Origin", origin)
			}
		}
		if !preflight {
			next.ServeHTTP(w, r)
			return
		}
		if ok {
			h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
			h.Set("Access-Control-Allow-Headers", corsAllowHeaders)
			h.Set("Access-Control-Max-Age", "600")
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// withDeadline bounds the whole GraphQL request, every Kajabi call and wait included.
func withDeadline(d time.Duration, next http.Handler) http.Handler {
	if d <= 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), d)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// LoopbackHostOnly answers only requests addressed to a loopback name (localhost,
// 127.0.0.1, [::1], any port). A service that listens on loopback without authentication
// trusts every local process; this keeps web pages out too, which could otherwise reach it
// through DNS rebinding (a hostile name that resolves to 127.0.0.1). Others get 403.
func LoopbackHostOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !IsLoopbackHost(r.Host) {
			reject(w, r, http.StatusForbidden, graph.CodeForbidden,
				"this service listens on loopback without authentication and only answers requests addressed to localhost, 127.0.0.1 or [::1]")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// IsLoopbackHost reports whether host (with or without a port) names this machine's
// loopback interface.
func IsLoopbackHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// reject answers a request refused before GraphQL ran: one error with its code, no data,
// in the media type the client accepts (application/json when it accepts neither). The
// code goes to the access log from here, as no GraphQL response carries it.
func reject(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	telemetry.RecordCodes(r.Context(), code)
	media, ok := negotiateMediaType(r.Header.Values("Accept"))
	if !ok {
		media = mediaJSON
	}
	body, err := json.Marshal(struct {
		Errors gqlerror.List `json:"errors"`
	}{gqlerror.List{{Message: msg, Extensions: map[string]any{"code": code}}}})
	if err != nil {
		panic(fmt.Errorf("encode graphql errors: %w", err))
	}
	writeBody(w, media, status, body)
}

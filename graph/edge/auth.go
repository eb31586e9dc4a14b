package edge

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/rs/zerolog"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/kajabi-graphql/facade/graph"
	"github.com/kajabi-graphql/facade/graph/loader"
	"github.com/kajabi-graphql/facade/kajabi"
)

// MinAPIKeyLength is the shortest API key accepted: keys are secrets, not passwords to
// remember; `openssl rand -hex 32` makes a good one.
const MinAPIKeyLength = 16

// APIKeys are the keys callers present in service mode, where the service's own Kajabi
// credentials answer every caller. Only SHA-256 sums of the keys are kept.
type APIKeys struct {
	keys []apiKey
}

type apiKey struct {
	sum   [sha256.Size]byte
	id    string // names the key in logs and cache partitions without revealing it
	write bool   // the key's scope: write (mutations allowed) or read
}

// keyScope splits a key's scope suffix off: "KEY:write" may run mutations, "KEY:read" and
// a bare KEY may only read.
func keyScope(key string) (string, bool) {
	if k, ok := strings.CutSuffix(key, ":write"); ok {
		return k, true
	}
	k, _ := strings.CutSuffix(key, ":read")
	return k, false
}

// NewAPIKeys accepts the given keys; each must be at least MinAPIKeyLength long and
// appear once. A key may end in a scope, ":write" or ":read" (the default), which is not
// part of the key the caller presents.
func NewAPIKeys(keys []string) (*APIKeys, error) {
	if len(keys) == 0 {
		return nil, errors.New("no API keys")
	}
	k := &APIKeys{}
	seen := map[[sha256.Size]byte]bool{}
	for i, key := range keys {
		key, write := keyScope(key)
		if len(key) < MinAPIKeyLength {
			return nil, fmt.Errorf("API key %d is %d characters long; keys must have at least %d", i+1, len(key), MinAPIKeyLength)
		}
		sum := sha256.Sum256([]byte(key))
		if seen[sum] {
			return nil, fmt.Errorf("API key %d appears twice", i+1)
		}
		seen[sum] = true
		k.keys = append(k.keys, apiKey{sum: sum, id: "key:" + hex.EncodeToString(sum[:4]), write: write})
	}
	return k, nil
}

// ParseAPIKeys reads keys from a comma-separated list and from a file of one key per line
// (blank lines and lines starting with # are skipped); either may be empty.
func ParseAPIKeys(list, file string) (*APIKeys, error) {
	var keys []string
	for k := range strings.SplitSeq(list, ",") {
		if k = strings.TrimSpace(k); k != "" {
			keys = append(keys, k)
		}
	}
	if file != "" {
		f, err := os.Open(file)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if line := strings.TrimSpace(sc.Text()); line != "" && !strings.HasPrefix(line, "#") {
				keys = append(keys, line)
			}
		}
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("read %s: %w", file, err)
		}
	}
	return NewAPIKeys(keys)
}

// Len is how many keys are accepted.
func (k *APIKeys) Len() int { return len(k.keys) }

// match returns the id of the key presented. Both sides are hashed to a fixed length and
// every key is compared in constant time, so neither a key's length nor how much of it a
// guess got right shows in the time taken.
func (k *APIKeys) match(presented string) (id string, write, ok bool) {
	sum := sha256.Sum256([]byte(presented))
	found := 0
	for _, key := range k.keys {
		eq := subtle.ConstantTimeCompare(sum[:], key.sum[:])
		if eq == 1 {
			id, write = key.id, key.write
		}
		found |= eq
	}
	return id, write, found == 1
}

// presentedKey is the key a request carries: X-API-Key, or Authorization: Bearer.
func presentedKey(r *http.Request) string {
	if k := strings.TrimSpace(r.Header.Get("X-API-Key")); k != "" {
		return k
	}
	if token, ok := bearerToken(r); ok {
		return token
	}
	return ""
}

func bearerToken(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	token = strings.TrimSpace(token)
	return token, ok && strings.EqualFold(scheme, "Bearer") && token != ""
}

// tokenIdentity names a caller's Kajabi token by a hash of it, never the token itself.
func tokenIdentity(token string) string {
	sum := sha256.Sum256([]byte(token))
	return "bearer:" + hex.EncodeToString(sum[:16])
}

// callerOf is who sent the request (see loader.Caller.ID). Everything a caller leaves
// behind for later requests (persisted queries, parsed documents) is kept under it; Kajabi
// data is kept under the Kajabi credential (see loader.Cache).
func callerOf(ctx context.Context) string {
	c, _ := loader.CallerOf(ctx)
	return c.ID
}

// authenticate decides, once per request, who is calling and with which Kajabi
// credential, and puts the answer in the context (loader.WithCaller) for the loaders and
// resolvers to read; nothing after it refuses a caller.
//
// With keys set (service mode) the request must carry one of them, or it is refused with
// 401 before anything else runs; the service's client answers it. With passthrough the
// request must carry the caller's own Kajabi token as Authorization: Bearer, which is
// forwarded through service's transport, limits and breaker (kajabi.Client.ForToken); the
// credential that keeps cache entries apart is a hash of the token, never the token.
// Otherwise (open mode) every request uses the service's client.
func authenticate(keys *APIKeys, passthrough bool, service *kajabi.Client, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A browser cannot set headers on a WebSocket: without them, the graphql-ws
		// connection_init payload carries the key (see authenticateInit).
		if isWebSocketHandshake(r) && (keys != nil || passthrough) && presentedKey(r) == "" {
			ctx := context.WithValue(r.Context(), deferredAuthKey{}, authenticator{keys, passthrough, service})
			next.ServeHTTP(w, r.WithContext(loader.WithCaller(ctx, loader.Caller{ID: pendingCaller, Client: service, Credential: pendingCaller})))
			return
		}
		caller, refused := authenticator{keys, passthrough, service}.decide(r)
		if refused != nil {
			w.Header().Set("WWW-Authenticate", refused.challenge)
			reject(w, r, http.StatusUnauthorized, graph.CodeUnauthenticated, refused.msg)
			return
		}
		if caller.ID != "open" {
			zerolog.Ctx(r.Context()).UpdateContext(func(c zerolog.Context) zerolog.Context { return c.Str("caller", caller.ID) })
		}
		next.ServeHTTP(w, r.WithContext(loader.WithCaller(r.Context(), caller)))
	})
}

type authenticator struct {
	keys        *APIKeys
	passthrough bool
	service     *kajabi.Client
}

type authRefusal struct{ challenge, msg string }

type deferredAuthKey struct{}

// decide is who sends r, with which Kajabi credential, or why r is refused.
func (a authenticator) decide(r *http.Request) (loader.Caller, *authRefusal) {
	caller := loader.Caller{ID: "open", Client: a.service, Credential: "service"}
	// Preflights carry no credentials and run nothing, so keys are not asked of them.
	if a.keys != nil && r.Method != http.MethodOptions {
		presented := presentedKey(r)
		if presented == "" {
			return caller, &authRefusal{`Bearer realm="graphql"`,
				"this service needs an API key: send it as X-API-Key: <key> or Authorization: Bearer <key>"}
		}
		id, write, ok := a.keys.match(presented)
		if !ok {
			return caller, &authRefusal{`Bearer realm="graphql", error="invalid_token"`, "the API key is not valid"}
		}
		caller.ID, caller.ReadOnly = id, !write
	}
	if a.passthrough {
		token, ok := bearerToken(r)
		if !ok {
			return caller, &authRefusal{`Bearer realm="kajabi"`, "send your Kajabi access token as Authorization: Bearer <token>"}
		}
		id := tokenIdentity(token)
		caller = loader.Caller{ID: id, Client: a.service.ForToken(token), Credential: id}
	}
	return caller, nil
}

// authenticateInit decides the caller of a WebSocket that came without credentials from
// its connection_init payload, which carries them as headers would: X-API-Key or
// Authorization, at the top or under "headers".
func authenticateInit(ctx context.Context, payload transport.InitPayload) (context.Context, *transport.InitPayload, error) {
	a, deferred := ctx.Value(deferredAuthKey{}).(authenticator)
	if !deferred {
		return ctx, nil, nil
	}
	h := http.Header{}
	for _, src := range []map[string]any{payload, nested(payload["headers"])} {
		for k, v := range src {
			if s, ok := v.(string); ok && (strings.EqualFold(k, "X-API-Key") || strings.EqualFold(k, "Authorization") || strings.EqualFold(k, "apiKey")) {
				if strings.EqualFold(k, "apiKey") {
					k = "X-API-Key"
				}
				h.Set(k, s)
			}
		}
	}
	caller, refused := a.decide(&http.Request{Method: http.MethodGet, Header: h})
	if refused != nil {
		return ctx, nil, errors.New(refused.msg)
	}
	return loader.Renew(loader.WithCaller(ctx, caller)), nil, nil
}

func nested(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// isWebSocketHandshake is a request the WebSocket transport, and no other, takes: a GET
// that asks to upgrade to websocket. Any Upgrade header sends a request to gqlgen's
// WebSocket transport, but a POST that also accepts text/event-stream goes to SSE first,
// which would run it on a caller whose credentials were never asked for.
func isWebSocketHandshake(r *http.Request) bool {
	if r.Method != http.MethodGet {
		return false
	}
	for _, v := range r.Header.Values("Upgrade") {
		for _, token := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(token), "websocket") {
				return true
			}
		}
	}
	return false
}

// pendingCaller is the caller of a WebSocket until its connection_init says who it is.
const pendingCaller = "pending"

// refusePending refuses an operation whose caller is still pendingCaller: only
// authenticateInit may replace it, so an operation that meets it came some other way.
func refusePending(ctx context.Context) *gqlerror.Error {
	if caller, ok := loader.CallerOf(ctx); !ok || caller.ID != pendingCaller {
		return nil
	}
	return &gqlerror.Error{Message: "this WebSocket has not said who it is: send the API key in connection_init", Extensions: map[string]any{"code": graph.CodeUnauthenticated}}
}

// RequireAPIKey admits only requests that carry one of keys, refused as the GraphQL
// endpoint refuses them: for routes beside it that must follow the same service mode (the
// embedded sandbox's REST API).
func RequireAPIKey(keys *APIKeys, next http.Handler) http.Handler {
	return authenticate(keys, false, nil, next)
}

// partitionedCache keeps each caller's entries apart in one shared cache: a key is only
// ever found by the caller who added it. Bounded as a whole by the cache beneath.
type partitionedCache[T any] struct {
	inner graphql.Cache[T]
}

func (p partitionedCache[T]) Get(ctx context.Context, key string) (T, bool) {
	return p.inner.Get(ctx, callerOf(ctx)+"\x00"+key)
}

func (p partitionedCache[T]) Add(ctx context.Context, key string, value T) {
	p.inner.Add(ctx, callerOf(ctx)+"\x00"+key, value)
}

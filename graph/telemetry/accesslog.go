package telemetry

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"go.opentelemetry.io/otel/propagation"
)

// RequestIDHeader carries the request id: honoured when the caller (a gateway, a load
// balancer) sends a sane one, minted otherwise, and echoed on the response.
const RequestIDHeader = "X-Request-Id"

// quietPaths are probed and scraped every few seconds; their successful requests are
// logged at debug level so they do not drown the lines that matter.
var quietPaths = map[string]bool{"/healthz": true, "/readyz": true, "/status": true, "/metrics": true}

// requestInfo is what one request's access log line says beyond its HTTP status, filled in
// while the request is served (by the GraphQL extension and the Kajabi transport).
type requestInfo struct {
	id          string
	start       time.Time
	kajabiCalls atomic.Int64
	graphql     atomic.Bool // a GraphQL response was produced

	mu    sync.Mutex
	codes []string // distinct extensions.code values, in order of first appearance
}

func (i *requestInfo) addCodes(codes []string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	for _, c := range codes {
		if !slices.Contains(i.codes, c) {
			i.codes = append(i.codes, c)
		}
	}
}

func (i *requestInfo) errorCodes() []string {
	i.mu.Lock()
	defer i.mu.Unlock()
	return append([]string(nil), i.codes...)
}

type infoKey struct{}

func infoFrom(ctx context.Context) *requestInfo {
	i, _ := ctx.Value(infoKey{}).(*requestInfo)
	return i
}

// RequestID is the id of the request ctx belongs to; "" outside AccessLog.
func RequestID(ctx context.Context) string {
	if i := infoFrom(ctx); i != nil {
		return i.id
	}
	return ""
}

// RecordCodes adds codes to the error_codes of the access log line of the request ctx
// belongs to. Refusals made before GraphQL runs (no API key, CSRF, a missing caller token)
// call it, as they know their code; GraphQL responses are recorded by the GraphQL
// extension. Outside AccessLog it does nothing.
func RecordCodes(ctx context.Context, codes ...string) {
	if i := infoFrom(ctx); i != nil {
		i.addCodes(codes)
	}
}

// KajabiCalls is how many HTTP attempts went to Kajabi on behalf of the request ctx
// belongs to so far (see Transport for what counts).
func KajabiCalls(ctx context.Context) int {
	if i := infoFrom(ctx); i != nil {
		return int(i.kajabiCalls.Load())
	}
	return 0
}

// AccessLog gives every request an id and a logger that carries it (zerolog.Ctx), and logs
// one line when the request has been served: request_id, method, path, status, bytes,
// duration and, for GraphQL, the operation (named by the handler), kajabi_calls and the
// error_codes of the response. A request refused before GraphQL ran (no API key, CSRF, a
// missing caller token) has the codes its refusal recorded (RecordCodes). Headers, bodies and query
// strings are never logged: they carry tokens and customer data. With tracing on, a W3C traceparent from the caller
// becomes the parent of the request's spans.
func (t *T) AccessLog(logger zerolog.Logger, next http.Handler) http.Handler {
	prop := propagation.TraceContext{}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := &requestInfo{id: requestID(r.Header.Get(RequestIDHeader)), start: time.Now()}
		w.Header().Set(RequestIDHeader, info.id)
		l := logger.With().Str("request_id", info.id).Logger()
		ctx := l.WithContext(context.WithValue(r.Context(), infoKey{}, info))
		if t.tracing {
			ctx = prop.Extract(ctx, propagation.HeaderCarrier(r.Header))
		}
		r = r.WithContext(ctx)
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)

		ev := zerolog.Ctx(ctx).Info()
		if quietPaths[r.URL.Path] && rec.status < 400 {
			ev = zerolog.Ctx(ctx).Debug()
		}
		ev = ev.Str("method", r.Method).
			Str("path", r.URL.Path).
			Int("status", rec.status).
			Int64("bytes", rec.bytes).
			Dur("duration", time.Since(info.start))
		if calls := info.kajabiCalls.Load(); calls > 0 || info.graphql.Load() {
			ev = ev.Int64("kajabi_calls", calls)
		}
		if codes := info.errorCodes(); len(codes) > 0 {
			ev = ev.Strs("error_codes", codes)
		}
		ev.Msg("request")
	})
}

// requestID returns the caller's id when it is sane (1 to 128 of [A-Za-z0-9._-], so it
// cannot forge log fields or carry a secret of any length), or a new random one.
func requestID(given string) string {
	if len(given) > 0 && len(given) <= 128 {
		ok := true
		for _, c := range []byte(given) {
			switch {
			case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == '-':
			default:
				ok = false
			}
		}
		if ok {
			return given
		}
	}
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b[:])
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

// Flush lets streams through: gqlgen's SSE transport asks the writer itself for
// http.Flusher rather than going through http.ResponseController.
func (s *statusRecorder) Flush() { _ = http.NewResponseController(s.ResponseWriter).Flush() }

package telemetry

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/kajabi-graphql/facade/kajabi"
)

// HTTPClient returns a copy of hc whose transport is instrumented (see Transport); hand it
// to kajabi.WithHTTPClient.
func (t *T) HTTPClient(hc *http.Client) *http.Client {
	cp := *hc
	cp.Transport = t.Transport(hc.Transport)
	return &cp
}

// Transport instruments the HTTP attempts the Kajabi client sends through base (nil means
// http.DefaultTransport). The attempts carry the GraphQL request's context, so this is
// where a request learns what it cost:
//
//   - Each attempt counts toward the request's kajabi_calls (first attempts, retries, the
//     resend after a 401, token requests, readiness calls). An identical GET that two
//     requests ask for at once is sent once by the Kajabi client (single-flight), with the
//     first asker's context: it counts for that request only, and the other request's line
//     shows one call fewer than it would have cost alone. Calls answered by the loaders'
//     memo or the shared cache send nothing and count nothing.
//   - With tracing on, each attempt is a client span, a child of the operation's span,
//     named by the path with ids replaced ("GET /v1/customers/{id}"). Query strings,
//     which hold customers' search terms, are not recorded. With PropagateTrace the
//     traceparent header is sent to Kajabi too.
//
// Process-wide counts by endpoint come from KajabiObserver, which sees what the client's
// retry loop and breaker do.
func (t *T) Transport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &roundTripper{t: t, base: base}
}

type roundTripper struct {
	t    *T
	base http.RoundTripper
}

func (rt *roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	if info := infoFrom(ctx); info != nil {
		info.kajabiCalls.Add(1)
	}
	if !rt.t.tracing {
		return rt.base.RoundTrip(req)
	}
	template := PathTemplate(req.URL.Path)
	attrs := []attribute.KeyValue{
		attribute.String("http.request.method", req.Method),
		attribute.String("url.template", template),
		attribute.String("server.address", req.URL.Hostname()),
	}
	if port, err := strconv.Atoi(req.URL.Port()); err == nil {
		attrs = append(attrs, attribute.Int("server.port", port))
	}
	ctx, span := rt.t.tracer.Start(ctx, req.Method+" "+template,
		trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
	if rt.t.propagateTrace {
		req = req.Clone(ctx) // a RoundTripper must not change the caller's request
		propagation.TraceContext{}.Inject(ctx, propagation.HeaderCarrier(req.Header))
	}
	resp, err := rt.base.RoundTrip(req)
	if err != nil {
		span.SetAttributes(attribute.String("error.type", "no_answer"))
		span.SetStatus(codes.Error, err.Error())
		span.End()
		return resp, err
	}
	span.SetAttributes(attribute.Int("http.response.status_code", resp.StatusCode))
	if resp.StatusCode >= 400 {
		span.SetAttributes(attribute.String("error.type", strconv.Itoa(resp.StatusCode)))
		span.SetStatus(codes.Error, http.StatusText(resp.StatusCode))
	}
	// The call lasts until its body has been read and closed.
	resp.Body = &spanBody{ReadCloser: resp.Body, span: span}
	return resp, nil
}

type spanBody struct {
	io.ReadCloser
	span trace.Span
	once sync.Once
}

func (b *spanBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(func() { b.span.End() })
	return err
}

// PathTemplate replaces the ids in a Kajabi path with {id}, so that it can name a span or
// label a metric: a segment is kept when it is a version ("v1") or lower-case letters and
// underscores ("customers", "relationships"), and is an id otherwise (Kajabi's ids are
// numbers). "/v1/customers/42/relationships/offers" is "/v1/customers/{id}/relationships/offers".
func PathTemplate(path string) string {
	segs := strings.Split(path, "/")
	for i, s := range segs {
		if s != "" && !isVersion(s) && !isWord(s) {
			segs[i] = "{id}"
		}
	}
	return strings.Join(segs, "/")
}

func isVersion(s string) bool {
	if len(s) < 2 || s[0] != 'v' {
		return false
	}
	_, err := strconv.Atoi(s[1:])
	return err == nil
}

func isWord(s string) bool {
	for _, c := range []byte(s) {
		if (c < 'a' || c > 'z') && c != '_' {
			return false
		}
	}
	return true
}

// KajabiObserver turns what the Kajabi client's protections do into process-wide metrics:
// kajabi_requests_total and kajabi_request_duration_seconds per HTTP attempt,
// kajabi_retries_total, and kajabi_breaker_state. Hand it to kajabi.WithObserver.
func (t *T) KajabiObserver() kajabi.Observer {
	return kajabi.Observer{
		OnRequest: func(_, pattern string, status int, dur time.Duration, _ error) {
			s := "error"
			if status != 0 {
				s = strconv.Itoa(status)
			}
			t.kajabiRequests.WithLabelValues(pattern, s).Inc()
			t.kajabiDuration.WithLabelValues(pattern).Observe(dur.Seconds())
		},
		OnRetry: func(_, pattern string, _ int, _ time.Duration, _ error) {
			t.kajabiRetries.WithLabelValues(pattern).Inc()
		},
		OnBreakerState: func(_, to kajabi.BreakerState) {
			t.breakerState.Set(BreakerValue(to))
		},
	}
}

// BreakerValue is kajabi_breaker_state's value for s: 0 closed, 1 half-open, 2 open, so
// that a higher value is a worse state.
func BreakerValue(s kajabi.BreakerState) float64 {
	switch s {
	case kajabi.BreakerHalfOpen:
		return 1
	case kajabi.BreakerOpen:
		return 2
	}
	return 0
}

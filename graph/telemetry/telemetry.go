// Package telemetry shows what the service does: a JSON access log line per request with a
// request id, Prometheus metrics, OpenTelemetry traces, and the readiness probe.
//
// One T is built per process and wired in four places:
//
//	tel.AccessLog(logger, mux)               every HTTP request: request id, logger, log line
//	edge.HandlerOptions{Telemetry: tel}      the GraphQL operation: span, metrics, error codes
//	tel.HTTPClient(hc), tel.KajabiObserver() every Kajabi call: span, per-request count, metrics
//	tel.MetricsHandler()                     GET /metrics
//
// Metrics go to a registry of the T's own, never the global default, so two Ts (two tests)
// never see each other's counts.
package telemetry

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Options configure a T. The zero value gives metrics and the access log, without tracing.
type Options struct {
	// TracerProvider makes the spans; nil leaves tracing off unless OTLP is set.
	TracerProvider trace.TracerProvider
	// OTLP builds a tracer provider that exports over OTLP/HTTP, configured by the standard
	// OTEL_EXPORTER_OTLP_* variables (see NewOTLPTracerProvider). Ignored when
	// TracerProvider is set.
	OTLP bool
	// PropagateTrace sends the W3C traceparent header on calls to Kajabi. Off by default:
	// Kajabi is a third party, and trace ids tell it nothing it needs.
	PropagateTrace bool
	// MaxOperations bounds the distinct operation names used as a metrics label; later
	// names are counted as "other". 0 means 200.
	MaxOperations int
	// Logger receives the tracing exporter's failures (a collector that cannot be reached).
	Logger zerolog.Logger
}

// T holds a process's metrics and tracer. Its methods are safe for concurrent use.
type T struct {
	registry       *prometheus.Registry
	tracer         trace.Tracer
	tracing        bool
	propagateTrace bool
	shutdown       func(context.Context) error

	operations *labelSet
	codes      *labelSet

	graphqlRequests *prometheus.CounterVec
	graphqlDuration *prometheus.HistogramVec
	graphqlErrors   *prometheus.CounterVec
	kajabiRequests  *prometheus.CounterVec
	kajabiDuration  *prometheus.HistogramVec
	kajabiRetries   *prometheus.CounterVec
	breakerState    prometheus.Gauge
	batchSize       *prometheus.HistogramVec
	cacheRequests   *prometheus.CounterVec
	webhooks        *prometheus.CounterVec
}

// instrumentationName names the tracer, as OpenTelemetry asks.
const instrumentationName = "github.com/kajabi-graphql/facade/graph/telemetry"

// New builds a T. With opts.OTLP it starts the OTLP exporter; call Shutdown before the
// process exits so buffered spans are sent.
func New(ctx context.Context, opts Options) (*T, error) {
	t := &T{
		registry:       prometheus.NewRegistry(),
		propagateTrace: opts.PropagateTrace,
		shutdown:       func(context.Context) error { return nil },
		operations:     newLabelSet(opts.MaxOperations, 200),
		codes:          newLabelSet(0, 50),
	}
	tp := opts.TracerProvider
	if tp == nil && opts.OTLP {
		sdk, err := NewOTLPTracerProvider(ctx, opts.Logger)
		if err != nil {
			return nil, err
		}
		tp, t.shutdown = sdk, sdk.Shutdown
	}
	if tp != nil {
		t.tracer, t.tracing = tp.Tracer(instrumentationName), true
	} else {
		t.tracer = noop.NewTracerProvider().Tracer(instrumentationName)
	}
	t.register()
	return t, nil
}

func (t *T) register() {
	f := factory{t.registry}
	t.graphqlRequests = f.counter("graphql_requests_total",
		"GraphQL requests by operation name and outcome (ok: no errors; error: at least one).", "operation", "status")
	t.graphqlDuration = f.histogram("graphql_request_duration_seconds",
		"Time from a GraphQL request's arrival to its response, by operation name.", prometheus.DefBuckets, "operation")
	t.graphqlErrors = f.counter("graphql_errors_total",
		"Errors in GraphQL responses by extensions.code.", "code")
	t.kajabiRequests = f.counter("kajabi_requests_total",
		"HTTP attempts sent to Kajabi (retries and token requests included) by endpoint and status; status is \"error\" when no answer came.", "endpoint", "status")
	t.kajabiDuration = f.histogram("kajabi_request_duration_seconds",
		"Duration of one HTTP attempt to Kajabi, by endpoint.", prometheus.DefBuckets, "endpoint")
	t.kajabiRetries = f.counter("kajabi_retries_total",
		"Retries of calls to Kajabi, by endpoint.", "endpoint")
	t.breakerState = prometheus.NewGauge(prometheus.GaugeOpts{Name: "kajabi_breaker_state",
		Help: "State of the circuit breaker toward Kajabi: 0 closed, 1 half-open, 2 open."})
	t.registry.MustRegister(t.breakerState)
	t.batchSize = f.histogram("loader_batch_size",
		"Keys per dataloader batch, by loader.", []float64{1, 2, 5, 10, 20, 50, 100}, "loader")
	t.cacheRequests = f.counter("cache_requests_total",
		"Look-ups in the cache of sites, products and offers shared across requests, by result (hit or miss).", "result")
	t.webhooks = f.counter("webhook_deliveries_total",
		"Deliveries to /webhooks/kajabi by outcome: accepted, duplicate (accepted, not published again), bad_secret, bad_method, too_large, bad_shape, overloaded.", "outcome")
	t.registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
}

type factory struct{ reg *prometheus.Registry }

func (f factory) counter(name, help string, labels ...string) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	f.reg.MustRegister(c)
	return c
}

func (f factory) histogram(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets}, labels)
	f.reg.MustRegister(h)
	return h
}

// Registry is where the T's metrics are registered; add the service's own here.
func (t *T) Registry() *prometheus.Registry { return t.registry }

// MetricsHandler serves the metrics in Prometheus' text format, for GET /metrics.
func (t *T) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(t.registry, promhttp.HandlerOpts{Registry: t.registry})
}

// Tracing reports whether spans are recorded.
func (t *T) Tracing() bool { return t.tracing }

// Shutdown sends the spans still buffered and stops the exporter; it waits at most 5 s.
func (t *T) Shutdown(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := t.shutdown(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// labelSet keeps the values of one label few enough for Prometheus: the first max distinct
// values are used as they are, later new ones become "other", as do values over 100 bytes.
// A client that sends many made-up operation names therefore costs at most max series.
type labelSet struct {
	max  int
	mu   sync.Mutex
	seen map[string]struct{}
}

const otherLabel = "other"

func newLabelSet(limit, def int) *labelSet {
	if limit <= 0 {
		limit = def
	}
	return &labelSet{max: limit, seen: map[string]struct{}{}}
}

func (s *labelSet) value(v string) string {
	if len(v) > 100 {
		return otherLabel
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.seen[v]; ok {
		return v
	}
	if len(s.seen) >= s.max {
		return otherLabel
	}
	s.seen[v] = struct{}{}
	return v
}

// WebhookObserver counts webhook deliveries by outcome (graph/live.Options.Observe).
func (t *T) WebhookObserver() func(outcome string) {
	return func(outcome string) { t.webhooks.WithLabelValues(outcome).Inc() }
}

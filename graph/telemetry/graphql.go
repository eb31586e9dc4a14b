package telemetry

import (
	"context"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/rs/zerolog"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/kajabi-graphql/facade/graph/loader"
)

// anonymousLabel is the operation label of an operation without a name, and of a request
// that never reached one (a document that does not parse, a body that is not GraphQL).
const anonymousLabel = "anonymous"

// GraphQL is the gqlgen extension (add it with Use) that gives every operation a server
// span, named "query Name" as OpenTelemetry's GraphQL conventions ask, under which each
// Kajabi call gets its own span; counts requests and their errors by operation; times them;
// and hands the response's error codes to the access log.
func (t *T) GraphQL() graphql.HandlerExtension { return gqlExtension{t} }

type gqlExtension struct{ t *T }

var (
	_ graphql.OperationInterceptor = gqlExtension{}
	_ graphql.ResponseInterceptor  = gqlExtension{}
)

func (gqlExtension) ExtensionName() string                   { return "Telemetry" }
func (gqlExtension) Validate(graphql.ExecutableSchema) error { return nil }

// operation is one executing operation, found by its responses in ctx.
type operation struct {
	label string
	start time.Time
	span  trace.Span
	once  sync.Once
}

type operationKey struct{}

func (e gqlExtension) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	opType, name := "query", ""
	if oc := graphql.GetOperationContext(ctx); oc.Operation != nil {
		opType, name = string(oc.Operation.Operation), oc.Operation.Name
	}
	spanName := opType
	if name != "" {
		spanName += " " + name
	}
	attrs := []attribute.KeyValue{attribute.String("graphql.operation.type", opType)}
	if name != "" {
		attrs = append(attrs, attribute.String("graphql.operation.name", name))
	}
	if id := RequestID(ctx); id != "" {
		attrs = append(attrs, attribute.StringSlice("http.request.header.x-request-id", []string{id}))
	}
	ctx, span := e.t.tracer.Start(ctx, spanName, trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(attrs...))
	if sc := span.SpanContext(); sc.IsValid() {
		zerolog.Ctx(ctx).UpdateContext(func(c zerolog.Context) zerolog.Context {
			return c.Str("trace_id", sc.TraceID().String())
		})
	}
	op := &operation{label: e.t.operationLabel(name), start: time.Now(), span: span}
	responses := next(context.WithValue(ctx, operationKey{}, op))
	return func(ctx context.Context) *graphql.Response {
		resp := responses(ctx)
		// The span ends with the last response: the only one, or the last @defer increment.
		if !more(resp) {
			op.once.Do(func() { span.End() })
		}
		return resp
	}
}

func (e gqlExtension) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	e.t.observeResponse(ctx, resp)
	return resp
}

func (t *T) operationLabel(name string) string {
	if name == "" {
		return anonymousLabel
	}
	return t.operations.value(name)
}

// observeResponse records one GraphQL response: its error codes for the access log, the
// request's count and duration, and the outcome on the operation's span. Responses to
// requests that never reached execution (parse or validation errors, bad requests) come
// here too, with no operation in ctx.
func (t *T) observeResponse(ctx context.Context, resp *graphql.Response) {
	var errCodes []string
	if resp != nil {
		for _, err := range resp.Errors {
			code, _ := err.Extensions["code"].(string)
			if code == "" {
				code = "UNKNOWN"
			}
			errCodes = append(errCodes, code)
			t.graphqlErrors.WithLabelValues(t.codes.value(code)).Inc()
		}
	}
	info := infoFrom(ctx)
	op, _ := ctx.Value(operationKey{}).(*operation)
	label, start := anonymousLabel, time.Time{}
	if op != nil {
		label, start = op.label, op.start
	} else if graphql.HasOperationContext(ctx) {
		if oc := graphql.GetOperationContext(ctx); oc.Operation != nil {
			label = t.operationLabel(oc.Operation.Name)
		}
	}
	if info != nil {
		info.graphql.Store(true)
		info.addCodes(errCodes)
		start = info.start // the whole request, reading its body included
	}
	status := "ok"
	if len(errCodes) > 0 {
		status = "error"
	}
	if op != nil && len(errCodes) > 0 {
		op.span.SetAttributes(attribute.StringSlice("graphql.error.codes", errCodes))
		op.span.SetStatus(codes.Error, errCodes[0])
	}
	if more(resp) {
		return // a request is counted and timed once, at its last @defer increment
	}
	t.graphqlRequests.WithLabelValues(label, status).Inc()
	if !start.IsZero() {
		t.graphqlDuration.WithLabelValues(label).Observe(time.Since(start).Seconds())
	}
}

// LoaderObserver reports the loaders' batch sizes and shared-cache look-ups as metrics.
// A nil T gives an Observer that reports nothing.
func (t *T) LoaderObserver() loader.Observer {
	if t == nil {
		return loader.Observer{}
	}
	return loader.Observer{
		OnBatch: func(name string, size int) {
			t.batchSize.WithLabelValues(name).Observe(float64(size))
		},
		OnCacheLookup: func(hit bool) {
			result := "miss"
			if hit {
				result = "hit"
			}
			t.cacheRequests.WithLabelValues(result).Inc()
		},
	}
}

// more reports whether resp is a @defer response that further increments follow.
func more(resp *graphql.Response) bool {
	return resp != nil && resp.HasNext != nil && *resp.HasNext
}

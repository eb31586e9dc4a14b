package telemetry

import (
	"context"
	"errors"
	"fmt"

	"github.com/rs/zerolog"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// ServiceName is the service.name spans carry unless OTEL_SERVICE_NAME says otherwise.
const ServiceName = "kajabi-graphql"

// OTLPConfigured reports whether the standard environment asks for OTLP trace export:
// OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set.
func OTLPConfigured(getenv func(string) string) bool {
	return getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}

// NewOTLPTracerProvider builds a tracer provider that batches spans to an OTLP/HTTP
// collector. Everything about the exporter comes from the standard variables
// (OTEL_EXPORTER_OTLP_ENDPOINT, _HEADERS, _TIMEOUT, their _TRACES_ forms, ...), the
// sampler from OTEL_TRACES_SAMPLER (parent-based, always on, by default), and the
// resource from OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES over service.name
// "kajabi-graphql". Export failures go to logger, not to stderr in another format.
func NewOTLPTracerProvider(ctx context.Context, logger zerolog.Logger) (*sdktrace.TracerProvider, error) {
	exp, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, fmt.Errorf("otlp trace exporter: %w", err)
	}
	res, err := resource.New(ctx,
		resource.WithTelemetrySDK(),
		resource.WithAttributes(attribute.String("service.name", ServiceName)),
		resource.WithFromEnv(), // last: the environment overrides the default name
	)
	if err != nil && !errors.Is(err, resource.ErrPartialResource) {
		return nil, fmt.Errorf("trace resource: %w", err)
	}
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		logger.Warn().Err(err).Msg("tracing")
	}))
	return sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res)), nil
}

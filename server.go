// Command facade serves Kajabi's customers over GraphQL. Without Kajabi credentials it runs
// on the embedded Kajabi sandbox, so `go run .` shows the whole product on a fresh machine.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"syscall"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/rs/zerolog"

	"github.com/kajabi-graphql/facade/graph"
	"github.com/kajabi-graphql/facade/graph/edge"
	"github.com/kajabi-graphql/facade/graph/graphiql"
	"github.com/kajabi-graphql/facade/graph/loader"
	"github.com/kajabi-graphql/facade/graph/telemetry"
	"github.com/kajabi-graphql/facade/kajabi"
	"github.com/kajabi-graphql/facade/kajabi/sandbox"
)

// config is read from the environment; flags of the same meaning override it.
type config struct {
	ListenAddr   string
	LogLevel     string
	LogFormat    string // json, console, or auto (console on a terminal)
	MaxBodyBytes int64

	KajabiBaseURL      string
	KajabiClientID     string
	KajabiClientSecret string
	KajabiAccessToken  string
	KajabiSiteID       string
	KajabiTimeout      time.Duration
	KajabiMaxInflight  int     // process-wide Kajabi calls in flight; 0 is unlimited
	KajabiMaxRPS       float64 // process-wide Kajabi calls a second; 0 is unlimited
	KajabiRetries      int     // attempts per Kajabi read; 1 turns retries off

	CacheTTL           time.Duration // 0 turns the shared cache off
	RequestConcurrency int

	SandboxCustomers int
	SandboxSeed      int64
	SandboxLatency   time.Duration
	SandboxFaultRate float64

	// Tracing is on when OTEL_EXPORTER_OTLP_ENDPOINT (or its _TRACES_ form) is set.
	Tracing bool
	// KajabiTracePropagation sends the W3C traceparent header to Kajabi.
	KajabiTracePropagation bool

	security // who may ask and what a request may cost (server_security.go)
}

// sandboxMode is true when nothing points the service at a real Kajabi account.
func (c config) sandboxMode() bool {
	return c.KajabiBaseURL == "" && c.KajabiAccessToken == "" && c.KajabiClientID == "" && c.KajabiClientSecret == ""
}

func loadConfig(args []string, getenv func(string) string) (config, error) {
	env := envReader{get: getenv}
	c := config{
		ListenAddr:         env.str("LISTEN_ADDR", "127.0.0.1:8080"),
		LogLevel:           env.str("LOG_LEVEL", "info"),
		LogFormat:          env.str("LOG_FORMAT", "auto"),
		MaxBodyBytes:       env.int64("MAX_BODY_BYTES", 1<<20),
		KajabiBaseURL:      env.str("KAJABI_BASE_URL", ""),
		KajabiClientID:     env.str("KAJABI_CLIENT_ID", ""),
		KajabiClientSecret: env.str("KAJABI_CLIENT_SECRET", ""),
		KajabiAccessToken:  env.str("KAJABI_ACCESS_TOKEN", ""),
		KajabiSiteID:       env.str("KAJABI_SITE_ID", ""),
		KajabiTimeout:      env.duration("KAJABI_TIMEOUT", 15*time.Second),
		KajabiMaxInflight:  int(env.int64("KAJABI_MAX_INFLIGHT", int64(kajabi.DefaultLimits.Concurrency))),
		KajabiMaxRPS:       env.float("KAJABI_MAX_RPS", kajabi.DefaultLimits.Rate),
		KajabiRetries:      int(env.int64("KAJABI_RETRIES", int64(kajabi.DefaultRetryPolicy.MaxAttempts))),
		CacheTTL:           env.duration("CACHE_TTL", time.Minute),
		RequestConcurrency: int(env.int64("REQUEST_CONCURRENCY", 64)),
		SandboxCustomers:   int(env.int64("SANDBOX_CUSTOMERS", 5000)),
		SandboxSeed:        env.int64("SANDBOX_SEED", 0),
		SandboxLatency:     env.duration("SANDBOX_LATENCY", 0),
		SandboxFaultRate:   env.float("SANDBOX_FAULT_RATE", 0),
	}
	c.Tracing = telemetry.OTLPConfigured(getenv)
	c.KajabiTracePropagation = env.bool("KAJABI_TRACE_PROPAGATION", false)
	if env.err != nil {
		return c, env.err
	}
	fs := flag.NewFlagSet("facade", flag.ContinueOnError)
	fs.StringVar(&c.ListenAddr, "listen", c.ListenAddr, "address to listen on (LISTEN_ADDR)")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "debug, info, warn or error (LOG_LEVEL)")
	fs.StringVar(&c.LogFormat, "log-format", c.LogFormat, "json, console or auto (LOG_FORMAT)")
	fs.StringVar(&c.KajabiBaseURL, "kajabi-base-url", c.KajabiBaseURL, "Kajabi API base URL (KAJABI_BASE_URL)")
	fs.StringVar(&c.KajabiSiteID, "kajabi-site-id", c.KajabiSiteID, "default site for customer queries (KAJABI_SITE_ID)")
	fs.DurationVar(&c.KajabiTimeout, "kajabi-timeout", c.KajabiTimeout, "timeout of one Kajabi call (KAJABI_TIMEOUT)")
	fs.IntVar(&c.KajabiMaxInflight, "kajabi-max-inflight", c.KajabiMaxInflight, "Kajabi calls in flight, process-wide; 0 is unlimited (KAJABI_MAX_INFLIGHT)")
	fs.Float64Var(&c.KajabiMaxRPS, "kajabi-max-rps", c.KajabiMaxRPS, "Kajabi calls a second, process-wide; 0 is unlimited (KAJABI_MAX_RPS)")
	fs.IntVar(&c.KajabiRetries, "kajabi-retries", c.KajabiRetries, "attempts per Kajabi read, 1 for no retries (KAJABI_RETRIES)")
	fs.DurationVar(&c.CacheTTL, "cache-ttl", c.CacheTTL, "how long sites, products and offers are shared across requests; 0 turns it off (CACHE_TTL)")
	fs.IntVar(&c.SandboxCustomers, "sandbox-customers", c.SandboxCustomers, "customers in the sandbox (SANDBOX_CUSTOMERS)")
	fs.DurationVar(&c.SandboxLatency, "sandbox-latency", c.SandboxLatency, "latency the sandbox adds per call (SANDBOX_LATENCY)")
	fs.Float64Var(&c.SandboxFaultRate, "sandbox-fault-rate", c.SandboxFaultRate, "share of sandbox calls answered 429/503 (SANDBOX_FAULT_RATE)")
	authMode := fs.String("auth-mode", "", "open, service or passthrough (AUTH_MODE)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if (c.KajabiClientID == "") != (c.KajabiClientSecret == "") {
		return c, errors.New("KAJABI_CLIENT_ID and KAJABI_CLIENT_SECRET go together: set both or neither")
	}
	if err := loadSecurity(&c, &env, *authMode); err != nil {
		return c, err
	}
	if c.KajabiBaseURL != "" && c.KajabiAccessToken == "" && c.KajabiClientID == "" && c.AuthMode != authPassthrough {
		return c, errors.New("KAJABI_BASE_URL is set but no credentials are: set KAJABI_ACCESS_TOKEN or KAJABI_CLIENT_ID/KAJABI_CLIENT_SECRET, or AUTH_MODE=passthrough to forward callers' tokens")
	}
	if c.KajabiMaxRPS < 0 || c.KajabiMaxInflight < 0 || c.KajabiRetries < 0 {
		return c, errors.New("KAJABI_MAX_RPS, KAJABI_MAX_INFLIGHT and KAJABI_RETRIES cannot be negative")
	}
	if c.SandboxFaultRate < 0 || c.SandboxFaultRate > 1 {
		return c, fmt.Errorf("SANDBOX_FAULT_RATE must be between 0 and 1, got %v", c.SandboxFaultRate)
	}
	return c, nil
}

func main() {
	cfg, err := loadConfig(os.Args[1:], os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "facade:", err)
		os.Exit(2)
	}
	logger := newLogger(cfg)
	tuneGC(os.Getenv)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, logger, nil); err != nil {
		logger.Error().Err(err).Msg("facade stopped")
		os.Exit(1)
	}
}

// Garbage collection defaults, each overridden by its Go environment variable: a soft heap
// limit makes the GC work harder as the heap nears it, so resident memory stays bounded
// under bursts; below it, collecting at 4x the live heap instead of 2x spends less CPU on a
// service whose live heap is a few MB (about 10-20% more throughput on the bench's (a)).
const (
	defaultMemoryLimit = 64 << 20
	defaultGCPercent   = 400
)

func tuneGC(getenv func(string) string) {
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
	if getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
}

// run serves until ctx ends, then shuts down gracefully. ready, when not nil, receives the
// address the server listens on.
func run(ctx context.Context, cfg config, logger zerolog.Logger, ready chan<- string) error {
	mux := http.NewServeMux()
	tel, err := telemetry.New(ctx, telemetry.Options{OTLP: cfg.Tracing, PropagateTrace: cfg.KajabiTracePropagation, Logger: logger})
	if err != nil {
		return err
	}
	defer func() { _ = tel.Shutdown(context.WithoutCancel(ctx)) }()
	var client *kajabi.Client
	if cfg.sandboxMode() {
		sb := sandbox.New(sandbox.Options{
			Customers: cfg.SandboxCustomers,
			Seed:      cfg.SandboxSeed,
			Latency:   cfg.SandboxLatency,
			FaultRate: cfg.SandboxFaultRate,
		})
		sandboxURL, stopSandbox, err := serveLoopback(sb)
		if err != nil {
			return fmt.Errorf("start sandbox: %w", err)
		}
		defer stopSandbox()
		logger.Info().Str("mode", "sandbox").Str("kajabi", sandboxURL).Int("customers", cfg.SandboxCustomers).
			Str("authMode", cfg.AuthMode).Str("environment", cfg.Environment).
			Msg("no Kajabi credentials: serving the embedded Kajabi sandbox (also at /sandbox/)")
		mux.Handle("/sandbox/", http.StripPrefix("/sandbox", sb))
		client, err = kajabi.NewClient(append(cfg.kajabiOptions(tel), kajabi.WithBaseURL(sandboxURL), cfg.sandboxAuth())...)
		if err != nil {
			return err
		}
	} else {
		opts := cfg.kajabiOptions(tel)
		if cfg.KajabiBaseURL != "" {
			opts = append(opts, kajabi.WithBaseURL(cfg.KajabiBaseURL))
		}
		auth := "client_credentials"
		switch {
		case cfg.AuthMode == authPassthrough:
			auth = "caller_token" // each request's own, see edge.HandlerOptions.Passthrough
		case cfg.KajabiAccessToken != "":
			auth = "access_token"
			opts = append(opts, kajabi.WithAccessToken(cfg.KajabiAccessToken))
		default:
			opts = append(opts, kajabi.WithClientCredentials(cfg.KajabiClientID, cfg.KajabiClientSecret))
		}
		var err error
		if client, err = kajabi.NewClient(opts...); err != nil {
			return err
		}
		logger.Info().Str("mode", "kajabi").Str("kajabi", client.BaseURL().String()).Str("auth", auth).
			Str("site", cfg.KajabiSiteID).Str("authMode", cfg.AuthMode).Str("environment", cfg.Environment).
			Msg("serving a Kajabi account")
	}

	var cache *loader.Cache
	if cfg.CacheTTL > 0 {
		cache = loader.NewCache(cfg.CacheTTL, 0)
	}
	resolver := &graph.Resolver{Client: client, DefaultSiteID: cfg.KajabiSiteID}
	mux.Handle("/graphql", edge.NewHandler(resolver, edge.HandlerOptions{
		MaxBodyBytes:          cfg.MaxBodyBytes,
		Introspection:         cfg.Introspection,
		RequestConcurrency:    cfg.RequestConcurrency,
		Cache:                 cache,
		Telemetry:             tel,
		Passthrough:           cfg.AuthMode == authPassthrough,
		APIKeys:               cfg.APIKeys,
		Limits:                &cfg.Limits,
		Timeout:               cfg.RequestTimeout,
		FieldSuggestions:      cfg.FieldSuggestions,
		PersistedQueries:      cfg.PersistedQueries,
		Allowlist:             cfg.Allowlist,
		DisableCSRFPrevention: !cfg.CSRFPrevention,
		CORSOrigins:           cfg.CORSOrigins,
	}))
	if cfg.GraphiQL {
		ui := graphiql.Handler(graphiql.Options{
			Title:        "Kajabi GraphQL",
			Endpoint:     "/graphql",
			AssetsPath:   "/graphiql/",
			DefaultQuery: exampleQuery,
		})
		mux.Handle("GET /{$}", ui)
		mux.Handle("GET /graphiql/", ui)
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.Handle("GET /readyz", telemetry.Readiness(telemetry.ReadinessOptions{Checks: telemetry.KajabiChecks(client)}))
	mux.Handle("GET /metrics", tel.MetricsHandler())

	ln, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return err
	}
	for _, w := range cfg.warnings() {
		logger.Warn().Msg(w)
	}
	var root http.Handler = mux
	if cfg.guardsHost() {
		root = edge.LoopbackHostOnly(mux)
	}
	srv := &http.Server{
		Handler:           tel.AccessLog(logger, root),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      max(60*time.Second, cfg.RequestTimeout+10*time.Second), // room to answer after the deadline
		IdleTimeout:       120 * time.Second,
	}
	readyMsg := "GraphiQL ready; GraphQL at /graphql"
	if !cfg.GraphiQL {
		readyMsg = "GraphQL ready at /graphql (GraphiQL is off)"
	}
	logger.Info().Str("addr", "http://"+ln.Addr().String()+"/").Msg(readyMsg)
	if ready != nil {
		ready <- ln.Addr().String()
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	select {
	case err := <-serveErr:
		return err
	case <-ctx.Done():
	}
	logger.Info().Msg("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(shutdownCtx)
}

// kajabiOptions are the client settings common to every mode: transport and timeout,
// telemetry, and the process-wide protections toward Kajabi.
func (c config) kajabiOptions(tel *telemetry.T) []kajabi.Option {
	return []kajabi.Option{
		kajabi.WithHTTPClient(tel.HTTPClient(kajabi.NewHTTPClient(c.KajabiTimeout))),
		kajabi.WithObserver(tel.KajabiObserver()),
		kajabi.WithLimits(kajabi.Limits{Concurrency: c.KajabiMaxInflight, Rate: c.KajabiMaxRPS, Burst: max(1, int(c.KajabiMaxRPS))}),
		kajabi.WithRetry(kajabi.RetryPolicy{MaxAttempts: c.KajabiRetries}),
	}
}

// serveLoopback serves h on an ephemeral loopback port, so the client reaches the sandbox
// over real HTTP exactly as it reaches Kajabi.
func serveLoopback(h http.Handler) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() { _ = srv.Close() }, nil
}

func newLogger(cfg config) zerolog.Logger {
	level, err := zerolog.ParseLevel(cfg.LogLevel)
	if err != nil || level == zerolog.NoLevel {
		level = zerolog.InfoLevel
	}
	zerolog.TimeFieldFormat = time.RFC3339Nano
	console := cfg.LogFormat == "console" || (cfg.LogFormat == "auto" && isatty.IsTerminal(os.Stderr.Fd()))
	if console {
		return zerolog.New(zerolog.ConsoleWriter{Out: os.Stderr, TimeFormat: time.TimeOnly}).Level(level).With().Timestamp().Logger()
	}
	return zerolog.New(os.Stderr).Level(level).With().Timestamp().Logger()
}

// envReader reads typed settings, remembering the first malformed one.
type envReader struct {
	get func(string) string
	err error
}

func (e *envReader) str(key, def string) string {
	if v := e.get(key); v != "" {
		return v
	}
	return def
}

func (e *envReader) parse(key string, parse func(string) error) {
	if v := e.get(key); v != "" && e.err == nil {
		if err := parse(v); err != nil {
			e.err = fmt.Errorf("%s=%q: %w", key, v, err)
		}
	}
}

func (e *envReader) int64(key string, def int64) int64 {
	e.parse(key, func(v string) (err error) { def, err = strconv.ParseInt(v, 10, 64); return })
	return def
}

func (e *envReader) float(key string, def float64) float64 {
	e.parse(key, func(v string) (err error) { def, err = strconv.ParseFloat(v, 64); return })
	return def
}

func (e *envReader) bool(key string, def bool) bool {
	e.parse(key, func(v string) (err error) { def, err = strconv.ParseBool(v); return })
	return def
}

func (e *envReader) duration(key string, def time.Duration) time.Duration {
	e.parse(key, func(v string) (err error) { def, err = time.ParseDuration(v); return })
	return def
}

// exampleQuery is what GraphiQL opens with, and the README's first example.
const exampleQuery = `# Welcome! This service runs on the Kajabi sandbox unless given Kajabi credentials.
# Press the run button (or Ctrl-Enter) to list customers.
query RecentCustomers {
  customers(
    filter: { netRevenueGreaterThan: "100", subscribed: true }
    sort: { field: NET_REVENUE, direction: DESC }
    first: 5
  ) {
    totalCount
    pageInfo { hasNextPage endCursor currentPage totalPages }
    nodes {
      id name email netRevenue createdAt
      contact { phoneNumber addressCity addressCountry }
      site { title }
      products { title productType }
      offers { title priceInCents currency }
    }
  }
}
`

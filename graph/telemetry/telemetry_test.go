package telemetry_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/kajabi-graphql/facade/graph"
	"github.com/kajabi-graphql/facade/graph/edge"
	"github.com/kajabi-graphql/facade/graph/loader"
	"github.com/kajabi-graphql/facade/graph/telemetry"
	"github.com/kajabi-graphql/facade/kajabi"
	"github.com/kajabi-graphql/facade/kajabi/kajabitest"
	"github.com/kajabi-graphql/facade/kajabi/sandbox"
)

// fixedToken is a bearer token the sandbox always accepts, so no token request muddles
// the counts.
const fixedToken = "telemetry-test-token"

// logBuffer collects log lines written from several goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// requests returns the access log lines ("message":"request").
func (b *logBuffer) requests() []map[string]any {
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(b.String()))
	for sc.Scan() {
		var m map[string]any
		if json.Unmarshal(sc.Bytes(), &m) == nil && m["message"] == "request" {
			out = append(out, m)
		}
	}
	return out
}

// env is the GraphQL handler, /metrics and /readyz behind the access log, in front of a
// recording sandbox, with spans going to memory.
type env struct {
	tel      *telemetry.T
	upstream *kajabitest.Upstream
	client   *kajabi.Client
	url      string
	logs     *logBuffer
	spans    *tracetest.SpanRecorder
}

func newEnv(t *testing.T, opts telemetry.Options, kajabiOpts ...kajabi.Option) *env {
	t.Helper()
	e := &env{logs: &logBuffer{}, spans: tracetest.NewSpanRecorder()}
	if opts.TracerProvider == nil {
		opts.TracerProvider = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(e.spans))
	}
	tel, err := telemetry.New(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	e.tel = tel
	e.upstream = kajabitest.NewSandbox(t, sandbox.Options{Customers: 60, AccessTokens: []string{fixedToken}})
	e.client = e.upstream.Client(t, append([]kajabi.Option{
		kajabi.WithAccessToken(fixedToken),
		kajabi.WithHTTPClient(tel.HTTPClient(kajabi.NewHTTPClient(5 * time.Second))),
		kajabi.WithObserver(tel.KajabiObserver()),
	}, kajabiOpts...)...)
	mux := http.NewServeMux()
	mux.Handle("/graphql", edge.NewHandler(&graph.Resolver{Client: e.client}, edge.HandlerOptions{
		Cache:     loader.NewCache(time.Minute, 0),
		Telemetry: tel,
	}))
	mux.Handle("GET /metrics", tel.MetricsHandler())
	mux.Handle("GET /readyz", telemetry.Readiness(telemetry.ReadinessOptions{}))
	mux.Handle("GET /status", telemetry.Status(e.client, telemetry.StatusOptions{}))
	srv := httptest.NewServer(tel.AccessLog(zerolog.New(e.logs), mux))
	t.Cleanup(srv.Close)
	e.url = srv.URL
	t.Cleanup(func() {
		for _, secret := range []string{fixedToken, sandbox.ClientSecret, "Bearer"} {
			if strings.Contains(e.logs.String(), secret) {
				t.Errorf("the logs hold %q:\n%s", secret, e.logs)
			}
		}
	})
	return e
}

// post sends a GraphQL query with the given headers and returns the response and its body.
func (e *env) post(t *testing.T, query string, header map[string]string) (*http.Response, map[string]any) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query})
	req, _ := http.NewRequest(http.MethodPost, e.url+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return resp, out
}

// lastRequestLine is the access log line of the latest request.
func (e *env) lastRequestLine(t *testing.T) map[string]any {
	t.Helper()
	lines := e.logs.requests()
	if len(lines) == 0 {
		t.Fatal("no access log line")
	}
	return lines[len(lines)-1]
}

// metric reads one series from /metrics, e.g. `graphql_requests_total{operation="X",status="ok"}`
// (labels in alphabetical order, as the exposition writes them); 0 when absent.
func (e *env) metric(t *testing.T, series string) float64 {
	t.Helper()
	rec := httptest.NewRecorder()
	e.tel.MetricsHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	for line := range strings.SplitSeq(rec.Body.String(), "\n") {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			v, err := strconv.ParseFloat(rest, 64)
			if err != nil {
				t.Fatalf("series %s: %v", series, err)
			}
			return v
		}
	}
	return 0
}

const relationsQuery = `query CustomersWithRelations {
  customers(first: 5, sort: {field: NAME}) {
    nodes { id name contact { phoneNumber } site { title } products { title } offers { title } }
  }
}`

// TestOperationTelemetry runs one query with relations and checks what each of the three
// outputs says about it: the access log line, the spans and the metrics.
func TestOperationTelemetry(t *testing.T) {
	e := newEnv(t, telemetry.Options{})
	resp, out := e.post(t, relationsQuery, map[string]string{telemetry.RequestIDHeader: "req-123.abc_X"})
	if out["errors"] != nil {
		t.Fatalf("query failed: %v", out["errors"])
	}
	calls := e.upstream.Calls()
	if calls < 5 {
		t.Fatalf("the query cost %d Kajabi calls; want relations to cost several", calls)
	}

	t.Run("access log", func(t *testing.T) {
		if got := resp.Header.Get(telemetry.RequestIDHeader); got != "req-123.abc_X" {
			t.Errorf("X-Request-Id echoed %q, want the caller's", got)
		}
		line := e.lastRequestLine(t)
		want := map[string]any{
			"request_id":   "req-123.abc_X",
			"operation":    "CustomersWithRelations",
			"path":         "/graphql",
			"status":       float64(200),
			"kajabi_calls": float64(calls),
		}
		for k, v := range want {
			if line[k] != v {
				t.Errorf("%s: got %v, want %v (line %v)", k, line[k], v, line)
			}
		}
		if line["error_codes"] != nil || line["duration"] == nil || line["trace_id"] == nil {
			t.Errorf("want duration and trace_id and no error_codes: %v", line)
		}
	})

	t.Run("spans", func(t *testing.T) {
		var op sdktrace.ReadOnlySpan
		var kajabiSpans []sdktrace.ReadOnlySpan
		for _, s := range e.spans.Ended() {
			switch s.SpanKind() {
			case trace.SpanKindServer:
				op = s
			case trace.SpanKindClient:
				kajabiSpans = append(kajabiSpans, s)
			}
		}
		if op == nil || op.Name() != "query CustomersWithRelations" {
			t.Fatalf("want a server span named after the operation, got %v", op)
		}
		if len(kajabiSpans) != calls {
			t.Errorf("got %d Kajabi spans, want one per call (%d)", len(kajabiSpans), calls)
		}
		names := map[string]bool{}
		for _, s := range kajabiSpans {
			names[s.Name()] = true
			if s.Parent().SpanID() != op.SpanContext().SpanID() || s.SpanContext().TraceID() != op.SpanContext().TraceID() {
				t.Errorf("span %s: parent %v, want the operation span %v", s.Name(), s.Parent().SpanID(), op.SpanContext().SpanID())
			}
			if s.EndTime().After(op.EndTime()) {
				t.Errorf("span %s ends after the operation", s.Name())
			}
		}
		for _, name := range []string{"GET /v1/customers", "GET /v1/contacts/{id}", "GET /v1/customers/{id}/relationships/offers"} {
			if !names[name] {
				t.Errorf("no span %q among %v", name, names)
			}
		}
		if op.SpanContext().TraceID().String() != e.lastRequestLine(t)["trace_id"] {
			t.Errorf("access log trace_id is not the operation's trace")
		}
	})

	t.Run("metrics", func(t *testing.T) {
		tests := []struct {
			series string
			want   float64
		}{
			{`graphql_requests_total{operation="CustomersWithRelations",status="ok"}`, 1},
			{`graphql_request_duration_seconds_count{operation="CustomersWithRelations"}`, 1},
			{`kajabi_requests_total{endpoint="/v1/customers",status="200"}`, 1},
			{`kajabi_request_duration_seconds_count{endpoint="/v1/customers"}`, 1},
			{`kajabi_breaker_state`, 0},
		}
		for _, tt := range tests {
			if got := e.metric(t, tt.series); got != tt.want {
				t.Errorf("%s: got %v, want %v", tt.series, got, tt.want)
			}
		}
		// How the keys split into batches depends on timing; that there were batches does not.
		for _, name := range []string{"contacts", "sites", "customer_offers"} {
			n, sum := e.metric(t, `loader_batch_size_count{loader="`+name+`"}`), e.metric(t, `loader_batch_size_sum{loader="`+name+`"}`)
			if n < 1 || sum < n {
				t.Errorf("loader %s: %v batches of %v keys, want at least one batch", name, n, sum)
			}
		}
		if got := e.metric(t, `cache_requests_total{result="miss"}`); got == 0 {
			t.Errorf("want cache misses on a cold cache")
		}
		// The same query again: sites, products and offers come from the shared cache.
		e.post(t, relationsQuery, nil)
		if got := e.metric(t, `cache_requests_total{result="hit"}`); got == 0 {
			t.Errorf("want cache hits on the second request")
		}
		if got := e.metric(t, `graphql_requests_total{operation="CustomersWithRelations",status="ok"}`); got != 2 {
			t.Errorf("got %v requests counted, want 2", got)
		}
	})
}

func TestRequestID(t *testing.T) {
	e := newEnv(t, telemetry.Options{})
	tests := []struct {
		name, given string
		honoured    bool
	}{
		{"none", "", false},
		{"sane", "abc-123_X.y", true},
		{"128 characters", strings.Repeat("a", 128), true},
		{"too long", strings.Repeat("a", 129), false},
		{"forged log field", `x","level":"error`, false},
		{"space", "a b", false},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, e.url+"/metrics", nil)
			if tt.given != "" {
				req.Header.Set(telemetry.RequestIDHeader, tt.given)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			got := resp.Header.Get(telemetry.RequestIDHeader)
			if tt.honoured && got != tt.given {
				t.Errorf("got %q, want the caller's %q", got, tt.given)
			}
			if !tt.honoured {
				if len(got) != 32 || strings.Trim(got, "0123456789abcdef") != "" || seen[got] {
					t.Errorf("got %q, want a fresh 32-digit hex id", got)
				}
				seen[got] = true
			}
			if line := e.lastRequestLine(t); line["request_id"] != got {
				t.Errorf("log line request_id %v, want %q", line["request_id"], got)
			}
		})
	}
}

// TestErrorCodes checks that the codes of a response reach the access log and the metrics,
// for errors found during execution and for requests that never executed.
func TestErrorCodes(t *testing.T) {
	e := newEnv(t, telemetry.Options{})
	tests := []struct {
		name      string
		query     string
		operation string
		codes     []any
		calls     float64
	}{
		{"bad input", `query Bad { customers(first: 500) { totalCount } }`, "Bad", []any{"BAD_USER_INPUT"}, 0},
		{"not found", `query Missing { a: contact(id: "999999999") { id } b: product(id: "999999998") { id } }`, "Missing", []any{"NOT_FOUND"}, -1},
		{"parse error", `query Broken { customers(`, "anonymous", []any{"GRAPHQL_PARSE_FAILED"}, 0},
		{"validation error", `query Unknown { nope }`, "anonymous", []any{"GRAPHQL_VALIDATION_FAILED"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			series := `graphql_requests_total{operation="` + tt.operation + `",status="error"}`
			before := e.metric(t, series)
			e.post(t, tt.query, nil)
			line := e.lastRequestLine(t)
			codes, _ := line["error_codes"].([]any)
			if len(codes) != len(tt.codes) || codes[0] != tt.codes[0] {
				t.Errorf("error_codes %v, want %v", line["error_codes"], tt.codes)
			}
			if tt.calls >= 0 && line["kajabi_calls"] != tt.calls {
				t.Errorf("kajabi_calls %v, want %v", line["kajabi_calls"], tt.calls)
			}
			if got := e.metric(t, series) - before; got != 1 {
				t.Errorf("%s: went up by %v, want 1", series, got)
			}
		})
	}
	if got := e.metric(t, `graphql_errors_total{code="NOT_FOUND"}`); got != 2 {
		t.Errorf("NOT_FOUND errors: got %v, want 2 (one per error)", got)
	}
	for _, s := range e.spans.Ended() {
		if s.Name() == "query Bad" && s.Status().Description != "BAD_USER_INPUT" {
			t.Errorf("span of a failed operation: status %+v, want an error naming the code", s.Status())
		}
	}
}

// TestOperationLabelsAreBounded keeps made-up operation names from growing the metrics
// without bound.
func TestOperationLabelsAreBounded(t *testing.T) {
	e := newEnv(t, telemetry.Options{MaxOperations: 2})
	for _, name := range []string{"One", "Two", "Three", "Four", "One"} {
		e.post(t, `query `+name+` { sites { id } }`, nil)
	}
	e.post(t, `{ sites { id } }`, nil)
	for series, want := range map[string]float64{
		`graphql_requests_total{operation="One",status="ok"}`:       2,
		`graphql_requests_total{operation="Two",status="ok"}`:       1,
		`graphql_requests_total{operation="other",status="ok"}`:     2,
		`graphql_requests_total{operation="Three",status="ok"}`:     0,
		`graphql_requests_total{operation="anonymous",status="ok"}`: 1,
	} {
		if got := e.metric(t, series); got != want {
			t.Errorf("%s: got %v, want %v", series, got, want)
		}
	}
}

func TestTracePropagation(t *testing.T) {
	const incoming = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	for _, propagate := range []bool{false, true} {
		t.Run("propagate="+strconv.FormatBool(propagate), func(t *testing.T) {
			e := newEnv(t, telemetry.Options{PropagateTrace: propagate})
			e.post(t, `query Sites { sites { id } }`, map[string]string{"traceparent": incoming})
			reqs := e.upstream.Requests()
			if len(reqs) == 0 {
				t.Fatal("no Kajabi call")
			}
			sent := reqs[0].Header.Get("traceparent")
			if propagate != (sent != "") {
				t.Errorf("traceparent sent to Kajabi: %q; want it only when propagation is on", sent)
			}
			// The caller's trace is continued either way.
			if propagate && !strings.Contains(sent, "0af7651916cd43dd8448eb211c80319c") {
				t.Errorf("traceparent %q is not in the caller's trace", sent)
			}
			for _, s := range e.spans.Ended() {
				if s.SpanKind() == trace.SpanKindServer && (s.SpanContext().TraceID().String() != "0af7651916cd43dd8448eb211c80319c" || !s.Parent().IsRemote()) {
					t.Errorf("operation span not a child of the caller's span: %v", s.Parent())
				}
			}
		})
	}
}

func TestWithoutTracing(t *testing.T) {
	tel, err := telemetry.New(context.Background(), telemetry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if tel.Tracing() {
		t.Fatal("tracing on without a provider")
	}
	up := kajabitest.NewSandbox(t, sandbox.Options{Customers: 10, AccessTokens: []string{fixedToken}})
	client := up.Client(t, kajabi.WithAccessToken(fixedToken), kajabi.WithHTTPClient(tel.HTTPClient(kajabi.NewHTTPClient(5*time.Second))))
	logs := &logBuffer{}
	srv := httptest.NewServer(tel.AccessLog(zerolog.New(logs), edge.NewHandler(&graph.Resolver{Client: client}, edge.HandlerOptions{Telemetry: tel})))
	t.Cleanup(srv.Close)
	resp, err := http.Post(srv.URL, "application/json", strings.NewReader(`{"query":"query S { sites { id } }"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	lines := logs.requests()
	if len(lines) != 1 || lines[0]["kajabi_calls"] != float64(1) || lines[0]["trace_id"] != nil {
		t.Errorf("got %v, want one line with kajabi_calls 1 and no trace_id", lines)
	}
}

// TestRetriesAndBreakerMetrics drives the client's retry loop and breaker against a Kajabi
// that fails, and reads what the observer made of it.
func TestRetriesAndBreakerMetrics(t *testing.T) {
	var mu sync.Mutex
	failures := 1
	up := kajabitest.NewRecorder(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		fail := failures > 0
		failures--
		mu.Unlock()
		w.Header().Set("Content-Type", "application/vnd.api+json")
		if fail {
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, `{"errors":[{"status":"503","title":"Service Unavailable"}]}`)
			return
		}
		io.WriteString(w, `{"data":[],"meta":{"total_pages":1,"total_count":0,"current_page":1}}`)
	}))
	e := &env{tel: mustNew(t, telemetry.Options{})}
	client := up.Client(t, kajabi.WithAccessToken(fixedToken),
		kajabi.WithRetry(kajabi.RetryPolicy{MaxAttempts: 2, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond}),
		kajabi.WithBreaker(kajabi.BreakerPolicy{MinCalls: 2, Window: time.Minute, Cooldown: time.Minute}),
		kajabi.WithObserver(e.tel.KajabiObserver()))
	ctx := context.Background()
	if _, _, err := client.Sites.List(ctx, nil); err != nil {
		t.Fatal(err)
	}
	for series, want := range map[string]float64{
		`kajabi_requests_total{endpoint="/v1/sites",status="503"}`: 1,
		`kajabi_requests_total{endpoint="/v1/sites",status="200"}`: 1,
		`kajabi_retries_total{endpoint="/v1/sites"}`:               1,
		`kajabi_breaker_state`:                                     0,
	} {
		if got := e.metric(t, series); got != want {
			t.Errorf("%s: got %v, want %v", series, got, want)
		}
	}
	mu.Lock()
	failures = 100
	mu.Unlock()
	client.Sites.List(ctx, nil)
	if client.BreakerState() != kajabi.BreakerOpen {
		t.Fatalf("breaker %v, want open", client.BreakerState())
	}
	if got := e.metric(t, `kajabi_breaker_state`); got != 2 {
		t.Errorf("kajabi_breaker_state: got %v, want 2 (open)", got)
	}
}

func mustNew(t *testing.T, opts telemetry.Options) *telemetry.T {
	t.Helper()
	tel, err := telemetry.New(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return tel
}

func TestPathTemplate(t *testing.T) {
	tests := []struct{ path, want string }{
		{"/v1/customers", "/v1/customers"},
		{"/v1/customers/42", "/v1/customers/{id}"},
		{"/v1/customers/42/relationships/offers", "/v1/customers/{id}/relationships/offers"},
		{"/sandbox/v1/contacts/7", "/sandbox/v1/contacts/{id}"},
		{"/v1/oauth/token", "/v1/oauth/token"},
		{"/v1/products/abc-DEF", "/v1/products/{id}"},
	}
	for _, tt := range tests {
		if got := telemetry.PathTemplate(tt.path); got != tt.want {
			t.Errorf("PathTemplate(%q): got %q, want %q", tt.path, got, tt.want)
		}
	}
}

func TestOTLPExport(t *testing.T) {
	// A stand-in collector: the exporter POSTs protobuf to /v1/traces.
	var mu sync.Mutex
	var posts []string
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		posts = append(posts, r.Method+" "+r.URL.Path+" "+string(body))
		mu.Unlock()
	}))
	t.Cleanup(collector.Close)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.URL)
	t.Setenv("OTEL_SERVICE_NAME", "")
	env := map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": collector.URL}
	if !telemetry.OTLPConfigured(func(k string) string { return env[k] }) || telemetry.OTLPConfigured(func(string) string { return "" }) {
		t.Error("OTLPConfigured: want true exactly when the endpoint is set")
	}
	tel := mustNew(t, telemetry.Options{OTLP: true})
	if !tel.Tracing() {
		t.Fatal("want tracing on")
	}
	kajabiStandIn := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(kajabiStandIn.Close)
	resp, err := tel.HTTPClient(http.DefaultClient).Get(kajabiStandIn.URL + "/v1/customers/42")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if err := tel.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(posts) != 1 || !strings.HasPrefix(posts[0], "POST /v1/traces ") ||
		!strings.Contains(posts[0], "GET /v1/customers/{id}") || !strings.Contains(posts[0], telemetry.ServiceName) {
		t.Errorf("collector got %q, want one export with the call's span and the service name", posts)
	}
}

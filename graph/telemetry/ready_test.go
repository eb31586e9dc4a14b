package telemetry_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kajabi-graphql/facade/graph/telemetry"
	"github.com/kajabi-graphql/facade/kajabi"
	"github.com/kajabi-graphql/facade/kajabi/kajabitest"
	"github.com/kajabi-graphql/facade/kajabi/sandbox"
)

type readyAnswer struct {
	status int
	Status string            `json:"status"`
	Checks map[string]string `json:"checks"`
	raw    string
}

func probe(t *testing.T, h http.Handler) readyAnswer {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	a := readyAnswer{status: rec.Code, raw: rec.Body.String()}
	if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil {
		t.Fatalf("body %q: %v", rec.Body.String(), err)
	}
	return a
}

type statusAnswer struct {
	Kajabi telemetry.KajabiStatus `json:"kajabi"`
	raw    string
}

func getStatus(t *testing.T, h http.Handler) statusAnswer {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/status", nil))
	a := statusAnswer{raw: rec.Body.String()}
	if rec.Code != http.StatusOK {
		t.Fatalf("/status: got %d %s, want 200", rec.Code, a.raw)
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil {
		t.Fatalf("body %q: %v", a.raw, err)
	}
	return a
}

// TestReadiness: readiness is the process's own checks, in order; a failing one makes it
// 503 and leaves the rest unchecked.
func TestReadiness(t *testing.T) {
	failing := func(context.Context) error { return io.ErrUnexpectedEOF }
	ok := func(context.Context) error { return nil }
	na := func(context.Context) error { return telemetry.ErrNotApplicable }
	tests := []struct {
		name   string
		checks []telemetry.Check
		status int
		want   map[string]string
	}{
		{"no checks", nil, http.StatusOK, map[string]string{}},
		{"all pass", []telemetry.Check{{"a", ok}, {"b", na}}, http.StatusOK, map[string]string{"a": "ok", "b": "not applicable"}},
		{"one fails", []telemetry.Check{{"a", failing}, {"b", ok}}, http.StatusServiceUnavailable,
			map[string]string{"a": io.ErrUnexpectedEOF.Error(), "b": "not checked"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := probe(t, telemetry.Readiness(telemetry.ReadinessOptions{Checks: tt.checks}))
			wantStatus := map[int]string{200: "ready", 503: "unavailable"}[tt.status]
			if a.status != tt.status || a.Status != wantStatus {
				t.Errorf("got %d %q, want %d %q: %s", a.status, a.Status, tt.status, wantStatus, a.raw)
			}
			for name, want := range tt.want {
				if got := a.Checks[name]; got != want {
					t.Errorf("check %s: got %q, want %q", name, got, want)
				}
			}
		})
	}
}

// TestStatus: /status reports Kajabi's version as answered, or why it was not, whatever
// the credentials, and shows no secret.
func TestStatus(t *testing.T) {
	up := kajabitest.NewSandbox(t, sandbox.Options{Customers: 10, AccessTokens: []string{fixedToken}})
	noRetry := kajabi.WithRetry(kajabi.RetryPolicy{})
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()

	tests := []struct {
		name      string
		client    *kajabi.Client
		ok        bool
		errPrefix string
	}{
		{"client credentials", up.Client(t), true, ""},
		{"a fixed token", up.Client(t, kajabi.WithAccessToken(fixedToken)), true, ""},
		{"forwarding callers' tokens", mustClient(t, kajabi.WithBaseURL(up.URL)), true, ""},
		{"wrong client secret", up.Client(t, kajabi.WithClientCredentials(sandbox.ClientID, "wrong-secret-for-status"), noRetry), true, ""},
		{"Kajabi unreachable", mustClient(t, kajabi.WithBaseURL(closed.URL), kajabi.WithClientCredentials("id", "secret"), noRetry), false, "GET "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := getStatus(t, telemetry.Status(tt.client, telemetry.StatusOptions{}))
			t.Logf("%s", a.raw)
			v := a.Kajabi.Version
			if v.OK != tt.ok || (tt.ok && v.Version != "1.1.0") || !strings.HasPrefix(v.Error, tt.errPrefix) || v.CheckedAt.IsZero() {
				t.Errorf("version: got %+v, want ok %v (error starting %q)", v, tt.ok, tt.errPrefix)
			}
			if a.Kajabi.Breaker != "closed" {
				t.Errorf("breaker: got %q, want closed", a.Kajabi.Breaker)
			}
			if strings.Contains(a.raw, "wrong-secret") || strings.Contains(a.raw, sandbox.ClientSecret) || strings.Contains(a.raw, fixedToken) {
				t.Errorf("the answer shows a secret: %s", a.raw)
			}
			// Readiness is the process's, whatever Kajabi says.
			if r := probe(t, telemetry.Readiness(telemetry.ReadinessOptions{})); r.status != http.StatusOK {
				t.Errorf("/readyz: got %d, want 200", r.status)
			}
		})
	}
}

// TestStatusProbeIsCached: requests within ProbeEvery share one version probe, so
// frequent status scrapes cost Kajabi one call per ProbeEvery.
func TestStatusProbeIsCached(t *testing.T) {
	up := kajabitest.NewSandbox(t, sandbox.Options{Customers: 10, AccessTokens: []string{fixedToken}})
	client := up.Client(t, kajabi.WithAccessToken(fixedToken))
	h := telemetry.Status(client, telemetry.StatusOptions{ProbeEvery: time.Hour})
	for range 5 {
		if a := getStatus(t, h); !a.Kajabi.Version.OK {
			t.Fatalf("got %s", a.raw)
		}
	}
	if n := up.Calls(); n != 1 {
		t.Errorf("5 status requests made %d Kajabi calls, want 1", n)
	}
}

// TestStatusProbeSkipsTheLimiter: with the rate budget spent for an hour, the version
// probe still goes out at once: it never queues behind traffic.
func TestStatusProbeSkipsTheLimiter(t *testing.T) {
	up := kajabitest.NewSandbox(t, sandbox.Options{Customers: 10, AccessTokens: []string{fixedToken}})
	client := up.Client(t, kajabi.WithAccessToken(fixedToken), kajabi.WithRetry(kajabi.RetryPolicy{}),
		kajabi.WithLimits(kajabi.Limits{Rate: 1.0 / 3600, Burst: 1}))
	if _, _, err := client.Sites.List(context.Background(), nil); err != nil {
		t.Fatal(err) // spends the only token
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if _, _, err := client.Sites.List(ctx, nil); err == nil {
		t.Fatal("a second list went through: the budget is not spent, the test proves nothing")
	}
	if a := getStatus(t, telemetry.Status(client, telemetry.StatusOptions{})); !a.Kajabi.Version.OK {
		t.Errorf("version: got %s, want answered", a.raw)
	}
	if n := up.Calls(); n != 2 {
		t.Errorf("Kajabi calls: got %d, want 2 (one list, one version)", n)
	}
}

// TestReadinessIgnoresKajabi: with the breaker open, /readyz stays 200 (the old contract
// answered 503, taking every replica out of rotation on a Kajabi blip), and /status says
// what is going on.
func TestReadinessIgnoresKajabi(t *testing.T) {
	up := kajabitest.NewRecorder(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/vnd.api+json")
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, `{"errors":[{"status":"503","title":"Service Unavailable"}]}`)
	}))
	client := mustClient(t, kajabi.WithBaseURL(up.URL), kajabi.WithAccessToken(fixedToken), kajabi.WithRetry(kajabi.RetryPolicy{}),
		kajabi.WithBreaker(kajabi.BreakerPolicy{MinCalls: 1, Window: time.Minute, Cooldown: time.Minute}))
	if _, _, err := client.Sites.List(context.Background(), nil); err == nil {
		t.Fatal("want Kajabi's 503")
	}
	if got := client.BreakerState(); got != kajabi.BreakerOpen {
		t.Fatalf("breaker: got %v, want open", got)
	}
	if a := probe(t, telemetry.Readiness(telemetry.ReadinessOptions{})); a.status != http.StatusOK {
		t.Errorf("/readyz with the breaker open: got %d %s, want 200", a.status, a.raw)
	}
	a := getStatus(t, telemetry.Status(client, telemetry.StatusOptions{}))
	k := a.Kajabi
	if k.Breaker != "open" || k.LastErrorAt == nil || !strings.Contains(k.LastError, "503") ||
		k.Version.OK || !strings.Contains(k.Version.Error, "503") {
		t.Errorf("/status: got %s, want the breaker open, the last error a 503 and the probe's 503", a.raw)
	}
	if n := up.Calls(); n != 2 {
		t.Errorf("Kajabi calls: got %d, want 2 (the list, the version probe)", n)
	}
}

func mustClient(t *testing.T, opts ...kajabi.Option) *kajabi.Client {
	t.Helper()
	c, err := kajabi.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

package telemetry_test

import (
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

func TestReadiness(t *testing.T) {
	up := kajabitest.NewSandbox(t, sandbox.Options{Customers: 10, AccessTokens: []string{fixedToken}})
	noRetry := kajabi.WithRetry(kajabi.RetryPolicy{})
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()

	tests := []struct {
		name   string
		client *kajabi.Client
		status int
		checks map[string]string // values, or a prefix of them ending in "*"
	}{
		{"client credentials", up.Client(t), http.StatusOK,
			map[string]string{"kajabi": "ok", "credentials": "ok"}},
		{"a fixed token", up.Client(t, kajabi.WithAccessToken(fixedToken)), http.StatusOK,
			map[string]string{"kajabi": "ok", "credentials": "not applicable"}},
		{"forwarding callers' tokens", mustClient(t, kajabi.WithBaseURL(up.URL)), http.StatusOK,
			map[string]string{"kajabi": "ok", "credentials": "not applicable"}},
		{"wrong client secret", up.Client(t, kajabi.WithClientCredentials(sandbox.ClientID, "wrong-secret-for-readyz"), noRetry), http.StatusServiceUnavailable,
			map[string]string{"kajabi": "ok", "credentials": "obtain access token: *"}},
		{"Kajabi unreachable", mustClient(t, kajabi.WithBaseURL(closed.URL), kajabi.WithClientCredentials("id", "secret"), noRetry), http.StatusServiceUnavailable,
			map[string]string{"kajabi": "*", "credentials": "not checked"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := probe(t, telemetry.Readiness(telemetry.ReadinessOptions{Checks: telemetry.KajabiChecks(tt.client)}))
			t.Logf("%d %s", a.status, a.raw)
			wantStatus := map[int]string{200: "ready", 503: "unavailable"}[tt.status]
			if a.status != tt.status || a.Status != wantStatus {
				t.Errorf("got %d %q, want %d %q: %s", a.status, a.Status, tt.status, wantStatus, a.raw)
			}
			for name, want := range tt.checks {
				got := a.Checks[name]
				if prefix, ok := strings.CutSuffix(want, "*"); ok && strings.HasPrefix(got, prefix) && got != prefix+"not checked" {
					continue
				}
				if got != want {
					t.Errorf("check %s: got %q, want %q", name, got, want)
				}
			}
			if strings.Contains(a.raw, "wrong-secret") || strings.Contains(a.raw, sandbox.ClientSecret) || strings.Contains(a.raw, fixedToken) {
				t.Errorf("the answer shows a secret: %s", a.raw)
			}
		})
	}
}

// TestReadinessIsCached: probes within the TTL share one round of checks, so a fleet of
// probes costs Kajabi one version call per TTL.
func TestReadinessIsCached(t *testing.T) {
	up := kajabitest.NewSandbox(t, sandbox.Options{Customers: 10, AccessTokens: []string{fixedToken}})
	client := up.Client(t, kajabi.WithAccessToken(fixedToken))
	h := telemetry.Readiness(telemetry.ReadinessOptions{Checks: telemetry.KajabiChecks(client), TTL: time.Hour})
	for range 5 {
		if a := probe(t, h); a.status != http.StatusOK {
			t.Fatalf("got %d: %s", a.status, a.raw)
		}
	}
	if n := up.Calls(); n != 1 {
		t.Errorf("5 probes made %d Kajabi calls, want 1", n)
	}
}

// TestReadinessWithOpenBreaker: once the breaker opens, probes fail without calling Kajabi.
func TestReadinessWithOpenBreaker(t *testing.T) {
	up := kajabitest.NewRecorder(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/vnd.api+json")
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, `{"errors":[{"status":"503","title":"Service Unavailable"}]}`)
	}))
	client := mustClient(t, kajabi.WithBaseURL(up.URL), kajabi.WithRetry(kajabi.RetryPolicy{}),
		kajabi.WithBreaker(kajabi.BreakerPolicy{Threshold: 1, Window: time.Minute, Cooldown: time.Minute}))
	h := telemetry.Readiness(telemetry.ReadinessOptions{Checks: telemetry.KajabiChecks(client), TTL: time.Nanosecond})
	if a := probe(t, h); a.status != http.StatusServiceUnavailable || !strings.Contains(a.Checks["kajabi"], "503") {
		t.Fatalf("first probe: %d %s, want 503 naming Kajabi's 503", a.status, a.raw)
	}
	time.Sleep(time.Millisecond)
	a := probe(t, h)
	if a.status != http.StatusServiceUnavailable || !strings.Contains(a.Checks["kajabi"], "circuit") {
		t.Errorf("second probe: %d %s, want 503 naming the open breaker", a.status, a.raw)
	}
	if n := up.Calls(); n != 1 {
		t.Errorf("got %d Kajabi calls, want 1: the open breaker answers the second probe", n)
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

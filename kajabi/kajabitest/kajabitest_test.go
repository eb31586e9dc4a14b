package kajabitest

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/kajabi-graphql/facade/kajabi"
	"github.com/kajabi-graphql/facade/kajabi/sandbox"
)

// spyT records what the code under test reports instead of failing the real test.
type spyT struct {
	testing.TB
	mu   sync.Mutex
	errs []string
	logs []string
}

func (s *spyT) Helper() {}

func (s *spyT) Errorf(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.errs = append(s.errs, fmt.Sprintf(format, args...))
}

func (s *spyT) Logf(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.logs = append(s.logs, fmt.Sprintf(format, args...))
}

// scripted answers like a tiny Kajabi: a token, and conforming site documents.
func scripted(t *testing.T) http.Handler {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/oauth/token", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"access_token":"tok","refresh_token":"ref","token_type":"Bearer","expires_in":7200}`)
	})
	mux.HandleFunc("GET /v1/sites/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/vnd.api+json")
		fmt.Fprintf(w, `{"data":{"id":%q,"type":"sites","attributes":{"title":"T","subdomain":"t","created_at":"2026-01-02T03:04:05Z","updated_at":"2026-01-02T03:04:05Z"}}}`, r.PathValue("id"))
	})
	return mux
}

func TestRecorder(t *testing.T) {
	u := NewRecorder(t, scripted(t))
	if u.Sandbox != nil {
		t.Errorf("NewRecorder: Sandbox = %v, want nil", u.Sandbox)
	}
	c := u.Client(t)
	ctx := t.Context()

	const n = 40
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if _, _, err := c.Sites.Get(ctx, fmt.Sprint(i)); err != nil {
				t.Errorf("Sites.Get(%d): %v", i, err)
			}
		})
	}
	wg.Wait()

	reqs := u.Requests()
	if got := u.Calls(); got != n || len(reqs) != n {
		t.Fatalf("Calls() = %d, len(Requests()) = %d, want %d (token requests left out)", got, len(reqs), n)
	}
	seen := map[string]bool{}
	for _, r := range reqs {
		if r.Method != http.MethodGet || !strings.HasPrefix(r.Path, "/v1/sites/") || r.Status != http.StatusOK {
			t.Errorf("recorded %s %s -> %d, want GET /v1/sites/{id} -> 200", r.Method, r.Path, r.Status)
		}
		if got := r.Header.Get("Authorization"); got != "Bearer tok" {
			t.Errorf("recorded Authorization %q, want %q", got, "Bearer tok")
		}
		seen[r.Path] = true
	}
	if len(seen) != n {
		t.Errorf("recorded %d distinct paths, want %d", len(seen), n)
	}
	reqs[0].Header.Set("Authorization", "changed")
	if got := u.Requests()[0].Header.Get("Authorization"); got != "Bearer tok" {
		t.Errorf("Requests() shares headers with the recorder: got %q after changing the copy", got)
	}
	if tokens := len(u.snapshot()) - n; tokens != 1 {
		t.Errorf("saw %d token requests, want 1 (the client caches its token)", tokens)
	}

	u.Reset()
	if got := u.Calls(); got != 0 {
		t.Errorf("Calls() after Reset = %d, want 0", got)
	}
	// The client puts only digits in a path, so an escaped one is sent by hand.
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.URL+"/v1/sites/x%20y", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer tok")
	req.Header.Set("Accept", "application/vnd.api+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	reqs = u.Requests()
	if len(reqs) != 1 || reqs[0].Path != "/v1/sites/x y" {
		t.Fatalf("Requests() after Reset = %+v, want the one GET /v1/sites/x y", reqs)
	}
}

func TestClientOptionsWin(t *testing.T) {
	u := NewRecorder(t, scripted(t))
	c := u.Client(t, kajabi.WithAccessToken("fixed"))
	if _, _, err := c.Sites.Get(t.Context(), "1"); err != nil {
		t.Fatal(err)
	}
	if got := u.Requests()[0].Header.Get("Authorization"); got != "Bearer fixed" {
		t.Errorf("Authorization = %q, want %q", got, "Bearer fixed")
	}
	if got, want := len(u.snapshot()), 1; got != want {
		t.Errorf("saw %d requests, want %d (a static token needs no token request)", got, want)
	}
}

func TestHandle(t *testing.T) {
	u := NewSandbox(t, sandbox.Options{Customers: 20})
	if u.Sandbox == nil {
		t.Fatal("NewSandbox: Sandbox is nil")
	}
	u.Handle(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/v1/sites" {
				next.ServeHTTP(w, r)
				return
			}
			w.Header().Set("Content-Type", "application/vnd.api+json")
			w.WriteHeader(http.StatusBadGateway)
			io.WriteString(w, `{"errors":[{"status":"502","title":"Bad Gateway","detail":"injected"}]}`)
		})
	})
	c := u.Client(t, kajabi.WithRetry(kajabi.RetryPolicy{})) // one answer per call, no retries
	_, _, err := c.Sites.List(t.Context(), nil)
	wantStatus(t, err, http.StatusBadGateway)
	if _, _, err := c.Customers.List(t.Context(), nil); err != nil {
		t.Errorf("Customers.List through the wrapper: %v", err)
	}
	want := []int{http.StatusBadGateway, http.StatusOK}
	reqs := u.Requests()
	if len(reqs) != len(want) {
		t.Fatalf("recorded %d requests, want %d", len(reqs), len(want))
	}
	for i, r := range reqs {
		if r.Status != want[i] {
			t.Errorf("request %d (%s %s): status %d, want %d", i, r.Method, r.Path, r.Status, want[i])
		}
	}
}

// TestCleanupReportsViolations drives bad traffic through a recorder and checks that the
// cleanup reports each distinct problem once, with a count.
func TestCleanupReportsViolations(t *testing.T) {
	requireSpec(t)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/vnd.api+json")
		io.WriteString(w, `{"data":[{"id":"1","type":"customers","attributes":{"sign_in_count":"three"}}]}`)
	})
	spy := &spyT{}
	t.Run("traffic", func(t *testing.T) {
		spy.TB = t
		u := NewRecorder(spy, h)
		for _, auth := range []string{"Bearer a", "Bearer b", "Bearer c", ""} {
			req, _ := http.NewRequest(http.MethodGet, u.URL+"/v1/customers?filter[bogus]=1", nil)
			if auth != "" {
				req.Header.Set("Authorization", auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
	wants := []string{
		`request GET /v1/customers: query parameter "filter[bogus]" is not declared`,
		`response GET /v1/customers 200: `,
		`/data/0/attributes/sign_in_count`,
		`security: Authorization header "" is not "Bearer <token>"`,
		`(and 3 more like it)`,
	}
	all := strings.Join(spy.errs, "\n")
	for _, want := range wants {
		if !strings.Contains(all, want) {
			t.Errorf("cleanup reported:\n%s\nwant it to mention %q", all, want)
		}
	}
	if got, want := len(spy.errs), 3; got != want {
		t.Errorf("cleanup reported %d problems, want %d (param, schema, auth):\n%s", got, want, all)
	}
}

func TestSpecPath(t *testing.T) {
	t.Run("from env", func(t *testing.T) {
		want, ok := specPath()
		if !ok {
			t.Skip("openapi.yaml not found")
		}
		t.Setenv("KAJABI_OPENAPI", want)
		got, ok := SpecPath(t)
		if !ok || got != want {
			t.Errorf("SpecPath = %q, %v, want %q, true", got, ok, want)
		}
	})
	missing := t.TempDir() + "/openapi.yaml"
	t.Run("absent outside CI", func(t *testing.T) {
		t.Setenv("KAJABI_OPENAPI", missing)
		t.Setenv("CI", "")
		spy := &spyT{TB: t}
		got, ok := SpecPath(spy)
		if ok || got != missing {
			t.Errorf("SpecPath = %q, %v, want %q, false", got, ok, missing)
		}
		if len(spy.errs) != 0 || len(spy.logs) != 1 || !strings.Contains(spy.logs[0], "contract checks are off") {
			t.Errorf("SpecPath reported errors %q and logs %q, want one log saying the checks are off", spy.errs, spy.logs)
		}
		if err := CheckRequest("GET", "/v1/sites", ""); err != ErrNoSpec {
			t.Errorf("CheckRequest without a spec = %v, want ErrNoSpec", err)
		}
	})
	t.Run("absent under CI", func(t *testing.T) {
		t.Setenv("KAJABI_OPENAPI", missing)
		t.Setenv("CI", "true")
		spy := &spyT{TB: t}
		if _, ok := SpecPath(spy); ok {
			t.Error("SpecPath found a missing file")
		}
		if len(spy.errs) != 1 || !strings.Contains(spy.errs[0], "under CI") {
			t.Errorf("SpecPath under CI reported %q, want one error", spy.errs)
		}
	})
}

package sandbox_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/kajabi-graphql/facade/kajabi/sandbox"
)

// testNow pins the sandbox clock so answers are the same on every run.
var testNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// testToken is accepted by every sandbox these tests build.
const testToken = "test-token"

type env struct {
	sb  *sandbox.Sandbox
	srv *httptest.Server
}

// shared is one default-sized sandbox (5000 customers, 2 sites) for the
// read-only tests; tests that change settings build their own.
var shared struct {
	once sync.Once
	env  *env
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.env != nil {
		shared.env.srv.Close()
	}
	if oneSite.env != nil {
		oneSite.env.srv.Close()
	}
	os.Exit(code)
}

// oneSite is a shared sandbox of one site, for the tests of customer lists: on the
// default two sites a list without filter[site_id] is refused (TestMultiSite).
var oneSite struct {
	once sync.Once
	env  *env
}

func oneSiteEnv(t *testing.T) *env {
	t.Helper()
	oneSite.once.Do(func() {
		sb := sandbox.New(sandbox.Options{Sites: 1, Now: testNow, AccessTokens: []string{testToken}})
		oneSite.env = &env{sb: sb, srv: httptest.NewServer(sb)}
	})
	return oneSite.env
}

func sharedEnv(t *testing.T) *env {
	t.Helper()
	shared.once.Do(func() {
		sb := sandbox.New(sandbox.Options{Now: testNow, AccessTokens: []string{testToken}})
		shared.env = &env{sb: sb, srv: httptest.NewServer(sb)}
	})
	return shared.env
}

// newEnv builds a private sandbox on its own loopback server.
func newEnv(t *testing.T, opts sandbox.Options) *env {
	t.Helper()
	if opts.Now.IsZero() {
		opts.Now = testNow
	}
	opts.AccessTokens = append(opts.AccessTokens, testToken)
	sb := sandbox.New(opts)
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	return &env{sb: sb, srv: srv}
}

// do sends a request with the test token (unless token is empty) and returns
// the response with its body read.
func (e *env) do(t *testing.T, method, path, token string) (*http.Response, []byte) {
	t.Helper()
	return doCtx(t, context.Background(), e.srv.URL, method, path, token)
}

func doCtx(t *testing.T, ctx context.Context, base, method, path, token string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, method, base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// getJSON GETs path with the test token, wants 200 and JSON:API, and decodes
// the body into v.
func (e *env) getJSON(t *testing.T, path string, v any) {
	t.Helper()
	resp, body := e.do(t, http.MethodGet, path, testToken)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: got status %d, want 200; body %s", path, resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/vnd.api+json" {
		t.Fatalf("GET %s: got Content-Type %q, want application/vnd.api+json", path, ct)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: decode: %v; body %s", path, err, body)
	}
}

// errorDoc is a JSON:API error document.
type errorDoc struct {
	Errors []struct {
		Status string `json:"status"`
		Title  string `json:"title"`
		Detail string `json:"detail"`
	} `json:"errors"`
}

// wantError checks a JSON:API error answer with the given status.
func wantError(t *testing.T, resp *http.Response, body []byte, status int) {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("got status %d, want %d; body %s", resp.StatusCode, status, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/vnd.api+json" {
		t.Errorf("got Content-Type %q, want application/vnd.api+json", ct)
	}
	var doc errorDoc
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("decode error body: %v; body %s", err, body)
	}
	if len(doc.Errors) != 1 {
		t.Fatalf("got %d errors, want 1; body %s", len(doc.Errors), body)
	}
	got := doc.Errors[0]
	if got.Status != strconv.Itoa(status) || got.Title != http.StatusText(status) || got.Detail == "" {
		t.Errorf("got error %+v, want status %q, title %q and a detail", got, strconv.Itoa(status), http.StatusText(status))
	}
}

// listDoc is the part of a list document the tests look at.
type listDoc struct {
	Data  []resource `json:"data"`
	Links struct {
		Self  string  `json:"self"`
		First string  `json:"first"`
		Prev  *string `json:"prev"`
		Next  *string `json:"next"`
		Last  string  `json:"last"`
	} `json:"links"`
	Meta struct {
		TotalPages  int `json:"total_pages"`
		TotalCount  int `json:"total_count"`
		CurrentPage int `json:"current_page"`
	} `json:"meta"`
}

type resource struct {
	ID            string                     `json:"id"`
	Type          string                     `json:"type"`
	Attributes    map[string]json.RawMessage `json:"attributes"`
	Relationships map[string]relationship    `json:"relationships"`
	Links         map[string]string          `json:"links"`
}

type relationship struct {
	Data  json.RawMessage   `json:"data"`
	Links map[string]string `json:"links"`
}

type ident struct {
	ID   string `json:"id"`
	Type string `json:"type"`
}

// one decodes a to-one relationship's identifier.
func (r relationship) one(t *testing.T) ident {
	t.Helper()
	var id ident
	if err := json.Unmarshal(r.Data, &id); err != nil {
		t.Fatalf("to-one data %s: %v", r.Data, err)
	}
	return id
}

// many decodes a to-many relationship's identifiers.
func (r relationship) many(t *testing.T) []ident {
	t.Helper()
	var ids []ident
	if err := json.Unmarshal(r.Data, &ids); err != nil || ids == nil {
		t.Fatalf("to-many data %s: %v", r.Data, err)
	}
	return ids
}

func attrString(t *testing.T, r resource, name string) string {
	t.Helper()
	var s string
	if err := json.Unmarshal(r.Attributes[name], &s); err != nil {
		t.Fatalf("%s %s attribute %s = %s: %v", r.Type, r.ID, name, r.Attributes[name], err)
	}
	return s
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

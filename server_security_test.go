package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kajabi-graphql/facade/kajabi/sandbox"
)

func TestLoadConfigSecurity(t *testing.T) {
	dir := t.TempDir()
	keysFile := filepath.Join(dir, "keys")
	if err := os.WriteFile(keysFile, []byte("file-key-0123456789abcdef\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	allowlist := filepath.Join(dir, "ops.graphql")
	if err := os.WriteFile(allowlist, []byte("query Q { sites { id } }"), 0o600); err != nil {
		t.Fatal(err)
	}
	badAllowlist := filepath.Join(dir, "bad.graphql")
	if err := os.WriteFile(badAllowlist, []byte("query Q { nope }"), 0o600); err != nil {
		t.Fatal(err)
	}
	creds := map[string]string{"KAJABI_CLIENT_ID": "a", "KAJABI_CLIENT_SECRET": "b"}
	with := func(base map[string]string, kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	runConfigCases(t, []configCase{
		{"sandbox: open, development, everything on", nil, nil, "", func(c config) bool {
			return c.AuthMode == authOpen && c.Environment == envDevelopment && c.Introspection && c.FieldSuggestions &&
				c.GraphiQL && c.CSRFPrevention && c.PersistedQueries && c.guardsHost() && c.RequestTimeout.Seconds() == 20 &&
				c.Limits.MaxDepth == 10 && c.Limits.MaxComplexity == 5000
		}},
		{"credentials: production, schema hidden", creds, nil, "", func(c config) bool {
			return c.AuthMode == authOpen && c.Environment == envProduction && !c.Introspection && !c.FieldSuggestions && !c.GraphiQL
		}},
		{"production overridden setting by setting", with(creds, "INTROSPECTION", "true", "GRAPHIQL", "1"), nil, "", func(c config) bool {
			return c.Introspection && c.GraphiQL && !c.FieldSuggestions
		}},
		{"APP_ENV", map[string]string{"APP_ENV": "production"}, nil, "", func(c config) bool { return c.Environment == envProduction && !c.Introspection }},
		{"ENVIRONMENT wins over APP_ENV", map[string]string{"APP_ENV": "production", "ENVIRONMENT": "development"}, nil, "", func(c config) bool { return c.Environment == envDevelopment }},
		{"unknown environment", map[string]string{"ENVIRONMENT": "staging"}, nil, "ENVIRONMENT", nil},
		{"open on every interface", map[string]string{"LISTEN_ADDR": ":8080"}, nil, "AUTH_MODE=open", nil},
		{"open on a public address", with(creds, "LISTEN_ADDR", "10.1.2.3:8080"), nil, "ALLOW_OPEN", nil},
		{"open on every interface, allowed", map[string]string{"LISTEN_ADDR": ":8080", "ALLOW_OPEN": "true"}, nil, "", func(c config) bool {
			return c.AuthMode == authOpen && !c.guardsHost()
		}},
		{"open on localhost", map[string]string{"LISTEN_ADDR": "localhost:9000"}, nil, "", func(c config) bool { return c.AuthMode == authOpen }},
		{"API keys mean service mode", with(creds, "API_KEYS", "env-key-0123456789abcdef, other-key-0123456789abcdef", "LISTEN_ADDR", ":8080"), nil, "", func(c config) bool {
			return c.AuthMode == authService && c.APIKeys.Len() == 2 && !c.guardsHost()
		}},
		{"keys from a file", map[string]string{"API_KEYS_FILE": keysFile}, nil, "", func(c config) bool {
			return c.AuthMode == authService && c.APIKeys.Len() == 1
		}},
		{"missing keys file", map[string]string{"API_KEYS_FILE": filepath.Join(dir, "nope")}, nil, "API_KEYS_FILE", nil},
		{"service mode without keys", map[string]string{"AUTH_MODE": "service"}, nil, "needs API keys", nil},
		{"short key", map[string]string{"API_KEYS": "secret"}, nil, "at least 16", nil},
		{"keys in open mode", map[string]string{"AUTH_MODE": "open", "API_KEYS": "env-key-0123456789abcdef"}, nil, "only checked in AUTH_MODE=service", nil},
		{"flag sets the mode", map[string]string{"API_KEYS": "env-key-0123456789abcdef"}, []string{"-auth-mode", "service"}, "", func(c config) bool { return c.AuthMode == authService }},
		{"passthrough to Kajabi", map[string]string{"AUTH_MODE": "passthrough", "KAJABI_BASE_URL": "https://api.kajabi.com", "LISTEN_ADDR": ":8080"}, nil, "", func(c config) bool {
			return c.AuthMode == authPassthrough && !c.sandboxMode() && c.Environment == envProduction
		}},
		{"passthrough on the sandbox", map[string]string{"AUTH_MODE": "PASSTHROUGH"}, nil, "", func(c config) bool {
			return c.AuthMode == authPassthrough && c.sandboxMode()
		}},
		{"passthrough holding a secret", with(creds, "AUTH_MODE", "passthrough"), nil, "holds no Kajabi secret", nil},
		{"unknown mode", map[string]string{"AUTH_MODE": "anonymous"}, nil, "AUTH_MODE must be", nil},
		{"limits", map[string]string{"MAX_DEPTH": "0", "MAX_COMPLEXITY": "900", "MAX_TOKENS": "500", "REQUEST_TIMEOUT": "3s"}, nil, "", func(c config) bool {
			return c.Limits.MaxDepth == 0 && c.Limits.MaxComplexity == 900 && c.Limits.MaxTokens == 500 && c.RequestTimeout.Seconds() == 3
		}},
		{"negative limit", map[string]string{"MAX_ALIASES": "-1"}, nil, "MAX_ALIASES", nil},
		{"malformed boolean", map[string]string{"CSRF_PREVENTION": "maybe"}, nil, "CSRF_PREVENTION", nil},
		{"CORS origins", map[string]string{"CORS_ALLOWED_ORIGINS": "https://a.example, https://b.example"}, nil, "", func(c config) bool {
			return len(c.CORSOrigins) == 2 && c.CORSOrigins[1] == "https://b.example"
		}},
		{"allow-list", map[string]string{"OPERATION_ALLOWLIST": allowlist}, nil, "", func(c config) bool { return c.Allowlist.Len() == 1 }},
		{"stale allow-list", map[string]string{"OPERATION_ALLOWLIST": badAllowlist}, nil, "OPERATION_ALLOWLIST", nil},
	})
}

// post sends a GraphQL POST with extra headers and returns the status and body.
func post(t *testing.T, base, query string, header map[string]string) (int, map[string]any) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query})
	req, _ := http.NewRequest(http.MethodPost, base+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		if k == "Host" {
			req.Host = v
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("status %d, body %.300s", resp.StatusCode, raw)
	}
	return resp.StatusCode, out
}

func firstCode(out map[string]any) string {
	errs, _ := out["errors"].([]any)
	if len(errs) == 0 {
		return ""
	}
	ext, _ := errs[0].(map[string]any)["extensions"].(map[string]any)
	code, _ := ext["code"].(string)
	return code
}

// TestServiceMode: callers need one of the API keys; the service's own Kajabi credentials
// answer them, and the mode is on the first log line.
func TestServiceMode(t *testing.T) {
	const key = "service-mode-key-0123456789abcdef"
	base, logs := startServer(t, map[string]string{"SANDBOX_CUSTOMERS": "30", "API_KEYS": key})
	// The sandbox's two sites together hold its customers (Kajabi lists one site at a time).
	const query = `{ a: customers(filter: {siteId: "101"}, first: 1) { totalCount } b: customers(filter: {siteId: "102"}, first: 1) { totalCount } }`
	for name, h := range map[string]map[string]string{
		"none":                  nil,
		"wrong":                 {"X-API-Key": "wrong-key-0123456789abcdef"},
		"a Kajabi token":        {"Authorization": "Bearer " + strings.Repeat("k", 40)},
		"the key in a cookie":   {"Cookie": "api_key=" + key},
		"the key in the query":  {"X-Query": key},
		"the key, upper case":   {"X-API-Key": strings.ToUpper(key)},
		"the key with a suffix": {"X-API-Key": key + " "},
	} {
		status, out := post(t, base, query, h)
		if name == "the key with a suffix" { // header values are trimmed: still the key
			if status != 200 {
				t.Errorf("%s: got %d %v", name, status, out)
			}
			continue
		}
		if status != 401 || firstCode(out) != "UNAUTHENTICATED" || out["data"] != nil {
			t.Errorf("%s: got %d %v, want 401 UNAUTHENTICATED", name, status, out)
		}
	}
	for _, h := range []map[string]string{{"X-API-Key": key}, {"Authorization": "Bearer " + key}} {
		status, out := post(t, base, query, h)
		if status != 200 || out["errors"] != nil || bothSites(out) != 30 {
			t.Errorf("%v: got %d %v", h, status, out)
		}
	}
	lines := logs.lines()
	if len(lines) == 0 || lines[0]["authMode"] != authService || lines[0]["environment"] != envDevelopment {
		t.Errorf("first log line should state the mode: %v", lines[0])
	}
	if strings.Contains(logs.String(), key) {
		t.Error("the API key appears in the logs")
	}
}

func mustMarshal(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestPassthroughMode: each caller's own Kajabi token is forwarded; without one, 401
// before any call; with a wrong one, Kajabi's 401 as UNAUTHENTICATED.
func TestPassthroughMode(t *testing.T) {
	base, logs := startServer(t, map[string]string{"SANDBOX_CUSTOMERS": "20", "AUTH_MODE": "passthrough"})
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {sandbox.ClientID}, "client_secret": {sandbox.ClientSecret}}
	resp, err := http.PostForm(base+"/sandbox/v1/oauth/token", form)
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	noteSecret(tok.AccessToken)

	const query = `{ customers(filter: {siteId: "101"}, first: 1) { totalCount } }`
	if status, out := post(t, base, query, nil); status != 401 || firstCode(out) != "UNAUTHENTICATED" {
		t.Errorf("no token: got %d %v", status, out)
	}
	if status, out := post(t, base, query, map[string]string{"Authorization": "Bearer not-a-sandbox-token"}); status != 200 || firstCode(out) != "UNAUTHENTICATED" {
		t.Errorf("wrong token: got %d %v", status, out)
	}
	if status, out := post(t, base, query, map[string]string{"Authorization": "Bearer " + tok.AccessToken}); status != 200 || out["errors"] != nil {
		t.Errorf("sandbox token: got %d %v", status, out)
	}
	if lines := logs.lines(); len(lines) == 0 || lines[0]["authMode"] != authPassthrough {
		t.Errorf("first log line should say passthrough: %v", lines)
	}
}

// TestProductionEnvironment hides the schema: no introspection, no suggestions, no
// GraphiQL, unless a setting turns one back on.
func TestProductionEnvironment(t *testing.T) {
	base, logs := startServer(t, map[string]string{"SANDBOX_CUSTOMERS": "10", "ENVIRONMENT": "production"})
	if status, out := post(t, base, `{ __schema { types { name } } }`, map[string]string{"Accept": "application/graphql-response+json"}); status != 400 || firstCode(out) != "INTROSPECTION_DISABLED" {
		t.Errorf("introspection: got %d %v", status, out)
	}
	if _, out := post(t, base, `{ customers { nodes { nmae } } }`, nil); strings.Contains(mustMarshal(out), "Did you mean") {
		t.Errorf("a suggestion in production: %v", out)
	}
	resp, err := http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GraphiQL in production: %d, want 404", resp.StatusCode)
	}
	if lines := logs.lines(); len(lines) == 0 || lines[0]["environment"] != envProduction {
		t.Errorf("first log line should say production: %v", lines)
	}

	on, _ := startServer(t, map[string]string{"SANDBOX_CUSTOMERS": "10", "ENVIRONMENT": "production", "INTROSPECTION": "true"})
	if status, out := post(t, on, `{ __schema { queryType { name } } }`, nil); status != 200 || out["errors"] != nil {
		t.Errorf("introspection turned back on: got %d %v", status, out)
	}
}

// TestOpenOnLoopbackAnswersLoopbackNamesOnly: a page that reaches the open service through
// DNS rebinding (its own name, resolved to 127.0.0.1) is refused.
func TestOpenOnLoopbackAnswersLoopbackNamesOnly(t *testing.T) {
	base, _ := startServer(t, map[string]string{"SANDBOX_CUSTOMERS": "10"})
	port := base[strings.LastIndex(base, ":")+1:]
	for host, want := range map[string]int{
		"127.0.0.1:" + port:               200,
		"localhost:" + port:               200,
		"[::1]:" + port:                   200,
		"rebind.attacker.example:" + port: 403,
		"127.0.0.1.nip.io:" + port:        403,
	} {
		status, out := post(t, base, `{ __typename }`, map[string]string{"Host": host})
		if status != want {
			t.Errorf("Host %s: got %d %v, want %d", host, status, out, want)
		}
		if want == 403 && firstCode(out) != "FORBIDDEN" {
			t.Errorf("Host %s: %v, want FORBIDDEN", host, out)
		}
	}
}

// bothSites adds up the totalCount of the aliases a and b, one per sandbox site.
func bothSites(out map[string]any) int {
	data, _ := out["data"].(map[string]any)
	n := 0
	for _, alias := range []string{"a", "b"} {
		c, _ := data[alias].(map[string]any)
		f, _ := c["totalCount"].(float64)
		n += int(f)
	}
	return n
}

// TestSandboxFollowsServiceMode: the embedded sandbox's REST API mounted at /sandbox/ asks
// for the same API key as /graphql in service mode; in open mode it is the sandbox's own.
func TestSandboxFollowsServiceMode(t *testing.T) {
	const key = "sandbox-mode-key-0123456789abcdef"
	token := func(base string, header map[string]string) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, base+"/sandbox/v1/oauth/token",
			strings.NewReader("grant_type=client_credentials&client_id=sandbox-client-id&client_secret=sandbox-client-secret"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	service, _ := startServer(t, map[string]string{"SANDBOX_CUSTOMERS": "10", "API_KEYS": key})
	open, _ := startServer(t, map[string]string{"SANDBOX_CUSTOMERS": "10"})
	for _, tt := range []struct {
		name   string
		base   string
		header map[string]string
		want   int
	}{
		{"service mode, no key", service, nil, http.StatusUnauthorized},
		{"service mode, wrong key", service, map[string]string{"X-API-Key": "wrong-key-0123456789abcdef"}, http.StatusUnauthorized},
		{"service mode, the key", service, map[string]string{"X-API-Key": key}, http.StatusOK},
		{"open mode", open, nil, http.StatusOK},
	} {
		if got := token(tt.base, tt.header); got != tt.want {
			t.Errorf("%s: token request got %d, want %d", tt.name, got, tt.want)
		}
	}
}

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/kajabi-graphql/facade/kajabi/kajabitest"
	"github.com/kajabi-graphql/facade/kajabi/sandbox"
)

// suiteLogs receives the log lines of every service the package's tests start (see
// startServer), so that TestMain can scan all of them for secrets when the tests are done.
var suiteLogs = &syncBuffer{}

// suiteSecrets are the credentials the tests handed to services or sent as callers.
var suiteSecrets = struct {
	mu   sync.Mutex
	list []string
}{list: []string{sandbox.ClientSecret}}

// noteSecret adds credentials that must never appear in a log line.
func noteSecret(secrets ...string) {
	suiteSecrets.mu.Lock()
	defer suiteSecrets.mu.Unlock()
	for _, s := range secrets {
		if s != "" {
			suiteSecrets.list = append(suiteSecrets.list, s)
		}
	}
}

// noteSecrets notes the secrets among a service's settings.
func noteSecrets(env map[string]string) {
	noteSecret(env["KAJABI_CLIENT_SECRET"], env["KAJABI_ACCESS_TOKEN"])
	for k := range strings.SplitSeq(env["API_KEYS"], ",") {
		noteSecret(strings.TrimSpace(k))
	}
}

// leakPatterns are what a secret looks like in a log line even when the test does not
// know its value (a token the service obtained itself, a refresh token).
var leakPatterns = regexp.MustCompile(`(?i)bearer\s+[a-z0-9]|(access_token|refresh_token)\\?"\s*:|(access_token|refresh_token|client_secret)=[^&\s"]`)

// leaks reports every secret, and every line that looks like it holds one, in logs.
func leaks(logs string, secrets []string) []string {
	var found []string
	for _, s := range secrets {
		if strings.Contains(logs, s) {
			found = append(found, fmt.Sprintf("secret %.6s… appears", s))
		}
	}
	for line := range strings.SplitSeq(logs, "\n") {
		if leakPatterns.MatchString(line) {
			found = append(found, "suspicious line: "+line)
		}
	}
	return found
}

// TestMain scans every log line the package's tests made the service write.
func TestMain(m *testing.M) {
	code := m.Run()
	suiteSecrets.mu.Lock()
	found := leaks(suiteLogs.String(), suiteSecrets.list)
	suiteSecrets.mu.Unlock()
	if len(found) > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: the service logged secrets:\n%s\n", strings.Join(found, "\n"))
		code = 1
	}
	os.Exit(code)
}

// TestNoSecretInLogs runs a realistic session in every way the service signs in to Kajabi
// and callers sign in to it, with right and wrong credentials, and checks that no secret
// reaches a log line: not the client secret, the tokens the service obtained, the callers'
// tokens or the API keys.
func TestNoSecretInLogs(t *testing.T) {
	const (
		apiKey           = "api-key-0123456789abcdef"
		wrongAPIKey      = "wrong-api-key-0123456789"
		callerToken      = "caller-token-0123456789"
		wrongCallerToken = "wrong-caller-token-987654"
		staticToken      = "static-token-0123456789"
		wrongSecret      = "wrong-client-secret-0123"
	)
	secrets := []string{sandbox.ClientSecret, apiKey, wrongAPIKey, callerToken, wrongCallerToken, staticToken, wrongSecret}
	noteSecret(secrets...)
	up := kajabitest.NewSandbox(t, sandbox.Options{Customers: 40, AccessTokens: []string{callerToken, staticToken}})

	bearer := func(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }
	services := []struct {
		name string
		env  map[string]string
		// good signs a caller in; bad are wrong credentials a caller might send.
		good map[string]string
		bad  []map[string]string
	}{
		{"service mode, client credentials, API keys",
			map[string]string{"AUTH_MODE": "service", "API_KEYS": apiKey,
				"KAJABI_CLIENT_ID": sandbox.ClientID, "KAJABI_CLIENT_SECRET": sandbox.ClientSecret},
			map[string]string{"X-API-Key": apiKey},
			[]map[string]string{{"X-API-Key": wrongAPIKey}, bearer(wrongAPIKey), bearer(apiKey), nil}},
		{"passthrough",
			map[string]string{"AUTH_MODE": "passthrough"},
			bearer(callerToken),
			[]map[string]string{bearer(wrongCallerToken), nil}},
		{"fixed token",
			map[string]string{"KAJABI_ACCESS_TOKEN": staticToken},
			nil,
			[]map[string]string{bearer(callerToken)}},
		{"wrong client secret",
			map[string]string{"KAJABI_CLIENT_ID": sandbox.ClientID, "KAJABI_CLIENT_SECRET": wrongSecret},
			nil, nil},
	}
	for _, svc := range services {
		t.Run(svc.name, func(t *testing.T) {
			svc.env["KAJABI_BASE_URL"] = up.URL
			base, logs := startServer(t, svc.env)
			session(t, base, svc.good)
			up.Sandbox.ExpireTokens() // the service renews its token, with the refresh token first
			session(t, base, svc.good)
			for _, h := range svc.bad {
				call(t, http.MethodPost, base+"/graphql", `{"query":"query Sites { sites { id title } }"}`, h)
			}

			// Every token the service sent to Kajabi, obtained or forwarded, is a secret too.
			var sent []string
			for _, r := range up.Requests() {
				if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
					sent = append(sent, tok)
				}
			}
			noteSecret(sent...)
			lines := logs.lines()
			if len(lines) < 10 {
				t.Fatalf("only %d log lines; the session did not run", len(lines))
			}
			for _, f := range leaks(logs.String(), append(sent, secrets...)) {
				t.Error(f)
			}
			var ids, codes int
			for _, l := range lines {
				if l["message"] == "request" {
					if l["request_id"] != nil {
						ids++
					}
					if l["error_codes"] != nil {
						codes++
					}
				}
			}
			if ids < 8 || codes == 0 {
				t.Errorf("access log lines: %d with request_id, %d with error_codes; want every line with an id, and some codes:\n%s", ids, codes, logs)
			}
		})
	}
}

// session is what a caller and the platform around the service do in a few minutes: list
// customers with relations, make a mistake, look up what is not there, and probe.
func session(t *testing.T, base string, auth map[string]string) {
	t.Helper()
	for _, q := range []string{
		`query Customers { customers(first: 5, filter: {search: "a"}) { totalCount nodes { id email contact { phoneNumber } site { title } products { title } offers { title } } } }`,
		`query Bad { customers(first: 1000) { totalCount } }`,
		`query Missing { contact(id: "999999999") { id } }`,
		`query Broken {`,
	} {
		body, _ := json.Marshal(map[string]string{"query": q})
		call(t, http.MethodPost, base+"/graphql", string(body), auth)
	}
	get := map[string]string{"Apollo-Require-Preflight": "true"} // or CSRF prevention refuses the GET
	maps.Copy(get, auth)
	call(t, http.MethodGet, base+"/graphql?query="+url.QueryEscape(`query ById { site(id: "1") { id } }`), "", get)
	for _, p := range []string{"/healthz", "/readyz", "/status", "/metrics"} {
		call(t, http.MethodGet, base+p, "", nil)
	}
}

func call(t *testing.T, method, target, body string, header map[string]string) {
	t.Helper()
	req, err := http.NewRequest(method, target, bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

// TestObservabilityEndpoints checks the service's /metrics, /readyz and request ids end to
// end, on the embedded sandbox.
func TestObservabilityEndpoints(t *testing.T) {
	base, logs := startServer(t, map[string]string{"SANDBOX_CUSTOMERS": "50"})
	graphqlPost(t, base, `query Recent { customers(filter: {siteId: "101"}, first: 3) { nodes { id contact { id } site { title } } } }`)

	get := func(path string, header map[string]string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}

	// Readiness is the process's own; Kajabi's credentials and version are on /status.
	resp, body := get("/readyz", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"status":"ready"`) {
		t.Errorf("/readyz: %d %s", resp.StatusCode, body)
	}
	resp, body = get("/status", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"breaker":"closed"`) || !strings.Contains(body, `"version":{"ok":true,"version":"1.1.0"`) {
		t.Errorf("/status: %d %s", resp.StatusCode, body)
	}
	resp, body = get("/metrics", map[string]string{"X-Request-Id": "probe-1"})
	for _, want := range []string{
		`graphql_requests_total{operation="Recent",status="ok"} 1`,
		`kajabi_requests_total{endpoint="/v1/customers",status="200"} 1`,
		`kajabi_requests_total{endpoint="/v1/oauth/token",status="200"} 1`,
		`kajabi_requests_total{endpoint="/v1/version",status="200"} 1`,
		`kajabi_breaker_state 0`,
		`loader_batch_size_count{loader="contacts"}`,
		`cache_requests_total{result="miss"}`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if resp.Header.Get("X-Request-Id") != "probe-1" {
		t.Errorf("X-Request-Id: got %q, want the caller's", resp.Header.Get("X-Request-Id"))
	}
	var sawGraphQL bool
	for _, l := range logs.lines() {
		if l["operation"] == "Recent" && l["kajabi_calls"] != nil && l["request_id"] != nil {
			sawGraphQL = true
			// A token request, the customer page, the contacts and the site list.
			if n := l["kajabi_calls"].(float64); n < 3 {
				t.Errorf("kajabi_calls %v, want at least 3", n)
			}
		}
	}
	if !sawGraphQL {
		t.Errorf("no access log line with operation, kajabi_calls and request_id:\n%s", logs)
	}
}

// TestLeakScanner makes sure the scan above finds what it looks for.
func TestLeakScanner(t *testing.T) {
	tests := []struct {
		line string
		leak bool
	}{
		{`{"message":"request","path":"/graphql","status":200}`, false},
		{`{"auth":"access_token","caller":"bearer:c6d27b72","message":"serving a Kajabi account"}`, false},
		{`{"error":"GET /v1/sites: Authorization: Bearer abc123"}`, true},
		{`{"body":"{\"access_token\":\"abc\",\"token_type\":\"Bearer\"}"}`, true},
		{`{"form":"grant_type=client_credentials&client_secret=shh"}`, true},
		{`{"header":"s3cr3t-value"}`, true},
	}
	for _, tt := range tests {
		if got := len(leaks(tt.line, []string{"s3cr3t-value"})) > 0; got != tt.leak {
			t.Errorf("%s: leak %v, want %v", tt.line, got, tt.leak)
		}
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/kajabi-graphql/facade/kajabi/sandbox"
)

// syncBuffer collects log lines written from several goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) lines() []map[string]any {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(b.buf.String()), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil {
			out = append(out, m)
		}
	}
	return out
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startServer runs the whole service as main does, with env as its environment.
func startServer(t testing.TB, env map[string]string) (string, *syncBuffer) {
	t.Helper()
	env["LISTEN_ADDR"] = "127.0.0.1:0"
	noteSecrets(env) // server_telemetry_test.go: TestMain scans every log line for them
	cfg, err := loadConfig(nil, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- run(ctx, cfg, zerolog.New(io.MultiWriter(logs, suiteLogs)), ready) }()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("server stopped: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("server did not start")
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return "http://" + addr, logs
}

func graphqlPost(t *testing.T, base, query string) map[string]any {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query})
	resp, err := http.Post(base+"/graphql", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestNewcomerFlow is `go run .` on a fresh machine: sandbox mode, GraphiQL at /, the
// README's example query answered with sandbox customers, health and the mounted sandbox.
func TestNewcomerFlow(t *testing.T) {
	base, logs := startServer(t, map[string]string{"SANDBOX_CUSTOMERS": "300"})

	out := graphqlPost(t, base, exampleQuery)
	if out["errors"] != nil {
		t.Fatalf("example query failed: %v", out["errors"])
	}
	nodes := out["data"].(map[string]any)["customers"].(map[string]any)["nodes"].([]any)
	if len(nodes) != 5 {
		t.Fatalf("example query returned %d customers, want 5", len(nodes))
	}
	var prev float64 = 1e18
	for _, n := range nodes {
		c := n.(map[string]any)
		var rev float64
		if err := json.Unmarshal([]byte(c["netRevenue"].(string)), &rev); err != nil || rev <= 100 || rev > prev {
			t.Errorf("customer %v: net revenue %v should be > 100 and descending", c["id"], c["netRevenue"])
		}
		prev = rev
	}

	// GET works for queries too, with a header that shows a browser preflighted it (CSRF).
	get, _ := http.NewRequest(http.MethodGet, base+"/graphql?query="+url.QueryEscape(`{ a: customers(filter: {siteId: "101"}, first: 1) { totalCount } b: customers(filter: {siteId: "102"}, first: 1) { totalCount } }`), nil)
	get.Header.Set("Apollo-Require-Preflight", "true")
	resp, err := http.DefaultClient.Do(get)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var got map[string]any
	_ = json.Unmarshal(body, &got)
	if resp.StatusCode != 200 || bothSites(got) != 300 {
		t.Errorf("GET /graphql: %d %s", resp.StatusCode, body)
	}

	for path, want := range map[string]string{"/": "graphiql", "/healthz": "ok"} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(strings.ToLower(string(body)), want) {
			t.Errorf("GET %s: %d, body lacks %q", path, resp.StatusCode, want)
		}
	}

	// The sandbox mounted at /sandbox/ answers REST with the documented credentials.
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {sandbox.ClientID}, "client_secret": {sandbox.ClientSecret}}
	resp, err = http.PostForm(base+"/sandbox/v1/oauth/token", form)
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	req, _ := http.NewRequest("GET", base+"/sandbox/v1/customers?filter[site_id]=101&page[size]=1", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), base+"/sandbox/v1/customers") {
		t.Errorf("GET /sandbox/v1/customers: %d %.300s", resp.StatusCode, body)
	}

	lines := logs.lines()
	if len(lines) == 0 || lines[0]["mode"] != "sandbox" {
		t.Errorf("first log line should say sandbox mode, got %v", lines)
	}
	var sawGraphQL bool
	for _, l := range lines {
		if l["path"] == "/graphql" && l["operation"] == "RecentCustomers" && l["status"] == float64(200) && l["duration"] != nil {
			sawGraphQL = true
		}
	}
	if !sawGraphQL {
		t.Errorf("no access log line for the RecentCustomers operation in:\n%s", logs)
	}
	if strings.Contains(logs.String(), tok.AccessToken) || strings.Contains(logs.String(), sandbox.ClientSecret) {
		t.Errorf("logs contain a token or secret:\n%s", logs)
	}
}

// TestWrongAccessTokenAgainstSandboxURL is a user pointing a second instance at the first
// one's sandbox with a mistyped token: a clear UNAUTHENTICATED, no token in logs.
func TestWrongAccessTokenAgainstSandboxURL(t *testing.T) {
	sandboxBase, _ := startServer(t, map[string]string{"SANDBOX_CUSTOMERS": "10"})
	base, logs := startServer(t, map[string]string{
		"KAJABI_BASE_URL":     sandboxBase + "/sandbox",
		"KAJABI_ACCESS_TOKEN": "typo-token-123",
	})
	out := graphqlPost(t, base, `{ customers(filter: {siteId: "101"}) { totalCount } }`)
	errs, _ := out["errors"].([]any)
	if len(errs) != 1 {
		t.Fatalf("want one error, got %v", out)
	}
	ext := errs[0].(map[string]any)["extensions"].(map[string]any)
	if ext["code"] != "UNAUTHENTICATED" || ext["upstreamStatus"] != float64(401) {
		t.Errorf("extensions = %v, want UNAUTHENTICATED from a 401", ext)
	}
	if lines := logs.lines(); len(lines) == 0 || lines[0]["mode"] != "kajabi" {
		t.Errorf("first log line should say kajabi mode: %v", lines)
	}
	if strings.Contains(logs.String(), "typo-token-123") {
		t.Errorf("logs contain the token:\n%s", logs)
	}
}

func TestLoadConfig(t *testing.T) {
	runConfigCases(t, []configCase{
		{"defaults are the sandbox on loopback", nil, nil, "",
			func(c config) bool {
				return c.sandboxMode() && c.ListenAddr == "127.0.0.1:8080" && c.SandboxCustomers == 5000
			}},
		{"flags override env", map[string]string{"LISTEN_ADDR": "127.0.0.1:1"}, []string{"-listen", "127.0.0.1:2"}, "",
			func(c config) bool { return c.ListenAddr == "127.0.0.1:2" }},
		{"Kajabi protections are settings", map[string]string{"KAJABI_MAX_RPS": "0", "KAJABI_MAX_INFLIGHT": "8", "KAJABI_RETRIES": "1"}, nil, "",
			func(c config) bool { return c.KajabiMaxRPS == 0 && c.KajabiMaxInflight == 8 && c.KajabiRetries == 1 }},
		{"Kajabi protections default on", nil, nil, "",
			func(c config) bool { return c.KajabiMaxRPS == 100 && c.KajabiMaxInflight == 64 && c.KajabiRetries == 3 }},
		{"negative Kajabi limit", map[string]string{"KAJABI_MAX_RPS": "-1"}, nil, "KAJABI_MAX_RPS", nil},
		{"credentials leave sandbox mode", map[string]string{"KAJABI_CLIENT_ID": "a", "KAJABI_CLIENT_SECRET": "b"}, nil, "",
			func(c config) bool { return !c.sandboxMode() }},
		{"half a credential pair", map[string]string{"KAJABI_CLIENT_ID": "a"}, nil, "go together", nil},
		{"base URL without credentials", map[string]string{"KAJABI_BASE_URL": "http://127.0.0.1:1"}, nil, "no credentials", nil},
		{"malformed duration", map[string]string{"SANDBOX_LATENCY": "fast"}, nil, "SANDBOX_LATENCY", nil},
		{"fault rate out of range", map[string]string{"SANDBOX_FAULT_RATE": "2"}, nil, "SANDBOX_FAULT_RATE", nil},
		{"CA file that is not there", map[string]string{"KAJABI_CA_FILE": "/nonexistent/ca.pem"}, nil, "KAJABI_CA_FILE", nil},
		{"no CA file: the system's roots", nil, nil, "",
			func(c config) bool { return c.kajabiRoots == nil }},
		{"idle pool follows the in-flight limit", map[string]string{"KAJABI_MAX_INFLIGHT": "200"}, nil, "",
			func(c config) bool { return c.idleConnsPerHost() == 200 }},
	})
}

// configCase is one environment (and flags) given to loadConfig: either the error it must
// give, or a check of the config it must build.
type configCase struct {
	name    string
	env     map[string]string
	args    []string
	wantErr string
	check   func(config) bool
}

func runConfigCases(t *testing.T, cases []configCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			c, err := loadConfig(tt.args, func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, want an error mentioning %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !tt.check(c) {
				t.Errorf("got %+v, %v", c, err)
			}
		})
	}
}

// TestSettingsAsFlags gives settings by flag that used to be environment-only, and checks
// that each lands where its variable does and that derived defaults stay derived.
func TestSettingsAsFlags(t *testing.T) {
	runConfigCases(t, []configCase{
		{"a flag sets a derived default", nil, []string{"-introspection=false"}, "", func(c config) bool {
			return c.Environment == envDevelopment && !c.Introspection && c.FieldSuggestions && c.GraphiQL
		}},
		{"flag environment", map[string]string{"ENVIRONMENT": "development"}, []string{"-environment", "PRODUCTION"}, "", func(c config) bool {
			return c.Environment == envProduction && !c.Introspection && !c.GraphiQL
		}},
		{"flag over env for a limit", map[string]string{"MAX_DEPTH": "4"}, []string{"-max-depth", "3"}, "", func(c config) bool {
			return c.Limits.MaxDepth == 3 && c.Limits.MaxAliases == 30
		}},
		{"env over default for a limit", map[string]string{"MAX_DEPTH": "4"}, nil, "", func(c config) bool { return c.Limits.MaxDepth == 4 }},
		{"boolean flag without a value", nil, []string{"-allow-open", "-listen", ":8080"}, "", func(c config) bool {
			return c.AllowOpen && c.AuthMode == authOpen && !c.guardsHost()
		}},
		{"list flag", nil, []string{"-cors-allowed-origins", " https://a.example,,https://b.example "}, "", func(c config) bool {
			return len(c.CORSOrigins) == 2 && c.CORSOrigins[0] == "https://a.example" && c.CORSOrigins[1] == "https://b.example"
		}},
		{"keys by flag mean service mode", nil, []string{"-api-keys", "flag-key-0123456789abcdef"}, "", func(c config) bool {
			return c.AuthMode == authService && c.APIKeys.Len() == 1
		}},
		{"credentials by flag", nil, []string{"-kajabi-client-id", "a", "-kajabi-client-secret", "b"}, "", func(c config) bool {
			return !c.sandboxMode() && c.Environment == envProduction
		}},
		{"no tracing without an endpoint", nil, nil, "", func(c config) bool { return !c.Tracing }},
		{"tracing by flag", nil, []string{"-otlp-endpoint", "http://127.0.0.1:4318"}, "", func(c config) bool { return c.Tracing }},
		{"tracing by the traces variable", map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4318/v1/traces"}, nil, "", func(c config) bool { return c.Tracing }},
		{"handler options come from the settings", map[string]string{"MAX_BODY_BYTES": "2048", "REQUEST_CONCURRENCY": "3", "PERSISTED_QUERIES": "false"}, nil, "", func(c config) bool {
			return c.HandlerOptions.MaxBodyBytes == 2048 && c.HandlerOptions.RequestConcurrency == 3 && !c.HandlerOptions.PersistedQueries &&
				c.HandlerOptions.Introspection && c.HandlerOptions.FieldSuggestions
		}},
		{"malformed flag", nil, []string{"-sandbox-seed", "x"}, "-sandbox-seed", nil},
		{"unknown flag", nil, []string{"-listen-addr", "127.0.0.1:1"}, "-listen-addr", nil},
	})
	for _, arg := range []string{"-h", "-help", "--help"} {
		if _, err := loadConfig([]string{arg}, func(string) string { return "" }); !errors.Is(err, flag.ErrHelp) {
			t.Errorf("loadConfig(%s): got %v, want flag.ErrHelp", arg, err)
		}
	}
}

// TestSettingsDeclaredOnce checks the declarations themselves: one flag and one variable
// per setting, and -help shows each with its default.
func TestSettingsDeclaredOnce(t *testing.T) {
	var c config
	var help strings.Builder
	usage(&help)
	seen := map[string]string{}
	for _, s := range c.settings() {
		for _, name := range []string{s.env, "-" + s.flag, envAliases[s.env]} {
			if other, dup := seen[name]; dup && name != "" {
				t.Errorf("%s is declared by both %s and %s", name, other, s.env)
			}
			seen[name] = s.env
		}
		line := "-" + s.flag + "  " + s.env
		if a := envAliases[s.env]; a != "" {
			line += " or " + a
		}
		if s.def != "" {
			line += " (default " + s.def + ")"
		}
		if !strings.Contains(help.String(), "  "+line+"\n    \t"+s.help+"\n") {
			t.Errorf("-help lacks %q with its help %q", line, s.help)
		}
	}
}

// TestREADMESettings holds the README's settings table to the declared settings: the same
// variables, flags, defaults and meanings (backticks aside), nothing more.
func TestREADMESettings(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## Settings\n")
	if !ok {
		t.Fatal("README has no ## Settings section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	got := map[string]string{} // first variable -> the row, backticks dropped
	for _, line := range strings.Split(section, "\n") {
		cells := strings.Split(strings.TrimSpace(line), "|")
		if !strings.HasPrefix(line, "| `") || len(cells) != 6 {
			continue
		}
		cells = cells[1:5]
		for i := range cells {
			cells[i] = strings.TrimSpace(strings.ReplaceAll(cells[i], "`", ""))
		}
		env, _, _ := strings.Cut(cells[0], " ")
		if _, dup := got[env]; dup {
			t.Errorf("README lists %s twice", env)
		}
		got[env] = strings.Join(cells, " | ")
	}
	var c config
	for _, s := range c.settings() {
		env := s.env
		if a := envAliases[s.env]; a != "" {
			env += " (or " + a + ")"
		}
		want := strings.Join([]string{env, "-" + s.flag, s.def, s.help}, " | ")
		if got[s.env] != want {
			t.Errorf("README row for %s:\ngot  %q\nwant %q", s.env, got[s.env], want)
		}
		delete(got, s.env)
	}
	for env := range got {
		t.Errorf("README lists %s, which is not a declared setting", env)
	}
}

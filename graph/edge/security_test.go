package edge_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kajabi-graphql/facade/graph"
	"github.com/kajabi-graphql/facade/graph/edge"
	"github.com/kajabi-graphql/facade/graph/loader"
	"github.com/kajabi-graphql/facade/kajabi/kajabitest"
	"github.com/kajabi-graphql/facade/kajabi/sandbox"
)

// do sends one request with the given headers and returns the status, the response
// headers and the decoded body.
func do(t *testing.T, method, target string, header map[string]string, body string) (int, http.Header, gqlResponse) {
	t.Helper()
	req, err := http.NewRequest(method, target, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out gqlResponse
	if resp.StatusCode != http.StatusNoContent {
		_ = json.NewDecoder(resp.Body).Decode(&out)
	}
	return resp.StatusCode, resp.Header, out
}

func serve(t *testing.T, up *kajabitest.Upstream, opts edge.HandlerOptions) string {
	t.Helper()
	srv := httptest.NewServer(edge.NewHandler(&graph.Resolver{Client: up.Client(t)}, opts))
	t.Cleanup(srv.Close)
	return srv.URL + "/graphql"
}

// TestCSRFPrevention follows Apollo's rule: a request a browser may send cross-site
// without a preflight (no Content-Type, or a simple one) needs a preflight header.
func TestCSRFPrevention(t *testing.T) {
	up := kajabitest.NewSandbox(t, sandbox.Options{Customers: 5})
	endpoint := serve(t, up, edge.HandlerOptions{})
	get := endpoint + "?query=%7B__typename%7D"
	body := `{"query":"{ __typename }"}`
	tests := []struct {
		name, method, target string
		header               map[string]string
		status               int
		code                 string
	}{
		{"GET", "GET", get, nil, 400, graph.CodeCSRFBlocked},
		{"GET with Apollo-Require-Preflight", "GET", get, map[string]string{"Apollo-Require-Preflight": "true"}, 200, ""},
		{"GET with X-Apollo-Operation-Name", "GET", get, map[string]string{"X-Apollo-Operation-Name": "Q"}, 200, ""},
		{"GET with an empty preflight header", "GET", get, map[string]string{"Apollo-Require-Preflight": ""}, 400, graph.CodeCSRFBlocked},
		{"GET with a JSON content type", "GET", get, map[string]string{"Content-Type": "application/json"}, 200, ""},
		{"POST JSON", "POST", endpoint, map[string]string{"Content-Type": "application/json"}, 200, ""},
		{"POST JSON with charset", "POST", endpoint, map[string]string{"Content-Type": "application/json; charset=utf-8"}, 200, ""},
		{"POST text/plain", "POST", endpoint, map[string]string{"Content-Type": "text/plain"}, 400, graph.CodeCSRFBlocked},
		{"POST TEXT/PLAIN", "POST", endpoint, map[string]string{"Content-Type": "TEXT/PLAIN; charset=utf-8"}, 400, graph.CodeCSRFBlocked},
		{"POST text/plain with preflight header", "POST", endpoint, map[string]string{"Content-Type": "text/plain", "Apollo-Require-Preflight": "1"}, 415, graph.CodeBadRequest},
		{"POST text/plain with a broken parameter", "POST", endpoint, map[string]string{"Content-Type": "text/plain; charset"}, 400, graph.CodeCSRFBlocked},
		{"GET with a broken simple content type", "GET", get, map[string]string{"Content-Type": "text/plain;;"}, 400, graph.CodeCSRFBlocked},
		{"POST unparseable content type", "POST", endpoint, map[string]string{"Content-Type": "application/json garbage"}, 415, graph.CodeBadRequest},
		{"OPTIONS", "OPTIONS", endpoint, nil, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, _, got := do(t, tt.method, tt.target, tt.header, body)
			if status != tt.status || got.code() != tt.code {
				t.Errorf("got %d %q, want %d %q (%+v)", status, got.code(), tt.status, tt.code, got.Errors)
			}
		})
	}
	if n := up.Calls(); n != 0 {
		t.Errorf("%d Kajabi calls for __typename", n)
	}

	open := serve(t, up, edge.HandlerOptions{DisableCSRFPrevention: true})
	if status, _, got := do(t, "GET", open+"?query=%7B__typename%7D", nil, ""); status != 200 {
		t.Errorf("GET with CSRF prevention off: %d %+v", status, got.Errors)
	}
}

// TestCORS lets listed origins call cross-origin and gives others nothing to go on.
func TestCORS(t *testing.T) {
	up := kajabitest.NewSandbox(t, sandbox.Options{Customers: 5})
	keys, _ := edge.NewAPIKeys([]string{"cors-test-key-0123456789"})
	endpoint := serve(t, up, edge.HandlerOptions{CORSOrigins: []string{"https://app.example.com"}, APIKeys: keys})
	preflight := map[string]string{"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type, x-api-key"}

	t.Run("preflight from an allowed origin", func(t *testing.T) {
		h := map[string]string{"Origin": "https://app.example.com"}
		for k, v := range preflight {
			h[k] = v
		}
		status, header, _ := do(t, "OPTIONS", endpoint, h, "")
		if status != 204 || header.Get("Access-Control-Allow-Origin") != "https://app.example.com" ||
			!strings.Contains(header.Get("Access-Control-Allow-Headers"), "X-API-Key") ||
			!strings.Contains(header.Get("Access-Control-Allow-Methods"), "POST") {
			t.Errorf("got %d %v", status, header)
		}
	})
	t.Run("preflight from another origin", func(t *testing.T) {
		h := map[string]string{"Origin": "https://evil.example.net"}
		for k, v := range preflight {
			h[k] = v
		}
		status, header, _ := do(t, "OPTIONS", endpoint, h, "")
		if status != 204 || header.Get("Access-Control-Allow-Origin") != "" || header.Get("Access-Control-Allow-Headers") != "" {
			t.Errorf("got %d %v, want 204 without CORS headers", status, header)
		}
	})
	t.Run("request from an allowed origin", func(t *testing.T) {
		h := map[string]string{"Origin": "https://app.example.com", "Content-Type": "application/json", "X-API-Key": "cors-test-key-0123456789"}
		status, header, got := do(t, "POST", endpoint, h, `{"query":"{ __typename }"}`)
		if status != 200 || header.Get("Access-Control-Allow-Origin") != "https://app.example.com" || !strings.Contains(strings.Join(header.Values("Vary"), ","), "Origin") {
			t.Errorf("got %d %v %+v", status, header, got.Errors)
		}
	})
	t.Run("request from another origin", func(t *testing.T) {
		h := map[string]string{"Origin": "https://evil.example.net", "Content-Type": "application/json", "X-API-Key": "cors-test-key-0123456789"}
		_, header, _ := do(t, "POST", endpoint, h, `{"query":"{ __typename }"}`)
		if header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("another origin was allowed: %v", header)
		}
	})
	t.Run("any origin", func(t *testing.T) {
		anyOrigin := serve(t, up, edge.HandlerOptions{CORSOrigins: []string{"*"}})
		h := map[string]string{"Origin": "https://somewhere.example", "Content-Type": "application/json"}
		_, header, _ := do(t, "POST", anyOrigin, h, `{"query":"{ __typename }"}`)
		if header.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("got %v, want *", header)
		}
	})
	t.Run("no origins configured", func(t *testing.T) {
		none := serve(t, up, edge.HandlerOptions{})
		h := map[string]string{"Origin": "https://app.example.com", "Content-Type": "application/json"}
		_, header, _ := do(t, "POST", none, h, `{"query":"{ __typename }"}`)
		if header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("CORS headers without any origin configured: %v", header)
		}
	})
}

// TestPersistedQueriesKeptPerCaller: a hash one caller registered is not found by another,
// in service mode (two API keys) and in passthrough mode (two Kajabi tokens).
func TestPersistedQueriesKeptPerCaller(t *testing.T) {
	const query = `query Names { customers(first: 2, sort: {field: NAME}) { nodes { id name } } }`
	sum := sha256.Sum256([]byte(query))
	ext := `"extensions":{"persistedQuery":{"version":1,"sha256Hash":"` + hex.EncodeToString(sum[:]) + `"}}`
	register := `{"query":` + mustJSON(query) + `,` + ext + `}`
	byHash := `{` + ext + `}`

	up := kajabitest.NewSandbox(t, sandbox.Options{Customers: 20, AccessTokens: []string{"token-alice", "token-bob"}})
	keys, err := edge.NewAPIKeys([]string{"key-of-alice-0123456789", "key-of-bob-0123456789"})
	if err != nil {
		t.Fatal(err)
	}
	modes := []struct {
		name         string
		opts         edge.HandlerOptions
		alice, bob   map[string]string
		wantBobCalls bool
	}{
		{"service", edge.HandlerOptions{APIKeys: keys, PersistedQueries: true},
			map[string]string{"X-API-Key": "key-of-alice-0123456789"}, map[string]string{"Authorization": "Bearer key-of-bob-0123456789"}, false},
		{"passthrough", edge.HandlerOptions{Passthrough: true, Cache: loader.NewCache(time.Minute, 100), PersistedQueries: true},
			map[string]string{"Authorization": "Bearer token-alice"}, map[string]string{"Authorization": "Bearer token-bob"}, false},
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			endpoint := serve(t, up, m.opts)
			as := func(who map[string]string, body string) (int, gqlResponse) {
				h := map[string]string{"Content-Type": "application/json", "Accept": "application/graphql-response+json"}
				for k, v := range who {
					h[k] = v
				}
				status, _, got := do(t, "POST", endpoint, h, body)
				return status, got
			}
			if status, got := as(m.alice, register); status != 200 || len(got.Errors) > 0 {
				t.Fatalf("alice registers: %d %+v", status, got.Errors)
			}
			if status, got := as(m.alice, byHash); status != 200 || len(got.Errors) > 0 {
				t.Fatalf("alice by hash: %d %+v", status, got.Errors)
			}
			up.Reset()
			status, got := as(m.bob, byHash)
			if status != 400 || got.code() != graph.CodePersistedQueryNotFound || got.Data != nil {
				t.Errorf("bob by alice's hash: got %d %s %s, want PERSISTED_QUERY_NOT_FOUND", status, got.code(), got.Data)
			}
			if n := up.Calls(); n != 0 {
				t.Errorf("bob's refused request made %d Kajabi calls", n)
			}
			// Bob registers his own and is answered with his own credential.
			if status, got := as(m.bob, register); status != 200 || len(got.Errors) > 0 {
				t.Errorf("bob registers: %d %+v", status, got.Errors)
			}
			if m.name == "passthrough" {
				for _, r := range up.Requests() {
					if r.Header.Get("Authorization") != "Bearer token-bob" {
						t.Errorf("bob's request went out as %q", r.Header.Get("Authorization"))
					}
				}
			}
		})
	}

	t.Run("off", func(t *testing.T) {
		endpoint := serve(t, up, edge.HandlerOptions{})
		status, _, got := do(t, "POST", endpoint, map[string]string{"Content-Type": "application/json"}, byHash)
		if status != 200 || got.code() != graph.CodePersistedQueryDisabled {
			t.Errorf("got %d %+v, want PERSISTED_QUERY_NOT_SUPPORTED", status, got.Errors)
		}
	})
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestRequestTimeout: a request that runs past its deadline ends with REQUEST_TIMEOUT,
// soon after the deadline, while one Kajabi call's own timeout stays UPSTREAM_UNAVAILABLE.
func TestRequestTimeout(t *testing.T) {
	up := kajabitest.NewSandbox(t, sandbox.Options{Customers: 5, Latency: 2 * time.Second})
	endpoint := serve(t, up, edge.HandlerOptions{Timeout: 200 * time.Millisecond})
	start := time.Now()
	status, _, got := do(t, "POST", endpoint, map[string]string{"Content-Type": "application/json"}, `{"query":"{ customers { totalCount } }"}`)
	took := time.Since(start)
	if status != 200 || got.code() != graph.CodeRequestTimeout {
		t.Errorf("got %d %+v, want REQUEST_TIMEOUT", status, got.Errors)
	}
	if took > 1500*time.Millisecond {
		t.Errorf("answered after %v; the deadline was 200ms", took)
	}
}

// TestOperationAllowlist runs listed operations however they are spaced and commented,
// and nothing else.
func TestOperationAllowlist(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"ops.graphql": `# the app's operations
query Names($first: Int) { customers(first: $first) { nodes { ...Who } } }
fragment Who on Customer { id name }
query Sites { sites { id title } }`,
		"apollo.json":  `{"format":"apollo-persisted-query-manifest","version":1,"operations":[{"id":"1","name":"Sites","type":"query","body":"query Sites { sites { id title } }"}]}`,
		"codegen.json": `{"abc123":"query Sites { sites { id title } }"}`,
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for name := range files {
		if _, err := edge.LoadOperationAllowlist(filepath.Join(dir, name)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := edge.NewOperationAllowlist(`query Old { customers { nodes { fullName } } }`); err == nil {
		t.Error("an operation that does not validate was accepted into the allow-list")
	}

	allow, err := edge.LoadOperationAllowlist(filepath.Join(dir, "ops.graphql"))
	if err != nil {
		t.Fatal(err)
	}
	up := kajabitest.NewSandbox(t, sandbox.Options{Customers: 5})
	tests := []struct {
		name, query, operation string
		introspection          bool
		allowed                bool
	}{
		{"listed", `query Names($first: Int) { customers(first: $first) { nodes { ...Who } } } fragment Who on Customer { id name }`, "", false, true},
		{"listed, spaced and commented otherwise", "query Names ( $first : Int ) {\n  customers(first: $first) { # page\n nodes { ...Who } } }\n\nfragment Who on Customer {\n id,\n name\n}", "", false, true},
		{"listed, beside an operation that is not", `query Sites { sites { id title } } query Other { sites { id subdomain } }`, "Sites", false, true},
		{"not listed, beside one that is", `query Sites { sites { id title } } query Other { sites { id subdomain } }`, "Other", false, false},
		{"a field more", `query Sites { sites { id title subdomain } }`, "", false, false},
		{"fragment inlined", `query Names($first: Int) { customers(first: $first) { nodes { id name } } }`, "", false, false},
		{"renamed", `query Places { sites { id title } }`, "", false, false},
		{"introspection, on", `{ __schema { queryType { name } } }`, "", true, true},
		{"introspection, off", `{ __schema { queryType { name } } }`, "", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			endpoint := serve(t, up, edge.HandlerOptions{Allowlist: allow, Introspection: tt.introspection})
			up.Reset()
			body := mustJSON(map[string]any{"query": tt.query, "operationName": tt.operation})
			_, _, got := do(t, "POST", endpoint, map[string]string{"Content-Type": "application/json"}, body)
			refused := got.code() == graph.CodeOperationNotAllowed
			if refused == tt.allowed || (tt.allowed && len(got.Errors) > 0) {
				t.Errorf("allowed=%v, got %+v", tt.allowed, got.Errors)
			}
			if refused && up.Calls() != 0 {
				t.Errorf("a refused operation made %d Kajabi calls", up.Calls())
			}
		})
	}
}

// TestCostModel checks that page size and relations count, at the limit's edge.
func TestCostModel(t *testing.T) {
	up := kajabitest.NewSandbox(t, sandbox.Options{Customers: 30})
	tests := []struct {
		query string
		cost  int
	}{
		// 1 + rows × (nodes 1 + id 1)
		{`{ customers(first: 10) { nodes { id } } }`, 1 + 10*2},
		{`{ customers(page: {size: 7}) { nodes { id } } }`, 1 + 7*2},
		{`{ customers { nodes { id } } }`, 1 + 20*2},
		// totalCount is paid per row too: the cost is an upper bound
		{`{ customers(first: 5) { totalCount } }`, 1 + 5*1},
		// a to-one relation costs 2 + its fields; a list 2 + 5 × its fields
		{`{ customers(first: 2) { nodes { contact { id } } } }`, 1 + 2*(1+2+1)},
		{`{ customers(first: 2) { nodes { offers { id title } } } }`, 1 + 2*(1+2+5*2)},
		{`{ customer(id: "1") { id site { title } } }`, 2 + 1 + 2 + 1},
		{`{ products { id } }`, 1 + 100*1},
		// the README's example: 49 a row
		{`query RecentCustomers { customers(filter: { netRevenueGreaterThan: "100", subscribed: true }, sort: { field: NET_REVENUE, direction: DESC }, first: 5) {
			totalCount pageInfo { hasNextPage endCursor currentPage totalPages }
			nodes { id name email netRevenue createdAt contact { phoneNumber addressCity addressCountry } site { title } products { title productType } offers { title priceInCents currency } } } }`, 1 + 5*49},
		{`{ sites { id } }`, 1 + 10*1},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			for _, limit := range []int{tt.cost, tt.cost - 1} {
				limits := edge.RequestLimits{MaxComplexity: limit}
				endpoint := serve(t, up, edge.HandlerOptions{Limits: &limits})
				_, _, got := do(t, "POST", endpoint, map[string]string{"Content-Type": "application/json"}, `{"query":`+mustJSON(tt.query)+`}`)
				tooComplex := got.code() == graph.CodeQueryTooComplex
				if tooComplex != (limit < tt.cost) {
					t.Errorf("limit %d: got %+v, want a cost of %d", limit, got.Errors, tt.cost)
				}
			}
		})
	}
}

// TestDefaultLimitsAdmitTheProduct: every query the README shows, GraphiQL's schema query
// and a full page of 100 customers with the README's relations pass the default limits.
func TestDefaultLimitsAdmitTheProduct(t *testing.T) {
	up := kajabitest.NewSandbox(t, sandbox.Options{Customers: 120})
	endpoint := serve(t, up, edge.HandlerOptions{Introspection: true})
	queries := []string{
		introspectionQuery,
		`query RecentCustomers { customers(filter: { netRevenueGreaterThan: "100", subscribed: true }, sort: { field: NET_REVENUE, direction: DESC }, first: 100) {
			totalCount pageInfo { hasNextPage endCursor currentPage totalPages }
			nodes { id name email netRevenue createdAt contact { phoneNumber addressCity addressCountry } site { title } products { title productType } offers { title priceInCents currency } } } }`,
		`{ customers(first: 100) { edges { cursor node { id name email avatar externalUserId publicBio publicLocation publicWebsite socials { twitter facebook instagram } netRevenue signInCount lastRequestAt bouncedAt createdAt updatedAt } } } }`,
		`{ customers(first: 20) { edges { node { offers { products { site { title } } } } } } }`,
		relayStyle(30),
	}
	for i, query := range queries {
		_, _, got := do(t, "POST", endpoint, map[string]string{"Content-Type": "application/json"}, `{"query":`+mustJSON(query)+`}`)
		for _, e := range got.Errors {
			switch e.Extensions["code"] {
			case graph.CodeQueryTooComplex, graph.CodeQueryTooDeep, graph.CodeTooManyAliases, graph.CodeTooManyDirectives,
				graph.CodeTooManyTokens, graph.CodeQueryTooLarge, graph.CodeTooManyRepeats, "GRAPHQL_VALIDATION_FAILED", "GRAPHQL_PARSE_FAILED":
				t.Errorf("query %d refused: %+v", i, e)
			}
		}
	}
}

// relayStyle is a page query as Relay or Apollo Client write it: n components' fragments
// spread on one customer, each with the __typename and id the client adds to every
// selection, and fragments spreading fragments.
func relayStyle(n int) string {
	var b strings.Builder
	b.WriteString("query Page { customers(first: 5) { __typename nodes { __typename id")
	for i := range n {
		fmt.Fprintf(&b, " ...C%d", i)
	}
	b.WriteString(" } } }")
	for i := range n {
		fmt.Fprintf(&b, " fragment C%d on Customer { __typename id name ...Site%d }", i, i%3)
	}
	for i := range 3 {
		fmt.Fprintf(&b, " fragment Site%d on Customer { __typename id site { __typename id title } }", i)
	}
	return b.String()
}

// introspectionQuery is graphql-js's getIntrospectionQuery() with every option on, as
// GraphiQL sends it.
const introspectionQuery = `query IntrospectionQuery {
  __schema {
    description
    queryType { name kind }
    mutationType { name kind }
    subscriptionType { name kind }
    types { ...FullType }
    directives { name description isRepeatable locations args(includeDeprecated: true) { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description specifiedByURL isOneOf
  fields(includeDeprecated: true) { name description args(includeDeprecated: true) { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
  inputFields(includeDeprecated: true) { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue isDeprecated deprecationReason }
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } } }
}`

// TestAPIKeys: keys are checked whole, with either header, and bad key lists are refused.
func TestAPIKeys(t *testing.T) {
	for _, bad := range [][]string{nil, {"short"}, {"same-key-0123456789", "same-key-0123456789"}} {
		if _, err := edge.NewAPIKeys(bad); err == nil {
			t.Errorf("NewAPIKeys(%q) accepted", bad)
		}
	}
	file := filepath.Join(t.TempDir(), "keys")
	if err := os.WriteFile(file, []byte("# keys of the apps\nkey-from-file-0123456789\n\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	keys, err := edge.ParseAPIKeys(" key-from-env-0123456789 , ", file)
	if err != nil || keys.Len() != 2 {
		t.Fatalf("ParseAPIKeys: %v, %v", keys, err)
	}
	up := kajabitest.NewSandbox(t, sandbox.Options{Customers: 5})
	endpoint := serve(t, up, edge.HandlerOptions{APIKeys: keys})
	tests := []struct {
		header map[string]string
		status int
	}{
		{map[string]string{"X-API-Key": "key-from-env-0123456789"}, 200},
		{map[string]string{"X-API-Key": "key-from-file-0123456789"}, 200},
		{map[string]string{"Authorization": "Bearer key-from-file-0123456789"}, 200},
		{map[string]string{"Authorization": "bearer key-from-file-0123456789"}, 200},
		{map[string]string{"X-API-Key": "key-from-file-012345678"}, 401},
		{map[string]string{"X-API-Key": "KEY-FROM-FILE-0123456789"}, 401},
		{map[string]string{"Authorization": "key-from-file-0123456789"}, 401},
		{map[string]string{}, 401},
	}
	for _, tt := range tests {
		h := map[string]string{"Content-Type": "application/json"}
		for k, v := range tt.header {
			h[k] = v
		}
		status, header, got := do(t, "POST", endpoint, h, `{"query":"{ __typename }"}`)
		if status != tt.status {
			t.Errorf("%v: got %d %+v, want %d", tt.header, status, got.Errors, tt.status)
		}
		if status == 401 && (got.code() != graph.CodeUnauthenticated || header.Get("WWW-Authenticate") == "") {
			t.Errorf("%v: 401 without UNAUTHENTICATED or WWW-Authenticate: %+v %v", tt.header, got.Errors, header)
		}
	}
}

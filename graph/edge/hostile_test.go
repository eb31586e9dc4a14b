package edge_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kajabi-graphql/facade/graph"
	"github.com/kajabi-graphql/facade/graph/edge"
	"github.com/kajabi-graphql/facade/kajabi/kajabitest"
	"github.com/kajabi-graphql/facade/kajabi/sandbox"
)

const (
	hostileKey  = "hostile-test-key-0123456789abcdef"
	normalQuery = `query Normal { customers(first: 3, sort: {field: NAME}) { totalCount nodes { id name email } } }`
)

// hostileRequest is one request of TestHostileRequests.
type hostileRequest struct {
	name        string
	method      string            // POST unless set
	contentType string            // application/json unless set; "-" sends none
	header      map[string]string // added; "X-API-Key" overrides the good key, "" removes it
	query       url.Values        // for GET
	body        string            // raw body; when empty, doc is encoded as the body
	doc         map[string]any    // {"query":..., "variables":...}
	allowlisted bool              // send to the service with an operation allow-list
	status      int
	code        string
	check       func(t *testing.T, a hostileAnswer) // more to assert, optional
}

type hostileAnswer struct {
	status int
	body   []byte
	errors []gqlError
}

func (a hostileAnswer) code() string {
	if len(a.errors) == 0 {
		return ""
	}
	code, _ := a.errors[0].Extensions["code"].(string)
	return code
}

// TestHostileRequests sends broken and hostile requests to a service set up as production
// would be (API keys, introspection and suggestions off, CSRF prevention, persisted
// queries, a deadline, the default limits but a depth of 5). Each must come back promptly
// with one clear error and the right code, and cost Kajabi nothing; afterwards the service
// still answers a normal query.
func TestHostileRequests(t *testing.T) {
	up := kajabitest.NewSandbox(t, sandbox.Options{Customers: 40})
	keys, err := edge.NewAPIKeys([]string{hostileKey})
	if err != nil {
		t.Fatal(err)
	}
	limits := edge.DefaultRequestLimits
	limits.MaxDepth = 5 // the schema has no cycles: at 10, no valid query is too deep
	allowlist, err := edge.NewOperationAllowlist(normalQuery)
	if err != nil {
		t.Fatal(err)
	}
	newServer := func(allow *edge.OperationAllowlist) string {
		h := edge.NewHandler(&graph.Resolver{Client: up.Client(t)}, edge.HandlerOptions{
			APIKeys:          keys,
			Limits:           &limits,
			Timeout:          5 * time.Second,
			PersistedQueries: true,
			Allowlist:        allow,
		})
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		return srv.URL + "/graphql"
	}
	endpoint, allowlisted := newServer(nil), newServer(allowlist)

	// A document that spreads fragments exponentially: F0 spreads F1 twice, F1 spreads F2
	// twice, ... 2^40 fields once expanded, in under 2000 tokens.
	var bomb strings.Builder
	bomb.WriteString("query Bomb { ...F0 }")
	for i := range 40 {
		fmt.Fprintf(&bomb, " fragment F%d on Query { ...F%d ...F%d }", i, i+1, i+1)
	}
	bomb.WriteString(" fragment F40 on Query { __typename }")

	manyAliases := func(n int) string {
		var b strings.Builder
		b.WriteString("{")
		for i := range n {
			fmt.Fprintf(&b, " a%d: __typename", i)
		}
		return b.String() + " }"
	}
	hash := func(q string) string { s := sha256.Sum256([]byte(q)); return hex.EncodeToString(s[:]) }
	apq := func(hash string, version int) map[string]any {
		return map[string]any{"persistedQuery": map[string]any{"version": version, "sha256Hash": hash}}
	}
	noSuggestion := func(t *testing.T, a hostileAnswer) {
		if bytes.Contains(a.body, []byte("Did you mean")) {
			t.Errorf("the error suggests names although suggestions are off: %s", a.body)
		}
	}
	smallAnswer := func(t *testing.T, a hostileAnswer) {
		if len(a.body) > 4096 {
			t.Errorf("got an answer of %d bytes, want at most 4096: %.200s", len(a.body), a.body)
		}
	}
	const allRelations = `nodes { id name email netRevenue contact { phoneNumber site { title } } site { title } products { title site { title } } offers { title products { title } } }`

	tests := []hostileRequest{
		// Who may ask.
		{name: "no API key", header: map[string]string{"X-API-Key": ""}, doc: q(normalQuery), status: 401, code: graph.CodeUnauthenticated},
		{name: "wrong API key", header: map[string]string{"X-API-Key": "not-the-key-0123456789abcdef"}, doc: q(normalQuery), status: 401, code: graph.CodeUnauthenticated},
		{name: "API key one character short", header: map[string]string{"X-API-Key": hostileKey[:len(hostileKey)-1]}, doc: q(normalQuery), status: 401, code: graph.CodeUnauthenticated},
		{name: "API key with a character more", header: map[string]string{"X-API-Key": hostileKey + "0"}, doc: q(normalQuery), status: 401, code: graph.CodeUnauthenticated},
		{name: "wrong bearer key", header: map[string]string{"X-API-Key": "", "Authorization": "Bearer kajabi-token-of-someone"}, doc: q(normalQuery), status: 401, code: graph.CodeUnauthenticated},
		{name: "basic auth instead of a key", header: map[string]string{"X-API-Key": "", "Authorization": "Basic " + "YWRtaW46YWRtaW4="}, doc: q(normalQuery), status: 401, code: graph.CodeUnauthenticated},

		// Cross-site request forgery.
		{name: "GET without preflight header", method: http.MethodGet, contentType: "-", query: url.Values{"query": {normalQuery}}, status: 400, code: graph.CodeCSRFBlocked},
		{name: "POST text/plain", contentType: "text/plain", doc: q(normalQuery), status: 400, code: graph.CodeCSRFBlocked},
		{name: "POST text/plain with charset", contentType: "text/plain;charset=UTF-8", doc: q(normalQuery), status: 400, code: graph.CodeCSRFBlocked},
		{name: "POST form", contentType: "application/x-www-form-urlencoded", body: "query=" + url.QueryEscape(normalQuery), status: 400, code: graph.CodeCSRFBlocked},
		{name: "POST multipart", contentType: "multipart/form-data; boundary=x", body: "--x\r\nContent-Disposition: form-data; name=\"query\"\r\n\r\n{ __typename }\r\n--x--\r\n", status: 400, code: graph.CodeCSRFBlocked},
		{name: "POST without content type", contentType: "-", doc: q(normalQuery), status: 400, code: graph.CodeCSRFBlocked},

		// Not a GraphQL request.
		{name: "wrong content type with preflight header", contentType: "text/plain", header: map[string]string{"Apollo-Require-Preflight": "true"}, doc: q(normalQuery), status: 415, code: graph.CodeBadRequest},
		{name: "XML body", contentType: "application/xml", body: "<query>{ __typename }</query>", status: 415, code: graph.CodeBadRequest},
		{name: "10 MB body", body: `{"query":"{ __typename }","variables":{"x":"` + strings.Repeat("x", 10<<20) + `"}}`, status: 413, code: graph.CodePayloadTooLarge},
		{name: "invalid JSON", body: `{"query": "{ __typename }"`, status: 400, code: graph.CodeBadRequest},
		{name: "empty body", body: " ", status: 400, code: graph.CodeBadRequest},
		{name: "batched operations", body: `[{"query":"{ __typename }"},{"query":"{ __typename }"}]`, status: 400, code: graph.CodeBadRequest},
		{name: "batch of 1000 operations", body: "[" + strings.TrimSuffix(strings.Repeat(`{"query":"{ customers(first: 100) { nodes { id } } }"},`, 1000), ",") + "]", status: 400, code: graph.CodeBadRequest},
		{name: "invalid UTF-8 in the body", body: "{\"query\":\"{ customers(filter: {search: \\\"\xff\xfe\\\"}) { totalCount } }\"}", status: 400, code: graph.CodeBadRequest},
		{name: "invalid UTF-8 in a GET", method: http.MethodGet, contentType: "-", header: map[string]string{"Apollo-Require-Preflight": "1"}, query: url.Values{"query": {"{ customers(filter: {search: \"\xc3\x28\"}) { totalCount } }"}}, status: 400, code: graph.CodeBadRequest},
		{name: "raw NUL byte in the JSON", body: "{\"query\":\"{ __typename \x00}\"}", status: 400, code: graph.CodeBadRequest},
		{name: "JSON nested 20000 deep", body: `{"query":"{ __typename }","variables":{"x":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}}`, status: 400, code: graph.CodeBadRequest},
		{name: "query is a number", body: `{"query":42}`, status: 400, code: graph.CodeBadRequest},
		{name: "variables are a string", body: `{"query":"{ __typename }","variables":"{}"}`, status: 400, code: graph.CodeBadRequest},
		{name: "PUT", method: http.MethodPut, doc: q(normalQuery), status: 405, code: graph.CodeBadRequest},
		{name: "unacceptable Accept", header: map[string]string{"Accept": "text/html"}, doc: q(normalQuery), status: 406, code: graph.CodeBadRequest},

		// Documents that do not parse or validate.
		{name: "syntax error", doc: q("{ customers { "), status: 400, code: "GRAPHQL_PARSE_FAILED"},
		{name: "NUL character in the document", doc: q("{ __typename \u0000 }"), status: 400, code: "GRAPHQL_PARSE_FAILED"},
		{name: "unknown operation", doc: map[string]any{"query": normalQuery, "operationName": "DropTables"}, status: 400, code: "GRAPHQL_VALIDATION_FAILED"},
		{name: "unknown field, no suggestion", doc: q("{ customers { nodes { emial } } }"), status: 400, code: "GRAPHQL_VALIDATION_FAILED", check: noSuggestion},
		{name: "unknown enum value, no suggestion", doc: q("{ customers(sort: {field: NAMEE}) { totalCount } }"), status: 400, code: graph.CodeBadUserInput, check: noSuggestion},
		{name: "unknown directive", doc: q("{ __typename @export(as: \"x\") }"), status: 400, code: "GRAPHQL_VALIDATION_FAILED"},
		{name: "subscription", doc: q("subscription { customers { totalCount } }"), status: 400, code: "GRAPHQL_VALIDATION_FAILED"},
		{name: "variable of the wrong type", doc: map[string]any{"query": "query($n: Int) { customers(first: $n) { totalCount } }", "variables": map[string]any{"n": "all"}}, status: 400, code: graph.CodeBadUserInput},

		// What a request may cost.
		{name: "nesting 1000 deep", doc: q(strings.Repeat("{ a ", 1000) + strings.Repeat("}", 1000)), status: 400, code: graph.CodeTooManyTokens},
		{name: "deep relations", doc: q("{ customers { edges { node { offers { products { site { title } } } } } } }"), status: 400, code: graph.CodeQueryTooDeep},
		{name: "hundreds of aliases", doc: q(manyAliases(300)), status: 400, code: graph.CodeTooManyAliases},
		// 25 at each of four places: more of one field at one place is TOO_MANY_REPEATS.
		{name: "hundreds of directives", doc: q("{" + strings.Repeat(" __typename @include(if: true)", 25) + " sites {" + strings.Repeat(" id @include(if: true)", 25) + " } products {" + strings.Repeat(" id @include(if: true)", 25) + " } offers {" + strings.Repeat(" id @include(if: true)", 25) + " } }"), status: 400, code: graph.CodeTooManyDirectives},
		{name: "thousands of tokens", doc: q("{" + strings.Repeat(" a", 3000) + " }"), status: 400, code: graph.CodeTooManyTokens},
		{name: "query text over 15 kB", doc: q("# " + strings.Repeat("padding ", 3000) + "\n{ __typename }"), status: 400, code: graph.CodeQueryTooLarge},
		{name: "huge string literal", doc: q(`{ customers(filter: {search: "` + strings.Repeat("a", 200_000) + `"}) { totalCount } }`), status: 400, code: graph.CodeQueryTooLarge},
		{name: "long string literal", doc: q(`{ customers(filter: {search: "` + strings.Repeat("a", 5000) + `"}) { totalCount } }`), status: 400, code: graph.CodeBadUserInput},
		{name: "huge string variable", doc: map[string]any{"query": "query($s: String) { customers(filter: {search: $s}) { totalCount } }", "variables": map[string]any{"s": strings.Repeat("b", 500_000)}}, status: 400, code: graph.CodeBadUserInput},
		{name: "NUL in a string variable", doc: map[string]any{"query": "query($s: String) { customers(filter: {search: $s}) { totalCount } }", "variables": map[string]any{"s": "smith\x00; DROP"}}, status: 400, code: graph.CodeBadUserInput},
		{name: "NUL in a string literal", doc: q(`{ customer(id: "1\u0000") { id } }`), status: 400, code: graph.CodeBadUserInput},
		{name: "100 customers with every relation", doc: q(`{ customers(first: 100) { ` + allRelations + ` } }`), status: 400, code: graph.CodeQueryTooComplex},
		{name: "aliased pages", doc: q("{" + aliasedPages(20) + " }"), status: 400, code: graph.CodeQueryTooComplex},
		{name: "page size from a variable", doc: map[string]any{"query": `query($n: Int) { customers(first: $n) { ` + allRelations + ` } }`, "variables": map[string]any{"n": 100}}, status: 400, code: graph.CodeQueryTooComplex},
		{name: "exponential fragments", doc: q(bomb.String()), status: 400, code: graph.CodeQueryTooComplex},
		{name: "introspection", doc: q("{ __schema { types { name } } }"), status: 400, code: graph.CodeIntrospectionDisabled},
		{name: "federation SDL", doc: q("{ _service { sdl } }"), status: 400, code: graph.CodeIntrospectionDisabled},
		{name: "introspection in a fragment", doc: q("query { ...T } fragment T on Query { __type(name: \"Customer\") { fields { name } } }"), status: 400, code: graph.CodeIntrospectionDisabled},

		// Arguments the resolvers refuse before calling Kajabi.
		{name: "forged cursor", doc: q(`{ customers(after: "Zm9yZ2VkOjEwMDAwMDA6eA") { totalCount } }`), status: 200, code: graph.CodeBadUserInput},
		{name: "cursor that is not base64", doc: q(`{ customers(after: "'; DROP TABLE customers; --") { totalCount } }`), status: 200, code: graph.CodeBadUserInput},
		{name: "page size of a million", doc: q(`{ customers(first: 1000000) { totalCount } }`), status: 200, code: graph.CodeBadUserInput},
		{name: "negative days", doc: q(`{ customers(filter: {createdInLast: -1}) { totalCount } }`), status: 200, code: graph.CodeBadUserInput},

		// Ids are values, not paths.
		{name: "id ..", doc: q(`{ customer(id: "..") { id } }`), status: 200, code: graph.CodeBadUserInput},
		{name: "id %2e%2e", doc: q(`{ customer(id: "%2e%2e") { id } }`), status: 200, code: graph.CodeBadUserInput},
		{name: "id 1/../2", doc: q(`{ customer(id: "1/../2") { id } }`), status: 200, code: graph.CodeBadUserInput},
		{name: "id 1?x=y", doc: q(`{ customer(id: "1?x=y") { id } }`), status: 200, code: graph.CodeBadUserInput},

		// Echoes and sizes.
		{name: "1 MB operationName", doc: map[string]any{"query": normalQuery, "operationName": strings.Repeat("N", 1_000_000)}, status: 400, code: "GRAPHQL_VALIDATION_FAILED", check: smallAnswer},
		{name: "Content-Length over the limit, expecting 100-continue", header: map[string]string{"Expect": "100-continue"}, body: `{"query":"{ __typename }","variables":{"x":"` + strings.Repeat("x", 2<<20) + `"}}`, status: 413, code: graph.CodePayloadTooLarge},

		// Persisted queries and the allow-list.
		{name: "unknown persisted query", doc: map[string]any{"extensions": apq(hash("{ secret }"), 1)}, status: 400, code: graph.CodePersistedQueryNotFound},
		{name: "persisted query hash that does not match", doc: map[string]any{"query": normalQuery, "extensions": apq(strings.Repeat("0", 64), 1)}, status: 400, code: graph.CodeBadRequest},
		{name: "persisted query version 2", doc: map[string]any{"query": normalQuery, "extensions": apq(hash(normalQuery), 2)}, status: 400, code: graph.CodeBadRequest},
		{name: "operation not on the allow-list", allowlisted: true, doc: q(`query Normal { customers(first: 100) { nodes { id } } }`), status: 400, code: graph.CodeOperationNotAllowed},
		{name: "anonymous operation not on the allow-list", allowlisted: true, doc: q(`{ sites { id } }`), status: 400, code: graph.CodeOperationNotAllowed},
	}
	// Shapes that make validation quadratic: refused before it runs.
	for _, d := range worstDocuments() {
		if !d.admitted {
			tests = append(tests, hostileRequest{name: "worst document: " + d.name, doc: q(d.query), status: 400, code: graph.CodeTooManyRepeats})
		}
	}
	if len(tests) < 40 {
		t.Fatalf("only %d hostile requests", len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target := endpoint
			if tt.allowlisted {
				target = allowlisted
			}
			up.Reset()
			start := time.Now()
			a := sendHostile(t, target, tt)
			if took := time.Since(start); took > 3*time.Second {
				t.Errorf("took %v to refuse", took)
			}
			if a.status != tt.status || a.code() != tt.code {
				t.Errorf("got %d %s, want %d %s: %.300s", a.status, a.code(), tt.status, tt.code, a.body)
			}
			if len(a.errors) > 0 {
				t.Logf("%d %s: %.200s", a.status, a.code(), a.errors[0].Message)
			}
			if len(a.errors) != 1 {
				t.Errorf("got %d errors, want 1: %.300s", len(a.errors), a.body)
			} else if a.errors[0].Message == "" || strings.Contains(a.errors[0].Message, "internal") {
				t.Errorf("unclear message %q", a.errors[0].Message)
			}
			if n := up.Calls(); n != 0 {
				t.Errorf("Kajabi was called %d times: %v", n, queries(up))
			}
			if tt.check != nil {
				tt.check(t, a)
			}
		})
	}

	// The service still serves, with and without the allow-list, and over GET with a
	// preflight header.
	up.Reset()
	for _, target := range []string{endpoint, allowlisted} {
		a := sendHostile(t, target, hostileRequest{doc: q(normalQuery)})
		if a.status != 200 || len(a.errors) != 0 || !bytes.Contains(a.body, []byte(`"totalCount":40`)) {
			t.Errorf("normal query after the hostile ones: %d %.300s", a.status, a.body)
		}
	}
	a := sendHostile(t, endpoint, hostileRequest{method: http.MethodGet, contentType: "-", header: map[string]string{"X-Apollo-Operation-Name": "Normal"}, query: url.Values{"query": {normalQuery}}})
	if a.status != 200 || len(a.errors) != 0 {
		t.Errorf("GET with a preflight header: %d %.300s", a.status, a.body)
	}
	if up.Calls() == 0 {
		t.Error("the normal queries never reached Kajabi")
	}
}

func q(query string) map[string]any { return map[string]any{"query": query} }

func aliasedPages(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, " p%d: customers(first: 100) { nodes { id name email } }", i)
	}
	return b.String()
}

func sendHostile(t *testing.T, endpoint string, tt hostileRequest) hostileAnswer {
	t.Helper()
	method := tt.method
	if method == "" {
		method = http.MethodPost
	}
	body := tt.body
	if body == "" && tt.doc != nil {
		raw, err := json.Marshal(tt.doc)
		if err != nil {
			t.Fatal(err)
		}
		body = string(raw)
	}
	target := endpoint
	if tt.query != nil {
		target += "?" + tt.query.Encode()
	}
	req, err := http.NewRequest(method, target, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	switch tt.contentType {
	case "":
		req.Header.Set("Content-Type", "application/json")
	case "-":
	default:
		req.Header.Set("Content-Type", tt.contentType)
	}
	req.Header.Set("Accept", "application/graphql-response+json")
	req.Header.Set("X-API-Key", hostileKey)
	for k, v := range tt.header {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", tt.name, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	a := hostileAnswer{status: resp.StatusCode, body: raw}
	var doc struct {
		Errors []gqlError `json:"errors"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("%s: the answer is not JSON: %d %.300s", tt.name, resp.StatusCode, raw)
	}
	a.errors = doc.Errors
	return a
}

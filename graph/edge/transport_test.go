package edge_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/kajabi-graphql/facade/graph"
	"github.com/kajabi-graphql/facade/graph/edge"
	"github.com/kajabi-graphql/facade/kajabi/kajabitest"
	"github.com/kajabi-graphql/facade/kajabi/sandbox"
)

// httpAnswer is what a GraphQL-over-HTTP client sees of one response.
type httpAnswer struct {
	status      int
	contentType string
	header      http.Header
	hasData     bool
	errors      []gqlError
}

func graphqlHTTP(t *testing.T, maxBody int64) string {
	t.Helper()
	up := kajabitest.NewSandbox(t, sandbox.Options{Customers: 30})
	// GraphQL over HTTP as the spec has it: CSRF prevention, which refuses GETs without a
	// preflight header, has tests of its own (security_test.go).
	h := edge.NewHandler(&graph.Resolver{Client: up.Client(t)}, edge.HandlerOptions{Introspection: true, MaxBodyBytes: maxBody, DisableCSRFPrevention: true})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL + "/graphql"
}

func send(t *testing.T, method, target, contentType, accept, body string) httpAnswer {
	t.Helper()
	req, err := http.NewRequest(method, target, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	a := httpAnswer{status: resp.StatusCode, contentType: resp.Header.Get("Content-Type"), header: resp.Header}
	if method == http.MethodOptions {
		return a
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("%s %s: body is not a JSON object: %s", method, target, raw)
	}
	_, a.hasData = doc["data"]
	if e, ok := doc["errors"]; ok {
		if err := json.Unmarshal(e, &a.errors); err != nil {
			t.Fatalf("errors: %v in %s", err, raw)
		}
	}
	return a
}

const (
	ctJSON  = "application/json; charset=utf-8"
	ctGraph = "application/graphql-response+json; charset=utf-8"
)

// TestStatusAndMediaTypeNegotiation runs every kind of document under every kind of Accept
// header: application/graphql-response+json turns request errors (parse, validation,
// variable coercion) into 400, application/json keeps them 200, execution is always 200,
// and a request error never has a data entry.
func TestStatusAndMediaTypeNegotiation(t *testing.T) {
	endpoint := graphqlHTTP(t, 0)
	accepts := []struct {
		name, accept, want string // want "" means 406
	}{
		{"none", "", ctJSON},
		{"json", "application/json", ctJSON},
		{"graphql-response", "application/graphql-response+json", ctGraph},
		{"apollo client", "application/graphql-response+json,application/json;q=0.9", ctGraph},
		{"json preferred by q", "application/json;q=0.5, application/graphql-response+json;q=0.4", ctJSON},
		{"both named, equal q", "application/json, application/graphql-response+json", ctGraph},
		{"graphql-response refused", "application/graphql-response+json;q=0, */*", ctJSON},
		{"any", "*/*", ctJSON},
		{"application any", "application/*", ctJSON},
		{"browser", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", ctJSON},
		{"named beats wildcard", "*/*, application/graphql-response+json", ctGraph},
		{"with charset", "application/graphql-response+json; charset=utf-8", ctGraph},
		{"unsupported", "text/html", ""},
		{"json refused", "application/json;q=0", ""},
		{"specific range refuses", "application/*;q=0, */*", ""},
		{"specific range decides", "application/json;q=0.2, application/*;q=0.5, */*;q=0.1", ctGraph},
	}
	docs := []struct {
		name         string
		body         string
		requestError bool   // not executed: no data entry, 400 under graphql-response+json
		code         string // extensions.code of the first error, "" for none
	}{
		{"valid", `{"query":"{ __typename }"}`, false, ""},
		{"null parameters", `{"query":"{ __typename }","operationName":null,"variables":null,"extensions":null}`, false, ""},
		{"execution error", `{"query":"{ customers(first: 0) { totalCount } }"}`, false, graph.CodeBadUserInput},
		{"parse error", `{"query":"{"}`, true, "GRAPHQL_PARSE_FAILED"},
		{"validation error", `{"query":"{ noSuchField }"}`, true, "GRAPHQL_VALIDATION_FAILED"},
		{"variable coercion", `{"query":"query($n: Int!) { customers(first: $n) { totalCount } }","variables":{"n":"x"}}`, true, graph.CodeBadUserInput},
		{"unknown operation", `{"query":"query A { __typename }","operationName":"B"}`, true, "GRAPHQL_VALIDATION_FAILED"},
	}
	for _, acc := range accepts {
		for _, doc := range docs {
			t.Run(acc.name+"/"+doc.name, func(t *testing.T) {
				got := send(t, http.MethodPost, endpoint, "application/json", acc.accept, doc.body)
				if got.contentType != acc.want && acc.want != "" {
					t.Errorf("content type: got %q, want %q", got.contentType, acc.want)
				}
				wantStatus := http.StatusOK
				switch {
				case acc.want == "":
					wantStatus = http.StatusNotAcceptable
				case doc.requestError && acc.want == ctGraph:
					wantStatus = http.StatusBadRequest
				}
				if got.status != wantStatus {
					t.Errorf("status: got %d, want %d", got.status, wantStatus)
				}
				if acc.want == "" {
					return
				}
				if got.hasData == doc.requestError {
					t.Errorf("data entry present: got %v, want %v", got.hasData, !doc.requestError)
				}
				gotCode := ""
				if len(got.errors) > 0 {
					gotCode, _ = got.errors[0].Extensions["code"].(string)
				}
				if gotCode != doc.code {
					t.Errorf("error code: got %q, want %q (errors %+v)", gotCode, doc.code, got.errors)
				}
			})
		}
	}
}

// TestMalformedRequests: what is not a GraphQL-over-HTTP request at all is refused with a
// 4xx whatever the Accept header, with code BAD_REQUEST and no data entry.
func TestMalformedRequests(t *testing.T) {
	endpoint := graphqlHTTP(t, 512)
	get := func(params url.Values) string { return endpoint + "?" + params.Encode() }
	tests := []struct {
		name        string
		method      string
		target      string
		contentType string
		body        string
		status      int
		allow       string
	}{
		{"empty body", http.MethodPost, endpoint, "application/json", "", 400, ""},
		{"broken JSON", http.MethodPost, endpoint, "application/json", `{"query": `, 400, ""},
		{"batch", http.MethodPost, endpoint, "application/json", `[{"query":"{ __typename }"}]`, 400, ""},
		{"null body", http.MethodPost, endpoint, "application/json", `null`, 400, ""},
		{"trailing data", http.MethodPost, endpoint, "application/json", `{"query":"{ __typename }"} {}`, 400, ""},
		{"no query", http.MethodPost, endpoint, "application/json", `{"qeury":"{ __typename }"}`, 400, ""},
		{"null query", http.MethodPost, endpoint, "application/json", `{"query":null}`, 400, ""},
		{"query object", http.MethodPost, endpoint, "application/json", `{"query":{"a":1}}`, 400, ""},
		{"query number", http.MethodPost, endpoint, "application/json", `{"query":0}`, 400, ""},
		{"operationName false", http.MethodPost, endpoint, "application/json", `{"query":"{ __typename }","operationName":false}`, 400, ""},
		{"variables string", http.MethodPost, endpoint, "application/json", `{"query":"{ __typename }","variables":"{}"}`, 400, ""},
		{"variables array", http.MethodPost, endpoint, "application/json", `{"query":"{ __typename }","variables":[]}`, 400, ""},
		{"extensions number", http.MethodPost, endpoint, "application/json", `{"query":"{ __typename }","extensions":1}`, 400, ""},
		{"body over the limit", http.MethodPost, endpoint, "application/json", `{"query":"{ __typename ` + strings.Repeat(" ", 600) + `}"}`, 413, ""},
		{"text/plain", http.MethodPost, endpoint, "text/plain", `{"query":"{ __typename }"}`, 415, ""},
		{"no content type", http.MethodPost, endpoint, "", `{"query":"{ __typename }"}`, 415, ""},
		{"form", http.MethodPost, endpoint, "application/x-www-form-urlencoded", `query=%7B__typename%7D`, 415, ""},
		{"PUT", http.MethodPut, endpoint, "application/json", `{"query":"{ __typename }"}`, 405, "GET, POST, OPTIONS"},
		{"GET without query", http.MethodGet, endpoint, "", "", 400, ""},
		{"GET variables without query", http.MethodGet, get(url.Values{"variables": {"{}"}}), "", "", 400, ""},
		{"GET variables not JSON", http.MethodGet, get(url.Values{"query": {"{ __typename }"}, "variables": {"{n:1}"}}), "", "", 400, ""},
		{"GET variables array", http.MethodGet, get(url.Values{"query": {"{ __typename }"}, "variables": {"[1]"}}), "", "", 400, ""},
		{"GET extensions not JSON", http.MethodGet, get(url.Values{"query": {"{ __typename }"}, "extensions": {"x"}}), "", "", 400, ""},
	}
	for _, tt := range tests {
		for _, accept := range []string{"", "application/json", "application/graphql-response+json"} {
			t.Run(tt.name+"/accept="+accept, func(t *testing.T) {
				got := send(t, tt.method, tt.target, tt.contentType, accept, tt.body)
				if got.status != tt.status {
					t.Errorf("status: got %d, want %d", got.status, tt.status)
				}
				if got.hasData {
					t.Error("data entry present, want none")
				}
				want := graph.CodeBadRequest
				if tt.status == http.StatusRequestEntityTooLarge {
					want = graph.CodePayloadTooLarge
				}
				if len(got.errors) != 1 || got.errors[0].Extensions["code"] != want {
					t.Errorf("errors: got %+v, want one with code %s", got.errors, want)
				}
				if allow := got.header.Get("Allow"); allow != tt.allow {
					t.Errorf("Allow: got %q, want %q", allow, tt.allow)
				}
			})
		}
	}
}

// TestGET runs queries from the query string, with JSON-encoded variables, under both media
// types, and keeps the same request-error rule as POST.
func TestGET(t *testing.T) {
	endpoint := graphqlHTTP(t, 0)
	query := url.Values{
		"query":         {`query Count($first: Int!) { customers(first: $first) { totalCount nodes { id } } }`},
		"operationName": {"Count"},
		"variables":     {`{"first": 2}`},
	}
	tests := []struct {
		accept, contentType string
		params              url.Values
		status              int
		hasData             bool
	}{
		{"", ctJSON, query, 200, true},
		{"application/graphql-response+json", ctGraph, query, 200, true},
		{"application/json", ctJSON, url.Values{"query": {"{ noSuchField }"}}, 200, false},
		{"application/graphql-response+json", ctGraph, url.Values{"query": {"{ noSuchField }"}}, 400, false},
		// An invalid document is 400 whatever its kind; a valid mutation by GET is 405.
		{"application/graphql-response+json", ctGraph, url.Values{"query": {"mutation { noSuchMutation }"}}, 400, false},
		{"application/graphql-response+json", ctGraph, url.Values{"query": {"mutation { __typename }"}}, 405, false},
	}
	for _, tt := range tests {
		t.Run(tt.accept+"/"+tt.params.Get("query"), func(t *testing.T) {
			got := send(t, http.MethodGet, endpoint+"?"+tt.params.Encode(), "", tt.accept, "")
			if got.status != tt.status || got.contentType != tt.contentType || got.hasData != tt.hasData {
				t.Errorf("got %d %q data=%v (errors %+v), want %d %q data=%v",
					got.status, got.contentType, got.hasData, got.errors, tt.status, tt.contentType, tt.hasData)
			}
		})
	}

	if got := send(t, http.MethodOptions, endpoint, "", "", ""); got.status != 200 || got.header.Get("Allow") == "" {
		t.Errorf("OPTIONS: got %d Allow=%q, want 200 with Allow", got.status, got.header.Get("Allow"))
	}
}

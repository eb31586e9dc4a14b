package edge_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/kajabi-graphql/facade/graph"
	"github.com/kajabi-graphql/facade/graph/edge"
	"github.com/kajabi-graphql/facade/kajabi/kajabitest"
	"github.com/kajabi-graphql/facade/kajabi/sandbox"
)

// TestEchoedValuesAreCapped sends request values of a megabyte (under the default body
// limit) where the errors repeat them: an operationName, an enum value, an input object
// key, a representation key. Each answer stays a few kB, with the value cut and marked.
func TestEchoedValuesAreCapped(t *testing.T) {
	up := kajabitest.NewSandbox(t, sandbox.Options{Customers: 5})
	srv := httptest.NewServer(edge.NewHandler(&graph.Resolver{Client: up.Client(t)}, edge.HandlerOptions{}))
	t.Cleanup(srv.Close)

	const size = 1_000_000
	long := strings.Repeat("A", size)
	tests := []struct {
		name, code string
		doc        map[string]any
		field      bool // extensions.field is set, and must be capped too
	}{
		{name: "operationName", code: "GRAPHQL_VALIDATION_FAILED",
			doc: map[string]any{"query": normalQuery, "operationName": long}},
		{name: "operationName with spaces", code: "GRAPHQL_VALIDATION_FAILED",
			doc: map[string]any{"query": normalQuery, "operationName": strings.Repeat("A ", size/2)}},
		{name: "operationName of 2-byte runes", code: "GRAPHQL_VALIDATION_FAILED",
			doc: map[string]any{"query": normalQuery, "operationName": strings.Repeat("é", size/2)}},
		{name: "enum value", code: graph.CodeBadUserInput,
			doc: map[string]any{"query": `query($f: CustomerSortField!) { customers(sort: {field: $f}) { totalCount } }`, "variables": map[string]any{"f": long}}},
		{name: "input object key", code: graph.CodeBadUserInput,
			doc: map[string]any{"query": `query($f: CustomerFilter) { customers(filter: $f) { totalCount } }`, "variables": map[string]any{"f": map[string]any{long: 1}}}},
		{name: "representation key", code: graph.CodeBadUserInput, field: true,
			doc: map[string]any{"query": `query($r: [_Any!]!) { _entities(representations: $r) { __typename } }`,
				"variables": map[string]any{"r": []any{map[string]any{"__typename": "Customer", long: "\x00"}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up.Reset()
			body, err := json.Marshal(tt.doc)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := http.Post(srv.URL+"/graphql", "application/json", bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			raw, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if len(raw) > 4<<10 {
				t.Errorf("got an answer of %d bytes to a request of %d, want under 4 kB: %.300s", len(raw), len(body), raw)
			}
			if !utf8.Valid(raw) {
				t.Errorf("got an answer that is not UTF-8: a cut split a character")
			}
			var out gqlResponse
			if err := json.Unmarshal(raw, &out); err != nil {
				t.Fatalf("got %d %.300s: %v", resp.StatusCode, raw, err)
			}
			if len(out.Errors) != 1 || out.code() != tt.code {
				t.Fatalf("got %+v, want one %s", out.Errors, tt.code)
			}
			e := out.Errors[0]
			if !strings.Contains(e.Message+anyString(e.Path), "…") {
				t.Errorf("got message %q at %v, want the echoed value cut with an ellipsis", e.Message, e.Path)
			}
			if field, _ := e.Extensions["field"].(string); tt.field && (len(field) > 200 || !strings.HasSuffix(field, "…")) {
				t.Errorf("got field %.300q, want it cut with an ellipsis", field)
			}
			if up.Calls() != 0 {
				t.Errorf("got %d Kajabi calls, want 0", up.Calls())
			}
			t.Logf("%d-byte request: %d-byte answer: %.160s", len(body), len(raw), e.Message)
		})
	}
}

func anyString(path []any) string {
	var b strings.Builder
	for _, p := range path {
		if s, ok := p.(string); ok {
			b.WriteString(s)
		}
	}
	return b.String()
}

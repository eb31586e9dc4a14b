package graph_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/kajabi-graphql/facade/graph"
)

// apolloAccept is what Apollo Client sends with a query that has @defer.
const apolloAccept = "multipart/mixed;deferSpec=20220824, application/json"

const (
	deferredQuery = `{ customers(page: {size: 4}) { nodes { id name
		... @defer { contact { name email } site { title } products { title } offers { title } } } } }`
	deferredSpread = `{ customers(page: {size: 4}) { nodes { id name ...Rel @defer(label: "rel") } } }
		fragment Rel on Customer { contact { name email } site { title } products { title } offers { title } }`
	wholeQuery = `{ customers(page: {size: 4}) { nodes { id name
		contact { name email } site { title } products { title } offers { title } } } }`
)

// part is one JSON part of a multipart/mixed answer, in the shape deferSpec=20220824 has.
type part struct {
	Data        json.RawMessage `json:"data"`
	Errors      []gqlError      `json:"errors"`
	HasNext     *bool           `json:"hasNext"`
	Incremental []struct {
		Data   json.RawMessage `json:"data"`
		Path   []any           `json:"path"`
		Errors []gqlError      `json:"errors"`
	} `json:"incremental"`
}

// post sends query with the given method and Accept header and returns the response with
// its body read.
func (s *testServer) send(t *testing.T, method, accept, query string) (*http.Response, []byte) {
	t.Helper()
	var req *http.Request
	var err error
	if method == http.MethodGet {
		req, err = http.NewRequest(method, s.url+"?query="+url.QueryEscape(query), nil)
		if err == nil {
			req.Header.Set("Apollo-Require-Preflight", "true")
		}
	} else {
		body, _ := json.Marshal(map[string]any{"query": query})
		req, err = http.NewRequest(method, s.url, bytes.NewReader(body))
		if err == nil {
			req.Header.Set("Content-Type", "application/json")
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", accept)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, raw
}

// parts splits a multipart/mixed answer into its JSON parts.
func parts(t *testing.T, resp *http.Response, body []byte) []part {
	t.Helper()
	mediaType, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/mixed" || params["deferspec"] != "20220824" {
		t.Fatalf("got Content-Type %q, want multipart/mixed with deferSpec=20220824", resp.Header.Get("Content-Type"))
	}
	r := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	var out []part
	for i := 0; i < 1000; i++ {
		p, err := r.NextPart()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("part %d: %v in %q", i, err, body)
		}
		if ct := p.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("part %d: got Content-Type %q, want application/json", i, ct)
		}
		var pt part
		if err := json.NewDecoder(p).Decode(&pt); err != nil {
			t.Fatalf("part %d: %v", i, err)
		}
		out = append(out, pt)
	}
	t.Fatal("more than 1000 parts")
	return nil
}

// merge applies the increments to the first payload, as a client does.
func merge(t *testing.T, ps []part) (map[string]any, []gqlError) {
	t.Helper()
	var data map[string]any
	if err := json.Unmarshal(ps[0].Data, &data); err != nil {
		t.Fatal(err)
	}
	errs := ps[0].Errors
	for _, p := range ps[1:] {
		errs = append(errs, p.Errors...)
		for _, inc := range p.Incremental {
			errs = append(errs, inc.Errors...)
			var at any = data
			for _, step := range inc.Path {
				switch s := step.(type) {
				case string:
					at = at.(map[string]any)[s]
				case float64:
					at = at.([]any)[int(s)]
				}
			}
			var fields map[string]any
			if err := json.Unmarshal(inc.Data, &fields); err != nil {
				t.Fatal(err)
			}
			for k, v := range fields {
				at.(map[string]any)[k] = v
			}
		}
	}
	return data, errs
}

// TestDeferStreamsIncrements: a client that accepts multipart/mixed gets the list first,
// without the deferred relations, then the relations, and the merged answer is the one
// the same query without @defer gives. GET streams as POST does.
func TestDeferStreamsIncrements(t *testing.T) {
	srv := sandboxServer(t, 10)
	var want map[string]any
	srv.mustQuery(t, wholeQuery, nil, &want)

	for _, method := range []string{http.MethodPost, http.MethodGet} {
		t.Run(method, func(t *testing.T) {
			resp, body := srv.send(t, method, apolloAccept, deferredQuery)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("got status %d %s, want 200", resp.StatusCode, body)
			}
			ps := parts(t, resp, body)
			if len(ps) < 2 {
				t.Fatalf("got %d parts, want the first and at least one increment: %s", len(ps), body)
			}
			if ps[0].HasNext == nil || !*ps[0].HasNext {
				t.Errorf("got first hasNext %v, want true", ps[0].HasNext)
			}
			// gqlgen's executor leaves a null placeholder where a deferred field goes; the
			// increment overwrites it.
			var first struct {
				Customers struct{ Nodes []map[string]any }
			}
			if err := json.Unmarshal(ps[0].Data, &first); err != nil {
				t.Fatal(err)
			}
			for _, n := range first.Customers.Nodes {
				for _, rel := range []string{"contact", "site", "products", "offers"} {
					if n[rel] != nil {
						t.Errorf("got %s %v in the first payload, want it deferred", rel, n[rel])
					}
				}
			}
			for i, p := range ps[1:] {
				last := i == len(ps)-2
				if p.HasNext == nil || *p.HasNext == last {
					t.Errorf("part %d: got hasNext %v, want %v", i+1, p.HasNext, !last)
				}
				if len(p.Incremental) == 0 || len(p.Incremental[0].Path) != 3 {
					t.Errorf("part %d: got %+v, want an increment at customers.nodes[i]", i+1, p.Incremental)
				}
			}
			got, errs := merge(t, ps)
			if len(errs) > 0 {
				t.Fatalf("got errors %+v, want none", errs)
			}
			if g, w := mustJSON(t, got), mustJSON(t, want); g != w {
				t.Errorf("got merged %s, want %s", g, w)
			}
		})
	}
}

// TestDeferWithoutMultipartIsComplete: a client that does not accept multipart/mixed gets
// one complete JSON answer, the deferred fragments run inline, no hasNext.
func TestDeferWithoutMultipartIsComplete(t *testing.T) {
	srv := sandboxServer(t, 10)
	want := srv.do(t, wholeQuery, nil)
	for _, accept := range []string{"application/json", "application/graphql-response+json", "", "*/*", "multipart/mixed;q=0, application/json"} {
		for _, query := range []string{deferredQuery, deferredSpread} {
			t.Run(accept, func(t *testing.T) {
				resp, body := srv.send(t, http.MethodPost, accept, query)
				if ct := resp.Header.Get("Content-Type"); !strings.Contains(ct, "json") {
					t.Fatalf("got Content-Type %q, want JSON", ct)
				}
				var got struct {
					Data    json.RawMessage `json:"data"`
					Errors  []gqlError      `json:"errors"`
					HasNext *bool           `json:"hasNext"`
				}
				if err := json.Unmarshal(body, &got); err != nil {
					t.Fatalf("%v in %s", err, body)
				}
				if got.HasNext != nil || len(got.Errors) > 0 {
					t.Errorf("got hasNext %v errors %+v, want neither", got.HasNext, got.Errors)
				}
				if string(got.Data) != string(want.Data) {
					t.Errorf("got %s, want %s", got.Data, want.Data)
				}
			})
		}
	}
	// The inlined copy must not leak into the shared query cache: the same document,
	// asked again with multipart, still streams.
	resp, body := srv.send(t, http.MethodPost, apolloAccept, deferredQuery)
	if ps := parts(t, resp, body); len(ps) < 2 {
		t.Errorf("got %d parts after the inline run, want increments", len(ps))
	}
}

// TestDeferredErrorsCarryTheirPath: a relation that fails inside a deferred fragment is
// reported in its increment, at its full path from the root.
func TestDeferredErrorsCarryTheirPath(t *testing.T) {
	srv := sandboxServer(t, 10)
	var list struct {
		Customers struct {
			Nodes []struct{ Contact struct{ ID string } }
		}
	}
	srv.mustQuery(t, `{ customers(page: {size: 4}) { nodes { contact { id } } } }`, nil, &list)
	victim := list.Customers.Nodes[2].Contact.ID
	srv.upstream.Sandbox.FailPath("/v1/contacts/"+victim, http.StatusNotFound)

	resp, body := srv.send(t, http.MethodPost, apolloAccept, deferredQuery)
	_, errs := merge(t, parts(t, resp, body))
	if len(errs) != 1 {
		t.Fatalf("got errors %+v, want one", errs)
	}
	if got, want := fmt.Sprint(errs[0].Path), "[customers nodes 2 contact]"; got != want {
		t.Errorf("got path %s, want %s", got, want)
	}
	if code, _ := errs[0].Extensions["code"].(string); code != graph.CodeNotFound {
		t.Errorf("got code %q, want %s", code, graph.CodeNotFound)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

package graph_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/transport"

	"github.com/kajabi-graphql/facade/graph"
	"github.com/kajabi-graphql/facade/graph/loader"
	"github.com/kajabi-graphql/facade/kajabi"
	"github.com/kajabi-graphql/facade/kajabi/kajabitest"
	"github.com/kajabi-graphql/facade/kajabi/sandbox"
)

// plainPair is the same schema served twice over one sandbox: by gqlgen alone, and with
// graph.PlainFields as the field middleware, as edge.NewHandler installs it.
// edits change the sandbox's records before either serves them.
func plainPair(t testing.TB, edits ...func(*sandbox.Store)) (gqlgen, plain http.Handler) {
	t.Helper()
	up := kajabitest.NewSandbox(t, sandbox.Options{Customers: 60})
	for _, edit := range edits {
		edit(up.Sandbox.Store())
	}
	client := up.Client(t, kajabi.WithLimits(kajabi.Limits{})) // no pacing: tests send many pages
	serve := func(fast bool) http.Handler {
		srv := handler.New(graph.NewSchema(&graph.Resolver{Client: client, DefaultSiteID: "101", Mutations: true}))
		srv.AddTransport(transport.POST{})
		if fast {
			srv.AroundFields(graph.PlainFields)
		}
		h := loader.Middleware(loader.Config{}, srv)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx := loader.WithCaller(r.Context(), loader.Caller{ID: "open", Client: client, Credential: "service"})
			h.ServeHTTP(w, r.WithContext(ctx))
		})
	}
	return serve(false), serve(true)
}

func postTo(t testing.TB, h http.Handler, query string, vars map[string]any) []byte {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w.Body.Bytes()
}

// TestPlainFieldsAnswerAsGqlgen holds the fast path to gqlgen's own answer, byte for
// byte: every field it writes, aliases, fragments, @skip/@include, a single customer, and
// the selections it must leave to gqlgen.
func TestPlainFieldsAnswerAsGqlgen(t *testing.T) {
	gqlgen, plain := plainPair(t)
	var first struct {
		Data struct {
			Customers struct{ Nodes []struct{ ID string } }
		}
	}
	if err := json.Unmarshal(postTo(t, gqlgen, `{ customers(page: {size: 1}) { nodes { id } } }`, nil), &first); err != nil || len(first.Data.Customers.Nodes) != 1 {
		t.Fatalf("got %+v (%v), want one customer", first, err)
	}
	id := first.Data.Customers.Nodes[0].ID

	const every = `__typename id name email avatar externalUserId publicBio publicLocation publicWebsite netRevenue signInCount lastRequestAt bouncedAt createdAt updatedAt`
	tests := []struct {
		name, query string
		vars        map[string]any
	}{
		{"the bench's list", `{ customers(page: {number: 2, size: 20}) { nodes { id name email avatar netRevenue signInCount createdAt updatedAt } } }`, nil},
		{"every plain field", `{ customers(page: {size: 50}) { nodes { ` + every + ` } } }`, nil},
		{"aliases and repeats", `{ customers(page: {size: 5}) { nodes { key: id id name n: name t: __typename email email } } }`, nil},
		{"fragments", `query { customers(page: {size: 5}) { nodes { ...F ... on Customer { email } ... on Node { id } } } } fragment F on Customer { name updatedAt }`, nil},
		{"skip and include, true", `query($s: Boolean!) { customers(page: {size: 5}) { nodes { id name @skip(if: $s) email @include(if: $s) } } }`, map[string]any{"s": true}},
		{"skip and include, false", `query($s: Boolean!) { customers(page: {size: 5}) { nodes { id name @skip(if: $s) email @include(if: $s) } } }`, map[string]any{"s": false}},
		{"edges", `{ customers(page: {size: 5}) { edges { cursor node { id email createdAt } } pageInfo { hasNextPage } } }`, nil},
		{"one customer", `query($id: ID!) { customer(id: $id) { ` + every + ` } }`, map[string]any{"id": id}},
		{"a missing customer", `{ customer(id: "999999999") { id name } }`, nil},
		{"the node field", `query($id: ID!) { customer(id: $id) { nodeId } }`, map[string]any{"id": id}},
		{"a relation beside", `{ customers(page: {size: 3}) { nodes { id name site { id title } } } }`, nil},
		{"the bench's relations", `{ customers(page: {number: 2, size: 20}) { nodes { id name email avatar netRevenue signInCount createdAt updatedAt
			contact { id email phoneNumber addressCity addressCountry } site { id title } products { id title productType } } } }`, nil},
		{"every plain field of the relations", `{ customers(page: {size: 10}) { nodes { id
			contact { __typename id name email phoneNumber businessNumber subscribed addressLine1 addressLine2 addressCity addressState addressCountry addressZip externalUserId custom1 custom2 custom3 createdAt updatedAt }
			site { __typename id title subdomain createdAt updatedAt }
			products { __typename id title description status membersCount productType publishStatus thumbnailUrl url createdAt } } } }`, nil},
		{"a relation's relation", `{ customers(page: {size: 3}) { nodes { contact { id site { id } } products { id site { title } } } } }`, nil},
		{"an object field", `{ customers(page: {size: 3}) { nodes { id socials { twitter } } } }`, nil},
		{"an empty page", `{ customers(page: {number: 99, size: 20}) { nodes { id } } }`, nil},
		{"an unknown field", `{ customers { nodes { id nope } } }`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := postTo(t, gqlgen, tt.query, tt.vars)
			got := postTo(t, plain, tt.query, tt.vars)
			if !bytes.Equal(got, want) {
				t.Errorf("got  %s\nwant %s", got, want)
			}
		})
	}
}

// TestPlainFieldsAnswerAsGqlgenWhenAttacked: what a hostile caller or odd data could do
// to the fast path, still byte for byte gqlgen's answer. Kajabi's text arrives as JSON, so
// odd strings reach the writer as the client decoded them (invalid UTF-8 as U+FFFD).
func TestPlainFieldsAnswerAsGqlgenWhenAttacked(t *testing.T) {
	odd := []string{"\u2028line\u2029", "nul\x00byte", "</script><script>alert(1)</script>", "lone \xed\xa0\x80 surrogate", "bad \xff\xfe", "tab\t\"q\"\\\r\n", "emoji 🙂 é", ""}
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	gqlgen, plain := plainPair(t, func(st *sandbox.Store) {
		for i := range st.Customers[:len(odd)] {
			c := &st.Customers[i]
			c.Name, c.PublicBio, c.PublicWebsite, c.Avatar = odd[i], odd[len(odd)-1-i], "", ""
			c.CreatedAt = time.Date(2026, 3, 29, 2, 30, 0, 123456789, paris) // the hour Paris skips
		}
	})
	var first struct {
		Data struct {
			Customers struct{ Nodes []struct{ ID, NodeID string } }
		}
	}
	if err := json.Unmarshal(postTo(t, gqlgen, `{ customers(page: {size: 1}) { nodes { id nodeId } } }`, nil), &first); err != nil || len(first.Data.Customers.Nodes) != 1 {
		t.Fatalf("got %+v (%v), want one customer", first, err)
	}
	id, nodeID := first.Data.Customers.Nodes[0].ID, first.Data.Customers.Nodes[0].NodeID
	const nested = `query($a: Boolean!, $b: Boolean!) { customers(page: {size: 3}) { nodes { ...A @include(if: $a) ... on Node @skip(if: $b) { nodeId t: __typename } ... on Node @include(if: $a) { t: __typename } } } }
		fragment A on Customer { ...B @skip(if: $b) name } fragment B on Customer { email __typename }`
	tests := []struct {
		name, query string
		vars        map[string]any
	}{
		{"odd text, empty optionals, a time zone", `{ customers(page: {size: 60}) { nodes { id name publicBio publicWebsite avatar createdAt } } }`, nil},
		{"node(id:)", `query($id: ID!) { node(id: $id) { ... on Customer { id name } ... on Node { __typename } } }`, map[string]any{"id": nodeID}},
		{"_entities, one missing", `query($r: [_Any!]!) { _entities(representations: $r) { ... on Customer { id name email } } }`,
			map[string]any{"r": []any{map[string]any{"__typename": "Customer", "id": id}, map[string]any{"__typename": "Customer", "id": "999999"}}}},
		{"nested fragments, variables one way", nested, map[string]any{"a": true, "b": false}},
		{"nested fragments, the other way", nested, map[string]any{"a": false, "b": true}},
		{"one alias, two fields", `{ customers(page: {size: 3}) { nodes { a: id a: name } } }`, nil},
		{"one customer, three selections", `query($id: ID!) { a: customer(id: $id) { id } b: customer(id: $id) { name email } c: customer(id: $id) { id contact { id } } }`, map[string]any{"id": id}},
		{"one field twice, merged", `{ customers(page: {size: 2}) { nodes { id } } customers(page: {size: 2}) { nodes { name } } }`, nil},
		{"an error beside", `{ customers(page: {size: 2}) { nodes { id name } } customer(id: "bad id!") { id } }`, nil},
		{"a union's fragment", `{ customers(page: {size: 2}) { nodes { ... on _Entity { ... on Customer { id } } } } }`, nil},
		{"@defer inside", `{ customers(page: {size: 2}) { nodes { id ... @defer { name } } } }`, nil},
		{"@defer(if: false) inside", `{ customers(page: {size: 2}) { nodes { id ... @defer(if: false) { name } } } }`, nil},
		{"mutations, one failing", `mutation($id: ID!) { a: grantOffers(customerId: $id, offerIds: ["1"]) { id name updatedAt } b: revokeOffers(customerId: $id, offerIds: ["1"]) { id name } }`, map[string]any{"id": id}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := postTo(t, gqlgen, tt.query, tt.vars)
			got := postTo(t, plain, tt.query, tt.vars)
			if !bytes.Equal(got, want) {
				t.Errorf("got  %s\nwant %s", got, want)
			}
		})
	}
}

// TestPlainFieldsTakesTheFastPath checks the middleware is not merely harmless: a page
// of plain fields, or of plain fields and relations, costs far fewer allocations with it
// than through gqlgen's fields.
func TestPlainFieldsTakesTheFastPath(t *testing.T) {
	gqlgen, plain := plainPair(t)
	const fields = `id name email avatar netRevenue signInCount createdAt updatedAt`
	for _, tt := range []struct {
		name, query string
		share       float64
	}{
		{"plain fields", `{ customers(page: {number: 2, size: 20}) { nodes { ` + fields + ` } } }`, 0.6},
		{"relations", `{ customers(page: {number: 2, size: 20}) { nodes { ` + fields + `
			contact { id email phoneNumber addressCity addressCountry } site { id title } products { id title productType } } } }`, 0.75},
	} {
		allocs := func(h http.Handler) float64 {
			return testing.AllocsPerRun(20, func() { postTo(t, h, tt.query, nil) })
		}
		slow, fast := allocs(gqlgen), allocs(plain)
		if fast > slow*tt.share {
			t.Errorf("%s: got %.0f allocations a request with PlainFields, want under %.0f%% of gqlgen's %.0f", tt.name, fast, tt.share*100, slow)
		}
		t.Logf("%s: %.0f allocations a request with PlainFields, %.0f without", tt.name, fast, slow)
	}
}

// TestPlainRelationsFailAsGqlgen: a contact, a site and a product that Kajabi does not
// have, on different rows of one page, give the answer and the errors gqlgen gives: null
// for the contact and the site, the product left out, each error at its row's field. The
// errors are compared in path order, since gqlgen's goroutines add them in any.
func TestPlainRelationsFailAsGqlgen(t *testing.T) {
	var edited []string
	gqlgen, plain := plainPair(t, func(st *sandbox.Store) {
		row := func(k int) *sandbox.Customer { // newest first, as the list pages them
			c := &st.Customers[len(st.Customers)-1-k]
			edited = append(edited, c.ID)
			return c
		}
		row(1).ContactID = "888888888"
		row(2).SiteID = "888" // out of site 101's list; alone, its site fails
		c := row(3)
		c.ProductIDs = append(c.ProductIDs, "888888")
		c = row(4)
		c.ContactID, c.ProductIDs = "888888887", append(c.ProductIDs, "888887", "888886")
	})
	const rel = `contact { id name } site { id title } products { id title }`
	tests := []struct {
		name, query string
		vars        map[string]any
	}{
		{"a page", `{ customers(page: {size: 6}) { nodes { id ` + rel + ` } } }`, nil},
		{"edges", `{ customers(page: {size: 6}) { edges { node { id ` + rel + ` } } } }`, nil},
	}
	for _, id := range edited {
		tests = append(tests, struct {
			name, query string
			vars        map[string]any
		}{"customer " + id + " alone", `query($id: ID!) { customer(id: $id) { id ` + rel + ` } }`, map[string]any{"id": id}})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := sortedErrors(t, postTo(t, gqlgen, tt.query, tt.vars))
			got := sortedErrors(t, postTo(t, plain, tt.query, tt.vars))
			if got != want {
				t.Errorf("got  %s\nwant %s", got, want)
			}
			if !strings.Contains(want, `"errors"`) {
				t.Errorf("no errors in %s: the edits no longer make a relation fail", want)
			}
		})
	}
}

// sortedErrors is a response with its errors in path order.
func sortedErrors(t *testing.T, body []byte) string {
	t.Helper()
	var resp map[string]json.RawMessage
	if err := json.Unmarshal(body, &resp); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	if raw, ok := resp["errors"]; ok {
		var errs []json.RawMessage
		if err := json.Unmarshal(raw, &errs); err != nil {
			t.Fatal(err)
		}
		path := func(e json.RawMessage) string {
			var p struct{ Path []any }
			_ = json.Unmarshal(e, &p)
			return fmt.Sprint(p.Path)
		}
		slices.SortStableFunc(errs, func(a, b json.RawMessage) int { return strings.Compare(path(a)+string(a), path(b)+string(b)) })
		resp["errors"], _ = json.Marshal(errs)
	}
	out, _ := json.Marshal(resp)
	return string(out)
}

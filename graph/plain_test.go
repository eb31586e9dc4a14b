package graph_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/transport"

	"github.com/kajabi-graphql/facade/graph"
	"github.com/kajabi-graphql/facade/graph/loader"
	"github.com/kajabi-graphql/facade/kajabi/kajabitest"
	"github.com/kajabi-graphql/facade/kajabi/sandbox"
)

// plainPair is the same schema served twice over one sandbox: by gqlgen alone, and with
// graph.PlainFields as the field middleware, as edge.NewHandler installs it.
func plainPair(t testing.TB) (gqlgen, plain http.Handler) {
	t.Helper()
	up := kajabitest.NewSandbox(t, sandbox.Options{Customers: 60})
	client := up.Client(t)
	serve := func(fast bool) http.Handler {
		srv := handler.New(graph.NewSchema(&graph.Resolver{Client: client, DefaultSiteID: "101"}))
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

// TestPlainFieldsTakesTheFastPath checks the middleware is not merely harmless: a page
// of plain fields costs far fewer allocations with it than through gqlgen's fields.
func TestPlainFieldsTakesTheFastPath(t *testing.T) {
	gqlgen, plain := plainPair(t)
	const q = `{ customers(page: {number: 2, size: 20}) { nodes { id name email avatar netRevenue signInCount createdAt updatedAt } } }`
	allocs := func(h http.Handler) float64 {
		return testing.AllocsPerRun(20, func() { postTo(t, h, q, nil) })
	}
	slow, fast := allocs(gqlgen), allocs(plain)
	if fast > slow*0.6 {
		t.Errorf("got %.0f allocations a request with PlainFields, want under 60%% of gqlgen's %.0f", fast, slow)
	}
}

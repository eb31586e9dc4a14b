package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
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
	gqlgen, plain, _ = plainPairOn(t, false, edits...)
	return gqlgen, plain
}

// plainPairOn is plainPair that also returns the upstream, for faults, and with presented
// set presents errors and panics as edge.NewHandler does (graph.ErrorPresenter).
func plainPairOn(t testing.TB, presented bool, edits ...func(*sandbox.Store)) (gqlgen, plain http.Handler, up *kajabitest.Upstream) {
	t.Helper()
	up = kajabitest.NewSandbox(t, sandbox.Options{Customers: 60})
	for _, edit := range edits {
		edit(up.Sandbox.Store())
	}
	client := up.Client(t, kajabi.WithLimits(kajabi.Limits{})) // no pacing: tests send many pages
	serve := func(fast bool) http.Handler {
		srv := handler.New(graph.NewSchema(&graph.Resolver{Client: client, DefaultSiteID: "101", Mutations: true}))
		srv.AddTransport(transport.POST{})
		if presented {
			srv.SetErrorPresenter(graph.ErrorPresenter(false))
			srv.SetRecoverFunc(graph.RecoverPanic)
		}
		if fast {
			srv.AroundFields(graph.PlainFields)
		}
		h := loader.Middleware(loader.Config{}, srv)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx := loader.WithCaller(r.Context(), loader.Caller{ID: "open", Client: client, Credential: "service"})
			h.ServeHTTP(w, r.WithContext(ctx))
		})
	}
	return serve(false), serve(true), up
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

// shareContactAndProducts makes the other customers name first's contact and products.
func shareContactAndProducts(first *sandbox.Customer, others ...*sandbox.Customer) {
	for _, c := range others {
		c.ContactID, c.ProductIDs = first.ContactID, slices.Clone(first.ProductIDs)
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

// samePair posts each query to both handlers and compares the answers, errors in path order.
func samePair(t *testing.T, gqlgen, plain http.Handler, tests []pairCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := sortedErrors(t, postTo(t, gqlgen, tt.query, tt.vars))
			got := sortedErrors(t, postTo(t, plain, tt.query, tt.vars))
			if got != want {
				t.Errorf("got  %s\nwant %s", got, want)
			}
			if tt.errors != strings.Contains(want, `"errors"`) {
				t.Errorf("errors in %s: %v, want %v", want, !tt.errors, tt.errors)
			}
		})
	}
}

type pairCase struct {
	name, query string
	vars        map[string]any
	errors      bool // whether gqlgen's answer has errors
}

// TestPlainRelationsAnswerAsGqlgenWhenAttacked: the selections a hostile caller could
// write around a customer's contact, site and products, over a page whose rows share
// their contact and products, own none, or name a contact, site or products by ids that
// are not Kajabi ids (the client refuses them, so each fails at its row's field).
func TestPlainRelationsAnswerAsGqlgenWhenAttacked(t *testing.T) {
	var ids []string
	gqlgen, plain, _ := plainPairOn(t, true, func(st *sandbox.Store) {
		row := func(k int) *sandbox.Customer { return &st.Customers[len(st.Customers)-1-k] } // newest first
		for k := range 8 {
			ids = append(ids, row(k).ID)
		}
		shareContactAndProducts(row(0), row(1), row(2), row(3))
		row(4).ProductIDs = nil
		row(5).ContactID = "" // the sandbox then sends id "", which the client refuses
		row(6).SiteID = ""
		row(7).ProductIDs = append([]string{"", "not-an-id"}, row(7).ProductIDs...)
	})
	var first struct {
		Data struct{ Customer struct{ NodeID string } }
	}
	if err := json.Unmarshal(postTo(t, gqlgen, `query($id: ID!) { customer(id: $id) { nodeId } }`, map[string]any{"id": ids[0]}), &first); err != nil || first.Data.Customer.NodeID == "" {
		t.Fatalf("got %+v (%v), want a node id", first, err)
	}
	nodeID := first.Data.Customer.NodeID
	const rel = `contact { id name } site { id title } products { id title }`
	tests := []pairCase{
		{name: "aliased relations", errors: true, query: `{ customers(page: {size: 8}) { nodes { id a: contact { id } b: contact { name email } s1: site { id } s2: site { title } p1: products { id } p2: products { title } } } }`},
		{name: "one relation twice, merged", errors: true, query: `{ customers(page: {size: 8}) { nodes { contact { id } contact { name } products { id } products { title id } site { id } ... on Customer { site { title } } } } }`},
		{name: "fragments on and in relations", errors: true, query: `query { customers(page: {size: 8}) { nodes { ...F contact { ...C ... on Node { __typename } } } } }
			fragment F on Customer { contact { name } products { ...P } site { ... on Site { subdomain } } }
			fragment P on Product { id ... on Product { title } }
			fragment C on Contact { email ... on Contact { phoneNumber } }`},
		{name: "__typename in relations", errors: true, query: `{ customers(page: {size: 8}) { nodes { contact { __typename t: __typename } site { __typename } products { __typename id } } } }`},
		{name: "edges", errors: true, query: `{ customers(page: {size: 8}) { edges { cursor node { id ` + rel + ` } } } }`},
		{name: "two pages, aliased", errors: true, query: `{ a: customers(page: {size: 3}) { nodes { contact { id } } } b: customers(page: {number: 2, size: 3}) { nodes { contact { name } products { id } } } }`},
		{name: "@defer inside a relation", query: `{ customers(page: {size: 3}) { nodes { contact { id ... @defer { name } } } } }`},
		{name: "@defer(if: false) inside a relation", query: `{ customers(page: {size: 3}) { nodes { contact { id ... @defer(if: false) { name } } products { ... @defer(if: false) { id } } } } }`},
		{name: "@defer around the nodes", query: `{ customers(page: {size: 3}) { ... @defer { nodes { id contact { id } } } } }`},
		{name: "every row", errors: true, query: `{ customers(page: {size: 100}) { nodes { id contact { id email } products { id } site { id } p: products { title } } } }`},
		{name: "@defer around a relation", query: `{ customers(page: {size: 3}) { nodes { id ... @defer { contact { id } } } } }`},
		{name: "a non-plain field in a relation", query: `{ customers(page: {size: 3}) { nodes { id contact { id nodeId } site { id } } } }`},
		{name: "a non-plain field beside relations", query: `{ customers(page: {size: 3}) { nodes { socials { twitter } ` + rel + ` } } }`},
		{name: "an unknown field in a relation", query: `{ customers(page: {size: 3}) { nodes { contact { id nope } } } }`, errors: true},
		{name: "everything skipped in the relations", errors: true, query: `query($s: Boolean!) { customers(page: {size: 8}) { nodes { id contact { id @skip(if: $s) } site { ... @include(if: false) { id } } products { id @skip(if: $s) } } } }`, vars: map[string]any{"s": true}},
		{name: "nodes twice, merged", errors: true, query: `{ customers(page: {size: 8}) { nodes { id } nodes { contact { id } } n: nodes { products { title } } nodes { products { id } site { id } } } }`},
		{name: "a mutation's customer", query: `mutation($id: ID!) { grantOffers(customerId: $id, offerIds: ["3001"]) { id ` + rel + ` } }`, vars: map[string]any{"id": ids[4]}},
		{name: "node(id:)", query: `query($id: ID!) { node(id: $id) { ... on Customer { ` + rel + ` } } }`, vars: map[string]any{"id": nodeID}},
	}
	const skips = `query($a: Boolean!, $b: Boolean!) { customers(page: {size: 8}) { nodes { id contact @include(if: $a) { id name @skip(if: $b) } site @skip(if: $a) { id } products @include(if: $b) { id title @include(if: $a) } ... on Customer @skip(if: $b) { contact { email } } } } }`
	for _, a := range []bool{false, true} {
		for _, b := range []bool{false, true} {
			tests = append(tests, pairCase{name: fmt.Sprintf("skip and include, %v %v", a, b), query: skips, vars: map[string]any{"a": a, "b": b}, errors: true})
		}
	}
	reps := []any{}
	for _, id := range ids {
		tests = append(tests, pairCase{name: "customer " + id, query: `query($id: ID!) { customer(id: $id) { id ` + rel + ` } }`, vars: map[string]any{"id": id}, errors: slices.Contains(ids[5:], id)})
		reps = append(reps, map[string]any{"__typename": "Customer", "id": id})
	}
	tests = append(tests, pairCase{name: "_entities", query: `query($r: [_Any!]!) { _entities(representations: $r) { ... on Customer { id ` + rel + ` } } }`, vars: map[string]any{"r": reps}, errors: true})
	samePair(t, gqlgen, plain, tests)
}

// TestPlainRelationsFailAsGqlgenWhenKajabiFails: Kajabi refusing a contact several rows
// share, failing another, refusing the sites and one product, with errors presented as
// the edge presents them.
func TestPlainRelationsFailAsGqlgenWhenKajabiFails(t *testing.T) {
	var (
		ids    []string
		faults [][2]any
	)
	gqlgen, plain, up := plainPairOn(t, true, func(st *sandbox.Store) {
		row := func(k int) *sandbox.Customer { return &st.Customers[len(st.Customers)-1-k] } // newest first
		for k := range 6 {
			ids = append(ids, row(k).ID)
		}
		shareContactAndProducts(row(0), row(1), row(2), row(3))
		fail := func(path string, status int) { faults = append(faults, [2]any{path, status}) }
		fail("/v1/contacts/"+row(0).ContactID, http.StatusForbidden)
		fail("/v1/contacts/"+row(4).ContactID, http.StatusInternalServerError)
		fail("/v1/sites", http.StatusForbidden)
		fail("/v1/sites/101", http.StatusForbidden)
		fail("/v1/products", http.StatusForbidden)
		fail("/v1/products/"+row(0).ProductIDs[0], http.StatusUnprocessableEntity)
	})
	for _, f := range faults {
		up.Sandbox.FailPath(f[0].(string), f[1].(int))
	}
	const rel = `contact { id name } site { id title } products { id title }`
	tests := []pairCase{
		{name: "a page", errors: true, query: `{ customers(page: {size: 6}) { nodes { id ` + rel + ` } } }`},
		{name: "aliases", errors: true, query: `{ customers(page: {size: 6}) { nodes { id a: contact { id } b: contact { email } p: products { id } q: products { title } s: site { id } } } }`},
		{name: "merged", errors: true, query: `{ customers(page: {size: 6}) { nodes { id ...F contact { id } products { id } } } } fragment F on Customer { products { title } contact { email } }`},
		{name: "edges", errors: true, query: `{ customers(page: {size: 6}) { edges { node { id ` + rel + ` } } } }`},
		{name: "a relation skipped", errors: true, query: `query($s: Boolean!) { customers(page: {size: 6}) { nodes { id contact @skip(if: $s) { id } site { id } products @include(if: $s) { id } } } }`, vars: map[string]any{"s": true}},
	}
	for _, id := range ids {
		tests = append(tests, pairCase{name: "customer " + id, errors: true, query: `query($id: ID!) { customer(id: $id) { id ` + rel + ` } }`, vars: map[string]any{"id": id}})
	}
	samePair(t, gqlgen, plain, tests)
}

// TestPlainRelationsFailAsGqlgenWhenTheRequestEnds: the request running out of time, or
// its caller going away, while every row's contact is being read (the page itself came
// back): each row's contact is null with gqlgen's error, presented as the edge does.
func TestPlainRelationsFailAsGqlgenWhenTheRequestEnds(t *testing.T) {
	gqlgen, plain, up := plainPairOn(t, true)
	const rows = 5
	var (
		asked  atomic.Int32
		cancel atomic.Pointer[context.CancelFunc]
	)
	up.Handle(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !strings.HasPrefix(r.URL.Path, "/v1/contacts/") {
				next.ServeHTTP(w, r)
				return
			}
			// Cancelled once every row's contact is asked for, so each call fails the
			// same way rather than some before they leave.
			if c := cancel.Load(); asked.Add(1) == rows && c != nil {
				(*c)()
			}
			<-r.Context().Done() // no answer until the caller gives up
			panic(http.ErrAbortHandler)
		})
	})
	post := func(h http.Handler, ctx context.Context, query string) string {
		body, _ := json.Marshal(map[string]any{"query": query})
		req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return sortedErrors(t, w.Body.Bytes())
	}
	for _, tt := range []struct {
		name, query string
		ctx         func() (context.Context, context.CancelFunc)
	}{
		{"deadline", `{ customers(page: {size: 5}) { nodes { id contact { id name } site { id } products { id } } } }`,
			func() (context.Context, context.CancelFunc) {
				return context.WithTimeout(context.Background(), 500*time.Millisecond)
			}},
		{"cancelled", `{ customers(page: {size: 5}) { nodes { id contact { id name } a: contact { email } } } }`, func() (context.Context, context.CancelFunc) {
			ctx, c := context.WithCancel(context.Background())
			cancel.Store(&c)
			return ctx, c
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			answer := func(h http.Handler) string {
				asked.Store(0)
				ctx, c := tt.ctx()
				defer c()
				return post(h, ctx, tt.query)
			}
			want, got := answer(gqlgen), answer(plain)
			if got != want {
				t.Errorf("got  %s\nwant %s", got, want)
			}
			if !strings.Contains(want, `"contact":null`) || !strings.Contains(want, `"errors"`) {
				t.Errorf("want null contacts with errors, got %s", want)
			}
		})
	}
}

// TestPlainRelationsAnswerAsGqlgenWithoutRelations: customers Kajabi sends without a
// contact relationship (Kajabi's spec does not allow its data to be null, but the member
// may be left out) and with no products.
func TestPlainRelationsAnswerAsGqlgenWithoutRelations(t *testing.T) {
	gqlgen, plain, up := plainPairOn(t, true, func(st *sandbox.Store) {
		for k := range 3 { // the newest three, on the first page
			c := &st.Customers[len(st.Customers)-1-2*k]
			c.ContactID, c.ProductIDs = "", nil
		}
	})
	up.Handle(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			body := bytes.ReplaceAll(rec.Body.Bytes(), []byte(`"contact":{"data":{"id":"","type":"contacts"}},`), nil)
			maps.Copy(w.Header(), rec.Header())
			w.Header().Del("Content-Length")
			w.WriteHeader(rec.Code)
			_, _ = w.Write(body)
		})
	})
	var ids []string
	var page struct {
		Data struct {
			Customers struct{ Nodes []struct{ ID string } }
		}
	}
	if err := json.Unmarshal(postTo(t, gqlgen, `{ customers(page: {size: 6}) { nodes { id } } }`, nil), &page); err != nil || len(page.Data.Customers.Nodes) != 6 {
		t.Fatalf("got %+v (%v), want six customers", page, err)
	}
	for _, n := range page.Data.Customers.Nodes {
		ids = append(ids, n.ID)
	}
	const rel = `contact { id name } c: contact { __typename } site { id title } products { id title }`
	tests := []pairCase{
		{name: "a page", query: `{ customers(page: {size: 6}) { nodes { id ` + rel + ` } } }`},
		{name: "edges", query: `{ customers(page: {size: 6}) { edges { node { id ` + rel + ` } } } }`},
	}
	for _, id := range ids[:2] {
		tests = append(tests, pairCase{name: "customer " + id, query: `query($id: ID!) { customer(id: $id) { id ` + rel + ` } }`, vars: map[string]any{"id": id}})
	}
	samePair(t, gqlgen, plain, tests)
	if got := postTo(t, plain, tests[0].query, nil); !bytes.Contains(got, []byte(`"contact":null,"c":null`)) || !bytes.Contains(got, []byte(`"products":[]`)) {
		t.Errorf("got %s, want customers without a contact or products", got)
	}
}

// TestPlainRelationsAnswerAsGqlgenConcurrently: many requests at once, each with its own
// loaders, over rows that share contacts and products and a contact that fails, give
// each the answer gqlgen gives alone (run with -race).
func TestPlainRelationsAnswerAsGqlgenConcurrently(t *testing.T) {
	gqlgen, plain := plainPair(t, func(st *sandbox.Store) {
		row := func(k int) *sandbox.Customer { return &st.Customers[len(st.Customers)-1-k] }
		for k := 1; k < 10; k += 2 {
			row(k).ContactID, row(k).ProductIDs = row(0).ContactID, slices.Clone(row(0).ProductIDs)
		}
		row(4).ContactID = "888888888"
	})
	queries := []string{
		`{ customers(page: {size: 20}) { nodes { id contact { id name } site { id title } products { id title } } } }`,
		`{ customers(page: {size: 20}) { edges { node { id a: contact { email } b: contact { id } products { id } } } } }`,
		`{ a: customers(page: {size: 7}) { nodes { contact { id } } } b: customers(page: {number: 2, size: 7}) { nodes { site { id } products { title } } } }`,
	}
	want := make([]string, len(queries))
	for i, q := range queries {
		want[i] = sortedErrors(t, postTo(t, gqlgen, q, nil))
	}
	got := make([][]byte, 24)
	var wg sync.WaitGroup
	for n := range got {
		wg.Go(func() { got[n] = postTo(t, plain, queries[n%len(queries)], nil) })
	}
	wg.Wait()
	for n, body := range got {
		if got, want := sortedErrors(t, body), want[n%len(queries)]; got != want {
			t.Errorf("request %d: got  %s\nwant %s", n, got, want)
		}
	}
}

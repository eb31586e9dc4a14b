package graph_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/kajabi-graphql/facade/graph"
	"github.com/kajabi-graphql/facade/kajabi/kajabitest"
	"github.com/kajabi-graphql/facade/kajabi/sandbox"
)

// malformedIDs are ids no Kajabi record has; sent in a path, each would name another
// path or endpoint (behind a proxy that cleans or decodes paths) or be sent as garbage.
var malformedIDs = []string{
	"..", "%2e%2e", "%2E%2E", "1/../2", "1?x=y", "1#frag", "", "12 3", "-1", "1.5", "0x1F",
	"../../v1/oauth/token", strings.Repeat("9", 30), "9223372036854775808",
}

// kajabiPath is every path an id may take to Kajabi: a collection, one record by digits,
// or a customer's offers relationship.
var kajabiPath = regexp.MustCompile(`^/v1/[a-z]+(/[0-9]+(/relationships/offers)?)?$`)

// TestMalformedIDsAreRefused sends each malformed id through every argument that takes
// an id, as a variable and as a literal: each is BAD_USER_INPUT naming the argument,
// and Kajabi hears nothing.
func TestMalformedIDsAreRefused(t *testing.T) {
	srv := sandboxServer(t, 5)
	args := []struct {
		field string // the error's extensions.field
		query string // with $id of type ID!
	}{
		{"id", `query($id: ID!) { customer(id: $id) { id } }`},
		{"id", `query($id: ID!) { contact(id: $id) { id } }`},
		{"id", `query($id: ID!) { site(id: $id) { id } }`},
		{"id", `query($id: ID!) { product(id: $id) { id } }`},
		{"id", `query($id: ID!) { offer(id: $id) { id } }`},
		{"siteId", `query($id: ID!) { products(siteId: $id) { id } }`},
		{"siteId", `query($id: ID!) { offers(siteId: $id) { id } }`},
		{"filter.siteId", `query($id: ID!) { customers(filter: {siteId: $id}) { totalCount } }`},
		{"filter.hasTagId", `query($id: ID!) { customers(filter: {hasTagId: $id}) { totalCount } }`},
		{"filter.hasAllTagId", `query($id: ID!) { customers(filter: {hasAllTagId: ["1", $id]}) { totalCount } }`},
		{"filter.noSentEmailBroadcastIds", `query($id: ID!) { customers(filter: {noSentEmailBroadcastIds: [$id]}) { totalCount } }`},
	}
	for _, a := range args {
		for _, id := range malformedIDs {
			literal, _ := json.Marshal(id) // a JSON string is a GraphQL string literal
			forms := map[string]struct {
				query string
				vars  map[string]any
			}{
				"variable": {a.query, map[string]any{"id": id}},
				"literal":  {strings.NewReplacer("query($id: ID!) ", "", "$id", string(literal)).Replace(a.query), nil},
			}
			for form, f := range forms {
				name := fmt.Sprintf("%s %s/%s/%q", strings.Fields(a.query)[3], a.field, form, id)
				t.Run(name, func(t *testing.T) {
					srv.upstream.Reset()
					r := srv.do(t, f.query, f.vars)
					if len(r.Errors) != 1 || r.code() != graph.CodeBadUserInput || r.Errors[0].Extensions["field"] != a.field {
						t.Fatalf("got %+v, want one BAD_USER_INPUT for %s", r.Errors, a.field)
					}
					if msg := r.Errors[0].Message; !strings.HasPrefix(msg, a.field+" must be a Kajabi id") {
						t.Errorf("got message %q, want it to name %s", msg, a.field)
					}
					if n := srv.upstream.Calls(); n != 0 {
						t.Errorf("got %d Kajabi calls %v, want 0", n, queries(srv.upstream))
					}
				})
			}
		}
	}
}

// TestValidIDsStillResolve keeps the refusal honest: digits that are ids answer, and
// digits that are no record's id are NOT_FOUND from Kajabi, as before.
func TestValidIDsStillResolve(t *testing.T) {
	up := kajabitest.NewSandbox(t, sandbox.Options{Customers: 5})
	srv := newTestServer(t, up, &graph.Resolver{})
	id := up.Sandbox.Store().Customers[2].ID
	tests := []struct {
		id, code string
	}{
		{id, ""},
		{"0", graph.CodeNotFound},
		{"9223372036854775807", graph.CodeNotFound},
	}
	for _, tt := range tests {
		up.Reset()
		r := srv.do(t, `query($id: ID!) { customer(id: $id) { id } }`, map[string]any{"id": tt.id})
		if r.code() != tt.code {
			t.Errorf("customer(id: %q): got %q %+v, want %q", tt.id, r.code(), r.Errors, tt.code)
		}
		if want := "/v1/customers/" + tt.id; up.Calls() != 1 || up.Requests()[0].Path != want {
			t.Errorf("customer(id: %q): got calls %v, want one GET %s", tt.id, queries(up), want)
		}
	}
}

// TestMalformedRepresentationIDs sends a gateway's batch mixing good and malformed keys
// of every entity type: each malformed one is null with its own BAD_USER_INPUT at
// _entities[i], the others resolve, and only the good ids reach Kajabi.
func TestMalformedRepresentationIDs(t *testing.T) {
	up := kajabitest.NewSandbox(t, sandbox.Options{Customers: 20})
	srv := newTestServer(t, up, &graph.Resolver{})
	store := up.Sandbox.Store()
	good := map[string]string{
		"Customer": store.Customers[1].ID, "Contact": store.Contacts[2].ID, "Site": store.Sites[0].ID,
		"Product": store.Products[0].ID, "Offer": store.Offers[0].ID,
	}
	types := []string{"Customer", "Contact", "Site", "Product", "Offer"}
	var reps []map[string]any
	for _, typ := range types {
		reps = append(reps, map[string]any{"__typename": typ, "id": good[typ]})
	}
	bad := map[int]bool{}
	for _, id := range malformedIDs {
		for _, typ := range types {
			bad[len(reps)] = true
			reps = append(reps, map[string]any{"__typename": typ, "id": id})
		}
	}
	// The good keys again, after the bad ones: a malformed key fails alone, not its batch.
	for _, typ := range types {
		reps = append(reps, map[string]any{"__typename": typ, "id": good[typ]})
	}

	r := srv.do(t, entitiesQuery, map[string]any{"r": reps})
	got := entities(t, r)
	if len(got) != len(reps) {
		t.Fatalf("got %d entities, want %d: %+v", len(got), len(reps), r.Errors)
	}
	for i, e := range got {
		switch want := reps[i]["id"]; {
		case bad[i] && e != nil:
			t.Errorf("entity %d (%v): got %+v, want null", i, reps[i], e)
		case !bad[i] && (e == nil || e.ID != want):
			t.Errorf("entity %d (%v): got %+v, want id %v", i, reps[i], e, want)
		}
	}
	errAt := map[string]gqlError{}
	for _, e := range r.Errors {
		errAt[fmt.Sprint(e.Path)] = e
	}
	if len(r.Errors) != len(bad) {
		t.Errorf("got %d errors, want %d, one per malformed key", len(r.Errors), len(bad))
	}
	for i := range bad {
		e, ok := errAt[fmt.Sprintf("[_entities %d]", i)]
		if code, _ := e.Extensions["code"].(string); !ok || code != graph.CodeBadUserInput || e.Extensions["field"] != "representations.id" {
			t.Errorf("entity %d (%v): got error %+v, want BAD_USER_INPUT for representations.id", i, reps[i], e)
		}
	}
	for _, req := range up.Requests() {
		if !kajabiPath.MatchString(req.Path) {
			t.Errorf("Kajabi was asked for %s", req.Path)
		}
	}

	up.Reset()
	r = srv.do(t, entitiesQuery, map[string]any{"r": reps[5:10]})
	if len(r.Errors) != 5 || up.Calls() != 0 {
		t.Errorf("a batch of malformed keys only: got %d errors and %d Kajabi calls %v, want 5 and 0", len(r.Errors), up.Calls(), queries(up))
	}
}

// TestMalformedRelatedIDsAreNotFollowed has Kajabi answer a customer whose contact and
// products point at ids that are paths: the customer resolves, each relation fails with
// UPSTREAM_ERROR, and no request goes to the paths those ids name.
func TestMalformedRelatedIDsAreNotFollowed(t *testing.T) {
	up := kajabitest.NewSandbox(t, sandbox.Options{Customers: 5})
	store := up.Sandbox.Store()
	customer := store.Customers[0]
	if len(customer.ProductIDs) == 0 {
		t.Fatalf("customer %s owns no products; the test needs one", customer.ID)
	}
	const contactID, productID = "../../v1/oauth/token", "1/../2"
	up.Handle(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/v1/customers/"+customer.ID {
				next.ServeHTTP(w, r)
				return
			}
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			var doc map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
				t.Errorf("sandbox answer: %v", err)
				return
			}
			rel := doc["data"].(map[string]any)["relationships"].(map[string]any)
			rel["contact"].(map[string]any)["data"].(map[string]any)["id"] = contactID
			for _, p := range rel["products"].(map[string]any)["data"].([]any) {
				p.(map[string]any)["id"] = productID
			}
			body, _ := json.Marshal(doc)
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.Header().Del("Content-Length")
			w.WriteHeader(rec.Code)
			_, _ = w.Write(body)
		})
	})
	srv := newTestServer(t, up, &graph.Resolver{})
	r := srv.do(t, `query($id: ID!) { customer(id: $id) { id contact { id } products { id } } }`, map[string]any{"id": customer.ID})
	if !bytes.Contains(r.Data, []byte(`"id":"`+customer.ID+`"`)) {
		t.Errorf("got data %s, want customer %s", r.Data, customer.ID)
	}
	paths := map[string]bool{}
	for _, e := range r.Errors {
		code, _ := e.Extensions["code"].(string)
		if code != graph.CodeUpstreamError {
			t.Errorf("error at %v: got %s %q, want UPSTREAM_ERROR", e.Path, code, e.Message)
		}
		paths[fmt.Sprint(e.Path)] = true
	}
	if !paths["[customer contact]"] || !paths["[customer products]"] {
		t.Errorf("got errors %+v, want UPSTREAM_ERROR at [customer contact] and [customer products]", r.Errors)
	}
	for _, req := range up.Requests() {
		if !kajabiPath.MatchString(req.Path) {
			t.Errorf("Kajabi was asked for %s", req.Path)
		}
	}
}

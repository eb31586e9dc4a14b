package graph_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/kajabi-graphql/facade/graph"
	"github.com/kajabi-graphql/facade/kajabi/kajabitest"
	"github.com/kajabi-graphql/facade/kajabi/sandbox"
)

func TestServiceSDLDeclaresEntities(t *testing.T) {
	srv := sandboxServer(t, 10)
	var out struct {
		Service struct {
			SDL string `json:"sdl"`
		} `json:"_service"`
	}
	srv.mustQuery(t, `{ _service { sdl } }`, nil, &out)
	for _, want := range []string{
		`@link(url: "https://specs.apollo.dev/federation/v2.7"`,
		`type Customer implements Node @key(fields: "id") @key(fields: "email")`,
		`type Contact implements Node @key(fields: "id")`,
		`type Site implements Node @key(fields: "id")`,
		`type Product implements Node @key(fields: "id")`,
		`type Offer implements Node @key(fields: "id")`,
	} {
		if !strings.Contains(out.Service.SDL, want) {
			t.Errorf("sdl lacks %s", want)
		}
	}
	if srv.upstream.Calls() != 0 {
		t.Errorf("_service cost %d Kajabi calls, want 0", srv.upstream.Calls())
	}
}

const entitiesQuery = `query($r: [_Any!]!) { _entities(representations: $r) {
	__typename
	... on Customer { id email name site { id } }
	... on Product { id title }
	... on Offer { id title }
	... on Site { id title }
	... on Contact { id email }
} }`

type entity struct {
	Typename string `json:"__typename"`
	ID       string `json:"id"`
	Email    string `json:"email"`
	Title    string `json:"title"`
}

func entities(t *testing.T, r gqlResponse) []*entity {
	t.Helper()
	var out struct {
		Entities []*entity `json:"_entities"`
	}
	if err := json.Unmarshal(r.Data, &out); err != nil {
		t.Fatalf("decode %s: %v", r.Data, err)
	}
	return out.Entities
}

// TestEntitiesByIDAreOneBatch resolves 50 customer references from a gateway in one
// _entities request: one GET per customer (Kajabi has no batch read), none twice, and an
// unknown id is null with its own NOT_FOUND error while the others resolve.
func TestEntitiesByIDAreOneBatch(t *testing.T) {
	up := kajabitest.NewSandbox(t, sandbox.Options{Customers: 300})
	srv := newTestServer(t, up, &graph.Resolver{})
	store := up.Sandbox.Store()
	var reps []map[string]any
	for _, c := range store.Customers[:50] {
		reps = append(reps, map[string]any{"__typename": "Customer", "id": c.ID})
	}
	reps[17] = map[string]any{"__typename": "Customer", "id": "999999999"}

	r := srv.do(t, entitiesQuery, map[string]any{"r": reps})
	got := entities(t, r)
	if len(got) != 50 {
		t.Fatalf("got %d entities, want 50", len(got))
	}
	for i, e := range got {
		if i == 17 {
			if e != nil {
				t.Errorf("unknown id resolved to %+v, want null", e)
			}
			continue
		}
		if e == nil || e.ID != store.Customers[i].ID || e.Email != store.Customers[i].Email {
			t.Errorf("entity %d = %+v, want customer %s", i, e, store.Customers[i].ID)
		}
	}
	if len(r.Errors) != 1 || r.code() != graph.CodeNotFound || fmt.Sprint(r.Errors[0].Path) != "[_entities 17]" {
		t.Errorf("errors %+v, want one NOT_FOUND at [_entities 17]", r.Errors)
	}
	byKind := map[string]int{}
	seen := map[string]bool{}
	for _, req := range up.Requests() {
		if seen[req.Path+"?"+req.RawQuery] {
			t.Errorf("fetched twice: %s", req.Path)
		}
		seen[req.Path+"?"+req.RawQuery] = true
		byKind[kindOf(req.Path)]++
	}
	if byKind["customer"] != 50 || byKind["sites"] != 1 || len(byKind) != 2 {
		t.Errorf("calls %v, want 50 customer GETs and 1 sites list", byKind)
	}
}

// TestEntitiesByEmail resolves customers by their email key: exact match ignoring case,
// one filtered list call per distinct address, mixed with id keys in the same batch.
func TestEntitiesByEmail(t *testing.T) {
	up := kajabitest.NewSandbox(t, sandbox.Options{Customers: 300})
	srv := newTestServer(t, up, &graph.Resolver{})
	store := up.Sandbox.Store()
	a, b, c := store.Customers[3], store.Customers[40], store.Customers[77]
	reps := []map[string]any{
		{"__typename": "Customer", "email": strings.ToUpper(a.Email)},
		{"__typename": "Customer", "id": b.ID},
		{"__typename": "Customer", "email": c.Email},
		{"__typename": "Customer", "email": "nobody-" + c.Email},
		{"__typename": "Customer", "email": a.Email},
	}
	r := srv.do(t, entitiesQuery, map[string]any{"r": reps})
	got := entities(t, r)
	want := []string{a.ID, b.ID, c.ID, "", a.ID}
	for i, w := range want {
		switch {
		case w == "" && got[i] != nil:
			t.Errorf("entity %d = %+v, want null", i, got[i])
		case w != "" && (got[i] == nil || got[i].ID != w):
			t.Errorf("entity %d = %+v, want customer %s", i, got[i], w)
		}
	}
	if len(r.Errors) != 1 || r.code() != graph.CodeNotFound || fmt.Sprint(r.Errors[0].Path) != "[_entities 3]" {
		t.Errorf("errors %+v, want one NOT_FOUND at [_entities 3]", r.Errors)
	}
	emailCalls := 0
	for _, req := range up.Requests() {
		if req.Path == "/v1/customers" {
			emailCalls++
			if !strings.Contains(req.RawQuery, "filter[email_contains]=") {
				t.Errorf("email look-up without the email filter: %s", req.RawQuery)
			}
		}
	}
	if emailCalls != 3 {
		t.Errorf("%d email look-ups, want 3 (one per distinct address)", emailCalls)
	}
}

// TestEntitiesOfOtherTypes resolves products, offers, sites and contacts by id; several
// products of unknown site come from the account's product list, not one GET each.
func TestEntitiesOfOtherTypes(t *testing.T) {
	up := kajabitest.NewSandbox(t, sandbox.Options{Customers: 50, Sites: 2})
	srv := newTestServer(t, up, &graph.Resolver{})
	store := up.Sandbox.Store()
	var reps []map[string]any
	for _, p := range store.Products[:6] {
		reps = append(reps, map[string]any{"__typename": "Product", "id": p.ID})
	}
	reps = append(reps,
		map[string]any{"__typename": "Offer", "id": store.Offers[2].ID},
		map[string]any{"__typename": "Site", "id": store.Sites[1].ID},
		map[string]any{"__typename": "Contact", "id": store.Contacts[5].ID},
	)
	r := srv.do(t, entitiesQuery, map[string]any{"r": reps})
	if len(r.Errors) > 0 {
		t.Fatalf("errors: %+v", r.Errors)
	}
	got := entities(t, r)
	for i, p := range store.Products[:6] {
		if got[i] == nil || got[i].Typename != "Product" || got[i].Title != p.Title {
			t.Errorf("entity %d = %+v, want product %s", i, got[i], p.ID)
		}
	}
	if got[6].Title != store.Offers[2].Title || got[7].Title != store.Sites[1].Title || got[8].Email != store.Contacts[5].Email {
		t.Errorf("offer/site/contact: %+v %+v %+v", got[6], got[7], got[8])
	}
	for _, req := range up.Requests() {
		if strings.HasPrefix(req.Path, "/v1/products/") {
			t.Errorf("product fetched by id (%s) although the account's list answers all six", req.Path)
		}
	}
}

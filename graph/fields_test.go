package graph_test

import (
	"net/url"
	"strings"
	"testing"
)

// TestSparseFieldsFollowTheSelection checks fields[customers] against what the query
// selects under nodes and edges.node: attributes in the spec's order, relationship names
// for relations, generous with fragments and directives, never empty.
func TestSparseFieldsFollowTheSelection(t *testing.T) {
	srv := sandboxServer(t, 60)
	for _, tc := range []struct{ name, selection, want string }{
		{"only ids", `nodes { id }`, "name"},
		{"only totalCount", `totalCount`, "name"},
		{"only __typename", `nodes { __typename }`, "name"},
		{"attributes", `nodes { id name email }`, "name,email"},
		{"order of the spec", `nodes { updatedAt email name }`, "name,email,updated_at"},
		{"alias", `nodes { money: netRevenue }`, "net_revenue"},
		{"edges", `edges { cursor node { createdAt signInCount } }`, "sign_in_count,created_at"},
		{"nodes and edges", `nodes { name } edges { node { email } }`, "name,email"},
		{"named fragment", `nodes { ...F }`, "avatar,socials"},
		{"inline fragment", `nodes { ... on Customer { bouncedAt lastRequestAt } }`, "last_request_at,bounced_at"},
		{"skipped fields still asked for", `nodes { name @skip(if: true) email }`, "name,email"},
		{"contact", `nodes { contact { email } }`, "contact"},
		{"site", `nodes { site { title } }`, "site"},
		{"products need the site", `nodes { products { title } }`, "site,products"},
		{"offers need the site", `nodes { offers { title } }`, "site,offers"},
		{"every attribute", `nodes { id name email avatar externalUserId publicBio publicLocation publicWebsite
			socials { twitter } netRevenue signInCount lastRequestAt bouncedAt createdAt updatedAt }`,
			"name,email,avatar,external_user_id,public_bio,public_location,public_website,socials,net_revenue,sign_in_count,last_request_at,bounced_at,created_at,updated_at"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv.upstream.Reset()
			query := "{ customers(first: 5) { " + tc.selection + " } }"
			if strings.Contains(tc.selection, "...F") {
				query += " fragment F on Customer { avatar socials { twitter } }"
			}
			r := srv.do(t, query, nil)
			if len(r.Errors) > 0 {
				t.Fatalf("errors: %+v", r.Errors)
			}
			var got []string
			for _, req := range srv.upstream.Requests() {
				if req.Path != "/v1/customers" {
					continue
				}
				q, err := url.ParseQuery(req.RawQuery)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, q.Get("fields[customers]"))
			}
			if len(got) != 1 || got[0] != tc.want {
				t.Errorf("fields[customers] got %q, want [%s]", got, tc.want)
			}
		})
	}
}

// TestSparseFieldsKeepAnswersWhole: a sparse list still answers every selected field, a
// cursor made under one selection serves another (the scope is filter and sort only),
// and a customer looked up by id in the same request as a sparse list comes whole (a
// sparse record never primes the look-up; the order the two resolve in is not forced).
func TestSparseFieldsKeepAnswersWhole(t *testing.T) {
	srv := sandboxServer(t, 60)
	st := srv.upstream.Sandbox.Store()

	var list struct {
		Customers struct {
			PageInfo struct{ EndCursor string }
			Nodes    []struct{ ID, Name, Email, NetRevenue string }
		}
	}
	srv.mustQuery(t, `{ customers(first: 3, sort: {field: EMAIL}) { pageInfo { endCursor } nodes { id name email netRevenue } } }`, nil, &list)
	for _, n := range list.Customers.Nodes {
		c, ok := st.Customer(n.ID)
		if !ok || n.Name != c.Name || n.Email != c.Email || n.NetRevenue == "" {
			t.Errorf("customer %s: got %+v, want name %q email %q", n.ID, n, c.Name, c.Email)
		}
	}

	var next struct {
		Customers struct{ Nodes []struct{ Avatar *string } }
	}
	srv.mustQuery(t, `query($after: String) { customers(first: 2, after: $after, sort: {field: EMAIL}) { nodes { avatar } } }`,
		map[string]any{"after": list.Customers.PageInfo.EndCursor}, &next)
	if len(next.Customers.Nodes) != 2 {
		t.Errorf("after a cursor of another selection: got %d customers, want 2", len(next.Customers.Nodes))
	}

	id := list.Customers.Nodes[0].ID
	var both struct {
		Customers struct{ Nodes []struct{ ID string } }
		Customer  struct{ Name, Email, CreatedAt string }
	}
	srv.mustQuery(t, `query($id: ID!) { customers(first: 3, sort: {field: EMAIL}) { nodes { id } } customer(id: $id) { name email createdAt } }`,
		map[string]any{"id": id}, &both)
	c, _ := st.Customer(id)
	if both.Customer.Name != c.Name || both.Customer.Email != c.Email || both.Customer.CreatedAt == "" {
		t.Errorf("customer(id) after a sparse list: got %+v, want name %q email %q", both.Customer, c.Name, c.Email)
	}
}

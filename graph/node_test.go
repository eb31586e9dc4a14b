package graph_test

import (
	"encoding/base64"
	"encoding/json"
	"testing"

	"github.com/kajabi-graphql/facade/graph"
)

// TestNodeRefetchesEveryType reads one object of each Node type from the ordinary fields,
// then refetches it by its nodeId alone: the same object comes back, and its Kajabi id
// is untouched.
func TestNodeRefetchesEveryType(t *testing.T) {
	srv := sandboxServer(t, 5)
	type ref struct{ ID, NodeID string }
	var data struct {
		Customers struct {
			Nodes []struct {
				ID, NodeID string
				Contact    ref
				Site       ref
				Products   []ref
				Offers     []ref
			}
		}
	}
	srv.mustQuery(t, `{ customers(page: {size: 5}) { nodes { id nodeId contact { id nodeId }
		site { id nodeId } products { id nodeId } offers { id nodeId } } } }`, nil, &data)
	objects := map[string]ref{}
	for _, c := range data.Customers.Nodes {
		objects["Customer"] = ref{c.ID, c.NodeID}
		objects["Contact"] = c.Contact
		objects["Site"] = c.Site
		if len(c.Products) > 0 {
			objects["Product"] = c.Products[0]
		}
		if len(c.Offers) > 0 {
			objects["Offer"] = c.Offers[0]
		}
	}
	for _, typename := range []string{"Customer", "Contact", "Site", "Product", "Offer"} {
		t.Run(typename, func(t *testing.T) {
			obj, ok := objects[typename]
			if !ok {
				t.Fatalf("got no %s in the sandbox's first customers, want one", typename)
			}
			if want := base64.StdEncoding.EncodeToString([]byte(typename + ":" + obj.ID)); obj.NodeID != want {
				t.Errorf("got nodeId %q, want %q", obj.NodeID, want)
			}
			var got struct {
				Node *struct{ Typename, ID, NodeID string } `json:"node"`
			}
			srv.mustQuery(t, `query($id: ID!) { node(id: $id) { typename: __typename nodeId
				... on Customer { id } ... on Contact { id } ... on Site { id } ... on Product { id } ... on Offer { id } } }`,
				map[string]any{"id": obj.NodeID}, &got)
			if got.Node == nil || got.Node.Typename != typename || got.Node.ID != obj.ID || got.Node.NodeID != obj.NodeID {
				t.Errorf("got %+v, want %s %s", got.Node, typename, obj.ID)
			}
		})
	}
}

// TestNodeRefusesIDsItDidNotIssue: a global id that is not base64, names no Node type or
// carries no Kajabi id is BAD_USER_INPUT with no Kajabi call; a well-formed id of a record
// that does not exist is null with NOT_FOUND.
func TestNodeRefusesIDsItDidNotIssue(t *testing.T) {
	srv := sandboxServer(t, 5)
	enc := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	cases := []struct {
		name, id, code string
		calls          bool
	}{
		{"kajabi id", "105000", graph.CodeBadUserInput, false},
		{"not base64", "Q3VzdG9tZXI6MQ=!", graph.CodeBadUserInput, false},
		{"unpadded", "Q3VzdG9tZXI6MQ", graph.CodeBadUserInput, false},
		{"empty", "", graph.CodeBadUserInput, false},
		{"no colon", enc("Customer1"), graph.CodeBadUserInput, false},
		{"unknown type", enc("Purchase:1"), graph.CodeBadUserInput, false},
		{"lower-case type", enc("customer:1"), graph.CodeBadUserInput, false},
		{"path in id", enc("Customer:1/../2"), graph.CodeBadUserInput, false},
		{"empty id", enc("Customer:"), graph.CodeBadUserInput, false},
		{"missing customer", enc("Customer:999999999"), graph.CodeNotFound, true},
		{"missing offer", enc("Offer:999999999"), graph.CodeNotFound, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv.upstream.Reset()
			r := srv.do(t, `query($id: ID!) { node(id: $id) { nodeId } }`, map[string]any{"id": c.id})
			if len(r.Errors) != 1 || r.code() != c.code {
				t.Fatalf("got %+v, want one %s", r.Errors, c.code)
			}
			if p, _ := json.Marshal(r.Errors[0].Path); string(p) != `["node"]` {
				t.Errorf("got path %s, want [\"node\"]", p)
			}
			if string(r.Data) != `{"node":null}` {
				t.Errorf("got data %s, want {\"node\":null}", r.Data)
			}
			if n := srv.upstream.Calls(); (n > 0) != c.calls {
				t.Errorf("got %d Kajabi calls %v, want calls: %v", n, queries(srv.upstream), c.calls)
			}
		})
	}
}

package graph_test

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/kajabi-graphql/facade/graph"
)

// TestForgedCursorsAndIDs: cursors and global ids are readable by design, so a caller can
// write one this service never issued. Each such value is BAD_USER_INPUT before any Kajabi
// call, as is a mix of paging directions Relay leaves to the server.
func TestForgedCursorsAndIDs(t *testing.T) {
	srv := sandboxServer(t, 30)
	var got struct {
		Customers struct {
			PageInfo struct{ EndCursor string } `json:"pageInfo"`
		} `json:"customers"`
	}
	srv.mustQuery(t, `{ customers(filter: {siteId: "101"}, first: 2) { pageInfo { endCursor } } }`, nil, &got)
	real, _ := base64.RawURLEncoding.DecodeString(got.Customers.PageInfo.EndCursor)
	scope := string(real)[strings.LastIndex(string(real), ":")+1:]
	forge := func(offset string) string {
		return base64.RawURLEncoding.EncodeToString([]byte("kc1:" + offset + ":" + scope))
	}
	node := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	cursor := got.Customers.PageInfo.EndCursor
	for _, tt := range []struct{ name, query string }{
		{"cursor at the largest int", `{ customers(filter: {siteId: "101"}, first: 3, after: "` + forge("9223372036854775807") + `") { nodes { id } } }`},
		{"cursor a billion rows on", `{ customers(filter: {siteId: "101"}, first: 3, after: "` + forge("999999999") + `") { nodes { id } } }`},
		{"cursor with a leading zero", `{ customers(filter: {siteId: "101"}, first: 3, after: "` + forge("03") + `") { nodes { id } } }`},
		{"cursor with a sign", `{ customers(filter: {siteId: "101"}, last: 3, before: "` + forge("+3") + `") { nodes { id } } }`},
		{"last with after", `{ customers(filter: {siteId: "101"}, last: 1, after: "` + cursor + `") { nodes { id } } }`},
		{"first with before", `{ customers(filter: {siteId: "101"}, first: 1, before: "` + cursor + `") { nodes { id } } }`},
		{"global id with a newline", `{ node(id: "` + node("Customer:104999") + `\n") { nodeId } }`},
		{"global id with a leading zero", `{ node(id: "` + node("Customer:0104999") + `") { nodeId } }`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv.upstream.Reset()
			r := srv.do(t, tt.query, nil)
			if r.code() != graph.CodeBadUserInput {
				t.Errorf("got %+v, want BAD_USER_INPUT", r.Errors)
			}
			if n := srv.upstream.Calls(); n != 0 {
				t.Errorf("got %d Kajabi calls %v, want 0", n, queries(srv.upstream))
			}
		})
	}
}

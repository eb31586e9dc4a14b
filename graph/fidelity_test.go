package graph_test

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/kajabi-graphql/facade/graph"
	"github.com/kajabi-graphql/facade/graph/edge"
	"github.com/kajabi-graphql/facade/kajabi"
	"github.com/kajabi-graphql/facade/kajabi/kajabitest"
	"github.com/kajabi-graphql/facade/kajabi/sandbox"
)

// shapes are the two ways Kajabi's documents say a list carries its paging: the spec's
// prose examples (links first/prev/next/last and meta) and its response schemas and docs
// page (links self and current, no meta). Every test here runs in both.
var shapes = []string{sandbox.PagingFull, sandbox.PagingDocs}

func countCalls(up *kajabitest.Upstream, prefix string) int {
	n := 0
	for _, r := range up.Requests() {
		if strings.HasPrefix(r.Path, prefix) {
			n++
		}
	}
	return n
}

// TestMultiSiteAccount: on two sites a customers list without siteId is refused before any
// customers call, naming the field and the account's sites from one site-list call;
// federation's look-up by email asks each site.
func TestMultiSiteAccount(t *testing.T) {
	for _, shape := range shapes {
		t.Run(shape, func(t *testing.T) {
			up := kajabitest.NewSandbox(t, sandbox.Options{Customers: 60, Sites: 2, PagingMetadata: shape})
			srv := newTestServer(t, up, &graph.Resolver{})
			r := srv.do(t, `{ a: customers { totalCount } b: sites { id } }`, nil)
			if r.code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != "filter.siteId" ||
				!strings.Contains(r.Errors[0].Message, "101, 102") {
				t.Fatalf("got %+v, want BAD_USER_INPUT on filter.siteId listing 101, 102", r.Errors)
			}
			if got := fmt.Sprint(r.Errors[0].Extensions["siteIds"]); got != "[101 102]" {
				t.Errorf("extensions.siteIds: got %s, want [101 102]", got)
			}
			if n, s := countCalls(up, "/v1/customers"), countCalls(up, "/v1/sites"); n != 0 || s != 1 {
				t.Errorf("calls: got %d customers and %d sites, want 0 and 1", n, s)
			}

			store := up.Sandbox.Store()
			want := 0
			for _, c := range store.Customers {
				if c.SiteID == "102" {
					want++
				}
			}
			var out struct {
				Customers struct{ TotalCount *int } `json:"customers"`
			}
			srv.mustQuery(t, `{ customers(filter: {siteId: "102"}) { totalCount } }`, nil, &out)
			if out.Customers.TotalCount == nil && shape == sandbox.PagingFull || out.Customers.TotalCount != nil && *out.Customers.TotalCount != want {
				t.Errorf("site 102: got totalCount %v, want %d", out.Customers.TotalCount, want)
			}

			// By email: one call per site, the customer found on whichever it is on.
			c := store.Customers[len(store.Customers)-1]
			up.Reset()
			r = srv.do(t, `query($r: [_Any!]!) { _entities(representations: $r) { ... on Customer { id } } }`,
				map[string]any{"r": []map[string]any{{"__typename": "Customer", "email": c.Email}}})
			if len(r.Errors) > 0 || !strings.Contains(string(r.Data), `"id":"`+c.ID+`"`) {
				t.Errorf("by email: got %s %+v, want customer %s", r.Data, r.Errors, c.ID)
			}
			if n := countCalls(up, "/v1/customers"); n != 2 {
				t.Errorf("by email: got %d customers calls, want 2 (one per site)", n)
			}
		})
	}
}

// TestOneSiteAccount: on one site the list is scoped to it without being asked.
func TestOneSiteAccount(t *testing.T) {
	up := kajabitest.NewSandbox(t, sandbox.Options{Customers: 30, Sites: 1})
	srv := newTestServer(t, up, &graph.Resolver{})
	srv.mustQuery(t, `{ customers { nodes { id } } }`, nil, new(any))
	for _, r := range up.Requests() {
		if r.Path == "/v1/customers" && !strings.Contains(r.RawQuery, "filter[site_id]=101") {
			t.Errorf("got %s?%s, want filter[site_id]=101", r.Path, r.RawQuery)
		}
	}
}

type pageOut struct {
	Customers struct {
		TotalCount *int
		Nodes      []struct{ ID string }
		PageInfo   struct {
			HasNextPage, HasPreviousPage bool
			TotalPages                   *int
			StartCursor, EndCursor       *string
		}
	} `json:"customers"`
}

// TestTotalsOnlyWhenProved: with meta the totals are Kajabi's; without it they are what
// the answer proves or null, never a guess; past the end the totals are the true ones.
func TestTotalsOnlyWhenProved(t *testing.T) {
	const customers = 95 // 4 full pages of 20 and one of 15
	p := func(n int) *int { return &n }
	cases := []struct {
		shape, args         string
		wantCount, wantPage *int
		wantNodes           int
		wantNext            bool
	}{
		{sandbox.PagingFull, "page: {number: 2}", p(95), p(5), 20, true},
		{sandbox.PagingFull, "page: {number: 5}", p(95), p(5), 15, false},
		{sandbox.PagingFull, "page: {number: 300}", p(95), p(5), 0, false},
		{sandbox.PagingDocs, "page: {number: 2}", nil, nil, 20, true},
		{sandbox.PagingDocs, "page: {number: 5}", p(95), p(5), 15, false}, // a short page is the last
		{sandbox.PagingDocs, "page: {number: 300}", nil, nil, 0, false},
		{sandbox.PagingDocs, "page: {number: 1, size: 100}", p(95), p(1), 95, false},
		{sandbox.PagingDocs, "first: 19", nil, nil, 19, true}, // a full page: rows may follow
	}
	servers := map[string]*testServer{}
	for _, shape := range shapes {
		servers[shape] = newTestServer(t, kajabitest.NewSandbox(t, sandbox.Options{Customers: customers, PagingMetadata: shape}), &graph.Resolver{})
	}
	for _, tc := range cases {
		t.Run(tc.shape+" "+tc.args, func(t *testing.T) {
			var out pageOut
			servers[tc.shape].mustQuery(t, `{ customers(`+tc.args+`) { totalCount nodes { id } pageInfo { hasNextPage totalPages } } }`, nil, &out)
			c := out.Customers
			if fmt.Sprint(deref(c.TotalCount)) != fmt.Sprint(deref(tc.wantCount)) || fmt.Sprint(deref(c.PageInfo.TotalPages)) != fmt.Sprint(deref(tc.wantPage)) {
				t.Errorf("got totalCount %v totalPages %v, want %v %v", deref(c.TotalCount), deref(c.PageInfo.TotalPages), deref(tc.wantCount), deref(tc.wantPage))
			}
			if len(c.Nodes) != tc.wantNodes || c.PageInfo.HasNextPage != tc.wantNext {
				t.Errorf("got %d nodes, hasNextPage %v; want %d, %v", len(c.Nodes), c.PageInfo.HasNextPage, tc.wantNodes, tc.wantNext)
			}
		})
	}
}

func deref(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}

// TestBackwardPaging walks a filtered list forward with first/after and back with
// last/before, in both shapes, and checks both walks give the REST order, with
// hasPreviousPage and hasNextPage true exactly where rows lie beyond.
func TestBackwardPaging(t *testing.T) {
	for _, shape := range shapes {
		t.Run(shape, func(t *testing.T) {
			up := kajabitest.NewSandbox(t, sandbox.Options{Customers: 120, PagingMetadata: shape})
			srv := newTestServer(t, up, &graph.Resolver{})
			const args = `filter: {subscribed: true}, sort: {field: EMAIL}`
			var all pageOut
			srv.mustQuery(t, `{ customers(`+args+`, first: 100) { nodes { id } pageInfo { hasNextPage } } }`, nil, &all)
			want := all.Customers.Nodes
			if len(want) < 20 || all.Customers.PageInfo.HasNextPage && len(want) < 100 {
				t.Fatalf("got %d subscribed customers, want 20 to 99 for this test", len(want))
			}

			var back []string
			var before *string
			for i := 0; i < 50; i++ {
				var out pageOut
				srv.mustQuery(t, `query($b: String) { customers(`+args+`, last: 7, before: $b) { nodes { id } pageInfo { hasNextPage hasPreviousPage startCursor } } }`,
					map[string]any{"b": before}, &out)
				c := out.Customers
				ids := make([]string, len(c.Nodes))
				for j, n := range c.Nodes {
					ids[j] = n.ID
				}
				back = append(ids, back...)
				if c.PageInfo.HasNextPage != (before != nil) {
					t.Errorf("page %d: hasNextPage %v, want %v", i, c.PageInfo.HasNextPage, before != nil)
				}
				if c.PageInfo.HasPreviousPage != (len(back) < len(want)) {
					t.Errorf("page %d: hasPreviousPage %v with %d of %d read", i, c.PageInfo.HasPreviousPage, len(back), len(want))
				}
				if !c.PageInfo.HasPreviousPage {
					break
				}
				before = c.PageInfo.StartCursor
			}
			wantIDs := make([]string, len(want))
			for i, n := range want {
				wantIDs[i] = n.ID
			}
			if fmt.Sprint(back) != fmt.Sprint(wantIDs) {
				t.Errorf("backward walk got\n %v\nwant\n %v", back, wantIDs)
			}
		})
	}
}

// TestAcceptedBoundaryValuesReachKajabi: the edges of what the facade accepts are values
// the sandbox applies; it answers 400 to any it cannot read, so none is silently dropped.
// (TestCustomerArgumentsReachKajabiExactly sends every filter of the table the same way.)
func TestAcceptedBoundaryValuesReachKajabi(t *testing.T) {
	up := kajabitest.NewSandbox(t, sandbox.Options{Customers: 10})
	srv := newTestServer(t, up, &graph.Resolver{})
	for _, filter := range []string{
		`createdInLast: 0`, `createdInLast: 36500`, `notCreatedInLast: 36500`,
		`netRevenueGreaterThan: "0"`, `netRevenueGreaterThan: "99.9"`, `netRevenueLessThan: "99.99"`,
		`netRevenueEqualTo: "1234567890123.45"`, `netRevenueEqualTo: 100`, `search: " a "`,
		`hasAllTagId: ["1"]`, `noSentEmailBroadcastIds: ["1", "2"]`,
	} {
		if r := srv.do(t, `{ customers(filter: {`+filter+`}) { nodes { id } } }`, nil); len(r.Errors) > 0 {
			t.Errorf("%s: got %+v, want it applied", filter, r.Errors)
		}
	}
}

// TestRefusedNotWidened: values Kajabi would drop or misread are refused with 0 calls.
func TestRefusedNotWidened(t *testing.T) {
	up := kajabitest.NewSandbox(t, sandbox.Options{Customers: 10})
	srv := newTestServer(t, up, &graph.Resolver{})
	cases := []struct{ filter, field string }{
		{`netRevenueGreaterThan: "100.005"`, "filter.netRevenueGreaterThan"},
		{`netRevenueLessThan: "100.000"`, "filter.netRevenueLessThan"},
		{`netRevenueEqualTo: "12345678901234"`, "filter.netRevenueEqualTo"},
		{`createdInLast: 36501`, "filter.createdInLast"},
		{`search: "  "`, "filter.search"},
		{`nameContains: ""`, "filter.nameContains"},
		{`hasAllTagId: []`, "filter.hasAllTagId"},
		{`noSentEmailBroadcastIds: []`, "filter.noSentEmailBroadcastIds"},
	}
	for _, tc := range cases {
		t.Run(tc.filter, func(t *testing.T) {
			up.Reset()
			r := srv.do(t, `{ customers(filter: {`+tc.filter+`}) { totalCount } }`, nil)
			if r.code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != tc.field {
				t.Errorf("got %+v, want BAD_USER_INPUT on %s", r.Errors, tc.field)
			}
			if n := up.Calls(); n != 0 {
				t.Errorf("got %d Kajabi calls, want 0", n)
			}
		})
	}
}

// TestRestrictedKeyIsForbiddenWherePermissionLacks: a key without view:contacts gets
// FORBIDDEN at each contact's path; the rest of the query completes.
func TestRestrictedKeyIsForbiddenWherePermissionLacks(t *testing.T) {
	up := kajabitest.NewSandbox(t, sandbox.Options{Customers: 10})
	client := up.Client(t, kajabi.WithClientCredentials(sandbox.RestrictedClientID, sandbox.RestrictedClientSecret))
	srv := httptest.NewServer(edge.NewHandler(&graph.Resolver{Client: client}, edge.HandlerOptions{}))
	t.Cleanup(srv.Close)
	ts := &testServer{url: srv.URL + "/graphql", upstream: up}
	r := ts.do(t, `{ customers(first: 3) { nodes { id email contact { email } site { title } } } }`, nil)
	var data struct {
		Customers struct {
			Nodes []struct {
				ID      string
				Email   string
				Contact *struct{ Email string }
				Site    *struct{ Title string }
			}
		}
	}
	if err := json.Unmarshal(r.Data, &data); err != nil {
		t.Fatal(err)
	}
	if len(data.Customers.Nodes) != 3 || len(r.Errors) != 3 {
		t.Fatalf("got %d nodes and %d errors, want 3 and 3: %s %+v", len(data.Customers.Nodes), len(r.Errors), r.Data, r.Errors)
	}
	paths := map[string]bool{}
	for _, e := range r.Errors {
		if e.Extensions["code"] != "FORBIDDEN" {
			t.Errorf("got %s at %v, want FORBIDDEN", e.Extensions["code"], e.Path)
		}
		paths[fmt.Sprint(e.Path)] = true
	}
	for i, n := range data.Customers.Nodes {
		if n.Email == "" || n.Site == nil || n.Contact != nil {
			t.Errorf("node %d: got %+v, want email and site, contact null", i, n)
		}
		if want := fmt.Sprintf("[customers nodes %d contact]", i); !paths[want] {
			t.Errorf("no error at %s; got %v", want, paths)
		}
	}
}

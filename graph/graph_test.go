package graph_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kajabi-graphql/facade/graph"
	"github.com/kajabi-graphql/facade/graph/edge"
	"github.com/kajabi-graphql/facade/kajabi"
	"github.com/kajabi-graphql/facade/kajabi/kajabitest"
	"github.com/kajabi-graphql/facade/kajabi/sandbox"
)

// testServer is the real GraphQL handler on loopback, in front of a recording upstream.
type testServer struct {
	url      string
	upstream *kajabitest.Upstream
}

func newTestServer(t testing.TB, up *kajabitest.Upstream, resolver *graph.Resolver) *testServer {
	t.Helper()
	if resolver.Client == nil {
		resolver.Client = up.Client(t)
	}
	srv := httptest.NewServer(edge.NewHandler(resolver, edge.HandlerOptions{Introspection: true}))
	t.Cleanup(srv.Close)
	return &testServer{url: srv.URL + "/graphql", upstream: up}
}

// sandboxServer runs the GraphQL handler on a small sandbox.
func sandboxServer(t *testing.T, customers int) *testServer {
	t.Helper()
	return newTestServer(t, kajabitest.NewSandbox(t, sandbox.Options{Customers: customers}), &graph.Resolver{})
}

type gqlError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

type gqlResponse struct {
	Data   json.RawMessage `json:"data"`
	Errors []gqlError      `json:"errors"`
}

func (r gqlResponse) code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	code, _ := r.Errors[0].Extensions["code"].(string)
	return code
}

func (s *testServer) do(t *testing.T, query string, vars map[string]any) gqlResponse {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	resp, err := http.Post(s.url, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out gqlResponse
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("status %d, body %s: %v", resp.StatusCode, raw, err)
	}
	return out
}

// mustQuery runs a query that must succeed and decodes its data into v.
func (s *testServer) mustQuery(t *testing.T, query string, vars map[string]any, v any) {
	t.Helper()
	r := s.do(t, query, vars)
	if len(r.Errors) > 0 {
		t.Fatalf("query failed: %+v", r.Errors)
	}
	if err := json.Unmarshal(r.Data, v); err != nil {
		t.Fatalf("decode %s: %v", r.Data, err)
	}
}

func queries(up *kajabitest.Upstream) []string {
	var out []string
	for _, r := range up.Requests() {
		out = append(out, r.Path+"?"+r.RawQuery)
	}
	return out
}

// TestCustomerArgumentsReachKajabiExactly sends every filter, each sort and the paging
// arguments through the real handler and checks the exact query string Kajabi receives.
func TestCustomerArgumentsReachKajabiExactly(t *testing.T) {
	srv := sandboxServer(t, 300)
	const page = "page[number]=1&page[size]=20"
	// The queries select only ids, which every resource carries: the smallest attribute
	// stands in, since an empty fields[customers] would mean all of them.
	const list = "/v1/customers?fields[customers]=name&"
	filters := []struct {
		arg  string
		want string
	}{
		{`siteId: "77"`, "filter[site_id]=77"},
		{`search: "Main St"`, "filter[search]=Main+St"},
		{`createdInLast: 0`, "filter[created_in_last]=0"},
		{`notCreatedInLast: 30`, "filter[not_created_in_last]=30"},
		{`isHidden: true`, "filter[is_hidden]=true"},
		{`joinedInLast: 30`, "filter[joined_in_last]=30"},
		{`activeInLast: 30`, "filter[active_in_last]=30"},
		{`inactiveInLast: 30`, "filter[inactive_in_last]=30"},
		{`nameContains: "Main St"`, "filter[name_contains]=Main+St"},
		{`emailContains: "Main St"`, "filter[email_contains]=Main+St"},
		{`phoneNumberContains: "Main St"`, "filter[phone_number_contains]=Main+St"},
		{`addressLine1Contains: "Main St"`, "filter[address_line_1_contains]=Main+St"},
		{`addressLine2Contains: "Main St"`, "filter[address_line_2_contains]=Main+St"},
		{`addressCityContains: "Main St"`, "filter[address_city_contains]=Main+St"},
		{`addressStateContains: "Main St"`, "filter[address_state_contains]=Main+St"},
		{`addressCountryContains: "Main St"`, "filter[address_country_contains]=Main+St"},
		{`addressZipContains: "Main St"`, "filter[address_zip_contains]=Main+St"},
		{`hasTagId: "77"`, "filter[has_tag_id]=77"},
		{`hasAllTagId: ["3", "4"]`, "filter[has_all_tag_id]=3,4"},
		{`hasNoTagId: "77"`, "filter[has_no_tag_id]=77"},
		{`subscribed: false`, "filter[subscribed]=false"},
		{`hasOfferId: "77"`, "filter[has_offer_id]=77"},
		{`hasNoOfferId: "77"`, "filter[has_no_offer_id]=77"},
		{`hasProductId: "77"`, "filter[has_product_id]=77"},
		{`hasActiveProductId: "77"`, "filter[has_active_product_id]=77"},
		{`hasNoProductId: "77"`, "filter[has_no_product_id]=77"},
		{`previouslyOwnedProductId: "77"`, "filter[previously_owned_product_id]=77"},
		{`usedCouponCode: "Main St"`, "filter[used_coupon_code]=Main+St"},
		{`submittedFormId: "77"`, "filter[submitted_form_id]=77"},
		{`noSubmittedFormId: "77"`, "filter[no_submitted_form_id]=77"},
		{`registeredEventId: "77"`, "filter[registered_event_id]=77"},
		{`notRegisteredEventId: "77"`, "filter[not_registered_event_id]=77"},
		{`completedAssessmentId: "77"`, "filter[completed_assessment_id]=77"},
		{`passedAssessmentId: "77"`, "filter[passed_assessment_id]=77"},
		{`failedAssessmentId: "77"`, "filter[failed_assessment_id]=77"},
		{`netRevenueEqualTo: "149.50"`, "filter[net_revenue_equal_to]=149.50"},
		{`netRevenueGreaterThan: "149.50"`, "filter[net_revenue_greater_than]=149.50"},
		{`netRevenueLessThan: "20"`, "filter[net_revenue_less_than]=20"},
		{`subscribedInLast: 30`, "filter[subscribed_in_last]=30"},
		{`unsubscribedInLast: 30`, "filter[unsubscribed_in_last]=30"},
		{`neverSubscribed: true`, "filter[never_subscribed]=true"},
		{`sentEmailBroadcastId: "77"`, "filter[sent_email_broadcast_id]=77"},
		{`noSentEmailBroadcastId: "77"`, "filter[no_sent_email_broadcast_id]=77"},
		{`noSentEmailBroadcastIds: ["10", "11", "12"]`, "filter[no_sent_email_broadcast_ids]=10,11,12"},
		{`noDeliveredEmailBroadcastId: "77"`, "filter[no_delivered_email_broadcast_id]=77"},
		{`openedEmailBroadcastId: "77"`, "filter[opened_email_broadcast_id]=77"},
		{`noOpenedEmailBroadcastId: "77"`, "filter[no_opened_email_broadcast_id]=77"},
		{`clickedEmailBroadcastId: "77"`, "filter[clicked_email_broadcast_id]=77"},
		{`noClickedEmailBroadcastId: "77"`, "filter[no_clicked_email_broadcast_id]=77"},
		{`bouncedEmailBroadcastId: "77"`, "filter[bounced_email_broadcast_id]=77"},
		{`noBouncedEmailBroadcastId: "77"`, "filter[no_bounced_email_broadcast_id]=77"},
		{`droppedEmailBroadcastId: "77"`, "filter[dropped_email_broadcast_id]=77"},
		{`noDroppedEmailBroadcastId: "77"`, "filter[no_dropped_email_broadcast_id]=77"},
		{`openedEmailInLast: 30`, "filter[opened_email_in_last]=30"},
		{`notOpenedEmailInLast: 30`, "filter[not_opened_email_in_last]=30"},
		{`deliveredEmailInLast: 30`, "filter[delivered_email_in_last]=30"},
		{`notDeliveredEmailInLast: 30`, "filter[not_delivered_email_in_last]=30"},
		{`clickedEmailInLast: 30`, "filter[clicked_email_in_last]=30"},
		{`notClickedEmailInLast: 30`, "filter[not_clicked_email_in_last]=30"},
		{`isHardBouncing: true`, "filter[is_hard_bouncing]=true"},
		{`bouncedInLast: 30`, "filter[bounced_in_last]=30"},
		{`complainedInLast: 30`, "filter[complained_in_last]=30"},
		{`manuallyUnsubscribedInLast: 30`, "filter[manually_unsubscribed_in_last]=30"},
		{`optedOutInLast: 30`, "filter[opted_out_in_last]=30"},
		{`healthyContactsWithOpenData: true`, "filter[healthy_contacts_with_open_data]=true"},
		{`passiveContactsWithOpenData: true`, "filter[passive_contacts_with_open_data]=true"},
		{`unengagedContactsWithOpenData: true`, "filter[unengaged_contacts_with_open_data]=true"},
		{`inactiveContactsWithOpenData: true`, "filter[inactive_contacts_with_open_data]=true"},
		{`subscribedNewsletterId: "77"`, "filter[subscribed_newsletter_id]=77"},
		{`unsubscribedNewsletterId: "77"`, "filter[unsubscribed_newsletter_id]=77"},
		{`mobilePhoneNumberContains: "Main St"`, "filter[mobile_phone_number_contains]=Main+St"},
		{`subscribedEmailSequenceId: "77"`, "filter[subscribed_email_sequence_id]=77"},
		{`notSubscribedEmailSequenceId: "77"`, "filter[not_subscribed_email_sequence_id]=77"},
		{`isSuppressed: true`, "filter[is_suppressed]=true"},
	}
	if len(filters) != 74 {
		t.Fatalf("table has %d filters, want all 73 of the spec plus isSuppressed", len(filters))
	}
	type tc struct {
		name, args string
		want       []string
	}
	var cases []tc
	for _, f := range filters {
		cases = append(cases, tc{"filter " + f.arg, "filter: {" + f.arg + "}", []string{list + f.want + "&" + page}})
	}
	for _, s := range []struct{ field, key string }{
		{"NAME", "name"}, {"EMAIL", "email"}, {"CREATED_AT", "created_at"}, {"NET_REVENUE", "net_revenue"}, {"LAST_REQUEST_AT", "last_request_at"},
	} {
		cases = append(cases,
			tc{"sort " + s.field, "sort: {field: " + s.field + "}", []string{list + page + "&sort=" + s.key}},
			tc{"sort " + s.field + " DESC", "sort: {field: " + s.field + ", direction: DESC}", []string{list + page + "&sort=-" + s.key}},
		)
	}
	cases = append(cases,
		tc{"no arguments", "", []string{list + page}},
		tc{"page", "page: {number: 3, size: 50}", []string{list + "page[number]=3&page[size]=50"}},
		tc{"page defaults", "page: {}", []string{list + page}},
		tc{"first", "first: 7", []string{list + "page[number]=1&page[size]=7"}},
		tc{"several filters with sort and page", `filter: {siteId: "1", search: "ann", subscribed: true}, sort: {field: NAME}, page: {number: 2, size: 10}`,
			[]string{list + "filter[search]=ann&filter[site_id]=1&filter[subscribed]=true&page[number]=2&page[size]=10&sort=name"}},
	)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv.upstream.Reset()
			args := ""
			if c.args != "" {
				args = "(" + c.args + ")"
			}
			r := srv.do(t, "{ customers"+args+" { totalCount nodes { id } } }", nil)
			if len(r.Errors) > 0 {
				t.Fatalf("errors: %+v", r.Errors)
			}
			// The account has one site, so a list without siteId is scoped to it (after
			// one look at the site list): Kajabi wants filter[site_id] on accounts with
			// several, and scoping one-site accounts too makes the rule one.
			var got []string
			for _, q := range queries(srv.upstream) {
				if !strings.HasPrefix(q, "/v1/sites?") {
					got = append(got, q)
				}
			}
			if want := withSite(c.want, "101"); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("upstream got\n %v\nwant\n %v", got, want)
			}
		})
	}
}

// withSite adds filter[site_id]=site to each list URL that has none, where the client's
// encoder puts it (keys in order).
func withSite(urls []string, site string) []string {
	out := make([]string, len(urls))
	for i, u := range urls {
		path, query, _ := strings.Cut(u, "?")
		params := strings.Split(query, "&")
		if !strings.Contains(query, "filter[site_id]=") {
			params = append(params, "filter[site_id]="+site)
		}
		slices.SortStableFunc(params, func(a, b string) int {
			ka, _, _ := strings.Cut(a, "=")
			kb, _, _ := strings.Cut(b, "=")
			return strings.Compare(ka, kb)
		})
		out[i] = path + "?" + strings.Join(params, "&")
	}
	return out
}

type connection struct {
	TotalCount int `json:"totalCount"`
	PageInfo   struct {
		HasNextPage     bool    `json:"hasNextPage"`
		HasPreviousPage bool    `json:"hasPreviousPage"`
		StartCursor     *string `json:"startCursor"`
		EndCursor       *string `json:"endCursor"`
		CurrentPage     int     `json:"currentPage"`
		TotalPages      int     `json:"totalPages"`
		PageSize        int     `json:"pageSize"`
	} `json:"pageInfo"`
	Edges []struct {
		Cursor string `json:"cursor"`
		Node   struct {
			ID string `json:"id"`
		} `json:"node"`
	} `json:"edges"`
	Nodes []struct {
		ID    string `json:"id"`
		Email string `json:"email"`
	} `json:"nodes"`
}

const connectionFields = `totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor currentPage totalPages pageSize }
	edges { cursor node { id } } nodes { id email }`

// TestCursorWindowStraddlingKajabiPages asks for a window that starts in the middle of a
// Kajabi page: both pages are fetched and spliced, whole and in order.
func TestCursorWindowStraddlingKajabiPages(t *testing.T) {
	srv := sandboxServer(t, 300)
	const sort = "sort: {field: EMAIL}"
	var all struct {
		Customers connection `json:"customers"`
	}
	srv.mustQuery(t, "{ customers("+sort+", page: {size: 100}) { "+connectionFields+" } }", nil, &all)

	var first struct {
		Customers connection `json:"customers"`
	}
	srv.mustQuery(t, "{ customers("+sort+", first: 3) { "+connectionFields+" } }", nil, &first)
	srv.upstream.Reset()

	var next struct {
		Customers connection `json:"customers"`
	}
	srv.mustQuery(t, `query($after: String) { customers(`+sort+`, first: 4, after: $after) { `+connectionFields+` } }`,
		map[string]any{"after": first.Customers.PageInfo.EndCursor}, &next)

	// Rows 3..6 (0-based) in pages of 4 are the end of page 1 and the start of page 2;
	// the query reads the customers' ids and emails.
	want := withSite([]string{
		"/v1/customers?fields[customers]=email&page[number]=1&page[size]=4&sort=email",
		"/v1/customers?fields[customers]=email&page[number]=2&page[size]=4&sort=email",
	}, "101")
	var got []string // the one-site account's list is scoped to its site (see withSite)
	for _, q := range queries(srv.upstream) {
		if !strings.HasPrefix(q, "/v1/sites?") {
			got = append(got, q)
		}
	}
	if len(got) != 2 || !(got[0] == want[0] && got[1] == want[1] || got[0] == want[1] && got[1] == want[0]) {
		t.Errorf("upstream got %v, want %v (in any order)", got, want)
	}
	var ids []string
	for _, n := range next.Customers.Nodes {
		ids = append(ids, n.ID)
	}
	var wantIDs []string
	for _, n := range all.Customers.Nodes[3:7] {
		wantIDs = append(wantIDs, n.ID)
	}
	if fmt.Sprint(ids) != fmt.Sprint(wantIDs) {
		t.Errorf("window got %v, want %v", ids, wantIDs)
	}
	pi := next.Customers.PageInfo
	if !pi.HasNextPage || !pi.HasPreviousPage || pi.PageSize != 4 || next.Customers.TotalCount != all.Customers.TotalCount {
		t.Errorf("pageInfo %+v, totalCount %d", pi, next.Customers.TotalCount)
	}
}

// TestCursorWalkCoversTheFilteredList pages through a filtered, sorted list with
// first/after and checks the union is exactly the list: no gaps, no duplicates.
func TestCursorWalkCoversTheFilteredList(t *testing.T) {
	srv := sandboxServer(t, 500)
	const args = `filter: {subscribed: true}, sort: {field: NAME, direction: DESC}`
	var all struct {
		Customers connection `json:"customers"`
	}
	srv.mustQuery(t, "{ customers("+args+", page: {size: 100}) { "+connectionFields+" } }", nil, &all)
	total := all.Customers.TotalCount
	if total <= 30 || total >= 500 {
		t.Fatalf("filter matched %d of 500; the walk needs a proper subset", total)
	}
	var want []string
	for p := 1; len(want) < total; p++ {
		var page struct {
			Customers connection `json:"customers"`
		}
		srv.mustQuery(t, fmt.Sprintf("{ customers(%s, page: {number: %d, size: 100}) { %s } }", args, p, connectionFields), nil, &page)
		for _, n := range page.Customers.Nodes {
			want = append(want, n.ID)
		}
	}

	var got []string
	var after any
	for step := 0; step < 100; step++ {
		var page struct {
			Customers connection `json:"customers"`
		}
		srv.mustQuery(t, `query($after: String) { customers(`+args+`, first: 13, after: $after) { `+connectionFields+` } }`,
			map[string]any{"after": after}, &page)
		for i, e := range page.Customers.Edges {
			got = append(got, e.Node.ID)
			if page.Customers.Nodes[i].ID != e.Node.ID {
				t.Fatalf("edges and nodes disagree at %d", i)
			}
		}
		if !page.Customers.PageInfo.HasNextPage {
			break
		}
		after = *page.Customers.PageInfo.EndCursor
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("walk got %d ids, want %d; first difference matters:\n got %v\nwant %v", len(got), len(want), got, want)
	}
}

// TestBadInputCostsNoUpstreamCall checks each input mistake gets BAD_USER_INPUT with a
// message naming the field, and that Kajabi is never called for it.
func TestBadInputCostsNoUpstreamCall(t *testing.T) {
	srv := sandboxServer(t, 100)
	var first struct {
		Customers connection `json:"customers"`
	}
	srv.mustQuery(t, `{ customers(filter: {subscribed: true}, first: 2) { `+connectionFields+` } }`, nil, &first)
	otherCursor := *first.Customers.PageInfo.EndCursor

	tests := []struct {
		name, query string
		vars        map[string]any
		mention     string
	}{
		{"negative days", `{ customers(filter: {createdInLast: -1}) { totalCount } }`, nil, "filter.createdInLast"},
		{"negative days in a variable", `query($f: CustomerFilter) { customers(filter: $f) { totalCount } }`,
			map[string]any{"f": map[string]any{"notOpenedEmailInLast": -30}}, "filter.notOpenedEmailInLast"},
		{"page size 0", `{ customers(page: {size: 0}) { totalCount } }`, nil, "page.size"},
		{"page size 101", `{ customers(page: {size: 101}) { totalCount } }`, nil, "page.size"},
		{"page number 0", `{ customers(page: {number: 0}) { totalCount } }`, nil, "page.number"},
		{"first 0", `{ customers(first: 0) { totalCount } }`, nil, "first"},
		{"first 101", `{ customers(first: 101) { totalCount } }`, nil, "first"},
		{"malformed decimal", `{ customers(filter: {netRevenueGreaterThan: "12,50"}) { totalCount } }`, nil, "Decimal"},
		{"decimal with letters in a variable", `query($f: CustomerFilter) { customers(filter: $f) { totalCount } }`,
			map[string]any{"f": map[string]any{"netRevenueLessThan": "1e5"}}, "Decimal"},
		{"unknown enum value", `{ customers(sort: {field: PRICE}) { totalCount } }`, nil, "PRICE"},
		{"unknown enum value in a variable", `query($s: CustomerSort) { customers(sort: $s) { totalCount } }`,
			map[string]any{"s": map[string]any{"field": "NAME", "direction": "SIDEWAYS"}}, "SIDEWAYS"},
		{"page with first", `{ customers(page: {number: 1}, first: 5) { totalCount } }`, nil, "page"},
		{"cursor from another filter", `query($a: String) { customers(filter: {subscribed: false}, first: 2, after: $a) { totalCount } }`,
			map[string]any{"a": otherCursor}, "after"},
		{"cursor from another sort", `query($a: String) { customers(filter: {subscribed: true}, sort: {field: NAME}, first: 2, after: $a) { totalCount } }`,
			map[string]any{"a": otherCursor}, "after"},
		{"forged cursor", `{ customers(first: 2, after: "b2theW91LWZvdW5kLWl0") { totalCount } }`, nil, "after"},
		{"comma inside an id list", `{ customers(filter: {hasAllTagId: ["1,2"]}) { totalCount } }`, nil, "filter.hasAllTagId"},
		{"string for an Int", `{ customers(first: "ten") { totalCount } }`, nil, "Int"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv.upstream.Reset()
			r := srv.do(t, tt.query, tt.vars)
			if r.code() != graph.CodeBadUserInput {
				t.Fatalf("got code %q (%+v), want BAD_USER_INPUT", r.code(), r.Errors)
			}
			if !strings.Contains(r.Errors[0].Message, tt.mention) {
				t.Errorf("message %q does not mention %q", r.Errors[0].Message, tt.mention)
			}
			if n := srv.upstream.Calls(); n != 0 {
				t.Errorf("got %d upstream calls, want 0", n)
			}
		})
	}
}

// TestCustomerAttributes checks every attribute arrives typed as the schema says.
func TestCustomerAttributes(t *testing.T) {
	srv := sandboxServer(t, 50)
	var out struct {
		Customers struct {
			Nodes []map[string]any `json:"nodes"`
		} `json:"customers"`
	}
	srv.mustQuery(t, `{ customers(page: {size: 50}) { nodes {
		id name email avatar externalUserId publicBio publicLocation publicWebsite
		socials { twitter facebook instagram } netRevenue signInCount
		lastRequestAt bouncedAt createdAt updatedAt } } }`, nil, &out)
	if len(out.Customers.Nodes) != 50 {
		t.Fatalf("got %d customers, want 50", len(out.Customers.Nodes))
	}
	store := srv.upstream.Sandbox.Store()
	byID := map[string]bool{}
	for _, c := range store.Customers {
		byID[c.ID] = true
	}
	for _, n := range out.Customers.Nodes {
		if !byID[n["id"].(string)] {
			t.Errorf("customer %v is not in the sandbox store", n["id"])
		}
		for _, field := range []string{"createdAt", "updatedAt"} {
			s, _ := n[field].(string)
			if _, err := time.Parse(time.RFC3339, s); err != nil || !strings.HasSuffix(s, "Z") {
				t.Errorf("%s = %q, want an RFC 3339 UTC timestamp", field, s)
			}
		}
		if rev, ok := n["netRevenue"].(string); !ok || !strings.Contains(rev, ".") {
			t.Errorf("netRevenue = %#v, want a decimal string", n["netRevenue"])
		}
		if _, ok := n["signInCount"].(float64); !ok {
			t.Errorf("signInCount = %#v, want a number", n["signInCount"])
		}
	}
}

// TestUpstreamFailuresBecomeCodes scripts Kajabi's failures and checks each one's code.
func TestUpstreamFailuresBecomeCodes(t *testing.T) {
	tests := []struct {
		status     int
		wantCode   string
		wantStatus int
	}{
		{401, graph.CodeUnauthenticated, 401},
		{403, graph.CodeForbidden, 403},
		{404, graph.CodeNotFound, 404},
		{429, graph.CodeRateLimited, 429},
		{500, graph.CodeUpstreamUnavailable, 500},
		{502, graph.CodeUpstreamUnavailable, 502},
		{503, graph.CodeUpstreamUnavailable, 503},
		{504, graph.CodeUpstreamUnavailable, 504},
		{422, graph.CodeUpstreamError, 422},
		{0, graph.CodeUpstreamError, 0},        // 200 with a body that is not JSON:API
		{-1, graph.CodeUpstreamUnavailable, 0}, // no answer in time
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.status), func(t *testing.T) {
			// A plain server: these answers break the contract on purpose.
			up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/vnd.api+json")
				switch tt.status {
				case 0:
					io.WriteString(w, `<html>maintenance</html>`)
				case -1:
					<-r.Context().Done()
				default:
					if tt.status == 429 {
						w.Header().Set("Retry-After", "3")
					}
					w.WriteHeader(tt.status)
					fmt.Fprintf(w, `{"errors":[{"status":"%d","title":"%s","detail":"scripted failure"}]}`, tt.status, http.StatusText(tt.status))
				}
			}))
			t.Cleanup(up.Close)
			client, err := kajabi.NewClient(kajabi.WithBaseURL(up.URL), kajabi.WithAccessToken("very-secret-token"),
				kajabi.WithHTTPClient(kajabi.NewHTTPClient(300*time.Millisecond)))
			if err != nil {
				t.Fatal(err)
			}
			srv := newTestServer(t, nil, &graph.Resolver{Client: client})
			r := srv.do(t, `{ customers { totalCount } }`, nil)
			if r.code() != tt.wantCode {
				t.Fatalf("got %q (%+v), want %s", r.code(), r.Errors, tt.wantCode)
			}
			e := r.Errors[0]
			if got, _ := e.Extensions["upstreamStatus"].(float64); int(got) != tt.wantStatus {
				t.Errorf("upstreamStatus = %v, want %d", e.Extensions["upstreamStatus"], tt.wantStatus)
			}
			if tt.status == 429 && e.Extensions["retryAfterSeconds"] != float64(3) {
				t.Errorf("retryAfterSeconds = %v, want 3", e.Extensions["retryAfterSeconds"])
			}
			if strings.Contains(e.Message, "very-secret-token") || strings.Contains(fmt.Sprint(e.Extensions), "very-secret-token") {
				t.Errorf("error leaks the token: %+v", e)
			}
			if fmt.Sprint(e.Path) != "[customers]" {
				t.Errorf("path = %v, want [customers]", e.Path)
			}
		})
	}
}

// TestWrongTokenAgainstTheSandbox is what a user with a mistyped KAJABI_ACCESS_TOKEN sees.
func TestWrongTokenAgainstTheSandbox(t *testing.T) {
	up := kajabitest.NewSandbox(t, sandbox.Options{Customers: 10})
	client := up.Client(t, kajabi.WithAccessToken("not-a-real-token"))
	srv := newTestServer(t, up, &graph.Resolver{Client: client})
	r := srv.do(t, `{ customers { totalCount } }`, nil)
	if r.code() != graph.CodeUnauthenticated {
		t.Fatalf("got %q (%+v), want UNAUTHENTICATED", r.code(), r.Errors)
	}
	if !strings.Contains(r.Errors[0].Message, "401") {
		t.Errorf("message %q should say Kajabi answered 401", r.Errors[0].Message)
	}
	if strings.Contains(r.Errors[0].Message, "not-a-real-token") {
		t.Errorf("message leaks the token: %q", r.Errors[0].Message)
	}
}

// TestDefaultSiteID checks KAJABI_SITE_ID fills siteId unless the caller gives one.
func TestDefaultSiteID(t *testing.T) {
	up := kajabitest.NewSandbox(t, sandbox.Options{Customers: 20})
	srv := newTestServer(t, up, &graph.Resolver{DefaultSiteID: "55"})
	for _, c := range []struct{ args, want string }{
		{"", "/v1/customers?fields[customers]=name&filter[site_id]=55&page[number]=1&page[size]=20"},
		{`(filter: {siteId: "66"})`, "/v1/customers?fields[customers]=name&filter[site_id]=66&page[number]=1&page[size]=20"},
	} {
		up.Reset()
		srv.do(t, "{ customers"+c.args+" { totalCount } }", nil)
		if got := queries(up); len(got) != 1 || got[0] != c.want {
			t.Errorf("got %v, want [%s]", got, c.want)
		}
	}
}

package graph_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/kajabi-graphql/facade/graph"
	"github.com/kajabi-graphql/facade/graph/edge"
	"github.com/kajabi-graphql/facade/kajabi/kajabitest"
	"github.com/kajabi-graphql/facade/kajabi/sandbox"
)

// historyServer is the real handler over a small sandbox, with mutations on or off and,
// when keys are given, in service mode.
func historyServer(t *testing.T, mutations bool, keys ...string) *testServer {
	t.Helper()
	up := kajabitest.NewSandbox(t, sandbox.Options{Customers: 60})
	opts := edge.HandlerOptions{Introspection: true}
	if len(keys) > 0 {
		k, err := edge.NewAPIKeys(keys)
		if err != nil {
			t.Fatal(err)
		}
		opts.APIKeys = k
	}
	r := &graph.Resolver{Client: up.Client(t), Mutations: mutations, DefaultSiteID: "101"} // as KAJABI_SITE_ID would
	srv := httptest.NewServer(edge.NewHandler(r, opts))
	t.Cleanup(srv.Close)
	return &testServer{url: srv.URL + "/graphql", upstream: up}
}

// doKey posts a query with an API key.
func (s *testServer) doKey(t *testing.T, key, query string, vars map[string]any) gqlResponse {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, s.url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("X-API-Key", key)
	}
	resp, err := http.DefaultClient.Do(req)
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

// TestHistoryCallBudget holds a page of 20 customers with purchases, orders and
// transactions to exactly 1 + 3 × 20 Kajabi calls, each filtered to its customer with
// page[size] = first.
func TestHistoryCallBudget(t *testing.T) {
	srv := historyServer(t, false)
	var got struct {
		Customers struct {
			Nodes []struct {
				ID           string                `json:"id"`
				Purchases    []struct{ ID string } `json:"purchases"`
				Orders       []struct{ ID string } `json:"orders"`
				Transactions []struct{ ID string } `json:"transactions"`
			} `json:"nodes"`
		} `json:"customers"`
	}
	srv.mustQuery(t, `{ customers(first: 20) { nodes { id
		purchases { id amountInCents currency status createdAt }
		orders { id orderNumber totalPriceInCents currencyCode }
		transactions(first: 5) { id action amountInCents currency }
	} } }`, nil, &got)
	if n := len(got.Customers.Nodes); n != 20 {
		t.Fatalf("got %d customers, want 20", n)
	}
	calls := queries(srv.upstream)
	if len(calls) != 1+3*20 {
		t.Fatalf("got %d Kajabi calls, want %d: %v", len(calls), 1+3*20, calls)
	}
	st := srv.upstream.Sandbox.Store()
	for _, c := range got.Customers.Nodes {
		for _, want := range []string{
			"/v1/purchases?filter[customer_id]=" + c.ID + "&page[size]=20",
			"/v1/orders?filter[customer_id]=" + c.ID + "&page[size]=20",
			"/v1/transactions?filter[customer_id]=" + c.ID + "&page[size]=5",
		} {
			if !slices.Contains(calls, want) {
				t.Errorf("no call %s among %v", want, calls)
			}
		}
		if n, want := len(c.Purchases), min(20, len(st.Purchases(c.ID))); n != want {
			t.Errorf("customer %s: got %d purchases, want %d", c.ID, n, want)
		}
		if n, want := len(c.Orders), min(20, len(st.Orders(c.ID))); n != want {
			t.Errorf("customer %s: got %d orders, want %d", c.ID, n, want)
		}
		if n, want := len(c.Transactions), min(5, len(st.Transactions(c.ID))); n != want {
			t.Errorf("customer %s: got %d transactions, want %d", c.ID, n, want)
		}
	}

	// Without the relations the page is one call: nothing is fetched unasked.
	srv.upstream.Reset()
	srv.mustQuery(t, `{ customers(first: 20) { nodes { id } } }`, nil, &got)
	if n := len(queries(srv.upstream)); n != 1 {
		t.Errorf("got %d calls without relations, want 1", n)
	}
}

// customerWithHistory is a sandbox customer with a paid, a revoked purchase or at least
// transactions and a note, so every read has data.
func customerWithHistory(t *testing.T, st *sandbox.Store) sandbox.Customer {
	t.Helper()
	for _, c := range st.Customers {
		if len(st.Orders(c.ID)) > 0 && len(st.Transactions(c.ID)) > 1 && len(st.ContactOf(&c).TagIDs) > 0 && len(st.Notes(c.ContactID)) > 0 {
			return c
		}
	}
	t.Fatal("no customer with orders, transactions, tags and notes in the sandbox")
	return sandbox.Customer{}
}

func TestHistoryReads(t *testing.T) {
	srv := historyServer(t, false)
	st := srv.upstream.Sandbox.Store()
	c := customerWithHistory(t, st)
	var got struct {
		Customer struct {
			Purchases []struct {
				ID            string
				AmountInCents int
				Currency      string
				Offer         struct{ ID, Title string }
				Customer      struct{ ID string }
			}
			Active []struct{ ID string }
			Orders []struct {
				ID, CurrencyCode  string
				TotalPriceInCents int
				Customer          struct{ ID string }
			}
			Transactions []struct {
				ID, Action    string
				AmountInCents int
				Customer      struct{ ID string }
			}
			Contact struct {
				Tags  []struct{ ID, Name string }
				Notes []struct{ ID, Body string }
			}
		}
	}
	srv.mustQuery(t, `query($id: ID!) { customer(id: $id) {
		purchases { id amountInCents currency offer { id title } customer { id } }
		active: purchases(first: 100, active: true) { id }
		orders(first: 3) { id currencyCode totalPriceInCents customer { id } }
		transactions(startDate: "2000-01-01", endDate: "2100-12-31") { id action amountInCents customer { id } }
		contact { tags { id name } notes(first: 1) { id body } }
	} }`, map[string]any{"id": c.ID}, &got)

	wantP := st.Purchases(c.ID)
	if len(got.Customer.Purchases) != len(wantP) {
		t.Fatalf("got %d purchases, want %d", len(got.Customer.Purchases), len(wantP))
	}
	for i, p := range got.Customer.Purchases {
		w := wantP[i]
		o, _ := st.Offer(w.OfferID)
		if p.ID != w.ID || p.AmountInCents != w.AmountInCents || p.Currency != w.Currency || p.Offer.ID != w.OfferID || p.Offer.Title != o.Title || p.Customer.ID != c.ID {
			t.Errorf("purchase %d: got %+v, want id %s, %d %s, offer %s %q, customer %s", i, p, w.ID, w.AmountInCents, w.Currency, w.OfferID, o.Title, c.ID)
		}
	}
	active := 0
	for _, p := range wantP {
		if p.DeactivatedAt.IsZero() {
			active++
		}
	}
	if len(got.Customer.Active) != active {
		t.Errorf("got %d active purchases, want %d", len(got.Customer.Active), active)
	}
	if n, want := len(got.Customer.Orders), min(3, len(st.Orders(c.ID))); n != want {
		t.Errorf("got %d orders, want %d", n, want)
	}
	for _, o := range got.Customer.Orders {
		if o.Customer.ID != c.ID || o.CurrencyCode == "" {
			t.Errorf("order %+v: want customer %s and a currency", o, c.ID)
		}
	}
	wantT := st.Transactions(c.ID)
	if len(got.Customer.Transactions) != min(20, len(wantT)) || got.Customer.Transactions[0].ID != wantT[0].ID {
		t.Errorf("got transactions %+v, want %d starting with %s", got.Customer.Transactions, len(wantT), wantT[0].ID)
	}
	ct := st.ContactOf(&c)
	if len(got.Customer.Contact.Tags) != len(ct.TagIDs) {
		t.Errorf("got tags %+v, want ids %v", got.Customer.Contact.Tags, ct.TagIDs)
	}
	for i, tag := range got.Customer.Contact.Tags {
		want, _ := st.Tag(ct.TagIDs[i])
		if tag.ID != want.ID || tag.Name != want.Name {
			t.Errorf("tag %d: got %+v, want %s %q", i, tag, want.ID, want.Name)
		}
	}
	if notes := st.Notes(c.ContactID); len(got.Customer.Contact.Notes) != 1 || got.Customer.Contact.Notes[0].ID != notes[0].ID {
		t.Errorf("got notes %+v, want the newest, %s", got.Customer.Contact.Notes, notes[0].ID)
	}
	calls := queries(srv.upstream)
	for _, want := range []string{
		"/v1/purchases?filter[active]=true&filter[customer_id]=" + c.ID + "&page[size]=100",
		"/v1/transactions?filter[customer_id]=" + c.ID + "&filter[end_date]=2100-12-31&filter[start_date]=2000-01-01&page[size]=20",
		"/v1/contact_notes?filter[contact_id]=" + c.ContactID + "&page[size]=1",
	} {
		if !slices.Contains(calls, want) {
			t.Errorf("no call %s among %v", want, calls)
		}
	}
}

// TestHistoryBadInput refuses arguments out of range before any Kajabi call.
func TestHistoryBadInput(t *testing.T) {
	srv := historyServer(t, true)
	id := srv.upstream.Sandbox.Store().Customers[0].ID
	for _, tc := range []struct{ name, query string }{
		{"first 0", `{ customer(id: "` + id + `") { purchases(first: 0) { id } } }`},
		{"first 101", `{ customer(id: "` + id + `") { orders(first: 101) { id } } }`},
		{"not a date", `{ customer(id: "` + id + `") { transactions(startDate: "2026-13-01") { id } } }`},
		{"start after end", `{ customer(id: "` + id + `") { transactions(startDate: "2026-02-01", endDate: "2026-01-01") { id } } }`},
		{"no offers", `mutation { grantOffers(customerId: "` + id + `", offerIds: []) { id } }`},
		{"101 offers", `mutation { grantOffers(customerId: "` + id + `", offerIds: [` + strings.Repeat(`"1",`, 101) + `]) { id } }`},
		{"offer not an id", `mutation { setOffers(customerId: "` + id + `", offerIds: ["1", "abc"]) { id } }`},
		{"customer not an id", `mutation { revokeOffers(customerId: "../1", offerIds: ["1"]) { id } }`},
		{"tag not an id", `mutation { addContactTags(contactId: "1", tagIds: ["x"]) { id } }`},
		{"empty note", `mutation { createContactNote(contactId: "1", body: " ") { id } }`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv.upstream.Reset()
			r := srv.do(t, tc.query, nil)
			if got := r.code(); got != graph.CodeBadUserInput {
				t.Errorf("got code %q (%+v), want %s", got, r.Errors, graph.CodeBadUserInput)
			}
			// customer(id) itself is one call; the refused field adds none.
			if calls := queries(srv.upstream); len(calls) > 1 || (len(calls) == 1 && !strings.HasPrefix(calls[0], "/v1/customers/")) {
				t.Errorf("got Kajabi calls %v, want none for the refused field", calls)
			}
		})
	}
}

const grantQuery = `mutation($c: ID!, $o: [ID!]!) { grantOffers(customerId: $c, offerIds: $o) { id offers { id title } } }`

type offersResult struct {
	ID     string
	Offers []struct{ ID, Title string }
}

func offerIDs(r offersResult) []string {
	var ids []string
	for _, o := range r.Offers {
		ids = append(ids, o.ID)
	}
	return ids
}

// ungranted is an offer of the customer's site the customer does not hold.
func ungranted(t *testing.T, st *sandbox.Store, c sandbox.Customer) string {
	t.Helper()
	for _, o := range st.Offers {
		if o.SiteID == c.SiteID && !slices.Contains(c.OfferIDs, o.ID) {
			return o.ID
		}
	}
	t.Fatal("every offer of the site is granted")
	return ""
}

// TestOfferWrites grants, revokes and sets offers through the handler; each answer and the
// next read show Kajabi's (the sandbox's) new state.
func TestOfferWrites(t *testing.T) {
	srv := historyServer(t, true)
	st := srv.upstream.Sandbox.Store()
	c := customerWithHistory(t, st)
	extra := ungranted(t, st, c)
	readBack := func(t *testing.T) []string {
		t.Helper()
		var got struct{ Customer offersResult }
		srv.mustQuery(t, `query($id: ID!) { customer(id: $id) { id offers { id } } }`, map[string]any{"id": c.ID}, &got)
		return offerIDs(got.Customer)
	}
	steps := []struct {
		name, field string
		ids         []string
		want        []string
	}{
		{"grant", "grantOffers", []string{extra}, sortedIDs(append(slices.Clone(c.OfferIDs), extra))},
		{"revoke", "revokeOffers", []string{extra}, c.OfferIDs},
		{"set", "setOffers", []string{extra}, []string{extra}},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			srv.upstream.Reset()
			var got map[string]offersResult
			srv.mustQuery(t, strings.Replace(grantQuery, "grantOffers", s.field, 1), map[string]any{"c": c.ID, "o": s.ids}, &got)
			if ids := offerIDs(got[s.field]); !slices.Equal(ids, s.want) {
				t.Errorf("%s answered offers %v, want %v", s.field, ids, s.want)
			}
			if ids := st.OfferIDsOf(c.ID); !slices.Equal(ids, s.want) {
				t.Errorf("sandbox holds %v, want %v", ids, s.want)
			}
			if ids := readBack(t); !slices.Equal(ids, s.want) {
				t.Errorf("read back %v, want %v", ids, s.want)
			}
			writes := 0
			for _, r := range srv.upstream.Requests() {
				if r.Method != http.MethodGet {
					writes++
				}
			}
			if writes != 1 {
				t.Errorf("got %d writes to Kajabi, want 1", writes)
			}
		})
	}
}

func sortedIDs(ids []string) []string {
	slices.SortFunc(ids, func(a, b string) int {
		if len(a) != len(b) {
			return len(a) - len(b)
		}
		return strings.Compare(a, b)
	})
	return ids
}

// TestContactWrites adds and removes a tag and writes a note, each read back.
func TestContactWrites(t *testing.T) {
	srv := historyServer(t, true)
	st := srv.upstream.Sandbox.Store()
	c := customerWithHistory(t, st)
	ct := st.ContactOf(&c)
	var tag string
	for _, tg := range st.Tags {
		if tg.SiteID == ct.SiteID && !slices.Contains(ct.TagIDs, tg.ID) {
			tag = tg.ID
			break
		}
	}
	var added struct {
		AddContactTags struct{ Tags []struct{ ID string } }
	}
	srv.mustQuery(t, `mutation($c: ID!, $t: [ID!]!) { addContactTags(contactId: $c, tagIds: $t) { tags { id } } }`,
		map[string]any{"c": ct.ID, "t": []string{tag}}, &added)
	if ids := st.TagIDsOf(ct.ID); !slices.Contains(ids, tag) || len(added.AddContactTags.Tags) != len(ids) {
		t.Errorf("after adding %s: answered %+v, sandbox holds %v", tag, added.AddContactTags.Tags, ids)
	}
	var removed struct {
		RemoveContactTags struct{ Tags []struct{ ID string } }
	}
	srv.mustQuery(t, `mutation($c: ID!, $t: [ID!]!) { removeContactTags(contactId: $c, tagIds: $t) { tags { id } } }`,
		map[string]any{"c": ct.ID, "t": []string{tag}}, &removed)
	if ids := st.TagIDsOf(ct.ID); slices.Contains(ids, tag) || len(removed.RemoveContactTags.Tags) != len(ids) {
		t.Errorf("after removing %s: answered %+v, sandbox holds %v", tag, removed.RemoveContactTags.Tags, ids)
	}

	var note struct{ CreateContactNote struct{ ID, Body string } }
	srv.mustQuery(t, `mutation($c: ID!) { createContactNote(contactId: $c, body: "Called about renewal.") { id body } }`,
		map[string]any{"c": ct.ID}, &note)
	var read struct {
		Contact struct{ Notes []struct{ ID string } }
	}
	srv.mustQuery(t, `query($c: ID!) { contact(id: $c) { notes(first: 100) { id } } }`, map[string]any{"c": ct.ID}, &read)
	if !slices.ContainsFunc(read.Contact.Notes, func(n struct{ ID string }) bool { return n.ID == note.CreateContactNote.ID }) {
		t.Errorf("note %s not read back among %+v", note.CreateContactNote.ID, read.Contact.Notes)
	}
}

// TestWriteScopes: mutations off, a read key, and Kajabi's own 403 are FORBIDDEN; the first
// two before any Kajabi call.
func TestWriteScopes(t *testing.T) {
	const readKey, writeKey = "read-key-0123456789", "write-key-0123456789"
	cases := []struct {
		name      string
		mutations bool
		key       string
		kajabi403 bool
		wantCode  string
		wantCalls bool
	}{
		{"mutations off", false, "", false, graph.CodeForbidden, false},
		{"read key", true, readKey, false, graph.CodeForbidden, false},
		{"write key", true, writeKey, false, "", true},
		{"kajabi refuses", true, writeKey, true, graph.CodeForbidden, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var srv *testServer
			if tc.key == "" {
				srv = historyServer(t, tc.mutations)
			} else {
				srv = historyServer(t, tc.mutations, readKey, writeKey+":write")
			}
			st := srv.upstream.Sandbox.Store()
			c := st.Customers[0]
			if tc.kajabi403 {
				srv.upstream.Sandbox.FailPath("/v1/customers/"+c.ID+"/relationships/offers", http.StatusForbidden)
			}
			r := srv.doKey(t, tc.key, grantQuery, map[string]any{"c": c.ID, "o": []string{ungranted(t, st, c)}})
			if got := r.code(); got != tc.wantCode {
				t.Errorf("got code %q (%+v), want %q", got, r.Errors, tc.wantCode)
			}
			if calls := len(srv.upstream.Requests()); (calls > 0) != tc.wantCalls {
				t.Errorf("got %d Kajabi calls, want calls: %v", calls, tc.wantCalls)
			}
		})
	}
}

// TestWriteNotFound: Kajabi's 404 for an unknown customer or offer is NOT_FOUND at the field.
func TestWriteNotFound(t *testing.T) {
	srv := historyServer(t, true)
	st := srv.upstream.Sandbox.Store()
	for _, tc := range []struct{ name, customer, offer string }{
		{"customer", "999999999", st.Offers[0].ID},
		{"offer", st.Customers[0].ID, "999999999"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := srv.do(t, grantQuery, map[string]any{"c": tc.customer, "o": []string{tc.offer}})
			if got := r.code(); got != graph.CodeNotFound || fmt.Sprint(r.Errors[0].Path) != "[grantOffers]" {
				t.Errorf("got %+v, want %s at [grantOffers]", r.Errors, graph.CodeNotFound)
			}
		})
	}
}

// offerWrites counts the writes of customers' offers among up's requests.
func offerWrites(up *kajabitest.Upstream) int {
	n := 0
	for _, r := range up.Requests() {
		if r.Method == http.MethodPost && strings.HasSuffix(r.Path, "/relationships/offers") {
			n++
		}
	}
	return n
}

// TestWriteRetries: a write refused with 429 is retried (Kajabi did nothing), a write whose
// connection dropped after it was sent is not (Kajabi may have done it): it is reported as
// UPSTREAM_UNAVAILABLE after exactly one attempt.
func TestWriteRetries(t *testing.T) {
	for _, tc := range []struct {
		name       string
		fail       func(inner http.Handler, w http.ResponseWriter, r *http.Request)
		wantCode   string
		wantWrites int
	}{
		{"429 then success", func(_ http.Handler, w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/vnd.api+json")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = io.WriteString(w, `{"errors":[{"status":"429","title":"Too Many Requests","detail":"slow down"}]}`)
		}, "", 2},
		{"dropped after sending", func(inner http.Handler, _ http.ResponseWriter, r *http.Request) {
			// Kajabi got the whole request and acted on it; the answer never arrives.
			inner.ServeHTTP(httptest.NewRecorder(), r)
			panic(http.ErrAbortHandler)
		}, graph.CodeUpstreamUnavailable, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := historyServer(t, true)
			st := srv.upstream.Sandbox.Store()
			c := st.Customers[0]
			failed := false
			srv.upstream.Handle(func(inner http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/relationships/offers") && !failed {
						failed = true
						tc.fail(inner, w, r)
						return
					}
					inner.ServeHTTP(w, r)
				})
			})
			r := srv.do(t, grantQuery, map[string]any{"c": c.ID, "o": []string{ungranted(t, st, c)}})
			if got := r.code(); got != tc.wantCode {
				t.Errorf("got code %q (%+v), want %q", got, r.Errors, tc.wantCode)
			}
			if got := offerWrites(srv.upstream); got != tc.wantWrites {
				t.Errorf("got %d POSTs of the offers, want %d", got, tc.wantWrites)
			}
		})
	}
}

// TestMutationNeverByGET: GraphQL over HTTP runs no mutation sent with GET.
func TestMutationNeverByGET(t *testing.T) {
	srv := historyServer(t, true)
	c := srv.upstream.Sandbox.Store().Customers[0]
	q := `mutation { grantOffers(customerId: "` + c.ID + `", offerIds: ["1"]) { id } }`
	req, _ := http.NewRequest(http.MethodGet, srv.url+"?query="+url.QueryEscape(q), nil)
	req.Header.Set("Apollo-Require-Preflight", "true")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("got status %d, want 405", resp.StatusCode)
	}
	if n := len(srv.upstream.Requests()); n != 0 {
		t.Errorf("got %d Kajabi calls, want 0", n)
	}
}

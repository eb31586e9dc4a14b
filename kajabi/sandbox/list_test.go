package sandbox_test

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kajabi-graphql/facade/kajabi/sandbox"
)

// customerAttributes are the attributes of customers_attributes in the spec.
var customerAttributes = []string{"name", "email", "avatar", "external_user_id", "public_bio",
	"public_location", "public_website", "socials", "net_revenue", "sign_in_count",
	"last_request_at", "bounced_at", "created_at", "updated_at"}

var decimal = regexp.MustCompile(`^\d+\.\d\d$`)

// cents parses a net_revenue string the test's own way.
func cents(t *testing.T, s string) int64 {
	t.Helper()
	if !decimal.MatchString(s) {
		t.Fatalf("net_revenue %q is not a decimal with two places", s)
	}
	whole, frac, _ := strings.Cut(s, ".")
	w, _ := strconv.ParseInt(whole, 10, 64)
	f, _ := strconv.ParseInt(frac, 10, 64)
	return w*100 + f
}

// timeAttr decodes an RFC 3339 UTC timestamp attribute; zero for null.
func timeAttr(t *testing.T, r resource, name string) time.Time {
	t.Helper()
	raw := r.Attributes[name]
	if string(raw) == "null" {
		return time.Time{}
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatalf("%s %s: %s = %s: %v", r.Type, r.ID, name, raw, err)
	}
	ts, err := time.Parse(time.RFC3339, s)
	if err != nil || !strings.HasSuffix(s, "Z") {
		t.Fatalf("%s %s: %s = %q, want an RFC 3339 UTC time", r.Type, r.ID, name, s)
	}
	return ts
}

// allCustomers fetches every page of a customer list query.
func allCustomers(t *testing.T, e *env, query string) []resource {
	t.Helper()
	var out []resource
	for page := 1; ; page++ {
		var doc listDoc
		e.getJSON(t, fmt.Sprintf("/v1/customers?%s&page[number]=%d&page[size]=100", query, page), &doc)
		out = append(out, doc.Data...)
		if page >= doc.Meta.TotalPages {
			return out
		}
	}
}

func TestCustomerSorts(t *testing.T) {
	e := newEnv(t, sandbox.Options{Customers: 400, Sites: 1})
	st := e.sb.Store()
	idNum := func(c *sandbox.Customer) int { n, _ := strconv.Atoi(c.ID); return n }
	// ascending comparisons as the test reads the spec; a missing
	// last_request_at sorts after every date
	keys := []struct {
		key  string
		less func(a, b *sandbox.Customer) int
		// inOrder checks two neighbours of an ascending answer by their
		// attribute values
		inOrder func(t *testing.T, a, b resource) bool
	}{
		{"name", func(a, b *sandbox.Customer) int { return strings.Compare(a.Name, b.Name) },
			func(t *testing.T, a, b resource) bool { return attrString(t, a, "name") <= attrString(t, b, "name") }},
		{"email", func(a, b *sandbox.Customer) int { return strings.Compare(a.Email, b.Email) },
			func(t *testing.T, a, b resource) bool { return attrString(t, a, "email") <= attrString(t, b, "email") }},
		{"created_at", func(a, b *sandbox.Customer) int { return a.CreatedAt.Compare(b.CreatedAt) },
			func(t *testing.T, a, b resource) bool {
				return !timeAttr(t, a, "created_at").After(timeAttr(t, b, "created_at"))
			}},
		{"net_revenue", func(a, b *sandbox.Customer) int { return cmp.Compare(a.NetRevenueCents, b.NetRevenueCents) },
			func(t *testing.T, a, b resource) bool {
				return cents(t, attrString(t, a, "net_revenue")) <= cents(t, attrString(t, b, "net_revenue"))
			}},
		{"last_request_at", func(a, b *sandbox.Customer) int {
			switch az, bz := a.LastRequestAt.IsZero(), b.LastRequestAt.IsZero(); {
			case az || bz:
				return cmp.Compare(btoi(az), btoi(bz))
			}
			return a.LastRequestAt.Compare(b.LastRequestAt)
		}, func(t *testing.T, a, b resource) bool {
			ta, tb := timeAttr(t, a, "last_request_at"), timeAttr(t, b, "last_request_at")
			return tb.IsZero() || !ta.IsZero() && !ta.After(tb)
		}},
	}
	for _, k := range keys {
		for _, desc := range []bool{false, true} {
			param := k.key
			if desc {
				param = "-" + k.key
			}
			t.Run(param, func(t *testing.T) {
				want := make([]*sandbox.Customer, len(st.Customers))
				for i := range st.Customers {
					want[i] = &st.Customers[i]
				}
				sort.Slice(want, func(i, j int) bool {
					c := cmp.Or(k.less(want[i], want[j]), cmp.Compare(idNum(want[i]), idNum(want[j])))
					if desc {
						c = -c
					}
					return c < 0
				})
				got := allCustomers(t, e, "sort="+param+"&fields[customers]="+k.key)
				if len(got) != len(want) {
					t.Fatalf("got %d customers, want %d", len(got), len(want))
				}
				for i := range got {
					if got[i].ID != want[i].ID {
						t.Fatalf("position %d: got customer %s, want %s", i, got[i].ID, want[i].ID)
					}
					if i > 0 {
						a, b := got[i-1], got[i]
						if desc {
							a, b = b, a
						}
						if !k.inOrder(t, a, b) {
							t.Fatalf("positions %d and %d out of order: %v then %v", i-1, i, got[i-1].Attributes, got[i].Attributes)
						}
					}
				}
			})
		}
	}

	t.Run("default is newest first", func(t *testing.T) {
		def := allCustomers(t, e, "fields[customers]=created_at")
		newest := allCustomers(t, e, "sort=-created_at&fields[customers]=created_at")
		if len(def) != len(st.Customers) {
			t.Fatalf("got %d customers, want %d", len(def), len(st.Customers))
		}
		for i := range def {
			if def[i].ID != newest[i].ID {
				t.Fatalf("position %d: default order has %s, -created_at has %s", i, def[i].ID, newest[i].ID)
			}
		}
		if !timeAttr(t, def[0], "created_at").After(timeAttr(t, def[len(def)-1], "created_at")) {
			t.Errorf("default order does not start with the newest customer")
		}
	})
	t.Run("unknown key falls back to default", func(t *testing.T) {
		var a, b listDoc
		e.getJSON(t, "/v1/customers?sort=shoe_size", &a)
		e.getJSON(t, "/v1/customers", &b)
		if a.Data[0].ID != b.Data[0].ID || a.Data[19].ID != b.Data[19].ID {
			t.Errorf("sort=shoe_size: got first %s, want the default order's %s", a.Data[0].ID, b.Data[0].ID)
		}
	})
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestCustomerPaging(t *testing.T) {
	e := oneSiteEnv(t)
	st := e.sb.Store()
	site := st.Sites[0].ID
	total := len(expectIDs(st, func(p person) bool { return p.c.SiteID == site }))
	const size = 7
	pages := (total + size - 1) / size
	base := e.srv.URL + "/v1/customers?filter[site_id]=" + site + "&"
	link := func(n int) string { return fmt.Sprintf("%spage[number]=%d&page[size]=%d", base, n, size) }
	str := func(p *string) string {
		if p == nil {
			return "null"
		}
		return *p
	}

	cases := []struct {
		name             string
		page             int
		prev, next       string
		wantItems        int
		wantTotalPages   int
		wantCurrentPage  int
		wantLast, wantSf string
	}{
		{"first page", 1, "null", link(2), size, pages, 1, link(pages), link(1)},
		{"middle page", 2, link(1), link(3), size, pages, 2, link(pages), link(2)},
		{"last page", pages, link(pages - 1), "null", total - (pages-1)*size, pages, pages, link(pages), link(pages)},
		{"past the end", pages + 1, "null", "null", 0, pages, pages + 1, link(pages), link(pages + 1)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var doc listDoc
			e.getJSON(t, fmt.Sprintf("/v1/customers?filter[site_id]=%s&page[number]=%d&page[size]=%d", site, tc.page, size), &doc)
			if len(doc.Data) != tc.wantItems {
				t.Errorf("got %d items, want %d", len(doc.Data), tc.wantItems)
			}
			l := doc.Links
			if l.Self != tc.wantSf || l.First != link(1) || str(l.Prev) != tc.prev || str(l.Next) != tc.next || l.Last != tc.wantLast {
				t.Errorf("got links\n self %s\n first %s\n prev %s\n next %s\n last %s\nwant\n self %s\n first %s\n prev %s\n next %s\n last %s",
					l.Self, l.First, str(l.Prev), str(l.Next), l.Last, tc.wantSf, link(1), tc.prev, tc.next, tc.wantLast)
			}
			if m := doc.Meta; m.TotalPages != tc.wantTotalPages || m.TotalCount != total || m.CurrentPage != tc.wantCurrentPage {
				t.Errorf("got meta %+v, want total_pages %d, total_count %d, current_page %d", m, tc.wantTotalPages, total, tc.wantCurrentPage)
			}
		})
	}

	t.Run("meta and links members exactly", func(t *testing.T) {
		_, body := e.do(t, http.MethodGet, "/v1/customers?page[size]=1", testToken)
		var doc struct {
			Links map[string]any `json:"links"`
			Meta  map[string]any `json:"meta"`
		}
		if err := json.Unmarshal(body, &doc); err != nil {
			t.Fatal(err)
		}
		gotL, gotM := keys(doc.Links), keys(doc.Meta)
		sort.Strings(gotL)
		sort.Strings(gotM)
		if !slices.Equal(gotL, []string{"first", "last", "next", "prev", "self"}) ||
			!slices.Equal(gotM, []string{"current_page", "total_count", "total_pages"}) {
			t.Errorf("got links %v and meta %v", gotL, gotM)
		}
	})

	t.Run("query kept as sent", func(t *testing.T) {
		var doc listDoc
		e.getJSON(t, "/v1/customers?filter%5Bsite_id%5D="+site+"&sort=-name&page%5Bsize%5D=3", &doc)
		want := e.srv.URL + "/v1/customers?filter%5Bsite_id%5D=" + site + "&sort=-name&page[size]=3&page[number]=2"
		if doc.Links.Next == nil || *doc.Links.Next != want {
			t.Errorf("got next %s, want %s", str(doc.Links.Next), want)
		}
	})

	t.Run("defaults", func(t *testing.T) {
		var doc listDoc
		e.getJSON(t, "/v1/customers", &doc)
		if len(doc.Data) != 20 || doc.Meta.CurrentPage != 1 || doc.Meta.TotalCount != len(st.Customers) || doc.Meta.TotalPages != 250 {
			t.Errorf("got %d items and meta %+v, want 20 items of 5000 on 250 pages", len(doc.Data), doc.Meta)
		}
		if want := e.srv.URL + "/v1/customers?page[number]=1&page[size]=20"; doc.Links.Self != want {
			t.Errorf("got self %s, want %s", doc.Links.Self, want)
		}
	})

	for _, tc := range []struct {
		query    string
		wantSize int
		wantPage int
	}{
		{"page[size]=500", 100, 1},
		{"page[size]=100", 100, 1},
		{"page[size]=0", 20, 1},
		{"page[size]=-4", 20, 1},
		{"page[size]=lots", 20, 1},
		{"page[size]=5.0&page[number]=3", 5, 3},
		{"page[number]=0", 20, 1},
		{"page[number]=x", 20, 1},
	} {
		t.Run(tc.query, func(t *testing.T) {
			var doc listDoc
			e.getJSON(t, "/v1/customers?"+tc.query, &doc)
			if len(doc.Data) != tc.wantSize || doc.Meta.CurrentPage != tc.wantPage ||
				!strings.Contains(doc.Links.Self, fmt.Sprintf("page[number]=%d&page[size]=%d", tc.wantPage, tc.wantSize)) &&
					!strings.Contains(doc.Links.Self, fmt.Sprintf("page[size]=%d&page[number]=%d", tc.wantSize, tc.wantPage)) {
				t.Errorf("got %d items, page %d, self %s; want %d items on page %d", len(doc.Data), doc.Meta.CurrentPage, doc.Links.Self, tc.wantSize, tc.wantPage)
			}
		})
	}

	t.Run("empty result", func(t *testing.T) {
		var doc listDoc
		e.getJSON(t, "/v1/customers?filter[site_id]=0", &doc)
		if len(doc.Data) != 0 || doc.Meta.TotalCount != 0 || doc.Meta.TotalPages != 0 || doc.Meta.CurrentPage != 1 ||
			doc.Links.Prev != nil || doc.Links.Next != nil || !strings.HasSuffix(doc.Links.Last, "page[number]=1&page[size]=20") {
			t.Errorf("got %+v", doc)
		}
		_, body := e.do(t, http.MethodGet, "/v1/customers?filter[site_id]=0", testToken)
		if !bytes.Contains(body, []byte(`"data":[]`)) {
			t.Errorf("empty data is not an empty array: %s", body)
		}
	})
}

func TestCustomerDocument(t *testing.T) {
	e := oneSiteEnv(t)
	st := e.sb.Store()
	var doc listDoc
	e.getJSON(t, "/v1/customers?page[size]=100", &doc)
	for _, r := range doc.Data {
		c, ok := st.Customer(r.ID)
		if !ok {
			t.Fatalf("customer %s is not in the store", r.ID)
		}
		if r.Type != "customers" {
			t.Errorf("got type %q, want customers", r.Type)
		}
		got := keys(r.Attributes)
		sort.Strings(got)
		want := slices.Clone(customerAttributes)
		sort.Strings(want)
		if !slices.Equal(got, want) {
			t.Fatalf("customer %s: got attributes %v, want %v", r.ID, got, want)
		}
		if attrString(t, r, "name") != c.Name || attrString(t, r, "email") != c.Email ||
			cents(t, attrString(t, r, "net_revenue")) != c.NetRevenueCents ||
			!timeAttr(t, r, "created_at").Equal(c.CreatedAt) || !timeAttr(t, r, "updated_at").Equal(c.UpdatedAt) ||
			!timeAttr(t, r, "last_request_at").Equal(c.LastRequestAt) || !timeAttr(t, r, "bounced_at").Equal(c.BouncedAt) {
			t.Errorf("customer %s: attributes %v do not match the store %+v", r.ID, r.Attributes, *c)
		}
		if (c.ExternalUserID == "") != (string(r.Attributes["external_user_id"]) == "null") ||
			(c.Socials == nil) != (string(r.Attributes["socials"]) == "null") {
			t.Errorf("customer %s: nulls do not match the store", r.ID)
		}
		if got := r.Relationships["contact"].one(t); got != (ident{c.ContactID, "contacts"}) {
			t.Errorf("customer %s: got contact %+v, want %s", r.ID, got, c.ContactID)
		}
		if got := r.Relationships["site"].one(t); got != (ident{c.SiteID, "sites"}) {
			t.Errorf("customer %s: got site %+v, want %s", r.ID, got, c.SiteID)
		}
		offers := r.Relationships["offers"]
		if offers.Data != nil || offers.Links["self"] != e.srv.URL+"/v1/customers/"+c.ID+"/relationships/offers" {
			t.Errorf("customer %s: got offers %+v, want a self link only", r.ID, offers)
		}
		var products []string
		for _, p := range r.Relationships["products"].many(t) {
			if p.Type != "products" {
				t.Errorf("product identifier of type %q", p.Type)
			}
			products = append(products, p.ID)
		}
		if !slices.Equal(products, c.ProductIDs) && !(len(products) == 0 && len(c.ProductIDs) == 0) {
			t.Errorf("customer %s: got products %v, want %v", r.ID, products, c.ProductIDs)
		}
		if r.Links["contact"] != e.srv.URL+"/v1/contacts/"+c.ContactID {
			t.Errorf("customer %s: got links %v", r.ID, r.Links)
		}
	}

	// fields[customers] names relationships as well as attributes (JSON:API's sparse
	// fieldsets; the spec's example answers fields[customers]=name,email with attributes
	// alone): what it does not name is left out, the relationships member with it.
	t.Run("sparse fields", func(t *testing.T) {
		for _, tc := range []struct {
			fields   string
			want     []string
			wantRels []string
		}{
			{"name,email", []string{"email", "name"}, nil},
			{" net_revenue , socials ", []string{"net_revenue", "socials"}, nil},
			{"name,shoe_size", []string{"name"}, nil},
			{"shoe_size", []string{}, nil},
			{"name,contact,products", []string{"name"}, []string{"contact", "products"}},
			{"site,offers", []string{}, []string{"offers", "site"}},
		} {
			var doc struct {
				Data []map[string]json.RawMessage `json:"data"`
			}
			e.getJSON(t, "/v1/customers?page[size]=3&fields[customers]="+strings.ReplaceAll(tc.fields, " ", "%20"), &doc)
			if len(doc.Data) != 3 {
				t.Fatalf("fields[customers]=%s: %d customers", tc.fields, len(doc.Data))
			}
			for _, r := range doc.Data {
				var attrs, rels map[string]json.RawMessage
				_ = json.Unmarshal(r["attributes"], &attrs)
				_ = json.Unmarshal(r["relationships"], &rels)
				got, gotRels := keys(attrs), keys(rels)
				sort.Strings(got)
				sort.Strings(gotRels)
				_, hasRels := r["relationships"]
				if !slices.Equal(got, tc.want) || !slices.Equal(gotRels, tc.wantRels) || hasRels != (len(tc.wantRels) > 0) || r["links"] == nil {
					t.Errorf("fields[customers]=%s: got attributes %v, relationships %v (member present: %v), links %s; want %v, %v",
						tc.fields, got, gotRels, hasRels, r["links"], tc.want, tc.wantRels)
				}
			}
		}
	})
}

// TestDeterminism: the same seed and clock give byte-identical answers.
func TestDeterminism(t *testing.T) {
	opts := sandbox.Options{Customers: 300, Sites: 1, Seed: 42, Now: testNow, AccessTokens: []string{testToken}}
	a, b := sandbox.New(opts), sandbox.New(opts)
	opts.Seed = 43
	c := sandbox.New(opts)
	get := func(sb *sandbox.Sandbox, path string) []byte {
		req := httptest.NewRequest(http.MethodGet, "http://sandbox.test"+path, nil)
		req.Header.Set("Authorization", "Bearer "+testToken)
		w := httptest.NewRecorder()
		sb.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			t.Fatalf("GET %s: got %d", path, w.Code)
		}
		return w.Body.Bytes()
	}
	for _, path := range []string{"/v1/customers", "/v1/customers?sort=name&page[size]=100", "/v1/offers", "/v1/products", "/v1/contact_tags"} {
		if x, y := get(a, path), get(b, path); !bytes.Equal(x, y) {
			t.Errorf("GET %s: two sandboxes with seed 42 answered differently", path)
		}
	}
	if bytes.Equal(get(a, "/v1/customers"), get(c, "/v1/customers")) {
		t.Errorf("seeds 42 and 43 gave the same first page")
	}
	ca, cb := a.Store().Customers[7], b.Store().Customers[7]
	if ca.Name != cb.Name || ca.ContactID != cb.ContactID || !slices.Equal(ca.OfferIDs, cb.OfferIDs) {
		t.Errorf("stores differ: %+v vs %+v", ca, cb)
	}
}

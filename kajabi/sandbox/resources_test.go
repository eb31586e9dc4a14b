package sandbox_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/kajabi-graphql/facade/kajabi/sandbox"
)

// showDoc is a single-resource document.
type showDoc struct {
	Data     resource          `json:"data"`
	Included []resource        `json:"included"`
	Links    map[string]string `json:"links"`
}

func identIDs(t *testing.T, r relationship, typ string) []string {
	t.Helper()
	ids := []string{}
	for _, id := range r.many(t) {
		if id.Type != typ {
			t.Errorf("got identifier type %q, want %q", id.Type, typ)
		}
		ids = append(ids, id.ID)
	}
	return ids
}

func sameStrings(a, b []string) bool {
	return len(a) == 0 && len(b) == 0 || slices.Equal(a, b)
}

func attrKeys(r resource) []string {
	k := keys(r.Attributes)
	sort.Strings(k)
	return k
}

func sorted(s ...string) []string {
	s = slices.Clone(s)
	sort.Strings(s)
	return s
}

// richCustomer finds a customer with offers, products and tags.
func richCustomer(st *sandbox.Store) (*sandbox.Customer, *sandbox.Contact) {
	for i := range st.Customers {
		c, ct := &st.Customers[i], &st.Contacts[i]
		if len(c.OfferIDs) >= 2 && len(c.ProductIDs) >= 2 && len(ct.TagIDs) >= 2 {
			return c, ct
		}
	}
	panic("no customer with offers, products and tags")
}

func TestShowCustomer(t *testing.T) {
	e := sharedEnv(t)
	st := e.sb.Store()
	c, _ := richCustomer(st)
	var doc showDoc
	e.getJSON(t, "/v1/customers/"+c.ID, &doc)
	if doc.Data.ID != c.ID || doc.Data.Type != "customers" || !slices.Equal(attrKeys(doc.Data), sorted(customerAttributes...)) {
		t.Fatalf("got %s %s with attributes %v", doc.Data.Type, doc.Data.ID, attrKeys(doc.Data))
	}
	offers := doc.Data.Relationships["offers"]
	if got := identIDs(t, offers, "offers"); !slices.Equal(got, c.OfferIDs) ||
		offers.Links["self"] != e.srv.URL+"/v1/customers/"+c.ID+"/relationships/offers" {
		t.Errorf("got offers %v %v, want %v and a self link", got, offers.Links, c.OfferIDs)
	}
	if got := identIDs(t, doc.Data.Relationships["products"], "products"); !slices.Equal(got, c.ProductIDs) {
		t.Errorf("got products %v, want %v", got, c.ProductIDs)
	}
	if doc.Links["self"] != e.srv.URL+"/v1/customers/"+c.ID || doc.Included != nil {
		t.Errorf("got links %v and %d included", doc.Links, len(doc.Included))
	}

	t.Run("include", func(t *testing.T) {
		var doc showDoc
		e.getJSON(t, "/v1/customers/"+c.ID+"?include=products,contact,offers,bogus&fields[products]=title&fields[customers]=name", &doc)
		var got []string
		for _, r := range doc.Included {
			got = append(got, r.Type+":"+r.ID)
			if r.Type == "products" && !slices.Equal(attrKeys(r), []string{"title"}) {
				t.Errorf("included product %s: got attributes %v, want title only", r.ID, attrKeys(r))
			}
		}
		var want []string
		for _, id := range c.ProductIDs {
			want = append(want, "products:"+id)
		}
		want = append(want, "contacts:"+c.ContactID)
		for _, id := range c.OfferIDs {
			want = append(want, "offers:"+id)
		}
		if !slices.Equal(got, want) {
			t.Errorf("got included %v, want %v", got, want)
		}
		if !slices.Equal(attrKeys(doc.Data), []string{"name"}) {
			t.Errorf("got attributes %v, want name only", attrKeys(doc.Data))
		}
	})

	t.Run("relationships/offers", func(t *testing.T) {
		var doc struct {
			Data  json.RawMessage   `json:"data"`
			Links map[string]string `json:"links"`
		}
		path := "/v1/customers/" + c.ID + "/relationships/offers"
		e.getJSON(t, path, &doc)
		if got := identIDs(t, relationship{Data: doc.Data}, "offers"); !slices.Equal(got, c.OfferIDs) || doc.Links["self"] != e.srv.URL+path {
			t.Errorf("got %v %v, want %v and self link", got, doc.Links, c.OfferIDs)
		}
	})
}

var contactAttributes = []string{"name", "email", "phone_number", "business_number", "subscribed",
	"address_line_1", "address_line_2", "address_city", "address_state", "address_country",
	"external_user_id", "address_zip", "custom_1", "custom_2", "custom_3", "created_at", "updated_at"}

func TestShowContact(t *testing.T) {
	e := sharedEnv(t)
	st := e.sb.Store()
	c, ct := richCustomer(st)
	var doc showDoc
	e.getJSON(t, "/v1/contacts/"+ct.ID, &doc)
	r := doc.Data
	if r.ID != ct.ID || r.Type != "contacts" || !slices.Equal(attrKeys(r), sorted(contactAttributes...)) {
		t.Fatalf("got %s %s with attributes %v", r.Type, r.ID, attrKeys(r))
	}
	if attrString(t, r, "email") != ct.Email || string(r.Attributes["subscribed"]) != map[bool]string{true: "true", false: "false"}[ct.Subscribed] {
		t.Errorf("attributes %v do not match the store", r.Attributes)
	}
	if _, shown := r.Attributes["mobile_phone_number"]; shown {
		t.Errorf("mobile_phone_number is not a contact attribute in the spec")
	}
	if got := r.Relationships["site"].one(t); got != (ident{ct.SiteID, "sites"}) {
		t.Errorf("got site %+v", got)
	}
	if got := r.Relationships["customer"].one(t); got != (ident{c.ID, "customers"}) {
		t.Errorf("got customer %+v", got)
	}
	tags := r.Relationships["tags"]
	if got := identIDs(t, tags, "contact_tags"); !slices.Equal(got, ct.TagIDs) || tags.Links["self"] != e.srv.URL+"/v1/contacts/"+ct.ID+"/relationships/tags" {
		t.Errorf("got tags %v %v, want %v", got, tags.Links, ct.TagIDs)
	}
	if got := identIDs(t, r.Relationships["offers"], "offers"); !slices.Equal(got, c.OfferIDs) {
		t.Errorf("got offers %v, want %v", got, c.OfferIDs)
	}
	if r.Links["customer"] != e.srv.URL+"/v1/customers/"+c.ID {
		t.Errorf("got links %v", r.Links)
	}

	t.Run("sparse and include", func(t *testing.T) {
		var doc showDoc
		e.getJSON(t, "/v1/contacts/"+ct.ID+"?fields[contacts]=email&include=customer,tags&fields[customers]=net_revenue", &doc)
		if !slices.Equal(attrKeys(doc.Data), []string{"email"}) {
			t.Errorf("got attributes %v, want email", attrKeys(doc.Data))
		}
		if len(doc.Included) != 1+len(ct.TagIDs) || doc.Included[0].ID != c.ID || !slices.Equal(attrKeys(doc.Included[0]), []string{"net_revenue"}) {
			t.Fatalf("got included %+v", doc.Included)
		}
		for i, tg := range doc.Included[1:] {
			tag, _ := st.Tag(ct.TagIDs[i])
			if tg.Type != "contact_tags" || tg.ID != tag.ID || attrString(t, tg, "name") != tag.Name {
				t.Errorf("got included tag %+v, want %+v", tg, tag)
			}
		}
	})

	for _, rel := range []struct {
		name, typ string
		want      []string
	}{{"tags", "contact_tags", ct.TagIDs}, {"offers", "offers", c.OfferIDs}} {
		t.Run("relationships/"+rel.name, func(t *testing.T) {
			var doc struct {
				Data  json.RawMessage   `json:"data"`
				Links map[string]string `json:"links"`
			}
			path := "/v1/contacts/" + ct.ID + "/relationships/" + rel.name
			e.getJSON(t, path, &doc)
			if got := identIDs(t, relationship{Data: doc.Data}, rel.typ); !slices.Equal(got, rel.want) || doc.Links["self"] != e.srv.URL+path {
				t.Errorf("got %v %v, want %v", got, doc.Links, rel.want)
			}
		})
	}
}

func listIDs(docs []resource) []string {
	ids := []string{}
	for _, r := range docs {
		ids = append(ids, r.ID)
	}
	return ids
}

func TestSites(t *testing.T) {
	e := sharedEnv(t)
	st := e.sb.Store()
	var doc listDoc
	e.getJSON(t, "/v1/sites", &doc)
	if len(doc.Data) != 2 || doc.Meta.TotalCount != 2 || doc.Meta.TotalPages != 1 || doc.Links.Next != nil {
		t.Fatalf("got %d sites, meta %+v", len(doc.Data), doc.Meta)
	}
	for i, r := range doc.Data {
		s := st.Sites[i]
		if r.ID != s.ID || r.Type != "sites" || attrString(t, r, "title") != s.Title || attrString(t, r, "subdomain") != s.Subdomain ||
			!slices.Equal(attrKeys(r), []string{"created_at", "subdomain", "title", "updated_at"}) {
			t.Errorf("got site %+v, want %+v", r, s)
		}
	}
	byTitle := []string{st.Sites[0].ID, st.Sites[1].ID}
	if st.Sites[0].Title > st.Sites[1].Title {
		byTitle[0], byTitle[1] = byTitle[1], byTitle[0]
	}
	cases := []struct {
		query string
		want  []string
	}{
		{"sort=title", byTitle},
		{"sort=-title", []string{byTitle[1], byTitle[0]}},
		{"filter[title_cont]=" + strings.ToUpper(st.Sites[1].Title[:6]), []string{st.Sites[1].ID}},
		{"filter[subdomain_cont]=" + st.Sites[0].Subdomain[2:8], []string{st.Sites[0].ID}},
		{"page[size]=1&page[number]=2", []string{st.Sites[1].ID}},
	}
	for _, tc := range cases {
		t.Run(tc.query, func(t *testing.T) {
			var doc listDoc
			e.getJSON(t, "/v1/sites?"+tc.query, &doc)
			if got := listIDs(doc.Data); !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
	t.Run("show", func(t *testing.T) {
		var doc showDoc
		e.getJSON(t, "/v1/sites/"+st.Sites[1].ID+"?fields[sites]=title", &doc)
		if doc.Data.ID != st.Sites[1].ID || !slices.Equal(attrKeys(doc.Data), []string{"title"}) {
			t.Errorf("got %+v", doc.Data)
		}
	})
}

var productAttributes = []string{"created_at", "title", "description", "status", "members_aggregate_count",
	"product_type_name", "product_type_id", "publish_status", "thumbnail_url", "url"}

func TestProducts(t *testing.T) {
	e := sharedEnv(t)
	st := e.sb.Store()
	site := st.Sites[0].ID
	want := func(keep func(p *sandbox.Product) bool) []string {
		ids := []string{}
		for i := range st.Products {
			if keep(&st.Products[i]) {
				ids = append(ids, st.Products[i].ID)
			}
		}
		return ids
	}
	cases := []struct {
		query string
		want  []string
	}{
		{"page[size]=100", want(func(*sandbox.Product) bool { return true })},
		{"filter[site_id]=" + site, want(func(p *sandbox.Product) bool { return p.SiteID == site })},
		{"filter[status_eq]=draft", want(func(p *sandbox.Product) bool { return p.Status == "draft" })},
		{"filter[title_cont]=COURSE", want(func(p *sandbox.Product) bool { return strings.Contains(strings.ToLower(p.Title), "course") })},
		{"filter[description_cont]=lessons", want(func(p *sandbox.Product) bool { return strings.Contains(p.Description, "lessons") })},
		{"filter[exclude_product_types][]=Courses::CohortCourse&filter[exclude_product_types][]=Podcast", want(func(p *sandbox.Product) bool {
			return p.ProductizableType != "Courses::CohortCourse" && p.ProductizableType != "Podcast"
		})},
	}
	for i, tc := range cases {
		t.Run(tc.query, func(t *testing.T) {
			if i > 0 && (len(tc.want) == 0 || len(tc.want) == len(st.Products)) {
				t.Fatalf("the data gives %d of %d products, want some but not all", len(tc.want), len(st.Products))
			}
			var doc listDoc
			e.getJSON(t, "/v1/products?"+tc.query, &doc)
			if got := listIDs(doc.Data); !sameStrings(got, tc.want) || doc.Meta.TotalCount != len(tc.want) {
				t.Errorf("got %v (total %d), want %v", got, doc.Meta.TotalCount, tc.want)
			}
		})
	}
	t.Run("shape and sort", func(t *testing.T) {
		var doc listDoc
		e.getJSON(t, "/v1/products?sort=-title&page[size]=100", &doc)
		for i, r := range doc.Data {
			p, _ := st.Product(r.ID)
			if r.Type != "products" || !slices.Equal(attrKeys(r), sorted(productAttributes...)) || r.Relationships["site"].one(t) != (ident{p.SiteID, "sites"}) {
				t.Errorf("got product %+v", r)
			}
			if i > 0 && attrString(t, doc.Data[i-1], "title") < attrString(t, r, "title") {
				t.Errorf("sort=-title: %q before %q", attrString(t, doc.Data[i-1], "title"), attrString(t, r, "title"))
			}
		}
	})
	t.Run("show", func(t *testing.T) {
		p := st.Products[3]
		var doc showDoc
		e.getJSON(t, "/v1/products/"+p.ID+"?fields[products]=title,publish_status", &doc)
		if doc.Data.ID != p.ID || !slices.Equal(attrKeys(doc.Data), []string{"publish_status", "title"}) || attrString(t, doc.Data, "title") != p.Title {
			t.Errorf("got %+v", doc.Data)
		}
	})
}

var offerAttributes = []string{"title", "description", "internal_title", "currency", "price_in_cents", "payment_type",
	"token", "payment_method", "price_description", "checkout_url", "recurring_offer", "subscription",
	"one_time", "single", "free", "image_url"}

func TestOffers(t *testing.T) {
	e := sharedEnv(t)
	st := e.sb.Store()
	site := st.Sites[1].ID
	var doc listDoc
	e.getJSON(t, "/v1/offers?filter[site_id]="+site+"&sort=-price_in_cents&page[size]=100", &doc)
	var want []string
	for _, o := range st.Offers {
		if o.SiteID == site {
			want = append(want, o.ID)
		}
	}
	if got := listIDs(doc.Data); !sameStrings(sorted(got...), sorted(want...)) {
		t.Fatalf("got %v, want %v", got, want)
	}
	var last json.Number = "1e9"
	for _, r := range doc.Data {
		o, _ := st.Offer(r.ID)
		if r.Type != "offers" || !slices.Equal(attrKeys(r), sorted(offerAttributes...)) || r.Relationships["site"].one(t) != (ident{site, "sites"}) ||
			!slices.Equal(identIDs(t, r.Relationships["products"], "products"), o.ProductIDs) {
			t.Errorf("got offer %+v", r)
		}
		price := json.Number(r.Attributes["price_in_cents"])
		if a, b := mustFloat(t, last), mustFloat(t, price); a < b {
			t.Errorf("sort=-price_in_cents: %s before %s", last, price)
		}
		last = price
	}
	t.Run("filters", func(t *testing.T) {
		var doc listDoc
		e.getJSON(t, "/v1/offers?filter[title_cont]=free%20preview&filter[description_cont]=GET", &doc)
		for _, r := range doc.Data {
			if !strings.HasPrefix(attrString(t, r, "title"), "Free Preview") || string(r.Attributes["free"]) != "true" {
				t.Errorf("got offer %s %s", r.ID, r.Attributes["title"])
			}
		}
		if doc.Meta.TotalCount == 0 {
			t.Errorf("no free preview offers")
		}
	})
	t.Run("show with products", func(t *testing.T) {
		o := st.Offers[4]
		var doc showDoc
		e.getJSON(t, "/v1/offers/"+o.ID+"?include=products&fields[offers]=title,price_in_cents", &doc)
		if doc.Data.ID != o.ID || !slices.Equal(attrKeys(doc.Data), []string{"price_in_cents", "title"}) || !slices.Equal(listIDs(doc.Included), o.ProductIDs) {
			t.Errorf("got %+v included %v, want products %v", doc.Data, listIDs(doc.Included), o.ProductIDs)
		}
		var rel struct {
			Data json.RawMessage `json:"data"`
		}
		e.getJSON(t, "/v1/offers/"+o.ID+"/relationships/products", &rel)
		if got := identIDs(t, relationship{Data: rel.Data}, "products"); !slices.Equal(got, o.ProductIDs) {
			t.Errorf("got %v, want %v", got, o.ProductIDs)
		}
	})
}

func mustFloat(t *testing.T, n json.Number) float64 {
	t.Helper()
	f, err := n.Float64()
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestContactTags(t *testing.T) {
	e := sharedEnv(t)
	st := e.sb.Store()
	var doc listDoc
	e.getJSON(t, "/v1/contact_tags?filter[site_id]="+st.Sites[0].ID+"&filter[name_cont]=ER&sort=-name", &doc)
	var got []string
	for _, r := range doc.Data {
		got = append(got, attrString(t, r, "name"))
	}
	if !slices.Equal(got, []string{"Newsletter Reader", "Customer", "Beta Tester"}) {
		t.Errorf("got tags %v, want [Newsletter Reader Customer Beta Tester]", got)
	}
	var show showDoc
	e.getJSON(t, "/v1/contact_tags/"+st.Tags[0].ID, &show)
	if show.Data.Type != "contact_tags" || attrString(t, show.Data, "name") != st.Tags[0].Name {
		t.Errorf("got %+v", show.Data)
	}
}

func TestNotFoundAndMethods(t *testing.T) {
	e := sharedEnv(t)
	for _, path := range []string{
		"/v1/customers/1", "/v1/customers/500001", "/v1/contacts/100001", "/v1/sites/1", "/v1/products/1",
		"/v1/offers/1", "/v1/contact_tags/1", "/v1/customers/1/relationships/offers",
		"/v1/contacts/1/relationships/tags", "/v1/offers/1/relationships/products",
		"/v1/courses", "/v1/customers/", "/v2/customers", "/", "/v1/customers/100001/offers",
	} {
		t.Run("GET "+path, func(t *testing.T) {
			resp, body := e.do(t, http.MethodGet, path, testToken)
			wantError(t, resp, body, http.StatusNotFound)
		})
	}
	for _, tc := range []struct{ method, path string }{
		{http.MethodPost, "/v1/customers"},
		{http.MethodDelete, "/v1/customers/100001"},
		{http.MethodPut, "/v1/customers/100001/relationships/offers"},
		{http.MethodPost, "/v1/version"},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			resp, body := e.do(t, tc.method, tc.path, testToken)
			wantError(t, resp, body, http.StatusMethodNotAllowed)
			if resp.Header.Get("Allow") != http.MethodGet {
				t.Errorf("got Allow %q, want GET", resp.Header.Get("Allow"))
			}
		})
	}
}

// TestMounted serves the sandbox under /sandbox/ of another mux, as the main
// server does, and checks that links come back through the mount.
func TestMounted(t *testing.T) {
	sb := oneSiteEnv(t).sb
	mux := http.NewServeMux()
	mux.Handle("/sandbox/", http.StripPrefix("/sandbox", sb))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	e := &env{sb: sb, srv: srv}
	base := srv.URL + "/sandbox"

	var doc listDoc
	e.getJSON(t, "/sandbox/v1/customers?page[size]=2&sort=name", &doc)
	if want := base + "/v1/customers?page[size]=2&sort=name&page[number]=1"; doc.Links.Self != want {
		t.Errorf("got self %s, want %s", doc.Links.Self, want)
	}
	if want := base + "/v1/customers?page[size]=2&sort=name&page[number]=2"; doc.Links.Next == nil || *doc.Links.Next != want {
		t.Errorf("got next %v, want %s", doc.Links.Next, want)
	}
	r := doc.Data[0]
	c, _ := sb.Store().Customer(r.ID)
	if got := r.Relationships["offers"].Links["self"]; got != base+"/v1/customers/"+r.ID+"/relationships/offers" {
		t.Errorf("got offers link %s", got)
	}
	if got := r.Links["contact"]; got != base+"/v1/contacts/"+c.ContactID {
		t.Errorf("got contact link %s", got)
	}
	var show showDoc
	e.getJSON(t, "/sandbox/v1/contacts/"+c.ContactID, &show)
	if show.Links["self"] != base+"/v1/contacts/"+c.ContactID || show.Data.Links["customer"] != base+"/v1/customers/"+c.ID {
		t.Errorf("got links %v and %v", show.Links, show.Data.Links)
	}
	// the link followed as given works
	resp, body := doCtx(t, t.Context(), "", http.MethodGet, r.Links["contact"], testToken)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("following %s: got %d; body %s", r.Links["contact"], resp.StatusCode, body)
	}
}

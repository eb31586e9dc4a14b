package kajabitest

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/kajabi-graphql/facade/kajabi"
	"github.com/kajabi-graphql/facade/kajabi/sandbox"
)

// requireSpec skips outside CI when openapi.yaml is absent; under CI SpecPath has
// already failed the test and this stops it.
func requireSpec(t *testing.T) {
	t.Helper()
	if _, ok := SpecPath(t); !ok {
		if inCI() {
			t.FailNow()
		}
		t.Skip("kajabitest: openapi.yaml not found, contract suite skipped")
	}
}

// TestContract is the project's contract test: every read the kajabi client makes, sent to
// the sandbox, must be a request openapi.yaml allows and get an answer it describes.
func TestContract(t *testing.T) {
	requireSpec(t)
	u := NewSandbox(t, sandbox.Options{Customers: 300})
	c := u.Client(t)
	st := u.Sandbox.Store()
	ctx := t.Context()

	t.Run("customers/filters one at a time", func(t *testing.T) {
		for _, f := range customerFilterFields(t) {
			t.Run(f.tag, func(t *testing.T) {
				opts := &kajabi.CustomerListOptions{}
				setPlausible(t, reflect.ValueOf(&opts.Filter).Elem().FieldByIndex(f.index), f.name, st)
				listCustomers(ctx, t, c, opts)
			})
		}
	})
	t.Run("customers/all filters at once", func(t *testing.T) {
		opts := &kajabi.CustomerListOptions{}
		fv := reflect.ValueOf(&opts.Filter).Elem()
		for _, f := range customerFilterFields(t) {
			setPlausible(t, fv.FieldByIndex(f.index), f.name, st)
		}
		listCustomers(ctx, t, c, opts)
	})
	t.Run("customers/sorts", func(t *testing.T) {
		for _, key := range []string{kajabi.SortByName, kajabi.SortByEmail, kajabi.SortByCreatedAt, kajabi.SortByNetRevenue, kajabi.SortByLastRequestAt} {
			for _, sort := range []string{key, "-" + key} {
				t.Run(sort, func(t *testing.T) {
					listCustomers(ctx, t, c, &kajabi.CustomerListOptions{Sort: sort})
				})
			}
		}
	})
	t.Run("customers/paging and fields", func(t *testing.T) {
		for _, opts := range []*kajabi.CustomerListOptions{
			nil,
			{ListOptions: kajabi.ListOptions{Page: 2, PageSize: 7}},
			{ListOptions: kajabi.ListOptions{Page: 1, PageSize: 100}},
			{ListOptions: kajabi.ListOptions{Page: 999, PageSize: 50}}, // past the end: empty page
			{Fields: []string{"name", "email"}},
			{Fields: []string{"net_revenue", "sign_in_count", "socials"}, Sort: "-" + kajabi.SortByNetRevenue, ListOptions: kajabi.ListOptions{PageSize: 25}},
		} {
			listCustomers(ctx, t, c, opts)
		}
	})

	// Pick a customer with something on every relationship, so the show documents carry
	// data rather than empty lists.
	var cust sandbox.Customer
	for _, x := range st.Customers {
		if len(x.OfferIDs) > 0 && len(x.ProductIDs) > 0 && x.ContactID != "" {
			cust = x
			break
		}
	}
	if cust.ID == "" {
		t.Fatal("no customer with offers and products in the sandbox data")
	}
	t.Run("customers/get", func(t *testing.T) {
		got, _, err := c.Customers.Get(ctx, cust.ID)
		if err != nil {
			t.Fatalf("Customers.Get(%s): %v", cust.ID, err)
		}
		if got.ID != cust.ID {
			t.Errorf("Customers.Get(%s).ID = %q, want %q", cust.ID, got.ID, cust.ID)
		}
		ids, _, err := c.Customers.ListOfferIDs(ctx, cust.ID)
		if err != nil {
			t.Fatalf("Customers.ListOfferIDs(%s): %v", cust.ID, err)
		}
		if len(ids) != len(cust.OfferIDs) {
			t.Errorf("Customers.ListOfferIDs(%s): got %d ids, want %d", cust.ID, len(ids), len(cust.OfferIDs))
		}
	})
	t.Run("contacts/get", func(t *testing.T) {
		if _, _, err := c.Contacts.Get(ctx, cust.ContactID); err != nil {
			t.Fatalf("Contacts.Get(%s): %v", cust.ContactID, err)
		}
	})

	site := st.Sites[0]
	t.Run("sites", func(t *testing.T) {
		for _, opts := range []*kajabi.SiteListOptions{
			nil,
			{Sort: "title"}, {Sort: "-title"}, {Sort: "subdomain"}, {Sort: "-subdomain"},
			{TitleContains: site.Title[:3], SubdomainContains: site.Subdomain[:2]},
			{Fields: []string{"title"}, ListOptions: kajabi.ListOptions{Page: 1, PageSize: 1}},
		} {
			if _, _, err := c.Sites.List(ctx, opts); err != nil {
				t.Errorf("Sites.List(%s): %v", kajabi.EncodeQuery(opts), err)
			}
		}
		if _, _, err := c.Sites.Get(ctx, site.ID); err != nil {
			t.Errorf("Sites.Get(%s): %v", site.ID, err)
		}
	})

	t.Run("products", func(t *testing.T) {
		var product sandbox.Product
		for _, p := range st.Products {
			if p.SiteID == site.ID {
				product = p
				break
			}
		}
		for _, opts := range []*kajabi.ProductListOptions{
			{SiteID: site.ID},
			{SiteID: site.ID, Sort: "title"}, {SiteID: site.ID, Sort: "-title"},
			{SiteID: site.ID, Sort: "description"}, {SiteID: site.ID, Sort: "-description"},
			{SiteID: site.ID, Sort: "status"}, {SiteID: site.ID, Sort: "-status"},
			{SiteID: site.ID, TitleContains: "a", DescriptionContains: "e", Status: "ready"},
			{SiteID: site.ID, Fields: []string{"title", "status"}, ListOptions: kajabi.ListOptions{Page: 2, PageSize: 2}},
		} {
			if _, _, err := c.Products.List(ctx, opts); err != nil {
				t.Errorf("Products.List(%s): %v", kajabi.EncodeQuery(opts), err)
			}
		}
		if _, _, err := c.Products.Get(ctx, product.ID); err != nil {
			t.Errorf("Products.Get(%s): %v", product.ID, err)
		}
	})

	t.Run("offers", func(t *testing.T) {
		var offer sandbox.Offer
		for _, o := range st.Offers {
			if o.SiteID == site.ID {
				offer = o
				break
			}
		}
		for _, opts := range []*kajabi.OfferListOptions{
			{SiteID: site.ID},
			{SiteID: site.ID, Sort: "title"}, {SiteID: site.ID, Sort: "-title"},
			{SiteID: site.ID, Sort: "price_in_cents"}, {SiteID: site.ID, Sort: "-price_in_cents"},
			{SiteID: site.ID, TitleContains: "a", DescriptionContains: "e"},
			{SiteID: site.ID, Fields: []string{"title", "price_in_cents"}, ListOptions: kajabi.ListOptions{Page: 1, PageSize: 3}},
		} {
			if _, _, err := c.Offers.List(ctx, opts); err != nil {
				t.Errorf("Offers.List(%s): %v", kajabi.EncodeQuery(opts), err)
			}
		}
		if _, _, err := c.Offers.Get(ctx, offer.ID); err != nil {
			t.Errorf("Offers.Get(%s): %v", offer.ID, err)
		}
	})

	t.Run("hooks", func(t *testing.T) {
		if _, _, err := c.Hooks.Create(ctx, site.ID, "purchase", "https://example.com/webhook"); err != nil {
			t.Errorf("Hooks.Create: %v", err)
		}
		for _, opts := range []*kajabi.HookListOptions{nil, {Event: "purchase"}, {Event: "tag_added", ListOptions: kajabi.ListOptions{Page: 1, PageSize: 5}}} {
			if _, _, err := c.Hooks.List(ctx, opts); err != nil {
				t.Errorf("Hooks.List(%s): %v", kajabi.EncodeQuery(opts), err)
			}
		}
	})

	t.Run("401 wrong token", func(t *testing.T) {
		bad := u.Client(t, kajabi.WithAccessToken("not-a-sandbox-token"))
		_, _, err := bad.Customers.List(ctx, nil)
		wantStatus(t, err, http.StatusUnauthorized)
	})
	t.Run("404 unknown id", func(t *testing.T) {
		const id = "999999999"
		calls := map[string]func() error{
			"Customers.Get":          func() error { _, _, err := c.Customers.Get(ctx, id); return err },
			"Customers.ListOfferIDs": func() error { _, _, err := c.Customers.ListOfferIDs(ctx, id); return err },
			"Contacts.Get":           func() error { _, _, err := c.Contacts.Get(ctx, id); return err },
			"Sites.Get":              func() error { _, _, err := c.Sites.Get(ctx, id); return err },
			"Products.Get":           func() error { _, _, err := c.Products.Get(ctx, id); return err },
			"Offers.Get":             func() error { _, _, err := c.Offers.Get(ctx, id); return err },
		}
		for name, call := range calls {
			t.Run(name, func(t *testing.T) { wantStatus(t, call(), http.StatusNotFound) })
		}
	})

	// Statuses the spec does not document for these operations must still be JSON:API
	// error documents.
	t.Run("faults", func(t *testing.T) {
		sb := u.Sandbox
		sb.FailPath("/v1/sites", http.StatusServiceUnavailable)
		_, _, err := c.Sites.List(ctx, nil)
		sb.FailPath("/v1/sites", 0)
		wantStatus(t, err, http.StatusServiceUnavailable)

		sb.SetFaults(1, http.StatusTooManyRequests)
		_, _, err = c.Products.List(ctx, &kajabi.ProductListOptions{SiteID: site.ID})
		sb.SetFaults(0)
		wantStatus(t, err, http.StatusTooManyRequests)

		sb.FailPath("/v1/oauth/token", http.StatusServiceUnavailable)
		_, _, err = u.Client(t).Sites.Get(ctx, site.ID) // a new client has no token yet
		sb.FailPath("/v1/oauth/token", 0)
		wantStatus(t, err, http.StatusServiceUnavailable)
	})

	// The same checks run at cleanup; running them here names the failing exchange in
	// its own subtest and fails before the report is buried under the cleanup's.
	t.Run("every exchange", func(t *testing.T) {
		s, err := currentSpec()
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, x := range u.snapshot() {
			name := x.req.Method + " " + x.escapedPath + "?" + x.req.RawQuery
			if seen[name] {
				continue
			}
			seen[name] = true
			t.Run(name, func(t *testing.T) {
				if err := CheckRequest(x.req.Method, x.escapedPath, x.req.RawQuery); err != nil {
					t.Errorf("CheckRequest: %v", err)
				}
				if x.req.Path != tokenPath {
					if _, problems := s.requestProblems(x.req.Method, x.escapedPath, x.req.RawQuery, x.req.Header); len(problems) > 0 {
						t.Errorf("request with headers: %s", strings.Join(problems, "; "))
					}
				}
				if !x.bodyKept {
					t.Fatalf("%d response body not recorded", x.req.Status)
				}
				if err := CheckResponse(x.req.Method, x.escapedPath, x.req.Status, x.respHeader, x.body); err != nil {
					t.Errorf("CheckResponse: %v", err)
				}
			})
		}
		if len(seen) < 100 {
			t.Errorf("checked %d distinct exchanges, want at least 100 (did the suite run?)", len(seen))
		}
	})
}

// TestClientCoversSpecFilters holds the client to the spec in the other direction: every
// filter openapi.yaml lists for GET /v1/customers has a CustomerFilter field.
func TestClientCoversSpecFilters(t *testing.T) {
	requireSpec(t)
	s, err := currentSpec()
	if err != nil {
		t.Fatal(err)
	}
	route, _, _, err := s.route(http.MethodGet, "/v1/customers", "")
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, f := range customerFilterFields(t) {
		have[f.tag] = true
	}
	n := 0
	for name := range declaredQueryParams(route) {
		if !strings.HasPrefix(name, "filter[") {
			continue
		}
		n++
		if !have[name] {
			t.Errorf("openapi.yaml lists %s for GET /v1/customers; kajabi.CustomerFilter has no field for it", name)
		}
	}
	if got, want := len(have), n+1; got != want { // +1: filter[is_suppressed]
		t.Errorf("kajabi.CustomerFilter has %d filters, want %d (the spec's %d plus filter[is_suppressed])", got, want, n)
	}
}

type filterField struct {
	name, tag string
	index     []int
}

// customerFilterFields lists kajabi.CustomerFilter's fields, so a filter added there is
// covered here without editing this file.
func customerFilterFields(t *testing.T) []filterField {
	t.Helper()
	typ := reflect.TypeFor[kajabi.CustomerFilter]()
	var out []filterField
	for i := range typ.NumField() {
		f := typ.Field(i)
		tag := f.Tag.Get("url")
		if !f.IsExported() || !strings.HasPrefix(tag, "filter[") {
			t.Fatalf("kajabi.CustomerFilter.%s has url tag %q, want filter[...]", f.Name, tag)
		}
		out = append(out, filterField{name: f.Name, tag: tag, index: f.Index})
	}
	return out
}

// setPlausible gives a filter field a value of the kind Kajabi expects, taken from the
// sandbox's data where the filter names a record, so filters match something.
func setPlausible(t *testing.T, v reflect.Value, name string, st *sandbox.Store) {
	t.Helper()
	first := func(n int, id func(int) string) string {
		if n == 0 {
			return "1"
		}
		return id(0)
	}
	idsOf := map[string]string{
		"SiteID":          first(len(st.Sites), func(i int) string { return st.Sites[i].ID }),
		"TagID":           first(len(st.Tags), func(i int) string { return st.Tags[i].ID }),
		"OfferID":         first(len(st.Offers), func(i int) string { return st.Offers[i].ID }),
		"ProductID":       first(len(st.Products), func(i int) string { return st.Products[i].ID }),
		"FormID":          first(len(st.Forms), func(i int) string { return st.Forms[i].ID }),
		"EventID":         first(len(st.Events), func(i int) string { return st.Events[i].ID }),
		"AssessmentID":    first(len(st.Assessments), func(i int) string { return st.Assessments[i].ID }),
		"BroadcastID":     first(len(st.Broadcasts), func(i int) string { return st.Broadcasts[i].ID }),
		"NewsletterID":    first(len(st.Newsletters), func(i int) string { return st.Newsletters[i].ID }),
		"EmailSequenceID": first(len(st.Sequences), func(i int) string { return st.Sequences[i].ID }),
		"CouponCode":      first(len(st.Coupons), func(i int) string { return st.Coupons[i].Code }),
	}
	text := "1"
	for suffix, id := range idsOf {
		if strings.HasSuffix(strings.TrimSuffix(name, "s"), suffix) {
			text = id
		}
	}
	switch {
	case strings.HasPrefix(name, "NetRevenue"):
		text = "149.50"
	case strings.HasSuffix(name, "Contains"), name == "Search":
		text = "a"
	}

	switch v.Kind() {
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		switch p.Elem().Kind() {
		case reflect.String:
			p.Elem().SetString(text)
		case reflect.Int:
			p.Elem().SetInt(30) // days
		case reflect.Bool:
			p.Elem().SetBool(true)
		default:
			t.Fatalf("CustomerFilter.%s: no plausible value for %s", name, v.Type())
		}
		v.Set(p)
	case reflect.Slice:
		if v.Type().Elem().Kind() != reflect.String {
			t.Fatalf("CustomerFilter.%s: no plausible value for %s", name, v.Type())
		}
		v.Set(reflect.ValueOf([]string{text, "1"}))
	default:
		t.Fatalf("CustomerFilter.%s: no plausible value for %s", name, v.Type())
	}
}

func listCustomers(ctx context.Context, t *testing.T, c *kajabi.Client, opts *kajabi.CustomerListOptions) {
	t.Helper()
	q := kajabi.EncodeQuery(opts)
	if err := CheckRequest(http.MethodGet, "/v1/customers", q); err != nil {
		t.Errorf("CheckRequest: %v", err)
	}
	if _, _, err := c.Customers.List(ctx, opts); err != nil {
		t.Errorf("Customers.List(%s): %v", q, err)
	}
}

func wantStatus(t *testing.T, err error, status int) {
	t.Helper()
	var er *kajabi.ErrorResponse
	if !errors.As(err, &er) {
		t.Fatalf("got error %v, want a *kajabi.ErrorResponse with status %d", err, status)
	}
	if er.StatusCode != status {
		t.Errorf("got status %d, want %d", er.StatusCode, status)
	}
}

package graph_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/kajabi-graphql/facade/graph"
	"github.com/kajabi-graphql/facade/graph/edge"
	"github.com/kajabi-graphql/facade/graph/loader"
	"github.com/kajabi-graphql/facade/kajabi/kajabitest"
	"github.com/kajabi-graphql/facade/kajabi/sandbox"
)

const relationsQuery = `{ customers(page: {number: 3, size: 20}) { nodes {
	id email
	contact { id email phoneNumber addressCity subscribed site { id } }
	site { id title subdomain }
	products { id title membersCount productType site { id } }
	offers { id title priceInCents currency checkoutUrl free }
} } }`

type relationsResult struct {
	Customers struct {
		Nodes []struct {
			ID      string `json:"id"`
			Email   string `json:"email"`
			Contact *struct {
				ID    string `json:"id"`
				Email string `json:"email"`
				Site  struct {
					ID string `json:"id"`
				} `json:"site"`
			} `json:"contact"`
			Site *struct {
				ID    string `json:"id"`
				Title string `json:"title"`
			} `json:"site"`
			Products []struct {
				ID   string `json:"id"`
				Site struct {
					ID string `json:"id"`
				} `json:"site"`
			} `json:"products"`
			Offers []struct {
				ID       string `json:"id"`
				Currency string `json:"currency"`
			} `json:"offers"`
		} `json:"nodes"`
	} `json:"customers"`
}

// TestRelationsCallBudget counts Kajabi calls for a page of 20 customers with every
// relation: one list, one GET per distinct contact, one sites list, the pages of each
// involved site's product and offer lists, one offer-ids GET per customer; no URL twice.
func TestRelationsCallBudget(t *testing.T) {
	up := kajabitest.NewSandbox(t, sandbox.Options{Customers: 1000})
	srv := newTestServer(t, up, &graph.Resolver{DefaultSiteID: "101"})

	var out relationsResult
	srv.mustQuery(t, relationsQuery, nil, &out)
	nodes := out.Customers.Nodes
	if len(nodes) != 20 {
		t.Fatalf("got %d customers, want 20", len(nodes))
	}

	// The data is the sandbox's: check every relation against the seeded store.
	store := up.Sandbox.Store()
	contacts, sites := map[string]bool{}, map[string]bool{}
	for _, n := range nodes {
		c, ok := store.Customer(n.ID)
		if !ok {
			t.Fatalf("customer %s not in the store", n.ID)
		}
		contacts[c.ContactID] = true
		sites[c.SiteID] = true
		if n.Contact == nil || n.Contact.ID != c.ContactID || n.Contact.Email != n.Email || n.Contact.Site.ID != c.SiteID {
			t.Errorf("customer %s: contact %+v, want %s on site %s", n.ID, n.Contact, c.ContactID, c.SiteID)
		}
		if n.Site == nil || n.Site.ID != c.SiteID || n.Site.Title != siteTitle(store, c.SiteID) {
			t.Errorf("customer %s: site %+v, want %s", n.ID, n.Site, c.SiteID)
		}
		var gotProducts []string
		for _, p := range n.Products {
			gotProducts = append(gotProducts, p.ID)
			if p.Site.ID != c.SiteID {
				t.Errorf("product %s of customer %s is on site %s, want %s", p.ID, n.ID, p.Site.ID, c.SiteID)
			}
		}
		if want := c.ProductIDs; fmt.Sprint(sorted(gotProducts)) != fmt.Sprint(sorted(want)) {
			t.Errorf("customer %s: products %v, want %v", n.ID, gotProducts, want)
		}
		var gotOffers []string
		for _, o := range n.Offers {
			gotOffers = append(gotOffers, o.ID)
		}
		if want := c.OfferIDs; fmt.Sprint(sorted(gotOffers)) != fmt.Sprint(sorted(want)) {
			t.Errorf("customer %s: offers %v, want %v", n.ID, gotOffers, want)
		}
	}

	byKind := map[string]int{}
	seen := map[string]bool{}
	for _, r := range up.Requests() {
		u := r.Path + "?" + r.RawQuery
		if seen[u] {
			t.Errorf("fetched twice in one request: %s", u)
		}
		seen[u] = true
		byKind[kindOf(r.Path)]++
	}
	productPages, offerPages := 0, 0
	for s := range sites {
		productPages += pagesOf(len(siteProducts(store, s)))
		offerPages += pagesOf(len(siteOffers(store, s)))
	}
	budget := []struct {
		kind string
		max  int
	}{
		{"customers", 1},
		{"contact", len(contacts)},
		{"sites", 1},
		{"products", productPages},
		{"customer-offers", 20},
		{"offers", offerPages},
		{"product", 0},
		{"offer", 0},
		{"site", 0},
	}
	total, max := 0, 0
	for _, b := range budget {
		total += byKind[b.kind]
		max += b.max
		if byKind[b.kind] > b.max {
			t.Errorf("%s: %d calls, budget %d", b.kind, byKind[b.kind], b.max)
		}
	}
	if total != len(up.Requests()) {
		t.Errorf("calls of unexpected kinds: %v", byKind)
	}
	t.Logf("upstream calls for 20 customers with relations: %d (budget %d): %v", total, max, byKind)

	// Without relations the same page is exactly one call.
	up.Reset()
	srv.mustQuery(t, `{ customers(page: {number: 3, size: 20}) { nodes { id email } } }`, nil, &out)
	if n := up.Calls(); n != 1 {
		t.Errorf("without relations: %d calls, want 1", n)
	}
}

// kindOf names a request by what it reads.
func kindOf(path string) string {
	parts := strings.Split(strings.Trim(path, "/"), "/") // v1, collection, id, ...
	switch {
	case len(parts) == 2:
		return parts[1]
	case len(parts) == 5 && parts[1] == "customers" && parts[4] == "offers":
		return "customer-offers"
	case len(parts) == 3:
		return strings.TrimSuffix(parts[1], "s")
	}
	return path
}

func siteTitle(store *sandbox.Store, id string) string {
	s, _ := store.Site(id)
	return s.Title
}

func siteProducts(store *sandbox.Store, siteID string) []sandbox.Product {
	var out []sandbox.Product
	for _, p := range store.Products {
		if p.SiteID == siteID {
			out = append(out, p)
		}
	}
	return out
}

func siteOffers(store *sandbox.Store, siteID string) []sandbox.Offer {
	var out []sandbox.Offer
	for _, o := range store.Offers {
		if o.SiteID == siteID {
			out = append(out, o)
		}
	}
	return out
}

func pagesOf(n int) int { return max(1, (n+99)/100) }

func sorted(s []string) []string {
	s = slices.Clone(s)
	sort.Strings(s)
	return s
}

// TestFailingRelationYieldsPartialData makes Kajabi fail one contact: that row's contact is
// null with an error at its path, and every other row arrives whole.
func TestFailingRelationYieldsPartialData(t *testing.T) {
	for _, status := range []int{404, 503} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			up := kajabitest.NewSandbox(t, sandbox.Options{Customers: 200})
			srv := newTestServer(t, up, &graph.Resolver{})
			var first relationsResult
			srv.mustQuery(t, `{ customers(first: 5) { nodes { id contact { id } } } }`, nil, &first)
			victim := first.Customers.Nodes[2].Contact.ID
			up.Sandbox.FailPath("/v1/contacts/"+victim, status)

			r := srv.do(t, `{ customers(first: 5) { nodes { id email contact { id email } site { id } } } }`, nil)
			if len(r.Errors) != 1 {
				t.Fatalf("got errors %+v, want exactly one", r.Errors)
			}
			e := r.Errors[0]
			wantCode := map[int]string{404: graph.CodeNotFound, 503: graph.CodeUpstreamUnavailable}[status]
			if e.Extensions["code"] != wantCode || e.Extensions["upstreamStatus"] != float64(status) {
				t.Errorf("extensions %v, want %s with upstreamStatus %d", e.Extensions, wantCode, status)
			}
			if fmt.Sprint(e.Path) != "[customers nodes 2 contact]" {
				t.Errorf("path %v, want [customers nodes 2 contact]", e.Path)
			}
			var out relationsResult
			if err := json.Unmarshal(r.Data, &out); err != nil {
				t.Fatal(err)
			}
			for i, n := range out.Customers.Nodes {
				if i == 2 {
					if n.Contact != nil {
						t.Errorf("row 2 contact = %+v, want null", n.Contact)
					}
					continue
				}
				if n.Contact == nil || n.Contact.Email != n.Email || n.Site == nil {
					t.Errorf("row %d incomplete: %+v", i, n)
				}
			}
			if len(out.Customers.Nodes) != 5 {
				t.Errorf("got %d rows, want 5", len(out.Customers.Nodes))
			}
		})
	}
}

// TestRootLookups checks the root fields and that a missing id is null plus NOT_FOUND.
func TestRootLookups(t *testing.T) {
	up := kajabitest.NewSandbox(t, sandbox.Options{Customers: 100})
	srv := newTestServer(t, up, &graph.Resolver{})
	store := up.Sandbox.Store()
	c := store.Customers[7]
	site := store.Sites[0]
	product := siteProducts(store, site.ID)[0]
	offer := siteOffers(store, site.ID)[0]

	q := fmt.Sprintf(`{
		customer(id: %q) { id email offers { id } }
		contact(id: %q) { id email }
		sites { id }
		site(id: %q) { id title }
		products(siteId: %q) { id }
		product(id: %q) { id title site { id } }
		offers(siteId: %q) { id }
		offer(id: %q) { id title products { id } }
		missing: customer(id: "999999999") { id }
	}`, c.ID, c.ContactID, site.ID, site.ID, product.ID, site.ID, offer.ID)
	r := srv.do(t, q, nil)
	if len(r.Errors) != 1 || r.code() != graph.CodeNotFound || fmt.Sprint(r.Errors[0].Path) != "[missing]" {
		t.Fatalf("errors %+v, want one NOT_FOUND at [missing]", r.Errors)
	}
	var out struct {
		Customer struct {
			ID     string `json:"id"`
			Offers []struct {
				ID string `json:"id"`
			} `json:"offers"`
		} `json:"customer"`
		Contact struct {
			ID string `json:"id"`
		} `json:"contact"`
		Sites    []struct{ ID string } `json:"sites"`
		Products []struct{ ID string } `json:"products"`
		Product  struct {
			Title string `json:"title"`
			Site  struct{ ID string }
		} `json:"product"`
		Offers  []struct{ ID string }  `json:"offers"`
		Offer   struct{ Title string } `json:"offer"`
		Missing *struct{}              `json:"missing"`
	}
	if err := json.Unmarshal(r.Data, &out); err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"customer", out.Customer.ID, c.ID},
		{"customer offers", len(out.Customer.Offers), len(c.OfferIDs)},
		{"contact", out.Contact.ID, c.ContactID},
		{"sites", len(out.Sites), len(store.Sites)},
		{"products", len(out.Products), len(siteProducts(store, site.ID))},
		{"product", out.Product.Title, product.Title},
		{"product site", out.Product.Site.ID, site.ID},
		{"offers", len(out.Offers), len(siteOffers(store, site.ID))},
		{"offer", out.Offer.Title, offer.Title},
		{"missing", out.Missing == nil, true},
	}
	for _, ch := range checks {
		if fmt.Sprint(ch.got) != fmt.Sprint(ch.want) {
			t.Errorf("%s: got %v, want %v", ch.name, ch.got, ch.want)
		}
	}
	// customer(id) carries its offer ids: no relationships/offers call for it.
	for _, req := range up.Requests() {
		if strings.HasSuffix(req.Path, "/relationships/offers") {
			t.Errorf("fetched %s although the customer read carried its offers", req.Path)
		}
	}
}

// TestSharedCacheKeepsCredentialsApart runs two callers with their own tokens through one
// handler and one shared cache: the valid token's cached sites and products are never
// served to the invalid one, and a second valid request is served from the cache.
func TestSharedCacheKeepsCredentialsApart(t *testing.T) {
	up := kajabitest.NewSandbox(t, sandbox.Options{Customers: 50, AccessTokens: []string{"token-alice"}})
	cache := loader.NewCache(time.Minute, 100)
	h := edge.NewHandler(&graph.Resolver{Client: up.Client(t)}, edge.HandlerOptions{
		Cache:       cache,
		Passthrough: true,
	})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	ask := func(token string) gqlResponse {
		t.Helper()
		return postAs(t, srv.URL, token, `{ sites { id title } products { id title } }`)
	}

	alice := ask("token-alice")
	if len(alice.Errors) > 0 || !strings.Contains(string(alice.Data), "title") {
		t.Fatalf("alice: %+v %s", alice.Errors, alice.Data)
	}
	entries := cache.Len()
	if entries == 0 {
		t.Fatal("alice's answers were not cached")
	}

	up.Reset()
	mallory := ask("token-mallory")
	if mallory.code() != graph.CodeUnauthenticated {
		t.Errorf("mallory got %+v, want UNAUTHENTICATED", mallory.Errors)
	}
	if strings.Contains(string(mallory.Data), "title") {
		t.Errorf("mallory was served alice's data: %s", mallory.Data)
	}
	if up.Calls() == 0 {
		t.Error("mallory's request never reached Kajabi: it was answered from someone else's cache")
	}
	for _, r := range up.Requests() {
		if r.Header.Get("Authorization") != "Bearer token-mallory" {
			t.Errorf("mallory's request went out as %q", r.Header.Get("Authorization"))
		}
	}
	if cache.Len() != entries {
		t.Errorf("a refused request added cache entries: %d, was %d", cache.Len(), entries)
	}

	up.Reset()
	again := ask("token-alice")
	if len(again.Errors) > 0 || string(again.Data) != string(alice.Data) {
		t.Errorf("alice's second answer differs: %+v", again.Errors)
	}
	if n := up.Calls(); n != 0 {
		t.Errorf("alice's second request made %d calls, want 0 (cached)", n)
	}

	noToken := postAs(t, srv.URL, "", `{ sites { id } }`)
	if noToken.code() != graph.CodeUnauthenticated {
		t.Errorf("no token: %+v, want UNAUTHENTICATED", noToken.Errors)
	}
}

func postAs(t *testing.T, url, token, query string) gqlResponse {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(fmt.Sprintf(`{"query":%q}`, query)))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out gqlResponse
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

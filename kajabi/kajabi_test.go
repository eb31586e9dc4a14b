package kajabi_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kajabi-graphql/facade/kajabi"
)

// setup starts a loopback server with a fresh mux and a client pointed at it.
func setup(t *testing.T, opts ...kajabi.Option) (*kajabi.Client, *http.ServeMux) {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	client, err := kajabi.NewClient(append([]kajabi.Option{kajabi.WithBaseURL(srv.URL)}, opts...)...)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return client, mux
}

func ptr[T any](v T) *T { return &v }

func TestEncodeQuery(t *testing.T) {
	tests := []struct {
		name string
		opts any
		want string
	}{
		{"nil", (*kajabi.CustomerListOptions)(nil), ""},
		{"empty", &kajabi.CustomerListOptions{}, ""},
		{"paging and sort", &kajabi.CustomerListOptions{Sort: "-name", ListOptions: kajabi.ListOptions{Page: 2, PageSize: 50}},
			"page[number]=2&page[size]=50&sort=-name"},
		{"zero days is sent", &kajabi.CustomerListOptions{Filter: kajabi.CustomerFilter{CreatedInLast: ptr(0)}},
			"filter[created_in_last]=0"},
		{"booleans both ways", &kajabi.CustomerListOptions{Filter: kajabi.CustomerFilter{Subscribed: ptr(false), IsHidden: ptr(true)}},
			"filter[is_hidden]=true&filter[subscribed]=false"},
		{"id lists join with commas", &kajabi.CustomerListOptions{Filter: kajabi.CustomerFilter{HasAllTagID: []string{"1", "22"}, NoSentEmailBroadcastIDs: []string{"7"}}},
			"filter[has_all_tag_id]=1,22&filter[no_sent_email_broadcast_ids]=7"},
		{"values are escaped", &kajabi.CustomerListOptions{Filter: kajabi.CustomerFilter{Search: ptr("a&b c=d+é")}},
			"filter[search]=a%26b+c%3Dd%2B%C3%A9"},
		{"sparse fields", &kajabi.CustomerListOptions{Fields: []string{"name", "email"}}, "fields[customers]=name,email"},
		{"address line", &kajabi.CustomerListOptions{Filter: kajabi.CustomerFilter{AddressLine1Contains: ptr("Main")}},
			"filter[address_line_1_contains]=Main"},
		{"products", &kajabi.ProductListOptions{SiteID: "9", ListOptions: kajabi.ListOptions{PageSize: 100}},
			"filter[site_id]=9&page[size]=100"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := kajabi.EncodeQuery(tt.opts); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

const customersPage = `{
  "data": [{
    "id": "456", "type": "customers",
    "attributes": {
      "name": "Alice Smith", "email": "alice@example.com", "avatar": null,
      "external_user_id": "cust_123", "public_bio": null, "public_location": "Lisbon",
      "public_website": null, "socials": {"twitter": "https://x.com/alice", "facebook": null, "instagram": null},
      "net_revenue": "149.50", "sign_in_count": 3,
      "last_request_at": "2026-11-01T10:00:00Z", "bounced_at": null,
      "created_at": "2024-11-12T23:43:09.551Z", "updated_at": "2025-01-01T00:00:00Z"
    },
    "relationships": {
      "contact": {"data": {"id": "321", "type": "contacts"}},
      "site": {"data": {"id": "123", "type": "sites"}},
      "offers": {"links": {"self": "https://api.example/v1/customers/456/relationships/offers"}},
      "products": {"data": [{"id": "789", "type": "products"}, {"id": "790", "type": "products"}]}
    },
    "links": {"contact": "https://api.example/v1/contacts/321"}
  }],
  "links": {
    "self": "https://api.example/v1/customers?page[number]=2&page[size]=1",
    "first": "https://api.example/v1/customers?page[number]=1&page[size]=1",
    "prev": "https://api.example/v1/customers?page[number]=1&page[size]=1",
    "next": "https://api.example/v1/customers?page[number]=3&page[size]=1",
    "last": "https://api.example/v1/customers?page[number]=5&page[size]=1"
  },
  "meta": {"total_pages": 5, "total_count": 5, "current_page": 2}
}`

func TestCustomersList(t *testing.T) {
	client, mux := setup(t, kajabi.WithAccessToken("tok"))
	mux.HandleFunc("GET /v1/customers", func(w http.ResponseWriter, r *http.Request) {
		if got, want := r.URL.RawQuery, "filter[site_id]=123&page[number]=2&page[size]=1"; got != want {
			t.Errorf("query: got %q, want %q", got, want)
		}
		if got := r.Header.Get("Authorization"); got != "Bearer tok" {
			t.Errorf("Authorization: got %q", got)
		}
		if got := r.Header.Get("Accept"); got != "application/vnd.api+json" {
			t.Errorf("Accept: got %q", got)
		}
		w.Header().Set("Content-Type", "application/vnd.api+json")
		io.WriteString(w, customersPage)
	})
	customers, resp, err := client.Customers.List(context.Background(), &kajabi.CustomerListOptions{
		Filter:      kajabi.CustomerFilter{SiteID: ptr("123")},
		ListOptions: kajabi.ListOptions{Page: 2, PageSize: 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(customers) != 1 {
		t.Fatalf("got %d customers, want 1", len(customers))
	}
	c := customers[0]
	checks := []struct {
		name      string
		got, want any
	}{
		{"id", c.ID, "456"},
		{"name", c.Name, "Alice Smith"},
		{"avatar", c.Avatar, (*string)(nil)},
		{"external id", *c.ExternalUserID, "cust_123"},
		{"location", *c.PublicLocation, "Lisbon"},
		{"twitter", *c.Socials.Twitter, "https://x.com/alice"},
		{"net revenue", *c.NetRevenue, "149.50"},
		{"sign ins", *c.SignInCount, 3},
		{"last request", c.LastRequestAt.Equal(time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)), true},
		{"bounced", c.BouncedAt, (*time.Time)(nil)},
		{"created", c.CreatedAt.Equal(time.Date(2024, 11, 12, 23, 43, 9, 551e6, time.UTC)), true},
		{"contact", *c.Contact, kajabi.Identifier{ID: "321", Type: "contacts"}},
		{"site", *c.Site, kajabi.Identifier{ID: "123", Type: "sites"}},
		{"products", fmt.Sprint(c.Products), "[{789 products} {790 products}]"},
		{"offers link", c.OffersLink, "https://api.example/v1/customers/456/relationships/offers"},
		{"meta", *resp.Meta, kajabi.Meta{TotalPages: 5, TotalCount: 5, CurrentPage: 2}},
		{"next page", resp.NextPage, 3},
		{"last page", resp.LastPage, 5},
		{"status", resp.StatusCode, 200},
	}
	for _, ch := range checks {
		if fmt.Sprint(ch.got) != fmt.Sprint(ch.want) {
			t.Errorf("%s: got %v, want %v", ch.name, ch.got, ch.want)
		}
	}
}

func TestReads(t *testing.T) {
	client, mux := setup(t, kajabi.WithAccessToken("tok"))
	var mu sync.Mutex
	var seen []string
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.URL.RequestURI())
		mu.Unlock()
		w.Header().Set("Content-Type", "application/vnd.api+json")
		switch {
		case strings.HasSuffix(r.URL.Path, "/relationships/offers"):
			io.WriteString(w, `{"data":[{"id":"5","type":"offers"}],"links":{"self":"x"}}`)
		case strings.Count(r.URL.EscapedPath(), "/") == 3: // /v1/things/{id}
			io.WriteString(w, `{"data":{"id":"42","type":"x","attributes":{"title":"T","name":"N","subscribed":true},
				"relationships":{"site":{"data":{"id":"1","type":"sites"}},"offers":{"data":[{"id":"5","type":"offers"}]}}}}`)
		default:
			io.WriteString(w, `{"data":[{"id":"42","type":"x","attributes":{"title":"T"}}],"meta":{"total_count":1,"total_pages":1,"current_page":1}}`)
		}
	})
	ctx := context.Background()
	cust, _, err := client.Customers.Get(ctx, "42")
	if err != nil || cust.ID != "42" || fmt.Sprint(cust.Offers) != "[{5 offers}]" {
		t.Errorf("Customers.Get: got %+v, %v", cust, err)
	}
	offerIDs, _, err := client.Customers.ListOfferIDs(ctx, "42")
	if err != nil || fmt.Sprint(offerIDs) != "[{5 offers}]" {
		t.Errorf("ListOfferIDs: got %v, %v", offerIDs, err)
	}
	contact, _, err := client.Contacts.Get(ctx, "42")
	if err != nil || contact.Name != "N" || !contact.Subscribed || contact.Site.ID != "1" {
		t.Errorf("Contacts.Get: got %+v, %v", contact, err)
	}
	sites, _, err := client.Sites.List(ctx, nil)
	if err != nil || len(sites) != 1 || sites[0].Title != "T" {
		t.Errorf("Sites.List: got %v, %v", sites, err)
	}
	site, _, err := client.Sites.Get(ctx, "42")
	if err != nil || site.ID != "42" {
		t.Errorf("Sites.Get: got %v, %v", site, err)
	}
	products, _, err := client.Products.List(ctx, &kajabi.ProductListOptions{SiteID: "1"})
	if err != nil || len(products) != 1 {
		t.Errorf("Products.List: got %v, %v", products, err)
	}
	product, _, err := client.Products.Get(ctx, "42")
	if err != nil || product.Site.ID != "1" {
		t.Errorf("Products.Get: got %+v, %v", product, err)
	}
	offers, _, err := client.Offers.List(ctx, &kajabi.OfferListOptions{SiteID: "1", ListOptions: kajabi.ListOptions{Page: 2}})
	if err != nil || len(offers) != 1 {
		t.Errorf("Offers.List: got %v, %v", offers, err)
	}
	offer, _, err := client.Offers.Get(ctx, "7")
	if err != nil || offer.Title != "T" {
		t.Errorf("Offers.Get: got %+v, %v", offer, err)
	}
	want := []string{
		"/v1/customers/42", "/v1/customers/42/relationships/offers", "/v1/contacts/42",
		"/v1/sites", "/v1/sites/42", "/v1/products?filter[site_id]=1", "/v1/products/42",
		"/v1/offers?filter[site_id]=1&page[number]=2", "/v1/offers/7",
	}
	if fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Errorf("requests:\n got %v\nwant %v", seen, want)
	}
}

func TestErrorResponse(t *testing.T) {
	client, mux := setup(t, kajabi.WithAccessToken("secret-token"))
	mux.HandleFunc("GET /v1/contacts/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/vnd.api+json")
		switch r.PathValue("id") {
		case "429":
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(http.StatusTooManyRequests)
			io.WriteString(w, `{"errors":[{"status":"429","title":"Too Many Requests"}]}`)
		case "200":
			io.WriteString(w, `{"data": [1, 2`)
		default:
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"errors":[{"status":"404","title":"Not Found","detail":"Contact not found","source":{"pointer":"/data"}}]}`)
		}
	})
	_, _, err := client.Contacts.Get(context.Background(), "1")
	var apiErr *kajabi.ErrorResponse
	if !errors.As(err, &apiErr) {
		t.Fatalf("got %T %v, want *ErrorResponse", err, err)
	}
	if apiErr.StatusCode != 404 || len(apiErr.Errors) != 1 || apiErr.Errors[0].Detail != "Contact not found" || apiErr.Errors[0].Source.Pointer != "/data" {
		t.Errorf("got %+v", apiErr)
	}
	if strings.Contains(err.Error(), "secret-token") {
		t.Errorf("error leaks the token: %v", err)
	}

	_, _, err = client.Contacts.Get(context.Background(), "200")
	var decErr *kajabi.DecodeError
	if !errors.As(err, &decErr) {
		t.Errorf("got %T %v, want *DecodeError", err, err)
	}

	// Last: Kajabi's 429 pauses this account's calls for its 7s.
	_, _, err = client.Contacts.Get(context.Background(), "429")
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 429 || apiErr.RetryAfter != 7*time.Second {
		t.Errorf("got %v (retry after %v), want 429 with 7s", err, apiErr.RetryAfter)
	}
}

func TestContextCancellation(t *testing.T) {
	client, mux := setup(t, kajabi.WithAccessToken("tok"))
	release := make(chan struct{})
	defer close(release)
	mux.HandleFunc("GET /v1/sites", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, _, err := client.Sites.List(ctx, nil)
	var te *kajabi.TransportError
	if !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &te) || !te.Timeout() {
		t.Errorf("got %v, want a timed-out TransportError", err)
	}
}

// tokenServer is a fake OAuth endpoint that counts grants and issues numbered tokens.
type tokenServer struct {
	mu             sync.Mutex
	clientCreds    int
	refreshes      int
	refuseRefresh  bool
	expiresIn      int
	issued         int
	delay          time.Duration
	validToken     string
	unauthorizedOn map[string]bool
}

func (ts *tokenServer) handle(t *testing.T, mux *http.ServeMux) {
	mux.HandleFunc("POST /v1/oauth/token", func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(ts.delay)
		if err := r.ParseForm(); err != nil {
			t.Error(err)
		}
		if r.PostForm.Get("client_id") != "id" || r.PostForm.Get("client_secret") != "shh" {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error":"invalid_client"}`)
			return
		}
		ts.mu.Lock()
		defer ts.mu.Unlock()
		switch r.PostForm.Get("grant_type") {
		case "client_credentials":
			ts.clientCreds++
		case "refresh_token":
			ts.refreshes++
			if ts.refuseRefresh || r.PostForm.Get("refresh_token") != fmt.Sprintf("refresh-%d", ts.issued) {
				w.WriteHeader(http.StatusBadRequest)
				io.WriteString(w, `{"error":"invalid_grant"}`)
				return
			}
		}
		ts.issued++
		ts.validToken = fmt.Sprintf("access-%d", ts.issued)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":%q,"refresh_token":"refresh-%d","token_type":"Bearer","expires_in":%d}`, ts.validToken, ts.issued, ts.expiresIn)
	})
	mux.HandleFunc("GET /v1/sites", func(w http.ResponseWriter, r *http.Request) {
		ts.mu.Lock()
		ok := r.Header.Get("Authorization") == "Bearer "+ts.validToken
		ts.mu.Unlock()
		if !ok {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"errors":[{"status":"401","title":"Unauthorized"}]}`)
			return
		}
		io.WriteString(w, `{"data":[]}`)
	})
}

func (ts *tokenServer) counts() (int, int) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.clientCreds, ts.refreshes
}

func TestClientCredentialsOneGrantForManyRequests(t *testing.T) {
	ts := &tokenServer{expiresIn: 3600, delay: 20 * time.Millisecond}
	client, mux := setup(t, kajabi.WithClientCredentials("id", "shh"))
	ts.handle(t, mux)
	var wg sync.WaitGroup
	var failures atomic.Int32
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, _, err := client.Sites.List(context.Background(), nil); err != nil {
				failures.Add(1)
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if cc, rf := ts.counts(); cc != 1 || rf != 0 {
		t.Errorf("got %d client-credential and %d refresh grants, want 1 and 0", cc, rf)
	}
}

func TestClientCredentialsRenewal(t *testing.T) {
	// expires_in 1s: with the default lead (a tenth of the lifetime) renewal starts after
	// 0.9s while the old token still works.
	ts := &tokenServer{expiresIn: 1}
	client, mux := setup(t, kajabi.WithClientCredentials("id", "shh"))
	ts.handle(t, mux)
	ctx := context.Background()
	if _, _, err := client.Sites.List(ctx, nil); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond) // past expiry: the next call must wait for a new token
	if _, _, err := client.Sites.List(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if cc, rf := ts.counts(); cc != 1 || rf != 1 {
		t.Errorf("got %d client-credential and %d refresh grants, want 1 and 1 (refresh first)", cc, rf)
	}

	ts.mu.Lock()
	ts.refuseRefresh = true
	ts.mu.Unlock()
	time.Sleep(1100 * time.Millisecond)
	if _, _, err := client.Sites.List(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if cc, rf := ts.counts(); cc != 2 || rf != 2 {
		t.Errorf("got %d client-credential and %d refresh grants, want 2 and 2 (fallback after a refused refresh)", cc, rf)
	}
}

func TestClientCredentials401RenewsOnceAndRetriesOnce(t *testing.T) {
	ts := &tokenServer{expiresIn: 3600}
	client, mux := setup(t, kajabi.WithClientCredentials("id", "shh"))
	ts.handle(t, mux)
	ctx := context.Background()
	if _, _, err := client.Sites.List(ctx, nil); err != nil {
		t.Fatal(err)
	}
	// Kajabi revokes the token: the next call gets 401, renews, and succeeds on retry.
	ts.mu.Lock()
	ts.validToken = "revoked"
	ts.mu.Unlock()
	ts.mu.Lock()
	ts.refuseRefresh = false
	ts.mu.Unlock()
	if _, _, err := client.Sites.List(ctx, nil); err != nil {
		t.Fatalf("after revocation: %v", err)
	}
	if cc, rf := ts.counts(); cc+rf != 2 {
		t.Errorf("got %d grants in all, want 2", cc+rf)
	}

	// A server that refuses every token: one renewal, one retry, then a clean 401.
	mux2 := http.NewServeMux()
	srv := httptest.NewServer(mux2)
	defer srv.Close()
	var grants, calls atomic.Int32
	mux2.HandleFunc("POST /v1/oauth/token", func(w http.ResponseWriter, r *http.Request) {
		grants.Add(1)
		io.WriteString(w, `{"access_token":"a","expires_in":3600}`)
	})
	mux2.HandleFunc("GET /v1/sites", func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusUnauthorized)
	})
	c2, _ := kajabi.NewClient(kajabi.WithBaseURL(srv.URL), kajabi.WithClientCredentials("id", "shh"))
	_, _, err := c2.Sites.List(ctx, nil)
	var apiErr *kajabi.ErrorResponse
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 401 {
		t.Errorf("got %v, want a 401 ErrorResponse", err)
	}
	if grants.Load() != 2 || calls.Load() != 2 {
		t.Errorf("got %d grants and %d calls, want 2 and 2", grants.Load(), calls.Load())
	}
}

func TestClientCredentialsBadSecret(t *testing.T) {
	client, mux := setup(t, kajabi.WithClientCredentials("id", "wrong-secret"))
	(&tokenServer{expiresIn: 60}).handle(t, mux)
	_, _, err := client.Sites.List(context.Background(), nil)
	var apiErr *kajabi.ErrorResponse
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 401 || apiErr.Message() != "invalid_client" {
		t.Fatalf("got %v, want 401 invalid_client", err)
	}
	if strings.Contains(err.Error(), "wrong-secret") {
		t.Errorf("error leaks the secret: %v", err)
	}
}

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
	"testing"

	"github.com/kajabi-graphql/facade/kajabi"
)

// hostileIDs are ids no Kajabi record has, each of which would name another path (or
// another endpoint, behind a proxy that cleans or decodes paths) if it were sent.
var hostileIDs = []string{
	"..", "%2e%2e", "%2E%2E", "1/../2", "1?x=y", "1#x", "", "12 3", "-1", "+1", "1.0", "0x1F",
	"１２", "1\x00", "1\n", "../../v1/oauth/token", strings.Repeat("9", 30), "9223372036854775808",
	strings.Repeat("0", 20) + "1",
}

func TestValidID(t *testing.T) {
	tests := []struct {
		id   string
		want bool
	}{
		{"0", true}, {"1", true}, {"123", true}, {"9223372036854775807", true}, {"007", true},
	}
	for _, id := range hostileIDs {
		tests = append(tests, struct {
			id   string
			want bool
		}{id, false})
	}
	for _, tt := range tests {
		if got := kajabi.ValidID(tt.id); got != tt.want {
			t.Errorf("ValidID(%q): got %v, want %v", tt.id, got, tt.want)
		}
	}
}

// TestMalformedIDsAreNotSent calls every method that puts an id in a path with each
// hostile id: each is refused with an *InvalidIDError and nothing reaches the server.
func TestMalformedIDsAreNotSent(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	client, mux := setup(t, kajabi.WithAccessToken("tok"))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.URL.RequestURI())
		mu.Unlock()
		http.Error(w, "unexpected", http.StatusTeapot)
	})
	ctx := context.Background()
	calls := []struct {
		name string
		call func(id string) error
	}{
		{"Customers.Get", func(id string) error { _, _, err := client.Customers.Get(ctx, id); return err }},
		{"Customers.ListOfferIDs", func(id string) error { _, _, err := client.Customers.ListOfferIDs(ctx, id); return err }},
		{"Contacts.Get", func(id string) error { _, _, err := client.Contacts.Get(ctx, id); return err }},
		{"Sites.Get", func(id string) error { _, _, err := client.Sites.Get(ctx, id); return err }},
		{"Products.Get", func(id string) error { _, _, err := client.Products.Get(ctx, id); return err }},
		{"Offers.Get", func(id string) error { _, _, err := client.Offers.Get(ctx, id); return err }},
	}
	for _, c := range calls {
		for _, id := range hostileIDs {
			t.Run(fmt.Sprintf("%s(%q)", c.name, id), func(t *testing.T) {
				err := c.call(id)
				var idErr *kajabi.InvalidIDError
				if !errors.As(err, &idErr) || idErr.ID != id {
					t.Errorf("got %T %v, want *InvalidIDError for %q", err, err, id)
				}
				if err != nil && len(err.Error()) > 200 {
					t.Errorf("got an error of %d bytes, want it short", len(err.Error()))
				}
			})
		}
	}
	if len(seen) != 0 {
		t.Errorf("got %d requests %v, want none", len(seen), seen)
	}
}

// TestRedirectsAreNotFollowed answers each call with a redirect, to another path of the
// same host and to another host. The client never sends a second request, with the
// token or anything else, and the caller gets the 3xx as an *ErrorResponse.
func TestRedirectsAreNotFollowed(t *testing.T) {
	type hit struct{ path, auth, body string }
	var mu sync.Mutex
	var kajabiHits, elsewhereHits []hit
	record := func(hits *[]hit) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			mu.Lock()
			*hits = append(*hits, hit{r.URL.RequestURI(), r.Header.Get("Authorization"), string(body)})
			mu.Unlock()
		}
	}
	elsewhere := httptest.NewServer(record(&elsewhereHits))
	t.Cleanup(elsewhere.Close)

	var status int
	var location string
	kajabiSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		record(&kajabiHits)(w, r)
		if !strings.HasPrefix(r.URL.Path, "/v1/customers/1") && r.URL.Path != "/v1/oauth/token" {
			io.WriteString(w, `{"data":{"id":"1","type":"sites","attributes":{}}}`) // what following would find
			return
		}
		mu.Lock()
		code, to := status, location
		mu.Unlock()
		w.Header().Set("Location", to)
		w.WriteHeader(code)
	}))
	t.Cleanup(kajabiSrv.Close)

	const token, secret = "service-token", "service-secret"
	plain := &http.Client{} // follows redirects unless the client stops it
	clients := []struct {
		name string
		opts []kajabi.Option
	}{
		{"default http client, access token", []kajabi.Option{kajabi.WithAccessToken(token)}},
		{"own http client, access token", []kajabi.Option{kajabi.WithHTTPClient(plain), kajabi.WithAccessToken(token)}},
		{"client credentials", []kajabi.Option{kajabi.WithClientCredentials("id", secret)}},
	}
	targets := []struct{ name, location string }{
		{"another path", "/v1/sites/1"},
		{"a cleaned path", "/v1/"},
		{"another host", elsewhere.URL + "/steal"},
	}
	for _, c := range clients {
		for _, code := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
			for _, target := range targets {
				t.Run(fmt.Sprintf("%s/%d to %s", c.name, code, target.name), func(t *testing.T) {
					mu.Lock()
					kajabiHits, elsewhereHits = nil, nil
					status, location = code, target.location
					mu.Unlock()
					client, err := kajabi.NewClient(append([]kajabi.Option{kajabi.WithBaseURL(kajabiSrv.URL), kajabi.WithRetry(kajabi.RetryPolicy{MaxAttempts: 1})}, c.opts...)...)
					if err != nil {
						t.Fatal(err)
					}
					_, _, err = client.Customers.Get(context.Background(), "1")
					var apiErr *kajabi.ErrorResponse
					if !errors.As(err, &apiErr) || apiErr.StatusCode != code {
						t.Errorf("got %T %v, want *ErrorResponse with status %d", err, err, code)
					}
					if err != nil && (strings.Contains(err.Error(), token) || strings.Contains(err.Error(), secret)) {
						t.Errorf("the error holds a credential: %v", err)
					}
					mu.Lock()
					defer mu.Unlock()
					if len(kajabiHits) != 1 {
						t.Errorf("got %d requests to Kajabi %+v, want 1: the redirect was followed", len(kajabiHits), kajabiHits)
					}
					if len(elsewhereHits) != 0 {
						t.Errorf("got %d requests elsewhere %+v, want none", len(elsewhereHits), elsewhereHits)
					}
				})
			}
		}
	}
	if plain.CheckRedirect != nil {
		t.Error("WithHTTPClient changed the caller's own http.Client; want a copy changed")
	}
}

package kajabitest

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// These tests prove the checks can fail: a contract test whose checks pass everything
// proves nothing.

func TestCheckRequest(t *testing.T) {
	requireSpec(t)
	tests := []struct {
		name, method, path, query string
		want                      string // substring of the error; empty means allowed
	}{
		{"declared filters", "GET", "/v1/customers", "filter[site_id]=1&filter[search]=ann&page[number]=2&page[size]=50&sort=-name&fields[customers]=name,email", ""},
		{"is_suppressed exception", "GET", "/v1/customers", "filter[is_suppressed]=true", ""},
		{"customer show fields", "GET", "/v1/customers/42", "fields[customers]=name", ""},
		{"relationship", "GET", "/v1/customers/42/relationships/offers", "", ""},
		{"token", "POST", "/v1/oauth/token", "", ""},
		{"undeclared filter", "GET", "/v1/customers", "filter[bogus]=1", `"filter[bogus]"`},
		{"site_id on sites", "GET", "/v1/sites", "filter[site_id]=1", `"filter[site_id]"`},
		{"exception is for customers only", "GET", "/v1/sites", "filter[is_suppressed]=true", `"filter[is_suppressed]"`},
		{"undeclared on show", "GET", "/v1/sites/1", "page[size]=5", `"page[size]"`},
		{"value of the wrong type", "GET", "/v1/customers", "page[size]=lots", `"page[size]"`},
		{"unknown path", "GET", "/v1/customer", "", "no such operation"},
		{"unknown nested path", "GET", "/v1/sites/1/customers", "", "no such operation"},
		{"method not in spec", "DELETE", "/v1/sites/1", "", "no such operation"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckRequest(tt.method, tt.path, tt.query)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("CheckRequest(%s %s?%s) = %v, want nil", tt.method, tt.path, tt.query, err)
			case tt.want != "" && err == nil:
				t.Errorf("CheckRequest(%s %s?%s) = nil, want an error about %s", tt.method, tt.path, tt.query, tt.want)
			case tt.want != "" && !strings.Contains(err.Error(), tt.want):
				t.Errorf("CheckRequest(%s %s?%s) = %v, want it to mention %s", tt.method, tt.path, tt.query, err, tt.want)
			}
		})
	}
}

func TestCheckRequestAuthorization(t *testing.T) {
	requireSpec(t)
	s, err := currentSpec()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, method, path, auth string
		ok                       bool
	}{
		{"bearer", "GET", "/v1/customers", "Bearer abc", true},
		{"missing", "GET", "/v1/customers", "", false},
		{"empty token", "GET", "/v1/customers", "Bearer ", false},
		{"basic", "GET", "/v1/sites/1", "Basic dXNlcjpwYXNz", false},
		{"bare token", "GET", "/v1/sites/1", "abc", false},
		{"scheme in lower case", "GET", "/v1/sites/1", "bearer abc", true},
		{"token endpoint needs none", "POST", "/v1/oauth/token", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.auth != "" {
				h.Set("Authorization", tt.auth)
			}
			_, problems := s.requestProblems(tt.method, tt.path, "", h)
			if got := len(problems) == 0; got != tt.ok {
				t.Errorf("%s %s with Authorization %q: problems %q, want ok=%v", tt.method, tt.path, tt.auth, problems, tt.ok)
			}
			for _, p := range problems {
				if strings.Contains(p, "dXNlcjpwYXNz") || strings.Contains(p, "abc") {
					t.Errorf("problem %q leaks the credential", p)
				}
			}
		})
	}
}

func TestCheckResponse(t *testing.T) {
	requireSpec(t)
	jsonAPI := http.Header{"Content-Type": {"application/vnd.api+json"}}
	const customer = `{"id":"1","type":"customers","attributes":{"name":"Ann","email":"ann@example.com","avatar":null,"external_user_id":null,"sign_in_count":3,"socials":null,"created_at":"2026-01-02T03:04:05Z","updated_at":"2026-01-02T03:04:05Z"},"relationships":{"contact":{"data":{"id":"9","type":"contacts"}}}}`
	tests := []struct {
		name   string
		method string
		path   string
		status int
		header http.Header
		body   string
		want   string // substring of the error; empty means it conforms
	}{
		{"customers list", "GET", "/v1/customers", 200, jsonAPI, `{"data":[` + customer + `],"links":{"self":"x"},"meta":{"total_count":1}}`, ""},
		{"media type parameters", "GET", "/v1/customers", 200, http.Header{"Content-Type": {"application/vnd.api+json; charset=utf-8"}}, `{"data":[]}`, ""},
		{"nullable: true admits null", "GET", "/v1/customers/1", 200, jsonAPI, `{"data":{"attributes":{"sign_in_count":null,"last_request_at":null}}}`, ""},
		{"wrong type", "GET", "/v1/customers", 200, jsonAPI, `{"data":[{"id":"1","attributes":{"sign_in_count":"three"}}]}`, "/data/0/attributes/sign_in_count"},
		{"null where not nullable", "GET", "/v1/customers", 200, jsonAPI, `{"data":[{"id":"1","attributes":{"name":null}}]}`, "/data/0/attributes/name"},
		{"bad date-time", "GET", "/v1/sites/1", 200, jsonAPI, `{"data":{"id":"1","attributes":{"created_at":"yesterday"}}}`, "/data/attributes/created_at"},
		{"missing required", "GET", "/v1/offers/1", 200, jsonAPI, `{"data":{"id":"1","attributes":{"price_in_cents":100}}}`, "title"},
		{"relationship without id", "GET", "/v1/customers/1/relationships/offers", 200, jsonAPI, `{"data":[{"type":"offers"}]}`, "/data/0"},
		{"wrong content type", "GET", "/v1/customers", 200, http.Header{"Content-Type": {"application/json"}}, `{"data":[]}`, "Content-Type"},
		{"no content type", "GET", "/v1/sites", 200, http.Header{}, `{"data":[]}`, "Content-Type"},
		{"not JSON", "GET", "/v1/sites", 200, jsonAPI, `<html>`, "decode"},
		{"documented 401", "GET", "/v1/customers", 401, jsonAPI, `{"errors":[{"status":"401","title":"Unauthorized","detail":"bad token"}]}`, ""},
		{"documented 401 of the wrong shape", "GET", "/v1/customers", 401, jsonAPI, `{"errors":[{"status":401}]}`, "/errors/0/status"},
		{"undocumented 404", "GET", "/v1/customers/1", 404, jsonAPI, `{"errors":[{"status":"404","title":"Not Found","detail":"no customer 1"}]}`, ""},
		{"undocumented 503", "GET", "/v1/sites", 503, jsonAPI, `{"errors":[{"status":"503","title":"Service Unavailable"}]}`, ""},
		{"undocumented 503 without errors", "GET", "/v1/sites", 503, jsonAPI, `{"message":"down"}`, `no "errors"`},
		{"undocumented 503 as text", "GET", "/v1/sites", 503, http.Header{"Content-Type": {"text/plain"}}, `down`, "Content-Type"},
		{"undocumented 500 as a JSON array", "GET", "/v1/sites", 500, jsonAPI, `[]`, "errors_unavailable"},
		{"undocumented 404 of the wrong shape", "GET", "/v1/contacts/1", 404, jsonAPI, `{"errors":"not found"}`, "errors_not_found"},
		{"token", "POST", "/v1/oauth/token", 200, http.Header{"Content-Type": {"application/json"}}, `{"access_token":"a","refresh_token":"r","token_type":"Bearer","expires_in":7200}`, ""},
		{"token error", "POST", "/v1/oauth/token", 401, http.Header{"Content-Type": {"application/json"}}, `{"error":"invalid client credentials"}`, ""},
		{"token with a string lifetime", "POST", "/v1/oauth/token", 200, http.Header{"Content-Type": {"application/json"}}, `{"access_token":"a","expires_in":"7200"}`, "/expires_in"},
		{"token 503 as JSON:API", "POST", "/v1/oauth/token", 503, jsonAPI, `{"errors":[{"status":"503","title":"Service Unavailable"}]}`, ""},
		{"unknown path", "GET", "/v1/nothing", 200, jsonAPI, `{}`, "no such operation"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckResponse(tt.method, tt.path, tt.status, tt.header, []byte(tt.body))
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("CheckResponse(%s %s %d) = %v, want nil", tt.method, tt.path, tt.status, err)
			case tt.want != "" && err == nil:
				t.Errorf("CheckResponse(%s %s %d) = nil, want an error about %s", tt.method, tt.path, tt.status, tt.want)
			case tt.want != "" && !strings.Contains(err.Error(), tt.want):
				t.Errorf("CheckResponse(%s %s %d) = %v, want it to mention %s", tt.method, tt.path, tt.status, err, tt.want)
			}
		})
	}
}

// TestChecksConcurrently runs the checks from many goroutines at once, as parallel tests'
// cleanups do over the one cached spec; run it with -race.
func TestChecksConcurrently(t *testing.T) {
	requireSpec(t)
	jsonAPI := http.Header{"Content-Type": {"application/vnd.api+json"}}
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			if err := CheckRequest("GET", "/v1/customers", "filter[site_id]=1&page[size]=20"); err != nil {
				t.Errorf("CheckRequest: %v", err)
			}
			err := CheckResponse("GET", "/v1/customers", 200, jsonAPI, []byte(`{"data":[{"id":"1","attributes":{"sign_in_count":`+strconv.Itoa(i)+`}}]}`))
			if err != nil {
				t.Errorf("CheckResponse: %v", err)
			}
			if err := CheckResponse("GET", "/v1/sites/1", 404, jsonAPI, []byte(`{"errors":[]}`)); err == nil {
				t.Error("CheckResponse accepted an empty errors array")
			}
		})
	}
	wg.Wait()
}

package sandbox_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/kajabi-graphql/facade/kajabi/sandbox"
)

// TestMultiSite: on an account with several sites, Kajabi requires filter[site_id] on a
// customers list; the sandbox answers 400 with a JSON:API error naming the parameter.
func TestMultiSite(t *testing.T) {
	e := sharedEnv(t)
	cases := []struct {
		query      string
		wantStatus int
	}{
		{"", http.StatusBadRequest},
		{"filter[site_id]=", http.StatusBadRequest},
		{"filter[search]=a", http.StatusBadRequest},
		{"filter[site_id]=101", http.StatusOK},
	}
	for _, tc := range cases {
		resp, body := e.do(t, http.MethodGet, "/v1/customers?"+tc.query, testToken)
		if resp.StatusCode != tc.wantStatus {
			t.Errorf("?%s: got %d, want %d", tc.query, resp.StatusCode, tc.wantStatus)
		}
		if tc.wantStatus == http.StatusBadRequest {
			var doc errorDoc
			if err := json.Unmarshal(body, &doc); err != nil || len(doc.Errors) != 1 || doc.Errors[0].Status != "400" ||
				!strings.Contains(string(body), `"source":{"parameter":"filter[site_id]"}`) {
				t.Errorf("?%s: got body %s, want one JSON:API error naming filter[site_id]", tc.query, body)
			}
		}
	}
}

// TestDocsPaging: PagingDocs answers lists with links self and current only and no meta,
// as the response schemas and the docs page show, for every list.
func TestDocsPaging(t *testing.T) {
	e := newEnv(t, sandbox.Options{Customers: 30, PagingMetadata: sandbox.PagingDocs})
	for _, path := range []string{"/v1/customers?filter[site_id]=101&page[size]=5&page[number]=2", "/v1/sites", "/v1/products", "/v1/offers"} {
		var doc map[string]json.RawMessage
		e.getJSON(t, path, &doc)
		if _, ok := doc["meta"]; ok {
			t.Errorf("%s: got meta %s, want none", path, doc["meta"])
		}
		var links map[string]string
		if err := json.Unmarshal(doc["links"], &links); err != nil || len(links) != 2 || links["self"] == "" || links["current"] != links["self"] {
			t.Errorf("%s: got links %s, want self and current only, equal", path, doc["links"])
		}
	}
}

// TestRestrictedKey: the second API key lacks view:contacts; its contact calls answer 403
// in the errors_forbidden shape, everything else as for the full key.
func TestRestrictedKey(t *testing.T) {
	e := newEnv(t, sandbox.Options{Customers: 10})
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {sandbox.RestrictedClientID}, "client_secret": {sandbox.RestrictedClientSecret}}
	resp, err := http.PostForm(e.srv.URL+"/v1/oauth/token", form)
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	err = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if err != nil || tok.AccessToken == "" {
		t.Fatalf("token: %v, got %q", err, tok.AccessToken)
	}
	st := e.sb.Store()
	contact := st.Contacts[0].ID
	cases := []struct {
		path string
		want int
	}{
		{"/v1/contacts/" + contact, http.StatusForbidden},
		{"/v1/contacts/" + contact + "/relationships/tags", http.StatusForbidden},
		{"/v1/customers/" + st.Customers[0].ID, http.StatusOK},
		{"/v1/sites", http.StatusOK},
	}
	for _, tc := range cases {
		resp, body := e.do(t, http.MethodGet, tc.path, tok.AccessToken)
		if resp.StatusCode != tc.want {
			t.Errorf("%s: got %d %s, want %d", tc.path, resp.StatusCode, body, tc.want)
		}
		if tc.want == http.StatusForbidden && !strings.Contains(string(body), "view:contacts") {
			t.Errorf("%s: got %s, want the missing permission named", tc.path, body)
		}
		if resp, _ := e.do(t, http.MethodGet, tc.path, testToken); resp.StatusCode != http.StatusOK {
			t.Errorf("%s with the full key: got %d, want 200", tc.path, resp.StatusCode)
		}
	}
}

package sandbox_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kajabi-graphql/facade/kajabi/sandbox"
)

type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
}

// postToken calls the token endpoint with form values (and basic auth when
// user is set) and returns the status and raw body.
func postToken(t *testing.T, e *env, form url.Values, user, pass string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+"/v1/oauth/token", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var raw json.RawMessage
	if err := json.NewDecoder(resp.Body).Decode(&raw); err != nil {
		t.Fatalf("token endpoint: decode: %v", err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("token endpoint: got Content-Type %q, want application/json", ct)
	}
	return resp.StatusCode, raw
}

func login(t *testing.T, e *env) tokenResponse {
	t.Helper()
	status, body := postToken(t, e, url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {sandbox.ClientID},
		"client_secret": {sandbox.ClientSecret},
	}, "", "")
	if status != http.StatusOK {
		t.Fatalf("login: got status %d, want 200; body %s", status, body)
	}
	var tok tokenResponse
	if err := json.Unmarshal(body, &tok); err != nil {
		t.Fatal(err)
	}
	return tok
}

func wantAuthFailed(t *testing.T, status int, body []byte, want int) {
	t.Helper()
	if status != want {
		t.Fatalf("got status %d, want %d; body %s", status, want, body)
	}
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	if msg, ok := doc["error"].(string); !ok || msg == "" || len(doc) != 1 {
		t.Errorf("got body %s, want {\"error\": message}", body)
	}
}

func TestClientCredentials(t *testing.T) {
	e := newEnv(t, sandbox.Options{Customers: 50})
	tok := login(t, e)
	if tok.TokenType != "Bearer" || tok.ExpiresIn != 7200 || tok.AccessToken == "" || tok.RefreshToken == "" || tok.AccessToken == tok.RefreshToken {
		t.Fatalf("got token response %+v, want Bearer, 7200 s, two distinct tokens", tok)
	}
	if resp, body := e.do(t, http.MethodGet, "/v1/sites", tok.AccessToken); resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /v1/sites with issued token: got %d, want 200; body %s", resp.StatusCode, body)
	}
	if again := login(t, e); again.AccessToken == tok.AccessToken {
		t.Errorf("two logins gave the same access token")
	}

	t.Run("basic auth", func(t *testing.T) {
		status, body := postToken(t, e, url.Values{"grant_type": {"client_credentials"}}, sandbox.ClientID, sandbox.ClientSecret)
		if status != http.StatusOK {
			t.Fatalf("got %d, want 200; body %s", status, body)
		}
	})
	failures := []struct {
		name   string
		form   url.Values
		status int
	}{
		{"bad secret", url.Values{"grant_type": {"client_credentials"}, "client_id": {sandbox.ClientID}, "client_secret": {"nope"}}, 401},
		{"bad id", url.Values{"grant_type": {"client_credentials"}, "client_id": {"who"}, "client_secret": {sandbox.ClientSecret}}, 401},
		{"missing secret", url.Values{"grant_type": {"client_credentials"}, "client_id": {sandbox.ClientID}}, 400},
		{"missing grant", url.Values{"client_id": {sandbox.ClientID}, "client_secret": {sandbox.ClientSecret}}, 400},
		{"unknown grant", url.Values{"grant_type": {"magic"}}, 400},
		{"missing refresh token", url.Values{"grant_type": {"refresh_token"}}, 400},
		{"unknown refresh token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"nope"}}, 401},
		{"password flow has no users", url.Values{"username": {"a@example.com"}, "password": {"x"}}, 401},
	}
	for _, tc := range failures {
		t.Run(tc.name, func(t *testing.T) {
			status, body := postToken(t, e, tc.form, "", "")
			wantAuthFailed(t, status, body, tc.status)
		})
	}
	t.Run("wrong method", func(t *testing.T) {
		resp, body := e.do(t, http.MethodGet, "/v1/oauth/token", "")
		wantError(t, resp, body, http.StatusMethodNotAllowed)
	})
}

func TestRefreshRotation(t *testing.T) {
	e := newEnv(t, sandbox.Options{Customers: 50})
	first := login(t, e)
	refresh := func(rt string) (int, []byte) {
		return postToken(t, e, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, "", "")
	}
	status, body := refresh(first.RefreshToken)
	if status != http.StatusOK {
		t.Fatalf("refresh: got %d, want 200; body %s", status, body)
	}
	var second tokenResponse
	if err := json.Unmarshal(body, &second); err != nil {
		t.Fatal(err)
	}
	if second.RefreshToken == first.RefreshToken || second.AccessToken == first.AccessToken || second.TokenType != "Bearer" {
		t.Fatalf("refresh did not rotate: first %+v, second %+v", first, second)
	}
	status, body = refresh(first.RefreshToken)
	wantAuthFailed(t, status, body, http.StatusUnauthorized)
	for _, tok := range []string{first.AccessToken, second.AccessToken} {
		if resp, body := e.do(t, http.MethodGet, "/v1/sites", tok); resp.StatusCode != http.StatusOK {
			t.Errorf("access token after refresh: got %d, want 200; body %s", resp.StatusCode, body)
		}
	}
	if status, body = refresh(second.RefreshToken); status != http.StatusOK {
		t.Errorf("second refresh: got %d, want 200; body %s", status, body)
	}
}

func TestUnauthorized(t *testing.T) {
	e := newEnv(t, sandbox.Options{Customers: 50, TokenTTL: 50 * time.Millisecond})
	cases := []struct{ name, header string }{
		{"missing", ""},
		{"not bearer", "Basic Zm9vOmJhcg=="},
		{"empty bearer", "Bearer "},
		{"unknown token", "Bearer not-a-token"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/v1/customers", nil)
			if tc.header != "" {
				req.Header.Set("Authorization", tc.header)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body json.RawMessage
			_ = json.NewDecoder(resp.Body).Decode(&body)
			wantError(t, resp, body, http.StatusUnauthorized)
			if resp.Header.Get("WWW-Authenticate") == "" {
				t.Errorf("401 without WWW-Authenticate")
			}
		})
	}

	t.Run("expired by TTL", func(t *testing.T) {
		tok := login(t, e)
		if tok.ExpiresIn != 1 {
			t.Errorf("got expires_in %d for a 50ms TTL, want it rounded up to 1", tok.ExpiresIn)
		}
		time.Sleep(80 * time.Millisecond)
		resp, body := e.do(t, http.MethodGet, "/v1/sites", tok.AccessToken)
		wantError(t, resp, body, http.StatusUnauthorized)
	})

	t.Run("ExpireTokens", func(t *testing.T) {
		e := newEnv(t, sandbox.Options{Customers: 50})
		tok := login(t, e)
		e.sb.ExpireTokens()
		resp, body := e.do(t, http.MethodGet, "/v1/sites", tok.AccessToken)
		wantError(t, resp, body, http.StatusUnauthorized)
		if resp, body := e.do(t, http.MethodGet, "/v1/sites", testToken); resp.StatusCode != http.StatusOK {
			t.Errorf("fixed access token after ExpireTokens: got %d, want 200; body %s", resp.StatusCode, body)
		}
		status, body := postToken(t, e, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}, "", "")
		if status != http.StatusOK {
			t.Fatalf("refresh after ExpireTokens: got %d, want 200; body %s", status, body)
		}
		var renewed tokenResponse
		_ = json.Unmarshal(body, &renewed)
		if resp, body := e.do(t, http.MethodGet, "/v1/sites", renewed.AccessToken); resp.StatusCode != http.StatusOK {
			t.Errorf("renewed token: got %d, want 200; body %s", resp.StatusCode, body)
		}
	})
}

func TestVersionNeedsNoToken(t *testing.T) {
	e := sharedEnv(t)
	resp, body := e.do(t, http.MethodGet, "/v1/version", "")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/vnd.api+json" {
		t.Fatalf("got %d %q, want 200 application/vnd.api+json; body %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	var doc struct {
		Meta    struct{ Title, Version string }
		Links   struct{ Documentation string }
		JSONAPI struct {
			Version       string
			Specification string `json:"specficiation"`
		} `json:"jsonapi"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Meta.Version != "1.1.0" || doc.Meta.Title == "" || doc.Links.Documentation == "" || doc.JSONAPI.Version == "" || doc.JSONAPI.Specification == "" {
		t.Errorf("got version document %s, want every member filled", body)
	}
}

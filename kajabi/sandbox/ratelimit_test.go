package sandbox_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kajabi-graphql/facade/kajabi/sandbox"
)

// TestRateLimit: past RateLimit calls in a second the account is answered 429 with an
// integer Retry-After and a JSON:API error, whichever token the call carries; the public
// endpoints are not counted, and the budget comes back as the second passes.
func TestRateLimit(t *testing.T) {
	const limit = 5
	e := newEnv(t, sandbox.Options{Customers: 20, RateLimit: limit})
	issued := login(t, e).AccessToken

	tokens := []string{testToken, issued} // two credentials of the one sandbox account
	statuses := map[int]int{}
	for i := range limit {
		resp, body := e.do(t, http.MethodGet, "/v1/sites", tokens[i%2])
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("call %d within the limit: got %d %s", i+1, resp.StatusCode, body)
		}
	}
	for _, tok := range tokens {
		resp, body := e.do(t, http.MethodGet, "/v1/customers", tok)
		wantError(t, resp, body, http.StatusTooManyRequests)
		if got := resp.Header.Get("Retry-After"); got != "1" {
			t.Errorf("Retry-After: got %q, want 1 (whole seconds)", got)
		}
		if !strings.Contains(string(body), `"status":"429"`) {
			t.Errorf("body: got %s, want a JSON:API error with status 429", body)
		}
		statuses[resp.StatusCode]++
	}
	if resp, body := e.do(t, http.MethodGet, "/v1/version", ""); resp.StatusCode != http.StatusOK {
		t.Errorf("version past the limit: got %d %s, want 200", resp.StatusCode, body)
	}
	login(t, e) // the token endpoint is not limited either

	time.Sleep(time.Second + 50*time.Millisecond) // the window slides past the first calls
	if resp, body := e.do(t, http.MethodGet, "/v1/sites", testToken); resp.StatusCode != http.StatusOK {
		t.Errorf("a second later: got %d %s, want 200", resp.StatusCode, body)
	}

	e.sb.SetRateLimit(0)
	for range 3 * limit {
		if resp, body := e.do(t, http.MethodGet, "/v1/sites", testToken); resp.StatusCode != http.StatusOK {
			t.Fatalf("limit lifted: got %d %s, want 200", resp.StatusCode, body)
		}
	}
}

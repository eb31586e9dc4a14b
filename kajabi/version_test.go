package kajabi_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"testing"

	"github.com/kajabi-graphql/facade/kajabi"
)

const versionDoc = `{"meta":{"title":"Kajabi API V1","version":"1.1.0"},"links":{"documentation":"https://developers.kajabi.com"},"jsonapi":{"version":"1.0"}}`

func TestVersion(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		body       string
		want       string
		wantStatus int // of the *ErrorResponse, when an error is expected
	}{
		{"answered", http.StatusOK, versionDoc, "1.1.0", 0},
		{"unavailable", http.StatusServiceUnavailable, `{"errors":[{"status":"503","title":"Service Unavailable"}]}`, "", http.StatusServiceUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A token is configured, and still none is sent: the endpoint needs none.
			client, mux := setup(t, kajabi.WithAccessToken("secret-token"), kajabi.WithRetry(kajabi.RetryPolicy{}))
			var calls int
			mux.HandleFunc("GET /v1/version", func(w http.ResponseWriter, r *http.Request) {
				calls++
				if got := r.Header.Get("Authorization"); got != "" {
					t.Errorf("Authorization = %q, want none", got)
				}
				w.Header().Set("Content-Type", "application/vnd.api+json")
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			})
			v, err := client.Version(context.Background())
			if calls != 1 {
				t.Errorf("got %d calls, want 1", calls)
			}
			if tt.wantStatus != 0 {
				var apiErr *kajabi.ErrorResponse
				if !errors.As(err, &apiErr) || apiErr.StatusCode != tt.wantStatus {
					t.Fatalf("got %v, want an ErrorResponse with status %d", err, tt.wantStatus)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if v.Version != tt.want || v.Title != "Kajabi API V1" {
				t.Errorf("got %+v, want version %s", v, tt.want)
			}
		})
	}
}

func TestCheckCredentials(t *testing.T) {
	t.Run("client credentials obtain a token once", func(t *testing.T) {
		ts := &tokenServer{expiresIn: 3600}
		client, mux := setup(t, kajabi.WithClientCredentials("id", "shh"))
		ts.handle(t, mux)
		for range 3 {
			checked, err := client.CheckCredentials(context.Background())
			if !checked || err != nil {
				t.Fatalf("got %v, %v, want checked and no error", checked, err)
			}
		}
		if cc, _ := ts.counts(); cc != 1 {
			t.Errorf("got %d grants, want 1 (the token is cached)", cc)
		}
	})
	t.Run("wrong secret", func(t *testing.T) {
		ts := &tokenServer{expiresIn: 3600}
		client, mux := setup(t, kajabi.WithClientCredentials("id", "wrong"), kajabi.WithRetry(kajabi.RetryPolicy{}))
		ts.handle(t, mux)
		checked, err := client.CheckCredentials(context.Background())
		var apiErr *kajabi.ErrorResponse
		if !checked || !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusUnauthorized {
			t.Fatalf("got %v, %v, want checked and a 401", checked, err)
		}
	})
	t.Run("a fixed token has nothing to obtain", func(t *testing.T) {
		client, _ := setup(t, kajabi.WithAccessToken("tok"))
		if checked, err := client.CheckCredentials(context.Background()); checked || err != nil {
			t.Fatalf("got %v, %v, want not checked", checked, err)
		}
	})
}

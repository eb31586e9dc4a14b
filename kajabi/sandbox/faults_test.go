package sandbox_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/kajabi-graphql/facade/kajabi/sandbox"
)

func TestFaults(t *testing.T) {
	e := newEnv(t, sandbox.Options{Customers: 50, FaultRate: 1, FaultStatuses: []int{http.StatusServiceUnavailable}})
	resp, body := e.do(t, http.MethodGet, "/v1/customers", testToken)
	wantError(t, resp, body, http.StatusServiceUnavailable)

	t.Run("public endpoints and auth are exempt", func(t *testing.T) {
		if resp, body := e.do(t, http.MethodGet, "/v1/version", ""); resp.StatusCode != http.StatusOK {
			t.Errorf("version: got %d; body %s", resp.StatusCode, body)
		}
		login(t, e)
		resp, body := e.do(t, http.MethodGet, "/v1/customers", "")
		wantError(t, resp, body, http.StatusUnauthorized)
	})

	t.Run("default statuses", func(t *testing.T) {
		e.sb.SetFaults(1)
		seen := map[int]bool{}
		for range 40 {
			resp, body := e.do(t, http.MethodGet, "/v1/sites", testToken)
			wantError(t, resp, body, resp.StatusCode)
			seen[resp.StatusCode] = true
			if resp.StatusCode == http.StatusTooManyRequests && resp.Header.Get("Retry-After") != "1" {
				t.Errorf("429 with Retry-After %q, want 1", resp.Header.Get("Retry-After"))
			}
		}
		if len(seen) != 2 || !seen[429] || !seen[503] {
			t.Errorf("got statuses %v, want 429 and 503", seen)
		}
	})

	t.Run("partial rate", func(t *testing.T) {
		e.sb.SetFaults(0.5, http.StatusBadGateway)
		n := map[int]int{}
		for range 200 {
			resp, _ := e.do(t, http.MethodGet, "/v1/sites", testToken)
			n[resp.StatusCode]++
		}
		if n[200] < 60 || n[502] < 60 || n[200]+n[502] != 200 {
			t.Errorf("got %v for a 0.5 fault rate over 200 requests", n)
		}
	})

	t.Run("off", func(t *testing.T) {
		e.sb.SetFaults(0)
		if resp, body := e.do(t, http.MethodGet, "/v1/sites", testToken); resp.StatusCode != http.StatusOK {
			t.Errorf("got %d; body %s", resp.StatusCode, body)
		}
	})
}

func TestFailPath(t *testing.T) {
	e := newEnv(t, sandbox.Options{Customers: 50})
	e.sb.FailPath("/v1/sites", http.StatusInternalServerError)
	e.sb.FailPath("/v1/oauth/token", http.StatusTooManyRequests)

	resp, body := e.do(t, http.MethodGet, "/v1/sites", "") // before auth
	wantError(t, resp, body, http.StatusInternalServerError)
	resp, body = e.do(t, http.MethodGet, "/v1/sites?page[size]=1", testToken)
	wantError(t, resp, body, http.StatusInternalServerError)
	resp, body = e.do(t, http.MethodPost, "/v1/oauth/token", "")
	wantError(t, resp, body, http.StatusTooManyRequests)
	if resp.Header.Get("Retry-After") != "1" {
		t.Errorf("429 without Retry-After: 1")
	}
	for _, path := range []string{"/v1/sites/101", "/v1/products"} {
		if resp, body := e.do(t, http.MethodGet, path, testToken); resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: got %d, want 200 (only the exact path fails); body %s", path, resp.StatusCode, body)
		}
	}

	e.sb.FailPath("/v1/sites", 0)
	e.sb.FailPath("/v1/oauth/token", 0)
	if resp, body := e.do(t, http.MethodGet, "/v1/sites", testToken); resp.StatusCode != http.StatusOK {
		t.Errorf("after clearing: got %d; body %s", resp.StatusCode, body)
	}
	login(t, e)

	t.Run("path is after the mount prefix", func(t *testing.T) {
		e.sb.FailPath("/v1/products", http.StatusServiceUnavailable)
		defer e.sb.FailPath("/v1/products", 0)
		srv := httptest.NewServer(http.StripPrefix("/sandbox", e.sb))
		defer srv.Close()
		resp, body := doCtx(t, context.Background(), srv.URL, http.MethodGet, "/sandbox/v1/products", testToken)
		wantError(t, resp, body, http.StatusServiceUnavailable)
	})
}

func TestLatency(t *testing.T) {
	e := newEnv(t, sandbox.Options{Customers: 50, Latency: 150 * time.Millisecond})
	start := time.Now()
	if resp, _ := e.do(t, http.MethodGet, "/v1/version", ""); resp.StatusCode != http.StatusOK {
		t.Fatalf("got %d", resp.StatusCode)
	}
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Errorf("answered in %v, want at least the 150ms latency", d)
	}

	t.Run("client cancel", func(t *testing.T) {
		e.sb.SetLatency(5 * time.Second)
		defer e.sb.SetLatency(0)
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.srv.URL+"/v1/sites", nil)
		req.Header.Set("Authorization", "Bearer "+testToken)
		start := time.Now()
		_, err := http.DefaultClient.Do(req)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("got error %v, want the deadline", err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("cancel took %v", d)
		}
	})

	t.Run("handler returns when the request context ends", func(t *testing.T) {
		e.sb.SetLatency(5 * time.Second)
		defer e.sb.SetLatency(0)
		ctx, cancel := context.WithCancel(context.Background())
		req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/v1/sites", nil)
		req.Header.Set("Authorization", "Bearer "+testToken)
		w := httptest.NewRecorder()
		done := make(chan struct{})
		start := time.Now()
		go func() { e.sb.ServeHTTP(w, req); close(done) }()
		time.Sleep(20 * time.Millisecond)
		cancel()
		select {
		case <-done:
		case <-time.After(2 * time.Second):
			t.Fatal("ServeHTTP still sleeping after the context was cancelled")
		}
		if d := time.Since(start); d > time.Second || w.Body.Len() != 0 {
			t.Errorf("returned after %v with %d bytes written, want early and silent", d, w.Body.Len())
		}
	})

	t.Run("SetLatency", func(t *testing.T) {
		e.sb.SetLatency(0)
		start := time.Now()
		e.do(t, http.MethodGet, "/v1/version", "")
		if d := time.Since(start); d > 100*time.Millisecond {
			t.Errorf("with latency 0 the answer took %v", d)
		}
	})
}

// TestConcurrentControls exercises requests and the run-time controls at
// once; run with -race it checks they share state safely.
func TestConcurrentControls(t *testing.T) {
	e := newEnv(t, sandbox.Options{Customers: 200})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 50 {
			e.sb.SetFaults(float64(i%2)/4, 503)
			e.sb.SetLatency(time.Duration(i%3) * time.Millisecond)
			e.sb.FailPath("/v1/offers", 500*(i%2))
			if i%10 == 0 {
				e.sb.ExpireTokens()
			}
		}
	}()
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			for range 25 {
				resp, err := http.PostForm(e.srv.URL+"/v1/oauth/token", url.Values{
					"grant_type": {"client_credentials"}, "client_id": {sandbox.ClientID}, "client_secret": {sandbox.ClientSecret}})
				if err != nil {
					errs <- err
					return
				}
				resp.Body.Close()
				req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/v1/customers?filter[has_tag_id]=4001&sort=-net_revenue", nil)
				req.Header.Set("Authorization", "Bearer "+testToken)
				if resp, err = http.DefaultClient.Do(req); err != nil {
					errs <- err
					return
				}
				resp.Body.Close()
			}
			errs <- nil
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	<-done
}

package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kajabi-graphql/facade/kajabi/sandbox"
)

// TestSandboxFiresHooks: in sandbox mode the service registers its own webhook URL with
// the embedded sandbox, which, with SANDBOX_EVENTS_PER_MINUTE, makes purchases and POSTs
// them there; an SSE subscriber sees one within a bounded wait.
func TestSandboxFiresHooks(t *testing.T) {
	base, logs := startServer(t, map[string]string{"SANDBOX_EVENTS_PER_MINUTE": "600", "SANDBOX_CUSTOMERS": "50"})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got := openSSE(t, ctx, base, `subscription { customerActivity(events: [PURCHASE]) { eventId event siteId ... on PurchaseEvent { purchase { id } customer { id } } } }`)
	select {
	case ev := <-got:
		a := ev["data"].(map[string]any)["customerActivity"].(map[string]any)
		if a["event"] != "PURCHASE" || a["eventId"] == "" {
			t.Fatalf("got %v", ev)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("no purchase event within 5s; logs:\n%s", logs.String())
	}
}

// TestHooksRegisteredOnce: against a Kajabi (the sandbox over HTTP) with PUBLIC_URL set, a
// start registers one hook per event and site, and a restart adds none.
func TestHooksRegisteredOnce(t *testing.T) {
	const token = "hooks-test-token"
	sb := sandbox.New(sandbox.Options{Customers: 10, AccessTokens: []string{token}})
	up := httptest.NewServer(sb)
	defer up.Close()
	site := sb.Store().Sites[0].ID
	env := func() map[string]string {
		return map[string]string{
			"KAJABI_BASE_URL": up.URL, "KAJABI_SITE_ID": site,
			"KAJABI_CLIENT_ID": sandbox.ClientID, "KAJABI_CLIENT_SECRET": sandbox.ClientSecret,
			"WEBHOOK_SECRET": sandboxWebhookSecret, "PUBLIC_URL": "https://facade.example.com/",
		}
	}
	for i := 0; i < 2; i++ {
		t.Run("start", func(t *testing.T) {
			_, logs := startServer(t, env())
			registeredLog(t, logs)
		})
	}
	req, _ := http.NewRequest(http.MethodGet, up.URL+"/v1/hooks?page[size]=100", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc struct {
		Data []struct {
			Attributes struct {
				Event     string `json:"event"`
				TargetURL string `json:"target_url"`
			} `json:"attributes"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	per := map[string]int{}
	for _, h := range doc.Data {
		if h.Attributes.TargetURL != "https://facade.example.com/webhooks/kajabi/"+sandboxWebhookSecret {
			t.Errorf("target %q", h.Attributes.TargetURL)
		}
		per[h.Attributes.Event]++
	}
	if len(per) != 6 {
		t.Errorf("events registered: %v, want all 6", per)
	}
	for ev, n := range per {
		if n != 1 {
			t.Errorf("%s: %d hooks, want 1", ev, n)
		}
	}
}

// registeredLog waits for the start's registration, which runs in the background, to log
// what it registered. Bounded.
func registeredLog(t *testing.T, logs *syncBuffer) {
	t.Helper()
	for i := 0; i < 1000; i++ {
		if strings.Contains(logs.String(), "hooks registered with Kajabi") {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no registration logged; logs:\n%s", logs.String())
}

// TestHooksDoNotDelayReadiness: with PUBLIC_URL set and a Kajabi that has not answered any
// hook or site request yet, the service is ready (and /readyz says so) all the same; the
// hooks are registered once Kajabi answers.
func TestHooksDoNotDelayReadiness(t *testing.T) {
	const token = "hooks-test-token"
	sb := sandbox.New(sandbox.Options{Customers: 10, AccessTokens: []string{token}})
	release := make(chan struct{})
	var once sync.Once
	free := func() { once.Do(func() { close(release) }) }
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/v1/hooks") {
			<-release
		}
		sb.ServeHTTP(w, r)
	}))
	defer up.Close()
	defer free()
	base, logs := startServer(t, map[string]string{
		"KAJABI_BASE_URL": up.URL, "KAJABI_SITE_ID": sb.Store().Sites[0].ID,
		"KAJABI_CLIENT_ID": sandbox.ClientID, "KAJABI_CLIENT_SECRET": sandbox.ClientSecret,
		"WEBHOOK_SECRET": sandboxWebhookSecret, "PUBLIC_URL": "https://facade.example.com/",
	})
	resp, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/readyz while Kajabi holds the hook requests: got %d, want 200", resp.StatusCode)
	}
	if strings.Contains(logs.String(), "hooks registered with Kajabi") {
		t.Fatalf("got hooks registered before Kajabi answered; logs:\n%s", logs.String())
	}
	free()
	registeredLog(t, logs)
}

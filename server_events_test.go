package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kajabi-graphql/facade/kajabi/sandbox"
)

// eventRelay stands where Kajabi's hooks point: it keeps what the sandbox delivers, so a
// test can hand the service the one event it is about (a paid checkout delivers three).
type eventRelay struct {
	up   *kajabiUpstream
	hook string // the service's receiver

	mu     sync.Mutex
	bodies map[string][]byte // by event: the last delivered
}

const relayToken = "relay-token"

func newEventRelay(t *testing.T, up *kajabiUpstream, hook string) *eventRelay {
	t.Helper()
	r := &eventRelay{up: up, hook: hook, bodies: map[string][]byte{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		var d struct {
			Event string `json:"event"`
		}
		_ = json.Unmarshal(b, &d)
		r.mu.Lock()
		r.bodies[d.Event] = b
		r.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(srv.Close)
	for _, ev := range []string{"purchase", "form_submission", "tag_added", "tag_removed", "payment_succeeded", "order_created"} {
		body := fmt.Sprintf(`{"data":{"type":"hooks","attributes":{"target_url":%q,"event":%q},"relationships":{"site":{"data":{"type":"sites","id":%q}}}}}`, srv.URL, ev, up.siteID)
		req, _ := http.NewRequest(http.MethodPost, up.url+"/v1/hooks", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+relayToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("POST /v1/hooks: got %d, want 201", resp.StatusCode)
		}
	}
	return r
}

// fire has the sandbox make events until one of event is delivered on the upstream's
// site, hands that one to the service, and returns its id. Bounded.
func (r *eventRelay) fire(t testing.TB, event string) string {
	t.Helper()
	for i := 0; i < 50; i++ {
		r.mu.Lock()
		clear(r.bodies)
		r.mu.Unlock()
		if err := r.up.sb.Fire(context.Background(), event); err != nil {
			t.Fatal(err)
		}
		r.mu.Lock()
		body := r.bodies[event]
		r.mu.Unlock()
		if body == nil {
			continue // it happened on the other site
		}
		if code := postWebhook(t, r.hook, string(body)); code != http.StatusAccepted {
			t.Fatalf("webhook %s: got %d, want 202", body, code)
		}
		var d struct {
			ID string `json:"id"`
		}
		_ = json.Unmarshal(body, &d)
		return d.ID
	}
	t.Fatalf("the sandbox made no %s event on site %s", event, r.up.sb.Store().Sites[0].ID)
	return ""
}

// untilEvent fires events of kind until got yields one, as a subscription is only known
// to be listening once one arrives. Bounded.
func (r *eventRelay) untilEvent(t *testing.T, event string, got <-chan map[string]any) map[string]any {
	t.Helper()
	for i := 0; i < 50; i++ {
		r.fire(t, event)
		select {
		case ev := <-got:
			return ev
		case <-time.After(200 * time.Millisecond):
		}
	}
	t.Fatalf("no %s event reached the subscription", event)
	return nil
}

func ids(list any) []any {
	var out []any
	items, _ := list.([]any)
	for _, it := range items {
		m, _ := it.(map[string]any)
		out = append(out, m["id"])
	}
	return out
}

func obj(m map[string]any, path ...string) map[string]any {
	for _, p := range path {
		m, _ = m[p].(map[string]any)
	}
	return m
}

// TestLiveEveryEventKind: for every event Kajabi documents, the sandbox makes it (a
// stored change) and delivers it to the service's receiver; an SSE subscription yields it
// as its typed event with 0 errors, and its related objects, resolved through the loaders,
// show the stored change: the purchase among the customer's purchases and its offer among
// the customer's offers, the order among its orders, the payment among its transactions,
// the tag on (or off) the contact, the submission stored for the form.
func TestLiveEveryEventKind(t *testing.T) {
	up := newKajabiUpstream(t, sandbox.Options{Customers: 30, AccessTokens: []string{relayToken}})
	base := replica(t, up, "", map[string]string{"WEBHOOK_SECRET": sandboxWebhookSecret})
	relay := newEventRelay(t, up, base+"/webhooks/kajabi/"+sandboxWebhookSecret)

	for _, tc := range []struct {
		event, enum, typename, fields string
		check                         func(t *testing.T, a map[string]any)
	}{
		{"purchase", "PURCHASE", "PurchaseEvent",
			`... on PurchaseEvent { purchase { id offer { id } } customer { id purchases(first: 100) { id } offers { id } } }`,
			func(t *testing.T, a map[string]any) {
				p, c := obj(a, "purchase"), obj(a, "customer")
				if !slices.Contains(ids(c["purchases"]), p["id"]) {
					t.Errorf("customer.purchases: got %v, want it to hold %v", ids(c["purchases"]), p["id"])
				}
				if offer := obj(p, "offer")["id"]; !slices.Contains(ids(c["offers"]), offer) {
					t.Errorf("customer.offers: got %v, want it to hold %v", ids(c["offers"]), offer)
				}
			}},
		{"order_created", "ORDER_CREATED", "OrderCreatedEvent",
			`... on OrderCreatedEvent { order { id customer { id } } transaction { id } customer { id orders(first: 100) { id } transactions(first: 100) { id } } }`,
			func(t *testing.T, a map[string]any) {
				o, c := obj(a, "order"), obj(a, "customer")
				if !slices.Contains(ids(c["orders"]), o["id"]) {
					t.Errorf("customer.orders: got %v, want it to hold %v", ids(c["orders"]), o["id"])
				}
				if tr := obj(a, "transaction")["id"]; !slices.Contains(ids(c["transactions"]), tr) {
					t.Errorf("customer.transactions: got %v, want it to hold %v", ids(c["transactions"]), tr)
				}
				if got := obj(o, "customer")["id"]; got != c["id"] {
					t.Errorf("order.customer: got %v, want %v", got, c["id"])
				}
			}},
		{"payment_succeeded", "PAYMENT_SUCCEEDED", "PaymentSucceededEvent",
			`... on PaymentSucceededEvent { transaction { id customer { id } } customer { id transactions(first: 100) { id } } }`,
			func(t *testing.T, a map[string]any) {
				tr, c := obj(a, "transaction"), obj(a, "customer")
				if !slices.Contains(ids(c["transactions"]), tr["id"]) {
					t.Errorf("customer.transactions: got %v, want it to hold %v", ids(c["transactions"]), tr["id"])
				}
			}},
		{"tag_added", "TAG_ADDED", "TagAddedEvent",
			`... on TagAddedEvent { tag { id name } contact { id tags { id } } }`,
			func(t *testing.T, a map[string]any) {
				tag, tags := obj(a, "tag")["id"], ids(obj(a, "contact")["tags"])
				if !slices.Contains(tags, tag) {
					t.Errorf("contact.tags: got %v, want it to hold %v", tags, tag)
				}
			}},
		{"tag_removed", "TAG_REMOVED", "TagRemovedEvent",
			`... on TagRemovedEvent { tag { id name } contact { id tags { id } } }`,
			func(t *testing.T, a map[string]any) {
				tag, tags := obj(a, "tag")["id"], ids(obj(a, "contact")["tags"])
				if slices.Contains(tags, tag) {
					t.Errorf("contact.tags: got %v, want it without %v", tags, tag)
				}
			}},
		{"form_submission", "FORM_SUBMISSION", "FormSubmissionEvent",
			`... on FormSubmissionEvent { formId formTitle name email }`,
			func(t *testing.T, a map[string]any) {
				subs := up.sb.Store().Submissions()
				if !slices.ContainsFunc(subs, func(s sandbox.FormSubmission) bool {
					return s.FormID == a["formId"] && s.Email == a["email"] && s.Name == a["name"]
				}) {
					t.Errorf("got form %v by %v <%v>, want a stored submission of it; have %+v", a["formId"], a["name"], a["email"], subs)
				}
				if a["formTitle"] == nil {
					t.Errorf("formTitle: got null, want the form's title")
				}
			}},
	} {
		t.Run(tc.event, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			got := openSSE(t, ctx, base, `subscription { customerActivity(events: [`+tc.enum+`]) { __typename eventId event siteId `+tc.fields+` } }`)
			ev := relay.untilEvent(t, tc.event, got)
			if errs := errorsOf(ev); len(errs) > 0 {
				t.Fatalf("errors: got %v, want none", errs)
			}
			a := obj(ev, "data", "customerActivity")
			if a["__typename"] != tc.typename || a["event"] != tc.enum || a["siteId"] != up.siteID {
				t.Fatalf("got %s %s on site %v, want %s %s on site %s", a["__typename"], a["event"], a["siteId"], tc.typename, tc.enum, up.siteID)
			}
			tc.check(t, a)
		})
	}
}

// TestLiveEventsKeepCachesHonest: each event kind, as the sandbox delivers it, forgets
// exactly what it makes stale in the shared cache: a purchase, order or payment the
// site's product list (members counts), a tag change the site's tag list; a form
// submission changes nothing cached, so nothing is read again.
func TestLiveEventsKeepCachesHonest(t *testing.T) {
	up := newKajabiUpstream(t, sandbox.Options{Customers: 30, AccessTokens: []string{relayToken}})
	base := replica(t, up, "", map[string]string{"WEBHOOK_SECRET": sandboxWebhookSecret})
	relay := newEventRelay(t, up, base+"/webhooks/kajabi/"+sandboxWebhookSecret)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	events := openSSE(t, ctx, base, liveIDsQuery)
	relay.untilEvent(t, "form_submission", events)

	var contact string
	for i, c := range up.sb.Store().Customers {
		if c.SiteID == up.siteID {
			contact = up.sb.Store().ContactOf(&up.sb.Store().Customers[i]).ID
			break
		}
	}
	products := fmt.Sprintf(`{ products(siteId: %q) { id membersCount } }`, up.siteID)
	tags := fmt.Sprintf(`{ contact(id: %q) { tags { id } } }`, contact)
	calls := func(t *testing.T, query string) int64 {
		t.Helper()
		before := up.calls.Load()
		if out, err := gql(base, map[string]any{"query": query}); err != nil || len(errorsOf(out)) > 0 {
			t.Fatalf("%s: %v %v", query, err, errorsOf(out))
		}
		return up.calls.Load() - before
	}
	for _, tc := range []struct {
		event      string
		query      string
		readsAgain bool
	}{
		{"purchase", products, true},
		{"order_created", products, true},
		{"payment_succeeded", products, true},
		{"tag_added", tags, true},
		{"tag_removed", tags, true},
		{"form_submission", products, false},
		{"form_submission", tags, false},
	} {
		t.Run(tc.event, func(t *testing.T) {
			calls(t, tc.query)
			cached := calls(t, tc.query)
			idsUntil(t, events, relay.fire(t, tc.event)) // forgotten before it is handed to subscribers
			after := calls(t, tc.query)
			if got := after > cached; got != tc.readsAgain {
				t.Errorf("Kajabi calls of %s after a %s: got %d (cached: %d), want read again: %v", tc.query, tc.event, after, cached, tc.readsAgain)
			}
		})
	}
}

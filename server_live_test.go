package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	coderws "github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/rs/zerolog"

	"github.com/kajabi-graphql/facade/graph/fleet/fleettest"
	"github.com/kajabi-graphql/facade/kajabi/sandbox"
)

const liveQuery = `subscription { customerActivity(events: [PURCHASE]) { eventId event siteId ... on PurchaseEvent { purchase { id amountInCents } customer { id } } } }`

func purchaseBody(eventID, customerID string) string {
	return purchaseBodyAt(eventID, customerID, "101", "USD")
}

// purchaseBodyAt is a purchase event of siteID; currency, echoed by Purchase.currency, can
// make it as large as a test needs.
func purchaseBodyAt(eventID, customerID, siteID, currency string) string {
	return fmt.Sprintf(`{"id":%q,"event":"purchase","payload":[
	 {"id":"9001","type":"purchases","attributes":{"amount_in_cents":1000,"payment_type":"single","opt_in":false,"currency":%q,"quantity":1,"created_at":"2025-07-31T16:59:27.580Z","updated_at":"2025-07-31T16:59:27.580Z"},
	  "relationships":{"customer":{"data":{"id":%q,"type":"customers"}},"offer":{"data":{"id":"1","type":"offers"}},"products":{"data":[]}}},
	 {"id":%q,"type":"customers","attributes":{"name":"A","email":"a@example.com","net_revenue":"0.0","sign_in_count":0,"created_at":"2025-07-31T16:59:27.552Z","updated_at":"2025-07-31T16:59:27.552Z"},
	  "relationships":{"site":{"data":{"id":%q,"type":"sites"}}}}]}`, eventID, currency, customerID, customerID, siteID)
}

func postWebhook(t testing.TB, url, body string) int {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// firstCustomer is a customer id of the sandbox's site 101.
func firstCustomer(t *testing.T, base string) string {
	t.Helper()
	out := graphqlPost(t, base, `{ customers(filter: {siteId: "101"}, first: 1) { nodes { id } } }`)
	nodes := out["data"].(map[string]any)["customers"].(map[string]any)["nodes"].([]any)
	return nodes[0].(map[string]any)["id"].(string)
}

// deliverUntil posts purchase webhooks with fresh ids until got receives an event, as a
// subscription is only known to be listening once one arrives. Bounded.
func deliverUntil(t testing.TB, hook, customer string, got <-chan map[string]any) map[string]any {
	t.Helper()
	for i := 0; i < 100; i++ {
		if code := postWebhook(t, hook, purchaseBody(fmt.Sprintf("evt-%d-%d", time.Now().UnixNano(), i), customer)); code != http.StatusAccepted {
			t.Fatalf("webhook: got %d, want 202", code)
		}
		select {
		case ev := <-got:
			return ev
		case <-time.After(100 * time.Millisecond):
		}
	}
	t.Fatal("no event reached the subscription")
	return nil
}

// openSSE subscribes with query over GraphQL over SSE; the channel yields each event's
// payload and closes when the stream ends.
func openSSE(t testing.TB, ctx context.Context, base, query string) <-chan map[string]any {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"query": query})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/graphql", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("got %d, want 200", resp.StatusCode)
	}
	got := make(chan map[string]any, 64)
	go func() {
		defer close(got)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				var m map[string]any
				if json.Unmarshal([]byte(data), &m) == nil {
					got <- m
				}
			}
		}
	}()
	return got
}

// openWS subscribes with query over graphql-transport-ws; the channel yields the payload
// of each next message (an error message's errors as {"errors": ...}) and closes when the
// operation completes or the socket closes.
func openWS(t testing.TB, ctx context.Context, base, query string) <-chan map[string]any {
	t.Helper()
	c, _, err := coderws.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/graphql", &coderws.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseNow() })
	_ = wsjson.Write(ctx, c, map[string]any{"type": "connection_init"})
	_ = wsjson.Write(ctx, c, map[string]any{"type": "subscribe", "id": "1", "payload": map[string]any{"query": query}})
	got := make(chan map[string]any, 64)
	go func() {
		defer close(got)
		for {
			var m struct {
				Type    string          `json:"type"`
				Payload json.RawMessage `json:"payload"`
			}
			if wsjson.Read(ctx, c, &m) != nil {
				return
			}
			switch m.Type {
			case "next":
				var p map[string]any
				_ = json.Unmarshal(m.Payload, &p)
				got <- p
			case "error":
				var errs []any
				_ = json.Unmarshal(m.Payload, &errs)
				got <- map[string]any{"errors": errs}
			case "complete":
				return
			}
		}
	}()
	return got
}

func TestLiveWebhookToSubscription(t *testing.T) {
	base, _ := startServer(t, map[string]string{})
	hook := base + "/webhooks/kajabi/" + sandboxWebhookSecret
	customer := firstCustomer(t, base)

	check := func(t *testing.T, payload map[string]any) {
		t.Helper()
		data, _ := payload["data"].(map[string]any)
		ev, _ := data["customerActivity"].(map[string]any)
		if ev == nil {
			t.Fatalf("got %v, want an event", payload)
		}
		if ev["event"] != "PURCHASE" || ev["siteId"] != "101" {
			t.Errorf("got event %v site %v, want PURCHASE on 101", ev["event"], ev["siteId"])
		}
		if c, _ := ev["customer"].(map[string]any); c == nil || c["id"] != customer {
			t.Errorf("got customer %v, want %s read through the loaders", ev["customer"], customer)
		}
	}

	t.Run("sse", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		got := openSSE(t, ctx, base, liveQuery)
		check(t, deliverUntil(t, hook, customer, got))
	})

	t.Run("graphql-transport-ws", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		got := openWS(t, ctx, base, liveQuery)
		check(t, deliverUntil(t, hook, customer, got))
	})

	t.Run("refused", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		got := openSSE(t, ctx, base, liveIDsQuery)
		deliverUntil(t, hook, customer, got)
		for _, tc := range []struct {
			name, url, body string
			want            int
		}{
			{"wrong secret", base + "/webhooks/kajabi/" + strings.Repeat("x", 40), purchaseBody("refused-secret", customer), http.StatusNotFound},
			{"not json", hook, "{", http.StatusBadRequest},
			{"unknown event", hook, `{"id":"refused-1","event":"refund","payload":[]}`, http.StatusBadRequest},
			{"no purchase", hook, `{"id":"refused-2","event":"purchase","payload":[]}`, http.StatusBadRequest},
			{"foreign type", hook, `{"id":"refused-3","event":"tag_added","payload":[{"id":"1","type":"purchases"}]}`, http.StatusBadRequest},
			{"oversized", hook, purchaseBodyAt("refused-big", customer, "101", strings.Repeat("a", 300<<10)), http.StatusRequestEntityTooLarge},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if got := postWebhook(t, tc.url, tc.body); got != tc.want {
					t.Errorf("got %d, want %d", got, tc.want)
				}
			})
		}
		// Deliveries are handed on in order, so whatever a refusal let through would
		// arrive before this one.
		marker := fmt.Sprintf("marker-%d", time.Now().UnixNano())
		postWebhook(t, hook, purchaseBody(marker, customer))
		if ids := idsUntil(t, got, marker); len(ids) != 1 {
			t.Errorf("got events %v, want only the marker: a refused delivery was published", ids)
		}
	})

	t.Run("duplicate", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		got := openSSE(t, ctx, base, liveIDsQuery)
		deliverUntil(t, hook, customer, got)
		dup := fmt.Sprintf("dup-%d", time.Now().UnixNano())
		for i := 0; i < 3; i++ {
			if code := postWebhook(t, hook, purchaseBody(dup, customer)); code != http.StatusAccepted {
				t.Errorf("delivery %d: got %d, want 202 (a retry is acknowledged, not delivered)", i, code)
			}
		}
		marker := fmt.Sprintf("marker-%d", time.Now().UnixNano())
		postWebhook(t, hook, purchaseBody(marker, customer))
		if n := count(idsUntil(t, got, marker), dup); n != 1 {
			t.Errorf("got event %s %d times, want 1", dup, n)
		}
	})
}

// liveIDsQuery asks for nothing that calls Kajabi, so the only calls a test sees are its own.
const liveIDsQuery = `subscription { customerActivity { eventId } }`

func eventID(payload map[string]any) string {
	data, _ := payload["data"].(map[string]any)
	ev, _ := data["customerActivity"].(map[string]any)
	id, _ := ev["eventId"].(string)
	return id
}

// idsUntil reads events from got until the ones named in markers have all arrived, and
// returns the ids read, markers included. Bounded.
func idsUntil(t testing.TB, got <-chan map[string]any, markers ...string) []string {
	t.Helper()
	var ids []string
	want := map[string]bool{}
	for _, m := range markers {
		want[m] = true
	}
	timeout := time.After(20 * time.Second)
	for len(want) > 0 {
		select {
		case p, ok := <-got:
			if !ok {
				t.Fatalf("the stream ended after %v, before %v", ids, want)
			}
			id := eventID(p)
			ids = append(ids, id)
			delete(want, id)
		case <-timeout:
			t.Fatalf("got %v, and not yet %v", ids, want)
		}
	}
	return ids
}

func count(ids []string, id string) int {
	n := 0
	for _, x := range ids {
		if x == id {
			n++
		}
	}
	return n
}

// A query or mutation sent over a streaming transport would run past admission and the
// request deadline, which streams skip: both transports refuse it before it runs, with
// SUBSCRIPTIONS_ONLY, and Kajabi is not called.
func TestStreamsCarrySubscriptionsOnly(t *testing.T) {
	up := newKajabiUpstream(t, sandbox.Options{Customers: 5})
	base := replica(t, up, "", map[string]string{"WEBHOOK_SECRET": sandboxWebhookSecret, "MUTATIONS": "true"})
	for _, transport := range []string{"sse", "graphql-transport-ws"} {
		for _, tc := range []struct{ name, query string }{
			{"query", `{ customers(first: 5) { nodes { id } } }`},
			{"mutation", `mutation { grantOffers(customerId: "1", offerIds: ["1"]) { id } }`},
		} {
			t.Run(transport+"/"+tc.name, func(t *testing.T) {
				before := up.calls.Load()
				first := firstAnswer(t, transport, base, tc.query)
				if got := firstCode(first); got != "SUBSCRIPTIONS_ONLY" {
					t.Errorf("got %v, want an error with code SUBSCRIPTIONS_ONLY", first)
				}
				if first["data"] != nil {
					t.Errorf("got data %v, want none", first["data"])
				}
				if n := up.calls.Load() - before; n != 0 {
					t.Errorf("got %d Kajabi calls, want 0", n)
				}
			})
		}
	}
}

// firstAnswer opens a subscription over transport ("sse" or "graphql-transport-ws") and
// returns its first message, failing the test if none comes within 10 s.
func firstAnswer(t *testing.T, transport, base, query string) map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	open := map[string]func(testing.TB, context.Context, string, string) <-chan map[string]any{"sse": openSSE, "graphql-transport-ws": openWS}
	select {
	case first := <-open[transport](t, ctx, base, query):
		return first
	case <-ctx.Done():
		t.Fatal("no answer")
		return nil
	}
}

// A subscription to a site that is not the account's, or to an empty list of events, would
// wait forever for nothing: it is refused with BAD_USER_INPUT, over both transports, before
// any event.
func TestLiveRefusesUnknownSite(t *testing.T) {
	base, _ := startServer(t, map[string]string{})
	for _, transport := range []string{"sse", "graphql-transport-ws"} {
		for _, tc := range []struct{ name, args, want string }{
			{"not an id", `siteId: "999x"`, "BAD_USER_INPUT"},
			{"a path", `siteId: "../1"`, "BAD_USER_INPUT"},
			{"not the account's", `siteId: "999"`, "BAD_USER_INPUT"},
			{"no events", `siteId: "101", events: []`, "BAD_USER_INPUT"}, // not "every event"
		} {
			t.Run(transport+"/"+tc.name, func(t *testing.T) {
				q := `subscription { customerActivity(` + tc.args + `) { eventId } }`
				first := firstAnswer(t, transport, base, q)
				if got := firstCode(first); got != tc.want {
					t.Errorf("got %v, want an error with code %s", first, tc.want)
				}
			})
		}
	}
	t.Run("a site of the account is taken", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		got := openSSE(t, ctx, base, `subscription { customerActivity(siteId: "102", events: [PURCHASE]) { eventId siteId } }`)
		hook := base + "/webhooks/kajabi/" + sandboxWebhookSecret
		customer := firstCustomer(t, base)
		for i := 0; i < 50; i++ {
			if code := postWebhook(t, hook, purchaseBodyAt(fmt.Sprintf("site102-%d", i), customer, "102", "USD")); code >= 300 {
				t.Fatalf("webhook: got %d, want 2xx", code)
			}
			select {
			case m := <-got:
				ev, _ := m["data"].(map[string]any)["customerActivity"].(map[string]any)
				if ev["siteId"] != "102" {
					t.Fatalf("got %v, want an event of site 102", m)
				}
				return
			case <-time.After(100 * time.Millisecond):
			case <-ctx.Done():
				t.Fatal("no event")
			}
		}
		t.Fatal("no event after 50 webhooks")
	})
}

// A subscriber that stops reading does not hold up one that reads: the fast one receives
// every event while the slow one's socket and buffer fill, and the slow one, when it reads
// again, finds its stream ended with SUBSCRIBER_TOO_SLOW.
func TestLiveSlowSubscriberIsDropped(t *testing.T) {
	base, _ := startServer(t, map[string]string{"SUBSCRIBER_BUFFER": "2"})
	hook := base + "/webhooks/kajabi/" + sandboxWebhookSecret
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const fat = `subscription { customerActivity { eventId ... on PurchaseEvent { purchase { currency } } } }`
	fast := openSSE(t, ctx, base, fat)

	// The slow one reads a small socket buffer's worth, then nothing until resumed.
	slowClient := &http.Client{Transport: &http.Transport{DialContext: (&net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		return c.Control(func(fd uintptr) { _ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
	}}).DialContext}}
	body, _ := json.Marshal(map[string]string{"query": fat})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/graphql", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	resp, err := slowClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	listening, resume := make(chan struct{}), make(chan struct{})
	slow := make(chan map[string]any, 1024)
	go func() {
		defer close(slow)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 1<<20)
		first := true
		for sc.Scan() {
			data, ok := strings.CutPrefix(sc.Text(), "data: ")
			if !ok {
				continue
			}
			if first {
				first = false
				close(listening)
				<-resume
				continue
			}
			var m map[string]any
			if json.Unmarshal([]byte(data), &m) == nil {
				slow <- m
			}
		}
	}()
	for i := 0; ; i++ {
		if i == 100 {
			t.Fatal("the slow subscriber never received its first event")
		}
		postWebhook(t, hook, purchaseBodyAt(fmt.Sprintf("warm-%d-%d", time.Now().UnixNano(), i), "1", "101", "USD"))
		select {
		case <-listening:
		case <-time.After(100 * time.Millisecond):
			continue
		}
		break
	}
	for drained := false; !drained; {
		select {
		case <-fast:
		case <-time.After(300 * time.Millisecond):
			drained = true
		}
	}

	// 60 events of 200 kB: far more than the slow socket, its server-side buffers and a
	// SUBSCRIBER_BUFFER of 2 hold. Each is posted once the fast subscriber has the one
	// before, so the fast one never falls behind by more than one.
	const n = 60
	pad := strings.Repeat("x", 200<<10)
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("fat-%d-%d", time.Now().UnixNano(), i)
		if code := postWebhook(t, hook, purchaseBodyAt(id, "1", "101", pad)); code != http.StatusAccepted {
			t.Fatalf("webhook %d: got %d, want 202", i, code)
		}
		if got := idsUntil(t, fast, id); len(got) != 1 {
			t.Fatalf("fast subscriber: got %v, want %s alone", got, id)
		}
	}

	close(resume)
	var last map[string]any
	received, failed := 0, 0
	for p := range slow {
		if eventID(p) != "" {
			received++
		}
		if firstCode(p) != "" {
			failed++
		}
		last = p
	}
	if failed != 1 {
		t.Errorf("slow subscriber: got %d answers with errors, want 1 (the last)", failed)
	}
	if received >= n {
		t.Errorf("slow subscriber: got all %d events, want it dropped before", received)
	}
	if code := firstCode(last); code != "SUBSCRIBER_TOO_SLOW" {
		t.Errorf("slow subscriber's last answer: got %v, want SUBSCRIBER_TOO_SLOW", last)
	}
}

// Two replicas on one Redis: an event posted to A reaches a subscriber on B, once even
// when Kajabi delivers it to both.
func TestLiveAcrossReplicas(t *testing.T) {
	redis := fleettest.Start(t)
	up := newKajabiUpstream(t, sandbox.Options{Customers: 5})
	secret := map[string]string{"WEBHOOK_SECRET": sandboxWebhookSecret}
	a, b := replica(t, up, redis.URL, secret), replica(t, up, redis.URL, secret)
	hookA, hookB := a+"/webhooks/kajabi/"+sandboxWebhookSecret, b+"/webhooks/kajabi/"+sandboxWebhookSecret
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	onB := openSSE(t, ctx, b, liveIDsQuery)
	if ev := deliverUntil(t, hookA, "1", onB); eventID(ev) == "" {
		t.Fatalf("got %v on B, want the event posted to A", ev)
	}

	dup := fmt.Sprintf("dup-%d", time.Now().UnixNano())
	postWebhook(t, hookA, purchaseBodyAt(dup, "1", up.siteID, "USD"))
	postWebhook(t, hookB, purchaseBodyAt(dup, "1", up.siteID, "USD"))
	// Each replica hands on its deliveries in order, and Redis keeps each publisher's
	// order: a second copy of dup would come before the marker sent after it.
	markerA, markerB := dup+"-a", dup+"-b"
	postWebhook(t, hookA, purchaseBodyAt(markerA, "1", up.siteID, "USD"))
	postWebhook(t, hookB, purchaseBodyAt(markerB, "1", up.siteID, "USD"))
	if n := count(idsUntil(t, onB, markerA, markerB), dup); n != 1 {
		t.Errorf("got %s %d times on B, want 1", dup, n)
	}
}

// A purchase changes a product's members count, so it makes the cached product list of
// its site be read from Kajabi again: on the replica that received it, and on another
// replica of the fleet.
// livePair is where webhooks are posted and where subscribers ask: one replica, or two
// sharing a real Redis when fleet is set.
func livePair(t testing.TB, up *kajabiUpstream, fleet bool) (receiver, subscriber string) {
	t.Helper()
	secret := map[string]string{"WEBHOOK_SECRET": sandboxWebhookSecret}
	if !fleet {
		receiver = replica(t, up, "", secret)
		return receiver, receiver
	}
	redis := fleettest.Start(t)
	return replica(t, up, redis.URL, secret), replica(t, up, redis.URL, secret)
}

func TestLivePurchaseRefreshesCatalogue(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fleet bool
	}{
		{"in process", false},
		{"other replica", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			up := newKajabiUpstream(t, sandbox.Options{Customers: 5})
			receiver, asked := livePair(t, up, tc.fleet)
			hook := receiver + "/webhooks/kajabi/" + sandboxWebhookSecret
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			events := openSSE(t, ctx, asked, liveIDsQuery)
			deliverUntil(t, hook, "1", events)

			catalogue := fmt.Sprintf(`{ products(siteId: %q) { id membersCount } }`, up.siteID)
			callsFor := func(what string) int64 {
				t.Helper()
				before := up.calls.Load()
				if out, err := gql(asked, map[string]any{"query": catalogue}); err != nil || len(errorsOf(out)) > 0 {
					t.Fatalf("%s: %v %v", what, err, errorsOf(out))
				}
				return up.calls.Load() - before
			}
			callsFor("first read")
			if n := callsFor("cached read"); n != 0 {
				t.Fatalf("cached read: got %d Kajabi calls, want 0", n)
			}
			purchase := fmt.Sprintf("purchase-%d", time.Now().UnixNano())
			postWebhook(t, hook, purchaseBodyAt(purchase, "1", up.siteID, "USD"))
			idsUntil(t, events, purchase) // forgotten before it is handed to subscribers
			if n := callsFor("read after the purchase"); n == 0 {
				t.Errorf("read after the purchase: got 0 Kajabi calls, want the product list read again")
			}
			if n := callsFor("read after that"); n != 0 {
				t.Errorf("read after that: got %d Kajabi calls, want 0 (cached again)", n)
			}
		})
	}
}

// BenchmarkLiveLatency is webhook-to-subscriber latency: from the POST of a webhook to its
// event read off an SSE subscription, one event in flight, on one process and from
// replica A to a subscriber on replica B through Redis. It reports p50 and p99.
//
//	go test -run '^$' -bench BenchmarkLiveLatency -benchtime 200x .
func BenchmarkLiveLatency(b *testing.B) {
	for _, tc := range []struct {
		name  string
		fleet bool
	}{{"one process", false}, {"two replicas on Redis", true}} {
		b.Run(tc.name, func(b *testing.B) {
			up := newKajabiUpstream(b, sandbox.Options{Customers: 5})
			receiver, subscriber := livePair(b, up, tc.fleet)
			hook := receiver + "/webhooks/kajabi/" + sandboxWebhookSecret
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			events := openSSE(b, ctx, subscriber, liveIDsQuery)
			deliverUntil(b, hook, "1", events)
			took := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				id := fmt.Sprintf("lat-%d-%d", time.Now().UnixNano(), i)
				start := time.Now()
				postWebhook(b, hook, purchaseBodyAt(id, "1", up.siteID, "USD"))
				idsUntil(b, events, id)
				took = append(took, time.Since(start))
			}
			b.StopTimer()
			b.ReportMetric(float64(percentile(took, 0.50).Microseconds()), "p50-µs")
			b.ReportMetric(float64(percentile(took, 0.99).Microseconds()), "p99-µs")
		})
	}
}

// BenchmarkLiveSubscribersPerRSS opens SSE subscriptions on a server in a process of its
// own (this test binary again, running TestLiveServeForRSS), 250 at a time, each step
// confirmed by an event every subscriber receives, until the server's VmRSS reaches
// 100 MB or 5,000 subscribers are open. It reports the subscribers held under 100 MB and
// the RSS they added each.
//
//	go test -run '^$' -bench BenchmarkLiveSubscribersPerRSS -benchtime 1x .
func BenchmarkLiveSubscribersPerRSS(b *testing.B) {
	const (
		step    = 250
		most    = 5000
		ceiling = 100 << 20
	)
	// Kajabi is the sandbox in this process, so the server's RSS holds no sandbox store.
	up := newKajabiUpstream(b, sandbox.Options{Customers: 5})
	for i := 0; i < b.N; i++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestLiveServeForRSS$")
		cmd.Env = append(os.Environ(), "LIVE_RSS_SERVER=1", "KAJABI_BASE_URL="+up.url, "KAJABI_SITE_ID="+up.siteID)
		stdin, _ := cmd.StdinPipe()
		stdout, _ := cmd.StdoutPipe()
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		lines := bufio.NewScanner(stdout)
		base := ""
		for lines.Scan() {
			if addr, ok := strings.CutPrefix(lines.Text(), "LISTENING "); ok {
				base = addr
				break
			}
		}
		if base == "" {
			b.Fatal("the server process did not start")
		}
		go func() { _, _ = io.Copy(io.Discard, stdout) }()
		rss := func() int64 {
			status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid))
			if err != nil {
				b.Fatal(err)
			}
			for _, line := range strings.Split(string(status), "\n") {
				if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
					kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
					return kb << 10
				}
			}
			return 0
		}
		hook := base + "/webhooks/kajabi/" + sandboxWebhookSecret
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: -1}}
		var heard sync.Map // step marker -> *atomic.Int64 of subscribers that received it
		subscribe := func() {
			body, _ := json.Marshal(map[string]string{"query": liveIDsQuery})
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/graphql", strings.NewReader(string(body)))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "text/event-stream")
			resp, err := client.Do(req)
			if err != nil {
				return
			}
			go func() {
				defer resp.Body.Close()
				sc := bufio.NewScanner(resp.Body)
				for sc.Scan() {
					if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
						var m map[string]any
						if json.Unmarshal([]byte(data), &m) == nil {
							if n, ok := heard.Load(eventID(m)); ok {
								n.(*atomic.Int64).Add(1)
							}
						}
					}
				}
			}()
		}
		base0 := rss()
		held, heldRSS := 0, base0
		for open := 0; open < most; {
			for j := 0; j < step; j++ {
				subscribe()
			}
			open += step
			// Every subscriber is listening once each has an event sent after it opened.
			ok := false
			for try := 0; try < 100 && !ok; try++ {
				id := fmt.Sprintf("rss-%d-%d", open, try)
				n := &atomic.Int64{}
				heard.Store(id, n)
				postWebhook(b, hook, purchaseBodyAt(id, "1", up.siteID, "USD"))
				for wait := 0; wait < 20 && n.Load() < int64(open); wait++ {
					time.Sleep(50 * time.Millisecond)
				}
				ok = n.Load() >= int64(open)
			}
			if !ok {
				b.Fatalf("not all %d subscribers received an event", open)
			}
			now := rss()
			b.Logf("%d subscribers: VmRSS %.1f MB", open, float64(now)/(1<<20))
			if now > ceiling {
				break
			}
			held, heldRSS = open, now
		}
		_ = stdin.Close()
		if prefix := os.Getenv("LIVE_RSS_PROFILE"); prefix != "" { // profiled while the subscribers are held
			for wait := 0; wait < 600; wait++ {
				if _, err := os.Stat(prefix + ".goroutine"); err == nil {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
		}
		cancel()
		_ = cmd.Wait()
		b.ReportMetric(float64(held), "subscribers-under-100MB")
		b.ReportMetric(float64(base0)/(1<<20), "idle-MB")
		if held > 0 {
			b.ReportMetric(float64(heldRSS-base0)/float64(held)/1024, "kB/subscriber")
		}
	}
}

// TestLiveServeForRSS is the server process of BenchmarkLiveSubscribersPerRSS: a service
// on the Kajabi the benchmark names, with the GC settings main gives it, logging nowhere,
// until its stdin closes.
func TestLiveServeForRSS(t *testing.T) {
	if os.Getenv("LIVE_RSS_SERVER") != "1" {
		t.Skip("the server process of BenchmarkLiveSubscribersPerRSS")
	}
	tuneGC(os.Getenv)
	env := map[string]string{
		"LISTEN_ADDR": "127.0.0.1:0", "MAX_SUBSCRIPTIONS_PER_CALLER": "100000", "WEBHOOK_SECRET": sandboxWebhookSecret,
		"KAJABI_BASE_URL": os.Getenv("KAJABI_BASE_URL"), "KAJABI_SITE_ID": os.Getenv("KAJABI_SITE_ID"),
		"KAJABI_CLIENT_ID": sandbox.ClientID, "KAJABI_CLIENT_SECRET": sandbox.ClientSecret,
	}
	cfg, err := loadConfig(nil, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- run(ctx, cfg, zerolog.Nop(), ready) }()
	fmt.Println("LISTENING http://" + <-ready)
	_, _ = io.Copy(io.Discard, os.Stdin)
	// LIVE_RSS_PROFILE=prefix writes prefix.heap and prefix.goroutine (for go tool pprof)
	// and prefix.memstats as the subscribers are still held.
	if prefix := os.Getenv("LIVE_RSS_PROFILE"); prefix != "" {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		_ = os.WriteFile(prefix+".memstats", fmt.Appendf(nil, "HeapInuse %d\nStackInuse %d\nSys %d\nGoroutines %d\n",
			m.HeapInuse, m.StackInuse, m.Sys, runtime.NumGoroutine()), 0o644)
		for _, name := range []string{"heap", "goroutine"} {
			if f, err := os.Create(prefix + "." + name + ".part"); err == nil {
				_ = pprof.Lookup(name).WriteTo(f, 0)
				f.Close()
				_ = os.Rename(prefix+"."+name+".part", prefix+"."+name)
			}
		}
	}
	cancel()
	<-done
}

// A subscription is one stream (GraphQL spec, "Single root field": one response key). Two
// aliases of customerActivity, or a root field skipped away, is a document error, coded
// as one, and not an internal error.
func TestLiveOneRootField(t *testing.T) {
	base, _ := startServer(t, map[string]string{})
	for _, transport := range []string{"sse", "graphql-transport-ws"} {
		for _, tc := range []struct{ name, query string }{
			{"two aliases", `subscription { a: customerActivity { eventId } b: customerActivity { eventId } }`},
			{"an alias in a fragment", `subscription { customerActivity { eventId } ...F } fragment F on Subscription { again: customerActivity { eventId } }`},
			{"skipped away", `subscription { customerActivity @skip(if: true) { eventId } }`},
		} {
			t.Run(transport+"/"+tc.name, func(t *testing.T) {
				first := firstAnswer(t, transport, base, tc.query)
				if got := firstCode(first); got != "GRAPHQL_VALIDATION_FAILED" {
					t.Errorf("got %v, want an error with code GRAPHQL_VALIDATION_FAILED", first)
				}
			})
		}
	}
}

// Subscribers that come and go during a webhook flood, each round filling the caller's
// MAX_SUBSCRIPTIONS_PER_CALLER over both transports and then hanging up mid-stream without
// reading on, leave nothing behind: the slots come back and so does the goroutine count.
func TestLiveChurnLeavesNothing(t *testing.T) {
	// A buffer larger than the flood: a subscriber dropped as too slow would free its slot.
	base, _ := startServer(t, map[string]string{"MAX_SUBSCRIPTIONS_PER_CALLER": "3", "SUBSCRIBER_BUFFER": "2000"})
	hook := base + "/webhooks/kajabi/" + sandboxWebhookSecret
	customer := firstCustomer(t, base)
	http.DefaultClient.CloseIdleConnections()
	before := runtime.NumGoroutine()

	stop := make(chan struct{})
	flooded := make(chan struct{})
	go func() {
		defer close(flooded)
		for i := 0; i < 1500; i++ {
			select {
			case <-stop:
				return
			default:
			}
			postWebhook(t, hook, purchaseBody(fmt.Sprintf("flood-%d-%d", time.Now().UnixNano(), i), customer))
		}
	}()
	open := []func(testing.TB, context.Context, string, string) <-chan map[string]any{openSSE, openWS}
	first := func(ctx context.Context, got <-chan map[string]any) (map[string]any, bool) {
		select {
		case m, ok := <-got:
			return m, ok
		case <-ctx.Done():
			return nil, false
		}
	}
	for round := 0; round < 6; round++ {
		t.Run(fmt.Sprint("round ", round), func(t *testing.T) { // its Cleanup closes the round's sockets
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			for i := 0; i < 3; i++ {
				// The last round's hung-up streams end as the server notices: bounded retries.
				m, ok := first(ctx, open[(round+i)%2](t, ctx, base, liveIDsQuery))
				for try := 0; try < 100 && firstCode(m) == "TOO_MANY_SUBSCRIPTIONS"; try++ {
					time.Sleep(20 * time.Millisecond)
					m, ok = first(ctx, open[(round+i)%2](t, ctx, base, liveIDsQuery))
				}
				if !ok || firstCode(m) != "" {
					t.Fatalf("subscription %d: got %v, want an event", i, m)
				}
			}
			if m, _ := first(ctx, open[round%2](t, ctx, base, liveIDsQuery)); firstCode(m) != "TOO_MANY_SUBSCRIPTIONS" {
				t.Errorf("a fourth subscription: got %v, want TOO_MANY_SUBSCRIPTIONS", m)
			}
		})
	}
	close(stop)
	<-flooded
	http.DefaultClient.CloseIdleConnections()
	after := runtime.NumGoroutine()
	for i := 0; i < 100 && after > before; i++ { // bounded: hung-up streams end as their reads fail
		time.Sleep(50 * time.Millisecond)
		after = runtime.NumGoroutine()
	}
	if after > before {
		buf := make([]byte, 1<<20)
		t.Errorf("got %d goroutines after the churn, want at most the %d before:\n%s", after, before, buf[:runtime.Stack(buf, true)])
	}
}

// A WebSocket's credentials may wait for connection_init, as a browser cannot set headers
// on one; nothing else may wait. A GraphQL-over-SSE POST that also says Upgrade (which
// only a WebSocket handshake means) once subscribed without a key, and read customers
// with the service's own Kajabi credentials.
func TestLiveStreamsNeedTheKey(t *testing.T) {
	const key = "service-mode-key-0123456789abcdef"
	base, _ := startServer(t, map[string]string{"API_KEYS": key})
	body := mustMarshal(map[string]string{"query": `subscription { customerActivity { eventId ... on PurchaseEvent { customer { email } } } }`})
	for _, tc := range []struct{ name, upgrade, connection string }{
		{"Upgrade: websocket", "websocket", ""},
		{"Upgrade: websocket, Connection: Upgrade", "websocket", "Upgrade"},
		{"Upgrade: h2c", "h2c", "Upgrade, HTTP2-Settings"},
		{"Upgrade: anything", "x", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/graphql", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "text/event-stream")
			req.Header.Set("Upgrade", tc.upgrade)
			if tc.connection != "" {
				req.Header.Set("Connection", tc.connection)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("got %d %s, want 401", resp.StatusCode, resp.Header.Get("Content-Type"))
			}
		})
	}
	t.Run("a WebSocket with the key in connection_init", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, _, err := coderws.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/graphql", &coderws.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
		_ = wsjson.Write(ctx, c, map[string]any{"type": "connection_init", "payload": map[string]any{"X-API-Key": key}})
		var ack struct{ Type string }
		if err := wsjson.Read(ctx, c, &ack); err != nil || ack.Type != "connection_ack" {
			t.Fatalf("got %+v (%v), want connection_ack", ack, err)
		}
		// An operation runs as the key's caller: refused for its argument, not for who sent it.
		_ = wsjson.Write(ctx, c, map[string]any{"type": "subscribe", "id": "1", "payload": map[string]any{"query": `subscription { customerActivity(siteId: "999x") { eventId } }`}})
		var next struct {
			Type    string
			Payload struct{ Errors []map[string]any }
		}
		if err := wsjson.Read(ctx, c, &next); err != nil || len(next.Payload.Errors) == 0 || fmt.Sprint(next.Payload.Errors[0]["extensions"]) != "map[code:BAD_USER_INPUT field:siteId]" {
			t.Errorf("got %+v (%v), want BAD_USER_INPUT for siteId", next, err)
		}
	})
	t.Run("a WebSocket without the key", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, _, err := coderws.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/graphql", &coderws.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
		_ = wsjson.Write(ctx, c, map[string]any{"type": "connection_init", "payload": map[string]any{}})
		var ack struct{ Type string }
		if err := wsjson.Read(ctx, c, &ack); err == nil && ack.Type == "connection_ack" {
			t.Errorf("got %+v, want the connection refused", ack)
		}
	})
}

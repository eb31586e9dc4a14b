package sandbox_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/kajabi-graphql/facade/kajabi/kajabitest"
	"github.com/kajabi-graphql/facade/kajabi/sandbox"
)

// hookTarget registers a hook for every event on every site of e, pointing at a loopback
// server that keeps what it receives.
type hookTarget struct {
	mu     sync.Mutex
	bodies [][]byte
}

func (h *hookTarget) take() [][]byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := h.bodies
	h.bodies = nil
	return out
}

func listenHooks(t *testing.T, e *env) *hookTarget {
	t.Helper()
	h := &hookTarget{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.bodies = append(h.bodies, b)
		h.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(srv.Close)
	for _, site := range e.sb.Store().Sites {
		for _, ev := range []string{"purchase", "form_submission", "tag_added", "tag_removed", "payment_succeeded", "order_created"} {
			body := `{"data":{"type":"hooks","attributes":{"target_url":"` + srv.URL + `","event":"` + ev + `"},"relationships":{"site":{"data":{"type":"sites","id":"` + site.ID + `"}}}}}`
			req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/v1/hooks", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+testToken)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("POST /v1/hooks: got %d, want 201", resp.StatusCode)
			}
		}
	}
	return h
}

// payloadResource is the part of a payload resource whose shape the samples fix.
type payloadResource struct {
	ID            string                     `json:"id"`
	Type          string                     `json:"type"`
	Attributes    map[string]json.RawMessage `json:"attributes"`
	Links         map[string]json.RawMessage `json:"links"`
	Relationships map[string]struct {
		Data json.RawMessage `json:"data"`
	} `json:"relationships"`
}

type delivered struct {
	ID      string            `json:"id"`
	Event   string            `json:"event"`
	Payload []json.RawMessage `json:"payload"`
}

// shape is a payload's types in order and, per resource, its attribute, link and
// relationship names.
func shape(t *testing.T, payload []json.RawMessage) []string {
	t.Helper()
	var out []string
	for _, raw := range payload {
		var r payloadResource
		if err := json.Unmarshal(raw, &r); err != nil {
			t.Fatal(err)
		}
		out = append(out, r.Type+" attributes="+strings.Join(sortedKeys(r.Attributes), ",")+
			" links="+strings.Join(sortedKeys(r.Links), ",")+" relationships="+strings.Join(sortedKeys(r.Relationships), ","))
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	k := make([]string, 0, len(m))
	for n := range m {
		k = append(k, n)
	}
	sort.Strings(k)
	return k
}

// samplePayloads are the spec's webhook samples; the test is skipped without the spec.
func samplePayloads(t *testing.T) map[string][]json.RawMessage {
	t.Helper()
	if _, ok := kajabitest.SpecPath(t); !ok {
		t.Skip("no spec")
	}
	samples, err := kajabitest.HookSamples()
	if err != nil {
		t.Fatal(err)
	}
	return samples
}

// TestFireEveryEvent: for each event Kajabi documents, Fire changes the store and POSTs a
// payload shaped exactly as the spec's sample (types in order, attribute, link and
// relationship names) and valid against the sample endpoint's schema; every id it names
// can be read back, and the change shows where a client would look for it.
func TestFireEveryEvent(t *testing.T) {
	samples := samplePayloads(t)
	e := newEnv(t, sandbox.Options{Customers: 40})
	target := listenHooks(t, e)
	ctx := context.Background()

	// has GETs path and reports whether its data holds an identifier or resource with id.
	has := func(t *testing.T, path, id string) bool {
		t.Helper()
		var doc struct {
			Data []struct {
				ID string `json:"id"`
			} `json:"data"`
		}
		e.getJSON(t, path, &doc)
		return slices.ContainsFunc(doc.Data, func(d struct {
			ID string `json:"id"`
		}) bool {
			return d.ID == id
		})
	}
	readable := map[string]string{ // payload type: where one is read by id
		"purchases": "/v1/purchases/", "orders": "/v1/orders/", "transactions": "/v1/transactions/",
		"customers": "/v1/customers/", "contacts": "/v1/contacts/", "offers": "/v1/offers/",
		"contact_tags": "/v1/contact_tags/", "form_submissions": "/v1/form_submissions/",
	}
	for _, event := range []string{"purchase", "order_created", "payment_succeeded", "tag_added", "tag_removed", "form_submission"} {
		t.Run(event, func(t *testing.T) {
			if err := e.sb.Fire(ctx, event); err != nil {
				t.Fatal(err)
			}
			var got *delivered
			for _, b := range target.take() {
				var d delivered
				if err := json.Unmarshal(b, &d); err != nil {
					t.Fatalf("delivery %s: %v", b, err)
				}
				if d.Event == event {
					got = &d
				}
			}
			if got == nil {
				t.Fatalf("got no %s delivery", event)
			}
			if g, w := shape(t, got.Payload), shape(t, samples[event]); !slices.Equal(g, w) {
				t.Errorf("payload shape:\n got %q\nwant %q", g, w)
			}
			body, _ := json.Marshal(got.Payload)
			if err := kajabitest.CheckResponse(http.MethodGet, "/v1/hooks/"+event+"_sample", http.StatusOK,
				http.Header{"Content-Type": {"application/vnd.api+json"}}, body); err != nil {
				t.Errorf("payload against the sample's schema: %v", err)
			}
			res := map[string]payloadResource{}
			for _, raw := range got.Payload {
				var r payloadResource
				_ = json.Unmarshal(raw, &r)
				res[r.Type] = r
				if base, ok := readable[r.Type]; ok {
					resp, b := e.do(t, http.MethodGet, base+r.ID, testToken)
					if resp.StatusCode != http.StatusOK {
						t.Errorf("GET %s%s: got %d, want 200; %s", base, r.ID, resp.StatusCode, b)
					}
					if err := kajabitest.CheckResponse(http.MethodGet, base+r.ID, resp.StatusCode, resp.Header, b); err != nil {
						t.Errorf("against the spec: %v", err)
					}
				}
			}
			customer := res["customers"].ID
			switch event {
			case "purchase":
				if !has(t, "/v1/purchases?filter[customer_id]="+customer, res["purchases"].ID) {
					t.Errorf("purchase %s is not among customer %s's purchases", res["purchases"].ID, customer)
				}
				if !has(t, "/v1/customers/"+customer+"/relationships/offers", res["offers"].ID) {
					t.Errorf("offer %s is not among customer %s's offers", res["offers"].ID, customer)
				}
			case "order_created":
				if !has(t, "/v1/orders?filter[customer_id]="+customer, res["orders"].ID) {
					t.Errorf("order %s is not among customer %s's orders", res["orders"].ID, customer)
				}
			case "payment_succeeded":
				if !has(t, "/v1/transactions?filter[customer_id]="+customer, res["transactions"].ID) {
					t.Errorf("transaction %s is not among customer %s's transactions", res["transactions"].ID, customer)
				}
			case "tag_added", "tag_removed":
				on := has(t, "/v1/contacts/"+res["contacts"].ID+"/relationships/tags", res["contact_tags"].ID)
				if want := event == "tag_added"; on != want {
					t.Errorf("tag %s on contact %s: got %v, want %v", res["contact_tags"].ID, res["contacts"].ID, on, want)
				}
			case "form_submission":
				list := "/v1/form_submissions?filter[form_id]=" + res["forms"].ID
				resp, b := e.do(t, http.MethodGet, list, testToken)
				if err := kajabitest.CheckResponse(http.MethodGet, "/v1/form_submissions", resp.StatusCode, resp.Header, b); err != nil {
					t.Errorf("against the spec: %v", err)
				}
				if !has(t, list, res["form_submissions"].ID) {
					t.Errorf("submission %s is not among form %s's", res["form_submissions"].ID, res["forms"].ID)
				}
			}
		})
	}
}

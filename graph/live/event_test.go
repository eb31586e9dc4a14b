package live_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/kajabi-graphql/facade/graph/live"
	"github.com/kajabi-graphql/facade/kajabi/kajabitest"
)

// TestParseSpecSamples: every payload the spec shows, as Kajabi POSTs it ({"id", "event",
// "payload"}), parses into its kind with the records its subscription event is made from.
func TestParseSpecSamples(t *testing.T) {
	if _, ok := kajabitest.SpecPath(t); !ok {
		t.Skip("no spec")
	}
	samples, err := kajabitest.HookSamples()
	if err != nil {
		t.Fatal(err)
	}
	str := func(p *string) string {
		if p == nil {
			return "<nil>"
		}
		return *p
	}
	for _, tc := range []struct {
		kind live.Kind
		// the records the event carries, as text
		check func(e *live.Event) (got, want string)
	}{
		{live.Purchase, func(e *live.Event) (string, string) {
			return e.Purchase.ID + " " + e.CustomerID() + " " + e.Offer.ID, "0 0 0"
		}},
		{live.PaymentSucceeded, func(e *live.Event) (string, string) {
			return e.Transaction.ID + " " + e.CustomerID() + " " + e.Customer.Name, "0 0 John Doe"
		}},
		{live.OrderCreated, func(e *live.Event) (string, string) {
			return e.Order.ID + " " + e.Transaction.ID + " " + e.CustomerID(), "0 0 0"
		}},
		{live.FormSubmission, func(e *live.Event) (string, string) {
			return e.Form.ID + " " + e.Form.Title + " " + str(e.Form.Name) + " " + str(e.Form.Email), "0 Sample Form John Doe john.doe@example.com"
		}},
		{live.TagAdded, func(e *live.Event) (string, string) {
			return e.Contact.ID + " " + e.Tag.ID + " " + e.Tag.Name, "0 0 Tag"
		}},
		{live.TagRemoved, func(e *live.Event) (string, string) {
			return e.Contact.ID + " " + e.Tag.ID + " " + e.Tag.Name, "0 0 Tag"
		}},
	} {
		t.Run(string(tc.kind), func(t *testing.T) {
			payload, ok := samples[string(tc.kind)]
			if !ok {
				t.Fatalf("the spec shows no %s sample", tc.kind)
			}
			body, _ := json.Marshal(map[string]any{"id": "hash_id", "event": tc.kind, "payload": payload})
			e, err := live.Parse(body, time.Now())
			if err != nil {
				t.Fatalf("Parse: got %v, want nil", err)
			}
			if e.Kind != tc.kind || e.ID != "hash_id" || e.SiteID != "2" {
				t.Errorf("got %s %s on site %q, want %s hash_id on site 2", e.Kind, e.ID, e.SiteID, tc.kind)
			}
			if got, want := tc.check(e); got != want {
				t.Errorf("records: got %q, want %q", got, want)
			}
		})
	}
}

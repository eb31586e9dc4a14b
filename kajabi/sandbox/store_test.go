package sandbox_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kajabi-graphql/facade/kajabi/sandbox"
)

func TestNewIsFast(t *testing.T) {
	limit := 700 * time.Millisecond
	if raceEnabled {
		limit = 5 * time.Second
	}
	start := time.Now()
	sandbox.New(sandbox.Options{Seed: 99, Now: testNow})
	if d := time.Since(start); d > limit {
		t.Errorf("New with 5000 customers took %v, want under %v", d, limit)
	}
}

// TestStoreInvariants checks the facts are unique, consistent with each
// other and dated no later than Now.
func TestStoreInvariants(t *testing.T) {
	st := sharedEnv(t).sb.Store()
	now := st.Now
	if !now.Equal(testNow) {
		t.Fatalf("got Now %v, want %v", now, testNow)
	}
	unique := func(kind string, ids []string) {
		seen := map[string]bool{}
		for _, id := range ids {
			if id == "" || seen[id] || strings.Trim(id, "0123456789") != "" {
				t.Fatalf("%s id %q is empty, repeated or not numeric", kind, id)
			}
			seen[id] = true
		}
	}
	var ids []string
	collect := func(n int, id func(int) string) []string {
		ids = ids[:0]
		for i := range n {
			ids = append(ids, id(i))
		}
		return ids
	}
	unique("site", collect(len(st.Sites), func(i int) string { return st.Sites[i].ID }))
	unique("customer", collect(len(st.Customers), func(i int) string { return st.Customers[i].ID }))
	unique("contact", collect(len(st.Contacts), func(i int) string { return st.Contacts[i].ID }))
	unique("product", collect(len(st.Products), func(i int) string { return st.Products[i].ID }))
	unique("offer", collect(len(st.Offers), func(i int) string { return st.Offers[i].ID }))
	unique("tag", collect(len(st.Tags), func(i int) string { return st.Tags[i].ID }))
	unique("broadcast", collect(len(st.Broadcasts), func(i int) string { return st.Broadcasts[i].ID }))

	subset := func(sub, of []string) bool {
		for _, x := range sub {
			if !slices.Contains(of, x) {
				return false
			}
		}
		return true
	}
	disjoint := func(a, b []string) bool {
		for _, x := range a {
			if slices.Contains(b, x) {
				return false
			}
		}
		return true
	}
	emails := map[string]bool{}
	for i := range st.Customers {
		c, ct := &st.Customers[i], &st.Contacts[i]
		if got := st.ContactOf(c); got != ct || ct.CustomerID != c.ID || c.ContactID != ct.ID || c.SiteID != ct.SiteID ||
			c.Name != ct.Name || c.Email != ct.Email {
			t.Fatalf("customer %s and contact %s do not belong together", c.ID, ct.ID)
		}
		key := c.SiteID + "/" + c.Email
		if emails[key] || c.Email != strings.ToLower(c.Email) || !strings.Contains(c.Email, "@") {
			t.Fatalf("email %s repeated in site %s or malformed", c.Email, c.SiteID)
		}
		emails[key] = true
		if !subset(c.ActiveProductIDs, c.ProductIDs) || !disjoint(c.PreviousProductIDs, c.ProductIDs) ||
			!subset(c.PassedAssessmentIDs, c.CompletedAssessmentIDs) || !subset(c.FailedAssessmentIDs, c.CompletedAssessmentIDs) ||
			!disjoint(c.PassedAssessmentIDs, c.FailedAssessmentIDs) || !disjoint(c.OfferIDs, c.RevokedOfferIDs) {
			t.Fatalf("customer %s: inconsistent offers, products or assessments: %+v", c.ID, *c)
		}
		for _, id := range c.OfferIDs {
			if o, ok := st.Offer(id); !ok || o.SiteID != c.SiteID || !subset(o.ProductIDs, c.ProductIDs) {
				t.Fatalf("customer %s: offer %s is from another site or its products are not owned", c.ID, id)
			}
		}
		if !subset(ct.OpenedBroadcastIDs, ct.DeliveredBroadcastIDs) || !subset(ct.ClickedBroadcastIDs, ct.OpenedBroadcastIDs) ||
			len(ct.DeliveredBroadcastIDs)+len(ct.BouncedBroadcastIDs)+len(ct.DroppedBroadcastIDs) != len(ct.SentBroadcastIDs) ||
			!disjoint(ct.SubscribedNewsletterIDs, ct.UnsubscribedNewsletterIDs) {
			t.Fatalf("contact %s: inconsistent email facts: %+v", ct.ID, *ct)
		}
		if ct.Subscribed != (!ct.SubscribedAt.IsZero() && ct.UnsubscribedAt.IsZero()) {
			t.Fatalf("contact %s: subscribed %v with dates %v / %v", ct.ID, ct.Subscribed, ct.SubscribedAt, ct.UnsubscribedAt)
		}
		if (c.SignInCount == 0) != c.LastRequestAt.IsZero() || c.JoinedAt.IsZero() != c.LastRequestAt.IsZero() {
			t.Fatalf("customer %s: sign-ins %d, joined %v, last request %v", c.ID, c.SignInCount, c.JoinedAt, c.LastRequestAt)
		}
		for _, d := range []time.Time{c.CreatedAt, c.UpdatedAt, c.JoinedAt, c.LastRequestAt, c.BouncedAt, ct.CreatedAt,
			ct.UpdatedAt, ct.SubscribedAt, ct.UnsubscribedAt, ct.ComplainedAt, ct.LastEmailOpenedAt} {
			if d.After(now) || !d.IsZero() && d.Before(now.AddDate(-4, 0, 0)) || d.Nanosecond() != 0 {
				t.Fatalf("customer %s: date %v outside the data window or not whole seconds", c.ID, d)
			}
		}
		if c.UpdatedAt.Before(c.CreatedAt) || c.NetRevenueCents < 0 {
			t.Fatalf("customer %s: updated before created or negative revenue", c.ID)
		}
	}
	// a customer id must not find a contact and the other way round
	if _, ok := st.Contact(st.Customers[0].ID); ok {
		t.Errorf("customer id %s also names a contact", st.Customers[0].ID)
	}
}

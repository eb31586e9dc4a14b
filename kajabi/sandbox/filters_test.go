package sandbox_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/kajabi-graphql/facade/kajabi/sandbox"
)

// person is what the expected-set predicates below look at.
type person struct {
	c  *sandbox.Customer
	ct *sandbox.Contact
}

// filterCase is one filter with a value taken from the seeded data and the
// test's own reading of what it should select. The predicates are written
// here from the Store's facts, not taken from the package, so a wrong
// predicate in the sandbox shows up as a set difference.
type filterCase struct {
	name  string
	value string
	want  func(p person) bool
}

// first returns the first id found in any customer's list, for picking
// filter values that exist in the data.
func first(st *sandbox.Store, list func(p person) []string) string {
	for i := range st.Customers {
		if ids := list(person{&st.Customers[i], &st.Contacts[i]}); len(ids) > 0 {
			return ids[0]
		}
	}
	return ""
}

// most returns the id appearing in most customers' lists (lowest id on ties),
// so id filters select a sizeable set.
func most(st *sandbox.Store, list func(p person) []string) string {
	n := map[string]int{}
	for i := range st.Customers {
		for _, id := range list(person{&st.Customers[i], &st.Contacts[i]}) {
			n[id]++
		}
	}
	best := ""
	for id, c := range n {
		if c > n[best] || c == n[best] && id < best {
			best = id
		}
	}
	return best
}

func filterCases(st *sandbox.Store) []filterCase {
	now := st.Now
	// within is the test's reading of "in the last N days".
	within := func(t time.Time, days int) bool {
		return !t.IsZero() && !t.Before(now.AddDate(0, 0, -days)) && !t.After(now)
	}
	has := func(list []string, id string) bool { return slices.Contains(list, id) }
	ci := func(field, sub string) bool { return strings.Contains(strings.ToLower(field), strings.ToLower(sub)) }

	tags := func(p person) []string { return p.ct.TagIDs }
	offers := func(p person) []string { return p.c.OfferIDs }
	products := func(p person) []string { return p.c.ProductIDs }
	forms := func(p person) []string { return p.ct.SubmittedFormIDs }
	events := func(p person) []string { return p.c.RegisteredEventIDs }
	sent := func(p person) []string { return p.ct.SentBroadcastIDs }
	sequences := func(p person) []string { return p.ct.EmailSequenceIDs }

	tag := most(st, tags)
	var tag2 string // another tag of the same site, for has_all_tag_id
	for _, tg := range st.Tags {
		if t1, _ := st.Tag(tag); tg.SiteID == t1.SiteID && tg.ID != tag && tg.Name == "Customer" {
			tag2 = tg.ID
		}
	}
	offer, product := most(st, offers), most(st, products)
	active := most(st, func(p person) []string { return p.c.ActiveProductIDs })
	previous := most(st, func(p person) []string { return p.c.PreviousProductIDs })
	coupon := strings.ToLower(most(st, func(p person) []string { return p.c.CouponCodes }))
	form, event, sequence := most(st, forms), most(st, events), most(st, sequences)
	completed := most(st, func(p person) []string { return p.c.CompletedAssessmentIDs })
	passed := most(st, func(p person) []string { return p.c.PassedAssessmentIDs })
	failed := most(st, func(p person) []string { return p.c.FailedAssessmentIDs })
	broadcast := most(st, sent)
	opened := most(st, func(p person) []string { return p.ct.OpenedBroadcastIDs })
	clicked := most(st, func(p person) []string { return p.ct.ClickedBroadcastIDs })
	bounced := most(st, func(p person) []string { return p.ct.BouncedBroadcastIDs })
	dropped := most(st, func(p person) []string { return p.ct.DroppedBroadcastIDs })
	// the latest broadcast of the first site reached only the newest subscribers
	var recent []string
	for _, b := range st.Broadcasts {
		if b.SiteID == st.Sites[0].ID {
			recent = append(recent, b.ID)
		}
	}
	lastTwo := recent[len(recent)-2:]
	newsletter := most(st, func(p person) []string { return p.ct.SubscribedNewsletterIDs })
	leftNewsletter := most(st, func(p person) []string { return p.ct.UnsubscribedNewsletterIDs })

	// a revenue value that some customers have exactly, written without
	// trailing zeros to exercise decimal parsing
	var revenue int64
	for i := range st.Customers {
		if r := st.Customers[i].NetRevenueCents; r > 0 && r%100 != 0 {
			revenue = r
			break
		}
	}
	revenueText := strings.TrimRight(strings.TrimRight(fmt.Sprintf("%d.%02d", revenue/100, revenue%100), "0"), ".")
	// a piece of a real last name, in another case
	lastName := st.Customers[0].Name[strings.LastIndex(st.Customers[0].Name, " ")+1:]
	search := strings.ToUpper(lastName[:3])

	return []filterCase{
		{"site_id", st.Sites[0].ID, func(p person) bool { return p.c.SiteID == st.Sites[0].ID }},
		{"search", search, func(p person) bool { return ci(p.c.Name, search) || ci(p.c.Email, search) }},
		{"created_in_last", "30", func(p person) bool { return within(p.c.CreatedAt, 30) }},
		{"not_created_in_last", "30", func(p person) bool { return !within(p.c.CreatedAt, 30) }},
		{"is_hidden", "true", func(p person) bool { return p.c.Hidden }},
		{"joined_in_last", "90", func(p person) bool { return within(p.c.JoinedAt, 90) }},
		{"active_in_last", "30", func(p person) bool { return within(p.c.LastRequestAt, 30) }},
		{"inactive_in_last", "30", func(p person) bool { return !within(p.c.LastRequestAt, 30) }},
		{"name_contains", "AN", func(p person) bool { return ci(p.ct.Name, "an") }},
		{"email_contains", "Gmail", func(p person) bool { return ci(p.ct.Email, "gmail") }},
		{"phone_number_contains", "555", func(p person) bool { return ci(p.ct.PhoneNumber, "555") }},
		{"address_line_1_contains", "OAK", func(p person) bool { return ci(p.ct.AddressLine1, "oak") }},
		{"address_line_2_contains", "suite", func(p person) bool { return ci(p.ct.AddressLine2, "suite") }},
		{"address_city_contains", "london", func(p person) bool { return ci(p.ct.AddressCity, "london") }},
		{"address_state_contains", "Tx", func(p person) bool { return ci(p.ct.AddressState, "tx") }},
		{"address_country_contains", "united", func(p person) bool { return ci(p.ct.AddressCountry, "united") }},
		{"address_zip_contains", "787", func(p person) bool { return ci(p.ct.AddressZip, "787") }},
		{"has_tag_id", tag, func(p person) bool { return has(p.ct.TagIDs, tag) }},
		{"has_all_tag_id", tag + ", " + tag2, func(p person) bool { return has(p.ct.TagIDs, tag) && has(p.ct.TagIDs, tag2) }},
		{"has_no_tag_id", tag, func(p person) bool { return !has(p.ct.TagIDs, tag) }},
		{"subscribed", "false", func(p person) bool { return !p.ct.Subscribed }},
		{"has_offer_id", offer, func(p person) bool { return has(p.c.OfferIDs, offer) }},
		{"has_no_offer_id", offer, func(p person) bool { return !has(p.c.OfferIDs, offer) }},
		{"has_product_id", product, func(p person) bool { return has(p.c.ProductIDs, product) }},
		{"has_active_product_id", active, func(p person) bool { return has(p.c.ActiveProductIDs, active) }},
		{"has_no_product_id", product, func(p person) bool { return !has(p.c.ProductIDs, product) }},
		{"previously_owned_product_id", previous, func(p person) bool { return has(p.c.PreviousProductIDs, previous) }},
		{"used_coupon_code", coupon, func(p person) bool { return has(p.c.CouponCodes, strings.ToUpper(coupon)) }},
		{"submitted_form_id", form, func(p person) bool { return has(p.ct.SubmittedFormIDs, form) }},
		{"no_submitted_form_id", form, func(p person) bool { return !has(p.ct.SubmittedFormIDs, form) }},
		{"registered_event_id", event, func(p person) bool { return has(p.c.RegisteredEventIDs, event) }},
		{"not_registered_event_id", event, func(p person) bool { return !has(p.c.RegisteredEventIDs, event) }},
		{"completed_assessment_id", completed, func(p person) bool { return has(p.c.CompletedAssessmentIDs, completed) }},
		{"passed_assessment_id", passed, func(p person) bool { return has(p.c.PassedAssessmentIDs, passed) }},
		{"failed_assessment_id", failed, func(p person) bool { return has(p.c.FailedAssessmentIDs, failed) }},
		{"net_revenue_equal_to", revenueText, func(p person) bool { return p.c.NetRevenueCents == revenue }},
		{"net_revenue_greater_than", "100", func(p person) bool { return p.c.NetRevenueCents > 10000 }},
		{"net_revenue_less_than", "47.5", func(p person) bool { return p.c.NetRevenueCents < 4750 }},
		{"subscribed_in_last", "365", func(p person) bool { return within(p.ct.SubscribedAt, 365) }},
		{"unsubscribed_in_last", "365", func(p person) bool { return within(p.ct.UnsubscribedAt, 365) }},
		{"never_subscribed", "1", func(p person) bool { return p.ct.SubscribedAt.IsZero() }},
		{"sent_email_broadcast_id", broadcast, func(p person) bool { return has(p.ct.SentBroadcastIDs, broadcast) }},
		{"no_sent_email_broadcast_id", broadcast, func(p person) bool { return !has(p.ct.SentBroadcastIDs, broadcast) }},
		{"no_sent_email_broadcast_ids", strings.Join(lastTwo, ","), func(p person) bool {
			return !has(p.ct.SentBroadcastIDs, lastTwo[0]) && !has(p.ct.SentBroadcastIDs, lastTwo[1])
		}},
		{"no_delivered_email_broadcast_id", broadcast, func(p person) bool { return !has(p.ct.DeliveredBroadcastIDs, broadcast) }},
		{"opened_email_broadcast_id", opened, func(p person) bool { return has(p.ct.OpenedBroadcastIDs, opened) }},
		{"no_opened_email_broadcast_id", opened, func(p person) bool { return !has(p.ct.OpenedBroadcastIDs, opened) }},
		{"clicked_email_broadcast_id", clicked, func(p person) bool { return has(p.ct.ClickedBroadcastIDs, clicked) }},
		{"no_clicked_email_broadcast_id", clicked, func(p person) bool { return !has(p.ct.ClickedBroadcastIDs, clicked) }},
		{"bounced_email_broadcast_id", bounced, func(p person) bool { return has(p.ct.BouncedBroadcastIDs, bounced) }},
		{"no_bounced_email_broadcast_id", bounced, func(p person) bool { return !has(p.ct.BouncedBroadcastIDs, bounced) }},
		{"dropped_email_broadcast_id", dropped, func(p person) bool { return has(p.ct.DroppedBroadcastIDs, dropped) }},
		{"no_dropped_email_broadcast_id", dropped, func(p person) bool { return !has(p.ct.DroppedBroadcastIDs, dropped) }},
		{"opened_email_in_last", "30", func(p person) bool { return within(p.ct.LastEmailOpenedAt, 30) }},
		{"not_opened_email_in_last", "30", func(p person) bool { return !within(p.ct.LastEmailOpenedAt, 30) }},
		{"delivered_email_in_last", "7", func(p person) bool { return within(p.ct.LastEmailDeliveredAt, 7) }},
		{"not_delivered_email_in_last", "7", func(p person) bool { return !within(p.ct.LastEmailDeliveredAt, 7) }},
		{"clicked_email_in_last", "30", func(p person) bool { return within(p.ct.LastEmailClickedAt, 30) }},
		{"not_clicked_email_in_last", "30", func(p person) bool { return !within(p.ct.LastEmailClickedAt, 30) }},
		{"is_hard_bouncing", "TRUE", func(p person) bool { return p.c.HardBouncing }},
		{"bounced_in_last", "90", func(p person) bool { return within(p.c.BouncedAt, 90) }},
		{"complained_in_last", "365", func(p person) bool { return within(p.ct.ComplainedAt, 365) }},
		{"manually_unsubscribed_in_last", "365", func(p person) bool { return within(p.ct.ManuallyUnsubscribedAt, 365) }},
		{"opted_out_in_last", "365", func(p person) bool { return within(p.ct.OptedOutAt, 365) }},
		// buckets recomputed from the dates rather than read from Engagement
		{"healthy_contacts_with_open_data", "true", func(p person) bool {
			return !p.ct.LastEmailDeliveredAt.IsZero() && within(p.ct.LastEmailOpenedAt, 30)
		}},
		{"passive_contacts_with_open_data", "1", func(p person) bool {
			return !p.ct.LastEmailDeliveredAt.IsZero() && within(p.ct.LastEmailOpenedAt, 90) && !within(p.ct.LastEmailOpenedAt, 30)
		}},
		{"unengaged_contacts_with_open_data", "true", func(p person) bool {
			return !p.ct.LastEmailDeliveredAt.IsZero() && !p.ct.LastEmailOpenedAt.IsZero() && !within(p.ct.LastEmailOpenedAt, 90)
		}},
		{"inactive_contacts_with_open_data", "false", func(p person) bool {
			return p.ct.LastEmailDeliveredAt.IsZero() || !p.ct.LastEmailOpenedAt.IsZero()
		}},
		{"subscribed_newsletter_id", newsletter, func(p person) bool { return has(p.ct.SubscribedNewsletterIDs, newsletter) }},
		{"unsubscribed_newsletter_id", leftNewsletter, func(p person) bool { return has(p.ct.UnsubscribedNewsletterIDs, leftNewsletter) }},
		{"mobile_phone_number_contains", "+44", func(p person) bool { return strings.Contains(p.ct.MobilePhoneNumber, "+44") }},
		{"subscribed_email_sequence_id", sequence, func(p person) bool { return has(p.ct.EmailSequenceIDs, sequence) }},
		{"not_subscribed_email_sequence_id", sequence, func(p person) bool { return !has(p.ct.EmailSequenceIDs, sequence) }},
		{"is_suppressed", "true", func(p person) bool { return p.ct.Suppressed }},
	}
}

// fetchIDs GETs every page of /v1/customers with the given query and returns
// the ids in answer order, checking the meta totals on the way.
func fetchIDs(t *testing.T, e *env, query url.Values) []string {
	t.Helper()
	var ids []string
	for page := 1; ; page++ {
		q := url.Values{}
		for k, v := range query {
			q[k] = v
		}
		q.Set("page[number]", fmt.Sprint(page))
		q.Set("page[size]", "100")
		// only ids and meta are decoded: the full documents are checked
		// elsewhere, and decoding 5000 of them per filter is slow under -race
		var doc struct {
			Data []struct {
				ID string `json:"id"`
			} `json:"data"`
			Meta struct {
				TotalPages  int `json:"total_pages"`
				TotalCount  int `json:"total_count"`
				CurrentPage int `json:"current_page"`
			} `json:"meta"`
		}
		e.getJSON(t, "/v1/customers?"+q.Encode(), &doc)
		for _, r := range doc.Data {
			ids = append(ids, r.ID)
		}
		if doc.Meta.CurrentPage != page {
			t.Fatalf("got current_page %d, want %d", doc.Meta.CurrentPage, page)
		}
		if page >= doc.Meta.TotalPages {
			if doc.Meta.TotalCount != len(ids) {
				t.Fatalf("got total_count %d, but %d ids over all pages", doc.Meta.TotalCount, len(ids))
			}
			return ids
		}
	}
}

func expectIDs(st *sandbox.Store, want func(p person) bool) []string {
	var ids []string
	for i := range st.Customers {
		if want(person{&st.Customers[i], &st.Contacts[i]}) {
			ids = append(ids, st.Customers[i].ID)
		}
	}
	return ids
}

func sameSet(t *testing.T, got, want []string) {
	t.Helper()
	got, want = slices.Clone(got), slices.Clone(want)
	sort.Strings(got)
	sort.Strings(want)
	if slices.Equal(got, want) {
		return
	}
	missing, extra := diff(want, got), diff(got, want)
	t.Errorf("got %d ids, want %d; missing %v; unexpected %v", len(got), len(want), head(missing), head(extra))
}

func diff(a, b []string) []string {
	var out []string
	for _, x := range a {
		if _, found := slices.BinarySearch(b, x); !found {
			out = append(out, x)
		}
	}
	return out
}

func head(s []string) []string { return s[:min(len(s), 5)] }

// TestCustomerFilters checks every filter of GET /v1/customers over HTTP
// against the test's own predicate. It runs on a 2000-customer data set:
// fetching every page of 74 filters over 5000 customers takes too long under
// -race, and TestDefaultDataSpread covers the default data set.
func TestCustomerFilters(t *testing.T) {
	e := newEnv(t, sandbox.Options{Customers: 2000})
	st := e.sb.Store()
	cases := filterCases(st)
	if len(cases) != 74 {
		t.Fatalf("got %d filter cases, want 74 (73 from the spec plus is_suppressed)", len(cases))
	}
	seen := map[string]bool{}
	for _, tc := range cases {
		if seen[tc.name] {
			t.Fatalf("filter %s listed twice", tc.name)
		}
		seen[tc.name] = true
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			wantSome(t, st, tc)
			// The account has two sites, so every list names one (TestMultiSite): the
			// filter is checked on each site in turn.
			for _, site := range st.Sites {
				q := url.Values{"filter[" + tc.name + "]": {tc.value}, "fields[customers]": {"name"}}
				if tc.name != "site_id" {
					q.Set("filter[site_id]", site.ID)
				} else if site.ID != tc.value {
					continue
				}
				want := expectIDs(st, func(p person) bool { return p.c.SiteID == site.ID && tc.want(p) })
				sameSet(t, fetchIDs(t, e, q), want)
			}
		})
	}
}

// TestDefaultDataSpread checks that with the default data set every filter,
// given a value from the data, selects some customers but not all of them.
func TestDefaultDataSpread(t *testing.T) {
	st := sharedEnv(t).sb.Store()
	if len(st.Customers) != 5000 || len(st.Sites) != 2 {
		t.Fatalf("got %d customers on %d sites, want 5000 on 2", len(st.Customers), len(st.Sites))
	}
	for _, tc := range filterCases(st) {
		t.Run(tc.name, func(t *testing.T) { wantSome(t, st, tc) })
	}
}

// wantSome returns the expected ids of a filter case, failing when the case
// has no value or selects none or all of the customers.
func wantSome(t *testing.T, st *sandbox.Store, tc filterCase) []string {
	t.Helper()
	if tc.value == "" {
		t.Fatalf("no value for %s in the seeded data", tc.name)
	}
	want := expectIDs(st, tc.want)
	if len(want) == 0 || len(want) == len(st.Customers) {
		t.Fatalf("filter[%s]=%s: the data set gives %d of %d customers, want some but not all",
			tc.name, tc.value, len(want), len(st.Customers))
	}
	return want
}

// TestCustomerFilterRules covers the shared rules: AND, empty and unknown
// filters ignored, and a value that cannot be read refused with 400 naming the
// parameter, never ignored: an ignored filter widens the list to everyone.
func TestCustomerFilterRules(t *testing.T) {
	e := oneSiteEnv(t)
	st := e.sb.Store()
	all := expectIDs(st, func(person) bool { return true })
	site := st.Sites[0].ID
	cases := []struct {
		name  string
		query url.Values
		want  []string
	}{
		{"filters AND together", url.Values{"filter[site_id]": {site}, "filter[is_hidden]": {"false"}, "filter[created_in_last]": {"365"}},
			expectIDs(st, func(p person) bool {
				return p.c.SiteID == site && !p.c.Hidden && p.c.CreatedAt.After(testNow.AddDate(-1, 0, 0))
			})},
		{"unknown site matches nobody", url.Values{"filter[site_id]": {"999999"}}, nil},
		{"empty value ignored", url.Values{"filter[site_id]": {""}}, all},
		{"unknown filter ignored", url.Values{"filter[favourite_colour]": {"blue"}}, all},
		{"two decimals accepted", url.Values{"filter[net_revenue_greater_than]": {"100.00"}},
			expectIDs(st, func(p person) bool { return p.c.NetRevenueCents > 10000 })},
		{"zero days is only now", url.Values{"filter[created_in_last]": {"0"}},
			expectIDs(st, func(p person) bool { return p.c.CreatedAt.Equal(testNow) })},
	}
	refused := []struct{ param, value string }{
		{"filter[is_hidden]", "maybe"},
		{"filter[created_in_last]", "a week"},
		{"filter[active_in_last]", "-3"},
		{"filter[net_revenue_greater_than]", "12.345"},
		{"filter[net_revenue_greater_than]", "100.000"},
		{"filter[net_revenue_equal_to]", "12,50"},
		{"filter[has_all_tag_id]", " , "},
		{"filter[no_sent_email_broadcast_ids]", ","},
	}
	for _, tc := range refused {
		t.Run("refused "+tc.param+"="+tc.value, func(t *testing.T) {
			q := url.Values{"fields[customers]": {"name"}, tc.param: {tc.value}}
			resp, body := e.do(t, http.MethodGet, "/v1/customers?"+q.Encode(), testToken)
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), `"parameter":"`+tc.param+`"`) {
				t.Errorf("got %d %s, want 400 naming %s", resp.StatusCode, body, tc.param)
			}
		})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			q := url.Values{"fields[customers]": {"name"}}
			for k, v := range tc.query {
				q[k] = v
			}
			if len(tc.want) == len(all) {
				// an ignored filter: the first page's total tells enough
				var doc listDoc
				e.getJSON(t, "/v1/customers?"+q.Encode(), &doc)
				if doc.Meta.TotalCount != len(all) {
					t.Errorf("got total_count %d, want %d (filter ignored)", doc.Meta.TotalCount, len(all))
				}
				return
			}
			sameSet(t, fetchIDs(t, e, q), tc.want)
		})
	}
}

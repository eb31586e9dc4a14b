package sandbox

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// predicate reports whether a customer matches one filter.
type predicate func(*row) bool

// compiler turns the value of one filter[...] parameter into a predicate. It
// returns nil when the value cannot be used (a word where a number or a
// boolean belongs, an empty id list, a money amount finer than cents): the
// request is then answered 400 with a JSON:API error naming the parameter.
// The spec documents no 400 for this endpoint and does not say what Kajabi
// does with such a value; ignoring it, as the sandbox once did, widened the
// list to everyone without a word, which hid mistakes of the client. An error
// is the answer that cannot be mistaken for data.
type compiler func(value string, now time.Time) predicate

// customerFilters gives every filter[...] of GET /v1/customers its meaning in
// the sandbox. The spec names the filters but says little about their
// semantics, so these are our reading, kept in this one table.
//
// Shared rules: values are trimmed and an empty value ignores the filter;
// booleans are "true"/"1" or "false"/"0" (any case), and "false" selects the
// complement of "true"; ids are compared as exact strings; "in last N days"
// means a date inside [Now-N days, Now], N a whole number >= 0, and a customer
// with no such date never matches, so every "not/inactive ... in last N"
// filter, being the complement, does match customers who have no date at all.
// All filters of one request must match (AND).
var customerFilters = map[string]compiler{
	// The customer belongs to this site.
	"site_id": func(v string, _ time.Time) predicate {
		return func(r *row) bool { return r.c.SiteID == v }
	},
	// Name or email contains the text, ignoring case (a plain substring,
	// standing in for Kajabi's fuzzy search).
	"search": func(v string, _ time.Time) predicate {
		v = strings.ToLower(v)
		return func(r *row) bool {
			return strings.Contains(r.lc[lcName], v) || strings.Contains(r.lc[lcEmail], v)
		}
	},
	// The customer record was created in the last N days.
	"created_in_last": inLast(func(r *row) time.Time { return r.c.CreatedAt }),
	// Complement of created_in_last: created more than N days ago.
	"not_created_in_last": notInLast(func(r *row) time.Time { return r.c.CreatedAt }),
	// The customer is hidden (true) or not (false).
	"is_hidden": boolean(func(r *row) bool { return r.c.Hidden }),
	// First sign-in in the last N days; never signed in never matches.
	"joined_in_last": inLast(func(r *row) time.Time { return r.c.JoinedAt }),
	// last_request_at in the last N days.
	"active_in_last": inLast(func(r *row) time.Time { return r.c.LastRequestAt }),
	// Complement of active_in_last: no request in the last N days, including
	// customers who never signed in.
	"inactive_in_last": notInLast(func(r *row) time.Time { return r.c.LastRequestAt }),

	// The *_contains filters: the named contact field contains the text,
	// ignoring case; a contact without that field never matches.
	"name_contains":            contains(lcName),
	"email_contains":           contains(lcEmail),
	"phone_number_contains":    contains(lcPhone),
	"address_line_1_contains":  contains(lcAddr1),
	"address_line_2_contains":  contains(lcAddr2),
	"address_city_contains":    contains(lcCity),
	"address_state_contains":   contains(lcState),
	"address_country_contains": contains(lcCountry),
	"address_zip_contains":     contains(lcZip),
	// The mobile number, which the contact resource does not show.
	"mobile_phone_number_contains": contains(lcMobile),

	// The contact has this tag.
	"has_tag_id": hasID(func(r *row) []string { return r.ct.TagIDs }),
	// The contact has every tag of a comma-separated list.
	"has_all_tag_id": func(v string, _ time.Time) predicate {
		ids := idList(v)
		if ids == nil {
			return nil
		}
		return func(r *row) bool {
			for _, id := range ids {
				if !slices.Contains(r.ct.TagIDs, id) {
					return false
				}
			}
			return true
		}
	},
	// The contact lacks this tag.
	"has_no_tag_id": lacksID(func(r *row) []string { return r.ct.TagIDs }),
	// The contact's marketing opt-in (the contact "subscribed" attribute).
	"subscribed": boolean(func(r *row) bool { return r.ct.Subscribed }),

	// The offer is currently granted to the customer.
	"has_offer_id": hasID(func(r *row) []string { return r.c.OfferIDs }),
	// The offer is not currently granted (revoked offers count as not).
	"has_no_offer_id": lacksID(func(r *row) []string { return r.c.OfferIDs }),
	// The customer owns the product now, active membership or not.
	"has_product_id": hasID(func(r *row) []string { return r.c.ProductIDs }),
	// The customer owns the product and the membership is active.
	"has_active_product_id": hasID(func(r *row) []string { return r.c.ActiveProductIDs }),
	// The customer does not own the product now.
	"has_no_product_id": lacksID(func(r *row) []string { return r.c.ProductIDs }),
	// The customer owned the product through an offer since revoked, and no
	// longer owns it.
	"previously_owned_product_id": hasID(func(r *row) []string { return r.c.PreviousProductIDs }),
	// The customer used this coupon code at checkout (code case ignored).
	"used_coupon_code": func(v string, _ time.Time) predicate {
		return func(r *row) bool {
			for _, code := range r.c.CouponCodes {
				if strings.EqualFold(code, v) {
					return true
				}
			}
			return false
		}
	},
	// The contact submitted this form.
	"submitted_form_id": hasID(func(r *row) []string { return r.ct.SubmittedFormIDs }),
	// The contact never submitted it.
	"no_submitted_form_id": lacksID(func(r *row) []string { return r.ct.SubmittedFormIDs }),
	// The customer registered for this event.
	"registered_event_id": hasID(func(r *row) []string { return r.c.RegisteredEventIDs }),
	// The customer did not register for it.
	"not_registered_event_id": lacksID(func(r *row) []string { return r.c.RegisteredEventIDs }),
	// The customer finished this assessment, whatever the grade.
	"completed_assessment_id": hasID(func(r *row) []string { return r.c.CompletedAssessmentIDs }),
	// The customer finished it with a pass.
	"passed_assessment_id": hasID(func(r *row) []string { return r.c.PassedAssessmentIDs }),
	// The customer finished it with a fail.
	"failed_assessment_id": hasID(func(r *row) []string { return r.c.FailedAssessmentIDs }),

	// The net_revenue filters compare exactly, in cents, with a decimal such
	// as "149", "149.5" or "149.00": at most two decimals, as Kajabi keeps
	// money in cents.
	//
	// net_revenue equals the value.
	"net_revenue_equal_to": netRevenue(func(a, b int64) bool { return a == b }),
	// net_revenue is strictly greater.
	"net_revenue_greater_than": netRevenue(func(a, b int64) bool { return a > b }),
	// net_revenue is strictly less.
	"net_revenue_less_than": netRevenue(func(a, b int64) bool { return a < b }),

	// The contact's latest opt-in happened in the last N days.
	"subscribed_in_last": inLast(func(r *row) time.Time { return r.ct.SubscribedAt }),
	// The contact unsubscribed (any way) in the last N days.
	"unsubscribed_in_last": inLast(func(r *row) time.Time { return r.ct.UnsubscribedAt }),
	// An admin unsubscribed the contact in the last N days.
	"manually_unsubscribed_in_last": inLast(func(r *row) time.Time { return r.ct.ManuallyUnsubscribedAt }),
	// The contact used an unsubscribe link in the last N days.
	"opted_out_in_last": inLast(func(r *row) time.Time { return r.ct.OptedOutAt }),
	// The contact never opted in (true) or did at some point (false).
	"never_subscribed": boolean(func(r *row) bool { return r.ct.SubscribedAt.IsZero() }),

	// Broadcast outcomes per id. Each "no_" filter is the complement of its
	// positive twin, so it includes contacts the broadcast never went to.
	//
	// The broadcast was sent to the contact (whatever happened next).
	"sent_email_broadcast_id": hasID(func(r *row) []string { return r.ct.SentBroadcastIDs }),
	// The broadcast was never sent to the contact.
	"no_sent_email_broadcast_id": lacksID(func(r *row) []string { return r.ct.SentBroadcastIDs }),
	// None of a comma-separated list of broadcasts was sent to the contact.
	"no_sent_email_broadcast_ids": func(v string, _ time.Time) predicate {
		ids := idList(v)
		if ids == nil {
			return nil
		}
		return func(r *row) bool {
			for _, id := range ids {
				if slices.Contains(r.ct.SentBroadcastIDs, id) {
					return false
				}
			}
			return true
		}
	},
	// Not delivered: never sent, or sent and then bounced or dropped.
	"no_delivered_email_broadcast_id": lacksID(func(r *row) []string { return r.ct.DeliveredBroadcastIDs }),
	// The contact opened the broadcast.
	"opened_email_broadcast_id": hasID(func(r *row) []string { return r.ct.OpenedBroadcastIDs }),
	// The contact did not open it (or never got it).
	"no_opened_email_broadcast_id": lacksID(func(r *row) []string { return r.ct.OpenedBroadcastIDs }),
	// The contact clicked a link in the broadcast.
	"clicked_email_broadcast_id": hasID(func(r *row) []string { return r.ct.ClickedBroadcastIDs }),
	// The contact did not click in it (or never got it).
	"no_clicked_email_broadcast_id": lacksID(func(r *row) []string { return r.ct.ClickedBroadcastIDs }),
	// The broadcast bounced at the contact's address.
	"bounced_email_broadcast_id": hasID(func(r *row) []string { return r.ct.BouncedBroadcastIDs }),
	// It did not bounce there (delivered, dropped or never sent).
	"no_bounced_email_broadcast_id": lacksID(func(r *row) []string { return r.ct.BouncedBroadcastIDs }),
	// The mail provider refused to even try the address (already known to
	// bounce, or suppressed).
	"dropped_email_broadcast_id": hasID(func(r *row) []string { return r.ct.DroppedBroadcastIDs }),
	// It was not dropped for the contact (delivered, bounced or never sent).
	"no_dropped_email_broadcast_id": lacksID(func(r *row) []string { return r.ct.DroppedBroadcastIDs }),

	// The contact's latest email open was in the last N days.
	"opened_email_in_last": inLast(func(r *row) time.Time { return r.ct.LastEmailOpenedAt }),
	// Complement: no open in the last N days, never-openers included.
	"not_opened_email_in_last": notInLast(func(r *row) time.Time { return r.ct.LastEmailOpenedAt }),
	// An email was delivered to the contact in the last N days.
	"delivered_email_in_last": inLast(func(r *row) time.Time { return r.ct.LastEmailDeliveredAt }),
	// Complement: nothing delivered in the last N days, or ever.
	"not_delivered_email_in_last": notInLast(func(r *row) time.Time { return r.ct.LastEmailDeliveredAt }),
	// The contact clicked in an email in the last N days.
	"clicked_email_in_last": inLast(func(r *row) time.Time { return r.ct.LastEmailClickedAt }),
	// Complement: no click in the last N days, or ever.
	"not_clicked_email_in_last": notInLast(func(r *row) time.Time { return r.ct.LastEmailClickedAt }),

	// The customer's mail bounces permanently.
	"is_hard_bouncing": boolean(func(r *row) bool { return r.c.HardBouncing }),
	// The customer's mail started bouncing (bounced_at) in the last N days.
	"bounced_in_last": inLast(func(r *row) time.Time { return r.c.BouncedAt }),
	// The contact reported a broadcast as spam in the last N days.
	"complained_in_last": inLast(func(r *row) time.Time { return r.ct.ComplainedAt }),

	// Engagement buckets, for contacts with open data (something was
	// delivered to them); "false" selects everyone outside the bucket,
	// contacts without open data included. See Contact.Engagement.
	//
	// Last open within 30 days.
	"healthy_contacts_with_open_data": bucket("healthy"),
	// Last open 30 to 90 days ago.
	"passive_contacts_with_open_data": bucket("passive"),
	// Last open more than 90 days ago.
	"unengaged_contacts_with_open_data": bucket("unengaged"),
	// Delivered to, but never opened anything.
	"inactive_contacts_with_open_data": bucket("inactive"),

	// The contact is subscribed to this newsletter.
	"subscribed_newsletter_id": hasID(func(r *row) []string { return r.ct.SubscribedNewsletterIDs }),
	// The contact left this newsletter (never having joined does not count).
	"unsubscribed_newsletter_id": hasID(func(r *row) []string { return r.ct.UnsubscribedNewsletterIDs }),
	// The contact is in this email sequence.
	"subscribed_email_sequence_id": hasID(func(r *row) []string { return r.ct.EmailSequenceIDs }),
	// The contact is not in it.
	"not_subscribed_email_sequence_id": lacksID(func(r *row) []string { return r.ct.EmailSequenceIDs }),

	// Dropped from the 1.1.0 spec but still answered by Kajabi and still sent
	// by older clients: the contact is suppressed from mailing.
	"is_suppressed": boolean(func(r *row) bool { return r.ct.Suppressed }),
}

// customerPredicates compiles the filter[...] parameters of a request into the
// predicates that all have to hold. Unknown filter names and empty values are
// ignored; a value that cannot be read is returned as bad, the parameter named.
func customerPredicates(q url.Values, now time.Time) (preds []predicate, bad string) {
	for key, vals := range q {
		name, ok := bracketed(key, "filter")
		if !ok || len(vals) == 0 {
			continue
		}
		compile, ok := customerFilters[name]
		if !ok {
			continue
		}
		v := strings.TrimSpace(vals[0])
		if v == "" {
			continue
		}
		p := compile(v, now)
		if p == nil {
			return nil, key
		}
		preds = append(preds, p)
	}
	return preds, ""
}

// bracketed returns name when key is prefix[name].
func bracketed(key, prefix string) (string, bool) {
	if len(key) < len(prefix)+3 || !strings.HasPrefix(key, prefix) || key[len(prefix)] != '[' || key[len(key)-1] != ']' {
		return "", false
	}
	return key[len(prefix)+1 : len(key)-1], true
}

func contains(field int) compiler {
	return func(v string, _ time.Time) predicate {
		v = strings.ToLower(v)
		return func(r *row) bool { return strings.Contains(r.lc[field], v) }
	}
}

func hasID(get func(*row) []string) compiler {
	return func(v string, _ time.Time) predicate {
		return func(r *row) bool { return slices.Contains(get(r), v) }
	}
}

func lacksID(get func(*row) []string) compiler {
	return func(v string, _ time.Time) predicate {
		return func(r *row) bool { return !slices.Contains(get(r), v) }
	}
}

// idList splits a comma-separated id list; nil when it holds no id.
func idList(v string) []string {
	var ids []string
	for _, id := range strings.Split(v, ",") {
		if id = strings.TrimSpace(id); id != "" {
			ids = append(ids, id)
		}
	}
	return ids
}

func parseBool(v string) (b, ok bool) {
	switch strings.ToLower(v) {
	case "true", "1":
		return true, true
	case "false", "0":
		return false, true
	}
	return false, false
}

func boolean(get func(*row) bool) compiler {
	return func(v string, _ time.Time) predicate {
		want, ok := parseBool(v)
		if !ok {
			return nil
		}
		return func(r *row) bool { return get(r) == want }
	}
}

func bucket(name string) compiler {
	return boolean(func(r *row) bool { return r.ct.Engagement == name })
}

// windowStart parses N and returns Now-N days; ok is false for anything but
// a whole number >= 0. Very large N reaches back before any data.
func windowStart(v string, now time.Time) (time.Time, bool) {
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return time.Time{}, false
	}
	if n > 100000 {
		return time.Time{}, true
	}
	return now.Add(-time.Duration(n) * day), true
}

func inWindow(t, from, now time.Time) bool {
	return !t.IsZero() && !t.Before(from) && !t.After(now)
}

func inLast(get func(*row) time.Time) compiler {
	return func(v string, now time.Time) predicate {
		from, ok := windowStart(v, now)
		if !ok {
			return nil
		}
		return func(r *row) bool { return inWindow(get(r), from, now) }
	}
}

func notInLast(get func(*row) time.Time) compiler {
	return func(v string, now time.Time) predicate {
		from, ok := windowStart(v, now)
		if !ok {
			return nil
		}
		return func(r *row) bool { return !inWindow(get(r), from, now) }
	}
}

func netRevenue(cmp func(have, want int64) bool) compiler {
	return func(v string, _ time.Time) predicate {
		want, ok := parseCents(v)
		if !ok {
			return nil
		}
		return func(r *row) bool { return cmp(r.c.NetRevenueCents, want) }
	}
}

// parseCents reads a plain decimal amount into cents without going through
// floating point, so "0.1" is exactly 10 cents.
func parseCents(v string) (int64, bool) {
	neg := false
	switch {
	case strings.HasPrefix(v, "-"):
		neg, v = true, v[1:]
	case strings.HasPrefix(v, "+"):
		v = v[1:]
	}
	whole, frac, _ := strings.Cut(v, ".")
	if whole == "" && frac == "" || len(whole) > 15 {
		return 0, false
	}
	for _, s := range []string{whole, frac} {
		for _, c := range s {
			if c < '0' || c > '9' {
				return 0, false
			}
		}
	}
	if len(frac) > 2 {
		return 0, false // finer than cents
	}
	for len(frac) < 2 {
		frac += "0"
	}
	var cents int64
	for _, c := range whole + frac {
		cents = cents*10 + int64(c-'0')
	}
	if neg {
		cents = -cents
	}
	return cents, true
}

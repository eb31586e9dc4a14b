package sandbox

import (
	"slices"
	"strconv"
	"time"
)

// What happens in the sandbox's account for its webhooks: a checkout, a tag put on or
// taken off a contact, a form submitted. Each changes the store as Kajabi's would (a
// checkout leaves a purchase, and for a paid offer an order and its charge, all readable
// afterwards), and each yields the deliveries Kajabi sends for it, their payloads shaped
// like the spec's /v1/hooks/*_sample answers, attribute for attribute.

// delivery is one webhook event ready to POST: its event, the site and resource its hooks
// are matched on, and the body.
type delivery struct {
	event, siteID string
	resource      int64
	body          []byte
}

// happening is what the firer asks for: an event Kajabi reports, or "" for any.
type happening struct {
	event string
	pick  int // random, picks the customer, offer, tag or form
	seq   int // numbers the events
	base  string
}

// Id ranges of the records events add; apart from the generated ones', as history's are.
const (
	submissionIDBase = 950000
	orderItemIDBase  = 600000
)

// FormSubmission is a form filled in by a contact (JSON:API type "form_submissions").
type FormSubmission struct {
	ID        string
	SiteID    string
	FormID    string
	ContactID string
	Name      string
	Email     string
	CreatedAt time.Time
}

// happen makes one happening of the kind h asks for in st (locked by the caller) and
// returns its deliveries, none when the store has nothing to make it from.
func (st *Store) happen(h happening) []delivery {
	if len(st.Customers) == 0 {
		return nil
	}
	c := &st.Customers[h.pick%len(st.Customers)]
	now := time.Now().UTC().Truncate(time.Second)
	switch h.event {
	case "tag_added", "tag_removed":
		return st.changeTag(h, c, h.event == "tag_added")
	case "form_submission":
		return st.submitForm(h, c, now)
	case "purchase":
		return st.checkout(h, c, false, now)
	default: // order_created, payment_succeeded: a paid checkout
		return st.checkout(h, c, true, now)
	}
}

func (h happening) eventID(n int) string {
	return "sandbox-" + strconv.FormatInt(time.Now().Unix(), 36) + "-" + strconv.Itoa(h.seq) + "-" + strconv.Itoa(n)
}

// envelope wraps payload resources in Kajabi's {"id", "event", "payload": [...]}.
func envelope(id, event string, resources func(j *jw)) []byte {
	j := newJW()
	defer j.release()
	j.obj()
	j.k("id")
	j.str(id)
	j.k("event")
	j.str(event)
	j.k("payload")
	j.arr()
	resources(j)
	j.endArr()
	j.endObj()
	return slices.Clone(j.b)
}

// checkout is c buying an offer of its site (a paid one when paid): a purchase, and for a
// paid offer an order and its first charge; Kajabi reports them as purchase, order_created
// and payment_succeeded, in that order.
func (st *Store) checkout(h happening, c *Customer, paid bool, now time.Time) []delivery {
	var offers []*Offer
	for i := range st.Offers {
		if o := &st.Offers[i]; o.SiteID == c.SiteID && (!paid || !o.Free) {
			offers = append(offers, o)
		}
	}
	if len(offers) == 0 {
		return nil
	}
	o := offers[h.pick%len(offers)]
	ct := st.ContactOf(c)
	hist, ch := st.hist, st.hist.customer(c.ID)
	st.setOffers(c, union(c.OfferIDs, []string{o.ID}))
	p := &Purchase{
		ID: strconv.Itoa(purchaseIDBase + len(hist.purchases) + 1), CustomerID: c.ID, OfferID: o.ID, SiteID: c.SiteID,
		AmountInCents: o.PriceInCents, PaymentType: o.PaymentType, Currency: o.Currency, EffectiveStartAt: now,
		Source: "checkout", Quantity: 1, CreatedAt: now, UpdatedAt: now, ProductIDs: o.ProductIDs,
	}
	if o.PaymentType == "multipay" {
		p.MultipayPaymentsMade = 1
	}
	var ord *Order
	var t *Transaction
	if !o.Free {
		p.CardholderName, p.BillingAddressZip = c.Name, ct.AddressZip
		number := 1000
		for _, other := range hist.orders {
			if other.SiteID == c.SiteID {
				number = max(number, other.OrderNumber)
			}
		}
		ord = &Order{
			ID: strconv.Itoa(orderIDBase + len(hist.orders) + 1), CustomerID: c.ID, SiteID: c.SiteID, OfferID: o.ID,
			OrderNumber: number + 1, CurrencyCode: o.Currency, SubtotalInCents: o.PriceInCents, FulfilledAt: now, CreatedAt: now,
		}
		action := "charge"
		if o.PaymentType == "subscription" {
			action = "subscribe"
		}
		t = &Transaction{
			ID: strconv.Itoa(transactionIDBase + len(hist.transactions) + 1), CustomerID: c.ID, SiteID: c.SiteID,
			PurchaseID: p.ID, OfferID: o.ID, Provider: "kajabi_payments", Action: action, State: "succeeded",
			PaymentType: o.PaymentType, AmountInCents: o.PriceInCents, FeeInCents: o.PriceInCents*29/1000 + 30,
			Currency: o.Currency, CreatedAt: now,
		}
		p.TransactionIDs = []string{t.ID}
		hist.orders = append(hist.orders, ord)
		hist.orderByID[ord.ID] = ord
		ch.orders = append(ch.orders, ord)
		hist.transactions = append(hist.transactions, t)
		hist.transactionByID[t.ID] = t
		ch.transactions = append([]*Transaction{t}, ch.transactions...) // newest first
	}
	hist.purchases = append(hist.purchases, p)
	hist.purchaseByID[p.ID] = p
	ch.purchases = append(ch.purchases, p)
	hist.byCustomer[c.ID] = ch

	resource, _ := strconv.ParseInt(o.ID, 10, 64)
	rc := &reqCtx{base: h.base}
	out := []delivery{{event: "purchase", siteID: c.SiteID, resource: resource, body: envelope(h.eventID(1), "purchase", func(j *jw) {
		// The sample's products are [], and its schema types them "offers": a product
		// identifier would fail it either way, so the payload has none, as the sample.
		shown := *p
		shown.ProductIDs = []string{}
		writePurchase(j, &shown, purchaseSample)
		writeHookOffer(j, o)
		writeCustomer(j, rc, c, nil, true)
	})}}
	if ord == nil {
		return out
	}
	txn := func(j *jw) { writeTransaction(j, t, transactionSample) }
	return append(out,
		delivery{event: "order_created", siteID: c.SiteID, resource: resource, body: envelope(h.eventID(2), "order_created", func(j *jw) {
			txn(j)
			writeCustomer(j, rc, c, nil, true)
			writeHookOrder(j, ord, t)
			writeOrderItem(j, ord, o)
		})},
		delivery{event: "payment_succeeded", siteID: c.SiteID, resource: resource, body: envelope(h.eventID(3), "payment_succeeded", func(j *jw) {
			txn(j)
			writeCustomer(j, rc, c, nil, true)
		})},
	)
}

// changeTag puts a tag of its site on c's contact (add) or takes one off; with no tag
// to add or take off, the other.
func (st *Store) changeTag(h happening, c *Customer, add bool) []delivery {
	ct := st.ContactOf(c)
	var on, off []*Tag
	for i := range st.Tags {
		if t := &st.Tags[i]; t.SiteID == ct.SiteID {
			if slices.Contains(ct.TagIDs, t.ID) {
				on = append(on, t)
			} else {
				off = append(off, t)
			}
		}
	}
	if add && len(off) == 0 || !add && len(on) == 0 {
		add = !add
	}
	var tag *Tag
	event := "tag_added"
	switch {
	case add && len(off) > 0:
		tag = off[h.pick%len(off)]
		ct.TagIDs = sortIDs(union(ct.TagIDs, []string{tag.ID}))
	case !add && len(on) > 0:
		tag, event = on[h.pick%len(on)], "tag_removed"
		ct.TagIDs = minus(ct.TagIDs, []string{tag.ID})
	default:
		return nil
	}
	resource, _ := strconv.ParseInt(tag.ID, 10, 64)
	return []delivery{{event: event, siteID: ct.SiteID, resource: resource, body: envelope(h.eventID(1), event, func(j *jw) {
		writeHookContact(j, &reqCtx{base: h.base}, ct)
		writeSiteResource(j, "contact_tags", tag.ID, tag.SiteID, "name", tag.Name)
	})}}
}

// submitForm is c's contact filling in a form of its site: a stored submission, and the
// form among the contact's submitted ones (filter[submitted_form_id]).
func (st *Store) submitForm(h happening, c *Customer, now time.Time) []delivery {
	ct := st.ContactOf(c)
	var forms []*Form
	for i := range st.Forms {
		if f := &st.Forms[i]; f.SiteID == ct.SiteID {
			forms = append(forms, f)
		}
	}
	if len(forms) == 0 {
		return nil
	}
	f := forms[h.pick%len(forms)]
	sub := &FormSubmission{
		ID: strconv.Itoa(submissionIDBase + len(st.hist.submissions) + 1), SiteID: ct.SiteID, FormID: f.ID,
		ContactID: ct.ID, Name: ct.Name, Email: ct.Email, CreatedAt: now,
	}
	st.hist.submissions = append(st.hist.submissions, sub)
	ct.SubmittedFormIDs = sortIDs(union(ct.SubmittedFormIDs, []string{f.ID}))
	site, _ := st.Site(f.SiteID)
	resource, _ := strconv.ParseInt(f.ID, 10, 64)
	return []delivery{{event: "form_submission", siteID: ct.SiteID, resource: resource, body: envelope(h.eventID(1), "form_submission", func(j *jw) {
		writeSubmission(j, sub, true, nil)
		writeHookForm(j, f, site)
	})}}
}

// The attributes and relationships of the samples where a resource's own writer has more.
var (
	purchaseSample = names("amount_in_cents", "payment_type", "multipay_payments_made", "opt_in",
		"raw_extra_contact_information", "currency", "effective_start_at", "cardholder_name", "billing_address_zip",
		"deactivated_at", "deactivation_reason", "coupon_code", "source", "referrer", "quantity", "created_at",
		"updated_at", "customer", "offer", "products")
	transactionSample = names("action", "state", "payment_type", "amount_in_cents", "sales_tax_in_cents", "currency",
		"currency_symbol", "formatted_amount", "created_at", "customer", "offer")
	contactSample = names("name", "email", "address_line_1", "address_line_2", "address_city", "address_country",
		"address_state", "address_zip", "phone_number", "business_number", "subscribed", "external_user_id",
		"created_at", "updated_at")
)

func names(n ...string) map[string]bool {
	m := make(map[string]bool, len(n))
	for _, s := range n {
		m[s] = true
	}
	return m
}

// writeHookOffer is an offer as the purchase sample shows it: the offer's attributes, its
// site, products and forms (which the sandbox does not model: none).
func writeHookOffer(j *jw, o *Offer) {
	j.obj()
	j.k("id")
	j.str(o.ID)
	j.k("type")
	j.str("offers")
	writeAttrs(j, offerAttrs, o, nil)
	rel := j.relationships(nil)
	rel.toOne("site", "sites", o.SiteID)
	rel.toMany("products", "products", o.ProductIDs, "")
	rel.toMany("forms", "forms", []string{}, "")
	rel.end()
	j.endObj()
}

// writeHookOrder is an order as the order_created sample shows it: with its one item and
// the transaction that paid for it.
func writeHookOrder(j *jw, o *Order, t *Transaction) {
	j.obj()
	j.k("id")
	j.str(o.ID)
	j.k("type")
	j.str("orders")
	writeAttrs(j, orderAttrs, o, nil)
	rel := j.relationships(nil)
	rel.toOne("site", "sites", o.SiteID)
	rel.toOne("customer", "customers", o.CustomerID)
	rel.toMany("order_items", "order_items", []string{orderItemID(o)}, "")
	rel.toMany("payment_transactions", "transactions", []string{t.ID}, "")
	rel.end()
	j.endObj()
}

// orderItemID is the id of an order's one item: the sandbox's orders buy one offer each.
func orderItemID(o *Order) string {
	n, _ := strconv.Atoi(o.ID)
	return strconv.Itoa(orderItemIDBase + n - orderIDBase)
}

func writeOrderItem(j *jw, o *Order, of *Offer) {
	item, _ := strconv.ParseInt(of.ID, 10, 64)
	j.obj()
	j.k("id")
	j.str(orderItemID(o))
	j.k("type")
	j.str("order_items")
	j.k("attributes")
	j.obj()
	j.k("quantity")
	j.int(1)
	j.k("currency_code")
	j.str(o.CurrencyCode)
	j.k("item_type")
	j.str("Offer")
	j.k("item_id")
	j.int(item)
	j.k("title")
	j.str(of.Title)
	for _, a := range orderAttrs {
		switch a.name {
		case "fulfilled_at", "created_at", "total_price_in_cents", "subtotal_in_cents", "sales_tax_amount_in_cents",
			"discount_amount_in_cents", "formatted_total_price", "formatted_subtotal", "currency_symbol":
			j.k(a.name)
			a.put(j, o)
		}
	}
	j.endObj()
	rel := j.relationships(nil)
	rel.toOne("order", "orders", o.ID)
	rel.end()
	j.endObj()
}

// writeHookContact is a contact as the tag samples show it: no custom fields, a link to
// its customer, its site.
func writeHookContact(j *jw, rc *reqCtx, ct *Contact) {
	j.obj()
	j.k("id")
	j.str(ct.ID)
	j.k("type")
	j.str("contacts")
	writeAttrs(j, contactAttrs, ct, contactSample)
	j.k("links")
	j.obj()
	j.k("customer")
	if ct.CustomerID != "" {
		j.str(rc.url("/v1/customers/" + ct.CustomerID))
	} else {
		j.str("")
	}
	j.endObj()
	rel := j.relationships(nil)
	rel.toOne("site", "sites", ct.SiteID)
	rel.end()
	j.endObj()
}

// writeHookForm is a form as the form_submission sample shows it.
func writeHookForm(j *jw, f *Form, site *Site) {
	j.obj()
	j.k("id")
	j.str(f.ID)
	j.k("type")
	j.str("forms")
	j.k("attributes")
	j.obj()
	j.k("url")
	if site != nil {
		j.str("https://" + site.Subdomain + ".mykajabi.com/forms/" + f.ID)
	} else {
		j.null()
	}
	j.k("title")
	j.str(f.Title)
	j.k("default")
	j.bool(false)
	j.k("webhook_url")
	j.null()
	j.k("created_at")
	j.null()
	j.k("updated_at")
	j.null()
	j.endObj()
	rel := j.relationships(nil)
	rel.toOne("site", "sites", f.SiteID)
	rel.toMany("fields", "fields", []string{}, "")
	rel.toMany("contact_tags", "contact_tags", []string{}, "")
	rel.end()
	j.endObj()
}

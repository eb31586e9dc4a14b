package sandbox

import (
	"cmp"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The history endpoints (purchases, orders, transactions, contact notes) and the writes
// the facade makes (offer grants, contact tags, new notes). Reads run under the store's
// read lock and writes under its write lock (ServeHTTP takes them), so a write shows in
// the next read and never in half of one.

// historyRoute maps the read paths of this file; route falls back to it.
func historyRoute(seg []string) (handler, bool) {
	h := func(f func(*Store, http.ResponseWriter, *reqCtx, string), id string) (handler, bool) {
		return handler{serve: f, id: id}, true
	}
	switch {
	case len(seg) == 1 && seg[0] == "purchases":
		return h(listPurchases, "")
	case len(seg) == 2 && seg[0] == "purchases":
		return h(showPurchase, seg[1])
	case len(seg) == 1 && seg[0] == "orders":
		return h(listOrders, "")
	case len(seg) == 2 && seg[0] == "orders":
		return h(showOrder, seg[1])
	case len(seg) == 1 && seg[0] == "transactions":
		return h(listTransactions, "")
	case len(seg) == 2 && seg[0] == "transactions":
		return h(showTransaction, seg[1])
	case len(seg) == 1 && seg[0] == "contact_notes":
		return h(listNotes, "")
	case len(seg) == 1 && seg[0] == "form_submissions":
		return h(listSubmissions, "")
	case len(seg) == 2 && seg[0] == "form_submissions":
		return h(showSubmission, seg[1])
	}
	return handler{}, false
}

// writer serves one write; body is the request body, already read (bounded).
type writer func(st *Store, w http.ResponseWriter, rc *reqCtx, id string, body []byte)

// writeRoute maps the writes the sandbox models, by method and path.
func writeRoute(method, path string) (writer, string, bool) {
	rest, ok := strings.CutPrefix(path, "/v1/")
	if !ok {
		return nil, "", false
	}
	seg := strings.Split(rest, "/")
	switch {
	case len(seg) == 4 && seg[0] == "customers" && seg[2] == "relationships" && seg[3] == "offers":
		switch method {
		case http.MethodPost:
			return grantOffers, seg[1], true
		case http.MethodDelete:
			return revokeOffers, seg[1], true
		case http.MethodPatch:
			return setOffers, seg[1], true
		}
	case len(seg) == 4 && seg[0] == "contacts" && seg[2] == "relationships" && seg[3] == "tags":
		switch method {
		case http.MethodPost:
			return addTags, seg[1], true
		case http.MethodDelete:
			return removeTags, seg[1], true
		case http.MethodPatch:
			return setTags, seg[1], true
		}
	case len(seg) == 1 && seg[0] == "contact_notes" && method == http.MethodPost:
		return createNote, "", true
	}
	return nil, "", false
}

// serveWrite reads a write's body and runs it under the store's write lock.
func (s *Sandbox) serveWrite(wr writer, id string, w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		sendError(w, http.StatusBadRequest, "could not read the request body")
		return
	}
	s.store.mu.Lock()
	defer s.store.mu.Unlock()
	wr(s.store, w, newReqCtx(r), id, body)
}

// eqFilter keeps records whose field equals filter[name]; nil when absent.
func eqFilter[T any](rc *reqCtx, name string, get func(*T) string) func(*T) bool {
	v := strings.TrimSpace(rc.q.Get("filter[" + name + "]"))
	if v == "" {
		return nil
	}
	return func(t *T) bool { return get(t) == v }
}

// boolFilter keeps records for which has matches filter[name]; nil when absent or not a boolean.
func boolFilter[T any](rc *reqCtx, name string, has func(*T) bool) func(*T) bool {
	want, ok := parseBool(rc.q.Get("filter[" + name + "]"))
	if !ok {
		return nil
	}
	return func(t *T) bool { return has(t) == want }
}

func byTime[T any](get func(*T) time.Time) func(a, b *T) int {
	return func(a, b *T) int { return get(a).Compare(get(b)) }
}

// ---- purchases ----

var purchasesList = list[Purchase]{
	path: "/v1/purchases", typ: "purchases",
	sorts: map[string]func(a, b *Purchase) int{
		"created_at":         byTime(func(p *Purchase) time.Time { return p.CreatedAt }),
		"updated_at":         byTime(func(p *Purchase) time.Time { return p.UpdatedAt }),
		"effective_start_at": byTime(func(p *Purchase) time.Time { return p.EffectiveStartAt }),
		"deactivated_at":     byTime(func(p *Purchase) time.Time { return p.DeactivatedAt }),
		"currency":           compareText(func(p *Purchase) string { return p.Currency }),
		"coupon_code":        compareText(func(p *Purchase) string { return p.CouponCode }),
	},
	id:    func(p *Purchase) string { return p.ID },
	write: writePurchase,
}

func purchaseStatus(p *Purchase) string {
	switch {
	case !p.DeactivatedAt.IsZero():
		return "canceled"
	case p.PaymentType == "subscription" || p.PaymentType == "multipay":
		return "active"
	}
	return "paid"
}

var purchaseAttrs = []attr[Purchase]{
	{"amount_in_cents", func(j *jw, p *Purchase) { j.int(int64(p.AmountInCents)) }},
	{"payment_type", func(j *jw, p *Purchase) { j.str(p.PaymentType) }},
	{"trial", func(j *jw, p *Purchase) { j.null() }},
	{"trial_end_at", func(j *jw, p *Purchase) { j.null() }},
	{"multipay_payments_made", func(j *jw, p *Purchase) {
		if p.PaymentType != "multipay" {
			j.null()
			return
		}
		j.int(int64(p.MultipayPaymentsMade))
	}},
	{"payment_plan_total_payments", func(j *jw, p *Purchase) {
		if p.PaymentType != "multipay" {
			j.null()
			return
		}
		j.int(3)
	}},
	{"status", func(j *jw, p *Purchase) { j.str(purchaseStatus(p)) }},
	{"opt_in", func(j *jw, p *Purchase) { j.bool(p.OptIn) }},
	{"raw_extra_contact_information", func(j *jw, p *Purchase) { j.obj(); j.endObj() }},
	{"currency", func(j *jw, p *Purchase) { j.str(p.Currency) }},
	{"effective_start_at", func(j *jw, p *Purchase) { j.time(p.EffectiveStartAt) }},
	{"cardholder_name", func(j *jw, p *Purchase) { j.strOrNull(p.CardholderName) }},
	{"billing_address_zip", func(j *jw, p *Purchase) { j.strOrNull(p.BillingAddressZip) }},
	{"deactivated_at", func(j *jw, p *Purchase) { j.time(p.DeactivatedAt) }},
	{"deactivation_reason", func(j *jw, p *Purchase) { j.strOrNull(p.DeactivationReason) }},
	{"coupon_code", func(j *jw, p *Purchase) { j.strOrNull(p.CouponCode) }},
	{"source", func(j *jw, p *Purchase) { j.strOrNull(p.Source) }},
	{"referrer", func(j *jw, p *Purchase) { j.strOrNull(p.Referrer) }},
	{"quantity", func(j *jw, p *Purchase) { j.int(int64(p.Quantity)) }},
	{"created_at", func(j *jw, p *Purchase) { j.time(p.CreatedAt) }},
	{"updated_at", func(j *jw, p *Purchase) { j.time(p.UpdatedAt) }},
}

func writePurchase(j *jw, p *Purchase, only map[string]bool) {
	j.obj()
	j.k("id")
	j.str(p.ID)
	j.k("type")
	j.str("purchases")
	writeAttrs(j, purchaseAttrs, p, only)
	rel := j.relationships(only)
	rel.toOne("offer", "offers", p.OfferID)
	rel.toOne("customer", "customers", p.CustomerID)
	rel.toMany("transactions", "transactions", p.TransactionIDs, "")
	rel.toMany("products", "products", p.ProductIDs, "")
	rel.end()
	j.endObj()
}

// ownedBy narrows a list to one customer's records when filter[customer_id] is given,
// which is how the facade reads them: the customer's own few, not the whole account's.
func ownedBy[T any](st *Store, rc *reqCtx, all []*T, mine func(*customerHistory) []*T) []*T {
	id := strings.TrimSpace(rc.q.Get("filter[customer_id]"))
	if id == "" {
		return all
	}
	return mine(st.hist.customer(id))
}

func listPurchases(st *Store, w http.ResponseWriter, rc *reqCtx, _ string) {
	items := ownedBy(st, rc, st.hist.purchases, func(h *customerHistory) []*Purchase { return h.purchases })
	purchasesList.servePtrs(w, rc, items,
		eqFilter(rc, "site_id", func(p *Purchase) string { return p.SiteID }),
		boolFilter(rc, "active", func(p *Purchase) bool { return p.DeactivatedAt.IsZero() }),
		boolFilter(rc, "deactivated", func(p *Purchase) bool { return !p.DeactivatedAt.IsZero() }),
		eqFilter(rc, "coupon_code_eq", func(p *Purchase) string { return p.CouponCode }),
		eqFilter(rc, "referrer", func(p *Purchase) string { return p.Referrer }),
	)
}

func showPurchase(st *Store, w http.ResponseWriter, rc *reqCtx, id string) {
	p, ok := st.hist.purchaseByID[id]
	if !ok {
		notFound(w, "purchase", id)
		return
	}
	purchasesList.show(w, rc, p)
}

// ---- orders ----

var ordersList = list[Order]{
	path: "/v1/orders", typ: "orders",
	sorts: map[string]func(a, b *Order) int{
		"order_number": func(a, b *Order) int { return cmp.Compare(a.OrderNumber, b.OrderNumber) },
		"created_at":   byTime(func(o *Order) time.Time { return o.CreatedAt }),
		"fulfilled_at": byTime(func(o *Order) time.Time { return o.FulfilledAt }),
	},
	id:    func(o *Order) string { return o.ID },
	write: writeOrder,
}

func currencySymbol(code string) string {
	switch code {
	case "USD", "CAD", "AUD":
		return "$"
	case "EUR":
		return "€"
	case "GBP":
		return "£"
	}
	return code + " "
}

func formatted(code string, cents int) string {
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	return sign + currencySymbol(code) + centsString(int64(cents))
}

var orderAttrs = []attr[Order]{
	{"order_number", func(j *jw, o *Order) { j.int(int64(o.OrderNumber)) }},
	{"currency_code", func(j *jw, o *Order) { j.str(o.CurrencyCode) }},
	{"fulfilled_at", func(j *jw, o *Order) { j.time(o.FulfilledAt) }},
	{"created_at", func(j *jw, o *Order) { j.time(o.CreatedAt) }},
	{"total_price_in_cents", func(j *jw, o *Order) { j.int(int64(o.TotalInCents())) }},
	{"subtotal_in_cents", func(j *jw, o *Order) { j.int(int64(o.SubtotalInCents)) }},
	{"sales_tax_amount_in_cents", func(j *jw, o *Order) { j.int(int64(o.SalesTaxInCents)) }},
	{"discount_amount_in_cents", func(j *jw, o *Order) { j.int(int64(o.DiscountInCents)) }},
	{"formatted_total_price", func(j *jw, o *Order) { j.str(formatted(o.CurrencyCode, o.TotalInCents())) }},
	{"formatted_subtotal", func(j *jw, o *Order) { j.str(formatted(o.CurrencyCode, o.SubtotalInCents)) }},
	{"currency_symbol", func(j *jw, o *Order) { j.str(currencySymbol(o.CurrencyCode)) }},
}

func writeOrder(j *jw, o *Order, only map[string]bool) {
	j.obj()
	j.k("id")
	j.str(o.ID)
	j.k("type")
	j.str("orders")
	writeAttrs(j, orderAttrs, o, only)
	rel := j.relationships(only)
	rel.toOne("site", "sites", o.SiteID)
	rel.toOne("customer", "customers", o.CustomerID)
	rel.toMany("order_items", "order_items", []string{}, "")
	rel.end()
	j.endObj()
}

func listOrders(st *Store, w http.ResponseWriter, rc *reqCtx, _ string) {
	items := ownedBy(st, rc, st.hist.orders, func(h *customerHistory) []*Order { return h.orders })
	ordersList.servePtrs(w, rc, items,
		eqFilter(rc, "site_id", func(o *Order) string { return o.SiteID }),
		eqFilter(rc, "order_number_eq", func(o *Order) string { return itoa(o.OrderNumber) }),
		boolFilter(rc, "fulfilled_at_null", func(o *Order) bool { return o.FulfilledAt.IsZero() }),
	)
}

func showOrder(st *Store, w http.ResponseWriter, rc *reqCtx, id string) {
	o, ok := st.hist.orderByID[id]
	if !ok {
		notFound(w, "order", id)
		return
	}
	ordersList.show(w, rc, o)
}

// ---- transactions ----

var transactionsList = list[Transaction]{
	path: "/v1/transactions", typ: "transactions",
	sorts:   map[string]func(a, b *Transaction) int{"created_at": byTime(func(t *Transaction) time.Time { return t.CreatedAt })},
	defSort: "-created_at",
	id:      func(t *Transaction) string { return t.ID },
	write:   writeTransaction,
}

// kajabiPayments is whether the settlement and fee attributes apply (Kajabi Payments only).
func kajabiPayments(t *Transaction) bool { return t.Provider == "kajabi_payments" }

func intOrNull(j *jw, ok bool, n int) {
	if !ok {
		j.null()
		return
	}
	j.int(int64(n))
}

var transactionAttrs = []attr[Transaction]{
	{"provider", func(j *jw, t *Transaction) { j.str(t.Provider) }},
	{"action", func(j *jw, t *Transaction) { j.str(t.Action) }},
	{"state", func(j *jw, t *Transaction) { j.str(t.State) }},
	{"payment_type", func(j *jw, t *Transaction) { j.strOrNull(t.PaymentType) }},
	{"amount_in_cents", func(j *jw, t *Transaction) { j.int(int64(t.AmountInCents)) }},
	{"sales_tax_in_cents", func(j *jw, t *Transaction) { j.int(int64(t.SalesTaxInCents)) }},
	{"payment_fee_in_cents", func(j *jw, t *Transaction) { intOrNull(j, kajabiPayments(t), t.FeeInCents) }},
	{"currency", func(j *jw, t *Transaction) { j.str(t.Currency) }},
	{"currency_symbol", func(j *jw, t *Transaction) { j.str(currencySymbol(t.Currency)) }},
	{"formatted_amount", func(j *jw, t *Transaction) { j.str(formatted(t.Currency, t.AmountInCents)) }},
	{"settlement_amount_in_cents", func(j *jw, t *Transaction) { intOrNull(j, kajabiPayments(t), t.AmountInCents) }},
	{"settlement_fee_amount_in_cents", func(j *jw, t *Transaction) { intOrNull(j, kajabiPayments(t), t.FeeInCents) }},
	{"settlement_currency", func(j *jw, t *Transaction) {
		if !kajabiPayments(t) {
			j.null()
			return
		}
		j.str(t.Currency)
	}},
	{"created_at", func(j *jw, t *Transaction) { j.time(t.CreatedAt) }},
}

func writeTransaction(j *jw, t *Transaction, only map[string]bool) {
	j.obj()
	j.k("id")
	j.str(t.ID)
	j.k("type")
	j.str("transactions")
	writeAttrs(j, transactionAttrs, t, only)
	rel := j.relationships(only)
	rel.toOne("customer", "customers", t.CustomerID)
	rel.toOne("offer", "offers", t.OfferID)
	rel.toMany("purchases", "purchases", []string{t.PurchaseID}, "")
	rel.end()
	j.endObj()
}

// dateFilter keeps transactions made on or after (from) or on or before (!from) the
// calendar date of filter[name], in UTC; nil when absent or not a date.
func dateFilter(rc *reqCtx, name string, from bool) func(*Transaction) bool {
	d, err := time.Parse(time.DateOnly, strings.TrimSpace(rc.q.Get("filter["+name+"]")))
	if err != nil {
		return nil
	}
	if from {
		return func(t *Transaction) bool { return !t.CreatedAt.Before(d) }
	}
	end := d.AddDate(0, 0, 1)
	return func(t *Transaction) bool { return t.CreatedAt.Before(end) }
}

func listTransactions(st *Store, w http.ResponseWriter, rc *reqCtx, _ string) {
	items := ownedBy(st, rc, st.hist.transactions, func(h *customerHistory) []*Transaction { return h.transactions })
	var who func(*Transaction) bool
	if q := strings.ToLower(strings.TrimSpace(rc.q.Get("filter[name_or_email]"))); q != "" {
		who = func(t *Transaction) bool {
			c, _ := st.Customer(t.CustomerID)
			return strings.Contains(strings.ToLower(c.Name), q) || strings.Contains(strings.ToLower(c.Email), q)
		}
	}
	transactionsList.servePtrs(w, rc, items,
		eqFilter(rc, "site_id", func(t *Transaction) string { return t.SiteID }),
		dateFilter(rc, "start_date", true),
		dateFilter(rc, "end_date", false),
		who,
	)
}

func showTransaction(st *Store, w http.ResponseWriter, rc *reqCtx, id string) {
	t, ok := st.hist.transactionByID[id]
	if !ok {
		notFound(w, "transaction", id)
		return
	}
	transactionsList.show(w, rc, t)
}

// ---- contact notes ----

var notesList = list[Note]{
	path: "/v1/contact_notes", typ: "contact_notes",
	sorts: map[string]func(a, b *Note) int{
		"created_at": byTime(func(n *Note) time.Time { return n.CreatedAt }),
		"updated_at": byTime(func(n *Note) time.Time { return n.UpdatedAt }),
	},
	defSort: "-created_at",
	id:      func(n *Note) string { return n.ID },
	write:   writeNote,
}

var noteAttrs = []attr[Note]{
	{"body", func(j *jw, n *Note) { j.str(n.Body) }},
	{"created_at", func(j *jw, n *Note) { j.time(n.CreatedAt) }},
	{"updated_at", func(j *jw, n *Note) { j.time(n.UpdatedAt) }},
}

func writeNote(j *jw, n *Note, only map[string]bool) {
	j.obj()
	j.k("id")
	j.str(n.ID)
	j.k("type")
	j.str("contact_notes")
	writeAttrs(j, noteAttrs, n, only)
	rel := j.relationships(only)
	rel.toOne("contact", "contacts", n.ContactID)
	rel.end()
	j.endObj()
}

func listNotes(st *Store, w http.ResponseWriter, rc *reqCtx, _ string) {
	items := st.hist.notes
	if id := strings.TrimSpace(rc.q.Get("filter[contact_id]")); id != "" {
		items = st.hist.notesOf[id]
	}
	notesList.servePtrs(w, rc, items, eqFilter(rc, "site_id", func(n *Note) string { return n.SiteID }))
}

// ---- writes ----

// identifiersBody reads a relationship write's {"data": [{"type", "id"}]} and checks each
// identifier is of typ and known to exists; on failure it has answered 400 or 404.
func identifiersBody(w http.ResponseWriter, body []byte, typ string, exists func(string) bool) ([]string, bool) {
	var doc struct {
		Data *[]struct {
			ID   string `json:"id"`
			Type string `json:"type"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &doc); err != nil || doc.Data == nil {
		sendError(w, http.StatusBadRequest, `the body must be {"data": [{"type": "`+typ+`", "id": "..."}]}`)
		return nil, false
	}
	ids := make([]string, 0, len(*doc.Data))
	for _, d := range *doc.Data {
		if d.Type != typ || d.ID == "" {
			sendError(w, http.StatusBadRequest, `every resource identifier must have type "`+typ+`" and an id`)
			return nil, false
		}
		if !exists(d.ID) {
			notFound(w, strings.TrimSuffix(strings.ReplaceAll(typ, "_", " "), "s"), d.ID)
			return nil, false
		}
		if !slices.Contains(ids, d.ID) {
			ids = append(ids, d.ID)
		}
	}
	return ids, true
}

// offerWrite runs one change of a customer's offers and answers with the offers it holds.
func offerWrite(change func(st *Store, c *Customer, ids []string) []string) writer {
	return func(st *Store, w http.ResponseWriter, rc *reqCtx, id string, body []byte) {
		c, ok := st.Customer(id)
		if !ok {
			notFound(w, "customer", id)
			return
		}
		ids, ok := identifiersBody(w, body, "offers", func(oid string) bool {
			o, ok := st.Offer(oid)
			return ok && o.SiteID == c.SiteID
		})
		if !ok {
			return
		}
		st.setOffers(c, change(st, c, ids))
		relationshipDoc(w, rc, "offers", c.OfferIDs)
	}
}

var (
	grantOffers = offerWrite(func(_ *Store, c *Customer, ids []string) []string {
		return union(c.OfferIDs, ids)
	})
	revokeOffers = offerWrite(func(_ *Store, c *Customer, ids []string) []string {
		return minus(c.OfferIDs, ids)
	})
	setOffers = offerWrite(func(_ *Store, _ *Customer, ids []string) []string { return ids })
)

// setOffers gives a customer exactly these offers: revoked ones join RevokedOfferIDs and
// their purchases are deactivated, and the products follow the offers. Slices are replaced,
// never changed in place, so a reader that took one before the write keeps a whole one.
func (st *Store) setOffers(c *Customer, offers []string) {
	offers = sortIDs(slices.Clone(offers))
	for _, gone := range minus(c.OfferIDs, offers) {
		c.RevokedOfferIDs = sortIDs(union(c.RevokedOfferIDs, []string{gone}))
		for _, p := range st.hist.customer(c.ID).purchases {
			if p.OfferID == gone && p.DeactivatedAt.IsZero() {
				p.DeactivatedAt, p.DeactivationReason, p.UpdatedAt = st.Now, "revoked by admin", st.Now
			}
		}
	}
	var products []string
	for _, oid := range offers {
		o, _ := st.Offer(oid)
		products = union(products, o.ProductIDs)
	}
	c.OfferIDs = offers
	c.ProductIDs = sortIDs(products)
	c.ActiveProductIDs = sortIDs(slices.Clone(products))
	c.RevokedOfferIDs = minus(c.RevokedOfferIDs, offers)
}

// tagWrite runs one change of a contact's tags and answers with the tags it carries.
func tagWrite(change func(have, ids []string) []string) writer {
	return func(st *Store, w http.ResponseWriter, rc *reqCtx, id string, body []byte) {
		ct, ok := st.Contact(id)
		if !ok {
			notFound(w, "contact", id)
			return
		}
		ids, ok := identifiersBody(w, body, "contact_tags", func(tid string) bool {
			t, ok := st.Tag(tid)
			return ok && t.SiteID == ct.SiteID
		})
		if !ok {
			return
		}
		ct.TagIDs = sortIDs(change(ct.TagIDs, ids))
		relationshipDoc(w, rc, "contact_tags", ct.TagIDs)
	}
}

var (
	addTags    = tagWrite(union)
	removeTags = tagWrite(minus)
	setTags    = tagWrite(func(_, ids []string) []string { return slices.Clone(ids) })
)

// createNote answers POST /v1/contact_notes (contact_notes_create_request) with 201.
func createNote(st *Store, w http.ResponseWriter, rc *reqCtx, _ string, body []byte) {
	var doc struct {
		Data struct {
			Type       string `json:"type"`
			Attributes struct {
				Body *string `json:"body"`
			} `json:"attributes"`
			Relationships struct {
				Contact struct {
					Data *struct {
						ID   string `json:"id"`
						Type string `json:"type"`
					} `json:"data"`
				} `json:"contact"`
			} `json:"relationships"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &doc); err != nil || doc.Data.Type != "contact_notes" ||
		doc.Data.Attributes.Body == nil || strings.TrimSpace(*doc.Data.Attributes.Body) == "" ||
		doc.Data.Relationships.Contact.Data == nil {
		sendError(w, http.StatusUnprocessableEntity, "a contact note needs type contact_notes, a body and a contact")
		return
	}
	ct, ok := st.Contact(doc.Data.Relationships.Contact.Data.ID)
	if !ok {
		sendError(w, http.StatusUnprocessableEntity, "contact "+doc.Data.Relationships.Contact.Data.ID+" not found")
		return
	}
	now := time.Now().UTC().Truncate(time.Second)
	n := &Note{ContactID: ct.ID, SiteID: ct.SiteID, Body: *doc.Data.Attributes.Body, CreatedAt: now, UpdatedAt: now}
	st.hist.addNote(n)
	j := newJW()
	j.obj()
	j.k("data")
	writeNote(j, n, nil)
	j.selfLink(rc.url("/v1/contact_notes/" + n.ID))
	j.endObj()
	send(w, http.StatusCreated, mediaType, j.b)
	j.release()
}

// union is a followed by the ids of b it lacks; a new slice.
func union(a, b []string) []string {
	out := slices.Clone(a)
	for _, id := range b {
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// minus is a without the ids of b; a new slice.
func minus(a, b []string) []string {
	out := make([]string, 0, len(a))
	for _, id := range a {
		if !slices.Contains(b, id) {
			out = append(out, id)
		}
	}
	return out
}

func itoa(n int) string { return strconv.Itoa(n) }

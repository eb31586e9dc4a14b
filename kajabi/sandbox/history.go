package sandbox

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"
)

// A customer's history: the purchases behind its offers, the orders and transactions that
// paid for them, and the notes kept on its contact. It is generated after the rest of the
// store from a random source of its own, so adding it changed none of the records (or the
// answers) that existed before it; like them it is deterministic in the seed and Now.

// Purchase is a customer's purchase of an offer (JSON:API type "purchases").
type Purchase struct {
	ID                   string
	CustomerID           string
	OfferID              string
	SiteID               string
	AmountInCents        int
	PaymentType          string
	Currency             string
	MultipayPaymentsMade int // multipay only
	OptIn                bool
	EffectiveStartAt     time.Time
	CardholderName       string
	BillingAddressZip    string
	DeactivatedAt        time.Time // zero while active
	DeactivationReason   string
	CouponCode           string
	Source               string
	Referrer             string
	Quantity             int
	CreatedAt            time.Time
	UpdatedAt            time.Time
	TransactionIDs       []string
	ProductIDs           []string
}

// Order is the checkout that paid for one purchase (JSON:API type "orders").
type Order struct {
	ID              string
	CustomerID      string
	SiteID          string
	OfferID         string // the one offer it bought
	OrderNumber     int
	CurrencyCode    string
	SubtotalInCents int
	DiscountInCents int
	SalesTaxInCents int
	FulfilledAt     time.Time
	CreatedAt       time.Time
}

// TotalInCents is what the order came to.
func (o *Order) TotalInCents() int { return o.SubtotalInCents - o.DiscountInCents + o.SalesTaxInCents }

// Transaction is one movement of money for a purchase (JSON:API type "transactions").
type Transaction struct {
	ID              string
	CustomerID      string
	SiteID          string
	PurchaseID      string
	OfferID         string
	Provider        string
	Action          string // charge, subscribe, subscription_charge or refund
	State           string
	PaymentType     string
	AmountInCents   int // negative for refunds
	SalesTaxInCents int
	FeeInCents      int
	Currency        string
	CreatedAt       time.Time
}

// Note is a note kept on a contact (JSON:API type "contact_notes").
type Note struct {
	ID        string
	ContactID string
	SiteID    string
	Body      string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// history holds the generated records, each slice in id order, and per-owner indexes.
type history struct {
	purchases    []*Purchase
	orders       []*Order
	transactions []*Transaction
	notes        []*Note
	submissions  []*FormSubmission // made by form_submission events, in id order

	purchaseByID    map[string]*Purchase
	orderByID       map[string]*Order
	transactionByID map[string]*Transaction

	byCustomer map[string]*customerHistory
	notesOf    map[string][]*Note // by contact id
	nextNote   int
}

type customerHistory struct {
	purchases    []*Purchase
	orders       []*Order
	transactions []*Transaction
}

// Id ranges of the generated records; the types' ids are unrelated, as Kajabi's are, but
// apart they make a mixed-up id in a test easy to spot.
const (
	purchaseIDBase    = 300000
	orderIDBase       = 500000
	transactionIDBase = 700000
	noteIDBase        = 900000
)

var (
	noteBodies = []string{
		"Asked about upgrading to the annual plan.",
		"Prefers email over phone.",
		"Met at the spring workshop; interested in coaching.",
		"Requested an invoice with the company name.",
		"Had trouble logging in; reset the password.",
		"Refund discussed, decided to stay.",
	}
	sources   = []string{"checkout", "checkout", "checkout", "upsell", "admin"}
	referrers = []string{"", "", "newsletter", "instagram", "youtube", "partner"}
	providers = []string{"kajabi_payments", "kajabi_payments", "stripe", "paypal"}
)

func genHistory(st *Store, seed int64) *history {
	r := rand.New(rand.NewPCG(uint64(seed), 0x686973746f7279))
	h := &history{
		purchaseByID: map[string]*Purchase{}, orderByID: map[string]*Order{}, transactionByID: map[string]*Transaction{},
		byCustomer: map[string]*customerHistory{}, notesOf: map[string][]*Note{},
	}
	orderNumbers := map[string]int{}
	between := func(a, b time.Time) time.Time {
		if !b.After(a) {
			return a
		}
		return a.Add(time.Duration(r.Int64N(int64(b.Sub(a))))).Truncate(time.Second)
	}
	for i := range st.Customers {
		c := &st.Customers[i]
		ct := &st.Contacts[i]
		ch := &customerHistory{}
		h.byCustomer[c.ID] = ch
		type bought struct {
			id      string
			revoked bool
		}
		var all []bought
		for _, id := range c.OfferIDs {
			all = append(all, bought{id, false})
		}
		for _, id := range c.RevokedOfferIDs {
			all = append(all, bought{id, true})
		}
		for k, b := range all {
			o, _ := st.Offer(b.id)
			start := between(c.CreatedAt, st.Now)
			p := &Purchase{
				ID: strconv.Itoa(purchaseIDBase + len(h.purchases) + 1), CustomerID: c.ID, OfferID: o.ID, SiteID: c.SiteID,
				AmountInCents: o.PriceInCents, PaymentType: o.PaymentType, Currency: o.Currency,
				OptIn: r.IntN(3) > 0, EffectiveStartAt: start, Source: sources[r.IntN(len(sources))],
				Referrer: referrers[r.IntN(len(referrers))], Quantity: 1, CreatedAt: start, UpdatedAt: start,
				ProductIDs: o.ProductIDs,
			}
			if !o.Free {
				p.CardholderName, p.BillingAddressZip = c.Name, ct.AddressZip
			}
			if k < len(c.CouponCodes) {
				p.CouponCode = c.CouponCodes[k]
			}
			if b.revoked {
				p.DeactivatedAt = between(start, st.Now)
				p.DeactivationReason = []string{"refunded", "revoked by admin", "subscription canceled"}[r.IntN(3)]
				p.UpdatedAt = p.DeactivatedAt
			}
			h.purchases = append(h.purchases, p)
			ch.purchases = append(ch.purchases, p)
			if o.Free {
				continue
			}
			orderNumbers[c.SiteID]++
			ord := &Order{
				ID: strconv.Itoa(orderIDBase + len(h.orders) + 1), CustomerID: c.ID, SiteID: c.SiteID, OfferID: o.ID,
				OrderNumber: 1000 + orderNumbers[c.SiteID], CurrencyCode: o.Currency, SubtotalInCents: o.PriceInCents,
				FulfilledAt: start, CreatedAt: start,
			}
			if p.CouponCode != "" {
				ord.DiscountInCents = o.PriceInCents / 10
			}
			h.orders = append(h.orders, ord)
			ch.orders = append(ch.orders, ord)
			charge := func(action string, at time.Time, amount int) {
				t := &Transaction{
					ID: strconv.Itoa(transactionIDBase + len(h.transactions) + 1), CustomerID: c.ID, SiteID: c.SiteID,
					PurchaseID: p.ID, OfferID: o.ID, Provider: providers[r.IntN(len(providers))], Action: action,
					State: "succeeded", PaymentType: o.PaymentType, AmountInCents: amount, Currency: o.Currency, CreatedAt: at,
				}
				if amount > 0 {
					t.FeeInCents = amount*29/1000 + 30
				}
				h.transactions = append(h.transactions, t)
				ch.transactions = append(ch.transactions, t)
				p.TransactionIDs = append(p.TransactionIDs, t.ID)
			}
			paid := o.PriceInCents - ord.DiscountInCents
			switch o.PaymentType {
			case "subscription":
				charge("subscribe", start, paid)
				end := st.Now
				if b.revoked {
					end = p.DeactivatedAt
				}
				for at := start.AddDate(0, 1, 0); at.Before(end) && len(p.TransactionIDs) < 12; at = at.AddDate(0, 1, 0) {
					charge("subscription_charge", at, o.PriceInCents)
				}
			case "multipay":
				p.MultipayPaymentsMade = 1 + r.IntN(3)
				for n := 0; n < p.MultipayPaymentsMade; n++ {
					charge("charge", start.AddDate(0, n, 0), paid)
				}
			default:
				charge("charge", start, paid)
			}
			if b.revoked && p.DeactivationReason == "refunded" {
				charge("refund", p.DeactivatedAt, -paid)
			}
		}
		slices.SortFunc(ch.transactions, func(a, b *Transaction) int { return b.CreatedAt.Compare(a.CreatedAt) })
		for n := r.IntN(3); n > 0; n-- {
			at := between(ct.CreatedAt, st.Now)
			h.addNote(&Note{ContactID: ct.ID, SiteID: ct.SiteID, Body: noteBodies[r.IntN(len(noteBodies))], CreatedAt: at, UpdatedAt: at})
		}
	}
	for _, p := range h.purchases {
		h.purchaseByID[p.ID] = p
	}
	for _, o := range h.orders {
		h.orderByID[o.ID] = o
	}
	for _, t := range h.transactions {
		h.transactionByID[t.ID] = t
	}
	return h
}

func (h *history) addNote(n *Note) {
	h.nextNote++
	n.ID = strconv.Itoa(noteIDBase + h.nextNote)
	h.notes = append(h.notes, n)
	notes := append(h.notesOf[n.ContactID], n)
	// Kajabi lists notes newest first by default.
	slices.SortStableFunc(notes, func(a, b *Note) int { return cmp.Compare(b.CreatedAt.Unix(), a.CreatedAt.Unix()) })
	h.notesOf[n.ContactID] = notes
}

// Purchases returns a customer's purchases, oldest offer grant first.
func (s *Store) Purchases(customerID string) []Purchase {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return copies(s.hist.customer(customerID).purchases)
}

// Orders returns a customer's orders.
func (s *Store) Orders(customerID string) []Order {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return copies(s.hist.customer(customerID).orders)
}

// Transactions returns a customer's transactions, newest first.
func (s *Store) Transactions(customerID string) []Transaction {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return copies(s.hist.customer(customerID).transactions)
}

// Notes returns the notes on a contact, newest first.
func (s *Store) Notes(contactID string) []Note {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return copies(s.hist.notesOf[contactID])
}

// OfferIDsOf returns the offers a customer holds now, writes included. Read it instead of
// Customer.OfferIDs where a test has written through the sandbox.
func (s *Store) OfferIDsOf(customerID string) []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	c, _ := s.Customer(customerID)
	if c == nil {
		return nil
	}
	return slices.Clone(c.OfferIDs)
}

// TagIDsOf returns the tags a contact carries now, writes included.
func (s *Store) TagIDsOf(contactID string) []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	ct, _ := s.Contact(contactID)
	if ct == nil {
		return nil
	}
	return slices.Clone(ct.TagIDs)
}

func (h *history) customer(id string) *customerHistory {
	if ch, ok := h.byCustomer[id]; ok {
		return ch
	}
	return &customerHistory{}
}

func copies[T any](in []*T) []T {
	out := make([]T, len(in))
	for i, v := range in {
		out[i] = *v
	}
	return out
}

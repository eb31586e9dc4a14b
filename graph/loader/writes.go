package loader

import (
	"context"
	"strings"

	"github.com/kajabi-graphql/facade/kajabi"
)

// Writes go to Kajabi at once (never batched, never shared: callOnce would answer a second
// identical write with the first one's result) and then forget what they changed, in this
// request's memo and loaders and in the shared Cache, so whatever the mutation's selection
// reads next, and every later request of the credential, reads Kajabi afresh.
//
// The shared Cache holds site-scoped lists only (sites, products, offers, tags): an offer
// write changes the members count of the products it grants, so the site's product list
// goes; offers and tags themselves are unchanged by a grant or a tagging.

// OfferChange is one of the three writes of a customer's offers relationship.
type OfferChange int

// The writes of a customer's offers.
const (
	GrantOffers OfferChange = iota
	RevokeOffers
	SetOffers
)

// ChangeOffers writes a customer's offers and returns the customer, read afresh, holding
// the offers Kajabi answered the write with.
func (l *Loaders) ChangeOffers(ctx context.Context, change OfferChange, customerID string, offerIDs []string) (*kajabi.Customer, error) {
	write := map[OfferChange]func(context.Context, string, []string) ([]kajabi.Identifier, *kajabi.Response, error){
		GrantOffers: l.client.Customers.GrantOffers, RevokeOffers: l.client.Customers.RevokeOffers, SetOffers: l.client.Customers.SetOffers,
	}[change]
	held, _, err := write(ctx, customerID, offerIDs)
	if err != nil {
		return nil, err
	}
	l.forgetCustomer(ctx, customerID)
	c, err := l.Customer(ctx, customerID)
	if err != nil {
		return nil, err
	}
	fresh := *c
	if held == nil {
		held = []kajabi.Identifier{}
	}
	fresh.Offers = held
	l.customerLoader(ctx).Clear(ctx, customerID).Prime(ctx, customerID, &fresh)
	if fresh.Site != nil {
		l.cache.forget(ctx, l.identity, "products?site="+fresh.Site.ID+"#")
	}
	return &fresh, nil
}

// ChangeContactTags adds (add true) or removes tags of a contact and returns the contact,
// read afresh, carrying the tags Kajabi answered the write with.
func (l *Loaders) ChangeContactTags(ctx context.Context, add bool, contactID string, tagIDs []string) (*kajabi.Contact, error) {
	write := l.client.Contacts.RemoveTags
	if add {
		write = l.client.Contacts.AddTags
	}
	tags, _, err := write(ctx, contactID, tagIDs)
	if err != nil {
		return nil, err
	}
	l.forgetContact(ctx, contactID)
	c, err := l.Contact(ctx, contactID)
	if err != nil {
		return nil, err
	}
	fresh := *c
	if tags == nil {
		tags = []kajabi.Identifier{}
	}
	fresh.Tags = tags
	l.contactLoader().Clear(ctx, contactID).Prime(ctx, contactID, &fresh)
	return &fresh, nil
}

// CreateContactNote writes a note on a contact.
func (l *Loaders) CreateContactNote(ctx context.Context, contactID, body string) (*kajabi.ContactNote, error) {
	n, _, err := l.client.ContactNotes.Create(ctx, contactID, body)
	if err != nil {
		return nil, err
	}
	l.forget("contact:" + contactID + ":notes")
	return n, nil
}

func (l *Loaders) forgetCustomer(ctx context.Context, id string) {
	l.forget("customer:"+id, "customer-offers:"+id)
	l.customerLoader(ctx).Clear(ctx, id)
	l.customerOfferLoader().Clear(ctx, id)
}

func (l *Loaders) forgetContact(ctx context.Context, id string) {
	l.forget("contact:" + id)
	l.contactLoader().Clear(ctx, id)
}

// forget drops the memo's answers whose keys equal or start with one of prefixes followed
// by the end or a separator (":", "?"), so "customer:1" is not "customer:10".
func (l *Loaders) forget(prefixes ...string) {
	l.memoMu.Lock()
	defer l.memoMu.Unlock()
	for key := range l.memo {
		for _, p := range prefixes {
			if rest, ok := strings.CutPrefix(key, p); ok && (rest == "" || rest[0] == ':' || rest[0] == '?') {
				delete(l.memo, key)
				break
			}
		}
	}
}

package loader

import (
	"cmp"
	"context"
	"fmt"

	"github.com/kajabi-graphql/facade/kajabi"
)

// A customer's purchases, orders and transactions, and a contact's notes.
//
// Strategy: Kajabi filters each list by its owner (filter[customer_id], filter[contact_id])
// but has no form that answers for many owners at once, so each is one call per owner and
// relation, with page[size] = first, made through callOnce: the same list asked twice in a
// request (two aliases, a customer reached twice) is one call, and the calls of a page of
// customers go out together within the request's slots. Keys start with the owner, so a
// write can forget exactly what it changed (forgetOwner).

func historyKey(owner, id, list, query string) string {
	return owner + ":" + id + ":" + list + "?" + query
}

// Purchases lists a customer's purchases.
func (l *Loaders) Purchases(ctx context.Context, customerID string, opts *kajabi.PurchaseListOptions) ([]*kajabi.Purchase, error) {
	opts.CustomerID = customerID
	return callOnce(ctx, l, historyKey("customer", customerID, "purchases", kajabi.EncodeQuery(opts)), false, func(ctx context.Context) ([]*kajabi.Purchase, error) {
		p, _, err := l.client.Purchases.List(ctx, opts)
		if err != nil {
			return nil, fmt.Errorf("purchases of customer %s: %w", customerID, err)
		}
		return p, nil
	})
}

// Orders lists a customer's orders.
func (l *Loaders) Orders(ctx context.Context, customerID string, opts *kajabi.OrderListOptions) ([]*kajabi.Order, error) {
	opts.CustomerID = customerID
	return callOnce(ctx, l, historyKey("customer", customerID, "orders", kajabi.EncodeQuery(opts)), false, func(ctx context.Context) ([]*kajabi.Order, error) {
		o, _, err := l.client.Orders.List(ctx, opts)
		if err != nil {
			return nil, fmt.Errorf("orders of customer %s: %w", customerID, err)
		}
		return o, nil
	})
}

// Transactions lists a customer's transactions.
func (l *Loaders) Transactions(ctx context.Context, customerID string, opts *kajabi.TransactionListOptions) ([]*kajabi.Transaction, error) {
	opts.CustomerID = customerID
	return callOnce(ctx, l, historyKey("customer", customerID, "transactions", kajabi.EncodeQuery(opts)), false, func(ctx context.Context) ([]*kajabi.Transaction, error) {
		t, _, err := l.client.Transactions.List(ctx, opts)
		if err != nil {
			return nil, fmt.Errorf("transactions of customer %s: %w", customerID, err)
		}
		return t, nil
	})
}

// ContactNotes lists a contact's notes.
func (l *Loaders) ContactNotes(ctx context.Context, contactID string, opts *kajabi.ContactNoteListOptions) ([]*kajabi.ContactNote, error) {
	opts.ContactID = contactID
	return callOnce(ctx, l, historyKey("contact", contactID, "notes", kajabi.EncodeQuery(opts)), false, func(ctx context.Context) ([]*kajabi.ContactNote, error) {
		n, _, err := l.client.ContactNotes.List(ctx, opts)
		if err != nil {
			return nil, fmt.Errorf("notes of contact %s: %w", contactID, err)
		}
		return n, nil
	})
}

// ContactTags loads a contact's tags.
//
// Strategy: a contact read by id already carries its tag ids (else one GET of its tags
// relationship); the tags themselves come from the site's tag list, like products and
// offers: one page of 100 answers every tag of the site, shared by every contact of the
// request and across requests through the Cache.
func (l *Loaders) ContactTags(ctx context.Context, c *kajabi.Contact) ([]*kajabi.ContactTag, []error) {
	ids := c.Tags
	if ids == nil {
		var err error
		ids, err = callOnce(ctx, l, historyKey("contact", c.ID, "tag-ids", ""), false, func(ctx context.Context) ([]kajabi.Identifier, error) {
			ids, _, err := l.client.Contacts.ListTagIDs(ctx, c.ID)
			return ids, err
		})
		if err != nil {
			return nil, []error{fmt.Errorf("tags of contact %s: %w", c.ID, err)}
		}
	}
	site := ""
	if c.Site != nil {
		site = c.Site.ID
	}
	return l.tagCatalog().loadMany(ctx, site, ids)()
}

func tagsEndpoint(client *kajabi.Client) endpoint[*kajabi.ContactTag] {
	return endpoint[*kajabi.ContactTag]{
		kind: "contact_tags",
		list: func(ctx context.Context, siteID string, page int) ([]*kajabi.ContactTag, *kajabi.Response, error) {
			return client.ContactTags.List(ctx, &kajabi.ContactTagListOptions{SiteID: siteID, ListOptions: fullPage(page)})
		},
		get: func(ctx context.Context, id string) (*kajabi.ContactTag, error) {
			t, _, err := client.ContactTags.Get(ctx, id)
			return t, err
		},
		id: func(t *kajabi.ContactTag) string { return cmp.Or(t, &kajabi.ContactTag{}).ID },
	}
}

// Purchase loads one purchase by id (a gateway's reference): one GET per distinct id.
func (l *Loaders) Purchase(ctx context.Context, id string) (*kajabi.Purchase, error) {
	return callOnce(ctx, l, "purchase:"+id, false, func(ctx context.Context) (*kajabi.Purchase, error) {
		p, _, err := l.client.Purchases.Get(ctx, id)
		return p, err
	})
}

// Order loads one order by id: one GET per distinct id.
func (l *Loaders) Order(ctx context.Context, id string) (*kajabi.Order, error) {
	return callOnce(ctx, l, "order:"+id, false, func(ctx context.Context) (*kajabi.Order, error) {
		o, _, err := l.client.Orders.Get(ctx, id)
		return o, err
	})
}

// Transaction loads one transaction by id: one GET per distinct id.
func (l *Loaders) Transaction(ctx context.Context, id string) (*kajabi.Transaction, error) {
	return callOnce(ctx, l, "transaction:"+id, false, func(ctx context.Context) (*kajabi.Transaction, error) {
		t, _, err := l.client.Transactions.Get(ctx, id)
		return t, err
	})
}

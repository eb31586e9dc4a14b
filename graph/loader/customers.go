package loader

import (
	"context"
	"fmt"

	"github.com/graph-gophers/dataloader/v7"

	"github.com/kajabi-graphql/facade/kajabi"
)

// Customer loads one customer.
//
// Strategy: one GET per distinct id (Kajabi has no batch read); customers a list already
// returned in this request are primed and cost nothing.
func (l *Loaders) Customer(ctx context.Context, id string) (*kajabi.Customer, error) {
	return l.customers.Load(ctx, id)()
}

// PrimeCustomers records customers a list returned, for later look-ups in the request.
func (l *Loaders) PrimeCustomers(ctx context.Context, customers []*kajabi.Customer) {
	for _, c := range customers {
		l.customers.Prime(ctx, c.ID, c)
	}
}

func (l *Loaders) loadCustomers(ctx context.Context, ids []string) []*dataloader.Result[*kajabi.Customer] {
	return getEach(ctx, ids, func(ctx context.Context, id string) (*kajabi.Customer, error) {
		return fetch(ctx, l, "customer:"+id, false, func(ctx context.Context) (*kajabi.Customer, error) {
			c, _, err := l.client.Customers.Get(ctx, id)
			return c, err
		})
	})
}

// CustomerOfferIDs returns the ids of the offers granted to a customer.
//
// Strategy: a customer read by id already carries its offer ids, so they are used as they
// are; list answers carry only a link, which costs one GET of
// /v1/customers/{id}/relationships/offers per customer (Kajabi has no batch form). The
// offers themselves will come from the site's offer list, so its first page is fetched
// alongside the ids instead of after them: one round trip instead of two.
func (l *Loaders) CustomerOfferIDs(ctx context.Context, c *kajabi.Customer) ([]kajabi.Identifier, error) {
	if c.Offers != nil {
		return c.Offers, nil
	}
	if c.Site != nil {
		l.offers.prefetch(ctx, c.Site.ID)
	}
	return l.customerOffers.Load(ctx, c.ID)()
}

func (l *Loaders) loadCustomerOffers(ctx context.Context, ids []string) []*dataloader.Result[[]kajabi.Identifier] {
	return getEach(ctx, ids, func(ctx context.Context, id string) ([]kajabi.Identifier, error) {
		return fetch(ctx, l, "customer-offers:"+id, false, func(ctx context.Context) ([]kajabi.Identifier, error) {
			ids, _, err := l.client.Customers.ListOfferIDs(ctx, id)
			if err != nil {
				return nil, fmt.Errorf("offers of customer %s: %w", id, err)
			}
			return ids, nil
		})
	})
}

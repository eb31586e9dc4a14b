package loader

import (
	"context"
	"fmt"
	"strings"

	"github.com/graph-gophers/dataloader/v7"

	"github.com/kajabi-graphql/facade/kajabi"
)

// Customer loads one customer.
//
// Strategy: one GET per distinct id (Kajabi has no batch read); customers a list already
// returned in this request are primed and cost nothing.
func (l *Loaders) Customer(ctx context.Context, id string) (*kajabi.Customer, error) {
	return l.customerLoader(ctx).Load(ctx, id)()
}

// PrimeCustomers records customers a list returned, for later look-ups in the request.
func (l *Loaders) PrimeCustomers(ctx context.Context, customers []*kajabi.Customer) {
	l.primeMu.Lock()
	if !l.customersBuilt {
		l.primed = append(l.primed, customers...)
		l.primeMu.Unlock()
		return
	}
	l.primeMu.Unlock()
	ld := l.customerLoader(ctx)
	for _, c := range customers {
		ld.Prime(ctx, c.ID, c)
	}
}

func (l *Loaders) loadCustomers(ctx context.Context, ids []string) []*dataloader.Result[*kajabi.Customer] {
	return getEach(ctx, ids, func(ctx context.Context, id string) (*kajabi.Customer, error) {
		return callOnce(ctx, l, "customer:"+id, false, func(ctx context.Context) (*kajabi.Customer, error) {
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
		l.offerCatalog().prefetch(ctx, c.Site.ID)
	}
	return l.customerOfferLoader().Load(ctx, c.ID)()
}

func (l *Loaders) loadCustomerOffers(ctx context.Context, ids []string) []*dataloader.Result[[]kajabi.Identifier] {
	return getEach(ctx, ids, func(ctx context.Context, id string) ([]kajabi.Identifier, error) {
		return callOnce(ctx, l, "customer-offers:"+id, false, func(ctx context.Context) ([]kajabi.Identifier, error) {
			ids, _, err := l.client.Customers.ListOfferIDs(ctx, id)
			if err != nil {
				return nil, fmt.Errorf("offers of customer %s: %w", id, err)
			}
			return ids, nil
		})
	})
}

// CustomerByEmail finds the customer with exactly this email address, ignoring case, on
// siteID ("" for any site).
//
// Strategy: Kajabi has no look-up by email, so each distinct address is one list call
// filtered with filter[email_contains] on the site when known, else on each of the
// account's sites (Kajabi wants filter[site_id] when there are several), keeping only the exact,
// case-insensitive match; the calls of one batch go out at once. Customers found are
// primed for look-ups by id.
func (l *Loaders) CustomerByEmail(ctx context.Context, email, siteID string) (*kajabi.Customer, error) {
	return l.customerByEmailLoader().Load(ctx, emailKey{strings.ToLower(strings.TrimSpace(email)), siteID})()
}

type emailKey struct{ email, siteID string }

func (l *Loaders) loadCustomersByEmail(ctx context.Context, keys []emailKey) []*dataloader.Result[*kajabi.Customer] {
	results := make([]*dataloader.Result[*kajabi.Customer], len(keys))
	each(len(keys), func(i int) {
		c, err := l.customerByEmail(ctx, keys[i])
		results[i] = &dataloader.Result[*kajabi.Customer]{Data: c, Error: err}
	})
	return results
}

func (l *Loaders) customerByEmail(ctx context.Context, k emailKey) (*kajabi.Customer, error) {
	if k.email == "" {
		return nil, &NotFoundError{What: "customer with an empty email"}
	}
	sites := []string{k.siteID}
	if k.siteID == "" {
		// Kajabi lists customers of one site at a time when the account has several:
		// ask each site, at once.
		all, err := l.Sites(ctx)
		if err != nil {
			return nil, fmt.Errorf("find customer by email: %w", err)
		}
		sites = sites[:0]
		for _, s := range all {
			sites = append(sites, s.ID)
		}
		if len(sites) == 0 {
			sites = []string{""}
		}
	}
	perSite := make([][]*kajabi.Customer, len(sites))
	errs := make([]error, len(sites))
	each(len(sites), func(i int) {
		opts := &kajabi.CustomerListOptions{ListOptions: fullPage(1)}
		opts.Filter.EmailContains = &k.email
		if sites[i] != "" {
			opts.Filter.SiteID = &sites[i]
		}
		perSite[i], errs[i] = callOnce(ctx, l, "customers?"+kajabi.EncodeQuery(opts), false, func(ctx context.Context) ([]*kajabi.Customer, error) {
			customers, _, err := l.client.Customers.List(ctx, opts)
			return customers, err
		})
	})
	var found []*kajabi.Customer
	for i := range sites {
		if errs[i] != nil {
			return nil, fmt.Errorf("find customer by email: %w", errs[i])
		}
		found = append(found, perSite[i]...)
	}
	var matches []*kajabi.Customer
	for _, c := range found {
		if strings.EqualFold(c.Email, k.email) {
			matches = append(matches, c)
		}
	}
	switch len(matches) {
	case 0:
		return nil, &NotFoundError{What: "customer with that email"}
	case 1:
		l.customerLoader(ctx).Prime(ctx, matches[0].ID, matches[0])
		return matches[0], nil
	default:
		return nil, &AmbiguousError{What: "email", Matches: len(matches)}
	}
}

// NotFoundError is a look-up that Kajabi answered with no record (where Kajabi's own
// answer was a list, not a 404).
type NotFoundError struct{ What string }

func (e *NotFoundError) Error() string { return "no " + e.What }

// AmbiguousError is a key that matches more than one record: an email address can belong
// to customers of several sites.
type AmbiguousError struct {
	What    string
	Matches int
}

func (e *AmbiguousError) Error() string {
	return fmt.Sprintf("the %s matches %d customers on different sites; set KAJABI_SITE_ID to choose one site", e.What, e.Matches)
}

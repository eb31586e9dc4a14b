package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"github.com/kajabi-graphql/facade/graph/loader"
	"github.com/kajabi-graphql/facade/kajabi"
)

// loaded keeps the records that loaded and reports each one that did not as an error at
// the field's path, so one missing product does not take its customer down with it.
func loaded[T any](ctx context.Context, records []T, errs []error) []T {
	out := make([]T, 0, len(records))
	for i, rec := range records {
		if i < len(errs) && errs[i] != nil {
			graphql.AddError(ctx, errs[i])
			continue
		}
		out = append(out, rec)
	}
	return out
}

// site loads the site a relationship points at; an empty relationship is null.
func site(ctx context.Context, id *kajabi.Identifier) (*kajabi.Site, error) {
	return siteLater(ctx, id)()
}

// siteLater is site started now and waited for when the result is called.
func siteLater(ctx context.Context, id *kajabi.Identifier) func() (*kajabi.Site, error) {
	if id == nil {
		return none[*kajabi.Site]
	}
	return loader.For(ctx).SiteLater(ctx, id.ID)
}

// contactLater starts loading a customer's contact; one without is null.
func contactLater(ctx context.Context, c *kajabi.Customer) func() (*kajabi.Contact, error) {
	if c.Contact == nil {
		return none[*kajabi.Contact]
	}
	return loader.For(ctx).ContactLater(ctx, c.Contact.ID)
}

// productsLater starts loading a customer's products, each with its error.
func productsLater(ctx context.Context, c *kajabi.Customer) func() ([]*kajabi.Product, []error) {
	return loader.For(ctx).ProductsLater(ctx, idOf(c.Site), c.Products)
}

// contactsNow starts loading the contacts of a page of customers at once, without the
// loaders' batch window (PlainFields has every row in hand); a row without one gets nil.
func contactsNow(ctx context.Context, rows []*kajabi.Customer) func() ([]*kajabi.Contact, []error) {
	return oneEach(ctx, rows, func(c *kajabi.Customer) *kajabi.Identifier { return c.Contact }, loader.For(ctx).ContactsNow)
}

// sitesNow is contactsNow for the customers' sites.
func sitesNow(ctx context.Context, rows []*kajabi.Customer) func() ([]*kajabi.Site, []error) {
	return oneEach(ctx, rows, func(c *kajabi.Customer) *kajabi.Identifier { return c.Site }, loader.For(ctx).SitesNow)
}

// productsNow is contactsNow for the customers' products: each row's, in order, with
// each one's error.
func productsNow(ctx context.Context, rows []*kajabi.Customer) func() ([][]*kajabi.Product, [][]error) {
	var keys []loader.SiteKey
	for _, c := range rows {
		for _, p := range c.Products {
			keys = append(keys, loader.SiteKey{SiteID: idOf(c.Site), ID: p.ID})
		}
	}
	wait := loader.For(ctx).ProductsNow(ctx, keys)
	return func() ([][]*kajabi.Product, [][]error) {
		all, allErrs := wait()
		products, errs := make([][]*kajabi.Product, len(rows)), make([][]error, len(rows))
		for i, c := range rows {
			n := len(c.Products)
			products[i], errs[i], all, allErrs = all[:n:n], allErrs[:n:n], all[n:], allErrs[n:]
		}
		return products, errs
	}
}

// oneEach loads the record each row's relationship names with load; rows without one get
// nil and no error.
func oneEach[R any](ctx context.Context, rows []*kajabi.Customer, rel func(*kajabi.Customer) *kajabi.Identifier,
	load func(context.Context, []string) func() ([]R, []error)) func() ([]R, []error) {
	var ids []string
	for _, c := range rows {
		if id := rel(c); id != nil {
			ids = append(ids, id.ID)
		}
	}
	wait := load(ctx, ids)
	return func() ([]R, []error) {
		got, gotErrs := wait()
		out, errs := make([]R, len(rows)), make([]error, len(rows))
		for i, c := range rows {
			if rel(c) != nil {
				out[i], errs[i], got, gotErrs = got[0], gotErrs[0], got[1:], gotErrs[1:]
			}
		}
		return out, errs
	}
}

func none[T any]() (T, error) {
	var zero T
	return zero, nil
}

func idOf(id *kajabi.Identifier) string {
	if id == nil {
		return ""
	}
	return id.ID
}

// siteOrDefault is the site a list is scoped to: the caller's, else KAJABI_SITE_ID.
func (r *Resolver) siteOrDefault(siteID *string) string {
	if siteID != nil {
		return *siteID
	}
	return r.DefaultSiteID
}

// customer loads the customer a relationship points at; an empty relationship is null.
// Customers a list already returned in the request cost nothing.
func customer(ctx context.Context, id *kajabi.Identifier) (*kajabi.Customer, error) {
	if id == nil {
		return nil, nil
	}
	return loader.For(ctx).Customer(ctx, id.ID)
}

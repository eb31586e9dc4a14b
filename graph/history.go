package graph

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/kajabi-graphql/facade/graph/loader"
	"github.com/kajabi-graphql/facade/graph/model"
	"github.com/kajabi-graphql/facade/kajabi"
)

// Bounds of the id lists a write takes; Kajabi documents none, and a page is 100.
const maxWriteIDs = 100

// relationSize is the page[size] a customer's or contact's list is read with: first, 1 to
// 100, checked before any call.
func relationSize(first *int) (int, error) {
	n := defaultPageSize
	if first != nil {
		n = *first
	}
	if n < 1 || n > maxPageSize {
		return 0, badInput("first", "must be between 1 and %d, got %d", maxPageSize, n)
	}
	return n, nil
}

// checkIDs refuses an empty or oversized id list, or one with an id Kajabi cannot have
// issued, naming the argument and the position.
func checkIDs(arg string, ids []string) error {
	if len(ids) == 0 || len(ids) > maxWriteIDs {
		return badInput(arg, "must hold 1 to %d ids, got %d", maxWriteIDs, len(ids))
	}
	for i, id := range ids {
		if err := checkID(fmt.Sprintf("%s[%d]", arg, i), id); err != nil {
			return err
		}
	}
	return nil
}

// mayWrite refuses a mutation, before any Kajabi call, when the service does not run
// them or the caller's key may only read. In passthrough mode Kajabi decides: its 403 is
// FORBIDDEN as well (see upstreamCode).
func (r *Resolver) mayWrite(ctx context.Context) error {
	if !r.Mutations {
		return forbidden("mutations are turned off on this service (set MUTATIONS=true to run them)")
	}
	if c, _ := loader.CallerOf(ctx); c.ReadOnly {
		return forbidden("this API key may only read; a key with the write scope (KEY:write in API_KEYS) may run mutations")
	}
	return nil
}

func forbidden(msg string) *gqlerror.Error {
	return &gqlerror.Error{Message: msg, Extensions: map[string]any{"code": CodeForbidden}}
}

// changeOffers is the three offer writes: checked, then written through the loaders.
func (r *Resolver) changeOffers(ctx context.Context, change loader.OfferChange, customerID string, offerIDs []string) (*kajabi.Customer, error) {
	if err := r.mayWrite(ctx); err != nil {
		return nil, err
	}
	if err := checkID("customerId", customerID); err != nil {
		return nil, err
	}
	if err := checkIDs("offerIds", offerIDs); err != nil {
		return nil, err
	}
	return loader.For(ctx).ChangeOffers(ctx, change, customerID, offerIDs)
}

// changeTags is the two tag writes: checked, then written through the loaders.
func (r *Resolver) changeTags(ctx context.Context, add bool, contactID string, tagIDs []string) (*kajabi.Contact, error) {
	if err := r.mayWrite(ctx); err != nil {
		return nil, err
	}
	if err := checkID("contactId", contactID); err != nil {
		return nil, err
	}
	if err := checkIDs("tagIds", tagIDs); err != nil {
		return nil, err
	}
	return loader.For(ctx).ChangeContactTags(ctx, add, contactID, tagIDs)
}

func transactionOptions(first *int, startDate, endDate *model.Date) (*kajabi.TransactionListOptions, error) {
	n, err := relationSize(first)
	if err != nil {
		return nil, err
	}
	opts := &kajabi.TransactionListOptions{ListOptions: kajabi.ListOptions{PageSize: n}}
	if startDate != nil {
		opts.StartDate = string(*startDate)
	}
	if endDate != nil {
		opts.EndDate = string(*endDate)
	}
	if opts.StartDate != "" && opts.EndDate != "" && opts.StartDate > opts.EndDate {
		return nil, badInput("startDate", "must not be after endDate (%s > %s)", opts.StartDate, opts.EndDate)
	}
	return opts, nil
}

// jsonText is a JSON value as text; null when Kajabi sent none.
func jsonText(raw json.RawMessage) *string {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	s := string(raw)
	return &s
}

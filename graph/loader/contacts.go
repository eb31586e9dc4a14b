package loader

import (
	"context"

	"github.com/graph-gophers/dataloader/v7"

	"github.com/kajabi-graphql/facade/kajabi"
)

// Contact loads one contact.
//
// Strategy: Kajabi has no batch read for contacts (no filter[id]), and listing a site's
// contacts to find twenty of them would read thousands, so a batch is one GET per distinct
// id, all at once within the request's concurrency bound.
func (l *Loaders) Contact(ctx context.Context, id string) (*kajabi.Contact, error) {
	return l.ContactLater(ctx, id)()
}

// ContactLater is Contact started now and waited for when the result is called: a page's
// contacts started from one goroutine share one batch, as concurrent Contact calls do.
func (l *Loaders) ContactLater(ctx context.Context, id string) func() (*kajabi.Contact, error) {
	return l.contactLoader().Load(ctx, id)
}

// ContactsNow loads the contacts of ids, in order, at once: a caller holding every id of a
// page needs no batch window to gather them.
func (l *Loaders) ContactsNow(ctx context.Context, ids []string) func() ([]*kajabi.Contact, []error) {
	return now(ctx, l, "contacts", ids, l.loadContacts)
}

func (l *Loaders) loadContacts(ctx context.Context, ids []string) []*dataloader.Result[*kajabi.Contact] {
	return getEach(ctx, ids, func(ctx context.Context, id string) (*kajabi.Contact, error) {
		return callOnce(ctx, l, "contact:"+id, false, func(ctx context.Context) (*kajabi.Contact, error) {
			c, _, err := l.client.Contacts.Get(ctx, id)
			return c, err
		})
	})
}

// getEach answers a batch with one call per key, in key order, each with its own error.
func getEach[V any](ctx context.Context, keys []string, get func(context.Context, string) (V, error)) []*dataloader.Result[V] {
	results := make([]*dataloader.Result[V], len(keys))
	each(len(keys), func(i int) {
		v, err := get(ctx, keys[i])
		results[i] = &dataloader.Result[V]{Data: v, Error: err}
	})
	return results
}

package loader

import (
	"cmp"
	"context"
	"sync"
	"time"

	"github.com/graph-gophers/dataloader/v7"

	"github.com/kajabi-graphql/facade/kajabi"
)

// SiteKey names a product or offer together with the site it is expected on ("" when
// unknown), which tells the loader which site's list can hold it.
type SiteKey struct {
	SiteID string
	ID     string
}

// endpoint is how one site-scoped collection (products or offers) is read.
type endpoint[T any] struct {
	kind string // collection name, used in memo and cache keys
	list func(ctx context.Context, siteID string, page int) ([]T, *kajabi.Response, error)
	get  func(ctx context.Context, id string) (T, error)
	id   func(T) string // "" for a nil record (Kajabi answering "data": null, off its spec)
}

// catalog loads records of one site-scoped collection.
//
// Strategy: Kajabi has no batch read by ids, but it lists a site's whole collection in
// pages of 100. For ids whose site is known, a batch reads page 1 of that site's list: it
// costs what one GET costs and usually answers every id of the site, in this batch and in
// any later one. If the rest of the list is no more pages than the ids still missing, it
// reads those pages at once, otherwise it GETs the missing ids one by one. Ids of unknown
// site (a gateway's references) are read the same way from the account-wide list when
// there are several, and by one GET when there is one. Every record seen in the request (from a list page or a GET)
// answers later keys without a call, and list pages are shared across requests of the
// same credential through the Cache.
type catalog[T any] struct {
	l      *Loaders
	ep     endpoint[T]
	loader *dataloader.Loader[SiteKey, T]

	mu         sync.Mutex
	seen       map[string]T
	prefetched map[string]bool
}

func newCatalog[T any](l *Loaders, wait time.Duration, ep endpoint[T]) *catalog[T] {
	c := &catalog[T]{l: l, ep: ep, seen: map[string]T{}, prefetched: map[string]bool{}}
	c.loader = newLoader(l, ep.kind, c.batch, wait)
	return c
}

func productsEndpoint(client *kajabi.Client) endpoint[*kajabi.Product] {
	return endpoint[*kajabi.Product]{
		kind: "products",
		list: func(ctx context.Context, siteID string, page int) ([]*kajabi.Product, *kajabi.Response, error) {
			return client.Products.List(ctx, &kajabi.ProductListOptions{SiteID: siteID, ListOptions: fullPage(page)})
		},
		get: func(ctx context.Context, id string) (*kajabi.Product, error) {
			p, _, err := client.Products.Get(ctx, id)
			return p, err
		},
		id: func(p *kajabi.Product) string { return cmp.Or(p, &kajabi.Product{}).ID },
	}
}

func offersEndpoint(client *kajabi.Client) endpoint[*kajabi.Offer] {
	return endpoint[*kajabi.Offer]{
		kind: "offers",
		list: func(ctx context.Context, siteID string, page int) ([]*kajabi.Offer, *kajabi.Response, error) {
			return client.Offers.List(ctx, &kajabi.OfferListOptions{SiteID: siteID, ListOptions: fullPage(page)})
		},
		get: func(ctx context.Context, id string) (*kajabi.Offer, error) {
			o, _, err := client.Offers.Get(ctx, id)
			return o, err
		},
		id: func(o *kajabi.Offer) string { return cmp.Or(o, &kajabi.Offer{}).ID },
	}
}

// Product loads one product; siteID may be "" when unknown.
func (l *Loaders) Product(ctx context.Context, siteID, id string) (*kajabi.Product, error) {
	return l.productCatalog().loader.Load(ctx, SiteKey{siteID, id})()
}

// Products loads products of one site by their identifiers, in order, each with its error.
func (l *Loaders) Products(ctx context.Context, siteID string, ids []kajabi.Identifier) ([]*kajabi.Product, []error) {
	return l.ProductsLater(ctx, siteID, ids)()
}

// ProductsLater is Products started now and waited for when the result is called.
func (l *Loaders) ProductsLater(ctx context.Context, siteID string, ids []kajabi.Identifier) func() ([]*kajabi.Product, []error) {
	return l.productCatalog().loadMany(ctx, siteID, ids)
}

// ProductsNow loads products by site and id, in order, at once (see ContactsNow).
func (l *Loaders) ProductsNow(ctx context.Context, keys []SiteKey) func() ([]*kajabi.Product, []error) {
	c := l.productCatalog()
	return now(ctx, l, "products", keys, c.batch)
}

// SiteProducts lists every product of a site ("" for every site).
func (l *Loaders) SiteProducts(ctx context.Context, siteID string) ([]*kajabi.Product, error) {
	return l.productCatalog().listSite(ctx, siteID)
}

// Offer loads one offer; siteID may be "" when unknown.
func (l *Loaders) Offer(ctx context.Context, siteID, id string) (*kajabi.Offer, error) {
	return l.offerCatalog().loader.Load(ctx, SiteKey{siteID, id})()
}

// Offers loads offers of one site by their identifiers, in order, each with its error.
func (l *Loaders) Offers(ctx context.Context, siteID string, ids []kajabi.Identifier) ([]*kajabi.Offer, []error) {
	return l.offerCatalog().loadMany(ctx, siteID, ids)()
}

// SiteOffers lists every offer of a site ("" for every site).
func (l *Loaders) SiteOffers(ctx context.Context, siteID string) ([]*kajabi.Offer, error) {
	return l.offerCatalog().listSite(ctx, siteID)
}

// loadMany puts every id in the loader's batch now and returns how to wait for them, in
// order; errs is nil when none failed, as with the loader's LoadMany, which would spend a
// goroutine on each id.
func (c *catalog[T]) loadMany(ctx context.Context, siteID string, ids []kajabi.Identifier) func() ([]T, []error) {
	thunks := make([]dataloader.Thunk[T], len(ids))
	for i, id := range ids {
		thunks[i] = c.loader.Load(ctx, SiteKey{siteID, id.ID})
	}
	return func() ([]T, []error) {
		data := make([]T, len(thunks))
		var errs []error
		for i, thunk := range thunks {
			v, err := thunk()
			data[i] = v
			if err != nil {
				if errs == nil {
					errs = make([]error, len(thunks))
				}
				errs[i] = err
			}
		}
		return data, errs
	}
}

func (c *catalog[T]) listSite(ctx context.Context, siteID string) ([]T, error) {
	all, err := listAll(ctx, c.l, c.listKey(siteID), c.lister(siteID))
	c.remember(all)
	return all, err
}

// prefetch starts reading page 1 of a site's list, once per request, without waiting for
// it: the batch that needs it later joins the call in flight.
func (c *catalog[T]) prefetch(ctx context.Context, siteID string) {
	c.mu.Lock()
	started := c.prefetched[siteID]
	c.prefetched[siteID] = true
	c.mu.Unlock()
	if started || siteID == "" {
		return
	}
	go func() {
		if first, err := listPage(ctx, c.l, c.listKey(siteID), 1, c.lister(siteID)); err == nil {
			c.remember(first.Items)
		}
	}()
}

func (c *catalog[T]) listKey(siteID string) string { return c.ep.kind + "?site=" + siteID }

func (c *catalog[T]) lister(siteID string) listFunc[T] {
	return func(ctx context.Context, page int) ([]T, *kajabi.Response, error) {
		return c.ep.list(ctx, siteID, page)
	}
}

func (c *catalog[T]) remember(items []T) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, it := range items {
		if id := c.ep.id(it); id != "" {
			c.seen[id] = it
		}
	}
}

// known returns the records already seen in this request, and the ids still missing.
func (c *catalog[T]) known(ids []string) (map[string]T, []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	found := map[string]T{}
	var missing []string
	for _, id := range ids {
		if v, ok := c.seen[id]; ok {
			found[id] = v
		} else {
			missing = append(missing, id)
		}
	}
	return found, missing
}

func (c *catalog[T]) batch(ctx context.Context, keys []SiteKey) []*dataloader.Result[T] {
	bySite := map[string][]string{}
	for _, k := range keys {
		bySite[k.SiteID] = append(bySite[k.SiteID], k.ID)
	}
	sites := make([]string, 0, len(bySite))
	for s := range bySite {
		sites = append(sites, s)
	}
	each(len(sites), func(i int) { c.readFromList(ctx, sites[i], bySite[sites[i]]) })

	results := make([]*dataloader.Result[T], len(keys))
	var missing []int
	c.mu.Lock()
	for i, k := range keys {
		if v, ok := c.seen[k.ID]; ok {
			results[i] = &dataloader.Result[T]{Data: v}
		} else {
			missing = append(missing, i)
		}
	}
	c.mu.Unlock()
	each(len(missing), func(m int) {
		i := missing[m]
		id := keys[i].ID
		v, err := callOnce(ctx, c.l, c.ep.kind+"/"+id, true, func(ctx context.Context) (T, error) {
			return c.ep.get(ctx, id)
		})
		if err == nil {
			c.remember([]T{v})
		}
		results[i] = &dataloader.Result[T]{Data: v, Error: err}
	})
	return results
}

// readFromList reads the site's list where that is cheaper than one GET per missing id.
func (c *catalog[T]) readFromList(ctx context.Context, siteID string, ids []string) {
	_, missing := c.known(ids)
	key, list := c.listKey(siteID), c.lister(siteID)
	if len(missing) == 0 || (siteID == "" && len(missing) < 2 && !c.l.asked(pageKey(key, 1))) {
		// One id of unknown site: a GET costs no more than a list page, unless the
		// request already reads that page (a reference that missed the batch window).
		return
	}
	first, err := listPage(ctx, c.l, key, 1, list)
	if err != nil {
		return // the GETs that follow report the error per id
	}
	c.remember(first.Items)
	// A list of unsaid length could be long: the GETs that follow cost one call per id.
	if _, missing = c.known(ids); len(missing) == 0 || first.Pages-1 > len(missing) || first.Pages == 0 && first.More {
		return
	}
	if rest, err := restOfList(ctx, c.l, key, first, list); err == nil {
		c.remember(rest)
	}
}

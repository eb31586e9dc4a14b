package loader

import (
	"context"
	"strconv"

	"github.com/graph-gophers/dataloader/v7"

	"github.com/kajabi-graphql/facade/kajabi"
)

// Site loads one site.
//
// Strategy: an account has a handful of sites, so any batch reads the whole list (one call
// to /v1/sites for every site at once, shared across requests of the same credential) and
// falls back to GET /v1/sites/{id} only for an id the list lacks.
func (l *Loaders) Site(ctx context.Context, id string) (*kajabi.Site, error) {
	return l.SiteLater(ctx, id)()
}

// SiteLater is Site started now and waited for when the result is called.
func (l *Loaders) SiteLater(ctx context.Context, id string) func() (*kajabi.Site, error) {
	return l.siteLoader().Load(ctx, id)
}

// SitesNow loads the sites of ids, in order, at once (see ContactsNow).
func (l *Loaders) SitesNow(ctx context.Context, ids []string) func() ([]*kajabi.Site, []error) {
	return now(ctx, l, "sites", ids, l.loadSites)
}

// Sites returns every site of the account.
func (l *Loaders) Sites(ctx context.Context) ([]*kajabi.Site, error) {
	return listAll(ctx, l, "sites", func(ctx context.Context, page int) ([]*kajabi.Site, *kajabi.Response, error) {
		return l.client.Sites.List(ctx, &kajabi.SiteListOptions{ListOptions: fullPage(page)})
	})
}

func (l *Loaders) loadSites(ctx context.Context, ids []string) []*dataloader.Result[*kajabi.Site] {
	byID := map[string]*kajabi.Site{}
	if all, err := l.Sites(ctx); err == nil {
		for _, s := range all {
			byID[s.ID] = s
		}
	}
	results := make([]*dataloader.Result[*kajabi.Site], len(ids))
	var missing []string
	for i, id := range ids {
		if s, ok := byID[id]; ok {
			results[i] = &dataloader.Result[*kajabi.Site]{Data: s}
		} else {
			missing = append(missing, id)
		}
	}
	if len(missing) == 0 {
		return results
	}
	fetched := getEach(ctx, missing, func(ctx context.Context, id string) (*kajabi.Site, error) {
		return callOnce(ctx, l, "site:"+id, true, func(ctx context.Context) (*kajabi.Site, error) {
			s, _, err := l.client.Sites.Get(ctx, id)
			return s, err
		})
	})
	for i, j := 0, 0; i < len(results); i++ {
		if results[i] == nil {
			results[i], j = fetched[j], j+1
		}
	}
	return results
}

// pageSize is Kajabi's largest page: whole-list reads take as few calls as possible.
const pageSize = 100

func fullPage(page int) kajabi.ListOptions {
	return kajabi.ListOptions{Page: page, PageSize: pageSize}
}

// page is one page of a list and how many pages the list has: 0 when Kajabi's answer did
// not say (no meta and no last link), and then more tells whether another page follows.
type page[T any] struct {
	Items []T
	Pages int
	More  bool
}

// maxUnknownPages bounds the walk through a list whose length Kajabi did not say: 100,000
// records at 100 a page, far beyond any site's catalogue.
const maxUnknownPages = 1000

type listFunc[T any] func(ctx context.Context, page int) ([]T, *kajabi.Response, error)

// listPage reads one page of a list once per request (and from the shared cache).
func listPage[T any](ctx context.Context, l *Loaders, key string, n int, list listFunc[T]) (page[T], error) {
	return callOnce(ctx, l, pageKey(key, n), true, func(ctx context.Context) (page[T], error) {
		items, resp, err := list(ctx, n)
		if err != nil {
			return page[T]{}, err
		}
		p := page[T]{Items: items, Pages: resp.LastPage}
		if resp.Meta != nil {
			p.Pages = resp.Meta.TotalPages
		}
		if p.Pages > 0 {
			p.Pages = max(p.Pages, n)
		} else {
			// Only a next link or a full page says more follow; a short page is the last.
			p.More = resp.NextPage > n || len(items) == pageSize
		}
		return p, nil
	})
}

// pageKey names page n of the list called key in the request's memo.
func pageKey(key string, n int) string { return key + "#" + strconv.Itoa(n) }

// listAll reads every page of a list: the first, then all the others at once.
func listAll[T any](ctx context.Context, l *Loaders, key string, list listFunc[T]) ([]T, error) {
	first, err := listPage(ctx, l, key, 1, list)
	if err != nil {
		return nil, err
	}
	return restOfList(ctx, l, key, first, list)
}

// restOfList reads pages 2..n of a list whose first page is known, at once, in order.
// When the first page did not say how many there are, it reads on page by page while
// each says more follow.
func restOfList[T any](ctx context.Context, l *Loaders, key string, first page[T], list listFunc[T]) ([]T, error) {
	if first.Pages == 0 {
		all, p := first.Items, first
		for n := 2; p.More && n <= maxUnknownPages; n++ {
			var err error
			if p, err = listPage(ctx, l, key, n, list); err != nil {
				return nil, err
			}
			all = append(all, p.Items...)
		}
		return all, nil
	}
	rest := make([]page[T], first.Pages-1)
	errs := make([]error, len(rest))
	each(len(rest), func(i int) {
		rest[i], errs[i] = listPage(ctx, l, key, i+2, list)
	})
	all := first.Items
	for i, p := range rest {
		if errs[i] != nil {
			return nil, errs[i]
		}
		all = append(all, p.Items...)
	}
	return all, nil
}

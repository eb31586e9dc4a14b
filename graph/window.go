package graph

import (
	"context"
	"fmt"
	"sync"

	"github.com/kajabi-graphql/facade/graph/loader"
	"github.com/kajabi-graphql/facade/graph/model"
	"github.com/kajabi-graphql/facade/kajabi"
)

const (
	defaultPageSize = 20
	maxPageSize     = 100 // Kajabi's own ceiling for page[size]
)

// window is the slice of the whole list a request asks for: up to limit rows from offset
// start, read from Kajabi pages of size rows.
type window struct {
	start, size, limit int
	// fromEnd is `last` without `before`: start is known once the list's length is.
	fromEnd bool
	// arg is the cursor argument the window starts from, "" for none.
	arg string
}

// newWindow reads the paging arguments: a numbered page, Relay's first/after (forward) or
// last/before (backward). It checks everything it can without Kajabi.
func newWindow(page *model.PageInput, first *int, after *string, last *int, before *string, scope model.Scope) (window, error) {
	if page != nil && (first != nil || after != nil || last != nil || before != nil) {
		return window{}, badInput("page", "cannot be combined with first/after/last/before; use one way of paging")
	}
	if first != nil && last != nil {
		return window{}, badInput("last", "cannot be combined with first; page forward (first/after) or backward (last/before)")
	}
	if after != nil && before != nil {
		return window{}, badInput("before", "cannot be combined with after; page forward (first/after) or backward (last/before)")
	}
	if last != nil && after != nil {
		return window{}, badInput("last", "cannot be combined with after; page forward (first/after) or backward (last/before)")
	}
	if first != nil && before != nil {
		return window{}, badInput("first", "cannot be combined with before; page forward (first/after) or backward (last/before)")
	}
	if page != nil {
		number, size := 1, defaultPageSize
		if page.Number != nil {
			number = *page.Number
		}
		if page.Size != nil {
			size = *page.Size
		}
		if number < 1 {
			return window{}, badInput("page.number", "must be 1 or more, got %d", number)
		}
		if size < 1 || size > maxPageSize {
			return window{}, badInput("page.size", "must be between 1 and %d, got %d", maxPageSize, size)
		}
		return window{start: (number - 1) * size, size: size, limit: size}, nil
	}
	w := window{size: defaultPageSize}
	count, countArg := first, "first"
	if last != nil || before != nil {
		count, countArg = last, "last"
	}
	if count != nil {
		if *count < 1 || *count > maxPageSize {
			return window{}, badInput(countArg, "must be between 1 and %d, got %d", maxPageSize, *count)
		}
		w.size = *count
	}
	w.limit = w.size
	cursor, arg := after, "after"
	if before != nil {
		cursor, arg = before, "before"
	}
	if cursor == nil {
		w.fromEnd = countArg == "last"
		return w, nil
	}
	c, err := model.ParseCursor(*cursor)
	if err != nil {
		return window{}, badInput(arg, "is not a cursor this service issued")
	}
	if c.Scope != scope {
		return window{}, badInput(arg, "belongs to a list with another filter or sort; a cursor is only valid with the filter and sort it was made with")
	}
	w.arg = arg
	if arg == "after" {
		w.start = c.Offset + 1
	} else {
		w.start = max(c.Offset-w.size, 0)
		w.limit = c.Offset - w.start
	}
	return w, nil
}

// kajabiPage is one page of Kajabi's list, in pages of the window's size.
type kajabiPage struct {
	number    int
	customers []*kajabi.Customer
	resp      *kajabi.Response
}

// pager reads pages of one customer list, each at most once per request.
type pager struct {
	client *kajabi.Client
	opts   kajabi.CustomerListOptions
	size   int

	mu    sync.Mutex
	pages map[int]*kajabiPage
}

// fetch reads the pages not read yet, at once, and returns all of them in order.
func (p *pager) fetch(ctx context.Context, numbers ...int) ([]*kajabiPage, error) {
	out := make([]*kajabiPage, len(numbers))
	errs := make([]error, len(numbers))
	var wg sync.WaitGroup
	for i, n := range numbers {
		p.mu.Lock()
		got := p.pages[n]
		p.mu.Unlock()
		if got != nil {
			out[i] = got
			continue
		}
		wg.Go(func() {
			o := p.opts
			o.Page, o.PageSize = n, p.size
			c, resp, err := p.client.Customers.List(ctx, &o)
			if err != nil {
				errs[i] = err
				return
			}
			out[i] = &kajabiPage{number: n, customers: c, resp: resp}
			p.mu.Lock()
			p.pages[n] = out[i]
			p.mu.Unlock()
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("list customers: %w", err)
		}
	}
	return out, nil
}

// totals is what the pages read prove about the whole list. meta says it outright; a
// last link gives the page count, and the row count when the last page was read; a page
// shorter than the page size is the last one; an empty page beyond the first says only
// that the list ends before it. Anything else stays unknown.
func (p *pager) totals() (count, pages *int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, pg := range p.pages {
		if m := pg.resp.Meta; m != nil {
			return ptr(m.TotalCount), ptr((m.TotalCount + p.size - 1) / p.size)
		}
	}
	for _, pg := range p.pages {
		if last := pg.resp.LastPage; last > 0 {
			pages = ptr(last)
			if got := p.pages[last]; got != nil && len(got.customers) > 0 {
				count = ptr((last-1)*p.size + len(got.customers))
			}
		}
	}
	for _, pg := range p.pages {
		if n := len(pg.customers); n < p.size && (n > 0 || pg.number == 1) {
			count = ptr((pg.number-1)*p.size + n)
			pages = ptr((*count + p.size - 1) / p.size)
		}
	}
	return count, pages
}

// maxProbes bounds the search for the end of a list whose length Kajabi does not say:
// doubling to 2^31 pages and halving back is under 64 calls.
const maxProbes = 64

// length finds how many rows the list has, for `last` without `before`: from page 1's
// totals when its answer proves them, else by probing pages (doubling, then halving
// between the last full page and the first short one).
func (p *pager) length(ctx context.Context) (int, error) {
	if _, err := p.fetch(ctx, 1); err != nil {
		return 0, err
	}
	if count, pages := p.totals(); count != nil {
		return *count, nil
	} else if pages != nil {
		if _, err := p.fetch(ctx, *pages); err != nil {
			return 0, err
		}
		if count, _ := p.totals(); count != nil {
			return *count, nil
		}
	}
	lo, hi := 1, 0 // page lo is full; page hi is empty (0 while none was seen)
	for range maxProbes {
		if hi == lo+1 {
			return lo * p.size, nil
		}
		next := lo * 2
		if hi != 0 {
			next = lo + (hi-lo)/2
		}
		pg, err := p.fetch(ctx, next)
		if err != nil {
			return 0, err
		}
		switch n := len(pg[0].customers); {
		case n == p.size:
			lo = next
		case n == 0:
			hi = next
		default:
			return (next-1)*p.size + n, nil
		}
	}
	return 0, fmt.Errorf("list customers: no end found after %d pages were probed", maxProbes)
}

// listCustomers reads the Kajabi pages that hold the window, at once, and splices them:
// one page when the window is aligned, two when it straddles a boundary. `last` without
// `before` first finds the list's length.
func listCustomers(ctx context.Context, client *kajabi.Client, opts kajabi.CustomerListOptions, w window, scope model.Scope) (*model.CustomerConnection, error) {
	opts.Fields = selectedCustomerFields(ctx)
	p := &pager{client: client, opts: opts, size: w.size, pages: map[int]*kajabiPage{}}
	if w.fromEnd {
		n, err := p.length(ctx)
		if err != nil {
			return nil, err
		}
		w.start = max(n-w.size, 0)
		w.limit = n - w.start
	}
	first := w.start/w.size + 1
	numbers := []int{first}
	if w.limit > 0 {
		if last := (w.start+w.limit-1)/w.size + 1; last > first {
			numbers = append(numbers, last)
		}
	}
	pages, err := p.fetch(ctx, numbers...)
	if err != nil {
		return nil, err
	}
	var rows []*kajabi.Customer
	for _, pg := range pages {
		rows = append(rows, pg.customers...)
	}
	rows = rows[min(w.start%w.size, len(rows)):]
	following := len(rows) > w.limit // a row after the window was read
	rows = rows[:min(len(rows), w.limit)]
	if opts.Fields == nil {
		// Only whole records may answer later look-ups of the same customer by id.
		loader.For(ctx).PrimeCustomers(ctx, rows)
	}

	count, totalPages := p.totals()
	t := model.Totals{Count: count, Pages: totalPages}
	end := w.start + len(rows)
	switch lastRead := pages[len(pages)-1]; {
	case count != nil:
		t.HasNext = end < *count
	case following, w.arg == "before":
		t.HasNext = true // read, or the row the before cursor points at
	case len(rows) == 0:
		t.HasNext = false // past the end
	default:
		// Nothing proves the end: a next link or a full last page says rows follow.
		t.HasNext = lastRead.resp.NextPage > lastRead.number || len(lastRead.customers) == w.size
	}
	return model.NewCustomerConnection(rows, w.start, w.size, t, scope), nil
}

func ptr(n int) *int { return &n }

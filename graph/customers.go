package graph

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"

	"github.com/kajabi-graphql/facade/graph/loader"
	"github.com/kajabi-graphql/facade/graph/model"
	"github.com/kajabi-graphql/facade/kajabi"
)

const (
	defaultPageSize = 20
	maxPageSize     = 100 // Kajabi's own ceiling for page[size]
)

var sortKeys = map[model.CustomerSortField]string{
	model.CustomerSortFieldName:          kajabi.SortByName,
	model.CustomerSortFieldEmail:         kajabi.SortByEmail,
	model.CustomerSortFieldCreatedAt:     kajabi.SortByCreatedAt,
	model.CustomerSortFieldNetRevenue:    kajabi.SortByNetRevenue,
	model.CustomerSortFieldLastRequestAt: kajabi.SortByLastRequestAt,
}

// customerListOptions turns the filter and sort arguments into Kajabi list options,
// refusing bad input before anything is sent. The scope fingerprints filter and sort for
// the cursors of this list.
func (r *Resolver) customerListOptions(filter *kajabi.CustomerFilter, sort *model.CustomerSort) (kajabi.CustomerListOptions, model.Scope, error) {
	var opts kajabi.CustomerListOptions
	if filter != nil {
		if err := validateFilter(filter); err != nil {
			return opts, "", err
		}
		opts.Filter = *filter
	}
	if opts.Filter.SiteID == nil && r.DefaultSiteID != "" {
		site := r.DefaultSiteID
		opts.Filter.SiteID = &site
	}
	if sort != nil {
		key, ok := sortKeys[sort.Field]
		if !ok {
			return opts, "", badInput("sort.field", "must be one of NAME, EMAIL, CREATED_AT, NET_REVENUE, LAST_REQUEST_AT")
		}
		if sort.Direction != nil && *sort.Direction == model.SortDirectionDesc {
			key = "-" + key
		}
		opts.Sort = key
	}
	return opts, model.NewScope(kajabi.EncodeQuery(&opts)), nil
}

// validateFilter checks what the GraphQL types cannot say: day counts are not negative and
// id lists hold ids that survive being joined with commas.
func validateFilter(f *kajabi.CustomerFilter) error {
	v := reflect.ValueOf(f).Elem()
	for i := 0; i < v.NumField(); i++ {
		switch val := v.Field(i).Interface().(type) {
		case *int:
			if val != nil && *val < 0 {
				return badInput(filterFieldName(v.Type().Field(i)), "must be zero or more (a number of days), got %d", *val)
			}
		case []string:
			for _, id := range val {
				if id == "" || strings.Contains(id, ",") {
					return badInput(filterFieldName(v.Type().Field(i)), "ids must be non-empty and contain no comma, got %q", id)
				}
			}
		}
	}
	return nil
}

// filterFieldName is the GraphQL name of a CustomerFilter field: the camelCase of the
// Kajabi parameter in its tag, so filter[created_in_last] is filter.createdInLast.
func filterFieldName(f reflect.StructField) string {
	param := strings.TrimSuffix(strings.TrimPrefix(f.Tag.Get("url"), "filter["), "]")
	var b strings.Builder
	b.WriteString("filter.")
	for i, part := range strings.Split(param, "_") {
		if i > 0 && part != "" {
			part = strings.ToUpper(part[:1]) + part[1:]
		}
		b.WriteString(part)
	}
	return b.String()
}

// window is the slice of the whole list a request asks for: size rows from offset start.
type window struct {
	start, size int
	// page is the Kajabi page number the window starts in, counted in pages of size.
	page int
}

// newWindow reads the paging arguments: either a numbered page, or Relay's first/after.
func newWindow(page *model.PageInput, first *int, after *string, scope model.Scope) (window, error) {
	if page != nil && (first != nil || after != nil) {
		return window{}, badInput("page", "cannot be combined with first/after; use one way of paging")
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
		return window{start: (number - 1) * size, size: size, page: number}, nil
	}
	w := window{size: defaultPageSize}
	if first != nil {
		if *first < 1 || *first > maxPageSize {
			return window{}, badInput("first", "must be between 1 and %d, got %d", maxPageSize, *first)
		}
		w.size = *first
	}
	if after != nil {
		c, err := model.ParseCursor(*after)
		if err != nil {
			return window{}, badInput("after", "is not a cursor this service issued")
		}
		if c.Scope != scope {
			return window{}, badInput("after", "belongs to a list with another filter or sort; a cursor is only valid with the filter and sort it was made with")
		}
		w.start = c.Offset + 1
	}
	w.page = w.start/w.size + 1
	return w, nil
}

// listCustomers fetches the Kajabi pages of size w.size that hold the window: one page
// when it is aligned, two (fetched at once) when it straddles a page boundary, spliced in
// order.
func listCustomers(ctx context.Context, client *kajabi.Client, opts kajabi.CustomerListOptions, w window, scope model.Scope) (*model.CustomerConnection, error) {
	pages := []int{w.page}
	if w.start%w.size != 0 {
		pages = append(pages, w.page+1)
	}
	type result struct {
		customers []*kajabi.Customer
		resp      *kajabi.Response
		err       error
	}
	results := make([]result, len(pages))
	var wg sync.WaitGroup
	for i, p := range pages {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o := opts
			o.Page, o.PageSize = p, w.size
			c, resp, err := client.Customers.List(ctx, &o)
			results[i] = result{c, resp, err}
		}()
	}
	wg.Wait()

	var rows []*kajabi.Customer
	for _, r := range results {
		if r.err != nil {
			return nil, fmt.Errorf("list customers: %w", r.err)
		}
		rows = append(rows, r.customers...)
	}
	skip := min(w.start%w.size, len(rows))
	rows = rows[skip:]
	rows = rows[:min(len(rows), w.size)]
	loader.For(ctx).PrimeCustomers(ctx, rows)

	total := results[0].resp.Meta.TotalCount
	if last := results[len(results)-1].resp; total == 0 && last.NextPage > 0 {
		// No meta in the answer: all we know is that more rows follow.
		total = w.start + len(rows) + 1
	}
	return model.NewCustomerConnection(rows, w.start, w.size, max(total, w.start+len(rows)), scope), nil
}

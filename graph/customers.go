package graph

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

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
// ids (the fields whose parameter ends in _id or _ids) are Kajabi ids, which also keeps
// an id list joinable with commas.
func validateFilter(f *kajabi.CustomerFilter) error {
	v := reflect.ValueOf(f).Elem()
	for i := 0; i < v.NumField(); i++ {
		field := v.Type().Field(i)
		switch val := v.Field(i).Interface().(type) {
		case *int:
			if val != nil && *val < 0 {
				return badInput(filterFieldName(field), "must be zero or more (a number of days), got %d", *val)
			}
		case *string:
			if isIDParam(field) {
				if err := checkOptionalID(filterFieldName(field), val); err != nil {
					return err
				}
			}
		case []string:
			for _, id := range val {
				if err := checkID(filterFieldName(field), id); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func isIDParam(f reflect.StructField) bool {
	param := strings.TrimSuffix(f.Tag.Get("url"), "]")
	return strings.HasSuffix(param, "_id") || strings.HasSuffix(param, "_ids")
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
	opts.Fields = selectedCustomerFields(ctx)
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
	if opts.Fields == nil {
		// Only whole records may answer later look-ups of the same customer by id.
		loader.For(ctx).PrimeCustomers(ctx, rows)
	}

	total := results[0].resp.Meta.TotalCount
	if last := results[len(results)-1].resp; total == 0 && last.NextPage > 0 {
		// No meta in the answer: all we know is that more rows follow.
		total = w.start + len(rows) + 1
	}
	return model.NewCustomerConnection(rows, w.start, w.size, max(total, w.start+len(rows)), scope), nil
}

// customerFieldNeeds maps each field of the GraphQL Customer to the Kajabi fields
// (attributes, and relationships by name as JSON:API sparse fieldsets allow) it reads.
// products and offers also read the site relationship: the site's catalogue answers them.
var customerFieldNeeds = map[string][]string{
	"id":             nil,
	"__typename":     nil,
	"name":           {"name"},
	"email":          {"email"},
	"avatar":         {"avatar"},
	"externalUserId": {"external_user_id"},
	"publicBio":      {"public_bio"},
	"publicLocation": {"public_location"},
	"publicWebsite":  {"public_website"},
	"socials":        {"socials"},
	"netRevenue":     {"net_revenue"},
	"signInCount":    {"sign_in_count"},
	"lastRequestAt":  {"last_request_at"},
	"bouncedAt":      {"bounced_at"},
	"createdAt":      {"created_at"},
	"updatedAt":      {"updated_at"},
	"contact":        {"contact"},
	"site":           {"site"},
	"products":       {"products", "site"},
	"offers":         {"offers", "site"},
	"purchases":      nil, // read by filter[customer_id]: the id is enough
	"orders":         nil,
	"transactions":   nil,
}

// kajabiCustomerFields is the order fields[customers] lists them in (the spec's), so one
// selection always gives one URL, whatever order the query wrote its fields in.
var kajabiCustomerFields = []string{
	"name", "email", "avatar", "external_user_id", "public_bio", "public_location", "public_website",
	"socials", "net_revenue", "sign_in_count", "last_request_at", "bounced_at", "created_at", "updated_at",
	"contact", "site", "products", "offers",
}

// selectedCustomerFields is fields[customers] for the customers field being resolved:
// what its nodes and edges.node select, so Kajabi sends (and we decode) only that. It
// reads the selection generously: fragments count whatever their type condition and
// @skip/@include are ignored, so it may ask for more than a field needs, never less. A
// field it does not know (one added to the schema later) makes it ask for everything
// (nil). When only the id is selected it asks for the smallest attribute, name: an empty
// fields[customers] means "no sparse fieldset" to JSON:API servers, the sandbox included.
func selectedCustomerFields(ctx context.Context) []string {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || !graphql.HasOperationContext(ctx) {
		return nil
	}
	doc := graphql.GetOperationContext(ctx).Doc
	want := map[string]bool{}
	complete := true
	walkFields(doc, fc.Field.Selections, func(f *ast.Field) {
		switch f.Name {
		case "nodes":
			walkFields(doc, f.SelectionSet, func(c *ast.Field) { complete = need(want, c.Name) && complete })
		case "edges":
			walkFields(doc, f.SelectionSet, func(e *ast.Field) {
				if e.Name == "node" {
					walkFields(doc, e.SelectionSet, func(c *ast.Field) { complete = need(want, c.Name) && complete })
				}
			})
		}
	})
	if !complete {
		return nil
	}
	fields := make([]string, 0, len(want))
	for _, f := range kajabiCustomerFields {
		if want[f] {
			fields = append(fields, f)
		}
	}
	if len(fields) == 0 {
		fields = append(fields, "name")
	}
	return fields
}

// need records what a Customer field reads; false for a field it does not know.
func need(want map[string]bool, field string) bool {
	fields, ok := customerFieldNeeds[field]
	for _, f := range fields {
		want[f] = true
	}
	return ok
}

// walkFields calls fn for every field of a selection set, looking through inline
// fragments and fragment spreads. Not gqlgen's CollectFields: that one drops fields by
// @skip/@include and type condition, and fields[customers] is kept generous on purpose
// (TestSparseFieldsFollowTheSelection), so one document asks Kajabi for one URL whatever
// its variables say.
func walkFields(doc *ast.QueryDocument, set ast.SelectionSet, fn func(*ast.Field)) {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			fn(s)
		case *ast.InlineFragment:
			walkFields(doc, s.SelectionSet, fn)
		case *ast.FragmentSpread:
			def := s.Definition
			if def == nil && doc != nil {
				def = doc.Fragments.ForName(s.Name)
			}
			if def != nil {
				walkFields(doc, def.SelectionSet, fn)
			}
		}
	}
}

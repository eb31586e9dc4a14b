package graph

import (
	"context"
	"fmt"
	"reflect"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/kajabi-graphql/facade/graph/loader"
	"github.com/kajabi-graphql/facade/graph/model"
	"github.com/kajabi-graphql/facade/kajabi"
)

var sortKeys = map[model.CustomerSortField]string{
	model.CustomerSortFieldName:          kajabi.SortByName,
	model.CustomerSortFieldEmail:         kajabi.SortByEmail,
	model.CustomerSortFieldCreatedAt:     kajabi.SortByCreatedAt,
	model.CustomerSortFieldNetRevenue:    kajabi.SortByNetRevenue,
	model.CustomerSortFieldLastRequestAt: kajabi.SortByLastRequestAt,
}

// customerListOptions turns the filter and sort arguments into Kajabi list options,
// refusing bad input before anything is sent. KAJABI_SITE_ID fills a missing siteId here;
// the account's only site (scopeToSite) is not part of the options' scope, so that cursors
// can be checked before any call.
func (r *Resolver) customerListOptions(filter *kajabi.CustomerFilter, sort *model.CustomerSort) (kajabi.CustomerListOptions, error) {
	var opts kajabi.CustomerListOptions
	if filter != nil {
		if err := validateFilter(filter); err != nil {
			return opts, err
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
			return opts, badInput("sort.field", "must be one of NAME, EMAIL, CREATED_AT, NET_REVENUE, LAST_REQUEST_AT")
		}
		if sort.Direction != nil && *sort.Direction == model.SortDirectionDesc {
			key = "-" + key
		}
		opts.Sort = key
	}
	return opts, nil
}

// maxListedSites bounds the site ids a refusal lists; an account has a handful.
const maxListedSites = 20

// scopeToSite fills filter[site_id] when neither the caller nor KAJABI_SITE_ID did: with
// the account's only site. Kajabi requires the filter on an account with several
// sites, so there the caller must choose, and is told which sites there are. The site
// list comes through the loader (one GET /v1/sites, shared with site look-ups and the
// cross-request cache).
func (r *Resolver) scopeToSite(ctx context.Context, f *kajabi.CustomerFilter) error {
	if f.SiteID != nil {
		return nil
	}
	sites, err := loader.For(ctx).Sites(ctx)
	if err != nil {
		return fmt.Errorf("list sites to scope customers: %w", err)
	}
	switch len(sites) {
	case 0:
		return nil // no site to choose; Kajabi asks for one only among several
	case 1:
		site := sites[0].ID
		f.SiteID = &site
		return nil
	}
	ids := make([]string, 0, min(len(sites), maxListedSites))
	for _, s := range sites[:cap(ids)] {
		ids = append(ids, s.ID)
	}
	more := ""
	if len(sites) > len(ids) {
		more = fmt.Sprintf(" and %d more", len(sites)-len(ids))
	}
	refusal := badInput("filter.siteId", "is required: this Kajabi account has %d sites (%s%s) and Kajabi lists the customers of one site at a time", len(sites), strings.Join(ids, ", "), more)
	setExtensions(refusal, "siteIds", ids)
	return refusal
}

// maxDays bounds the "in the last N days" filters: 100 years reaches before any Kajabi
// record, and Kajabi's own date arithmetic is not documented beyond that.
const maxDays = 36500

// maxDecimalDigits bounds the whole part of a money filter: Kajabi keeps net revenue in
// cents, and 13 digits before the point keep any amount exact in cents as a 64-bit integer
// and as a JavaScript number (2^53).
const maxDecimalDigits = 13

// validateFilter checks what the GraphQL types cannot say, so that every value sent is one
// Kajabi applies as written (a value it could not read might be ignored, widening the list
// to everyone, the worst answer a CRM screen can give): day counts are 0 to maxDays; money
// has at most two decimals, Kajabi's precision (cents); texts are not blank (Kajabi and
// the sandbox drop an empty filter); id lists are not empty; ids (the fields whose
// parameter ends in _id or _ids) are Kajabi ids, which also keeps an id list joinable
// with commas.
func validateFilter(f *kajabi.CustomerFilter) error {
	v := reflect.ValueOf(f).Elem()
	for i := 0; i < v.NumField(); i++ {
		field := v.Type().Field(i)
		name := filterFieldNames[i]
		switch val := v.Field(i).Interface().(type) {
		case *int:
			if val != nil && (*val < 0 || *val > maxDays) {
				return badInput(name, "must be 0 to %d (a number of days), got %d", maxDays, *val)
			}
		case *string:
			switch {
			case val == nil:
			case isIDParam(field):
				if err := checkID(name, *val); err != nil {
					return err
				}
			case strings.TrimSpace(*val) == "":
				return badInput(name, "must not be blank: Kajabi ignores an empty filter, which would list everyone")
			case strings.Contains(field.Tag.Get("url"), "net_revenue"):
				if err := checkMoney(name, *val); err != nil {
					return err
				}
			}
		case []string:
			if val != nil && len(val) == 0 {
				return badInput(name, "must hold at least one id: Kajabi ignores an empty list, which would list everyone")
			}
			for _, id := range val {
				if err := checkID(name, id); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// checkMoney refuses an amount Kajabi cannot compare exactly: more than two decimals
// ("100.005" is not a number of cents) or more digits than a cent count can hold.
// The Decimal scalar has already checked it is digits with an optional fraction.
func checkMoney(name, val string) error {
	whole, frac, _ := strings.Cut(val, ".")
	if len(frac) > 2 {
		return badInput(name, "must have at most two decimals (Kajabi counts money in cents), got %q", capEcho(val, maxEcho))
	}
	if len(strings.TrimLeft(whole, "0")) > maxDecimalDigits {
		return badInput(name, "must be below 10^%d, got %q", maxDecimalDigits, capEcho(val, maxEcho))
	}
	return nil
}

func isIDParam(f reflect.StructField) bool {
	param := strings.TrimSuffix(f.Tag.Get("url"), "]")
	return strings.HasSuffix(param, "_id") || strings.HasSuffix(param, "_ids")
}

// filterFieldNames are filterFieldName of CustomerFilter's fields, by index: worked out
// once, not for each of the 74 fields on every request.
var filterFieldNames = func() []string {
	t := reflect.TypeFor[kajabi.CustomerFilter]()
	names := make([]string, t.NumField())
	for i := range names {
		names[i] = filterFieldName(t.Field(i))
	}
	return names
}()

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

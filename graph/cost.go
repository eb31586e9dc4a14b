package graph

import (
	"math"

	"github.com/99designs/gqlgen/graphql"

	"github.com/kajabi-graphql/facade/graph/model"
	"github.com/kajabi-graphql/facade/kajabi"
)

// The cost model: what a field costs, so that page size and relations count.
const (
	costRelation    = 2   // a to-one relation: may be one Kajabi call per row
	costListFactor  = 5   // rows assumed in a relation list (a customer's products, offers)
	costCatalogRows = 100 // rows assumed in a site's product or offer list
	costSitesRows   = 10  // sites assumed in the account
)

// setCostModel sets the complexity of every field whose cost is not just 1 + its children:
//
//   - customers: 1 + page size × the children (page size is first, last, page.size or 20), so
//     the price of a selection is paid per row;
//   - a to-one relation (contact, site) and a look-up by id: 2 + the children;
//   - a relation list (Customer.products, Customer.offers, Offer.products): 2 + 5 × the
//     children;
//   - a site's products or offers: 1 + 100 × the children; sites: 1 + 10 × the children;
//   - _entities: 1 + one per representation × the children.
//
// Every other field costs 1, plus its children. The README's example query (a few fields of
// each relation per customer) costs 49 a row: 246 for its 5 customers, 4901 for 100, just
// under the default limit of 5000.
func setCostModel(c *ComplexityRoot) {
	relation := func(child int) int { return costRelation + child }
	list := func(child int) int { return costRelation + mul(costListFactor, child) }
	lookup := func(child int, _ string) int { return costRelation + child }
	catalog := func(child int, _ *string) int { return 1 + mul(costCatalogRows, child) }

	c.Query.Customers = func(child int, _ *kajabi.CustomerFilter, _ *model.CustomerSort, page *model.PageInput, first *int, _ *string, last *int, _ *string) int {
		if last != nil {
			first = last
		}
		return 1 + mul(pageSize(page, first), child)
	}
	c.Query.Customer, c.Query.Contact, c.Query.Site, c.Query.Product, c.Query.Offer = lookup, lookup, lookup, lookup, lookup
	c.Query.Products, c.Query.Offers = catalog, catalog
	c.Query.Sites = func(child int) int { return 1 + mul(costSitesRows, child) }
	c.Query.__resolve_entities = func(child int, reps []map[string]any) int { return 1 + mul(max(1, len(reps)), child) }

	c.Customer.Contact, c.Customer.Site = relation, relation
	c.Contact.Site, c.Product.Site, c.Offer.Site = relation, relation, relation
	c.Customer.Products, c.Customer.Offers, c.Offer.Products = list, list, list
}

// pageSize is the rows a customers page will hold, clamped to what the resolver accepts:
// a size out of range is the resolver's BAD_USER_INPUT to report, not a cost.
func pageSize(page *model.PageInput, first *int) int {
	n := defaultPageSize
	switch {
	case first != nil:
		n = *first
	case page != nil && page.Size != nil:
		n = *page.Size
	}
	return min(max(n, 1), maxPageSize)
}

// mul multiplies without overflowing: a cost past math.MaxInt is as refused as MaxInt.
func mul(a, b int) int {
	if a <= 0 || b <= 0 {
		return 0
	}
	if a > math.MaxInt/b {
		return math.MaxInt
	}
	return a * b
}

// NewSchema is the executable schema over r's resolvers with the cost model set, as the
// HTTP edge serves it.
func NewSchema(r *Resolver) graphql.ExecutableSchema {
	cfg := Config{Resolvers: r}
	setCostModel(&cfg.Complexity)
	return NewExecutableSchema(cfg)
}

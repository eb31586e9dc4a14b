package graph

import (
	"math"

	"github.com/vektah/gqlparser/v2/ast"

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
//   - a to-one relation (contact, site) and a look-up by id (node by global id too): 2 +
//     the children;
//   - a relation list (Customer.products, Customer.offers, Offer.products): 2 + 5 × the
//     children;
//   - a site's products or offers: 1 + 100 × the children; sites: 1 + 10 × the children;
//   - _entities: 1 + one per representation × the children;
//   - a customer's purchases, orders, transactions and a contact's notes: 2 + first × the
//     children (setHistoryCost).
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
	c.Query.Node = lookup
	c.Query.Products, c.Query.Offers = catalog, catalog
	c.Query.Sites = func(child int) int { return 1 + mul(costSitesRows, child) }
	c.Query.__resolve_entities = func(child int, reps []map[string]any) int { return 1 + mul(max(1, len(reps)), child) }

	c.Customer.Contact, c.Customer.Site = relation, relation
	c.Contact.Site, c.Product.Site, c.Offer.Site = relation, relation, relation
	c.Customer.Products, c.Customer.Offers, c.Offer.Products = list, list, list
	setHistoryCost(c, relation, list)
}

// setHistoryCost prices the Customer 360 fields. A customer's purchases, orders and
// transactions and a contact's notes are one call each per row and hold up to first
// records: 2 + first × the children, so a page of 100 customers with all of them is
// refused up front rather than half fetched. Tags come from the site's list, like offers.
// A write is a call plus the read of what it returns: 2 + the children.
func setHistoryCost(c *ComplexityRoot, relation func(int) int, list func(int) int) {
	rows := func(first *int, child int) int {
		n := defaultPageSize
		if first != nil {
			n = min(max(*first, 1), maxPageSize)
		}
		return costRelation + mul(n, child)
	}
	c.Customer.Purchases = func(child int, first *int, _ *bool) int { return rows(first, child) }
	c.Customer.Orders = func(child int, first *int) int { return rows(first, child) }
	c.Customer.Transactions = func(child int, first *int, _, _ *model.Date) int { return rows(first, child) }
	c.Contact.Notes = func(child int, first *int) int { return rows(first, child) }
	c.Contact.Tags = list
	c.Purchase.Offer, c.Purchase.Customer = relation, relation
	c.KajabiOrder.Customer, c.KajabiOrder.Site, c.Transaction.Customer = relation, relation, relation
	write := func(child int, _ string, _ []string) int { return relation(child) }
	c.Mutation.GrantOffers, c.Mutation.RevokeOffers, c.Mutation.SetOffers = write, write, write
	c.Mutation.AddContactTags, c.Mutation.RemoveContactTags = write, write
	c.Mutation.CreateContactNote = func(child int, _, _ string) int { return relation(child) }
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

// EstimateCalls is about how many Kajabi calls op will make, for admission to weigh against
// the rate budget before anything runs. It follows the loaders, not the cost model's
// worst case: per parent row, a customer's contact and its offer ids are one call each;
// sites, products and offers come from per-request (and shared) catalogs, so each such
// field counts one call for the whole query; a look-up by id is one call; a customers
// page is one call and multiplies what is under it by its rows (first, page.size or 20);
// a site's products or offers assume 100 rows, sites 10, a relation list 5. It walks each
// fragment once, so it is linear in the document. op must have passed validation.
func EstimateCalls(op *ast.OperationDefinition, vars map[string]any) int {
	e := callEstimator{vars: vars, fragments: map[string]calls{}}
	c := e.set(op.SelectionSet)
	return sum(c.perRow, c.once) // the root is one row
}

// calls is an estimate for a selection set under r parent rows: perRow·r + once.
type calls struct{ perRow, once int }

type callEstimator struct {
	vars      map[string]any
	fragments map[string]calls
}

func (e *callEstimator) set(set ast.SelectionSet) calls {
	var c calls
	for _, sel := range set {
		var s calls
		switch sel := sel.(type) {
		case *ast.Field:
			s = e.field(sel)
		case *ast.InlineFragment:
			s = e.set(sel.SelectionSet)
		case *ast.FragmentSpread:
			f, ok := e.fragments[sel.Name]
			if !ok && sel.Definition != nil {
				e.fragments[sel.Name] = calls{} // a cycle, which validation refused anyway
				f = e.set(sel.Definition.SelectionSet)
				e.fragments[sel.Name] = f
			}
			s = f
		}
		c = calls{sum(c.perRow, s.perRow), sum(c.once, s.once)}
	}
	return c
}

func (e *callEstimator) field(f *ast.Field) calls {
	ch := e.set(f.SelectionSet)
	parent := ""
	if f.ObjectDefinition != nil {
		parent = f.ObjectDefinition.Name
	}
	// rows: what one call of this field puts under it; everything under it runs per row.
	under := func(rows int) int { return sum(mul(rows, ch.perRow), ch.once) }
	switch parent + "." + f.Name {
	case "Query.customers":
		args := f.ArgumentMap(e.vars)
		first, _ := args["first"].(int64)
		var size *int
		if page, ok := args["page"].(map[string]any); ok {
			if n, ok := page["size"].(int64); ok {
				size = new(int(n))
			}
		}
		var firstP *int
		if first > 0 {
			firstP = new(int(first))
		}
		return calls{once: sum(1, under(pageSize(&model.PageInput{Size: size}, firstP)))}
	case "Query.customer", "Query.contact", "Query.site", "Query.product", "Query.offer":
		return calls{once: sum(1, under(1))}
	case "Query.products", "Query.offers":
		return calls{once: sum(1, under(costCatalogRows))}
	case "Query.sites":
		return calls{once: sum(1, under(costSitesRows))}
	case "Query._entities":
		reps, _ := f.ArgumentMap(e.vars)["representations"].([]any)
		return calls{once: mul(max(1, len(reps)), sum(1, under(1)))}
	case "Customer.contact":
		return calls{perRow: sum(1, ch.perRow), once: ch.once}
	case "Customer.offers":
		return calls{perRow: sum(1, mul(costListFactor, ch.perRow)), once: ch.once}
	case "Customer.products", "Offer.products":
		return calls{perRow: mul(costListFactor, ch.perRow), once: sum(1, ch.once)}
	case "Customer.site", "Contact.site", "Product.site", "Offer.site":
		return calls{perRow: ch.perRow, once: sum(1, ch.once)}
	}
	return ch // connections, edges, nodes and scalars: what is under them
}

// sum adds without overflowing, as mul multiplies.
func sum(a, b int) int {
	if a > math.MaxInt-b {
		return math.MaxInt
	}
	return a + b
}

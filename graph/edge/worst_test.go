package edge_test

import (
	"fmt"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/kajabi-graphql/facade/graph/edge"
)

// worstDocument is a shape of document that makes gqlparser's OverlappingFieldsCanBeMerged
// rule quadratic, grown to the largest size the default limits let through to parsing.
type worstDocument struct {
	name  string
	query string
	// admitted is true for a shape kept within the default MaxRepeats: the most the limit
	// leaves the rule to do.
	admitted bool
}

// worstDocuments are the shapes the repeats limit is for: each fits MAX_QUERY_BYTES and
// MAX_TOKENS and, without that limit, passes parsing to cost validation its most.
func worstDocuments() []worstDocument {
	rep := func(unit string, n int) string { return strings.Repeat(unit, n) }
	numbered := func(format string, n int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, format, i)
		}
		return b.String()
	}
	// nested is n fields of one name each holding n more, depth deep.
	nested := func(n, depth int) string {
		inner := rep(" name", n)
		for range depth {
			inner = rep(" ofType {"+inner+" }", n)
		}
		return `{ __type(name: "Query") {` + inner + " } }"
	}
	// groups is n groups of the repeats limit's size, each a response name of its own.
	r := edge.DefaultRequestLimits.MaxRepeats
	groups := func(n int, fields ...string) string {
		var b strings.Builder
		for i := range n {
			for j := range r {
				fmt.Fprintf(&b, " a%d: %s", i, fields[j%len(fields)])
			}
		}
		return b.String()
	}
	shapes := []struct {
		name     string
		grow     func(n int) string
		admitted bool
	}{
		{"same field", func(n int) string { return "{ customers(first: 1) { nodes {" + rep(" id", n) + " } } }" }, false},
		{"same field at the top", func(n int) string { return "{" + rep(" __typename", n) + " }" }, false},
		{"conflicting aliases", func(n int) string { return "{ customers(first: 1) { nodes {" + rep(" x: id x: name", n) + " } } }" }, false},
		{"differing arguments", func(n int) string { return "{" + numbered(` customer(id: "%d") { id }`, n) + " }" }, false},
		{"same arguments", func(n int) string { return "{" + rep(" customers(first: 1) { totalCount }", n) + " }" }, false},
		{"inline fragments", func(n int) string { return "{" + rep(" ... on Query { __typename }", n) + " }" }, false},
		{"same spread", func(n int) string { return "{" + rep(" ...F", n) + " } fragment F on Query { __typename }" }, false},
		{"alternating spreads", func(n int) string {
			return "{" + rep(" ...A ...B", n) + " } fragment A on Query { __typename } fragment B on Query { sites { id } }"
		}, false},
		{"distinct fragments", func(n int) string {
			return "{" + numbered(" ...F%d", n) + " }" + numbered(" fragment F%d on Query { __typename }", n)
		}, false},
		{"spreads in repeated fields", func(n int) string {
			return "{ customers(first: 1) { nodes {" + rep(" offers { ...A ...B ...C ...D }", n) + " } } }" +
				" fragment A on Offer { id } fragment B on Offer { title } fragment C on Offer { free } fragment D on Offer { currency }"
		}, false},
		{"nested pairs", func(n int) string { return nested(2, n) }, false},
		{"nested triples", func(n int) string { return nested(3, n) }, false},
		{"groups at the limit", func(n int) string { return "{ customers(first: 1) { nodes {" + groups(n, "id") + " } } }" }, true},
		{"conflicting groups", func(n int) string {
			return "{ customers(first: 1) { nodes {" + groups(n, "id", "name") + " } } }"
		}, false},
		{"spread groups at the limit", func(n int) string {
			return "{" + groups(n, "customers(first: 1) { nodes { ...A ...B } }", "customers(first: 1) { nodes { id } }") + " }" +
				" fragment A on Customer { id offers { id } } fragment B on Customer { name offers { title } }"
		}, true},
	}
	limits := edge.DefaultRequestLimits
	// The benchmark puts a comment of its own in front; the parser decides what fits.
	fits := func(q string) bool {
		q = "#1000000\n" + q
		_, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: q}, limits.MaxTokens)
		return len(q) <= limits.MaxQueryBytes && err == nil
	}
	docs := []worstDocument{{"1,985 ids (the issue's)", "{ customers(first:1){ nodes {" + rep(" id", 1985) + " } } }", false}}
	for _, s := range shapes {
		// The largest n that fits, by bisection: every shape grows with n.
		lo, hi := 1, 2
		for fits(s.grow(hi)) {
			lo, hi = hi, hi*2
		}
		for hi-lo > 1 {
			if mid := (lo + hi) / 2; fits(s.grow(mid)) {
				lo = mid
			} else {
				hi = mid
			}
		}
		n := lo
		docs = append(docs, worstDocument{fmt.Sprintf("%s ×%d", s.name, n), s.grow(n), s.admitted})
	}
	return docs
}

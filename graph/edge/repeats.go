package edge

import (
	"fmt"
	"slices"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/kajabi-graphql/facade/graph"
)

// Why this measure runs before validation: gqlparser's OverlappingFieldsCanBeMerged rule
// compares every pair of fields that share a response name at one place of the result,
// recursing into their selections, and every pair of fragment spreads there. Its work is
// quadratic in those repeats: `{ customers(first: 1) { nodes { id id … } } }` with 1,985
// ids fits every other limit and costs a quarter of a second to a second of CPU, and
// fields of one name that conflict make one error each pair. gqlgen parses and validates
// in one step, so the repeats are counted here, on a parse of our own, and a document
// with too many is refused before the rule sees it. With at most MaxRepeats of each at
// each place, the rule's comparisons are at most MaxRepeats/2 per field and per spread.

// maxExpandedFields bounds the fields the measure visits with fragments expanded (each
// fragment once per place). It keeps the measure itself linear: a document that spreads
// fragments into ever more places is refused as too complex, which its cost would be.
const maxExpandedFields = 20000

// repeatsMeasurer walks a document as the executor merges it: at each place of the
// result, the fields of every selection set found there (inline fragments and each
// fragment spread, once per name, included) are grouped by response name; the fields of
// one group merge, so their selections make up the next place below.
type repeatsMeasurer struct {
	doc    *ast.QueryDocument
	limit  int
	visits int
	// inOperation is set while operations are measured; used are the fragments expanded
	// there: the rule compares their fields there, so only the others are measured again
	// on their own.
	inOperation bool
	used        map[string]bool
	// differing counts the pairs of fields that share a response name at a place but not
	// their field or arguments: the rule reports each such pair as an error of its own,
	// and building and sending thousands of them costs far more than comparing.
	differing int
}

// within is the chain of fragments whose text a selection set lies in. A spread of one of
// them is a cycle, which validation refuses; the measure skips it so that it ends.
type within struct {
	name string
	up   *within
}

func (w *within) has(name string) bool {
	for ; w != nil; w = w.up {
		if w.name == name {
			return true
		}
	}
	return false
}

// located is a selection set with the fragments it lies in.
type located struct {
	set ast.SelectionSet
	in  *within
}

// checkRepeats refuses doc when a place of its result has more than limit fields of one
// response name or more than limit fragment spreads, or when expanding its fragments
// visits more than maxExpandedFields fields. Every operation and every fragment
// definition is measured, as validation checks them all, whichever operation runs.
func checkRepeats(doc *ast.QueryDocument, limit int) *gqlerror.Error {
	m := &repeatsMeasurer{doc: doc, limit: limit, used: map[string]bool{}, inOperation: true}
	for _, op := range doc.Operations {
		if err := m.place("", []located{{set: op.SelectionSet}}); err != nil {
			return err
		}
	}
	m.inOperation = false
	for _, f := range doc.Fragments {
		if m.used[f.Name] {
			continue
		}
		if err := m.place("fragment "+f.Name, []located{{set: f.SelectionSet, in: &within{name: f.Name}}}); err != nil {
			return err
		}
	}
	return nil
}

// field is a field found at a place, with the fragments it lies in.
type field struct {
	*ast.Field
	in *within
}

func (m *repeatsMeasurer) place(path string, sets []located) *gqlerror.Error {
	var (
		names    []string // in the order first found, for a stable walk
		fields   = map[string][]field{}
		spreads  int
		expanded = map[string]bool{}
	)
	// spreads counts the fragment spreads written in one selection set (inline fragments
	// included): the rule compares each pair of them, and each pair of the spreads written
	// in two selection sets that merge, so those of a place's own sets are counted
	// together, and those of an expanded fragment on their own.
	var collect func(set ast.SelectionSet, in *within, spreads *int) *gqlerror.Error
	collect = func(set ast.SelectionSet, in *within, spreads *int) *gqlerror.Error {
		for _, sel := range set {
			switch s := sel.(type) {
			case *ast.Field:
				if m.visits++; m.visits > maxExpandedFields {
					return limitError(graph.CodeQueryTooComplex, m.visits, maxExpandedFields,
						"the document's fields, fragments expanded at each place they are spread, number over %d", maxExpandedFields)
				}
				name := s.Alias
				if name == "" {
					name = s.Name
				}
				if _, ok := fields[name]; !ok {
					names = append(names, name)
				}
				fields[name] = append(fields[name], field{s, in})
				if n := len(fields[name]); n > m.limit {
					return limitError(graph.CodeTooManyRepeats, n, m.limit,
						"%s is asked for more than %d times at %s: ask for each field once, or give the repeats different aliases",
						name, m.limit, placeName(path))
				}
			case *ast.InlineFragment:
				if err := collect(s.SelectionSet, in, spreads); err != nil {
					return err
				}
			case *ast.FragmentSpread:
				if *spreads++; *spreads > m.limit {
					return limitError(graph.CodeTooManyRepeats, *spreads, m.limit,
						"more than %d fragments are spread at %s: spread each fragment once", m.limit, placeName(path))
				}
				if expanded[s.Name] || in.has(s.Name) {
					continue
				}
				expanded[s.Name] = true
				if m.inOperation {
					m.used[s.Name] = true
				}
				if def := m.doc.Fragments.ForName(s.Name); def != nil {
					var own int
					if err := collect(def.SelectionSet, &within{name: s.Name, up: in}, &own); err != nil {
						return err
					}
				}
			}
		}
		return nil
	}
	for _, l := range sets {
		if err := collect(l.set, l.in, &spreads); err != nil {
			return err
		}
	}
	for _, name := range names {
		if err := m.differ(path, name, fields[name]); err != nil {
			return err
		}
		var below []located
		for _, f := range fields[name] {
			if len(f.SelectionSet) > 0 {
				below = append(below, located{f.SelectionSet, f.in})
			}
		}
		if len(below) == 0 {
			continue
		}
		if err := m.place(joinPath(path, name), below); err != nil {
			return err
		}
	}
	return nil
}

// differ counts the pairs of fields of one response name that differ, as the rule would
// find them when both fields can apply to the same object. Which can is a question of
// types, which this measure does not know, so it counts every such pair: only a document
// that asks two different things under one name has any.
func (m *repeatsMeasurer) differ(path, name string, fields []field) *gqlerror.Error {
	if len(fields) < 2 {
		return nil
	}
	variants := map[string]int{}
	for _, f := range fields {
		variants[signature(f.Field)]++
	}
	if len(variants) < 2 {
		return nil
	}
	pairs := len(fields) * len(fields)
	for _, n := range variants {
		pairs -= n * n
	}
	m.differing = add(m.differing, pairs/2)
	if m.differing > m.limit {
		return limitError(graph.CodeTooManyRepeats, m.differing, m.limit,
			"%s at %s stands for fields that differ in name or arguments, with over %d such pairs in the document: give each a different alias",
			name, placeName(path), m.limit)
	}
	return nil
}

// signature is what two fields of one response name must share to merge: the field and
// its arguments, in any order.
func signature(f *ast.Field) string {
	if len(f.Arguments) == 0 {
		return f.Name
	}
	args := make([]string, len(f.Arguments))
	for i, a := range f.Arguments {
		args[i] = a.Name + ":" + a.Value.String()
	}
	slices.Sort(args)
	return f.Name + "(" + strings.Join(args, ",") + ")"
}

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func placeName(path string) string {
	if path == "" {
		return "the top of the operation"
	}
	return fmt.Sprintf("%q", path)
}

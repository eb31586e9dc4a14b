package edge

import (
	"context"
	"fmt"
	"math"
	"strings"

	"github.com/99designs/gqlgen/complexity"
	"github.com/99designs/gqlgen/graphql"
	"github.com/rs/zerolog"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/kajabi-graphql/facade/graph"
)

// RequestLimits bound what one GraphQL request may ask for (kajabi.Limits, by contrast,
// bound what the service asks of Kajabi). All are checked after the document parses and
// validates and before anything runs, so a refused request costs Kajabi nothing. A zero
// field turns its limit off.
type RequestLimits struct {
	// MaxQueryBytes bounds the length of the query text (GraphQL Armor's character limit).
	MaxQueryBytes int
	// MaxTokens bounds the lexical tokens of the document; the parser stops at the limit.
	MaxTokens int
	// MaxDepth bounds how deeply fields nest, fragments expanded; introspection fields
	// (__schema, __type, _service) are not counted: gqlparser's own depth rule applies.
	MaxDepth int
	// MaxAliases bounds the aliases of the operation and the fragments it uses, as written.
	MaxAliases int
	// MaxDirectives bounds the directive uses of the operation and its fragments, as written.
	MaxDirectives int
	// MaxStringBytes bounds any one string in the arguments, literal or variable; longer
	// strings are refused as BAD_USER_INPUT before they reach a Kajabi URL.
	MaxStringBytes int
	// MaxComplexity bounds the operation's cost (see graph.NewSchema for the cost model).
	MaxComplexity int
	// MaxRepeats bounds, at each place of the result (inline fragments and fragment
	// spreads merged there as the executor merges them), the fields sharing one response
	// name and the fragment spreads. Unlike the others it is checked before validation,
	// whose overlapping-fields rule is quadratic in these repeats (see repeats.go).
	MaxRepeats int
}

// DefaultRequestLimits are generous for every query the schema is meant for (the deepest
// useful one, customers → edges → node → offers → products → site → title, is 7 deep) and
// tight for abuse. GraphQL Armor's defaults are the floor they were chosen from.
var DefaultRequestLimits = RequestLimits{
	MaxQueryBytes:  15000,
	MaxTokens:      2000,
	MaxDepth:       10,
	MaxAliases:     30,
	MaxDirectives:  20,
	MaxStringBytes: 1024,
	MaxComplexity:  5000,
	MaxRepeats:     64,
}

// add adds without overflowing: a count past math.MaxInt is as refused as MaxInt.
func add(a, b int) int {
	if a > math.MaxInt-b {
		return math.MaxInt
	}
	return a + b
}

// limitsExtension enforces RequestLimits (but MaxTokens, which is the parser's), the
// operation allow-list and disabled introspection, in gqlgen's two hooks before execution.
type limitsExtension struct {
	limits        RequestLimits
	introspection bool
	allowlist     *OperationAllowlist
	es            graphql.ExecutableSchema
	// queries is gqlgen's cache of parsed, valid documents: a query found there passed
	// checkRepeats when it was added, so it is not parsed again to be measured.
	queries graphql.Cache[*ast.QueryDocument]
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
	graphql.OperationContextMutator
} = &limitsExtension{}

func (*limitsExtension) ExtensionName() string { return "Limits" }

func (l *limitsExtension) Validate(es graphql.ExecutableSchema) error {
	l.es = es
	return nil
}

// MutateOperationParameters refuses an oversized query before it is parsed, and one whose
// repeats would make validation quadratic before it is validated. It runs after the
// persisted-query extension, so a query looked up by hash is measured too.
func (l *limitsExtension) MutateOperationParameters(ctx context.Context, p *graphql.RawParams) *gqlerror.Error {
	if limit := l.limits.MaxQueryBytes; limit > 0 && len(p.Query) > limit {
		return limitError(graph.CodeQueryTooLarge, len(p.Query), limit,
			"the query is %d bytes long, over the limit of %d", len(p.Query), limit)
	}
	if l.limits.MaxRepeats <= 0 || p.Query == "" {
		return nil
	}
	if l.queries != nil {
		if _, ok := l.queries.Get(ctx, p.Query); ok {
			return nil
		}
	}
	// The parse is linear and bounded by MaxTokens; a document that does not parse is
	// left to gqlgen, which reports why.
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: p.Query}, l.limits.MaxTokens)
	if err != nil {
		return nil
	}
	return checkRepeats(doc, l.limits.MaxRepeats)
}

// MutateOperationContext checks the parsed, valid operation against the limits.
func (l *limitsExtension) MutateOperationContext(ctx context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	op := opCtx.Operation
	m := measure(opCtx.Doc, op)
	if l.allowlist != nil && !l.allowlist.allows(opCtx.Doc, op, m.used, l.introspection) {
		name := op.Name
		if name == "" {
			name = "(anonymous)"
		}
		return &gqlerror.Error{
			Message:    fmt.Sprintf("operation %s is not on this service's list of allowed operations", name),
			Extensions: map[string]any{"code": graph.CodeOperationNotAllowed},
		}
	}
	if m.introspection && !l.introspection {
		return &gqlerror.Error{
			Message:    "introspection is disabled on this service: __schema, __type and _service cannot be queried",
			Extensions: map[string]any{"code": graph.CodeIntrospectionDisabled},
		}
	}
	lim := l.limits
	if lim.MaxDepth > 0 && m.depth > lim.MaxDepth {
		return limitError(graph.CodeQueryTooDeep, m.depth, lim.MaxDepth, "the query nests %d fields deep, over the limit of %d", m.depth, lim.MaxDepth)
	}
	if lim.MaxAliases > 0 && m.aliases > lim.MaxAliases {
		return limitError(graph.CodeTooManyAliases, m.aliases, lim.MaxAliases, "the query has %d aliases, over the limit of %d", m.aliases, lim.MaxAliases)
	}
	if lim.MaxDirectives > 0 && m.directives > lim.MaxDirectives {
		return limitError(graph.CodeTooManyDirectives, m.directives, lim.MaxDirectives, "the query uses %d directives, over the limit of %d", m.directives, lim.MaxDirectives)
	}
	if err := checkStrings(m.literals, opCtx.Variables, lim.MaxStringBytes); err != nil {
		return err
	}
	if lim.MaxComplexity > 0 {
		// Every field costs at least 1, so a document whose expansion has more fields than
		// the limit is refused before complexity.Calculate, which expands every fragment
		// spread, is asked to walk it.
		cost := m.fields
		if cost <= lim.MaxComplexity {
			cost = complexity.Calculate(ctx, l.es, op, opCtx.Variables)
		}
		if cost > lim.MaxComplexity {
			return limitError(graph.CodeQueryTooComplex, cost, lim.MaxComplexity,
				"the query costs %d, over the limit of %d: ask for fewer rows (first, page.size) or fewer relations", cost, lim.MaxComplexity)
		}
		zerolog.Ctx(ctx).UpdateContext(func(c zerolog.Context) zerolog.Context { return c.Int("cost", cost) })
	}
	return nil
}

func limitError(code string, actual, limit int, format string, args ...any) *gqlerror.Error {
	return &gqlerror.Error{
		Message:    fmt.Sprintf(format, args...),
		Extensions: map[string]any{"code": code, "limit": limit, "actual": actual},
	}
}

// shape is what measure finds in an operation.
type shape struct {
	depth, aliases, directives int
	// fields is how many fields a naive expansion of every fragment spread visits,
	// __schema's subtree left out as complexity.Calculate leaves it out.
	fields        int
	introspection bool
	literals      []literal
	// used are the fragment definitions the operation reaches, each once, in the order found.
	used []*ast.FragmentDefinition
}

// literal is a string value written in the document, with the argument path it sits at.
type literal struct {
	path, value string
}

// fragmentShape is a fragment's own depth and expanded size, the same wherever it is spread.
type fragmentShape struct {
	depth, fields int
	introspection bool
}

type measurer struct {
	doc       *ast.QueryDocument
	fragments map[string]*fragmentShape
	shape
}

// measure walks op and the fragments it reaches once each (memoized), so a document that
// spreads fragments exponentially is measured in linear time.
func measure(doc *ast.QueryDocument, op *ast.OperationDefinition) shape {
	m := &measurer{doc: doc, fragments: map[string]*fragmentShape{}}
	m.directives += len(op.Directives)
	m.directiveValues(op.Directives)
	for _, v := range op.VariableDefinitions {
		m.directives += len(v.Directives)
	}
	m.depth, m.fields, m.introspection = m.selectionSet(op.SelectionSet)
	return m.shape
}

func (m *measurer) selectionSet(set ast.SelectionSet) (depth, fields int, introspection bool) {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			m.directives += len(s.Directives)
			m.directiveValues(s.Directives)
			if s.Alias != "" && s.Alias != s.Name {
				m.aliases++
			}
			for _, a := range s.Arguments {
				m.value(a.Name, a.Value)
			}
			d, n, in := m.selectionSet(s.SelectionSet)
			switch s.Name {
			case "__schema":
				introspection = true
				fields = add(fields, 1)
			case "__type", "_service": // _service { sdl } is the schema too, for gateways
				introspection = true
				fields = add(fields, add(1, n))
			default:
				depth = max(depth, 1+d)
				fields = add(fields, add(1, n))
				introspection = introspection || in
			}
		case *ast.InlineFragment:
			m.directives += len(s.Directives)
			m.directiveValues(s.Directives)
			d, n, in := m.selectionSet(s.SelectionSet)
			depth, fields, introspection = max(depth, d), add(fields, n), introspection || in
		case *ast.FragmentSpread:
			m.directives += len(s.Directives)
			m.directiveValues(s.Directives)
			f := m.fragment(s.Name)
			depth, fields, introspection = max(depth, f.depth), add(fields, f.fields), introspection || f.introspection
		}
	}
	return depth, fields, introspection
}

func (m *measurer) fragment(name string) fragmentShape {
	if f, ok := m.fragments[name]; ok {
		return *f // measured, or being measured (a cycle, which validation refused anyway)
	}
	f := &fragmentShape{}
	m.fragments[name] = f
	def := m.doc.Fragments.ForName(name)
	if def == nil {
		return *f
	}
	m.used = append(m.used, def)
	m.directives += len(def.Directives)
	m.directiveValues(def.Directives)
	f.depth, f.fields, f.introspection = m.selectionSet(def.SelectionSet)
	return *f
}

func (m *measurer) directiveValues(dirs ast.DirectiveList) {
	for _, d := range dirs {
		for _, a := range d.Arguments {
			m.value("@"+d.Name+"."+a.Name, a.Value)
		}
	}
}

// value collects the string literals of an argument value.
func (m *measurer) value(path string, v *ast.Value) {
	if v == nil {
		return
	}
	switch v.Kind {
	case ast.StringValue, ast.BlockValue:
		m.literals = append(m.literals, literal{path: path, value: v.Raw})
	case ast.ListValue:
		for i, c := range v.Children {
			m.value(fmt.Sprintf("%s[%d]", path, i), c.Value)
		}
	case ast.ObjectValue:
		for _, c := range v.Children {
			m.value(path+"."+c.Name, c.Value)
		}
	}
}

// checkStrings refuses a string argument that is over max bytes or holds a NUL character,
// which no Kajabi id, email or search needs and which would otherwise be sent in a URL.
func checkStrings(literals []literal, vars map[string]any, limit int) *gqlerror.Error {
	for _, l := range literals {
		if err := checkString(l.path, l.value, limit); err != nil {
			return err
		}
	}
	for name, v := range vars {
		if err := walkStrings("$"+name, v, limit); err != nil {
			return err
		}
	}
	return nil
}

func walkStrings(path string, v any, limit int) *gqlerror.Error {
	switch v := v.(type) {
	case string:
		return checkString(path, v, limit)
	case []any:
		for i, e := range v {
			if err := walkStrings(fmt.Sprintf("%s[%d]", path, i), e, limit); err != nil {
				return err
			}
		}
	case map[string]any:
		for k, e := range v {
			if err := walkStrings(path+"."+k, e, limit); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkString(path, s string, limit int) *gqlerror.Error {
	switch {
	case limit > 0 && len(s) > limit:
		return &gqlerror.Error{
			Message:    fmt.Sprintf("%s is a string of %d bytes, over the limit of %d", path, len(s), limit),
			Extensions: map[string]any{"code": graph.CodeBadUserInput, "field": path, "limit": limit},
		}
	case strings.IndexByte(s, 0) >= 0:
		return &gqlerror.Error{
			Message:    path + " contains a NUL character",
			Extensions: map[string]any{"code": graph.CodeBadUserInput, "field": path},
		}
	}
	return nil
}

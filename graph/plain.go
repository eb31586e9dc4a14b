package graph

import (
	"context"
	"io"
	"strconv"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/kajabi-graphql/facade/kajabi"
)

// PlainFields is a field middleware (install it with the handler's AroundFields) that
// writes a Kajabi record, or a list of them, straight to the response when the selection
// asks only for fields read off the record (id, name, email, dates...). gqlgen resolves
// each such field through its own field context, context value, closures and boxed result,
// and marshals each list element in a goroutine: for a page of 20 customers with 8 fields
// that was about 60% of the request's allocations and a quarter of its CPU, for values that
// cannot fail. Anything else in the selection (a relation, a @defer, a directive other than
// @skip/@include, a null where the schema says non-null) leaves the value to gqlgen, so
// answers and errors are the same either way; TestPlainFieldsAnswerAsGqlgen holds them
// byte for byte.
//
// A customer's contact, site and products are written the same way when what they select
// is plain: the middleware starts every row's loads, then waits for them in row order, so a
// page's relations share their batches as gqlgen's goroutines would (three a row, and one
// for each row of the list) without those goroutines.
func PlainFields(ctx context.Context, next graphql.Resolver) (any, error) {
	res, err := next(ctx)
	if err != nil {
		return res, err
	}
	switch v := res.(type) {
	case []*kajabi.Customer:
		return plainList(ctx, res, v, &plainCustomer), nil
	case *kajabi.Customer:
		return plainOne(ctx, res, v, &plainCustomer), nil
	case *kajabi.Contact:
		return plainOne(ctx, res, v, &plainContact), nil
	case *kajabi.Site:
		return plainOne(ctx, res, v, &plainSite), nil
	case []*kajabi.Product:
		return plainList(ctx, res, v, &plainProduct), nil
	case *kajabi.Product:
		return plainOne(ctx, res, v, &plainProduct), nil
	}
	return res, nil
}

// plainType is a GraphQL object type bound to a Kajabi record, and its fields that are
// read off the record, each writing its value as the generated marshaller of its scalar
// would. None of them can be null where the schema says non-null: those are values in the
// record, not pointers.
type plainType[T any] struct {
	name         string
	implementors []string
	fields       map[string]func([]byte, *T) []byte
	relations    map[string]relation[T]
}

// relation is a field of T that names another record, which PlainFields loads itself when
// sel, what the field selects of that record, is plain: ok is false otherwise. start begins
// loading the records of every row at once and returns how to wait for one row's.
type relation[T any] func(opCtx *graphql.OperationContext, sel ast.SelectionSet) (start func(ctx context.Context, rows []*T) func(row int) related, ok bool)

// related is a relation of one row, loaded: how to write it (nil writes null), the error
// its resolver would have returned, the errors of records a list left out, and odd when a
// record is missing where the schema forbids a null, which only gqlgen answers right.
type related struct {
	write   func([]byte) []byte
	failed  error
	dropped []error
	odd     bool
}

// toOne is a nullable relation to one record of type R; load starts loading every row's
// (nil, and no error, for a row without one) and returns how to wait for them.
func toOne[T, R any](rt *plainType[R], load func(ctx context.Context, rows []*T) func() ([]*R, []error)) relation[T] {
	return relationVia(rt, load, func(w *plainWriter[R], records []*R, errs []error, row int) related {
		if err := errs[row]; err != nil || records[row] == nil {
			return related{failed: err}
		}
		v := records[row]
		return related{write: func(b []byte) []byte { return w.appendObject(b, v) }}
	})
}

// toMany is a relation to a list of records of type R that leaves out the ones that failed
// to load, each reported as an error at the field (see loaded); load returns each row's
// records and their errors.
func toMany[T, R any](rt *plainType[R], load func(ctx context.Context, rows []*T) func() ([][]*R, [][]error)) relation[T] {
	return relationVia(rt, load, func(w *plainWriter[R], all [][]*R, allErrs [][]error, row int) related {
		records, errs := all[row], allErrs[row]
		kept := make([]*R, 0, len(records))
		var dropped []error
		for i, rec := range records {
			switch {
			case errs[i] != nil:
				dropped = append(dropped, errs[i])
			case rec == nil:
				return related{odd: true}
			default:
				kept = append(kept, rec)
			}
		}
		return related{dropped: dropped, write: func(b []byte) []byte { return w.appendList(b, kept) }}
	})
}

// relationVia is a relation to records of type R written with rt's fields: load starts
// loading every row's at once, and pick tells one row's apart once they have loaded.
func relationVia[T, R, V, E any](rt *plainType[R], load func(context.Context, []*T) func() (V, E),
	pick func(w *plainWriter[R], v V, e E, row int) related) relation[T] {
	return func(opCtx *graphql.OperationContext, sel ast.SelectionSet) (func(context.Context, []*T) func(int) related, bool) {
		w, ok := rt.writer(opCtx, sel)
		if !ok {
			return nil, false
		}
		return func(ctx context.Context, rows []*T) func(int) related {
			wait := once(load(ctx, rows))
			return func(row int) related {
				v, e := wait()
				return pick(w, v, e, row)
			}
		}, true
	}
}

// once is wait, waited for on the first call and remembered for the others.
func once[A, B any](wait func() (A, B)) func() (A, B) {
	var (
		a    A
		b    B
		done bool
	)
	return func() (A, B) {
		if !done {
			a, b = wait()
			done = true
		}
		return a, b
	}
}

func plainList[T any](ctx context.Context, res any, v []*T, t *plainType[T]) any {
	if v == nil {
		return res
	}
	for _, r := range v {
		if r == nil {
			return res
		}
	}
	w, ok := t.selection(ctx, true)
	if !ok {
		return res
	}
	w.list = v
	if w.relations > 0 && !w.load(ctx, v, true) {
		return res
	}
	return w
}

func plainOne[T any](ctx context.Context, res any, v *T, t *plainType[T]) any {
	if v == nil {
		return res
	}
	w, ok := t.selection(ctx, false)
	if !ok {
		return res
	}
	w.one = v
	if w.relations > 0 && !w.load(ctx, []*T{v}, false) {
		return res
	}
	return w
}

// selection reads the field's selection of t; ok is false when any of it needs gqlgen.
func (t *plainType[T]) selection(ctx context.Context, list bool) (*plainWriter[T], bool) {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || fc.Field.Field == nil || fc.Field.Definition == nil {
		return nil, false
	}
	typ := fc.Field.Definition.Type
	if list {
		if typ.Elem == nil || !typ.Elem.NonNull {
			return nil, false
		}
		typ = typ.Elem
	}
	if typ.NamedType != t.name {
		return nil, false
	}
	return t.writer(graphql.GetOperationContext(ctx), fc.Field.Selections)
}

// writer is how to write sel of t; ok is false when any of it needs gqlgen.
func (t *plainType[T]) writer(opCtx *graphql.OperationContext, sel ast.SelectionSet) (*plainWriter[T], bool) {
	fields := graphql.CollectFields(opCtx, sel, t.implementors)
	w := &plainWriter[T]{name: t.name, fields: make([]plainField[T], 0, len(fields))}
	for _, f := range fields {
		if len(f.Deferrables) > 0 || len(f.Arguments) > 0 || !onlySkipInclude(f.Directives) {
			return nil, false
		}
		pf := plainField[T]{key: appendQuoted(nil, f.Alias)}
		if write, ok := t.fields[f.Name]; ok {
			pf.write = write
		} else if rel, ok := t.relations[f.Name]; ok {
			if pf.start, ok = rel(opCtx, f.Selections); !ok {
				return nil, false
			}
			pf.field = f
			w.relations++
		} else {
			return nil, false
		}
		w.fields = append(w.fields, pf)
	}
	return w, true
}

func onlySkipInclude(ds ast.DirectiveList) bool {
	for _, d := range ds {
		if d.Name != "skip" && d.Name != "include" {
			return false
		}
	}
	return true
}

var plainCustomer = plainType[kajabi.Customer]{
	name:         "Customer",
	implementors: customerImplementors,
	fields: map[string]func([]byte, *kajabi.Customer) []byte{
		"__typename":     func(b []byte, _ *kajabi.Customer) []byte { return append(b, `"Customer"`...) },
		"id":             func(b []byte, c *kajabi.Customer) []byte { return appendQuoted(b, c.ID) },
		"name":           func(b []byte, c *kajabi.Customer) []byte { return appendQuoted(b, c.Name) },
		"email":          func(b []byte, c *kajabi.Customer) []byte { return appendQuoted(b, c.Email) },
		"avatar":         func(b []byte, c *kajabi.Customer) []byte { return appendOptional(b, c.Avatar) },
		"externalUserId": func(b []byte, c *kajabi.Customer) []byte { return appendOptional(b, c.ExternalUserID) },
		"publicBio":      func(b []byte, c *kajabi.Customer) []byte { return appendOptional(b, c.PublicBio) },
		"publicLocation": func(b []byte, c *kajabi.Customer) []byte { return appendOptional(b, c.PublicLocation) },
		"publicWebsite":  func(b []byte, c *kajabi.Customer) []byte { return appendOptional(b, c.PublicWebsite) },
		"netRevenue":     func(b []byte, c *kajabi.Customer) []byte { return appendOptional(b, c.NetRevenue) },
		"signInCount":    func(b []byte, c *kajabi.Customer) []byte { return appendOptionalInt(b, c.SignInCount) },
		"lastRequestAt":  func(b []byte, c *kajabi.Customer) []byte { return appendOptionalTime(b, c.LastRequestAt) },
		"bouncedAt":      func(b []byte, c *kajabi.Customer) []byte { return appendOptionalTime(b, c.BouncedAt) },
		"createdAt":      func(b []byte, c *kajabi.Customer) []byte { return appendTime(b, c.CreatedAt) },
		"updatedAt":      func(b []byte, c *kajabi.Customer) []byte { return appendTime(b, c.UpdatedAt) },
	},
	relations: map[string]relation[kajabi.Customer]{
		"contact":  toOne(&plainContact, contactsNow),
		"site":     toOne(&plainSite, sitesNow),
		"products": toMany(&plainProduct, productsNow),
	},
}

var plainContact = plainType[kajabi.Contact]{
	name:         "Contact",
	implementors: contactImplementors,
	fields: map[string]func([]byte, *kajabi.Contact) []byte{
		"__typename":     func(b []byte, _ *kajabi.Contact) []byte { return append(b, `"Contact"`...) },
		"id":             func(b []byte, c *kajabi.Contact) []byte { return appendQuoted(b, c.ID) },
		"name":           func(b []byte, c *kajabi.Contact) []byte { return appendQuoted(b, c.Name) },
		"email":          func(b []byte, c *kajabi.Contact) []byte { return appendQuoted(b, c.Email) },
		"phoneNumber":    func(b []byte, c *kajabi.Contact) []byte { return appendOptional(b, c.PhoneNumber) },
		"businessNumber": func(b []byte, c *kajabi.Contact) []byte { return appendOptional(b, c.BusinessNumber) },
		"subscribed":     func(b []byte, c *kajabi.Contact) []byte { return strconv.AppendBool(b, c.Subscribed) },
		"addressLine1":   func(b []byte, c *kajabi.Contact) []byte { return appendOptional(b, c.AddressLine1) },
		"addressLine2":   func(b []byte, c *kajabi.Contact) []byte { return appendOptional(b, c.AddressLine2) },
		"addressCity":    func(b []byte, c *kajabi.Contact) []byte { return appendOptional(b, c.AddressCity) },
		"addressState":   func(b []byte, c *kajabi.Contact) []byte { return appendOptional(b, c.AddressState) },
		"addressCountry": func(b []byte, c *kajabi.Contact) []byte { return appendOptional(b, c.AddressCountry) },
		"addressZip":     func(b []byte, c *kajabi.Contact) []byte { return appendOptional(b, c.AddressZip) },
		"externalUserId": func(b []byte, c *kajabi.Contact) []byte { return appendOptional(b, c.ExternalUserID) },
		"custom1":        func(b []byte, c *kajabi.Contact) []byte { return appendOptional(b, c.Custom1) },
		"custom2":        func(b []byte, c *kajabi.Contact) []byte { return appendOptional(b, c.Custom2) },
		"custom3":        func(b []byte, c *kajabi.Contact) []byte { return appendOptional(b, c.Custom3) },
		"createdAt":      func(b []byte, c *kajabi.Contact) []byte { return appendTime(b, c.CreatedAt) },
		"updatedAt":      func(b []byte, c *kajabi.Contact) []byte { return appendTime(b, c.UpdatedAt) },
	},
}

var plainSite = plainType[kajabi.Site]{
	name:         "Site",
	implementors: siteImplementors,
	fields: map[string]func([]byte, *kajabi.Site) []byte{
		"__typename": func(b []byte, _ *kajabi.Site) []byte { return append(b, `"Site"`...) },
		"id":         func(b []byte, s *kajabi.Site) []byte { return appendQuoted(b, s.ID) },
		"title":      func(b []byte, s *kajabi.Site) []byte { return appendQuoted(b, s.Title) },
		"subdomain":  func(b []byte, s *kajabi.Site) []byte { return appendQuoted(b, s.Subdomain) },
		"createdAt":  func(b []byte, s *kajabi.Site) []byte { return appendTime(b, s.CreatedAt) },
		"updatedAt":  func(b []byte, s *kajabi.Site) []byte { return appendTime(b, s.UpdatedAt) },
	},
}

var plainProduct = plainType[kajabi.Product]{
	name:         "Product",
	implementors: productImplementors,
	fields: map[string]func([]byte, *kajabi.Product) []byte{
		"__typename":  func(b []byte, _ *kajabi.Product) []byte { return append(b, `"Product"`...) },
		"id":          func(b []byte, p *kajabi.Product) []byte { return appendQuoted(b, p.ID) },
		"title":       func(b []byte, p *kajabi.Product) []byte { return appendQuoted(b, p.Title) },
		"description": func(b []byte, p *kajabi.Product) []byte { return appendOptional(b, p.Description) },
		"status":      func(b []byte, p *kajabi.Product) []byte { return appendQuoted(b, p.Status) },
		"membersCount": func(b []byte, p *kajabi.Product) []byte {
			return strconv.AppendInt(b, int64(p.MembersAggregateCount), 10)
		},
		"productType":   func(b []byte, p *kajabi.Product) []byte { return appendQuoted(b, p.ProductTypeName) },
		"publishStatus": func(b []byte, p *kajabi.Product) []byte { return appendQuoted(b, p.PublishStatus) },
		"thumbnailUrl":  func(b []byte, p *kajabi.Product) []byte { return appendOptional(b, p.ThumbnailURL) },
		"url":           func(b []byte, p *kajabi.Product) []byte { return appendOptional(b, p.URL) },
		"createdAt":     func(b []byte, p *kajabi.Product) []byte { return appendTime(b, p.CreatedAt) },
	},
}

// plainField is one field of a selection: read off the record (write), or a relation
// (start, with the field for its errors' path and location).
type plainField[T any] struct {
	key   []byte // the alias, quoted
	write func([]byte, *T) []byte
	start func(ctx context.Context, rows []*T) func(row int) related
	field graphql.CollectedField
}

// plainWriter is the value gqlgen writes in place of the field's: one record or a list.
type plainWriter[T any] struct {
	name      string
	fields    []plainField[T]
	relations int // how many of fields are relations
	one       *T
	list      []*T
	related   [][]related // by row, then by relation in the order of fields
}

// load starts every relation of every row, then waits for them in order. ok is false, and
// nothing is reported, when gqlgen must answer; the loads it made are the request's to
// share, so gqlgen's answer costs no more calls. Errors are reported at the path gqlgen
// would give them: the row (when a list), then the relation's field.
func (p *plainWriter[T]) load(ctx context.Context, rows []*T, list bool) bool {
	waits := make([]func(int) related, 0, p.relations)
	for _, f := range p.fields {
		if f.start != nil {
			waits = append(waits, f.start(ctx, rows))
		}
	}
	p.related = make([][]related, len(rows))
	all := make([]related, len(rows)*len(waits))
	for row := range rows {
		p.related[row] = all[row*len(waits) : (row+1)*len(waits)]
		for k, wait := range waits {
			if p.related[row][k] = wait(row); p.related[row][k].odd {
				return false
			}
		}
	}
	for row := range rows {
		k := 0
		for _, f := range p.fields {
			if f.start == nil {
				continue
			}
			if rel := p.related[row][k]; rel.failed != nil || len(rel.dropped) > 0 {
				p.report(ctx, row, list, f.field, rel)
			}
			k++
		}
	}
	return true
}

func (p *plainWriter[T]) report(ctx context.Context, row int, list bool, f graphql.CollectedField, rel related) {
	if list {
		ctx = graphql.WithFieldContext(ctx, &graphql.FieldContext{Index: &row})
	}
	ctx = graphql.WithFieldContext(ctx, &graphql.FieldContext{Object: p.name, Field: f, IsMethod: true, IsResolver: true})
	if rel.failed != nil {
		graphql.GetOperationContext(ctx).Error(ctx, graphql.AddFieldLocationToError(ctx, rel.failed))
	}
	for _, err := range rel.dropped {
		graphql.AddError(ctx, err)
	}
}

func (p *plainWriter[T]) MarshalGQL(w io.Writer) {
	if p.one != nil {
		_, _ = w.Write(p.appendRow(make([]byte, 0, 512), p.one, 0))
		return
	}
	b := make([]byte, 0, 384*len(p.list)+2)
	b = append(b, '[')
	for i, r := range p.list {
		if i > 0 {
			b = append(b, ',')
		}
		b = p.appendRow(b, r, i)
	}
	_, _ = w.Write(append(b, ']'))
}

// appendList writes records of a relation (which has none of its own).
func (p *plainWriter[T]) appendList(b []byte, rows []*T) []byte {
	b = append(b, '[')
	for i, r := range rows {
		if i > 0 {
			b = append(b, ',')
		}
		b = p.appendObject(b, r)
	}
	return append(b, ']')
}

// appendObject writes a record of a relation (which has none of its own).
func (p *plainWriter[T]) appendObject(b []byte, r *T) []byte {
	return p.appendRow(b, r, -1)
}

func (p *plainWriter[T]) appendRow(b []byte, r *T, row int) []byte {
	b = append(b, '{')
	k := 0
	for i, f := range p.fields {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(append(b, f.key...), ':')
		if f.start == nil {
			b = f.write(b, r)
			continue
		}
		if rel := p.related[row][k]; rel.write != nil {
			b = rel.write(b)
		} else {
			b = append(b, "null"...)
		}
		k++
	}
	return append(b, '}')
}

func appendOptional(b []byte, s *string) []byte {
	if s == nil {
		return append(b, "null"...)
	}
	return appendQuoted(b, *s)
}

func appendOptionalInt(b []byte, n *int) []byte {
	if n == nil {
		return append(b, "null"...)
	}
	return strconv.AppendInt(b, int64(*n), 10)
}

// appendTime writes a DateTime as model.MarshalDateTime does.
func appendTime(b []byte, t time.Time) []byte {
	b = t.UTC().AppendFormat(append(b, '"'), time.RFC3339)
	return append(b, '"')
}

func appendOptionalTime(b []byte, t *time.Time) []byte {
	if t == nil {
		return append(b, "null"...)
	}
	return appendTime(b, *t)
}

// appendQuoted escapes a string as gqlgen's graphql.MarshalString does (which differs
// from encoding/json: it leaves <, > and & alone and writes \t, \r, \n by name).
func appendQuoted(b []byte, s string) []byte {
	const hex = "0123456789ABCDEF" // upper case, as gqlgen writes them
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '\\' && c != '"' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '\t':
			b = append(b, `\t`...)
		case '\r':
			b = append(b, `\r`...)
		case '\n':
			b = append(b, `\n`...)
		case '\\':
			b = append(b, `\\`...)
		case '"':
			b = append(b, `\"`...)
		default:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		start = i + 1
	}
	return append(append(b, s[start:]...), '"')
}

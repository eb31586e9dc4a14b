package kajabi

// A one-pass decoder for JSON:API documents. encoding/json decodes a resource twice over
// (it scans each element to hand its bytes to UnmarshalJSON, which scans and decodes them
// again through interface values), and decoding a page of customers was the largest cost
// of a request (see bench/README). This decoder walks the bytes once, sets fields through
// tables built once per type from the same `json` tags, and hands anything it does not
// know to encoding/json, so the result is the one encoding/json gives: same fields, same
// zero values, null leaving non-pointer fields alone, keys matched exactly or else
// case-insensitively, unknown members ignored.
//
// Kept because the libraries, decoding into plain wire structs with no UnmarshalJSON of
// ours (decode_alternatives_test.go), are not close enough on the page the server asks
// for: graph always sends a sparse fieldset. Medians of 10 on a shared 2-core machine,
// in µs/op and allocs/op:
//
//	                   jsonscan   go-json-experiment 1.27.2   encoding/json
//	20 customers, all  116  667   135  408 (1.16x)            299  604 (2.6x)
//	20, sparse         35   207   59   87  (1.70x)            128  156 (3.7x)
//	100, all           423  3194  1028 2129 (2.4x)            1347 2807 (3.2x)
//
//	go test ./kajabi -run '^$' -bench Decode -benchmem -count 10
//
// go-json-experiment is within 1.5x on the whole-attribute page only; if it becomes
// encoding/json/v2 and gains on the sparse page, decode_alternatives_test.go shows the
// wire structs to switch to (with v1's null and case rules, which the tests here check).

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

var errSyntax = errors.New("kajabi: malformed JSON")

// scanner reads one JSON text. It never panics on malformed input: every method checks
// its bounds and reports errSyntax.
type scanner struct {
	b []byte
	i int

	// readResource, when set, reads resource objects instead of scanResource: the tests
	// put encoding/json here to check that both read the same.
	readResource func(s *scanner, attrs, rels any) (string, error)
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// peek returns the next non-space byte without consuming it; 0 at the end.
func (s *scanner) peek() byte {
	s.ws()
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

func (s *scanner) expect(c byte) error {
	if s.peek() != c {
		return errSyntax
	}
	s.i++
	return nil
}

// null consumes a null literal if one is next.
func (s *scanner) null() bool {
	if s.peek() == 'n' && bytes.HasPrefix(s.b[s.i:], []byte("null")) {
		s.i += 4
		return true
	}
	return false
}

// stringByte classifies the bytes of a JSON string: plain ASCII goes on, anything else
// ends the fast loop of rawString.
var stringByte = func() (t [256]uint8) {
	for c := range 0x20 {
		t[c] = byteControl
	}
	t['"'], t['\\'] = byteQuote, byteEscape
	for c := 0x80; c < 0x100; c++ {
		t[c] = byteNonASCII
	}
	return t
}()

const (
	bytePlain = iota
	byteQuote
	byteEscape
	byteControl
	byteNonASCII
)

// rawString returns the bytes between the quotes of the next string and whether they
// hold an escape or need a UTF-8 check (skipString checks the escapes; str hands escaped
// strings to encoding/json, which does).
func (s *scanner) rawString() (raw []byte, escaped, nonASCII bool, err error) {
	if err := s.expect('"'); err != nil {
		return nil, false, false, err
	}
	b, i, start := s.b, s.i, s.i
	for i < len(b) {
		switch stringByte[b[i]] {
		case bytePlain:
			i++
		case byteQuote:
			s.i = i + 1
			return b[start:i], escaped, nonASCII, nil
		case byteEscape:
			escaped = true
			i += 2
		case byteNonASCII:
			nonASCII = true
			i++
		default:
			s.i = i
			return nil, false, false, errSyntax
		}
	}
	s.i = i
	return nil, false, false, errSyntax
}

// str reads a string value, unescaping it the way encoding/json does.
func (s *scanner) str() (string, error) {
	start := s.i
	raw, escaped, nonASCII, err := s.rawString()
	if err != nil {
		return "", err
	}
	if !escaped && (!nonASCII || utf8.Valid(raw)) {
		return string(raw), nil
	}
	var out string
	err = json.Unmarshal(s.b[start:s.i], &out)
	return out, err
}

// skip consumes one value of any kind, checking its syntax as encoding/json would.
func (s *scanner) skip() error {
	switch c := s.peek(); c {
	case '"':
		return s.skipString()
	case '{':
		more, err := s.openObject()
		for more && err == nil {
			if _, err = s.key(); err == nil {
				if err = s.skip(); err == nil {
					more, err = s.nextMember()
				}
			}
		}
		return err
	case '[':
		more, err := s.openArray()
		for more && err == nil {
			if err = s.skip(); err == nil {
				more, err = s.nextElement()
			}
		}
		return err
	case 't':
		return s.literal("true")
	case 'f':
		return s.literal("false")
	case 'n':
		return s.literal("null")
	default:
		return s.number()
	}
}

func (s *scanner) literal(lit string) error {
	if !bytes.HasPrefix(s.b[s.i:], []byte(lit)) {
		return errSyntax
	}
	s.i += len(lit)
	return nil
}

// skipString consumes a string, checking its escapes.
func (s *scanner) skipString() error {
	raw, escaped, _, err := s.rawString()
	if err != nil || !escaped {
		return err
	}
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' {
			continue
		}
		i++
		if i >= len(raw) {
			return errSyntax
		}
		switch raw[i] {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		case 'u':
			if i+4 >= len(raw) {
				return errSyntax
			}
			for _, h := range raw[i+1 : i+5] {
				if !('0' <= h && h <= '9' || 'a' <= h && h <= 'f' || 'A' <= h && h <= 'F') {
					return errSyntax
				}
			}
			i += 4
		default:
			return errSyntax
		}
	}
	return nil
}

// number consumes a number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *scanner) number() error {
	b, i := s.b, s.i
	digits := func() bool {
		start := i
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		return i > start
	}
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case !digits():
		return errSyntax
	}
	if i < len(b) && b[i] == '.' {
		i++
		if !digits() {
			return errSyntax
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if !digits() {
			return errSyntax
		}
	}
	s.i = i
	return nil
}

// raw consumes one value and returns its bytes.
func (s *scanner) raw() ([]byte, error) {
	s.ws()
	start := s.i
	if err := s.skip(); err != nil {
		return nil, err
	}
	return s.b[start:s.i], nil
}

// The members of an object are read in a loop rather than through a callback, which keeps
// the decoder's stack shallow (the goroutines that decode Kajabi's answers start small, and
// growing their stacks showed in profiles):
//
//	more, err := s.openObject()
//	for more && err == nil {
//		key, err := s.key() ... consume the value ...
//		more, err = s.nextMember()
//	}

// openObject consumes '{' and reports whether a member follows.
func (s *scanner) openObject() (bool, error) {
	if err := s.expect('{'); err != nil {
		return false, err
	}
	if s.peek() == '}' {
		s.i++
		return false, nil
	}
	return true, nil
}

// key reads a member's name and the colon after it.
func (s *scanner) key() ([]byte, error) {
	kstart := s.i
	key, escaped, nonASCII, err := s.rawString()
	if err != nil {
		return nil, err
	}
	if escaped || nonASCII {
		var k string
		if err := json.Unmarshal(s.b[kstart:s.i], &k); err != nil {
			return nil, err
		}
		key = []byte(k)
	}
	return key, s.expect(':')
}

// nextMember consumes what follows a member's value: a comma (another member follows)
// or the closing brace.
func (s *scanner) nextMember() (bool, error) {
	switch s.peek() {
	case ',':
		s.i++
		s.ws()
		return true, nil
	case '}':
		s.i++
		return false, nil
	}
	return false, errSyntax
}

// object calls member for each key of the next object; member must consume the value.
func (s *scanner) object(member func(key []byte) error) error {
	more, err := s.openObject()
	for more && err == nil {
		var key []byte
		if key, err = s.key(); err == nil {
			err = member(key)
		}
		if err == nil {
			more, err = s.nextMember()
		}
	}
	return err
}

// openArray consumes '[' and reports whether an element follows.
func (s *scanner) openArray() (bool, error) {
	if err := s.expect('['); err != nil {
		return false, err
	}
	if s.peek() == ']' {
		s.i++
		return false, nil
	}
	return true, nil
}

// nextElement consumes a comma (another element follows) or the closing bracket.
func (s *scanner) nextElement() (bool, error) {
	switch s.peek() {
	case ',':
		s.i++
		return true, nil
	case ']':
		s.i++
		return false, nil
	}
	return false, errSyntax
}

// structDecoder sets the fields of one struct type from a JSON object.
type structDecoder struct {
	fields []fieldDecoder
	byName map[string]int
}

type fieldDecoder struct {
	name  string
	index int
	set   func(s *scanner, v reflect.Value) error
}

var (
	structDecoders sync.Map // reflect.Type -> *structDecoder
	setters        sync.Map // reflect.Type -> setter
)

// setter decodes the next value into an addressable reflect.Value.
type setter = func(*scanner, reflect.Value) error

// setterOf is valueSetter, built once per type.
func setterOf(t reflect.Type) setter {
	if f, ok := setters.Load(t); ok {
		return f.(setter)
	}
	f, _ := setters.LoadOrStore(t, valueSetter(t))
	return f.(setter)
}

// resource is implemented by the JSON:API resource types (Customer, Contact, ...):
// decodeFrom reads one resource object straight from the document's scanner, so a page
// of them is read in one pass rather than each resource's bytes twice.
type resource interface{ decodeFrom(s *scanner) error }

var (
	timeType        = reflect.TypeFor[time.Time]()
	unmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	resourceType    = reflect.TypeFor[resource]()
	textType        = reflect.TypeFor[encoding.TextUnmarshaler]()
)

func structDecoderOf(t reflect.Type) *structDecoder {
	if d, ok := structDecoders.Load(t); ok {
		return d.(*structDecoder)
	}
	d := &structDecoder{byName: map[string]int{}}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() || f.Anonymous {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		d.byName[name] = len(d.fields)
		d.fields = append(d.fields, fieldDecoder{name: name, index: i, set: valueSetter(f.Type)})
	}
	structDecoders.Store(t, d)
	return d
}

// field finds a member's field as encoding/json does: an exact match, else one that
// matches ignoring case.
func (d *structDecoder) field(key []byte) *fieldDecoder {
	if i, ok := d.byName[string(key)]; ok {
		return &d.fields[i]
	}
	for i := range d.fields {
		if strings.EqualFold(d.fields[i].name, string(key)) {
			return &d.fields[i]
		}
	}
	return nil
}

// decode sets the fields of the struct v (addressable) from the next object.
func (d *structDecoder) decode(s *scanner, v reflect.Value) error {
	more, err := s.openObject()
	for more && err == nil {
		var key []byte
		if key, err = s.key(); err != nil {
			break
		}
		if f := d.field(key); f != nil {
			err = f.set(s, v.Field(f.index))
		} else {
			err = s.skip()
		}
		if err == nil {
			more, err = s.nextMember()
		}
	}
	return err
}

// valueSetter returns how to decode a value of type t into an addressable reflect.Value.
// Kinds it does not handle itself go to encoding/json, value by value.
func valueSetter(t reflect.Type) setter {
	switch {
	case reflect.PointerTo(t).Implements(resourceType):
		return func(s *scanner, v reflect.Value) error {
			return v.Addr().Interface().(resource).decodeFrom(s)
		}
	case t == timeType:
		return func(s *scanner, v reflect.Value) error {
			raw, err := s.raw()
			if err != nil || bytes.Equal(raw, []byte("null")) {
				return err
			}
			return v.Addr().Interface().(*time.Time).UnmarshalJSON(raw)
		}
	case reflect.PointerTo(t).Implements(unmarshalerType):
		// The document was checked whole before decoding began (json.Unmarshal does that
		// before it calls document.UnmarshalJSON), so the value's bytes go straight in.
		return func(s *scanner, v reflect.Value) error {
			raw, err := s.raw()
			if err != nil {
				return err
			}
			return v.Addr().Interface().(json.Unmarshaler).UnmarshalJSON(raw)
		}
	case reflect.PointerTo(t).Implements(textType):
		return stdSetter
	}
	switch t.Kind() {
	case reflect.String:
		return func(s *scanner, v reflect.Value) error {
			if s.null() {
				return nil
			}
			if s.peek() != '"' {
				return stdSetter(s, v)
			}
			str, err := s.str()
			if err == nil {
				v.SetString(str)
			}
			return err
		}
	case reflect.Int, reflect.Int64, reflect.Int32:
		return func(s *scanner, v reflect.Value) error {
			if s.null() {
				return nil
			}
			start := s.i
			raw, err := s.raw()
			if err != nil {
				return err
			}
			n, err := strconv.ParseInt(string(raw), 10, t.Bits())
			if err != nil {
				s.i = start
				return stdSetter(s, v)
			}
			v.SetInt(n)
			return nil
		}
	case reflect.Bool:
		return func(s *scanner, v reflect.Value) error {
			switch {
			case s.null():
			case bytes.HasPrefix(s.b[s.i:], []byte("true")):
				s.i += 4
				v.SetBool(true)
			case bytes.HasPrefix(s.b[s.i:], []byte("false")):
				s.i += 5
				v.SetBool(false)
			default:
				return stdSetter(s, v)
			}
			return nil
		}
	case reflect.Pointer:
		elem := t.Elem()
		set := valueSetter(elem)
		return func(s *scanner, v reflect.Value) error {
			if s.null() {
				v.SetZero()
				return nil
			}
			if v.IsNil() {
				v.Set(reflect.New(elem))
			}
			return set(s, v.Elem())
		}
	case reflect.Struct:
		// Looked up on first use: a type that refers to itself would otherwise recurse here.
		decoder := sync.OnceValue(func() *structDecoder { return structDecoderOf(t) })
		return func(s *scanner, v reflect.Value) error {
			if s.null() {
				return nil
			}
			if s.peek() != '{' {
				return stdSetter(s, v)
			}
			return decoder().decode(s, v)
		}
	case reflect.Slice:
		set := valueSetter(t.Elem())
		return func(s *scanner, v reflect.Value) error {
			if s.null() {
				v.SetZero()
				return nil
			}
			if s.peek() != '[' {
				return stdSetter(s, v)
			}
			out := reflect.New(t).Elem() // addressable, so it can grow in place
			out.Set(reflect.MakeSlice(t, 0, 4))
			more, err := s.openArray()
			for n := 0; more && err == nil; n++ {
				out.Grow(1)
				out.SetLen(n + 1)
				if err = set(s, out.Index(n)); err == nil {
					more, err = s.nextElement()
				}
			}
			if err == nil {
				v.Set(out)
			}
			return err
		}
	}
	return stdSetter
}

// stdSetter hands one value to encoding/json.
func stdSetter(s *scanner, v reflect.Value) error {
	raw, err := s.raw()
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, v.Addr().Interface())
}

// decodeInto decodes the next value into the value p points at.
func decodeInto(s *scanner, p any) error {
	v := reflect.ValueOf(p)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return fmt.Errorf("kajabi: decode into %T", p)
	}
	return setterOf(v.Elem().Type())(s, v.Elem())
}

// decodeWhole decodes a resource that is the whole of b (its UnmarshalJSON).
func decodeWhole(b []byte, r resource) error {
	s := &scanner{b: b}
	err := r.decodeFrom(s)
	if err == nil {
		if s.ws(); s.i != len(b) {
			err = errSyntax
		}
	}
	return err
}

// resource reads one JSON:API resource object from s: attributes into attrs,
// relationships into rels (both pointers; rels may be nil), returning its id.
func (s *scanner) resource(attrs, rels any) (string, error) {
	if s.readResource != nil {
		return s.readResource(s, attrs, rels)
	}
	return scanResource(s, attrs, rels)
}

// scanResource reads one JSON:API resource object: attributes into attrs, relationships
// into rels (pointers to structs; rels may be nil), returning its id.
func scanResource(s *scanner, attrs, rels any) (string, error) {
	var id string
	more, err := s.openObject()
	for more && err == nil {
		var key []byte
		if key, err = s.key(); err != nil {
			break
		}
		switch {
		case member(key, "id"):
			if !s.null() {
				err = decodeInto(s, &id)
			}
		case member(key, "attributes"):
			err = decodeInto(s, attrs)
		case rels != nil && member(key, "relationships"):
			err = decodeInto(s, rels)
		default:
			err = s.skip()
		}
		if err == nil {
			more, err = s.nextMember()
		}
	}
	return id, err
}

// member matches a key to a member name as encoding/json does: exactly, else ignoring case.
func member(key []byte, name string) bool {
	return string(key) == name || strings.EqualFold(string(key), name)
}

// decodeDocument decodes a whole JSON:API document in one pass, checking its syntax on
// the way: the primary data (each resource through its decodeFrom), links and
// meta. A malformed body is an error that says where.
func decodeDocument[T any](b []byte, d *document[T]) error {
	s := &scanner{b: b}
	var err error
	if !s.null() {
		err = s.object(func(key []byte) error {
			switch {
			case member(key, "data"):
				return decodeInto(s, &d.Data)
			case member(key, "links"):
				return decodeInto(s, &d.Links)
			case member(key, "meta"):
				return decodeInto(s, &d.Meta)
			}
			return s.skip()
		})
	}
	if err == nil {
		if s.ws(); s.i != len(b) {
			err = errSyntax
		}
	}
	if errors.Is(err, errSyntax) {
		return fmt.Errorf("%w at offset %d", errSyntax, s.i)
	}
	return err
}

// UnmarshalJSON lets json.Unmarshal use decodeDocument too.
func (d *document[T]) UnmarshalJSON(b []byte) error { return decodeDocument(b, d) }

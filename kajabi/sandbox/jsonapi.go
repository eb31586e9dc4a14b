package sandbox

import (
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// mediaType is what every JSON:API answer is labelled with.
const mediaType = "application/vnd.api+json"

// Paging bounds shared by every list endpoint.
const (
	defaultPageSize = 20
	maxPageSize     = 100
)

// jw appends JSON to a byte slice. Documents are written field by field in a
// fixed order instead of marshalling maps: the bytes come out the same for
// the same data (which the determinism guarantee relies on), attributes keep
// the order the spec lists them in, and a 100-customer page costs no
// reflection.
type jw struct {
	b        []byte
	first    []bool  // per open container: nothing written in it yet
	keyed    bool    // a key was just written, so the value needs no comma
	firstBuf [8]bool // backing for first, so shallow documents need no allocation
}

var jwPool = sync.Pool{New: func() any { return &jw{b: make([]byte, 0, 4096)} }}

func newJW() *jw {
	j := jwPool.Get().(*jw)
	j.b, j.first, j.keyed = j.b[:0], j.firstBuf[:0], false
	return j
}

func (j *jw) release() {
	if cap(j.b) <= 1<<20 {
		jwPool.Put(j)
	}
}

func (j *jw) sep() {
	if j.keyed {
		j.keyed = false
		return
	}
	if n := len(j.first); n > 0 {
		if j.first[n-1] {
			j.first[n-1] = false
		} else {
			j.b = append(j.b, ',')
		}
	}
}

func (j *jw) obj() { j.sep(); j.b = append(j.b, '{'); j.first = append(j.first, true) }
func (j *jw) arr() { j.sep(); j.b = append(j.b, '['); j.first = append(j.first, true) }
func (j *jw) end(c byte) {
	j.b = append(j.b, c)
	j.first = j.first[:len(j.first)-1]
}
func (j *jw) endObj() { j.end('}') }
func (j *jw) endArr() { j.end(']') }

func (j *jw) k(name string) {
	j.sep()
	j.b = appendString(j.b, name)
	j.b = append(j.b, ':')
	j.keyed = true
}

func (j *jw) str(s string) { j.sep(); j.b = appendString(j.b, s) }
func (j *jw) null()        { j.sep(); j.b = append(j.b, "null"...) }
func (j *jw) int(n int64)  { j.sep(); j.b = strconv.AppendInt(j.b, n, 10) }
func (j *jw) bool(v bool)  { j.sep(); j.b = strconv.AppendBool(j.b, v) }

// strOrNull writes null for the empty string, the store's "absent".
func (j *jw) strOrNull(s string) {
	if s == "" {
		j.null()
		return
	}
	j.str(s)
}

// time writes an RFC 3339 UTC timestamp, or null for the zero time.
func (j *jw) time(t time.Time) {
	if t.IsZero() {
		j.null()
		return
	}
	j.sep()
	j.b = append(j.b, '"')
	j.b = t.UTC().AppendFormat(j.b, time.RFC3339)
	j.b = append(j.b, '"')
}

// ident writes a resource identifier object.
func (j *jw) ident(typ, id string) {
	j.obj()
	j.k("id")
	j.str(id)
	j.k("type")
	j.str(typ)
	j.endObj()
}

func (j *jw) idents(typ string, ids []string) {
	j.arr()
	for _, id := range ids {
		j.ident(typ, id)
	}
	j.endArr()
}

// rels writes a resource's "relationships" member. A relationship a sparse fieldset
// (only) does not name is left out, and the member with it when none is left: JSON:API's
// fields[TYPE] covers relationships as well as attributes, and the spec's own example
// (GET /v1/customers?fields[customers]=name,email) answers with attributes alone.
type rels struct {
	j    *jw
	only map[string]bool
	open bool
}

func (j *jw) relationships(only map[string]bool) *rels { return &rels{j: j, only: only} }

// want opens the member for name and reports whether to write it.
func (r *rels) want(name string) bool {
	if r.only != nil && !r.only[name] {
		return false
	}
	if !r.open {
		r.j.k("relationships")
		r.j.obj()
		r.open = true
	}
	r.j.k(name)
	return true
}

// toOne writes {"data": identifier}.
func (r *rels) toOne(name, typ, id string) {
	if !r.want(name) {
		return
	}
	r.j.obj()
	r.j.k("data")
	r.j.ident(typ, id)
	r.j.endObj()
}

// toMany writes {"data": [identifiers]} with an optional links.self.
func (r *rels) toMany(name, typ string, ids []string, self string) {
	if !r.want(name) {
		return
	}
	r.j.obj()
	r.j.k("data")
	r.j.idents(typ, ids)
	if self != "" {
		r.j.selfLink(self)
	}
	r.j.endObj()
}

// linkOnly writes {"links": {"self": self}}: a relationship given by its link alone.
func (r *rels) linkOnly(name, self string) {
	if !r.want(name) {
		return
	}
	r.j.obj()
	r.j.selfLink(self)
	r.j.endObj()
}

func (r *rels) end() {
	if r.open {
		r.j.endObj()
	}
}

// selfLink writes {"links": {"self": self}}: a document's or a relationship's own link.
func (j *jw) selfLink(self string) {
	j.k("links")
	j.obj()
	j.k("self")
	j.str(self)
	j.endObj()
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string, escaping what JSON requires and
// replacing invalid UTF-8, which can reach links through a raw query string.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			switch r {
			case '\u2028':
				b = append(b, `\u2028`...)
			case '\u2029':
				b = append(b, `\u2029`...)
			default:
				b = append(b, `\ufffd`...)
			}
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// attr is one attribute of a resource type: its JSON name and how to write
// its value. A type's attributes are a slice of these in spec order.
type attr[T any] struct {
	name string
	put  func(*jw, *T)
}

// writeAttrs writes the "attributes" member, limited to the names in only
// when a sparse fieldset was asked for (nil means all).
func writeAttrs[T any](j *jw, attrs []attr[T], v *T, only map[string]bool) {
	j.k("attributes")
	j.obj()
	for i := range attrs {
		if only != nil && !only[attrs[i].name] {
			continue
		}
		j.k(attrs[i].name)
		attrs[i].put(j, v)
	}
	j.endObj()
}

// fieldSet reads fields[typ]; nil means no sparse fieldset (all attributes).
// Names that are not attributes of the type are ignored.
func fieldSet(q url.Values, typ string) map[string]bool {
	v := q["fields["+typ+"]"]
	if len(v) == 0 || strings.TrimSpace(v[0]) == "" {
		return nil
	}
	set := map[string]bool{}
	for _, f := range strings.Split(v[0], ",") {
		if f = strings.TrimSpace(f); f != "" {
			set[f] = true
		}
	}
	return set
}

// includes returns the include paths asked for that the endpoint supports,
// in request order without repeats; other names are ignored.
func includes(q url.Values, supported ...string) []string {
	var out []string
	for _, name := range strings.Split(q.Get("include"), ",") {
		name = strings.TrimSpace(name)
		for _, s := range supported {
			if name == s && !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	return out
}

// reqCtx is what a handler needs from the request: the query and the base
// every link is built on.
type reqCtx struct {
	r *http.Request
	q url.Values
	// base is scheme://host plus whatever prefix the sandbox is mounted
	// under, so links point back through the same mount.
	base string
	// docsPaging answers lists as the response schemas and the "List
	// customers" docs page show them: links self and current, no meta.
	docsPaging bool
}

func newReqCtx(r *http.Request) *reqCtx {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return &reqCtx{r: r, q: r.URL.Query(), base: scheme + "://" + r.Host + mountPrefix(r)}
}

// mountPrefix recovers what http.StripPrefix (or any wrapper like it) took
// off the path: the difference between the path the client sent and the path
// this handler sees.
func mountPrefix(r *http.Request) string {
	if r.RequestURI == "" || r.RequestURI == "*" {
		return ""
	}
	u, err := url.ParseRequestURI(r.RequestURI)
	if err != nil {
		return ""
	}
	sent, seen := u.EscapedPath(), r.URL.EscapedPath()
	if len(sent) > len(seen) && strings.HasSuffix(sent, seen) {
		return sent[:len(sent)-len(seen)]
	}
	return ""
}

func (rc *reqCtx) url(path string) string { return rc.base + path }

// self is the request's own URL as seen through the mount.
func (rc *reqCtx) self() string {
	s := rc.base + rc.r.URL.EscapedPath()
	if rc.r.URL.RawQuery != "" {
		s += "?" + rc.r.URL.RawQuery
	}
	return s
}

// paging is the resolved page[number] and page[size] of a list request.
type paging struct{ number, size int }

// parsePaging applies the defaults: page 1, 20 per page, at most 100; values
// below 1 or not numbers fall back to the default.
func parsePaging(q url.Values) paging {
	p := paging{number: 1, size: defaultPageSize}
	if n, ok := positiveInt(q.Get("page[number]")); ok {
		p.number = min(n, math.MaxInt32)
	}
	if n, ok := positiveInt(q.Get("page[size]")); ok {
		p.size = min(n, maxPageSize)
	}
	return p
}

// positiveInt accepts integers and integral decimals ("2", "2.0"), the
// parameters being typed as numbers.
func positiveInt(s string) (int, bool) {
	s = strings.TrimSpace(s)
	if n, err := strconv.Atoi(s); err == nil {
		return n, n >= 1
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 1 || f != math.Trunc(f) || f > math.MaxInt32 {
		return 0, false
	}
	return int(f), true
}

func (p paging) offset() int { return (p.number - 1) * p.size }

// window returns the [lo, hi) bounds of the current page within total items.
func (p paging) window(total int) (int, int) {
	lo := min(p.offset(), total)
	return lo, min(lo+p.size, total)
}

// pageLinks writes the top-level links and meta of a list. total_pages is 0
// for an empty list while "last" still points at page 1. As in Rails'
// pagination, prev and next are null on a page past the end.
func (rc *reqCtx) pageLinks(j *jw, path string, p paging, total int) {
	pages := (total + p.size - 1) / p.size
	last := max(pages, 1)
	j.k("links")
	j.obj()
	if rc.docsPaging {
		self := rc.pageURL(path, p.number, p.size)
		j.k("self")
		j.str(self)
		j.k("current")
		j.str(self)
		j.endObj()
		return
	}
	j.k("self")
	j.str(rc.pageURL(path, p.number, p.size))
	j.k("first")
	j.str(rc.pageURL(path, 1, p.size))
	j.k("prev")
	if p.number > 1 && p.number <= last {
		j.str(rc.pageURL(path, p.number-1, p.size))
	} else {
		j.null()
	}
	j.k("next")
	if p.number < pages {
		j.str(rc.pageURL(path, p.number+1, p.size))
	} else {
		j.null()
	}
	j.k("last")
	j.str(rc.pageURL(path, last, p.size))
	j.endObj()
	j.k("meta")
	j.obj()
	j.k("total_pages")
	j.int(int64(pages))
	j.k("total_count")
	j.int(int64(total))
	j.k("current_page")
	j.int(int64(p.number))
	j.endObj()
}

// pageURL is the list URL with every query parameter the client sent, in the
// order and encoding it sent them, except page[number] and page[size], which
// are set (in place, or appended when absent) and written with literal
// brackets as Kajabi's own links are.
func (rc *reqCtx) pageURL(path string, number, size int) string {
	var b strings.Builder
	b.WriteString(rc.base)
	b.WriteString(path)
	b.WriteByte('?')
	mark := b.Len()
	add := func(s string) {
		if b.Len() > mark {
			b.WriteByte('&')
		}
		b.WriteString(s)
	}
	num := "page[number]=" + strconv.Itoa(number)
	siz := "page[size]=" + strconv.Itoa(size)
	for _, part := range strings.Split(rc.r.URL.RawQuery, "&") {
		if part == "" {
			continue
		}
		key, _, _ := strings.Cut(part, "=")
		if k, err := url.QueryUnescape(key); err == nil {
			key = k
		}
		switch key {
		case "page[number]":
			if num != "" {
				add(num)
				num = ""
			}
		case "page[size]":
			if siz != "" {
				add(siz)
				siz = ""
			}
		default:
			add(part)
		}
	}
	if num != "" {
		add(num)
	}
	if siz != "" {
		add(siz)
	}
	return b.String()
}

// send writes a finished document.
func send(w http.ResponseWriter, status int, contentType string, body []byte) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func sendDoc(w http.ResponseWriter, j *jw) {
	send(w, http.StatusOK, mediaType, j.b)
	j.release()
}

// sendError answers with a JSON:API errors document of one error.
func sendError(w http.ResponseWriter, status int, detail string) {
	sendParamError(w, status, "", detail)
}

// sendParamError is sendError naming the query parameter at fault in source.parameter,
// as JSON:API words it (the spec's errors_attributes lists source.pointer only; its
// objects are open).
func sendParamError(w http.ResponseWriter, status int, param, detail string) {
	j := newJW()
	j.obj()
	j.k("errors")
	j.arr()
	j.obj()
	j.k("status")
	j.str(strconv.Itoa(status))
	if param != "" {
		j.k("source")
		j.obj()
		j.k("parameter")
		j.str(param)
		j.endObj()
	}
	j.k("title")
	j.str(http.StatusText(status))
	j.k("detail")
	j.str(detail)
	j.endObj()
	j.endArr()
	j.endObj()
	send(w, status, mediaType, j.b)
	j.release()
}

// centsString formats cents as a decimal with two places ("149.00").
func centsString(c int64) string {
	sign := ""
	if c < 0 {
		sign, c = "-", -c
	}
	return sign + strconv.FormatInt(c/100, 10) + "." + twoDigits(int(c%100))
}

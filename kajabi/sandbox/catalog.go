package sandbox

import (
	"cmp"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// The catalogue endpoints (sites, products, offers, contact tags) list a few
// dozen records at most, so they filter and sort per request instead of
// keeping presorted orders.

// list describes one catalogue list endpoint.
type list[T any] struct {
	path    string
	sorts   map[string]func(a, b *T) int // ascending; ties go by id
	defSort string                       // the sort without ?sort=, "-" for descending; "" is by id
	id      func(*T) string
	write   func(*jw, *T, map[string]bool)
	typ     string
}

// serve filters items with keep (nil entries are filters not asked for),
// sorts (default: by id ascending), pages and writes the index document.
func (l list[T]) serve(w http.ResponseWriter, rc *reqCtx, items []T, keep ...func(*T) bool) {
	ptrs := make([]*T, len(items))
	for i := range items {
		ptrs[i] = &items[i]
	}
	l.servePtrs(w, rc, ptrs, keep...)
}

// servePtrs is serve for records kept by pointer.
func (l list[T]) servePtrs(w http.ResponseWriter, rc *reqCtx, items []*T, keep ...func(*T) bool) {
	var out []*T
next:
	for _, v := range items {
		for _, k := range keep {
			if k != nil && !k(v) {
				continue next
			}
		}
		out = append(out, v)
	}
	defKey, defDesc := strings.CutPrefix(l.defSort, "-")
	key, desc := parseSort(rc.q.Get("sort"), func(k string) bool { _, ok := l.sorts[k]; return ok }, defKey, defDesc)
	less := l.sorts[key]
	slices.SortStableFunc(out, func(a, b *T) int {
		c := 0
		if less != nil {
			c = less(a, b)
		}
		if c == 0 {
			ia, ib := l.id(a), l.id(b)
			c = cmp.Or(cmp.Compare(len(ia), len(ib)), strings.Compare(ia, ib))
		}
		if desc {
			return -c
		}
		return c
	})
	p := parsePaging(rc.q)
	lo, hi := p.window(len(out))
	only := fieldSet(rc.q, l.typ)
	j := newJW()
	j.obj()
	j.k("data")
	j.arr()
	for _, v := range out[lo:hi] {
		l.write(j, v, only)
	}
	j.endArr()
	rc.pageLinks(j, l.path, p, len(out))
	j.endObj()
	sendDoc(w, j)
}

// show writes the document of one catalogue record.
func (l list[T]) show(w http.ResponseWriter, rc *reqCtx, v *T) {
	j := newJW()
	j.obj()
	j.k("data")
	l.write(j, v, fieldSet(rc.q, l.typ))
	j.selfLink(rc.self())
	j.endObj()
	sendDoc(w, j)
}

// textFilter reads filter[name]; nil when absent or empty. Ransack's _cont
// is a case-insensitive substring match, _eq an exact one.
func textFilter[T any](q url.Values, name string, get func(*T) string) func(*T) bool {
	v := strings.TrimSpace(q.Get("filter[" + name + "]"))
	if v == "" {
		return nil
	}
	switch {
	case strings.HasSuffix(name, "_cont"):
		v = strings.ToLower(v)
		return func(t *T) bool { return strings.Contains(strings.ToLower(get(t)), v) }
	default:
		return func(t *T) bool { return get(t) == v }
	}
}

func compareText[T any](get func(*T) string) func(a, b *T) int {
	return func(a, b *T) int { return strings.Compare(get(a), get(b)) }
}

// ---- sites ----

var sitesList = list[Site]{
	path: "/v1/sites",
	typ:  "sites",
	sorts: map[string]func(a, b *Site) int{
		"title":     compareText(func(s *Site) string { return s.Title }),
		"subdomain": compareText(func(s *Site) string { return s.Subdomain }),
	},
	id:    func(s *Site) string { return s.ID },
	write: writeSite,
}

var siteAttrs = []attr[Site]{
	{"title", func(j *jw, s *Site) { j.str(s.Title) }},
	{"subdomain", func(j *jw, s *Site) { j.str(s.Subdomain) }},
	{"created_at", func(j *jw, s *Site) { j.time(s.CreatedAt) }},
	{"updated_at", func(j *jw, s *Site) { j.time(s.UpdatedAt) }},
}

func writeSite(j *jw, s *Site, only map[string]bool) {
	j.obj()
	j.k("id")
	j.str(s.ID)
	j.k("type")
	j.str("sites")
	writeAttrs(j, siteAttrs, s, only)
	j.endObj()
}

func listSites(st *Store, w http.ResponseWriter, rc *reqCtx, _ string) {
	sitesList.serve(w, rc, st.Sites,
		textFilter(rc.q, "title_cont", func(s *Site) string { return s.Title }),
		textFilter(rc.q, "subdomain_cont", func(s *Site) string { return s.Subdomain }),
	)
}

func showSite(st *Store, w http.ResponseWriter, rc *reqCtx, id string) {
	s, ok := st.Site(id)
	if !ok {
		notFound(w, "site", id)
		return
	}
	sitesList.show(w, rc, s)
}

// ---- products ----

var productsList = list[Product]{
	path: "/v1/products",
	typ:  "products",
	sorts: map[string]func(a, b *Product) int{
		"title":       compareText(func(p *Product) string { return p.Title }),
		"description": compareText(func(p *Product) string { return p.Description }),
		"status":      compareText(func(p *Product) string { return p.Status }),
	},
	id:    func(p *Product) string { return p.ID },
	write: writeProduct,
}

var productAttrs = []attr[Product]{
	{"created_at", func(j *jw, p *Product) { j.time(p.CreatedAt) }},
	{"title", func(j *jw, p *Product) { j.str(p.Title) }},
	{"description", func(j *jw, p *Product) { j.strOrNull(p.Description) }},
	{"status", func(j *jw, p *Product) { j.str(p.Status) }},
	{"members_aggregate_count", func(j *jw, p *Product) { j.int(int64(p.MembersCount)) }},
	{"product_type_name", func(j *jw, p *Product) { j.str(p.ProductTypeName) }},
	{"product_type_id", func(j *jw, p *Product) { j.int(int64(p.ProductTypeID)) }},
	{"publish_status", func(j *jw, p *Product) { j.str(p.PublishStatus) }},
	{"thumbnail_url", func(j *jw, p *Product) { j.strOrNull(p.ThumbnailURL) }},
	{"url", func(j *jw, p *Product) { j.strOrNull(p.URL) }},
}

func writeProduct(j *jw, p *Product, only map[string]bool) {
	j.obj()
	j.k("id")
	j.str(p.ID)
	j.k("type")
	j.str("products")
	writeAttrs(j, productAttrs, p, only)
	rel := j.relationships(only)
	rel.toOne("site", "sites", p.SiteID)
	rel.end()
	j.endObj()
}

func writeProductsByID(j *jw, st *Store, ids []string, only map[string]bool) {
	for _, id := range ids {
		p, _ := st.Product(id)
		writeProduct(j, p, only)
	}
}

func listProducts(st *Store, w http.ResponseWriter, rc *reqCtx, _ string) {
	var exclude func(*Product) bool
	if types := rc.q["filter[exclude_product_types][]"]; len(types) > 0 {
		exclude = func(p *Product) bool { return !slices.Contains(types, p.ProductizableType) }
	}
	productsList.serve(w, rc, st.Products,
		textFilter(rc.q, "site_id", func(p *Product) string { return p.SiteID }),
		textFilter(rc.q, "title_cont", func(p *Product) string { return p.Title }),
		textFilter(rc.q, "description_cont", func(p *Product) string { return p.Description }),
		textFilter(rc.q, "status_eq", func(p *Product) string { return p.Status }),
		exclude,
	)
}

func showProduct(st *Store, w http.ResponseWriter, rc *reqCtx, id string) {
	p, ok := st.Product(id)
	if !ok {
		notFound(w, "product", id)
		return
	}
	productsList.show(w, rc, p)
}

// ---- offers ----

var offersList = list[Offer]{
	path: "/v1/offers",
	typ:  "offers",
	sorts: map[string]func(a, b *Offer) int{
		"title":          compareText(func(o *Offer) string { return o.Title }),
		"price_in_cents": func(a, b *Offer) int { return cmp.Compare(a.PriceInCents, b.PriceInCents) },
	},
	id:    func(o *Offer) string { return o.ID },
	write: writeOffer,
}

var offerAttrs = []attr[Offer]{
	{"title", func(j *jw, o *Offer) { j.str(o.Title) }},
	{"description", func(j *jw, o *Offer) { j.strOrNull(o.Description) }},
	{"internal_title", func(j *jw, o *Offer) { j.strOrNull(o.InternalTitle) }},
	{"currency", func(j *jw, o *Offer) { j.str(o.Currency) }},
	{"price_in_cents", func(j *jw, o *Offer) { j.int(int64(o.PriceInCents)) }},
	{"payment_type", func(j *jw, o *Offer) { j.str(o.PaymentType) }},
	{"token", func(j *jw, o *Offer) { j.str(o.Token) }},
	{"payment_method", func(j *jw, o *Offer) { j.str(o.PaymentMethod) }},
	{"price_description", func(j *jw, o *Offer) { j.str(o.PriceDescription) }},
	{"checkout_url", func(j *jw, o *Offer) { j.str(o.CheckoutURL) }},
	{"recurring_offer", func(j *jw, o *Offer) { j.bool(o.RecurringOffer) }},
	{"subscription", func(j *jw, o *Offer) { j.bool(o.Subscription) }},
	{"one_time", func(j *jw, o *Offer) { j.bool(o.OneTime) }},
	{"single", func(j *jw, o *Offer) { j.bool(o.Single) }},
	{"free", func(j *jw, o *Offer) { j.bool(o.Free) }},
	{"image_url", func(j *jw, o *Offer) { j.strOrNull(o.ImageURL) }},
}

func writeOffer(j *jw, o *Offer, only map[string]bool) {
	j.obj()
	j.k("id")
	j.str(o.ID)
	j.k("type")
	j.str("offers")
	writeAttrs(j, offerAttrs, o, only)
	rel := j.relationships(only)
	rel.toOne("site", "sites", o.SiteID)
	rel.toMany("products", "products", o.ProductIDs, "")
	rel.end()
	j.endObj()
}

func writeOffersByID(j *jw, st *Store, ids []string, only map[string]bool) {
	for _, id := range ids {
		o, _ := st.Offer(id)
		writeOffer(j, o, only)
	}
}

func listOffers(st *Store, w http.ResponseWriter, rc *reqCtx, _ string) {
	offersList.serve(w, rc, st.Offers,
		textFilter(rc.q, "site_id", func(o *Offer) string { return o.SiteID }),
		textFilter(rc.q, "title_cont", func(o *Offer) string { return o.Title }),
		textFilter(rc.q, "description_cont", func(o *Offer) string { return o.Description }),
	)
}

// showOffer answers GET /v1/offers/{id}; include=products adds the products.
func showOffer(st *Store, w http.ResponseWriter, rc *reqCtx, id string) {
	o, ok := st.Offer(id)
	if !ok {
		notFound(w, "offer", id)
		return
	}
	j := newJW()
	j.obj()
	j.k("data")
	writeOffer(j, o, fieldSet(rc.q, "offers"))
	if len(includes(rc.q, "products")) > 0 {
		j.k("included")
		j.arr()
		writeProductsByID(j, st, o.ProductIDs, fieldSet(rc.q, "products"))
		j.endArr()
	}
	j.selfLink(rc.self())
	j.endObj()
	sendDoc(w, j)
}

// offerProducts answers GET /v1/offers/{id}/relationships/products.
func offerProducts(st *Store, w http.ResponseWriter, rc *reqCtx, id string) {
	o, ok := st.Offer(id)
	if !ok {
		notFound(w, "offer", id)
		return
	}
	relationshipDoc(w, rc, "products", o.ProductIDs)
}

// ---- contact tags ----

var tagsList = list[Tag]{
	path: "/v1/contact_tags",
	typ:  "contact_tags",
	sorts: map[string]func(a, b *Tag) int{
		"name": compareText(func(t *Tag) string { return t.Name }),
	},
	id:    func(t *Tag) string { return t.ID },
	write: writeTag,
}

var tagAttrs = []attr[Tag]{
	{"name", func(j *jw, t *Tag) { j.str(t.Name) }},
}

func writeTag(j *jw, t *Tag, only map[string]bool) {
	j.obj()
	j.k("id")
	j.str(t.ID)
	j.k("type")
	j.str("contact_tags")
	writeAttrs(j, tagAttrs, t, only)
	rel := j.relationships(only)
	rel.toOne("site", "sites", t.SiteID)
	rel.end()
	j.endObj()
}

func listTags(st *Store, w http.ResponseWriter, rc *reqCtx, _ string) {
	tagsList.serve(w, rc, st.Tags,
		textFilter(rc.q, "site_id", func(t *Tag) string { return t.SiteID }),
		textFilter(rc.q, "name_cont", func(t *Tag) string { return t.Name }),
	)
}

func showTag(st *Store, w http.ResponseWriter, rc *reqCtx, id string) {
	t, ok := st.Tag(id)
	if !ok {
		notFound(w, "contact tag", id)
		return
	}
	tagsList.show(w, rc, t)
}

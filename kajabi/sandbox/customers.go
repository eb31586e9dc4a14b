package sandbox

import (
	"cmp"
	"net/http"
	"strings"
)

// customerSorts are the sort keys GET /v1/customers accepts, each an
// ascending comparison. Ties are broken by id in the direction of the sort,
// which makes "-key" the exact reverse of "key" and lets one presorted order
// per key (built at New) serve both directions.
var customerSorts = map[string]func(a, b *row) int{
	"name":        func(a, b *row) int { return strings.Compare(a.c.Name, b.c.Name) },
	"email":       func(a, b *row) int { return strings.Compare(a.c.Email, b.c.Email) },
	"created_at":  func(a, b *row) int { return a.c.CreatedAt.Compare(b.c.CreatedAt) },
	"net_revenue": func(a, b *row) int { return cmp.Compare(a.c.NetRevenueCents, b.c.NetRevenueCents) },
	// Customers who never signed in have no last_request_at; like
	// PostgreSQL, they sort after everyone ascending and first descending.
	"last_request_at": func(a, b *row) int {
		az, bz := a.c.LastRequestAt.IsZero(), b.c.LastRequestAt.IsZero()
		switch {
		case az && bz:
			return 0
		case az:
			return 1
		case bz:
			return -1
		}
		return a.c.LastRequestAt.Compare(b.c.LastRequestAt)
	},
}

// parseSort reads the sort parameter: a key, "-" for descending. Only the
// first of a comma-separated list counts; an unknown key gives the default,
// since the spec gives list endpoints no 400 answer.
func parseSort(v string, known func(string) bool, defKey string, defDesc bool) (string, bool) {
	v, _, _ = strings.Cut(strings.TrimSpace(v), ",")
	key, desc := strings.CutPrefix(strings.TrimSpace(v), "-")
	if !known(key) {
		return defKey, defDesc
	}
	return key, desc
}

// listCustomers answers GET /v1/customers: filter by linear scan over the
// presorted order, keeping only the requested page but counting all matches.
//
// Kajabi requires filter[site_id] "when the account has multiple sites" (its
// docs page and the parameter's description); without it the sandbox answers
// 400 Bad Request with a JSON:API error (errors_bad_request) whose
// source.parameter is filter[site_id]. The spec documents no 400 here, and
// no status for this case at all; 400 is JSON:API's answer to a query
// parameter the server cannot accept.
func listCustomers(st *Store, w http.ResponseWriter, rc *reqCtx, _ string) {
	if len(st.Sites) > 1 && strings.TrimSpace(rc.q.Get("filter[site_id]")) == "" {
		sendParamError(w, http.StatusBadRequest, "filter[site_id]",
			"filter[site_id] is required when the account has multiple sites")
		return
	}
	preds, bad := customerPredicates(rc.q, st.Now)
	if bad != "" {
		sendParamError(w, http.StatusBadRequest, bad, "the value of "+bad+" cannot be read")
		return
	}
	key, desc := parseSort(rc.q.Get("sort"), func(k string) bool { _, ok := customerSorts[k]; return ok }, "created_at", true)
	order := st.orders[key]
	p := parsePaging(rc.q)
	lo := p.offset()
	page := make([]*row, 0, p.size)
	total := 0
	n := len(order)
scan:
	for k := 0; k < n; k++ {
		i := order[k]
		if desc {
			i = order[n-1-k]
		}
		r := &st.rows[i]
		for _, pred := range preds {
			if !pred(r) {
				continue scan
			}
		}
		if total >= lo && len(page) < p.size {
			page = append(page, r)
		}
		total++
	}

	only := fieldSet(rc.q, "customers")
	j := newJW()
	j.obj()
	j.k("data")
	j.arr()
	for _, r := range page {
		writeCustomer(j, rc, r.c, only, false)
	}
	j.endArr()
	rc.pageLinks(j, "/v1/customers", p, total)
	j.endObj()
	sendDoc(w, j)
}

// showCustomer answers GET /v1/customers/{id}; include may name contact,
// offers and products.
func showCustomer(st *Store, w http.ResponseWriter, rc *reqCtx, id string) {
	c, ok := st.Customer(id)
	if !ok {
		notFound(w, "customer", id)
		return
	}
	j := newJW()
	j.obj()
	j.k("data")
	writeCustomer(j, rc, c, fieldSet(rc.q, "customers"), true)
	if inc := includes(rc.q, "contact", "offers", "products"); len(inc) > 0 {
		j.k("included")
		j.arr()
		for _, name := range inc {
			switch name {
			case "contact":
				writeContact(j, rc, st, st.ContactOf(c), fieldSet(rc.q, "contacts"))
			case "offers":
				writeOffersByID(j, st, c.OfferIDs, fieldSet(rc.q, "offers"))
			case "products":
				writeProductsByID(j, st, c.ProductIDs, fieldSet(rc.q, "products"))
			}
		}
		j.endArr()
	}
	j.selfLink(rc.self())
	j.endObj()
	sendDoc(w, j)
}

// customerOffers answers GET /v1/customers/{id}/relationships/offers.
func customerOffers(st *Store, w http.ResponseWriter, rc *reqCtx, id string) {
	c, ok := st.Customer(id)
	if !ok {
		notFound(w, "customer", id)
		return
	}
	relationshipDoc(w, rc, "offers", c.OfferIDs)
}

// showContact answers GET /v1/contacts/{id}; include may name offers, tags
// and customer.
func showContact(st *Store, w http.ResponseWriter, rc *reqCtx, id string) {
	ct, ok := st.Contact(id)
	if !ok {
		notFound(w, "contact", id)
		return
	}
	c, _ := st.Customer(ct.CustomerID)
	j := newJW()
	j.obj()
	j.k("data")
	writeContact(j, rc, st, ct, fieldSet(rc.q, "contacts"))
	if inc := includes(rc.q, "offers", "tags", "customer"); len(inc) > 0 {
		j.k("included")
		j.arr()
		for _, name := range inc {
			switch name {
			case "offers":
				writeOffersByID(j, st, c.OfferIDs, fieldSet(rc.q, "offers"))
			case "tags":
				only := fieldSet(rc.q, "contact_tags")
				for _, tid := range ct.TagIDs {
					t, _ := st.Tag(tid)
					writeTag(j, t, only)
				}
			case "customer":
				writeCustomer(j, rc, c, fieldSet(rc.q, "customers"), false)
			}
		}
		j.endArr()
	}
	j.selfLink(rc.self())
	j.endObj()
	sendDoc(w, j)
}

// contactOffers answers GET /v1/contacts/{id}/relationships/offers.
func contactOffers(st *Store, w http.ResponseWriter, rc *reqCtx, id string) {
	ct, ok := st.Contact(id)
	if !ok {
		notFound(w, "contact", id)
		return
	}
	c, _ := st.Customer(ct.CustomerID)
	relationshipDoc(w, rc, "offers", c.OfferIDs)
}

// contactTags answers GET /v1/contacts/{id}/relationships/tags.
func contactTags(st *Store, w http.ResponseWriter, rc *reqCtx, id string) {
	ct, ok := st.Contact(id)
	if !ok {
		notFound(w, "contact", id)
		return
	}
	relationshipDoc(w, rc, "contact_tags", ct.TagIDs)
}

var customerAttrs = []attr[Customer]{
	{"name", func(j *jw, c *Customer) { j.str(c.Name) }},
	{"email", func(j *jw, c *Customer) { j.str(c.Email) }},
	{"avatar", func(j *jw, c *Customer) { j.strOrNull(c.Avatar) }},
	{"external_user_id", func(j *jw, c *Customer) { j.strOrNull(c.ExternalUserID) }},
	{"public_bio", func(j *jw, c *Customer) { j.strOrNull(c.PublicBio) }},
	{"public_location", func(j *jw, c *Customer) { j.strOrNull(c.PublicLocation) }},
	{"public_website", func(j *jw, c *Customer) { j.strOrNull(c.PublicWebsite) }},
	{"socials", func(j *jw, c *Customer) {
		if c.Socials == nil {
			j.null()
			return
		}
		j.obj()
		j.k("twitter")
		j.strOrNull(c.Socials.Twitter)
		j.k("facebook")
		j.strOrNull(c.Socials.Facebook)
		j.k("instagram")
		j.strOrNull(c.Socials.Instagram)
		j.endObj()
	}},
	{"net_revenue", func(j *jw, c *Customer) { j.str(centsString(c.NetRevenueCents)) }},
	{"sign_in_count", func(j *jw, c *Customer) { j.int(int64(c.SignInCount)) }},
	{"last_request_at", func(j *jw, c *Customer) { j.time(c.LastRequestAt) }},
	{"bounced_at", func(j *jw, c *Customer) { j.time(c.BouncedAt) }},
	{"created_at", func(j *jw, c *Customer) { j.time(c.CreatedAt) }},
	{"updated_at", func(j *jw, c *Customer) { j.time(c.UpdatedAt) }},
}

// writeCustomer writes a customer resource object. In lists the offers
// relationship is a link only; the single-customer document also carries
// the offer identifiers, as the two response schemas differ there.
func writeCustomer(j *jw, rc *reqCtx, c *Customer, only map[string]bool, show bool) {
	j.obj()
	j.k("id")
	j.str(c.ID)
	j.k("type")
	j.str("customers")
	writeAttrs(j, customerAttrs, c, only)
	rel := j.relationships(only)
	rel.toOne("contact", "contacts", c.ContactID)
	rel.toOne("site", "sites", c.SiteID)
	offersSelf := rc.url("/v1/customers/" + c.ID + "/relationships/offers")
	if show {
		rel.toMany("offers", "offers", c.OfferIDs, offersSelf)
	} else {
		rel.linkOnly("offers", offersSelf)
	}
	rel.toMany("products", "products", c.ProductIDs, "")
	rel.end()
	j.k("links")
	j.obj()
	j.k("contact")
	j.str(rc.url("/v1/contacts/" + c.ContactID))
	j.endObj()
	j.endObj()
}

var contactAttrs = []attr[Contact]{
	{"name", func(j *jw, c *Contact) { j.str(c.Name) }},
	{"email", func(j *jw, c *Contact) { j.str(c.Email) }},
	{"phone_number", func(j *jw, c *Contact) { j.strOrNull(c.PhoneNumber) }},
	{"business_number", func(j *jw, c *Contact) { j.strOrNull(c.BusinessNumber) }},
	{"subscribed", func(j *jw, c *Contact) { j.bool(c.Subscribed) }},
	{"address_line_1", func(j *jw, c *Contact) { j.strOrNull(c.AddressLine1) }},
	{"address_line_2", func(j *jw, c *Contact) { j.strOrNull(c.AddressLine2) }},
	{"address_city", func(j *jw, c *Contact) { j.strOrNull(c.AddressCity) }},
	{"address_state", func(j *jw, c *Contact) { j.strOrNull(c.AddressState) }},
	{"address_country", func(j *jw, c *Contact) { j.strOrNull(c.AddressCountry) }},
	{"external_user_id", func(j *jw, c *Contact) { j.strOrNull(c.ExternalUserID) }},
	{"address_zip", func(j *jw, c *Contact) { j.strOrNull(c.AddressZip) }},
	{"custom_1", func(j *jw, c *Contact) { j.strOrNull(c.Custom1) }},
	{"custom_2", func(j *jw, c *Contact) { j.strOrNull(c.Custom2) }},
	{"custom_3", func(j *jw, c *Contact) { j.strOrNull(c.Custom3) }},
	{"created_at", func(j *jw, c *Contact) { j.time(c.CreatedAt) }},
	{"updated_at", func(j *jw, c *Contact) { j.time(c.UpdatedAt) }},
}

func writeContact(j *jw, rc *reqCtx, st *Store, ct *Contact, only map[string]bool) {
	c, _ := st.Customer(ct.CustomerID)
	j.obj()
	j.k("id")
	j.str(ct.ID)
	j.k("type")
	j.str("contacts")
	writeAttrs(j, contactAttrs, ct, only)
	rel := j.relationships(only)
	rel.toOne("site", "sites", ct.SiteID)
	rel.toOne("customer", "customers", ct.CustomerID)
	rel.toMany("tags", "contact_tags", ct.TagIDs, rc.url("/v1/contacts/"+ct.ID+"/relationships/tags"))
	rel.toMany("offers", "offers", c.OfferIDs, rc.url("/v1/contacts/"+ct.ID+"/relationships/offers"))
	rel.end()
	j.k("links")
	j.obj()
	j.k("customer")
	j.str(rc.url("/v1/customers/" + ct.CustomerID))
	j.endObj()
	j.endObj()
}

// relationshipDoc writes a relationship document: identifiers plus a self
// link to the request itself.
func relationshipDoc(w http.ResponseWriter, rc *reqCtx, typ string, ids []string) {
	j := newJW()
	j.obj()
	j.k("data")
	j.idents(typ, ids)
	j.selfLink(rc.url(rc.r.URL.EscapedPath()))
	j.endObj()
	sendDoc(w, j)
}

func notFound(w http.ResponseWriter, what, id string) {
	sendError(w, http.StatusNotFound, what+" "+id+" not found")
}

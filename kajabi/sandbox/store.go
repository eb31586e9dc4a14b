package sandbox

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Store is the seeded data set a Sandbox serves. It is built once by New and
// changes only through the writes the sandbox serves (history_routes.go), under mu.
//
// It is exported so tests elsewhere in the project can work out, from the
// facts themselves, what an endpoint ought to answer. Treat every slice, map
// and struct reached from it as read-only: writing to them changes what the
// sandbox serves and races with running requests. A test that writes through
// the sandbox reads what it wrote with the locked accessors (OfferIDsOf,
// TagIDsOf, Purchases, Notes...).
//
// Conventions for all the record types below: an empty string means the value
// is absent (the API shows null), a zero time.Time means "never" (null), and
// id slices are sorted by numeric id.
type Store struct {
	// Now is the reference clock every generated date and every "in the last
	// N days" filter is measured against.
	Now time.Time

	Sites     []Site
	Customers []Customer // ordered by id, which is also creation order
	// Contacts[i] is the contact of Customers[i]; contact ids are assigned in
	// contact creation order, so they do not follow customer ids.
	Contacts    []Contact
	Products    []Product
	Offers      []Offer
	Tags        []Tag
	Coupons     []Coupon
	Forms       []Form
	Events      []Event
	Assessments []Assessment
	Broadcasts  []Broadcast // per site in sending order
	Newsletters []Newsletter
	Sequences   []Sequence

	siteByID     map[string]int
	customerByID map[string]int
	contactByID  map[string]int
	productByID  map[string]int
	offerByID    map[string]int
	tagByID      map[string]int

	rows   []row              // per-customer filter view, parallel to Customers
	orders map[string][]int32 // ascending row order for each customer sort key

	// hist is every customer's purchases, orders, transactions and notes (history.go).
	hist *history
	// mu lets the writes the sandbox models (offer grants, tags, notes) change the store:
	// ServeHTTP holds it for reading around every read and for writing around every write.
	mu sync.RWMutex
}

// Site is one Kajabi site (a creator's school); every other record belongs to
// exactly one.
type Site struct {
	ID        string
	Title     string
	Subdomain string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Product is something a customer gets access to through an offer.
type Product struct {
	ID              string
	SiteID          string
	Title           string
	Description     string
	Status          string // "ready" or "draft"
	PublishStatus   string // "published" or "draft"
	ProductTypeName string
	ProductTypeID   int
	// ProductizableType is the internal class name that
	// filter[exclude_product_types][] matches; the API never shows it.
	ProductizableType string
	ThumbnailURL      string
	URL               string
	MembersCount      int // customers who currently own it
	CreatedAt         time.Time
}

// Offer is what gets granted (or sold) to a customer; it grants ProductIDs.
type Offer struct {
	ID               string
	SiteID           string
	Title            string
	Description      string
	InternalTitle    string
	Currency         string
	PriceInCents     int
	PaymentType      string // "free", "single", "subscription" or "multipay"
	Token            string
	PaymentMethod    string // empty for free offers
	PriceDescription string
	CheckoutURL      string
	RecurringOffer   bool
	Subscription     bool
	OneTime          bool
	Single           bool
	Free             bool
	ImageURL         string
	ProductIDs       []string
	CreatedAt        time.Time
}

// Tag is a contact tag (JSON:API type "contact_tags").
type Tag struct {
	ID     string
	SiteID string
	Name   string
}

// Coupon is a checkout coupon code of a site.
type Coupon struct {
	Code   string
	SiteID string
}

// Form is an opt-in form contacts can submit.
type Form struct {
	ID     string
	SiteID string
	Title  string
}

// Event is an event customers can register for.
type Event struct {
	ID       string
	SiteID   string
	Title    string
	StartsAt time.Time
}

// Assessment is a graded quiz inside a course.
type Assessment struct {
	ID     string
	SiteID string
	Title  string
}

// Broadcast is a one-off marketing email sent to a site's subscribers at
// SentAt. All email activity in the sandbox comes from broadcasts.
type Broadcast struct {
	ID      string
	SiteID  string
	Subject string
	SentAt  time.Time
}

// Newsletter is a list contacts can subscribe to or leave.
type Newsletter struct {
	ID     string
	SiteID string
	Title  string
}

// Sequence is an automated email sequence (drip campaign).
type Sequence struct {
	ID     string
	SiteID string
	Title  string
}

// Socials holds a customer's social profile links; empty means not given.
type Socials struct {
	Twitter   string
	Facebook  string
	Instagram string
}

// Customer is a member of a site: someone who has (or had) access through an
// offer. It carries the membership side of the person; the marketing side
// (tags, forms, email) lives on their Contact.
type Customer struct {
	ID        string
	ContactID string
	SiteID    string
	Name      string
	Email     string

	Avatar         string
	ExternalUserID string
	PublicBio      string
	PublicLocation string
	PublicWebsite  string
	Socials        *Socials // nil when the customer gave none

	NetRevenueCents int64
	SignInCount     int
	// JoinedAt is the first sign-in; zero (with LastRequestAt zero and
	// SignInCount 0) for customers who never signed in.
	JoinedAt      time.Time
	LastRequestAt time.Time
	// BouncedAt is when mail to the customer first bounced; HardBouncing
	// says whether that bounce was permanent.
	BouncedAt    time.Time
	HardBouncing bool
	CreatedAt    time.Time
	UpdatedAt    time.Time
	Hidden       bool

	OfferIDs        []string // offers currently granted
	RevokedOfferIDs []string // offers once granted, since taken away
	// ProductIDs are the products the customer owns now (through OfferIDs);
	// ActiveProductIDs is the subset whose membership is active;
	// PreviousProductIDs were owned through a revoked offer and no longer are
	// (disjoint from ProductIDs).
	ProductIDs         []string
	ActiveProductIDs   []string
	PreviousProductIDs []string
	CouponCodes        []string // as printed on the coupon (upper case)

	RegisteredEventIDs []string
	// CompletedAssessmentIDs holds every finished assessment; Passed and
	// Failed are disjoint subsets of it (some assessments are ungraded).
	CompletedAssessmentIDs []string
	PassedAssessmentIDs    []string
	FailedAssessmentIDs    []string
}

// Contact is the marketing record of the person behind a customer: the
// contact attributes the API shows, tags, forms, email subscriptions and
// email activity.
type Contact struct {
	ID         string
	CustomerID string
	SiteID     string
	Name       string
	Email      string

	PhoneNumber       string
	MobilePhoneNumber string // filterable, but not an attribute the API shows
	BusinessNumber    string
	AddressLine1      string
	AddressLine2      string
	AddressCity       string
	AddressState      string
	AddressCountry    string
	AddressZip        string
	ExternalUserID    string
	Custom1           string
	Custom2           string
	Custom3           string
	CreatedAt         time.Time
	UpdatedAt         time.Time

	TagIDs           []string
	SubmittedFormIDs []string

	// Subscribed is the marketing opt-in as it stands now: SubscribedAt set
	// and UnsubscribedAt zero. A zero SubscribedAt means never subscribed.
	Subscribed     bool
	SubscribedAt   time.Time
	UnsubscribedAt time.Time
	// At most one of these equals UnsubscribedAt, telling how the contact
	// left: an admin removed them, or they used an unsubscribe link.
	ManuallyUnsubscribedAt time.Time
	OptedOutAt             time.Time
	ComplainedAt           time.Time // marked a broadcast as spam
	Suppressed             bool      // no longer mailed: hard bounce, complaint or by hand

	SubscribedNewsletterIDs   []string
	UnsubscribedNewsletterIDs []string // disjoint from SubscribedNewsletterIDs
	EmailSequenceIDs          []string

	// Every sent broadcast ends up delivered, bounced or dropped; opened is a
	// subset of delivered and clicked a subset of opened.
	SentBroadcastIDs      []string
	DeliveredBroadcastIDs []string
	OpenedBroadcastIDs    []string
	ClickedBroadcastIDs   []string
	BouncedBroadcastIDs   []string
	DroppedBroadcastIDs   []string
	LastEmailDeliveredAt  time.Time
	LastEmailOpenedAt     time.Time
	LastEmailClickedAt    time.Time

	// Engagement is the open-data bucket as of Store.Now: "healthy" (opened
	// within 30 days), "passive" (last open 30 to 90 days ago), "unengaged"
	// (last open over 90 days ago) or "inactive" (delivered to, never
	// opened); empty when nothing was ever delivered, so there is no open
	// data.
	Engagement string
}

// Site returns the site with the given id.
func (s *Store) Site(id string) (*Site, bool) {
	i, ok := s.siteByID[id]
	if !ok {
		return nil, false
	}
	return &s.Sites[i], true
}

// Customer returns the customer with the given id.
func (s *Store) Customer(id string) (*Customer, bool) {
	i, ok := s.customerByID[id]
	if !ok {
		return nil, false
	}
	return &s.Customers[i], true
}

// Contact returns the contact with the given id.
func (s *Store) Contact(id string) (*Contact, bool) {
	i, ok := s.contactByID[id]
	if !ok {
		return nil, false
	}
	return &s.Contacts[i], true
}

// ContactOf returns the contact of a customer of this store.
func (s *Store) ContactOf(c *Customer) *Contact {
	return &s.Contacts[s.customerByID[c.ID]]
}

// Product returns the product with the given id.
func (s *Store) Product(id string) (*Product, bool) {
	i, ok := s.productByID[id]
	if !ok {
		return nil, false
	}
	return &s.Products[i], true
}

// Offer returns the offer with the given id.
func (s *Store) Offer(id string) (*Offer, bool) {
	i, ok := s.offerByID[id]
	if !ok {
		return nil, false
	}
	return &s.Offers[i], true
}

// Tag returns the contact tag with the given id.
func (s *Store) Tag(id string) (*Tag, bool) {
	i, ok := s.tagByID[id]
	if !ok {
		return nil, false
	}
	return &s.Tags[i], true
}

// row is the per-customer view the customer filters and sorts read: the two
// records plus the lower-cased text fields, folded once at New so a request
// does no case folding of stored data.
type row struct {
	c  *Customer
	ct *Contact
	id int64
	lc [numLC]string
}

// indexes into row.lc
const (
	lcName = iota
	lcEmail
	lcPhone
	lcMobile
	lcAddr1
	lcAddr2
	lcCity
	lcState
	lcCountry
	lcZip
	numLC
)

// index builds the lookup maps, filter rows and presorted customer orders.
func (s *Store) index() {
	s.siteByID = make(map[string]int, len(s.Sites))
	for i := range s.Sites {
		s.siteByID[s.Sites[i].ID] = i
	}
	s.productByID = make(map[string]int, len(s.Products))
	for i := range s.Products {
		s.productByID[s.Products[i].ID] = i
	}
	s.offerByID = make(map[string]int, len(s.Offers))
	for i := range s.Offers {
		s.offerByID[s.Offers[i].ID] = i
	}
	s.tagByID = make(map[string]int, len(s.Tags))
	for i := range s.Tags {
		s.tagByID[s.Tags[i].ID] = i
	}
	s.customerByID = make(map[string]int, len(s.Customers))
	s.contactByID = make(map[string]int, len(s.Contacts))
	s.rows = make([]row, len(s.Customers))
	for i := range s.Customers {
		c, ct := &s.Customers[i], &s.Contacts[i]
		s.customerByID[c.ID] = i
		s.contactByID[ct.ID] = i
		id, _ := strconv.ParseInt(c.ID, 10, 64)
		r := &s.rows[i]
		r.c, r.ct, r.id = c, ct, id
		for k, v := range [numLC]string{
			lcName: ct.Name, lcEmail: ct.Email, lcPhone: ct.PhoneNumber, lcMobile: ct.MobilePhoneNumber,
			lcAddr1: ct.AddressLine1, lcAddr2: ct.AddressLine2, lcCity: ct.AddressCity,
			lcState: ct.AddressState, lcCountry: ct.AddressCountry, lcZip: ct.AddressZip,
		} {
			r.lc[k] = strings.ToLower(v)
		}
	}
	s.orders = make(map[string][]int32, len(customerSorts))
	for key, less := range customerSorts {
		order := make([]int32, len(s.rows))
		for i := range order {
			order[i] = int32(i)
		}
		slices.SortFunc(order, func(a, b int32) int {
			ra, rb := &s.rows[a], &s.rows[b]
			if c := less(ra, rb); c != 0 {
				return c
			}
			return cmp.Compare(ra.id, rb.id)
		})
		s.orders[key] = order
	}
}

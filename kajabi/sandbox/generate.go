package sandbox

import (
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// defaultSeed is used when Options.Seed is zero, so that "no seed" still means
// one fixed, reproducible data set.
const defaultSeed = 20260610

// First ids of each resource type. The ranges are far apart so that an id
// used for the wrong type (a customer id where a contact id belongs, say)
// finds nothing instead of a random other record.
const (
	firstSiteID       = 101
	firstProductID    = 2001
	firstOfferID      = 3001
	firstTagID        = 4001
	firstFormID       = 5001
	firstEventID      = 6001
	firstAssessmentID = 7001
	firstBroadcastID  = 8001
	firstNewsletterID = 9001
	firstSequenceID   = 9501
	firstCustomerID   = 100001
	firstContactID    = 500001
)

const day = 24 * time.Hour

type gen struct {
	r   *rand.Rand
	now time.Time
	st  *Store

	// per-site catalogue slices (indexes into the store's slices), filled by
	// genSite and used while generating customers
	site []siteCatalog
}

type siteCatalog struct {
	offers      []int
	offerWeight []float64
	tags        []int
	tagP        []float64
	coupons     []int
	forms       []int
	formP       []float64
	events      []int
	eventP      []float64
	assessments []int
	assessP     []float64
	broadcasts  []int
	newsletters []int
	sequences   []int
	seqP        []float64
	emails      map[string]bool
}

func generate(customers, sites int, seed int64, now time.Time) *Store {
	if seed == 0 {
		seed = defaultSeed
	}
	g := &gen{
		r:   rand.New(rand.NewPCG(uint64(seed), 0x6b616a616269)),
		now: now,
		st:  &Store{Now: now},
	}
	for i := 0; i < sites; i++ {
		g.genSite(i)
	}
	g.genCustomers(customers)
	g.st.index()
	g.st.hist = genHistory(g.st, seed)
	return g.st
}

// ---- small random helpers ----

func (g *gen) chance(p float64) bool { return g.r.Float64() < p }

func (g *gen) pick(list []string) string { return list[g.r.IntN(len(list))] }

// between returns a uniform time in [a, b], whole seconds.
func (g *gen) between(a, b time.Time) time.Time {
	if !b.After(a) {
		return a
	}
	span := b.Sub(a)
	return a.Add(time.Duration(g.r.Int64N(int64(span/time.Second)+1)) * time.Second)
}

func (g *gen) ago(d time.Duration) time.Time { return g.now.Add(-d) }

func (g *gen) capNow(t time.Time) time.Time {
	if t.After(g.now) {
		return g.now
	}
	return t
}

func latest(ts ...time.Time) time.Time {
	var m time.Time
	for _, t := range ts {
		if t.After(m) {
			m = t
		}
	}
	return m
}

func idLess(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

func sortIDs(ids []string) []string {
	sort.Slice(ids, func(i, j int) bool { return idLess(ids[i], ids[j]) })
	return ids
}

func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, c := range strings.ToLower(s) {
		switch {
		case c >= 'a' && c <= 'z' || c >= '0' && c <= '9':
			b.WriteRune(c)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

func dollars(cents int) string {
	return "$" + strconv.Itoa(cents/100) + "." + twoDigits(cents%100)
}

func twoDigits(n int) string {
	if n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}

// ---- sites and their catalogues ----

var siteNames = []string{
	"Mindful Business Academy", "Studio Pottery School", "Trail Running Lab",
	"Code Kitchen", "Watercolor Weekly", "Calm Parenting Hub",
}

var productNames = []struct{ title, kind string }{
	{"Marketing Masterclass", "Course"}, {"Foundations Course", "Course"},
	{"Advanced Techniques", "Course"}, {"30-Day Challenge", "Course"},
	{"Spring Cohort", "Cohort"}, {"Group Coaching", "Coaching"},
	{"1:1 Mentoring", "Coaching"}, {"Inner Circle Community", "Community"},
	{"Members Podcast", "Podcast"}, {"Starter Toolkit", "Course"},
	{"Live Workshop Replays", "Course"}, {"Certification Program", "Cohort"},
	{"Accountability Circle", "Community"}, {"Behind the Scenes Audio", "Podcast"},
}

var productKinds = map[string]struct {
	name, productizable string
	id                  int
}{
	"Course":    {"Course", "Course", 1},
	"Cohort":    {"Course", "Courses::CohortCourse", 1},
	"Coaching":  {"Coaching", "Coaching::Program", 2},
	"Community": {"Community", "Community", 3},
	"Podcast":   {"Podcast", "Podcast", 4},
}

var productBlurbs = []string{
	"Step-by-step lessons with worksheets and examples.",
	"Short daily lessons that build one habit at a time.",
	"Deep-dive training for people who know the basics.",
	"Recorded sessions plus a private discussion space.",
	"Templates, checklists and swipe files to get started fast.",
}

var tagNames = []string{"Lead", "Customer", "VIP", "Webinar Attendee",
	"Newsletter Reader", "Affiliate", "Churn Risk", "Beta Tester"}
var tagP = []float64{0.55, 0.45, 0.06, 0.2, 0.35, 0.04, 0.08, 0.1}

var couponCodes = []string{"WELCOME10", "SPRING25", "VIP50", "BLACKFRIDAY", "LAUNCH20"}

var formNames = []string{"Free Guide Opt-in", "Waitlist", "Contact Us", "Webinar Signup"}
var formP = []float64{0.3, 0.15, 0.08, 0.2}

var eventNames = []string{"Live Q&A", "Spring Workshop", "Annual Summit"}
var eventP = []float64{0.2, 0.12, 0.06}
var eventOffsets = []time.Duration{-40 * day, -10 * day, 20 * day}

var assessmentNames = []string{"Module 1 Quiz", "Final Exam", "Certification Test"}
var assessmentP = []float64{0.3, 0.18, 0.1}

var broadcastSubjects = []string{
	"Our biggest launch yet", "Three lessons from this month", "You're invited",
	"Last chance: doors close tonight", "A quick question", "New course preview",
	"Behind the scenes", "Your weekly roundup", "Holiday hours", "Big news",
	"Welcome to the new year", "Member spotlight",
}

// broadcastDaysAgo spreads sends so every "in the last N days" window of
// interest (7, 30, 90, 365) catches some and misses others.
var broadcastDaysAgo = []int{600, 420, 300, 220, 160, 110, 75, 45, 27, 13, 6, 2}

var newsletterNames = []string{"Weekly Tips", "Product Updates", "Community Digest"}

var sequenceNames = []string{"Welcome Series", "Onboarding", "Re-engagement", "Launch Countdown"}
var sequenceP = []float64{0.35, 0.25, 0.1, 0.15}

func (g *gen) genSite(i int) {
	st := g.st
	title := siteNames[i%len(siteNames)]
	if i >= len(siteNames) {
		title += " " + strconv.Itoa(i/len(siteNames)+1)
	}
	site := Site{
		ID:        strconv.Itoa(firstSiteID + i),
		Title:     title,
		Subdomain: slug(title),
		CreatedAt: g.between(g.ago(4*365*day), g.ago(3*365*day+30*day)),
		UpdatedAt: g.between(g.ago(60*day), g.ago(day)),
	}
	st.Sites = append(st.Sites, site)
	cat := siteCatalog{emails: map[string]bool{}}

	// products: 8 to 12 distinct titles
	names := slices.Clone(productNames)
	g.r.Shuffle(len(names), func(a, b int) { names[a], names[b] = names[b], names[a] })
	nProducts := 8 + g.r.IntN(5)
	firstProduct := len(st.Products)
	for k := 0; k < nProducts; k++ {
		id := strconv.Itoa(firstProductID + len(st.Products))
		kind := productKinds[names[k].kind]
		p := Product{
			ID:                id,
			SiteID:            site.ID,
			Title:             names[k].title,
			Description:       g.pick(productBlurbs),
			Status:            "ready",
			PublishStatus:     "published",
			ProductTypeName:   kind.name,
			ProductTypeID:     kind.id,
			ProductizableType: kind.productizable,
			URL:               "https://" + site.Subdomain + ".mykajabi.com/products/" + slug(names[k].title),
			CreatedAt:         g.between(site.CreatedAt, g.ago(200*day)),
		}
		if g.chance(0.2) {
			p.Status, p.PublishStatus = "draft", "draft"
		}
		if g.chance(0.6) {
			p.ThumbnailURL = "https://images.example.com/products/" + id + ".jpg"
		}
		st.Products = append(st.Products, p)
	}

	// offers: 10 to 15, cycling through kinds so every payment type exists
	nOffers := 10 + g.r.IntN(6)
	singles := []int{2700, 4700, 9700, 14700, 19700, 29700, 49700}
	monthly := []int{1900, 2999, 3900, 4900, 9900}
	plans := []int{9900, 14900, 19900}
	for k := 0; k < nOffers; k++ {
		id := strconv.Itoa(firstOfferID + len(st.Offers))
		main := st.Products[firstProduct+k%nProducts]
		o := Offer{
			ID:            id,
			SiteID:        site.ID,
			Currency:      "USD",
			Token:         g.token(),
			PaymentMethod: "stripe",
			ProductIDs:    []string{main.ID},
			CreatedAt:     g.between(main.CreatedAt, g.ago(150*day)),
		}
		extra := func(n int) {
			for j := 0; j < n; j++ {
				pid := st.Products[firstProduct+g.r.IntN(nProducts)].ID
				if !slices.Contains(o.ProductIDs, pid) {
					o.ProductIDs = append(o.ProductIDs, pid)
				}
			}
		}
		weight := 1.0 / (1 + 0.25*float64(k))
		switch k % 5 {
		case 0:
			o.Title = "Free Preview: " + main.Title
			o.PaymentType, o.PaymentMethod, o.PriceDescription = "free", "", "Free"
			o.Free = true
			weight *= 2
		case 1, 2:
			o.Title = main.Title
			o.PaymentType = "single"
			o.PriceInCents = singles[g.r.IntN(len(singles))]
			o.PriceDescription = dollars(o.PriceInCents)
			o.OneTime, o.Single = true, true
		case 3:
			o.Title = main.Title + " Membership"
			o.PaymentType = "subscription"
			o.PriceInCents = monthly[g.r.IntN(len(monthly))]
			o.PriceDescription = dollars(o.PriceInCents) + "/month"
			o.RecurringOffer, o.Subscription = true, true
			extra(2)
		case 4:
			o.Title = main.Title + " Payment Plan"
			o.PaymentType = "multipay"
			o.PriceInCents = plans[g.r.IntN(len(plans))]
			o.PriceDescription = "3 payments of " + dollars(o.PriceInCents)
			o.RecurringOffer = true
			extra(1)
		}
		if k >= nProducts {
			o.Title += " (Bundle " + strconv.Itoa(k/nProducts+1) + ")"
			extra(2)
		}
		sortIDs(o.ProductIDs)
		o.Description = "Get " + main.Title + " and everything that comes with it."
		if g.chance(0.7) {
			o.InternalTitle = slug(o.Title) + "-" + strconv.Itoa(o.CreatedAt.Year())
		}
		o.CheckoutURL = "https://" + site.Subdomain + ".mykajabi.com/offers/" + o.Token + "/checkout"
		if g.chance(0.5) {
			o.ImageURL = "https://images.example.com/offers/" + id + ".jpg"
		}
		cat.offers = append(cat.offers, len(st.Offers))
		cat.offerWeight = append(cat.offerWeight, weight)
		st.Offers = append(st.Offers, o)
	}

	for k, name := range tagNames {
		cat.tags = append(cat.tags, len(st.Tags))
		cat.tagP = append(cat.tagP, tagP[k])
		st.Tags = append(st.Tags, Tag{ID: strconv.Itoa(firstTagID + len(st.Tags)), SiteID: site.ID, Name: name})
	}
	for _, code := range couponCodes {
		cat.coupons = append(cat.coupons, len(st.Coupons))
		st.Coupons = append(st.Coupons, Coupon{Code: code, SiteID: site.ID})
	}
	for k, name := range formNames {
		cat.forms = append(cat.forms, len(st.Forms))
		cat.formP = append(cat.formP, formP[k])
		st.Forms = append(st.Forms, Form{ID: strconv.Itoa(firstFormID + len(st.Forms)), SiteID: site.ID, Title: name})
	}
	for k, name := range eventNames {
		cat.events = append(cat.events, len(st.Events))
		cat.eventP = append(cat.eventP, eventP[k])
		st.Events = append(st.Events, Event{
			ID: strconv.Itoa(firstEventID + len(st.Events)), SiteID: site.ID, Title: name,
			StartsAt: g.now.Add(eventOffsets[k]).Truncate(time.Hour),
		})
	}
	for k, name := range assessmentNames {
		cat.assessments = append(cat.assessments, len(st.Assessments))
		cat.assessP = append(cat.assessP, assessmentP[k])
		st.Assessments = append(st.Assessments, Assessment{ID: strconv.Itoa(firstAssessmentID + len(st.Assessments)), SiteID: site.ID, Title: name})
	}
	for k, d := range broadcastDaysAgo {
		cat.broadcasts = append(cat.broadcasts, len(st.Broadcasts))
		st.Broadcasts = append(st.Broadcasts, Broadcast{
			ID: strconv.Itoa(firstBroadcastID + len(st.Broadcasts)), SiteID: site.ID,
			Subject: broadcastSubjects[k%len(broadcastSubjects)],
			SentAt:  g.between(g.ago(time.Duration(d)*day+10*time.Hour), g.ago(time.Duration(d)*day)),
		})
	}
	for _, name := range newsletterNames {
		cat.newsletters = append(cat.newsletters, len(st.Newsletters))
		st.Newsletters = append(st.Newsletters, Newsletter{ID: strconv.Itoa(firstNewsletterID + len(st.Newsletters)), SiteID: site.ID, Title: name})
	}
	for k, name := range sequenceNames {
		cat.sequences = append(cat.sequences, len(st.Sequences))
		cat.seqP = append(cat.seqP, sequenceP[k])
		st.Sequences = append(st.Sequences, Sequence{ID: strconv.Itoa(firstSequenceID + len(st.Sequences)), SiteID: site.ID, Title: name})
	}
	g.site = append(g.site, cat)
}

const tokenAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

func (g *gen) token() string {
	b := make([]byte, 8)
	for i := range b {
		b[i] = tokenAlphabet[g.r.IntN(len(tokenAlphabet))]
	}
	return string(b)
}

// ---- people ----

var firstNames = []string{
	"Olivia", "Liam", "Emma", "Noah", "Ava", "Elijah", "Sophia", "James", "Isabella", "Lucas",
	"Mia", "Mateo", "Amelia", "Benjamin", "Harper", "Henry", "Evelyn", "Theodore", "Abigail", "Jack",
	"Emily", "Levi", "Ella", "Alexander", "Elizabeth", "Daniel", "Camila", "Michael", "Luna", "Samuel",
	"Sofia", "Sebastian", "Avery", "Owen", "Mila", "Wyatt", "Aria", "Julian", "Scarlett", "Leo",
	"Penelope", "David", "Layla", "Gabriel", "Chloe", "Anthony", "Victoria", "Maya", "Jayden", "Nora",
	"Priya", "Arjun", "Aisha", "Omar", "Mei", "Hiroshi", "Yuki", "Carlos", "Lucia", "Diego",
	"Fatima", "Ahmed", "Ingrid", "Lars", "Chiara", "Marco", "Zoe", "Ethan", "Grace", "Isaac",
	"Hannah", "Caleb", "Lily", "Nathan", "Ruby", "Aaron", "Alice", "Adrian", "Naomi", "Felix",
}

var lastNames = []string{
	"Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
	"Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
	"Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson",
	"Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores",
	"Green", "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts",
	"Patel", "Shah", "Kim", "Park", "Chen", "Wang", "Tanaka", "Suzuki", "Rossi", "Bianchi",
	"Muller", "Schmidt", "Johansson", "Larsen", "Dubois", "Moreau", "O'Brien", "Murphy", "Kelly", "Walsh",
	"Novak", "Kowalski", "Silva", "Santos", "Costa", "Haddad", "Cohen", "Levy", "Okafor", "Mensah",
}

var mailDomains = []string{"gmail.com", "gmail.com", "gmail.com", "yahoo.com", "outlook.com",
	"icloud.com", "hotmail.com", "proton.me", "fastmail.com", "example.org"}

type place struct{ city, state, zip, country, dial string }

var places = []struct {
	weight float64
	list   []place
}{
	{0.6, []place{
		{"Austin", "TX", "787", "United States", "+1"}, {"Denver", "CO", "802", "United States", "+1"},
		{"Portland", "OR", "972", "United States", "+1"}, {"Chicago", "IL", "606", "United States", "+1"},
		{"Brooklyn", "NY", "112", "United States", "+1"}, {"Nashville", "TN", "372", "United States", "+1"},
		{"San Diego", "CA", "921", "United States", "+1"}, {"Boston", "MA", "021", "United States", "+1"},
		{"Seattle", "WA", "981", "United States", "+1"}, {"Miami", "FL", "331", "United States", "+1"},
	}},
	{0.12, []place{
		{"Toronto", "ON", "M5V 2T6", "Canada", "+1"}, {"Vancouver", "BC", "V6B 1A1", "Canada", "+1"},
		{"Montreal", "QC", "H2X 1Y4", "Canada", "+1"},
	}},
	{0.1, []place{
		{"London", "England", "SW1A 1AA", "United Kingdom", "+44"}, {"Manchester", "England", "M1 1AE", "United Kingdom", "+44"},
		{"Edinburgh", "Scotland", "EH1 1YZ", "United Kingdom", "+44"},
	}},
	{0.1, []place{
		{"Sydney", "NSW", "2000", "Australia", "+61"}, {"Melbourne", "VIC", "3000", "Australia", "+61"},
	}},
	{0.08, []place{
		{"Berlin", "Berlin", "10115", "Germany", "+49"}, {"Munich", "Bavaria", "80331", "Germany", "+49"},
	}},
}

var streets = []string{"Oak", "Maple", "Cedar", "Pine", "Elm", "Lake", "Hill", "Park", "Washington", "Sunset", "River", "Church"}
var streetKinds = []string{"Street", "Avenue", "Road", "Lane", "Drive", "Way"}
var unitKinds = []string{"Apt", "Suite", "Unit"}
var companies = []string{"Acme Studio", "Northwind", "Bright Path LLC", "Blue Fern Co", "Self-employed", "Harbor & Pine", "Lumen Labs"}
var roles = []string{"Founder", "Coach", "Designer", "Teacher", "Consultant", "Student", "Manager"}
var referrals = []string{"Podcast", "Instagram", "Friend", "Google", "YouTube", "Newsletter"}
var bios = []string{
	"Lifelong learner and weekend hiker.", "Building a small business one step at a time.",
	"Teacher by day, maker by night.", "Coffee, books and good questions.",
	"Here to level up and meet great people.",
}

func (g *gen) place() place {
	x := g.r.Float64()
	for _, grp := range places {
		if x < grp.weight {
			return grp.list[g.r.IntN(len(grp.list))]
		}
		x -= grp.weight
	}
	last := places[len(places)-1].list
	return last[g.r.IntN(len(last))]
}

func (g *gen) phone(p place) string {
	switch p.dial {
	case "+1":
		return "+1 " + strconv.Itoa(200+g.r.IntN(700)) + "-555-" + strconv.Itoa(1000+g.r.IntN(9000))
	default:
		return p.dial + " " + strconv.Itoa(10+g.r.IntN(90)) + " " + strconv.Itoa(1000+g.r.IntN(9000)) + " " + strconv.Itoa(1000+g.r.IntN(9000))
	}
}

func (g *gen) email(cat *siteCatalog, first, last string) string {
	f := strings.ToLower(first)
	l := strings.ToLower(strings.ReplaceAll(last, "'", ""))
	var local string
	switch g.r.IntN(5) {
	case 0, 1:
		local = f + "." + l
	case 2:
		local = f[:1] + l
	case 3:
		local = f + "_" + l + strconv.Itoa(10+g.r.IntN(90))
	default:
		local = f + l
	}
	domain := g.pick(mailDomains)
	e := local + "@" + domain
	for n := 2; cat.emails[e]; n++ {
		e = local + strconv.Itoa(n) + "@" + domain
	}
	cat.emails[e] = true
	return e
}

// weightedPick draws up to n distinct indexes of w, none in exclude, each
// with probability proportional to its (positive) weight.
func (g *gen) weightedPick(w []float64, n int, exclude []int) []int {
	var out []int
	for len(out) < n {
		total, lastOK := 0.0, -1
		for i, x := range w {
			if !slices.Contains(out, i) && !slices.Contains(exclude, i) {
				total += x
				lastOK = i
			}
		}
		if lastOK < 0 {
			break
		}
		t := g.r.Float64() * total
		choice := lastOK // kept if rounding carries t past the last weight
		for i, x := range w {
			if slices.Contains(out, i) || slices.Contains(exclude, i) {
				continue
			}
			if t < x {
				choice = i
				break
			}
			t -= x
		}
		out = append(out, choice)
	}
	return out
}

func (g *gen) genCustomers(n int) {
	st := g.st
	// Creation times first, sorted, so that ids grow with time as they do in
	// a real database. Recent sign-ups are a little more common than old.
	created := make([]time.Time, n)
	for i := range created {
		f := math.Pow(g.r.Float64(), 1.25)
		created[i] = g.ago(time.Duration(f*float64(3*365*day)) / time.Second * time.Second)
	}
	slices.SortFunc(created, func(a, b time.Time) int { return a.Compare(b) })

	siteW := make([]float64, len(st.Sites))
	for i := range siteW {
		siteW[i] = 1 / float64(i+1)
	}

	st.Customers = make([]Customer, n)
	st.Contacts = make([]Contact, n)
	for i := 0; i < n; i++ {
		si := g.weightedPick(siteW, 1, nil)[0]
		g.genPerson(i, si, created[i])
	}

	// Contact ids follow contact creation order, which differs from customer
	// order because many people were contacts before they became customers.
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		return st.Contacts[order[a]].CreatedAt.Before(st.Contacts[order[b]].CreatedAt)
	})
	for rank, i := range order {
		id := strconv.Itoa(firstContactID + rank)
		st.Contacts[i].ID = id
		st.Customers[i].ContactID = id
	}

	members := map[string]int{}
	for i := range st.Customers {
		for _, p := range st.Customers[i].ProductIDs {
			members[p]++
		}
	}
	for i := range st.Products {
		st.Products[i].MembersCount = members[st.Products[i].ID]
	}
}

func (g *gen) genPerson(i, si int, created time.Time) {
	st := g.st
	cat := &g.site[si]
	site := &st.Sites[si]
	now := g.now
	first, last := g.pick(firstNames), g.pick(lastNames)
	c := &st.Customers[i]
	ct := &st.Contacts[i]
	c.ID = strconv.Itoa(firstCustomerID + i)
	c.SiteID = site.ID
	c.Name = first + " " + last
	c.Email = g.email(cat, first, last)
	c.CreatedAt = created
	ct.CustomerID, ct.SiteID, ct.Name, ct.Email = c.ID, c.SiteID, c.Name, c.Email

	ct.CreatedAt = created
	if g.chance(0.5) {
		// an earlier contact: a lead who bought later (never before the site)
		ct.CreatedAt = g.between(latest(site.CreatedAt, created.Add(-120*day)), created.Add(-time.Hour))
	}

	// profile
	handle := strings.ToLower(first + strings.ReplaceAll(last, "'", ""))
	if g.chance(0.3) {
		c.Avatar = "https://avatars.example.com/" + c.ID + ".png"
	}
	if g.chance(0.35) {
		c.ExternalUserID = "crm-" + strconv.Itoa(100000+(i*7919+13)%900007)
		ct.ExternalUserID = c.ExternalUserID
	}
	if g.chance(0.2) {
		c.PublicBio = g.pick(bios)
	}
	home := g.place()
	if g.chance(0.25) {
		c.PublicLocation = home.city + ", " + home.country
	}
	if g.chance(0.15) {
		c.PublicWebsite = "https://" + handle + ".example.com"
	}
	if g.chance(0.2) {
		s := &Socials{}
		if g.chance(0.6) {
			s.Twitter = "https://x.com/" + handle
		}
		if g.chance(0.6) {
			s.Facebook = "https://facebook.com/" + handle
		}
		if g.chance(0.6) || s.Twitter == "" && s.Facebook == "" {
			s.Instagram = "https://instagram.com/" + handle
		}
		c.Socials = s
	}
	c.Hidden = g.chance(0.03)

	// contact details
	if g.chance(0.6) {
		ct.PhoneNumber = g.phone(home)
	}
	if g.chance(0.45) {
		ct.MobilePhoneNumber = g.phone(home)
	}
	if g.chance(0.12) {
		ct.BusinessNumber = g.phone(home)
	}
	switch x := g.r.Float64(); {
	case x < 0.55:
		ct.AddressLine1 = strconv.Itoa(1+g.r.IntN(9800)) + " " + g.pick(streets) + " " + g.pick(streetKinds)
		if g.chance(0.3) {
			ct.AddressLine2 = g.pick(unitKinds) + " " + strconv.Itoa(1+g.r.IntN(400))
		}
		ct.AddressCity, ct.AddressState, ct.AddressCountry = home.city, home.state, home.country
		ct.AddressZip = home.zip
		if len(home.zip) == 3 {
			ct.AddressZip += twoDigits(g.r.IntN(100))
		}
	case x < 0.65:
		ct.AddressCity, ct.AddressCountry = home.city, home.country
	}
	if g.chance(0.3) {
		ct.Custom1 = g.pick(companies)
	}
	if g.chance(0.2) {
		ct.Custom2 = g.pick(roles)
	}
	if g.chance(0.25) {
		ct.Custom3 = g.pick(referrals)
	}

	// sign-ins
	if g.chance(0.88) {
		c.JoinedAt = g.between(created, g.capNow(created.Add(10*day)))
		var since time.Duration
		switch x := g.r.Float64(); {
		case x < 0.35:
			since = time.Duration(g.r.Int64N(int64(30 * day)))
		case x < 0.6:
			since = 30*day + time.Duration(g.r.Int64N(int64(150*day)))
		default:
			since = time.Duration(g.r.Int64N(int64(3 * 365 * day)))
		}
		c.LastRequestAt = latest(c.JoinedAt, now.Add(-since).Truncate(time.Second))
		tenure := int(c.LastRequestAt.Sub(c.JoinedAt) / day)
		c.SignInCount = 1 + g.r.IntN(tenure/3+2)
	}

	// offers, products, revenue
	nOffers := 0
	switch x := g.r.Float64(); {
	case x < 0.05:
	case x < 0.5:
		nOffers = 1
	case x < 0.8:
		nOffers = 2
	case x < 0.95:
		nOffers = 3
	default:
		nOffers = 4
	}
	granted := g.weightedPick(cat.offerWeight, nOffers, nil)
	var revoked []int
	if g.chance(0.12) {
		revoked = g.weightedPick(cat.offerWeight, 1, granted)
	}
	var revenue int64
	tenureMonths := int(now.Sub(created)/(30*day)) + 1
	owned := map[string]bool{}
	for _, k := range granted {
		o := &st.Offers[cat.offers[k]]
		c.OfferIDs = append(c.OfferIDs, o.ID)
		for _, p := range o.ProductIDs {
			owned[p] = true
		}
		switch o.PaymentType {
		case "single":
			revenue += int64(o.PriceInCents)
		case "subscription":
			revenue += int64(o.PriceInCents) * int64(1+g.r.IntN(min(tenureMonths, 36)))
		case "multipay":
			revenue += int64(o.PriceInCents) * int64(1+g.r.IntN(3))
		}
	}
	for _, k := range revoked {
		o := &st.Offers[cat.offers[k]]
		c.RevokedOfferIDs = append(c.RevokedOfferIDs, o.ID)
		for _, p := range o.ProductIDs {
			if !owned[p] {
				c.PreviousProductIDs = append(c.PreviousProductIDs, p)
			}
		}
		if !o.Free && g.chance(0.5) {
			revenue += int64(o.PriceInCents)
		}
	}
	if revenue > 0 && g.chance(0.05) {
		revenue -= g.r.Int64N(revenue/2 + 1)
	}
	c.NetRevenueCents = revenue
	for p := range owned {
		c.ProductIDs = append(c.ProductIDs, p)
	}
	sortIDs(c.ProductIDs)
	for _, p := range c.ProductIDs {
		if g.chance(0.85) {
			c.ActiveProductIDs = append(c.ActiveProductIDs, p)
		}
	}
	sortIDs(c.OfferIDs)
	sortIDs(c.RevokedOfferIDs)
	sortIDs(c.PreviousProductIDs)
	if revenue > 0 {
		// about a third of paying customers used a coupon, a few two
		if g.chance(0.33) {
			n := 1
			if g.chance(0.2) {
				n = 2
			}
			for _, k := range g.r.Perm(len(cat.coupons))[:n] {
				c.CouponCodes = append(c.CouponCodes, st.Coupons[cat.coupons[k]].Code)
			}
			slices.Sort(c.CouponCodes)
		}
	}

	// tags, forms, events, assessments, sequences, newsletters
	for k, ti := range cat.tags {
		if g.chance(cat.tagP[k]) {
			ct.TagIDs = append(ct.TagIDs, st.Tags[ti].ID)
		}
	}
	for k, fi := range cat.forms {
		if g.chance(cat.formP[k]) {
			ct.SubmittedFormIDs = append(ct.SubmittedFormIDs, st.Forms[fi].ID)
		}
	}
	for k, ei := range cat.events {
		if g.chance(cat.eventP[k]) {
			c.RegisteredEventIDs = append(c.RegisteredEventIDs, st.Events[ei].ID)
		}
	}
	if len(c.ProductIDs) > 0 {
		for k, ai := range cat.assessments {
			if !g.chance(cat.assessP[k]) {
				continue
			}
			id := st.Assessments[ai].ID
			c.CompletedAssessmentIDs = append(c.CompletedAssessmentIDs, id)
			switch x := g.r.Float64(); {
			case x < 0.6:
				c.PassedAssessmentIDs = append(c.PassedAssessmentIDs, id)
			case x < 0.9:
				c.FailedAssessmentIDs = append(c.FailedAssessmentIDs, id)
			}
		}
	}
	for k, qi := range cat.sequences {
		if g.chance(cat.seqP[k]) {
			ct.EmailSequenceIDs = append(ct.EmailSequenceIDs, st.Sequences[qi].ID)
		}
	}
	for _, ni := range cat.newsletters {
		switch x := g.r.Float64(); {
		case x < 0.3:
			ct.SubscribedNewsletterIDs = append(ct.SubscribedNewsletterIDs, st.Newsletters[ni].ID)
		case x < 0.38:
			ct.UnsubscribedNewsletterIDs = append(ct.UnsubscribedNewsletterIDs, st.Newsletters[ni].ID)
		}
	}

	// marketing subscription history
	if g.chance(0.86) {
		ct.SubscribedAt = g.capNow(g.between(ct.CreatedAt, ct.CreatedAt.Add(2*day)))
		if g.chance(0.22) && now.Sub(ct.SubscribedAt) > time.Hour {
			ct.UnsubscribedAt = g.between(ct.SubscribedAt.Add(time.Hour), now)
			switch x := g.r.Float64(); {
			case x < 0.55:
				ct.OptedOutAt = ct.UnsubscribedAt
			case x < 0.8:
				ct.ManuallyUnsubscribedAt = ct.UnsubscribedAt
			}
		}
	}
	ct.Subscribed = !ct.SubscribedAt.IsZero() && ct.UnsubscribedAt.IsZero()

	// broadcasts: who got what, and what happened to it
	openRate := 0.0
	if g.chance(0.85) {
		openRate = 0.1 + 0.7*g.r.Float64()
	}
	clickRate := 0.1 + 0.4*g.r.Float64()
	bounce := 0 // 0 none, 1 soft, 2 hard
	switch x := g.r.Float64(); {
	case x < 0.04:
		bounce = 1
	case x < 0.08:
		bounce = 2
	}
	bounceStart := g.between(ct.CreatedAt, now)
	hardBounced := false
	for _, bi := range cat.broadcasts {
		b := &st.Broadcasts[bi]
		if ct.SubscribedAt.IsZero() || ct.SubscribedAt.After(b.SentAt) ||
			!ct.UnsubscribedAt.IsZero() && !ct.UnsubscribedAt.After(b.SentAt) || !g.chance(0.85) {
			continue
		}
		ct.SentBroadcastIDs = append(ct.SentBroadcastIDs, b.ID)
		switch {
		case hardBounced:
			ct.DroppedBroadcastIDs = append(ct.DroppedBroadcastIDs, b.ID)
		case bounce == 2 && !b.SentAt.Before(bounceStart), bounce == 1 && !b.SentAt.Before(bounceStart) && g.chance(0.5):
			ct.BouncedBroadcastIDs = append(ct.BouncedBroadcastIDs, b.ID)
			if c.BouncedAt.IsZero() {
				c.BouncedAt = g.capNow(b.SentAt.Add(time.Minute))
			}
			hardBounced = bounce == 2
		case g.chance(0.02):
			ct.DroppedBroadcastIDs = append(ct.DroppedBroadcastIDs, b.ID)
		default:
			ct.DeliveredBroadcastIDs = append(ct.DeliveredBroadcastIDs, b.ID)
			ct.LastEmailDeliveredAt = latest(ct.LastEmailDeliveredAt, b.SentAt)
			if g.chance(openRate) {
				opened := g.capNow(g.between(b.SentAt.Add(5*time.Minute), b.SentAt.Add(48*time.Hour)))
				ct.OpenedBroadcastIDs = append(ct.OpenedBroadcastIDs, b.ID)
				ct.LastEmailOpenedAt = latest(ct.LastEmailOpenedAt, opened)
				if g.chance(clickRate) {
					clicked := g.capNow(g.between(opened, opened.Add(30*time.Minute)))
					ct.ClickedBroadcastIDs = append(ct.ClickedBroadcastIDs, b.ID)
					ct.LastEmailClickedAt = latest(ct.LastEmailClickedAt, clicked)
				}
			}
		}
	}
	c.HardBouncing = hardBounced
	// A complaint about the latest delivered broadcast; later sends would be
	// suppressed, and there are none by construction.
	if !ct.LastEmailDeliveredAt.IsZero() && g.chance(0.015) {
		ct.ComplainedAt = g.capNow(g.between(ct.LastEmailDeliveredAt.Add(time.Hour), ct.LastEmailDeliveredAt.Add(72*time.Hour)))
	}
	ct.Suppressed = c.HardBouncing || !ct.ComplainedAt.IsZero() || g.chance(0.01)
	ct.Engagement = engagement(ct, now)

	c.UpdatedAt = latest(c.CreatedAt, c.BouncedAt)
	if g.chance(0.4) {
		c.UpdatedAt = g.between(c.UpdatedAt, now)
	}
	ct.UpdatedAt = latest(ct.CreatedAt, ct.SubscribedAt, ct.UnsubscribedAt, ct.ComplainedAt, c.UpdatedAt)
}

// engagement buckets a contact by how recently it opened a broadcast.
func engagement(ct *Contact, now time.Time) string {
	switch {
	case ct.LastEmailDeliveredAt.IsZero():
		return ""
	case ct.LastEmailOpenedAt.IsZero():
		return "inactive"
	case !ct.LastEmailOpenedAt.Before(now.Add(-30 * day)):
		return "healthy"
	case !ct.LastEmailOpenedAt.Before(now.Add(-90 * day)):
		return "passive"
	default:
		return "unengaged"
	}
}

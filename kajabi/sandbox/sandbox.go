// Package sandbox is an embedded, faithful stand-in for Kajabi's public REST
// API (JSON:API, version 1.1.0 of Kajabi's OpenAPI description). It serves a
// deterministic, seeded data set of sites, customers, contacts, products,
// offers and tags over the same paths, parameters and document shapes as
// Kajabi, with OAuth client-credentials tokens, so the facade can be run,
// demonstrated, tested and benchmarked without a Kajabi account.
//
// It is also a test instrument: latency, random faults, per-path failures and
// token expiry can be switched on at run time, and Store exposes the seeded
// facts so tests can work out what an answer ought to be.
//
// The sandbox builds its documents itself and deliberately shares no types
// with the project's kajabi client, so a mistake in the client's mapping
// cannot be mirrored here and go unnoticed.
//
// Where Kajabi's documents say something, the sandbox does it, choosing the
// less forgiving reading: GET /v1/customers without filter[site_id] on an
// account of several sites (the default two) is 400 with a JSON:API error
// naming the parameter; a filter value it cannot read (a word for a number,
// money finer than cents, an empty id list) is 400 too, never ignored;
// Options.PagingMetadata answers lists with or without meta; and a second
// key (RestrictedClientID) lacks view:contacts, so its contact calls are 403.
//
// Known differences, where Kajabi's documents say nothing the sandbox could
// imitate; a client must not lean on either behaviour:
//   - sort: only the first key of a list counts, and an unknown key gives
//     the default order (newest first) rather than an error.
//   - page[size] above 100 is served as 100, and below 1 or not a number as
//     the default 20; page[number] likewise falls back to 1.
//   - fields[customers] with names that are not attributes ignores them.
//   - filter[search] is a case-insensitive substring of name or email, where
//     Kajabi documents a fuzzy search: Kajabi may match more.
//   - an empty filter value (filter[x]=) is ignored, as if not sent.
package sandbox

import (
	"context"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Credentials the token endpoint accepts for the client credentials grant.
const (
	ClientID     = "sandbox-client-id"
	ClientSecret = "sandbox-client-secret"
)

// Options configures a Sandbox. The zero value gives the default data set
// (2 sites, 5000 customers, fixed seed) dated relative to the current time.
type Options struct {
	Customers int   // number of customers; 0 means 5000
	Sites     int   // number of sites; 0 means 2
	Seed      int64 // same seed (and Now) gives an identical data set; 0 means a fixed default
	// Now is the clock all generated dates and every "in the last N days"
	// filter are relative to; zero means time.Now() at New, truncated to the
	// second. Fix it to get byte-identical answers across runs.
	Now           time.Time
	Latency       time.Duration // added before answering every request
	FaultRate     float64       // 0..1: share of authenticated requests answered with a fault
	FaultStatuses []int         // statuses faults pick from at random; empty means 429 and 503
	TokenTTL      time.Duration // lifetime of issued access tokens; 0 means 2h
	AccessTokens  []string      // extra bearer tokens that are always accepted
	// RateLimit is the authenticated calls a second the account answers, as Kajabi limits
	// each account: beyond it, 429 with Retry-After. 0 is no limit.
	RateLimit int
	// PagingMetadata is how lists say where they are: PagingFull (the default) sends
	// links first/prev/next/last and meta totals as the spec's prose examples show;
	// PagingDocs sends links self and current only, no meta, exactly as the response
	// schemas and the "List customers" docs page show. Kajabi's documents disagree, so
	// a client must handle both.
	PagingMetadata string
	// EventsPerMinute is how many purchases and tag changes Run makes a minute, each
	// POSTed to the hooks registered for it (POST /v1/hooks); 0 makes none.
	EventsPerMinute int
}

// The values of Options.PagingMetadata.
const (
	PagingFull = "full"
	PagingDocs = "docs"
)

// Sandbox is an http.Handler that answers like Kajabi's API. It is safe for
// concurrent use, including the Set*/FailPath/ExpireTokens controls.
type Sandbox struct {
	store      *Store
	tokens     *tokens
	docsPaging bool

	latency atomic.Int64 // time.Duration

	mu            sync.Mutex // guards the fields below
	faultRate     float64
	faultStatuses []int
	rng           *rand.Rand
	failPaths     map[string]int
	limit         *rateWindow // nil: no rate limit

	hooks           hookSet
	eventsPerMinute int
}

// New generates the data set and returns a ready handler. Generation is
// deterministic in Options.Seed and Options.Now.
func New(opts Options) *Sandbox {
	if opts.Customers <= 0 {
		opts.Customers = 5000
	}
	if opts.Sites <= 0 {
		opts.Sites = 2
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	now = now.UTC().Truncate(time.Second)
	if opts.TokenTTL <= 0 {
		opts.TokenTTL = 2 * time.Hour
	}
	seed := opts.Seed
	if seed == 0 {
		seed = defaultSeed
	}
	s := &Sandbox{
		store:      generate(opts.Customers, opts.Sites, seed, now),
		tokens:     newTokens(opts.TokenTTL, opts.AccessTokens),
		rng:        rand.New(rand.NewPCG(uint64(seed), 0xfa017)),
		failPaths:  map[string]int{},
		docsPaging: opts.PagingMetadata == PagingDocs,

		eventsPerMinute: max(opts.EventsPerMinute, 0),
	}
	s.SetLatency(opts.Latency)
	s.SetFaults(opts.FaultRate, opts.FaultStatuses...)
	s.SetRateLimit(opts.RateLimit)
	return s
}

// Store returns the seeded data. It is shared with the running handler:
// read it, never modify it.
func (s *Sandbox) Store() *Store { return s.store }

// SetLatency changes the delay added to every request.
func (s *Sandbox) SetLatency(d time.Duration) { s.latency.Store(int64(max(d, 0))) }

// SetFaults changes the share of authenticated requests answered with a
// fault and the statuses to pick from (429 and 503 when none are given).
// Numbers that are not HTTP statuses (outside 100-999) are dropped.
func (s *Sandbox) SetFaults(rate float64, statuses ...int) {
	var valid []int
	for _, st := range statuses {
		if st >= 100 && st <= 999 {
			valid = append(valid, st)
		}
	}
	if len(valid) == 0 {
		valid = []int{http.StatusTooManyRequests, http.StatusServiceUnavailable}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faultRate = min(max(rate, 0), 1)
	s.faultStatuses = valid
}

// FailPath makes every request for exactly this path (as seen after any
// mount prefix, e.g. "/v1/customers") fail with status and a JSON:API error
// body, before authentication and whatever the method. Status 0 clears it;
// any other number that is not an HTTP status (100-999) means 500.
func (s *Sandbox) FailPath(path string, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if status == 0 {
		delete(s.failPaths, path)
		return
	}
	if status < 100 || status > 999 {
		status = http.StatusInternalServerError
	}
	s.failPaths[path] = status
}

// ExpireTokens invalidates every access token issued so far, as if they had
// all reached their expiry. Refresh tokens and Options.AccessTokens still
// work, so a client can renew.
func (s *Sandbox) ExpireTokens() { s.tokens.expireAll() }

// ServeHTTP answers one request: latency first, then any FailPath override,
// then the two public endpoints, then authentication, faults and routing.
func (s *Sandbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if d := time.Duration(s.latency.Load()); d > 0 {
		if !sleep(r.Context(), d) {
			return // the client gave up; nobody is left to answer
		}
	}
	path := r.URL.Path
	if status := s.failPathStatus(path); status != 0 {
		fault(w, status, "the sandbox was told to fail "+path)
		return
	}
	switch path {
	case "/v1/oauth/token":
		if r.Method != http.MethodPost {
			methodNotAllowed(w, http.MethodPost)
			return
		}
		s.token(w, r)
		return
	case "/v1/version":
		if r.Method != http.MethodGet {
			methodNotAllowed(w, http.MethodGet)
			return
		}
		version(w)
		return
	}

	scopes, detail, ok := s.authorize(r)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="kajabi"`)
		sendError(w, http.StatusUnauthorized, detail)
		return
	}
	if retryAfter, ok := s.admit(time.Now()); !ok {
		w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
		sendError(w, http.StatusTooManyRequests, "rate limit of the account exceeded, retry after "+strconv.Itoa(retryAfter)+"s")
		return
	}
	if status := s.randomFault(); status != 0 {
		fault(w, status, "simulated fault")
		return
	}
	if rest, ok := strings.CutPrefix(path, "/v1/hooks"); ok && (rest == "" || (strings.HasPrefix(rest, "/") && !strings.HasSuffix(rest, "_sample") && !strings.Contains(rest[1:], "/"))) {
		s.serveHooks(w, r, strings.TrimPrefix(rest, "/"))
		return
	}
	if wr, id, ok := writeRoute(r.Method, path); ok {
		s.serveWrite(wr, id, w, r)
		return
	}
	h, ok := route(path)
	if !ok {
		sendError(w, http.StatusNotFound, "no such endpoint in the sandbox: "+path)
		return
	}
	if r.Method != http.MethodGet {
		methodNotAllowed(w, http.MethodGet)
		return
	}
	if need := permissionFor(path); need != "" && !scopes.has(need) {
		sendError(w, http.StatusForbidden, "the API key lacks the "+need+" permission")
		return
	}
	s.store.mu.RLock()
	defer s.store.mu.RUnlock()
	rc := newReqCtx(r)
	rc.docsPaging = s.docsPaging
	h.serve(s.store, w, rc, h.id)
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func (s *Sandbox) failPathStatus(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.failPaths[path]
}

// randomFault draws whether this request fails and with which status; 0
// means it goes through.
func (s *Sandbox) randomFault() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.faultRate <= 0 || s.rng.Float64() >= s.faultRate {
		return 0
	}
	return s.faultStatuses[s.rng.IntN(len(s.faultStatuses))]
}

func fault(w http.ResponseWriter, status int, detail string) {
	if status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "1")
	}
	sendError(w, status, detail)
}

func methodNotAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	sendError(w, http.StatusMethodNotAllowed, "this endpoint of the sandbox only answers "+allow)
}

// SetRateLimit changes the calls a second the account answers; 0 lifts the limit. The
// calls of the last second are forgotten.
func (s *Sandbox) SetRateLimit(perSecond int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limit = nil
	if perSecond > 0 {
		s.limit = &rateWindow{at: make([]time.Time, perSecond)}
	}
}

// rateWindow is a sliding one-second window over the calls answered: the times of the
// last len(at) calls, oldest at next. A fixed window would let twice the limit through
// across a second's boundary, which Kajabi's limit need not allow.
type rateWindow struct {
	at   []time.Time
	next int
}

// admit counts an authenticated call against the account's rate limit (the sandbox is
// one account, whatever token is used), or refuses it with the whole seconds to wait.
// Refused calls are not counted.
func (s *Sandbox) admit(now time.Time) (retryAfter int, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.limit == nil {
		return 0, true
	}
	w := s.limit
	if oldest := w.at[w.next]; !oldest.IsZero() && now.Sub(oldest) < time.Second {
		left := time.Second - now.Sub(oldest)
		return int((left + time.Second - 1) / time.Second), false
	}
	w.at[w.next] = now
	w.next = (w.next + 1) % len(w.at)
	return 0, true
}

// authorize checks the bearer token and returns what it may do; on failure it says why.
func (s *Sandbox) authorize(r *http.Request) (scopes, string, bool) {
	h := r.Header.Get("Authorization")
	scheme, tok, found := strings.Cut(h, " ")
	if h == "" || !found || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		return 0, "missing bearer token in the Authorization header", false
	}
	sc, ok := s.tokens.valid(strings.TrimSpace(tok))
	if !ok {
		return 0, "access token is invalid or has expired", false
	}
	return sc, "", true
}

// permissionFor is the permission a path needs beyond a valid token: contacts and their
// relationships need view:contacts, as Kajabi's 403 example names it.
func permissionFor(path string) string {
	if strings.HasPrefix(path, "/v1/contacts") {
		return permViewContacts
	}
	return ""
}

// handler serves one matched route; id is the path's {id} when it has one.
type handler struct {
	serve func(st *Store, w http.ResponseWriter, rc *reqCtx, id string)
	id    string
}

// route maps a path under /v1 to its handler. Only the read endpoints the
// sandbox models are known; everything else is a 404.
func route(path string) (handler, bool) {
	rest, ok := strings.CutPrefix(path, "/v1/")
	if !ok {
		return handler{}, false
	}
	seg := strings.Split(rest, "/")
	for _, s := range seg {
		if s == "" {
			return handler{}, false
		}
	}
	h := func(f func(*Store, http.ResponseWriter, *reqCtx, string), id string) (handler, bool) {
		return handler{serve: f, id: id}, true
	}
	switch len(seg) {
	case 1:
		switch seg[0] {
		case "customers":
			return h(listCustomers, "")
		case "sites":
			return h(listSites, "")
		case "products":
			return h(listProducts, "")
		case "offers":
			return h(listOffers, "")
		case "contact_tags":
			return h(listTags, "")
		}
	case 2:
		switch seg[0] {
		case "customers":
			return h(showCustomer, seg[1])
		case "contacts":
			return h(showContact, seg[1])
		case "sites":
			return h(showSite, seg[1])
		case "products":
			return h(showProduct, seg[1])
		case "offers":
			return h(showOffer, seg[1])
		case "contact_tags":
			return h(showTag, seg[1])
		}
	case 4:
		if seg[2] != "relationships" {
			break
		}
		switch seg[0] + "/" + seg[3] {
		case "customers/offers":
			return h(customerOffers, seg[1])
		case "contacts/offers":
			return h(contactOffers, seg[1])
		case "contacts/tags":
			return h(contactTags, seg[1])
		case "offers/products":
			return h(offerProducts, seg[1])
		}
	}
	return historyRoute(seg)
}

// version answers GET /v1/version, which needs no token.
func version(w http.ResponseWriter) {
	j := newJW()
	j.obj()
	j.k("meta")
	j.obj()
	j.k("title")
	j.str("Kajabi API V1")
	j.k("version")
	j.str("1.1.0")
	j.endObj()
	j.k("links")
	j.obj()
	j.k("documentation")
	j.str("https://developers.kajabi.com")
	j.endObj()
	j.k("jsonapi")
	j.obj()
	j.k("version")
	j.str("1.0")
	j.k("specficiation") // sic: the field name as the spec spells it
	j.str("https://jsonapi.org/format/1.0/")
	j.endObj()
	j.endObj()
	sendDoc(w, j)
}

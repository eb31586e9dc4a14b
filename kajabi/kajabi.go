// Package kajabi is a client for Kajabi's Public API (JSON:API, v1).
//
// A Client holds one typed service per API area (Customers, Contacts, Sites, Products,
// Offers). Every call takes a context first and returns the decoded value, a *Response that
// carries the document's links and meta, and an error that is a *ErrorResponse when Kajabi
// answered with an error status.
//
// Calls are protected on the way out (resilience.go): retries with backoff, a process-wide
// concurrency and rate limit, sharing of identical concurrent GETs, and a circuit breaker
// whose refusals satisfy errors.Is(err, ErrCircuitOpen).
package kajabi

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// DefaultBaseURL is Kajabi's production API host; paths below it start with /v1.
const DefaultBaseURL = "https://api.kajabi.com"

const (
	mediaType = "application/vnd.api+json"
	userAgent = "kajabi-graphql-facade"
)

// Client talks to one Kajabi account through one shared, keep-alive http.Client.
type Client struct {
	httpClient  *http.Client
	callTimeout time.Duration // the http.Client's Timeout, applied per call by context
	baseURL     *url.URL
	tokens      TokenSource
	userAgent   string

	// What the options chose; NewClient builds the machinery below from them.
	retry         RetryPolicy
	limits        Limits
	breakerPolicy BreakerPolicy
	shareReads    bool
	observer      Observer

	gate    *gate        // concurrency slots and rate turns, fair between callers
	pacer   Pacer        // rate and 429 pauses; NewPacer(limits) unless WithPacer
	breaker *breaker     // nil: off
	flights *flightGroup // nil: every GET goes out on its own
	health  *health      // shared with ForToken copies

	Customers *CustomersService
	Contacts  *ContactsService
	Sites     *SitesService
	Products  *ProductsService
	Offers    *OffersService

	Purchases    *PurchasesService
	Orders       *OrdersService
	Transactions *TransactionsService
	ContactTags  *ContactTagsService
	ContactNotes *ContactNotesService
	Hooks        *HooksService
}

// Option configures a Client.
type Option func(*Client) error

// WithHTTPClient replaces the default transport; the client is shared by every call. Its
// Timeout bounds each call (each attempt, body included), as with http.Client. Its
// CheckRedirect is replaced: the Client never follows a redirect.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) error {
		if hc == nil {
			return errors.New("kajabi: nil http client")
		}
		c.httpClient = hc
		return nil
	}
}

// WithBaseURL points the client at another Kajabi host (or the sandbox).
func WithBaseURL(raw string) Option {
	return func(c *Client) error {
		u, err := url.Parse(strings.TrimRight(raw, "/"))
		if err != nil || u.Scheme == "" || u.Host == "" {
			return fmt.Errorf("kajabi: invalid base URL %q", raw)
		}
		c.baseURL = u
		return nil
	}
}

// WithAccessToken authenticates every request with a fixed bearer token.
func WithAccessToken(token string) Option {
	return func(c *Client) error {
		if token == "" {
			return errors.New("kajabi: empty access token")
		}
		c.tokens = StaticToken(token)
		return nil
	}
}

// WithClientCredentials authenticates with an OAuth2 client-credentials grant, renewing
// the token before it expires.
func WithClientCredentials(clientID, clientSecret string) Option {
	return func(c *Client) error {
		if clientID == "" || clientSecret == "" {
			return errors.New("kajabi: client id and secret are both required")
		}
		c.tokens = &ClientCredentials{ClientID: clientID, ClientSecret: clientSecret}
		return nil
	}
}

// WithTokenSource authenticates with any TokenSource.
func WithTokenSource(ts TokenSource) Option {
	return func(c *Client) error {
		c.tokens = ts
		return nil
	}
}

// WithUserAgent sets the User-Agent header sent to Kajabi.
func WithUserAgent(ua string) Option {
	return func(c *Client) error {
		c.userAgent = ua
		return nil
	}
}

// NewClient builds a Client. Without WithBaseURL it talks to DefaultBaseURL; without an
// auth option requests go out unauthenticated (and Kajabi answers 401).
//
// Unless told otherwise the client protects itself and Kajabi (see resilience.go):
// DefaultRetryPolicy, DefaultLimits, DefaultBreakerPolicy, and identical concurrent GETs
// shared. WithRetry, WithLimits, WithBreaker and WithSingleflight change or turn off each.
// Build one Client per process: its limits and breaker are its own.
func NewClient(opts ...Option) (*Client, error) {
	base, _ := url.Parse(DefaultBaseURL)
	c := &Client{
		httpClient: NewHTTPClient(30 * time.Second), baseURL: base, userAgent: userAgent,
		retry: DefaultRetryPolicy, limits: DefaultLimits, breakerPolicy: DefaultBreakerPolicy, shareReads: true,
	}
	for _, opt := range opts {
		if err := opt(c); err != nil {
			return nil, err
		}
	}
	hc := *c.httpClient
	// Whoever built the http.Client, redirects are not followed (see refuseRedirect).
	hc.CheckRedirect = refuseRedirect
	if t := hc.Timeout; t > 0 {
		// Applied as a context deadline in roundTrip: with http.Client.Timeout, net/http
		// starts a goroutine and a timer for every call whose transport it does not know,
		// such as one wrapped for telemetry.
		hc.Timeout, c.callTimeout = 0, t
	}
	c.httpClient = &hc
	c.retry = c.retry.withDefaults()
	c.health = &health{}
	if c.pacer == nil {
		c.pacer = NewPacer(c.limits.Rate, c.limits.Burst)
	}
	c.gate = newGate(c.limits, c.pacer)
	c.breaker = newBreaker(c.breakerPolicy, c.observer.OnBreakerState)
	if c.shareReads {
		c.flights = &flightGroup{}
	}
	if cc, ok := c.tokens.(*ClientCredentials); ok {
		cc.bind(c)
	}
	c.attachServices()
	return c, nil
}

func (c *Client) attachServices() {
	c.Customers = &CustomersService{client: c}
	c.Contacts = &ContactsService{client: c}
	c.Sites = &SitesService{client: c}
	c.Products = &ProductsService{client: c}
	c.Offers = &OffersService{client: c}
	c.Purchases = &PurchasesService{client: c}
	c.Orders = &OrdersService{client: c}
	c.Transactions = &TransactionsService{client: c}
	c.ContactTags = &ContactTagsService{client: c}
	c.ContactNotes = &ContactNotesService{client: c}
	c.Hooks = &HooksService{client: c}
}

// NewHTTPClient returns an http.Client tuned for many small concurrent calls to one host:
// keep-alive with a large idle pool, bounded dial/TLS/header waits, and an overall timeout.
func NewHTTPClient(timeout time.Duration) *http.Client {
	return HTTPOptions{Timeout: timeout}.Client()
}

// DefaultIdleConnsPerHost is the idle pool kept to Kajabi's host when HTTPOptions leaves it
// unset.
const DefaultIdleConnsPerHost = 128

// HTTPOptions shape the http.Client the Kajabi client talks through.
type HTTPOptions struct {
	Timeout time.Duration
	// RootCAs, when set, are the certificates Kajabi's host is verified against instead of
	// the system's (see LoadCAFile).
	RootCAs *x509.CertPool
	// IdleConnsPerHost is the idle pool kept to Kajabi's host; 0 is DefaultIdleConnsPerHost.
	// Over HTTP/1.1 every call in flight past it opens a connection of its own and closes it
	// after, so size it to the calls that may be in flight at once.
	IdleConnsPerHost int
}

// Client builds the http.Client. It negotiates HTTP/2 over TLS whatever the TLS settings:
// calls to one host then share a connection, where HTTP/1.1 opens one (and pays a TLS
// handshake) per call in flight.
func (o HTTPOptions) Client() *http.Client {
	idle := o.IdleConnsPerHost
	if idle <= 0 {
		idle = DefaultIdleConnsPerHost
	}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true, // a custom TLSClientConfig turns HTTP/2 off without it
		MaxIdleConns:          max(256, idle),
		MaxIdleConnsPerHost:   idle,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: o.Timeout,
		ExpectContinueTimeout: time.Second,
	}
	if o.RootCAs != nil {
		tr.TLSClientConfig = &tls.Config{RootCAs: o.RootCAs, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Transport: tr, Timeout: o.Timeout, CheckRedirect: refuseRedirect}
}

// LoadCAFile reads PEM certificates to trust for Kajabi's host, such as a test server's
// self-signed one or a corporate proxy's CA. They replace the system's roots: a file names
// exactly whom the client trusts.
func LoadCAFile(path string) (*x509.CertPool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read CA file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("CA file %s holds no PEM certificate", path)
	}
	return pool, nil
}

// refuseRedirect stops an http.Client at the first redirect: the call's bearer token (or
// client secret) was meant for the path it named, and net/http would send it along to
// another path of the same host, the body of a 307 included. The 3xx is the answer, and
// the caller gets it as an *ErrorResponse.
func refuseRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// BaseURL returns the host the client talks to.
func (c *Client) BaseURL() *url.URL { u := *c.baseURL; return &u }

// Response is Kajabi's answer with the JSON:API paging data decoded.
//
// Kajabi's documents disagree on what a list carries: its schemas and the "List customers"
// page show links with self and current only and no meta, its prose examples show
// first/prev/next/last and meta. So Meta is nil when the answer had none, and each page
// number is 0 when its link was absent: a zero is "not said", never "none".
type Response struct {
	*http.Response
	Links Links
	Meta  *Meta

	// NextPage, PrevPage and LastPage are page numbers taken from the links.
	NextPage int
	PrevPage int
	LastPage int
}

// Links are a JSON:API document's top-level links.
type Links struct {
	Self  string `json:"self"`
	First string `json:"first"`
	Prev  string `json:"prev"`
	Next  string `json:"next"`
	Last  string `json:"last"`
	// Current is the page itself, in the shape the response schemas give.
	Current string `json:"current"`
}

// Meta is a paged list's totals.
type Meta struct {
	TotalPages  int `json:"total_pages"`
	TotalCount  int `json:"total_count"`
	CurrentPage int `json:"current_page"`
}

func newResponse(r *http.Response, links Links, meta *Meta) *Response {
	return &Response{Response: r, Links: links, Meta: meta,
		NextPage: pageNumber(links.Next), PrevPage: pageNumber(links.Prev), LastPage: pageNumber(links.Last)}
}

func pageNumber(link string) int {
	if link == "" {
		return 0
	}
	u, err := url.Parse(link)
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(u.Query().Get("page[number]"))
	return n
}

// document is a JSON:API top-level document whose primary data decodes into T.
type document[T any] struct {
	Data  T     `json:"data"`
	Links Links `json:"links"`
	Meta  *Meta `json:"meta"`
}

// endpoint is a path and the pattern it was made from; observers see the pattern, whose
// values are few enough to be a metrics label. err is why no path could be made.
type endpoint struct {
	pattern, path string
	err           error
}

// at fills each {id} of pattern, in order, with an escaped id. Every id that reaches a
// path passes here, the caller's and those Kajabi's own answers carried alike, so this is
// where an id that is not a Kajabi id is refused; escaping stays as a second guard.
func at(pattern string, ids ...string) endpoint {
	path := pattern
	for _, id := range ids {
		if !ValidID(id) {
			return endpoint{pattern: pattern, err: &InvalidIDError{Pattern: pattern, ID: id}}
		}
		path = strings.Replace(path, "{id}", url.PathEscape(id), 1)
	}
	return endpoint{pattern: pattern, path: path}
}

// getDocument sends GET path?query and decodes the answer as a document of T. Callers
// that shared one answer decode it each into values of their own.
func getDocument[T any](ctx context.Context, c *Client, ep endpoint, query string) (T, *Response, error) {
	var zero T
	if ep.err != nil {
		return zero, nil, ep.err
	}
	resp, body, err := c.get(ctx, ep.pattern, c.url(ep.path, query))
	if err != nil {
		return zero, nil, err
	}
	var doc document[T]
	if err := decodeDocument(body, &doc); err != nil {
		return zero, nil, &DecodeError{Method: http.MethodGet, URL: redactURL(resp.Request.URL), Err: err}
	}
	return doc.Data, newResponse(resp, doc.Links, doc.Meta), nil
}

// url joins the base URL with an already escaped path and query.
func (c *Client) url(path, query string) string {
	u := strings.TrimRight(c.baseURL.String(), "/") + path
	if query != "" {
		u += "?" + query
	}
	return u
}

// get sends an authenticated GET, shared with identical GETs in flight, and returns the
// 2xx answer with its body.
func (c *Client) get(ctx context.Context, pattern, rawURL string) (*http.Response, []byte, error) {
	redacted := rawURL
	if u, err := url.Parse(rawURL); err == nil {
		redacted = redactURL(u)
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, &TransportError{Method: http.MethodGet, URL: redacted, Err: err}
	}
	token := ""
	if c.tokens != nil {
		t, err := c.tokens.Token(ctx)
		if err != nil {
			return nil, nil, err
		}
		token = t
	}
	if c.flights == nil {
		return c.getRenewingToken(ctx, ctx.Deadline, pattern, rawURL, redacted, token)
	}
	resp, body, err := c.flights.do(ctx, flightKey(token, rawURL), func(ctx context.Context, deadline deadlineFunc) (*http.Response, []byte, error) {
		return c.getRenewingToken(ctx, deadline, pattern, rawURL, redacted, token)
	})
	if ctxErr := ctx.Err(); ctxErr != nil && err == ctxErr {
		// This caller stopped waiting; the shared call goes on for the others.
		return nil, nil, &TransportError{Method: http.MethodGet, URL: redacted, Err: err}
	}
	return resp, body, err
}

// getRenewingToken makes a GET with its retries. A 401 on a renewable token renews it once
// and sends once more; that resend is not a retry.
func (c *Client) getRenewingToken(ctx context.Context, deadline deadlineFunc, pattern, rawURL, redacted, token string) (*http.Response, []byte, error) {
	resp, body, err := c.send(ctx, deadline, c.getCall(pattern, rawURL, redacted, token))
	var apiErr *ErrorResponse
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusUnauthorized {
		return resp, body, err
	}
	r, ok := c.tokens.(renewer)
	if !ok {
		return resp, body, err
	}
	if err := r.renew(ctx, token); err != nil {
		return nil, nil, err
	}
	fresh, err := c.tokens.Token(ctx)
	if err != nil {
		return nil, nil, err
	}
	return c.send(ctx, deadline, c.getCall(pattern, rawURL, redacted, fresh))
}

func (c *Client) getCall(pattern, rawURL, redacted, token string) *call {
	return &call{method: http.MethodGet, pattern: pattern, url: redacted, account: c.accountKey(token),
		newRequest: func(ctx context.Context) (*http.Request, error) {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
			if err != nil {
				return nil, err
			}
			req.Header.Set("Accept", mediaType)
			req.Header.Set("User-Agent", c.userAgent)
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			return req, nil
		}}
}

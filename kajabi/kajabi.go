// Package kajabi is a client for Kajabi's Public API (JSON:API, v1).
//
// A Client holds one typed service per API area (Customers, Contacts, Sites, Products,
// Offers). Every call takes a context first and returns the decoded value, a *Response that
// carries the document's links and meta, and an error that is a *ErrorResponse when Kajabi
// answered with an error status.
package kajabi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
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
	httpClient *http.Client
	baseURL    *url.URL
	tokens     TokenSource
	userAgent  string

	Customers *CustomersService
	Contacts  *ContactsService
	Sites     *SitesService
	Products  *ProductsService
	Offers    *OffersService
}

// Option configures a Client.
type Option func(*Client) error

// WithHTTPClient replaces the default transport; the client is shared by every call.
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
func NewClient(opts ...Option) (*Client, error) {
	base, _ := url.Parse(DefaultBaseURL)
	c := &Client{httpClient: NewHTTPClient(30 * time.Second), baseURL: base, userAgent: userAgent}
	for _, opt := range opts {
		if err := opt(c); err != nil {
			return nil, err
		}
	}
	if cc, ok := c.tokens.(*ClientCredentials); ok {
		cc.bind(c)
	}
	c.Customers = &CustomersService{client: c}
	c.Contacts = &ContactsService{client: c}
	c.Sites = &SitesService{client: c}
	c.Products = &ProductsService{client: c}
	c.Offers = &OffersService{client: c}
	return c, nil
}

// NewHTTPClient returns an http.Client tuned for many small concurrent calls to one host:
// keep-alive with a large idle pool, bounded dial/TLS/header waits, and an overall timeout.
func NewHTTPClient(timeout time.Duration) *http.Client {
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   128,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: timeout,
		ExpectContinueTimeout: time.Second,
	}
	return &http.Client{Transport: tr, Timeout: timeout}
}

// BaseURL returns the host the client talks to.
func (c *Client) BaseURL() *url.URL { u := *c.baseURL; return &u }

// Response is Kajabi's answer with the JSON:API paging data decoded.
type Response struct {
	*http.Response
	Links Links
	Meta  Meta

	// NextPage and LastPage are page numbers taken from the links; 0 when absent.
	NextPage int
	LastPage int
}

// Links are a JSON:API document's top-level links.
type Links struct {
	Self  string `json:"self"`
	First string `json:"first"`
	Prev  string `json:"prev"`
	Next  string `json:"next"`
	Last  string `json:"last"`
}

// Meta is a paged list's totals.
type Meta struct {
	TotalPages  int `json:"total_pages"`
	TotalCount  int `json:"total_count"`
	CurrentPage int `json:"current_page"`
}

func newResponse(r *http.Response, links Links, meta Meta) *Response {
	return &Response{Response: r, Links: links, Meta: meta,
		NextPage: pageNumber(links.Next), LastPage: pageNumber(links.Last)}
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
	Meta  Meta  `json:"meta"`
}

// getDocument sends GET path?query and decodes the answer as a document of T.
func getDocument[T any](ctx context.Context, c *Client, path, query string) (T, *Response, error) {
	var doc document[T]
	resp, err := c.do(ctx, c.url(path, query), &doc, true)
	if err != nil {
		var zero T
		return zero, nil, err
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

// do sends an authenticated GET and decodes a 2xx body into v. A 401 on a renewable token
// renews it once and retries once.
func (c *Client) do(ctx context.Context, rawURL string, v any, retryOn401 bool) (*http.Response, error) {
	token := ""
	if c.tokens != nil {
		t, err := c.tokens.Token(ctx)
		if err != nil {
			return nil, err
		}
		token = t
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", mediaType)
	req.Header.Set("User-Agent", c.userAgent)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.httpClient.Do(req)
	if err != nil {
		return nil, transportError(ctx, req, err)
	}
	defer resp.Body.Close()

	if resp.StatusCode == http.StatusUnauthorized && retryOn401 {
		if r, ok := c.tokens.(renewer); ok {
			drain(resp.Body)
			if err := r.renew(ctx, token); err != nil {
				return nil, err
			}
			return c.do(ctx, rawURL, v, false)
		}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, newErrorResponse(resp)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		if ctx.Err() != nil {
			return nil, transportError(ctx, req, err)
		}
		return nil, &DecodeError{Method: req.Method, URL: redactURL(req.URL), Err: err}
	}
	drain(resp.Body)
	return resp, nil
}

func drain(r io.Reader) { _, _ = io.Copy(io.Discard, io.LimitReader(r, 64<<10)) }

package kajabi

import (
	"context"
	"encoding/json"
	"net/http"
	"time"
)

// APIVersion is Kajabi's answer to GET /v1/version.
type APIVersion struct {
	Title   string // "Kajabi API V1"
	Version string // e.g. "1.1.0"
}

const versionPath = "/v1/version"

// Version asks Kajabi which API version it serves. The endpoint needs no credential, so it
// tells whether Kajabi is reachable without spending a token, which is what a status probe
// wants. It is one attempt outside the breaker, the limiter and any pause: a probe must
// not wait behind traffic, nor take an open breaker's word for Kajabi's. Observers see it
// like any call; it is never shared with another caller's GET.
func (c *Client) Version(ctx context.Context) (*APIVersion, error) {
	rawURL := c.url(versionPath, "")
	cl := c.getCall(versionPath, rawURL, rawURL, "") // no token: the version needs none
	start := time.Now()
	resp, body, err := c.roundTrip(ctx, cl)
	status := 0
	if resp != nil {
		status = resp.StatusCode
	}
	c.observer.request(cl.method, cl.pattern, status, time.Since(start), err)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Meta struct {
			Title   string `json:"title"`
			Version string `json:"version"`
		} `json:"meta"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, &DecodeError{Method: http.MethodGet, URL: redactURL(resp.Request.URL), Err: err}
	}
	return &APIVersion{Title: doc.Meta.Title, Version: doc.Meta.Version}, nil
}

// CheckCredentials makes sure the client's own client credentials can obtain a token: it
// returns at once while the cached token is fresh, and otherwise fetches one. The token
// itself never leaves the client. checked is false when the client has no client
// credentials (a fixed token, or none when each caller's token is forwarded): there is
// nothing to obtain.
func (c *Client) CheckCredentials(ctx context.Context) (checked bool, err error) {
	cc, ok := c.tokens.(*ClientCredentials)
	if !ok {
		return false, nil
	}
	_, err = cc.Token(ctx)
	return true, err
}

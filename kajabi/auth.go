package kajabi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// TokenSource supplies the bearer token for each request.
type TokenSource interface {
	Token(ctx context.Context) (string, error)
}

// renewer is a TokenSource that can replace a token Kajabi refused.
type renewer interface {
	renew(ctx context.Context, stale string) error
}

// ForToken returns a client that sends token instead of c's credentials and shares
// everything else with c: transport, limits, breaker and the sharing of identical GETs
// (which is keyed by token, so two tokens never share an answer). It is how a service that
// forwards each caller's own Kajabi token keeps one process-wide set of protections.
func (c *Client) ForToken(token string) *Client {
	cp := *c
	cp.tokens = StaticToken(token)
	cp.attachServices()
	return &cp
}

// StaticToken is a fixed access token; Kajabi refusing it is final.
type StaticToken string

// Token returns the token itself.
func (t StaticToken) Token(context.Context) (string, error) { return string(t), nil }

// ClientCredentials obtains tokens from POST /v1/oauth/token with the client-credentials
// grant, caches them, and renews them ahead of expiry: with the refresh token first, falling
// back to client credentials. However many requests wait, one renewal runs at a time.
type ClientCredentials struct {
	ClientID     string
	ClientSecret string
	// RenewBefore is how long before expiry a renewal starts; zero means a tenth of the
	// token's lifetime, at most one minute.
	RenewBefore time.Duration

	client *Client
	now    func() time.Time

	mu      sync.Mutex
	current *oauthToken
	flight  *renewal
}

type oauthToken struct {
	access  string
	refresh string
	expiry  time.Time // zero: Kajabi gave no lifetime; used until refused
	renewAt time.Time
}

type renewal struct {
	done chan struct{}
	err  error
}

const (
	tokenPath         = "/v1/oauth/token"
	tokenFetchTimeout = 30 * time.Second
)

func (cc *ClientCredentials) bind(c *Client) {
	cc.client = c
	if cc.now == nil {
		cc.now = time.Now
	}
}

// Token returns a cached token, renewing it when it is about to expire. A token that is
// still valid is returned at once while its renewal runs; an expired one waits for it.
func (cc *ClientCredentials) Token(ctx context.Context) (string, error) {
	for {
		cc.mu.Lock()
		now := cc.now()
		tok := cc.current
		usable := tok != nil && tok.access != "" && (tok.expiry.IsZero() || now.Before(tok.expiry))
		if usable && (tok.renewAt.IsZero() || now.Before(tok.renewAt)) {
			cc.mu.Unlock()
			return tok.access, nil
		}
		f := cc.startRenewal(ctx)
		cc.mu.Unlock()
		if usable {
			return tok.access, nil
		}
		select {
		case <-f.done:
		case <-ctx.Done():
			return "", ctx.Err()
		}
		if f.err != nil {
			return "", f.err
		}
	}
}

// renew discards stale (a token Kajabi answered 401 to) unless another request has
// already replaced it, and waits for a fresh one.
func (cc *ClientCredentials) renew(ctx context.Context, stale string) error {
	cc.mu.Lock()
	if cc.current != nil && cc.current.access == stale {
		cc.current.access = ""
	}
	cc.mu.Unlock()
	_, err := cc.Token(ctx)
	return err
}

// startRenewal joins the renewal in flight or starts one; cc.mu must be held. The token
// request runs on its own bounded context so one caller giving up does not fail the others.
func (cc *ClientCredentials) startRenewal(ctx context.Context) *renewal {
	if cc.flight != nil {
		return cc.flight
	}
	f := &renewal{done: make(chan struct{})}
	cc.flight = f
	refresh := ""
	if cc.current != nil {
		refresh = cc.current.refresh
	}
	fetchCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), tokenFetchTimeout)
	go func() {
		defer cancel()
		tok, err := cc.requestToken(fetchCtx, refresh)
		cc.mu.Lock()
		if err == nil {
			cc.current = tok
		}
		f.err = err
		cc.flight = nil
		cc.mu.Unlock()
		close(f.done)
	}()
	return f
}

// requestToken asks the token endpoint for a new access token, by the refresh token when
// there is one, else by the client credentials.
func (cc *ClientCredentials) requestToken(ctx context.Context, refresh string) (*oauthToken, error) {
	if refresh != "" {
		form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}
		if tok, err := cc.post(ctx, form); err == nil {
			return tok, nil
		}
		// A refused or expired refresh token is routine: start over with the credentials.
	}
	tok, err := cc.post(ctx, url.Values{"grant_type": {"client_credentials"}})
	if err != nil {
		return nil, fmt.Errorf("obtain access token: %w", err)
	}
	return tok, nil
}

// post sends one grant to the token endpoint, with the client's retries, limits and
// breaker: a token request is as safe to repeat as a read.
func (cc *ClientCredentials) post(ctx context.Context, form url.Values) (*oauthToken, error) {
	form.Set("client_id", cc.ClientID)
	form.Set("client_secret", cc.ClientSecret)
	encoded := form.Encode()
	rawURL := cc.client.url(tokenPath, "")
	cl := &call{method: http.MethodPost, pattern: tokenPath, url: rawURL, account: cc.client.accountKey(""),
		newRequest: func(ctx context.Context) (*http.Request, error) {
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, strings.NewReader(encoded))
			if err != nil {
				return nil, err
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Accept", "application/json")
			req.Header.Set("User-Agent", cc.client.userAgent)
			return req, nil
		}}
	resp, raw, err := cc.client.send(ctx, ctx.Deadline, cl)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, newErrorResponse(resp, raw)
	}
	var body struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
		ExpiresIn    int64  `json:"expires_in"`
	}
	if err := json.Unmarshal(raw, &body); err != nil || body.AccessToken == "" {
		if err == nil {
			err = fmt.Errorf("no access_token in answer")
		}
		return nil, &DecodeError{Method: http.MethodPost, URL: redactURL(resp.Request.URL), Err: err}
	}
	tok := &oauthToken{access: body.AccessToken, refresh: body.RefreshToken}
	if body.ExpiresIn > 0 {
		now := cc.now()
		life := time.Duration(body.ExpiresIn) * time.Second
		tok.expiry = now.Add(life)
		lead := cc.RenewBefore
		if lead <= 0 {
			lead = min(life/10, time.Minute)
		}
		tok.renewAt = tok.expiry.Add(-lead)
	}
	return tok, nil
}

package kajabi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/url"
)

// A write is not a read: repeating one whose request reached Kajabi may do it twice (a
// grant sends its gift email twice, an automation runs twice). So a write is retried only
// when Kajabi surely did not act on it: a 429 (refused before any work), or a connection
// that could not be opened (nothing was sent). Anything else after the request went out
// (a reset, a timeout, a 5xx) is the caller's to judge, and ends the call at once.

// writeRetryable reports whether a write that failed with err was surely not carried out.
func writeRetryable(err error) bool {
	var apiErr *ErrorResponse
	if errors.As(err, &apiErr) {
		return apiErr.StatusCode == http.StatusTooManyRequests
	}
	var te *TransportError
	if !errors.As(err, &te) || errors.Is(te.Err, ErrCircuitOpen) {
		return false
	}
	var op *net.OpError
	return errors.As(te.Err, &op) && op.Op == "dial"
}

// writeDocument sends method to ep with body as a JSON:API document and decodes the answer
// as a document of T. It is never shared with other calls, and retried only as
// writeRetryable allows; a 401 on a renewable token renews it and sends once more, since
// Kajabi refused the first one unread.
func writeDocument[T any](ctx context.Context, c *Client, method string, ep endpoint, body any) (T, *Response, error) {
	var zero T
	if ep.err != nil {
		return zero, nil, ep.err
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return zero, nil, err
	}
	rawURL := c.url(ep.path, "")
	redacted := rawURL
	if u, err := url.Parse(rawURL); err == nil {
		redacted = redactURL(u)
	}
	token := ""
	if c.tokens != nil {
		if token, err = c.tokens.Token(ctx); err != nil {
			return zero, nil, err
		}
	}
	resp, answer, err := c.send(ctx, ctx.Deadline, c.writeCall(method, ep.pattern, rawURL, redacted, token, raw))
	var apiErr *ErrorResponse
	if errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusUnauthorized {
		if r, ok := c.tokens.(renewer); ok {
			if err := r.renew(ctx, token); err != nil {
				return zero, nil, err
			}
			if token, err = c.tokens.Token(ctx); err != nil {
				return zero, nil, err
			}
			resp, answer, err = c.send(ctx, ctx.Deadline, c.writeCall(method, ep.pattern, rawURL, redacted, token, raw))
		}
	}
	if err != nil {
		return zero, nil, err
	}
	var doc document[T]
	if err := decodeDocument(answer, &doc); err != nil {
		return zero, nil, &DecodeError{Method: method, URL: redacted, Err: err}
	}
	return doc.Data, newResponse(resp, doc.Links, doc.Meta), nil
}

func (c *Client) writeCall(method, pattern, rawURL, redacted, token string, body []byte) *call {
	return &call{method: method, pattern: pattern, url: redacted, account: c.accountKey(token), write: true,
		newRequest: func(ctx context.Context) (*http.Request, error) {
			req, err := http.NewRequestWithContext(ctx, method, rawURL, bytes.NewReader(body))
			if err != nil {
				return nil, err
			}
			req.Header.Set("Content-Type", mediaType)
			req.Header.Set("Accept", mediaType)
			req.Header.Set("User-Agent", c.userAgent)
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			return req, nil
		}}
}

// identifiers is the JSON:API body of a to-many relationship write.
func identifiers(typ string, ids []string) map[string][]Identifier {
	data := make([]Identifier, len(ids))
	for i, id := range ids {
		data[i] = Identifier{ID: id, Type: typ}
	}
	return map[string][]Identifier{"data": data}
}

// GrantOffers grants offers to a customer (POST of the offers relationship) and returns
// the customer's offers as Kajabi answers them.
func (s *CustomersService) GrantOffers(ctx context.Context, customerID string, offerIDs []string) ([]Identifier, *Response, error) {
	return writeDocument[[]Identifier](ctx, s.client, http.MethodPost, at("/v1/customers/{id}/relationships/offers", customerID), identifiers("offers", offerIDs))
}

// RevokeOffers takes offers from a customer (DELETE of the offers relationship) and returns
// the customer's remaining offers.
func (s *CustomersService) RevokeOffers(ctx context.Context, customerID string, offerIDs []string) ([]Identifier, *Response, error) {
	return writeDocument[[]Identifier](ctx, s.client, http.MethodDelete, at("/v1/customers/{id}/relationships/offers", customerID), identifiers("offers", offerIDs))
}

// SetOffers replaces a customer's offers with exactly these (PATCH of the offers
// relationship) and returns them as Kajabi answers.
func (s *CustomersService) SetOffers(ctx context.Context, customerID string, offerIDs []string) ([]Identifier, *Response, error) {
	return writeDocument[[]Identifier](ctx, s.client, http.MethodPatch, at("/v1/customers/{id}/relationships/offers", customerID), identifiers("offers", offerIDs))
}

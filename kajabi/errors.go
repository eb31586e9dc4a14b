package kajabi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// ErrorResponse is Kajabi's answer with a non-2xx status, carrying the JSON:API errors[].
type ErrorResponse struct {
	Method     string
	URL        string // scheme, host and path only: query strings may carry customer data
	StatusCode int
	Errors     []APIError
	// RetryAfter is how long Kajabi asked us to wait (429/503), zero when it did not say.
	RetryAfter time.Duration
}

// APIError is one entry of a JSON:API errors array.
type APIError struct {
	Status string       `json:"status"`
	Title  string       `json:"title"`
	Detail string       `json:"detail"`
	Source *ErrorSource `json:"source,omitempty"`
}

// ErrorSource points at the part of the request an APIError is about.
type ErrorSource struct {
	Pointer   string `json:"pointer,omitempty"`
	Parameter string `json:"parameter,omitempty"`
}

func (e *ErrorResponse) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: %d %s", e.Method, e.URL, e.StatusCode, http.StatusText(e.StatusCode))
	for _, ae := range e.Errors {
		switch {
		case ae.Detail != "":
			b.WriteString(": " + ae.Detail)
		case ae.Title != "":
			b.WriteString(": " + ae.Title)
		}
	}
	return b.String()
}

// Status is the answer's status line as http.Response.Status gives it ("404 Not Found"), so
// callers that present the error need not speak HTTP.
func (e *ErrorResponse) Status() string {
	return fmt.Sprintf("%d %s", e.StatusCode, http.StatusText(e.StatusCode))
}

// Message is the first human-readable text Kajabi gave for the error.
func (e *ErrorResponse) Message() string {
	for _, ae := range e.Errors {
		if ae.Detail != "" {
			return ae.Detail
		}
		if ae.Title != "" {
			return ae.Title
		}
	}
	return http.StatusText(e.StatusCode)
}

// newErrorResponse reads an error answer from its status, headers and (already read) body.
func newErrorResponse(resp *http.Response, body []byte) *ErrorResponse {
	e := &ErrorResponse{
		Method:     resp.Request.Method,
		URL:        redactURL(resp.Request.URL),
		StatusCode: resp.StatusCode,
		RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After")),
	}
	var doc struct {
		Errors []APIError `json:"errors"`
		// The OAuth endpoint answers {"error": "..."} instead of a JSON:API document.
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &doc) == nil {
		e.Errors = doc.Errors
		if len(e.Errors) == 0 && doc.Error != "" {
			e.Errors = []APIError{{Status: strconv.Itoa(resp.StatusCode), Detail: doc.Error}}
		}
	}
	return e
}

func parseRetryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && secs >= 0 {
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
	}
	return 0
}

// TransportError is a call that got no HTTP answer: a refused connection, a reset, a
// timeout, or the caller's context ending.
type TransportError struct {
	Method string
	URL    string
	Err    error
}

func (e *TransportError) Error() string {
	return fmt.Sprintf("%s %s: %v", e.Method, e.URL, e.Err)
}

func (e *TransportError) Unwrap() error { return e.Err }

// Timeout reports whether the call ran out of time (its own timeout or the context's deadline).
func (e *TransportError) Timeout() bool {
	var ne net.Error
	return errors.Is(e.Err, context.DeadlineExceeded) || (errors.As(e.Err, &ne) && ne.Timeout())
}

func transportError(ctx context.Context, req *http.Request, err error) error {
	// Prefer the context's own error so callers can test errors.Is(err, context.Canceled).
	if ctxErr := ctx.Err(); ctxErr != nil {
		err = ctxErr
	} else {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
	}
	return &TransportError{Method: req.Method, URL: redactURL(req.URL), Err: err}
}

// ErrCircuitOpen is what a call refused by the client's circuit breaker wraps: Kajabi kept
// failing (5xx, unreachable, timing out), so calls fail at once for a cool-down instead of
// piling up behind it. Test with errors.Is; errors.As with *CircuitOpenError gives how long
// the cool-down still runs. The error arrives inside a *TransportError (no HTTP answer).
var ErrCircuitOpen = errors.New("kajabi: circuit breaker open: Kajabi is failing, calls are refused for a while")

// CircuitOpenError is a call the circuit breaker refused without sending it.
type CircuitOpenError struct {
	// RetryAfter is the time left before the breaker lets a probe through; zero while a
	// probe is already in flight.
	RetryAfter time.Duration
}

func (e *CircuitOpenError) Error() string { return ErrCircuitOpen.Error() }

// Is makes errors.Is(err, ErrCircuitOpen) hold.
func (e *CircuitOpenError) Is(target error) bool { return target == ErrCircuitOpen }

// cloneError copies the error types this package builds, so callers that shared one
// upstream answer do not share a mutable error value.
func cloneError(err error) error {
	switch e := err.(type) {
	case *ErrorResponse:
		c := *e
		c.Errors = make([]APIError, len(e.Errors))
		for i, ae := range e.Errors {
			if ae.Source != nil {
				src := *ae.Source
				ae.Source = &src
			}
			c.Errors[i] = ae
		}
		if e.Errors == nil {
			c.Errors = nil
		}
		return &c
	case *TransportError:
		c := *e
		if ce, ok := e.Err.(*CircuitOpenError); ok {
			cc := *ce
			c.Err = &cc
		}
		return &c
	case *DecodeError:
		c := *e
		return &c
	}
	return err
}

// DecodeError is a 2xx answer whose body was not the JSON:API document we expected.
type DecodeError struct {
	Method string
	URL    string
	Err    error
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("%s %s: decode response: %v", e.Method, e.URL, e.Err)
}

func (e *DecodeError) Unwrap() error { return e.Err }

// redactURL keeps scheme, host and path: query strings carry customer data (emails, names)
// that has no place in error messages or logs.
func redactURL(u *url.URL) string {
	r := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}
	return r.String()
}

// Package model holds the GraphQL-only types: generated input and output models, the
// scalars' wire formats, and connections with their cursors.
package model

import (
	"fmt"
	"io"
	"regexp"
	"strconv"
	"time"

	"github.com/99designs/gqlgen/graphql"
)

// MarshalDateTime writes a time as an RFC 3339 string, in UTC.
func MarshalDateTime(t time.Time) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		var buf [48]byte // an RFC 3339 time is plain ASCII: nothing to escape
		b := t.UTC().AppendFormat(append(buf[:0], '"'), time.RFC3339)
		_, _ = w.Write(append(b, '"'))
	})
}

// UnmarshalDateTime reads an RFC 3339 string.
func UnmarshalDateTime(v any) (time.Time, error) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, InputError("DateTime must be an RFC 3339 string such as \"2026-01-31T09:00:00Z\"")
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, InputError(fmt.Sprintf("DateTime must be an RFC 3339 string such as \"2026-01-31T09:00:00Z\", got %q", truncate(s, 40)))
	}
	return t, nil
}

var decimalPattern = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?$`)

// MarshalDecimal writes a decimal amount as a JSON string, exactly as Kajabi gave it.
func MarshalDecimal(s string) graphql.Marshaler { return graphql.MarshalString(s) }

// UnmarshalDecimal accepts digits with an optional fraction ("149", "149.50"), as a string
// or as a GraphQL Int; floats are refused because they may already have lost cents.
func UnmarshalDecimal(v any) (string, error) {
	var s string
	switch v := v.(type) {
	case string:
		s = v
	case int:
		s = strconv.Itoa(v)
	case int64:
		s = strconv.FormatInt(v, 10)
	case interface{ String() string }: // json.Number
		s = v.String()
	default:
		return "", InputError("Decimal must be a string of digits with an optional fraction, such as \"149.50\"")
	}
	if len(s) > 32 || !decimalPattern.MatchString(s) {
		return "", InputError(fmt.Sprintf("Decimal must be digits with an optional fraction, such as \"149.50\"; got %q", truncate(s, 40)))
	}
	return s, nil
}

// InputError is a value the caller sent that a scalar refuses; it is shown to the caller
// as BAD_USER_INPUT, named by the argument path it was found at.
type InputError string

func (e InputError) Error() string { return string(e) }

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

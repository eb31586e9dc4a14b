package model

import (
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/99designs/gqlgen/graphql"
)

// Date is a calendar date, as Kajabi's date filters take it (YYYY-MM-DD).
type Date string

// MarshalGQL writes the date as a string.
func (d Date) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(string(d))) }

// UnmarshalGQL accepts a real calendar date written YYYY-MM-DD.
func (d *Date) UnmarshalGQL(v any) error {
	s, ok := v.(string)
	if !ok {
		return InputError("Date must be a string such as \"2026-01-31\"")
	}
	if _, err := time.Parse(time.DateOnly, s); err != nil {
		return InputError(fmt.Sprintf("Date must be a calendar date such as \"2026-01-31\", got %q", truncate(s, 40)))
	}
	*d = Date(s)
	return nil
}

var _ graphql.Marshaler = Date("")

package kajabi

import (
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/google/go-querystring/query"
)

// Identifier is a JSON:API resource identifier: what a relationship points at.
type Identifier struct {
	ID   string `json:"id"`
	Type string `json:"type"`
}

// toOne is a to-one relationship; Data is nil when the relationship is empty.
type toOne struct {
	Data *Identifier `json:"data"`
}

// toMany is a to-many relationship; Data is nil when Kajabi gives only links.
type toMany struct {
	Data  []Identifier `json:"data"`
	Links struct {
		Self string `json:"self"`
	} `json:"links"`
}

func (r *toOne) id() *Identifier {
	if r == nil {
		return nil
	}
	return r.Data
}

func (r *toMany) ids() []Identifier {
	if r == nil {
		return nil
	}
	return r.Data
}

// ListOptions are the JSON:API paging parameters every list call shares.
type ListOptions struct {
	// Page is the 1-based page number; 0 leaves Kajabi's default (1).
	Page int `url:"page[number],omitempty"`
	// PageSize is the number of records per page, up to 100; 0 leaves Kajabi's default (20).
	PageSize int `url:"page[size],omitempty"`
}

// EncodeQuery renders an options struct to a query string. It is the one place where
// option fields become Kajabi parameters: each field's `url` tag is the parameter name as
// the spec spells it, read by go-querystring (go-github's encoder), lists joined with
// commas. Empty values are left out, and keys come out sorted so the same options always
// give the same string.
//
// The string is written here rather than by url.Values.Encode, which would escape the
// brackets of every name (filter%5Bsite_id%5D) and the commas of every list: Kajabi
// documents both bare, and the query string is also the cache and sharing key.
func EncodeQuery(opts any) string {
	values, err := query.Values(opts)
	if err != nil {
		// Only a non-struct reaches here: a programming error, as with any reflective encoder.
		panic(fmt.Sprintf("kajabi: cannot encode %T as a query string: %v", opts, err))
	}
	keys := make([]string, 0, len(values))
	for k, vs := range values {
		if len(vs) > 0 && vs[0] != "" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(escapeValue(values.Get(k)))
	}
	return b.String()
}

// escapeValue escapes a parameter value, leaving commas readable: JSON:API lists
// (fields, sort, id lists) are comma-separated and Kajabi's own examples write them bare.
func escapeValue(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "%2C", ",")
}

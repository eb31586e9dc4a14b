package model

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"

	"github.com/kajabi-graphql/facade/kajabi"
)

// CustomerConnection is one window of a customer list.
type CustomerConnection struct {
	Nodes      []*kajabi.Customer
	PageInfo   *PageInfo
	TotalCount *int

	start int
	scope Scope
}

// Totals is what Kajabi's answers proved about the whole list: Count rows in Pages pages,
// each nil when unproved, and whether rows follow the window.
type Totals struct {
	Count, Pages *int
	HasNext      bool
}

// NewCustomerConnection lays customers out as a connection whose first node sits at
// offset start (0-based) of the whole list; cursors are tied to the list's scope.
func NewCustomerConnection(customers []*kajabi.Customer, start, pageSize int, totals Totals, scope Scope) *CustomerConnection {
	c := &CustomerConnection{
		Nodes:      customers,
		TotalCount: totals.Count,
		PageInfo: &PageInfo{
			HasPreviousPage: start > 0,
			HasNextPage:     totals.HasNext,
			CurrentPage:     start/pageSize + 1,
			TotalPages:      totals.Pages,
			PageSize:        pageSize,
		},
		start: start,
		scope: scope,
	}
	if n := len(customers); n > 0 {
		first, last := Cursor{Offset: start, Scope: scope}.String(), Cursor{Offset: start + n - 1, Scope: scope}.String()
		c.PageInfo.StartCursor, c.PageInfo.EndCursor = &first, &last
	}
	return c
}

// Edges pairs each node with its cursor. It is a method, not a field, so that a query
// asking only for nodes (the usual list) does not pay for 20 base64 cursors it never sees.
func (c *CustomerConnection) Edges() []*CustomerEdge {
	edges := make([]*CustomerEdge, len(c.Nodes))
	for i, cust := range c.Nodes {
		edges[i] = &CustomerEdge{Cursor: Cursor{Offset: c.start + i, Scope: c.scope}.String(), Node: cust}
	}
	return edges
}

// Scope fingerprints the filter and sort a list was made with, so that a cursor from one
// list is refused by another instead of silently pointing at the wrong row.
type Scope string

// NewScope fingerprints a canonical rendering of the list's filter and sort.
func NewScope(canonical string) Scope {
	sum := sha256.Sum256([]byte(canonical))
	return Scope(hex.EncodeToString(sum[:8]))
}

// Cursor points at one row of a list: its 0-based offset within that list's scope.
type Cursor struct {
	Offset int
	Scope  Scope
}

const cursorPrefix = "kc1:"

// maxCursorOffset bounds a cursor's row: ten million rows, past any Kajabi list a page
// number can reach, and far from overflow when windows add to it.
const maxCursorOffset = 10_000_000

// ErrInvalidCursor means a cursor was not made by this service.
var ErrInvalidCursor = errors.New("not a cursor this service issued")

// String renders the cursor opaquely.
func (c Cursor) String() string {
	return base64.RawURLEncoding.EncodeToString([]byte(cursorPrefix + strconv.Itoa(c.Offset) + ":" + string(c.Scope)))
}

// ParseCursor reads a cursor made by Cursor.String.
func ParseCursor(s string) (Cursor, error) {
	if len(s) > 128 {
		return Cursor{}, ErrInvalidCursor
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return Cursor{}, ErrInvalidCursor
	}
	rest, ok := strings.CutPrefix(string(raw), cursorPrefix)
	if !ok {
		return Cursor{}, ErrInvalidCursor
	}
	off, scope, ok := strings.Cut(rest, ":")
	n, err := strconv.Atoi(off)
	// Only the form String writes: no sign, no leading zeros, a bounded row.
	if !ok || err != nil || n < 0 || n > maxCursorOffset || strconv.Itoa(n) != off || len(scope) != 16 {
		return Cursor{}, ErrInvalidCursor
	}
	return Cursor{Offset: n, Scope: Scope(scope)}, nil
}

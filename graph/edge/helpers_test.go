package edge_test

// Helpers shared by the edge tests; graph_test has its own copies, as external test
// packages cannot share test files.

import (
	"encoding/json"

	"github.com/kajabi-graphql/facade/kajabi/kajabitest"
)

type gqlError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

type gqlResponse struct {
	Data   json.RawMessage `json:"data"`
	Errors []gqlError      `json:"errors"`
}

func (r gqlResponse) code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	code, _ := r.Errors[0].Extensions["code"].(string)
	return code
}

// queries are the Kajabi calls up received, as path?query.
func queries(up *kajabitest.Upstream) []string {
	var out []string
	for _, r := range up.Requests() {
		out = append(out, r.Path+"?"+r.RawQuery)
	}
	return out
}

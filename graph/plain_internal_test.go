package graph

import (
	"bytes"
	"testing"

	"github.com/99designs/gqlgen/graphql"
)

// appendQuoted must escape exactly as graphql.MarshalString, which the generated code uses.
func TestAppendQuotedAsMarshalString(t *testing.T) {
	for _, s := range []string{"", "plain", `quote " and \ back`, "tab\tcr\rnl\n", "\x00\x01\x1f\x7f", "<a href='x'>&amp;</a>", "é ünï 日本 🙂", "bad \xff utf8", "\u2028\u2029"} {
		var want bytes.Buffer
		graphql.MarshalString(s).MarshalGQL(&want)
		if got := appendQuoted(nil, s); !bytes.Equal(got, want.Bytes()) {
			t.Errorf("appendQuoted(%q) = %s, want %s", s, got, want.Bytes())
		}
	}
}

package model

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// TestScalarsWriteJSON: what the scalars write must be the JSON string a client reads back.
func TestScalarsWriteJSON(t *testing.T) {
	paris := time.FixedZone("CET", 3600)
	for _, tc := range []struct {
		name string
		got  func(*bytes.Buffer)
		want string
	}{
		{"DateTime in UTC", func(b *bytes.Buffer) { MarshalDateTime(time.Date(2026, 1, 2, 4, 4, 5, 999, paris)).MarshalGQL(b) }, "2026-01-02T03:04:05Z"},
		{"DateTime zero", func(b *bytes.Buffer) { MarshalDateTime(time.Time{}).MarshalGQL(b) }, "0001-01-01T00:00:00Z"},
		{"Decimal", func(b *bytes.Buffer) { MarshalDecimal("149.50").MarshalGQL(b) }, "149.50"},
		// Kajabi's text goes out as it came, escaped the way JSON (not Go) escapes.
		{"Decimal odd", func(b *bytes.Buffer) { MarshalDecimal("1\x7f\"\u2028").MarshalGQL(b) }, "1\x7f\"\u2028"},
	} {
		var b bytes.Buffer
		tc.got(&b)
		var s string
		if err := json.Unmarshal(b.Bytes(), &s); err != nil || s != tc.want {
			t.Errorf("%s: wrote %s (%v), want the JSON string %q", tc.name, b.Bytes(), err, tc.want)
		}
	}
}

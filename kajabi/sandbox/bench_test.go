package sandbox_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/kajabi-graphql/facade/kajabi/sandbox"
)

// BenchmarkListCustomers measures the handler alone (no network): a full
// page with filters, the kind of request the facade's benchmarks send most.
func BenchmarkListCustomers(b *testing.B) {
	sb := sandbox.New(sandbox.Options{Now: testNow, AccessTokens: []string{testToken}})
	for _, q := range []string{
		"page[size]=100",
		"filter[site_id]=101&filter[has_tag_id]=4001&filter[active_in_last]=30&sort=-net_revenue&page[size]=100",
		"filter[search]=smith&page[size]=20",
	} {
		b.Run(q, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, "/v1/customers?"+q, nil)
			req.Header.Set("Authorization", "Bearer "+testToken)
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				sb.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatal(w.Code)
				}
			}
		})
	}
}

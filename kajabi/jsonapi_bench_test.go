package kajabi

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/kajabi-graphql/facade/kajabi/sandbox"
)

// BenchmarkEncodeQuery renders the customer list options the graph layer sends most: a
// few filters, a sort, a sparse fieldset and paging, out of the 74 filter fields.
//
//	go test ./kajabi -run '^$' -bench . -benchmem
func BenchmarkEncodeQuery(b *testing.B) {
	site, rev, days, yes := "101", "100", 30, true
	opts := &CustomerListOptions{
		Filter: CustomerFilter{SiteID: &site, NetRevenueGreaterThan: &rev, ActiveInLast: &days, Subscribed: &yes,
			HasAllTagID: []string{"4001", "4002"}},
		Sort:        "-" + SortByNetRevenue,
		Fields:      []string{"name", "email", "net_revenue", "created_at"},
		ListOptions: ListOptions{Page: 3, PageSize: 20},
	}
	b.ReportAllocs()
	for b.Loop() {
		if EncodeQuery(opts) == "" {
			b.Fatal("empty query")
		}
	}
}

// BenchmarkDecodeCustomers decodes a page of customers as the sandbox answers it, with
// every attribute and with the sparse fieldset of the bench harness's workload (a), the
// way getDocument does; side by side with the library decoders of
// decode_alternatives_test.go, which jsonscan.go must stay well ahead of to be kept.
func BenchmarkDecodeCustomers(b *testing.B) {
	sb := sandbox.New(sandbox.Options{Customers: 1000, Sites: 1, Now: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC), AccessTokens: []string{"t"}})
	for _, tc := range []struct{ name, query string }{
		{"20-all", "page[size]=20&page[number]=3"},
		{"20-sparse", "page[size]=20&page[number]=3&fields[customers]=name,email,avatar,net_revenue,sign_in_count,created_at,updated_at"},
		{"100-all", "page[size]=100"},
	} {
		req := httptest.NewRequest(http.MethodGet, "/v1/customers?"+tc.query, nil)
		req.Header.Set("Authorization", "Bearer t")
		w := httptest.NewRecorder()
		sb.ServeHTTP(w, req)
		body, _ := io.ReadAll(w.Result().Body)
		for _, dec := range []struct {
			name   string
			decode func([]byte, *document[[]*Customer]) error
		}{
			{"jsonscan", decodeDocument[[]*Customer]},
			{"encoding-json", decodeCustomersStd},
			{"json-experiment", decodeCustomersJSONv2},
		} {
			b.Run(tc.name+"/"+dec.name, func(b *testing.B) {
				b.SetBytes(int64(len(body)))
				b.ReportAllocs()
				for b.Loop() {
					var doc document[[]*Customer]
					if err := dec.decode(body, &doc); err != nil || len(doc.Data) == 0 {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkListCustomers is one whole client call to a sandbox on loopback: the request,
// the sandbox's answer and the decoding, without the rate limit.
func BenchmarkListCustomers(b *testing.B) {
	srv := httptest.NewServer(sandbox.New(sandbox.Options{Customers: 1000}))
	b.Cleanup(srv.Close)
	c, err := NewClient(WithBaseURL(srv.URL), WithClientCredentials(sandbox.ClientID, sandbox.ClientSecret), WithLimits(Limits{}))
	if err != nil {
		b.Fatal(err)
	}
	opts := &CustomerListOptions{ListOptions: ListOptions{Page: 3, PageSize: 20}}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := c.Customers.List(ctx, opts); err != nil {
			b.Fatal(err)
		}
	}
}

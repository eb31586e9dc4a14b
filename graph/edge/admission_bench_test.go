package edge_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kajabi-graphql/facade/graph"
	"github.com/kajabi-graphql/facade/graph/edge"
	"github.com/kajabi-graphql/facade/kajabi"
	"github.com/kajabi-graphql/facade/kajabi/kajabitest"
	"github.com/kajabi-graphql/facade/kajabi/sandbox"
)

// overloadHeavy is the overload run's heaviest allowed query (bench/overload.go).
const overloadHeavy = `query Heavy { customers(first: 100, filter: {siteId: "101"}) { totalCount pageInfo { hasNextPage endCursor currentPage totalPages }
  nodes { id name email netRevenue createdAt contact { phoneNumber addressCity addressCountry } site { title }
  products { title productType } offers { title priceInCents currency } } } }`

// BenchmarkRefusal is the CPU of one RATE_LIMITED refusal of the overload run's heavy
// query through the real handler: the budget has no room, so it is parsed (from the
// cache after the first), validated, weighed and refused.
//
//	go test ./graph/edge -run '^$' -bench Refusal -cpuprofile cpu.out
func BenchmarkRefusal(b *testing.B) {
	up := kajabitest.NewSandbox(b, sandbox.Options{Customers: 5})
	body, _ := json.Marshal(map[string]string{"query": overloadHeavy})
	client := up.Client(b, kajabi.WithLimits(kajabi.Limits{Rate: 0.001, Burst: 1}))
	h := edge.NewHandler(&graph.Resolver{Client: client}, edge.HandlerOptions{
		DisableCSRFPrevention: true, Timeout: 20 * time.Second, Admission: edge.Admission{Inflight: 32, Queued: 64},
	})
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if !strings.Contains(w.Body.String(), graph.CodeRateLimited) {
			b.Fatalf("got %d %.300s, want %s", w.Code, w.Body.String(), graph.CodeRateLimited)
		}
	}
}

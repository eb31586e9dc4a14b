package edge_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/kajabi-graphql/facade/graph"
	"github.com/kajabi-graphql/facade/graph/edge"
	"github.com/kajabi-graphql/facade/kajabi/kajabitest"
	"github.com/kajabi-graphql/facade/kajabi/sandbox"
)

// BenchmarkWorstDocuments sends each worst document through the real handler, with the
// repeats limit off (as main had it: the document is parsed and validated, and run when
// valid) and on (the default: refused before validation). Each request carries a comment
// of its own, as an attacker's would, so no request is answered from the parsed-query
// cache.
//
//	go test ./graph/edge -run '^$' -bench WorstDocuments -benchtime 20x
func BenchmarkWorstDocuments(b *testing.B) {
	up := kajabitest.NewSandbox(b, sandbox.Options{Customers: 5})
	off := edge.DefaultRequestLimits
	off.MaxRepeats = 0
	for _, guard := range []struct {
		name   string
		limits edge.RequestLimits
	}{{"off", off}, {"on", edge.DefaultRequestLimits}} {
		h := edge.NewHandler(&graph.Resolver{Client: up.Client(b)}, edge.HandlerOptions{Limits: &guard.limits, DisableCSRFPrevention: true})
		for _, d := range worstDocuments() {
			b.Run(d.name+"/"+guard.name, func(b *testing.B) {
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					i++
					body, err := json.Marshal(map[string]string{"query": "#" + strconv.Itoa(i) + "\n" + d.query})
					if err != nil {
						b.Fatal(err)
					}
					req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
					req.Header.Set("Content-Type", "application/json")
					w := httptest.NewRecorder()
					h.ServeHTTP(w, req)
					if refused := bytes.Contains(w.Body.Bytes(), []byte(graph.CodeTooManyRepeats)); refused != (guard.name == "on" && !d.admitted) {
						b.Fatalf("refused %t: %d %.300s", refused, w.Code, w.Body.Bytes())
					}
				}
			})
		}
	}
}

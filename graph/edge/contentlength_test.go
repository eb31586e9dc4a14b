package edge_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kajabi-graphql/facade/graph"
	"github.com/kajabi-graphql/facade/graph/edge"
	"github.com/kajabi-graphql/facade/kajabi/kajabitest"
	"github.com/kajabi-graphql/facade/kajabi/sandbox"
)

// TestContentLengthOverLimit announces a body over the limit and sends only its first
// bytes, over a raw connection: the 413 PAYLOAD_TOO_LARGE must come back without the
// server waiting for the rest. A server that waited would leave the read to its deadline,
// which fails the test instead of hanging it.
func TestContentLengthOverLimit(t *testing.T) {
	up := kajabitest.NewSandbox(t, sandbox.Options{Customers: 5})
	servers := map[int64]string{}
	for _, limit := range []int64{0, 1000} { // 0: the default, 1 MiB
		srv := httptest.NewServer(edge.NewHandler(&graph.Resolver{Client: up.Client(t)}, edge.HandlerOptions{MaxBodyBytes: limit}))
		t.Cleanup(srv.Close)
		servers[limit] = srv.Listener.Addr().String()
	}
	const start = `{"query":"{ __typename }"`
	tests := []struct {
		name          string
		limit         int64 // of the server; 0 is the default
		contentLength int64
		header        string // more header lines
		body          string // what is sent of the body
		status        int
	}{
		{name: "100 MB announced", contentLength: 100 << 20, body: start, status: 413},
		{name: "1 byte over the default", contentLength: 1<<20 + 1, body: start, status: 413},
		{name: "1 byte over a small limit", limit: 1000, contentLength: 1001, body: start, status: 413},
		{name: "100 MB announced, expecting 100-continue", contentLength: 100 << 20, header: "Expect: 100-continue\r\n", status: 413},
		{name: "at the limit, whole body", limit: 1000, contentLength: 1000, body: start + "}" + strings.Repeat(" ", 1000-len(start)-1), status: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up.Reset()
			conn, err := net.Dial("tcp", servers[tt.limit])
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			// Generous: the answer takes milliseconds; this only turns a wait into a failure.
			if err := conn.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(conn, "POST /graphql HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: %d\r\n%s\r\n%s",
				tt.contentLength, tt.header, tt.body)
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatalf("got no answer before the deadline (%v): the server waited for the body", err)
			}
			defer resp.Body.Close()
			raw, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.status {
				t.Fatalf("got %d %s, want %d", resp.StatusCode, raw, tt.status)
			}
			if up.Calls() != 0 {
				t.Errorf("got %d Kajabi calls, want 0", up.Calls())
			}
			if tt.status != 413 {
				return
			}
			var out gqlResponse
			if err := json.Unmarshal(raw, &out); err != nil {
				t.Fatalf("got %s: %v", raw, err)
			}
			limit := tt.limit
			if limit == 0 {
				limit = 1 << 20
			}
			wantMsg := fmt.Sprintf("the request body is larger than %d bytes", limit)
			if len(out.Errors) != 1 || out.code() != graph.CodePayloadTooLarge || out.Errors[0].Message != wantMsg {
				t.Errorf("got %+v, want one PAYLOAD_TOO_LARGE %q", out.Errors, wantMsg)
			}
			if !resp.Close {
				t.Error("got a connection kept open, want it closed: the rest of the body is never read")
			}
		})
	}
}

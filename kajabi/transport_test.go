package kajabi_test

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kajabi-graphql/facade/kajabi"
)

// tlsKajabi is an HTTPS server on loopback with a self-signed certificate, offering HTTP/2,
// that counts the connections it accepts and records each request's protocol.
type tlsKajabi struct {
	srv    *httptest.Server
	caFile string
	conns  atomic.Int64
	mu     sync.Mutex
	protos map[string]int
}

func newTLSKajabi(t *testing.T) *tlsKajabi {
	t.Helper()
	k := &tlsKajabi{protos: map[string]int{}}
	k.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k.mu.Lock()
		k.protos[r.Proto]++
		k.mu.Unlock()
		w.Header().Set("Content-Type", "application/vnd.api+json")
		_, _ = io.WriteString(w, `{"data":[{"id":"1","type":"sites","attributes":{"title":"T"}}]}`)
	}))
	k.srv.EnableHTTP2 = true
	k.srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
	k.srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			k.conns.Add(1)
		}
	}
	k.srv.StartTLS()
	t.Cleanup(k.srv.Close)
	k.caFile = filepath.Join(t.TempDir(), "ca.pem")
	block := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: k.srv.Certificate().Raw})
	if err := os.WriteFile(k.caFile, block, 0o600); err != nil {
		t.Fatal(err)
	}
	return k
}

func TestHTTPClientTLS(t *testing.T) {
	k := newTLSKajabi(t)
	roots, err := kajabi.LoadCAFile(k.caFile)
	if err != nil {
		t.Fatalf("LoadCAFile: %v", err)
	}
	cases := []struct {
		name      string
		roots     *x509.CertPool
		wantProto string // "" means the call must fail certificate verification
	}{
		{"the CA file trusted: HTTP/2", roots, "HTTP/2.0"},
		{"the system's roots: refused", nil, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			k.mu.Lock()
			clear(k.protos)
			k.mu.Unlock()
			hc := kajabi.HTTPOptions{Timeout: 5 * time.Second, RootCAs: tc.roots}.Client()
			client, err := kajabi.NewClient(kajabi.WithBaseURL(k.srv.URL), kajabi.WithAccessToken("tok"),
				kajabi.WithHTTPClient(hc), kajabi.WithRetry(kajabi.RetryPolicy{MaxAttempts: 1}))
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = client.Sites.List(context.Background(), nil)
			if tc.wantProto == "" {
				var unknown x509.UnknownAuthorityError
				if !errors.As(err, &unknown) {
					t.Fatalf("got error %v, want x509.UnknownAuthorityError", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Sites.List: got %v, want no error", err)
			}
			k.mu.Lock()
			defer k.mu.Unlock()
			if k.protos[tc.wantProto] != 1 || len(k.protos) != 1 {
				t.Errorf("got requests by protocol %v, want one %s", k.protos, tc.wantProto)
			}
		})
	}
}

// Over HTTP/2, calls in flight together share one connection: no handshake per call.
func TestHTTPClientMultiplexes(t *testing.T) {
	k := newTLSKajabi(t)
	roots, err := kajabi.LoadCAFile(k.caFile)
	if err != nil {
		t.Fatal(err)
	}
	client, err := kajabi.NewClient(kajabi.WithBaseURL(k.srv.URL), kajabi.WithAccessToken("tok"),
		kajabi.WithHTTPClient(kajabi.HTTPOptions{Timeout: 5 * time.Second, RootCAs: roots}.Client()))
	if err != nil {
		t.Fatal(err)
	}
	// One call first, so the others find the connection rather than racing to dial.
	if _, _, err := client.Sites.List(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	const calls = 40
	var wg sync.WaitGroup
	errs := make(chan error, calls)
	for i := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Distinct pages, so the client's sharing of identical reads cannot merge them.
			_, _, err := client.Sites.List(context.Background(), &kajabi.SiteListOptions{ListOptions: kajabi.ListOptions{Page: i + 1}})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("Sites.List: %v", err)
		}
	}
	if got := k.conns.Load(); got != 1 {
		t.Errorf("got %d connections for %d calls, want 1", got, calls+1)
	}
}

func TestLoadCAFile(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct{ name, path string }{
		{"missing file", filepath.Join(dir, "missing.pem")},
		{"no certificate in it", notPEM},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if pool, err := kajabi.LoadCAFile(tc.path); err == nil {
				t.Errorf("got pool %v and no error, want an error", pool)
			}
		})
	}
}

// Command sandboxd serves the Kajabi sandbox on its own loopback port, so the facade,
// GraphQL Mesh and the raw REST baseline of the bench harness all hit the same upstream.
//
// Besides Kajabi's own paths it answers two paths that are not part of Kajabi's API and
// exist only for the harness:
//
//	GET  /_stats             {"calls":N,"tokenCalls":N,"bytes":N,"conns":N,"byPath":{...}}: API
//	                         calls answered so far (token requests counted apart), the body
//	                         bytes they carried, and the connections accepted
//	POST /_latency?d=20ms    change the latency added to every call
//
// It prints "sandboxd: http://127.0.0.1:PORT" on stdout once it listens. With -tls it serves
// HTTPS (HTTP/2 offered, as Kajabi does) with a self-signed certificate made at start, writes
// that certificate as PEM to -tls-ca-file, prints "sandboxd-ca: PATH" and then
// "sandboxd: https://127.0.0.1:PORT". A client trusts it with KAJABI_CA_FILE=PATH.
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"flag"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/kajabi-graphql/facade/kajabi/sandbox"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on (loopback only)")
	customers := flag.Int("customers", 5000, "customers in the data set")
	seed := flag.Int64("seed", 0, "data set seed; 0 is the fixed default")
	latency := flag.Duration("latency", 0, "latency added to every call")
	rateLimit := flag.Int("rate-limit", 0, "calls a second the account answers before 429; 0 is no limit")
	useTLS := flag.Bool("tls", false, "serve HTTPS and HTTP/2 with a self-signed certificate made at start")
	caFile := flag.String("tls-ca-file", "", "where -tls writes its certificate as PEM (default: a new file in the temp directory)")
	flag.Parse()

	host, _, err := net.SplitHostPort(*listen)
	if err != nil || !net.ParseIP(host).IsLoopback() {
		fmt.Fprintf(os.Stderr, "sandboxd: -listen must be a loopback address, got %q\n", *listen)
		os.Exit(2)
	}
	sb := sandbox.New(sandbox.Options{Customers: *customers, Seed: *seed, Latency: *latency, RateLimit: *rateLimit})
	st := &stats{byPath: map[string]int64{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /_stats", st.serve)
	mux.HandleFunc("POST /_latency", func(w http.ResponseWriter, r *http.Request) {
		d, err := time.ParseDuration(r.URL.Query().Get("d"))
		if err != nil || d < 0 {
			http.Error(w, "d must be a duration such as 20ms", http.StatusBadRequest)
			return
		}
		sb.SetLatency(d)
		w.WriteHeader(http.StatusNoContent)
	})
	mux.Handle("/", st.count(sb))

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, "sandboxd:", err)
		os.Exit(1)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		ConnState: func(_ net.Conn, s http.ConnState) {
			if s == http.StateNew {
				st.conns.Add(1)
			}
		}}
	scheme := "http"
	if *useTLS {
		cert, path, err := selfSigned(*caFile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "sandboxd:", err)
			os.Exit(1)
		}
		// ServeTLS offers h2 by ALPN, as it does whenever TLSConfig leaves NextProtos to it.
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		scheme = "https"
		fmt.Printf("sandboxd-ca: %s\n", path)
	}
	fmt.Printf("sandboxd: %s://%s\n", scheme, ln.Addr())
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
		<-sig
		_ = srv.Close()
	}()
	serve := srv.Serve
	if *useTLS {
		serve = func(ln net.Listener) error { return srv.ServeTLS(ln, "", "") }
	}
	if err := serve(ln); err != nil && err != http.ErrServerClosed {
		fmt.Fprintln(os.Stderr, "sandboxd:", err)
		os.Exit(1)
	}
}

// selfSigned makes a certificate for 127.0.0.1 that is its own CA, and writes it as PEM to
// path (a new temp file when empty) for clients to trust.
func selfSigned(path string) (tls.Certificate, string, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, "", err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "sandboxd"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(7 * 24 * time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:              []string{"localhost"},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, "", err
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if path == "" {
		f, err := os.CreateTemp("", "sandboxd-ca-*.pem")
		if err != nil {
			return tls.Certificate{}, "", err
		}
		path = f.Name()
		f.Close()
	}
	if err := os.WriteFile(path, certPEM, 0o644); err != nil {
		return tls.Certificate{}, "", err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, path, nil
}

// stats counts the calls the sandbox answers. The per-path counts group ids away
// (/v1/contacts/{id}) so the map stays small however long the run.
type stats struct {
	calls, tokenCalls, bytes, conns atomic.Int64

	mu     sync.Mutex
	byPath map[string]int64
}

func (s *stats) count(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cw := &countingWriter{ResponseWriter: w}
		next.ServeHTTP(cw, r)
		if r.URL.Path == "/v1/oauth/token" {
			s.tokenCalls.Add(1)
			return
		}
		s.calls.Add(1)
		s.bytes.Add(cw.n)
		key := pathPattern(r.URL.Path)
		s.mu.Lock()
		s.byPath[key]++
		s.mu.Unlock()
	})
}

func (s *stats) serve(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	byPath := make(map[string]int64, len(s.byPath))
	for k, v := range s.byPath {
		byPath[k] = v
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"calls": s.calls.Load(), "tokenCalls": s.tokenCalls.Load(), "bytes": s.bytes.Load(), "conns": s.conns.Load(), "byPath": byPath,
	})
}

// pathPattern replaces the id segments of a Kajabi path with {id}.
func pathPattern(p string) string {
	seg := strings.Split(p, "/")
	for i, s := range seg {
		if i >= 3 && s != "relationships" && s != "offers" && s != "tags" && s != "products" {
			seg[i] = "{id}"
		}
	}
	return strings.Join(seg, "/")
}

type countingWriter struct {
	http.ResponseWriter
	n int64
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.ResponseWriter.Write(b)
	c.n += int64(n)
	return n, err
}

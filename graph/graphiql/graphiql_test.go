package graphiql

import (
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

const testAssetsPath = "/graphiql/"

// newServer mounts Handler the way the package documentation tells servers
// to, next to a stub GraphQL endpoint, on a loopback httptest server.
func newServer(t *testing.T, opts Options) *httptest.Server {
	t.Helper()
	h := Handler(opts)
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", h)
	mux.Handle("GET "+testAssetsPath, h)
	mux.HandleFunc("POST /graphql", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/graphql-response+json")
		_, _ = io.WriteString(w, `{"data":{"hello":"world"}}`)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func defaultOptions() Options {
	return Options{
		Title:            "Facade GraphiQL",
		Endpoint:         "/graphql",
		AssetsPath:       testAssetsPath,
		DefaultQuery:     "query Hello($name: String) {\n  hello(name: $name)\n}",
		DefaultVariables: `{"name": "world"}`,
	}
}

type response struct {
	status int
	header http.Header
	body   string
}

func do(t *testing.T, method, url string, hdr map[string]string) response {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: res.StatusCode, header: res.Header, body: string(body)}
}

func get(t *testing.T, url string) response {
	t.Helper()
	return do(t, http.MethodGet, url, nil)
}

var (
	scriptTagRE  = regexp.MustCompile(`(?s)<script\b([^>]*)>(.*?)</script>`)
	srcHrefRE    = regexp.MustCompile(`\b(?:src|href)="([^"]*)"`)
	configRE     = regexp.MustCompile(`(?s)<script id="graphiql-config" type="application/json">(.*?)</script>`)
	cdnHostsList = []string{
		"unpkg.com", "cdn.jsdelivr.net", "jsdelivr.net", "esm.sh", "cdnjs.cloudflare.com",
		"skypack.dev", "jspm.io", "fonts.googleapis.com", "fonts.gstatic.com",
	}
)

// referencedURLs returns the src/href values of the page, except the data:
// favicon.
func referencedURLs(page string) []string {
	var urls []string
	for _, m := range srcHrefRE.FindAllStringSubmatch(page, -1) {
		u := html.UnescapeString(m[1])
		if strings.HasPrefix(u, "data:") {
			continue
		}
		urls = append(urls, u)
	}
	return urls
}

func pageConfigFrom(t *testing.T, page string) map[string]string {
	t.Helper()
	m := configRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("page has no graphiql-config JSON block:\n%s", page)
	}
	var cfg map[string]string
	if err := json.Unmarshal([]byte(m[1]), &cfg); err != nil {
		t.Fatalf("config block is not JSON: %v\n%s", err, m[1])
	}
	return cfg
}

func TestPage(t *testing.T) {
	srv := newServer(t, defaultOptions())
	res := get(t, srv.URL+"/")

	if res.status != http.StatusOK {
		t.Fatalf("status = %d, want 200", res.status)
	}
	if ct := res.header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	if cc := res.header.Get("Cache-Control"); cc != "no-cache" {
		t.Errorf("Cache-Control = %q, want no-cache", cc)
	}
	if got := res.header.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("X-Content-Type-Options = %q", got)
	}

	csp := res.header.Get("Content-Security-Policy")
	for _, directive := range []string{
		"default-src 'self'",
		"script-src 'self'",
		"style-src 'self' 'unsafe-inline'",
		"img-src 'self' data:",
		"font-src 'self' data:",
		"object-src 'none'",
		"base-uri 'none'",
	} {
		if !strings.Contains(csp, directive+";") && !strings.HasSuffix(csp, directive) {
			t.Errorf("CSP %q lacks %q", csp, directive)
		}
	}
	// Queries go to the page's own origin, subscriptions to its host over graphql-ws.
	host := strings.TrimPrefix(srv.URL, "http://")
	if got, want := directive(csp, "connect-src"), "connect-src 'self' ws://"+host+" wss://"+host; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	for _, bad := range []string{"unsafe-eval", "http:", "https:", "*"} {
		if strings.Contains(csp, bad) {
			t.Errorf("CSP %q contains %q", csp, bad)
		}
	}

	page := res.body
	if !strings.Contains(page, "<title>Facade GraphiQL</title>") {
		t.Errorf("page lacks title")
	}
	cfg := pageConfigFrom(t, page)
	want := defaultOptions()
	if cfg["endpoint"] != want.Endpoint || cfg["defaultQuery"] != want.DefaultQuery ||
		cfg["defaultVariables"] != want.DefaultVariables {
		t.Errorf("config = %#v", cfg)
	}

	// No absolute URLs at all, so nothing can be loaded from another host.
	for _, s := range []string{"http://", "https://", "//"} {
		if strings.Contains(strings.ReplaceAll(page, "</", ""), s) {
			t.Errorf("page contains %q", s)
		}
	}
	for _, host := range cdnHostsList {
		if strings.Contains(page, host) {
			t.Errorf("page references %s", host)
		}
	}

	// No inline script code: every <script> either has a src and no body,
	// or is the non-executed JSON config block.
	scripts := scriptTagRE.FindAllStringSubmatch(page, -1)
	if len(scripts) < 2 {
		t.Fatalf("found %d script tags", len(scripts))
	}
	for _, m := range scripts {
		attrs, body := m[1], m[2]
		switch {
		case strings.Contains(attrs, `type="application/json"`):
		case strings.Contains(attrs, "src=") && strings.TrimSpace(body) == "":
		default:
			t.Errorf("inline script: <script%s>%s</script>", attrs, body)
		}
	}
	if regexp.MustCompile(`(?i)\son[a-z]+=`).MatchString(page) {
		t.Errorf("page has inline event handler attributes")
	}

	urls := referencedURLs(page)
	if len(urls) != 6 {
		t.Errorf("page references %d assets, want 6: %q", len(urls), urls)
	}
	for _, u := range urls {
		if !strings.HasPrefix(u, testAssetsPath) {
			t.Errorf("asset URL %q is not under %q", u, testAssetsPath)
		}
	}
}

func TestReferencedAssetsAreServed(t *testing.T) {
	srv := newServer(t, defaultOptions())
	page := get(t, srv.URL+"/").body

	minSize := map[string]int{
		assetReact:       5_000,
		assetReactDOM:    100_000,
		assetGraphiQL:    500_000,
		assetGraphiQLCSS: 100_000,
		assetInit:        1_000,
		assetPageCSS:     100,
	}
	seen := map[string]bool{}
	for _, u := range referencedURLs(page) {
		res := get(t, srv.URL+u)
		if res.status != http.StatusOK {
			t.Errorf("GET %s: status %d", u, res.status)
			continue
		}
		assetURL, _, _ := strings.Cut(u, "?")
		name := strings.TrimPrefix(assetURL, testAssetsPath)
		seen[name] = true
		wantCT := "text/javascript; charset=utf-8"
		if strings.HasSuffix(name, ".css") {
			wantCT = "text/css; charset=utf-8"
		}
		if ct := res.header.Get("Content-Type"); ct != wantCT {
			t.Errorf("GET %s: Content-Type %q, want %q", u, ct, wantCT)
		}
		if cc := res.header.Get("Cache-Control"); !strings.Contains(cc, "max-age=31536000") ||
			!strings.Contains(cc, "immutable") {
			t.Errorf("GET %s: Cache-Control %q, want long-lived", u, cc)
		}
		if res.header.Get("ETag") == "" {
			t.Errorf("GET %s: no ETag", u)
		}
		if min, ok := minSize[name]; !ok {
			t.Errorf("unexpected asset %q", name)
		} else if len(res.body) < min {
			t.Errorf("GET %s: %d bytes, want >= %d", u, len(res.body), min)
		}
		if strings.Contains(res.body, "sourceMappingURL=http") {
			t.Errorf("GET %s: source map points to another host", u)
		}
	}
	for name := range minSize {
		if !seen[name] {
			t.Errorf("page does not reference %s", name)
		}
	}
}

// TestNoCDNReferences makes sure that no embedded asset names a CDN host
// (the page must not load anything from outside; the vendor bundles only
// contain documentation links to github.com and the like).
func TestNoCDNReferences(t *testing.T) {
	srv := newServer(t, defaultOptions())
	for name := range assets {
		res := get(t, srv.URL+testAssetsPath+name)
		if res.status != http.StatusOK {
			t.Errorf("GET %s: status %d", name, res.status)
			continue
		}
		for _, host := range cdnHostsList {
			if strings.Contains(res.body, host) {
				t.Errorf("%s references %s", name, host)
			}
		}
		if strings.Contains(res.body, "@import") {
			t.Errorf("%s contains a CSS @import", name)
		}
	}
	// Our own files must not contain absolute URLs at all.
	for _, name := range []string{assetInit, assetPageCSS} {
		body := get(t, srv.URL+testAssetsPath+name).body
		if strings.Contains(body, "http://") || strings.Contains(body, "https://") {
			t.Errorf("%s contains an absolute URL", name)
		}
	}
}

func TestUnknownAssetIs404(t *testing.T) {
	srv := newServer(t, defaultOptions())
	for _, p := range []string{
		"nope.js",
		"index.umd.js.map",
		"README.md",
		"assets/graphiql.min.js",
		"sub/graphiql.min.js",
		"graphiql.min.js/",
		"GRAPHIQL.MIN.JS",
	} {
		res := get(t, srv.URL+testAssetsPath+p)
		if res.status != http.StatusNotFound {
			t.Errorf("GET %s%s: status %d, want 404", testAssetsPath, p, res.status)
		}
	}
}

func TestLicenseFilesServed(t *testing.T) {
	srv := newServer(t, defaultOptions())
	for _, name := range []string{"LICENSE.graphiql.txt", "LICENSE.react.txt", "LICENSE.react-dom.txt"} {
		res := get(t, srv.URL+testAssetsPath+name)
		if res.status != http.StatusOK || res.header.Get("Content-Type") != "text/plain; charset=utf-8" ||
			!strings.Contains(res.body, "MIT License") {
			t.Errorf("GET %s: status %d, Content-Type %q", name, res.status, res.header.Get("Content-Type"))
		}
	}
}

func TestPageAtAssetsPath(t *testing.T) {
	srv := newServer(t, defaultOptions())
	res := get(t, srv.URL+testAssetsPath)
	if res.status != http.StatusOK || !strings.HasPrefix(res.header.Get("Content-Type"), "text/html") ||
		res.header.Get("Content-Security-Policy") == "" {
		t.Fatalf("GET %s: status %d, headers %v", testAssetsPath, res.status, res.header)
	}
	if cfg := pageConfigFrom(t, res.body); cfg["endpoint"] != "/graphql" {
		t.Errorf("config = %#v", cfg)
	}
}

func TestHeadAndConditionalRequests(t *testing.T) {
	srv := newServer(t, defaultOptions())

	res := do(t, http.MethodHead, srv.URL+"/", nil)
	if res.status != http.StatusOK || res.body != "" || res.header.Get("Content-Security-Policy") == "" {
		t.Errorf("HEAD /: status %d, body %d bytes", res.status, len(res.body))
	}

	u := srv.URL + testAssetsPath + assetGraphiQL
	first := get(t, u)
	etag := first.header.Get("ETag")
	res = do(t, http.MethodGet, u, map[string]string{"If-None-Match": etag})
	if res.status != http.StatusNotModified {
		t.Errorf("conditional GET: status %d, want 304", res.status)
	}
	// Without the content hash the URL may change content on upgrade, so it
	// must be revalidated rather than cached for a year.
	if cc := first.header.Get("Cache-Control"); cc != "no-cache" {
		t.Errorf("unversioned asset Cache-Control = %q, want no-cache", cc)
	}
}

func TestMethodNotAllowed(t *testing.T) {
	// Directly, without a method-restricted mux pattern in front.
	srv := httptest.NewServer(Handler(defaultOptions()))
	t.Cleanup(srv.Close)
	for _, p := range []string{"/", testAssetsPath + assetGraphiQL} {
		res := do(t, http.MethodPost, srv.URL+p, nil)
		if res.status != http.StatusMethodNotAllowed || res.header.Get("Allow") != "GET, HEAD" {
			t.Errorf("POST %s: status %d, Allow %q", p, res.status, res.header.Get("Allow"))
		}
	}
}

func TestEscaping(t *testing.T) {
	opts := defaultOptions()
	opts.Title = `</title><script>alert("t")</script>`
	opts.DefaultQuery = "{ a } # </script><script>alert('q')</script>"
	opts.DefaultVariables = `{"x": "</script><!--"}`
	srv := newServer(t, opts)
	page := get(t, srv.URL+"/").body

	if strings.Contains(page, "<script>alert") {
		t.Fatalf("injected script tag in page:\n%s", page)
	}
	if n := strings.Count(page, "</script>"); n != 5 {
		t.Errorf("page has %d </script>, want 5 (config + 4 scripts):\n%s", n, page)
	}
	cfg := pageConfigFrom(t, page)
	if cfg["defaultQuery"] != opts.DefaultQuery || cfg["defaultVariables"] != opts.DefaultVariables {
		t.Errorf("config did not round-trip: %#v", cfg)
	}
}

func TestDefaults(t *testing.T) {
	h := Handler(Options{})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	res := get(t, srv.URL+"/")
	if !strings.Contains(res.body, "<title>GraphiQL</title>") {
		t.Errorf("default title missing")
	}
	cfg := pageConfigFrom(t, res.body)
	if cfg["endpoint"] != "/graphql" {
		t.Errorf("default endpoint = %q", cfg["endpoint"])
	}
	if _, ok := cfg["defaultQuery"]; ok {
		t.Errorf("empty DefaultQuery should be omitted: %#v", cfg)
	}
	for _, u := range referencedURLs(res.body) {
		if !strings.HasPrefix(u, "/graphiql/") {
			t.Errorf("default assets path: %q", u)
		}
		if r := get(t, srv.URL+u); r.status != http.StatusOK {
			t.Errorf("GET %s: %d", u, r.status)
		}
	}
}

func TestAssetsPathNormalized(t *testing.T) {
	h := Handler(Options{AssetsPath: "static/giql"})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	page := get(t, srv.URL+"/").body
	for _, u := range referencedURLs(page) {
		if !strings.HasPrefix(u, "/static/giql/") {
			t.Errorf("asset URL %q not under /static/giql/", u)
		}
		if r := get(t, srv.URL+u); r.status != http.StatusOK {
			t.Errorf("GET %s: %d", u, r.status)
		}
	}
}

func TestAbsoluteEndpointExtendsConnectSrc(t *testing.T) {
	h := Handler(Options{Endpoint: "https://api.example.test:8443/graphql"})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	csp := rec.Header().Get("Content-Security-Policy")
	if got, want := directive(csp, "connect-src"), "connect-src 'self' https://api.example.test:8443 wss://api.example.test:8443"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if strings.Contains(csp, "script-src 'self' https") {
		t.Errorf("endpoint leaked into script-src: %q", csp)
	}
}

// directive returns the directive of csp that starts with name, as written.
func directive(csp, name string) string {
	for _, d := range strings.Split(csp, ";") {
		if d = strings.TrimSpace(d); strings.HasPrefix(d, name+" ") {
			return d
		}
	}
	return ""
}

// TestSubscriptionOrigins checks where the page may open the graphql-ws socket that
// graphiql-init.js opens for subscriptions (the endpoint's URL with ws: for http:): the
// same host as the page, or the absolute endpoint's, and never a Host that could add a
// source or a directive of its own.
func TestSubscriptionOrigins(t *testing.T) {
	for _, tc := range []struct {
		name, endpoint, host, want string
	}{
		{"path endpoint, page's host", "/graphql", "127.0.0.1:8080", "connect-src 'self' ws://127.0.0.1:8080 wss://127.0.0.1:8080"},
		{"path endpoint, name without port", "/graphql", "graphql.example.test", "connect-src 'self' ws://graphql.example.test wss://graphql.example.test"},
		{"path endpoint, IPv6 host", "/graphql", "[::1]:8080", "connect-src 'self' ws://[::1]:8080 wss://[::1]:8080"},
		{"http endpoint", "http://api.example.test:8080/graphql", "127.0.0.1:9", "connect-src 'self' http://api.example.test:8080 ws://api.example.test:8080"},
		{"https endpoint", "https://api.example.test/graphql", "127.0.0.1:9", "connect-src 'self' https://api.example.test wss://api.example.test"},
		{"Host adding a directive", "/graphql", "a;script-src", "connect-src 'self'"},
		{"Host adding a source", "/graphql", "a,b", "connect-src 'self'"},
		{"Host with a quote", "/graphql", "a'b", "connect-src 'self'"},
		{"Host with user info", "/graphql", "u@a", "connect-src 'self'"},
		{"empty Host", "/graphql", "", "connect-src 'self'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := Handler(Options{Endpoint: tc.endpoint})
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.Host = tc.host
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			csp := rec.Header().Get("Content-Security-Policy")
			if got := directive(csp, "connect-src"); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			if got := strings.Count(csp, ";"); got != 9 {
				t.Errorf("got %d directive separators in %q, want 9", got, csp)
			}
		})
	}
}

// Package graphiql serves the GraphiQL IDE from the binary itself: the HTML
// page, GraphiQL, React and ReactDOM are all embedded (see assets/README.md
// for the exact upstream versions), so the page works offline and under a
// strict Content-Security-Policy (no inline scripts, no eval, no external
// hosts).
//
// # Mounting
//
// Handler returns one http.Handler that serves both the page and its assets.
// It decides by the full request path (do not wrap it in http.StripPrefix):
//
//   - a path that starts with Options.AssetsPath and has something after it
//     is an asset request: a known asset is served, anything else is 404;
//   - every other path (including Options.AssetsPath itself) gets the page.
//
// So mount it on the page path and on the assets prefix, for example the page
// at "/" and the assets under "/graphiql/":
//
//	h := graphiql.Handler(graphiql.Options{Endpoint: "/graphql", AssetsPath: "/graphiql/"})
//	mux.Handle("GET /{$}", h)       // the page, at exactly "/"
//	mux.Handle("GET /graphiql/", h) // the assets (and the page again at "/graphiql/")
//
// or, to serve it only under one prefix, mux.Handle("GET /graphiql/", h)
// alone (page at "/graphiql/"). Prefer "GET /{$}" over "/" for the page:
// "/" is a catch-all in http.ServeMux and would answer every unknown path
// with the page. ("GET" patterns also match HEAD.)
package graphiql

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"html/template"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Options configures Handler.
type Options struct {
	// Title is the page title. Default "GraphiQL".
	Title string
	// Endpoint is the GraphQL endpoint the page talks to, e.g. "/graphql"
	// (default). A same-origin path is recommended; an absolute http(s) URL
	// is allowed and its origin is added to the CSP connect-src.
	Endpoint string
	// AssetsPath is the URL path prefix the assets are served under, e.g.
	// "/graphiql/" (default). A missing leading or trailing slash is added.
	// The handler must be reachable for this prefix (see the package doc).
	AssetsPath string
	// DefaultQuery is the initial query shown in the editor (used when the
	// browser has no saved GraphiQL state yet). Empty: GraphiQL's own
	// welcome text.
	DefaultQuery string
	// DefaultVariables is optional JSON shown in the variables editor
	// (same rule as DefaultQuery).
	DefaultVariables string
}

// Asset file names, relative to AssetsPath.
const (
	assetReact       = "react.production.min.js"
	assetReactDOM    = "react-dom.production.min.js"
	assetGraphiQL    = "graphiql.min.js"
	assetGraphiQLCSS = "graphiql.min.css"
	assetInit        = "graphiql-init.js"
	assetPageCSS     = "graphiql-page.css"
)

const (
	// cacheImmutable is sent for asset URLs carrying the current content
	// hash (?v=...), which is how the page references them.
	cacheImmutable = "public, max-age=31536000, immutable"
	// cacheRevalidate is sent for the page and for asset URLs without the
	// current hash.
	cacheRevalidate = "no-cache"
)

//go:embed assets/*.js assets/*.css assets/LICENSE.*.txt
var assetFiles embed.FS

//go:embed page.html
var pageSource string

var pageTemplate = template.Must(template.New("page").Parse(pageSource))

type asset struct {
	body        []byte
	contentType string
	hash        string // hex, truncated sha256 of body
	etag        string
}

// assets maps file name (relative to AssetsPath) to its content.
var assets = loadAssets()

func loadAssets() map[string]*asset {
	m := make(map[string]*asset)
	err := fs.WalkDir(assetFiles, "assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := assetFiles.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		hash := hex.EncodeToString(sum[:8])
		ct := mime.TypeByExtension(path.Ext(p))
		switch path.Ext(p) {
		case ".js":
			ct = "text/javascript; charset=utf-8"
		case ".css":
			ct = "text/css; charset=utf-8"
		case ".txt":
			ct = "text/plain; charset=utf-8"
		}
		if ct == "" {
			ct = "application/octet-stream"
		}
		m[path.Base(p)] = &asset{body: body, contentType: ct, hash: hash, etag: `"` + hash + `"`}
		return nil
	})
	if err != nil {
		panic("graphiql: loading embedded assets: " + err.Error())
	}
	for _, name := range []string{assetReact, assetReactDOM, assetGraphiQL, assetGraphiQLCSS, assetInit, assetPageCSS} {
		if m[name] == nil {
			panic("graphiql: embedded asset missing: " + name)
		}
	}
	return m
}

// pageConfig is rendered as JSON into <script id="graphiql-config"
// type="application/json"> and read by assets/graphiql-init.js.
type pageConfig struct {
	Endpoint         string `json:"endpoint"`
	DefaultQuery     string `json:"defaultQuery,omitempty"`
	DefaultVariables string `json:"defaultVariables,omitempty"`
}

type pageAssets struct {
	React, ReactDOM, GraphiQL, GraphiQLCSS, Init, PageCSS string
}

type pageData struct {
	Title  string
	Config pageConfig
	Assets pageAssets
}

type handler struct {
	assetsPath string
	endpoint   string
	page       []byte
}

// Handler serves the GraphiQL page at the path it is mounted on and its
// static assets under opts.AssetsPath. See the package documentation for how
// to mount it.
func Handler(opts Options) http.Handler {
	if opts.Title == "" {
		opts.Title = "GraphiQL"
	}
	if opts.Endpoint == "" {
		opts.Endpoint = "/graphql"
	}
	assetsPath := normalizeAssetsPath(opts.AssetsPath)

	ref := func(name string) string {
		return assetsPath + name + "?v=" + assets[name].hash
	}
	data := pageData{
		Title: opts.Title,
		Config: pageConfig{
			Endpoint:         opts.Endpoint,
			DefaultQuery:     opts.DefaultQuery,
			DefaultVariables: opts.DefaultVariables,
		},
		Assets: pageAssets{
			React:       ref(assetReact),
			ReactDOM:    ref(assetReactDOM),
			GraphiQL:    ref(assetGraphiQL),
			GraphiQLCSS: ref(assetGraphiQLCSS),
			Init:        ref(assetInit),
			PageCSS:     ref(assetPageCSS),
		},
	}
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, data); err != nil {
		panic("graphiql: rendering page: " + err.Error())
	}
	return &handler{
		assetsPath: assetsPath,
		endpoint:   opts.Endpoint,
		page:       buf.Bytes(),
	}
}

func normalizeAssetsPath(p string) string {
	if p == "" {
		return "/graphiql/"
	}
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	if !strings.HasSuffix(p, "/") {
		p += "/"
	}
	return p
}

// contentSecurityPolicy returns the CSP for the page, which connects to endpoint and to the
// WebSocket origins ws (see wsSources). GraphiQL 4 (CodeMirror 5 editors) needs no
// eval and no workers; its components inject <style> elements and style attributes, hence
// style-src 'unsafe-inline'. Its CSS embeds fonts and images as data: URLs.
func contentSecurityPolicy(endpoint, ws string) string {
	connect := "'self'"
	if u, err := url.Parse(endpoint); err == nil && u.Host != "" &&
		(u.Scheme == "http" || u.Scheme == "https") {
		connect += " " + u.Scheme + "://" + u.Host
	}
	return strings.Join([]string{
		"default-src 'self'",
		"script-src 'self'",
		"style-src 'self' 'unsafe-inline'",
		"img-src 'self' data:",
		"font-src 'self' data:",
		"connect-src " + connect + ws,
		"object-src 'none'",
		"base-uri 'none'",
		"form-action 'none'",
		"frame-ancestors 'self'",
	}, "; ")
}

// wsHostRE is a host, with an optional port, that can be named in a CSP source as it is:
// a request's Host may hold characters (';', ',', quotes) that would end the source.
var wsHostRE = regexp.MustCompile(`^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$`)

// wsSources are the origins the page's subscriptions connect to over graphql-ws: the
// endpoint's, or the host the page was asked for when the endpoint is a path. CSP Level 3
// lets 'self' cover them, but browsers that predate it (Safari before 15.4) do not, so
// they are named. For a path, both schemes: behind a TLS-terminating proxy the page cannot
// tell which one the browser uses (and a browser never sends ws: from an https page).
func wsSources(endpoint, requestHost string) string {
	host, schemes := requestHost, []string{"ws", "wss"}
	if u, err := url.Parse(endpoint); err == nil && u.Host != "" {
		switch u.Scheme {
		case "http":
			host, schemes = u.Host, []string{"ws"}
		case "https":
			host, schemes = u.Host, []string{"wss"}
		default:
			return ""
		}
	}
	if !wsHostRE.MatchString(host) {
		return ""
	}
	var b strings.Builder
	for _, s := range schemes {
		b.WriteString(" " + s + "://" + host)
	}
	return b.String()
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	if name, ok := strings.CutPrefix(r.URL.Path, h.assetsPath); ok && name != "" {
		h.serveAsset(w, r, name)
		return
	}
	h.servePage(w, r)
}

func (h *handler) servePage(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Content-Type", "text/html; charset=utf-8")
	hdr.Set("Content-Security-Policy", contentSecurityPolicy(h.endpoint, wsSources(h.endpoint, r.Host)))
	hdr.Set("Cache-Control", cacheRevalidate)
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Referrer-Policy", "no-referrer")
	hdr.Set("Content-Length", strconv.Itoa(len(h.page)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(h.page)
	}
}

func (h *handler) serveAsset(w http.ResponseWriter, r *http.Request, name string) {
	a := assets[name]
	if a == nil {
		http.NotFound(w, r)
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Type", a.contentType)
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("ETag", a.etag)
	if r.URL.Query().Get("v") == a.hash {
		hdr.Set("Cache-Control", cacheImmutable)
	} else {
		hdr.Set("Cache-Control", cacheRevalidate)
	}
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(a.body))
}

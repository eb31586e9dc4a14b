package main

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// The workloads of issue 6, each asked of every peer that can express it.
type workload struct {
	ID, Title string
}

var workloads = []workload{
	{"a", "20 customers, 8 scalar fields"},
	{"b", "20 customers + contact, site, products"},
	{"c", "filtered, sorted page of 20"},
}

// Peers, in table order.
const (
	peerFacade   = "facade"
	peerUnlimit  = "facade, no client rate limit"
	peerProxy    = "Go proxy"
	peerTLS      = "facade, no limit, HTTPS + HTTP/2"
	peerProxyTLS = "Go proxy, HTTPS + HTTP/2"
	peerMesh     = "GraphQL Mesh"
	peerREST     = "raw REST"
	peerRESTFull = "raw REST, all attributes"
)

// pagesOf is how many different pages the requests of a row cycle through: as many as the
// listed site has, up to 250. Every workload lists site 101 (Kajabi requires a site on a
// multi-site account), which holds 3,373 of the default 5,000 customers (168 pages of 20),
// 1,177 of them subscribed with net revenue over 100 (58 pages) for the filtered list of (c);
// smaller data sets scale down. Far more pages than requests in flight: with 50 pages at
// c=50, a slow request was still running when the next one for its page started, and the
// facade's single-flight answered about 10% of requests without a call.
func pagesOf(w string, customers int) int {
	if w == "c" {
		return max(1, min(58, customers*58/5000))
	}
	return max(1, min(250, customers*168/5000))
}

// pageOf is the page the n-th request of a row asks for: consecutive requests, which run
// concurrently, ask for different pages.
func pageOf(n, pages int) int { return 1 + n%pages }

// The eight scalar fields every workload selects (id included).
const facadeScalars = `id name email avatar netRevenue signInCount createdAt updatedAt`

var facadeQueries = map[string]string{
	"a": `query A($page: Int!) { customers(page: {number: $page, size: 20}, filter: {siteId: "101"}) { nodes { ` + facadeScalars + ` } } }`,
	"b": `query B($page: Int!) { customers(page: {number: $page, size: 20}, filter: {siteId: "101"}) { nodes { ` + facadeScalars + `
      contact { id email phoneNumber addressCity addressCountry }
      site { id title }
      products { id title productType } } } }`,
	"c": `query C($page: Int!) { customers(page: {number: $page, size: 20}, filter: {siteId: "101", subscribed: true, netRevenueGreaterThan: "100"},
      sort: {field: NET_REVENUE, direction: DESC}) { nodes { ` + facadeScalars + ` } } }`,
}

// Mesh names bracketed parameters by spelling the brackets out; page numbers are Floats.
// Every list names the sandbox's site 101: Kajabi lists one site at a time on an account
// with several.
const (
	meshPage   = `page_LEFT_SQUARE_BRACE_number_RIGHT_SQUARE_BRACE_: $page, page_LEFT_SQUARE_BRACE_size_RIGHT_SQUARE_BRACE_: 20, filter_LEFT_SQUARE_BRACE_site_id_RIGHT_SQUARE_BRACE_: "101"`
	meshAttrs  = `id attributes { name email avatar net_revenue sign_in_count created_at updated_at }`
	meshFilter = `filter_LEFT_SQUARE_BRACE_subscribed_RIGHT_SQUARE_BRACE_: "true", filter_LEFT_SQUARE_BRACE_net_revenue_greater_than_RIGHT_SQUARE_BRACE_: "100", sort: "-net_revenue"`
)

var meshQueries = map[string]string{
	"a": `query A($page: Float!) { v1_customers(` + meshPage + `) { ... on customers_index_response { data { ` + meshAttrs + ` } } } }`,
	// Mesh cannot follow a JSON:API relationship (the spec declares no OpenAPI links), so
	// the closest it can express is the relationship identifiers.
	"b": `query B($page: Float!) { v1_customers(` + meshPage + `) { ... on customers_index_response { data { ` + meshAttrs + `
      relationships { contact { data { id } } site { data { id } } products { data { id } } } } } } }`,
	"c": `query C($page: Float!) { v1_customers(` + meshPage + `, ` + meshFilter + `) { ... on customers_index_response { data { ` + meshAttrs + ` } } } }`,
}

const restAttrs = "fields[customers]=name,email,avatar,net_revenue,sign_in_count,created_at,updated_at"

// restQueries are the raw calls, with %d for the page number.
var restQueries = map[string]string{
	"a":     "page[number]=%d&page[size]=20&" + restAttrs,
	"aFull": "page[number]=%d&page[size]=20",
	"c":     "filter[net_revenue_greater_than]=100&filter[subscribed]=true&page[number]=%d&page[size]=20&sort=-net_revenue&" + restAttrs,
}

// peerCase is one peer's way of running one workload; note says where it differs.
type peerCase struct {
	peer   string
	target target
	check  func([]byte) error
	note   string
	// skip, when set, says why the peer cannot run the workload at all.
	skip string
}

// cases lists, for a workload, what each peer runs. meshURL is empty when Mesh is not
// available (then skip says why).
func (e *env) cases(w workload) []peerCase {
	facadeURL, unlimitedURL, meshURL, meshSkip, sandboxURL, token := e.facadeURL, e.unlimitedURL, e.meshURL, e.meshSkip, e.sandboxURL, e.token
	pages := pagesOf(w.ID, e.customers)
	gql := func(url, query string) target {
		t := target{method: http.MethodPost, graphql: true,
			header: http.Header{"Content-Type": {"application/json"}, "Accept": {"application/json"}}}
		for n := range pages {
			body, _ := json.Marshal(map[string]any{"query": query, "variables": map[string]int{"page": pageOf(n, pages)}})
			t.variants = append(t.variants, variant{url: url, body: body})
		}
		return t
	}
	rest := func(query string) target {
		t := target{method: http.MethodGet,
			header: http.Header{"Authorization": {"Bearer " + token}, "Accept": {"application/vnd.api+json"}}}
		for n := range pages {
			t.variants = append(t.variants, variant{url: sandboxURL + "/v1/customers?filter[site_id]=101&" + fmt.Sprintf(query, pageOf(n, pages))})
		}
		return t
	}
	out := []peerCase{{
		peer: peerFacade, target: gql(facadeURL, facadeQueries[w.ID]),
		check: expectRows(20, w.ID == "b", "data", "customers", "nodes"),
		note:  "as shipped: the Kajabi client holds calls to KAJABI_MAX_RPS (default 100) a second per process, to protect a real Kajabi account",
	}}
	if unlimitedURL != "" {
		out = append(out, peerCase{
			peer: peerUnlimit, target: gql(unlimitedURL, facadeQueries[w.ID]),
			check: expectRows(20, w.ID == "b", "data", "customers", "nodes"),
			note:  "the same binary with KAJABI_MAX_RPS=0 KAJABI_MAX_INFLIGHT=0 (the client's process-wide limits off), to measure our own cost rather than the limiter's pacing",
		})
	}
	if e.tlsURL != "" && w.ID == "b" {
		out = append(out, peerCase{
			peer: peerTLS, target: gql(e.tlsURL, facadeQueries[w.ID]),
			check: expectRows(20, true, "data", "customers", "nodes"),
			note:  "the limits-off build against a second sandbox that serves HTTPS with HTTP/2 on a self-signed certificate (sandboxd -tls), trusted through KAJABI_CA_FILE, as real Kajabi is reached",
		})
	}
	if e.tlsProxyURL != "" && w.ID == "b" {
		out = append(out, peerCase{
			peer: peerProxyTLS, target: gql(e.tlsProxyURL+"/b", ""),
			check: expectRows(20, true, "data", "customers", "nodes"),
			note:  "bench/goproxy over the same HTTPS sandbox, the floor for (b): the list, then the 20 contacts at once, the site list and the site's products kept a minute (as CACHE_TTL does); 21 calls a request, no GraphQL",
		})
	}
	if e.proxyURL != "" && (w.ID == "a" || w.ID == "c") {
		out = append(out, peerCase{
			peer: peerProxy, target: gql(e.proxyURL+"/"+w.ID, ""),
			check: expectRows(20, false, "data", "customers", "nodes"),
			note:  "bench/goproxy, the floor for a facade: net/http in, the one Kajabi call with fields[customers], encoding/json decode, the 8 fields written back in the facade's shape; no GraphQL",
		})
	}
	mc := peerCase{peer: peerMesh, skip: meshSkip}
	if meshURL != "" {
		mc.target = gql(meshURL, meshQueries[w.ID])
		mc.check = expectRows(20, false, "data", "v1_customers", "data")
	}
	if w.ID == "b" {
		mc.note = "cannot express: Mesh cannot follow JSON:API relationships (the spec has no OpenAPI links); measured the closest query it can express, relationship ids only"
	}
	out = append(out, mc)
	switch w.ID {
	case "a":
		out = append(out,
			peerCase{peer: peerREST, target: rest(restQueries["a"]), check: expectRows(20, false, "data"),
				note: "the floor: the one Kajabi call (a) needs, with the same sparse fieldset the facade sends"},
			peerCase{peer: peerRESTFull, target: rest(restQueries["aFull"]), check: expectRows(20, false, "data"),
				note: "the same page without fields[customers]"})
	case "b":
		out = append(out, peerCase{peer: peerREST,
			skip: "no single REST call: needs 1 list + 20 contacts + sites + products calls (2 waves of round trips)"})
	case "c":
		out = append(out, peerCase{peer: peerREST, target: rest(restQueries["c"]), check: expectRows(20, false, "data"),
			note: "the one Kajabi call (c) needs"})
	}
	return out
}

// expectRows checks that the list at path has n rows, and with relations that every row
// has its contact and site.
func expectRows(n int, relations bool, path ...string) func([]byte) error {
	return func(body []byte) error {
		var v any
		if err := json.Unmarshal(body, &v); err != nil {
			return err
		}
		for _, k := range path {
			m, ok := v.(map[string]any)
			if !ok {
				return fmt.Errorf("no %q in %.300s", k, body)
			}
			v = m[k]
		}
		rows, ok := v.([]any)
		if !ok || len(rows) != n {
			return fmt.Errorf("want %d rows at %v, got %.300s", n, path, body)
		}
		if relations {
			for _, r := range rows {
				m, _ := r.(map[string]any)
				if m["contact"] == nil || m["site"] == nil || m["products"] == nil {
					return fmt.Errorf("row without its relations: %v", m)
				}
			}
		}
		return nil
	}
}

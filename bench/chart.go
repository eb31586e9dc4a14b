package main

import (
	"fmt"
	"html"
	"strings"
)

var peerColors = map[string]string{
	peerFacade:   "#b9b9b9",
	peerUnlimit:  "#2f6fdf",
	peerTLS:      "#1b3f8f",
	peerProxy:    "#3a9e8f",
	peerProxyTLS: "#1f6f63",
	peerMesh:     "#e0752d",
	peerREST:     "#5a9e4b",
	peerRESTFull: "#a6cf98",
}

// peerOrder puts the peers doing the same work next to each other: our build measured for
// its own cost, the Go proxy, Mesh, the raw call; the rate-limited build last.
var peerOrder = []string{peerUnlimit, peerTLS, peerProxyTLS, peerProxy, peerMesh, peerREST, peerRESTFull, peerFacade}

// chartLabel names a peer on its bar.
var chartLabel = map[string]string{
	peerFacade:   "facade as shipped",
	peerUnlimit:  "facade",
	peerTLS:      "facade, HTTPS + HTTP/2",
	peerProxy:    "hand-written Go proxy",
	peerProxyTLS: "hand-written Go proxy, HTTPS + HTTP/2",
	peerMesh:     "GraphQL Mesh",
	peerREST:     "raw REST call",
	peerRESTFull: "raw REST, all attributes",
}

// workloadWords names a workload on the chart.
var workloadWords = map[string]string{
	"a": "List: a page of 20 customers, 8 fields",
	"b": "Relations: 20 customers with contact, site and products (21 Kajabi calls)",
	"c": "Filtered and sorted page of 20 customers",
}

// caveat is what a bar's reader must know to compare it with its neighbours, drawn on the
// bar's line.
func caveat(x *row) string {
	switch {
	case x.Errors > 0:
		return fmt.Sprintf("%d of %d answers were errors (OVERLOADED): not comparable", x.Errors, x.Requests)
	case x.Peer == peerFacade:
		return "paced by the default 100 Kajabi calls/s: not comparable"
	case x.Peer == peerMesh && x.Workload == "b":
		return "different query: cannot follow relations, ids only, 1 call"
	}
	return ""
}

// chart draws two horizontal bar panels, throughput and p99, at the highest concurrency
// of the run: one group per workload and latency, one named bar per peer.
func (r *report) chart() string {
	concs := r.concs()
	if len(concs) == 0 {
		return `<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>`
	}
	conc := concs[len(concs)-1]
	type group struct {
		label string
		rows  []*row
	}
	var groups []group
	for _, lat := range r.latencies() {
		for _, w := range workloads {
			g := group{label: fmt.Sprintf("%s · Kajabi answers in %d ms", workloadWords[w.ID], lat)}
			for _, p := range peerOrder {
				if x := r.find(w.ID, lat, p, conc); x != nil {
					g.rows = append(g.rows, x)
				}
			}
			if len(g.rows) > 0 {
				groups = append(groups, g)
			}
		}
	}
	// Each group has its own scale, as a relations request does 21 times a list's work;
	// the scales leave out the bars marked not comparable, so that they cannot squash the
	// bars that are.
	scale := func(g group) (maxRPS, maxP99 float64) {
		for _, x := range g.rows {
			if caveat(x) == "" {
				maxRPS, maxP99 = max(maxRPS, x.RPS), max(maxP99, x.P99MS)
			}
		}
		if maxRPS == 0 { // nothing comparable: scale to what there is
			for _, x := range g.rows {
				maxRPS, maxP99 = max(maxRPS, x.RPS), max(maxP99, x.P99MS)
			}
		}
		return maxRPS, maxP99
	}
	const (
		barH, barGap, groupGap, headH = 14.0, 3.0, 12.0, 18.0
		noteH                         = 13.0
		labelW, panelW, gap           = 170.0, 330.0, 80.0
		top                           = 100.0
	)
	height := top + 20
	for _, g := range groups {
		height += headH + float64(len(g.rows))*(barH+barGap) + groupGap
		for _, x := range g.rows {
			if caveat(x) != "" {
				height += noteH
			}
		}
	}
	width := labelW + 2*panelW + gap + 70
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" font-family="sans-serif" font-size="11">`+"\n", width, height)
	b.WriteString(`<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#e4e4e4"/><line x1="0" y1="0" x2="0" y2="6" stroke="#999" stroke-width="2"/></pattern></defs>` + "\n")
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&b, `<text x="10" y="20" font-size="14" font-weight="bold">The facade beside a hand-written Go proxy, GraphQL Mesh and the raw REST call, %d requests at a time</text>`+"\n", conc)
	fmt.Fprintf(&b, `<text x="10" y="37" fill="#555">%s · %s · all on the same cores, shared with other work</text>`+"\n", html.EscapeString(r.Started.UTC().Format("2006-01-02")), html.EscapeString(r.Machine))
	fmt.Fprintf(&b, `<text x="10" y="54" fill="#555">"facade" is the build with the Kajabi client's rate limit off, which measures its own cost. Each workload has its own scale;</text>`+"\n")
	fmt.Fprintf(&b, `<text x="10" y="68" fill="#555">hatched bars do other work or are paced by the limit, and the scale ignores them (▸: cut at the edge).</text>`+"\n")
	x1, x2 := labelW, labelW+panelW+gap
	fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" font-weight="bold">requests per second (longer is better)</text>`+"\n", x1, top-10)
	fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" font-weight="bold">p99 latency, ms (shorter is better)</text>`+"\n", x2, top-10)
	y := top
	bar := func(x, y, w float64, fill, value string, clipped bool) {
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.0f" fill="%s"/>`, x, y, max(w, 1), barH, fill)
		mark := ""
		if clipped {
			mark = " ▸" // longer than the scale: cut at the panel's edge
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f">%s%s</text>`+"\n", x+max(w, 1)+4, y+barH-3, value, mark)
	}
	for _, g := range groups {
		maxRPS, maxP99 := scale(g)
		fmt.Fprintf(&b, `<text x="10" y="%.1f" font-weight="bold">%s</text>`+"\n", y+12, html.EscapeString(g.label))
		y += headH
		for _, x := range g.rows {
			fill := peerColors[x.Peer]
			note := caveat(x)
			if note != "" {
				fill = "url(#hatch)"
			}
			fmt.Fprintf(&b, `<text x="%.0f" y="%.1f" text-anchor="end">%s</text>`+"\n", labelW-6, y+barH-3, html.EscapeString(chartLabel[x.Peer]))
			w1, w2 := panelW*x.RPS/maxRPS, panelW*x.P99MS/maxP99
			bar(x1, y, min(w1, panelW), fill, fmt.Sprintf("%.0f", x.RPS), w1 > panelW*1.001)
			bar(x2, y, min(w2, panelW), fill, fmt.Sprintf("%.1f", x.P99MS), w2 > panelW*1.001)
			y += barH + barGap
			if note != "" {
				// On a line of its own under the bar, where no bar can run into it.
				fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" fill="#a33" font-style="italic">↑ %s</text>`+"\n", x1, y+noteH-4, html.EscapeString(note))
				y += noteH
			}
		}
		y += groupGap
	}
	b.WriteString("</svg>\n")
	return b.String()
}

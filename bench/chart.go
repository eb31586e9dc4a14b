package main

import (
	"fmt"
	"html"
	"strings"
)

var peerColors = map[string]string{
	peerFacade:   "#2f6fdf",
	peerUnlimit:  "#7aa6f0",
	peerMesh:     "#e0752d",
	peerREST:     "#5a9e4b",
	peerRESTFull: "#a6cf98",
}

var peerOrder = []string{peerFacade, peerUnlimit, peerMesh, peerREST, peerRESTFull}

// chart draws two horizontal bar panels, throughput and p99, at the highest concurrency
// of the run: one group of bars per workload and latency, one bar per peer.
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
			g := group{label: fmt.Sprintf("(%s) %d ms", w.ID, lat)}
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
	var maxRPS, maxP99 float64
	for _, g := range groups {
		for _, x := range g.rows {
			maxRPS, maxP99 = max(maxRPS, x.RPS), max(maxP99, x.P99MS)
		}
	}
	const (
		barH, barGap, groupGap = 14.0, 3.0, 14.0
		labelW, panelW, gap    = 90.0, 360.0, 70.0
		top                    = 70.0
	)
	height := top + 40
	for _, g := range groups {
		height += float64(len(g.rows))*(barH+barGap) + groupGap
	}
	width := labelW + 2*panelW + gap + 60
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" font-family="sans-serif" font-size="11">`+"\n", width, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&b, `<text x="10" y="20" font-size="14" font-weight="bold">Facade vs GraphQL Mesh vs raw REST, concurrency %d</text>`+"\n", conc)
	fmt.Fprintf(&b, `<text x="10" y="38" fill="#555">%s · %s</text>`+"\n", html.EscapeString(r.Started.UTC().Format("2006-01-02")), html.EscapeString(r.Machine))
	x1, x2 := labelW, labelW+panelW+gap
	fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" font-weight="bold">requests per second (longer is better)</text>`+"\n", x1, top-8)
	fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" font-weight="bold">p99 latency, ms (shorter is better)</text>`+"\n", x2, top-8)
	y := top
	for _, g := range groups {
		gh := float64(len(g.rows)) * (barH + barGap)
		fmt.Fprintf(&b, `<text x="10" y="%.1f" font-weight="bold">%s</text>`+"\n", y+gh/2+4, html.EscapeString(g.label))
		for _, x := range g.rows {
			c := peerColors[x.Peer]
			w1 := panelW * x.RPS / maxRPS
			w2 := panelW * x.P99MS / maxP99
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.0f" fill="%s"/>`, x1, y, max(w1, 1), barH, c)
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f">%.0f</text>`+"\n", x1+max(w1, 1)+4, y+barH-3, x.RPS)
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.0f" fill="%s"/>`, x2, y, max(w2, 1), barH, c)
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f">%.1f</text>`+"\n", x2+max(w2, 1)+4, y+barH-3, x.P99MS)
			y += barH + barGap
		}
		y += groupGap
	}
	lx := 10.0
	for _, p := range peerOrder {
		fmt.Fprintf(&b, `<rect x="%.0f" y="%.0f" width="12" height="12" fill="%s"/><text x="%.0f" y="%.0f">%s</text>`+"\n",
			lx, y+4, peerColors[p], lx+16, y+14, html.EscapeString(p))
		lx += 30 + 7*float64(len(p))
	}
	b.WriteString("</svg>\n")
	return b.String()
}

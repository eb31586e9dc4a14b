package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// row is one measured (or skipped) line of the table.
type row struct {
	Workload         string  `json:"workload"`
	Title            string  `json:"title"`
	LatencyMS        int64   `json:"latencyMs"`
	Peer             string  `json:"peer"`
	Conc             int     `json:"concurrency"`
	Requests         int     `json:"requests"`
	Errors           int     `json:"errors"`
	RPS              float64 `json:"rps"`
	P50MS            float64 `json:"p50Ms"`
	P99MS            float64 `json:"p99Ms"`
	CallsPerReq      float64 `json:"kajabiCallsPerRequest"`
	UpstreamKBPerReq float64 `json:"kajabiKBPerRequest"`
	PeakRSSMB        float64 `json:"peakRssMB,omitempty"`
	// CPUMSPerReq is the peer's process tree's user+system CPU over the row, per request.
	CPUMSPerReq float64 `json:"cpuMsPerRequest,omitempty"`
	// ConnsPer1000Calls is the connections the sandbox accepted per 1,000 calls it answered.
	ConnsPer1000Calls float64 `json:"connsPer1000Calls"`
	Note              string  `json:"note,omitempty"`
	Skip              string  `json:"skip,omitempty"`
	FirstError        string  `json:"firstError,omitempty"`
	// RoundsRPS is the req/s of each round, in the order they ran; the row is the median.
	RoundsRPS []float64 `json:"roundsRps,omitempty"`
}

type soakResult struct {
	Peer      string    `json:"peer"`
	Workload  string    `json:"workload"`
	Conc      int       `json:"concurrency"`
	Seconds   float64   `json:"seconds"`
	Requests  int       `json:"requests"`
	Errors    int       `json:"errors"`
	RPS       float64   `json:"rps"`
	PeakRSSMB float64   `json:"peakRssMB"`
	RSSMB     []float64 `json:"rssMBPerSecond"`
	FirstMB   float64   `json:"first10sMeanMB"`
	LastMB    float64   `json:"last10sMeanMB"`
	SlopeMBm  float64   `json:"slopeMBPerMinuteAfter10s"`
}

// summarize compares the first and the last 10 s of the RSS samples and fits a line
// through the samples after the first 10 s (warm-up of pools and caches).
func (s *soakResult) summarize() {
	n := len(s.RSSMB)
	if n == 0 {
		return
	}
	w := min(10, max(n/3, 1))
	s.FirstMB, s.LastMB = mean(s.RSSMB[:w]), mean(s.RSSMB[n-w:])
	xs := s.RSSMB[min(10, n/3):]
	if len(xs) < 2 {
		return
	}
	var sx, sy, sxx, sxy float64
	for i, y := range xs {
		x := float64(i)
		sx, sy, sxx, sxy = sx+x, sy+y, sxx+x*x, sxy+x*y
	}
	k := float64(len(xs))
	s.SlopeMBm = (k*sxy - sx*sy) / (k*sxx - sx*sx) * 60
}

func mean(xs []float64) float64 {
	var s float64
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

type report struct {
	Started     time.Time     `json:"started"`
	Elapsed     time.Duration `json:"elapsedNs"`
	Machine     string        `json:"machine"`
	Command     string        `json:"command"`
	Quick       bool          `json:"quick"`
	MeshVersion string        `json:"meshVersion"`
	Duration    time.Duration `json:"rowDurationNs"`
	MaxRequests int           `json:"rowMaxRequests"`
	Rounds      int           `json:"rounds,omitempty"`
	Rows        []row         `json:"rows"`
	Soaks       []soakResult  `json:"soaks"`
}

func (r *report) write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	j, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "results.json"), append(j, '\n'), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "results.md"), []byte(r.markdown()), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "chart.svg"), []byte(r.chart()), 0o644)
}

func (r *report) find(workload string, lat int64, peer string, conc int) *row {
	for i := range r.Rows {
		x := &r.Rows[i]
		if x.Workload == workload && x.LatencyMS == lat && x.Peer == peer && x.Conc == conc && x.Skip == "" && x.Requests > 0 {
			return x
		}
	}
	return nil
}

func (r *report) markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Bench results\n\n")
	fmt.Fprintf(&b, "- date: %s (run took %s)\n", r.Started.UTC().Format("2006-01-02 15:04 MST"), r.Elapsed.Round(time.Second))
	fmt.Fprintf(&b, "- machine: %s\n", r.Machine)
	fmt.Fprintf(&b, "- command: `%s`\n", r.Command)
	fmt.Fprintf(&b, "- each row: closed loop at the given concurrency, up to %s or %d requests after a warm-up; everything on 127.0.0.1\n", r.Duration, r.MaxRequests)
	if r.Rounds > 1 {
		fmt.Fprintf(&b, "- %d rounds per row, the peers of a workload taking turns within each round; a row shows its median round (by req/s), and \"req/s of the rounds\" all of them, as the machine's speed drifts between minutes\n", r.Rounds)
	}
	if r.MeshVersion != "" {
		fmt.Fprintf(&b, "- GraphQL Mesh: %s\n", r.MeshVersion)
	}
	if r.Quick {
		b.WriteString("- **quick run**: rows are short, figures are rough\n")
	}
	b.WriteString("\n")
	b.WriteString(r.markdownTable())
	b.WriteString("\n")
	b.WriteString(r.targets())
	b.WriteString(r.soakTable())
	b.WriteString(r.notes())
	b.WriteString("\n![throughput and p99 by peer](chart.svg)\n")
	return b.String()
}

// markdownTable is every row, measured or not, with the ratios to the row's references:
// the raw REST call of the same workload and latency, and Mesh.
func (r *report) markdownTable() string {
	var b strings.Builder
	b.WriteString("| workload | Kajabi latency | peer | c | req/s | req/s of the rounds | p50 ms | p99 ms | Kajabi calls/req | Kajabi KB/req | conns per 1,000 calls | CPU ms/req | peak RSS MB | GraphQL tax: Go proxy req/s ÷ ours; CPU ms/req ours vs proxy | vs raw REST req/s | vs Mesh req/s | Mesh p99 / ours |\n")
	b.WriteString("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, x := range r.Rows {
		lead := fmt.Sprintf("| %s: %s | %d ms | %s | %d ", x.Workload, x.Title, x.LatencyMS, x.Peer, x.Conc)
		if x.Skip != "" {
			fmt.Fprintf(&b, "%s| %s | | | | | | | | | | | | |\n", lead, x.Skip)
			continue
		}
		rss := "–"
		if x.PeakRSSMB > 0 {
			rss = fmt.Sprintf("%.0f", x.PeakRSSMB)
		}
		vsREST, vsMesh, p99, tax, cpu := "", "", "", "", "–"
		if x.CPUMSPerReq > 0 {
			cpu = fmt.Sprintf("%.2f", x.CPUMSPerReq)
		}
		if x.Peer == peerTLS {
			if px := r.find(x.Workload, x.LatencyMS, peerProxyTLS, x.Conc); px != nil {
				tax = fmt.Sprintf("%.2f×; %.2f vs %.2f", px.RPS/x.RPS, x.CPUMSPerReq, px.CPUMSPerReq)
			}
		}
		if x.Peer == peerFacade || x.Peer == peerUnlimit {
			if px := r.find(x.Workload, x.LatencyMS, peerProxy, x.Conc); px != nil {
				tax = fmt.Sprintf("%.2f×; %.2f vs %.2f", px.RPS/x.RPS, x.CPUMSPerReq, px.CPUMSPerReq)
			}
			if ref := r.find(x.Workload, x.LatencyMS, peerREST, x.Conc); ref != nil {
				vsREST = fmt.Sprintf("%.0f%%", 100*x.RPS/ref.RPS)
			}
			// Mesh cannot express (b); its ids-only row is no yardstick for ours.
			if m := r.find(x.Workload, x.LatencyMS, peerMesh, x.Conc); m != nil && x.Workload != "b" {
				vsMesh = fmt.Sprintf("%.1f×", x.RPS/m.RPS)
				p99 = fmt.Sprintf("%.1f×", m.P99MS/x.P99MS)
			}
		}
		errs := ""
		if x.Errors > 0 {
			errs = fmt.Sprintf(" (%d errors)", x.Errors)
		}
		rounds := make([]string, len(x.RoundsRPS))
		for i, v := range x.RoundsRPS {
			rounds[i] = fmt.Sprintf("%.0f", v)
		}
		fmt.Fprintf(&b, "%s| %.0f%s | %s | %.2f | %.2f | %.2f | %.1f | %.1f | %s | %s | %s | %s | %s | %s |\n",
			lead, x.RPS, errs, strings.Join(rounds, ", "), x.P50MS, x.P99MS, x.CallsPerReq, x.UpstreamKBPerReq, x.ConnsPer1000Calls, cpu, rss, tax, vsREST, vsMesh, p99)
	}
	return b.String()
}

// rowVerdict is verdict, unless some of f's answers were errors: an OVERLOADED answer is
// fast, so a row full of them would "meet" a throughput or latency target.
func rowVerdict(f *row, ok bool) string {
	if f.Errors > 0 {
		return fmt.Sprintf("**void**: %d of %d answers were errors", f.Errors, f.Requests)
	}
	return verdict(ok)
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "**missed**"
}

// relationsBudget is what TestRelationsCallBudget allows for workload (b) on the sandbox:
// 1 customer list + 20 distinct contacts + 1 site list + 1 product list page.
const relationsBudget = 23

// targets checks the targets against the rows.
func (r *report) targets() string {
	var b strings.Builder
	b.WriteString("## Targets\n\n| target | peer | concurrency | measured | verdict |\n| --- | --- | ---: | --- | --- |\n")
	for _, peer := range []string{peerFacade, peerUnlimit} {
		r.peerTargets(&b, peer)
	}
	r.httpsTargets(&b)
	for _, c := range r.concs() {
		full, sparse := r.find("a", 0, peerRESTFull, c), r.find("a", 0, peerREST, c)
		if full != nil && sparse != nil {
			fmt.Fprintf(&b, "| fields[customers] saving on (a)'s Kajabi call (info) | raw REST | %d | %.1f → %.1f KB per call (%.0f%% less); raw REST %.0f → %.0f req/s | |\n",
				c, full.UpstreamKBPerReq, sparse.UpstreamKBPerReq, 100*(1-sparse.UpstreamKBPerReq/full.UpstreamKBPerReq), full.RPS, sparse.RPS)
		}
	}
	b.WriteString("\n")
	return b.String()
}

// peerTargets writes the target rows of one facade build.
func (r *report) peerTargets(b *strings.Builder, peer string) {
	for _, c := range r.concs() {
		if f, ref := r.find("a", 0, peer, c), r.find("a", 0, peerREST, c); f != nil && ref != nil {
			fmt.Fprintf(b, "| (a) at 0 ms: ≥ 50%% of the raw REST call's req/s | %s | %d | %.0f vs %.0f req/s = %.0f%% | %s |\n",
				peer, c, f.RPS, ref.RPS, 100*f.RPS/ref.RPS, rowVerdict(f, f.RPS >= 0.5*ref.RPS))
		}
	}
	for _, c := range r.concs() {
		for _, w := range []string{"a", "c"} {
			f, px := r.find(w, 0, peer, c), r.find(w, 0, peerProxy, c)
			if f != nil && px != nil {
				fmt.Fprintf(b, "| (%s) at 0 ms: ≥ 0.8× the Go proxy's req/s | %s | %d | %.0f vs %.0f req/s = %.2f×; CPU %.2f vs %.2f ms/req | %s |\n",
					w, peer, c, f.RPS, px.RPS, f.RPS/px.RPS, f.CPUMSPerReq, px.CPUMSPerReq, rowVerdict(f, f.RPS >= 0.8*px.RPS))
			}
		}
	}
	for _, c := range r.concs() {
		if f, m := r.find("a", 0, peer, c), r.find("a", 0, peerMesh, c); f != nil && m != nil {
			fmt.Fprintf(b, "| (a) at 0 ms: ≥ 6× Mesh's req/s | %s | %d | %.0f vs %.0f req/s = %.1f× | %s |\n",
				peer, c, f.RPS, m.RPS, f.RPS/m.RPS, rowVerdict(f, f.RPS >= 6*m.RPS))
			fmt.Fprintf(b, "| (a) at 0 ms: p99 ≤ ¼ of Mesh's | %s | %d | %.2f vs %.2f ms = %.1f× lower | %s |\n",
				peer, c, f.P99MS, m.P99MS, m.P99MS/f.P99MS, rowVerdict(f, 4*f.P99MS <= m.P99MS))
		}
	}
	for _, lat := range r.latencies() {
		if lat == 0 {
			continue
		}
		rt := r.find("a", lat, peerREST, 1)
		for _, c := range r.concs() {
			f := r.find("b", lat, peer, c)
			if f == nil {
				continue
			}
			if rt != nil {
				limit := 3*rt.P50MS + 5
				fmt.Fprintf(b, "| (b) at %d ms: p50 ≤ 3 round trips + 5 ms (round trip = raw REST p50 at c=1, %.2f ms; limit %.2f ms) | %s | %d | p50 %.2f ms = %.2f round trips | %s |\n",
					lat, rt.P50MS, limit, peer, c, f.P50MS, f.P50MS/rt.P50MS, rowVerdict(f, f.P50MS <= limit))
			}
			fmt.Fprintf(b, "| (b) at %d ms: Kajabi calls ≤ the relations budget (%d) | %s | %d | %.2f calls/request | %s |\n",
				lat, relationsBudget, peer, c, f.CallsPerReq, rowVerdict(f, f.CallsPerReq <= relationsBudget))
		}
	}
	for _, s := range r.Soaks {
		if s.Peer != peer {
			continue
		}
		fmt.Fprintf(b, "| under load (b, c=50, %.0f s): peak RSS < 100 MB | %s | 50 | %.1f MB | %s |\n", s.Seconds, peer, s.PeakRSSMB, verdict(s.PeakRSSMB < 100))
		growth := s.LastMB - s.FirstMB
		fmt.Fprintf(b, "| under load: steady RSS, no growth across the run | %s | 50 | first 10 s %.1f MB, last 10 s %.1f MB (%+.1f MB), slope after 10 s %+.2f MB/min | %s |\n",
			peer, s.FirstMB, s.LastMB, growth, s.SlopeMBm, verdict(growth <= math.Max(5, 0.1*s.FirstMB) && s.SlopeMBm <= 5))
	}
}

// httpsTargets are issue 18's targets for relations over HTTPS with HTTP/2: p50 in round
// trips (the raw REST call's p50 at c=1, over plain HTTP) and connections per 1,000 calls.
func (r *report) httpsTargets(b *strings.Builder) {
	for _, lat := range r.latencies() {
		rt := r.find("a", lat, peerREST, 1)
		if lat == 0 || rt == nil {
			continue
		}
		for _, c := range r.concs() {
			f := r.find("b", lat, peerTLS, c)
			if f == nil {
				continue
			}
			limit := 3.0
			if c >= 50 {
				limit = 4
			}
			fmt.Fprintf(b, "| (b) over HTTPS at %d ms: p50 ≤ %.0f round trips (round trip = raw REST p50 at c=1, %.2f ms) | %s | %d | p50 %.2f ms = %.2f round trips | %s |\n",
				lat, limit, rt.P50MS, peerTLS, c, f.P50MS, f.P50MS/rt.P50MS, rowVerdict(f, f.P50MS <= limit*rt.P50MS))
			if px := r.find("b", lat, peerProxyTLS, c); px != nil && px.Skip == "" {
				fmt.Fprintf(b, "| (b) over HTTPS at %d ms: the floor, the same 21 calls without GraphQL | %s | %d | p50 %.2f ms = %.2f round trips; %.0f vs facade %.0f req/s | %s |\n",
					lat, peerProxyTLS, c, px.P50MS, px.P50MS/rt.P50MS, px.RPS, f.RPS, rowVerdict(px, px.P50MS <= limit*rt.P50MS))
			}
			fmt.Fprintf(b, "| (b) over HTTPS at %d ms: < 5 connections opened per 1,000 Kajabi calls | %s | %d | %.1f | %s |\n",
				lat, peerTLS, c, f.ConnsPer1000Calls, rowVerdict(f, f.ConnsPer1000Calls < 5))
		}
	}
}

func (r *report) soakTable() string {
	if len(r.Soaks) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("## Memory under load\n\n| peer | workload | c | seconds | requests | req/s | peak RSS MB | first 10 s MB | last 10 s MB | slope MB/min |\n| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, s := range r.Soaks {
		fmt.Fprintf(&b, "| %s | %s | %d | %.0f | %d | %.0f | %.1f | %.1f | %.1f | %+.2f |\n",
			s.Peer, s.Workload, s.Conc, s.Seconds, s.Requests, s.RPS, s.PeakRSSMB, s.FirstMB, s.LastMB, s.SlopeMBm)
	}
	b.WriteString("\n")
	return b.String()
}

func (r *report) notes() string {
	seen := map[string]bool{}
	var b strings.Builder
	b.WriteString("## Notes\n\n")
	b.WriteString("- Kajabi calls/req and KB/req are counted by the sandbox (`GET /_stats` of `bench/sandboxd`), token requests left out. Peak RSS is VmHWM of the peer's process tree, reset before each row; the raw REST rows have no process in between.\n")
	b.WriteString("- The load generator, the sandbox and the peer share the machine's cores, as they would share a small host.\n")
	for _, x := range r.Rows {
		if x.Note != "" && !seen[x.Peer+x.Workload] {
			seen[x.Peer+x.Workload] = true
			fmt.Fprintf(&b, "- %s, workload (%s): %s.\n", x.Peer, x.Workload, x.Note)
		}
	}
	return b.String()
}

func (r *report) concs() []int {
	var out []int
	seen := map[int]bool{}
	for _, x := range r.Rows {
		if !seen[x.Conc] {
			seen[x.Conc] = true
			out = append(out, x.Conc)
		}
	}
	return out
}

func (r *report) latencies() []int64 {
	var out []int64
	seen := map[int64]bool{}
	for _, x := range r.Rows {
		if !seen[x.LatencyMS] {
			seen[x.LatencyMS] = true
			out = append(out, x.LatencyMS)
		}
	}
	return out
}

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// The overload run (issue 13): c=100 of the heaviest query the default limits allow, from
// one API key, while a second key sends a light query every lightEvery. What counts is
// that the excess is refused quickly, what is admitted succeeds, the second caller keeps
// working, and memory and goroutines stay bounded.
const (
	overloadHeavy = `query Heavy { customers(first: 100, filter: {siteId: "101"}) { totalCount pageInfo { hasNextPage endCursor currentPage totalPages }
  nodes { id name email netRevenue createdAt contact { phoneNumber addressCity addressCountry } site { title }
  products { title productType } offers { title priceInCents currency } } } }`
	overloadLight = `query Light { customers(first: 1, filter: {siteId: "101"}) { nodes { id name } } }`
	busyKey       = "bench-busy-key-0123456789abcdef"
	lightKey      = "bench-light-key-0123456789abcdef"
	overloadConc  = 100
	// lightEvery paces the second caller at 10 queries (10 Kajabi calls) a second, a
	// tenth of the budget: a light caller. Sent back to back it would ask for more
	// calls a second than the whole budget and be a flood of its own, held to a turn
	// every 10 ms whatever the fairness.
	lightEvery = 100 * time.Millisecond
)

type overloadResult struct {
	Seconds                  float64
	OK, Overloaded, RateLim  int
	Other                    int
	FirstOther               string `json:",omitempty"`
	RefusalP50, RefusalP99   time.Duration
	AdmittedP50              time.Duration
	LightIdleP50, LightP50   time.Duration
	LightRequests, LightErrs int
	PeakRSSMB                float64
	MaxGoroutines            int
	// CPU used during the load, in cores (CPU seconds per second): what the facade, the
	// sandbox and this load generator itself took of the machine.
	FacadeCores, SandboxCores, BenchCores float64
}

func (e *env) overload(ctx context.Context, o options) (overloadResult, error) {
	r := overloadResult{Seconds: o.overload.Seconds()}
	p, endpoint, err := e.startFacade(o, "facade-overload", e.facadeBin, "API_KEYS="+busyKey+","+lightKey)
	if err != nil {
		return r, err
	}
	defer p.stop()
	client := newHTTPClient(overloadConc + 1)
	defer client.CloseIdleConnections()
	post := func(key, query string) (int, string, time.Duration, error) {
		body, _ := json.Marshal(map[string]string{"query": query})
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-API-Key", key)
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			return 0, "", 0, err
		}
		defer resp.Body.Close()
		var out struct {
			Errors []struct {
				Extensions struct{ Code string } `json:"extensions"`
			} `json:"errors"`
		}
		err = json.NewDecoder(resp.Body).Decode(&out)
		code := ""
		if len(out.Errors) > 0 {
			code = out.Errors[0].Extensions.Code
		}
		if err != nil {
			err = fmt.Errorf("status %d: %w", resp.StatusCode, err)
		}
		return resp.StatusCode, code, time.Since(start), err
	}
	lightLoop := func(n int, stop <-chan struct{}) (lat []time.Duration, errs int) {
		tick := time.NewTicker(lightEvery)
		defer tick.Stop()
		for i := 0; i < n; i++ {
			select {
			case <-stop:
				return lat, errs
			case <-tick.C:
			}
			status, code, d, err := post(lightKey, overloadLight)
			if err != nil || status != http.StatusOK || code != "" {
				errs++
				continue
			}
			lat = append(lat, d)
		}
		return lat, errs
	}
	if _, _, _, err := post(lightKey, overloadLight); err != nil { // parse once
		return r, err
	}
	idle, _ := lightLoop(50, nil)
	if len(idle) > 0 {
		r.LightIdleP50 = percentile(sorted(idle), 0.5)
	}

	logf("overload: c=%d heavy queries for %s, a second caller's light query alongside", overloadConc, o.overload)
	resetPeakRSS(p.pid())
	cpu0 := [3]time.Duration{treeCPU(p), treeCPU(e.sandbox), selfCPU()}
	start := time.Now()
	stop := make(chan struct{})
	var gmax atomic.Int64
	go func() {
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				gmax.Store(max(gmax.Load(), int64(goroutines(strings.TrimSuffix(endpoint, "/graphql")))))
			}
		}
	}()
	var mu sync.Mutex
	var refusals, admitted []time.Duration
	var wg sync.WaitGroup
	end := time.Now().Add(o.overload)
	for range overloadConc {
		wg.Go(func() {
			for n := 0; n < 10000 && time.Now().Before(end) && ctx.Err() == nil; n++ {
				status, code, d, err := post(busyKey, overloadHeavy)
				mu.Lock()
				switch {
				case err == nil && status == http.StatusOK && code == "":
					r.OK++
					admitted = append(admitted, d)
				case code == "OVERLOADED":
					r.Overloaded++
					refusals = append(refusals, d)
				case code == "RATE_LIMITED":
					r.RateLim++
					refusals = append(refusals, d)
				default:
					r.Other++
					if r.FirstOther == "" {
						r.FirstOther = fmt.Sprintf("status %d code %q err %v", status, code, err)
					}
				}
				mu.Unlock()
			}
		})
	}
	lightDone := make(chan struct{})
	var loaded []time.Duration
	go func() {
		defer close(lightDone)
		loaded, r.LightErrs = lightLoop(100000, stop)
	}()
	wg.Wait()
	close(stop)
	<-lightDone
	wall := time.Since(start).Seconds()
	r.FacadeCores = (treeCPU(p) - cpu0[0]).Seconds() / wall
	r.SandboxCores = (treeCPU(e.sandbox) - cpu0[1]).Seconds() / wall
	r.BenchCores = (selfCPU() - cpu0[2]).Seconds() / wall
	r.PeakRSSMB = float64(treeKB(p.pid(), "VmHWM")) / 1024
	r.MaxGoroutines = int(gmax.Load())
	r.LightRequests = len(loaded) + r.LightErrs
	if len(loaded) > 0 {
		r.LightP50 = percentile(sorted(loaded), 0.5)
	}
	if len(refusals) > 0 {
		r.RefusalP50, r.RefusalP99 = percentile(sorted(refusals), 0.5), percentile(sorted(refusals), 0.99)
	}
	if len(admitted) > 0 {
		r.AdmittedP50 = percentile(sorted(admitted), 0.5)
	}
	logf("overload: %d ok, %d OVERLOADED, %d RATE_LIMITED, %d other; refusals p50 %v p99 %v; light p50 %v idle, %v loaded; peak RSS %.1f MB; goroutines ≤ %d; cores: facade %.2f, sandbox %.2f, load generator %.2f",
		r.OK, r.Overloaded, r.RateLim, r.Other, r.RefusalP50, r.RefusalP99, r.LightIdleP50, r.LightP50, r.PeakRSSMB, r.MaxGoroutines,
		r.FacadeCores, r.SandboxCores, r.BenchCores)
	return r, nil
}

// selfCPU is the user+system CPU this process has used so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func sorted(d []time.Duration) []time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s
}

// goroutines reads go_goroutines from the facade's /metrics; 0 when it cannot.
func goroutines(base string) int {
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "go_goroutines "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return int(f)
		}
	}
	return 0
}

// markdown is the overload run as bench/README.md shows it.
func (r overloadResult) markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "| heavy c=%d, %.0f s | ok | OVERLOADED | RATE_LIMITED | other | refusal p50 | refusal p99 | admitted p50 | light p50 idle | light p50 loaded | peak RSS | goroutines | cores: facade, sandbox, load |\n", overloadConc, r.Seconds)
	b.WriteString("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/1e6) }
	fmt.Fprintf(&b, "| facade, defaults | %d | %d | %d | %d | %s | %s | %s | %s | %s | %.0f MB | %d | %.2f, %.2f, %.2f |\n",
		r.OK, r.Overloaded, r.RateLim, r.Other, ms(r.RefusalP50), ms(r.RefusalP99), ms(r.AdmittedP50),
		ms(r.LightIdleP50), ms(r.LightP50), r.PeakRSSMB, r.MaxGoroutines, r.FacadeCores, r.SandboxCores, r.BenchCores)
	return b.String()
}

func (r overloadResult) write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b, _ := json.MarshalIndent(r, "", "  ")
	if err := os.WriteFile(filepath.Join(dir, "overload.json"), b, 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "overload.md"), []byte(r.markdown()), 0o644)
}

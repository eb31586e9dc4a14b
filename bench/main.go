// Command bench is the load harness of issue 6: it starts a standalone Kajabi sandbox, the
// facade and GraphQL Mesh on loopback, drives the same workloads at each in turn with a
// bounded closed-loop load generator, and writes a table and a chart comparing them with
// the raw REST call.
//
//	go run ./bench            # full run, about 14 minutes (plus a first npm ci of Mesh)
//	go run ./bench -quick     # a short run, about 3 minutes
//
// Everything listens on 127.0.0.1 only. Each measured row is bounded in count and time.
// Results go to bench/results/ (results.md, results.json, chart.svg; overload.md and
// overload.json for the overload run). Only the overload run:
//
//	go run ./bench -workloads=none -soak=0 -mesh=false -unlimited=false -out /tmp/overload
package main

import (
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type options struct {
	quick       bool
	out         string
	conc        []int
	latencies   []time.Duration
	duration    time.Duration
	warmup      time.Duration
	rounds      int
	maxRequests int
	soak        time.Duration
	soakMesh    bool
	mesh        bool
	customers   int
	workloads   map[string]bool
	facadeEnv   []string
	unlimited   bool
	overload    time.Duration
	proxy       bool
	https       bool
	facadeBin   string
}

// listFlag collects a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, " ") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	var o options
	var conc, lats, wls string
	flag.BoolVar(&o.quick, "quick", false, "short run: 1.5 s rows, 15 s soak")
	flag.StringVar(&o.out, "out", "", "directory for results.md, results.json and chart.svg (default bench/results)")
	flag.StringVar(&conc, "c", "1,10,50", "concurrency levels")
	flag.StringVar(&lats, "latency", "0,20ms", "sandbox latencies")
	flag.StringVar(&wls, "workloads", "a,b,c", "workloads to run")
	flag.DurationVar(&o.duration, "duration", 2*time.Second, "time bound of one measured round of a row")
	flag.IntVar(&o.rounds, "rounds", 3, "rounds per row, peers interleaved; a row reports its median round")
	flag.DurationVar(&o.warmup, "warmup", time.Second, "warm-up before each row (not measured)")
	flag.IntVar(&o.maxRequests, "n", 100000, "count bound of one measured row")
	flag.DurationVar(&o.soak, "soak", 60*time.Second, "length of the RSS soak at concurrency 50 (0 skips it)")
	flag.BoolVar(&o.soakMesh, "soak-mesh", false, "soak GraphQL Mesh too")
	flag.BoolVar(&o.mesh, "mesh", true, "install and run GraphQL Mesh")
	flag.IntVar(&o.customers, "customers", 5000, "sandbox data set size")
	var facadeEnv listFlag
	flag.Var(&facadeEnv, "facade-env", "KEY=VALUE added to the facade's environment (repeatable)")
	flag.DurationVar(&o.overload, "overload", 30*time.Second, "length of the overload run: c=100 of the heaviest allowed query plus a second caller's light query (0 skips it)")
	flag.BoolVar(&o.unlimited, "unlimited", true, "also run the facade built without the Kajabi client's rate limit")
	flag.BoolVar(&o.proxy, "proxy", true, "run the Go proxy peer (bench/goproxy) on workloads a and c, and on b over HTTPS")
	flag.BoolVar(&o.https, "https", true, "also run workload b against an HTTPS + HTTP/2 sandbox (the limits-off build, KAJABI_CA_FILE)")
	flag.StringVar(&o.facadeBin, "facade-bin", "", "a facade binary to measure instead of building this checkout's (e.g. main's, for a before/after)")
	rerender := flag.String("rerender", "", "only rewrite results.md and chart.svg from this results.json")
	flag.Parse()
	o.facadeEnv = facadeEnv
	if *rerender != "" {
		if err := rewrite(*rerender); err != nil {
			fatal(err)
		}
		return
	}
	if o.quick {
		o.duration, o.warmup, o.soak, o.rounds = 1500*time.Millisecond, 300*time.Millisecond, min(o.soak, 15*time.Second), 1
		o.overload = min(o.overload, 15*time.Second)
	}
	o.rounds = max(o.rounds, 1)
	var err error
	if o.conc, err = parseInts(conc); err != nil {
		fatal(err)
	}
	if o.latencies, err = parseDurations(lats); err != nil {
		fatal(err)
	}
	o.workloads = map[string]bool{}
	for _, w := range strings.Split(wls, ",") {
		o.workloads[strings.TrimSpace(w)] = true
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() { <-ctx.Done(); stopAll() }()
	err = run(ctx, o)
	stopAll()
	if err != nil {
		fatal(err)
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "bench:", err)
	stopAll()
	os.Exit(1)
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s  "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

// env is the set-up every row runs against.
type env struct {
	root, runDir string
	sandbox      *proc
	sandboxURL   string
	token        string
	facade       *proc
	facadeURL    string
	unlimited    *proc
	unlimitedURL string
	mesh         *proc
	meshURL      string
	proxy        *proc
	proxyURL     string
	// The HTTPS sandbox and the limits-off facade that reaches it over HTTP/2.
	tlsSandbox    *proc
	tlsSandboxURL string
	tlsFacade     *proc
	tlsURL        string
	tlsProxy      *proc
	tlsProxyURL   string
	harness       *http.Client
	customers     int
	meshSkip      string
	meshVersion   string
	facadeBin     string
}

func run(ctx context.Context, o options) error {
	started := time.Now()
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	if o.out == "" {
		o.out = filepath.Join(root, "bench", "results")
	}
	e := &env{root: root, runDir: filepath.Join(root, "bench", ".run"), customers: o.customers}
	if err := os.MkdirAll(e.runDir, 0o755); err != nil {
		return err
	}
	if err := e.startSandboxAndFacade(o); err != nil {
		return err
	}
	if o.mesh {
		if err := e.startMesh(ctx); err != nil {
			e.meshSkip = "not run: " + err.Error()
			logf("GraphQL Mesh unavailable: %v", err)
		}
	} else {
		e.meshSkip = "not run (-mesh=false)"
	}

	rep := &report{Started: started, Machine: machine(), Command: commandLine(), Quick: o.quick,
		MeshVersion: e.meshVersion, Duration: o.duration, MaxRequests: o.maxRequests, Rounds: o.rounds}
	for _, lat := range o.latencies {
		if err := e.setLatency(lat); err != nil {
			return err
		}
		for _, w := range workloads {
			if !o.workloads[w.ID] {
				continue
			}
			peers := e.cases(w)
			rows := make([][]row, len(peers)*len(o.conc)) // [peer][concurrency] -> rounds
			// Round by round, every peer in turn: a slow spell of the shared machine lands on
			// one round of each peer rather than on all of one peer's.
			for round := range o.rounds {
				for ci, c := range o.conc {
					for pi, pc := range peers {
						if ctx.Err() != nil {
							return ctx.Err()
						}
						i := pi*len(o.conc) + ci
						rows[i] = append(rows[i], e.measure(ctx, o, w, lat, pc, c, round))
					}
				}
			}
			for _, rounds := range rows {
				rep.Rows = append(rep.Rows, medianRound(rounds))
			}
		}
	}
	if o.soak > 0 {
		if err := e.setLatency(0); err != nil {
			return err
		}
		b := workloads[1]
		for _, pc := range e.cases(b) {
			if pc.peer == peerFacade || pc.peer == peerUnlimit || (pc.peer == peerMesh && o.soakMesh && pc.skip == "") {
				rep.Soaks = append(rep.Soaks, e.soak(ctx, o, pc))
			}
		}
	}
	if o.overload > 0 {
		if err := e.setLatency(0); err != nil {
			return err
		}
		r, err := e.overload(ctx, o)
		if err != nil {
			return fmt.Errorf("overload run: %w", err)
		}
		if err := r.write(o.out); err != nil {
			return err
		}
		fmt.Println(r.markdown())
	}
	rep.Elapsed = time.Since(started)
	if err := rep.write(o.out); err != nil {
		return err
	}
	logf("done in %s; results in %s", rep.Elapsed.Round(time.Second), o.out)
	fmt.Println(rep.markdownTable())
	return nil
}

// rewrite renders a saved run again, after a change to the report's layout.
func rewrite(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var rep report
	if err := json.Unmarshal(b, &rep); err != nil {
		return err
	}
	return rep.write(filepath.Dir(path))
}

func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("run the harness from inside the module (go run ./bench)")
	}
	return filepath.Dir(mod), nil
}

func (e *env) startSandboxAndFacade(o options) error {
	logf("building the facade, sandboxd and goproxy")
	var err error
	facadeBin := filepath.Join(e.runDir, "facade")
	sandboxBin := filepath.Join(e.runDir, "sandboxd")
	proxyBin := filepath.Join(e.runDir, "goproxy")
	builds := [][]string{{sandboxBin, "./bench/sandboxd"}, {proxyBin, "./bench/goproxy"}}
	if o.facadeBin == "" {
		builds = append(builds, []string{facadeBin, "."})
	} else if facadeBin, err = filepath.Abs(o.facadeBin); err != nil {
		return err
	}
	e.facadeBin = facadeBin
	for _, b := range builds {
		args := []string{"build", "-o", b[0]}
		cmd := exec.Command("go", append(args, b[1])...)
		cmd.Dir, cmd.Stdout, cmd.Stderr = e.root, os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("go build %s: %w", b[1], err)
		}
	}

	sbLog := filepath.Join(e.runDir, "sandboxd.log")
	p, err := start("sandboxd", sbLog, e.root, nil, sandboxBin, "-listen", "127.0.0.1:0", "-customers", strconv.Itoa(o.customers))
	if err != nil {
		return err
	}
	e.sandbox = p
	if e.sandboxURL, err = firstLine(p, sbLog, "sandboxd: ", 30*time.Second); err != nil {
		return err
	}
	if e.token, err = sandboxToken(http.DefaultClient, e.sandboxURL); err != nil {
		return err
	}
	logf("sandbox at %s (%d customers)", e.sandboxURL, o.customers)

	if e.facade, e.facadeURL, err = e.startFacade(o, "facade", facadeBin); err != nil {
		return err
	}
	if o.unlimited {
		// The same binary with the client's process-wide limits off, to measure our own
		// cost rather than the limiter's pacing. Admission is off too: it lets one caller
		// hold three quarters of MAX_INFLIGHT_REQUESTS (24 of 32), so the bench, one caller
		// at c=50, would measure OVERLOADED answers.
		if e.unlimited, e.unlimitedURL, err = e.startFacade(o, "facade-unlimited", facadeBin,
			"KAJABI_MAX_RPS=0", "KAJABI_MAX_INFLIGHT=0", "MAX_INFLIGHT_REQUESTS=0"); err != nil {
			return err
		}
	}
	if o.proxy {
		pp, err := start("goproxy", filepath.Join(e.runDir, "goproxy.log"), e.root, nil, proxyBin,
			"-listen", "127.0.0.1:0", "-kajabi", e.sandboxURL, "-token", e.token)
		if err != nil {
			return err
		}
		e.proxy = pp
		if e.proxyURL, err = firstLine(pp, filepath.Join(e.runDir, "goproxy.log"), "goproxy: ", 30*time.Second); err != nil {
			return err
		}
		logf("Go proxy at %s (pid %d)", e.proxyURL, pp.pid())
	}
	if o.https {
		// A second sandbox, over HTTPS, so its connection counter is the HTTPS peer's alone.
		log := filepath.Join(e.runDir, "sandboxd-tls.log")
		caFile := filepath.Join(e.runDir, "sandboxd-ca.pem")
		tp, err := start("sandboxd-tls", log, e.root, nil, sandboxBin, "-listen", "127.0.0.1:0", "-tls", "-tls-ca-file", caFile,
			"-customers", strconv.Itoa(o.customers))
		if err != nil {
			return err
		}
		e.tlsSandbox = tp
		if e.tlsSandboxURL, err = firstLine(tp, log, "sandboxd: ", 30*time.Second); err != nil {
			return err
		}
		if e.tlsFacade, e.tlsURL, err = e.startFacadeAt(o, "facade-https", facadeBin, e.tlsSandboxURL,
			"KAJABI_MAX_RPS=0", "KAJABI_MAX_INFLIGHT=0", "MAX_INFLIGHT_REQUESTS=0", "KAJABI_CA_FILE="+caFile); err != nil {
			return err
		}
		if o.proxy {
			// The Go proxy over the same HTTPS sandbox: the floor for the relations workload.
			log := filepath.Join(e.runDir, "goproxy-tls.log")
			token, err := sandboxToken(e.harnessClient(), e.tlsSandboxURL)
			if err != nil {
				return err
			}
			pp, err := start("goproxy-tls", log, e.root, nil, proxyBin,
				"-listen", "127.0.0.1:0", "-kajabi", e.tlsSandboxURL, "-token", token, "-ca-file", caFile)
			if err != nil {
				return err
			}
			e.tlsProxy = pp
			if e.tlsProxyURL, err = firstLine(pp, log, "goproxy: ", 30*time.Second); err != nil {
				return err
			}
			logf("Go proxy over HTTPS at %s (pid %d)", e.tlsProxyURL, pp.pid())
		}
	}
	return nil
}

// startFacade runs a facade binary against the sandbox, with the sandbox's credentials.
func (e *env) startFacade(o options, name, bin string, extraEnv ...string) (*proc, string, error) {
	return e.startFacadeAt(o, name, bin, e.sandboxURL, extraEnv...)
}

func (e *env) startFacadeAt(o options, name, bin, sandboxURL string, extraEnv ...string) (*proc, string, error) {
	port, err := freePort()
	if err != nil {
		return nil, "", err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	p, err := start(name, filepath.Join(e.runDir, name+".log"), e.root, append([]string{
		"LISTEN_ADDR=" + addr,
		"KAJABI_BASE_URL=" + sandboxURL,
		"KAJABI_CLIENT_ID=sandbox-client-id",
		"KAJABI_CLIENT_SECRET=sandbox-client-secret",
		"KAJABI_ACCESS_TOKEN=",
		"LOG_FORMAT=json",
		"LOG_LEVEL=info",
	}, append(extraEnv, o.facadeEnv...)...), bin)
	if err != nil {
		return nil, "", err
	}
	if err := waitReady(p, 30*time.Second, httpOK(http.MethodGet, "http://"+addr+"/healthz", "", "")); err != nil {
		return nil, "", err
	}
	url := "http://" + addr + "/graphql"
	logf("%s at %s (pid %d)", name, url, p.pid())
	return p, url, nil
}

// sandboxToken logs in with the sandbox's client credentials, as a REST client would.
func sandboxToken(client *http.Client, base string) (string, error) {
	resp, err := client.PostForm(base+"/v1/oauth/token", url.Values{
		"grant_type": {"client_credentials"}, "client_id": {"sandbox-client-id"}, "client_secret": {"sandbox-client-secret"},
	})
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		return "", fmt.Errorf("sandbox token: status %d, %v", resp.StatusCode, err)
	}
	return tok.AccessToken, nil
}

// startMesh installs Mesh (npm ci, only when the lock file changed), composes the
// supergraph from Kajabi's OpenAPI description against our sandbox, and serves it.
func (e *env) startMesh(ctx context.Context) error {
	spec := os.Getenv("KAJABI_OPENAPI")
	if spec == "" {
		spec = filepath.Join(e.root, "..", "shared", "kajabi", "openapi.yaml")
	}
	if _, err := os.Stat(spec); err != nil {
		return fmt.Errorf("Kajabi's OpenAPI description: %w", err)
	}
	if _, err := exec.LookPath("node"); err != nil {
		return fmt.Errorf("node is not installed")
	}
	src := filepath.Join(e.root, "bench", "mesh")
	dir := filepath.Join(e.root, "bench", ".mesh")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	lock, err := os.ReadFile(filepath.Join(src, "package-lock.json"))
	if err != nil {
		return err
	}
	installed, _ := os.ReadFile(filepath.Join(dir, "package-lock.json"))
	if _, err := os.Stat(filepath.Join(dir, "node_modules", ".bin", "hive-gateway")); err != nil || string(installed) != string(lock) {
		logf("installing GraphQL Mesh with npm ci into %s (once; takes a few minutes)", dir)
		for _, f := range []string{"package.json", "package-lock.json"} {
			if err := copyFile(filepath.Join(src, f), filepath.Join(dir, f)); err != nil {
				return err
			}
		}
		cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
		cmd.Dir, cmd.Stdout, cmd.Stderr = dir, os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("npm ci: %w", err)
		}
	}
	if err := copyFile(filepath.Join(src, "mesh.config.ts"), filepath.Join(dir, "mesh.config.ts")); err != nil {
		return err
	}
	e.meshVersion = meshVersions(dir)

	logf("composing the Mesh supergraph from %s", spec)
	compose := exec.CommandContext(ctx, "node", "node_modules/.bin/mesh-compose", "-o", "supergraph.graphql")
	compose.Dir = dir
	compose.Env = append(os.Environ(), "KAJABI_OPENAPI="+spec, "KAJABI_BASE_URL="+e.sandboxURL)
	if out, err := compose.CombinedOutput(); err != nil {
		return fmt.Errorf("mesh-compose: %v: %s", err, out)
	}

	port, err := freePort()
	if err != nil {
		return err
	}
	p, err := start("hive-gateway", filepath.Join(e.runDir, "mesh.log"), dir,
		[]string{"KAJABI_TOKEN=" + e.token, "NODE_ENV=production"},
		"node", "node_modules/.bin/hive-gateway", "supergraph", "supergraph.graphql",
		"--host", "127.0.0.1", "--port", strconv.Itoa(port), "--disable-websockets")
	if err != nil {
		return err
	}
	e.mesh = p
	e.meshURL = "http://127.0.0.1:" + strconv.Itoa(port) + "/graphql"
	if err := waitReady(p, 60*time.Second, httpOK(http.MethodPost, e.meshURL, "application/json", `{"query":"{ __typename }"}`)); err != nil {
		return err
	}
	logf("GraphQL Mesh (%s) at %s (pid %d)", e.meshVersion, e.meshURL, p.pid())
	return nil
}

func meshVersions(dir string) string {
	var parts []string
	for _, pkg := range []string{"@graphql-mesh/compose-cli", "@omnigraph/openapi", "@graphql-hive/gateway"} {
		b, err := os.ReadFile(filepath.Join(dir, "node_modules", pkg, "package.json"))
		if err != nil {
			continue
		}
		var v struct{ Version string }
		_ = json.Unmarshal(b, &v)
		parts = append(parts, pkg+"@"+v.Version)
	}
	if out, err := exec.Command("node", "--version").Output(); err == nil {
		parts = append(parts, "node "+strings.TrimSpace(string(out)))
	}
	return strings.Join(parts, ", ")
}

func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o644)
}

func (e *env) setLatency(d time.Duration) error {
	for _, base := range []string{e.sandboxURL, e.tlsSandboxURL} {
		if base == "" {
			continue
		}
		resp, err := e.harnessClient().Post(base+"/_latency?d="+d.String(), "", nil)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			return fmt.Errorf("set sandbox latency: status %d", resp.StatusCode)
		}
	}
	logf("sandbox latency %s", d)
	return nil
}

// harnessClient reaches both sandboxes, the HTTPS one by its own certificate, on
// connections it keeps.
func (e *env) harnessClient() *http.Client {
	if e.harness != nil {
		return e.harness
	}
	e.harness = http.DefaultClient
	if pem, err := os.ReadFile(filepath.Join(e.runDir, "sandboxd-ca.pem")); err == nil && e.tlsSandboxURL != "" {
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(pem)
		e.harness = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	}
	return e.harness
}

type sandboxStats struct {
	Calls int64 `json:"calls"`
	Bytes int64 `json:"bytes"`
	Conns int64 `json:"conns"`
}

// stats reads the counters of the sandbox a peer calls.
func (e *env) stats(peer string) sandboxStats {
	var s sandboxStats
	base := e.sandboxURL
	if peer == peerTLS || peer == peerProxyTLS {
		base = e.tlsSandboxURL
	}
	resp, err := e.harnessClient().Get(base + "/_stats")
	if err != nil {
		return s
	}
	defer resp.Body.Close()
	_ = json.NewDecoder(resp.Body).Decode(&s)
	// Read to the end, so the connection is reused and the counters stay the peer's alone.
	_, _ = io.Copy(io.Discard, resp.Body)
	return s
}

// peerProc is the process whose memory a row reports; nil for the raw REST baseline.
func (e *env) peerProc(peer string) *proc {
	switch peer {
	case peerFacade:
		return e.facade
	case peerUnlimit:
		return e.unlimited
	case peerMesh:
		return e.mesh
	case peerProxy:
		return e.proxy
	case peerTLS:
		return e.tlsFacade
	case peerProxyTLS:
		return e.tlsProxy
	}
	return nil
}

// measure runs one row: a check of the answer's shape, a warm-up, then the bounded run
// with the sandbox's call counter and the peer's peak RSS read around it.
// measure runs one round of a row. The first round of a row warms up for o.warmup, later
// ones briefly, as the peer is warm by then.
func (e *env) measure(ctx context.Context, o options, w workload, lat time.Duration, pc peerCase, conc, round int) row {
	r := row{Workload: w.ID, Title: w.Title, LatencyMS: lat.Milliseconds(), Peer: pc.peer, Conc: conc, Note: pc.note}
	if pc.skip != "" {
		r.Skip = pc.skip
		return r
	}
	warmup := o.warmup
	if round > 0 {
		warmup = min(warmup, 250*time.Millisecond)
	}
	client := newHTTPClient(conc)
	defer client.CloseIdleConnections()
	body, err := fetchOnce(client, pc.target)
	if err == nil {
		err = pc.check(body)
	}
	if err != nil {
		r.Skip = "answer failed its check: " + err.Error()
		logf("%s", r.Skip)
		return r
	}
	runLoad(ctx, client, pc.target, conc, max(conc*20, 200), warmup)
	p := e.peerProc(pc.peer)
	if p != nil {
		resetPeakRSS(p.pid())
	}
	before, cpuBefore := e.stats(pc.peer), treeCPU(p)
	res := runLoad(ctx, client, pc.target, conc, o.maxRequests, o.duration)
	after, cpuAfter := e.stats(pc.peer), treeCPU(p)
	r.Requests, r.Errors, r.FirstError = res.Requests, res.Errors, res.FirstErr
	r.RPS = res.RPS
	r.P50MS, r.P99MS = ms(res.P50), ms(res.P99)
	if res.Requests > 0 {
		r.CallsPerReq = float64(after.Calls-before.Calls) / float64(res.Requests)
		r.UpstreamKBPerReq = float64(after.Bytes-before.Bytes) / 1024 / float64(res.Requests)
		if p != nil {
			r.CPUMSPerReq = (cpuAfter - cpuBefore).Seconds() * 1000 / float64(res.Requests)
		}
	}
	if calls := after.Calls - before.Calls; calls > 0 {
		r.ConnsPer1000Calls = 1000 * float64(after.Conns-before.Conns) / float64(calls)
	}
	if p != nil {
		r.PeakRSSMB = float64(treeKB(p.pid(), "VmHWM")) / 1024
	}
	logf("%s lat=%dms %-32s c=%-2d round %d %8.0f req/s p50 %7.2fms p99 %7.2fms calls/req %5.2f cpu %.3fms/req conns/1k %.1f rss %5.1fMB errors %d",
		w.ID, r.LatencyMS, pc.peer, conc, round+1, r.RPS, r.P50MS, r.P99MS, r.CallsPerReq, r.CPUMSPerReq, r.ConnsPer1000Calls, r.PeakRSSMB, r.Errors)
	if r.FirstError != "" {
		logf("  first error: %s", r.FirstError)
	}
	return r
}

// medianRound is the round of a row with the median throughput, its figures from that one
// round but the peak RSS, which is the highest of all rounds, with every round's req/s kept
// beside them. A skipped or failed round stands for the row when there is one.
func medianRound(rounds []row) row {
	for _, r := range rounds {
		if r.Skip != "" {
			return r
		}
	}
	sorted := slices.Clone(rounds)
	slices.SortFunc(sorted, func(a, b row) int { return cmp.Compare(a.RPS, b.RPS) })
	m := sorted[(len(sorted)-1)/2]
	for _, r := range rounds {
		m.RoundsRPS = append(m.RoundsRPS, r.RPS)
		m.PeakRSSMB = max(m.PeakRSSMB, r.PeakRSSMB)
	}
	return m
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// soak drives workload (b) at concurrency 50 for o.soak and samples the peer's RSS every
// second, to see whether memory settles or keeps growing.
func (e *env) soak(ctx context.Context, o options, pc peerCase) soakResult {
	p := e.peerProc(pc.peer)
	s := soakResult{Peer: pc.peer, Workload: "b", Conc: 50, Seconds: o.soak.Seconds()}
	logf("soak: %s, workload b, c=50, %s", pc.peer, o.soak)
	resetPeakRSS(p.pid())
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				s.RSSMB = append(s.RSSMB, float64(treeKB(p.pid(), "VmRSS"))/1024)
				if len(s.RSSMB) >= int(o.soak.Seconds()) {
					return
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	client := newHTTPClient(50)
	res := runLoad(ctx, client, pc.target, 50, 100_000_000, o.soak)
	client.CloseIdleConnections()
	<-done
	s.Requests, s.Errors, s.RPS = res.Requests, res.Errors, res.RPS
	s.PeakRSSMB = float64(treeKB(p.pid(), "VmHWM")) / 1024
	s.summarize()
	logf("soak: %d requests, %.0f req/s, peak RSS %.1f MB, first 10 s %.1f MB, last 10 s %.1f MB",
		s.Requests, s.RPS, s.PeakRSSMB, s.FirstMB, s.LastMB)
	return s
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 200 {
			return nil, fmt.Errorf("concurrency %q: want 1..200", f)
		}
		out = append(out, n)
	}
	return out, nil
}

func parseDurations(s string) ([]time.Duration, error) {
	var out []time.Duration
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "0" {
			out = append(out, 0)
			continue
		}
		d, err := time.ParseDuration(f)
		if err != nil || d < 0 {
			return nil, fmt.Errorf("latency %q: %v", f, err)
		}
		out = append(out, d)
	}
	return out, nil
}

// machine describes where the run happened.
func machine() string {
	cpu := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "model name"); ok {
				cpu = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	mem := ""
	if kb, err := statusKBFile("/proc/meminfo", "MemTotal"); err == nil {
		mem = fmt.Sprintf(", %.0f GiB RAM", float64(kb)/1024/1024)
	}
	kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	return fmt.Sprintf("%s, %d cores%s, Linux %s, %s", cpu, runtime.NumCPU(), mem, strings.TrimSpace(string(kernel)), runtime.Version())
}

func statusKBFile(path, key string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	b, _ := io.ReadAll(f)
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, key+":"); ok {
			fields := strings.Fields(rest)
			if len(fields) > 0 {
				return strconv.ParseInt(fields[0], 10, 64)
			}
		}
	}
	return 0, fmt.Errorf("%s not in %s", key, path)
}

func commandLine() string {
	args := append([]string{"go run ./bench"}, os.Args[1:]...)
	return strings.Join(args, " ")
}

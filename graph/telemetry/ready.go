package telemetry

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// Check is one condition this process needs to serve: its own, never Kajabi's. Kajabi
// failing makes every replica fail alike, and a replica out of rotation answers with
// connection errors instead of GraphQL errors with codes; Kajabi's state is on /status
// and /metrics instead.
type Check struct {
	Name string
	// Run returns nil when the condition holds, and ErrNotApplicable when it does not apply
	// to this service (reported, and not a failure).
	Run func(ctx context.Context) error
}

// ErrNotApplicable is what a Check returns when there is nothing to check.
var ErrNotApplicable = errors.New("not applicable")

// ReadinessOptions configure Readiness.
type ReadinessOptions struct {
	Checks []Check
	// TTL is how long one round of checks answers probes, so that frequent probes do not
	// hammer what the checks ask (a shared store); 0 means 5 s.
	TTL time.Duration
	// Timeout bounds one round of checks; 0 means 5 s.
	Timeout time.Duration
}

// Readiness answers a readiness probe: 200 {"status":"ready","checks":{...}} when every
// check passes, 503 {"status":"unavailable","checks":{...}} naming what failed otherwise.
// Checks run in order; after a failure the rest are "not checked". A round's result is
// reused for TTL, and concurrent probes share the round in flight. A probe that gives up
// does not cut its round short.
func Readiness(opts ReadinessOptions) http.Handler {
	if opts.TTL <= 0 {
		opts.TTL = 5 * time.Second
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 5 * time.Second
	}
	r := &readiness{opts: opts}
	return http.HandlerFunc(r.serve)
}

type readiness struct {
	opts ReadinessOptions

	mu     sync.Mutex // held while a round runs: later probes wait for its result
	at     time.Time
	ready  bool
	checks map[string]string
}

func (rd *readiness) serve(w http.ResponseWriter, r *http.Request) {
	ready, checks := rd.result(r.Context())
	status, body := http.StatusOK, map[string]any{"status": "ready", "checks": checks}
	if !ready {
		status, body["status"] = http.StatusServiceUnavailable, "unavailable"
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func (rd *readiness) result(ctx context.Context) (bool, map[string]string) {
	rd.mu.Lock()
	defer rd.mu.Unlock()
	if !rd.at.IsZero() && time.Since(rd.at) < rd.opts.TTL {
		return rd.ready, rd.checks
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rd.opts.Timeout)
	defer cancel()
	ready, checks := true, map[string]string{}
	for _, c := range rd.opts.Checks {
		if !ready {
			checks[c.Name] = "not checked"
			continue
		}
		switch err := c.Run(ctx); {
		case err == nil:
			checks[c.Name] = "ok"
		case errors.Is(err, ErrNotApplicable):
			checks[c.Name] = "not applicable"
		default:
			// Checks' errors must name no secret.
			ready, checks[c.Name] = false, err.Error()
			zerolog.Ctx(ctx).Warn().Str("check", c.Name).Err(err).Msg("not ready")
		}
	}
	rd.at, rd.ready, rd.checks = time.Now(), ready, checks
	return ready, checks
}

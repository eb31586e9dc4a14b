package telemetry

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"github.com/kajabi-graphql/facade/kajabi"
)

// StatusOptions configure Status.
type StatusOptions struct {
	// ProbeEvery is how long one probe of Kajabi's version answers; 0 means 30 s.
	ProbeEvery time.Duration
	// ProbeTimeout bounds one probe; 0 means 2 s.
	ProbeTimeout time.Duration
}

// KajabiStatus is the "kajabi" member of the status document.
type KajabiStatus struct {
	Breaker     string     `json:"breaker"` // closed, open or half-open
	LastErrorAt *time.Time `json:"lastErrorAt,omitempty"`
	LastError   string     `json:"lastError,omitempty"`
	PausedUntil *time.Time `json:"pausedUntil,omitempty"`
	Version     Probe      `json:"version"`
}

// Probe is the latest answer to GET /v1/version.
type Probe struct {
	OK        bool      `json:"ok"`
	Version   string    `json:"version,omitempty"`
	Error     string    `json:"error,omitempty"`
	CheckedAt time.Time `json:"checkedAt"`
}

// Status answers GET /status with what this process has seen of Kajabi, always 200:
//
//	{"kajabi":{"breaker":"closed","lastErrorAt":...,"lastError":...,"pausedUntil":...,
//	           "version":{"ok":true,"version":"1.1.0","checkedAt":...}}}
//
// Everything but the version comes from the client's own record of its calls. The version
// probe is one call outside the client's breaker, limiter and pauses, so it never waits
// behind traffic; its result answers for ProbeEvery, one probe runs at a time, and while
// it runs other requests get the previous result.
func Status(client *kajabi.Client, opts StatusOptions) http.Handler {
	if opts.ProbeEvery <= 0 {
		opts.ProbeEvery = 30 * time.Second
	}
	if opts.ProbeTimeout <= 0 {
		opts.ProbeTimeout = 2 * time.Second
	}
	s := &status{client: client, opts: opts}
	return http.HandlerFunc(s.serve)
}

type status struct {
	client *kajabi.Client
	opts   StatusOptions

	mu      sync.Mutex
	probing bool
	probe   Probe
}

func (s *status) serve(w http.ResponseWriter, r *http.Request) {
	h := s.client.Health()
	ks := KajabiStatus{Breaker: h.Breaker.String(), LastError: h.LastError, Version: s.version(r.Context())}
	if !h.LastErrorAt.IsZero() {
		ks.LastErrorAt = &h.LastErrorAt
	}
	if !h.PausedUntil.IsZero() {
		ks.PausedUntil = &h.PausedUntil
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(map[string]any{"kajabi": ks})
}

func (s *status) version(ctx context.Context) Probe {
	s.mu.Lock()
	if s.probing || (!s.probe.CheckedAt.IsZero() && time.Since(s.probe.CheckedAt) < s.opts.ProbeEvery) {
		p := s.probe
		s.mu.Unlock()
		return p
	}
	s.probing = true
	s.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opts.ProbeTimeout)
	defer cancel()
	p := Probe{}
	v, err := s.client.Version(ctx)
	if err != nil {
		p.Error = err.Error() // the client's errors carry redacted URLs, never a token
	} else {
		p.OK, p.Version = true, v.Version
	}
	p.CheckedAt = time.Now().UTC()
	s.mu.Lock()
	s.probe, s.probing = p, false
	s.mu.Unlock()
	return p
}

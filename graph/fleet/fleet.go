// Package fleet keeps what the replicas of one service share on Redis: each Kajabi
// account's rate budget and the pauses Kajabi asked for (limiter.go), and a byte store
// with expiry for the catalogue cache and persisted queries (store.go).
//
// Redis is a help, never a dependency of a request: every call is bounded by a short
// timeout, and a failed call switches the Store to local mode, where callers use their
// in-process fallbacks (a conservative share of the budget, the process's own cache and
// query store) until a background probe finds Redis again. Each switch is logged once and
// reported to OnStateChange.
package fleet

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"
)

// Options configure a Store.
type Options struct {
	// URL is redis://[user:password@]host:port/db or rediss:// for TLS.
	URL string
	// Timeout bounds every Redis call; 0 means 100ms.
	Timeout time.Duration
	// ProbeInterval is how often Redis is tried again while the Store is local; 0 means 1s.
	ProbeInterval time.Duration
	// Prefix starts every key, so one Redis can serve several deployments; "" means "kgf:".
	Prefix string
	Logger zerolog.Logger
	// OnStateChange, when set, hears every switch between shared and local mode.
	OnStateChange func(shared bool)
}

// Store is one replica's connection to the fleet's Redis.
type Store struct {
	rdb    *redis.Client
	opts   Options
	shared atomic.Bool

	mu    sync.Mutex
	since time.Time // of the last switch

	stop chan struct{}
	done chan struct{}
}

// Open parses the URL and tries Redis once. A Redis that cannot be reached is not an error:
// the Store starts local and probes until it can. A malformed URL is.
func Open(ctx context.Context, opts Options) (*Store, error) {
	ro, err := redis.ParseURL(opts.URL)
	if err != nil {
		return nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 100 * time.Millisecond
	}
	if opts.ProbeInterval <= 0 {
		opts.ProbeInterval = time.Second
	}
	if opts.Prefix == "" {
		opts.Prefix = "kgf:"
	}
	ro.DialTimeout, ro.ReadTimeout, ro.WriteTimeout = opts.Timeout, opts.Timeout, opts.Timeout
	ro.MaxRetries = -1 // a failed call falls back at once; the probe brings Redis back
	ro.ContextTimeoutEnabled = true
	// go-redis prints pool errors as plain text on stderr, once a second while Redis is
	// away; the Store reports each switch of state itself, in the service's log format.
	// The library's logger is global, so it cannot be one Store's: it is silenced.
	redis.SetLogger(silent{})
	s := &Store{rdb: redis.NewClient(ro), opts: opts, since: time.Now(), stop: make(chan struct{}), done: make(chan struct{})}
	pctx, cancel := context.WithTimeout(ctx, opts.Timeout*5)
	err = s.rdb.Ping(pctx).Err()
	cancel()
	if err == nil {
		s.shared.Store(true)
		opts.Logger.Info().Str("redis", redactedAddr(ro)).Msg("fleet: shared state on Redis")
	} else {
		opts.Logger.Warn().Str("redis", redactedAddr(ro)).Str("error", err.Error()).Msg("fleet: Redis unreachable at start; local until it answers")
	}
	if opts.OnStateChange != nil {
		opts.OnStateChange(err == nil)
	}
	go s.probe()
	return s, nil
}

func redactedAddr(ro *redis.Options) string { return ro.Addr }

// silent drops go-redis's own messages.
type silent struct{}

func (silent) Printf(context.Context, string, ...any) {}

// Shared reports whether calls go to Redis now.
func (s *Store) Shared() bool { return s.shared.Load() }

// LocalFor is how long the Store has been local; 0 while shared.
func (s *Store) LocalFor() time.Duration {
	if s.Shared() {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return time.Since(s.since)
}

// Close stops the probe and closes the connections.
func (s *Store) Close() error {
	close(s.stop)
	<-s.done
	return s.rdb.Close()
}

// call runs fn against Redis within the Store's timeout, and switches to local mode when
// Redis fails. redis.Nil (a missing key) is an answer, not a failure.
func (s *Store) call(ctx context.Context, fn func(context.Context, *redis.Client) error) error {
	if !s.Shared() {
		return errLocal
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opts.Timeout)
	defer cancel()
	err := fn(ctx, s.rdb)
	if err != nil && !errors.Is(err, redis.Nil) {
		s.switchTo(false, err)
	}
	return err
}

var errLocal = errors.New("fleet: local mode")

func (s *Store) switchTo(shared bool, cause error) {
	s.mu.Lock()
	if s.shared.Load() == shared {
		s.mu.Unlock()
		return
	}
	s.shared.Store(shared)
	s.since = time.Now()
	s.mu.Unlock()
	if shared {
		s.opts.Logger.Info().Msg("fleet: Redis answers again; shared mode")
	} else {
		s.opts.Logger.Warn().Str("error", cause.Error()).Msg("fleet: Redis failed; local mode until it answers")
	}
	if s.opts.OnStateChange != nil {
		s.opts.OnStateChange(shared)
	}
}

func (s *Store) probe() {
	defer close(s.done)
	t := time.NewTicker(s.opts.ProbeInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		if s.Shared() {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), s.opts.Timeout)
		err := s.rdb.Ping(ctx).Err()
		cancel()
		if err == nil {
			s.switchTo(true, nil)
		}
	}
}

func (s *Store) key(kind, name string) string { return s.opts.Prefix + kind + ":" + name }

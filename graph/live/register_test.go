package live_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/kajabi-graphql/facade/graph/live"
	"github.com/kajabi-graphql/facade/kajabi"
	"github.com/kajabi-graphql/facade/kajabi/kajabitest"
	"github.com/kajabi-graphql/facade/kajabi/sandbox"
)

const target = "https://facade.example.com/webhooks/kajabi/0123456789abcdef0123456789abcdef"

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// hookFaults answers the first n requests to /v1/hooks (every one when n < 0, until
// stopped) with status, and counts the ones it answered.
type hookFaults struct {
	left, failed atomic.Int64
	stopped      atomic.Bool
}

func failHooks(u *kajabitest.Upstream, n int64, status int) *hookFaults {
	f := &hookFaults{}
	f.left.Store(n)
	u.Handle(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasPrefix(r.URL.Path, "/v1/hooks") && !f.stopped.Load() && (n < 0 || f.left.Add(-1) >= 0) {
				f.failed.Add(1)
				w.Header().Set("Content-Type", "application/vnd.api+json")
				w.WriteHeader(status)
				_, _ = io.WriteString(w, `{"errors":[{"status":"`+strconv.Itoa(status)+`","title":"scripted"}]}`)
				return
			}
			next.ServeHTTP(w, r)
		})
	})
	return f
}

// outcome waits for Register's outcome. Bounded.
func outcome(t *testing.T, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(20 * time.Second):
		t.Fatal("Register did not finish")
		return nil
	}
}

func hooksAt(t *testing.T, c *kajabi.Client) map[string]int {
	t.Helper()
	hooks, _, err := c.Hooks.List(context.Background(), &kajabi.HookListOptions{ListOptions: kajabi.ListOptions{PageSize: 100}})
	if err != nil {
		t.Fatal(err)
	}
	per := map[string]int{}
	for _, h := range hooks {
		if h.TargetURL == target {
			per[h.Event]++
		}
	}
	return per
}

// TestRegisterInBackground: Register returns before Kajabi has answered, so it cannot hold
// back the service's readiness; it retries what may pass later (5xx) with backoff, up to
// its attempts, and not what Kajabi refused for good (4xx); a cancelled context ends it.
func TestRegisterInBackground(t *testing.T) {
	fast := live.RegisterOptions{FirstBackoff: time.Millisecond, MaxBackoff: 4 * time.Millisecond}
	for _, tc := range []struct {
		name        string
		failures    int64 // of /v1/hooks requests; -1 is all
		status      int
		opts        live.RegisterOptions
		wantErr     bool
		wantHooks   int   // of the 6 events
		wantTries   int64 // /v1/hooks requests that failed
		wantRetries int   // "trying again" log lines
	}{
		{"answers at once", 0, 0, fast, false, 6, 0, 0},
		{"5xx twice, then answers", 2, http.StatusServiceUnavailable, fast, false, 6, 2, 2},
		{"429 is retried", 1, http.StatusTooManyRequests, fast, false, 6, 1, 1},
		{"5xx every time: gives up after its attempts", -1, http.StatusBadGateway, live.RegisterOptions{Attempts: 3, FirstBackoff: time.Millisecond}, true, 0, 3, 2},
		{"403 is final", -1, http.StatusForbidden, fast, true, 0, 1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := kajabitest.NewSandbox(t, sandbox.Options{Customers: 5})
			var faults *hookFaults
			if tc.failures != 0 {
				faults = failHooks(u, tc.failures, tc.status)
			}
			logs := &syncBuf{}
			// The client retries nothing itself, so the attempts counted are Register's.
			once := u.Client(t, kajabi.WithRetry(kajabi.RetryPolicy{MaxAttempts: 1}))
			err := outcome(t, live.Register(context.Background(), once, "", target, zerolog.New(logs), tc.opts))
			if (err != nil) != tc.wantErr {
				t.Fatalf("got error %v, want error: %v; logs:\n%s", err, tc.wantErr, logs)
			}
			if faults != nil {
				if got := faults.failed.Load(); got != tc.wantTries {
					t.Errorf("failed /v1/hooks requests: got %d, want %d", got, tc.wantTries)
				}
				faults.stopped.Store(true) // let the count below through
			}
			if got := strings.Count(logs.String(), "trying again"); got != tc.wantRetries {
				t.Errorf("retries logged: got %d, want %d; logs:\n%s", got, tc.wantRetries, logs)
			}
			per := hooksAt(t, u.Client(t))
			if len(per) != tc.wantHooks {
				t.Errorf("events registered: got %v, want %d", per, tc.wantHooks)
			}
			for ev, n := range per {
				if n != 1 {
					t.Errorf("%s: got %d hooks, want 1", ev, n)
				}
			}
			if !tc.wantErr && !strings.Contains(logs.String(), "hooks registered with Kajabi") {
				t.Errorf("logs: got %s, want what was registered", logs)
			}
		})
	}

	t.Run("returns while Kajabi has not answered", func(t *testing.T) {
		u := kajabitest.NewSandbox(t, sandbox.Options{Customers: 5})
		release := make(chan struct{})
		var once sync.Once
		free := func() { once.Do(func() { close(release) }) }
		t.Cleanup(free)
		u.Handle(func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if strings.HasPrefix(r.URL.Path, "/v1/") && r.URL.Path != "/v1/oauth/token" {
					<-release
				}
				next.ServeHTTP(w, r)
			})
		})
		done := live.Register(context.Background(), u.Client(t), "", target, zerolog.Nop(), fast)
		select {
		case err := <-done:
			t.Fatalf("got an outcome (%v) before Kajabi answered anything, want Register to have returned first", err)
		default:
		}
		free()
		if err := outcome(t, done); err != nil {
			t.Fatalf("got %v, want nil", err)
		}
		if per := hooksAt(t, u.Client(t)); len(per) != 6 {
			t.Errorf("events registered: got %v, want 6", per)
		}
	})

	t.Run("a cancelled context ends the retries", func(t *testing.T) {
		u := kajabitest.NewSandbox(t, sandbox.Options{Customers: 5})
		failHooks(u, -1, http.StatusServiceUnavailable)
		ctx, cancel := context.WithCancel(context.Background())
		logs := &syncBuf{}
		done := live.Register(ctx, u.Client(t), "", target, zerolog.New(logs), live.RegisterOptions{FirstBackoff: time.Hour})
		for i := 0; i < 2000 && !strings.Contains(logs.String(), "trying again"); i++ {
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
		if err := outcome(t, done); !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v, want context.Canceled", err)
		}
	})
}

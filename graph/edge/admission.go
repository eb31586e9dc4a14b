package edge

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/kajabi-graphql/facade/graph"
	"github.com/kajabi-graphql/facade/graph/loader"
)

// Admission bounds what the service takes on, so that under overload it sheds at once
// instead of letting every request wait until its deadline:
//
//   - at most Inflight GraphQL requests run at once, and at most Queued wait (up to
//     QueueTimeout, within the request's deadline) for one of their places; beyond that a
//     request is refused at once with 503 OVERLOADED and Retry-After. No caller holds
//     more than three quarters of Inflight, running and waiting together, so another
//     caller always finds a place to run without queueing behind it. This is what
//     bounds memory: each running request holds at most one body (MaxBodyBytes) and its
//     answer. Health, readiness, status and metrics are other routes and never wait here.
//   - a request that passed the limits is weighed against the Kajabi rate budget before
//     it runs: graph.EstimateCalls says about how many calls it will make, and when the
//     budget cannot give that many turns (plus those the requests already running are
//     still owed) before its deadline, it is refused with RATE_LIMITED and
//     extensions.retryAfterSeconds, having made no call.
//
// What running requests are owed is counted fairly, as the Kajabi client serves turns
// (round-robin between callers, see kajabi.WithCaller): a caller's n calls wait behind its
// own owed calls and at most as many of each other caller's. So one busy caller exhausts
// its own room in the budget, and another's light query is still admitted.
type Admission struct {
	// Inflight is the most GraphQL requests running at once; 0 is no bound.
	Inflight int
	// Queued is the most requests waiting for a place; beyond it they are refused.
	Queued int
	// QueueTimeout is the longest a request waits for a place; 0 means 1s.
	QueueTimeout time.Duration
}

// admission is the running state of an Admission.
type admission struct {
	slots   chan struct{} // nil: no bound
	queue   chan struct{} // places to wait in
	timeout time.Duration
	share   int // the most places, running or waiting, one caller may hold

	heldMu sync.Mutex
	held   map[string]int // places held per caller

	mu    sync.Mutex // held while a request is weighed, so concurrent arrivals see each other
	owing map[*ticket]struct{}
}

// ticket is one request's place in the ledger of calls owed.
type ticket struct {
	caller     string
	estimate   int
	loaders    *loader.Loaders
	retryAfter int // seconds, set when refused for the rate
}

// owed is how many of its estimated calls the request has not made yet.
func (t *ticket) owed() int {
	return max(0, t.estimate-int(t.loaders.Calls()))
}

type ticketKey struct{}

func newAdmission(a Admission) *admission {
	ad := &admission{timeout: a.QueueTimeout, owing: map[*ticket]struct{}{}, held: map[string]int{}}
	if ad.timeout <= 0 {
		ad.timeout = time.Second
	}
	if a.Inflight > 0 {
		ad.slots = make(chan struct{}, a.Inflight)
		ad.queue = make(chan struct{}, max(a.Queued, 0))
		ad.share = max(1, a.Inflight*3/4)
	}
	return ad
}

// limit admits a request to next when a place is free or frees within the queue timeout.
func (a *admission) limit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions {
			next.ServeHTTP(w, r)
			return
		}
		if a.slots != nil {
			caller := callerOf(r.Context())
			admitted := a.hold(caller)
			if admitted && !a.enter(r.Context()) {
				a.unhold(caller)
				admitted = false
			}
			if !admitted {
				w.Header().Set("Retry-After", "1")
				reject(w, r, http.StatusServiceUnavailable, graph.CodeOverloaded,
					"the service is at capacity: every place to run and to wait is taken; retry after a second")
				return
			}
			defer func() { <-a.slots; a.unhold(caller) }()
		}
		t := &ticket{}
		defer a.forget(t)
		next.ServeHTTP(&retryAfterWriter{ResponseWriter: w, t: t}, r.WithContext(context.WithValue(r.Context(), ticketKey{}, t)))
	})
}

// hold counts a place for caller, unless it already holds its share: a quarter of the
// places to run are always left to other callers, so one busy caller cannot make another
// wait behind its queue.
func (a *admission) hold(caller string) bool {
	a.heldMu.Lock()
	defer a.heldMu.Unlock()
	if a.held[caller] >= a.share {
		return false
	}
	a.held[caller]++
	return true
}

func (a *admission) unhold(caller string) {
	a.heldMu.Lock()
	defer a.heldMu.Unlock()
	if a.held[caller]--; a.held[caller] <= 0 {
		delete(a.held, caller)
	}
}

// enter takes a place to run, waiting in the queue for one when there is room in it.
func (a *admission) enter(ctx context.Context) bool {
	select {
	case a.slots <- struct{}{}:
		return true
	default:
	}
	select {
	case a.queue <- struct{}{}:
	default:
		return false // the queue is full: refuse now rather than add to the wait
	}
	defer func() { <-a.queue }()
	timer := time.NewTimer(a.timeout)
	defer timer.Stop()
	select {
	case a.slots <- struct{}{}:
		return true
	case <-timer.C:
		return false
	case <-ctx.Done():
		return false
	}
}

func (a *admission) forget(t *ticket) {
	a.mu.Lock()
	delete(a.owing, t)
	a.mu.Unlock()
}

// weigh admits the operation to run when the rate budget can give it its calls before its
// deadline, and books them; otherwise it refuses with RATE_LIMITED.
func (a *admission) weigh(ctx context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	t, ok := ctx.Value(ticketKey{}).(*ticket)
	if !ok {
		return nil
	}
	n := graph.EstimateCalls(opCtx.Operation, opCtx.Variables)
	if n == 0 {
		return nil
	}
	l := loader.For(ctx)
	t.caller, t.estimate, t.loaders = callerOf(ctx), n, l
	a.mu.Lock()
	defer a.mu.Unlock()
	deadline, hasDeadline := ctx.Deadline()
	if hasDeadline {
		// Turns come round-robin: before this request's n-th call, its caller's own
		// owed calls go, and at most as many of each other caller's.
		own, others := 0, map[string]int{}
		for o := range a.owing {
			if o.caller == t.caller {
				own += o.owed()
			} else {
				others[o.caller] += o.owed()
			}
		}
		ahead := own
		for _, c := range others {
			ahead += min(c, own+n)
		}
		wait := l.Client().RateWait(ctx, ahead+n)
		// The last calls still need their round trips: a tenth of the time left is kept
		// for them.
		budget := time.Until(deadline) * 9 / 10
		if wait > budget {
			t.retryAfter = int(math.Ceil((wait - budget).Seconds()))
			return &gqlerror.Error{
				Message: fmt.Sprintf("this query needs about %d Kajabi calls; the rate budget has room for them in %v, after the request's deadline: retry in %d s or ask for fewer rows",
					n, wait.Round(time.Millisecond), t.retryAfter),
				Extensions: map[string]any{"code": graph.CodeRateLimited, "retryAfterSeconds": t.retryAfter, "estimatedCalls": n},
			}
		}
	}
	a.owing[t] = struct{}{}
	return nil
}

// rateGate runs weigh in gqlgen, after the limits, once the operation is known to be valid.
type rateGate struct{ a *admission }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = rateGate{}

func (rateGate) ExtensionName() string                   { return "Admission" }
func (rateGate) Validate(graphql.ExecutableSchema) error { return nil }
func (g rateGate) MutateOperationContext(ctx context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	return g.a.weigh(ctx, opCtx)
}

// retryAfterWriter adds Retry-After to an answer whose request was refused for the rate.
type retryAfterWriter struct {
	http.ResponseWriter
	t *ticket
}

func (w *retryAfterWriter) WriteHeader(status int) {
	if w.t.retryAfter > 0 {
		w.ResponseWriter.Header().Set("Retry-After", strconv.Itoa(w.t.retryAfter))
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *retryAfterWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

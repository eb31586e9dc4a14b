package edge

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"slices"
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
//     more than three quarters of Inflight, running and waiting together (three eighths
//     while another caller is active, see shareOf), so another caller always finds a
//     place to run without queueing behind it. This is what
//     bounds memory: each running request holds at most one body (MaxBodyBytes) and its
//     answer. Health, readiness, status and metrics are other routes and never wait here.
//   - the queue is for bursts, not for overload (adaptive LIFO with CoDel's standing-queue
//     test, as in Facebook's "Fail at scale"): once requests have been waiting without a
//     break for standingAfter, a new arrival waits only standingWait, those that have
//     waited longer are refused, and a freed place goes to the newest. A refusal then
//     comes in milliseconds, not after QueueTimeout, and the place goes to a client that
//     is still waiting rather than to one that has given up.
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
	// QueueTimeout is the longest a request waits for a place while the queue is not
	// standing; 0 means 1s.
	QueueTimeout time.Duration
}

const (
	// standingAfter is how long requests must have been waiting without a break for the
	// queue to count as standing: longer than a burst takes to drain (CoDel's interval).
	standingAfter = 100 * time.Millisecond
	// standingWait is the wait a request gets while the queue stands (CoDel's target).
	standingWait = 5 * time.Millisecond
)

// admission is the running state of an Admission.
type admission struct {
	inflight int // 0: no bound
	queued   int
	timeout  time.Duration
	share    int // the most places, running or waiting, one caller may hold

	placesMu sync.Mutex
	running  int
	waiting  []*waiter      // in order of arrival
	emptyAt  time.Time      // the last moment no request was waiting or refused from the queue
	refuseAt time.Time      // the last refusal of a request that waited
	held     map[string]int // places held per caller
	last     arrival        // the latest request's caller
	before   arrival        // the latest of another caller before it
	crowded  int            // a caller's share while another caller is active

	mu    sync.Mutex // held while a request is weighed, so concurrent arrivals see each other
	owing map[*ticket]struct{}
}

// waiter is a request waiting for a place; ready is closed when it is given one
// (admitted) or refused.
type waiter struct {
	ready    chan struct{}
	since    time.Time
	admitted bool
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
	ad := &admission{timeout: a.QueueTimeout, owing: map[*ticket]struct{}{}, held: map[string]int{}, emptyAt: time.Now()}
	if ad.timeout <= 0 {
		ad.timeout = time.Second
	}
	if a.Inflight > 0 {
		ad.inflight, ad.queued = a.Inflight, max(a.Queued, 0)
		ad.share = max(1, a.Inflight*3/4)
		ad.crowded = max(1, a.Inflight*3/8)
	}
	return ad
}

// limit admits a request to next when a place is free or frees within its wait.
func (a *admission) limit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions {
			next.ServeHTTP(w, r)
			return
		}
		if a.inflight > 0 {
			caller := callerOf(r.Context())
			if !a.enter(r.Context(), caller) {
				w.Header().Set("Retry-After", "1")
				reject(w, r, http.StatusServiceUnavailable, graph.CodeOverloaded,
					"the service is at capacity: every place to run and to wait is taken; retry after a second")
				return
			}
			defer a.leave(caller)
		}
		t := &ticket{}
		defer a.forget(t)
		next.ServeHTTP(&retryAfterWriter{ResponseWriter: w, t: t}, r.WithContext(context.WithValue(r.Context(), ticketKey{}, t)))
	})
}

// enter takes a place to run for caller, waiting for one when there is room in the queue.
// A caller already holding its share (see shareOf) is refused: a quarter of the places
// to run are always left to other callers, so one busy caller cannot make another wait
// behind its queue.
func (a *admission) enter(ctx context.Context, caller string) bool {
	a.placesMu.Lock()
	now := time.Now()
	if a.held[caller] >= a.shareOf(caller, now) {
		a.placesMu.Unlock()
		return false
	}
	if len(a.waiting) == 0 && now.Sub(a.refuseAt) > standingAfter {
		a.emptyAt = now // a queue emptied by refusals is still standing
	}
	if a.running < a.inflight {
		a.running++
		a.held[caller]++
		a.placesMu.Unlock()
		return true
	}
	wait := a.timeout
	if a.standing(now) {
		wait = standingWait
		a.shed(now)
	}
	if len(a.waiting) >= a.queued {
		a.placesMu.Unlock()
		return false // the queue is full: refuse now rather than add to the wait
	}
	w := &waiter{ready: make(chan struct{}), since: now}
	a.waiting = append(a.waiting, w)
	a.held[caller]++
	a.placesMu.Unlock()

	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-w.ready:
	case <-timer.C:
	case <-ctx.Done():
	}
	a.placesMu.Lock()
	defer a.placesMu.Unlock()
	if w.admitted {
		return true
	}
	if i := slices.Index(a.waiting, w); i >= 0 {
		a.waiting = slices.Delete(a.waiting, i, i+1)
	}
	a.refuseAt = time.Now()
	a.unhold(caller)
	return false
}

// activeWindow is how recently another caller must have asked for a caller's share to be
// the crowded one.
const activeWindow = 2 * time.Second

// shareOf is how many places caller may hold: three quarters of them while it is alone,
// three eighths while another caller has asked in the last activeWindow. A busy caller's
// requests mostly wait for Kajabi turns the budget cannot give sooner, while their
// goroutines and the GC over them take the CPU another caller's light query needs: on two
// cores, 24 of them put a second caller's query at 6-7× its idle time, 12 at 3×. Alone,
// it keeps the larger share, which a slow Kajabi needs to fill the rate budget. The two
// callers that asked last are enough to know: a.placesMu is held.
func (a *admission) shareOf(caller string, now time.Time) int {
	if caller != a.last.caller {
		a.before = a.last
	}
	a.last = arrival{caller, now}
	if a.before.caller != caller && !a.before.at.IsZero() && now.Sub(a.before.at) <= activeWindow {
		return a.crowded
	}
	return a.share
}

// arrival is a caller's latest request.
type arrival struct {
	caller string
	at     time.Time
}

// leave gives caller's place to a waiting request, the newest while the queue stands
// (its client is the likeliest still to be waiting), or frees it.
func (a *admission) leave(caller string) {
	a.placesMu.Lock()
	defer a.placesMu.Unlock()
	a.unhold(caller)
	now := time.Now()
	if len(a.waiting) == 0 {
		a.running--
		a.emptyAt = now
		return
	}
	i := 0
	if a.standing(now) {
		i = len(a.waiting) - 1
	}
	w := a.waiting[i]
	a.waiting = slices.Delete(a.waiting, i, i+1)
	if len(a.waiting) == 0 {
		a.emptyAt = now
	}
	w.admitted = true
	close(w.ready)
}

// standing says requests have been waiting or refused from the queue without a break for
// standingAfter; a.placesMu is held.
func (a *admission) standing(now time.Time) bool {
	return now.Sub(a.emptyAt) > standingAfter
}

// shed refuses the requests that have waited more than standingWait; a.placesMu is held.
// They leave the queue when they wake.
func (a *admission) shed(now time.Time) {
	defer func() { a.refuseAt = now }()
	for _, w := range a.waiting {
		if now.Sub(w.since) > standingWait {
			close(w.ready)
		}
	}
	a.waiting = slices.DeleteFunc(a.waiting, func(w *waiter) bool { return now.Sub(w.since) > standingWait })
}

func (a *admission) unhold(caller string) {
	if a.held[caller]--; a.held[caller] <= 0 {
		delete(a.held, caller)
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

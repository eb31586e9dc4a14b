package graph

import (
	"context"
	"strings"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/kajabi-graphql/facade/graph/live"
	"github.com/kajabi-graphql/facade/graph/loader"
	"github.com/kajabi-graphql/facade/graph/model"
	"github.com/kajabi-graphql/facade/kajabi"
)

// A subscription's events are resolved one by one, each with fresh loaders (loader.Renew),
// so a customer read for one event is read again for the next. When the hub drops a
// subscriber that fell behind, its stream ends with one response carrying
// SUBSCRIBER_TOO_SLOW: the resolver notes why in the operation's streamEnd, and
// AroundEvent puts it in that last response.

// knownSite refuses a site id that is not one of the account's sites: a subscription to
// it would wait forever for events that never come. The site list comes through the
// loader (one cached GET /v1/sites); when Kajabi cannot list sites, the id is taken as
// written, since a subscription outlives an outage.
func knownSite(ctx context.Context, id string) error {
	if !kajabi.ValidID(id) {
		return badInput("siteId", "must be a Kajabi site id (digits)")
	}
	sites, err := loader.For(ctx).Sites(ctx)
	if err != nil || len(sites) == 0 {
		return nil
	}
	ids := make([]string, 0, min(len(sites), maxListedSites))
	for _, s := range sites {
		if s.ID == id {
			return nil
		}
		if len(ids) < cap(ids) {
			ids = append(ids, s.ID)
		}
	}
	refusal := badInput("siteId", "is not a site of this Kajabi account (its sites: %s)", strings.Join(ids, ", "))
	setExtensions(refusal, "siteIds", ids)
	return refusal
}

type streamEndKey struct{}

// streamEnd is why a subscription's stream ended, set by its resolver while responses to
// its earlier events may still be resolving: the error belongs to the response after the
// events sent before it, and to no other.
type streamEnd struct {
	mu        sync.Mutex
	err       *gqlerror.Error
	after     int // events sent before the final response
	responses int // responses made so far; only AroundEvent, one at a time, counts them
}

func (e *streamEnd) set(err *gqlerror.Error, after int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.err, e.after = err, after
}

// finalError is the error of the response just made, if it is the final one.
func (e *streamEnd) finalError() *gqlerror.Error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.responses++
	if e.err != nil && e.responses == e.after+1 {
		return e.err
	}
	return nil
}

// AroundSubscription gives a subscription operation the place its resolver notes why its
// stream ended. Install it with the handler's AroundOperations.
func AroundSubscription(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	if op := graphql.GetOperationContext(ctx); op == nil || op.Operation == nil || op.Operation.Operation != ast.Subscription {
		return next(ctx)
	}
	return next(context.WithValue(ctx, streamEndKey{}, &streamEnd{}))
}

// AroundEvent resolves each event of a subscription with fresh loaders, and ends a dropped
// stream with its coded error. Install it with the handler's AroundResponses.
func AroundEvent(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	end, ok := ctx.Value(streamEndKey{}).(*streamEnd)
	if !ok {
		return next(ctx)
	}
	resp := next(loader.Renew(ctx))
	if resp == nil {
		return nil
	}
	if err := end.finalError(); err != nil {
		resp.Data, resp.Errors = []byte("null"), gqlerror.List{err}
	}
	return resp
}

func (r *subscriptionResolver) customerActivity(ctx context.Context, siteID *string, events []model.ActivityEvent) (<-chan model.Activity, error) {
	if r.Live == nil {
		return nil, &gqlerror.Error{Message: "this service runs without Kajabi's webhooks, so it has no live events", Extensions: map[string]any{"code": CodeLiveUnavailable}}
	}
	filter := live.Filter{}
	if siteID != nil {
		if err := knownSite(ctx, *siteID); err != nil {
			return nil, err
		}
		filter.SiteID = *siteID
	}
	if events != nil && len(events) == 0 {
		// An empty list would be read as no filter, everything, the opposite of what it says.
		return nil, badInput("events", "names no event: name at least one, or leave it out for every event")
	}
	for _, e := range events {
		filter.Kinds = append(filter.Kinds, live.Kind(strings.ToLower(string(e))))
	}
	caller, _ := loader.CallerOf(ctx)
	end, _ := ctx.Value(streamEndKey{}).(*streamEnd)
	var dropped func(sent int) model.Activity
	if end != nil {
		dropped = func(sent int) model.Activity {
			end.set(&gqlerror.Error{Message: live.ErrTooSlow.Error(), Extensions: map[string]any{"code": CodeSubscriberTooSlow}}, sent)
			return nil // the last response, which AroundEvent fills with end.err
		}
	}
	sub, out, err := live.Subscribe(r.Live, caller.ID, filter, activity, dropped)
	if err != nil {
		return nil, &gqlerror.Error{Message: err.Error(), Extensions: map[string]any{"code": CodeTooManySubscriptions}}
	}
	context.AfterFunc(ctx, sub.Close)
	return out, nil
}

// activity is e as its GraphQL type.
func activity(e *live.Event) model.Activity {
	base := model.ActivityBase{EventID: e.ID, Event: model.ActivityEvent(strings.ToUpper(string(e.Kind))), ReceivedAt: e.ReceivedAt}
	if e.SiteID != "" {
		base.SiteID = &e.SiteID
	}
	switch e.Kind {
	case live.Purchase:
		return &model.PurchaseEvent{ActivityBase: base, Purchase: e.Purchase, CustomerID: e.CustomerID()}
	case live.PaymentSucceeded:
		return &model.PaymentSucceededEvent{ActivityBase: base, Transaction: e.Transaction, CustomerID: e.CustomerID()}
	case live.OrderCreated:
		return &model.OrderCreatedEvent{ActivityBase: base, Order: e.Order, Transaction: e.Transaction, CustomerID: e.CustomerID()}
	case live.TagAdded, live.TagRemoved:
		t := model.TagEvent{ActivityBase: base, Tag: e.Tag}
		if e.Contact != nil {
			t.ContactID = e.Contact.ID
		}
		if e.Kind == live.TagAdded {
			return &model.TagAddedEvent{TagEvent: t}
		}
		return &model.TagRemovedEvent{TagEvent: t}
	default:
		f := &model.FormSubmissionEvent{ActivityBase: base}
		if e.Form != nil {
			f.FormID, f.FormTitle, f.Name, f.Email = nonEmpty(e.Form.ID), nonEmpty(e.Form.Title), e.Form.Name, e.Form.Email
		}
		return f
	}
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// byID loads the record an event names; "" is null.
func byID[T any](ctx context.Context, id string, load func(context.Context, string) (T, error)) (T, error) {
	var zero T
	if id == "" {
		return zero, nil
	}
	return load(ctx, id)
}

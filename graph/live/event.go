// Package live turns Kajabi's webhooks into events for GraphQL subscriptions: it receives
// them (Receiver), checks their shape against the spec's sample payloads (Parse), delivers
// each event id once, fans events out to every replica (Redis pub/sub through graph/fleet,
// or in process) and to the subscribers of this one (Hub), and keeps the shared cache
// honest on the way. It also registers the service's hooks with Kajabi (Register).
package live

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/kajabi-graphql/facade/kajabi"
)

// Kind is an event type as Kajabi names it.
type Kind string

// The events Kajabi's webhooks report (POST /v1/hooks, filter[event_eq]).
const (
	Purchase         Kind = "purchase"
	PaymentSucceeded Kind = "payment_succeeded"
	OrderCreated     Kind = "order_created"
	FormSubmission   Kind = "form_submission"
	TagAdded         Kind = "tag_added"
	TagRemoved       Kind = "tag_removed"
)

// Kinds are all of them, in the spec's order.
var Kinds = []Kind{Purchase, FormSubmission, TagAdded, TagRemoved, PaymentSucceeded, OrderCreated}

// payloadTypes are the resource types each event's payload may hold, as the spec's
// /v1/hooks/*_sample answers show them; the first one is required.
var payloadTypes = map[Kind][]string{
	Purchase:         {"purchases", "offers", "customers"},
	PaymentSucceeded: {"transactions", "customers", "offers"},
	OrderCreated:     {"orders", "transactions", "customers", "offers", "order_items"},
	FormSubmission:   {"form_submissions", "forms"},
	TagAdded:         {"contacts", "contact_tags"},
	TagRemoved:       {"contacts", "contact_tags"},
}

// Event is one webhook delivery, decoded. Records are as the payload carried them.
type Event struct {
	ID         string
	Kind       Kind
	SiteID     string
	ReceivedAt time.Time

	Purchase    *kajabi.Purchase
	Transaction *kajabi.Transaction
	Order       *kajabi.Order
	Customer    *kajabi.Customer
	Offer       *kajabi.Offer
	Contact     *kajabi.Contact
	Tag         *kajabi.ContactTag
	Form        *Form
}

// Form is a form submission: who submitted which form, on which site.
type Form struct {
	ID, Title   string
	Name, Email *string
	Site        *kajabi.Identifier
}

// CustomerID is the customer the event is about, "" when it names none.
func (e *Event) CustomerID() string {
	switch {
	case e.Purchase != nil && e.Purchase.Customer != nil:
		return e.Purchase.Customer.ID
	case e.Order != nil && e.Order.Customer != nil:
		return e.Order.Customer.ID
	case e.Transaction != nil && e.Transaction.Customer != nil:
		return e.Transaction.Customer.ID
	case e.Customer != nil:
		return e.Customer.ID
	}
	return ""
}

// ErrShape is a body that is not a webhook delivery Kajabi would send.
var ErrShape = errors.New("not a Kajabi webhook delivery")

// maxIDLength bounds an event id: it keys the deduplication window.
const maxIDLength = 128

// Parse decodes a webhook body, {"id", "event", "payload": [resources]}, and checks it
// against the event's sample payload: a known event, an id, resources of the types the
// sample holds, each with an id, the event's main resource present.
func Parse(body []byte, receivedAt time.Time) (*Event, error) {
	var d struct {
		ID      *string           `json:"id"`
		Event   *string           `json:"event"`
		Payload []json.RawMessage `json:"payload"`
	}
	if err := json.Unmarshal(body, &d); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrShape, err)
	}
	if d.ID == nil || *d.ID == "" || len(*d.ID) > maxIDLength {
		return nil, fmt.Errorf("%w: id must be a string of 1 to %d characters", ErrShape, maxIDLength)
	}
	if d.Event == nil {
		return nil, fmt.Errorf("%w: no event", ErrShape)
	}
	kind := Kind(*d.Event)
	allowed, ok := payloadTypes[kind]
	if !ok {
		return nil, fmt.Errorf("%w: unknown event %q", ErrShape, *d.Event)
	}
	e := &Event{ID: *d.ID, Kind: kind, ReceivedAt: receivedAt}
	for i, raw := range d.Payload {
		var head struct {
			ID   *string `json:"id"`
			Type string  `json:"type"`
		}
		if err := json.Unmarshal(raw, &head); err != nil || head.ID == nil || *head.ID == "" {
			return nil, fmt.Errorf("%w: payload[%d] is not a resource with an id", ErrShape, i)
		}
		if !slices.Contains(allowed, head.Type) {
			return nil, fmt.Errorf("%w: payload[%d] is %q, which a %s payload does not hold", ErrShape, i, head.Type, kind)
		}
		if err := e.decode(head.Type, raw); err != nil {
			return nil, fmt.Errorf("%w: payload[%d] (%s): %v", ErrShape, i, head.Type, err)
		}
	}
	if !e.has(allowed[0]) {
		return nil, fmt.Errorf("%w: a %s payload holds %s", ErrShape, kind, allowed[0])
	}
	if kind == TagAdded || kind == TagRemoved {
		if e.Tag == nil {
			return nil, fmt.Errorf("%w: a %s payload holds contact_tags", ErrShape, kind)
		}
	}
	e.SiteID = e.site()
	return e, nil
}

func (e *Event) decode(typ string, raw json.RawMessage) error {
	into := func(p any) error { return json.Unmarshal(raw, p) }
	switch typ {
	case "purchases":
		e.Purchase = &kajabi.Purchase{}
		return into(e.Purchase)
	case "transactions":
		e.Transaction = &kajabi.Transaction{}
		return into(e.Transaction)
	case "orders":
		e.Order = &kajabi.Order{}
		return into(e.Order)
	case "customers":
		e.Customer = &kajabi.Customer{}
		return into(e.Customer)
	case "offers":
		e.Offer = &kajabi.Offer{}
		return into(e.Offer)
	case "contacts":
		e.Contact = &kajabi.Contact{}
		return into(e.Contact)
	case "contact_tags":
		e.Tag = &kajabi.ContactTag{}
		return into(e.Tag)
	case "form_submissions":
		var f struct {
			ID         string `json:"id"`
			Attributes struct {
				Name  *string `json:"name"`
				Email *string `json:"email"`
			} `json:"attributes"`
			Relationships struct {
				Form struct {
					Data *kajabi.Identifier `json:"data"`
				} `json:"form"`
				Site struct {
					Data *kajabi.Identifier `json:"data"`
				} `json:"site"`
			} `json:"relationships"`
		}
		if err := into(&f); err != nil {
			return err
		}
		if e.Form == nil {
			e.Form = &Form{}
		}
		e.Form.Name, e.Form.Email, e.Form.Site = f.Attributes.Name, f.Attributes.Email, f.Relationships.Site.Data
		if f.Relationships.Form.Data != nil {
			e.Form.ID = f.Relationships.Form.Data.ID
		}
	case "forms":
		var f struct {
			ID         string `json:"id"`
			Attributes struct {
				Title string `json:"title"`
			} `json:"attributes"`
		}
		if err := into(&f); err != nil {
			return err
		}
		if e.Form == nil {
			e.Form = &Form{}
		}
		e.Form.Title = f.Attributes.Title
		if e.Form.ID == "" {
			e.Form.ID = f.ID
		}
	}
	return nil
}

func (e *Event) has(typ string) bool {
	switch typ {
	case "purchases":
		return e.Purchase != nil
	case "transactions":
		return e.Transaction != nil
	case "orders":
		return e.Order != nil
	case "contacts":
		return e.Contact != nil
	case "form_submissions":
		return e.Form != nil
	}
	return false
}

// site is the site the payload names: the order's, the customer's, the contact's, the
// offer's, the tag's or the form submission's.
func (e *Event) site() string {
	var sites []*kajabi.Identifier
	if e.Order != nil {
		sites = append(sites, e.Order.Site)
	}
	if e.Customer != nil {
		sites = append(sites, e.Customer.Site)
	}
	if e.Contact != nil {
		sites = append(sites, e.Contact.Site)
	}
	if e.Offer != nil {
		sites = append(sites, e.Offer.Site)
	}
	if e.Tag != nil {
		sites = append(sites, e.Tag.Site)
	}
	if e.Form != nil {
		sites = append(sites, e.Form.Site)
	}
	for _, id := range sites {
		if id != nil && id.ID != "" {
			return id.ID
		}
	}
	return ""
}

package model

import (
	"time"

	"github.com/kajabi-graphql/facade/kajabi"
)

// Activity is one event of the customerActivity subscription.
type Activity interface{ activity() *ActivityBase }

// ActivityBase is what every event carries.
type ActivityBase struct {
	EventID    string
	Event      ActivityEvent
	SiteID     *string
	ReceivedAt time.Time
}

func (b *ActivityBase) activity() *ActivityBase { return b }

// PurchaseEvent is a purchase; the buyer is read by CustomerID when asked for.
type PurchaseEvent struct {
	ActivityBase
	Purchase   *kajabi.Purchase
	CustomerID string
}

// PaymentSucceededEvent is a payment; the customer is read by CustomerID when asked for.
type PaymentSucceededEvent struct {
	ActivityBase
	Transaction *kajabi.Transaction
	CustomerID  string
}

// OrderCreatedEvent is an order; the buyer is read by CustomerID when asked for.
type OrderCreatedEvent struct {
	ActivityBase
	Order       *kajabi.Order
	Transaction *kajabi.Transaction
	CustomerID  string
}

// TagEvent is a tag put on or taken off a contact, read by ContactID when asked for.
type TagEvent struct {
	ActivityBase
	Tag       *kajabi.ContactTag
	ContactID string
}

// TagAddedEvent is a TagEvent of tag_added.
type TagAddedEvent struct{ TagEvent }

// TagRemovedEvent is a TagEvent of tag_removed.
type TagRemovedEvent struct{ TagEvent }

// FormSubmissionEvent is a form submitted.
type FormSubmissionEvent struct {
	ActivityBase
	FormID    *string
	FormTitle *string
	Name      *string
	Email     *string
}

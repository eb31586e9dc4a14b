package kajabi

import (
	"context"
	"time"
)

// OrdersService reads /v1/orders.
type OrdersService struct{ client *Client }

// Order is a completed checkout: what was bought, at what price, for which customer.
type Order struct {
	ID                    string     `json:"-"`
	OrderNumber           int        `json:"order_number"`
	CurrencyCode          string     `json:"currency_code"`
	FulfilledAt           *time.Time `json:"fulfilled_at"`
	CreatedAt             time.Time  `json:"created_at"`
	TotalPriceInCents     int        `json:"total_price_in_cents"`
	SubtotalInCents       int        `json:"subtotal_in_cents"`
	SalesTaxAmountInCents int        `json:"sales_tax_amount_in_cents"`
	DiscountAmountInCents int        `json:"discount_amount_in_cents"`
	FormattedTotalPrice   *string    `json:"formatted_total_price"`
	FormattedSubtotal     *string    `json:"formatted_subtotal"`
	CurrencySymbol        *string    `json:"currency_symbol"`

	Site       *Identifier  `json:"-"`
	Customer   *Identifier  `json:"-"`
	OrderItems []Identifier `json:"-"`
}

// UnmarshalJSON decodes a JSON:API order resource.
func (o *Order) UnmarshalJSON(b []byte) error { return decodeWhole(b, o) }

func (o *Order) decodeFrom(s *scanner) error {
	type attributes Order
	var rel struct {
		Site       *toOne  `json:"site"`
		Customer   *toOne  `json:"customer"`
		OrderItems *toMany `json:"order_items"`
	}
	id, err := s.resource((*attributes)(o), &rel)
	o.ID, o.Site, o.Customer, o.OrderItems = id, rel.Site.id(), rel.Customer.id(), rel.OrderItems.ids()
	return err
}

// OrderListOptions are the parameters of GET /v1/orders the facade uses.
type OrderListOptions struct {
	CustomerID string `url:"filter[customer_id]"`
	SiteID     string `url:"filter[site_id]"`
	Sort       string `url:"sort"` // order_number, created_at or fulfilled_at, "-" prefixed for descending
	ListOptions
}

// List returns one page of orders.
func (s *OrdersService) List(ctx context.Context, opts *OrderListOptions) ([]*Order, *Response, error) {
	return getDocument[[]*Order](ctx, s.client, at("/v1/orders"), EncodeQuery(opts))
}

// Get returns one order.
func (s *OrdersService) Get(ctx context.Context, id string) (*Order, *Response, error) {
	return getDocument[*Order](ctx, s.client, at("/v1/orders/{id}", id), "")
}

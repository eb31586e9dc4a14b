package kajabi

import (
	"context"
)

// OffersService reads /v1/offers.
type OffersService struct{ client *Client }

// Offer is how a site sells products: a price, a payment plan and a checkout page.
type Offer struct {
	ID               string  `json:"-"`
	Title            string  `json:"title"`
	Description      *string `json:"description"`
	InternalTitle    *string `json:"internal_title"`
	Currency         string  `json:"currency"`
	PriceInCents     int     `json:"price_in_cents"`
	PaymentType      string  `json:"payment_type"`
	Token            string  `json:"token"`
	PaymentMethod    string  `json:"payment_method"`
	PriceDescription string  `json:"price_description"`
	CheckoutURL      string  `json:"checkout_url"`
	RecurringOffer   bool    `json:"recurring_offer"`
	Subscription     bool    `json:"subscription"`
	OneTime          bool    `json:"one_time"`
	Single           bool    `json:"single"`
	Free             bool    `json:"free"`
	ImageURL         *string `json:"image_url"`

	Site     *Identifier  `json:"-"`
	Products []Identifier `json:"-"`
}

// UnmarshalJSON decodes a JSON:API offer resource.
func (o *Offer) UnmarshalJSON(b []byte) error { return decodeWhole(b, o) }

func (o *Offer) decodeFrom(s *scanner) error {
	type attributes Offer
	var rel struct {
		Site     *toOne  `json:"site"`
		Products *toMany `json:"products"`
	}
	id, err := s.resource((*attributes)(o), &rel)
	o.ID, o.Site, o.Products = id, rel.Site.id(), rel.Products.ids()
	return err
}

// OfferListOptions are the parameters of GET /v1/offers.
type OfferListOptions struct {
	SiteID              string   `url:"filter[site_id]"`
	TitleContains       string   `url:"filter[title_cont]"`
	DescriptionContains string   `url:"filter[description_cont]"`
	Sort                string   `url:"sort"` // title or price_in_cents, "-" prefixed for descending
	Fields              []string `url:"fields[offers]"`
	ListOptions
}

// List returns one page of offers.
func (s *OffersService) List(ctx context.Context, opts *OfferListOptions) ([]*Offer, *Response, error) {
	return getDocument[[]*Offer](ctx, s.client, at("/v1/offers"), EncodeQuery(opts))
}

// Get returns one offer.
func (s *OffersService) Get(ctx context.Context, id string) (*Offer, *Response, error) {
	return getDocument[*Offer](ctx, s.client, at("/v1/offers/{id}", id), "")
}

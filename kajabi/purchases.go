package kajabi

import (
	"context"
	"encoding/json"
	"time"
)

// PurchasesService reads /v1/purchases.
type PurchasesService struct{ client *Client }

// Purchase is a customer's purchase of an offer. The list schema and the attribute list of
// GET /v1/purchases/{id} differ; the struct carries both (trial, trial_end_at,
// payment_plan_total_payments and status are in the latter only), so a field Kajabi leaves
// out stays nil.
type Purchase struct {
	ID                         string          `json:"-"`
	AmountInCents              int             `json:"amount_in_cents"`
	PaymentType                string          `json:"payment_type"`
	Trial                      *int            `json:"trial"`
	TrialEndAt                 *time.Time      `json:"trial_end_at"`
	MultipayPaymentsMade       *int            `json:"multipay_payments_made"`
	PaymentPlanTotalPayments   *int            `json:"payment_plan_total_payments"`
	Status                     *string         `json:"status"`
	OptIn                      bool            `json:"opt_in"`
	RawExtraContactInformation json.RawMessage `json:"raw_extra_contact_information"`
	Currency                   string          `json:"currency"`
	EffectiveStartAt           *time.Time      `json:"effective_start_at"`
	CardholderName             *string         `json:"cardholder_name"`
	BillingAddressZip          *string         `json:"billing_address_zip"`
	DeactivatedAt              *time.Time      `json:"deactivated_at"`
	DeactivationReason         *string         `json:"deactivation_reason"`
	CouponCode                 *string         `json:"coupon_code"`
	Source                     *string         `json:"source"`
	Referrer                   *string         `json:"referrer"`
	Quantity                   *int            `json:"quantity"`
	CreatedAt                  time.Time       `json:"created_at"`
	UpdatedAt                  time.Time       `json:"updated_at"`

	Offer        *Identifier  `json:"-"`
	Customer     *Identifier  `json:"-"`
	Transactions []Identifier `json:"-"`
	Products     []Identifier `json:"-"`
}

// UnmarshalJSON decodes a JSON:API purchase resource.
func (p *Purchase) UnmarshalJSON(b []byte) error { return decodeWhole(b, p) }

func (p *Purchase) decodeFrom(s *scanner) error {
	type attributes Purchase
	var rel struct {
		Offer        *toOne  `json:"offer"`
		Customer     *toOne  `json:"customer"`
		Transactions *toMany `json:"transactions"`
		Products     *toMany `json:"products"`
	}
	id, err := s.resource((*attributes)(p), &rel)
	p.ID, p.Offer, p.Customer = id, rel.Offer.id(), rel.Customer.id()
	p.Transactions, p.Products = rel.Transactions.ids(), rel.Products.ids()
	return err
}

// PurchaseListOptions are the parameters of GET /v1/purchases the facade uses.
type PurchaseListOptions struct {
	CustomerID  string `url:"filter[customer_id]"`
	SiteID      string `url:"filter[site_id]"`
	Active      *bool  `url:"filter[active]"`
	Deactivated *bool  `url:"filter[deactivated]"`
	Sort        string `url:"sort"`
	ListOptions
}

// List returns one page of purchases.
func (s *PurchasesService) List(ctx context.Context, opts *PurchaseListOptions) ([]*Purchase, *Response, error) {
	return getDocument[[]*Purchase](ctx, s.client, at("/v1/purchases"), EncodeQuery(opts))
}

// Get returns one purchase.
func (s *PurchasesService) Get(ctx context.Context, id string) (*Purchase, *Response, error) {
	return getDocument[*Purchase](ctx, s.client, at("/v1/purchases/{id}", id), "")
}

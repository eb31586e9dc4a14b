package kajabi

import (
	"context"
	"time"
)

// TransactionsService reads /v1/transactions.
type TransactionsService struct{ client *Client }

// Transaction is one movement of money: a charge, a refund, a subscription payment, a
// dispute. The settlement and fee fields are Kajabi Payments' only and listed in the
// attribute prose of GET /v1/transactions/{id}, not in the schema.
type Transaction struct {
	ID                         string    `json:"-"`
	Provider                   *string   `json:"provider"`
	Action                     string    `json:"action"`
	State                      string    `json:"state"`
	PaymentType                *string   `json:"payment_type"`
	AmountInCents              int       `json:"amount_in_cents"`
	SalesTaxInCents            int       `json:"sales_tax_in_cents"`
	PaymentFeeInCents          *int      `json:"payment_fee_in_cents"`
	Currency                   *string   `json:"currency"`
	CurrencySymbol             *string   `json:"currency_symbol"`
	FormattedAmount            *string   `json:"formatted_amount"`
	SettlementAmountInCents    *int      `json:"settlement_amount_in_cents"`
	SettlementFeeAmountInCents *int      `json:"settlement_fee_amount_in_cents"`
	SettlementCurrency         *string   `json:"settlement_currency"`
	CreatedAt                  time.Time `json:"created_at"`

	Customer  *Identifier  `json:"-"`
	Purchases []Identifier `json:"-"`
}

// UnmarshalJSON decodes a JSON:API transaction resource.
func (t *Transaction) UnmarshalJSON(b []byte) error { return decodeWhole(b, t) }

func (t *Transaction) decodeFrom(s *scanner) error {
	type attributes Transaction
	var rel struct {
		Customer  *toOne  `json:"customer"`
		Purchases *toMany `json:"purchases"`
	}
	id, err := s.resource((*attributes)(t), &rel)
	t.ID, t.Customer, t.Purchases = id, rel.Customer.id(), rel.Purchases.ids()
	return err
}

// TransactionListOptions are the parameters of GET /v1/transactions the facade uses.
type TransactionListOptions struct {
	CustomerID string `url:"filter[customer_id]"`
	SiteID     string `url:"filter[site_id]"`
	// StartDate and EndDate are calendar dates, YYYY-MM-DD.
	StartDate string `url:"filter[start_date]"`
	EndDate   string `url:"filter[end_date]"`
	ListOptions
}

// List returns one page of transactions.
func (s *TransactionsService) List(ctx context.Context, opts *TransactionListOptions) ([]*Transaction, *Response, error) {
	return getDocument[[]*Transaction](ctx, s.client, at("/v1/transactions"), EncodeQuery(opts))
}

// Get returns one transaction.
func (s *TransactionsService) Get(ctx context.Context, id string) (*Transaction, *Response, error) {
	return getDocument[*Transaction](ctx, s.client, at("/v1/transactions/{id}", id), "")
}

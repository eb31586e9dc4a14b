package kajabi

import (
	"context"
	"time"
)

// CustomersService reads /v1/customers.
type CustomersService struct{ client *Client }

// Customer is a Kajabi customer: a contact who was granted an offer or made a purchase.
type Customer struct {
	ID             string     `json:"-"`
	Name           string     `json:"name"`
	Email          string     `json:"email"`
	Avatar         *string    `json:"avatar"`
	ExternalUserID *string    `json:"external_user_id"`
	PublicBio      *string    `json:"public_bio"`
	PublicLocation *string    `json:"public_location"`
	PublicWebsite  *string    `json:"public_website"`
	Socials        *Socials   `json:"socials"`
	NetRevenue     *string    `json:"net_revenue"` // a decimal amount, kept as text to stay exact
	SignInCount    *int       `json:"sign_in_count"`
	LastRequestAt  *time.Time `json:"last_request_at"`
	BouncedAt      *time.Time `json:"bounced_at"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`

	Contact  *Identifier  `json:"-"`
	Site     *Identifier  `json:"-"`
	Products []Identifier `json:"-"`
	// Offers is filled by Get only; list answers carry just OffersLink.
	Offers     []Identifier `json:"-"`
	OffersLink string       `json:"-"`
}

// Socials are a customer's social profile links.
type Socials struct {
	Twitter   *string `json:"twitter"`
	Facebook  *string `json:"facebook"`
	Instagram *string `json:"instagram"`
}

// UnmarshalJSON decodes a JSON:API customer resource.
func (c *Customer) UnmarshalJSON(b []byte) error { return decodeWhole(b, c) }

func (c *Customer) decodeFrom(s *scanner) error {
	type attributes Customer // drops this method
	var rel struct {
		Contact  *toOne  `json:"contact"`
		Site     *toOne  `json:"site"`
		Products *toMany `json:"products"`
		Offers   *toMany `json:"offers"`
	}
	id, err := s.resource((*attributes)(c), &rel)
	if err != nil {
		return err
	}
	c.ID = id
	c.Contact = rel.Contact.id()
	c.Site = rel.Site.id()
	c.Products = rel.Products.ids()
	c.Offers = rel.Offers.ids()
	if rel.Offers != nil {
		c.OffersLink = rel.Offers.Links.Self
	}
	return nil
}

// Customer sort keys for CustomerListOptions.Sort; prefix with "-" for descending order.
const (
	SortByName          = "name"
	SortByEmail         = "email"
	SortByCreatedAt     = "created_at"
	SortByNetRevenue    = "net_revenue"
	SortByLastRequestAt = "last_request_at"
)

// CustomerListOptions are the parameters of GET /v1/customers.
type CustomerListOptions struct {
	Filter CustomerFilter
	// Sort is one of the SortBy keys, "-" prefixed for descending; empty leaves Kajabi's
	// default, newest first.
	Sort string `url:"sort"`
	// Fields limits the attributes Kajabi returns (sparse fieldset).
	Fields []string `url:"fields[customers]"`
	ListOptions
}

// CustomerFilter holds every customer filter Kajabi documents. A nil field is not sent.
// Days are whole days back from now; decimals are plain decimal text such as "149.50".
type CustomerFilter struct {
	SiteID                        *string  `url:"filter[site_id]"`
	Search                        *string  `url:"filter[search]"`
	CreatedInLast                 *int     `url:"filter[created_in_last]"`
	NotCreatedInLast              *int     `url:"filter[not_created_in_last]"`
	IsHidden                      *bool    `url:"filter[is_hidden]"`
	JoinedInLast                  *int     `url:"filter[joined_in_last]"`
	ActiveInLast                  *int     `url:"filter[active_in_last]"`
	InactiveInLast                *int     `url:"filter[inactive_in_last]"`
	NameContains                  *string  `url:"filter[name_contains]"`
	EmailContains                 *string  `url:"filter[email_contains]"`
	PhoneNumberContains           *string  `url:"filter[phone_number_contains]"`
	AddressLine1Contains          *string  `url:"filter[address_line_1_contains]"`
	AddressLine2Contains          *string  `url:"filter[address_line_2_contains]"`
	AddressCityContains           *string  `url:"filter[address_city_contains]"`
	AddressStateContains          *string  `url:"filter[address_state_contains]"`
	AddressCountryContains        *string  `url:"filter[address_country_contains]"`
	AddressZipContains            *string  `url:"filter[address_zip_contains]"`
	HasTagID                      *string  `url:"filter[has_tag_id]"`
	HasAllTagID                   []string `url:"filter[has_all_tag_id]"`
	HasNoTagID                    *string  `url:"filter[has_no_tag_id]"`
	Subscribed                    *bool    `url:"filter[subscribed]"`
	HasOfferID                    *string  `url:"filter[has_offer_id]"`
	HasNoOfferID                  *string  `url:"filter[has_no_offer_id]"`
	HasProductID                  *string  `url:"filter[has_product_id]"`
	HasActiveProductID            *string  `url:"filter[has_active_product_id]"`
	HasNoProductID                *string  `url:"filter[has_no_product_id]"`
	PreviouslyOwnedProductID      *string  `url:"filter[previously_owned_product_id]"`
	UsedCouponCode                *string  `url:"filter[used_coupon_code]"`
	SubmittedFormID               *string  `url:"filter[submitted_form_id]"`
	NoSubmittedFormID             *string  `url:"filter[no_submitted_form_id]"`
	RegisteredEventID             *string  `url:"filter[registered_event_id]"`
	NotRegisteredEventID          *string  `url:"filter[not_registered_event_id]"`
	CompletedAssessmentID         *string  `url:"filter[completed_assessment_id]"`
	PassedAssessmentID            *string  `url:"filter[passed_assessment_id]"`
	FailedAssessmentID            *string  `url:"filter[failed_assessment_id]"`
	NetRevenueEqualTo             *string  `url:"filter[net_revenue_equal_to]"`
	NetRevenueGreaterThan         *string  `url:"filter[net_revenue_greater_than]"`
	NetRevenueLessThan            *string  `url:"filter[net_revenue_less_than]"`
	SubscribedInLast              *int     `url:"filter[subscribed_in_last]"`
	UnsubscribedInLast            *int     `url:"filter[unsubscribed_in_last]"`
	NeverSubscribed               *bool    `url:"filter[never_subscribed]"`
	SentEmailBroadcastID          *string  `url:"filter[sent_email_broadcast_id]"`
	NoSentEmailBroadcastID        *string  `url:"filter[no_sent_email_broadcast_id]"`
	NoSentEmailBroadcastIDs       []string `url:"filter[no_sent_email_broadcast_ids]"`
	NoDeliveredEmailBroadcastID   *string  `url:"filter[no_delivered_email_broadcast_id]"`
	OpenedEmailBroadcastID        *string  `url:"filter[opened_email_broadcast_id]"`
	NoOpenedEmailBroadcastID      *string  `url:"filter[no_opened_email_broadcast_id]"`
	ClickedEmailBroadcastID       *string  `url:"filter[clicked_email_broadcast_id]"`
	NoClickedEmailBroadcastID     *string  `url:"filter[no_clicked_email_broadcast_id]"`
	BouncedEmailBroadcastID       *string  `url:"filter[bounced_email_broadcast_id]"`
	NoBouncedEmailBroadcastID     *string  `url:"filter[no_bounced_email_broadcast_id]"`
	DroppedEmailBroadcastID       *string  `url:"filter[dropped_email_broadcast_id]"`
	NoDroppedEmailBroadcastID     *string  `url:"filter[no_dropped_email_broadcast_id]"`
	OpenedEmailInLast             *int     `url:"filter[opened_email_in_last]"`
	NotOpenedEmailInLast          *int     `url:"filter[not_opened_email_in_last]"`
	DeliveredEmailInLast          *int     `url:"filter[delivered_email_in_last]"`
	NotDeliveredEmailInLast       *int     `url:"filter[not_delivered_email_in_last]"`
	ClickedEmailInLast            *int     `url:"filter[clicked_email_in_last]"`
	NotClickedEmailInLast         *int     `url:"filter[not_clicked_email_in_last]"`
	IsHardBouncing                *bool    `url:"filter[is_hard_bouncing]"`
	BouncedInLast                 *int     `url:"filter[bounced_in_last]"`
	ComplainedInLast              *int     `url:"filter[complained_in_last]"`
	ManuallyUnsubscribedInLast    *int     `url:"filter[manually_unsubscribed_in_last]"`
	OptedOutInLast                *int     `url:"filter[opted_out_in_last]"`
	HealthyContactsWithOpenData   *bool    `url:"filter[healthy_contacts_with_open_data]"`
	PassiveContactsWithOpenData   *bool    `url:"filter[passive_contacts_with_open_data]"`
	UnengagedContactsWithOpenData *bool    `url:"filter[unengaged_contacts_with_open_data]"`
	InactiveContactsWithOpenData  *bool    `url:"filter[inactive_contacts_with_open_data]"`
	SubscribedNewsletterID        *string  `url:"filter[subscribed_newsletter_id]"`
	UnsubscribedNewsletterID      *string  `url:"filter[unsubscribed_newsletter_id]"`
	MobilePhoneNumberContains     *string  `url:"filter[mobile_phone_number_contains]"`
	SubscribedEmailSequenceID     *string  `url:"filter[subscribed_email_sequence_id]"`
	NotSubscribedEmailSequenceID  *string  `url:"filter[not_subscribed_email_sequence_id]"`
	// IsSuppressed was dropped from the 1.1.0 spec but older Kajabi docs list it.
	IsSuppressed *bool `url:"filter[is_suppressed]"`
}

// List returns one page of customers.
func (s *CustomersService) List(ctx context.Context, opts *CustomerListOptions) ([]*Customer, *Response, error) {
	return getDocument[[]*Customer](ctx, s.client, at("/v1/customers"), EncodeQuery(opts))
}

// Get returns one customer, with the ids of its offers.
func (s *CustomersService) Get(ctx context.Context, id string) (*Customer, *Response, error) {
	return getDocument[*Customer](ctx, s.client, at("/v1/customers/{id}", id), "")
}

// ListOfferIDs returns the ids of the offers granted to a customer.
func (s *CustomersService) ListOfferIDs(ctx context.Context, customerID string) ([]Identifier, *Response, error) {
	return getDocument[[]Identifier](ctx, s.client, at("/v1/customers/{id}/relationships/offers", customerID), "")
}

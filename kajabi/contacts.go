package kajabi

import (
	"context"
	"time"
)

// ContactsService reads /v1/contacts.
type ContactsService struct{ client *Client }

// Contact is a person in a site's contact list; every customer has one.
type Contact struct {
	ID             string    `json:"-"`
	Name           string    `json:"name"`
	Email          string    `json:"email"`
	PhoneNumber    *string   `json:"phone_number"`
	BusinessNumber *string   `json:"business_number"`
	Subscribed     bool      `json:"subscribed"`
	AddressLine1   *string   `json:"address_line_1"`
	AddressLine2   *string   `json:"address_line_2"`
	AddressCity    *string   `json:"address_city"`
	AddressState   *string   `json:"address_state"`
	AddressCountry *string   `json:"address_country"`
	AddressZip     *string   `json:"address_zip"`
	ExternalUserID *string   `json:"external_user_id"`
	Custom1        *string   `json:"custom_1"`
	Custom2        *string   `json:"custom_2"`
	Custom3        *string   `json:"custom_3"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`

	Site     *Identifier  `json:"-"`
	Customer *Identifier  `json:"-"`
	Tags     []Identifier `json:"-"`
	Offers   []Identifier `json:"-"`
}

// UnmarshalJSON decodes a JSON:API contact resource.
func (c *Contact) UnmarshalJSON(b []byte) error { return decodeWhole(b, c) }

func (c *Contact) decodeFrom(s *scanner) error {
	type attributes Contact
	var rel struct {
		Site     *toOne  `json:"site"`
		Customer *toOne  `json:"customer"`
		Tags     *toMany `json:"tags"`
		Offers   *toMany `json:"offers"`
	}
	id, err := s.resource((*attributes)(c), &rel)
	if err != nil {
		return err
	}
	c.ID, c.Site, c.Customer = id, rel.Site.id(), rel.Customer.id()
	c.Tags, c.Offers = rel.Tags.ids(), rel.Offers.ids()
	return nil
}

// Get returns one contact.
func (s *ContactsService) Get(ctx context.Context, id string) (*Contact, *Response, error) {
	return getDocument[*Contact](ctx, s.client, at("/v1/contacts/{id}", id), "")
}

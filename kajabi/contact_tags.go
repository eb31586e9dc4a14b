package kajabi

import "context"

// ContactTagsService reads /v1/contact_tags.
type ContactTagsService struct{ client *Client }

// ContactTag is a label a site puts on contacts.
type ContactTag struct {
	ID   string `json:"-"`
	Name string `json:"name"`

	Site *Identifier `json:"-"`
}

// UnmarshalJSON decodes a JSON:API contact tag resource.
func (t *ContactTag) UnmarshalJSON(b []byte) error { return decodeWhole(b, t) }

func (t *ContactTag) decodeFrom(s *scanner) error {
	type attributes ContactTag
	var rel struct {
		Site *toOne `json:"site"`
	}
	id, err := s.resource((*attributes)(t), &rel)
	t.ID, t.Site = id, rel.Site.id()
	return err
}

// ContactTagListOptions are the parameters of GET /v1/contact_tags the facade uses.
type ContactTagListOptions struct {
	SiteID       string `url:"filter[site_id]"`
	NameContains string `url:"filter[name_cont]"`
	Sort         string `url:"sort"`
	ListOptions
}

// List returns one page of contact tags.
func (s *ContactTagsService) List(ctx context.Context, opts *ContactTagListOptions) ([]*ContactTag, *Response, error) {
	return getDocument[[]*ContactTag](ctx, s.client, at("/v1/contact_tags"), EncodeQuery(opts))
}

// Get returns one contact tag.
func (s *ContactTagsService) Get(ctx context.Context, id string) (*ContactTag, *Response, error) {
	return getDocument[*ContactTag](ctx, s.client, at("/v1/contact_tags/{id}", id), "")
}

// ListTagIDs returns the ids of a contact's tags.
func (s *ContactsService) ListTagIDs(ctx context.Context, contactID string) ([]Identifier, *Response, error) {
	return getDocument[[]Identifier](ctx, s.client, at("/v1/contacts/{id}/relationships/tags", contactID), "")
}

// AddTags puts tags on a contact (POST of the tags relationship) and returns the
// contact's tags as Kajabi answers them.
func (s *ContactsService) AddTags(ctx context.Context, contactID string, tagIDs []string) ([]Identifier, *Response, error) {
	return writeDocument[[]Identifier](ctx, s.client, "POST", at("/v1/contacts/{id}/relationships/tags", contactID), identifiers("contact_tags", tagIDs))
}

// RemoveTags takes tags off a contact (DELETE of the tags relationship) and returns the
// contact's remaining tags.
func (s *ContactsService) RemoveTags(ctx context.Context, contactID string, tagIDs []string) ([]Identifier, *Response, error) {
	return writeDocument[[]Identifier](ctx, s.client, "DELETE", at("/v1/contacts/{id}/relationships/tags", contactID), identifiers("contact_tags", tagIDs))
}

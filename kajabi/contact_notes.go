package kajabi

import (
	"context"
	"time"
)

// ContactNotesService reads and creates /v1/contact_notes.
type ContactNotesService struct{ client *Client }

// ContactNote is a note a site's admins keep on a contact.
type ContactNote struct {
	ID        string    `json:"-"`
	Body      string    `json:"body"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`

	Contact *Identifier `json:"-"`
}

// UnmarshalJSON decodes a JSON:API contact note resource.
func (n *ContactNote) UnmarshalJSON(b []byte) error { return decodeWhole(b, n) }

func (n *ContactNote) decodeFrom(s *scanner) error {
	type attributes ContactNote
	var rel struct {
		Contact *toOne `json:"contact"`
	}
	id, err := s.resource((*attributes)(n), &rel)
	n.ID, n.Contact = id, rel.Contact.id()
	return err
}

// ContactNoteListOptions are the parameters of GET /v1/contact_notes.
type ContactNoteListOptions struct {
	ContactID string `url:"filter[contact_id]"`
	SiteID    string `url:"filter[site_id]"`
	Sort      string `url:"sort"` // created_at or updated_at, "-" prefixed for descending
	ListOptions
}

// List returns one page of contact notes.
func (s *ContactNotesService) List(ctx context.Context, opts *ContactNoteListOptions) ([]*ContactNote, *Response, error) {
	return getDocument[[]*ContactNote](ctx, s.client, at("/v1/contact_notes"), EncodeQuery(opts))
}

// Create adds a note to a contact (contact_notes_create_request).
func (s *ContactNotesService) Create(ctx context.Context, contactID, body string) (*ContactNote, *Response, error) {
	ep := at("/v1/contact_notes")
	if !ValidID(contactID) {
		ep.err = &InvalidIDError{Pattern: "/v1/contact_notes", ID: contactID}
	}
	doc := map[string]any{"data": map[string]any{
		"type":          "contact_notes",
		"attributes":    map[string]any{"body": body},
		"relationships": map[string]any{"contact": map[string]any{"data": Identifier{ID: contactID, Type: "contacts"}}},
	}}
	return writeDocument[*ContactNote](ctx, s.client, "POST", ep, doc)
}

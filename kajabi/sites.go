package kajabi

import (
	"context"
	"time"
)

// SitesService reads /v1/sites.
type SitesService struct{ client *Client }

// Site is one Kajabi website of the account.
type Site struct {
	ID        string    `json:"-"`
	Title     string    `json:"title"`
	Subdomain string    `json:"subdomain"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// UnmarshalJSON decodes a JSON:API site resource.
func (st *Site) UnmarshalJSON(b []byte) error { return decodeWhole(b, st) }

func (st *Site) decodeFrom(s *scanner) error {
	type attributes Site
	id, err := s.resource((*attributes)(st), nil)
	st.ID = id
	return err
}

// SiteListOptions are the parameters of GET /v1/sites.
type SiteListOptions struct {
	TitleContains     string   `url:"filter[title_cont]"`
	SubdomainContains string   `url:"filter[subdomain_cont]"`
	Sort              string   `url:"sort"` // title or subdomain, "-" prefixed for descending
	Fields            []string `url:"fields[sites]"`
	ListOptions
}

// List returns one page of sites.
func (s *SitesService) List(ctx context.Context, opts *SiteListOptions) ([]*Site, *Response, error) {
	return getDocument[[]*Site](ctx, s.client, at("/v1/sites"), EncodeQuery(opts))
}

// Get returns one site.
func (s *SitesService) Get(ctx context.Context, id string) (*Site, *Response, error) {
	return getDocument[*Site](ctx, s.client, at("/v1/sites/{id}", id), "")
}

package kajabi

import (
	"context"
	"time"
)

// ProductsService reads /v1/products.
type ProductsService struct{ client *Client }

// Product is something a site sells access to: a course, a community, a coaching program.
type Product struct {
	ID                    string    `json:"-"`
	Title                 string    `json:"title"`
	Description           *string   `json:"description"`
	Status                string    `json:"status"`
	MembersAggregateCount int       `json:"members_aggregate_count"`
	ProductTypeName       string    `json:"product_type_name"`
	ProductTypeID         int       `json:"product_type_id"`
	PublishStatus         string    `json:"publish_status"`
	ThumbnailURL          *string   `json:"thumbnail_url"`
	URL                   *string   `json:"url"`
	CreatedAt             time.Time `json:"created_at"`

	Site *Identifier `json:"-"`
}

// UnmarshalJSON decodes a JSON:API product resource.
func (p *Product) UnmarshalJSON(b []byte) error { return decodeWhole(b, p) }

func (p *Product) decodeFrom(s *scanner) error {
	type attributes Product
	var rel struct {
		Site *toOne `json:"site"`
	}
	id, err := s.resource((*attributes)(p), &rel)
	p.ID, p.Site = id, rel.Site.id()
	return err
}

// ProductListOptions are the parameters of GET /v1/products.
type ProductListOptions struct {
	SiteID              string   `url:"filter[site_id]"`
	TitleContains       string   `url:"filter[title_cont]"`
	DescriptionContains string   `url:"filter[description_cont]"`
	Status              string   `url:"filter[status_eq]"`
	Sort                string   `url:"sort"` // title, description or status, "-" prefixed for descending
	Fields              []string `url:"fields[products]"`
	ListOptions
}

// List returns one page of products.
func (s *ProductsService) List(ctx context.Context, opts *ProductListOptions) ([]*Product, *Response, error) {
	return getDocument[[]*Product](ctx, s.client, at("/v1/products"), EncodeQuery(opts))
}

// Get returns one product.
func (s *ProductsService) Get(ctx context.Context, id string) (*Product, *Response, error) {
	return getDocument[*Product](ctx, s.client, at("/v1/products/{id}", id), "")
}

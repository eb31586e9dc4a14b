package kajabi

import (
	"context"
	"net/http"
	"time"
)

// HooksService reads and writes /v1/hooks: Kajabi's webhook subscriptions.
type HooksService struct{ client *Client }

// Hook is one webhook subscription: Kajabi POSTs each Event of Site to TargetURL.
type Hook struct {
	ID         string    `json:"-"`
	Event      string    `json:"event"`
	TargetURL  string    `json:"target_url"`
	ResourceID *int64    `json:"resource_id"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`

	Site *Identifier `json:"-"`
}

// UnmarshalJSON decodes a JSON:API hooks resource.
func (h *Hook) UnmarshalJSON(b []byte) error { return decodeWhole(b, h) }

func (h *Hook) decodeFrom(s *scanner) error {
	type attributes Hook
	var rel struct {
		Site *toOne `json:"site"`
	}
	id, err := s.resource((*attributes)(h), &rel)
	h.ID, h.Site = id, rel.Site.id()
	return err
}

// HookListOptions are the parameters of GET /v1/hooks.
type HookListOptions struct {
	Event string `url:"filter[event_eq]"`
	ListOptions
}

// List returns one page of the account's hooks.
func (s *HooksService) List(ctx context.Context, opts *HookListOptions) ([]*Hook, *Response, error) {
	return getDocument[[]*Hook](ctx, s.client, at("/v1/hooks"), EncodeQuery(opts))
}

// Create subscribes targetURL to event on siteID (POST /v1/hooks, a wildcard hook: no
// resource_id). It is a write: retried only when Kajabi surely did not receive it.
func (s *HooksService) Create(ctx context.Context, siteID, event, targetURL string) (*Hook, *Response, error) {
	if ep := at("/v1/sites/{id}", siteID); ep.err != nil {
		return nil, nil, ep.err
	}
	type attrs struct {
		TargetURL string `json:"target_url"`
		Event     string `json:"event"`
	}
	body := map[string]any{"data": map[string]any{
		"type":       "hooks",
		"attributes": attrs{TargetURL: targetURL, Event: event},
		"relationships": map[string]any{
			"site": map[string]any{"data": Identifier{ID: siteID, Type: "sites"}},
		},
	}}
	return writeDocument[*Hook](ctx, s.client, http.MethodPost, at("/v1/hooks"), body)
}

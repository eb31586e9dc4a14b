package live

import (
	"context"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/kajabi-graphql/facade/kajabi"
)

// Register makes sure Kajabi POSTs every event of every site (siteID's alone when set) to
// target: it lists the hooks of each event (GET /v1/hooks?filter[event_eq]=…) and creates
// only the missing ones, so restarts and replicas do not add duplicates. It logs what it
// registered and what it found; a failure is logged and returned, never fatal.
func Register(ctx context.Context, client *kajabi.Client, siteID, target string, logger zerolog.Logger) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	err := register(ctx, client, siteID, target, logger)
	if err != nil {
		logger.Warn().Err(err).Msg("webhooks: could not register the hooks with Kajabi")
	}
	return err
}

func register(ctx context.Context, client *kajabi.Client, siteID, target string, logger zerolog.Logger) error {
	sites := []string{siteID}
	if siteID == "" {
		list, _, err := client.Sites.List(ctx, &kajabi.SiteListOptions{ListOptions: kajabi.ListOptions{PageSize: 100}})
		if err != nil {
			return fmt.Errorf("list sites: %w", err)
		}
		sites = sites[:0]
		for _, s := range list {
			sites = append(sites, s.ID)
		}
	}
	var created, kept []string
	for _, kind := range Kinds {
		have := map[string]bool{} // sites already posting kind to target
		for page := 1; page <= 50; page++ {
			hooks, _, err := client.Hooks.List(ctx, &kajabi.HookListOptions{Event: string(kind), ListOptions: kajabi.ListOptions{Page: page, PageSize: 100}})
			if err != nil {
				return fmt.Errorf("list %s hooks: %w", kind, err)
			}
			for _, h := range hooks {
				if h.TargetURL == target && h.Event == string(kind) && h.ResourceID == nil && h.Site != nil {
					have[h.Site.ID] = true
				}
			}
			if len(hooks) < 100 {
				break
			}
		}
		for _, site := range sites {
			name := string(kind) + "@" + site
			if have[site] {
				kept = append(kept, name)
				continue
			}
			if _, _, err := client.Hooks.Create(ctx, site, string(kind), target); err != nil {
				return fmt.Errorf("create %s hook: %w", name, err)
			}
			created = append(created, name)
		}
	}
	logger.Info().Strs("registered", created).Strs("present", kept).Msg("webhooks: hooks registered with Kajabi (event@site)")
	return nil
}

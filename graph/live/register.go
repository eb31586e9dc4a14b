package live

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/rs/zerolog"

	"github.com/kajabi-graphql/facade/kajabi"
)

// RegisterOptions bound Register's attempts; the zero value means 6 attempts, 1 s before
// the second, doubling to at most 30 s between them, 30 s for each attempt.
type RegisterOptions struct {
	Attempts       int
	FirstBackoff   time.Duration
	MaxBackoff     time.Duration
	AttemptTimeout time.Duration
}

// Register makes sure Kajabi POSTs every event of every site (siteID's alone when set) to
// target: it lists the hooks of each event (GET /v1/hooks?filter[event_eq]=…) and creates
// only the missing ones, so restarts and replicas do not add duplicates. It works in the
// background and returns at once, so a slow or unreachable Kajabi never holds back the
// service's start or readiness; a failed attempt is retried with backoff, up to
// opts.Attempts, unless Kajabi refused it for good (a 4xx other than 429), as another
// attempt would be refused the same. It logs what it registered and what it found, or
// why it gave up; the channel yields that outcome once, then closes.
func Register(ctx context.Context, client *kajabi.Client, siteID, target string, logger zerolog.Logger, opts RegisterOptions) <-chan error {
	if opts.Attempts <= 0 {
		opts.Attempts = 6
	}
	if opts.FirstBackoff <= 0 {
		opts.FirstBackoff = time.Second
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 30 * time.Second
	}
	if opts.AttemptTimeout <= 0 {
		opts.AttemptTimeout = 30 * time.Second
	}
	done := make(chan error, 1)
	go func() {
		defer close(done)
		wait := opts.FirstBackoff
		var err error
		for attempt := 1; ; attempt++ {
			actx, cancel := context.WithTimeout(ctx, opts.AttemptTimeout)
			err = register(actx, client, siteID, target, logger)
			cancel()
			if err == nil || attempt >= opts.Attempts || refused(err) || ctx.Err() != nil {
				break
			}
			logger.Info().Err(err).Int("attempt", attempt).Dur("retry_in", wait).Msg("webhooks: registering the hooks with Kajabi failed; trying again")
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				err = ctx.Err()
			case <-t.C:
			}
			if ctx.Err() != nil {
				break
			}
			wait = min(2*wait, opts.MaxBackoff)
		}
		if err != nil {
			logger.Warn().Err(err).Msg("webhooks: could not register the hooks with Kajabi; no live events until they are")
		}
		done <- err
	}()
	return done
}

// refused is whether Kajabi turned the request down for what it was (bad target, no
// permission, unknown site): 4xx, except 429, which asks for later.
func refused(err error) bool {
	var apiErr *kajabi.ErrorResponse
	return errors.As(err, &apiErr) && apiErr.StatusCode >= 400 && apiErr.StatusCode < 500 && apiErr.StatusCode != http.StatusTooManyRequests
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

package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"
)

// Webhooks: POST/GET /v1/hooks and GET/DELETE /v1/hooks/{id} as Kajabi's spec describes
// them, and, with Options.EventsPerMinute (or Fire), checkouts, tag changes and form
// submissions made in the store and POSTed as {"id", "event", "payload": [...]} to every
// hook of their event and site (events.go makes them).

// hookEvents are the events a hook may subscribe to, in the spec's order.
var hookEvents = []string{"purchase", "form_submission", "tag_added", "tag_removed", "payment_succeeded", "order_created"}

type hook struct {
	id, siteID, event, targetURL string
	resourceID                   *int64
	createdAt                    time.Time
}

type hookSet struct {
	mu     sync.Mutex
	hooks  []*hook
	nextID int
	seq    int    // numbers the happenings
	base   string // where the last hook was registered: the links in payloads point there
}

func (s *Sandbox) serveHooks(w http.ResponseWriter, r *http.Request, id string) {
	hs := &s.hooks
	switch {
	case id == "" && r.Method == http.MethodGet:
		rc := newReqCtx(r)
		rc.docsPaging = s.docsPaging
		ev := rc.q.Get("filter[event_eq]")
		if ev != "" && !slices.Contains(hookEvents, ev) {
			sendParamError(w, http.StatusBadRequest, "filter[event_eq]", "unknown event "+strconv.Quote(ev))
			return
		}
		hs.mu.Lock()
		var list []*hook
		for _, h := range hs.hooks {
			if ev == "" || h.event == ev {
				list = append(list, h)
			}
		}
		hs.mu.Unlock()
		p := parsePaging(rc.q)
		from, to := p.window(len(list))
		j := newJW()
		j.obj()
		j.k("data")
		j.arr()
		for _, h := range list[from:to] {
			writeHook(j, h)
		}
		j.endArr()
		rc.pageLinks(j, "/v1/hooks", p, len(list))
		j.endObj()
		sendDoc(w, j)
	case id == "" && r.Method == http.MethodPost:
		h, ok := readHook(w, r, s.store)
		if !ok {
			return
		}
		hs.mu.Lock()
		hs.nextID++
		h.id = strconv.Itoa(700000 + hs.nextID)
		hs.hooks = append(hs.hooks, h)
		hs.base = newReqCtx(r).base
		hs.mu.Unlock()
		j := newJW()
		j.obj()
		j.k("data")
		writeHook(j, h)
		j.endObj()
		send(w, http.StatusCreated, mediaType, j.b)
		j.release()
	case id != "" && (r.Method == http.MethodGet || r.Method == http.MethodDelete):
		hs.mu.Lock()
		i := slices.IndexFunc(hs.hooks, func(h *hook) bool { return h.id == id })
		var h *hook
		if i >= 0 {
			h = hs.hooks[i]
			if r.Method == http.MethodDelete {
				hs.hooks = slices.Delete(hs.hooks, i, i+1)
			}
		}
		hs.mu.Unlock()
		if h == nil {
			sendError(w, http.StatusNotFound, "no hook with id "+id)
			return
		}
		if r.Method == http.MethodDelete {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		j := newJW()
		j.obj()
		j.k("data")
		writeHook(j, h)
		j.endObj()
		sendDoc(w, j)
	case id == "":
		methodNotAllowed(w, "GET, POST")
	default:
		methodNotAllowed(w, "GET, DELETE")
	}
}

// readHook reads POST /v1/hooks's body; on failure it has answered 400, 404 or 422.
func readHook(w http.ResponseWriter, r *http.Request, st *Store) (*hook, bool) {
	var doc struct {
		Data *struct {
			Type       string `json:"type"`
			Attributes struct {
				TargetURL  string          `json:"target_url"`
				Event      string          `json:"event"`
				ResourceID json.RawMessage `json:"resource_id"`
			} `json:"attributes"`
			Relationships struct {
				Site struct {
					Data *struct {
						ID   string `json:"id"`
						Type string `json:"type"`
					} `json:"data"`
				} `json:"site"`
			} `json:"relationships"`
		} `json:"data"`
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil || json.Unmarshal(body, &doc) != nil || doc.Data == nil || doc.Data.Type != "hooks" {
		sendError(w, http.StatusBadRequest, `the body must be {"data": {"type": "hooks", "attributes": {...}, "relationships": {"site": ...}}}`)
		return nil, false
	}
	a := doc.Data.Attributes
	site := doc.Data.Relationships.Site.Data
	if site == nil || site.Type != "sites" || site.ID == "" {
		sendError(w, http.StatusUnprocessableEntity, "relationships.site must name a site")
		return nil, false
	}
	if _, ok := st.Site(site.ID); !ok {
		notFound(w, "site", site.ID)
		return nil, false
	}
	if !slices.Contains(hookEvents, a.Event) {
		sendError(w, http.StatusUnprocessableEntity, "event must be one of purchase, form_submission, tag_added, tag_removed, payment_succeeded, order_created")
		return nil, false
	}
	if a.TargetURL == "" {
		sendError(w, http.StatusUnprocessableEntity, "target_url can't be blank")
		return nil, false
	}
	h := &hook{siteID: site.ID, event: a.Event, targetURL: a.TargetURL, createdAt: time.Now().UTC().Truncate(time.Millisecond)}
	if raw := bytes.TrimSpace(a.ResourceID); len(raw) > 0 && string(raw) != "null" {
		n, err := strconv.ParseInt(string(bytes.Trim(raw, `"`)), 10, 64)
		if err != nil {
			sendError(w, http.StatusUnprocessableEntity, "resource_id must be an id")
			return nil, false
		}
		h.resourceID = &n
	}
	return h, true
}

func writeHook(j *jw, h *hook) {
	j.obj()
	j.k("id")
	j.str(h.id)
	j.k("type")
	j.str("hooks")
	j.k("attributes")
	j.obj()
	j.k("event")
	j.str(h.event)
	j.k("target_url")
	j.str(h.targetURL)
	j.k("created_at")
	j.time(h.createdAt)
	j.k("updated_at")
	j.time(h.createdAt)
	j.k("resource_id")
	if h.resourceID != nil {
		j.int(*h.resourceID)
	} else {
		j.null()
	}
	j.endObj()
	j.k("relationships")
	j.obj()
	j.k("site")
	j.obj()
	j.k("data")
	j.ident("sites", h.siteID)
	j.endObj()
	j.endObj()
	j.endObj()
}

// targets are the hooks of event on siteID whose resource matches (nil: any).
func (hs *hookSet) targets(event, siteID string, resource int64) []string {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	var urls []string
	for _, h := range hs.hooks {
		if h.event == event && h.siteID == siteID && (h.resourceID == nil || *h.resourceID == resource) {
			urls = append(urls, h.targetURL)
		}
	}
	return urls
}

// fireEvents makes perMinute happenings a minute until ctx ends: two in three a checkout
// (a purchase; for a paid offer also order_created and payment_succeeded, as Kajabi sends
// them for one checkout), then alternately a tag added to or removed from a contact and a
// form submitted.
func (s *Sandbox) fireEvents(ctx context.Context, perMinute int) {
	client := &http.Client{Timeout: 5 * time.Second}
	t := time.NewTicker(time.Minute / time.Duration(perMinute))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.deliver(ctx, client, s.happen(""))
	}
}

// Fire makes one happening Kajabi reports with event (for purchase, order_created and
// payment_succeeded a checkout, of a paid offer for the latter two, which delivers all
// three; a tag added or removed; a form submitted), changes the store with it and POSTs
// its events to the registered hooks before it returns. It fails for an event hooks
// cannot subscribe to, or when the store holds nothing to make it from.
func (s *Sandbox) Fire(ctx context.Context, event string) error {
	if !slices.Contains(hookEvents, event) {
		return fmt.Errorf("sandbox: no %q event; hooks take %v", event, hookEvents)
	}
	ds := s.happen(event)
	if len(ds) == 0 {
		return fmt.Errorf("sandbox: the store has nothing to make a %s event from", event)
	}
	s.deliver(ctx, &http.Client{Timeout: 5 * time.Second}, ds)
	return nil
}

// happen makes one happening, event's or (with "") the next in fireEvents's round.
func (s *Sandbox) happen(event string) []delivery {
	s.hooks.mu.Lock()
	s.hooks.seq++
	h := happening{event: event, seq: s.hooks.seq, base: s.hooks.base}
	s.hooks.mu.Unlock()
	s.mu.Lock()
	h.pick = s.rng.IntN(1 << 30)
	s.mu.Unlock()
	if h.event == "" {
		switch h.seq % 6 {
		case 0:
			h.event = "form_submission"
		case 3:
			h.event = "tag_added"
			if h.pick%2 == 1 {
				h.event = "tag_removed"
			}
		default:
			h.event = "purchase"
		}
	}
	s.store.mu.Lock()
	defer s.store.mu.Unlock()
	return s.store.happen(h)
}

// deliver POSTs each delivery to the hooks of its event, site and resource, one after
// the other; a target that fails is not retried.
func (s *Sandbox) deliver(ctx context.Context, client *http.Client, ds []delivery) {
	for _, d := range ds {
		for _, u := range s.hooks.targets(d.event, d.siteID, d.resource) {
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(d.body))
			if err != nil {
				continue
			}
			req.Header.Set("Content-Type", "application/json")
			if resp, err := client.Do(req); err == nil {
				_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
				resp.Body.Close()
			}
		}
	}
}

// writeSiteResource writes one resource of a hook's payload as the spec's samples show
// them: id, type, string attributes given as name, value pairs, and the site it belongs to.
func writeSiteResource(j *jw, typ, id, siteID string, attrs ...string) {
	j.obj()
	j.k("id")
	j.str(id)
	j.k("type")
	j.str(typ)
	j.k("attributes")
	j.obj()
	for i := 0; i+1 < len(attrs); i += 2 {
		j.k(attrs[i])
		j.str(attrs[i+1])
	}
	j.endObj()
	j.k("relationships")
	j.obj()
	j.k("site")
	j.obj()
	j.k("data")
	j.ident("sites", siteID)
	j.endObj()
	j.endObj()
	j.endObj()
}

// Run makes Options.EventsPerMinute happenings a minute (fireEvents) and delivers them to the registered
// hooks until ctx ends; with none it returns at once.
func (s *Sandbox) Run(ctx context.Context) {
	if s.eventsPerMinute > 0 {
		s.fireEvents(ctx, s.eventsPerMinute)
	}
}

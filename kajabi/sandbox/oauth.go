package sandbox

import (
	"crypto/rand"
	"encoding/base64"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Credentials of a second API key of the same account, without the view:contacts
// permission: its calls to /v1/contacts/... answer 403, as Kajabi documents for a key
// that lacks a permission.
const (
	RestrictedClientID     = "sandbox-restricted-client-id"
	RestrictedClientSecret = "sandbox-restricted-client-secret"
)

const permViewContacts = "view:contacts"

// scopes is what a token may do beyond reading the account's other records.
type scopes uint8

const viewContacts scopes = 1

func (s scopes) has(perm string) bool { return perm != permViewContacts || s&viewContacts != 0 }

// tokens holds the issued OAuth tokens. Access tokens expire after ttl;
// refresh tokens live until used once (rotation) and survive ExpireTokens,
// which is what lets a client recover from a 401 by refreshing.
type tokens struct {
	ttl   time.Duration
	fixed map[string]bool // Options.AccessTokens, never expire

	mu      sync.RWMutex
	access  map[string]grant // access token -> what it allows, until when
	refresh map[string]scopes
}

type grant struct {
	expires time.Time
	scopes  scopes
}

func newTokens(ttl time.Duration, fixed []string) *tokens {
	t := &tokens{
		ttl:     ttl,
		fixed:   map[string]bool{},
		access:  map[string]grant{},
		refresh: map[string]scopes{},
	}
	for _, tok := range fixed {
		if tok != "" {
			t.fixed[tok] = true
		}
	}
	return t
}

func (t *tokens) valid(tok string) (scopes, bool) {
	if t.fixed[tok] {
		return viewContacts, true
	}
	t.mu.RLock()
	g, ok := t.access[tok]
	t.mu.RUnlock()
	return g.scopes, ok && time.Now().Before(g.expires)
}

// issue creates a new access/refresh pair with sc; when oldRefresh is not empty
// it must be a live refresh token, which is consumed and whose scopes carry over.
func (t *tokens) issue(oldRefresh string, sc scopes) (access, refresh string, ok bool) {
	access, refresh = randomToken(), randomToken()
	now := time.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if oldRefresh != "" {
		old, live := t.refresh[oldRefresh]
		if !live {
			return "", "", false
		}
		delete(t.refresh, oldRefresh)
		sc = old
	}
	// Drop expired access tokens now and then so a long benchmark that
	// keeps logging in does not grow the map without bound.
	if len(t.access) >= 1024 {
		for tok, g := range t.access {
			if !now.Before(g.expires) {
				delete(t.access, tok)
			}
		}
	}
	t.access[access] = grant{expires: now.Add(t.ttl), scopes: sc}
	t.refresh[refresh] = sc
	return access, refresh, true
}

func (t *tokens) expireAll() {
	t.mu.Lock()
	defer t.mu.Unlock()
	clear(t.access)
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return base64.RawURLEncoding.EncodeToString(b)
}

// token answers POST /v1/oauth/token. It speaks plain OAuth JSON, not
// JSON:API: the success document and the {"error": ...} failures are the
// shapes the spec gives this endpoint.
func (s *Sandbox) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "the request body is not a valid form")
		return
	}
	var access, refresh string
	switch grant := r.PostForm.Get("grant_type"); grant {
	case "client_credentials":
		id, secret := r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
		if id == "" && secret == "" {
			id, secret, _ = r.BasicAuth()
		}
		if id == "" || secret == "" {
			oauthError(w, http.StatusBadRequest, "client_id and client_secret are required")
			return
		}
		var sc scopes
		switch {
		case id == ClientID && secret == ClientSecret:
			sc = viewContacts
		case id == RestrictedClientID && secret == RestrictedClientSecret:
		default:
			oauthError(w, http.StatusUnauthorized, "invalid client credentials")
			return
		}
		access, refresh, _ = s.tokens.issue("", sc)
	case "refresh_token":
		old := r.PostForm.Get("refresh_token")
		if old == "" {
			oauthError(w, http.StatusBadRequest, "refresh_token is required")
			return
		}
		var ok bool
		if access, refresh, ok = s.tokens.issue(old, 0); !ok {
			oauthError(w, http.StatusUnauthorized, "invalid or already used refresh token")
			return
		}
	case "":
		if r.PostForm.Get("username") != "" || r.PostForm.Get("password") != "" {
			// The password flow exists at Kajabi, but the sandbox has no
			// users, so no username and password can be right.
			oauthError(w, http.StatusUnauthorized, "invalid username or password")
			return
		}
		oauthError(w, http.StatusBadRequest, "grant_type is required")
		return
	default:
		oauthError(w, http.StatusBadRequest, "unsupported grant_type "+strconv.Quote(grant))
		return
	}

	j := newJW()
	j.obj()
	j.k("access_token")
	j.str(access)
	j.k("refresh_token")
	j.str(refresh)
	j.k("token_type")
	j.str("Bearer")
	j.k("expires_in")
	// rounded up so that a sub-second test TTL does not read as "0 = never"
	j.int(int64(math.Ceil(s.tokens.ttl.Seconds())))
	j.endObj()
	w.Header().Set("Cache-Control", "no-store")
	send(w, http.StatusOK, "application/json", j.b)
	j.release()
}

func oauthError(w http.ResponseWriter, status int, msg string) {
	j := newJW()
	j.obj()
	j.k("error")
	j.str(msg)
	j.endObj()
	w.Header().Set("Cache-Control", "no-store")
	send(w, status, "application/json", j.b)
	j.release()
}

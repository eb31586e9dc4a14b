package graph

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"

	"github.com/kajabi-graphql/facade/kajabi"
)

// Passthrough forwards each caller's own Kajabi token: the request's
// `Authorization: Bearer <token>` is sent instead of base's credentials, through base's
// transport, limits and breaker (kajabi.Client.ForToken). The identity that keeps cache
// entries apart is a hash of the token, never the token itself.
func Passthrough(base *kajabi.Client) func(*http.Request) (*kajabi.Client, string, error) {
	return func(r *http.Request) (*kajabi.Client, string, error) {
		scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		token = strings.TrimSpace(token)
		if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
			return nil, "", errors.New("send your Kajabi access token as Authorization: Bearer <token>")
		}
		sum := sha256.Sum256([]byte(token))
		return base.ForToken(token), "bearer:" + hex.EncodeToString(sum[:16]), nil
	}
}

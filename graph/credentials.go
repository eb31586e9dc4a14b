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
// `Authorization: Bearer <token>` becomes the token of a client made for that request
// with opts (base URL, shared HTTP client). The identity that keeps cache entries apart is
// a hash of the token, never the token itself.
func Passthrough(opts ...kajabi.Option) func(*http.Request) (*kajabi.Client, string, error) {
	return func(r *http.Request) (*kajabi.Client, string, error) {
		scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		token = strings.TrimSpace(token)
		if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
			return nil, "", errors.New("send your Kajabi access token as Authorization: Bearer <token>")
		}
		client, err := kajabi.NewClient(append(opts[:len(opts):len(opts)], kajabi.WithAccessToken(token))...)
		if err != nil {
			return nil, "", err
		}
		sum := sha256.Sum256([]byte(token))
		return client, "bearer:" + hex.EncodeToString(sum[:16]), nil
	}
}

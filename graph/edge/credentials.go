package edge

import (
	"errors"
	"net/http"

	"github.com/kajabi-graphql/facade/kajabi"
)

// Passthrough forwards each caller's own Kajabi token: the request's
// `Authorization: Bearer <token>` is sent instead of base's credentials, through base's
// transport, limits and breaker (kajabi.Client.ForToken). The identity that keeps cache
// entries apart is a hash of the token, never the token itself.
func Passthrough(base *kajabi.Client) func(*http.Request) (*kajabi.Client, string, error) {
	return func(r *http.Request) (*kajabi.Client, string, error) {
		token, ok := bearerToken(r)
		if !ok {
			return nil, "", errors.New("send your Kajabi access token as Authorization: Bearer <token>")
		}
		return base.ForToken(token), tokenIdentity(token), nil
	}
}

package graph

import (
	"context"
	"encoding/base64"
	"strings"

	"github.com/kajabi-graphql/facade/graph/loader"
	"github.com/kajabi-graphql/facade/graph/model"
	"github.com/kajabi-graphql/facade/kajabi"
)

// A global id is base64("Type:kajabiID"), as graphql-relay-js writes them: Kajabi's ids
// are unique only within a type (customer 123 and contact 123 may both exist), so the
// type travels with the id. It is opaque to clients; only node(id:) reads it.
func nodeID(typename, id string) string {
	return base64.StdEncoding.EncodeToString([]byte(typename + ":" + id))
}

// nodeLoaders fetch each Node type by Kajabi id through the request's loaders, the same
// calls (and the same memo) as customer(id:), contact(id:) and the others.
var nodeLoaders = map[string]func(ctx context.Context, l *loader.Loaders, id string) (model.Node, error){
	"Customer": func(ctx context.Context, l *loader.Loaders, id string) (model.Node, error) {
		return nodeOf(l.Customer(ctx, id))
	},
	"Contact": func(ctx context.Context, l *loader.Loaders, id string) (model.Node, error) {
		return nodeOf(l.Contact(ctx, id))
	},
	"Site": func(ctx context.Context, l *loader.Loaders, id string) (model.Node, error) {
		return nodeOf(l.Site(ctx, id))
	},
	"Product": func(ctx context.Context, l *loader.Loaders, id string) (model.Node, error) {
		return nodeOf(l.Product(ctx, "", id))
	},
	"Offer": func(ctx context.Context, l *loader.Loaders, id string) (model.Node, error) {
		return nodeOf(l.Offer(ctx, "", id))
	},
}

// nodeOf turns a loader's answer into a Node without the typed nil that would make a
// missing record look present.
func nodeOf[T any](rec *T, err error) (model.Node, error) {
	if err != nil || rec == nil {
		return nil, err
	}
	return rec, nil
}

// resolveNode loads the object a global id names. An id this service cannot have issued
// (not base64, no known type, not a Kajabi id) is BAD_USER_INPUT before any Kajabi call.
func resolveNode(ctx context.Context, global string) (model.Node, error) {
	typename, id, ok := parseNodeID(global)
	load := nodeLoaders[typename]
	if !ok || load == nil {
		return nil, badInput("id", "must be a global id from a nodeId field; got %q", capEcho(global, maxEcho))
	}
	return load(ctx, loader.For(ctx), id)
}

func parseNodeID(global string) (typename, id string, ok bool) {
	raw, err := base64.StdEncoding.Strict().DecodeString(global)
	if err != nil {
		return "", "", false
	}
	typename, id, ok = strings.Cut(string(raw), ":")
	// Only ids this service could have issued: nodeID's own encoding of the type and a
	// Kajabi id as Kajabi writes it. The decoder skips newlines, and "0104999" is not the
	// id of 104999's nodeId, though Kajabi might read it as that.
	canonical := ok && kajabi.ValidID(id) && (id == "0" || id[0] != '0') && nodeID(typename, id) == global
	return typename, id, canonical
}

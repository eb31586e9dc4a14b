package edge

import (
	"context"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/kajabi-graphql/facade/graph"
)

// Incremental delivery (@defer): gqlgen's executor answers a deferred query with a first
// response (hasNext: true) and then one response per deferred fragment. A client that
// asks for multipart/mixed gets them as they come, in the format Apollo Client, Relay and
// GraphiQL read (deferSpec=20220824, as gqlgen's own MultipartMixed writes it); any other
// client gets one complete response, the deferred fragments run inline.
const (
	mediaMultipart    = "multipart/mixed"
	multipartBoundary = "graphql"
	// deferGrace is how long a stream whose request ended (deadline, client gone) still
	// waits for a deferred result already on its way before it closes without it.
	deferGrace = 100 * time.Millisecond
)

// acceptsMultipart reports whether the client names multipart/mixed with a quality above 0.
func acceptsMultipart(accept []string) bool {
	for _, header := range accept {
		for part := range strings.SplitSeq(header, ",") {
			mediaType, params, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil || mediaType != mediaMultipart {
				continue
			}
			if q, err := strconv.ParseFloat(params["q"], 64); params["q"] != "" && (err != nil || q <= 0) {
				continue
			}
			return true
		}
	}
	return false
}

// inlineDefers makes the operation run its @defer fragments inline, for a client that
// cannot take increments. The parsed document is shared through the query cache, so the
// operation and its fragments are copied, not edited.
func inlineDefers(op *graphql.OperationContext) {
	if op.Doc == nil || op.Operation == nil || !strings.Contains(op.RawQuery, "@defer") {
		return
	}
	doc := *op.Doc
	doc.Fragments = make(ast.FragmentDefinitionList, len(op.Doc.Fragments))
	for i, f := range op.Doc.Fragments {
		c := *f
		c.SelectionSet = withoutDefer(f.SelectionSet)
		doc.Fragments[i] = &c
	}
	operation := *op.Operation
	operation.SelectionSet = withoutDefer(op.Operation.SelectionSet)
	op.Doc, op.Operation = &doc, &operation
}

func withoutDefer(set ast.SelectionSet) ast.SelectionSet {
	if set == nil {
		return nil
	}
	out := make(ast.SelectionSet, len(set))
	for i, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			c := *sel
			c.SelectionSet = withoutDefer(sel.SelectionSet)
			out[i] = &c
		case *ast.InlineFragment:
			c := *sel
			c.Directives = dropDefer(sel.Directives)
			c.SelectionSet = withoutDefer(sel.SelectionSet)
			out[i] = &c
		case *ast.FragmentSpread:
			c := *sel // its fragment's selections are copied with the document's fragments
			c.Directives = dropDefer(sel.Directives)
			out[i] = &c
		default:
			out[i] = sel
		}
	}
	return out
}

func dropDefer(ds ast.DirectiveList) ast.DirectiveList {
	if ds.ForName("defer") == nil {
		return ds
	}
	out := make(ast.DirectiveList, 0, len(ds)-1)
	for _, d := range ds {
		if d.Name != "defer" {
			out = append(out, d)
		}
	}
	return out
}

// incrementalPayload is one subsequent part: the results of the deferred fragments that
// completed, each with the path of the object it fills in and its own errors (whose
// paths are full paths from the root).
type incrementalPayload struct {
	Incremental []incrementalResult `json:"incremental,omitempty"`
	Errors      gqlerror.List       `json:"errors,omitempty"`
	HasNext     bool                `json:"hasNext"`
}

type incrementalResult struct {
	Data   json.RawMessage `json:"data"`
	Path   ast.Path        `json:"path"`
	Label  string          `json:"label,omitempty"`
	Errors gqlerror.List   `json:"errors,omitempty"`
}

// writeIncremental streams first and the deferred results after it as multipart/mixed,
// one part each, flushed as it is written so the client can render the first part while
// the deferred relations are still being fetched.
func writeIncremental(ctx context.Context, w http.ResponseWriter, first *graphql.Response, next graphql.ResponseHandler) {
	h := w.Header()
	h.Set("Content-Type", fmt.Sprintf(`%s; boundary="%s"; deferSpec=20220824`, mediaMultipart, multipartBoundary))
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // a buffering proxy would hold the first part back
	h.Add("Vary", "Accept")
	w.WriteHeader(http.StatusOK)
	flush := http.NewResponseController(w)
	_, _ = fmt.Fprintf(w, "--%s\r\n", multipartBoundary)

	hasNext := first.HasNext != nil && *first.HasNext
	body, err := encodeResponse(first)
	for {
		if err != nil {
			panic(fmt.Errorf("encode graphql response: %w", err)) // the server's recover presents it
		}
		_, _ = fmt.Fprintf(w, "Content-Type: %s; charset=utf-8\r\n\r\n", mediaJSON)
		_, _ = w.Write(body)
		if !hasNext {
			_, _ = fmt.Fprintf(w, "\r\n--%s--\r\n", multipartBoundary)
			_ = flush.Flush()
			return
		}
		_, _ = fmt.Fprintf(w, "\r\n--%s\r\n", multipartBoundary)
		_ = flush.Flush()

		resp := nextIncrement(ctx, next)
		if resp == nil {
			// The request ended (deadline or client gone) before every deferred
			// fragment arrived: close the stream instead of leaving it open.
			hasNext = false
			body, err = json.Marshal(incrementalPayload{Errors: gqlerror.List{{
				Message:    "the request ended before every deferred fragment was delivered",
				Extensions: map[string]any{"code": graph.CodeRequestTimeout},
			}}})
			continue
		}
		hasNext = resp.HasNext != nil && *resp.HasNext
		body, err = json.Marshal(incrementalPayload{
			Incremental: []incrementalResult{{Data: resp.Data, Path: resp.Path, Label: resp.Label, Errors: resp.Errors}},
			HasNext:     hasNext,
		})
	}
}

// nextIncrement waits for the next deferred result, but not past the request's end:
// gqlgen's executor drops a deferred result whose context is done and would then keep its
// reader waiting for good. The waiting goroutine is left to that reader in this case.
func nextIncrement(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	ch := make(chan *graphql.Response, 1)
	go func() { ch <- next(ctx) }()
	select {
	case resp := <-ch:
		return resp
	case <-ctx.Done():
	}
	select {
	case resp := <-ch:
		return resp
	case <-time.After(deferGrace):
		return nil
	}
}

package edge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/kajabi-graphql/facade/graph"
)

// The two response media types of GraphQL over HTTP.
const (
	mediaJSON            = "application/json"
	mediaGraphQLResponse = "application/graphql-response+json"
)

// httpTransport serves GraphQL over HTTP (GET and POST with a JSON body) with the status
// codes the GraphQL-over-HTTP spec asks for, which gqlgen's stock GET and POST transports
// do not give:
//
//   - The response media type is negotiated from Accept with q-values:
//     application/graphql-response+json when the client names it at least as highly as
//     application/json, application/json for a missing Accept, */* or application/*, and
//     406 when the client accepts neither.
//   - A request that is not well-formed (body not a JSON object, query missing or not a
//     string, operationName/variables/extensions of the wrong type) is 400 whatever the
//     media type (a body or query string that is not UTF-8 too); a body over the size
//     limit is 413 (PAYLOAD_TOO_LARGE); a POST that is not application/json is
//     415; another method is 405.
//   - A well-formed request whose document fails to parse or validate, or whose variables
//     fail to coerce, is a request error: 400 under application/graphql-response+json, and
//     200 under application/json, because clients of that legacy type read errors from the
//     body (gqlgen answers 422 there). The body has errors and no data entry.
//   - A mutation sent with GET is 405 with Allow: POST.
//   - Everything that reaches execution is 200, with data (null when a non-null root field
//     failed) and errors as they came.
//   - A query with @defer is streamed as multipart/mixed when Accept names it (GET or
//     POST alike: nothing about GET stops a stream); otherwise its deferred fragments run
//     inline and the answer is one complete response (see defer.go).
//
// It handles every method but OPTIONS and HEAD (transport.Options answers those), so add it
// after any transport meant to take other POSTs, such as multipart uploads.
type httpTransport struct{}

var _ graphql.Transport = httpTransport{}

func (httpTransport) Supports(r *http.Request) bool {
	return r.Header.Get("Upgrade") == "" && r.Method != http.MethodOptions && r.Method != http.MethodHead
}

func (httpTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	ctx := r.Context()
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST, OPTIONS")
		writeRequestError(ctx, w, exec, mediaJSON, http.StatusMethodNotAllowed, graph.CodeBadRequest,
			"method %s is not allowed: use GET for queries or POST", r.Method)
		return
	}
	media, ok := negotiateMediaType(r.Header.Values("Accept"))
	stream := acceptsMultipart(r.Header.Values("Accept"))
	multipartOnly := !ok && stream
	if multipartOnly {
		media, ok = mediaJSON, true // refusals before execution stay plain JSON
	}
	if !ok {
		writeRequestError(ctx, w, exec, mediaJSON, http.StatusNotAcceptable, graph.CodeBadRequest,
			"none of the accepted media types can be served: accept %s or %s", mediaGraphQLResponse, mediaJSON)
		return
	}

	start := graphql.Now()
	var (
		params *graphql.RawParams
		status int
		msg    string
	)
	if r.Method == http.MethodGet {
		params, status, msg = readGET(r)
	} else {
		params, status, msg = readPOST(r)
	}
	if params == nil {
		code := graph.CodeBadRequest
		if status == http.StatusRequestEntityTooLarge {
			code = graph.CodePayloadTooLarge
		}
		writeRequestError(ctx, w, exec, media, status, code, "%s", msg)
		return
	}
	params.Headers = r.Header
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}

	opCtx, errs := exec.CreateOperationContext(ctx, params)
	if errs != nil {
		status := http.StatusOK
		if media == mediaGraphQLResponse {
			status = http.StatusBadRequest
		}
		writeErrors(w, media, status, exec.DispatchError(graphql.WithOperationContext(ctx, opCtx), errs))
		return
	}
	if r.Method == http.MethodGet && opCtx.Operation.Operation != ast.Query {
		w.Header().Set("Allow", http.MethodPost)
		writeRequestError(ctx, w, exec, media, http.StatusMethodNotAllowed, graph.CodeBadRequest,
			"GET only runs queries: send a %s with POST", opCtx.Operation.Operation)
		return
	}

	if !stream {
		inlineDefers(opCtx)
	}
	responses, ctx := exec.DispatchOperation(ctx, opCtx)
	first := responses(ctx)
	if first != nil && (first.HasNext != nil || multipartOnly) {
		writeIncremental(ctx, w, first, responses)
		return
	}
	body, err := encodeResponse(first)
	if err != nil {
		panic(fmt.Errorf("encode graphql response: %w", err)) // the server's recover presents it
	}
	writeBody(w, media, http.StatusOK, body)
}

// negotiateMediaType picks the response media type from the Accept header values. For each
// of the two types the most specific range that names it decides its quality (RFC 9110,
// 12.5.1). At equal quality a type the client names beats one it only matches with a
// wildcard; between two named types application/graphql-response+json wins, between two
// wildcard matches application/json (the spec's default while clients move over).
func negotiateMediaType(accept []string) (string, bool) {
	header := strings.TrimSpace(strings.Join(accept, ","))
	if header == "" {
		return mediaJSON, true
	}
	// specificity: 0 no match, 1 */*, 2 application/*, 3 the type itself.
	type match struct {
		q           float64
		specificity int
	}
	var gqlResp, jsonMatch match
	consider := func(m *match, q float64, specificity int) {
		switch {
		case specificity > m.specificity:
			*m = match{q: q, specificity: specificity}
		case specificity == m.specificity && q > m.q:
			m.q = q // the same range twice: the better quality counts
		}
	}
	for part := range strings.SplitSeq(header, ",") {
		mediaType, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if s, ok := params["q"]; ok {
			if q, err = strconv.ParseFloat(s, 64); err != nil || q < 0 || q > 1 {
				continue
			}
		}
		switch mediaType {
		case mediaGraphQLResponse:
			consider(&gqlResp, q, 3)
		case mediaJSON:
			consider(&jsonMatch, q, 3)
		case "application/*":
			consider(&gqlResp, q, 2)
			consider(&jsonMatch, q, 2)
		case "*/*":
			consider(&gqlResp, q, 1)
			consider(&jsonMatch, q, 1)
		}
	}
	gqlNamed := gqlResp.specificity == 3
	switch {
	case gqlResp.q <= 0 && jsonMatch.q <= 0:
		return "", false
	case gqlResp.q != jsonMatch.q:
		if gqlResp.q > jsonMatch.q {
			return mediaGraphQLResponse, true
		}
		return mediaJSON, true
	case gqlNamed:
		return mediaGraphQLResponse, true
	default:
		return mediaJSON, true
	}
}

// readPOST reads a JSON request body. On failure it returns nil params, the status and why.
func readPOST(r *http.Request) (*graphql.RawParams, int, string) {
	mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mediaType != mediaJSON {
		return nil, http.StatusUnsupportedMediaType, "a POST body must be application/json"
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		if tooLarge := new(http.MaxBytesError); errors.As(err, &tooLarge) {
			return nil, http.StatusRequestEntityTooLarge, fmt.Sprintf("the request body is larger than %d bytes", tooLarge.Limit)
		}
		return nil, http.StatusBadRequest, "could not read the request body"
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, http.StatusBadRequest, "the request body is empty: send a JSON object with a query"
	}
	if !utf8.Valid(body) {
		// encoding/json would quietly turn the bad bytes into U+FFFD and run the result.
		return nil, http.StatusBadRequest, "the request body is not valid UTF-8"
	}
	var fields map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&fields); err != nil {
		return nil, http.StatusBadRequest, "the request body is not a JSON object: " + err.Error()
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, http.StatusBadRequest, "the request body has data after its JSON object"
	}
	params := &graphql.RawParams{}
	if msg := decodeParam(fields["query"], &params.Query, "query", "a string"); msg != "" {
		return nil, http.StatusBadRequest, msg
	}
	if msg := decodeParam(fields["operationName"], &params.OperationName, "operationName", "a string"); msg != "" {
		return nil, http.StatusBadRequest, msg
	}
	if msg := decodeParam(fields["variables"], &params.Variables, "variables", "a map"); msg != "" {
		return nil, http.StatusBadRequest, msg
	}
	if msg := decodeParam(fields["extensions"], &params.Extensions, "extensions", "a map"); msg != "" {
		return nil, http.StatusBadRequest, msg
	}
	if (fields["query"] == nil || string(fields["query"]) == "null") && !persisted(params) {
		return nil, http.StatusBadRequest, "the request has no query"
	}
	return params, 0, ""
}

// readGET reads the parameters from the query string, variables and extensions as JSON.
func readGET(r *http.Request) (*graphql.RawParams, int, string) {
	values, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, http.StatusBadRequest, "the query string is malformed: " + err.Error()
	}
	for _, vs := range values {
		for _, v := range vs {
			if !utf8.ValidString(v) {
				return nil, http.StatusBadRequest, "the query string is not valid UTF-8"
			}
		}
	}
	params := &graphql.RawParams{Query: values.Get("query"), OperationName: values.Get("operationName")}
	for _, p := range []struct {
		name string
		dst  *map[string]any
	}{{"variables", &params.Variables}, {"extensions", &params.Extensions}} {
		if s := values.Get(p.name); s != "" {
			if msg := decodeParam(json.RawMessage(s), p.dst, p.name, "a JSON-encoded map"); msg != "" {
				return nil, http.StatusBadRequest, msg
			}
		}
	}
	if !values.Has("query") && !persisted(params) {
		return nil, http.StatusBadRequest, "the request has no query"
	}
	return params, 0, ""
}

// persisted tells a request for a persisted query, which may leave the query out, from one
// that forgot it; gqlgen's APQ extension answers the former.
func persisted(p *graphql.RawParams) bool {
	_, ok := p.Extensions["persistedQuery"]
	return ok
}

// decodeParam decodes one request parameter, which may be absent or null. Numbers stay
// json.Number, as gqlgen's own transports leave them, so Int and Float coercion is exact.
func decodeParam(raw json.RawMessage, dst any, name, want string) string {
	if raw == nil || string(raw) == "null" {
		return ""
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(dst); err != nil {
		return fmt.Sprintf("the %s parameter must be %s", name, want)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Sprintf("the %s parameter must be %s", name, want)
	}
	return ""
}

// writeRequestError answers a request that was not executed with one error and no data.
func writeRequestError(ctx context.Context, w http.ResponseWriter, exec graphql.GraphExecutor, media string, status int, code, format string, args ...any) {
	err := &gqlerror.Error{Message: fmt.Sprintf(format, args...), Extensions: map[string]any{"code": code}}
	writeErrors(w, media, status, exec.DispatchError(ctx, gqlerror.List{err}))
}

// encodeResponse writes resp as json.Marshal would, but copies the data gqlgen already
// encoded instead of handing it to json.Marshal, which scans and compacts it again (the
// bench's (a) spent about 4% of its CPU there).
func encodeResponse(resp *graphql.Response) ([]byte, error) {
	if resp == nil || resp.Label != "" || resp.Path != nil || resp.HasNext != nil {
		return json.Marshal(resp)
	}
	body := make([]byte, 0, len(resp.Data)+32)
	body = append(body, '{')
	if len(resp.Errors) > 0 {
		errs, err := json.Marshal(resp.Errors)
		if err != nil {
			return nil, err
		}
		body = append(append(append(body, `"errors":`...), errs...), ',')
	}
	body = append(body, `"data":`...)
	if len(resp.Data) == 0 {
		body = append(body, "null"...)
	} else {
		body = append(body, resp.Data...)
	}
	if len(resp.Extensions) > 0 {
		ext, err := json.Marshal(resp.Extensions)
		if err != nil {
			return nil, err
		}
		body = append(append(body, `,"extensions":`...), ext...)
	}
	return append(body, '}'), nil
}

// writeErrors writes a response without a data entry: the spec's shape for a request error,
// which clients tell from an execution that returned null.
func writeErrors(w http.ResponseWriter, media string, status int, resp *graphql.Response) {
	body, err := json.Marshal(struct {
		Errors     gqlerror.List  `json:"errors"`
		Extensions map[string]any `json:"extensions,omitempty"`
	}{resp.Errors, resp.Extensions})
	if err != nil {
		panic(fmt.Errorf("encode graphql errors: %w", err))
	}
	writeBody(w, media, status, body)
}

func writeBody(w http.ResponseWriter, media string, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", media+"; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Add("Vary", "Accept")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

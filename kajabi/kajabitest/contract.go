package kajabitest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// How the contract is read from Kajabi's OpenAPI 3.1.1 file with kin-openapi v0.153.0.
//
// kin-openapi loads 3.1 natively: `type: [string, "null"]` arrays become multi-valued
// Types, and response validation of a 3.1 document runs in JSON Schema 2020-12 mode
// (openapi3filter turns it on by itself). Two things in Kajabi's file need a pass after
// loading, both in prepare below and both applied before doc.Validate, which must pass:
//
//  1. `nullable: true`, the OpenAPI 3.0 keyword, is still used on 28 schemas (among them
//     customers' external_user_id, sign_in_count, last_request_at, bounced_at and
//     socials, and contacts' external_user_id and custom_1..3) while the rest of the file
//     writes 3.1 type arrays. Under 3.1 it is an unknown keyword that JSON Schema
//     ignores, so read literally those fields could never be null, and writing nullable
//     would have said nothing at all. We take it at its 3.0 meaning: "null" is added to the schema's type (and to its enum, should
//     one ever have one; none does today). Those 28 schemas now also accept null; nothing
//     else is widened.
//  2. GET /v1/customers/{id} declares `include` six times and `filter[products_search]`
//     and `filter[offers_search]` three times each, all as plain strings; doc.Validate
//     refuses repeated (name, in) pairs. Repeats are dropped, keeping the first
//     declaration, so the set of allowed parameters is unchanged.
//
// What the checks deliberately do not look at, and why:
//   - Request bodies: only POST /v1/oauth/token has one, and the recorder does not keep it
//     (it carries the client secret). The kajabi package's own tests cover that form.
//   - The meaning of filter values: the spec types every filter as a plain string, so a
//     value is checked against that type only (page[number] and page[size] must be
//     numbers).
//   - Responses to requests that match no operation: there is no schema to check them
//     against; the request itself is already reported.
//   - Response headers other than Content-Type: the operations the facade uses document
//     none.
//   - Bodies over maxCheckedBody, or beyond maxRetainedBodies in all, and responses of a
//     handler that panicked: the recorder does not keep them; the cleanup logs how many.
//   - Members the spec does not list: its objects are open (no additionalProperties:
//     false), and Kajabi's list schemas omit the JSON:API meta and paging links the API
//     does send, so closing them would contradict the API rather than check it.
//
// Beyond the spec (stricter, on purpose): a status the operation does not document is
// not waved through (kin-openapi's default) but checked as a JSON:API error document:
// the spec's generic error schema for that status (errors_not_found, errors_unavailable,
// ...), a non-empty `errors` array, which those schemas list but do not mark required,
// and a Content-Type that is one of the operation's media types or one the spec serves
// that error schema as (application/vnd.api+json), so a gateway-style 503 on the
// application/json token endpoint may be JSON:API.

// exceptedParams are query parameters the facade may send although the spec does not
// list them, by method and path template. filter[is_suppressed] is in older Kajabi docs
// and was dropped from 1.1.0; the client keeps it on purpose.
var exceptedParams = map[string][]string{
	"GET /v1/customers": {"filter[is_suppressed]"},
}

// ErrNoSpec is returned by CheckRequest and CheckResponse when openapi.yaml cannot be
// found; tests that want to skip in that case call SpecPath first.
var ErrNoSpec = errors.New("kajabitest: openapi.yaml not found (set KAJABI_OPENAPI or put it at ../shared/kajabi/openapi.yaml next to the project root)")

// specRelPath is where the contract lives relative to the project root (the directory
// holding go.mod).
const specRelPath = "../shared/kajabi/openapi.yaml"

// maxCheckedBody is how much of a response body the recorder keeps for the response
// check; a longer body is reported as unchecked, never silently passed.
const maxCheckedBody = 8 << 20

// SpecPath returns where the contract file should be and whether it is there. The path
// comes from KAJABI_OPENAPI, else ../shared/kajabi/openapi.yaml relative to the project
// root. When it is absent the test fails under CI=true and is told why otherwise.
func SpecPath(t testing.TB) (string, bool) {
	t.Helper()
	path, ok := specPath()
	if ok {
		return path, true
	}
	if inCI() {
		t.Errorf("kajabitest: contract file %s is missing; under CI the contract checks are required (set KAJABI_OPENAPI)", path)
	} else {
		t.Logf("kajabitest: contract file %s not found: contract checks are off (set KAJABI_OPENAPI to enable them)", path)
	}
	return path, false
}

func inCI() bool {
	ci, _ := strconv.ParseBool(os.Getenv("CI"))
	return ci
}

func specPath() (string, bool) {
	path := os.Getenv("KAJABI_OPENAPI")
	if path == "" {
		root, err := projectRoot()
		if err != nil {
			return specRelPath, false
		}
		path = filepath.Join(root, filepath.FromSlash(specRelPath))
	}
	st, err := os.Stat(path)
	return path, err == nil && st.Mode().IsRegular()
}

// projectRoot walks up from the working directory (a test's package directory) to the
// directory holding go.mod.
func projectRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// spec is a loaded, prepared contract with its router.
type spec struct {
	doc    *openapi3.T
	router routers.Router
	server string // the spec's server URL: recorded paths are routed against it
	// schemaMedia lists, per component schema, the media types the spec serves it as.
	schemaMedia map[string][]string
}

type specEntry struct {
	once sync.Once
	spec *spec
	err  error
}

// specs caches one loaded contract per file path for the whole process.
var specs sync.Map // path -> *specEntry

func loadSpec(path string) (*spec, error) {
	v, _ := specs.LoadOrStore(path, &specEntry{})
	e := v.(*specEntry)
	e.once.Do(func() { e.spec, e.err = readSpec(path) })
	return e.spec, e.err
}

// currentSpec loads the contract CheckRequest and CheckResponse use.
func currentSpec() (*spec, error) {
	path, ok := specPath()
	if !ok {
		return nil, ErrNoSpec
	}
	return loadSpec(path)
}

func readSpec(path string) (*spec, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("kajabitest: load %s: %w", path, err)
	}
	if err := prepare(doc); err != nil {
		return nil, fmt.Errorf("kajabitest: prepare %s: %w", path, err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("kajabitest: %s is not a valid OpenAPI document: %w", path, err)
	}
	if len(doc.Servers) == 0 {
		return nil, fmt.Errorf("kajabitest: %s lists no server", path)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("kajabitest: route %s: %w", path, err)
	}
	return &spec{
		doc:         doc,
		router:      router,
		server:      strings.TrimRight(doc.Servers[0].URL, "/"),
		schemaMedia: responseMediaTypes(doc),
	}, nil
}

// responseMediaTypes maps each component schema used as a response body to the media
// types it is served as anywhere in the document.
func responseMediaTypes(doc *openapi3.T) map[string][]string {
	out := map[string][]string{}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			for _, r := range op.Responses.Map() {
				if r.Value == nil {
					continue
				}
				for mt, m := range r.Value.Content {
					if m.Schema == nil {
						continue
					}
					name, ok := strings.CutPrefix(m.Schema.Ref, "#/components/schemas/")
					if ok && !slices.Contains(out[name], mt) {
						out[name] = append(out[name], mt)
					}
				}
			}
		}
	}
	for _, list := range out {
		slices.Sort(list)
	}
	return out
}

// prepare applies the two passes described at the top of this file.
func prepare(doc *openapi3.T) error {
	err := doc.WalkSchemas(func(_ string, ref *openapi3.SchemaRef) error {
		s := ref.Value
		if !s.Nullable || s.Type.IsEmpty() || s.Type.IncludesNull() {
			return nil
		}
		s.Type.With(openapi3.TypeNull)
		if len(s.Enum) > 0 && !slices.Contains(s.Enum, nil) {
			s.Enum = append(s.Enum, nil)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, item := range doc.Paths.Map() {
		item.Parameters = uniqueParams(item.Parameters)
		for _, op := range item.Operations() {
			op.Parameters = uniqueParams(op.Parameters)
		}
	}
	return nil
}

func uniqueParams(params openapi3.Parameters) openapi3.Parameters {
	seen := map[string]bool{}
	out := params[:0]
	for _, p := range params {
		if p == nil || p.Value == nil {
			out = append(out, p)
			continue
		}
		key := p.Value.In + " " + p.Value.Name
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, p)
	}
	return out
}

// route finds the spec operation for a request line; escapedPath is the path as sent.
func (s *spec) route(method, escapedPath, rawQuery string) (*routers.Route, map[string]string, *http.Request, error) {
	target := s.server + escapedPath
	if rawQuery != "" {
		target += "?" + rawQuery
	}
	req, err := http.NewRequest(method, target, nil)
	if err != nil {
		return nil, nil, nil, err
	}
	route, params, err := s.router.FindRoute(req)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("no such operation in openapi.yaml (%v)", err)
	}
	return route, params, req, nil
}

// CheckRequest reports whether a request the facade sends is one the spec allows: the
// method and path name an operation, every query parameter is declared for it (with the
// filter[is_suppressed] exception on GET /v1/customers), and each value fits its
// parameter's schema. path is the escaped path, e.g. "/v1/customers/42". It does not see
// headers, so the Authorization check is the recorder's (see Upstream).
func CheckRequest(method, path, rawQuery string) error {
	s, err := currentSpec()
	if err != nil {
		return err
	}
	_, problems := s.requestProblems(method, path, rawQuery, nil)
	return joinProblems(method+" "+path, problems)
}

// CheckResponse reports whether a response matches the spec for the operation the request
// (method and escaped path) names: for a documented status, the documented media type
// and schema; for any other status, a JSON:API error document (see the top of this file).
func CheckResponse(method, path string, status int, header http.Header, body []byte) error {
	s, err := currentSpec()
	if err != nil {
		return err
	}
	problems := s.responseProblems(method, path, status, header, body)
	return joinProblems(fmt.Sprintf("%s %s: %d response", method, path, status), problems)
}

func joinProblems(where string, problems []string) error {
	if len(problems) == 0 {
		return nil
	}
	errs := make([]error, len(problems))
	for i, p := range problems {
		errs[i] = fmt.Errorf("%s: %s", where, p)
	}
	return errors.Join(errs...)
}

// requestProblems is CheckRequest; with a non-nil header it also checks the bearer token
// the operation's security asks for. It returns the route template ("" when the request
// names no operation) and one line per problem.
func (s *spec) requestProblems(method, path, rawQuery string, header http.Header) (string, []string) {
	route, params, req, err := s.route(method, path, rawQuery)
	if err != nil {
		return "", []string{err.Error()}
	}
	query, err := url.ParseQuery(rawQuery)
	if err != nil {
		return route.Path, []string{fmt.Sprintf("malformed query %q: %v", rawQuery, err)}
	}
	var problems []string
	allowed := declaredQueryParams(route)
	for _, name := range exceptedParams[method+" "+route.Path] {
		allowed[name] = true
	}
	for _, name := range slices.Sorted(maps.Keys(query)) {
		if !allowed[name] {
			problems = append(problems, fmt.Sprintf("query parameter %q is not declared for %s %s in openapi.yaml", name, method, route.Path))
		}
	}

	auth := openapi3filter.NoopAuthenticationFunc
	if header != nil {
		req.Header = header.Clone()
		auth = checkBearer
	}
	in := &openapi3filter.RequestValidationInput{
		Request:    req,
		PathParams: params,
		Route:      route,
		Options: &openapi3filter.Options{
			ExcludeRequestBody: true,
			MultiError:         true,
			AuthenticationFunc: auth,
		},
	}
	if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
		problems = append(problems, describe(err)...)
	}
	return route.Path, problems
}

func declaredQueryParams(route *routers.Route) map[string]bool {
	names := map[string]bool{}
	for _, list := range []openapi3.Parameters{route.PathItem.Parameters, route.Operation.Parameters} {
		for _, p := range list {
			if p.Value != nil && p.Value.In == openapi3.ParameterInQuery {
				names[p.Value.Name] = true
			}
		}
	}
	return names
}

// checkBearer is the one security scheme the spec defines: an HTTP bearer token.
func checkBearer(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	scheme := in.SecurityScheme
	if scheme == nil || scheme.Type != "http" || !strings.EqualFold(scheme.Scheme, "bearer") {
		return fmt.Errorf("security scheme %q is not one kajabitest knows how to check", in.SecuritySchemeName)
	}
	h := in.RequestValidationInput.Request.Header.Get("Authorization")
	kind, token, _ := strings.Cut(h, " ") // the scheme name is case-insensitive (RFC 9110)
	if !strings.EqualFold(kind, "Bearer") || strings.TrimSpace(token) == "" {
		return fmt.Errorf("Authorization header %q is not \"Bearer <token>\"", redactAuth(h))
	}
	return nil
}

// redactAuth keeps the scheme of an Authorization header and hides the credential.
func redactAuth(h string) string {
	kind, token, found := strings.Cut(h, " ")
	switch {
	case h == "":
		return ""
	case !found: // a bare value may well be a token
		return "<redacted>"
	case strings.TrimSpace(token) == "":
		return h
	}
	return kind + " <redacted>"
}

func (s *spec) responseProblems(method, path string, status int, header http.Header, body []byte) []string {
	route, params, req, err := s.route(method, path, "")
	if err != nil {
		return []string{err.Error()}
	}
	if header == nil {
		header = http.Header{}
	}
	if route.Operation.Responses.Status(status) == nil && route.Operation.Responses.Default() == nil {
		problems := s.undocumentedProblems(route, status, header, body)
		for i, p := range problems {
			problems[i] = fmt.Sprintf("status %d is not documented for %s %s, checked as an error document: %s", status, method, route.Path, p)
		}
		return problems
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: req, PathParams: params, Route: route,
		},
		Status:  status,
		Header:  header,
		Options: &openapi3filter.Options{MultiError: true, IncludeResponseStatus: true},
	}
	in.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		return describe(err)
	}
	return nil
}

// errorSchemas are the spec's generic JSON:API error documents by status; any status not
// listed (429, 5xx, ...) is checked against errors_unavailable.
var errorSchemas = map[int]string{
	http.StatusBadRequest:          "errors_bad_request",
	http.StatusUnauthorized:        "errors_unauthorized",
	http.StatusForbidden:           "errors_forbidden",
	http.StatusNotFound:            "errors_not_found",
	http.StatusUnprocessableEntity: "errors_unprocessable",
}

func (s *spec) undocumentedProblems(route *routers.Route, status int, header http.Header, body []byte) []string {
	name, ok := errorSchemas[status]
	if !ok {
		name = "errors_unavailable"
	}
	ref := s.doc.Components.Schemas[name]
	if ref == nil || ref.Value == nil {
		return []string{"openapi.yaml has no schema " + name}
	}
	var problems []string
	want := operationMediaTypes(route.Operation)
	for _, mt := range s.schemaMedia[name] {
		if !slices.Contains(want, mt) {
			want = append(want, mt)
		}
	}
	if got, _, err := mime.ParseMediaType(header.Get("Content-Type")); err != nil || !slices.Contains(want, got) {
		problems = append(problems, fmt.Sprintf("Content-Type %q, want one of %q (the operation's media types and those the spec serves %s as)", header.Get("Content-Type"), want, name))
	}
	var doc any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return append(problems, fmt.Sprintf("body is not JSON: %v", err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return append(problems, "body has data after the JSON document")
	}
	doc = plainNumbers(doc)
	if err := ref.Value.VisitJSON(doc, openapi3.EnableJSONSchema2020(), openapi3.MultiErrors(), openapi3.VisitAsResponse()); err != nil {
		for _, p := range describe(err) {
			problems = append(problems, "body doesn't match "+name+": "+p)
		}
		return problems
	}
	top, _ := doc.(map[string]any)
	if list, _ := top["errors"].([]any); len(list) == 0 {
		problems = append(problems, `body has no "errors" (a JSON:API error document needs a non-empty errors array)`)
	}
	return problems
}

// plainNumbers turns json.Numbers into float64 as the schema validator expects.
func plainNumbers(v any) any {
	switch v := v.(type) {
	case json.Number:
		f, _ := v.Float64()
		return f
	case map[string]any:
		for k, x := range v {
			v[k] = plainNumbers(x)
		}
	case []any:
		for i, x := range v {
			v[i] = plainNumbers(x)
		}
	}
	return v
}

// operationMediaTypes are the media types an operation's documented responses use.
func operationMediaTypes(op *openapi3.Operation) []string {
	var out []string
	for _, r := range op.Responses.Map() {
		if r.Value == nil {
			continue
		}
		for mt := range r.Value.Content {
			if !slices.Contains(out, mt) {
				out = append(out, mt)
			}
		}
	}
	sort.Strings(out)
	return out
}

// describe renders a kin-openapi error as one line per problem ("at /json/pointer:
// reason"), without the schema and value dumps its Error() carries.
func describe(err error) []string {
	var lines []string
	collect(err, &lines)
	if len(lines) == 0 {
		return []string{err.Error()}
	}
	slices.Sort(lines)
	return slices.Compact(lines)
}

func collect(err error, lines *[]string) {
	switch e := err.(type) {
	case nil:
	case openapi3.MultiError:
		for _, x := range e {
			collect(x, lines)
		}
	case *openapi3filter.ResponseError:
		if e.Err == nil {
			*lines = append(*lines, e.Reason)
			return
		}
		n := len(*lines)
		collect(e.Err, lines)
		for i := n; i < len(*lines); i++ {
			(*lines)[i] = e.Reason + ": " + (*lines)[i]
		}
	case *openapi3filter.RequestError:
		n := len(*lines)
		if e.Err != nil {
			collect(e.Err, lines)
		}
		prefix := e.Reason
		if e.Parameter != nil {
			prefix = strings.TrimSpace(fmt.Sprintf("parameter %q %s", e.Parameter.Name, e.Reason))
		}
		if len(*lines) == n {
			*lines = append(*lines, strings.TrimSpace(prefix))
			return
		}
		for i := n; i < len(*lines); i++ {
			(*lines)[i] = strings.TrimSpace(prefix + ": " + (*lines)[i])
		}
	case *openapi3filter.SecurityRequirementsError:
		for _, x := range e.Errors {
			*lines = append(*lines, "security: "+x.Error())
		}
		if len(e.Errors) == 0 {
			*lines = append(*lines, "security: "+e.Error())
		}
	case *openapi3.SchemaError:
		var inner openapi3.MultiError
		if errors.As(e.Origin, &inner) {
			n := len(*lines)
			collect(inner, lines)
			if len(*lines) > n {
				return
			}
		}
		reason := e.Reason
		if _, after, ok := strings.Cut(reason, `": `); ok && strings.HasPrefix(reason, `error at "`) {
			reason = after
		}
		*lines = append(*lines, "at /"+strings.Join(e.JSONPointer(), "/")+": "+reason)
	default:
		*lines = append(*lines, err.Error())
	}
}

package kajabi

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kajabi-graphql/facade/kajabi/sandbox"
)

// stdDecodeResource is how resources were decoded before jsonscan.go: encoding/json
// throughout. The one-pass decoder must give exactly its results.
func stdDecodeResource(b []byte, attrs, rels any) (string, error) {
	r := struct {
		ID            string `json:"id"`
		Attributes    any    `json:"attributes"`
		Relationships any    `json:"relationships"`
	}{Attributes: attrs, Relationships: rels}
	err := json.Unmarshal(b, &r)
	return r.ID, err
}

// plainDocument is document without its UnmarshalJSON, for encoding/json to decode.
type plainDocument[T any] document[T]

// stdReadResource reads a resource object through encoding/json; a scanner given it
// decodes every resource the way the client did before jsonscan.go.
func stdReadResource(s *scanner, attrs, rels any) (string, error) {
	raw, err := s.raw()
	if err != nil {
		return "", err
	}
	return stdDecodeResource(raw, attrs, rels)
}

// stdDecodeDocument decodes body with encoding/json throughout: the document and its
// lists by encoding/json, each resource by its decodeFrom reading through stdReadResource.
func stdDecodeDocument[T any](body []byte, d *document[T]) error {
	var p plainDocument[json.RawMessage]
	if err := json.Unmarshal(body, &p); err != nil {
		return err
	}
	d.Links, d.Meta = p.Links, p.Meta
	if p.Data == nil {
		return nil
	}
	return stdDecodeValue(p.Data, reflect.ValueOf(&d.Data).Elem())
}

// stdDecodeValue decodes raw into v (addressable): a resource or a list of resources
// through stdReadResource, anything else by encoding/json.
func stdDecodeValue(raw []byte, v reflect.Value) error {
	t := v.Type()
	switch {
	case t.Kind() == reflect.Pointer && t.Implements(resourceType):
		if string(raw) == "null" {
			v.SetZero()
			return nil
		}
		v.Set(reflect.New(t.Elem()))
		s := &scanner{b: raw, readResource: stdReadResource}
		if err := v.Interface().(resource).decodeFrom(s); err != nil {
			return err
		}
		if s.ws(); s.i != len(raw) {
			return errSyntax
		}
		return nil
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Pointer && t.Elem().Implements(resourceType):
		var elems []json.RawMessage
		if err := json.Unmarshal(raw, &elems); err != nil {
			return err
		}
		if elems == nil {
			v.SetZero()
			return nil
		}
		out := reflect.MakeSlice(t, len(elems), len(elems))
		for i, e := range elems {
			if err := stdDecodeValue(e, out.Index(i)); err != nil {
				return err
			}
		}
		v.Set(out)
		return nil
	}
	return json.Unmarshal(raw, v.Addr().Interface())
}

// decodeBoth decodes body with the one-pass decoder and with encoding/json.
func decodeBoth[T any](t *testing.T, body []byte) (fast, std document[T], fastErr, stdErr error) {
	t.Helper()
	fastErr = decodeDocument(body, &fast)
	stdErr = stdDecodeDocument(body, &std)
	return fast, std, fastErr, stdErr
}

func sameDecoding[T any](t *testing.T, body []byte) {
	t.Helper()
	fast, std, fastErr, stdErr := decodeBoth[T](t, body)
	if (fastErr != nil) != (stdErr != nil) {
		t.Fatalf("errors differ: one-pass %v, encoding/json %v\nbody %.300s", fastErr, stdErr, body)
	}
	if stdErr == nil && !reflect.DeepEqual(fast, std) {
		t.Errorf("decodings differ\none-pass      %+v\nencoding/json %+v\nbody %.300s", fast, std, body)
	}
}

// TestOnePassDecodingMatchesEncodingJSON decodes every kind of answer the sandbox gives
// both ways.
func TestOnePassDecodingMatchesEncodingJSON(t *testing.T) {
	sb := sandbox.New(sandbox.Options{Customers: 300, Sites: 1, Now: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC), AccessTokens: []string{"t"}})
	get := func(t *testing.T, path string) []byte {
		t.Helper()
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("Authorization", "Bearer t")
		w := httptest.NewRecorder()
		sb.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			t.Fatalf("GET %s: %d", path, w.Code)
		}
		b, _ := io.ReadAll(w.Result().Body)
		return b
	}
	st := sb.Store()
	c := st.Customers[7]
	for _, tc := range []struct {
		path  string
		check func(*testing.T, []byte)
	}{
		{"/v1/customers?page[size]=100&page[number]=2", sameDecoding[[]*Customer]},
		{"/v1/customers?page[size]=20&fields[customers]=name,email,socials,net_revenue", sameDecoding[[]*Customer]},
		{"/v1/customers?page[size]=20&page[number]=999", sameDecoding[[]*Customer]},
		{"/v1/customers/" + c.ID, sameDecoding[*Customer]},
		{"/v1/customers/" + c.ID + "/relationships/offers", sameDecoding[[]Identifier]},
		{"/v1/contacts/" + c.ContactID, sameDecoding[*Contact]},
		{"/v1/sites", sameDecoding[[]*Site]},
		{"/v1/sites/" + c.SiteID, sameDecoding[*Site]},
		{"/v1/products?page[size]=100", sameDecoding[[]*Product]},
		{"/v1/offers?page[size]=100", sameDecoding[[]*Offer]},
	} {
		t.Run(tc.path, func(t *testing.T) { tc.check(t, get(t, tc.path)) })
	}
}

// TestOnePassDecodingEdgeCases: what Kajabi could send that the sandbox does not, and
// malformed bodies, which must fail (never panic) wherever encoding/json fails.
func TestOnePassDecodingEdgeCases(t *testing.T) {
	doc := func(data string) string {
		return `{"data":` + data + `,"links":{"next":null},"meta":{"total_count":3}}`
	}
	cases := []string{
		doc(`[]`),
		doc(`null`),
		doc(`[null]`),
		doc(`[{"id":"1","type":"customers","attributes":{"name":"A\u00e9\"\\\/\n","email":null,"avatar":null,"sign_in_count":null,"created_at":"2026-01-02T03:04:05Z","last_request_at":null,"socials":{"twitter":"t"}},"relationships":{"contact":{"data":null},"site":{"data":{"id":"9","type":"sites"}},"products":{"data":[]},"offers":{"links":{"self":"x"}}}}]`),
		doc(`[{"ID":"1","Attributes":{"NAME":"upper","Email":"e","unknown":{"deep":[1,2,{"x":null}]},"sign_in_count":-0}}]`),
		doc(`[{"id":"1","attributes":null,"relationships":null}]`),
		doc(`[{"id":"1","attributes":{"name":"\ud83d\ude00 \u00ff"}}]`),
		doc(`[{"id":"1","attributes":{"name":"invalid utf8 ` + "\xff" + `"}}]`),
		`{"data":[],"extra":[true,false,null,1.5e-3,-2E+7,"s"],"meta":{}}`,
		` { "data" : [ { "id" : "1" , "attributes" : { "sign_in_count" : 4 } } ] } `,
		`null`,
		// Wrong types and malformed JSON: both decoders must refuse them.
		doc(`[{"id":1}]`),
		doc(`[{"id":"1","attributes":{"sign_in_count":1.5}}]`),
		doc(`[{"id":"1","attributes":{"sign_in_count":"3"}}]`),
		doc(`[{"id":"1","attributes":{"name":5}}]`),
		doc(`[{"id":"1","attributes":{"created_at":"yesterday"}}]`),
		doc(`[{"id":"1","relationships":{"contact":{"data":[]}}}]`),
		doc(`{"id":"1"}`),
		`{"data":[}`,
		`{"data":[]`,
		`{"data":[]}x`,
		`{"data":[],}`,
		`{"data":[{"id":"1","attributes":{"name":"a\qb"}}]}`,
		`{"data":[{"id":"1","attributes":{"name":"a\u12"}}]}`,
		`{"data":[],"x":01}`,
		`{"data":[],"x":1.}`,
		`{"data":[],"x":-}`,
		`{"data":[],"x":tru}`,
		`{"data":[],"x":nulll}`,
		"{\"data\":[],\"x\":\"tab\there\"}",
		`{"data":"` + strings.Repeat(`\\`, 3) + `"}`,
		`[]`,
		``,
		`{`,
		`{"data"`,
		`{"data":`,
	}
	for i, body := range cases {
		t.Run(fmt.Sprint(i), func(t *testing.T) { sameDecoding[[]*Customer](t, []byte(body)) })
	}
	// Every prefix of a valid document is malformed: none may panic.
	full := []byte(cases[3])
	for n := range len(full) {
		var d document[[]*Customer]
		if err := decodeDocument(full[:n], &d); err == nil {
			t.Errorf("prefix of %d bytes decoded without error", n)
		}
	}
}

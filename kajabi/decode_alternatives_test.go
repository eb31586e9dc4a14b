package kajabi

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/kajabi-graphql/facade/kajabi/sandbox"
)

// The decoders jsonscan.go is measured against (BenchmarkDecodeCustomers): a page of
// customers decoded by a library into plain generic wire structs, with no UnmarshalJSON
// of ours on the way (that method, decoding each resource's bytes a second time, is what
// made encoding/json slow here before jsonscan.go), then copied into the client's types.

// wireDocument is a JSON:API list document as it arrives.
type wireDocument[R any] struct {
	Data  []R   `json:"data"`
	Links Links `json:"links"`
	Meta  *Meta `json:"meta"`
}

// wireResource is a JSON:API resource object as it arrives.
type wireResource[A, R any] struct {
	ID            string `json:"id"`
	Attributes    A      `json:"attributes"`
	Relationships R      `json:"relationships"`
}

// wireCustomerAttributes is Customer without its methods, so libraries decode it field
// by field.
type wireCustomerAttributes Customer

type wireCustomerRelationships struct {
	Contact  *toOne  `json:"contact"`
	Site     *toOne  `json:"site"`
	Products *toMany `json:"products"`
	Offers   *toMany `json:"offers"`
}

type wireCustomer = wireResource[wireCustomerAttributes, wireCustomerRelationships]

func customerFromWire(w *wireCustomer) *Customer {
	c := (*Customer)(&w.Attributes)
	c.ID = w.ID
	c.Contact, c.Site = w.Relationships.Contact.id(), w.Relationships.Site.id()
	c.Products, c.Offers = w.Relationships.Products.ids(), w.Relationships.Offers.ids()
	if w.Relationships.Offers != nil {
		c.OffersLink = w.Relationships.Offers.Links.Self
	}
	return c
}

func customersFromWire(w *wireDocument[wireCustomer], d *document[[]*Customer]) {
	d.Data = make([]*Customer, len(w.Data))
	for i := range w.Data {
		d.Data[i] = customerFromWire(&w.Data[i])
	}
	d.Links, d.Meta = w.Links, w.Meta
}

// decodeCustomersStd decodes with encoding/json.
func decodeCustomersStd(b []byte, d *document[[]*Customer]) error {
	var w wireDocument[wireCustomer]
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	customersFromWire(&w, d)
	return nil
}

// jsonv2Options are what go-json-experiment needs to read what encoding/json reads:
// member names matched ignoring case, invalid UTF-8 replaced rather than refused.
var jsonv2Options = jsonv2.JoinOptions(jsonv2.MatchCaseInsensitiveNames(true), jsontext.AllowInvalidUTF8(true))

// decodeCustomersJSONv2 decodes with go-json-experiment/json (encoding/json/v2 to be).
func decodeCustomersJSONv2(b []byte, d *document[[]*Customer]) error {
	var w wireDocument[wireCustomer]
	if err := jsonv2.Unmarshal(b, &w, jsonv2Options); err != nil {
		return err
	}
	customersFromWire(&w, d)
	return nil
}

// TestAlternativeDecodersAgree keeps the benchmark honest: the library decoders give the
// same customers as the production one, so all three do the same work.
func TestAlternativeDecodersAgree(t *testing.T) {
	sb := sandbox.New(sandbox.Options{Customers: 300, Sites: 1, Now: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC), AccessTokens: []string{"t"}})
	for _, query := range []string{
		"page[size]=20&page[number]=3",
		"page[size]=20&fields[customers]=name,email,avatar,net_revenue,sign_in_count,created_at,updated_at",
		"page[size]=100",
	} {
		req := httptest.NewRequest(http.MethodGet, "/v1/customers?"+query, nil)
		req.Header.Set("Authorization", "Bearer t")
		w := httptest.NewRecorder()
		sb.ServeHTTP(w, req)
		body, _ := io.ReadAll(w.Result().Body)
		var want document[[]*Customer]
		if err := decodeDocument(body, &want); err != nil {
			t.Fatalf("%s: jsonscan: %v", query, err)
		}
		for _, dec := range []struct {
			name   string
			decode func([]byte, *document[[]*Customer]) error
		}{{"encoding/json", decodeCustomersStd}, {"go-json-experiment", decodeCustomersJSONv2}} {
			var got document[[]*Customer]
			if err := dec.decode(body, &got); err != nil {
				t.Errorf("%s: %s: %v", query, dec.name, err)
			} else if !reflect.DeepEqual(got, want) {
				t.Errorf("%s: %s got %+v, want %+v", query, dec.name, got.Data[0], want.Data[0])
			}
		}
	}
}

package edge

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// TestEncodeResponseMatchesEncodingJSON: the response writer's copy of the data must say
// what json.Marshal of the whole response says, for every shape a response takes.
func TestEncodeResponseMatchesEncodingJSON(t *testing.T) {
	yes := true
	errs := gqlerror.List{{Message: "boom <&>", Path: ast.Path{ast.PathName("customers"), ast.PathIndex(2)},
		Extensions: map[string]any{"code": "UPSTREAM_UNAVAILABLE"}}}
	for name, resp := range map[string]*graphql.Response{
		"data":             {Data: json.RawMessage(`{"customers":{"nodes":[{"name":"<b>A & B</b>","n":1.5e3}]}}`)},
		"partial":          {Data: json.RawMessage(`{"customers":null}`), Errors: errs},
		"no data":          {Errors: errs},
		"extensions":       {Data: json.RawMessage(`{}`), Extensions: map[string]any{"cost": 12}},
		"errors and more":  {Data: json.RawMessage(`null`), Errors: errs, Extensions: map[string]any{"x": []any{"y"}}},
		"incremental part": {Data: json.RawMessage(`{"a":1}`), Label: "l", Path: ast.Path{ast.PathName("a")}, HasNext: &yes},
		"none":             nil,
	} {
		t.Run(name, func(t *testing.T) {
			got, err := encodeResponse(resp)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := json.Marshal(resp)
			var g, w any
			if err := json.Unmarshal(got, &g); err != nil {
				t.Fatalf("not JSON: %s", got)
			}
			_ = json.Unmarshal(want, &w)
			if !reflect.DeepEqual(g, w) {
				t.Errorf("encodeResponse %s\njson.Marshal   %s", got, want)
			}
		})
	}
}

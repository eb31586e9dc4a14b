package kajabi

import (
	"fmt"
	"net/url"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Identifier is a JSON:API resource identifier: what a relationship points at.
type Identifier struct {
	ID   string `json:"id"`
	Type string `json:"type"`
}

// toOne is a to-one relationship; Data is nil when the relationship is empty.
type toOne struct {
	Data *Identifier `json:"data"`
}

// toMany is a to-many relationship; Data is nil when Kajabi gives only links.
type toMany struct {
	Data  []Identifier `json:"data"`
	Links struct {
		Self string `json:"self"`
	} `json:"links"`
}

func (r *toOne) id() *Identifier {
	if r == nil {
		return nil
	}
	return r.Data
}

func (r *toMany) ids() []Identifier {
	if r == nil {
		return nil
	}
	return r.Data
}

// ListOptions are the JSON:API paging parameters every list call shares.
type ListOptions struct {
	// Page is the 1-based page number; 0 leaves Kajabi's default (1).
	Page int `url:"page[number]"`
	// PageSize is the number of records per page, up to 100; 0 leaves Kajabi's default (20).
	PageSize int `url:"page[size]"`
}

// EncodeQuery renders an options struct to a query string. It is the one place where
// option fields become Kajabi parameters: each field's `url` tag is the parameter name as
// the spec spells it (kept unescaped, brackets and all, as Kajabi documents them); empty
// values are left out; lists are joined with commas; keys come out sorted so the same
// options always give the same string.
func EncodeQuery(opts any) string {
	if opts == nil {
		return ""
	}
	v := reflect.ValueOf(opts)
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return ""
		}
		v = v.Elem()
	}
	var pairs []string
	appendParams(&pairs, v)
	sort.Strings(pairs)
	return strings.Join(pairs, "&")
}

type queryField struct {
	index []int
	name  string // empty for an embedded or nested options struct
}

var queryPlans sync.Map // reflect.Type -> []queryField

func queryPlan(t reflect.Type) []queryField {
	if p, ok := queryPlans.Load(t); ok {
		return p.([]queryField)
	}
	var plan []queryField
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name := f.Tag.Get("url")
		if name == "-" || (name == "" && f.Type.Kind() != reflect.Struct) {
			continue
		}
		plan = append(plan, queryField{index: f.Index, name: name})
	}
	queryPlans.Store(t, plan)
	return plan
}

func appendParams(pairs *[]string, v reflect.Value) {
	for _, f := range queryPlan(v.Type()) {
		fv := v.FieldByIndex(f.index)
		if f.name == "" {
			appendParams(pairs, fv)
			continue
		}
		if s, ok := queryValue(fv); ok {
			*pairs = append(*pairs, f.name+"="+escapeValue(s))
		}
	}
}

// queryValue renders one field; ok is false for an empty value. A pointer field is set
// whenever it is non-nil (so *int 0 is sent); a plain field only when non-zero.
func queryValue(v reflect.Value) (string, bool) {
	set := false
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return "", false
		}
		v, set = v.Elem(), true
	}
	switch v.Kind() {
	case reflect.String:
		return v.String(), v.Len() > 0
	case reflect.Int, reflect.Int64, reflect.Int32:
		return strconv.FormatInt(v.Int(), 10), set || v.Int() != 0
	case reflect.Bool:
		return strconv.FormatBool(v.Bool()), true
	case reflect.Slice:
		if v.Len() == 0 {
			return "", false
		}
		parts := make([]string, v.Len())
		for i := range parts {
			parts[i] = fmt.Sprint(v.Index(i).Interface())
		}
		return strings.Join(parts, ","), true
	}
	panic(fmt.Sprintf("kajabi: cannot encode %s as a query parameter", v.Type()))
}

// escapeValue escapes a parameter value, leaving commas readable: JSON:API lists
// (fields, sort, id lists) are comma-separated and Kajabi's own examples write them bare.
func escapeValue(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "%2C", ",")
}

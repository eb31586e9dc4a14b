package edge

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/formatter"

	"github.com/kajabi-graphql/facade/graph"
)

// OperationAllowlist is the set of operations a service in front of known clients runs;
// any other is refused with OPERATION_NOT_ALLOWED before it runs. Operations match when
// they are the same once formatted: whitespace, commas and comments do not matter, and
// neither do fragments the operation does not use; names, arguments, selections and the
// fragments it uses must match.
type OperationAllowlist struct {
	ops map[string]bool
}

// LoadOperationAllowlist reads an allow-list file. A .json file is either an Apollo
// persisted query manifest ({"operations": [{"body": ...}]}) or a map of ids to documents
// (GraphQL Code Generator's persisted documents, Relay's); any other file holds GraphQL
// documents, any number of operations and fragments. Every operation must be valid
// against the schema: a stale list fails here, at startup, not at the first request.
func LoadOperationAllowlist(path string) (*OperationAllowlist, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var docs []string
	if strings.EqualFold(filepath.Ext(path), ".json") {
		if docs, err = manifestDocuments(raw); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	} else {
		docs = []string{string(raw)}
	}
	a, err := NewOperationAllowlist(docs...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return a, nil
}

func manifestDocuments(raw []byte) ([]string, error) {
	var apollo struct {
		Operations []struct {
			Body string `json:"body"`
		} `json:"operations"`
	}
	if err := json.Unmarshal(raw, &apollo); err == nil && apollo.Operations != nil {
		docs := make([]string, len(apollo.Operations))
		for i, op := range apollo.Operations {
			docs[i] = op.Body
		}
		return docs, nil
	}
	var byID map[string]string
	if err := json.Unmarshal(raw, &byID); err != nil {
		return nil, fmt.Errorf("neither an Apollo persisted query manifest nor a map of ids to documents: %w", err)
	}
	docs := make([]string, 0, len(byID))
	for _, d := range byID {
		docs = append(docs, d)
	}
	return docs, nil
}

// NewOperationAllowlist allows the operations of the given GraphQL documents.
func NewOperationAllowlist(docs ...string) (*OperationAllowlist, error) {
	schema := graph.NewExecutableSchema(graph.Config{}).Schema()
	a := &OperationAllowlist{ops: map[string]bool{}}
	for i, src := range docs {
		doc, errs := gqlparser.LoadQuery(schema, src)
		if len(errs) > 0 {
			return nil, fmt.Errorf("document %d: %w", i+1, errs)
		}
		for _, op := range doc.Operations {
			a.ops[canonicalOperation(op, measure(doc, op).used)] = true
		}
	}
	if len(a.ops) == 0 {
		return nil, fmt.Errorf("no operations: an empty allow-list would refuse every request")
	}
	return a, nil
}

// Len is how many operations are allowed.
func (a *OperationAllowlist) Len() int { return len(a.ops) }

// allows reports whether op, which uses fragments (as measure found them), may run. With
// introspection on, an operation that selects only introspection fields (GraphiQL's schema
// query) needs no entry.
func (a *OperationAllowlist) allows(doc *ast.QueryDocument, op *ast.OperationDefinition, fragments []*ast.FragmentDefinition, introspection bool) bool {
	if introspection && onlyMetaFields(doc, op.SelectionSet) {
		return true
	}
	return a.ops[canonicalOperation(op, fragments)]
}

func onlyMetaFields(doc *ast.QueryDocument, set ast.SelectionSet) bool {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if !strings.HasPrefix(s.Name, "__") {
				return false
			}
		case *ast.InlineFragment:
			if !onlyMetaFields(doc, s.SelectionSet) {
				return false
			}
		case *ast.FragmentSpread:
			f := doc.Fragments.ForName(s.Name)
			if f == nil || !onlyMetaFields(doc, f.SelectionSet) {
				return false
			}
		}
	}
	return true
}

// canonicalOperation prints op and the fragments it uses, in name order, with gqlparser's
// formatter, which drops comments and normalises whitespace. The fragments come from
// measure, whose walk already reaches each of them once: a second walker of the same
// selection sets would only have to agree with it.
func canonicalOperation(op *ast.OperationDefinition, fragments []*ast.FragmentDefinition) string {
	out := &ast.QueryDocument{Operations: ast.OperationList{op}}
	out.Fragments = slices.SortedFunc(slices.Values(fragments), func(a, b *ast.FragmentDefinition) int {
		return strings.Compare(a.Name, b.Name)
	})
	var buf bytes.Buffer
	formatter.NewFormatter(&buf).FormatQueryDocument(out)
	return buf.String()
}

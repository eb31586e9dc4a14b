package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/rs/zerolog"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/kajabi-graphql/facade/graph"
)

// TestRecoverPanicLogsTheStack: a panic is logged with its value and the stack of the
// code that panicked; the caller gets "internal error" and nothing of either.
func TestRecoverPanicLogsTheStack(t *testing.T) {
	var logs bytes.Buffer
	ctx := zerolog.New(&logs).WithContext(context.Background())
	var err error
	func() {
		defer func() { err = graph.RecoverPanic(ctx, recover()) }()
		panicInResolver()
	}()

	var line struct {
		Panic, Stack, Message string
	}
	if e := json.Unmarshal(logs.Bytes(), &line); e != nil {
		t.Fatalf("log %q: %v", logs.String(), e)
	}
	if line.Panic != "secret-ish detail" || !strings.Contains(line.Stack, "panicInResolver") {
		t.Errorf("log panic %q, stack %q; want the value and a stack naming panicInResolver", line.Panic, line.Stack)
	}
	var gqlErr *gqlerror.Error
	if e, ok := err.(*gqlerror.Error); ok {
		gqlErr = e
	}
	if gqlErr == nil || gqlErr.Message != "internal error" || gqlErr.Extensions["code"] != graph.CodeInternal {
		t.Errorf("got %#v, want internal error with code %s", err, graph.CodeInternal)
	}
	if msg := err.Error(); strings.Contains(msg, "secret-ish") || strings.Contains(msg, "goroutine") {
		t.Errorf("error shown to the caller %q leaks the panic", msg)
	}
}

func panicInResolver() { panic("secret-ish detail") }

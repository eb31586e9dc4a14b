package graph

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"runtime/debug"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"
	"github.com/rs/zerolog"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/kajabi-graphql/facade/graph/loader"
	"github.com/kajabi-graphql/facade/graph/model"
	"github.com/kajabi-graphql/facade/kajabi"
)

// badInput is a caller mistake found before any upstream call. field is the argument path
// as the caller wrote it, e.g. "filter.createdInLast".
func badInput(field, rule string, args ...any) *gqlerror.Error {
	return &gqlerror.Error{
		Message:    field + " " + fmt.Sprintf(rule, args...),
		Extensions: map[string]any{"code": CodeBadUserInput, "field": field},
	}
}

// presentError gives every error a stable extensions.code and a message that is safe to
// show: Kajabi's answers are translated, internal failures are logged and hidden.
func presentError(ctx context.Context, err error) *gqlerror.Error {
	gqlErr := graphql.DefaultErrorPresenter(ctx, err)

	var (
		inputErr     model.InputError
		notFoundErr  *loader.NotFoundError
		ambiguousErr *loader.AmbiguousError
		apiErr       *kajabi.ErrorResponse
		transportErr *kajabi.TransportError
		decodeErr    *kajabi.DecodeError
		idErr        *kajabi.InvalidIDError
	)
	switch {
	case errors.As(err, &inputErr):
		// Found while decoding arguments: the path runs past the field into the argument.
		fieldPath := graphql.GetPath(ctx)
		if len(gqlErr.Path) > len(fieldPath) {
			arg := gqlErr.Path[len(fieldPath):].String()
			gqlErr.Message = arg + ": " + string(inputErr)
			gqlErr.Path = fieldPath
			setExtensions(gqlErr, "field", arg)
		}
		setExtensions(gqlErr, "code", CodeBadUserInput)
	case errors.As(err, &notFoundErr):
		gqlErr.Message = notFoundErr.Error()
		setExtensions(gqlErr, "code", CodeNotFound)
	case errors.As(err, &ambiguousErr):
		gqlErr.Message = ambiguousErr.Error()
		setExtensions(gqlErr, "code", CodeAmbiguousKey)
	case errors.As(err, &idErr):
		// The caller's ids are refused before any loader (checkID); one that reaches the
		// client came in one of Kajabi's own answers, and was not followed.
		gqlErr.Message = "Kajabi answered with a related id that is not a Kajabi id; it was not looked up"
		setExtensions(gqlErr, "code", CodeUpstreamError)
		zerolog.Ctx(ctx).Warn().Err(err).Msg("upstream answer holds a malformed id")
	case errors.As(err, &apiErr):
		code := upstreamCode(apiErr.StatusCode)
		gqlErr.Message = fmt.Sprintf("Kajabi answered %s: %s", apiErr.Status(), apiErr.Message())
		setExtensions(gqlErr, "code", code, "upstreamStatus", apiErr.StatusCode)
		if apiErr.RetryAfter > 0 {
			setExtensions(gqlErr, "retryAfterSeconds", int(apiErr.RetryAfter.Seconds()))
		}
	case requestTimedOut(ctx, err):
		// The request's own deadline (REQUEST_TIMEOUT), not one Kajabi call's timeout.
		gqlErr.Message = "the request ran out of time before Kajabi answered"
		setExtensions(gqlErr, "code", CodeRequestTimeout)
	case errors.Is(err, kajabi.ErrCircuitOpen):
		gqlErr.Message = "Kajabi is failing; calls are paused for a moment to let it recover"
		setExtensions(gqlErr, "code", CodeUpstreamUnavailable)
		var open *kajabi.CircuitOpenError
		if errors.As(err, &open) && open.RetryAfter > 0 {
			setExtensions(gqlErr, "retryAfterSeconds", int(open.RetryAfter.Seconds()+0.999))
		}
	case errors.Is(err, context.Canceled) && (errors.As(err, &transportErr) || errors.Is(ctx.Err(), context.Canceled)):
		// A call in flight fails with a TransportError; one still waiting for its turn, or
		// for another field's call of the same URL, with the bare context error.
		gqlErr.Message = "the request was cancelled before Kajabi answered"
		setExtensions(gqlErr, "code", CodeRequestCancelled)
	case errors.As(err, &transportErr):
		if transportErr.Timeout() {
			gqlErr.Message = "Kajabi did not answer in time"
			setExtensions(gqlErr, "timeout", true)
		} else {
			gqlErr.Message = "Kajabi could not be reached"
		}
		setExtensions(gqlErr, "code", CodeUpstreamUnavailable)
		zerolog.Ctx(ctx).Warn().Err(err).Msg("upstream unreachable")
	case errors.As(err, &decodeErr):
		gqlErr.Message = "Kajabi answered with a document this service could not read"
		setExtensions(gqlErr, "code", CodeUpstreamError)
		zerolog.Ctx(ctx).Error().Err(err).Msg("upstream answer not understood")
	case codeOf(gqlErr) == CodeParseFailed && strings.HasPrefix(gqlErr.Message, "exceeded token limit"):
		// gqlgen's parser stops at MaxTokens and calls it a parse failure; it is a limit.
		setExtensions(gqlErr, "code", CodeTooManyTokens)
	case codeOf(gqlErr) == CodeValidationFailed && isInputValueError(gqlErr):
		// A wrong argument or variable value (an unknown enum value, a string for an Int)
		// is the caller's input, not a malformed document.
		setExtensions(gqlErr, "code", CodeBadUserInput)
	case codeOf(gqlErr) == "" && gqlErr.Err != nil:
		// Anything without a code is a failure of ours: log it, show nothing of it.
		zerolog.Ctx(ctx).Error().Err(err).Strs("path", pathStrings(gqlErr)).Msg("resolver failed")
		gqlErr.Message = "internal error"
		setExtensions(gqlErr, "code", CodeInternal)
	}
	capEchoes(gqlErr)
	return gqlErr
}

// What an error may repeat of the request. gqlgen and gqlparser put request values in
// their messages ("operation X not found", "X is not a valid CustomerSortField") and
// variable keys in paths, none of them bounded but by the body size: a 1 MB operationName
// would come back as a 1 MB error.
const (
	maxEcho    = 128  // bytes of one value: enough to recognise it
	maxMessage = 1024 // bytes of a whole message, for values with spaces in them
)

// capEchoes cuts each long run of non-space text of the message, the message as a whole,
// each long path name and the field extension, marking every cut with an ellipsis.
func capEchoes(e *gqlerror.Error) {
	e.Message = capMessage(e.Message)
	cloned := false
	for i, p := range e.Path {
		if name, ok := p.(ast.PathName); ok && len(name) > maxEcho {
			if !cloned {
				e.Path, cloned = slices.Clone(e.Path), true
			}
			e.Path[i] = ast.PathName(capEcho(string(name), maxEcho))
		}
	}
	if field, ok := e.Extensions["field"].(string); ok && len(field) > maxEcho {
		e.Extensions["field"] = capEcho(field, maxEcho)
	}
}

func capMessage(msg string) string {
	if len(msg) <= maxEcho {
		return msg
	}
	var b strings.Builder
	for len(msg) > 0 && b.Len() <= maxMessage {
		end := strings.IndexAny(msg, " \t\n")
		if end < 0 {
			end = len(msg)
		}
		b.WriteString(capEcho(msg[:end], maxEcho))
		if end < len(msg) {
			b.WriteByte(msg[end])
			end++
		}
		msg = msg[end:]
	}
	return capEcho(b.String(), maxMessage)
}

// capEcho cuts s to at most limit bytes on a rune boundary, ending a cut with an ellipsis.
func capEcho(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// suggestion is a "Did you mean" hint of a validation message, which reveals field, type
// and enum names to someone probing a schema whose introspection is off.
var suggestion = regexp.MustCompile(`\s*Did you mean [^?]*\?`)

// ErrorPresenter is presentError, with "Did you mean" hints removed unless suggestions
// are on. gqlgen's own switch only covers unknown fields; arguments, types and enum
// values have hints of their own.
func ErrorPresenter(suggestions bool) graphql.ErrorPresenterFunc {
	if suggestions {
		return presentError
	}
	return func(ctx context.Context, err error) *gqlerror.Error {
		gqlErr := presentError(ctx, err)
		gqlErr.Message = suggestion.ReplaceAllString(gqlErr.Message, "")
		return gqlErr
	}
}

// upstreamCode is the code of a Kajabi answer with the given HTTP status.
func upstreamCode(status int) string {
	switch {
	case status == 401:
		return CodeUnauthenticated
	case status == 403:
		return CodeForbidden
	case status == 404:
		return CodeNotFound
	case status == 429:
		return CodeRateLimited
	case status >= 500:
		return CodeUpstreamUnavailable
	default:
		return CodeUpstreamError
	}
}

// isInputValueError tells value errors from other validation failures: the
// ValuesOfCorrectType rule for literals, and variable coercion (path starts at "variable").
func isInputValueError(e *gqlerror.Error) bool {
	if e.Rule == "ValuesOfCorrectType" || e.Rule == "VariablesInAllowedPosition" {
		return true
	}
	return len(e.Path) > 0 && fmt.Sprint(e.Path[0]) == "variable"
}

func codeOf(e *gqlerror.Error) string {
	code, _ := e.Extensions["code"].(string)
	return code
}

func setExtensions(e *gqlerror.Error, kv ...any) {
	if e.Extensions == nil {
		e.Extensions = map[string]any{}
	}
	for i := 0; i+1 < len(kv); i += 2 {
		e.Extensions[kv[i].(string)] = kv[i+1]
	}
}

func pathStrings(e *gqlerror.Error) []string {
	out := make([]string, len(e.Path))
	for i, p := range e.Path {
		out[i] = fmt.Sprint(p)
	}
	return out
}

// RecoverPanic turns a resolver panic into an internal error; the value and the stack go
// to the log, and the caller sees neither. gqlgen calls it in the panicking goroutine's
// deferred recover, so debug.Stack still shows where the panic came from.
func RecoverPanic(ctx context.Context, p any) error {
	zerolog.Ctx(ctx).Error().Str("panic", strings.TrimSpace(fmt.Sprint(p))).
		Str("stack", string(debug.Stack())).Msg("resolver panicked")
	return &gqlerror.Error{Message: "internal error", Extensions: map[string]any{"code": CodeInternal}}
}

// requestTimedOut tells an error that came of the request's own deadline passing.
func requestTimedOut(ctx context.Context, err error) bool {
	return errors.Is(ctx.Err(), context.DeadlineExceeded) && errors.Is(err, context.DeadlineExceeded)
}

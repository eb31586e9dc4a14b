package graph

import "github.com/99designs/gqlgen/graphql/errcode"

// The values of extensions.code: every refusal, wherever it is made (the HTTP edge, the
// limits, the presenter), takes its code from this one list. They are part of the public
// contract: clients branch on them.
const (
	// Request errors: the request is not one this service can run as sent.
	CodeBadRequest       = "BAD_REQUEST" // not a well-formed GraphQL-over-HTTP request: nothing was parsed or executed
	CodeBadUserInput     = "BAD_USER_INPUT"
	CodeParseFailed      = errcode.ParseFailed      // gqlgen's: the document does not parse
	CodeValidationFailed = errcode.ValidationFailed // gqlgen's: the document is not valid against the schema

	// Who may ask.
	CodeUnauthenticated = "UNAUTHENTICATED"
	CodeForbidden       = "FORBIDDEN"
	CodeCSRFBlocked     = "CSRF_BLOCKED"

	// What a request may cost; each is refused before any Kajabi call.
	CodePayloadTooLarge        = "PAYLOAD_TOO_LARGE"
	CodeQueryTooLarge          = "QUERY_TOO_LARGE"
	CodeTooManyTokens          = "TOO_MANY_TOKENS"
	CodeQueryTooDeep           = "QUERY_TOO_DEEP"
	CodeTooManyAliases         = "TOO_MANY_ALIASES"
	CodeTooManyDirectives      = "TOO_MANY_DIRECTIVES"
	CodeTooManyRepeats         = "TOO_MANY_REPEATS" // a field or fragment spread repeated too often at one place: refused before validation
	CodeQueryTooComplex        = "QUERY_TOO_COMPLEX"
	CodeIntrospectionDisabled  = "INTROSPECTION_DISABLED"
	CodeOperationNotAllowed    = "OPERATION_NOT_ALLOWED"
	CodePersistedQueryNotFound = "PERSISTED_QUERY_NOT_FOUND" // minted by gqlgen's APQ extension under this name
	CodePersistedQueryDisabled = "PERSISTED_QUERY_NOT_SUPPORTED"
	CodeRequestTimeout         = "REQUEST_TIMEOUT"
	// CodeRequestCancelled: the caller went away before Kajabi answered. No client reads
	// it; it keeps a hang-up out of UPSTREAM_UNAVAILABLE's logs and metrics.
	CodeRequestCancelled = "REQUEST_CANCELLED"
	CodeOverloaded       = "OVERLOADED" // every place to run and to wait is taken: 503 with Retry-After

	// Subscriptions (graph/live).
	CodeTooManySubscriptions = "TOO_MANY_SUBSCRIPTIONS" // the caller holds its maximum already
	CodeSubscriberTooSlow    = "SUBSCRIBER_TOO_SLOW"    // the final error of a subscriber that fell behind
	CodeLiveUnavailable      = "LIVE_UNAVAILABLE"       // the service runs without webhooks
	CodeSubscriptionsOnly    = "SUBSCRIPTIONS_ONLY"     // a query or mutation sent over SSE or WebSocket, which carry subscriptions only

	// What Kajabi answered, or failed to.
	CodeNotFound            = "NOT_FOUND"
	CodeAmbiguousKey        = "AMBIGUOUS_KEY"
	CodeRateLimited         = "RATE_LIMITED"
	CodeUpstreamUnavailable = "UPSTREAM_UNAVAILABLE"
	CodeUpstreamError       = "UPSTREAM_ERROR"

	// A failure of ours, logged and not shown.
	CodeInternal = "INTERNAL_SERVER_ERROR"
)

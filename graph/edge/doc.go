// Package edge is the HTTP edge of the GraphQL service: everything between a request on
// the wire and the resolvers of package graph. It decides who may ask and what a request
// may cost, speaks GraphQL over HTTP, and refuses what it must with a coded GraphQL error
// (the codes are graph's) before anything calls Kajabi. The resolvers never see an
// http.Request; what they need of it (the caller and its Kajabi credential) reaches them
// in the context as a loader.Caller.
//
// NewHandler builds the endpoint. A request passes, in order:
//
//  1. the body size bound (HandlerOptions.MaxBodyBytes);
//  2. CORS (cors), answering preflights for the allowed origins;
//  3. CSRF prevention (preventCSRF), unless turned off;
//  4. authentication (authenticate): an API key in service mode, the caller's own Kajabi
//     token in passthrough mode; it decides once who is calling and with which Kajabi
//     client, and puts that in the context;
//  5. the request's deadline (withDeadline);
//  6. admission (Admission): a place to run, or a short wait for one, or 503 OVERLOADED;
//  7. its own loaders (loader.Middleware), built for that caller;
//  8. gqlgen, with this package's transport (httpTransport, GraphQL over HTTP's status
//     codes and media types): the persisted query look-up (APQ), the query size and token
//     limits, parsing and validation, then the operation limits (limitsExtension:
//     allow-list, introspection, depth, aliases, directives, strings, cost), the rate
//     budget's up-front check (RATE_LIMITED, see Admission), execution, and graph's
//     error presenter.
//
// Refusals before gqlgen (reject) record their code for the access log through
// telemetry.RecordCodes; GraphQL responses are recorded by the telemetry extension.
// LoopbackHostOnly guards the whole mux when the service is open on loopback.
package edge

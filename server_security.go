package main

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/kajabi-graphql/facade/graph/edge"
	"github.com/kajabi-graphql/facade/kajabi"
	"github.com/kajabi-graphql/facade/kajabi/sandbox"
)

// Who may ask, and with whose Kajabi credentials.
const (
	// authOpen: anyone who reaches the port, on the service's Kajabi credentials (or the
	// sandbox's). Loopback only unless ALLOW_OPEN=true.
	authOpen = "open"
	// authService: callers present one of the configured API keys; the service's own Kajabi
	// credentials answer them. Callers' Authorization is never forwarded.
	authService = "service"
	// authPassthrough: each caller's own `Authorization: Bearer <Kajabi token>` is
	// forwarded; the service holds no Kajabi secret.
	authPassthrough = "passthrough"
)

const (
	envDevelopment = "development"
	envProduction  = "production"
)

// security is the part of config that decides who may ask and what a request may cost.
type security struct {
	AuthMode    string
	AllowOpen   bool
	APIKeys     *edge.APIKeys // service mode's keys, from API_KEYS and API_KEYS_FILE
	Environment string

	Introspection    bool
	FieldSuggestions bool
	GraphiQL         bool
	CSRFPrevention   bool
	CORSOrigins      []string
	PersistedQueries bool
	Allowlist        *edge.OperationAllowlist

	RequestTimeout time.Duration
	Limits         edge.RequestLimits
}

// loadSecurity reads the security settings once the rest of c is known: their defaults
// depend on whether the service runs on the sandbox, and which mode it is in.
func loadSecurity(c *config, env *envReader, authModeFlag string) error {
	s := &c.security
	s.Environment = strings.ToLower(env.str("ENVIRONMENT", env.str("APP_ENV", "")))
	switch s.Environment {
	case "":
		s.Environment = envProduction
		if c.sandboxMode() {
			s.Environment = envDevelopment
		}
	case envDevelopment, envProduction:
	default:
		return fmt.Errorf("ENVIRONMENT must be %s or %s, got %q", envDevelopment, envProduction, s.Environment)
	}
	dev := s.Environment == envDevelopment
	s.Introspection = env.bool("INTROSPECTION", dev)
	s.FieldSuggestions = env.bool("FIELD_SUGGESTIONS", dev)
	s.GraphiQL = env.bool("GRAPHIQL", dev)
	s.CSRFPrevention = env.bool("CSRF_PREVENTION", true)
	s.PersistedQueries = env.bool("PERSISTED_QUERIES", true)
	s.AllowOpen = env.bool("ALLOW_OPEN", false)
	for o := range strings.SplitSeq(env.str("CORS_ALLOWED_ORIGINS", ""), ",") {
		if o = strings.TrimSpace(o); o != "" {
			s.CORSOrigins = append(s.CORSOrigins, o)
		}
	}
	s.RequestTimeout = env.duration("REQUEST_TIMEOUT", 20*time.Second)
	d := edge.DefaultRequestLimits
	s.Limits = edge.RequestLimits{
		MaxQueryBytes:  int(env.int64("MAX_QUERY_BYTES", int64(d.MaxQueryBytes))),
		MaxTokens:      int(env.int64("MAX_TOKENS", int64(d.MaxTokens))),
		MaxDepth:       int(env.int64("MAX_DEPTH", int64(d.MaxDepth))),
		MaxAliases:     int(env.int64("MAX_ALIASES", int64(d.MaxAliases))),
		MaxDirectives:  int(env.int64("MAX_DIRECTIVES", int64(d.MaxDirectives))),
		MaxStringBytes: int(env.int64("MAX_STRING_BYTES", int64(d.MaxStringBytes))),
		MaxComplexity:  int(env.int64("MAX_COMPLEXITY", int64(d.MaxComplexity))),
	}
	keyList, keyFile := env.str("API_KEYS", ""), env.str("API_KEYS_FILE", "")
	allowlist := env.str("OPERATION_ALLOWLIST", "")
	s.AuthMode = strings.ToLower(env.str("AUTH_MODE", ""))
	if authModeFlag != "" {
		s.AuthMode = strings.ToLower(authModeFlag)
	}
	if env.err != nil {
		return env.err
	}

	if s.RequestTimeout < 0 {
		return fmt.Errorf("REQUEST_TIMEOUT must not be negative, got %v", s.RequestTimeout)
	}
	for name, v := range map[string]int{
		"MAX_QUERY_BYTES": s.Limits.MaxQueryBytes, "MAX_TOKENS": s.Limits.MaxTokens, "MAX_DEPTH": s.Limits.MaxDepth,
		"MAX_ALIASES": s.Limits.MaxAliases, "MAX_DIRECTIVES": s.Limits.MaxDirectives,
		"MAX_STRING_BYTES": s.Limits.MaxStringBytes, "MAX_COMPLEXITY": s.Limits.MaxComplexity,
	} {
		if v < 0 {
			return fmt.Errorf("%s must not be negative (0 turns the limit off), got %d", name, v)
		}
	}

	haveKeys := keyList != "" || keyFile != ""
	if s.AuthMode == "" {
		s.AuthMode = authOpen
		if haveKeys {
			s.AuthMode = authService
		}
	}
	switch s.AuthMode {
	case authService:
		if !haveKeys {
			return errors.New("AUTH_MODE=service needs API keys: set API_KEYS (comma-separated) or API_KEYS_FILE (one per line)")
		}
		keys, err := edge.ParseAPIKeys(keyList, keyFile)
		if err != nil {
			return fmt.Errorf("API_KEYS/API_KEYS_FILE: %w", err)
		}
		s.APIKeys = keys
	case authPassthrough:
		if c.KajabiAccessToken != "" || c.KajabiClientID != "" || c.KajabiClientSecret != "" {
			return errors.New("AUTH_MODE=passthrough forwards each caller's own Kajabi token, so the service holds no Kajabi secret: unset KAJABI_ACCESS_TOKEN, KAJABI_CLIENT_ID and KAJABI_CLIENT_SECRET")
		}
	case authOpen:
		if !s.AllowOpen && !loopbackListen(c.ListenAddr) {
			return fmt.Errorf("AUTH_MODE=open lets anyone who reaches %s use the service's Kajabi credentials: listen on loopback (LISTEN_ADDR=127.0.0.1:8080), set API_KEYS for service mode, or set ALLOW_OPEN=true if something in front of the service checks callers", c.ListenAddr)
		}
	default:
		return fmt.Errorf("AUTH_MODE must be %s, %s or %s, got %q", authOpen, authService, authPassthrough, s.AuthMode)
	}
	if haveKeys && s.AuthMode != authService {
		return fmt.Errorf("API keys are only checked in AUTH_MODE=service, not %s: unset API_KEYS and API_KEYS_FILE or change the mode", s.AuthMode)
	}
	if allowlist != "" {
		a, err := edge.LoadOperationAllowlist(allowlist)
		if err != nil {
			return fmt.Errorf("OPERATION_ALLOWLIST: %w", err)
		}
		s.Allowlist = a
	}
	return nil
}

// loopbackListen reports whether addr only accepts connections from this machine; an
// empty host (":8080") is every interface.
func loopbackListen(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil || host == "" {
		return false
	}
	return edge.IsLoopbackHost(host)
}

// guardsHost is true when the service is open on loopback: then only requests addressed to
// a loopback name are answered (edge.LoopbackHostOnly), which keeps out web pages that
// reach 127.0.0.1 through DNS rebinding. ALLOW_OPEN=true lifts it, for a reverse proxy on
// the same machine that forwards another Host.
func (s security) guardsHost() bool {
	return s.AuthMode == authOpen && !s.AllowOpen
}

// sandboxAuth is how the service signs in to the embedded sandbox: with its documented
// client in open and service mode, not at all in passthrough (callers bring sandbox tokens).
func (s security) sandboxAuth() kajabi.Option {
	if s.AuthMode == authPassthrough {
		return func(*kajabi.Client) error { return nil }
	}
	return kajabi.WithClientCredentials(sandbox.ClientID, sandbox.ClientSecret)
}

// warnings are settings that work but are probably not what was meant.
func (c config) warnings() []string {
	var out []string
	if t := c.RequestTimeout; t > 0 && (t < c.KajabiTimeout || t > 2*c.KajabiTimeout) {
		out = append(out, fmt.Sprintf("REQUEST_TIMEOUT=%v is outside KAJABI_TIMEOUT..2×KAJABI_TIMEOUT (%v..%v): one slow Kajabi call may outlive the request, or a request may wait through several", t, c.KajabiTimeout, 2*c.KajabiTimeout))
	}
	if c.AuthMode == authOpen && c.AllowOpen && !loopbackListen(c.ListenAddr) {
		out = append(out, "AUTH_MODE=open on "+c.ListenAddr+" with ALLOW_OPEN=true: anyone who reaches it uses the service's Kajabi credentials")
	}
	if !c.CSRFPrevention {
		out = append(out, "CSRF_PREVENTION=false: a web page can make a browser send GET queries to this service")
	}
	return out
}

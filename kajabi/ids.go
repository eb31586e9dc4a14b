package kajabi

import (
	"fmt"
	"strconv"
)

// ValidID reports whether id is one Kajabi can have issued: the decimal digits of a
// non-negative 64-bit integer. The spec types ids as strings but every example is digits
// ("123"), as are the sandbox's records and the bigint keys behind them. Only such ids
// are put in a request path: anything else (a "..", a "/", a "?", an escaped dot) could
// make the path name another endpoint, behind a proxy that cleans or decodes paths.
func ValidID(id string) bool {
	if id == "" || len(id) > len("9223372036854775807") {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < '0' || id[i] > '9' {
			return false
		}
	}
	_, err := strconv.ParseInt(id, 10, 64)
	return err == nil
}

// InvalidIDError is a call refused before it was sent, because an id for its path is not
// a Kajabi id (see ValidID).
type InvalidIDError struct {
	Pattern string // the endpoint, e.g. /v1/customers/{id}
	ID      string
}

func (e *InvalidIDError) Error() string {
	id := e.ID
	if len(id) > 32 {
		// The id may be anyone's input; an error is no place to echo a megabyte of it.
		id = id[:32] + "..."
	}
	return fmt.Sprintf("kajabi: %s: %q is not a Kajabi id", e.Pattern, id)
}

package graph

import "github.com/kajabi-graphql/facade/kajabi"

// checkID refuses an id argument that Kajabi cannot have issued, naming the argument,
// before it reaches a loader. The client would refuse it as well (it puts no other id in
// a path), but only here is it known to be the caller's input and which argument it was.
func checkID(arg, id string) error {
	if kajabi.ValidID(id) {
		return nil
	}
	return badInput(arg, "must be a Kajabi id, the digits of a whole number such as \"123\"; got %q", capEcho(id, maxEcho))
}

// checkOptionalID is checkID for an argument that may be left out.
func checkOptionalID(arg string, id *string) error {
	if id == nil {
		return nil
	}
	return checkID(arg, *id)
}

// representationID names the key of a federation representation in its error; the
// error's path, _entities[i], says which representation it was.
const representationID = "representations.id"

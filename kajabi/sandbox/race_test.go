//go:build race

package sandbox_test

// raceEnabled relaxes timing checks that the race detector slows down.
const raceEnabled = true

package live

import (
	"context"
	"testing"
)

// A subscription keeps each kind of its filter once, however often the caller named it:
// the hub matches every event against every subscriber's kinds under its one lock, so a
// list of 90,000 PURCHASE (a 1 MB variable) would be read through for each event.
func TestSubscribeKeepsEachKindOnce(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h := NewHub(ctx, Options{})
	for _, tc := range []struct {
		name  string
		kinds []Kind
		want  int
	}{
		{"none", nil, 0},
		{"one", []Kind{Purchase}, 1},
		{"repeated", repeat(Purchase, 90_000), 1},
		{"two repeated", append(repeat(TagAdded, 500), repeat(Purchase, 500)...), 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			given := append([]Kind(nil), tc.kinds...)
			s, _, err := Subscribe(h, "caller", Filter{Kinds: given}, func(e *Event) *Event { return e }, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if got := len(s.filter.Kinds); got != tc.want {
				t.Errorf("got %d kinds kept, want %d", got, tc.want)
			}
			for i := range given {
				if given[i] != tc.kinds[i] {
					t.Fatalf("got the caller's kinds changed at %d: %s, want %s", i, given[i], tc.kinds[i])
				}
			}
			for _, k := range tc.kinds {
				if !s.filter.matches(&Event{Kind: k}) {
					t.Errorf("got %s not matched, want it matched", k)
				}
			}
		})
	}
}

func repeat(k Kind, n int) []Kind {
	ks := make([]Kind, n)
	for i := range ks {
		ks[i] = k
	}
	return ks
}

package readapi

import (
	"strconv"
	"testing"

	"signet/domain/fault"
)

func TestParseLimit(t *testing.T) {
	cases := []struct {
		in   string
		want int
		ok   bool
	}{
		{"", defaultReviewLimit, true}, {"1", 1, true}, {"200", 200, true},
		{"0", 0, false}, {"201", 0, false}, {"-1", 0, false}, {"+5", 0, false}, {"05", 0, false},
		{" 5", 0, false}, {"5x", 0, false}, {"99999999999999999999", 0, false},
	}
	for _, c := range cases {
		n, err := parseLimit(c.in)
		if c.ok != (err == nil) || n != c.want {
			t.Errorf("parseLimit(%q) = %d, %v", c.in, n, err)
		}
		if f, ok := fault.As(err); err != nil && (!ok || f.Kind != fault.Invalid || f.Field != "limit") {
			t.Errorf("parseLimit(%q): %v", c.in, err)
		}
	}
}

func FuzzParseLimit(f *testing.F) {
	for _, s := range []string{"", "1", "200", "0", "-1", "+5", "05", "1e2", "２"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := parseLimit(s)
		if err != nil {
			if _, ok := fault.As(err); !ok {
				t.Fatalf("parseLimit(%q): %v is not a fault", s, err)
			}
			return
		}
		if n < 1 || n > maxReviewLimit || s != "" && strconv.Itoa(n) != s {
			t.Fatalf("parseLimit(%q) = %d", s, n)
		}
	})
}

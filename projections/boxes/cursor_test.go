package boxes

import (
	"math"
	"testing"
)

func FuzzParseCursor(f *testing.F) {
	f.Add(Cursor(1796485080000, "eee63739-7a88-42b1-8d2f-9a4881e7b2b8"))
	f.Add(Cursor(-1, "a"))
	for _, s := range []string{"", "%%", "MTIz", "MX5h", "TmFOfmE", "SW5mfmE", "MX46"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseCursor(s)
		if err != nil {
			return
		}
		if math.IsNaN(p.score) || math.IsInf(p.score, 0) || p.id == "" {
			t.Fatalf("%q parsed as %+v", s, p)
		}
		if q, err := ParseCursor(Cursor(p.score, p.id)); err != nil || q != p {
			t.Fatalf("%+v does not survive a round trip: %+v %v", p, q, err)
		}
	})
}

func TestCursorRoundTrip(t *testing.T) {
	for _, p := range []position{{1796485080000, "eee63739-7a88-42b1-8d2f-9a4881e7b2b8"}, {0, "a"}, {-12.5, "x_y-z"}} {
		got, err := ParseCursor(Cursor(p.score, p.id))
		if err != nil || got != p {
			t.Fatalf("%+v: %+v %v", p, got, err)
		}
	}
	for _, bad := range []string{"", "!!", Cursor(1, "a:b"), Cursor(math.NaN(), "a"), Cursor(math.Inf(1), "a")} {
		if _, err := ParseCursor(bad); err == nil {
			t.Fatalf("%q accepted", bad)
		}
	}
}

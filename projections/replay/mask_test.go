package replay

import (
	"regexp"
	"testing"
)

func TestScrub(t *testing.T) {
	for in, want := range map[string]string{
		"call 138 0013 8000 please":         "call 138****8000 please",
		"+86 13800138000":                   "+86138****8000",
		"ID 11010519491231002x":             "ID 110*****02X",
		"mail wang.wu@example.com now":      "mail w***@example.com now",
		"account 6222020200112233445":       "account ****3445",
		"due 2026-12-01 14:00, amount 1200": "due 2026-12-01 14:00, amount 1200",
		"１３８００１３８０００":                       "138****8000",
		"ext 13800138000-12":                "ext 138****8000-12",
	} {
		if got := scrub(in); got != want {
			t.Errorf("scrub(%q) = %q, want %q", in, got, want)
		}
	}
}

var mobile = regexp.MustCompile(`(^|[^0-9])1[3-9][0-9]{9}([^0-9Xx]|$)`)

func FuzzScrub(f *testing.F) {
	f.Add("call 138 0013 8000 or wang@example.com, ID 11010519491231002X")
	f.Fuzz(func(t *testing.T, s string) {
		out := scrub(s)
		if m := mobile.FindString(out); m != "" {
			t.Fatalf("scrub(%q) = %q keeps a mobile number", s, out)
		}
	})
}

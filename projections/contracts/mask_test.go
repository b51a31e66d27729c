package contracts

import (
	"fmt"
	"net/netip"
	"signet/domain/identity"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestScrub(t *testing.T) {
	cases := map[string]string{
		"":                               "",
		"金额不对":                           "金额不对",
		"请致电13800138000":                 "请致电138****8000",
		"138 0013 8000 或 138-0013-8000":  "138****8000 或 138****8000",
		"+86 13800138000, 8613800138000": "+86 138****8000, 86138****8000",
		"2026-12-01 13800138000 前答复":     "2026-12-01 138****8000 前答复",
		"2026-12-01 138 0013 8000":       "2026-12-01 138****8000",
		"１３８００１３８０００":                    "138****8000",
		"金额 120000 元，合同号 HT20261130-7K3M9Q2X": "金额 120000 元，合同号 HT20261130-7K3M9Q2X",
		"12800138000 is no mobile":            "12800138000 is no mobile",
		"138001380001 is too long":            "138001380001 is too long",
		"身份证 11010519491231002x。":             "身份证 110*****02X。",
		"老身份证 110105491231002":                "老身份证 110*****002",
		"mail Lin.Xiao@Example.com.":          "mail l***@example.com.",
		"a@b and x@y.cn, z＠qq.com":            "a@b and x***@y.cn, z***@qq.com",
		"13800138000@qq.com":                  "1***@qq.com",
		"x@13800138000.com":                   "x***@138****8000.com",
		"@@@ a@ @b":                           "@@@ a@ @b",
	}
	for in, want := range cases {
		if got := scrub(in); got != want {
			t.Errorf("scrub(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzScrub: whatever surrounds it, a mobile number or email address typed
// into a reason does not survive scrubbing, and scrubbing twice changes
// nothing more.
func FuzzScrub(f *testing.F) {
	for _, s := range []string{"", "请致电 ", "+86 ", "2026-12-01 ", "a@b", "ID 11010519491231002", "１２", "x-", "。"} {
		f.Add(s, "。", uint32(800138000), false)
	}
	f.Add("mail ", ".", uint32(5), true)
	f.Fuzz(func(t *testing.T, before, after string, n uint32, email bool) {
		secret := fmt.Sprintf("1%d%09d", 3+n%7, n%1_000_000_000)
		if email {
			secret = fmt.Sprintf("u%d.x@example.com", n)
		}
		// Only a boundary the secret cannot be read across: not a digit,
		// separator or address character next to it.
		before = strings.TrimRightFunc(before, func(r rune) bool { return r < utf8.RuneSelf || r == '＠' || r >= '０' && r <= '９' })
		after = strings.TrimLeftFunc(after, func(r rune) bool { return r < utf8.RuneSelf || r == '＠' || r >= '０' && r <= '９' })
		in := before + secret + after
		out := scrub(in)
		if strings.Contains(strings.ToLower(out), strings.ToLower(secret)) {
			t.Fatalf("scrub(%q) = %q keeps %s", in, out, secret)
		}
		if again := scrub(out); again != out {
			t.Fatalf("scrub not idempotent: %q -> %q -> %q", in, out, again)
		}
		if raw := scrub(before + after); scrub(raw) != raw {
			t.Fatalf("scrub not idempotent on %q", before+after)
		}
	})
}

// FuzzMaskIP: a masked address is never the address, and only addresses
// are kept at all.
func FuzzMaskIP(f *testing.F) {
	for _, s := range []string{"203.0.113.45", "::ffff:1.2.3.4", "2001:db8::1", "fe80::1%eth0", "", "x", "1.2.3.4.5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m := identity.MaskIP(s)
		a, err := netip.ParseAddr(strings.TrimSpace(s))
		if err != nil {
			if m != "" {
				t.Fatalf("MaskIP(%q) = %q for no address", s, m)
			}
			return
		}
		addr := a.Unmap().WithZone("").String()
		if !strings.HasSuffix(m, "*") || strings.Contains(m, addr) && !strings.HasSuffix(addr, "::") {
			t.Fatalf("MaskIP(%q) = %q", s, m)
		}
	})
}

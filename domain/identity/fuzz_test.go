package identity

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"signet/domain/fault"
)

func checkFault(t *testing.T, err error, field string, codes ...string) {
	t.Helper()
	f, ok := fault.As(err)
	if !ok || f.Kind != fault.Invalid || f.Field != field {
		t.Fatalf("error %v is not an Invalid fault on %q", err, field)
	}
	for _, c := range codes {
		if f.Code == c {
			if f.Message == "" || !utf8.ValidString(f.Message) {
				t.Fatalf("code %s has a bad message %q", c, f.Message)
			}
			return
		}
	}
	t.Fatalf("unexpected code %q (%s)", f.Code, f.Message)
}

func FuzzParseUSCC(f *testing.F) {
	for _, s := range realUSCCs {
		f.Add(s)
	}
	for _, s := range []string{"", "9141082736195979498G", "9I44O30070846II36T", "9144030070B461136T",
		"９１４４０３００７０８４６１１３６ｔ", "914403中0708461136T", "\xff1440300708461136T", "914403007084611308"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseUSCC(s)
		fixes := SuggestUSCCFixes(s)
		if len(fixes) > maxSuggestions {
			t.Fatalf("%d suggestions", len(fixes))
		}
		for _, x := range fixes {
			if _, err := ParseUSCC(x); err != nil {
				t.Fatalf("suggestion %q for %q does not parse: %v", x, s, err)
			}
		}
		if err != nil {
			checkFault(t, err, "uscc", "uscc_empty", "uscc_length", "uscc_character", "uscc_check")
			return
		}
		if len(c.String()) != USCCLen {
			t.Fatalf("accepted %q as %q", s, c)
		}
		again, err := ParseUSCC(c.String())
		if err != nil || again != c {
			t.Fatalf("%q does not round-trip: %v", c, err)
		}
		if len(fixes) == 0 || fixes[0] != c.String() {
			t.Fatalf("valid %q does not suggest itself first: %v", c, fixes)
		}
	})
}

func FuzzParseIDNumber(f *testing.F) {
	for _, s := range []string{"11010519491231002X", "11010519491231002x", "123456199908041236", "350102199003092326",
		"", "110105491231002", "X10105194912310021", "１１０１０５１９４９１２３１００２ｘ", "11010520000230123X"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseIDNumber(s, today)
		masked := MaskIDNumber(s)
		if shown := utf8.RuneCountInString(strings.ReplaceAll(masked, "*", "")); shown > 6 {
			t.Fatalf("MaskIDNumber(%q) = %q shows %d characters", s, masked, shown)
		}
		if err != nil {
			checkFault(t, err, "id_number", "id_number_empty", "id_number_length", "id_number_character",
				"id_number_region", "id_number_birth_date", "id_number_check")
			return
		}
		again, err := ParseIDNumber(n.String(), today)
		if err != nil || again != n {
			t.Fatalf("%q does not round-trip: %v", n, err)
		}
		digits := 0
		for _, r := range n.Masked() {
			if unicode.IsDigit(r) {
				digits++
			}
		}
		if digits > 6 {
			t.Fatalf("Masked() = %q shows %d digits", n.Masked(), digits)
		}
		if b := n.BirthDate(); b.Year() < 1900 || b.After(today) {
			t.Fatalf("%s: birth date %v", n, b)
		}
		if g := n.Gender(); g != "male" && g != "female" {
			t.Fatalf("gender %q", g)
		}
	})
}

func FuzzParseChineseName(f *testing.F) {
	for _, s := range []string{"林小明", "张 三", "买买提•吐尔逊", "JOHN   SMITH", "·张三", "张三·", "张3", "", "ＪＯＨＮ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		name, err := ParseChineseName(s, "name")
		if err != nil {
			checkFault(t, err, "name", "name_empty", "name_length", "name_character")
			return
		}
		if n := utf8.RuneCountInString(name); n < MinNameLen || n > MaxNameLen {
			t.Fatalf("accepted %q with %d characters", name, n)
		}
		again, err := ParseChineseName(name, "name")
		if err != nil || again != name {
			t.Fatalf("%q is not stable: %q, %v", name, again, err)
		}
	})
}

func FuzzParsePhone(f *testing.F) {
	for _, s := range []string{"13800138000", "+86 138-0013-8000", "8613800138000", "１９９１２３４５６７８", "", "0571-88888888"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		masked := MaskPhone(s)
		p, err := ParsePhone(s)
		if err != nil {
			checkFault(t, err, "phone", "invalid_phone")
			if shown := len([]rune(strings.ReplaceAll(masked, "*", ""))); shown > 4 {
				t.Fatalf("MaskPhone(%q) = %q shows %d characters", s, masked, shown)
			}
			return
		}
		if again, err := ParsePhone(p); err != nil || again != p || len(p) != 11 {
			t.Fatalf("%q is not stable: %q, %v", p, again, err)
		}
		if masked != p[:3]+"****"+p[7:] {
			t.Fatalf("MaskPhone(%q) = %q", s, masked)
		}
	})
}

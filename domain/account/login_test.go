package account

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"unicode/utf8"

	"signet/domain/fault"
)

func TestParseLogin(t *testing.T) {
	for _, tc := range []struct {
		in    string
		kind  LoginKind
		value string // "" = refused
	}{
		{"13812345678", Phone, "13812345678"},
		{" 138 1234 5678 ", Phone, "13812345678"},
		{"138-1234-5678", Phone, "13812345678"},
		{"+86 138 1234 5678", Phone, "13812345678"},
		{"+8613812345678", Phone, "13812345678"},
		{"8613812345678", Phone, "13812345678"},
		{"86-138-1234-5678", Phone, "13812345678"},
		{"19912345678", Phone, "19912345678"},
		{"12812345678", "", ""},  // second digit 2
		{"10812345678", "", ""},  // second digit 0
		{"23812345678", "", ""},  // not starting with 1
		{"1381234567", "", ""},   // 10 digits
		{"138123456789", "", ""}, // 12 digits
		{"+8513812345678", "", ""},
		{"+13812345678", "", ""},
		{"0086 13812345678", "", ""},
		{"138１２３45678", "", ""}, // full-width digits
		{"(138)12345678", "", ""},
		{"1381234567a", "", ""},
		{"", "", ""},
		{"   ", "", ""},
		{"Alice@Example.COM", Email, "alice@example.com"},
		{"  bob.smith+tag@mail.example.cn ", Email, "bob.smith+tag@mail.example.cn"},
		{"a@b.co", Email, "a@b.co"},
		{"o'neil@example.com", Email, "o'neil@example.com"},
		{"x@xn--fiqs8s.cn", Email, "x@xn--fiqs8s.cn"},
		{"a@b", "", ""},
		{"a@b.c", "", ""},
		{"a@b.123", "", ""},
		{"@example.com", "", ""},
		{"a@", "", ""},
		{"a@@example.com", "", ""},
		{"a@b@example.com", "", ""},
		{".a@example.com", "", ""},
		{"a.@example.com", "", ""},
		{"a..b@example.com", "", ""},
		{"a b@example.com", "", ""},
		{"a@-example.com", "", ""},
		{"a@example-.com", "", ""},
		{"a@example..com", "", ""},
		{"a@.example.com", "", ""},
		{"张三@example.com", "", ""},
		{"a@例子.中国", "", ""},
		{"\"a\"@example.com", "", ""},
		{"a@[127.0.0.1]", "", ""},
		{strings.Repeat("a", 65) + "@example.com", "", ""},
		{strings.Repeat("a", 64) + "@example.com", Email, strings.Repeat("a", 64) + "@example.com"},
		{"a@" + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 63) + "." + strings.Repeat("e", 58) + ".cn", "", ""}, // 255
	} {
		l, err := ParseLogin(tc.in)
		if tc.value == "" {
			if err == nil {
				t.Errorf("ParseLogin(%q) = %v %q, want refusal", tc.in, l.Kind(), l)
				continue
			}
			f, ok := fault.As(err)
			if !ok || f.Kind != fault.Invalid || f.Code != "invalid_login" || f.Field != "login" {
				t.Errorf("ParseLogin(%q) error = %#v, want Invalid invalid_login on login", tc.in, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseLogin(%q): %v", tc.in, err)
			continue
		}
		if l.Kind() != tc.kind || l.String() != tc.value {
			t.Errorf("ParseLogin(%q) = %s %q, want %s %q", tc.in, l.Kind(), l, tc.kind, tc.value)
		}
	}
}

func TestMask(t *testing.T) {
	for in, want := range map[string]string{
		"13812345678":         "138****5678",
		"alice@example.com":   "a***@example.com",
		"a@example.com":       "a***@example.com",
		"Bob.Smith@Mail.CN":   "b***@mail.cn",
		"+86 199-0000-1111":   "199****1111",
		"x.y+z@sub.domain.io": "x***@sub.domain.io",
	} {
		l, err := ParseLogin(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := l.Mask(); got != want {
			t.Errorf("Mask(%q) = %q, want %q", in, got, want)
		}
	}
	if (Login{}).Mask() != "" {
		t.Error("zero Login masks to something")
	}
}

func TestReservationStreamKeepsKindsApart(t *testing.T) {
	p, _ := ParseLogin("13812345678")
	sum := sha256.Sum256([]byte("phone:13812345678"))
	if want := "accountname-" + hex.EncodeToString(sum[:]); p.ReservationStream() != want {
		t.Errorf("ReservationStream = %q, want %q", p.ReservationStream(), want)
	}
	same, _ := ParseLogin("+86 138-1234-5678")
	if same.ReservationStream() != p.ReservationStream() {
		t.Error("two spellings of one number reserve different streams")
	}
	e1, _ := ParseLogin("A@Example.com")
	e2, _ := ParseLogin("a@example.com")
	if e1.ReservationStream() != e2.ReservationStream() {
		t.Error("email case changes the reservation stream")
	}
	if e1.ReservationStream() == p.ReservationStream() {
		t.Error("phone and email share a stream")
	}
}

func TestLoginOf(t *testing.T) {
	if _, err := LoginOf(Phone, "13812345678"); err != nil {
		t.Error(err)
	}
	for _, c := range []struct {
		k LoginKind
		v string
	}{{Email, "13812345678"}, {Phone, "+8613812345678"}, {Email, "A@example.com"}, {"sms", "13812345678"}} {
		if _, err := LoginOf(c.k, c.v); err == nil {
			t.Errorf("LoginOf(%s, %q) accepted", c.k, c.v)
		}
	}
}

// FuzzParseLogin: never panics; what it accepts is in normal form, parses
// to itself again, and masks without revealing itself.
func FuzzParseLogin(f *testing.F) {
	for _, s := range []string{"13812345678", "+86 138-1234-5678", "8613812345678", "a@b.co", "Alice@Example.COM",
		"a..b@x.cn", "@", "+", "86", "1", "a@b@c.d", "\x00", "１３８", strings.Repeat("a", 300) + "@x.cn"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := ParseLogin(s)
		if err != nil {
			if _, ok := fault.As(err); !ok {
				t.Fatalf("refusal is not a fault: %v", err)
			}
			return
		}
		v := l.String()
		switch l.Kind() {
		case Phone:
			if len(v) != 11 || v[0] != '1' || v[1] < '3' || v[1] > '9' || strings.Trim(v, "0123456789") != "" {
				t.Fatalf("phone %q from %q", v, s)
			}
		case Email:
			if len(v) > MaxEmailLen || strings.ToLower(v) != v || strings.Count(v, "@") != 1 || !utf8.ValidString(v) ||
				strings.TrimSpace(v) != v {
				t.Fatalf("email %q from %q", v, s)
			}
		default:
			t.Fatalf("kind %q from %q", l.Kind(), s)
		}
		again, err := LoginOf(l.Kind(), v)
		if err != nil || again != l {
			t.Fatalf("%q does not parse to itself: %v", v, err)
		}
		m := l.Mask()
		if l.Kind() == Phone && m != v[:3]+"****"+v[7:] {
			t.Fatalf("mask %q of %q", m, v)
		}
		if at := strings.IndexByte(v, '@'); l.Kind() == Email && m != v[:1]+"***"+v[at:] {
			t.Fatalf("mask %q of %q", m, v)
		}
		if rs := l.ReservationStream(); len(rs) != len("accountname-")+64 {
			t.Fatalf("reservation stream %q", rs)
		}
	})
}

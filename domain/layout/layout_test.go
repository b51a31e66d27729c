package layout

import (
	"math"
	"testing"

	"signet/domain/fault"
)

func code(err error) string {
	if f, ok := fault.As(err); ok {
		return f.Code
	}
	if err != nil {
		return "error"
	}
	return ""
}

var (
	docs  = []Document{{ID: "d1", Name: "合同", File: File{SHA256: "x"}, Pages: []Page{A4, {W: 842, H: 595}}}}
	roles = []Role{{ID: "r1", Name: "甲方", Kind: Enterprise, Order: 1}, {ID: "r2", Name: "乙方", Kind: Person, Order: 2}}
)

func TestCheckField(t *testing.T) {
	ok := Rect{X: 10, Y: 10, W: 100, H: 50}
	cases := []struct {
		name string
		f    Field
		code string
	}{
		{"seal for enterprise", Field{Kind: Seal, RoleID: "r1", DocumentID: "d1", Page: 1, Rect: ok}, ""},
		{"signature for person", Field{Kind: Signature, RoleID: "r2", DocumentID: "d1", Page: 2, Rect: ok}, ""},
		{"date for anyone", Field{Kind: SignDate, RoleID: "r2", DocumentID: "d1", Page: 1, Rect: ok}, ""},
		{"seal for person", Field{Kind: Seal, RoleID: "r2", DocumentID: "d1", Page: 1, Rect: ok}, "seal_for_person"},
		{"signature for enterprise", Field{Kind: Signature, RoleID: "r1", DocumentID: "d1", Page: 1, Rect: ok}, "signature_for_enterprise"},
		{"unknown role", Field{Kind: Seal, RoleID: "r9", DocumentID: "d1", Page: 1, Rect: ok}, "unknown_role"},
		{"unknown kind", Field{Kind: "stamp", DocumentID: "d1", Page: 1, Rect: ok}, "invalid_field_kind"},
		{"unknown document", Field{Kind: Seal, RoleID: "r1", DocumentID: "d9", Page: 1, Rect: ok}, "unknown_document"},
		{"page zero", Field{Kind: Seal, RoleID: "r1", DocumentID: "d1", Page: 0, Rect: ok}, "no_such_page"},
		{"page three of two", Field{Kind: Seal, RoleID: "r1", DocumentID: "d1", Page: 3, Rect: ok}, "no_such_page"},
		{"off the right edge", Field{Kind: Seal, RoleID: "r1", DocumentID: "d1", Page: 1, Rect: Rect{X: 500, Y: 10, W: 100, H: 50}}, "field_off_page"},
		{"fits landscape page", Field{Kind: Seal, RoleID: "r1", DocumentID: "d1", Page: 2, Rect: Rect{X: 700, Y: 10, W: 100, H: 50}}, ""},
		{"off landscape top", Field{Kind: Seal, RoleID: "r1", DocumentID: "d1", Page: 2, Rect: Rect{X: 10, Y: 560, W: 100, H: 50}}, "field_off_page"},
		{"negative", Field{Kind: Seal, RoleID: "r1", DocumentID: "d1", Page: 1, Rect: Rect{X: -1, Y: 10, W: 100, H: 50}}, "field_off_page"},
		{"NaN", Field{Kind: Seal, RoleID: "r1", DocumentID: "d1", Page: 1, Rect: Rect{X: math.NaN(), Y: 10, W: 100, H: 50}}, "invalid_rect"},
		{"too small", Field{Kind: Seal, RoleID: "r1", DocumentID: "d1", Page: 1, Rect: Rect{X: 1, Y: 1, W: 2, H: 50}}, "field_too_small"},
		{"business needs a name", Field{Kind: Text, DocumentID: "d1", Page: 1, Rect: ok}, "missing_name"},
		{"choice needs choices", Field{Kind: Choice, Name: "付款方式", DocumentID: "d1", Page: 1, Rect: ok}, "invalid_choices"},
		{"duplicate choice", Field{Kind: Choice, Name: "付款方式", Choices: []string{"月付", "月付"}, DocumentID: "d1", Page: 1, Rect: ok}, "duplicate_choice"},
		{"choice", Field{Kind: Choice, Name: "付款方式", Choices: []string{"月付", " 年付 "}, DocumentID: "d1", Page: 1, Rect: ok}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := CheckField(tc.f, docs, roles)
			if got := code(err); got != tc.code {
				t.Fatalf("code %q, want %q (%v)", got, tc.code, err)
			}
		})
	}
}

func TestCheckValue(t *testing.T) {
	cases := []struct {
		f       Field
		in, out string
		code    string
	}{
		{Field{ID: "a", Kind: Number, Name: "金额", Required: true}, "1,200.5", "1200.5", ""},
		{Field{ID: "a", Kind: Number, Name: "金额", Required: true}, "", "", "missing_value"},
		{Field{ID: "a", Kind: Number, Name: "金额"}, "", "", ""},
		{Field{ID: "a", Kind: Number, Name: "金额"}, "1e9", "", "invalid_number"},
		{Field{ID: "a", Kind: Number, Name: "金额"}, "Inf", "", "invalid_number"},
		{Field{ID: "a", Kind: Number, Name: "金额"}, "壹佰", "", "invalid_number"},
		{Field{ID: "a", Kind: Date, Name: "起租日"}, "2026/1/5", "2026-01-05", ""},
		{Field{ID: "a", Kind: Date, Name: "起租日"}, "2026年12月31日", "2026-12-31", ""},
		{Field{ID: "a", Kind: Date, Name: "起租日"}, "2026-02-30", "", "invalid_date"},
		{Field{ID: "a", Kind: Choice, Name: "付款方式", Choices: []string{"月付", "年付"}}, "年付", "年付", ""},
		{Field{ID: "a", Kind: Choice, Name: "付款方式", Choices: []string{"月付", "年付"}}, "周付", "", "unknown_choice"},
		{Field{ID: "a", Kind: Text, Name: "地址"}, " 杭州市 ", "杭州市", ""},
	}
	for _, tc := range cases {
		got, err := CheckValue(tc.f, tc.in)
		if code(err) != tc.code || got != tc.out {
			t.Errorf("%s %q: got %q %v, want %q %q", tc.f.Kind, tc.in, got, err, tc.out, tc.code)
		}
	}
}

// FuzzCheckValue: typed values are outside input; never a panic, always a
// fault or a value that checks again to itself.
func FuzzCheckValue(f *testing.F) {
	for _, s := range []string{"1,200", "2026/1/5", "年付", "", "\x00", "1e400"} {
		f.Add(s)
	}
	fields := []Field{
		{ID: "n", Kind: Number, Name: "n"}, {ID: "d", Kind: Date, Name: "d"}, {ID: "t", Kind: Text, Name: "t"},
		{ID: "c", Kind: Choice, Name: "c", Choices: []string{"月付", "年付"}},
	}
	f.Fuzz(func(t *testing.T, in string) {
		for _, fd := range fields {
			v, err := CheckValue(fd, in)
			if err != nil {
				if _, ok := fault.As(err); !ok {
					t.Fatalf("not a fault: %v", err)
				}
				continue
			}
			again, err := CheckValue(fd, v)
			if err != nil || again != v {
				t.Fatalf("%s: %q normalised to %q, which checks to %q %v", fd.Kind, in, v, again, err)
			}
		}
	})
}

package identity

import (
	"strings"
	"testing"
)

func TestMasks(t *testing.T) {
	tests := []struct {
		name string
		mask func(string) string
		in   string
		want string
	}{
		{"id", MaskIDNumber, "350102199003092326", "350*****326"},
		{"id any string", MaskIDNumber, "1234567", "123*****567"},
		{"id short", MaskIDNumber, "123456", "******"},
		{"id empty", MaskIDNumber, "", ""},
		{"id runes", MaskIDNumber, "张三李四王五赵", "张三李*****王五赵"},
		{"phone", MaskPhone, "13800138000", "138****8000"},
		{"phone spelled", MaskPhone, "+86 138-0013-8000", "138****8000"},
		{"phone full-width", MaskPhone, "１３８００１３８０００", "138****8000"},
		{"landline", MaskPhone, "0571-88888888", "05********88"},
		{"phone 5", MaskPhone, "12345", "1***5"},
		{"phone 3", MaskPhone, "123", "***"},
		{"phone empty", MaskPhone, "", ""},
		{"bank", MaskBankAccount, "6222 0212 3456 1234", "****1234"},
		{"bank hyphens", MaskBankAccount, "6222-0212-3456-1234", "****1234"},
		{"bank short", MaskBankAccount, "123456", "****456"},
		{"bank tiny", MaskBankAccount, "1", "****"},
		{"bank empty", MaskBankAccount, "", "****"},
	}
	for _, tt := range tests {
		if got := tt.mask(tt.in); got != tt.want {
			t.Errorf("%s: mask(%q) = %q, want %q", tt.name, tt.in, got, tt.want)
		}
	}
}

func TestParsePhone(t *testing.T) {
	for in, want := range map[string]string{
		"13800138000":       "13800138000",
		"138 0013 8000":     "13800138000",
		"138-0013-8000":     "13800138000",
		"+8613800138000":    "13800138000",
		"+86 138 0013 8000": "13800138000",
		"8613800138000":     "13800138000",
		"１９９１２３４５６７８":       "19912345678",
	} {
		got, err := ParsePhone(in)
		if err != nil || got != want {
			t.Errorf("ParsePhone(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "12800138000", "1380013800", "138001380001", "1380013800a", "+85213800138000", "0571-88888888", "86138001380"} {
		_, err := ParsePhone(in)
		f := mustFault(t, err, "phone", "invalid_phone")
		if !strings.Contains(f.Message, "11 digits") {
			t.Errorf("ParsePhone(%q): message %q", in, f.Message)
		}
	}
}

func TestParseChineseName(t *testing.T) {
	for in, want := range map[string]string{
		"林小明":                   "林小明",
		" 井然 ":                  "井然",
		"张 三":                   "张三",
		"张\u3000三":              "张三",
		"买买提·吐尔逊":               "买买提·吐尔逊",
		"买买提•吐尔逊":               "买买提·吐尔逊",
		"买买提.吐尔逊":               "买买提·吐尔逊",
		"买买提．吐尔逊":               "买买提·吐尔逊",
		"买买提 · 吐尔逊":             "买买提·吐尔逊",
		"John Smith":            "John Smith",
		"JOHN   SMITH":          "JOHN SMITH",
		"ＪＯＨＮ ＳＭＩＴＨ":            "JOHN SMITH",
		"José Núñez":            "José Núñez",
		"欧阳娜娜":                  "欧阳娜娜",
		strings.Repeat("阿", 30): strings.Repeat("阿", 30),
	} {
		got, err := ParseChineseName(in, "legal_rep_name")
		if err != nil || got != want {
			t.Errorf("ParseChineseName(%q) = %q, %v; want %q", in, got, err, want)
		}
	}

	tests := []struct {
		in, code, says string
	}{
		{"", "name_empty", "Enter the name"},
		{" \u3000 ", "name_empty", "Enter the name"},
		{"林", "name_length", "this one has 1"},
		{strings.Repeat("阿", 31), "name_length", "this one has 31"},
		{"张3", "name_character", "2nd character, “3”"},
		{"张三!", "name_character", "“!”"},
		{"张-三", "name_character", "“-”"},
		{"张\x00三", "name_character", "invisible"},
		{"·张三", "name_character", "middle dot"},
		{"张··三", "name_character", "middle dot"},
		{"张三·", "name_character", "cannot end with a middle dot"},
		{"Иван", "name_character", "“И”"},
	}
	for _, tt := range tests {
		_, err := ParseChineseName(tt.in, "legal_rep_name")
		f := mustFault(t, err, "legal_rep_name", tt.code)
		if !strings.Contains(f.Message, tt.says) {
			t.Errorf("ParseChineseName(%q): message %q does not say %q", tt.in, f.Message, tt.says)
		}
	}
}

func TestOrdinal(t *testing.T) {
	for n, want := range map[int]string{1: "1st", 2: "2nd", 3: "3rd", 4: "4th", 11: "11th", 12: "12th", 13: "13th", 18: "18th", 21: "21st", 22: "22nd", 101: "101st", 111: "111th"} {
		if got := ordinal(n); got != want {
			t.Errorf("ordinal(%d) = %q, want %q", n, got, want)
		}
	}
}

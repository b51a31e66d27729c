package identity

import (
	"strings"
	"testing"

	"signet/domain/fault"
)

// Published codes of real organisations (licences, registers, the
// python-stdnum test corpus): if one of these fails, the algorithm is wrong.
var realUSCCs = []string{
	"91440300708461136T", // 华为投资控股有限公司
	"91350100M000100Y43",
	"91110000802100433B",
	"9111000071093123XX",
	"91110000600037341L",
	"121200004013590816", // authority 1 (机构编制), type 2 (事业单位)
	"91110000710926094P",
	"91120224064012553U",
	"9115220107837941X1",
	"9131012056010553X5",
	"91310115MA1K3BTP2B",
	"91340600MA2PBM9HXD",
	"91340603MA2UJXXCXF",
	"913505007821784439",
	"9144030071526726XG",
	"9144060573144633XL",
	"91620105L015101280",
	"91620105MA73NBBLXE",
	"92340603MA2PBQ16XJ",
	"92340621MA2PBN0KXX",
	"92340621MA2UK3PJXE",
}

func TestParseUSCCAcceptsRealCodes(t *testing.T) {
	for _, s := range realUSCCs {
		c, err := ParseUSCC(s)
		if err != nil {
			t.Errorf("ParseUSCC(%q): %v", s, err)
			continue
		}
		if c.String() != s {
			t.Errorf("ParseUSCC(%q).String() = %q", s, c.String())
		}
		if got, want := c.IndividualBusiness(), strings.HasPrefix(s, "92"); got != want {
			t.Errorf("%s: IndividualBusiness() = %v", s, got)
		}
	}
}

func TestParseUSCCNormalises(t *testing.T) {
	for _, in := range []string{
		"  91440300708461136T\t",
		"91440300708461136t",
		"9144 0300 7084 6113 6T",
		"91-440300-708461136-T",
		"9144\u30000300708461136T", // ideographic space
		"９１４４０３００７０８４６１１３６Ｔ",       // full-width
		"９１４４０３００７０８４６１１３６ｔ",
	} {
		c, err := ParseUSCC(in)
		if err != nil {
			t.Errorf("ParseUSCC(%q): %v", in, err)
			continue
		}
		if c.String() != "91440300708461136T" {
			t.Errorf("ParseUSCC(%q) = %q", in, c)
		}
	}
}

func TestParseUSCCRefusals(t *testing.T) {
	tests := []struct {
		name, in, code string
		says           []string
	}{
		{"empty", "", "uscc_empty", []string{"18 characters"}},
		{"only spaces", " \u3000 - ", "uscc_empty", nil},
		{"seed sample has 20 characters", "9141082736195979498G", "uscc_length",
			[]string{"A unified social credit code has 18 characters; this one has 20.", "extra"}},
		{"seed individual-business example has 19", "91410105055979498", "uscc_length", []string{"this one has 17", "missing"}},
		{"too short", "9144030070846113", "uscc_length", []string{"this one has 16"}},
		{"letter O in the division code", "9144O300708461136T", "uscc_character",
			[]string{"5th", "“O”", "I, O, S, V and Z never appear", "the digit 0", "Did you mean 91440300708461136T?"}},
		{"letter O where a letter may stand suggests 0 and D", "914403007O8461136T", "uscc_character",
			[]string{"10th", "the digit 0 or the letter D", "Did you mean 91440300708461136T?"}},
		{"letter I", "91440300708461I36T", "uscc_character", []string{"15th", "the digit 1", "Did you mean 91440300708461136T?"}},
		{"several forbidden letters", "9I44O30070846II36T", "uscc_character", []string{"2nd", "Did you mean 91440300708461136T?"}},
		{"letter S", "9144030070846113ST", "uscc_character", []string{"17th", "the digit 5"}},
		{"letter Z", "9Z440300708461136T", "uscc_character", []string{"2nd", "the digit 2"}},
		{"letter V", "914403007084611V6T", "uscc_character", []string{"letter U"}},
		{"punctuation", "91440300708461136#", "uscc_character", []string{"18th", "“#”", "only the digits 0 to 9"}},
		{"Han character", "914403中0708461136T", "uscc_character", []string{"7th", "“中”"}},
		{"invalid UTF-8", "\xff1440300708461136T", "uscc_character", []string{"1st", "invisible or invalid"}},
		{"unknown authority", "P1440300708461136T", "uscc_character", []string{"1st", "registration authority"}},
		{"authority 0", "01440300708461136T", "uscc_character", []string{"registration authority"}},
		{"organisation type 0", "90440300708461136T", "uscc_character", []string{"2nd", "organisation type"}},
		{"letter in the division code", "91A40300708461136T", "uscc_character", []string{"3rd to 8th", "3rd is “A”"}},
		{"wrong check character", "91440300708461136X", "uscc_check",
			[]string{"should be “T”", "not “X”", "0/O/D, 1/I, 8/B, 2/Z, 5/S and G/C",
				"positions 2, 5, 7, 8, 10, 11, 14 and 15."}},
		{"B read for 8", "9144030070B461136T", "uscc_check", []string{"Did you mean 91440300708461136T?"}},
		{"D read for 0", "914403007D8461136T", "uscc_check", []string{"Did you mean 91440300708461136T?"}},
		{"C read for G", "9144030071526726XC", "uscc_check", []string{"should be “G”", "Did you mean 9144030071526726XG?"}},
		{"organisation code check", "914403007084611308", "uscc_check",
			[]string{"17th", "should be “6”, not “0”", "positions 10, 11, 14, 15 and 17"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseUSCC(tt.in)
			f := mustFault(t, err, "uscc", tt.code)
			for _, s := range tt.says {
				if !strings.Contains(f.Message, s) {
					t.Errorf("message %q does not say %q", f.Message, s)
				}
			}
		})
	}
}

// Every single look-alike swap in a real code is caught, and the suggestion
// leads back to the real code.
func TestUSCCLookalikeSwapsAreCaughtAndFixed(t *testing.T) {
	for _, real := range realUSCCs {
		for i := 0; i < len(real); i++ {
			for _, a := range []byte(lookalikes[real[i]]) {
				typo := real[:i] + string(a) + real[i+1:]
				if _, err := ParseUSCC(typo); err == nil {
					t.Errorf("%s (from %s) was accepted", typo, real)
					continue
				}
				fixes := SuggestUSCCFixes(typo)
				if !contains(fixes, real) {
					t.Errorf("SuggestUSCCFixes(%s) = %v, want it to include %s", typo, fixes, real)
				}
			}
		}
	}
}

func TestSuggestUSCCFixes(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"91440300708461136T", []string{"91440300708461136T"}},
		{"9I44O30070846II36T", []string{"91440300708461136T"}},
		{"9i44o30070846ii36t", []string{"91440300708461136T"}},
		{"9141082736195979498G", nil}, // wrong length
		{"91440300708461136#", nil},   // not a look-alike
		{"9I44O3OO7O846II36T", nil},   // too many forbidden letters to try
		{"91440300708461136X", nil},   // X has no look-alike
		{"914403中0708461136T", nil},
	}
	for _, tt := range tests {
		got := SuggestUSCCFixes(tt.in)
		if strings.Join(got, ",") != strings.Join(tt.want, ",") {
			t.Errorf("SuggestUSCCFixes(%q) = %v, want %v", tt.in, got, tt.want)
		}
		for _, g := range got {
			if _, err := ParseUSCC(g); err != nil {
				t.Errorf("suggestion %s does not parse: %v", g, err)
			}
		}
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func mustFault(t *testing.T, err error, field, code string) *fault.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("accepted, want %s", code)
	}
	f, ok := fault.As(err)
	if !ok {
		t.Fatalf("error %v is not a *fault.Error", err)
	}
	if f.Kind != fault.Invalid || f.Field != field || f.Code != code {
		t.Fatalf("got kind %d field %q code %q (%s), want Invalid %q %q", f.Kind, f.Field, f.Code, f.Message, field, code)
	}
	return f
}

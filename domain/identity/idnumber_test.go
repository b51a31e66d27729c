package identity

import (
	"strings"
	"testing"
	"time"
)

var today = time.Date(2026, 5, 1, 15, 0, 0, 0, time.UTC)

// withCheck appends GB 11643's check character to 17 digits, deriving the
// weights as the standard defines them (2^(i-1) mod 11, i counted from the
// right) rather than reusing the package's table.
func withCheck(t *testing.T, body string) string {
	t.Helper()
	if len(body) != 17 {
		t.Fatalf("body %q is not 17 digits", body)
	}
	sum := 0
	for i := 0; i < 17; i++ {
		w := 1
		for k := 0; k < 17-i; k++ {
			w = w * 2 % 11
		}
		sum += int(body[i]-'0') * w
	}
	return body + string("10X98765432"[sum%11])
}

func TestParseIDNumberAccepts(t *testing.T) {
	tests := []struct {
		in, want, masked, birth, gender string
	}{
		// GB 11643-1999's own example.
		{"11010519491231002X", "11010519491231002X", "110*****02X", "1949-12-31", "female"},
		{"11010519491231002x", "11010519491231002X", "110*****02X", "1949-12-31", "female"},
		{" 110105 19491231 002x ", "11010519491231002X", "110*****02X", "1949-12-31", "female"},
		{"１１０１０５１９４９１２３１００２ｘ", "11010519491231002X", "110*****02X", "1949-12-31", "female"},
		{"360426199101010071", "360426199101010071", "360*****071", "1991-01-01", "male"},
		{"44011320141005001X", "44011320141005001X", "440*****01X", "2014-10-05", "male"},
		// Shaped like the seed's screens (350*****326).
		{"350102199003092326", "350102199003092326", "350*****326", "1990-03-09", "female"},
	}
	for _, tt := range tests {
		n, err := ParseIDNumber(tt.in, today)
		if err != nil {
			t.Errorf("ParseIDNumber(%q): %v", tt.in, err)
			continue
		}
		if n.String() != tt.want || n.Masked() != tt.masked || n.BirthDate().Format(time.DateOnly) != tt.birth || n.Gender() != tt.gender {
			t.Errorf("ParseIDNumber(%q) = %s %s %s %s, want %s %s %s %s", tt.in,
				n, n.Masked(), n.BirthDate().Format(time.DateOnly), n.Gender(), tt.want, tt.masked, tt.birth, tt.gender)
		}
	}
}

func TestParseIDNumberBirthDateBounds(t *testing.T) {
	for _, tt := range []struct {
		date string
		ok   bool
	}{
		{"19000101", true},
		{"18991231", false},
		{"20000229", true}, // 2000 is a leap year
		{"19000229", false},
		{"20240229", true},
		{"20250229", false},
		{"20260501", true}, // today
		{"20260502", false},
		{"19990431", false},
		{"19990400", false},
		{"19990001", false},
	} {
		id := withCheck(t, "330106"+tt.date+"123")
		_, err := ParseIDNumber(id, today)
		if tt.ok && err != nil {
			t.Errorf("%s: %v", id, err)
		}
		if !tt.ok {
			f := mustFault(t, err, "id_number", "id_number_birth_date")
			if !strings.Contains(f.Message, tt.date) {
				t.Errorf("%s: message %q does not name the date", id, f.Message)
			}
		}
	}
}

// "Today" is the caller's calendar day: just after midnight in Beijing a
// child born that day is already born, though it is still yesterday in UTC.
func TestParseIDNumberTodayIsTheCallersDay(t *testing.T) {
	beijing := time.FixedZone("CST", 8*3600)
	now := time.Date(2026, 5, 1, 0, 30, 0, 0, beijing)
	id := withCheck(t, "33010620260501123")
	if _, err := ParseIDNumber(id, now); err != nil {
		t.Errorf("born today in Beijing: %v", err)
	}
	if _, err := ParseIDNumber(id, now.UTC()); err == nil {
		t.Error("born tomorrow by UTC was accepted")
	}
}

func TestParseIDNumberAcceptsEveryProvince(t *testing.T) {
	for p := range idProvinces {
		id := withCheck(t, p+"010519850612345")
		if _, err := ParseIDNumber(id, today); err != nil {
			t.Errorf("%s: %v", id, err)
		}
		// Foreigners' permanent residence cards: 9, then the province.
		id = withCheck(t, "9"+p+"84019850612345")
		_, err := ParseIDNumber(id, today)
		if p[0] <= '6' && err != nil {
			t.Errorf("%s: %v", id, err)
		}
		if p[0] > '6' {
			mustFault(t, err, "id_number", "id_number_region")
		}
	}
}

func TestParseIDNumberRefusals(t *testing.T) {
	tests := []struct {
		name, in, code string
		says           []string
	}{
		{"empty", "  ", "id_number_empty", []string{"18-character"}},
		{"seed sample: check digit", "123456199908041236", "id_number_check",
			[]string{"the last character should be 8, not 6", "misread or mistyped"}},
		{"wrong check X", "110105194912310021", "id_number_check", []string{"should be X, not 1"}},
		{"too short", "1101051949123100", "id_number_length", []string{"18 characters; this one has 16"}},
		{"too long", "11010519491231002X1", "id_number_length", []string{"this one has 19"}},
		{"first-generation", "110105491231002", "id_number_length", []string{"this one has 15", "first-generation"}},
		{"X inside", "X10105194912310021", "id_number_character", []string{"1st", "only the last character may be X"}},
		{"letter", "1101051949123a002X", "id_number_character", []string{"14th", "“a”", "not a digit"}},
		{"full-width letter", "1101051949123ａ002X", "id_number_character", []string{"14th", "“a”"}},
		{"hyphen", "110105-19491231002", "id_number_character", []string{"7th", "“-”"}},
		{"unknown province 99", withCheck(t, "99010519491231002"), "id_number_region", []string{"99 is not one"}},
		{"province 00", withCheck(t, "00010519491231002"), "id_number_region", []string{"00"}},
		{"9 without a province", withCheck(t, "90010519491231002"), "id_number_region", []string{"90"}},
		{"month 13", withCheck(t, "11010519991304123"), "id_number_birth_date", []string{"19991304", "no month 13"}},
		{"30 February", withCheck(t, "11010520000230123"), "id_number_birth_date", []string{"20000230", "February 2000 has 29 days"}},
		{"future", withCheck(t, "11010520990804123"), "id_number_birth_date", []string{"20990804", "after today"}},
		{"before 1900", withCheck(t, "11010518990804123"), "id_number_birth_date", []string{"18990804", "before 1900"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseIDNumber(tt.in, today)
			f := mustFault(t, err, "id_number", tt.code)
			for _, s := range tt.says {
				if !strings.Contains(f.Message, s) {
					t.Errorf("message %q does not say %q", f.Message, s)
				}
			}
		})
	}
}

// Every single-digit change of a valid number is caught.
func TestParseIDNumberCatchesEverySingleDigitChange(t *testing.T) {
	valid := "11010519491231002X"
	for i := 14; i < 18; i++ {
		for _, c := range "0123456789X" {
			if byte(c) == valid[i] || c == 'X' && i != 17 {
				continue
			}
			typo := valid[:i] + string(c) + valid[i+1:]
			if _, err := ParseIDNumber(typo, today); err == nil {
				t.Errorf("%s was accepted", typo)
			}
		}
	}
}

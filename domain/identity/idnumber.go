package identity

import (
	"fmt"
	"time"

	"signet/domain/fault"
)

// IDNumberLen is the length of a resident ID number.
const IDNumberLen = 18

var idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

const idCheckChars = "10X98765432"

// idProvinces are the first two digits in use: the provinces of GB/T 2260,
// 71 Taiwan, 81/82 Hong Kong and Macao and 83 Taiwan residence permits.
var idProvinces = map[string]bool{
	"11": true, "12": true, "13": true, "14": true, "15": true,
	"21": true, "22": true, "23": true,
	"31": true, "32": true, "33": true, "34": true, "35": true, "36": true, "37": true,
	"41": true, "42": true, "43": true, "44": true, "45": true, "46": true,
	"50": true, "51": true, "52": true, "53": true, "54": true,
	"61": true, "62": true, "63": true, "64": true, "65": true,
	"71": true, "81": true, "82": true, "83": true,
}

// plausibleRegion accepts a province code, or a 9 followed by one: the
// foreigners' permanent residence ID card of 2023 puts the issuing province
// after a leading 9 (91... for Beijing, 93... for Shanghai).
func plausibleRegion(s string) bool {
	if s[0] == '9' {
		return idProvinces[s[1:3]] && s[1] <= '6'
	}
	return idProvinces[s[:2]]
}

// IDNumber is a mainland resident ID number (公民身份号码, GB 11643-1999)
// whose structure, birth date and check digit are right. It says nothing of
// whether the number was issued or to whom: that is for the verification
// service.
type IDNumber struct{ s string }

// String is the 18 characters, with an upper-case X as check digit.
func (n IDNumber) String() string { return n.s }

// Masked is the number as screens show it: "350*****326".
func (n IDNumber) Masked() string { return MaskIDNumber(n.s) }

// BirthDate is the date of birth at 00:00 UTC.
func (n IDNumber) BirthDate() time.Time {
	y, m, d := birthParts(n.s)
	return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
}

// Gender is "male" or "female", from the parity of the 17th digit.
func (n IDNumber) Gender() string {
	if (n.s[16]-'0')%2 == 1 {
		return "male"
	}
	return "female"
}

func birthParts(s string) (y, m, d int) {
	return atoi(s[6:10]), atoi(s[10:12]), atoi(s[12:14])
}

func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

func idErr(code, format string, args ...any) error {
	return fault.Invalidf("id_number", code, format, args...)
}

// ParseIDNumber checks an 18-character resident ID number as typed or read
// by OCR, with the birth date judged against today (the caller's clock).
// Refusals are *fault.Error Invalid on "id_number" with codes
// id_number_empty, id_number_length, id_number_character, id_number_region,
// id_number_birth_date and id_number_check.
func ParseIDNumber(s string, today time.Time) (IDNumber, error) {
	r := []rune(compact(s, false))
	if len(r) == 0 {
		return IDNumber{}, idErr("id_number_empty", "Enter the 18-character ID number printed on the ID card.")
	}
	if len(r) != IDNumberLen {
		if len(r) == 15 {
			return IDNumber{}, idErr("id_number_length",
				"An ID number has 18 characters; this one has 15, like the first-generation cards. Enter the 18-character number of the current ID card.")
		}
		return IDNumber{}, idErr("id_number_length",
			"An ID number has 18 characters; this one has %d. Copy it exactly from the ID card.", len(r))
	}
	for i, c := range r {
		if c == 'x' {
			c, r[i] = 'X', 'X'
		}
		if c >= '0' && c <= '9' || c == 'X' && i == IDNumberLen-1 {
			continue
		}
		if c == 'X' {
			return IDNumber{}, idErr("id_number_character",
				"The %s character of this ID number is an X, but only the last character may be X; the others are digits.", ordinal(i+1))
		}
		return IDNumber{}, idErr("id_number_character",
			"The %s character of this ID number, %s, is not a digit: an ID number is 17 digits followed by a digit or X.",
			ordinal(i+1), quoteRune(c))
	}
	s = string(r)
	if !plausibleRegion(s) {
		return IDNumber{}, idErr("id_number_region",
			"An ID number starts with the code of the province where it was issued, but %s is not one. Check the first two digits.", s[:2])
	}
	if err := checkBirth(s, today); err != nil {
		return IDNumber{}, err
	}
	if want := idCheck(s); s[17] != want {
		return IDNumber{}, idErr("id_number_check",
			"This ID number does not add up: for the 17 digits before it, the last character should be %c, not %c. One of the characters was probably misread or mistyped; compare them with the ID card.",
			want, s[17])
	}
	return IDNumber{s: s}, nil
}

func checkBirth(s string, today time.Time) error {
	y, m, d := birthParts(s)
	date := s[6:14]
	bad := func(why string) error {
		return idErr("id_number_birth_date",
			"The birth date in this ID number (7th to 14th digits), %s, %s. Check those digits against the ID card.", date, why)
	}
	if m < 1 || m > 12 {
		return bad(fmt.Sprintf("is not a real date: there is no month %d", m))
	}
	if last := daysIn(y, m); d < 1 || d > last {
		return bad(fmt.Sprintf("is not a real date: %s %d has %d days", time.Month(m), y, last))
	}
	if y < 1900 {
		return bad("is before 1900")
	}
	ty, tm, td := today.Date()
	if y*10000+m*100+d > ty*10000+int(tm)*100+td {
		return bad("is after today")
	}
	return nil
}

func daysIn(y, m int) int {
	return time.Date(y, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// idCheck is GB 11643's check character for the first 17 digits of s.
func idCheck(s string) byte {
	sum := 0
	for i, w := range idWeights {
		sum += int(s[i]-'0') * w
	}
	return idCheckChars[sum%11]
}

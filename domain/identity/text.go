// Package identity parses and masks the identifiers that enterprise
// real-name verification deals in: the unified social credit code of an
// organisation (GB 32100-2015), the resident ID number of a person
// (GB 11643-1999), names and mobile numbers. It is pure: no I/O and no clock;
// whoever needs "today" passes it in.
package identity

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"signet/domain/fault"
)

// fold maps full-width ASCII (what Chinese input methods type) and the
// ideographic space to plain ASCII, so "９１３５" and "9135" are the same.
func fold(r rune) rune {
	switch {
	case r >= 0xFF01 && r <= 0xFF5E:
		return r - 0xFEE0
	case r == 0x3000:
		return ' '
	}
	return r
}

// compact folds s, drops every space and, when dropHyphens is set, every
// hyphen or dash: people group long codes as "9135 0100 ..." or with dashes.
func compact(s string, dropHyphens bool) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		r = fold(r)
		if unicode.IsSpace(r) {
			continue
		}
		if dropHyphens && (r == '-' || r >= 0x2010 && r <= 0x2015) {
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// ordinal is "1st", "2nd", "3rd", "4th", ... "11th", "12th", "13th", "21st".
func ordinal(n int) string {
	suffix := "th"
	if n%100 < 11 || n%100 > 13 {
		switch n % 10 {
		case 1:
			suffix = "st"
		case 2:
			suffix = "nd"
		case 3:
			suffix = "rd"
		}
	}
	return itoa(n) + suffix
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var d [20]byte
	i := len(d)
	for n > 0 {
		i--
		d[i] = byte('0' + n%10)
		n /= 10
	}
	return string(d[i:])
}

// listPositions renders 1-based positions as "3", "3 and 7" or "3, 7 and 9".
func listPositions(ps []int) string {
	var b strings.Builder
	for i, p := range ps {
		switch {
		case i == 0:
		case i == len(ps)-1:
			b.WriteString(" and ")
		default:
			b.WriteString(", ")
		}
		b.WriteString(itoa(p))
	}
	return b.String()
}

// MaskIDNumber hides an ID number for display whatever its shape: the first
// 3 and last 3 characters around five stars ("350*****326"); a string of
// fewer than 7 characters is all stars, since 3+3 would reveal most of it.
func MaskIDNumber(s string) string {
	r := []rune(s)
	if len(r) < 7 {
		return strings.Repeat("*", len(r))
	}
	return string(r[:3]) + "*****" + string(r[len(r)-3:])
}

// MaskPhone hides a phone number for display: a mainland mobile number (in
// any accepted spelling) becomes "138****8000"; anything else keeps at most
// the first 2 and last 2 characters, fewer when it is short.
func MaskPhone(s string) string {
	if p, ok := parsePhone(s); ok {
		return p[:3] + "****" + p[7:]
	}
	r := []rune(compact(s, true))
	keep := min(2, len(r)/4)
	return string(r[:keep]) + strings.Repeat("*", len(r)-2*keep) + string(r[len(r)-keep:])
}

// MaskBankAccount hides a bank account number behind a fixed "****" and the
// last 4 characters ("****1234"); short numbers show at most half of
// themselves. The fixed prefix does not reveal the length.
func MaskBankAccount(s string) string {
	r := []rune(compact(s, true))
	keep := min(4, len(r)/2)
	return "****" + string(r[len(r)-keep:])
}

// ParsePhone accepts a mainland mobile number, with spaces, hyphens,
// full-width digits and a +86 or 86 prefix allowed, and returns its 11 digits.
func ParsePhone(s string) (string, error) {
	p, ok := parsePhone(s)
	if !ok {
		return "", fault.Invalidf("phone", "invalid_phone",
			"Enter a mainland China mobile number: 11 digits starting with 13 to 19, optionally preceded by +86.")
	}
	return p, nil
}

// parsePhone is the rule of signet/domain/account's login parser, kept here
// so that identity imports no other domain package.
func parsePhone(s string) (string, bool) {
	d := compact(s, true)
	switch {
	case strings.HasPrefix(d, "+86"):
		d = d[3:]
	case len(d) == 13 && strings.HasPrefix(d, "86"):
		d = d[2:]
	}
	if len(d) != 11 || d[0] != '1' || d[1] < '3' || d[1] > '9' {
		return "", false
	}
	for i := 2; i < len(d); i++ {
		if d[i] < '0' || d[i] > '9' {
			return "", false
		}
	}
	return d, true
}

// Name length bounds, in characters; transliterated names written in Han
// with middle dots run long.
const (
	MinNameLen = 2
	MaxNameLen = 30
)

// isDot reports the characters people type for the middle dot that
// separates the parts of a transliterated name (买买提·吐尔逊).
func isDot(r rune) bool {
	switch r {
	case '·', '•', '.', '・', '‧', '∙', '⋅':
		return true
	}
	return false
}

func isNameLetter(r rune) bool {
	return unicode.Is(unicode.Han, r) || isLatin(r)
}

func isLatin(r rune) bool { return unicode.Is(unicode.Latin, r) && unicode.IsLetter(r) }

// ParseChineseName checks and normalises a person's legal name as written on
// an ID card or a business licence: Han characters or Latin letters, parts
// joined by a middle dot "·" (any look-alike dot is turned into one) and,
// for names in Latin letters, single spaces between words. Spaces next to
// Han characters are dropped, so "张 三" is 张三. Refusals are on field.
func ParseChineseName(s, field string) (string, error) {
	in := []rune(strings.TrimSpace(s))
	for i, r := range in {
		in[i] = fold(r)
	}
	if len(strings.TrimSpace(string(in))) == 0 {
		return "", fault.Invalidf(field, "name_empty", "Enter the name as it is written on the ID card or business licence.")
	}
	var out []rune
	space := false // a space is pending between two words
	for i, r := range in {
		switch {
		case unicode.IsSpace(r):
			space = true
			continue
		case isDot(r):
			r = '·'
			if len(out) == 0 || out[len(out)-1] == '·' {
				return "", nameCharErr(field, i, in[i])
			}
		case isNameLetter(r):
			if space && len(out) > 0 && isLatin(out[len(out)-1]) && isLatin(r) {
				out = append(out, ' ')
			}
		default:
			return "", nameCharErr(field, i, in[i])
		}
		space = false
		out = append(out, r)
	}
	if out[len(out)-1] == '·' {
		return "", fault.Invalidf(field, "name_character",
			"The name cannot end with a middle dot (·); it only joins the parts of a name.")
	}
	if n := len(out); n < MinNameLen || n > MaxNameLen {
		return "", fault.Invalidf(field, "name_length",
			"A name has %d to %d characters; this one has %d. Enter it exactly as on the ID card or business licence.",
			MinNameLen, MaxNameLen, n)
	}
	return string(out), nil
}

func nameCharErr(field string, i int, r rune) error {
	shown := string(r)
	if r == utf8.RuneError || !unicode.IsPrint(r) {
		shown = "an invisible or invalid character"
	} else {
		shown = "“" + shown + "”"
	}
	if isDot(r) {
		return fault.Invalidf(field, "name_character",
			"The %s character, %s, is a middle dot where none belongs: it may only join two parts of a name, as in 买买提·吐尔逊.",
			ordinal(i+1), shown)
	}
	return fault.Invalidf(field, "name_character",
		"The %s character, %s, cannot be part of a name: use only Chinese characters or Latin letters, a middle dot (·) between the parts of a name and spaces between Latin words.",
		ordinal(i+1), shown)
}

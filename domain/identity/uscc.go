package identity

import (
	"fmt"
	"strings"

	"signet/domain/fault"
)

// USCCLen is the length of a unified social credit code.
const USCCLen = 18

// usccAlphabet is GB 32100's character set; a character's index is its value
// in the check sum. I, O, S, V and Z are left out because they are read as
// 1, 0, 5, U and 2.
const usccAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"

// usccWeights are 3^i mod 31 for the first 17 characters.
var usccWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

// orgWeights are GB 11714's weights for the 8 body characters of the
// organisation code held in characters 9 to 16.
var orgWeights = [8]int{3, 7, 9, 10, 5, 8, 4, 2}

// Registration authorities (1st character) and organisation types (2nd) that
// GB 32100 and its later assignments use; the division code (3rd to 8th) is
// only checked for being digits, as national bodies use 100000.
const (
	usccAuthorities = "123456789ABCDEFGHJKLMNY"
	usccTypes       = "123456789"
)

// lookalikes maps a character to the ones it is mistaken for, within the
// alphabet. The letters outside the alphabet are here only as keys: that is
// what someone reading a licence by eye or by OCR most often gets wrong.
var lookalikes = map[byte]string{
	'O': "0D", 'I': "1", 'S': "5", 'Z': "2", 'V': "U",
	'0': "D", 'D': "0", '8': "B", 'B': "8", 'G': "C", 'C': "G",
}

// confusable are the alphabet characters worth pointing at when a check
// fails (0/O/D, 1/I, 8/B, 2/Z, 5/S, G/C).
const confusable = "0D18B25GC"

const forbiddenLetters = "IOSVZ"

// maxSuggestions bounds what a refusal offers as "did you mean".
const maxSuggestions = 3

// USCC is a unified social credit code (统一社会信用代码) that passed
// GB 32100's structure and both of its check characters.
type USCC struct{ s string }

// String is the 18 normalised characters.
func (c USCC) String() string { return c.s }

// IndividualBusiness reports a code of an individual business (个体工商户,
// "92..."), which may have no registered name.
func (c USCC) IndividualBusiness() bool { return strings.HasPrefix(c.s, "92") }

// normalizeUSCC drops spaces and hyphens, folds full-width characters and
// upper-cases ASCII letters only, so other characters are reported as typed.
func normalizeUSCC(s string) []rune {
	r := []rune(compact(s, true))
	for i, c := range r {
		if c >= 'a' && c <= 'z' {
			r[i] = c - 'a' + 'A'
		}
	}
	return r
}

// ParseUSCC checks a unified social credit code (GB 32100-2015) as a person
// types or an OCR reads it. Refusals are *fault.Error Invalid on "uscc" with
// codes uscc_empty, uscc_length, uscc_character and uscc_check, each saying
// what to correct.
func ParseUSCC(s string) (USCC, error) {
	r := normalizeUSCC(s)
	if len(r) == 0 {
		return USCC{}, fault.Invalidf("uscc", "uscc_empty",
			"Enter the unified social credit code: the 18 characters printed on the business licence.")
	}
	if len(r) != USCCLen {
		hint := "Some are missing"
		if len(r) > USCCLen {
			hint = "There are extra characters"
		}
		return USCC{}, fault.Invalidf("uscc", "uscc_length",
			"A unified social credit code has 18 characters; this one has %d. %s: copy it exactly from the business licence.",
			len(r), hint)
	}
	for i, c := range r {
		if msg := usccCharProblem(i, c); msg != "" {
			if fixes := SuggestUSCCFixes(s); len(fixes) > 0 {
				msg += " " + didYouMean(fixes)
			}
			return USCC{}, fault.Invalidf("uscc", "uscc_character", "%s", msg)
		}
	}
	b := []byte(string(r))
	if want := usccCheck(b); b[17] != want {
		return USCC{}, checkErr(b, b[17], want, 1, 18,
			"The last character of this unified social credit code should be “%c” for the 17 before it, not “%c”", s)
	}
	if want := orgCheck(b); b[16] != want {
		return USCC{}, checkErr(b, b[16], want, 9, 17,
			"The 17th character of this unified social credit code checks the organisation code in the 9th to 16th and should be “%c”, not “%c”", s)
	}
	return USCC{s: string(b)}, nil
}

// usccCharProblem says what is wrong with character c at 0-based position i,
// or "" when it may stand there.
func usccCharProblem(i int, c rune) string {
	pos := func() string { return ordinal(i + 1) }
	if c < 0x80 && strings.IndexByte(forbiddenLetters, byte(c)) >= 0 {
		msg := "The " + pos() + " character is the letter “" + string(c) +
			"”, but the letters I, O, S, V and Z never appear in a unified social credit code."
		var alts []string
		for _, a := range lookalikes[byte(c)] {
			if usccCharProblem(i, a) == "" {
				alts = append(alts, describeChar(byte(a)))
			}
		}
		if len(alts) > 0 {
			msg += " It is probably " + strings.Join(alts, " or ") + "."
		}
		return msg
	}
	if c >= 0x80 || strings.IndexByte(usccAlphabet, byte(c)) < 0 {
		return "The " + pos() + " character, " + quoteRune(c) +
			", cannot appear in a unified social credit code, which uses only the digits 0 to 9 and the capital letters A to Y except I, O, S, V and Z."
	}
	switch {
	case i == 0 && strings.IndexByte(usccAuthorities, byte(c)) < 0:
		return "The 1st character, “" + string(c) +
			"”, is not a registration authority code: a unified social credit code starts with a digit from 1 to 9, a letter from A to N, or Y (9 for businesses registered with the market regulator)."
	case i == 1 && strings.IndexByte(usccTypes, byte(c)) < 0:
		return "The 2nd character, “" + string(c) +
			"”, is not an organisation type code: it is a digit from 1 to 9 (91 is a company, 92 an individual business)."
	case i >= 2 && i <= 7 && (c < '0' || c > '9'):
		return "The 3rd to 8th characters are the administrative division code and are all digits, but the " + pos() +
			" is “" + string(c) + "”."
	}
	return ""
}

func describeChar(c byte) string {
	if c >= '0' && c <= '9' {
		return "the digit " + string(c)
	}
	return "the letter " + string(c)
}

func quoteRune(c rune) string {
	if c == '\uFFFD' || c < 0x20 || c == 0x7F || c >= 0x80 && c < 0xA0 {
		return "an invisible or invalid character"
	}
	return "“" + string(c) + "”"
}

// usccCheck is GB 32100's 18th character for the first 17 of b.
func usccCheck(b []byte) byte {
	sum := 0
	for i, w := range usccWeights {
		sum += strings.IndexByte(usccAlphabet, b[i]) * w
	}
	return usccAlphabet[(31-sum%31)%31]
}

// orgCheck is GB 11714's check character over characters 9 to 16, where a
// letter counts by its place in the full Latin alphabet (A=10 ... Z=35).
func orgCheck(b []byte) byte {
	sum := 0
	for i, w := range orgWeights {
		c := b[8+i]
		v := int(c - '0')
		if c >= 'A' {
			v = int(c-'A') + 10
		}
		sum += v * w
	}
	switch r := 11 - sum%11; r {
	case 10:
		return 'X'
	case 11:
		return '0'
	default:
		return byte('0' + r)
	}
}

// validUSCC reports whether 18 bytes form a code ParseUSCC accepts.
func validUSCC(b []byte) bool {
	for i, c := range b {
		if usccCharProblem(i, rune(c)) != "" {
			return false
		}
	}
	return usccCheck(b) == b[17] && orgCheck(b) == b[16]
}

// checkErr explains a check-character mismatch and points at the positions
// from..to (1-based) that the check covers and hold easily confused
// characters.
func checkErr(b []byte, got, want byte, from, to int, format, input string) error {
	msg := fmt.Sprintf(format, want, got) + ", so one of its characters was probably misread or mistyped."
	var at []int
	for i := from - 1; i < to; i++ {
		if strings.IndexByte(confusable, b[i]) >= 0 {
			at = append(at, i+1)
		}
	}
	if len(at) > 0 {
		word := "positions"
		if len(at) == 1 {
			word = "position"
		}
		msg += " The easily confused ones are 0/O/D, 1/I, 8/B, 2/Z, 5/S and G/C; in this code look at " + word + " " + listPositions(at) + "."
	}
	if fixes := SuggestUSCCFixes(input); len(fixes) > 0 {
		msg += " " + didYouMean(fixes)
	}
	return fault.Invalidf("uscc", "uscc_check", "%s", msg)
}

func didYouMean(fixes []string) string {
	return "Did you mean " + strings.Join(fixes, " or ") + "?"
}

// SuggestUSCCFixes returns up to 3 valid codes that s may have been meant
// as (s itself first when it is valid): every forbidden letter (I, O, S, V, Z) replaced by a look-alike, plus
// at most one more swap of 0/D, 8/B or G/C. It returns nil when s is not 18
// characters or nothing fits. The work is bounded: at most 4 forbidden
// letters are tried, so at most 16 × 18 × 2 candidates.
func SuggestUSCCFixes(s string) []string {
	r := normalizeUSCC(s)
	if len(r) != USCCLen {
		return nil
	}
	b := make([]byte, USCCLen)
	var forced []int
	var isForced [USCCLen]bool
	for i, c := range r {
		if c >= 0x80 {
			return nil
		}
		b[i] = byte(c)
		if strings.IndexByte(forbiddenLetters, b[i]) >= 0 {
			forced = append(forced, i)
			isForced[i] = true
		} else if strings.IndexByte(usccAlphabet, b[i]) < 0 {
			return nil
		}
	}
	if len(forced) > 4 {
		return nil
	}
	var out []string
	try := func() {
		if len(out) < maxSuggestions && validUSCC(b) {
			for _, o := range out {
				if o == string(b) {
					return
				}
			}
			out = append(out, string(b))
		}
	}
	var walk func(k int)
	walk = func(k int) {
		if k < len(forced) {
			i := forced[k]
			orig := b[i]
			for _, a := range []byte(lookalikes[orig]) {
				b[i] = a
				walk(k + 1)
			}
			b[i] = orig
			return
		}
		try()
		for i, orig := range b {
			if isForced[i] {
				continue
			}
			for _, a := range []byte(lookalikes[orig]) {
				b[i] = a
				try()
			}
			b[i] = orig
		}
	}
	walk(0)
	return out
}

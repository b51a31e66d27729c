package enterprises

import (
	"strings"

	"signet/domain/identity"
)

// minDigitRun is the shortest run of digits scrub masks: shorter than any
// phone, ID or bank account number the domain accepts, longer than the
// dates, times and counts that details carry.
const minDigitRun = 7

// scrub masks what looks like a phone, ID or account number in free text
// (failure details, a reviewer's reason, OCR output). The domain masks its
// details already; this is the second line for text it did not write. A run
// is digits with at most single spaces between them ("138 0013 8000"), so
// grouped numbers are caught while "2026-11-30 15:04" is left alone;
// full-width digits are folded first.
func scrub(s string) string {
	s = foldDigits(s)
	if digitCount(s) < minDigitRun {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	digits := make([]byte, 0, 32)
	for i := 0; i < len(s); {
		if !isDigit(s[i]) {
			b.WriteByte(s[i])
			i++
			continue
		}
		j := i
		digits = digits[:0]
		for j < len(s) {
			if isDigit(s[j]) {
				digits = append(digits, s[j])
				j++
			} else if s[j] == ' ' && j+1 < len(s) && isDigit(s[j+1]) {
				j++
			} else {
				break
			}
		}
		if len(digits) == 17 && j < len(s) && (s[j] == 'X' || s[j] == 'x') {
			digits = append(digits, 'X') // an ID number's check character
			j++
		}
		run := string(digits)
		switch n := len(digits); {
		case n < minDigitRun:
			b.WriteString(s[i:j])
		case n == 11 && run[0] == '1':
			b.WriteString(identity.MaskPhone(run))
		case n == 15 || n == 18:
			b.WriteString(identity.MaskIDNumber(run))
		default:
			b.WriteString(identity.MaskBankAccount(run))
		}
		i = j
	}
	return b.String()
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func digitCount(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if isDigit(s[i]) {
			n++
		}
	}
	return n
}

func isWideDigit(r rune) bool { return r >= '０' && r <= '９' }

// foldDigits turns full-width digits (what Chinese input methods type) into
// ASCII ones.
func foldDigits(s string) string {
	if !strings.ContainsFunc(s, isWideDigit) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if isWideDigit(r) {
			return r - '０' + '0'
		}
		return r
	}, s)
}

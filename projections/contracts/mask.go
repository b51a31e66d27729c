package contracts

import (
	"strings"

	"signet/domain/account"
	"signet/domain/identity"
)

// scrub masks phone numbers, ID numbers and email addresses in free text
// that people type (a refusal's reason): the parties' contacts must not
// reach Redis in full, not even quoted in a reason. Full-width digits and
// '＠' are folded first; a phone may be grouped with single spaces or
// dashes ("138 0013 8000") and carry a +86 or 86 prefix.
func scrub(s string) string {
	s = fold(s)
	if strings.IndexByte(s, '@') >= 0 {
		s = scrubEmails(s)
	}
	return scrubNumbers(s)
}

func fold(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= '０' && r <= '９':
			return r - '０' + '0'
		case r == '＠':
			return '@'
		}
		return r
	}, s)
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isLocalChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || isDigit(c) || strings.IndexByte(".!#$%&'*+/=?^_`{|}~-", c) >= 0
}

func isDomainChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || isDigit(c) || c == '.' || c == '-'
}

// scrubEmails replaces every address around an '@' with its mask.
func scrubEmails(s string) string {
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); i++ {
		if s[i] != '@' {
			continue
		}
		from := i
		for from > last && isLocalChar(s[from-1]) {
			from--
		}
		to := i + 1
		for to < len(s) && isDomainChar(s[to]) {
			to++
		}
		// Sentence punctuation is no part of the address.
		for from < i && s[from] == '.' {
			from++
		}
		for to > i+1 && (s[to-1] == '.' || s[to-1] == '-') {
			to--
		}
		l, err := account.ParseLogin(s[from:to])
		if err != nil || l.Kind() != account.Email {
			continue
		}
		b.WriteString(s[last:from])
		b.WriteString(l.Mask())
		last, i = to, to-1
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// scrubNumbers masks mobile numbers (with or without 86 in front) and ID
// numbers in runs of digit groups separated by single spaces or dashes
// ("138 0013 8000", "2026-12-01 13800138000"): from each group, the longest
// sequence of consecutive groups that forms such a number is masked. Other
// numbers (amounts, dates, contract numbers) stay.
func scrubNumbers(s string) string {
	var b strings.Builder
	last := 0
	var groups [][2]int // byte ranges of the digit groups of one run
	for i := 0; i < len(s); {
		if !isDigit(s[i]) {
			i++
			continue
		}
		groups = groups[:0]
		j := i
		for {
			k := j
			for k < len(s) && isDigit(s[k]) {
				k++
			}
			if k-j == 17 && k < len(s) && (s[k] == 'X' || s[k] == 'x') {
				k++ // an ID number's check character
			}
			groups = append(groups, [2]int{j, k})
			if k+1 < len(s) && (s[k] == ' ' || s[k] == '-') && isDigit(s[k+1]) {
				j = k + 1
				continue
			}
			j = k
			break
		}
		for a := 0; a < len(groups); {
			end, masked, cc := -1, "", false
			var digits strings.Builder
			for z := a; z < len(groups) && digits.Len()+groups[z][1]-groups[z][0] <= 18; z++ {
				digits.WriteString(s[groups[z][0]:groups[z][1]])
				if m, c := maskNumber(digits.String(), z == a); m != "" {
					end, masked, cc = z, m, c
				}
			}
			if end < 0 {
				a++
				continue
			}
			from := groups[a][0]
			if cc && groups[a][1]-groups[a][0] == 2 {
				// "+86 138 0013 8000": the country code keeps its spacing.
				from, masked = groups[a+1][0], masked[2:]
			}
			b.WriteString(s[last:from])
			b.WriteString(masked)
			last, a = groups[end][1], end+1
		}
		i = j
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// maskNumber masks d when it is a mobile number, 86 and a mobile number
// (cc), or, typed as one group, an ID number (15 digits, or 18 with a
// digit or X last); else "". Grouped, 15 digits are more often a date and
// a mobile number ("12-01 13800138000") than an ID number.
func maskNumber(d string, oneGroup bool) (masked string, cc bool) {
	switch {
	case isMobile(d):
		return identity.MaskPhone(d), false
	case len(d) == 13 && strings.HasPrefix(d, "86") && isMobile(d[2:]):
		return "86" + identity.MaskPhone(d[2:]), true
	case oneGroup && (len(d) == 15 || len(d) == 18):
		return identity.MaskIDNumber(strings.ToUpper(d)), false
	}
	return "", false
}

func isMobile(d string) bool {
	if len(d) != 11 || d[0] != '1' || d[1] < '3' || d[1] > '9' {
		return false
	}
	for i := 2; i < len(d); i++ {
		if !isDigit(d[i]) {
			return false
		}
	}
	return true
}

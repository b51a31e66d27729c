package completion

import (
	"fmt"
	"net/netip"
	"strings"

	"signet/domain/account"
	"signet/domain/identity"
)

// The certificate is handed to every party and kept for years: it must never
// show a full phone number, email address, ID number, USCC or client IP. The
// caller passes masked values; these functions mask again, so a value that
// arrives unmasked is still printed masked. Each leaves an already masked
// value as it is.

// maskLogin masks a phone number or email address ("138****8000",
// "l***@example.com"); anything else is scrubbed as free text.
func maskLogin(s string) string {
	s = strings.TrimSpace(s)
	if l, err := account.ParseLogin(s); err == nil {
		return l.Mask()
	}
	return scrub(s)
}

// maskUSCC keeps the first and last 4 characters of an unmasked code.
func maskUSCC(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || strings.Contains(s, "*") {
		return scrub(s)
	}
	if c, err := identity.ParseUSCC(s); err == nil {
		s = c.String()
	}
	r := []rune(s)
	if len(r) < 12 {
		return strings.Repeat("*", len(r))
	}
	return string(r[:4]) + strings.Repeat("*", len(r)-8) + string(r[len(r)-4:])
}

// maskIDNumber masks an ID number as the rest of signet does ("330*****23X").
func maskIDNumber(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || strings.Contains(s, "*") {
		return scrub(s)
	}
	return identity.MaskIDNumber(s)
}

// maskIP keeps the network and hides the host, as the contract read models
// do: "203.0.113.*", "2001:db8:1:2::*". A masked address stays; anything
// else is dropped.
func maskIP(s string) string {
	s = strings.TrimSpace(s)
	a, err := netip.ParseAddr(s)
	if err != nil {
		if strings.HasSuffix(s, "*") && strings.Count(s, "*") == 1 && strings.Trim(s, "0123456789abcdefABCDEF.:*") == "" {
			return s
		}
		return ""
	}
	a = a.Unmap().WithZone("")
	if a.Is4() {
		b := a.As4()
		return fmt.Sprintf("%d.%d.%d.*", b[0], b[1], b[2])
	}
	p := netip.PrefixFrom(a, 64).Masked().Addr().String()
	if !strings.HasSuffix(p, "::") {
		p += ":"
	}
	return p + "*"
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// scrub masks what looks like a mobile number, an ID number or an email
// address in free text (a title, a name typed by a person), as the contract
// read models do: a number may be grouped with single spaces or hyphens
// ("138 0013 8000") and carry 86 in front; digits glued to letters
// ("HT20250304...") are an identifier and stay.
func scrub(s string) string {
	if strings.IndexByte(s, '@') >= 0 {
		s = scrubEmails(s)
	}
	var b strings.Builder
	last := 0
	var groups [][2]int // byte ranges of the digit groups of one run
	for i := 0; i < len(s); {
		if !isDigit(s[i]) {
			i++
			continue
		}
		if i > 0 && isWordByte(s[i-1]) {
			for i < len(s) && (isDigit(s[i]) || isWordByte(s[i])) {
				i++
			}
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
		if j < len(s) && isWordByte(s[j]) {
			groups = groups[:len(groups)-1] // the last group is glued to letters
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
		for i < len(s) && (isDigit(s[i]) || isWordByte(s[i])) {
			i++
		}
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// isWordByte: digits glued to letters are an identifier, not a number.
func isWordByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_'
}

// maskNumber masks d when it is a mobile number, 86 and a mobile number
// (cc), or, typed as one group, an ID number (15 digits, or 18 with a digit
// or X last); else "". Grouped, 15 digits are more often a date and a
// mobile number than an ID number.
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

func isLocalByte(c byte) bool {
	return isWordByte(c) || isDigit(c) || strings.IndexByte(".!#$%&'*+/=?^`{|}~-", c) >= 0
}

func isDomainByte(c byte) bool {
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
		for from > last && isLocalByte(s[from-1]) {
			from--
		}
		to := i + 1
		for to < len(s) && isDomainByte(s[to]) {
			to++
		}
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

package replay

import (
	"regexp"
	"strings"

	"signet/domain/account"
	"signet/domain/contract"
	"signet/domain/identity"
)

// maskContact masks a party's contact as the contracts read model does.
func maskContact(c contract.Contact) (kind, masked string) {
	if l, err := account.LoginOf(account.LoginKind(c.Kind), c.Value); err == nil {
		return string(l.Kind()), l.Mask()
	}
	return c.Kind, identity.MaskPhone(c.Value)
}

var (
	// digit runs, single spaces or dashes allowed inside, an ID number's X last
	numberRun = regexp.MustCompile(`\d(?:[ -]?\d){6,}[Xx]?`)
	emailAddr = regexp.MustCompile(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}`)
)

// scrub masks phone, ID and account numbers and email addresses in free
// text people typed (a reason), as the read models' scrubbers do: a run of
// 7 or more digits, grouped by single spaces or dashes, is masked as a
// phone or ID number when it is one, else as an account number unless it
// is dashed (dates). Full-width digits are folded first.
func scrub(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r >= '０' && r <= '９':
			return r - '０' + '0'
		case r == '＠':
			return '@'
		}
		return r
	}, s)
	s = emailAddr.ReplaceAllStringFunc(s, func(m string) string {
		at := strings.IndexByte(m, '@')
		return m[:1] + "***" + m[at:]
	})
	return numberRun.ReplaceAllStringFunc(s, func(m string) string {
		if masked, ok := maskNumber(strings.NewReplacer(" ", "", "-", "").Replace(m)); ok {
			return masked
		}
		if !strings.Contains(m, "-") {
			return identity.MaskBankAccount(strings.ReplaceAll(m, " ", ""))
		}
		// Dashed: a date or a contract number, unless a group of it is a
		// phone or ID number ("13800138000-1").
		return numberGroup.ReplaceAllStringFunc(m, func(g string) string {
			if masked, ok := maskNumber(g); ok {
				return masked
			}
			return g
		})
	})
}

var numberGroup = regexp.MustCompile(`\d+[Xx]?`)

// maskNumber masks d when it is a mobile number, 86 and one, or an ID number.
func maskNumber(d string) (string, bool) {
	switch {
	case len(d) == 11 && d[0] == '1':
		return identity.MaskPhone(d), true
	case len(d) == 13 && strings.HasPrefix(d, "861"):
		return "86" + identity.MaskPhone(d[2:]), true
	case len(d) == 15 || len(d) == 18:
		return identity.MaskIDNumber(strings.ToUpper(d)), true
	}
	return "", false
}

// Package account is the account aggregate: registration with a phone number
// or an email address as login, the rules a registration form must satisfy,
// and the login reservation that makes a login unique across accounts.
//
// The package is pure: no I/O and no clock; callers pass the time in.
package account

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"unicode/utf8"

	"signet/domain/event"
	"signet/domain/fault"
)

// LoginKind says whether a login is a mobile number or an email address. The
// two kinds never merge: a phone account and an email account of the same
// person are two accounts (手机号和邮箱账号不互通).
type LoginKind string

const (
	Phone LoginKind = "phone"
	Email LoginKind = "email"
)

// Valid reports whether k is one of the known kinds.
func (k LoginKind) Valid() bool { return k == Phone || k == Email }

// MaxEmailLen is the longest email address accepted (RFC 5321 path limit less
// the angle brackets).
const MaxEmailLen = 254

// ReservationCategory is the stream category of login reservations.
const ReservationCategory = "accountname"

// Login is a normalised login: an 11-digit mainland mobile number or a
// lower-cased email address. The zero Login is not valid.
type Login struct {
	kind  LoginKind
	value string
}

var errInvalidLogin = fault.Invalidf("login", "invalid_login",
	"enter a mainland China mobile number (11 digits) or an email address")

// ParseLogin accepts a mainland mobile number (11 digits 1[3-9]xxxxxxxxx;
// spaces and dashes are ignored, a +86 or 86 prefix is dropped) or an email
// address (trimmed and lower-cased, at most 254 characters). Anything else is
// a *fault.Error Invalid "invalid_login" on field "login".
func ParseLogin(s string) (Login, error) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 4*MaxEmailLen {
		return Login{}, errInvalidLogin
	}
	if strings.Contains(s, "@") {
		e, ok := parseEmail(s)
		if !ok {
			return Login{}, errInvalidLogin
		}
		return Login{kind: Email, value: e}, nil
	}
	p, ok := parsePhone(s)
	if !ok {
		return Login{}, errInvalidLogin
	}
	return Login{kind: Phone, value: p}, nil
}

// LoginOf rebuilds a Login from a stored kind and value, checking that the
// value is already in normal form.
func LoginOf(kind LoginKind, value string) (Login, error) {
	l, err := ParseLogin(value)
	if err != nil || l.kind != kind || l.value != value {
		return Login{}, errInvalidLogin
	}
	return l, nil
}

// phoneSeparators are the spaces and dashes people group phone digits with.
var phoneSeparators = strings.NewReplacer(" ", "", "-", "")

func parsePhone(s string) (string, bool) {
	d := phoneSeparators.Replace(s)
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

func parseEmail(s string) (string, bool) {
	if !utf8.ValidString(s) || len(s) > MaxEmailLen {
		return "", false
	}
	s = strings.ToLower(s)
	at := strings.IndexByte(s, '@')
	if at != strings.LastIndexByte(s, '@') {
		return "", false
	}
	local, domain := s[:at], s[at+1:]
	if !validLocal(local) || !validDomain(domain) {
		return "", false
	}
	return s, true
}

// validLocal accepts a dot-atom local part of RFC 5322 (no quoted strings).
func validLocal(l string) bool {
	if l == "" || len(l) > 64 || l[0] == '.' || l[len(l)-1] == '.' || strings.Contains(l, "..") {
		return false
	}
	for i := 0; i < len(l); i++ {
		c := l[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case strings.IndexByte(".!#$%&'*+/=?^_`{|}~-", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// validDomain accepts an ASCII host name of at least two labels whose last
// label (the TLD) is not numeric. IDNs must be given in punycode.
func validDomain(d string) bool {
	if len(d) < 3 || len(d) > 253 {
		return false
	}
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	tld := labels[len(labels)-1]
	if len(tld) < 2 {
		return false
	}
	for i := 0; i < len(tld); i++ {
		if tld[i] < '0' || tld[i] > '9' {
			return true
		}
	}
	return false
}

// Kind is phone or email ("" for the zero Login).
func (l Login) Kind() LoginKind { return l.kind }

// String is the normalised value: 11 digits or a lower-case email address.
func (l Login) String() string { return l.value }

// IsZero reports whether l is the zero Login.
func (l Login) IsZero() bool { return l.value == "" }

// Mask hides most of the login for display and logs: "138****5678",
// "a***@example.com".
func (l Login) Mask() string {
	switch l.kind {
	case Phone:
		return l.value[:3] + "****" + l.value[7:]
	case Email:
		at := strings.IndexByte(l.value, '@')
		return l.value[:1] + "***" + l.value[at:]
	}
	return ""
}

// Hash is the hex SHA-256 of "<kind>:<value>", the login's identity in
// reservation streams and keys (so the login itself appears in neither).
func (l Login) Hash() string {
	sum := sha256.Sum256([]byte(string(l.kind) + ":" + l.value))
	return hex.EncodeToString(sum[:])
}

// ReservationStream is "accountname-<Hash>", the stream whose first event
// reserves this login for one account.
func (l Login) ReservationStream() string {
	return event.StreamName(ReservationCategory, l.Hash())
}

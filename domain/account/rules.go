package account

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"signet/domain/fault"
)

// Limits of the registration form.
const (
	MinPasswordLen  = 8   // characters (runes)
	MaxPasswordLen  = 128 // characters (runes)
	MaxNameLen      = 50  // runes
	MaxCompanyLen   = 100 // runes
	MaxInvitedByLen = 100 // runes

	// NoCompany is what the form asks for when there is no company yet (若暂无，填写无).
	NoCompany = "无"
)

// CheckPassword enforces the password policy: 8 to 128 characters with at
// least one ASCII digit, one lower-case and one upper-case ASCII letter; other
// printable characters (including non-ASCII) are allowed, control characters
// are not. Refusals are Invalid on field "password": "weak_password", or
// "password_too_long".
func CheckPassword(pw string) error {
	weak := func(msg string) error { return fault.Invalidf("password", "weak_password", "%s", msg) }
	if !utf8.ValidString(pw) {
		return weak("the password is not valid text")
	}
	n := utf8.RuneCountInString(pw)
	if n > MaxPasswordLen {
		return fault.Invalidf("password", "password_too_long", "the password must be at most %d characters", MaxPasswordLen)
	}
	if n < MinPasswordLen {
		return weak("the password must be at least 8 characters long and contain digits, lower-case and upper-case letters")
	}
	var digit, lower, upper bool
	for _, r := range pw {
		switch {
		case r >= '0' && r <= '9':
			digit = true
		case r >= 'a' && r <= 'z':
			lower = true
		case r >= 'A' && r <= 'Z':
			upper = true
		case unicode.IsControl(r):
			return weak("the password must not contain control characters")
		}
	}
	if !digit || !lower || !upper {
		return weak("the password must contain digits, lower-case and upper-case letters")
	}
	return nil
}

// cleanText trims s and checks it is valid UTF-8 without control or
// format characters (which include bidi overrides and zero-width joiners).
func cleanText(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if !utf8.ValidString(s) {
		return "", false
	}
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == utf8.RuneError {
			return "", false
		}
	}
	return s, true
}

// CheckName validates a real name (真实姓名): 1 to 50 characters after
// trimming, no control characters. It returns the trimmed name.
func CheckName(s string) (string, error) {
	n, ok := cleanText(s)
	switch {
	case !ok:
		return "", fault.Invalidf("name", "invalid_name", "the name must not contain control characters")
	case n == "":
		return "", fault.Invalidf("name", "name_required", "enter the account holder's real name")
	case utf8.RuneCountInString(n) > MaxNameLen:
		return "", fault.Invalidf("name", "invalid_name", "the name must be at most %d characters", MaxNameLen)
	}
	return n, nil
}

// CheckCompany validates the company name as on the business licence, or
// "无" when there is none: required, at most 100 characters.
func CheckCompany(s string) (string, error) {
	c, ok := cleanText(s)
	switch {
	case !ok:
		return "", fault.Invalidf("company", "invalid_company", "the company name must not contain control characters")
	case c == "":
		return "", fault.Invalidf("company", "company_required", "enter the company name as on the business licence, or %s if there is none", NoCompany)
	case utf8.RuneCountInString(c) > MaxCompanyLen:
		return "", fault.Invalidf("company", "invalid_company", "the company name must be at most %d characters", MaxCompanyLen)
	}
	return c, nil
}

// CheckInvitedBy validates the optional name of the inviting enterprise
// (企业邀请注册): empty, or at most 100 characters.
func CheckInvitedBy(s string) (string, error) {
	c, ok := cleanText(s)
	switch {
	case !ok:
		return "", fault.Invalidf("invited_by", "invalid_invited_by", "the inviting enterprise's name must not contain control characters")
	case utf8.RuneCountInString(c) > MaxInvitedByLen:
		return "", fault.Invalidf("invited_by", "invalid_invited_by", "the inviting enterprise's name must be at most %d characters", MaxInvitedByLen)
	}
	return c, nil
}

// ErrPrivacyPolicyRequired refuses a registration whose privacy policy box is
// not ticked: a business rule (422), blamed on field "accept_privacy_policy".
var ErrPrivacyPolicyRequired = &fault.Error{
	Kind:    fault.Rule,
	Code:    "privacy_policy_required",
	Message: "the privacy policy must be accepted to register",
	Field:   "accept_privacy_policy",
}

// Form is the registration page as a person filled it in.
type Form struct {
	Login               string
	Name                string
	Company             string
	InvitedBy           string
	Password            string
	AcceptPrivacyPolicy bool
	AcceptPhoneFollowup bool // 我愿意接受电话回访
}

// Application is a validated, normalised Form, without the password (which
// the caller hashes once Validate accepted it).
type Application struct {
	Login               Login
	Name                string
	Company             string
	InvitedBy           string
	AcceptPrivacyPolicy bool
	AcceptPhoneFollowup bool
}

// Validate checks every field of the form in page order (login, name,
// company, invited_by, password, consent) and returns the first refusal, a
// *fault.Error, or the normalised application.
func (f Form) Validate() (Application, error) {
	login, err := ParseLogin(f.Login)
	if err != nil {
		return Application{}, err
	}
	app := Application{Login: login, AcceptPrivacyPolicy: f.AcceptPrivacyPolicy, AcceptPhoneFollowup: f.AcceptPhoneFollowup}
	if app.Name, err = CheckName(f.Name); err != nil {
		return Application{}, err
	}
	if app.Company, err = CheckCompany(f.Company); err != nil {
		return Application{}, err
	}
	if app.InvitedBy, err = CheckInvitedBy(f.InvitedBy); err != nil {
		return Application{}, err
	}
	if err := CheckPassword(f.Password); err != nil {
		return Application{}, err
	}
	if !f.AcceptPrivacyPolicy {
		return Application{}, ErrPrivacyPolicyRequired
	}
	return app, nil
}

// normalised re-validates an Application that may have been built by hand
// and returns it in normal form.
func (a Application) normalised() (Application, error) {
	if a.Login.IsZero() {
		return Application{}, errInvalidLogin
	}
	if _, err := LoginOf(a.Login.kind, a.Login.value); err != nil {
		return Application{}, err
	}
	var err error
	if a.Name, err = CheckName(a.Name); err != nil {
		return Application{}, err
	}
	if a.Company, err = CheckCompany(a.Company); err != nil {
		return Application{}, err
	}
	if a.InvitedBy, err = CheckInvitedBy(a.InvitedBy); err != nil {
		return Application{}, err
	}
	if !a.AcceptPrivacyPolicy {
		return Application{}, ErrPrivacyPolicyRequired
	}
	return a, nil
}

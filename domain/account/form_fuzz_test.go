package account

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"signet/domain/fault"
)

// FuzzRegistrationForm: never panics; every refusal is a 4xx fault naming
// a field; an accepted form satisfies the page's rules and is stable (its
// normal form validates to itself).
func FuzzRegistrationForm(f *testing.F) {
	f.Add("13800138000", "林小明", "杭州井然食品贸易有限公司", "", "Passw0rdX", true)
	f.Add("a@b.cn", "Li", "无", "上上签", "abcDEF123", true)
	f.Add("13800138000", " ", "无", "", "Passw0rdX", true)
	f.Add("13800138000", "a\x00b", "无", "", "Passw0rdX", true)
	f.Add("13800138000", "林", "无", "", "password", false)
	f.Fuzz(func(t *testing.T, login, name, company, invitedBy, password string, consent bool) {
		app, err := Form{Login: login, Name: name, Company: company, InvitedBy: invitedBy, Password: password, AcceptPrivacyPolicy: consent}.Validate()
		if err != nil {
			fe, ok := fault.As(err)
			if !ok || (fe.Kind != fault.Invalid && fe.Kind != fault.Rule) || fe.Field == "" {
				t.Fatalf("refusal %v is not a 400/422 fault on a field", err)
			}
			return
		}
		if !consent {
			t.Fatal("accepted without the privacy policy consent")
		}
		if n := utf8.RuneCountInString(password); n < 8 || n > 128 ||
			!strings.ContainsFunc(password, unicode.IsDigit) || !strings.ContainsFunc(password, unicode.IsUpper) || !strings.ContainsFunc(password, unicode.IsLower) {
			t.Fatalf("weak password %q accepted", password)
		}
		for _, s := range []string{app.Name, app.Company, app.InvitedBy} {
			if !utf8.ValidString(s) || strings.ContainsFunc(s, unicode.IsControl) || strings.TrimSpace(s) != s {
				t.Fatalf("field %q kept unclean", s)
			}
		}
		if app.Name == "" || app.Company == "" {
			t.Fatalf("empty required field accepted: %+v", app)
		}
		again, err := Form{Login: app.Login.String(), Name: app.Name, Company: app.Company, InvitedBy: app.InvitedBy, Password: password, AcceptPrivacyPolicy: true}.Validate()
		if err != nil || again != app {
			t.Fatalf("normal form %+v does not validate to itself: %+v %v", app, again, err)
		}
	})
}

package account

import (
	"strings"
	"testing"

	"signet/domain/fault"
)

func wantFault(t *testing.T, err error, kind fault.Kind, code, field string) {
	t.Helper()
	f, ok := fault.As(err)
	if !ok {
		t.Fatalf("error = %v, want *fault.Error %s", err, code)
	}
	if f.Kind != kind || f.Code != code || f.Field != field {
		t.Fatalf("fault = kind %d %q field %q, want kind %d %q field %q", f.Kind, f.Code, f.Field, kind, code, field)
	}
}

func TestCheckPassword(t *testing.T) {
	for _, tc := range []struct {
		pw   string
		code string // "" = accepted
	}{
		{"Passw0rd", ""},
		{"aB345678", ""},
		{"密码Passw0rd!", ""},
		{"Pass w0rd with spaces", ""},
		{strings.Repeat("aB3", 42) + "xy", ""},           // 128
		{strings.Repeat("aB3", 43), "password_too_long"}, // 129
		{"Passw0r", "weak_password"},                     // 7
		{"password1", "weak_password"},                   // no upper
		{"PASSWORD1", "weak_password"},                   // no lower
		{"Password", "weak_password"},                    // no digit
		{"Pässwörd", "weak_password"},                    // non-ASCII letters only, no digit
		{"ÄÖÜäöü12", "weak_password"},                    // non-ASCII case does not count
		{"Passw0rd\n", "weak_password"},                  // control char
		{"Pass\x00w0rd", "weak_password"},                // NUL
		{"Passw0rd\xff", "weak_password"},                // invalid UTF-8
		{"", "weak_password"},
		{"密码密码密码密1", "weak_password"},
	} {
		err := CheckPassword(tc.pw)
		if tc.code == "" {
			if err != nil {
				t.Errorf("CheckPassword(%q): %v", tc.pw, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("CheckPassword(%q) accepted", tc.pw)
			continue
		}
		f, _ := fault.As(err)
		if f == nil || f.Kind != fault.Invalid || f.Code != tc.code || f.Field != "password" {
			t.Errorf("CheckPassword(%q) = %v, want %s on password", tc.pw, err, tc.code)
		}
	}
}

func TestFormValidate(t *testing.T) {
	good := Form{
		Login: " +86 138-1234-5678 ", Name: " 张三 ", Company: "上海某某科技有限公司", InvitedBy: "",
		Password: "Passw0rd", AcceptPrivacyPolicy: true,
	}
	app, err := good.Validate()
	if err != nil {
		t.Fatal(err)
	}
	if app.Login.String() != "13812345678" || app.Name != "张三" || app.Company != "上海某某科技有限公司" || !app.AcceptPrivacyPolicy {
		t.Errorf("application = %+v", app)
	}

	for _, tc := range []struct {
		name  string
		edit  func(*Form)
		kind  fault.Kind
		code  string
		field string
	}{
		{"bad login", func(f *Form) { f.Login = "12345" }, fault.Invalid, "invalid_login", "login"},
		{"no name", func(f *Form) { f.Name = "  " }, fault.Invalid, "name_required", "name"},
		{"long name", func(f *Form) { f.Name = strings.Repeat("张", 51) }, fault.Invalid, "invalid_name", "name"},
		{"name with control", func(f *Form) { f.Name = "张\t三" }, fault.Invalid, "invalid_name", "name"},
		{"name with bidi override", func(f *Form) { f.Name = "张\u202e三" }, fault.Invalid, "invalid_name", "name"},
		{"no company", func(f *Form) { f.Company = "" }, fault.Invalid, "company_required", "company"},
		{"long company", func(f *Form) { f.Company = strings.Repeat("公", 101) }, fault.Invalid, "invalid_company", "company"},
		{"long inviter", func(f *Form) { f.InvitedBy = strings.Repeat("公", 101) }, fault.Invalid, "invalid_invited_by", "invited_by"},
		{"weak password", func(f *Form) { f.Password = "password" }, fault.Invalid, "weak_password", "password"},
		{"no consent", func(f *Form) { f.AcceptPrivacyPolicy = false }, fault.Rule, "privacy_policy_required", "accept_privacy_policy"},
		// Page order: the first bad field is blamed.
		{"name before password", func(f *Form) { f.Name = ""; f.Password = "x" }, fault.Invalid, "name_required", "name"},
		{"password before consent", func(f *Form) { f.Password = "x"; f.AcceptPrivacyPolicy = false }, fault.Invalid, "weak_password", "password"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := good
			tc.edit(&f)
			_, err := f.Validate()
			wantFault(t, err, tc.kind, tc.code, tc.field)
		})
	}

	for _, ok := range []func(*Form){
		func(f *Form) { f.Company = NoCompany },
		func(f *Form) { f.InvitedBy = "北京某某有限公司" },
		func(f *Form) { f.Name = strings.Repeat("张", 50) },
		func(f *Form) { f.Company = strings.Repeat("公", 100) },
		func(f *Form) { f.Login = "Someone@Example.com" },
	} {
		f := good
		ok(&f)
		if _, err := f.Validate(); err != nil {
			t.Errorf("%+v: %v", f, err)
		}
	}
}

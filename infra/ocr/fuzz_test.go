package ocr

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

var fuzzSeeds = []string{
	"名       称 ”杭州井然食品贸易有限公司          注册 资本 壹佰万元整\n法定代表人 ”井然\n统一社会信用代码\n91350100M000100Y43\n",
	"名称：杭州井然投资合伙企业(有限合伙)\n执行事务合伙人 某（委派代表：井然）\n经营者 ***\n",
	"姓 名 林某某\n公民身份号码 3501 0219 9003 0710 4x\n",
	"姓名\n\n林某某\n公民身份号码\n35O1O2I99OO3O71234",
	"签发机关 ”福州市公安局鼓楼分局\n有效期限 2015.03.01:2035.03.01\n",
	"有效期限 2008.11.20-长期",
	"有效期限 ２０１５．０３．０１－２０３５．０２．３０",
	"\xff\xfe名\x00称\t\t\r\n",
	"",
}

// checkField holds for every field a parser returns: one line of valid
// UTF-8, trimmed.
func checkField(t *testing.T, name, v string) {
	t.Helper()
	if !utf8.ValidString(v) || strings.ContainsAny(v, "\n\r\t") || strings.TrimSpace(v) != v {
		t.Fatalf("%s = %q", name, v)
	}
}

func FuzzParseLicense(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		l := ParseLicense(text)
		checkField(t, "Name", l.Name)
		checkField(t, "LegalRep", l.LegalRep)
		if l.USCC != "" && !usccShape.MatchString(l.USCC) && !validUSCC(l.USCC) {
			t.Fatalf("USCC = %q", l.USCC)
		}
		if l.Name == "***" {
			t.Fatal("a name of stars")
		}
	})
}

func FuzzParsePortrait(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		p := ParsePortrait(text)
		checkField(t, "Name", p.Name)
		if p.IDNumber != "" && !idShape.MatchString(p.IDNumber) {
			t.Fatalf("IDNumber = %q", p.IDNumber)
		}
	})
}

func FuzzParseEmblem(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		e := ParseEmblem(text)
		checkField(t, "Authority", e.Authority)
		if e.ValidFrom != "" {
			if _, err := time.Parse(time.DateOnly, e.ValidFrom); err != nil {
				t.Fatalf("ValidFrom = %q", e.ValidFrom)
			}
		}
		if e.ValidUntil != "" && e.ValidUntil != "长期" {
			if _, err := time.Parse(time.DateOnly, e.ValidUntil); err != nil {
				t.Fatalf("ValidUntil = %q", e.ValidUntil)
			}
		}
		if e.ValidUntil != "" && e.ValidFrom == "" {
			t.Fatalf("an end without a start: %+v", e)
		}
	})
}

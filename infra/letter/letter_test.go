package letter

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf16"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"

	"signet/domain/fault"
	"signet/infra/pdftext"
)

func init() { model.ConfigPath = "disable" } // keep pdfcpu out of the home directory

func sample() Letter {
	return Letter{
		Reference:      "SQ-2025-000123",
		EnterpriseName: "杭州井然食品贸易有限公司",
		LegalRepName:   "林大明",
		USCC:           "91330106MA2H0XYZ1K",
		Account:        "jingran@example.com",
		AgentName:      "林小明",
		AgentPhone:     "13800138000",
		AgentIDNumber:  "33010619900101123X",
		Platform:       "signet",
		GeneratedAt:    time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC),
	}
}

func values(l Letter) []string {
	return []string{l.Reference, l.EnterpriseName, l.LegalRepName, l.USCC, l.Account,
		l.AgentName, l.AgentPhone, l.AgentIDNumber, l.Platform}
}

// validate runs pdfcpu's strict validation and returns the page count.
func validate(t testing.TB, b []byte) int {
	t.Helper()
	conf := model.NewDefaultConfiguration()
	conf.ValidationMode = model.ValidationStrict
	if err := api.Validate(bytes.NewReader(b), conf); err != nil {
		t.Fatalf("pdfcpu validation: %v", err)
	}
	n, err := api.PageCount(bytes.NewReader(b), model.NewDefaultConfiguration())
	if err != nil {
		t.Fatalf("page count: %v", err)
	}
	return n
}

var (
	streamRE = regexp.MustCompile(`(?s)stream\n(.*?)\nendstream`)
	showRE   = regexp.MustCompile(`<([0-9A-F]*)> Tj`)
)

// shownText decodes the strings the content streams show, in order.
func shownText(t testing.TB, b []byte) string {
	t.Helper()
	var out strings.Builder
	for _, s := range streamRE.FindAllSubmatch(b, -1) {
		for _, m := range showRE.FindAllSubmatch(s[1], -1) {
			raw, err := hex.DecodeString(string(m[1]))
			if err != nil || len(raw)%2 != 0 {
				t.Fatalf("bad hex string %q", m[1])
			}
			units := make([]uint16, len(raw)/2)
			for i := range units {
				units[i] = uint16(raw[2*i])<<8 | uint16(raw[2*i+1])
			}
			out.WriteString(string(utf16.Decode(units)))
		}
		out.WriteByte('\n')
	}
	return out.String()
}

// extracted is the text a reader gets out of the PDF: pdftotext's when it is
// installed, else the decoded content streams.
func extracted(t testing.TB, b []byte) (string, string) {
	t.Helper()
	if _, err := exec.LookPath("pdftotext"); err != nil {
		return shownText(t, b), "content stream"
	}
	in := filepath.Join(t.TempDir(), "letter.pdf")
	if err := os.WriteFile(in, b, 0o600); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd := exec.Command("pdftotext", "-enc", "UTF-8", in, "-")
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || strings.Contains(stderr.String(), "CMap") {
		t.Fatalf("pdftotext: %v %s(poppler needs poppler-data for the predefined CJK CMaps)", err, stderr.String())
	}
	return string(out), "pdftotext"
}

func squash(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
}

func containsAll(t testing.TB, how, text string, want []string) {
	t.Helper()
	flat := squash(text)
	for _, w := range want {
		if !strings.Contains(flat, squash(w)) {
			t.Errorf("%s text lacks %q:\n%s", how, w, text)
		}
	}
}

func TestRender(t *testing.T) {
	long := func(unit string, n int) string { return strings.Repeat(unit, n) }
	cases := []struct {
		name string
		edit func(*Letter)
	}{
		{"typical", func(*Letter) {}},
		{"middle dot and Latin names", func(l *Letter) {
			l.AgentName = "阿依古丽·买买提"
			l.LegalRepName = "Jean-Luc Dupont"
			l.EnterpriseName = "ACME（杭州）Trading Co., Ltd."
		}},
		{"full-width and symbols", func(l *Letter) {
			l.Account = "ＡＢＣ＠示例。公司"
			l.AgentPhone = "+86 138-0013-8000"
		}},
		{"longest fields", func(l *Letter) {
			l.EnterpriseName = long("龘", maxField)
			l.LegalRepName = long("鬱", maxField)
			l.USCC = long("W", maxField)
			l.Account = long("m", maxField)
			l.AgentName = long("齉", maxField)
			l.AgentPhone = long("8", maxField)
			l.AgentIDNumber = long("X", maxField)
			l.Platform = long("签", maxPlatform)
			l.Reference = long("W", maxReference)
		}},
		{"long Latin words and spaces", func(l *Letter) {
			l.EnterpriseName = long("Internationalisation ", 3) + long("Q", 36)
			l.Platform = "WWWWWWWWWWWWWWWW"
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := sample()
			tc.edit(&l)
			b, err := Render(l)
			if err != nil {
				t.Fatal(err)
			}
			if n := validate(t, b); n < 1 || n > 2 {
				t.Errorf("%d pages, want 1 or 2", n)
			}
			want := append(values(l), "授权书", "被授权人", "统一社会信用代码", "授权单位盖章", "日期", Operator,
				"一：授权单位主动提出终止", "四：授权单位书面撤销或终止授权", "生成时间：2025-03-04 13:06:07")
			text, how := extracted(t, b)
			containsAll(t, how, text, want)
			containsAll(t, "content stream", shownText(t, b), want)
			for _, banned := range []string{"上上签", "尚尚签"} {
				if strings.Contains(text, banned) {
					t.Errorf("the letter names %s", banned)
				}
			}
		})
	}
}

func TestRenderTypicalIsOnePage(t *testing.T) {
	b, err := Render(sample())
	if err != nil {
		t.Fatal(err)
	}
	if n := validate(t, b); n != 1 {
		t.Errorf("%d pages, want 1", n)
	}
}

// goldenSHA pins the bytes of sample(): a change to the layout changes it on
// purpose; a change with the same code (Go version, machine) must not.
const goldenSHA = "f8ebb81b9cf00a63e76e7e8c90c3690cd2feb190b7174b0595009e0c6ab7383f"

func TestRenderDeterministic(t *testing.T) {
	a, err := Render(sample())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Render(sample())
	if !bytes.Equal(a, b) {
		t.Fatal("two renders of the same letter differ")
	}
	if got := fmt.Sprintf("%x", sha256.Sum256(a)); got != goldenSHA {
		t.Errorf("SHA-256 %s, want %s (update goldenSHA only when the layout changed on purpose)", got, goldenSHA)
	}
	if !bytes.Contains(a, []byte("/CreationDate (D:20250304130607+08'00')")) {
		t.Error("CreationDate is not GeneratedAt in UTC+8")
	}
	l := sample()
	l.GeneratedAt = l.GeneratedAt.Add(time.Second)
	c, _ := Render(l)
	if bytes.Equal(a, c) {
		t.Error("a different generation time gave the same bytes")
	}
	// Equal instants in different zones are the same letter.
	l = sample()
	l.GeneratedAt = l.GeneratedAt.In(time.FixedZone("x", -5*3600))
	if d, _ := Render(l); !bytes.Equal(a, d) {
		t.Error("the zone of GeneratedAt changed the bytes")
	}
}

func TestRenderRefuses(t *testing.T) {
	cases := []struct {
		name, field, code string
		edit              func(*Letter)
	}{
		{"no reference", "reference", "letter_field_required", func(l *Letter) { l.Reference = "" }},
		{"no enterprise", "enterprise_name", "letter_field_required", func(l *Letter) { l.EnterpriseName = "" }},
		{"no legal rep", "legal_rep_name", "letter_field_required", func(l *Letter) { l.LegalRepName = "" }},
		{"no USCC", "uscc", "letter_field_required", func(l *Letter) { l.USCC = "" }},
		{"no account", "account", "letter_field_required", func(l *Letter) { l.Account = "" }},
		{"no agent", "agent_name", "letter_field_required", func(l *Letter) { l.AgentName = "" }},
		{"blank phone", "agent_phone", "letter_field_required", func(l *Letter) { l.AgentPhone = " \u3000 " }},
		{"no ID number", "agent_id_number", "letter_field_required", func(l *Letter) { l.AgentIDNumber = "" }},
		{"no platform", "platform", "letter_field_required", func(l *Letter) { l.Platform = "" }},
		{"no time", "generated_at", "letter_field_required", func(l *Letter) { l.GeneratedAt = time.Time{} }},
		{"too long", "enterprise_name", "letter_field_too_long", func(l *Letter) { l.EnterpriseName = strings.Repeat("公", maxField+1) }},
		{"platform too long", "platform", "letter_field_too_long", func(l *Letter) { l.Platform = strings.Repeat("s", maxPlatform+1) }},
		{"not in the font", "agent_name", "letter_field_unprintable", func(l *Letter) { l.AgentName = "王𠀀" }},
		{"beyond the BMP", "agent_name", "letter_field_unprintable", func(l *Letter) { l.AgentName = "林𠂇" }},
		{"emoji", "account", "letter_field_unprintable", func(l *Letter) { l.Account = "a😀" }},
		{"newline", "enterprise_name", "letter_field_unprintable", func(l *Letter) { l.EnterpriseName = "甲\n乙" }},
		{"NUL", "uscc", "letter_field_unprintable", func(l *Letter) { l.USCC = "9133\x00" }},
		{"bad UTF-8", "legal_rep_name", "letter_field_unprintable", func(l *Letter) { l.LegalRepName = "林\xff" }},
		{"private use", "agent_name", "letter_field_unprintable", func(l *Letter) { l.AgentName = "林\ue76c" }},
		{"Latin outside GB", "legal_rep_name", "letter_field_unprintable", func(l *Letter) { l.LegalRepName = "Łukasz" }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := sample()
			tc.edit(&l)
			b, err := Render(l)
			f, ok := fault.As(err)
			if !ok || f.Kind != fault.Invalid || f.Field != tc.field || f.Code != tc.code || b != nil {
				t.Fatalf("got %v (bytes %d), want %s on %s", err, len(b), tc.code, tc.field)
			}
			if !strings.HasSuffix(f.Message, ".") || f.Message[0] < 'A' || f.Message[0] > 'Z' {
				t.Errorf("message %q is not a sentence", f.Message)
			}
		})
	}
}

// TestEveryRangeExtracts prints the ends of every printable range and reads
// them back, which exercises the ToUnicode CMap across all its high bytes.
func TestEveryRangeExtracts(t *testing.T) {
	var rs []rune
	for _, r := range pdftext.Printable.R16 {
		for _, c := range []rune{rune(r.Lo), rune(r.Hi)} {
			if !unicode.IsSpace(c) && !slices.Contains(rs, c) {
				rs = append(rs, c)
			}
		}
	}
	for len(rs) > 0 {
		n := min(len(rs), maxField)
		l := sample()
		l.EnterpriseName = string(rs[:n])
		rs = rs[n:]
		b, err := Render(l)
		if err != nil {
			t.Fatal(err)
		}
		validate(t, b)
		text, how := extracted(t, b)
		containsAll(t, how, text, []string{l.EnterpriseName})
	}
}

func FuzzRender(f *testing.F) {
	s := sample()
	f.Add(s.EnterpriseName, s.AgentName, s.AgentIDNumber, s.Platform)
	f.Add("ACME, Ltd.", "阿依古丽·买买提", "王𠀀", "s")
	f.Add(" ", "\x00", "\xff", strings.Repeat("W", 17))
	f.Fuzz(func(t *testing.T, enterprise, agent, id, platform string) {
		l := sample()
		l.EnterpriseName, l.AgentName, l.AgentIDNumber, l.Platform = enterprise, agent, id, platform
		b, err := Render(l)
		if err != nil {
			if f, ok := fault.As(err); !ok || f.Field == "" {
				t.Fatalf("refusal without a field: %v", err)
			}
			return
		}
		if n := validate(t, b); n < 1 || n > 2 {
			t.Fatalf("%d pages", n)
		}
		for _, v := range []*string{&l.EnterpriseName, &l.AgentName, &l.AgentIDNumber, &l.Platform} {
			*v = strings.TrimSpace(*v)
		}
		containsAll(t, "content stream", shownText(t, b), values(l))
	})
}

package readapi

import (
	"mime"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestAttachment(t *testing.T) {
	cases := map[string]string{
		"劳动合同.pdf":     `attachment; filename="____.pdf"; filename*=UTF-8''%E5%8A%B3%E5%8A%A8%E5%90%88%E5%90%8C.pdf`,
		"Lease 2027":   `attachment; filename="Lease 2027.pdf"; filename*=UTF-8''Lease%202027.pdf`,
		`a"b\c/d.PDF`:  `attachment; filename="a_b_c_d.PDF"; filename*=UTF-8''a%22b%5Cc%2Fd.PDF`,
		"  ":           `attachment; filename="document.pdf"; filename*=UTF-8''document.pdf`,
		"x;y=z%41.pdf": `attachment; filename="x;y=z%41.pdf"; filename*=UTF-8''x%3By%3Dz%2541.pdf`,
	}
	for in, want := range cases {
		if got := attachment(in); got != want {
			t.Errorf("attachment(%q) =\n %s\nwant\n %s", in, got, want)
		}
	}
}

// FuzzAttachment: whatever a sender named a document, the header parses
// and a client reading filename* gets the name back (with .pdf).
func FuzzAttachment(f *testing.F) {
	for _, s := range []string{"劳动合同.pdf", "a\"b", "x\\y", "", "%41", "\x01\x7f", "名字\r\n", "\xff\xfe", "a'b'c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		h := attachment(name)
		disp, params, err := mime.ParseMediaType(h)
		if err != nil || disp != "attachment" {
			t.Fatalf("attachment(%q) = %s: %v", name, h, err)
		}
		want := strings.ToValidUTF8(strings.TrimSpace(name), "\uFFFD")
		if want == "" {
			want = "document"
		}
		if !strings.HasSuffix(strings.ToLower(want), ".pdf") {
			want += ".pdf"
		}
		if params["filename"] != want {
			t.Fatalf("attachment(%q) = %s: filename %q, want %q", name, h, params["filename"], want)
		}
		if strings.ContainsAny(h, "\r\n\x00") || !utf8.ValidString(h) {
			t.Fatalf("attachment(%q) = %q is no header value", name, h)
		}
	})
}

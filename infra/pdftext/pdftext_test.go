package pdftext

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
)

// Layout of the wrapping tests, as a body paragraph of the letter.
const (
	body    = 10.5
	textW   = PageW - 2*56
	indent2 = 2 * body
)

func squash(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
}

// TestBuildExtracts draws every end of every printable range, several
// sizes and styles, and reads them back with pdftotext.
func TestBuildExtracts(t *testing.T) {
	var rs []rune
	for _, r := range Printable.R16 {
		for _, c := range []rune{rune(r.Lo), rune(r.Hi)} {
			if !unicode.IsSpace(c) && !slices.Contains(rs, c) {
				rs = append(rs, c)
			}
		}
	}
	var pages []*Canvas
	var want []string
	for len(rs) > 0 {
		n := min(len(rs), 400)
		c := &Canvas{}
		y := PageH - 60
		for _, ln := range Wrap([]Run{Plain(string(rs[:n])), {Text: " Bold 粗体", Style: Bold}, {Text: " Under 下划线", Style: Underline}}, 9, textW, 0) {
			c.Text(56, y, 9, ln)
			y -= 14
		}
		c.Line(56, y, PageW-56, y, 0.5)
		want = append(want, string(rs[:n]), "Bold粗体", "Under下划线")
		pages = append(pages, c)
		rs = rs[n:]
	}
	created := time.Date(2025, 3, 4, 13, 6, 7, 0, time.FixedZone("UTC+8", 8*3600))
	b := Build(pages, "标题 Title", created)
	if !bytes.Equal(b, Build(pages, "标题 Title", created)) {
		t.Fatal("two builds of the same pages differ")
	}
	if !bytes.Contains(b, []byte("/CreationDate (D:20250304130607+08'00')")) {
		t.Error("CreationDate is not the given time in its zone")
	}
	in := filepath.Join(t.TempDir(), "t.pdf")
	if err := os.WriteFile(in, b, 0o600); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd := exec.Command("pdftotext", "-enc", "UTF-8", in, "-")
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || strings.Contains(stderr.String(), "CMap") {
		t.Fatalf("pdftotext (poppler-utils and poppler-data, installed by .ci/run): %v %s", err, stderr.String())
	}
	flat := squash(string(out))
	for _, w := range want {
		if !strings.Contains(flat, squash(w)) {
			t.Errorf("pdftotext lacks %q", w)
		}
	}
	if got := strings.Count(string(out), "\f"); got != len(pages) {
		t.Errorf("%d pages, want %d", got, len(pages))
	}
}

func TestWrap(t *testing.T) {
	texts := []string{
		"我单位授权以上人士代表我单位在signet开通电子签约及相关的企业服务，并授权其代表我单位使用及管理在signet开通的账号。",
		strings.Repeat("Internationalisation ", 10),
		strings.Repeat("中", 200) + "。”" + strings.Repeat("a", 300),
		"，，，，，，，，，，，，，，，，，，，，，，，，，，，，，，，，，，，，，，，，，，，，，，，，，，，，，，",
	}
	for _, s := range texts {
		lines := Wrap([]Run{Plain(s)}, body, textW, indent2)
		var got strings.Builder
		for i, ln := range lines {
			limit := textW
			if i == 0 {
				limit -= indent2
			}
			// One closing punctuation mark may hang past the edge.
			end := len(ln)
			if end > 0 && noLineStart(ln[end-1].R) {
				end--
			}
			if w := GlyphsWidth(ln[:end], body); w > limit+0.01 {
				t.Errorf("line %d is %.1fpt wide, limit %.1f", i, w, limit)
			}
			if i > 0 && len(ln) > 0 && noLineStart(ln[0].R) {
				prev := lines[i-1]
				prevLimit := textW
				if i == 1 {
					prevLimit -= indent2
				}
				if !noLineStart(prev[len(prev)-1].R) || GlyphsWidth(prev, body) <= prevLimit+0.01 {
					t.Errorf("line %d starts with %q though the previous line had room", i, ln[0].R)
				}
			}
			for _, g := range ln {
				got.WriteRune(g.R)
			}
		}
		if squash(got.String()) != squash(s) {
			t.Errorf("wrapping lost text:\n%q\n%q", got.String(), s)
		}
	}
	// A Latin word that fits stays whole.
	for _, ln := range Wrap([]Run{Plain(strings.Repeat("Internationalisation ", 10))}, body, textW, 0) {
		s := strings.TrimSpace(string(glyphRunes(ln)))
		for _, w := range strings.Fields(s) {
			if w != "Internationalisation" {
				t.Errorf("word split: %q", w)
			}
		}
	}
}

func glyphRunes(gs []Glyph) []rune {
	rs := make([]rune, len(gs))
	for i, g := range gs {
		rs[i] = g.R
	}
	return rs
}

const gbCMap = "/usr/share/poppler/cMap/Adobe-GB1/UniGB-UTF16-H"

// TestPrintableTable checks known characters and, where poppler-data is
// installed, the whole table against Adobe's CMap.
func TestPrintableTable(t *testing.T) {
	for r, want := range map[rune]bool{
		'林': true, '·': true, 'A': true, '~': true, '，': true, '“': true, '√': true,
		0x20000: false, 0x20087: false, 0xe76c: false, 'Ł': false, '\n': false, 0xfffd: false, '😀': false,
	} {
		if got := unicode.Is(Printable, r); got != want {
			t.Errorf("printable(%U) = %v, want %v", r, got, want)
		}
	}
	f, err := os.Open(gbCMap)
	if err != nil {
		t.Logf("%s not installed; checked known characters only", gbCMap)
		return
	}
	defer f.Close()
	want := cmapPrintable(t, bufio.NewScanner(f))
	var got []unicode.Range16
	for _, r := range Printable.R16 {
		got = append(got, unicode.Range16{Lo: r.Lo, Hi: r.Hi, Stride: 1})
	}
	if len(Printable.R32) != 0 || !slices.Equal(got, want) {
		var b strings.Builder
		for _, r := range want {
			fmt.Fprintf(&b, "{0x%04x, 0x%04x, 1},\n", r.Lo, r.Hi)
		}
		t.Errorf("Printable differs from %s; R16 should be:\n%s", gbCMap, b.String())
	}
}

// cmapPrintable reads the BMP, non-private-use code points that a
// UniGB-UTF16-H CMap maps to Adobe-GB1-4 CIDs (0..29063).
func cmapPrintable(t *testing.T, sc *bufio.Scanner) []unicode.Range16 {
	rangeRE := regexp.MustCompile(`^<([0-9a-fA-F]{4})>\s*<([0-9a-fA-F]{4})>\s*(\d+)`)
	charRE := regexp.MustCompile(`^<([0-9a-fA-F]{4})>\s*(\d+)`)
	var set [0x10000]bool
	mode := ""
	hexv := func(s string) int { v, _ := strconv.ParseUint(s, 16, 16); return int(v) }
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasSuffix(line, "begincidrange"), strings.HasSuffix(line, "begincidchar"):
			mode = line[strings.LastIndex(line, " ")+1:]
		case strings.HasPrefix(line, "end"):
			mode = ""
		case mode == "begincidrange":
			if m := rangeRE.FindStringSubmatch(line); m != nil {
				cid, _ := strconv.Atoi(m[3])
				for c := hexv(m[1]); c <= hexv(m[2]); c++ {
					set[c] = cid+c-hexv(m[1]) <= 29063
				}
			}
		case mode == "begincidchar":
			if m := charRE.FindStringSubmatch(line); m != nil {
				cid, _ := strconv.Atoi(m[2])
				set[hexv(m[1])] = cid <= 29063
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	var out []unicode.Range16
	for c := range set {
		if !set[c] || (c >= 0xe000 && c <= 0xf8ff) || (c >= 0xd800 && c <= 0xdfff) {
			continue
		}
		if n := len(out); n > 0 && int(out[n-1].Hi) == c-1 {
			out[n-1].Hi = uint16(c)
		} else {
			out = append(out, unicode.Range16{Lo: uint16(c), Hi: uint16(c), Stride: 1})
		}
	}
	return out
}

func TestToUnicodeBlocks(t *testing.T) {
	cm := string(toUnicode())
	entry := regexp.MustCompile(`^<([0-9A-F]{2})([0-9A-F]{2})> <([0-9A-F]{2})([0-9A-F]{2})> <([0-9A-F]{4})>$`)
	count := 0
	for _, block := range regexp.MustCompile(`(?s)(\d+) beginbfrange\n(.*?)endbfrange`).FindAllStringSubmatch(cm, -1) {
		lines := strings.Split(strings.TrimSpace(block[2]), "\n")
		if n, _ := strconv.Atoi(block[1]); n != len(lines) || n > 100 {
			t.Errorf("block says %s entries, has %d", block[1], len(lines))
		}
		for _, ln := range lines {
			m := entry.FindStringSubmatch(ln)
			if m == nil || m[1] != m[3] || m[2] != "00" || m[4] != "FF" || m[5] != m[1]+"00" {
				t.Errorf("bad bfrange %q", ln)
			}
			count++
		}
	}
	if count != 256-8 {
		t.Errorf("%d ranges, want one per high byte outside the surrogates", count)
	}
}

// Package pdftext writes simple text PDFs in Chinese and Latin script with
// no font file: lines of text, rules, pages. The letter and the certificate
// of completion are drawn with it.
package pdftext

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
)

// The PDF names STSong-Light, one of the CJK fonts that conforming readers
// supply themselves (Acrobat's Asian font packs, pdf.js, PDFium, poppler with
// poppler-data), so nothing is embedded and no font file is needed anywhere.
// Text is shown as UTF-16BE through the predefined UniGB-UTF16-H CMap, and
// a ToUnicode CMap maps those codes back to the same text so extraction does
// not rely on the reader's CID-to-Unicode tables. (Readers still need the
// UniGB-UTF16-H CMap itself to pick glyphs; poppler finds it in poppler-data.)

const (
	PageW, PageH = 595.0, 842.0 // A4 in points
	fontName     = "STSong-Light"
)

// latinWidths are STSong-Light's advances (1/1000 em) for CIDs 1..95, which
// UniGB-UTF16-H assigns to U+0020..U+007E (and U+00A0 to CID 1). Every other
// CID is 1000 by /DW. The /W array is built from this table, so measuring with
// advance always agrees with what readers draw.
var latinWidths = [95]int{
	207, 270, 342, 467, 462, 797, 710, 239, 374, 374, 423, 605, 238, 375, 238, 334,
	462, 462, 462, 462, 462, 462, 462, 462, 462, 462, 238, 238, 605, 605, 605, 344,
	748, 684, 560, 695, 739, 563, 511, 729, 793, 318, 312, 666, 526, 896, 758, 772,
	544, 772, 628, 465, 607, 753, 711, 972, 647, 620, 607, 374, 333, 374, 606, 500,
	239, 417, 503, 427, 529, 415, 264, 444, 518, 241, 230, 495, 228, 793, 527, 524,
	524, 504, 338, 336, 277, 517, 450, 652, 466, 452, 407, 370, 258, 370, 605,
}

func advance(r rune) int {
	switch {
	case r >= 0x20 && r <= 0x7e:
		return latinWidths[r-0x20]
	case r == 0xa0:
		return latinWidths[0]
	}
	return 1000
}

// Width is the advance of s at size points.
func Width(s string, size float64) float64 {
	n := 0
	for _, r := range s {
		n += advance(r)
	}
	return float64(n) * size / 1000
}

// Style is a run's look; the font has one face, so bold is drawn.
type Style uint8

const (
	Bold Style = 1 << iota
	Underline
)

// Run is text in one style; paragraphs are slices of runs.
type Run struct {
	Text  string
	Style Style
}

// Plain is unstyled text.
func Plain(s string) Run { return Run{Text: s} }

// Glyph is one character of a wrapped line.
type Glyph struct {
	R     rune
	Style Style
}

// GlyphsWidth is the advance of a line at size points.
func GlyphsWidth(gs []Glyph, size float64) float64 {
	n := 0
	for _, g := range gs {
		n += advance(g.R)
	}
	return float64(n) * size / 1000
}

// wordRune keeps Latin words, numbers and codes such as a USCC on one line.
func wordRune(r rune) bool { return r > 0x20 && r <= 0x7e }

// noLineStart is closing punctuation, which hangs in the margin rather than
// begin a line.
func noLineStart(r rune) bool {
	return strings.ContainsRune("，。、；：？！）》」』”’,.;:?!)]", r)
}

// Wrap breaks runs into lines of at most width points, the first one indented.
func Wrap(runs []Run, size, width, indent float64) [][]Glyph {
	var toks [][]Glyph
	for _, rn := range runs {
		for _, r := range rn.Text {
			g := Glyph{r, rn.Style}
			if n := len(toks); n > 0 && wordRune(r) && wordRune(toks[n-1][len(toks[n-1])-1].R) {
				toks[n-1] = append(toks[n-1], g)
				continue
			}
			toks = append(toks, []Glyph{g})
		}
	}
	var lines [][]Glyph
	var line []Glyph
	w, limit := 0.0, width-indent
	for _, t := range toks {
		tw := GlyphsWidth(t, size)
		if tw > width-indent && len(t) > 1 {
			// A word longer than a line: break it anywhere.
			for i := range t {
				lines, line, w, limit = place(lines, line, t[i:i+1], GlyphsWidth(t[i:i+1], size), w, limit, width)
			}
			continue
		}
		lines, line, w, limit = place(lines, line, t, tw, w, limit, width)
	}
	return append(lines, line)
}

func place(lines [][]Glyph, line, t []Glyph, tw, w, limit, width float64) ([][]Glyph, []Glyph, float64, float64) {
	hang := noLineStart(t[0].R) && w <= limit+0.01 // at most one glyph hangs
	if w+tw > limit+0.01 && len(line) > 0 && !hang {
		lines, line, w, limit = append(lines, line), nil, 0, width
		if t[0].R == ' ' {
			return lines, line, w, limit
		}
	}
	return lines, append(line, t...), w + tw, limit
}

// Num formats a coordinate for a content stream.
func Num(v float64) string {
	return strconv.FormatFloat(math.Round(v*100)/100+0, 'f', -1, 64)
}

// hexUTF16 is s as a PDF hex string of UTF-16BE code units.
func hexUTF16(s string) string {
	var b strings.Builder
	b.WriteByte('<')
	for _, u := range utf16.Encode([]rune(s)) {
		fmt.Fprintf(&b, "%04X", u)
	}
	b.WriteByte('>')
	return b.String()
}

// Canvas is one page's content stream.
type Canvas struct{ b bytes.Buffer }

// F appends raw content-stream operators.
func (c *Canvas) F(format string, a ...any) { fmt.Fprintf(&c.b, format, a...) }

// Text draws one line with its baseline starting at (x, y).
func (c *Canvas) Text(x, y, size float64, gs []Glyph) {
	c.F("BT /F1 %s Tf %s %s Td", Num(size), Num(x), Num(y))
	var unders [][2]float64
	cur := Style(0)
	for i := 0; i < len(gs); {
		j := i
		for j < len(gs) && gs[j].Style == gs[i].Style {
			j++
		}
		seg := gs[i:j]
		if st := seg[0].Style; st&Bold != cur&Bold {
			if st&Bold != 0 {
				c.F(" 0.3 w 2 Tr") // fill and stroke: the font has no bold face
			} else {
				c.F(" 0 Tr")
			}
		}
		cur = seg[0].Style
		rs := make([]rune, len(seg))
		for k, g := range seg {
			rs[k] = g.R
		}
		c.F(" %s Tj", hexUTF16(string(rs)))
		w := GlyphsWidth(seg, size)
		if cur&Underline != 0 {
			unders = append(unders, [2]float64{x, x + w})
		}
		x += w
		i = j
	}
	c.F(" ET\n")
	for _, u := range unders {
		c.Line(u[0], y-2, u[1], y-2, 0.5)
	}
}

// Str draws s on one line, unstyled.
func (c *Canvas) Str(x, y, size float64, s string) { c.Text(x, y, size, toGlyphs(s)) }

func toGlyphs(s string) []Glyph {
	gs := make([]Glyph, 0, len(s))
	for _, r := range s {
		gs = append(gs, Glyph{R: r})
	}
	return gs
}

// Line strokes a straight line w points wide.
func (c *Canvas) Line(x1, y1, x2, y2, w float64) {
	c.F("%s w %s %s m %s %s l S\n", Num(w), Num(x1), Num(y1), Num(x2), Num(y2))
}

// writer lays out objects in number order and then the xref table.
type writer struct {
	b   bytes.Buffer
	off []int
}

func (w *writer) obj(body string) int {
	w.off = append(w.off, w.b.Len())
	n := len(w.off)
	fmt.Fprintf(&w.b, "%d 0 obj\n%s\nendobj\n", n, body)
	return n
}

func (w *writer) stream(dict string, data []byte) int {
	return w.obj(fmt.Sprintf("<<%s /Length %d>>\nstream\n%s\nendstream", dict, len(data), data))
}

// pdfDate is a PDF date string in the time's own zone.
func pdfDate(t time.Time) string {
	_, off := t.Zone()
	sign := byte('+')
	if off < 0 {
		sign, off = '-', -off
	}
	return fmt.Sprintf("(D:%s%c%02d'%02d')", t.Format("20060102150405"), sign, off/3600, off%3600/60)
}

// Build writes the PDF, with created (in its own zone) as the creation and
// modification date. The /ID is a hash of everything before it, so equal
// input gives byte-identical files.
func Build(pages []*Canvas, title string, created time.Time) []byte {
	const catalog, pagesObj, info, font = 1, 2, 3, 4
	first := 8 // pages come after the four font objects
	w := &writer{}
	w.b.WriteString("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	w.obj(fmt.Sprintf("<< /Type /Catalog /Pages %d 0 R >>", pagesObj))
	kids := make([]string, len(pages))
	for i := range pages {
		kids[i] = fmt.Sprintf("%d 0 R", first+2*i)
	}
	w.obj(fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d /MediaBox [0 0 %s %s] >>",
		strings.Join(kids, " "), len(pages), Num(PageW), Num(PageH)))
	date := pdfDate(created)
	w.obj(fmt.Sprintf("<< /Title <FEFF%s> /Producer (signet) /CreationDate %s /ModDate %s >>",
		strings.Trim(hexUTF16(title), "<>"), date, date))
	ws := make([]string, len(latinWidths))
	for i, v := range latinWidths {
		ws[i] = strconv.Itoa(v)
	}
	w.obj(fmt.Sprintf("<< /Type /Font /Subtype /Type0 /BaseFont /%s /Encoding /UniGB-UTF16-H /DescendantFonts [%d 0 R] /ToUnicode %d 0 R >>",
		fontName, font+1, font+3))
	w.obj(fmt.Sprintf("<< /Type /Font /Subtype /CIDFontType0 /BaseFont /%s /CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 4 >> /FontDescriptor %d 0 R /DW 1000 /W [1 [%s]] >>",
		fontName, font+2, strings.Join(ws, " ")))
	w.obj(fmt.Sprintf("<< /Type /FontDescriptor /FontName /%s /Flags 6 /FontBBox [-25 -254 1000 880] /ItalicAngle 0 /Ascent 752 /Descent -271 /CapHeight 737 /StemV 58 >>", fontName))
	w.stream("", toUnicode())
	for i, p := range pages {
		w.obj(fmt.Sprintf("<< /Type /Page /Parent %d 0 R /Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R >>",
			pagesObj, font, first+2*i+1))
		w.stream("", p.b.Bytes())
	}
	id := sha256.Sum256(w.b.Bytes())
	xref := w.b.Len()
	fmt.Fprintf(&w.b, "xref\n0 %d\n0000000000 65535 f \n", len(w.off)+1)
	for _, o := range w.off {
		fmt.Fprintf(&w.b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&w.b, "trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R /ID [<%X> <%X>] >>\nstartxref\n%d\n%%%%EOF\n",
		len(w.off)+1, catalog, info, id[:16], id[:16], xref)
	return w.b.Bytes()
}

// toUnicode maps every 2-byte code of UniGB-UTF16-H to the character it
// encodes; bfrange entries may only vary in the last byte, so there is one
// per high byte. Printable has no 4-byte (surrogate pair) codes.
func toUnicode() []byte {
	var b bytes.Buffer
	b.WriteString("/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n" +
		"/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n" +
		"/CMapName /signet-UniGB-UTF16-UCS def\n/CMapType 2 def\n" +
		"3 begincodespacerange\n<0000> <D7FF>\n<D800DC00> <DBFFDFFF>\n<E000> <FFFF>\nendcodespacerange\n")
	var highs []int
	for h := 0; h <= 0xff; h++ {
		if h < 0xd8 || h > 0xdf {
			highs = append(highs, h)
		}
	}
	for len(highs) > 0 {
		n := min(len(highs), 100) // a CMap block holds at most 100 entries
		fmt.Fprintf(&b, "%d beginbfrange\n", n)
		for _, h := range highs[:n] {
			fmt.Fprintf(&b, "<%02X00> <%02XFF> <%02X00>\n", h, h, h)
		}
		b.WriteString("endbfrange\n")
		highs = highs[n:]
	}
	b.WriteString("endcmap\nCMapName currentdict /CMapResource defineresource pop\nend\nend\n")
	return b.Bytes()
}

package artwork

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"image/color"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Fonts asked of the viewer, Chinese ones first; the seal's in a bold sans
// (黑体) like real seals, the signature's in a brush style (楷体) where there
// is one.
const (
	sealFonts = `'WenQuanYi Zen Hei','Noto Sans CJK SC','Source Han Sans SC','PingFang SC','Microsoft YaHei',SimHei,sans-serif`
	sigFonts  = `KaiTi,STKaiti,'Kaiti SC','AR PL UKai CN','Noto Serif CJK SC',serif`
)

func num(f float64) string { return strconv.FormatFloat(f, 'f', 2, 64) }

func hex(c color.NRGBA) string { return fmt.Sprintf("#%02X%02X%02X", c.R, c.G, c.B) }

func escape(b *bytes.Buffer, s string) {
	// EscapeText fails only on writer errors; a bytes.Buffer has none.
	_ = xml.EscapeText(b, []byte(s))
}

// sealSVG is the PNG seal's design with the name on a <textPath>: the
// viewer bends the text along the arc with its own fonts. textLength
// spreads the glyphs over the same 240 degrees.
func sealSVG(name []rune) []byte {
	const c = sealSize / 2
	em := glyphSize(len(name))
	// The baseline sits so that the em box, drawn outward of it (ascent
	// about 0.88 em in CJK fonts), ends at textEdge.
	rb := textEdge - 0.88*em
	sin, cos := math.Sincos(arcSpan / 2)
	x0, y0 := c-rb*sin, c+rb*cos
	x1 := c + rb*sin
	length := rb*arcSpan*float64(len(name)-1)/float64(len(name)) + em

	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="400" height="400" viewBox="0 0 400 400">` + "\n")
	// The arc runs clockwise (sweep 1) over the top, the long way round.
	b.WriteString(`<defs><path id="arc" fill="none" d="M ` + num(x0) + " " + num(y0) +
		" A " + num(rb) + " " + num(rb) + " 0 1 1 " + num(x1) + " " + num(y0) + `"/></defs>` + "\n")
	red := hex(sealRed)
	b.WriteString(`<circle cx="200" cy="200" r="` + num(ringOuter-ringWidth/2) + `" fill="none" stroke="` + red +
		`" stroke-width="` + num(ringWidth) + `"/>` + "\n")
	var pts []string
	for _, p := range star() {
		pts = append(pts, num(p[0])+","+num(p[1]))
	}
	b.WriteString(`<polygon fill="` + red + `" points="` + strings.Join(pts, " ") + `"/>` + "\n")
	b.WriteString(`<text fill="` + red + `" font-family="` + sealFonts + `" font-weight="bold" font-size="` + num(em) +
		`" text-anchor="middle"><textPath href="#arc" xlink:href="#arc" startOffset="50%" textLength="` + num(length) +
		`" lengthAdjust="spacing">`)
	escape(&b, string(name))
	b.WriteString("</textPath></text>\n</svg>\n")
	return b.Bytes()
}

// signatureSVG sizes the image from an estimate of the text's width: one
// em for wide (CJK) characters, 0.6 em for others.
func signatureSVG(name []rune) []byte {
	width := 0.0
	for _, r := range name {
		if utf8.RuneLen(r) >= 3 {
			width += sigEm
		} else {
			width += 0.6 * sigEm
		}
	}
	w := math.Ceil(width + sigShear*sigEm + 2*sigPad)
	h := math.Ceil(1.25*sigEm + 2*sigPad)
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<svg xmlns="http://www.w3.org/2000/svg" width="` + num(w) + `" height="` + num(h) +
		`" viewBox="0 0 ` + num(w) + " " + num(h) + `">` + "\n")
	// skewX leans the text forward like the PNG's shear; it also moves the
	// baseline left by the shear times its height, which x makes up for.
	b.WriteString(`<text x="` + num(sigPad+sigShear*(sigPad+sigEm)) + `" y="` + num(sigPad+sigEm) + `" fill="` + hex(ink) +
		`" font-family="` + sigFonts + `" font-size="` + num(sigEm) + `" transform="skewX(` +
		num(-math.Atan(sigShear)*180/math.Pi) + `)">`)
	escape(&b, string(name))
	b.WriteString("</text>\n</svg>\n")
	return b.Bytes()
}

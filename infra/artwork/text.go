package artwork

import (
	"fmt"
	"image/color"
	"math"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/vector"

	"signet/domain/fault"
)

// Text image geometry: pixels per PDF point, and the largest side drawn.
const (
	textScale   = 4.0
	textMaxSide = 4096
	textMaxRune = 500
	lineGap     = 1.2 // line height in em
)

var textInk = color.NRGBA{R: 0x11, G: 0x11, B: 0x11, A: 0xFF}

var goRegular = sync.OnceValues(func() (*sfnt.Font, error) { return opentype.Parse(goregular.TTF) })

// Text draws text (a date, a business value) as a transparent PNG for a
// box of w×h PDF points: left-aligned, vertically centred, as large as
// fits, wrapped onto more lines when one line would be too small. Line
// breaks in text are kept. Without a CJK font, text is drawn in Go
// Regular, where Chinese characters show as boxes.
func (a *Artwork) Text(text string, w, h float64) ([]byte, error) {
	if !(w > 0 && h > 0) || math.IsInf(w, 0) || math.IsInf(h, 0) {
		return nil, fmt.Errorf("artwork: text box %gx%g has no area", w, h)
	}
	runes, err := checkText(text)
	if err != nil {
		return nil, err
	}
	f, err := a.textFont(runes)
	if err != nil {
		return nil, err
	}
	scale := math.Min(textScale, textMaxSide/math.Max(w, h))
	pw, ph := math.Ceil(w*scale), math.Ceil(h*scale)
	pad := math.Min(pw, ph) * 0.05
	lines, em, err := fit(newGlyphs(f, 64), runes, pw-2*pad, ph-2*pad)
	if err != nil {
		return nil, err
	}
	g := newGlyphs(f, em)
	asc, desc, err := g.ascentDescent()
	if err != nil {
		return nil, fmt.Errorf("artwork: font metrics: %w", err)
	}
	z := vector.NewRasterizer(int(pw), int(ph))
	block := float64(len(lines)-1)*em*lineGap + asc + desc
	y0 := (ph-block)/2 + asc
	for i, line := range lines {
		x0, y := pad, y0+float64(i)*em*lineGap
		for _, r := range line {
			adv, err := g.advance(r)
			if err != nil {
				return nil, fmt.Errorf("artwork: glyph %q: %w", r, err)
			}
			err = g.draw(z, r, func(x, yy float64) (float32, float32) { return float32(x0 + x), float32(y + yy) })
			if err != nil {
				return nil, err
			}
			x0 += adv
		}
	}
	return paint(z, textInk)
}

func checkText(text string) ([]rune, error) {
	text = strings.TrimSpace(strings.ReplaceAll(text, "\r\n", "\n"))
	switch {
	case text == "":
		return nil, fault.Invalidf("text", "text_required", "There is no text to draw.")
	case !utf8.ValidString(text):
		return nil, fault.Invalidf("text", "text_invalid", "The text is not valid UTF-8.")
	case utf8.RuneCountInString(text) > textMaxRune:
		return nil, fault.Invalidf("text", "text_too_long", "The text has more than %d characters and cannot be drawn.", textMaxRune)
	}
	for _, r := range text {
		if r != '\n' && unicode.In(r, unicode.Cc, unicode.Cf) {
			return nil, fault.Invalidf("text", "text_invalid", "The text contains a control character (U+%04X).", r)
		}
	}
	return []rune(text), nil
}

// textFont picks the loaded font with all glyphs, else Go Regular when it
// has them all.
func (a *Artwork) textFont(runes []rune) (*sfnt.Font, error) {
	if a.fonts != nil {
		if f, missing := a.font(runes); missing == 0 {
			return f, nil
		}
	}
	f, err := goRegular()
	if err != nil {
		return nil, fmt.Errorf("artwork: Go font: %w", err)
	}
	fallback := &Artwork{fonts: []*sfnt.Font{f}}
	if _, missing := fallback.font(runes); missing > 0 && a.fonts != nil {
		f, _ := a.font(runes)
		return f, nil // best effort: some glyphs show as boxes
	}
	// Without a CJK font Chinese shows as boxes: a final document with
	// boxes beats a contract that can never be completed. The server warns
	// at start that SIGNET_CJK_FONT or fonts-wqy-zenhei is wanted.
	return f, nil
}

// fit finds the largest em (up to the box height) at which text, wrapped
// to width w, fits height h, and returns the lines.
func fit(unit *glyphs, text []rune, w, h float64) ([][]rune, float64, error) {
	// Advances scale linearly with the em, so one measurement (at 64 px, in
	// em units after dividing) serves every size.
	adv := make([]float64, len(text))
	for i, r := range text {
		if r == '\n' {
			continue
		}
		a, err := unit.advance(r)
		if err != nil {
			return nil, 0, fmt.Errorf("artwork: glyph %q: %w", r, err)
		}
		adv[i] = a / 64
	}
	var lines [][]rune
	em := h / lineGap
	for n := 1; ; n++ {
		em = math.Min(h/(float64(n)*lineGap), h*0.8)
		lines = wrap(text, adv, w/em)
		if len(lines) <= n || em < 1 {
			return lines, math.Max(em, 1), nil
		}
	}
}

// wrap breaks text into lines no wider than width (in em), at spaces when
// a line has one and between any two characters otherwise (as Chinese is).
func wrap(text []rune, adv []float64, width float64) [][]rune {
	var lines [][]rune
	start, x, lastSpace := 0, 0.0, -1
	for i := 0; i < len(text); i++ {
		r := text[i]
		if r == '\n' {
			lines = append(lines, text[start:i])
			start, x, lastSpace = i+1, 0, -1
			continue
		}
		if r == ' ' {
			lastSpace = i
		}
		if x+adv[i] > width && i > start {
			end := i
			if lastSpace > start {
				end = lastSpace
			}
			lines = append(lines, text[start:end])
			if end < len(text) && text[end] == ' ' {
				end++
			}
			start, x, lastSpace, i = end, 0, -1, end-1
			continue
		}
		x += adv[i]
	}
	return append(lines, text[start:])
}

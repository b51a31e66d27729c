package artwork

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"

	"golang.org/x/image/font"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
	"golang.org/x/image/vector"
)

// Seal geometry, in pixels for PNG and user units for SVG.
const (
	sealSize   = 400
	ringOuter  = 193.0
	ringWidth  = 12.0
	textEdge   = ringOuter - ringWidth - 8 // glyphs stay inside this radius, clear of the ring
	starRadius = 64.0
	arcSpan    = 240 * math.Pi / 180 // the name runs over the upper 240 degrees
	maxGlyph   = 58.0
	bold       = 0.018 // emboldening offset, in em
)

// Typed signature geometry.
const (
	sigEm    = 64.0
	sigPad   = 16.0
	sigShear = 0.2 // a slight forward lean, as handwriting has
)

var (
	sealRed = color.NRGBA{R: 0xD4, A: 0xFF}
	ink     = color.NRGBA{R: 0x1A, G: 0x2A, B: 0x6C, A: 0xFF}
)

// glyphSize is the em size at which n glyphs spread over the arc do not
// touch: s = 0.9 * step * (textEdge - s/2), capped.
func glyphSize(n int) float64 {
	step := arcSpan / float64(n)
	return math.Min(maxGlyph, 0.9*step*textEdge/(1+0.45*step))
}

// slot is the angle, clockwise from 12 o'clock, of glyph i's centre.
func slot(i, n int) float64 {
	step := arcSpan / float64(n)
	return -arcSpan/2 + step*(float64(i)+0.5)
}

// star returns the ten corners of a five-pointed star centred on the seal,
// first point up, in image coordinates (y down).
func star() [10][2]float64 {
	inner := starRadius * math.Sin(math.Pi/10) / math.Sin(7*math.Pi/10)
	var p [10][2]float64
	for k := range p {
		r := starRadius
		if k%2 == 1 {
			r = inner
		}
		sin, cos := math.Sincos(-math.Pi/2 + float64(k)*math.Pi/5)
		p[k] = [2]float64{sealSize/2 + r*cos, sealSize/2 + r*sin}
	}
	return p
}

// glyphs draws text of one font at one size through a transform.
type glyphs struct {
	f    *sfnt.Font
	buf  sfnt.Buffer
	ppem fixed.Int26_6
}

func newGlyphs(f *sfnt.Font, em float64) *glyphs {
	return &glyphs{f: f, ppem: fixed.Int26_6(math.Round(em * 64))}
}

// ascentDescent are the font's extents above and below the baseline.
func (g *glyphs) ascentDescent() (float64, float64, error) {
	m, err := g.f.Metrics(&g.buf, g.ppem, font.HintingNone)
	if err != nil {
		return 0, 0, err
	}
	return float64(m.Ascent) / 64, float64(m.Descent) / 64, nil
}

func (g *glyphs) index(r rune) sfnt.GlyphIndex {
	i, err := g.f.GlyphIndex(&g.buf, r)
	if err != nil {
		return 0 // .notdef, the font's empty box
	}
	return i
}

func (g *glyphs) advance(r rune) (float64, error) {
	a, err := g.f.GlyphAdvance(&g.buf, g.index(r), g.ppem, font.HintingNone)
	return float64(a) / 64, err
}

// draw adds r's outline to z; tf maps glyph coordinates (origin on the
// baseline at the pen, y down) to the image.
func (g *glyphs) draw(z *vector.Rasterizer, r rune, tf func(x, y float64) (float32, float32)) error {
	segs, err := g.f.LoadGlyph(&g.buf, g.index(r), g.ppem, nil)
	if errors.Is(err, sfnt.ErrColoredGlyph) {
		return nil // emoji and the like: nothing to stamp in one colour
	}
	if err != nil {
		return fmt.Errorf("artwork: glyph %q: %w", r, err)
	}
	pt := func(p fixed.Point26_6) (float32, float32) { return tf(float64(p.X)/64, float64(p.Y)/64) }
	open := false
	for _, s := range segs {
		switch s.Op {
		case sfnt.SegmentOpMoveTo:
			if open {
				z.ClosePath()
			}
			open = true
			z.MoveTo(pt(s.Args[0]))
		case sfnt.SegmentOpLineTo:
			z.LineTo(pt(s.Args[0]))
		case sfnt.SegmentOpQuadTo:
			bx, by := pt(s.Args[0])
			cx, cy := pt(s.Args[1])
			z.QuadTo(bx, by, cx, cy)
		case sfnt.SegmentOpCubeTo:
			bx, by := pt(s.Args[0])
			cx, cy := pt(s.Args[1])
			dx, dy := pt(s.Args[2])
			z.CubeTo(bx, by, cx, cy, dx, dy)
		}
	}
	if open {
		z.ClosePath()
	}
	return nil
}

// circle adds a circle as four cubic arcs, clockwise on screen unless
// reverse; a reversed circle inside another cuts a hole (nonzero winding).
func circle(z *vector.Rasterizer, cx, cy, r float64, reverse bool) {
	const k = 0.5522847498 // control distance of a quarter circle
	d := 1.0
	if reverse {
		d = -1
	}
	at := func(a float64) (x, y, tx, ty float64) {
		sin, cos := math.Sincos(a)
		return cx + r*cos, cy + r*sin, -sin * d * k * r, cos * d * k * r
	}
	x0, y0, _, _ := at(0)
	z.MoveTo(float32(x0), float32(y0))
	for q := 1; q <= 4; q++ {
		ax, ay, atx, aty := at(d * float64(q-1) * math.Pi / 2)
		bx, by, btx, bty := at(d * float64(q) * math.Pi / 2)
		z.CubeTo(float32(ax+atx), float32(ay+aty), float32(bx-btx), float32(by-bty), float32(bx), float32(by))
	}
	z.ClosePath()
}

func (a *Artwork) sealPNG(name []rune) ([]byte, error) {
	z := vector.NewRasterizer(sealSize, sealSize)
	const c = sealSize / 2
	circle(z, c, c, ringOuter, false)
	circle(z, c, c, ringOuter-ringWidth, true)
	p := star()
	z.MoveTo(float32(p[0][0]), float32(p[0][1]))
	for _, q := range p[1:] {
		z.LineTo(float32(q[0]), float32(q[1]))
	}
	z.ClosePath()

	f, _ := a.font(name)
	em := glyphSize(len(name))
	g := newGlyphs(f, em)
	asc, desc, err := g.ascentDescent()
	if err != nil {
		return nil, fmt.Errorf("artwork: font metrics: %w", err)
	}
	mid := (desc - asc) / 2 // the line's vertical middle, from the baseline
	rc := textEdge - em/2   // radius of the glyph centres
	for i, r := range name {
		adv, err := g.advance(r)
		if err != nil {
			return nil, fmt.Errorf("artwork: glyph %q: %w", r, err)
		}
		sin, cos := math.Sincos(slot(i, len(name)))
		// Each glyph stands on the circle with its top facing outwards:
		// its x axis runs along the tangent, its y axis towards the centre.
		px, py := c+rc*sin, c-rc*cos
		// Four slightly shifted copies thicken the strokes: seal lettering
		// is bolder than text fonts.
		for _, d := range [4][2]float64{{-bold, 0}, {bold, 0}, {0, -bold}, {0, bold}} {
			err = g.draw(z, r, func(x, y float64) (float32, float32) {
				u, v := x-adv/2+d[0]*em, y-mid+d[1]*em
				return float32(px + u*cos - v*sin), float32(py + u*sin + v*cos)
			})
			if err != nil {
				return nil, err
			}
		}
	}
	return paint(z, sealRed)
}

func (a *Artwork) signaturePNG(name []rune) ([]byte, error) {
	f, _ := a.font(name)
	g := newGlyphs(f, sigEm)
	asc, desc, err := g.ascentDescent()
	if err != nil {
		return nil, fmt.Errorf("artwork: font metrics: %w", err)
	}
	advances := make([]float64, len(name))
	width := 0.0
	for i, r := range name {
		if advances[i], err = g.advance(r); err != nil {
			return nil, fmt.Errorf("artwork: glyph %q: %w", r, err)
		}
		width += advances[i]
	}
	w := int(math.Ceil(width + sigShear*asc + 2*sigPad))
	h := int(math.Ceil(asc + desc + 2*sigPad))
	z := vector.NewRasterizer(w, h)
	x0, y0 := sigPad, sigPad+asc
	for i, r := range name {
		err := g.draw(z, r, func(x, y float64) (float32, float32) {
			return float32(x0 + x - sigShear*y), float32(y0 + y)
		})
		if err != nil {
			return nil, err
		}
		x0 += advances[i]
	}
	return paint(z, ink)
}

// paint fills z's paths with c on a transparent image and encodes it.
func paint(z *vector.Rasterizer, c color.NRGBA) ([]byte, error) {
	img := image.NewRGBA(z.Bounds())
	z.Draw(img, img.Bounds(), image.NewUniform(c), image.Point{})
	var b bytes.Buffer
	enc := png.Encoder{}
	if err := enc.Encode(&b, img); err != nil {
		return nil, fmt.Errorf("artwork: encode png: %w", err)
	}
	return b.Bytes(), nil
}

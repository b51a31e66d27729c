package ocr

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/image/font"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
)

// Photo-like documents drawn with a real Chinese font, so the tests exercise
// tesseract on what a phone photo of a licence or a card roughly looks like:
// tinted, unevenly lit, speckled paper with a security pattern, a red border
// or seal, a QR code or portrait, a slight tilt and JPEG artefacts.

// cjkFontPaths are tried before asking fontconfig.
var cjkFontPaths = []string{
	"/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
	"/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
	"/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
	"/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
	"/usr/share/fonts/truetype/arphic/uming.ttc",
	"/System/Library/Fonts/PingFang.ttc",
}

// findCJKFont returns a parsed font with Han glyphs, or nil.
func findCJKFont() *opentype.Font {
	paths := append([]string(nil), cjkFontPaths...)
	if out, err := exec.Command("fc-list", ":lang=zh", "file").Output(); err == nil {
		for _, l := range strings.Split(string(out), "\n") {
			if p := strings.TrimSuffix(strings.TrimSpace(l), ":"); p != "" {
				paths = append(paths, p)
			}
		}
	}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		f, err := opentype.Parse(data)
		if err != nil {
			// x/image wants every table on a 4-byte boundary, which
			// wqy-zenhei.ttc (and other collections) do not keep.
			if data, err = standalone(data, 0); err != nil {
				continue
			}
			if f, err = opentype.Parse(data); err != nil {
				continue
			}
		}
		var buf sfnt.Buffer
		if i, err := f.GlyphIndex(&buf, '营'); err == nil && i != 0 {
			return f
		}
	}
	return nil
}

// standalone copies font idx of a collection (or a lone font) into a font
// file of its own with its tables on 4-byte boundaries.
func standalone(data []byte, idx int) ([]byte, error) {
	be := binary.BigEndian
	bad := errors.New("not a font file")
	if len(data) < 16 {
		return nil, bad
	}
	off := 0
	if string(data[:4]) == "ttcf" {
		if int(be.Uint32(data[8:])) <= idx || len(data) < 16+4*idx {
			return nil, bad
		}
		off = int(be.Uint32(data[12+4*idx:]))
	}
	if off+12 > len(data) {
		return nil, bad
	}
	n := int(be.Uint16(data[off+4:]))
	dir := 12 + 16*n
	if off+dir > len(data) {
		return nil, bad
	}
	out := make([]byte, dir, len(data))
	copy(out, data[off:off+12])
	for i := range n {
		rec := data[off+12+16*i : off+28+16*i]
		o, l := int(be.Uint32(rec[8:])), int(be.Uint32(rec[12:]))
		if o+l > len(data) {
			return nil, bad
		}
		copy(out[12+16*i:], rec[:8])
		be.PutUint32(out[12+16*i+8:], uint32(len(out)))
		be.PutUint32(out[12+16*i+12:], uint32(l))
		out = append(out, data[o:o+l]...)
		for len(out)%4 != 0 {
			out = append(out, 0)
		}
	}
	return out, nil
}

// span is one run of text on a document; a spread above zero spaces the
// runes that far apart, as labels like 名  称 are printed.
type span struct {
	x, y   int
	size   float64
	s      string
	spread int
	col    color.RGBA
}

type page struct {
	t    testing.TB
	f    *opentype.Font
	img  *image.RGBA
	rnd  *rand.Rand
	face map[float64]font.Face
}

func newPage(t testing.TB, f *opentype.Font, w, h int, seed uint64, paper color.RGBA) *page {
	p := &page{t: t, f: f, img: image.NewRGBA(image.Rect(0, 0, w, h)), rnd: rand.New(rand.NewPCG(seed, 7)), face: map[float64]font.Face{}}
	for y := range h {
		for x := range w {
			// uneven light: brighter top-left, darker bottom-right
			g := 1 - 0.10*float64(x+y)/float64(w+h)
			p.img.SetRGBA(x, y, color.RGBA{scale(paper.R, g), scale(paper.G, g), scale(paper.B, g), 255})
		}
	}
	return p
}

func scale(c uint8, g float64) uint8 { return uint8(math.Max(0, math.Min(255, float64(c)*g))) }

// pattern draws faint wavy security lines in col.
func (p *page) pattern(col color.RGBA, r image.Rectangle) {
	for k := r.Min.Y; k < r.Max.Y; k += 14 {
		for x := r.Min.X; x < r.Max.X; x++ {
			y := k + int(5*math.Sin(float64(x)/23+float64(k)/40))
			if image.Pt(x, y).In(r) {
				p.blend(x, y, col, 0.35)
			}
		}
	}
}

func (p *page) blend(x, y int, c color.RGBA, a float64) {
	o := p.img.RGBAAt(x, y)
	mix := func(u, v uint8) uint8 { return uint8(float64(u)*(1-a) + float64(v)*a) }
	p.img.SetRGBA(x, y, color.RGBA{mix(o.R, c.R), mix(o.G, c.G), mix(o.B, c.B), 255})
}

func (p *page) rect(r image.Rectangle, c color.RGBA, thick int) {
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if x < r.Min.X+thick || x >= r.Max.X-thick || y < r.Min.Y+thick || y >= r.Max.Y-thick {
				p.blend(x, y, c, 0.9)
			}
		}
	}
}

// ring draws a circle of radius r and width w, like a seal or an emblem.
func (p *page) ring(cx, cy, r, w int, c color.RGBA, a float64) {
	for y := cy - r; y <= cy+r; y++ {
		for x := cx - r; x <= cx+r; x++ {
			d := math.Hypot(float64(x-cx), float64(y-cy))
			if d <= float64(r) && d >= float64(r-w) && image.Pt(x, y).In(p.img.Rect) {
				p.blend(x, y, c, a)
			}
		}
	}
}

func (p *page) fill(r image.Rectangle, c color.RGBA, a float64) {
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			p.blend(x, y, c, a)
		}
	}
}

// qr draws a QR-code-like block of random modules.
func (p *page) qr(x0, y0, n, m int) {
	for j := range n {
		for i := range n {
			finder := (i < 7 && j < 7) || (i >= n-7 && j < 7) || (i < 7 && j >= n-7)
			if (finder && (i%6 == 0 || j%6 == 0 || (i%(n-7) >= 2 && i%(n-7) <= 4 && j%(n-7) >= 2 && j%(n-7) <= 4))) || (!finder && p.rnd.IntN(2) == 0) {
				p.fill(image.Rect(x0+i*m, y0+j*m, x0+(i+1)*m, y0+(j+1)*m), color.RGBA{20, 20, 20, 255}, 0.95)
			}
		}
	}
}

func (p *page) write(ts ...span) {
	for _, tx := range ts {
		face, ok := p.face[tx.size]
		if !ok {
			var err error
			face, err = opentype.NewFace(p.f, &opentype.FaceOptions{Size: tx.size, DPI: 72, Hinting: font.HintingFull})
			if err != nil {
				p.t.Fatal(err)
			}
			p.face[tx.size] = face
		}
		d := font.Drawer{Dst: p.img, Src: image.NewUniform(tx.col), Face: face, Dot: fixed.P(tx.x, tx.y)}
		if tx.spread == 0 {
			d.DrawString(tx.s)
			continue
		}
		for i, r := range []rune(tx.s) {
			d.Dot = fixed.P(tx.x+i*tx.spread, tx.y)
			d.DrawString(string(r))
		}
	}
}

// photo adds sensor noise and specks, tilts the page by deg degrees and
// returns it as a JPEG.
func (p *page) photo(deg float64) []byte {
	b := p.img.Rect
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			o := p.img.RGBAAt(x, y)
			n := p.rnd.NormFloat64() * 6
			if p.rnd.IntN(300) == 0 {
				n -= 60 + float64(p.rnd.IntN(60)) // dust
			}
			add := func(c uint8) uint8 { return uint8(math.Max(0, math.Min(255, float64(c)+n))) }
			p.img.SetRGBA(x, y, color.RGBA{add(o.R), add(o.G), add(o.B), 255})
		}
	}
	img := rotate(p.img, deg, p.img.RGBAAt(2, 2))
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 82}); err != nil {
		p.t.Fatal(err)
	}
	return buf.Bytes()
}

// rotate turns src by deg degrees about its centre, bilinearly.
func rotate(src *image.RGBA, deg float64, bg color.RGBA) *image.RGBA {
	b := src.Rect
	dst := image.NewRGBA(b)
	sin, cos := math.Sincos(deg * math.Pi / 180)
	cx, cy := float64(b.Dx())/2, float64(b.Dy())/2
	at := func(x, y int) color.RGBA {
		if !image.Pt(x, y).In(b) {
			return bg
		}
		return src.RGBAAt(x, y)
	}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			dx, dy := float64(x)-cx, float64(y)-cy
			sx, sy := cos*dx+sin*dy+cx, -sin*dx+cos*dy+cy
			x0, y0 := int(math.Floor(sx)), int(math.Floor(sy))
			fx, fy := sx-float64(x0), sy-float64(y0)
			c00, c10, c01, c11 := at(x0, y0), at(x0+1, y0), at(x0, y0+1), at(x0+1, y0+1)
			lerp := func(a, b, c, d uint8) uint8 {
				top := float64(a)*(1-fx) + float64(b)*fx
				bot := float64(c)*(1-fx) + float64(d)*fx
				return uint8(top*(1-fy) + bot*fy + 0.5)
			}
			dst.SetRGBA(x, y, color.RGBA{
				lerp(c00.R, c10.R, c01.R, c11.R), lerp(c00.G, c10.G, c01.G, c11.G),
				lerp(c00.B, c10.B, c01.B, c11.B), 255,
			})
		}
	}
	return dst
}

var (
	ink     = color.RGBA{28, 28, 30, 255}
	seal    = color.RGBA{200, 40, 40, 255}
	cardInk = color.RGBA{45, 95, 150, 255} // the blue of a card's labels
)

// licence is what a rendered licence shows: its fields, its 类型 and the
// label of its representative (法定代表人, or 经营者 for a sole proprietor).
type licence struct {
	LicenseFields
	kind, repLabel string
}

// licenseImage is a new-style (2019) business licence: title, the code at
// the top, and two columns of labelled fields.
func licenseImage(t testing.TB, f *opentype.Font, deg float64, seed uint64, lf licence) []byte {
	p := newPage(t, f, 1600, 1130, seed, color.RGBA{246, 238, 222, 255})
	p.pattern(color.RGBA{235, 190, 160, 255}, image.Rect(60, 60, 1540, 1070))
	p.rect(image.Rect(36, 36, 1564, 1094), color.RGBA{190, 60, 50, 255}, 8)
	p.rect(image.Rect(52, 52, 1548, 1078), color.RGBA{190, 60, 50, 255}, 2)
	p.ring(800, 120, 50, 50, color.RGBA{210, 60, 50, 255}, 0.8) // emblem
	p.qr(1330, 110, 25, 6)
	const x, v, x2, v2 = 120, 330, 860, 1040
	p.write(
		span{x: 600, y: 270, size: 96, s: "营业执照", spread: 110, col: ink},
		span{x: 730, y: 320, size: 30, s: "(副本)", col: ink},
		span{x: x, y: 300, size: 30, s: "统一社会信用代码", col: ink},
		span{x: x, y: 345, size: 32, s: lf.USCC, col: ink},
		span{x: x, y: 440, size: 32, s: "名称", spread: 136, col: ink},
		span{x: v, y: 440, size: 32, s: lf.Name, col: ink},
		span{x: x, y: 510, size: 32, s: "类型", spread: 136, col: ink},
		span{x: v, y: 510, size: 32, s: lf.kind, col: ink},
		span{x: x, y: 580, size: 32, s: lf.repLabel, spread: 138 / max(1, utf8.RuneCountInString(lf.repLabel)-1), col: ink},
		span{x: v, y: 580, size: 32, s: lf.LegalRep, col: ink},
		span{x: x, y: 650, size: 32, s: "经营范围", spread: 45, col: ink},
		span{x: v, y: 650, size: 28, s: "一般项目：食品销售（仅销售预包装", col: ink},
		span{x: v, y: 695, size: 28, s: "食品）；日用百货销售；食用农产品", col: ink},
		span{x: v, y: 740, size: 28, s: "批发；互联网销售（除销售需要许可", col: ink},
		span{x: v, y: 785, size: 28, s: "的商品）。", col: ink},
		span{x: x2, y: 440, size: 32, s: "注册资本", spread: 45, col: ink},
		span{x: v2, y: 440, size: 32, s: "壹佰万元整", col: ink},
		span{x: x2, y: 510, size: 32, s: "成立日期", spread: 45, col: ink},
		span{x: v2, y: 510, size: 32, s: "2019年05月20日", col: ink},
		span{x: x2, y: 580, size: 32, s: "营业期限", spread: 45, col: ink},
		span{x: v2, y: 580, size: 32, s: "长期", col: ink},
		span{x: x2, y: 650, size: 32, s: "住所", spread: 136, col: ink},
		span{x: v2, y: 650, size: 28, s: "浙江省杭州市西湖区文三路", col: ink},
		span{x: v2, y: 695, size: 28, s: "90号东部软件园1号楼", col: ink},
		span{x: 1000, y: 930, size: 32, s: "登记机关", spread: 45, col: ink},
		span{x: 1100, y: 1010, size: 30, s: "2019年05月20日", col: ink},
	)
	p.ring(1250, 950, 95, 7, seal, 0.7) // the registrar's seal over its date
	return p.photo(deg)
}

// portraitImage is the portrait side of a card lying on a table.
func portraitImage(t testing.TB, f *opentype.Font, deg float64, seed uint64, pf PortraitFields) []byte {
	p := newPage(t, f, 1100, 720, seed, color.RGBA{120, 105, 90, 255})
	p.fill(image.Rect(50, 45, 1050, 675), color.RGBA{238, 240, 236, 255}, 1)
	p.pattern(color.RGBA{200, 215, 225, 255}, image.Rect(50, 45, 1050, 675))
	p.fill(image.Rect(720, 110, 980, 440), color.RGBA{225, 228, 230, 255}, 1) // photo
	p.ring(850, 230, 75, 75, color.RGBA{90, 80, 75, 255}, 0.8)                // head
	p.fill(image.Rect(740, 330, 960, 440), color.RGBA{60, 60, 70, 255}, 0.8)  // shoulders
	p.write(
		span{x: 110, y: 150, size: 28, s: "姓名", spread: 56, col: cardInk},
		span{x: 240, y: 150, size: 36, s: pf.Name, col: ink},
		span{x: 110, y: 225, size: 28, s: "性别", spread: 56, col: cardInk},
		span{x: 240, y: 225, size: 32, s: "男", col: ink},
		span{x: 380, y: 225, size: 28, s: "民族", spread: 56, col: cardInk},
		span{x: 510, y: 225, size: 32, s: "汉", col: ink},
		span{x: 110, y: 300, size: 28, s: "出生", spread: 56, col: cardInk},
		span{x: 240, y: 300, size: 32, s: "1990", col: ink},
		span{x: 345, y: 300, size: 28, s: "年", col: cardInk},
		span{x: 400, y: 300, size: 32, s: "3", col: ink},
		span{x: 440, y: 300, size: 28, s: "月", col: cardInk},
		span{x: 490, y: 300, size: 32, s: "7", col: ink},
		span{x: 530, y: 300, size: 28, s: "日", col: cardInk},
		span{x: 110, y: 375, size: 28, s: "住址", spread: 56, col: cardInk},
		span{x: 240, y: 375, size: 32, s: "福建省福州市鼓楼区五四路", col: ink},
		span{x: 240, y: 425, size: 32, s: "100号", col: ink},
		span{x: 110, y: 580, size: 28, s: "公民身份号码", col: cardInk},
		span{x: 330, y: 582, size: 38, s: pf.IDNumber, spread: 30, col: ink},
	)
	return p.photo(deg)
}

// emblemImage is the emblem side of a card lying on a table.
func emblemImage(t testing.TB, f *opentype.Font, deg float64, seed uint64, authority, validity string) []byte {
	p := newPage(t, f, 1100, 720, seed, color.RGBA{120, 105, 90, 255})
	p.fill(image.Rect(50, 45, 1050, 675), color.RGBA{236, 238, 240, 255}, 1)
	p.pattern(color.RGBA{200, 215, 225, 255}, image.Rect(50, 45, 1050, 675))
	p.ring(190, 180, 95, 95, seal, 0.85) // emblem
	p.write(
		span{x: 340, y: 170, size: 54, s: "中华人民共和国", spread: 72, col: ink},
		span{x: 360, y: 290, size: 70, s: "居民身份证", spread: 96, col: ink},
		span{x: 200, y: 520, size: 30, s: "签发机关", col: ink},
		span{x: 370, y: 520, size: 32, s: authority, col: ink},
		span{x: 200, y: 600, size: 30, s: "有效期限", col: ink},
		span{x: 370, y: 600, size: 32, s: validity, col: ink},
	)
	return p.photo(deg)
}

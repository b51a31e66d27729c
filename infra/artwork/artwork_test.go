package artwork

import (
	"bytes"
	"encoding/binary"
	"encoding/xml"
	"errors"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"

	"signet/domain/fault"
)

var (
	loadOnce sync.Once
	loaded   *Artwork
	loadErr  error
)

// withFont is the PNG-drawing Artwork. CI installs fonts-wqy-zenhei, so a
// missing font is a broken environment, reported as a failure.
func withFont(t testing.TB) *Artwork {
	t.Helper()
	loadOnce.Do(func() {
		path := FindFont()
		if path == "" {
			loadErr = errors.New("no CJK font found: apt-get install fonts-wqy-zenhei, or set " + FontEnv + " to a CJK font file")
			return
		}
		loaded, loadErr = New(path)
	})
	if loadErr != nil {
		t.Fatal(loadErr)
	}
	return loaded
}

func decodePNG(t testing.TB, data []byte, mediaType string) *image.NRGBA {
	t.Helper()
	if mediaType != PNG {
		t.Fatalf("media type %q, want %q", mediaType, PNG)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("decode png: %v", err)
	}
	out := image.NewNRGBA(img.Bounds())
	for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y++ {
		for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x++ {
			out.Set(x, y, img.At(x, y))
		}
	}
	return out
}

// polar is the pixel at angle deg (clockwise from 12 o'clock) and radius r
// from the seal's centre.
func polar(img *image.NRGBA, deg, r float64) color.NRGBA {
	sin, cos := math.Sincos(deg * math.Pi / 180)
	return img.NRGBAAt(int(sealSize/2+r*sin), int(sealSize/2-r*cos))
}

func isRed(c color.NRGBA) bool {
	return c.A == 255 && c.R >= 0xC8 && c.G < 0x20 && c.B < 0x20
}

// inkNear counts non-transparent pixels within radius r of (x, y).
func inkNear(img *image.NRGBA, x, y, r float64) int {
	n := 0
	for py := int(y - r); py <= int(y+r); py++ {
		for px := int(x - r); px <= int(x+r); px++ {
			if (float64(px)-x)*(float64(px)-x)+(float64(py)-y)*(float64(py)-y) <= r*r &&
				img.NRGBAAt(px, py).A > 0 {
				n++
			}
		}
	}
	return n
}

func TestSealPNG(t *testing.T) {
	a := withFont(t)
	for _, name := range []string{
		"上海签网信息科技有限公司",
		"签",
		"ACME Trading Ltd",
		"北京（中关村）某某科技有限公司",
		strings.Repeat("国", MaxNameRunes),
		"  前后有空格有限公司  ",
	} {
		t.Run(name, func(t *testing.T) {
			data, mt, err := a.Seal(name)
			if err != nil {
				t.Fatal(err)
			}
			img := decodePNG(t, data, mt)
			if b := img.Bounds(); b.Dx() != sealSize || b.Dy() != sealSize {
				t.Fatalf("size %v, want %dx%d", b.Size(), sealSize, sealSize)
			}
			for _, p := range []image.Point{{0, 0}, {sealSize - 1, 0}, {0, sealSize - 1}, {sealSize - 1, sealSize - 1}, {20, 20}} {
				if c := img.NRGBAAt(p.X, p.Y); c.A != 0 {
					t.Errorf("corner %v not transparent: %v", p, c)
				}
			}
			// The ring is red all round, the star fills the centre, and
			// inside the ring below the text the seal is empty.
			for deg := 0.0; deg < 360; deg += 15 {
				if c := polar(img, deg, ringOuter-ringWidth/2); !isRed(c) {
					t.Errorf("ring at %v° is %v", deg, c)
				}
				if c := polar(img, deg, ringOuter+4); c.A != 0 {
					t.Errorf("outside the ring at %v° is %v", deg, c)
				}
			}
			if c := img.NRGBAAt(sealSize/2, sealSize/2); !isRed(c) {
				t.Errorf("star centre is %v", c)
			}
			for deg := 135.0; deg <= 225; deg += 5 {
				for r := starRadius + 5; r < ringOuter-ringWidth-2; r += 5 {
					if c := polar(img, deg, r); c.A != 0 {
						t.Fatalf("ink at %v°, r=%v below the name: %v", deg, r, c)
					}
				}
			}
			// Every character has ink at its slot on the 240° arc.
			runes := []rune(strings.TrimSpace(name))
			em := glyphSize(len(runes))
			for i := range runes {
				if runes[i] == ' ' {
					continue
				}
				sin, cos := math.Sincos(slot(i, len(runes)))
				rc := textEdge - em/2
				if n := inkNear(img, sealSize/2+rc*sin, sealSize/2-rc*cos, em/2); n < 5 {
					t.Errorf("character %d (%q) has %d pixels at its slot", i, runes[i], n)
				}
			}
			again, _, _ := a.Seal(name)
			if !bytes.Equal(data, again) {
				t.Error("same name drew different bytes")
			}
		})
	}
}

// TestSealDrawsTheName compares two names of equal length pixel by pixel in
// the band the name occupies: different glyphs must give different pixels
// (a font without the glyphs would draw the same empty boxes for both).
func TestSealDrawsTheName(t *testing.T) {
	a := withFont(t)
	draw := func(name string) *image.NRGBA {
		data, mt, err := a.Seal(name)
		if err != nil {
			t.Fatal(err)
		}
		return decodePNG(t, data, mt)
	}
	one, two := draw("上海签网信息科技有限公司"), draw("北京甲乙丙丁戊己庚辛公司")
	em := glyphSize(12)
	inner, outer := textEdge-em, textEdge
	band, differ, inked := 0, 0, 0
	for y := range sealSize {
		for x := range sealSize {
			dx, dy := float64(x)-sealSize/2, float64(y)-sealSize/2
			if r := math.Hypot(dx, dy); r < inner || r > outer {
				continue
			}
			band++
			if one.NRGBAAt(x, y).A > 0 {
				inked++
			}
			if one.NRGBAAt(x, y) != two.NRGBAAt(x, y) {
				differ++
			}
		}
	}
	if inked < band/20 {
		t.Errorf("only %d of %d pixels in the name's band have ink", inked, band)
	}
	if differ < band/20 {
		t.Errorf("only %d of %d pixels in the name's band differ between two names", differ, band)
	}
}

func TestTypedSignaturePNG(t *testing.T) {
	a := withFont(t)
	width := map[string]int{}
	for _, name := range []string{"张三", "欧阳建国", "Li Lei", "张三"} {
		data, mt, err := a.TypedSignature(name)
		if err != nil {
			t.Fatal(err)
		}
		img := decodePNG(t, data, mt)
		b := img.Bounds()
		for _, p := range []image.Point{{0, 0}, {b.Max.X - 1, 0}, {0, b.Max.Y - 1}, {b.Max.X - 1, b.Max.Y - 1}} {
			if c := img.NRGBAAt(p.X, p.Y); c.A != 0 {
				t.Errorf("%s: corner %v not transparent: %v", name, p, c)
			}
		}
		solid := 0
		for y := range b.Max.Y {
			for x := range b.Max.X {
				c := img.NRGBAAt(x, y)
				if c.A == 255 {
					if c != ink {
						t.Fatalf("%s: opaque pixel %v is not the ink colour %v", name, c, ink)
					}
					solid++
				}
			}
		}
		if solid < 200 {
			t.Errorf("%s: only %d solid pixels", name, solid)
		}
		if w, ok := width[name]; ok && w != b.Dx() {
			t.Errorf("%s: width changed from %d to %d", name, w, b.Dx())
		}
		width[name] = b.Dx()
	}
	if width["欧阳建国"] <= width["张三"] {
		t.Errorf("four characters (%dpx) not wider than two (%dpx)", width["欧阳建国"], width["张三"])
	}
}

// svgText parses doc fully and returns the character data inside the
// element named inner, checking that no element loads anything from
// outside the document.
func svgText(t *testing.T, doc []byte, inner string) string {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(doc))
	var text strings.Builder
	depth, root, in := 0, "", false
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("svg does not parse: %v\n%s", err, doc)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				root = tok.Name.Local
			}
			depth++
			if tok.Name.Local == "script" || tok.Name.Local == "foreignObject" || tok.Name.Local == "image" {
				t.Errorf("svg has a <%s>", tok.Name.Local)
			}
			for _, at := range tok.Attr {
				if at.Name.Local == "href" && !strings.HasPrefix(at.Value, "#") {
					t.Errorf("svg refers outside itself: %s=%q", at.Name.Local, at.Value)
				}
				if strings.HasPrefix(at.Name.Local, "on") {
					t.Errorf("svg has an event handler %s", at.Name.Local)
				}
			}
			in = tok.Name.Local == inner
		case xml.EndElement:
			depth--
			in = false
		case xml.CharData:
			if in {
				text.Write(tok)
			}
		}
	}
	if root != "svg" {
		t.Fatalf("root element %q", root)
	}
	return text.String()
}

func TestSVG(t *testing.T) {
	a, err := New("")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		draw    func(string) ([]byte, string, error)
		element string
	}{
		{"seal", a.Seal, "textPath"},
		{"signature", a.TypedSignature, "text"},
	}
	for _, tt := range tests {
		for _, name := range []string{`A<&>"B 公司`, "上海签网信息科技有限公司", "'; </svg><script>x</script>"} {
			t.Run(tt.name+" "+name, func(t *testing.T) {
				data, mt, err := tt.draw(name)
				if err != nil {
					t.Fatal(err)
				}
				if mt != SVG {
					t.Fatalf("media type %q", mt)
				}
				if got := svgText(t, data, tt.element); got != name {
					t.Fatalf("<%s> holds %q, want %q", tt.element, got, name)
				}
				if strings.Contains(name, "<") && bytes.Contains(data, []byte(name)) {
					t.Fatal("name written unescaped")
				}
				again, _, _ := tt.draw(name)
				if !bytes.Equal(data, again) {
					t.Fatal("same name drew different bytes")
				}
			})
		}
	}
	data, _, _ := a.Seal(`A<&>"B`)
	if !bytes.Contains(data, []byte(`A&lt;&amp;&gt;&#34;B`)) {
		t.Errorf("escaped name missing:\n%s", data)
	}
	if !bytes.Contains(data, []byte(`stroke="#D40000"`)) {
		t.Errorf("ring is not #D40000:\n%s", data)
	}
}

func TestInvalidName(t *testing.T) {
	tests := []struct{ name, in, code string }{
		{"empty", "", "name_required"},
		{"spaces", " \t ", "name_required"},
		{"too long", strings.Repeat("国", MaxNameRunes+1), "name_too_long"},
		{"nul", "签\x00网", "name_invalid"},
		{"newline", "签\n网", "name_invalid"},
		{"right-to-left override", "签\u202e网", "name_invalid"},
		{"invalid utf-8", "签\xff网", "name_invalid"},
	}
	arts := map[string]*Artwork{"svg": {}, "png": withFont(t)}
	for kind, a := range arts {
		for _, tt := range tests {
			for what, draw := range map[string]func(string) ([]byte, string, error){"seal": a.Seal, "signature": a.TypedSignature} {
				t.Run(kind+" "+what+" "+tt.name, func(t *testing.T) {
					data, mt, err := draw(tt.in)
					f, ok := fault.As(err)
					if !ok || f.Kind != fault.Invalid || f.Code != tt.code || f.Field != "name" {
						t.Fatalf("want Invalid %s on name, got %v", tt.code, err)
					}
					if data != nil || mt != "" {
						t.Fatal("output with an error")
					}
				})
			}
		}
	}
	if _, _, err := (&Artwork{}).Seal(strings.Repeat("国", MaxNameRunes)); err != nil {
		t.Fatalf("%d characters refused: %v", MaxNameRunes, err)
	}
}

func TestFindFont(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "font.ttf")
	if err := os.WriteFile(file, goregular.TTF, 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.ttc")

	t.Setenv(FontEnv, file)
	if got := FindFont(); got != file {
		t.Errorf("with %s set: FindFont() = %q, want %q", FontEnv, got, file)
	}
	// A mistyped setting is returned as is, so that New reports it.
	t.Setenv(FontEnv, missing)
	if got := FindFont(); got != missing {
		t.Errorf("with %s set to a missing file: FindFont() = %q", FontEnv, got)
	}
	if _, err := New(FindFont()); err == nil {
		t.Error("New accepted a missing font file")
	}

	tests := []struct {
		name  string
		paths []string
		want  string
	}{
		{"first existing file", []string{missing, dir, file}, file},
		{"nothing installed", []string{missing, dir}, ""},
		{"no candidates", nil, ""},
	}
	for _, tt := range tests {
		if got := findFont("", tt.paths); got != tt.want {
			t.Errorf("%s: findFont = %q, want %q", tt.name, got, tt.want)
		}
	}
	if len(fontPaths()) == 0 {
		t.Error("no system font paths")
	}
}

func TestNewRefusesFonts(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name, path, want string
	}{
		{"missing file", filepath.Join(dir, "none.ttc"), "read font"},
		{"not a font", write("text.ttf", []byte("hello, world")), "parse font"},
		{"latin only", write("goregular.ttf", goregular.TTF), "no Chinese glyphs"},
	}
	for _, tt := range tests {
		_, err := New(tt.path)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: New error %v, want one about %q", tt.name, err, tt.want)
		}
	}
}

// TestRealign checks the repacked font against the rules sfnt enforces and
// that an already aligned font comes through unchanged in meaning.
func TestRealign(t *testing.T) {
	src, err := os.ReadFile(FindFont())
	if err != nil {
		t.Fatalf("read the CJK font (apt-get install fonts-wqy-zenhei): %v", err)
	}
	for name, data := range map[string][]byte{"system CJK font": src, "goregular": goregular.TTF} {
		out, err := realign(data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, dir := range directories(out) {
			n := int(binary.BigEndian.Uint16(out[dir+4:]))
			for i := range n {
				e := out[dir+12+16*i:]
				if off := binary.BigEndian.Uint32(e[8:]); off%4 != 0 {
					t.Errorf("%s: table %q at unaligned offset %d", name, e[:4], off)
				}
			}
		}
		c, err := opentype.ParseCollection(out)
		if err != nil {
			t.Fatalf("%s: realigned font does not parse: %v", name, err)
		}
		for i := range c.NumFonts() {
			if _, err := c.Font(i); err != nil {
				t.Errorf("%s: font %d: %v", name, i, err)
			}
		}
	}
	for _, bad := range [][]byte{nil, []byte("ttcf"), []byte("ttcf\x00\x01\x00\x00\xff\xff\xff\xff"), goregular.TTF[:40]} {
		if _, err := realign(bad); err == nil {
			t.Errorf("realign(%q) accepted a broken font", bad)
		}
	}
}

func directories(font []byte) []int {
	if string(font[:4]) != "ttcf" {
		return []int{0}
	}
	var dirs []int
	for i := range int(binary.BigEndian.Uint32(font[8:])) {
		dirs = append(dirs, int(binary.BigEndian.Uint32(font[12+4*i:])))
	}
	return dirs
}

func TestConcurrent(t *testing.T) {
	a := withFont(t)
	want, _, err := a.Seal("上海签网信息科技有限公司")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			got, _, err := a.Seal("上海签网信息科技有限公司")
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("concurrent seal differs (err %v)", err)
			}
			if _, _, err := a.TypedSignature("张三"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
}

func FuzzName(f *testing.F) {
	for _, s := range []string{"上海签网信息科技有限公司", "张三", `A<&>"B`, "", " ", "\x00", "\u202e", "😀公司", "\xff", strings.Repeat("国", 41)} {
		f.Add(s)
	}
	raster, vector := withFont(f), &Artwork{}
	f.Fuzz(func(t *testing.T, name string) {
		for _, a := range []*Artwork{vector, raster} {
			for _, draw := range []func(string) ([]byte, string, error){a.Seal, a.TypedSignature} {
				data, mt, err := draw(name)
				if err != nil {
					if f, ok := fault.As(err); !ok || f.Kind != fault.Invalid {
						t.Fatalf("error %v is not an Invalid fault", err)
					}
					continue
				}
				switch mt {
				case PNG:
					if _, err := png.Decode(bytes.NewReader(data)); err != nil {
						t.Fatalf("png does not decode: %v", err)
					}
				case SVG:
					dec := xml.NewDecoder(bytes.NewReader(data))
					for {
						if _, err := dec.Token(); err == io.EOF {
							break
						} else if err != nil {
							t.Fatalf("svg does not parse: %v", err)
						}
					}
				default:
					t.Fatalf("media type %q", mt)
				}
			}
		}
	})
}

func FuzzRealign(f *testing.F) {
	f.Add(goregular.TTF)
	f.Add([]byte("ttcf\x00\x01\x00\x00\x00\x00\x00\x01\x00\x00\x00\x10"))
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := realign(data)
		if err == nil {
			_, _ = parseFonts(out) // must not panic
		}
	})
}

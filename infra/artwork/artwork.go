// Package artwork draws the images a signature leaves on a contract: an
// enterprise's default seal, shaped like a Chinese company seal (公章), and a
// person's typed signature. It implements commands.Artwork.
//
// Chinese names need a CJK font, and no Go module ships one. With a font
// file the images are PNGs drawn here; without one they are SVGs whose text
// the viewer's own fonts draw.
package artwork

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/image/font/opentype"
	"golang.org/x/image/font/sfnt"

	"signet/domain/fault"
)

// FontEnv names the environment variable that points at a CJK font file
// (.ttf, .otf, .ttc or .otc).
const FontEnv = "SIGNET_CJK_FONT"

// MaxNameRunes is the longest name drawn; longer ones would not fit the seal.
const MaxNameRunes = 40

// Media types of the images.
const (
	PNG = "image/png"
	SVG = "image/svg+xml"
)

// Artwork draws seals and typed signatures. It is safe for concurrent use.
type Artwork struct {
	fonts []*sfnt.Font // nil: draw SVG
}

// New loads the font at fontPath; a collection's fonts are all kept and each
// text is drawn with the first that has all its glyphs. An empty path gives
// an Artwork that draws SVG.
func New(fontPath string) (*Artwork, error) {
	if fontPath == "" {
		return &Artwork{}, nil
	}
	data, err := os.ReadFile(fontPath)
	if err != nil {
		return nil, fmt.Errorf("artwork: read font: %w", err)
	}
	fonts, err := parseFonts(data)
	if err != nil {
		aligned, aerr := realign(data)
		if aerr != nil {
			return nil, fmt.Errorf("artwork: parse font %s: %w", fontPath, errors.Join(err, aerr))
		}
		if fonts, err = parseFonts(aligned); err != nil {
			return nil, fmt.Errorf("artwork: parse font %s: %w", fontPath, err)
		}
	}
	a := &Artwork{fonts: fonts}
	// A Latin-only font would draw every Chinese name as empty boxes.
	if _, missing := a.font([]rune("有限公司")); missing > 0 {
		return nil, fmt.Errorf("artwork: font %s has no Chinese glyphs; set %s to a CJK font such as wqy-zenhei.ttc", fontPath, FontEnv)
	}
	return a, nil
}

// parseFonts parses a font or every font of a collection.
func parseFonts(data []byte) ([]*sfnt.Font, error) {
	c, err := opentype.ParseCollection(data)
	if err != nil {
		return nil, err
	}
	fonts := make([]*sfnt.Font, c.NumFonts())
	for i := range fonts {
		if fonts[i], err = c.Font(i); err != nil {
			return nil, fmt.Errorf("font %d: %w", i, err)
		}
	}
	return fonts, nil
}

// font returns the first font with glyphs for every rune of text or, when
// none has them all, the one missing fewest, and how many it misses.
func (a *Artwork) font(text []rune) (*sfnt.Font, int) {
	var buf sfnt.Buffer
	best, bestMissing := a.fonts[0], len(text)+1
	for _, f := range a.fonts {
		missing := 0
		for _, r := range text {
			if unicode.IsSpace(r) {
				continue
			}
			if i, err := f.GlyphIndex(&buf, r); err != nil || i == 0 {
				missing++
			}
		}
		if missing < bestMissing {
			best, bestMissing = f, missing
		}
		if missing == 0 {
			break
		}
	}
	return best, bestMissing
}

// FindFont returns the font file named by SIGNET_CJK_FONT if that is set
// (even when the file is missing, so that New reports the mistake), else the
// first CJK font found in the usual system places, else "".
func FindFont() string {
	return findFont(os.Getenv(FontEnv), fontPaths())
}

func findFont(env string, paths []string) string {
	if env != "" {
		return env
	}
	for _, p := range paths {
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return p
		}
	}
	return ""
}

// fontPaths lists where Debian/Ubuntu, Fedora, Arch, macOS and Windows keep
// CJK fonts, best looking seal first.
func fontPaths() []string {
	if runtime.GOOS == "windows" {
		dir := os.Getenv("WINDIR")
		if dir == "" {
			dir = `C:\Windows`
		}
		var ps []string
		for _, f := range []string{"simsun.ttc", "simhei.ttf", "msyh.ttc"} {
			ps = append(ps, filepath.Join(dir, "Fonts", f))
		}
		return ps
	}
	return []string{
		"/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
		"/usr/share/fonts/wqy-zenhei/wqy-zenhei.ttc",
		"/usr/share/fonts/wenquanyi/wqy-zenhei/wqy-zenhei.ttc",
		"/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
		"/usr/share/fonts/wqy-microhei/wqy-microhei.ttc",
		"/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
		"/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
		"/usr/share/fonts/opentype/noto/NotoSansCJKsc-Regular.otf",
		"/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
		"/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
		"/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
		"/usr/share/fonts/truetype/droid/DroidSansFallback.ttf",
		"/usr/share/fonts/google-droid/DroidSansFallback.ttf",
		"/System/Library/Fonts/PingFang.ttc",
		"/System/Library/Fonts/STHeiti Medium.ttc",
		"/System/Library/Fonts/STHeiti Light.ttc",
		"/System/Library/Fonts/Supplemental/Songti.ttc",
		"/Library/Fonts/Songti.ttc",
	}
}

// checkName trims name and refuses what cannot be drawn. Format characters
// are refused with control characters: a right-to-left override would make
// the image read differently from the stored name.
func checkName(name string) ([]rune, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return nil, fault.Invalidf("name", "name_required", "A name is needed to draw a seal or signature.")
	case !utf8.ValidString(name):
		return nil, fault.Invalidf("name", "name_invalid", "The name is not valid UTF-8 text.")
	case utf8.RuneCountInString(name) > MaxNameRunes:
		return nil, fault.Invalidf("name", "name_too_long", "The name has more than %d characters and cannot be drawn.", MaxNameRunes)
	}
	for _, r := range name {
		if unicode.In(r, unicode.Cc, unicode.Cf) {
			return nil, fault.Invalidf("name", "name_invalid", "The name contains a control character (U+%04X).", r)
		}
	}
	return []rune(name), nil
}

// Seal draws an enterprise's default seal: a red ring, a star in the middle
// and the name along the upper arc. The same name gives the same bytes.
func (a *Artwork) Seal(enterpriseName string) (data []byte, mediaType string, err error) {
	name, err := checkName(enterpriseName)
	if err != nil {
		return nil, "", err
	}
	if a.fonts == nil {
		return sealSVG(name), SVG, nil
	}
	data, err = a.sealPNG(name)
	return data, PNG, err
}

// TypedSignature draws a person's name as a signature in dark blue.
func (a *Artwork) TypedSignature(name string) (data []byte, mediaType string, err error) {
	n, err := checkName(name)
	if err != nil {
		return nil, "", err
	}
	if a.fonts == nil {
		return signatureSVG(n), SVG, nil
	}
	data, err = a.signaturePNG(n)
	return data, PNG, err
}

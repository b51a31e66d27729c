package sealing

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"math"
	"strconv"
	"strings"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"

	"signet/domain/layout"
	"signet/infra/artwork"
)

// pdfcpu's config dir would be written into the home directory on first
// use; nothing here needs it (pdfdoc does the same).
func init() { model.ConfigPath = "disable" }

// Limits on stamped images.
const (
	MaxImageBytes = 8 << 20
	MaxImageSide  = 8192
)

// stamp draws every stamp onto its page in one pdfcpu pass: each image is
// an XObject drawn after the page's own content (wrapped in q/Q so that
// content cannot move it), fitted into its rectangle with its aspect kept.
func stamp(pdf []byte, stamps []Stamp, art *artwork.Artwork) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("pdfcpu failed: %v", r)
		}
	}()
	conf := model.NewDefaultConfiguration()
	conf.ValidationMode = model.ValidationRelaxed
	conf.Optimize = false
	ctx, err := api.ReadAndValidate(bytes.NewReader(pdf), conf)
	if err != nil {
		return nil, fmt.Errorf("read PDF: %w", err)
	}
	if ctx.Encrypt != nil || ctx.E != nil {
		return nil, errors.New("the PDF is encrypted")
	}
	byPage := map[int][]Stamp{}
	var pages []int
	for _, s := range stamps {
		if s.Page < 1 || s.Page > ctx.PageCount {
			return nil, fmt.Errorf("a stamp is on page %d of a %d-page document", s.Page, ctx.PageCount)
		}
		if _, ok := byPage[s.Page]; !ok {
			pages = append(pages, s.Page)
		}
		byPage[s.Page] = append(byPage[s.Page], s)
	}
	seq := 0
	for _, n := range pages {
		if err := stampPage(ctx, n, byPage[n], art, &seq); err != nil {
			return nil, fmt.Errorf("page %d: %w", n, err)
		}
	}
	var b bytes.Buffer
	if err := api.WriteContext(ctx, &b); err != nil {
		return nil, fmt.Errorf("write PDF: %w", err)
	}
	return b.Bytes(), nil
}

func stampPage(ctx *model.Context, n int, stamps []Stamp, art *artwork.Artwork, seq *int) error {
	d, _, attrs, err := ctx.PageDict(n, false)
	if err != nil {
		return fmt.Errorf("page dictionary: %w", err)
	}
	if d == nil || attrs == nil {
		return errors.New("no page dictionary")
	}
	box, err := visible(attrs)
	if err != nil {
		return err
	}
	rot := ((attrs.Rotate % 360) + 360) % 360
	if rot%90 != 0 {
		return fmt.Errorf("page rotation %d is not a multiple of 90", attrs.Rotate)
	}

	// Own copies: the resource dictionaries may be shared with other pages.
	res := types.NewDict()
	for k, v := range attrs.Resources {
		res[k] = v
	}
	xobj := types.NewDict()
	if o, ok := res.Find("XObject"); ok {
		old, err := ctx.DereferenceDict(o)
		if err != nil {
			return fmt.Errorf("XObject resources: %w", err)
		}
		for k, v := range old {
			xobj[k] = v
		}
	}

	var content strings.Builder
	content.WriteString("Q\n")
	for _, s := range stamps {
		data, err := stampImage(s, art)
		if err != nil {
			return err
		}
		ref, iw, ih, err := model.CreateImageResource(ctx.XRefTable, bytes.NewReader(data))
		if err != nil {
			return fmt.Errorf("image of a stamp at %v: %w", s.Rect, err)
		}
		name := ""
		for name == "" || xobj[name] != nil {
			*seq++
			name = "SignetStamp" + strconv.Itoa(*seq)
		}
		xobj[name] = *ref
		m := placement(box, rot, s.Rect, float64(iw), float64(ih))
		fmt.Fprintf(&content, "q %s %s %s %s %s %s cm /%s Do Q\n", num(m[0]), num(m[1]), num(m[2]), num(m[3]), num(m[4]), num(m[5]), name)
	}
	res["XObject"] = xobj
	d.Update("Resources", res)

	// q before the page's content and Q after it put the stamps in the
	// page's initial coordinate system whatever its content leaves behind.
	open, err := contentStream(ctx, "q\n")
	if err != nil {
		return err
	}
	closeAndDraw, err := contentStream(ctx, content.String())
	if err != nil {
		return err
	}
	contents := types.Array{open}
	if raw, ok := d.Find("Contents"); ok && raw != nil {
		o, err := ctx.Dereference(raw)
		if err != nil {
			return fmt.Errorf("page contents: %w", err)
		}
		switch c := o.(type) {
		case types.Array:
			contents = append(contents, c...)
		case types.StreamDict:
			if _, indirect := raw.(types.IndirectRef); !indirect {
				ref, err := ctx.IndRefForNewObject(c)
				if err != nil {
					return fmt.Errorf("page contents: %w", err)
				}
				raw = *ref
			}
			contents = append(contents, raw)
		default:
			return fmt.Errorf("page contents are a %T", o)
		}
	}
	d.Update("Contents", append(contents, closeAndDraw))
	return nil
}

func contentStream(ctx *model.Context, s string) (types.IndirectRef, error) {
	sd, err := ctx.NewStreamDictForBuf([]byte(s))
	if err != nil {
		return types.IndirectRef{}, fmt.Errorf("content stream: %w", err)
	}
	if err := sd.Encode(); err != nil {
		return types.IndirectRef{}, fmt.Errorf("content stream: %w", err)
	}
	ref, err := ctx.IndRefForNewObject(*sd)
	if err != nil {
		return types.IndirectRef{}, fmt.Errorf("content stream: %w", err)
	}
	return *ref, nil
}

// stampImage returns the PNG or JPEG to draw: the stamp's image, or its
// text drawn for the rectangle (SVG cannot be placed in a PDF here).
func stampImage(s Stamp, art *artwork.Artwork) ([]byte, error) {
	if len(s.Image) > 0 && (s.MediaType == "image/png" || s.MediaType == "image/jpeg") {
		if len(s.Image) > MaxImageBytes {
			return nil, fmt.Errorf("a stamp image is %d bytes, more than %d", len(s.Image), MaxImageBytes)
		}
		c, format, err := image.DecodeConfig(bytes.NewReader(s.Image))
		if err != nil {
			return nil, fmt.Errorf("a stamp image (%s) cannot be read: %w", s.MediaType, err)
		}
		if "image/"+format != s.MediaType {
			return nil, fmt.Errorf("a stamp image labelled %s is %s", s.MediaType, format)
		}
		if c.Width < 1 || c.Height < 1 || c.Width > MaxImageSide || c.Height > MaxImageSide {
			return nil, fmt.Errorf("a stamp image is %dx%d pixels; at most %d on a side", c.Width, c.Height, MaxImageSide)
		}
		return s.Image, nil
	}
	if strings.TrimSpace(s.Text) == "" {
		if len(s.Image) > 0 {
			return nil, fmt.Errorf("a stamp image of type %q cannot be placed and the stamp has no text to draw instead", s.MediaType)
		}
		return nil, errors.New("a stamp has neither an image nor text")
	}
	data, err := art.Text(s.Text, s.Rect.W, s.Rect.H)
	if err != nil {
		return nil, fmt.Errorf("draw the text of a stamp: %w", err)
	}
	return data, nil
}

// visible is the page's crop box within its media box, as readers show it
// and as pdfdoc measured the page for the field editor.
func visible(a *model.InheritedPageAttrs) (types.Rectangle, error) {
	if a.MediaBox == nil {
		return types.Rectangle{}, errors.New("page has no media box")
	}
	box := normal(*a.MediaBox)
	if a.CropBox != nil {
		c := normal(*a.CropBox)
		clipped := types.Rectangle{
			LL: types.Point{X: math.Max(box.LL.X, c.LL.X), Y: math.Max(box.LL.Y, c.LL.Y)},
			UR: types.Point{X: math.Min(box.UR.X, c.UR.X), Y: math.Min(box.UR.Y, c.UR.Y)},
		}
		if clipped.Width() > 0 && clipped.Height() > 0 {
			box = clipped
		}
	}
	if !(box.Width() > 0 && box.Height() > 0) {
		return types.Rectangle{}, errors.New("page has no size")
	}
	return box, nil
}

func normal(r types.Rectangle) types.Rectangle {
	return types.Rectangle{
		LL: types.Point{X: math.Min(r.LL.X, r.UR.X), Y: math.Min(r.LL.Y, r.UR.Y)},
		UR: types.Point{X: math.Max(r.LL.X, r.UR.X), Y: math.Max(r.LL.Y, r.UR.Y)},
	}
}

// placement is the matrix [a b c d e f] that draws an iw×ih image upright,
// centred and as large as fits in rect, where rect is in the coordinates
// of the page as displayed (origin at its lower left, after /Rotate) and
// the matrix maps into the page's user space.
func placement(box types.Rectangle, rot int, rect layout.Rect, iw, ih float64) [6]float64 {
	scale := math.Min(rect.W/iw, rect.H/ih)
	w, h := iw*scale, ih*scale
	u0, v0 := rect.X+(rect.W-w)/2, rect.Y+(rect.H-h)/2
	// Displayed point (u, v) is user-space point origin + u*du + v*dv.
	var ox, oy, dux, duy, dvx, dvy float64
	switch rot {
	case 0:
		ox, oy, dux, duy, dvx, dvy = box.LL.X, box.LL.Y, 1, 0, 0, 1
	case 90: // turned clockwise: the left edge is shown on top
		ox, oy, dux, duy, dvx, dvy = box.UR.X, box.LL.Y, 0, 1, -1, 0
	case 180:
		ox, oy, dux, duy, dvx, dvy = box.UR.X, box.UR.Y, -1, 0, 0, -1
	case 270:
		ox, oy, dux, duy, dvx, dvy = box.LL.X, box.UR.Y, 0, -1, 1, 0
	}
	return [6]float64{
		w * dux, w * duy,
		h * dvx, h * dvy,
		ox + u0*dux + v0*dvx, oy + u0*duy + v0*dvy,
	}
}

func num(f float64) string {
	if f == 0 {
		return "0" // no "-0"
	}
	s := strings.TrimRight(strconv.FormatFloat(f, 'f', 4, 64), "0")
	return strings.TrimSuffix(s, ".")
}

// Package pdfdoc checks uploaded PDFs with pdfcpu and writes blank
// documents (空白文档). It implements commands.PDFInspector.
package pdfdoc

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"

	"signet/domain/fault"
	"signet/domain/layout"
)

// With its config dir enabled pdfcpu writes config.yml into the user's home
// on first use and panics when it cannot (read-only containers); reading and
// validating needs nothing from that directory.
func init() { model.ConfigPath = "disable" }

// Default limits.
const (
	DefaultMaxBytes = 20 << 20
	DefaultMaxPages = 500
)

// headerWindow is how far into the file PDF readers look for "%PDF-"
// (leading junk from mail gateways and the like is tolerated).
const headerWindow = 1024

// Inspector checks PDFs. Zero or negative limits mean the defaults.
type Inspector struct {
	MaxBytes int64
	MaxPages int
}

// New returns an Inspector with the default limits (20 MiB, 500 pages).
func New() Inspector {
	return Inspector{MaxBytes: DefaultMaxBytes, MaxPages: DefaultMaxPages}
}

func (in Inspector) limits() (maxBytes int64, maxPages int) {
	maxBytes, maxPages = in.MaxBytes, in.MaxPages
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	if maxPages <= 0 {
		maxPages = DefaultMaxPages
	}
	return maxBytes, maxPages
}

// Inspect refuses files that are too large, not PDFs, encrypted, broken or
// with a page count outside 1..MaxPages, and otherwise returns each page's
// visible size in points (crop box within the media box, turned by /Rotate).
// Every error is a *fault.Error.
func (in Inspector) Inspect(data []byte) ([]layout.Page, error) {
	maxBytes, maxPages := in.limits()
	if int64(len(data)) > maxBytes {
		return nil, fault.New(fault.TooLarge, "pdf_too_large",
			fmt.Sprintf("The PDF is larger than the limit of %s; upload a smaller file.", size(maxBytes)))
	}
	start := bytes.Index(data[:min(len(data), headerWindow)], []byte("%PDF-"))
	if start < 0 {
		return nil, notPDF(data)
	}
	// Offsets in a PDF count from its header, so junk before it is cut off.
	pages, err := readPages(data[start:], maxPages)
	if err != nil {
		if _, ok := fault.As(err); ok {
			return nil, err
		}
		return nil, classify(err)
	}
	return pages, nil
}

// readPages runs pdfcpu, turning its panics on malformed input into errors.
func readPages(data []byte, maxPages int) (pages []layout.Page, err error) {
	defer func() {
		// The panic value (an index out of range, say) means nothing to
		// the person uploading.
		if recover() != nil {
			pages, err = nil, errors.New("its internal structure is inconsistent")
		}
	}()
	conf := model.NewDefaultConfiguration()
	conf.ValidationMode = model.ValidationRelaxed
	conf.Cmd = model.VALIDATE
	conf.Optimize = false
	ctx, err := api.ReadAndValidate(bytes.NewReader(data), conf)
	if err != nil {
		return nil, err
	}
	// An owner password alone still lets pdfcpu read the file, but the
	// signed copy could not be written back without it.
	if ctx.Encrypt != nil || ctx.E != nil {
		return nil, encrypted()
	}
	n := ctx.PageCount
	switch {
	case n <= 0:
		return nil, fault.New(fault.Rule, "pdf_pages", "The PDF has no pages.")
	case n > maxPages:
		return nil, fault.New(fault.Rule, "pdf_pages",
			fmt.Sprintf("The PDF has %d pages; at most %d pages are allowed.", n, maxPages))
	}
	pages = make([]layout.Page, n)
	for i := range n {
		_, _, attrs, err := ctx.PageDict(i+1, false)
		if err != nil {
			return nil, fmt.Errorf("page %d: %w", i+1, err)
		}
		p, err := pageSize(attrs)
		if err != nil {
			return nil, fmt.Errorf("page %d: %w", i+1, err)
		}
		pages[i] = p
	}
	return pages, nil
}

// pageSize is the crop box clipped to the media box, as readers show it.
func pageSize(a *model.InheritedPageAttrs) (layout.Page, error) {
	if a == nil || a.MediaBox == nil {
		return layout.Page{}, errors.New("no media box")
	}
	box := normal(*a.MediaBox)
	if a.CropBox != nil {
		c := normal(*a.CropBox)
		clipped := types.Rectangle{
			LL: types.Point{X: math.Max(box.LL.X, c.LL.X), Y: math.Max(box.LL.Y, c.LL.Y)},
			UR: types.Point{X: math.Min(box.UR.X, c.UR.X), Y: math.Min(box.UR.Y, c.UR.Y)},
		}
		// A crop box outside the media box is ignored by readers.
		if clipped.Width() > 0 && clipped.Height() > 0 {
			box = clipped
		}
	}
	w, h := box.Width(), box.Height()
	if !(w > 0 && h > 0) || math.IsInf(w, 0) || math.IsInf(h, 0) {
		return layout.Page{}, errors.New("page has no size")
	}
	if rot := ((a.Rotate % 360) + 360) % 360; rot == 90 || rot == 270 {
		w, h = h, w
	}
	return layout.Page{W: round2(w), H: round2(h)}, nil
}

func normal(r types.Rectangle) types.Rectangle {
	return types.Rectangle{
		LL: types.Point{X: math.Min(r.LL.X, r.UR.X), Y: math.Min(r.LL.Y, r.UR.Y)},
		UR: types.Point{X: math.Max(r.LL.X, r.UR.X), Y: math.Max(r.LL.Y, r.UR.Y)},
	}
}

func round2(f float64) float64 { return math.Round(f*100) / 100 }

func encrypted() *fault.Error {
	return fault.New(fault.Rule, "pdf_encrypted",
		"The PDF is encrypted or password-protected (已加密); remove the password and upload it again.")
}

// classify turns a pdfcpu error into a fault. pdfcpu reports some
// encryption problems (unsupported handlers, damaged encryption
// dictionaries) only in its messages, hence the text match.
func classify(err error) *fault.Error {
	msg := err.Error()
	low := strings.ToLower(msg)
	if errors.Is(err, pdfcpu.ErrWrongPassword) || errors.Is(err, pdfcpu.ErrEncrypted) ||
		strings.Contains(low, "encrypt") || strings.Contains(low, "password") {
		return encrypted()
	}
	return fault.New(fault.Rule, "pdf_broken",
		"The PDF is damaged and cannot be read ("+shorten(msg, 160)+"); export or print it to PDF again and upload the new file.")
}

// shorten keeps the reason readable: pdfcpu nests context prefixes and can
// quote raw bytes from the file.
func shorten(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '\uFFFD' {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, " "))
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		s = string(r[:n-1]) + "…"
	}
	return s
}

// size states a limit in MB, or in KB for limits under a megabyte.
func size(b int64) string {
	if b < 1<<20 {
		return strconv.FormatInt(max(1, (b+1023)>>10), 10) + " KB"
	}
	if b%(1<<20) == 0 {
		return strconv.FormatInt(b>>20, 10) + " MB"
	}
	return strconv.FormatFloat(float64(b)/(1<<20), 'f', 1, 64) + " MB"
}

// kinds are signatures of files people upload by mistake.
var kinds = []struct {
	magic string
	name  string
}{
	{"\x89PNG\r\n\x1a\n", "a PNG image"},
	{"\xff\xd8\xff", "a JPEG image"},
	{"GIF87a", "a GIF image"},
	{"GIF89a", "a GIF image"},
	{"II*\x00", "a TIFF image"},
	{"MM\x00*", "a TIFF image"},
	{"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Microsoft Office file (.doc, .xls or .ppt)"},
	{"{\\rtf", "an RTF document"},
	{"Rar!\x1a\x07", "a RAR archive"},
	{"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"},
	{"\x1f\x8b", "a gzip archive"},
}

// notPDF names what the file looks like when that is easy to tell.
func notPDF(data []byte) *fault.Error {
	what := ""
	for _, k := range kinds {
		if bytes.HasPrefix(data, []byte(k.magic)) {
			what = k.name
			break
		}
	}
	switch {
	case what != "":
	case len(data) == 0:
		return fault.New(fault.Unsupported, "not_a_pdf", "The file is empty; upload a PDF document.")
	case bytes.HasPrefix(data, []byte("PK\x03\x04")):
		what = zipKind(data)
	case len(data) >= 12 && string(data[:4]) == "RIFF" && string(data[8:12]) == "WEBP":
		what = "a WebP image"
	}
	msg := "The file is not a PDF"
	if what != "" {
		msg += ": it looks like " + what
	}
	return fault.New(fault.Unsupported, "not_a_pdf", msg+". Save or export it as PDF and upload that file.")
}

// zipKind tells Office Open XML files from other ZIP archives by the part
// names near the start, where Office writes them.
func zipKind(data []byte) string {
	head := data[:min(len(data), 64<<10)]
	switch {
	case bytes.Contains(head, []byte("word/")):
		return "a Word document (.docx)"
	case bytes.Contains(head, []byte("xl/")):
		return "an Excel workbook (.xlsx)"
	case bytes.Contains(head, []byte("ppt/")):
		return "a PowerPoint presentation (.pptx)"
	}
	return "a ZIP archive"
}

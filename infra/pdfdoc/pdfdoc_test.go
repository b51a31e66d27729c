package pdfdoc

import (
	"archive/zip"
	"bytes"
	"fmt"
	"image"
	"image/png"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"

	"signet/domain/fault"
	"signet/domain/layout"
)

// node is a page tree node for hand-built test PDFs: a page when kids is
// nil, else an intermediate /Pages node. attrs go into its dictionary
// verbatim (MediaBox, CropBox, Rotate, ...).
type node struct {
	attrs string
	kids  []node
}

func page(attrs string) node { return node{attrs: attrs} }

// build writes a PDF with the given page tree under the root /Pages node
// (root's attrs are inherited by all pages) and a correct xref table.
func build(root node) []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	var offsets []int
	var bodies []string
	alloc := func() int { bodies = append(bodies, ""); return len(bodies) }
	catalog := alloc()
	var walk func(n node, parent int) int
	walk = func(n node, parent int) int {
		nr := alloc()
		var d strings.Builder
		if n.kids == nil {
			d.WriteString("<< /Type /Page")
		} else {
			d.WriteString("<< /Type /Pages")
		}
		if parent > 0 {
			fmt.Fprintf(&d, " /Parent %d 0 R", parent)
		}
		if n.kids != nil {
			var kids []string
			count := 0
			for _, k := range n.kids {
				kids = append(kids, strconv.Itoa(walk(k, nr))+" 0 R")
				count += leaves(k)
			}
			fmt.Fprintf(&d, " /Kids [%s] /Count %d", strings.Join(kids, " "), count)
		}
		d.WriteString(" " + n.attrs + " >>")
		bodies[nr-1] = d.String()
		return nr
	}
	pages := walk(root, 0)
	bodies[catalog-1] = fmt.Sprintf("<< /Type /Catalog /Pages %d 0 R >>", pages)
	for i, body := range bodies {
		offsets = append(offsets, b.Len())
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, body)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(bodies)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(bodies)+1, catalog, xref)
	return b.Bytes()
}

func leaves(n node) int {
	if n.kids == nil {
		return 1
	}
	c := 0
	for _, k := range n.kids {
		c += leaves(k)
	}
	return c
}

// mixed has pages of several sizes, boxes and rotations, some inherited.
var mixed = node{attrs: "/MediaBox [0 0 595.28 841.89] /Resources << >>", kids: []node{
	page(""),                                                   // A4, inherited
	page("/MediaBox [0 0 612 792]"),                            // US Letter
	page("/MediaBox [0 0 1190.55 841.89]"),                     // A3 landscape
	page("/Rotate 90"),                                         // A4 turned: landscape
	page("/MediaBox [0 0 612 792] /Rotate -270"),               // -270 is 90
	page("/Rotate 180"),                                        // upside down, same size
	page("/CropBox [36 36 559.28 805.89]"),                     // cropped by half an inch each side
	page("/MediaBox [100 200 400 600]"),                        // origin off zero
	page("/MediaBox [400 600 100 200]"),                        // corners given the other way round
	page("/MediaBox [0 0 300 300] /CropBox [100 100 350 250]"), // crop box clipped to the media box
	{attrs: "/Rotate 270 /MediaBox [0 0 200 100]", kids: []node{ // inherited by both kids
		page(""),
		page("/CropBox [0 0 50 100]"),
	}},
}}

var mixedWant = []layout.Page{
	{W: 595.28, H: 841.89},
	{W: 612, H: 792},
	{W: 1190.55, H: 841.89},
	{W: 841.89, H: 595.28},
	{W: 792, H: 612},
	{W: 595.28, H: 841.89},
	{W: 523.28, H: 769.89},
	{W: 300, H: 400},
	{W: 300, H: 400},
	{W: 200, H: 150},
	{W: 100, H: 200},
	{W: 100, H: 50},
}

func blank(t testing.TB, n int) []byte {
	t.Helper()
	b, err := New().Blank(n)
	if err != nil {
		t.Fatalf("Blank(%d): %v", n, err)
	}
	return b
}

func encrypt(t *testing.T, pdf []byte, conf *model.Configuration) []byte {
	t.Helper()
	var out bytes.Buffer
	if err := api.Encrypt(bytes.NewReader(pdf), &out, conf); err != nil {
		t.Fatalf("encrypt: %v", err)
	}
	return out.Bytes()
}

func pngFile(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewRGBA(image.Rect(0, 0, 8, 8))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func docx(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	z := zip.NewWriter(&b)
	for _, name := range []string{"[Content_Types].xml", "word/document.xml"} {
		w, err := z.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte("<x/>"))
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.UintN(256))
	}
	return b
}

func a4(n int) []layout.Page {
	p := make([]layout.Page, n)
	for i := range p {
		p[i] = layout.A4
	}
	return p
}

func TestInspect(t *testing.T) {
	three := blank(t, 3)
	tests := []struct {
		name  string
		in    Inspector
		data  []byte
		want  []layout.Page
		kind  fault.Kind
		code  string
		words []string // the message must contain each
	}{
		{name: "blank", data: blank(t, 3), want: a4(3)},
		{name: "blank one page", data: blank(t, 1), want: a4(1)},
		{name: "mixed sizes, boxes and rotations", data: build(mixed), want: mixedWant},
		{name: "junk before the header", data: append([]byte("\r\n\x00junk from a mail gateway\n"), three...), want: a4(3)},
		{name: "rewritten by pdfcpu with object and xref streams", data: optimized(t, build(mixed)), want: mixedWant},
		// Poppler shows the whole media box here; the spec and pdf.js clip.
		{name: "crop box larger than the media box", data: build(node{kids: []node{
			page("/MediaBox [0 0 300 300] /CropBox [100 100 900 900]")}}), want: []layout.Page{{W: 200, H: 200}}},
		{name: "crop box outside the media box", data: build(node{kids: []node{
			page("/MediaBox [0 0 300 300] /CropBox [400 400 500 500]")}}), want: []layout.Page{{W: 300, H: 300}}},
		{name: "exactly at the page limit", in: Inspector{MaxPages: 3}, data: three, want: a4(3)},
		{name: "exactly at the size limit", in: Inspector{MaxBytes: int64(len(three))}, data: three, want: a4(3)},

		{name: "over the size limit", in: Inspector{MaxBytes: int64(len(three)) - 1}, data: three,
			kind: fault.TooLarge, code: "pdf_too_large", words: []string{"1 KB"}},
		{name: "over the default size limit", data: make([]byte, 20<<20+1),
			kind: fault.TooLarge, code: "pdf_too_large", words: []string{"20 MB"}},
		{name: "limit in fractional MB", in: Inspector{MaxBytes: 3 << 19}, data: make([]byte, 3<<19+1),
			kind: fault.TooLarge, code: "pdf_too_large", words: []string{"1.5 MB"}},
		{name: "png", data: pngFile(t), kind: fault.Unsupported, code: "not_a_pdf", words: []string{"PNG"}},
		{name: "docx", data: docx(t), kind: fault.Unsupported, code: "not_a_pdf", words: []string{"Word"}},
		{name: "random bytes", data: randomBytes(4096, 1), kind: fault.Unsupported, code: "not_a_pdf"},
		{name: "empty", data: nil, kind: fault.Unsupported, code: "not_a_pdf", words: []string{"empty"}},
		{name: "header too late", data: append(bytes.Repeat([]byte(" "), headerWindow), three...),
			kind: fault.Unsupported, code: "not_a_pdf"},
		{name: "encrypted with a user password", data: encrypt(t, three, model.NewAESConfiguration("user", "owner", 256)),
			kind: fault.Rule, code: "pdf_encrypted", words: []string{"password"}},
		{name: "encrypted with RC4", data: encrypt(t, three, model.NewRC4Configuration("user", "owner", 128)),
			kind: fault.Rule, code: "pdf_encrypted"},
		{name: "encrypted with an owner password only", data: encrypt(t, three, model.NewAESConfiguration("", "owner", 256)),
			kind: fault.Rule, code: "pdf_encrypted"},
		{name: "truncated", data: three[:len(three)/2], kind: fault.Rule, code: "pdf_broken"},
		{name: "header then random bytes", data: append([]byte("%PDF-1.7\n"), randomBytes(4096, 2)...),
			kind: fault.Rule, code: "pdf_broken"},
		{name: "no pages", data: build(node{attrs: "/MediaBox [0 0 595 842]", kids: []node{}}),
			kind: fault.Rule, code: "pdf_pages"},
		{name: "over the page limit", in: Inspector{MaxPages: 2}, data: three,
			kind: fault.Rule, code: "pdf_pages", words: []string{"2 pages"}},
		{name: "page without a media box", data: build(node{kids: []node{page("")}}),
			kind: fault.Rule, code: "pdf_broken"},
		{name: "page with an empty media box", data: build(node{kids: []node{page("/MediaBox [0 0 0 842]")}}),
			kind: fault.Rule, code: "pdf_broken"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.in.Inspect(tt.data)
			if tt.code == "" {
				if err != nil {
					t.Fatalf("Inspect: %v", err)
				}
				if !samePages(got, tt.want) {
					t.Fatalf("pages:\n got %v\nwant %v", got, tt.want)
				}
				return
			}
			f, ok := fault.As(err)
			if !ok {
				t.Fatalf("want *fault.Error %s, got pages %v, err %v", tt.code, got, err)
			}
			if f.Kind != tt.kind || f.Code != tt.code {
				t.Fatalf("got %d %s (%s), want %d %s", f.Kind, f.Code, f.Message, tt.kind, tt.code)
			}
			t.Log(f.Message)
			if got != nil {
				t.Errorf("pages %v returned with an error", got)
			}
			for _, w := range tt.words {
				if !strings.Contains(f.Message, w) {
					t.Errorf("message %q does not contain %q", f.Message, w)
				}
			}
		})
	}
}

func samePages(a, b []layout.Page) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// optimized rewrites pdf the way pdfcpu writes files: object streams and a
// cross-reference stream instead of a plain table.
func optimized(t *testing.T, pdf []byte) []byte {
	t.Helper()
	conf := model.NewDefaultConfiguration()
	conf.WriteObjectStream, conf.WriteXRefStream = true, true
	var out bytes.Buffer
	if err := api.Optimize(bytes.NewReader(pdf), &out, conf); err != nil {
		t.Fatalf("optimize: %v", err)
	}
	if !bytes.Contains(out.Bytes(), []byte("/XRef")) {
		t.Fatal("pdfcpu wrote no xref stream")
	}
	return out.Bytes()
}

func TestBlank(t *testing.T) {
	in := Inspector{MaxPages: 10}
	for _, n := range []int{1, 2, 10} {
		b, err := in.Blank(n)
		if err != nil {
			t.Fatalf("Blank(%d): %v", n, err)
		}
		pages, err := in.Inspect(b)
		if err != nil {
			t.Fatalf("Inspect(Blank(%d)): %v", n, err)
		}
		if !samePages(pages, a4(n)) {
			t.Fatalf("Blank(%d) pages %v", n, pages)
		}
		// Strict validation: the file follows the spec, not just pdfcpu's
		// relaxed reading.
		conf := model.NewDefaultConfiguration()
		conf.ValidationMode = model.ValidationStrict
		if err := api.Validate(bytes.NewReader(b), conf); err != nil {
			t.Fatalf("Blank(%d) fails strict validation: %v", n, err)
		}
		again, _ := in.Blank(n)
		if !bytes.Equal(b, again) {
			t.Fatalf("Blank(%d) is not deterministic", n)
		}
	}
	for _, n := range []int{0, -1, 11} {
		_, err := in.Blank(n)
		f, ok := fault.As(err)
		if !ok || f.Kind != fault.Invalid || f.Code != "blank_pages" || f.Field != "pages" {
			t.Fatalf("Blank(%d): want Invalid blank_pages on pages, got %v", n, err)
		}
	}
	if _, err := New().Blank(DefaultMaxPages); err != nil {
		t.Fatalf("Blank(%d): %v", DefaultMaxPages, err)
	}
}

// TestPoppler reads our files with an independent PDF implementation when
// poppler-utils is installed; the assertions above do not depend on it.
func TestPoppler(t *testing.T) {
	pdfinfo, err := exec.LookPath("pdfinfo")
	if err != nil {
		t.Log("pdfinfo not on PATH: cross-check with poppler not run")
		return
	}
	dir := t.TempDir()
	for name, data := range map[string][]byte{"blank": blank(t, 7), "mixed": build(mixed)} {
		ours, err := New().Inspect(data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		file := filepath.Join(dir, name+".pdf")
		if err := os.WriteFile(file, data, 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(pdfinfo, "-f", "1", "-l", strconv.Itoa(len(ours)), file).CombinedOutput()
		if err != nil {
			t.Fatalf("%s: pdfinfo: %v\n%s", name, err, out)
		}
		theirs := popplerPages(t, string(out))
		if len(theirs) != len(ours) {
			t.Fatalf("%s: pdfinfo sees %d pages, we see %d\n%s", name, len(theirs), len(ours), out)
		}
		for i := range ours {
			if d := theirs[i]; abs(d.W-ours[i].W) > 0.01 || abs(d.H-ours[i].H) > 0.01 {
				t.Errorf("%s page %d: pdfinfo %v, we %v", name, i+1, d, ours[i])
			}
		}
	}
}

var (
	popplerSize = regexp.MustCompile(`(?m)^Page\s+(\d+) size:\s+([\d.]+) x ([\d.]+) pts`)
	popplerRot  = regexp.MustCompile(`(?m)^Page\s+(\d+) rot:\s+(\d+)`)
	popplerNum  = regexp.MustCompile(`(?m)^Pages:\s+(\d+)`)
)

// popplerPages reads pdfinfo's per-page crop box sizes and turns them by
// the page rotation, which pdfinfo reports separately.
func popplerPages(t *testing.T, out string) []layout.Page {
	t.Helper()
	m := popplerNum.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no page count in pdfinfo output:\n%s", out)
	}
	n, _ := strconv.Atoi(m[1])
	pages := make([]layout.Page, n)
	for _, s := range popplerSize.FindAllStringSubmatch(out, -1) {
		i, _ := strconv.Atoi(s[1])
		w, _ := strconv.ParseFloat(s[2], 64)
		h, _ := strconv.ParseFloat(s[3], 64)
		if i < 1 || i > n {
			t.Fatalf("pdfinfo page %d of %d", i, n)
		}
		pages[i-1] = layout.Page{W: w, H: h}
	}
	for _, r := range popplerRot.FindAllStringSubmatch(out, -1) {
		i, _ := strconv.Atoi(r[1])
		if rot, _ := strconv.Atoi(r[2]); rot%180 == 90 {
			pages[i-1].W, pages[i-1].H = pages[i-1].H, pages[i-1].W
		}
	}
	return pages
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}

// TestConcurrent runs inspections in parallel for the race detector:
// pdfcpu keeps some package state.
func TestConcurrent(t *testing.T) {
	data := build(mixed)
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			_, err := New().Inspect(data)
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

func FuzzInspect(f *testing.F) {
	three := blank(f, 3)
	f.Add(three)
	f.Add(build(mixed))
	f.Add(three[:len(three)/2])
	f.Add([]byte("%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF"))
	f.Add([]byte("\x89PNG\r\n\x1a\n"))
	f.Add([]byte{})
	in := Inspector{MaxBytes: 1 << 20, MaxPages: 50}
	f.Fuzz(func(t *testing.T, data []byte) {
		pages, err := in.Inspect(data)
		if err != nil {
			if _, ok := fault.As(err); !ok {
				t.Fatalf("error is not a *fault.Error: %#v", err)
			}
			if pages != nil {
				t.Fatal("pages with an error")
			}
			return
		}
		if len(pages) == 0 || len(pages) > 50 {
			t.Fatalf("%d pages", len(pages))
		}
		for i, p := range pages {
			if !(p.W > 0 && p.H > 0) {
				t.Fatalf("page %d size %v", i+1, p)
			}
		}
	})
}

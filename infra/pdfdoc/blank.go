package pdfdoc

import (
	"bytes"
	"fmt"
	"strconv"

	"signet/domain/fault"
	"signet/domain/layout"
)

// Blank returns a PDF 1.4 of n empty A4 pages (空白文档). The bytes depend
// only on n.
func (in Inspector) Blank(n int) ([]byte, error) {
	_, maxPages := in.limits()
	if n < 1 || n > maxPages {
		return nil, fault.Invalidf("pages", "blank_pages", "A blank document has 1 to %d pages, not %d.", maxPages, n)
	}
	var b bytes.Buffer
	// The binary comment tells transfer tools the file is not text.
	b.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	offsets := make([]int, 0, n+2)
	obj := func(body string) {
		offsets = append(offsets, b.Len())
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", len(offsets), body)
	}
	obj("<< /Type /Catalog /Pages 2 0 R >>")
	kids := make([]byte, 0, n*8)
	for i := range n {
		if i > 0 {
			kids = append(kids, ' ')
		}
		kids = strconv.AppendInt(kids, int64(i+3), 10)
		kids = append(kids, " 0 R"...)
	}
	obj(fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d /MediaBox [0 0 %s %s] /Resources << >> >>",
		kids, n, pt(layout.A4.W), pt(layout.A4.H)))
	for range n {
		obj("<< /Type /Page /Parent 2 0 R >>")
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(offsets)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(offsets)+1, xref)
	return b.Bytes(), nil
}

func pt(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

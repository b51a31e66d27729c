package completion

import (
	"fmt"
	"strings"

	"signet/infra/pdftext"
)

const (
	margin = 48.0
	top    = pdftext.PageH - 52
	bottom = 72.0 // the footer lives below
	textW  = pdftext.PageW - 2*margin

	labelW = 124.0 // the label column of key-value rows
	valueX = margin + labelW
	valueW = textW - labelW
	size   = 8.5 // body text
	small  = 7.0 // English labels, table text
	lead   = 12.0
	pad    = 4.0
)

// composer flows blocks down the pages.
type composer struct {
	pages []*pdftext.Canvas
	c     *pdftext.Canvas
	y     float64
	// onBreak redraws a table's header on each new page it reaches.
	onBreak func()
}

// need starts a new page unless h points fit above the footer.
func (m *composer) need(h float64) {
	if m.c == nil || m.y-h < bottom {
		m.c = &pdftext.Canvas{}
		m.pages = append(m.pages, m.c)
		m.y = top
		if m.onBreak != nil {
			m.onBreak()
		}
	}
}

func wrapped(s string, sz, w float64) [][]pdftext.Glyph {
	var out [][]pdftext.Glyph
	for _, part := range strings.Split(s, "\n") {
		out = append(out, pdftext.Wrap([]pdftext.Run{pdftext.Plain(part)}, sz, w, 0)...)
	}
	return out
}

func (m *composer) title() {
	m.need(0)
	zh, en := "合同签署完成证明", "Certificate of Completion"
	m.c.Text((pdftext.PageW-pdftext.Width(zh, 20))/2, m.y-20, 20, boldGlyphs(zh))
	m.y -= 38
	m.c.Str((pdftext.PageW-pdftext.Width(en, 13))/2, m.y-13, 13, en)
	m.y -= 24
	m.c.Line(margin, m.y, pdftext.PageW-margin, m.y, 1)
	m.y -= 6
}

func boldGlyphs(s string) []pdftext.Glyph {
	gs := make([]pdftext.Glyph, 0, len(s))
	for _, r := range s {
		gs = append(gs, pdftext.Glyph{R: r, Style: pdftext.Bold})
	}
	return gs
}

// heading starts a section; keep is the room its first block needs, so
// that a heading never ends a page.
func (m *composer) heading(zh, en string, keep float64) {
	m.y -= 10
	m.need(11 + 8 + keep)
	m.c.Text(margin, m.y-11, 11, boldGlyphs(zh+"  "+en))
	m.y -= 11 + 5
	m.c.Line(margin, m.y, pdftext.PageW-margin, m.y, 0.6)
	m.y -= 4
}

func (m *composer) subheading(s string) {
	m.y -= 4
	m.need(9.5 + 4 + 2*lead)
	for _, ln := range pdftext.Wrap([]pdftext.Run{{Text: s, Style: pdftext.Bold}}, 9.5, textW, 0) {
		m.need(lead + 2)
		m.c.Text(margin, m.y-9.5, 9.5, ln)
		m.y -= lead + 2
	}
	m.y -= 2
}

type kv struct{ zh, en, value string }

// kv draws label/value rows; a long value continues on the next page.
func (m *composer) kv(rows []kv) {
	for _, r := range rows {
		labelH := size + 3 + small
		m.need(pad + labelH + pad)
		m.c.Str(margin, m.y-pad-size, size, r.zh)
		m.c.F("0.35 g\n")
		m.c.Str(margin, m.y-pad-size-3-small, small, r.en)
		m.c.F("0 g\n")
		labelEnd := m.y - pad - labelH
		y := m.y - pad
		for _, ln := range wrapped(r.value, size, valueW) {
			if y-lead < bottom-pad {
				m.c.F("0.6 g\n")
				m.c.Str(valueX, bottom-pad-size, small, "（续下页 continued）")
				m.c.F("0 g\n")
				m.c = nil
				m.need(0)
				y, labelEnd = m.y-pad, m.y
			}
			m.c.Text(valueX, y-size, size, ln)
			y -= lead
		}
		m.y = min(labelEnd, y+lead-size) - pad
		m.c.F("0.75 G\n")
		m.c.Line(margin, m.y, pdftext.PageW-margin, m.y, 0.3)
		m.c.F("0 G\n")
	}
}

func (m *composer) para(s string) {
	m.y -= 2
	for _, ln := range pdftext.Wrap([]pdftext.Run{pdftext.Plain(s)}, size, textW, 0) {
		m.need(lead)
		m.c.Text(margin, m.y-size, size, ln)
		m.y -= lead
	}
	m.y -= 4
}

// eventCols are the event table's column edges.
var eventCols = [6]float64{margin, margin + 64, margin + 112, margin + 282, margin + 394, pdftext.PageW - margin}

func (m *composer) events(evs []Event) {
	head := [5][2]string{{"位置", "Position"}, {"版本", "Version"}, {"类型", "Type"}, {"时间 (UTC+8)", "Time"}, {"事件哈希（前 16 位）", "Event hash (first 16)"}}
	header := func() {
		for i, h := range head {
			m.c.Str(eventCols[i]+2, m.y-pad-size, size, h[0])
			m.c.F("0.35 g\n")
			m.c.Str(eventCols[i]+2, m.y-pad-size-3-small, small, h[1])
			m.c.F("0 g\n")
		}
		m.y -= pad + size + 3 + small + pad
		m.c.Line(margin, m.y, pdftext.PageW-margin, m.y, 0.5)
	}
	m.need(size + 3 + small + 2*pad)
	header()
	m.onBreak = header
	defer func() { m.onBreak = nil }()
	for _, e := range evs {
		typ := printable(e.Type)
		if zh, ok := eventNames[e.Type]; ok {
			typ += "\n" + zh
		}
		hash := printable(e.Hash)
		if len(hash) > 16 {
			hash = hash[:16] + "…"
		}
		at := "—"
		if !e.At.IsZero() {
			at = e.At.In(shanghai).Format("2006-01-02 15:04:05")
		}
		cells := [5]string{fmt.Sprint(e.Position), fmt.Sprint(e.Version), typ, at, hash}
		var lines [5][][]pdftext.Glyph
		n := 1
		for i, cell := range cells {
			lines[i] = wrapped(cell, small+0.5, eventCols[i+1]-eventCols[i]-4)
			n = max(n, len(lines[i]))
		}
		h := pad + float64(n-1)*10 + small + 0.5 + pad
		m.need(h)
		for i := range lines {
			for k, ln := range lines[i] {
				m.c.Text(eventCols[i]+2, m.y-pad-small-0.5-float64(k)*10, small+0.5, ln)
			}
		}
		m.y -= h
		m.c.F("0.75 G\n")
		m.c.Line(margin, m.y, pdftext.PageW-margin, m.y, 0.3)
		m.c.F("0 G\n")
	}
}

func (m *composer) footers(c Certificate) {
	at := c.GeneratedAt.In(shanghai).Format("2006-01-02 15:04:05") + " (UTC+8)  " + c.GeneratedAt.UTC().Format("2006-01-02 15:04:05") + " UTC"
	for i, p := range m.pages {
		p.Line(margin, 56, pdftext.PageW-margin, 56, 0.4)
		p.F("0.3 g\n")
		p.Str(margin, 44, small, "生成时间 Generated at: "+at)
		p.Str(margin, 33, small, "由 signet 生成 Generated by signet  ·  合同编号 Contract number: "+printable(c.Contract.Number))
		pg := fmt.Sprintf("第 %d 页，共 %d 页  Page %d of %d", i+1, len(m.pages), i+1, len(m.pages))
		p.Str(pdftext.PageW-margin-pdftext.Width(pg, small), 44, small, pg)
		p.F("0 g\n")
	}
}

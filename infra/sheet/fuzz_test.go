package sheet

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"

	"signet/domain/fault"
)

// fuzzLimits are small so that the fuzzer reaches every limit.
var fuzzLimits = Limits{MaxBytes: 64 << 10, MaxRows: 20, MaxCols: 8, MaxCellRunes: 50, MaxUncompressed: 256 << 10, HeaderRows: 1}

// FuzzRead feeds arbitrary bytes, zips and texts: Read never panics,
// refuses only with a *fault.Error, and what it accepts is within limits.
func FuzzRead(f *testing.F) {
	for _, name := range []string{"libreoffice.xlsx", "libreoffice-utf8.csv", "libreoffice-gb18030.csv", "formula.xlsx", "sample-libreoffice.xlsx"} {
		f.Add(fixture(f, name))
	}
	f.Add(workbook(f, `<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" s="1"><v>46387</v></c><c r="C1" t="inlineStr"><is><r><t>a</t></r><rPh><t>b</t></rPh></is></c></row>`,
		`<si><t>x_x000D_y</t></si>`, nil))
	f.Add([]byte("a,b\n\"c\nd\",=1\n\n,,\n"))
	f.Add([]byte("\xff\xfea\x00\t\x00b\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tb, err := Read(bytes.NewReader(data), "fuzz", fuzzLimits)
		if err != nil {
			if _, ok := fault.As(err); !ok {
				t.Fatalf("error %v is no refusal", err)
			}
			return
		}
		checkTable(t, tb, fuzzLimits)
	})
}

// FuzzXLSXParts fuzzes the XML of the worksheet and shared strings inside
// a well-formed package, which mutated zip bytes rarely reach.
func FuzzXLSXParts(f *testing.F) {
	f.Add(`<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" s="1"><v>46387</v></c><c t="b"><v>1</v></c></row><row><c t="inlineStr"><is><r><t>a</t></r><rPh><t>b</t></rPh></is></c></row>`,
		`<si><t>x_x000D_y</t></si><si><r><t>z</t></r></si>`)
	f.Add(`<row r="3"><c r="C3" t="d"><v>2026-12-31T10:00:00Z</v></c><c r="D3" s="6"><v>42</v></c><c r="E3"><f>A1</f></c></row>`, "")
	f.Fuzz(func(t *testing.T, rows, sst string) {
		data := workbook(t, rows, sst, nil)
		if len(data) > int(fuzzLimits.MaxBytes) {
			return
		}
		tb, err := Read(bytes.NewReader(data), "fuzz.xlsx", fuzzLimits)
		if err != nil {
			if _, ok := fault.As(err); !ok {
				t.Fatalf("error %v is no refusal", err)
			}
			return
		}
		checkTable(t, tb, fuzzLimits)
	})
}

func checkTable(t *testing.T, tb *Table, lim Limits) {
	t.Helper()
	if tb.Format != FormatXLSX && tb.Format != FormatCSV {
		t.Fatalf("format %q", tb.Format)
	}
	if len(tb.Rows) > lim.MaxRows+lim.HeaderRows {
		t.Fatalf("%d rows", len(tb.Rows))
	}
	last := 0
	for _, r := range tb.Rows {
		if r.Line <= last || r.Line > maxRowNum {
			t.Fatalf("line %d after %d", r.Line, last)
		}
		last = r.Line
		if len(r.Cells) == 0 || len(r.Cells) > lim.MaxCols || r.Cells[len(r.Cells)-1] == "" {
			t.Fatalf("line %d cells %q", r.Line, r.Cells)
		}
		for _, c := range r.Cells {
			if c != clean(c) || !utf8.ValidString(c) || utf8.RuneCountInString(c) > lim.MaxCellRunes {
				t.Fatalf("line %d cell %q", r.Line, c)
			}
		}
	}
}

// FuzzCSV writes rows with NewCSVWriter and reads them back: every cell
// comes back as written (trimmed, with line breaks as LF, formula-like
// text behind '), on the line it was written to.
func FuzzCSV(f *testing.F) {
	f.Add("姓名", "13800138000", "=1+2")
	f.Add("a,\"b\"", "line\r\nbreak", "")
	f.Add("  ", "\t-2+3", "@x\rz")
	f.Fuzz(func(t *testing.T, a, b, c string) {
		for _, s := range []string{a, b, c} {
			if !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool {
				return r < 0x20 && r != '\t' && r != '\n' && r != '\r'
			}) {
				return
			}
		}
		rows := [][]string{{a, b}, {c}, {b, c, a}}
		var buf bytes.Buffer
		w := NewCSVWriter(&buf)
		for _, r := range rows {
			if err := w.Write(r); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		tb, err := Read(bytes.NewReader(buf.Bytes()), "fuzz.csv", Limits{})
		if err != nil {
			t.Fatalf("read back %q: %v", buf.String(), err)
		}
		var want []line
		for i, r := range rows {
			var cs []string
			for _, v := range r {
				cs = append(cs, csvCell(neutralise(v)))
			}
			for len(cs) > 0 && cs[len(cs)-1] == "" {
				cs = cs[:len(cs)-1]
			}
			if len(cs) > 0 {
				want = append(want, line{i + 1, cs})
			}
		}
		wantRows(t, tb, want...)
	})
}

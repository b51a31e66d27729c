package sheet

import (
	"archive/zip"
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"signet/domain/fault"
	"signet/infra/web"
)

// Parts of a minimal workbook as a producer other than excelize writes
// it; a test replaces the ones it is about.
const (
	ctXML = `<?xml version="1.0" encoding="UTF-8"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>`
	rootRels = `<?xml version="1.0" encoding="UTF-8"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`
	workbookXML = `<?xml version="1.0" encoding="UTF-8"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>`
	workbookRels = `<?xml version="1.0" encoding="UTF-8"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/><Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>`
	// stylesXML: 0 General, 1 custom yyyy"年"m"月"d"日", 2 built-in 14,
	// 3 custom yyyy/m/d h:mm, 4 text "@", 5 built-in 20 (h:mm), 6 "000000".
	stylesXML = `<?xml version="1.0" encoding="UTF-8"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><numFmts count="3"><numFmt numFmtId="176" formatCode="yyyy&quot;年&quot;m&quot;月&quot;d&quot;日&quot;"/><numFmt numFmtId="177" formatCode="yyyy/m/d\ h:mm"/><numFmt numFmtId="178" formatCode="000000"/></numFmts><cellXfs count="7"><xf numFmtId="0"/><xf numFmtId="176" applyNumberFormat="1"/><xf numFmtId="14" applyNumberFormat="1"/><xf numFmtId="177" applyNumberFormat="1"/><xf numFmtId="49" applyNumberFormat="1"/><xf numFmtId="20" applyNumberFormat="1"/><xf numFmtId="178" applyNumberFormat="1"/></cellXfs></styleSheet>`
	sheetHead = `<?xml version="1.0" encoding="UTF-8"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`
	sheetTail = `</sheetData></worksheet>`
)

// workbook builds an xlsx whose first sheet holds sheetData rows; parts
// overrides or adds parts by name ("" content drops one).
func workbook(t testing.TB, rows string, sst string, parts map[string]string) []byte {
	t.Helper()
	all := map[string]string{
		"[Content_Types].xml":        ctXML,
		"_rels/.rels":                rootRels,
		"xl/workbook.xml":            workbookXML,
		"xl/_rels/workbook.xml.rels": workbookRels,
		"xl/styles.xml":              stylesXML,
		"xl/worksheets/sheet1.xml":   sheetHead + rows + sheetTail,
	}
	if sst != "" {
		all["xl/sharedStrings.xml"] = `<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">` + sst + `</sst>`
	}
	for k, v := range parts {
		all[k] = v
	}
	return zipOf(t, all)
}

func zipOf(t testing.TB, parts map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range parts {
		if body == "" {
			continue
		}
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func read(t testing.TB, data []byte, lim Limits) (*Table, error) {
	t.Helper()
	return Read(bytes.NewReader(data), "合同.xlsx", lim)
}

func mustRead(t testing.TB, data []byte, lim Limits) *Table {
	t.Helper()
	tb, err := read(t, data, lim)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	return tb
}

// wantFault checks that err is a refusal with code and HTTP status whose
// message holds every one of inMsg.
func wantFault(t testing.TB, err error, code string, status int, inMsg ...string) {
	t.Helper()
	f, ok := fault.As(err)
	if !ok {
		t.Fatalf("error %v, want a refusal %s", err, code)
	}
	if f.Code != code || web.Status(err) != status {
		t.Fatalf("error %v (status %d), want %s %d", err, web.Status(err), code, status)
	}
	for _, s := range inMsg {
		if !strings.Contains(f.Message, s) {
			t.Fatalf("message %q does not say %q", f.Message, s)
		}
	}
}

type line struct {
	n     int
	cells []string
}

func wantRows(t testing.TB, tb *Table, want ...line) {
	t.Helper()
	var got []line
	for _, r := range tb.Rows {
		got = append(got, line{r.Line, r.Cells})
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("rows:\n got %s\nwant %s", show(got), show(want))
	}
}

func cells(s ...string) []string { return s }

func show(ls []line) string {
	var b strings.Builder
	for _, l := range ls {
		fmt.Fprintf(&b, "\n  %d %q", l.n, l.cells)
	}
	return b.String()
}

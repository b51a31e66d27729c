package sheet

import (
	"net/http"
	"os"
	"testing"
)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The fixtures were saved by LibreOffice Calc (testdata/README.md): typed
// cells as another program writes them, shared strings with rich text runs,
// its own number format codes.
func TestReadLibreOfficeXLSX(t *testing.T) {
	tb := mustRead(t, fixture(t, "libreoffice.xlsx"), Limits{})
	if tb.Format != FormatXLSX {
		t.Fatalf("format %q", tb.Format)
	}
	wantRows(t, tb,
		line{1, cells("甲方-姓名", "甲方-手机号", "签署截止日期", "金额", "邮编", "备注")},
		// phone typed as a number; date typed as a date (yyyy-mm-dd); 1,234.50;
		// a zip code formatted 000000; text with commas and quotes
		line{2, cells("张三", "13800138000", "2026-12-31", "1234.5", "010080", `中文备注，含逗号, "引号"`)},
		// padded name trimmed; date formatted yyyy年m月d日; LibreOffice writes
		// TRUE as the number 1 in General format; two paragraphs
		line{3, cells("李四", "13900139000", "2027-01-05", "0.1", "1", "第一行\n第二行")},
		// row 4 empty, dropped; date and time yyyy/m/d h:mm; trailing empty
		// cells and the empty rows after it ignored; sheet 2 not read
		line{5, cells("王五", "wang@example.com", "2026-12-31 15:04", "-42")},
	)
}

// LibreOffice's CSV export writes what the cells show, so the CSV rows hold
// the formatted texts; GB18030 is what Chinese Excel and WPS save as "CSV".
func TestReadLibreOfficeCSV(t *testing.T) {
	for _, name := range []string{"libreoffice-utf8.csv", "libreoffice-gb18030.csv"} {
		t.Run(name, func(t *testing.T) {
			data := fixture(t, name)
			for _, withBOM := range []bool{false, true} {
				if withBOM {
					if name != "libreoffice-utf8.csv" {
						continue
					}
					data = append([]byte("\xef\xbb\xbf"), data...)
				}
				tb := mustRead(t, data, Limits{})
				if tb.Format != FormatCSV {
					t.Fatalf("format %q", tb.Format)
				}
				wantRows(t, tb,
					line{1, cells("甲方-姓名", "甲方-手机号", "签署截止日期", "金额", "邮编", "备注")},
					line{2, cells("张三", "13800138000", "2026-12-31", "1,234.50", "010080", `中文备注，含逗号, "引号"`)},
					line{3, cells("李四", "13900139000", "2027年1月5日", "0.1", "1", "第一行\n第二行")},
					line{5, cells("王五", "wang@example.com", "2026/12/31 15:04", "-42")},
				)
			}
		})
	}
}

func TestReadFormulaRefused(t *testing.T) {
	_, err := read(t, fixture(t, "formula.xlsx"), Limits{})
	wantFault(t, err, CodeFormula, http.StatusBadRequest, "B2", "formula", "Paste Special")

	// A shared formula's dependent cells carry only <f t="shared" si="0"/>.
	rows := `<row r="1"><c r="A1" t="inlineStr"><is><t>x</t></is></c></row>` +
		`<row r="7"><c r="B7"><f t="shared" si="0"/><v>3</v></c></row>`
	_, err = read(t, workbook(t, rows, "", nil), Limits{})
	wantFault(t, err, CodeFormula, http.StatusBadRequest, "Cell B7")
}

// A workbook written by hand the way producers other than Excel do:
// inline strings, rich text with phonetic runs, cells without references,
// t="d" dates, OOXML escapes, a custom date format, booleans.
func TestReadXLSXCellNormalisation(t *testing.T) {
	sst := `<si><t>甲方-姓名</t></si>` +
		`<si><r><rPr><b/></rPr><t>张</t></r><r><t xml:space="preserve">三 </t></r><rPh sb="0" eb="1"><t>ZHANG</t></rPh></si>` +
		`<si><t>line1_x000D_
line2 and _x005F_x0041_</t></si>`
	rows := `<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="inlineStr"><is><t>手机</t></is></c><c r="C1" t="inlineStr"><is><r><t>日</t></r><r><t>期</t></r></is></c></row>` +
		`<row r="2"><c r="A2" t="s"><v>1</v></c><c r="B2"><v>13800138000</v></c><c r="C2" s="1"><v>46387</v></c><c r="D2" s="2"><v>46387.5</v></c><c r="E2" s="3"><v>46387.627777777777</v></c></row>` +
		// no r on cells: columns follow on; exponent form; 1.1 stored with
		// 17 digits; text format keeps a number a number; padded zeros
		`<row r="3"><c><v>1.3800138E10</v></c><c><v>1.1000000000000001</v></c><c s="4"><v>42</v></c><c s="6"><v>10080</v></c><c s="5"><v>0.5</v></c></row>` +
		`<row r="4"><c r="A4" t="b"><v>1</v></c><c r="B4" t="b"><v>0</v></c><c r="C4" t="d"><v>2026-12-31T00:00:00Z</v></c><c r="D4" t="d"><v>2026-12-31T15:04:00</v></c><c r="E4" t="s"><v>2</v></c></row>` +
		// styled but empty cells make no row; a space-only cell is empty
		`<row r="5"><c r="A5" s="2"/><c r="B5" t="inlineStr"><is><t>  </t></is></c></row>` +
		`<row r="6"><c r="C6" t="inlineStr"><is><t>　全角空格　</t></is></c><c r="XFD6" s="1"/></row>` +
		`<row r="8"><c r="A8"><v>-0</v></c><c r="B8"><v>123456789012345678</v></c><c r="C8" s="1"><v>60</v></c><c r="D8" s="2"><v>-1</v></c><c r="E8" t="str"><v>=1+2</v></c></row>`
	tb := mustRead(t, workbook(t, rows, sst, nil), Limits{})
	wantRows(t, tb,
		line{1, cells("甲方-姓名", "手机", "日期")},
		line{2, cells("张三", "13800138000", "2026-12-31", "2026-12-31", "2026-12-31 15:04")},
		line{3, cells("13800138000", "1.1", "42", "010080", "12:00")},
		line{4, cells("TRUE", "FALSE", "2026-12-31", "2026-12-31 15:04", "line1\nline2 and _x0041_")},
		line{6, cells("", "", "全角空格")},
		// Excel's phantom 1900-02-29; a negative "date" is a number; a
		// str cell without formula is text, never evaluated
		line{8, cells("0", "123456789012346000", "1900-02-29", "-1", "=1+2")},
	)
}

func TestReadXLSXWorkbookShapes(t *testing.T) {
	rows := `<row r="1"><c r="A1" t="inlineStr"><is><t>first</t></is></c><c r="B1" s="2"><v>0</v></c></row>`
	other := sheetHead + `<row r="1"><c r="A1" t="inlineStr"><is><t>second</t></is></c></row>` + sheetTail
	rels2 := `<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
		`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="/xl/worksheets/sheet1.xml"/>` +
		`<Relationship Id="rId9" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/other.xml"/>` +
		`<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>`
	tests := []struct {
		name  string
		parts map[string]string
		want  []line
	}{
		{"plain", nil, []line{{1, cells("first", "1899-12-31")}}},
		{"1904 date system", map[string]string{"xl/workbook.xml": `<workbook xmlns:r="r"><workbookPr date1904="1"/><sheets><sheet name="a" r:id="rId1"/></sheets></workbook>`},
			[]line{{1, cells("first", "1904-01-01")}}},
		{"hidden first sheet is skipped", map[string]string{
			"xl/_rels/workbook.xml.rels": rels2, "xl/worksheets/other.xml": other,
			"xl/workbook.xml": `<x:workbook xmlns:x="main" xmlns:r="r"><x:sheets><x:sheet name="h" state="hidden" r:id="rId1"/><x:sheet name="v" r:id="rId9"/></x:sheets></x:workbook>`},
			[]line{{1, cells("second")}}},
		{"tab order, not file name", map[string]string{
			"xl/_rels/workbook.xml.rels": rels2, "xl/worksheets/other.xml": other,
			"xl/workbook.xml": `<workbook xmlns:r="r"><sheets><sheet name="v" r:id="rId9"/><sheet name="w" r:id="rId1"/></sheets></workbook>`},
			[]line{{1, cells("second")}}},
		{"no relationships at all", map[string]string{"_rels/.rels": "", "xl/_rels/workbook.xml.rels": ""},
			[]line{{1, cells("first", "1899-12-31")}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantRows(t, mustRead(t, workbook(t, rows, "", tc.parts), Limits{}), tc.want...)
		})
	}
}

func TestClassifyFormat(t *testing.T) {
	tests := []struct {
		code string
		want numFmt
	}{
		{"General", numFmt{}},
		{"0.00", numFmt{}},
		{"#,##0.00;[Red]-#,##0.00", numFmt{}},
		{"0.00E+00", numFmt{}},
		{"@", numFmt{}},
		{`0 "days"`, numFmt{}},
		{"000000", numFmt{kind: numPadded, pad: 6}},
		{"yyyy/m/d", numFmt{kind: numDate}},
		{`yyyy"年"m"月"d"日"`, numFmt{kind: numDate}},
		{`[$-804]yyyy\年m\月d\日;@`, numFmt{kind: numDate}},
		{"[DBNum1][$-804]yyyy年m月d日", numFmt{kind: numDate}},
		{"mmm-yy", numFmt{kind: numDate}},
		{"yyyy-mm-dd hh:mm:ss", numFmt{kind: numDateTime}},
		{"h:mm AM/PM", numFmt{kind: numTime}},
		{"[h]:mm:ss", numFmt{kind: numTime}},
		{"mm:ss", numFmt{kind: numTime}},
		{`上午/下午h"时"mm"分"`, numFmt{kind: numTime}},
		{`[Red]0.00_m`, numFmt{}},
	}
	for _, tc := range tests {
		if got := classifyFormat(tc.code); got != tc.want {
			t.Errorf("classifyFormat(%q) = %+v, want %+v", tc.code, got, tc.want)
		}
	}
}

func TestFormatNumber(t *testing.T) {
	date, tm, dt := numFmt{kind: numDate}, numFmt{kind: numTime}, numFmt{kind: numDateTime}
	tests := []struct {
		raw      string
		f        numFmt
		date1904 bool
		want     string
	}{
		{"13800138000", numFmt{}, false, "13800138000"},
		{"13800138000.0", numFmt{}, false, "13800138000"},
		{"1.38001380E10", numFmt{}, false, "13800138000"},
		{"0.30000000000000004", numFmt{}, false, "0.3"},
		{"1E-7", numFmt{}, false, "0.0000001"},
		{"1e20", numFmt{}, false, "100000000000000000000"},
		{"-12.5", numFmt{}, false, "-12.5"},
		{"not a number", numFmt{}, false, "not a number"},
		{"NaN", numFmt{}, false, "NaN"},
		{"46387", date, false, "2026-12-31"},
		{"46387.99", date, false, "2026-12-31"}, // the format shows no time
		{"46387.5", dt, false, "2026-12-31 12:00"},
		{"46387.000011574", dt, false, "2026-12-31 00:00:01"},
		{"46387.99999999", dt, false, "2027-01-01 00:00"},
		{"0.75", tm, false, "18:00"},
		{"1.75", tm, false, "1900-01-01 18:00"},
		{"1", date, false, "1900-01-01"},
		{"59", date, false, "1900-02-28"},
		{"61", date, false, "1900-03-01"},
		{"0", date, true, "1904-01-01"},
		{"44925", date, true, "2026-12-31"},
		{"2958465", date, false, "9999-12-31"},
		{"2958466", date, false, "2958466"},
		{"42", numFmt{kind: numPadded, pad: 6}, false, "000042"},
		{"42.5", numFmt{kind: numPadded, pad: 6}, false, "42.5"},
	}
	for _, tc := range tests {
		if got := formatNumber(tc.raw, tc.f, tc.date1904); got != tc.want {
			t.Errorf("formatNumber(%q, %+v, %v) = %q, want %q", tc.raw, tc.f, tc.date1904, got, tc.want)
		}
	}
}

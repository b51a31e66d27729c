package sheet

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

var (
	sampleCols = []Column{
		{Header: "甲方-姓名", Hint: "必填", Kind: Text, Required: true},
		{Header: "甲方-手机号", Hint: "必填；11位手机号", Kind: Phone, Required: true},
		{Header: "乙方-联系方式", Hint: "手机号或邮箱", Kind: Contact},
		{Header: "签署截止日期", Hint: "如 2026-12-31", Kind: Date},
		{Header: "金额", Hint: "数字", Kind: Number},
		{Header: "签署方式", Hint: "从列表中选择", Kind: Choice, Choices: []string{"短信验证", "刷脸", "签署密码"}},
		{Header: "合同类型", Hint: "从列表中选择", Kind: Choice, Choices: []string{"采购, 长期", "劳动合同"}},
		{Header: "邮箱", Kind: Email},
	}
	sampleExamples = [][]string{
		{"张三", "13800138000", "lisi@example.com", "2026-12-31", "1234.5", "刷脸", "劳动合同", "a@example.com"},
		{"王五", "013900139000", "13700137000", "2027-01-05 09:30", "88", "短信验证"},
	}
)

func writeSample(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteSample(&buf, "批量发送:模板[1]", sampleCols, sampleExamples); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestWriteSampleReadsBack(t *testing.T) {
	tb := mustRead(t, writeSample(t), Limits{})
	wantRows(t, tb,
		line{1, cells("*甲方-姓名", "*甲方-手机号", "乙方-联系方式", "签署截止日期", "金额", "签署方式", "合同类型", "邮箱")},
		line{2, cells("必填", "必填；11位手机号", "手机号或邮箱", "如 2026-12-31", "数字", "从列表中选择", "从列表中选择")},
		line{3, sampleExamples[0]},
		// dates are written as dates in a yyyy-mm-dd column: the time is not shown
		line{4, cells("王五", "013900139000", "13700137000", "2027-01-05", "88", "短信验证")},
	)
	if got := HeaderName(tb.Rows[0].Cells[1]); got != "甲方-手机号" {
		t.Fatalf("HeaderName = %q", got)
	}
}

// The sample as LibreOffice saves it again (testdata/README.md): its own
// shared strings, rich text and number format codes.
func TestSampleResavedByLibreOffice(t *testing.T) {
	tb := mustRead(t, fixture(t, "sample-libreoffice.xlsx"), Limits{})
	wantRows(t, tb,
		line{1, cells("*甲方-姓名", "*甲方-手机号", "乙方-联系方式", "签署截止日期", "金额", "签署方式")},
		line{2, cells("必填", "必填；11位手机号", "手机号或邮箱", "如 2026-12-31", "数字", "从列表中选择")},
		line{3, cells("张三", "13800138000", "lisi@example.com", "2026-12-31", "1234.5", "刷脸")},
		line{4, cells("王五", "13900139000", "13700137000", "2027-01-05", "88", "短信验证")},
	)
}

func TestWriteSampleFormatsAndValidation(t *testing.T) {
	f, err := excelize.OpenReader(bytes.NewReader(writeSample(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if sheets[0] != "批量发送_模板_1_" {
		t.Fatalf("sheets %q", sheets)
	}
	name := sheets[0]
	numFmt := func(col string) (int, string) {
		id, err := f.GetColStyle(name, col)
		if err != nil {
			t.Fatal(err)
		}
		st, err := f.GetStyle(id)
		if err != nil {
			t.Fatal(err)
		}
		if st.CustomNumFmt != nil {
			return st.NumFmt, *st.CustomNumFmt
		}
		return st.NumFmt, ""
	}
	for _, col := range []string{"B", "C"} { // phone, contact
		if id, _ := numFmt(col); id != 49 {
			t.Errorf("column %s number format %d, want 49 (text)", col, id)
		}
	}
	if _, code := numFmt("D"); code != "yyyy-mm-dd" {
		t.Errorf("date column format %q", code)
	}
	panes, err := f.GetPanes(name)
	if err != nil || !panes.Freeze || panes.YSplit != 2 || panes.TopLeftCell != "A3" {
		t.Errorf("panes %+v, %v", panes, err)
	}
	header, _ := f.GetCellStyle(name, "D1")
	if st, _ := f.GetStyle(header); st.Font == nil || !st.Font.Bold {
		t.Errorf("header style %+v", st)
	}
	hint, _ := f.GetCellStyle(name, "D2")
	if st, _ := f.GetStyle(hint); st.Font == nil || !st.Font.Italic || st.Font.Color != colourHint {
		t.Errorf("hint style %+v", st.Font)
	}
	if w, _ := f.GetColWidth(name, "B"); w < 14 {
		t.Errorf("phone column %v wide", w)
	}
	dvs, err := f.GetDataValidations(name)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, dv := range dvs {
		got[dv.Sqref] = fmt.Sprintf("%s %s %s %s", dv.Type, dv.Operator, dv.Formula1, dv.Formula2)
	}
	want := map[string]string{
		"B3:B1048576": "textLength between 11 14",
		"D3:D1048576": "date greaterThan TODAY() ",
		"F3:F1048576": `list  "短信验证,刷脸,签署密码" `,
		"G3:G1048576": "list  '选项'!$A$1:$A$2 ",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("validations\n got %v\nwant %v", got, want)
	}
	// The list with a comma in a choice lives in a very hidden sheet.
	if v, _ := f.GetSheetVisible("选项"); v {
		t.Error("list sheet visible")
	}
	if v, _ := f.GetCellValue("选项", "A1"); v != "采购, 长期" {
		t.Errorf("list sheet A1 %q", v)
	}
}

func TestWriteSampleRefusesNoColumns(t *testing.T) {
	if err := WriteSample(io.Discard, "x", nil, nil); err == nil {
		t.Fatal("no error")
	}
}

var injections = []string{"=1+2", "@SUM(A1)", "-2+3+cmd|' /C calc'!A0", "+86 138", "=HYPERLINK(\"http://evil\",\"x\")"}

func TestWriteErrorsReadsBack(t *testing.T) {
	in := &Table{Format: FormatCSV, Rows: []Row{
		{Line: 1, Cells: cells("姓名", "手机")},
		{Line: 2, Cells: cells("张三", "13800138000")},
		{Line: 4, Cells: cells("李四", "1380013800")},
		{Line: 5, Cells: injections},
	}}
	errs := map[int]string{4: "第4行：手机号应为11位", 5: "第5行：姓名不能以=开头", 99: "no such row"}
	var buf bytes.Buffer
	if err := WriteErrors(&buf, in, errs); err != nil {
		t.Fatal(err)
	}
	out := mustRead(t, buf.Bytes(), Limits{})
	wantRows(t, out,
		line{1, cells(ErrorHeader, "姓名", "手机")},
		line{2, cells("", "张三", "13800138000")},
		line{4, cells("第4行：手机号应为11位", "李四", "1380013800")},
		line{5, append(cells("第5行：姓名不能以=开头"), injections...)},
	)
	if !StripErrorColumn(out) {
		t.Fatal("no error column found")
	}
	wantRows(t, out, line{1, in.Rows[0].Cells}, line{2, in.Rows[1].Cells}, line{4, in.Rows[2].Cells}, line{5, in.Rows[3].Cells})
	if StripErrorColumn(out) {
		t.Fatal("stripped twice")
	}

	// Rows with an error are filled light red; risky text is a string with
	// Excel's quote prefix, never a formula.
	f, err := excelize.OpenReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for cell, wantFill := range map[string]bool{"B4": true, "C4": true, "B2": false, "A4": true} {
		id, _ := f.GetCellStyle("Sheet1", cell)
		st, _ := f.GetStyle(id)
		filled := len(st.Fill.Color) > 0 && st.Fill.Color[0] == colourErrorFill
		if filled != wantFill {
			t.Errorf("%s fill %v, want %v", cell, st.Fill.Color, wantFill)
		}
	}
	sheetXML := part(t, buf.Bytes(), "xl/worksheets/sheet1.xml")
	if strings.Contains(sheetXML, "<f>") {
		t.Fatal("a formula was written")
	}
	for i := range injections {
		cell := CellName(i+1, 5)
		if typ, _ := f.GetCellType("Sheet1", cell); typ != excelize.CellTypeInlineString {
			t.Errorf("%s type %v", cell, typ)
		}
		id, _ := f.GetCellStyle("Sheet1", cell)
		if xf := f.Styles.CellXfs.Xf[id]; xf.QuotePrefix == nil || !*xf.QuotePrefix {
			t.Errorf("%s without quote prefix", cell)
		}
	}
	id, _ := f.GetCellStyle("Sheet1", "B2")
	if xf := f.Styles.CellXfs.Xf[id]; xf.QuotePrefix != nil && *xf.QuotePrefix {
		t.Error("plain text with quote prefix")
	}
}

func TestWriteErrorsEmptyAndHeaderError(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteErrors(&buf, &Table{}, nil); err != nil {
		t.Fatal(err)
	}
	wantRows(t, mustRead(t, buf.Bytes(), Limits{}), line{1, cells(ErrorHeader)})
	buf.Reset()
	in := &Table{Rows: []Row{{Line: 3, Cells: cells("姓名")}}}
	if err := WriteErrors(&buf, in, map[int]string{3: "缺少列：手机"}); err != nil {
		t.Fatal(err)
	}
	out := mustRead(t, buf.Bytes(), Limits{})
	wantRows(t, out, line{3, cells(ErrorHeader+"\n缺少列：手机", "姓名")})
	if !StripErrorColumn(out) || out.Rows[0].Cells[0] != "姓名" {
		t.Fatalf("stripped %v", out.Rows)
	}
}

func part(t *testing.T, xlsx []byte, name string) string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(xlsx), int64(len(xlsx)))
	if err != nil {
		t.Fatal(err)
	}
	f, err := zr.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestCSVWriter(t *testing.T) {
	var buf bytes.Buffer
	w := NewCSVWriter(&buf)
	rows := [][]string{
		{"合同编号", "标题", "金额"},
		append([]string{"C-1", "采购合同, \"一期\"\n第二行", "-12.5"}, injections...),
	}
	for _, r := range rows {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rows[0]); err == nil {
		t.Fatal("write after close")
	}
	got := buf.String()
	if !strings.HasPrefix(got, "\xef\xbb\xbf合同编号,标题,金额\r\n") {
		t.Fatalf("start %q", got[:min(len(got), 40)])
	}
	wantRows(t, mustRead(t, buf.Bytes(), Limits{}),
		line{1, rows[0]},
		line{2, cells("C-1", "采购合同, \"一期\"\n第二行", "-12.5",
			"'=1+2", "'@SUM(A1)", "'-2+3+cmd|' /C calc'!A0", "'+86 138", "'=HYPERLINK(\"http://evil\",\"x\")")},
	)
	// An empty export is still a UTF-8 file Excel recognises.
	buf.Reset()
	w = NewCSVWriter(&buf)
	if err := w.Close(); err != nil || buf.String() != "\xef\xbb\xbf" {
		t.Fatalf("%q, %v", buf.String(), err)
	}
}

func TestXLSXWriter(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewXLSXWriter(&buf, "合同列表", []string{"合同编号", "标题", "手机"})
	if err != nil {
		t.Fatal(err)
	}
	want := []line{{1, cells("合同编号", "标题", "手机")}}
	for i := range 2000 {
		r := cells(fmt.Sprintf("C-%04d", i), "采购合同", fmt.Sprintf("138%08d", i))
		if i == 7 {
			r = injections
		}
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
		want = append(want, line{i + 2, r})
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	wantRows(t, mustRead(t, buf.Bytes(), Limits{}), want...)
	if strings.Contains(part(t, buf.Bytes(), "xl/worksheets/sheet1.xml"), "<f>") {
		t.Fatal("a formula was written")
	}
	f, err := excelize.OpenReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := f.GetSheetList(); got[0] != "合同列表" {
		t.Fatalf("sheets %q", got)
	}
	if panes, _ := f.GetPanes("合同列表"); !panes.Freeze || panes.YSplit != 1 {
		t.Errorf("panes %+v", panes)
	}
}

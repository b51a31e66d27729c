package sheet

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
)

// ColumnKind says what a column of the sample holds.
type ColumnKind int

const (
	Text    ColumnKind = iota
	Phone              // mobile number; cells formatted as text
	Email              // e-mail address
	Contact            // phone or e-mail; cells formatted as text
	Date               // a day; validated to lie after today
	Number             // a decimal number
	Choice             // one of Column.Choices, offered as a drop-down list
)

// Column is one column of a sample sheet.
type Column struct {
	Header   string // e.g. "甲方-姓名"
	Hint     string // second row: what to type, e.g. "必填；手机号或邮箱"
	Kind     ColumnKind
	Choices  []string // Choice: the drop-down list
	Required bool     // the header is written with a red "*" before it
}

// RequiredMark starts the header of a required column in WriteSample.
const RequiredMark = "*"

// ErrorHeader heads the error column WriteErrors puts first.
const ErrorHeader = "错误说明 / Errors"

// SampleHeaderRows is how many rows WriteSample writes before the
// examples: the headers and the hints.
const SampleHeaderRows = 2

// HeaderName is a header cell as read back, without the required mark and
// spaces: HeaderName("*甲方-姓名") == "甲方-姓名".
func HeaderName(cell string) string {
	return clean(strings.TrimLeft(clean(cell), "*＊"))
}

// StripErrorColumn removes the error column from a table read from a
// sheet that WriteErrors wrote and the user fixed, and says whether there
// was one (its first row's first cell starts with ErrorHeader).
func StripErrorColumn(t *Table) bool {
	if len(t.Rows) == 0 || !strings.HasPrefix(t.Rows[0].Cell(0), ErrorHeader) {
		return false
	}
	out := t.Rows[:0]
	for _, r := range t.Rows {
		if len(r.Cells) > 0 {
			r.Cells = r.Cells[1:]
		}
		for len(r.Cells) > 0 && r.Cells[len(r.Cells)-1] == "" {
			r.Cells = r.Cells[:len(r.Cells)-1]
		}
		if len(r.Cells) > 0 {
			out = append(out, r)
		}
	}
	t.Rows = out
	return true
}

// Number formats of the sample's columns.
const (
	fmtText    = 49 // "@"
	dateFormat = "yyyy-mm-dd"
)

// Colours: light red for rows with an error, as Excel's "bad" style.
const (
	colourErrorFill = "FFC7CE"
	colourErrorText = "9C0006"
	colourHeader    = "DDEBF7"
	colourHint      = "808080"
	colourRequired  = "FF0000"
)

// WriteSample writes the .xlsx sample of a template: row 1 the headers
// (bold, frozen with row 2; required ones after a red "*"), row 2 the hints
// (grey italic), then the example rows. Phone and contact columns are
// formatted as text so Excel keeps phone numbers as typed, date columns as
// yyyy-mm-dd; choice columns get a drop-down list, date columns a check that
// the day is after today, phone columns a length check.
func WriteSample(w io.Writer, sheetName string, cols []Column, examples [][]string) error {
	if len(cols) == 0 || len(cols) > maxColumns {
		return fmt.Errorf("sheet: a sample needs 1 to %d columns, not %d", maxColumns, len(cols))
	}
	f := excelize.NewFile()
	defer f.Close()
	name := sheetTitle(sheetName)
	if err := f.SetSheetName("Sheet1", name); err != nil {
		return fmt.Errorf("sheet: name the sheet: %w", err)
	}
	st, err := sampleStyles(f)
	if err != nil {
		return err
	}
	lists := 0 // columns of the hidden list sheet used so far
	for i, c := range cols {
		col := ColumnName(i)
		if err := writeSampleColumn(f, name, i, c, st); err != nil {
			return fmt.Errorf("sheet: column %s: %w", col, err)
		}
		width := displayWidth(RequiredMark + c.Header)
		width = max(width, min(displayWidth(c.Hint), 40))
		for _, ex := range examples {
			if i < len(ex) {
				width = max(width, displayWidth(ex[i]))
			}
		}
		if err := f.SetColWidth(name, col, col, float64(min(max(width+2, 10), 60))); err != nil {
			return fmt.Errorf("sheet: column %s: %w", col, err)
		}
		if err := validate(f, name, col, c, &lists); err != nil {
			return fmt.Errorf("sheet: column %s: %w", col, err)
		}
	}
	for r, ex := range examples {
		for i, v := range ex {
			if i >= len(cols) {
				break
			}
			if err := writeExample(f, name, CellName(i, SampleHeaderRows+1+r), cols[i].Kind, v); err != nil {
				return fmt.Errorf("sheet: example %d: %w", r+1, err)
			}
		}
	}
	if err := f.SetPanes(name, &excelize.Panes{Freeze: true, YSplit: SampleHeaderRows,
		TopLeftCell: CellName(0, SampleHeaderRows+1), ActivePane: "bottomLeft"}); err != nil {
		return fmt.Errorf("sheet: freeze the headers: %w", err)
	}
	f.SetActiveSheet(0)
	if err := f.Write(w); err != nil {
		return fmt.Errorf("sheet: write sample: %w", err)
	}
	return nil
}

type sampleStyle struct{ header, hint, text, date int }

func sampleStyles(f *excelize.File) (sampleStyle, error) {
	var s sampleStyle
	var err error
	add := func(dst *int, st *excelize.Style) {
		if err == nil {
			*dst, err = f.NewStyle(st)
		}
	}
	border := []excelize.Border{{Type: "bottom", Color: "9BC2E6", Style: 1}}
	add(&s.header, &excelize.Style{Font: &excelize.Font{Bold: true}, Border: border,
		Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{colourHeader}},
		Alignment: &excelize.Alignment{Vertical: "center", WrapText: true}})
	add(&s.hint, &excelize.Style{Font: &excelize.Font{Italic: true, Color: colourHint},
		Alignment: &excelize.Alignment{Vertical: "top", WrapText: true}, NumFmt: fmtText})
	add(&s.text, &excelize.Style{NumFmt: fmtText})
	df := dateFormat
	add(&s.date, &excelize.Style{CustomNumFmt: &df})
	if err != nil {
		return s, fmt.Errorf("sheet: styles: %w", err)
	}
	return s, nil
}

func writeSampleColumn(f *excelize.File, sheet string, i int, c Column, st sampleStyle) error {
	col := ColumnName(i)
	switch c.Kind {
	case Phone, Contact, Email, Text, Choice:
		if err := f.SetColStyle(sheet, col, st.text); err != nil {
			return err
		}
	case Date:
		if err := f.SetColStyle(sheet, col, st.date); err != nil {
			return err
		}
	}
	h := CellName(i, 1)
	if c.Required {
		err := f.SetCellRichText(sheet, h, []excelize.RichTextRun{
			{Text: RequiredMark, Font: &excelize.Font{Bold: true, Color: colourRequired}},
			{Text: c.Header, Font: &excelize.Font{Bold: true}},
		})
		if err != nil {
			return err
		}
	} else if err := f.SetCellStr(sheet, h, c.Header); err != nil {
		return err
	}
	if err := f.SetCellStyle(sheet, h, h, st.header); err != nil {
		return err
	}
	hint := CellName(i, 2)
	if err := f.SetCellStr(sheet, hint, c.Hint); err != nil {
		return err
	}
	return f.SetCellStyle(sheet, hint, hint, st.hint)
}

// writeExample writes an example as the type a user typing it would get:
// dates as dates and numbers as numbers, so reading it back goes the same
// way as reading what users type.
func writeExample(f *excelize.File, sheet, cell string, kind ColumnKind, v string) error {
	switch kind {
	case Date:
		for _, layout := range []string{"2006-01-02", "2006-01-02 15:04"} {
			if t, err := time.Parse(layout, v); err == nil {
				return f.SetCellValue(sheet, cell, t)
			}
		}
	case Number:
		if n, err := strconv.ParseFloat(v, 64); err == nil && !strings.ContainsAny(v, "xXpPnN") {
			return f.SetCellFloat(sheet, cell, n, -1, 64)
		}
	}
	return f.SetCellStr(sheet, cell, v)
}

// validate adds the data validation Excel supports for the column's kind,
// from the first data row down.
func validate(f *excelize.File, sheet, col string, c Column, lists *int) error {
	dv := excelize.NewDataValidation(true)
	dv.SetSqref(fmt.Sprintf("%s%d:%s%d", col, SampleHeaderRows+1, col, maxRowNum))
	switch c.Kind {
	case Choice:
		if len(c.Choices) == 0 {
			return nil
		}
		inline := true
		for _, ch := range c.Choices {
			inline = inline && !strings.ContainsAny(ch, `,"`)
		}
		if inline && dv.SetDropList(c.Choices) == nil {
			break
		}
		// Too long or with commas for an inline list: a hidden sheet holds it.
		ref, err := listRange(f, c.Choices, lists)
		if err != nil {
			return err
		}
		dv.SetSqrefDropList(ref)
	case Date:
		if err := dv.SetRange("TODAY()", "", excelize.DataValidationTypeDate, excelize.DataValidationOperatorGreaterThan); err != nil {
			return err
		}
	case Phone:
		if err := dv.SetRange(11, 14, excelize.DataValidationTypeTextLength, excelize.DataValidationOperatorBetween); err != nil {
			return err
		}
	default:
		return nil
	}
	msg := map[ColumnKind]string{
		Choice: "请从下拉列表中选择。Choose a value from the list.",
		Date:   "请填写今天之后的日期，如 2026-12-31。Enter a day after today, e.g. 2026-12-31.",
		Phone:  "请填写11位手机号。Enter an 11-digit mobile number.",
	}[c.Kind]
	dv.SetError(excelize.DataValidationErrorStyleStop, truncate(HeaderName(c.Header), 32), msg)
	return f.AddDataValidation(sheet, dv)
}

// listSheet holds the drop-down lists too long to write inline.
const listSheet = "选项"

func listRange(f *excelize.File, choices []string, lists *int) (string, error) {
	if *lists == 0 {
		if _, err := f.NewSheet(listSheet); err != nil {
			return "", err
		}
		if err := f.SetSheetVisible(listSheet, false, true); err != nil {
			return "", err
		}
	}
	col := ColumnName(*lists)
	*lists++
	for i, ch := range choices {
		if err := f.SetCellStr(listSheet, CellName(*lists-1, i+1), ch); err != nil {
			return "", err
		}
	}
	return fmt.Sprintf("'%s'!$%s$1:$%s$%d", listSheet, col, col, len(choices)), nil
}

// sheetTitle makes name a valid sheet name: no : \ / ? * [ ], no quote at
// either end, at most 31 characters.
func sheetTitle(name string) string {
	name = strings.Map(func(r rune) rune {
		if strings.ContainsRune(`:\/?*[]`, r) || unicode.IsControl(r) {
			return '_'
		}
		return r
	}, clean(name))
	name = strings.Trim(name, "'")
	if utf8.RuneCountInString(name) > 31 {
		name = string([]rune(name)[:31])
	}
	if name == "" {
		return "Sheet1"
	}
	return name
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

// displayWidth is s's width in Excel column units: East Asian wide
// characters count two.
func displayWidth(s string) int {
	w, widest := 0, 0
	for _, r := range s {
		if r == '\n' {
			w = 0
			continue
		}
		if unicode.In(r, unicode.Han, unicode.Hangul, unicode.Hiragana, unicode.Katakana) ||
			(r >= 0x3000 && r <= 0x303f) || (r >= 0xff01 && r <= 0xff60) || (r >= 0xffe0 && r <= 0xffe6) {
			w += 2
		} else {
			w++
		}
		widest = max(widest, w)
	}
	return widest
}

// risky says whether a spreadsheet program could take the text for a
// formula: it starts with = + - @ or a tab or CR (OWASP "CSV injection").
func risky(s string) bool {
	return s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0]))
}

var plainNumber = regexp.MustCompile(`^[+-]?[0-9]+(\.[0-9]+)?$`)

// WriteErrors writes an .xlsx copy of t, every row on its own line number,
// with a first column ErrorHeader holding errs[row.Line]; rows with an error
// are filled light red. The user fixes the copy and uploads it again (see
// StripErrorColumn). Every cell is written as a string, never a formula;
// text a spreadsheet could take for a formula gets Excel's quote prefix.
// Errors for lines not in t are not written.
func WriteErrors(w io.Writer, t *Table, errs map[int]string) error {
	f := excelize.NewFile()
	defer f.Close()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		return fmt.Errorf("sheet: error copy: %w", err)
	}
	st, err := newStreamStyles(f)
	if err != nil {
		return err
	}
	widths := []int{24}
	for _, r := range t.Rows {
		if e := errs[r.Line]; e != "" {
			widths[0] = max(widths[0], min(displayWidth(e), 60))
		}
		for i, c := range r.Cells {
			if i+1 >= maxColumns {
				break
			}
			for len(widths) <= i+1 {
				widths = append(widths, 8)
			}
			widths[i+1] = max(widths[i+1], min(displayWidth(c), 50))
		}
	}
	for i, wd := range widths {
		if err := sw.SetColWidth(i+1, i+1, float64(wd+2)); err != nil {
			return fmt.Errorf("sheet: error copy: %w", err)
		}
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, XSplit: 1, TopLeftCell: "B1", ActivePane: "topRight"}); err != nil {
		return fmt.Errorf("sheet: error copy: %w", err)
	}
	line := 0
	if len(t.Rows) == 0 {
		if err := sw.SetRow("A1", []any{excelize.Cell{StyleID: st.bold, Value: ErrorHeader}}); err != nil {
			return fmt.Errorf("sheet: error copy: %w", err)
		}
	}
	vals := make([]any, 0, 16)
	for i, r := range t.Rows {
		line = max(r.Line, line+1)
		if line > maxRowNum {
			return fmt.Errorf("sheet: error copy: more than %d rows", maxRowNum)
		}
		e := errs[r.Line]
		fill := e != ""
		vals = vals[:0]
		switch {
		case i == 0 && fill:
			vals = append(vals, excelize.Cell{StyleID: st.errCell, Value: ErrorHeader + "\n" + e})
		case i == 0:
			vals = append(vals, excelize.Cell{StyleID: st.bold, Value: ErrorHeader})
		case fill:
			vals = append(vals, excelize.Cell{StyleID: st.errCell, Value: e})
		default:
			vals = append(vals, nil)
		}
		for _, c := range r.Cells[:min(len(r.Cells), maxColumns-1)] {
			vals = append(vals, st.cell(c, fill))
		}
		if err := sw.SetRow(CellName(0, line), vals); err != nil {
			return fmt.Errorf("sheet: error copy: %w", err)
		}
	}
	if err := sw.Flush(); err != nil {
		return fmt.Errorf("sheet: error copy: %w", err)
	}
	if err := f.Write(w); err != nil {
		return fmt.Errorf("sheet: write error copy: %w", err)
	}
	return nil
}

// streamStyles are the cell formats of streamed sheets. The quoted ones
// carry Excel's quotePrefix, so that editing such a cell in Excel keeps
// "=..." text instead of turning it into a formula.
type streamStyles struct {
	text, quoted, errFill, errQuoted, errCell, bold int
}

func newStreamStyles(f *excelize.File) (streamStyles, error) {
	var s streamStyles
	var err error
	add := func(dst *int, st *excelize.Style) {
		if err == nil {
			*dst, err = f.NewStyle(st)
		}
	}
	red := excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{colourErrorFill}}
	// A left alignment (Excel's default for text) tells the quoted
	// formats apart from the plain ones, which excelize would otherwise
	// merge.
	left := &excelize.Alignment{Horizontal: "left"}
	add(&s.text, &excelize.Style{NumFmt: fmtText})
	add(&s.quoted, &excelize.Style{NumFmt: fmtText, Alignment: left})
	add(&s.errFill, &excelize.Style{NumFmt: fmtText, Fill: red})
	add(&s.errQuoted, &excelize.Style{NumFmt: fmtText, Fill: red, Alignment: left})
	add(&s.errCell, &excelize.Style{NumFmt: fmtText, Fill: red, Font: &excelize.Font{Color: colourErrorText},
		Alignment: &excelize.Alignment{WrapText: true, Vertical: "top"}})
	add(&s.bold, &excelize.Style{NumFmt: fmtText, Font: &excelize.Font{Bold: true}})
	if err != nil {
		return s, fmt.Errorf("sheet: styles: %w", err)
	}
	yes := true
	for _, id := range []int{s.quoted, s.errQuoted} {
		if f.Styles == nil || f.Styles.CellXfs == nil || id >= len(f.Styles.CellXfs.Xf) {
			return s, errors.New("sheet: styles: cell format not found")
		}
		f.Styles.CellXfs.Xf[id].QuotePrefix = &yes
	}
	return s, nil
}

// cell is v as a string cell: excelize writes strings as inline strings,
// never as formulas.
func (s streamStyles) cell(v string, fill bool) excelize.Cell {
	q := risky(v)
	switch {
	case fill && q:
		return excelize.Cell{StyleID: s.errQuoted, Value: v}
	case fill:
		return excelize.Cell{StyleID: s.errFill, Value: v}
	case q:
		return excelize.Cell{StyleID: s.quoted, Value: v}
	}
	return excelize.Cell{StyleID: s.text, Value: v}
}

// RowWriter streams rows of text to a file.
type RowWriter interface {
	Write(cells []string) error
	Close() error
}

// NewCSVWriter writes CSV for Excel: UTF-8 with a BOM (so Chinese opens
// right), CRLF line ends, and text that a spreadsheet could take for a
// formula prefixed with ' (plain numbers such as -12.5 are left alone).
// Close writes nothing more than pending rows; it does not close w.
func NewCSVWriter(w io.Writer) RowWriter {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	return &csvWriter{w: w, cw: cw}
}

type csvWriter struct {
	w       io.Writer
	cw      *csv.Writer
	started bool
	closed  bool
	rec     []string
}

func (c *csvWriter) start() error {
	if c.started {
		return nil
	}
	c.started = true
	_, err := c.w.Write(utf8BOM)
	return err
}

func (c *csvWriter) Write(cells []string) error {
	if c.closed {
		return errors.New("sheet: write to a closed CSV writer")
	}
	if err := c.start(); err != nil {
		return fmt.Errorf("sheet: write CSV: %w", err)
	}
	c.rec = c.rec[:0]
	for _, v := range cells {
		c.rec = append(c.rec, neutralise(v))
	}
	if err := c.cw.Write(c.rec); err != nil {
		return fmt.Errorf("sheet: write CSV: %w", err)
	}
	return nil
}

func (c *csvWriter) Close() error {
	if c.closed {
		return nil
	}
	c.closed = true
	if err := c.start(); err != nil {
		return fmt.Errorf("sheet: write CSV: %w", err)
	}
	c.cw.Flush()
	if err := c.cw.Error(); err != nil {
		return fmt.Errorf("sheet: write CSV: %w", err)
	}
	return nil
}

// neutralise prefixes CSV text a spreadsheet could run as a formula, and
// turns line breaks into LF (which the writer sends as CRLF; a lone CR it
// would drop).
func neutralise(v string) string {
	if risky(v) && !plainNumber.MatchString(v) {
		v = "'" + v
	}
	if strings.Contains(v, "\r") {
		v = strings.ReplaceAll(strings.ReplaceAll(v, "\r\n", "\n"), "\r", "\n")
	}
	return v
}

// NewXLSXWriter streams rows into an .xlsx with one sheet whose first row
// is header (bold, frozen). Cells are strings, never formulas (see
// WriteErrors). The file is written to w on Close; excelize keeps the rows
// in a temporary file meanwhile, not in memory.
func NewXLSXWriter(w io.Writer, sheetName string, header []string) (RowWriter, error) {
	f := excelize.NewFile()
	name := sheetTitle(sheetName)
	fail := func(err error) (RowWriter, error) {
		f.Close()
		return nil, fmt.Errorf("sheet: xlsx writer: %w", err)
	}
	if err := f.SetSheetName("Sheet1", name); err != nil {
		return fail(err)
	}
	sw, err := f.NewStreamWriter(name)
	if err != nil {
		return fail(err)
	}
	st, err := newStreamStyles(f)
	if err != nil {
		return fail(err)
	}
	for i, h := range header {
		if i >= maxColumns {
			break
		}
		if err := sw.SetColWidth(i+1, i+1, float64(min(max(displayWidth(h)+4, 10), 50))); err != nil {
			return fail(err)
		}
	}
	x := &xlsxWriter{w: w, f: f, sw: sw, st: st}
	if len(header) > 0 {
		if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
			return fail(err)
		}
		vals := make([]any, 0, len(header))
		for _, h := range header[:min(len(header), maxColumns)] {
			vals = append(vals, excelize.Cell{StyleID: st.bold, Value: h})
		}
		if err := x.row(vals); err != nil {
			return fail(err)
		}
	}
	return x, nil
}

type xlsxWriter struct {
	w      io.Writer
	f      *excelize.File
	sw     *excelize.StreamWriter
	st     streamStyles
	line   int
	closed bool
	vals   []any
}

func (x *xlsxWriter) row(vals []any) error {
	if x.line >= maxRowNum {
		return fmt.Errorf("sheet: an xlsx sheet holds at most %d rows", maxRowNum)
	}
	x.line++
	return x.sw.SetRow(CellName(0, x.line), vals)
}

func (x *xlsxWriter) Write(cells []string) error {
	if x.closed {
		return errors.New("sheet: write to a closed xlsx writer")
	}
	x.vals = x.vals[:0]
	for _, c := range cells[:min(len(cells), maxColumns)] {
		x.vals = append(x.vals, x.st.cell(c, false))
	}
	if err := x.row(x.vals); err != nil {
		return fmt.Errorf("sheet: write xlsx: %w", err)
	}
	return nil
}

func (x *xlsxWriter) Close() error {
	if x.closed {
		return nil
	}
	x.closed = true
	defer x.f.Close()
	if err := x.sw.Flush(); err != nil {
		return fmt.Errorf("sheet: write xlsx: %w", err)
	}
	if err := x.f.Write(x.w); err != nil {
		return fmt.Errorf("sheet: write xlsx: %w", err)
	}
	return nil
}

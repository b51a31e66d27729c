// Package sheet reads and writes the spreadsheets of batch sending: it
// reads an uploaded .xlsx or CSV into rows of normalised text, and writes
// the .xlsx sample, the copy with an error column and plain row exports.
// It knows nothing of contracts: columns mean what its callers say.
package sheet

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"signet/domain/fault"
)

// Refusal codes of Read, as in the *fault.Error it returns.
const (
	CodeEmpty        = "empty_file"       // 400: zero bytes
	CodeTooLarge     = "sheet_too_large"  // 413: file size, or unpacked size / compression ratio of an xlsx
	CodeTooManyRows  = "too_many_rows"    // 413
	CodeTooManyCols  = "too_many_columns" // 413
	CodeCellTooLong  = "cell_too_long"    // 413
	CodeNotASheet    = "not_a_sheet"      // 415: binary, another zip (docx, ods, xlsb), an old .xls
	CodeEncrypted    = "sheet_encrypted"  // 415: password-protected workbook
	CodeCorrupt      = "corrupt_sheet"    // 415: looks like an xlsx but cannot be read
	CodeNotUTF8      = "not_utf8"         // 415: CSV neither UTF-8 nor GB18030
	CodeFormula      = "formula_cell"     // 400
	advicePlainSheet = "Save it as an Excel workbook (.xlsx) or as CSV (UTF-8) and upload that."
)

// Table formats.
const (
	FormatXLSX = "xlsx"
	FormatCSV  = "csv"
)

// Limits bound what Read accepts; every limit is named in the refusal
// message. A zero (or negative) field takes its DefaultLimits value.
type Limits struct {
	MaxBytes        int64 // file size
	MaxRows         int   // non-empty data rows, not counting HeaderRows
	MaxCols         int   // columns holding a value
	MaxCellRunes    int   // characters of one cell, after trimming
	MaxUncompressed int64 // xlsx: total unpacked size of the zip entries
	HeaderRows      int   // non-empty rows before the data that MaxRows does not count
}

// DefaultLimits are the limits of batch sending. HeaderRows is 2: the
// header and hint rows that WriteSample writes.
var DefaultLimits = Limits{
	MaxBytes:        20 << 20,
	MaxRows:         50_000,
	MaxCols:         200,
	MaxCellRunes:    2000,
	MaxUncompressed: 200 << 20,
	HeaderRows:      SampleHeaderRows,
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	if l.MaxBytes > 0 {
		d.MaxBytes = l.MaxBytes
	}
	if l.MaxRows > 0 {
		d.MaxRows = l.MaxRows
	}
	if l.MaxCols > 0 {
		d.MaxCols = min(l.MaxCols, maxColumns)
	}
	if l.MaxCellRunes > 0 {
		d.MaxCellRunes = l.MaxCellRunes
	}
	if l.MaxUncompressed > 0 {
		d.MaxUncompressed = l.MaxUncompressed
	}
	if l.HeaderRows > 0 {
		d.HeaderRows = l.HeaderRows
	}
	return d
}

// Excel's own bounds.
const (
	maxColumns = 16384
	maxRowNum  = 1048576
)

// Table is a sheet as rows of text.
type Table struct {
	Format string // "xlsx" or "csv"
	// Rows are the non-empty rows in order, header rows included. A row
	// whose cells are all blank is dropped (its line number is skipped).
	Rows []Row
}

// Row is one non-empty row.
type Row struct {
	// Line is the row number the user sees: Excel's row number, or for a
	// CSV the row Excel shows it on (blank lines count; a quoted field
	// spanning lines does not).
	Line int
	// Cells are the trimmed texts left to right; trailing blank cells are
	// cut, so rows differ in length.
	Cells []string
}

// Cell returns the text of column i (0-based), "" past the end.
func (r Row) Cell(i int) string {
	if i < 0 || i >= len(r.Cells) {
		return ""
	}
	return r.Cells[i]
}

// CellName names a cell as Excel does: CellName(1, 7) == "B7" (col 0-based).
func CellName(col, line int) string {
	return ColumnName(col) + fmt.Sprint(line)
}

// ColumnName is Excel's letter name of column i (0-based): 0 "A", 26 "AA".
func ColumnName(i int) string {
	var b []byte
	for n := i + 1; n > 0; n = (n - 1) / 26 {
		b = append(b, byte('A'+(n-1)%26))
	}
	for l, r := 0, len(b)-1; l < r; l, r = l+1, r-1 {
		b[l], b[r] = b[r], b[l]
	}
	return string(b)
}

// sniffLen is how much of the upload is looked at before the rest is read.
const sniffLen = 512

// Read reads an uploaded sheet: an .xlsx workbook (its first visible
// worksheet) or a CSV file, told apart by content; name is only used in
// messages. At most lim.MaxBytes+1 bytes are read from r. Every refusal is
// a *fault.Error with one of the Code constants; other errors are failures
// reading r.
func Read(r io.Reader, name string, lim Limits) (*Table, error) {
	lim = lim.withDefaults()
	lr := io.LimitReader(r, lim.MaxBytes+1)
	head := make([]byte, sniffLen)
	n, err := io.ReadFull(lr, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("sheet: read upload: %w", err)
	}
	head = head[:n]
	if n == 0 {
		return nil, fault.New(fault.Invalid, CodeEmpty, subject(name)+" is empty. Fill in the sample and upload it again.")
	}
	if what := binaryKind(head); what != "" {
		return nil, fault.New(fault.Unsupported, CodeNotASheet,
			fmt.Sprintf("%s is %s, not a spreadsheet. %s", subject(name), what, advicePlainSheet))
	}
	data, err := readRest(head, lr, r, lim.MaxBytes+1)
	if err != nil {
		return nil, fmt.Errorf("sheet: read upload: %w", err)
	}
	if isOLE(head) {
		return nil, oleFault(name, data)
	}
	if int64(len(data)) > lim.MaxBytes {
		return nil, fault.New(fault.TooLarge, CodeTooLarge, fmt.Sprintf(
			"%s is larger than %s, the limit of an upload. Split the rows into several files.", subject(name), size(lim.MaxBytes)))
	}
	if isZip(data) {
		return readXLSX(data, name, lim)
	}
	return readCSV(data, name, lim)
}

// readRest reads the rest of the upload after head, into one buffer sized
// up front when r tells its length (bytes.Reader, strings.Reader, ...).
func readRest(head []byte, lr, r io.Reader, limit int64) ([]byte, error) {
	var buf bytes.Buffer
	if l, ok := r.(interface{ Len() int }); ok {
		// ReadFrom wants MinRead bytes free to see the end.
		buf.Grow(int(min(int64(len(head)+l.Len()), limit)) + bytes.MinRead)
	}
	buf.Write(head)
	_, err := buf.ReadFrom(lr)
	return buf.Bytes(), err
}

// subject starts a message about the file: "The file “a.xlsx”".
func subject(name string) string { return "The" + fileRef(name)[3:] }

// fileRef names the file inside a sentence: "the file “a.xlsx”".
func fileRef(name string) string {
	name = strings.TrimSpace(name)
	if name == "" {
		return "the file"
	}
	if utf8.RuneCountInString(name) > 80 {
		name = string([]rune(name)[:80]) + "…"
	}
	return "the file “" + name + "”"
}

// size renders a byte count for people: "20 MB", "512 KB", "900 bytes".
func size(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%d KB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

func isZip(b []byte) bool {
	return bytes.HasPrefix(b, []byte("PK\x03\x04")) || bytes.HasPrefix(b, []byte("PK\x05\x06"))
}

func isOLE(b []byte) bool {
	return bytes.HasPrefix(b, []byte("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"))
}

// oleFault tells a password-protected workbook (Excel keeps an encrypted
// xlsx in an OLE compound file with an EncryptedPackage stream) from an old
// binary .xls.
func oleFault(name string, data []byte) error {
	if bytes.Contains(data, utf16le("EncryptedPackage")) {
		return fault.New(fault.Unsupported, CodeEncrypted, subject(name)+
			" is a password-protected workbook. Open it, remove the password (File → Info → Protect Workbook), save it as .xlsx and upload it again.")
	}
	return fault.New(fault.Unsupported, CodeNotASheet, subject(name)+
		" is an old Excel 97-2003 workbook (.xls) or another legacy Office file, or a password-protected one. "+advicePlainSheet)
}

func utf16le(s string) []byte {
	var b []byte
	for _, c := range s {
		b = append(b, byte(c), 0)
	}
	return b
}

// binaryKind names the formats that are surely no spreadsheet by their
// magic bytes; "" for anything else.
func binaryKind(b []byte) string {
	has := func(off int, magic string) bool {
		return len(b) >= off+len(magic) && string(b[off:off+len(magic)]) == magic
	}
	switch {
	case has(0, "\x89PNG\r\n\x1a\n"):
		return "a PNG image"
	case has(0, "\xff\xd8\xff"):
		return "a JPEG image"
	case has(0, "GIF87a"), has(0, "GIF89a"):
		return "a GIF image"
	case has(0, "BM") && has(6, "\x00\x00\x00\x00"):
		return "a BMP image"
	case has(0, "RIFF") && has(8, "WEBP"):
		return "a WebP image"
	case has(0, "II*\x00"), has(0, "MM\x00*"):
		return "a TIFF image"
	case has(0, "%PDF-"):
		return "a PDF document"
	case has(0, "Rar!\x1a\x07"):
		return "a RAR archive"
	case has(0, "7z\xbc\xaf\x27\x1c"):
		return "a 7-Zip archive"
	case has(0, "\x1f\x8b"):
		return "a gzip archive"
	case has(0, "{\\rtf"):
		return "an RTF document"
	case has(4, "ftyp"):
		return "a video or other media file"
	case has(0, "\x7fELF"), has(0, "MZ"):
		return "a program"
	}
	return ""
}

// clean trims a cell as people expect: spaces of every width, no-break and
// zero-width spaces and stray BOMs at either end; CRLF inside becomes LF.
func clean(s string) string {
	s = strings.TrimFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || r == '\u200b' || r == '\ufeff' || r == '\u2060'
	})
	if strings.Contains(s, "\r") {
		s = strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
	}
	return s
}

// rows collects the rows of a table and enforces the row, column and cell
// limits on them, so both readers stop at the first row over a limit.
type rows struct {
	name  string
	lim   Limits
	t     *Table
	cells []string // the row being built
}

func newRows(format, name string, lim Limits) *rows {
	return &rows{name: name, lim: lim, t: &Table{Format: format}}
}

// set puts the cleaned value v into column col (0-based) of the row on line.
func (rs *rows) set(col, line int, v string) error {
	v = clean(v)
	if v == "" {
		return nil
	}
	if col >= rs.lim.MaxCols {
		return fault.New(fault.TooLarge, CodeTooManyCols, fmt.Sprintf(
			"%s has a value in column %s (cell %s); at most %d columns are read. Delete the columns after %s and upload it again.",
			subject(rs.name), ColumnName(col), CellName(col, line), rs.lim.MaxCols, ColumnName(rs.lim.MaxCols-1)))
	}
	if n := utf8.RuneCountInString(v); n > rs.lim.MaxCellRunes {
		return fault.New(fault.TooLarge, CodeCellTooLong, fmt.Sprintf(
			"Cell %s of %s holds %d characters; a cell may hold at most %d.",
			CellName(col, line), fileRef(rs.name), n, rs.lim.MaxCellRunes))
	}
	for len(rs.cells) <= col {
		rs.cells = append(rs.cells, "")
	}
	rs.cells[col] = v
	return nil
}

// end finishes the row on line: kept when it holds a value.
func (rs *rows) end(line int) error {
	if len(rs.cells) == 0 {
		return nil
	}
	cells := make([]string, len(rs.cells))
	copy(cells, rs.cells)
	rs.cells = rs.cells[:0]
	rs.t.Rows = append(rs.t.Rows, Row{Line: line, Cells: cells})
	if len(rs.t.Rows) > rs.lim.MaxRows+rs.lim.HeaderRows {
		return fault.New(fault.TooLarge, CodeTooManyRows, fmt.Sprintf(
			"%s has more than %d data rows (not counting the first %d rows, the headers); at most %d rows can be sent at once. Split it into several files.",
			subject(rs.name), rs.lim.MaxRows, rs.lim.HeaderRows, rs.lim.MaxRows))
	}
	return nil
}

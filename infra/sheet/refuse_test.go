package sheet

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

func TestReadRefusesOtherFiles(t *testing.T) {
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00")
	docx := zipOf(t, map[string]string{
		"[Content_Types].xml": ctXML,
		"_rels/.rels":         strings.Replace(rootRels, "xl/workbook.xml", "word/document.xml", 1),
		"word/document.xml":   `<w:document xmlns:w="w"><w:body/></w:document>`,
	})
	xlsb := zipOf(t, map[string]string{"[Content_Types].xml": ctXML,
		"_rels/.rels": strings.Replace(rootRels, "workbook.xml", "workbook.bin", 1), "xl/workbook.bin": "\x83\x01\x00"})
	jar := zipOf(t, map[string]string{"META-INF/MANIFEST.MF": "Manifest-Version: 1.0\n"})
	// An Office package whose main part claims to be the workbook but is not.
	fake := workbook(t, "", "", map[string]string{"xl/workbook.xml": `<document/>`})
	noSheet := workbook(t, "", "", map[string]string{"xl/workbook.xml": `<workbook><sheets/></workbook>`})
	ole := append([]byte("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"), make([]byte, 1000)...)
	tests := []struct {
		name  string
		data  []byte
		code  string
		inMsg []string
	}{
		{"PNG", png, CodeNotASheet, []string{"a PNG image", "合同.xlsx", ".xlsx", "CSV"}},
		{"PDF", []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"), CodeNotASheet, []string{"a PDF document"}},
		{"docx", docx, CodeNotASheet, []string{"a Word document (.docx)"}},
		{"ods saved by LibreOffice", fixture(t, "formula.ods"), CodeNotASheet, []string{"an OpenDocument spreadsheet (.ods)"}},
		{"xlsb", xlsb, CodeNotASheet, []string{".xlsb"}},
		{"jar", jar, CodeNotASheet, []string{"a Java archive"}},
		{"zip of nothing", zipOf(t, map[string]string{"a.txt": "x"}), CodeNotASheet, []string{"a ZIP archive"}},
		{"main part no workbook", fake, CodeNotASheet, []string{"not an Excel workbook"}},
		{"workbook without sheets", noSheet, CodeNotASheet, []string{"without a worksheet"}},
		{"old xls", ole, CodeNotASheet, []string{".xls"}},
		{"encrypted xlsx", encrypted(t), CodeEncrypted, []string{"password-protected", "remove the password"}},
		{"broken zip", append([]byte("PK\x03\x04"), make([]byte, 100)...), CodeCorrupt, []string{"cannot be read"}},
		{"broken sheet XML", workbook(t, `<row r="1"><c r="A1" t="inlineStr"><is><t>x</t></is>`, "", nil), CodeCorrupt, nil},
		{"shared string out of range", workbook(t, `<row r="1"><c r="A1" t="s"><v>5</v></c></row>`, `<si><t>a</t></si>`, nil), CodeCorrupt, []string{"shared string 5"}},
		{"row past Excel's end", workbook(t, `<row r="1048577"><c t="inlineStr"><is><t>x</t></is></c></row>`, "", nil), CodeCorrupt, nil},
		{"rows out of order", workbook(t, `<row r="2"><c t="inlineStr"><is><t>x</t></is></c></row><row r="2"/>`, "", nil), CodeCorrupt, []string{"row 2 comes after row 2"}},
		{"bad cell reference", workbook(t, `<row r="1"><c r="1A" t="inlineStr"><is><t>x</t></is></c></row>`, "", nil), CodeCorrupt, []string{"1A"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := read(t, tc.data, Limits{})
			wantFault(t, err, tc.code, http.StatusUnsupportedMediaType, tc.inMsg...)
		})
	}
}

// encrypted is a real password-protected workbook: excelize encrypts with
// ECMA-376 agile encryption into an OLE compound file, as Excel does.
func encrypted(t *testing.T) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetCellStr("Sheet1", "A1", "机密"); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := f.Write(&buf, excelize.Options{Password: "secret"}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// lazy yields n bytes of a repeated pattern without holding them, and
// counts what was read.
type lazy struct {
	pattern []byte
	n, read int64
}

func (l *lazy) Read(p []byte) (int, error) {
	if l.read >= l.n {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), l.n-l.read)]
	for i := range p {
		p[i] = l.pattern[(l.read+int64(i))%int64(len(l.pattern))]
	}
	l.read += int64(len(p))
	return len(p), nil
}

func TestReadStopsAtMaxBytes(t *testing.T) {
	src := &lazy{pattern: []byte("姓名,13800138000\n"), n: 200 << 20}
	_, err := Read(src, "big.csv", Limits{})
	wantFault(t, err, CodeTooLarge, http.StatusRequestEntityTooLarge, "big.csv", "20 MB")
	if want := DefaultLimits.MaxBytes + 1; src.read != want {
		t.Fatalf("read %d bytes of 200 MB, want %d", src.read, want)
	}
	// A picture is refused after its first bytes, whatever its size.
	src = &lazy{pattern: []byte("\x89PNG\r\n\x1a\n"), n: 200 << 20}
	_, err = Read(src, "photo.png", Limits{})
	wantFault(t, err, CodeNotASheet, http.StatusUnsupportedMediaType, "PNG")
	if src.read > sniffLen {
		t.Fatalf("read %d bytes of a PNG", src.read)
	}
}

// rawEntry adds an entry whose central directory declares declared bytes
// but whose deflate stream inflates to actual zeros.
func rawEntry(t *testing.T, zw *zip.Writer, name string, declared, actual int64) {
	t.Helper()
	var comp bytes.Buffer
	fw, _ := flate.NewWriter(&comp, flate.BestSpeed)
	zeros := make([]byte, 1<<20)
	for left := actual; left > 0; left -= int64(len(zeros)) {
		if _, err := fw.Write(zeros[:min(left, int64(len(zeros)))]); err != nil {
			t.Fatal(err)
		}
	}
	fw.Close()
	crc := crc32.NewIEEE()
	for left := actual; left > 0; left -= int64(len(zeros)) {
		crc.Write(zeros[:min(left, int64(len(zeros)))])
	}
	w, err := zw.CreateRaw(&zip.FileHeader{Name: name, Method: zip.Deflate, CRC32: crc.Sum32(),
		CompressedSize64: uint64(comp.Len()), UncompressedSize64: uint64(declared)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(comp.Bytes()); err != nil {
		t.Fatal(err)
	}
}

func bomb(t *testing.T, sheetDeclared, sheetActual int64) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range map[string]string{"[Content_Types].xml": ctXML, "_rels/.rels": rootRels,
		"xl/workbook.xml": workbookXML, "xl/_rels/workbook.xml.rels": workbookRels} {
		w, _ := zw.Create(name)
		w.Write([]byte(body))
	}
	rawEntry(t, zw, "xl/worksheets/sheet1.xml", sheetDeclared, sheetActual)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestReadRefusesZipBombs(t *testing.T) {
	t.Run("1 GB of zeros declared, default limits, refused before inflating", func(t *testing.T) {
		data := bomb(t, 1<<30, 0)
		start := time.Now()
		_, err := read(t, data, Limits{})
		wantFault(t, err, CodeTooLarge, http.StatusRequestEntityTooLarge, "unpacks to more than 200 MB")
		if d := time.Since(start); d > slowdown*100*time.Millisecond {
			t.Fatalf("took %v", d)
		}
	})
	t.Run("real 8 MB of zeros: ratio over 100:1", func(t *testing.T) {
		_, err := read(t, bomb(t, 8<<20, 8<<20), Limits{})
		wantFault(t, err, CodeTooLarge, http.StatusRequestEntityTooLarge, "xl/worksheets/sheet1.xml", "100:1", "zip bomb")
	})
	t.Run("total over a small limit", func(t *testing.T) {
		_, err := read(t, bomb(t, 300<<10, 300<<10), Limits{MaxUncompressed: 200 << 10})
		wantFault(t, err, CodeTooLarge, http.StatusRequestEntityTooLarge, "unpacks to more than 200 KB")
	})
	t.Run("directory lies: 1 KB declared, 4 MB inside", func(t *testing.T) {
		_, err := read(t, bomb(t, 1<<10, 4<<20), Limits{})
		wantFault(t, err, CodeCorrupt, http.StatusUnsupportedMediaType)
	})
}

func TestReadXLSXLimits(t *testing.T) {
	rows := `<row r="1"><c r="A1" t="inlineStr"><is><t>h</t></is></c></row>` +
		`<row r="2"><c r="A2" t="inlineStr"><is><t>hint</t></is></c><c r="C2" s="1"/></row>` +
		`<row r="3"><c r="A3"><v>1</v></c><c r="D3" t="inlineStr"><is><t>` + strings.Repeat("字", 11) + `</t></is></c></row>`
	_, err := read(t, workbook(t, rows, "", nil), Limits{MaxCols: 3})
	wantFault(t, err, CodeTooManyCols, http.StatusRequestEntityTooLarge, "D3", "at most 3 columns", "after C")
	_, err = read(t, workbook(t, rows, "", nil), Limits{MaxCellRunes: 10})
	wantFault(t, err, CodeCellTooLong, http.StatusRequestEntityTooLarge, "D3", "at most 10")
	_, err = read(t, workbook(t, rows, "", nil), Limits{MaxRows: 1, HeaderRows: 1})
	wantFault(t, err, CodeTooManyRows, http.StatusRequestEntityTooLarge, "more than 1 data rows")
}

// alloc measures the time and bytes allocated by f.
func alloc(f func()) (time.Duration, uint64) {
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	f()
	d := time.Since(start)
	runtime.ReadMemStats(&after)
	return d, after.TotalAlloc - before.TotalAlloc
}

// A million-row CSV and a 60,000-row sheet are refused at row 50,003
// (2 header rows + 50,000 data rows + 1), without reading further.
func TestReadRefusesTooManyRowsFast(t *testing.T) {
	// 1,000,000 lines "n000042,13800000042"
	csv := make([]byte, 0, 20_000_000)
	for i := range 1_000_000 {
		six := strconv.Itoa(1_000_000 + i)[1:]
		csv = append(append(append(append(append(csv, 'n'), six...), ",13800"...), six...), '\n')
	}
	if int64(len(csv)) > DefaultLimits.MaxBytes {
		t.Fatalf("CSV of %d bytes is over the size limit", len(csv))
	}
	var err error
	d, bytesAlloc := alloc(func() { _, err = read(t, csv, Limits{}) })
	wantFault(t, err, CodeTooManyRows, http.StatusRequestEntityTooLarge, "more than 50000 data rows")
	t.Logf("1,000,000-row CSV (%d MB) refused in %v, %.1f MB allocated", len(csv)>>20, d, float64(bytesAlloc)/(1<<20))
	if bytesAlloc > 100<<20 || d > slowdown*time.Second {
		t.Fatalf("took %v, allocated %d MB", d, bytesAlloc>>20)
	}

	var rows strings.Builder
	for i := 1; i <= 60_000; i++ {
		fmt.Fprintf(&rows, `<row r="%d"><c r="A%d" t="s"><v>%d</v></c><c r="B%d"><v>1380%07d</v></c><c r="C%d" s="2"><v>%d</v></c></row>`,
			i, i, i%3, i, i, i, 46000+i%500)
	}
	data := workbook(t, rows.String(), `<si><t>张三</t></si><si><t>李四</t></si><si><t>王五</t></si>`, nil)
	d, bytesAlloc = alloc(func() { _, err = read(t, data, Limits{}) })
	wantFault(t, err, CodeTooManyRows, http.StatusRequestEntityTooLarge, "more than 50000 data rows")
	t.Logf("60,000-row xlsx (%d KB zipped, %d MB sheet XML) refused in %v, %.1f MB allocated",
		len(data)>>10, rows.Len()>>20, d, float64(bytesAlloc)/(1<<20))
	if bytesAlloc > 200<<20 || d > slowdown*2*time.Second {
		t.Fatalf("took %v, allocated %d MB", d, bytesAlloc>>20)
	}
}

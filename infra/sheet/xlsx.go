package sheet

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"

	"signet/domain/fault"
)

// Zip-bomb guard: an entry this big or bigger may not be compressed more
// than maxRatio:1. Sheet XML stays far below: 8:1 to 15:1 measured on
// 10,000 to 50,000 rows, even with every row alike.
const (
	bigEntry = 1 << 20
	maxRatio = 100
)

// Caps on what is kept of the workbook's parts, far above real workbooks
// (Excel allows 64,000 cell formats).
const (
	maxStyles = 1 << 18
	maxRels   = 1 << 16
	// maxSharedStrings bounds the index table of the shared strings (8
	// bytes an entry); a full batch of unique texts needs 600,000.
	maxSharedStrings = 1 << 22
)

// readXLSX reads the first visible worksheet of an xlsx in data. The zip
// directory is checked before anything is inflated; the worksheet and its
// shared strings are streamed, so the limits stop reading early.
func readXLSX(data []byte, name string, lim Limits) (*Table, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return nil, corrupt(name, err)
	}
	var total uint64
	files := make(map[string]*zip.File, len(zr.File))
	for _, f := range zr.File {
		u := f.UncompressedSize64
		total += min(u, uint64(lim.MaxUncompressed)+1)
		if total > uint64(lim.MaxUncompressed) {
			return nil, fault.New(fault.TooLarge, CodeTooLarge, fmt.Sprintf(
				"%s unpacks to more than %s; the limit is %s. Split the rows into several files.",
				subject(name), size(lim.MaxUncompressed), size(lim.MaxUncompressed)))
		}
		if u >= bigEntry && u/max(f.CompressedSize64, 1) > maxRatio {
			return nil, fault.New(fault.TooLarge, CodeTooLarge, fmt.Sprintf(
				"%s holds a part (%s) compressed more than %d:1, which no real spreadsheet is; it is refused as a possible zip bomb. Save the workbook again from Excel and upload it.",
				subject(name), f.Name, maxRatio))
		}
		if _, dup := files[f.Name]; !dup {
			files[f.Name] = f
		}
	}
	x := &xlsx{name: name, lim: lim, files: files}
	wbPath := x.mainPart()
	if wbPath == "" || !strings.HasSuffix(strings.ToLower(wbPath), ".xml") || x.file(wbPath) == nil {
		return nil, fault.New(fault.Unsupported, CodeNotASheet, fmt.Sprintf(
			"%s is %s, not an Excel workbook. %s", subject(name), x.zipKind(wbPath), advicePlainSheet))
	}
	if err := x.readWorkbook(wbPath); errors.Is(err, errNotWorkbook) {
		return nil, fault.New(fault.Unsupported, CodeNotASheet, fmt.Sprintf(
			"%s is %s, not an Excel workbook. %s", subject(name), x.zipKind(""), advicePlainSheet))
	} else if err != nil {
		return nil, err
	}
	return x.readSheet()
}

var errNotWorkbook = errors.New("the main part is no workbook")

func corrupt(name string, err error) error {
	return fault.New(fault.Unsupported, CodeCorrupt, fmt.Sprintf(
		"%s looks like an Excel workbook but cannot be read (%v). Open it in Excel or WPS, save it again as .xlsx and upload the new file.",
		subject(name), err))
}

type xlsx struct {
	name     string
	lim      Limits
	files    map[string]*zip.File
	lower    map[string]*zip.File // lower-cased names, built on a miss
	date1904 bool
	sheet    string    // zip path of the worksheet read
	sst      string    // zip path of the shared strings, "" when none
	formats  []numFmt  // by cell format (xf) index
	strings  *sstCache // shared strings, read as far as needed
}

// file finds a part, forgiving case and a leading slash as Excel does.
func (x *xlsx) file(name string) *zip.File {
	name = strings.TrimPrefix(name, "/")
	if f := x.files[name]; f != nil {
		return f
	}
	if x.lower == nil {
		x.lower = make(map[string]*zip.File, len(x.files))
		for n, f := range x.files {
			x.lower[strings.ToLower(strings.ReplaceAll(n, "\\", "/"))] = f
		}
	}
	return x.lower[strings.ToLower(name)]
}

// mainPart is the path of the package's main document: the target of the
// officeDocument relationship, else xl/workbook.xml when present.
func (x *xlsx) mainPart() string {
	for _, r := range x.rels("_rels/.rels", "") {
		if strings.HasSuffix(r.typ, "/officeDocument") {
			return r.target
		}
	}
	if x.file("xl/workbook.xml") != nil {
		return "xl/workbook.xml"
	}
	return ""
}

// zipKind says what a zip without a readable workbook is.
func (x *xlsx) zipKind(main string) string {
	has := func(n string) bool { return x.file(n) != nil }
	switch {
	case strings.HasSuffix(strings.ToLower(main), ".bin"), has("xl/workbook.bin"):
		return "an Excel binary workbook (.xlsb)"
	case has("word/document.xml"):
		return "a Word document (.docx)"
	case has("ppt/presentation.xml"):
		return "a PowerPoint presentation (.pptx)"
	case has("mimetype"):
		if f := x.file("mimetype"); f.UncompressedSize64 < 200 {
			if b, err := readAll(f); err == nil && strings.Contains(string(b), "spreadsheet") {
				return "an OpenDocument spreadsheet (.ods)"
			}
		}
		return "an OpenDocument or EPUB file"
	case has("META-INF/MANIFEST.MF"):
		return "a Java archive"
	case has("[Content_Types].xml"):
		return "an Office file that holds no workbook"
	}
	return "a ZIP archive"
}

func readAll(f *zip.File) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

// decoder opens a part for streaming; nil when it is missing.
func (x *xlsx) decoder(part string) (*xml.Decoder, io.Closer, error) {
	f := x.file(part)
	if f == nil {
		return nil, nil, nil
	}
	rc, err := f.Open()
	if err != nil {
		return nil, nil, corrupt(x.name, fmt.Errorf("%s: %w", part, err))
	}
	return xml.NewDecoder(rc), rc, nil
}

type rel struct{ id, typ, target string }

// rels reads a relationships part; targets are resolved against dir.
// A missing or broken part yields what was read.
func (x *xlsx) rels(part, dir string) []rel {
	d, c, err := x.decoder(part)
	if d == nil || err != nil {
		return nil
	}
	defer c.Close()
	var out []rel
	for len(out) < maxRels {
		tok, err := d.RawToken()
		if err != nil {
			break
		}
		se, ok := tok.(xml.StartElement)
		if !ok || se.Name.Local != "Relationship" || attr(se, "TargetMode") == "External" {
			continue
		}
		target := strings.ReplaceAll(attr(se, "Target"), "\\", "/")
		if strings.HasPrefix(target, "/") {
			target = strings.TrimPrefix(target, "/")
		} else {
			target = path.Join(dir, target)
		}
		out = append(out, rel{id: attr(se, "Id"), typ: attr(se, "Type"), target: target})
	}
	return out
}

func attr(se xml.StartElement, local string) string {
	for _, a := range se.Attr {
		if a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

// readWorkbook finds the first visible worksheet, the date system, the
// shared strings and the cell formats.
func (x *xlsx) readWorkbook(wbPath string) error {
	dir, base := path.Split(wbPath)
	byID := map[string]rel{}
	var stylesPath string
	for _, r := range x.rels(path.Join(dir, "_rels", base+".rels"), dir) {
		byID[r.id] = r
		switch {
		case strings.HasSuffix(r.typ, "/sharedStrings"):
			x.sst = r.target
		case strings.HasSuffix(r.typ, "/styles"):
			stylesPath = r.target
		}
	}
	if len(byID) == 0 { // no relationships part: the usual names
		x.sst, stylesPath = path.Join(dir, "sharedStrings.xml"), path.Join(dir, "styles.xml")
	}
	d, c, err := x.decoder(wbPath)
	if err != nil {
		return err
	}
	defer c.Close()
	var first, visible string
	root := ""
loop:
	for visible == "" {
		tok, err := d.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return corrupt(x.name, fmt.Errorf("%s: %w", wbPath, err))
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if root == "" {
				if root = t.Name.Local; root != "workbook" {
					return errNotWorkbook
				}
			}
			switch t.Name.Local {
			case "workbookPr":
				v := attr(t, "date1904")
				x.date1904 = v == "1" || v == "true"
			case "sheet":
				r, ok := byID[attr(t, "id")]
				if len(byID) == 0 && first == "" {
					r, ok = rel{typ: "/worksheet", target: path.Join(dir, "worksheets/sheet1.xml")}, true
				}
				if !ok || !strings.HasSuffix(r.typ, "/worksheet") {
					continue
				}
				if first == "" {
					first = r.target
				}
				if s := attr(t, "state"); s == "" || s == "visible" {
					visible = r.target
				}
			}
		case xml.EndElement:
			if t.Name.Local == "sheets" {
				break loop
			}
		}
	}
	if root != "workbook" {
		return errNotWorkbook
	}
	x.sheet = visible
	if x.sheet == "" {
		x.sheet = first
	}
	if x.sheet == "" || x.file(x.sheet) == nil {
		return fault.New(fault.Unsupported, CodeNotASheet, subject(x.name)+" is a workbook without a worksheet. "+advicePlainSheet)
	}
	return x.readStyles(stylesPath)
}

// readStyles reads the number format of every cell format (cellXfs).
func (x *xlsx) readStyles(part string) error {
	d, c, err := x.decoder(part)
	if d == nil || err != nil {
		return err
	}
	defer c.Close()
	custom := map[int]string{}
	var ids []int
	inXfs := false
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return corrupt(x.name, fmt.Errorf("%s: %w", part, err))
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "numFmt":
				if id, err := strconv.Atoi(attr(t, "numFmtId")); err == nil && len(custom) < maxStyles {
					custom[id] = attr(t, "formatCode")
				}
			case "cellXfs":
				inXfs = true
			case "xf":
				if inXfs && len(ids) < maxStyles {
					id, _ := strconv.Atoi(attr(t, "numFmtId"))
					ids = append(ids, id)
				}
			}
		case xml.EndElement:
			if t.Name.Local == "cellXfs" {
				inXfs = false
			}
		}
	}
	x.formats = make([]numFmt, len(ids))
	for i, id := range ids {
		if code, ok := custom[id]; ok {
			x.formats[i] = classifyFormat(code)
		} else if k, ok := builtinDates[id]; ok {
			x.formats[i] = numFmt{kind: k}
		}
	}
	return nil
}

func (x *xlsx) format(style string) numFmt {
	if style == "" {
		return numFmt{}
	}
	i, err := strconv.Atoi(style)
	if err != nil || i < 0 || i >= len(x.formats) {
		return numFmt{}
	}
	return x.formats[i]
}

// readSheet streams the worksheet's sheetData.
func (x *xlsx) readSheet() (*Table, error) {
	d, c, err := x.decoder(x.sheet)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if x.sst != "" {
		x.strings = &sstCache{x: x, part: x.sst}
		defer x.strings.close()
	}
	rs := newRows(FormatXLSX, x.name, x.lim)
	line, col := 0, 0
	inRow := false
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, corrupt(x.name, fmt.Errorf("%s: %w", x.sheet, err))
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "row":
				n := line + 1
				if r := attr(t, "r"); r != "" {
					if n, err = strconv.Atoi(r); err != nil || n <= 0 {
						return nil, corrupt(x.name, fmt.Errorf("row number %q", r))
					}
				}
				if n > maxRowNum {
					return nil, corrupt(x.name, fmt.Errorf("row %d is past Excel's last row", n))
				}
				if n <= line { // Excel writes rows in order; lines must stay unique
					return nil, corrupt(x.name, fmt.Errorf("row %d comes after row %d", n, line))
				}
				line, col, inRow = n, 0, true
			case "c":
				if !inRow {
					continue
				}
				col++
				if r := attr(t, "r"); r != "" {
					if col, err = columnOf(r); err != nil {
						return nil, corrupt(x.name, err)
					}
				}
				v, err := x.cell(d, t, CellName(col-1, line))
				if err != nil {
					return nil, err
				}
				if err := rs.set(col-1, line, v); err != nil {
					return nil, err
				}
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "row":
				if inRow {
					if err := rs.end(line); err != nil {
						return nil, err
					}
				}
				inRow = false
			case "sheetData":
				return rs.t, nil
			}
		}
	}
	return rs.t, nil
}

// columnOf is the 1-based column of a cell reference such as "AB12".
func columnOf(ref string) (int, error) {
	col := 0
	for i := 0; i < len(ref); i++ {
		c := ref[i] | 0x20 // lower case
		if c < 'a' || c > 'z' {
			if i == 0 {
				break
			}
			return col, nil
		}
		col = col*26 + int(c-'a') + 1
		if col > maxColumns {
			break
		}
	}
	return 0, fmt.Errorf("bad cell reference %q", ref)
}

// cell reads one <c> element up to its end and renders its value.
func (x *xlsx) cell(d *xml.Decoder, start xml.StartElement, ref string) (string, error) {
	typ, style := attr(start, "t"), attr(start, "s")
	var v, is []byte
	for {
		tok, err := d.RawToken()
		if err != nil {
			return "", corrupt(x.name, fmt.Errorf("%s: cell %s: %w", x.sheet, ref, unexpectedEOF(err)))
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "f":
				return "", fault.New(fault.Invalid, CodeFormula, fmt.Sprintf(
					"Cell %s of %s holds a formula; formulas are not accepted. Select the sheet, copy it and paste it back as values only (Paste Special → Values), then upload it again.",
					ref, fileRef(x.name)))
			case "v":
				if v, err = text(d, "v", v[:0]); err != nil {
					return "", corrupt(x.name, err)
				}
			case "is":
				if is, err = richText(d, "is", is[:0]); err != nil {
					return "", corrupt(x.name, err)
				}
			}
		case xml.EndElement:
			if t.Name.Local == "c" {
				return x.value(typ, style, v, is, ref)
			}
		}
	}
}

func (x *xlsx) value(typ, style string, v, is []byte, ref string) (string, error) {
	switch typ {
	case "s":
		i, err := strconv.Atoi(strings.TrimSpace(string(v)))
		if err != nil || x.strings == nil {
			return "", corrupt(x.name, fmt.Errorf("cell %s: shared string %q", ref, v))
		}
		return x.strings.get(i)
	case "inlineStr":
		return unescapeOOXML(string(is)), nil
	case "str", "e":
		return unescapeOOXML(string(v)), nil
	case "b":
		switch strings.TrimSpace(string(v)) {
		case "1", "true":
			return "TRUE", nil
		case "0", "false":
			return "FALSE", nil
		}
		return string(v), nil
	case "d":
		return formatISODate(string(v)), nil
	}
	if len(v) == 0 {
		return "", nil
	}
	return formatNumber(string(v), x.format(style), x.date1904), nil
}

func unexpectedEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// text appends the character data of the element just opened (named end)
// to dst, up to its end tag.
func text(d *xml.Decoder, end string, dst []byte) ([]byte, error) {
	depth := 0
	for {
		tok, err := d.RawToken()
		if err != nil {
			return dst, unexpectedEOF(err)
		}
		switch t := tok.(type) {
		case xml.CharData:
			if depth == 0 {
				dst = append(dst, t...)
			}
		case xml.StartElement:
			depth++
		case xml.EndElement:
			if depth == 0 && t.Name.Local == end {
				return dst, nil
			}
			depth--
		}
	}
}

// richText appends the text of a string item (<si> or <is>) to dst: its
// <t> elements, directly or in runs <r>, but not the phonetic runs <rPh>.
func richText(d *xml.Decoder, end string, dst []byte) ([]byte, error) {
	depth, inT, skip := 0, false, 0
	for {
		tok, err := d.RawToken()
		if err != nil {
			return dst, unexpectedEOF(err)
		}
		switch t := tok.(type) {
		case xml.CharData:
			if inT && skip == 0 {
				dst = append(dst, t...)
			}
		case xml.StartElement:
			depth++
			switch {
			case skip > 0 || t.Name.Local == "rPh":
				skip++
			case t.Name.Local == "t":
				inT = true
			}
		case xml.EndElement:
			if depth == 0 && t.Name.Local == end {
				return dst, nil
			}
			depth--
			switch {
			case skip > 0:
				skip--
			case t.Name.Local == "t":
				inT = false
			}
		}
	}
}

// unescapeOOXML decodes the _xHHHH_ escapes OOXML uses for characters XML
// cannot hold (Excel writes a CR as _x000D_); _x005F_ escapes the "_".
func unescapeOOXML(s string) string {
	if !strings.Contains(s, "_x") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if i+7 <= len(s) && s[i] == '_' && s[i+1] == 'x' && s[i+6] == '_' {
			if n, err := strconv.ParseUint(s[i+2:i+6], 16, 16); err == nil {
				b.WriteRune(rune(n))
				i += 7
				continue
			}
		}
		b.WriteByte(s[i])
		i++
	}
	return b.String()
}

// sstCache reads the shared strings part only as far as the cells need:
// Excel numbers strings in order of first use, so a sheet refused at row
// 50,003 reads no more of them than that. Strings are kept in one buffer.
type sstCache struct {
	x    *xlsx
	part string
	d    *xml.Decoder
	c    io.Closer
	buf  []byte
	ends []int
	done bool
	tmp  []byte
}

func (s *sstCache) get(i int) (string, error) {
	if i >= maxSharedStrings {
		return "", corrupt(s.x.name, fmt.Errorf("shared string %d is past the %d read", i, maxSharedStrings))
	}
	for !s.done && i >= len(s.ends) {
		if err := s.next(); err != nil {
			return "", err
		}
	}
	if i < 0 || i >= len(s.ends) {
		return "", corrupt(s.x.name, fmt.Errorf("shared string %d does not exist", i))
	}
	from := 0
	if i > 0 {
		from = s.ends[i-1]
	}
	return string(s.buf[from:s.ends[i]]), nil
}

// next reads the next <si>, or marks the part done.
func (s *sstCache) next() error {
	if s.d == nil {
		d, c, err := s.x.decoder(s.part)
		if err != nil {
			return err
		}
		if d == nil {
			s.done = true
			return nil
		}
		s.d, s.c = d, c
	}
	for {
		tok, err := s.d.RawToken()
		if err == io.EOF {
			s.done = true
			return nil
		}
		if err != nil {
			return corrupt(s.x.name, fmt.Errorf("%s: %w", s.part, err))
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "si" {
			if s.tmp, err = richText(s.d, "si", s.tmp[:0]); err != nil {
				return corrupt(s.x.name, fmt.Errorf("%s: %w", s.part, err))
			}
			s.buf = append(s.buf, unescapeOOXML(string(s.tmp))...)
			s.ends = append(s.ends, len(s.buf))
			return nil
		}
	}
}

func (s *sstCache) close() {
	if s.c != nil {
		s.c.Close()
	}
}

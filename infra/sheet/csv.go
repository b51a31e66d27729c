package sheet

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"

	"signet/domain/fault"
)

var utf8BOM = []byte("\xef\xbb\xbf")

// readCSV reads a CSV file: comma-separated UTF-8 (with or without BOM) or
// GB18030 (what Chinese Excel saves as "CSV"), or tab-separated UTF-16
// with BOM (Excel's "Unicode text"). Cells are text: nothing in a CSV is a
// formula to refuse.
func readCSV(data []byte, name string, lim Limits) (*Table, error) {
	text, utf16, err := decodeText(data, name)
	if err != nil {
		return nil, err
	}
	cr := csv.NewReader(bytes.NewReader(text))
	if utf16 {
		cr.Comma = '\t' // Excel's "Unicode text"
	}
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	cr.ReuseRecord = true
	rs := newRows(FormatCSV, name, lim)
	row, lastLine := 0, 0
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return rs.t, nil
		}
		if err != nil {
			return nil, fault.New(fault.Unsupported, CodeCorrupt, fmt.Sprintf(
				"%s cannot be read as CSV (%v). %s", subject(name), err, advicePlainSheet))
		}
		// Blank lines are rows in Excel but encoding/csv skips them.
		line, _ := cr.FieldPos(0)
		row += 1 + max(0, line-lastLine-1)
		last, _ := cr.FieldPos(len(rec) - 1)
		lastLine = last + strings.Count(rec[len(rec)-1], "\n")
		for i, f := range rec {
			if err := rs.set(i, row, csvCell(f)); err != nil {
				return nil, err
			}
		}
		if err := rs.end(row); err != nil {
			return nil, err
		}
	}
}

// csvCell undoes the ="0123" wrapping that exports use to keep Excel from
// turning digits into a number.
func csvCell(f string) string {
	s := clean(f)
	if len(s) >= 3 && strings.HasPrefix(s, `="`) && strings.HasSuffix(s, `"`) && !strings.Contains(s[2:len(s)-1], `"`) {
		return s[2 : len(s)-1]
	}
	return s
}

// decodeText turns the file into UTF-8 text without BOM, or refuses it;
// utf16 says the file was UTF-16.
func decodeText(data []byte, name string) (text []byte, utf16 bool, err error) {
	switch {
	case bytes.HasPrefix(data, utf8BOM):
		text = data[len(utf8BOM):]
		if !utf8.Valid(text) {
			return nil, false, notUTF8(name, "it starts with a UTF-8 mark but is not UTF-8")
		}
	case bytes.HasPrefix(data, []byte("\xff\xfe")), bytes.HasPrefix(data, []byte("\xfe\xff")):
		text, err = unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder().Bytes(data)
		if err != nil {
			return nil, false, notUTF8(name, "it starts with a UTF-16 mark but is not UTF-16")
		}
		utf16 = true
	case bytes.IndexByte(data, 0) >= 0:
		return nil, false, notText(name)
	case utf8.Valid(data):
		text = data
	default:
		gb, err := simplifiedchinese.GB18030.NewDecoder().Bytes(data)
		if err != nil || bytes.ContainsRune(gb, utf8.RuneError) {
			return nil, false, notUTF8(name, "it is neither UTF-8 nor GB18030 (GBK) text")
		}
		text = gb
	}
	if !looksLikeText(text) {
		return nil, false, notText(name)
	}
	return text, utf16, nil
}

// looksLikeText refuses NULs and texts whose start is mostly control
// characters: binary data that happens to decode.
func looksLikeText(text []byte) bool {
	if bytes.IndexByte(text, 0) >= 0 {
		return false
	}
	head := text[:min(len(text), 64<<10)]
	ctl := 0
	for _, c := range head {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != '\v' {
			ctl++
		}
	}
	return ctl*100 <= len(head)
}

func notText(name string) error {
	return fault.New(fault.Unsupported, CodeNotASheet, fmt.Sprintf(
		"%s is binary data of an unknown type, not a spreadsheet. %s", subject(name), advicePlainSheet))
}

func notUTF8(name, why string) error {
	return fault.New(fault.Unsupported, CodeNotUTF8, fmt.Sprintf(
		"%s cannot be read as text: %s. In Excel choose Save As → “CSV UTF-8 (Comma delimited)”, or upload the .xlsx.", subject(name), why))
}

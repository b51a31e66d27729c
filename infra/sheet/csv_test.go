package sheet

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"
)

func TestReadCSV(t *testing.T) {
	utf16 := func(s string) []byte {
		b, err := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().Bytes([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	gbk := func(s string) []byte {
		b, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name string
		data []byte
		want []line
	}{
		{"BOM and CRLF", []byte("\xef\xbb\xbf姓名,手机\r\n张三,13800138000\r\n"),
			[]line{{1, cells("姓名", "手机")}, {2, cells("张三", "13800138000")}}},
		{"quoted newline, doubled quotes; line numbers as Excel shows rows", []byte("a,b\n\"x\ny\",\"say \"\"hi\"\"\"\n\n  \n,,\nlast,\n"),
			[]line{{1, cells("a", "b")}, {2, cells("x\ny", `say "hi"`)}, {6, cells("last")}}},
		{"tab-prefixed and =\"...\" numbers of exports", []byte("手机,编号\n\"\t13800138000\",=\"00123\"\n"),
			[]line{{1, cells("手机", "编号")}, {2, cells("13800138000", "00123")}}},
		{"formula-like text is text", []byte("=1+2,+86 138,-5,@SUM(A1),=HYPERLINK(\"http://x\")\n"),
			[]line{{1, cells("=1+2", "+86 138", "-5", "@SUM(A1)", `=HYPERLINK("http://x")`)}}},
		{"GBK as Chinese Excel saves it", gbk("姓名,备注\n张三,中文，全角逗号\n"),
			[]line{{1, cells("姓名", "备注")}, {2, cells("张三", "中文，全角逗号")}}},
		{"UTF-16 tab-separated (Excel Unicode text)", utf16("姓名\t手机\r\n张三\t13800138000\r\n"),
			[]line{{1, cells("姓名", "手机")}, {2, cells("张三", "13800138000")}}},
		{"only commas separate UTF-8", []byte("a;b\tc\n"), []line{{1, cells("a;b\tc")}}},
		{"stray quote", []byte("a\"b,c\n"), []line{{1, cells("a\"b", "c")}}},
		{"unterminated quote runs to the end", []byte("a,\"b\nc\n"), []line{{1, cells("a", "b\nc")}}},
		{"only blank lines", []byte("\n\n \n"), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tb := mustRead(t, tc.data, Limits{})
			if tb.Format != FormatCSV {
				t.Fatalf("format %q", tb.Format)
			}
			wantRows(t, tb, tc.want...)
		})
	}
}

func TestReadCSVRefusals(t *testing.T) {
	tests := []struct {
		name   string
		data   []byte
		lim    Limits
		code   string
		status int
		inMsg  []string
	}{
		{"Latin-1 is neither UTF-8 nor GB18030", []byte("name\ncaf\xe9 \xe9t\xe9\n"), Limits{}, CodeNotUTF8, http.StatusUnsupportedMediaType,
			[]string{"合同.xlsx", "UTF-8", "GB18030"}},
		{"BOM but not UTF-8", []byte("\xef\xbb\xbfa\xff\n"), Limits{}, CodeNotUTF8, http.StatusUnsupportedMediaType, nil},
		{"NUL bytes", []byte("a,b\x00\x00c\n"), Limits{}, CodeNotASheet, http.StatusUnsupportedMediaType, []string{"binary"}},
		{"control characters", bytes.Repeat([]byte{1, 2, 3, 'a'}, 100), Limits{}, CodeNotASheet, http.StatusUnsupportedMediaType, nil},
		{"too many columns", []byte("a,b,c,d\n"), Limits{MaxCols: 3}, CodeTooManyCols, http.StatusRequestEntityTooLarge,
			[]string{"column D", "D1", "at most 3 columns"}},
		{"cell too long", []byte("a,b\nx," + strings.Repeat("长", 11) + "\n"), Limits{MaxCellRunes: 10}, CodeCellTooLong, http.StatusRequestEntityTooLarge,
			[]string{"B2", "11 characters", "at most 10"}},
		{"too many rows", []byte("h\nhint\n1\n2\n3\n"), Limits{MaxRows: 2}, CodeTooManyRows, http.StatusRequestEntityTooLarge,
			[]string{"more than 2 data rows", "first 2 rows"}},
		{"empty", nil, Limits{}, CodeEmpty, http.StatusBadRequest, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := read(t, tc.data, tc.lim)
			wantFault(t, err, tc.code, tc.status, tc.inMsg...)
		})
	}
	// Trailing empty columns past the limit are no values.
	tb := mustRead(t, []byte("a,b,c,,,,\n"), Limits{MaxCols: 3})
	wantRows(t, tb, line{1, cells("a", "b", "c")})
	// Exactly MaxRows data rows pass.
	tb = mustRead(t, []byte("h\nhint\n1\n2\n"), Limits{MaxRows: 2})
	if len(tb.Rows) != 4 {
		t.Fatalf("%d rows", len(tb.Rows))
	}
}

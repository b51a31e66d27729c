package batch

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"signet/domain/contract"
	"signet/domain/layout"
	"signet/domain/template"
)

// now is 10:00 on 2026-11-30 in Shanghai.
var now = t0

func snapshot() template.Snapshot {
	rect := layout.Rect{X: 100, Y: 100, W: 120, H: 60}
	return template.Snapshot{
		Name: "房屋租赁合同", ContractType: "租赁",
		Documents: []layout.Document{{ID: "d1", Name: "租赁合同", File: layout.File{SHA256: strings.Repeat("a", 64), Size: 9, MediaType: "application/pdf"},
			Pages: []layout.Page{layout.A4, layout.A4}}},
		Roles: []layout.Role{
			{ID: "rp", Name: "乙方", Kind: layout.Person, Order: 1},
			{ID: "re", Name: "甲方", Kind: layout.Enterprise, Order: 2},
			{ID: "rg", Name: "丙方", Kind: layout.Person, Order: 3},
		},
		Fields: []layout.Field{
			{ID: "fs", Kind: layout.Signature, RoleID: "rp", DocumentID: "d1", Page: 2, Rect: rect},
			{ID: "fe", Kind: layout.Seal, RoleID: "re", DocumentID: "d1", Page: 2, Rect: layout.Rect{X: 300, Y: 100, W: 120, H: 120}},
			{ID: "fg", Kind: layout.Signature, RoleID: "rg", DocumentID: "d1", Page: 2, Rect: layout.Rect{X: 100, Y: 300, W: 120, H: 60}},
			{ID: "rent", Kind: layout.Number, Name: "月租金", Required: true, DocumentID: "d1", Page: 1, Rect: rect},
			{ID: "pay", Kind: layout.Choice, Name: "付款方式", Choices: []string{"月付", "年付"}, DocumentID: "d1", Page: 1, Rect: rect},
			{ID: "from", Kind: layout.Date, Name: "起租日", DocumentID: "d1", Page: 1, Rect: rect},
		},
	}
}

var header = []string{"合同标题", "乙方姓名", "乙方手机号/邮箱", "甲方企业名称", "甲方经办人姓名", "甲方手机号/邮箱", "丙方姓名", "丙方手机号/邮箱", "月租金", "付款方式", "起租日", "签署截止日期", "合同到期日期"}

func good(i int) []string {
	return []string{"", "林某某", fmt.Sprintf("1351234%04d", i), "杭州井然食品贸易有限公司", "井然", "boss@example.com", "王五", fmt.Sprintf("wang%d@example.com", i),
		"3500", "月付", "2026-12-01", "2026-12-31", ""}
}

func sheet(rows ...[]string) []SheetRow {
	out := []SheetRow{{Line: 1, Cells: header}}
	for i, r := range rows {
		out = append(out, SheetRow{Line: i + 2, Cells: r})
	}
	return out
}

func with(r []string, col string, v string) []string {
	r = append([]string(nil), r...)
	for i, h := range header {
		if h == col {
			r[i] = v
			return r
		}
	}
	panic("no column " + col)
}

func TestColumns(t *testing.T) {
	var got []string
	for _, c := range Columns(snapshot()) {
		got = append(got, c.Header)
		if c.Hint == "" {
			t.Errorf("column %s has no hint", c.Header)
		}
	}
	if !reflect.DeepEqual(got, header) {
		t.Fatalf("headers\n got %q\nwant %q", got, header)
	}
	// A business field named like a fixed column keeps its own column.
	s := snapshot()
	s.Fields = append(s.Fields, layout.Field{ID: "t2", Kind: layout.Text, Name: "合同标题", DocumentID: "d1", Page: 1, Rect: layout.Rect{X: 1, Y: 1, W: 10, H: 10}})
	cols := Columns(s)
	if h := cols[len(cols)-3].Header; h != "合同标题（业务字段）" {
		t.Fatalf("clashing field's header %q", h)
	}
}

func TestCheckRowsValid(t *testing.T) {
	r := good(1)
	r[0] = "租赁合同 A-1"
	r[12] = "2027-12-31"
	got, err := CheckRows(snapshot(), sheet(r), now)
	if err != nil || len(got.Errors) > 0 || got.Total != 1 || len(got.Valid) != 1 {
		t.Fatalf("check: %v %+v", err, got)
	}
	exp := time.Date(2027, 12, 31, 23, 59, 59, 0, contract.Shanghai)
	want := Row{Line: 2, Title: "租赁合同 A-1",
		Parties: map[string]contract.PartyInput{
			"rp": {Name: "林某某", Contact: "13512340001"},
			"re": {Name: "井然", Contact: "boss@example.com", EnterpriseName: "杭州井然食品贸易有限公司"},
			"rg": {Name: "王五", Contact: "wang1@example.com"},
		},
		Values:          map[string]string{"rent": "3500", "pay": "月付", "from": "2026-12-01"},
		SigningDeadline: time.Date(2026, 12, 31, 23, 59, 59, 0, contract.Shanghai), ExpiresAt: &exp}
	g := got.Valid[0]
	if !g.SigningDeadline.Equal(want.SigningDeadline) || !g.ExpiresAt.Equal(exp) {
		t.Fatalf("deadline %s expiry %s", g.SigningDeadline, g.ExpiresAt)
	}
	g.SigningDeadline, g.ExpiresAt = want.SigningDeadline, want.ExpiresAt
	if !reflect.DeepEqual(g, want) {
		t.Fatalf("row\n got %+v\nwant %+v", g, want)
	}
}

func TestCheckRowsErrors(t *testing.T) {
	rows := [][]string{
		good(1),                   // line 2
		with(good(2), "乙方姓名", ""), // 3
		with(good(3), "乙方手机号/邮箱", "1234567"),         // 4
		with(good(4), "甲方手机号/邮箱", "boss@"),           // 5
		with(good(5), "付款方式", "季付"),                  // 6
		with(good(6), "签署截止日期", "2026-11-29"),        // 7
		with(good(7), "签署截止日期", "2028-01-01"),        // 8
		with(good(8), "签署截止日期", "明天"),                // 9
		with(good(9), "合同到期日期", "2026-12-30"),        // 10
		with(good(10), "月租金", "三千"),                  // 11
		good(1),                                      // 12: line 2 again
		with(good(12), "丙方手机号/邮箱", "13512340012"),    // 13: 丙方 is 乙方
		with(good(13), "甲方企业名称", ""),                 // 14
		with(good(14), "签署截止日期", "2026-11-30 09:00"), // 15: an hour ago
		with(good(15), "合同到期日期", "2025-01-01"),       // 16
	}
	rows[1][7] = "" // line 3 also lacks 丙方's contact
	got, err := CheckRows(snapshot(), sheet(rows...), now)
	if err != nil {
		t.Fatal(err)
	}
	want := []RowError{
		{Line: 3, Column: "乙方姓名", Code: "missing_value"},
		{Line: 3, Column: "丙方手机号/邮箱", Code: "missing_value"},
		{Line: 4, Column: "乙方手机号/邮箱", Code: "invalid_contact"},
		{Line: 5, Column: "甲方手机号/邮箱", Code: "invalid_contact"},
		{Line: 6, Column: "付款方式", Code: "unknown_choice"},
		{Line: 7, Column: "签署截止日期", Code: "deadline_passed"},
		{Line: 8, Column: "签署截止日期", Code: "deadline_too_far"},
		{Line: 9, Column: "签署截止日期", Code: "invalid_date"},
		{Line: 10, Column: "合同到期日期", Code: "expiry_before_deadline"},
		{Line: 11, Column: "月租金", Code: "invalid_number"},
		{Line: 12, Column: "", Code: "duplicate_row"},
		{Line: 13, Column: "丙方手机号/邮箱", Code: "duplicate_party"},
		{Line: 14, Column: "甲方企业名称", Code: "missing_value"},
		{Line: 15, Column: "签署截止日期", Code: "deadline_passed"},
		{Line: 16, Column: "合同到期日期", Code: "expiry_passed"},
	}
	var gotShort []RowError
	for _, e := range got.Errors {
		if e.Message == "" {
			t.Errorf("error without message: %+v", e)
		}
		gotShort = append(gotShort, RowError{Line: e.Line, Column: e.Column, Code: e.Code})
	}
	if !reflect.DeepEqual(gotShort, want) {
		t.Fatalf("errors\n got %+v\nwant %+v", gotShort, want)
	}
	if got.Total != len(rows) || len(got.Valid) != 1 || got.Invalid() != len(rows)-1 {
		t.Fatalf("total %d valid %d invalid %d", got.Total, len(got.Valid), got.Invalid())
	}
	if msg := got.ByLine()[12]; !strings.Contains(msg, "row 2") {
		t.Fatalf("duplicate's message %q does not name the row it repeats", msg)
	}
	if msg := got.ByLine()[3]; !strings.Contains(msg, "乙方姓名") || !strings.Contains(msg, "丙方手机号/邮箱") {
		t.Fatalf("line 3's message %q does not name both cells", msg)
	}
}

func TestCheckRowsSheetShape(t *testing.T) {
	hints := make([]string, len(header))
	for i, c := range Columns(snapshot()) {
		hints[i] = c.Hint
	}
	t.Run("hint row skipped", func(t *testing.T) {
		got, err := CheckRows(snapshot(), sheet(hints, good(1)), now)
		if err != nil || got.Total != 1 || len(got.Valid) != 1 || got.Valid[0].Line != 3 {
			t.Fatalf("%v %+v", err, got)
		}
	})
	t.Run("reordered columns, optional ones left out, BOM", func(t *testing.T) {
		order := []int{11, 7, 6, 5, 4, 3, 2, 1, 8} // no title, choice, date field or expiry
		var rows []SheetRow
		for line, r := range [][]string{header, good(1), good(2)} {
			var cells []string
			for _, j := range order {
				cells = append(cells, r[j])
			}
			rows = append(rows, SheetRow{Line: line + 1, Cells: cells})
		}
		rows[0].Cells[0] = "\ufeff" + rows[0].Cells[0]
		rows[0].Cells[1] = "*" + rows[0].Cells[1]
		got, err := CheckRows(snapshot(), rows, now)
		if err != nil || len(got.Errors) > 0 || len(got.Valid) != 2 {
			t.Fatalf("%v %+v", err, got)
		}
		if v := got.Valid[1]; v.Parties["rp"].Contact != "13512340002" || v.Values["rent"] != "3500" || v.Values["pay"] != "" {
			t.Fatalf("row %+v", v)
		}
	})
	cases := []struct {
		name string
		rows []SheetRow
		code string
		says []string
	}{
		{"nothing", nil, "empty_sheet", nil},
		{"header only", sheet(), "empty_sheet", nil},
		{"header and hints only", sheet(hints), "empty_sheet", nil},
		{"unknown and missing columns", []SheetRow{{Line: 1, Cells: append(append([]string{}, header[2:]...), "备注")}, {Line: 2, Cells: good(1)}},
			"sheet_header_mismatch", []string{"乙方姓名", "备注"}},
		{"a column twice", []SheetRow{{Line: 1, Cells: append(append([]string{}, header...), "月租金")}}, "sheet_header_mismatch", []string{"月租金"}},
		{"too many rows", append(sheet(), slices.Repeat([]SheetRow{{Cells: []string{"x"}}}, MaxRows+1)...), "too_many_rows", []string{"50000"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := CheckRows(snapshot(), c.rows, now)
			if code(err) != c.code {
				t.Fatalf("error %v, want %s", err, c.code)
			}
			for _, s := range c.says {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("%v does not say %s", err, s)
				}
			}
		})
	}
}

func TestParseWhen(t *testing.T) {
	eod := time.Date(2026, 12, 31, 23, 59, 59, 0, contract.Shanghai)
	for in, want := range map[string]time.Time{
		"2026-12-31": eod, "2026/12/31": eod, "2026年12月31日": eod, "46387": eod, "20261231": eod,
		"2026-12-31 18:00": time.Date(2026, 12, 31, 18, 0, 0, 0, contract.Shanghai),
	} {
		if got, ok := parseWhen(in); !ok || !got.Equal(want) {
			t.Errorf("%s: %s %v, want %s", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "12/31/2026", "2026-13-01", "tomorrow", "123456"} {
		if _, ok := parseWhen(in); ok {
			t.Errorf("%q parsed", in)
		}
	}
}

func BenchmarkCheckRows10000(b *testing.B) {
	rows := []SheetRow{{Line: 1, Cells: header}}
	for i := range 10_000 {
		rows = append(rows, SheetRow{Line: i + 2, Cells: good(i)})
	}
	b.ResetTimer()
	for range b.N {
		got, err := CheckRows(snapshot(), rows, now)
		if err != nil || len(got.Valid) != 10_000 {
			b.Fatalf("%v: %d valid, %+v", err, len(got.Valid), got.Errors[:1])
		}
	}
}

// FuzzCheckRows: whatever the cells, the check neither panics nor loses a
// row: every data row is valid or has an error on its own line.
func FuzzCheckRows(f *testing.F) {
	f.Add(strings.Join(good(1), "\t") + "\n" + strings.Join(with(good(2), "月租金", "x"), "\t"))
	f.Add("\t\t\n\x00\t2026-12-31\n林\t1351234\t" + strings.Repeat("合", 200))
	f.Fuzz(func(t *testing.T, data string) {
		rows := []SheetRow{{Line: 1, Cells: header}}
		for i, line := range strings.Split(data, "\n") {
			rows = append(rows, SheetRow{Line: i + 2, Cells: strings.Split(line, "\t")})
		}
		got, err := CheckRows(snapshot(), rows, now)
		if err != nil {
			return
		}
		bad := map[int]bool{}
		for _, e := range got.Errors {
			if e.Line < 2 || e.Line > len(rows) || e.Code == "" || e.Message == "" {
				t.Fatalf("error %+v", e)
			}
			bad[e.Line] = true
		}
		if len(got.Valid)+len(bad) != got.Total {
			t.Fatalf("%d valid + %d bad != %d", len(got.Valid), len(bad), got.Total)
		}
		for _, v := range got.Valid {
			if bad[v.Line] || v.SigningDeadline.IsZero() {
				t.Fatalf("valid row %+v", v)
			}
		}
	})
}

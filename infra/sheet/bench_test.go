package sheet

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
	"time"
)

var benchCols = []Column{
	{Header: "合同名称", Hint: "填写合同名称", Kind: Text, Required: true},
	{Header: "甲方-企业名称", Hint: "填写甲方-企业名称", Kind: Text},
	{Header: "甲方-经办人", Hint: "填写甲方-经办人", Kind: Text},
	{Header: "甲方-手机号", Hint: "填写甲方-手机号", Kind: Phone, Required: true},
	{Header: "乙方-姓名", Hint: "填写乙方-姓名", Kind: Text, Required: true},
	{Header: "乙方-联系方式", Hint: "填写乙方-联系方式", Kind: Contact, Required: true},
	{Header: "乙方-身份证号", Hint: "填写乙方-身份证号", Kind: Text},
	{Header: "签署截止日期", Hint: "填写签署截止日期", Kind: Date},
	{Header: "合同到期日", Hint: "填写合同到期日", Kind: Date},
	{Header: "金额", Hint: "填写金额", Kind: Number},
	{Header: "签署方式", Hint: "填写签署方式", Kind: Choice, Choices: []string{"短信验证", "刷脸"}},
	{Header: "备注", Hint: "填写备注", Kind: Text},
}

// sampleRows returns an xlsx of n example rows written by WriteSample:
// shared strings, dates typed as dates, phones as text, numbers.
func sampleRows(tb testing.TB, n int) []byte {
	tb.Helper()
	rows := make([][]string, n)
	for i := range rows {
		day := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i%400)
		rows[i] = []string{
			fmt.Sprintf("房屋租赁合同-%05d", i), "杭州某某科技有限公司", "赵经办",
			fmt.Sprintf("138%08d", i), fmt.Sprintf("张%d", i%97), fmt.Sprintf("user%d@example.com", i),
			fmt.Sprintf("33010619900101%04d", i%10000), day.Format("2006-01-02"), day.AddDate(1, 0, 0).Format("2006-01-02"),
			fmt.Sprintf("%d.%02d", 1000+i, i%100), "刷脸", "第一期，按月付款",
		}
	}
	var buf bytes.Buffer
	if err := WriteSample(&buf, "批量发送", benchCols, rows); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

var (
	bench10000     []byte
	bench10000Once sync.Once
)

// BenchmarkRead10000 reads a 10,000-row, 12-column sheet.
func BenchmarkRead10000(b *testing.B) {
	bench10000Once.Do(func() { bench10000 = sampleRows(b, 10_000) })
	b.SetBytes(int64(len(bench10000)))
	b.ReportAllocs()
	for b.Loop() {
		tb, err := Read(bytes.NewReader(bench10000), "bench.xlsx", Limits{})
		if err != nil {
			b.Fatal(err)
		}
		if len(tb.Rows) != 10_002 || tb.Rows[2].Cells[3] != "13800000000" || tb.Rows[2].Cells[7] != "2026-12-01" {
			b.Fatalf("%d rows, %q", len(tb.Rows), tb.Rows[2].Cells)
		}
	}
}

// BenchmarkReadCSV10000 reads the same rows as CSV.
func BenchmarkReadCSV10000(b *testing.B) {
	var buf bytes.Buffer
	w := NewCSVWriter(&buf)
	for i := range 10_000 {
		w.Write([]string{fmt.Sprintf("房屋租赁合同-%05d", i), "杭州某某科技有限公司", "赵经办", fmt.Sprintf("138%08d", i),
			"张三", "user@example.com", "330106199001011234", "2026-12-31", "2027-12-31", "1000.5", "刷脸", "第一期，按月付款"})
	}
	w.Close()
	b.SetBytes(int64(buf.Len()))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Read(bytes.NewReader(buf.Bytes()), "bench.csv", Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWriteErrors50000 writes the error copy of a full batch.
func BenchmarkWriteErrors50000(b *testing.B) {
	t := &Table{Format: FormatXLSX}
	errs := map[int]string{}
	for i := range 50_002 {
		t.Rows = append(t.Rows, Row{Line: i + 1, Cells: []string{fmt.Sprintf("合同-%05d", i), fmt.Sprintf("138%08d", i),
			"张三", "user@example.com", "2026-12-31", "1000.5", "刷脸", "第一期，按月付款"}})
		if i%10 == 3 {
			errs[i+1] = fmt.Sprintf("第%d行：手机号应为11位", i+1)
		}
	}
	b.ReportAllocs()
	var size int
	for b.Loop() {
		var buf bytes.Buffer
		if err := WriteErrors(&buf, t, errs); err != nil {
			b.Fatal(err)
		}
		size = buf.Len()
	}
	b.ReportMetric(float64(size)/(1<<20), "MB-file")
}

// Command gensample writes a batch-sending sample with WriteSample to the
// file named by its argument; testdata/README.md tells which fixture comes
// from it and how.
package main

import (
	"log"
	"os"

	"signet/infra/sheet"
)

func main() {
	if len(os.Args) != 2 {
		log.Fatal("usage: gensample out.xlsx")
	}
	cols := []sheet.Column{
		{Header: "甲方-姓名", Hint: "必填", Kind: sheet.Text, Required: true},
		{Header: "甲方-手机号", Hint: "必填；11位手机号", Kind: sheet.Phone, Required: true},
		{Header: "乙方-联系方式", Hint: "手机号或邮箱", Kind: sheet.Contact},
		{Header: "签署截止日期", Hint: "如 2026-12-31", Kind: sheet.Date},
		{Header: "金额", Hint: "数字", Kind: sheet.Number},
		{Header: "签署方式", Hint: "从列表中选择", Kind: sheet.Choice, Choices: []string{"短信验证", "刷脸", "签署密码"}},
	}
	examples := [][]string{
		{"张三", "13800138000", "lisi@example.com", "2026-12-31", "1234.5", "刷脸"},
		{"王五", "13900139000", "13700137000", "2027-01-05", "88", "短信验证"},
	}
	f, err := os.Create(os.Args[1])
	if err != nil {
		log.Fatal(err)
	}
	if err := sheet.WriteSample(f, "批量发送", cols, examples); err != nil {
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
}

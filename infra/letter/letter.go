// Package letter renders the enterprise service authorization letter
// (企业服务授权书) that an enterprise prints, stamps and uploads during
// real-name verification. The PDF needs no font file at build or run time.
package letter

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"signet/domain/fault"
	"signet/infra/pdftext"
)

// Operator is the company that runs the platform; the letter's guarantees
// are addressed to it.
const Operator = "签网科技（演示）有限公司"

// Letter is everything printed on one authorization letter. Every field is
// required.
type Letter struct {
	Reference string // letter reference number, printed in the header and footer

	EnterpriseName string // 授权单位名称
	LegalRepName   string // 法定代表人姓名
	USCC           string // 统一社会信用代码/注册号
	Account        string // the enterprise's registered login on the platform

	AgentName     string // 被授权人姓名
	AgentPhone    string
	AgentIDNumber string // 身份证号码, in full: the letter is the enterprise's own document

	Platform    string // the platform's name as printed, e.g. "signet"
	GeneratedAt time.Time
}

// Limits keep the letter at most two pages long.
const (
	maxField     = 100
	maxPlatform  = 16
	maxReference = 32
)

// chinaTime prints times as the letter's readers read them without needing
// the tz database on the machine.
var chinaTime = time.FixedZone("UTC+8", 8*3600)

// Render returns the letter as a PDF. Equal letters give identical bytes.
func Render(l Letter) ([]byte, error) {
	if err := l.normalize(); err != nil {
		return nil, err
	}
	m := &composer{}
	m.compose(l)
	return pdftext.Build(m.pages, l.Platform+"企业服务授权书", l.GeneratedAt.In(chinaTime)), nil
}

func (l *Letter) normalize() error {
	fields := []struct {
		name, label string
		v           *string
		max         int
	}{
		{"reference", "letter reference", &l.Reference, maxReference},
		{"enterprise_name", "enterprise name", &l.EnterpriseName, maxField},
		{"legal_rep_name", "legal representative's name", &l.LegalRepName, maxField},
		{"uscc", "unified social credit code", &l.USCC, maxField},
		{"account", "platform account", &l.Account, maxField},
		{"agent_name", "authorised person's name", &l.AgentName, maxField},
		{"agent_phone", "authorised person's phone number", &l.AgentPhone, maxField},
		{"agent_id_number", "authorised person's ID number", &l.AgentIDNumber, maxField},
		{"platform", "platform name", &l.Platform, maxPlatform},
	}
	for _, f := range fields {
		v := strings.TrimSpace(*f.v)
		if v == "" {
			return fault.Invalidf(f.name, "letter_field_required", "The authorization letter needs the %s; fill it in and render the letter again.", f.label)
		}
		if n := utf8.RuneCountInString(v); n > f.max {
			return fault.Invalidf(f.name, "letter_field_too_long", "The %s must be at most %d characters; it has %d.", f.label, f.max, n)
		}
		for _, r := range v {
			if !unicode.Is(pdftext.Printable, r) {
				return fault.Invalidf(f.name, "letter_field_unprintable", "The %s contains %q (U+%04X), which the letter's Chinese font cannot print; use the character's standard form.", f.label, r, r)
			}
		}
		*f.v = v
	}
	if l.GeneratedAt.IsZero() {
		return fault.Invalidf("generated_at", "letter_field_required", "The authorization letter needs the time it was generated.")
	}
	return nil
}

const (
	margin   = 56.0
	top      = pdftext.PageH - 60
	bottom   = 76.0 // the footer lives below
	body     = 10.5
	leading  = 17.0
	textW    = pdftext.PageW - 2*margin
	indent2  = 2 * body // Chinese paragraphs open with two full-width spaces
	cellPad  = 5.0
	cellLead = 15.0
)

// composer flows blocks down the pages.
type composer struct {
	pages []*pdftext.Canvas
	c     *pdftext.Canvas
	y     float64
}

// need starts a new page unless h points fit above the footer.
func (m *composer) need(h float64) {
	if m.c == nil || m.y-h < bottom {
		m.c = &pdftext.Canvas{}
		m.pages = append(m.pages, m.c)
		m.y = top
	}
}

func (m *composer) para(size, lead, indent float64, runs ...pdftext.Run) {
	for i, ln := range pdftext.Wrap(runs, size, textW, indent) {
		m.need(lead)
		x := margin
		if i == 0 {
			x += indent
		}
		m.c.Text(x, m.y-size, size, ln)
		m.y -= lead
	}
}

func (m *composer) compose(l Letter) {
	p := l.Platform
	m.need(0)
	title := p + "企业服务授权书"
	m.c.Str((pdftext.PageW-pdftext.Width(title, 20))/2, m.y-20, 20, title)
	m.y -= 34
	ref := "编号：" + l.Reference
	m.c.Str(pdftext.PageW-margin-pdftext.Width(ref, 9), m.y-9, 9, ref)
	m.y -= 22

	m.para(body, leading, indent2, pdftext.Plain("我单位"), pdftext.Run{Text: " " + l.EnterpriseName + " ", Style: pdftext.Underline},
		pdftext.Plain("将申请在"+Operator+"运营并维护的"+p+"电子签约云平台（以下简称“"+p+"”）上开通企业服务。并授权如下人士（以下简称“被授权人”）为服务申请人、服务联系人及最高权限服务管理人："))
	m.y -= 6
	m.table([][3]string{
		{"√ 被授权人", "*姓名：", l.AgentName},
		{"", "电话：", l.AgentPhone},
		{"", "*身份证号码：", l.AgentIDNumber},
		{"√ 授权单位", "*授权单位名称：", l.EnterpriseName},
		{"", "*法定代表人姓名：", l.LegalRepName},
		{"", "*统一社会信用代码/注册号：", l.USCC},
		{"", "*" + p + "注册账号：", l.Account},
	})
	m.para(9, 16, 0, pdftext.Plain("*为必填项。"))
	m.y -= 4

	m.para(body, leading, indent2, pdftext.Plain("我单位授权以上人士代表我单位在"+p+"开通电子签约及相关的企业服务，并授权其代表我单位"),
		pdftext.Run{Text: "使用及管理", Style: pdftext.Bold}, pdftext.Plain("在"+p+"开通的账号，并办理所有相关手续，"),
		pdftext.Run{Text: "该被授权人拥有我单位账号最高管理员的权限，包括但不限于可代表我单位在" + p + "办理我单位实名认证、申请数字证书、利用我单位账号签署相关法律文件、授权第三人利用我单位账号签署相关法律文件、编辑设置我单位印章样式等权利", Style: pdftext.Bold},
		pdftext.Plain("。此授权书有效期为：自本授权书签字盖章之日起至如下任何一种情况之一发生时止："))
	for _, c := range []string{
		"一：授权单位主动提出终止" + p + "企业服务；",
		"二：企业与" + p + "的服务合同（协议）终止；",
		"三：授权单位（自行或被第三方）申请破产、重整或清算；",
		"四：授权单位书面撤销或终止授权。",
	} {
		m.para(body, leading, indent2, pdftext.Plain(c))
	}
	m.y -= 4
	m.para(body, leading, indent2, pdftext.Plain("我单位保证以上情况均会以书面形式向"+Operator+"发出通知，保证会采取一切可靠措施妥善保管好账户、密码等信息，并按照国家有关法律法规合法使用，否则我单位愿承担所有相应的法律责任。"))
	m.para(body, leading, indent2, pdftext.Plain("我单位保证此授权书中所有信息真实有效，并同意"+Operator+"通过相关渠道查询、辨别身份信息真伪，如有不实，愿承担由此带来的所有法律责任。我单位所提供的证明文件仅用于申请"+p+"企业服务使用，不得用于其他用途。"))
	m.para(body, leading, indent2, pdftext.Plain("请随本授权书一起提交已经年检的营业执照副本复印件（如果是非通过工商登记的其他类型单位，则提交组织机构代码证复印件。复印件请盖企业公章并注明申请"+p+"企业服务使用，以免为他人冒用。）"))
	m.stamp()
	m.footers(l)
}

// table draws the field grid: group marker, label, value; the group cell
// spans its rows.
func (m *composer) table(rows [][3]string) {
	cols := [4]float64{margin, margin + 84, margin + 234, pdftext.PageW - margin}
	cells := make([][2][][]pdftext.Glyph, len(rows))
	heights := make([]float64, len(rows))
	total := 0.0
	for i, r := range rows {
		for k := range 2 {
			cells[i][k] = pdftext.Wrap([]pdftext.Run{pdftext.Plain(r[k+1])}, body, cols[k+2]-cols[k+1]-2*cellPad, 0)
		}
		n := max(len(cells[i][0]), len(cells[i][1]))
		heights[i] = 2*cellPad + body + float64(n-1)*cellLead + 3
		total += heights[i]
	}
	m.need(total)
	c, y := m.c, m.y
	c.Line(cols[0], y, cols[3], y, 0.8)
	for i, r := range rows {
		if r[0] != "" {
			span := heights[i]
			for j := i + 1; j < len(rows) && rows[j][0] == ""; j++ {
				span += heights[j]
			}
			c.Str(cols[0]+cellPad, y-span/2-body/2+2, body, r[0])
		}
		for k, lines := range cells[i] {
			for n, ln := range lines {
				c.Text(cols[k+1]+cellPad, y-cellPad-body-float64(n)*cellLead, body, ln)
			}
		}
		y -= heights[i]
		from := cols[1]
		if i == len(rows)-1 || rows[i+1][0] != "" {
			from = cols[0]
		}
		c.Line(from, y, cols[3], y, 0.6)
	}
	for k, x := range cols {
		w := 0.6
		if k == 0 || k == 3 {
			w = 0.8
		}
		c.Line(x, m.y, x, y, w)
	}
	m.y = y - 6
}

// stamp leaves room for the company seal and a date line to fill in by hand
// when stamping.
func (m *composer) stamp() {
	const x, h = pdftext.PageW/2 + 20, 64.0
	w := pdftext.PageW - margin - x
	m.y -= 6
	m.need(body + 6 + h + 8 + body)
	m.c.Str(x, m.y-body, body, "*授权单位盖章：")
	m.y -= body + 6
	m.c.F("[3 2] 0 d 0.6 w %s %s %s %s re S [] 0 d\n", pdftext.Num(x), pdftext.Num(m.y-h), pdftext.Num(w), pdftext.Num(h))
	hint := "（请在此处加盖企业公章）"
	m.c.F("0.6 g\n")
	m.c.Str(x+(w-pdftext.Width(hint, 8))/2, m.y-h/2-3, 8, hint)
	m.c.F("0 g\n")
	m.y -= h + 8
	m.c.Str(x, m.y-body, body, "日期：________年____月____日")
	m.y -= body
}

func (m *composer) footers(l Letter) {
	at := l.GeneratedAt.In(chinaTime).Format("2006-01-02 15:04:05") + "（UTC+8）"
	for i, c := range m.pages {
		c.Line(margin, 56, pdftext.PageW-margin, 56, 0.4)
		c.F("0.3 g\n")
		c.Str(margin, 44, 8, "授权书编号："+l.Reference)
		c.Str(margin, 32, 8, "生成时间："+at)
		pg := fmt.Sprintf("第 %d 页，共 %d 页", i+1, len(m.pages))
		c.Str(pdftext.PageW-margin-pdftext.Width(pg, 8), 32, 8, pg)
		c.F("0 g\n")
	}
}

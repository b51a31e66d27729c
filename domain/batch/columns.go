package batch

import (
	"fmt"
	"strings"

	"signet/domain/layout"
	"signet/domain/template"
)

// Kind is what a column holds; the sheet writer turns it into Excel data
// validation where Excel has one.
type Kind string

const (
	KindText     Kind = "text"
	KindContact  Kind = "contact" // a mobile number or an email address
	KindNumber   Kind = "number"
	KindDate     Kind = "date"
	KindDateTime Kind = "datetime" // a date, or a date and a time
	KindChoice   Kind = "choice"
)

// Target is what a column fills in a row's contract.
type Target int

const (
	TargetTitle Target = iota + 1
	TargetPartyName
	TargetPartyContact
	TargetPartyEnterprise
	TargetValue
	TargetDeadline
	TargetExpiry
)

// Column is one column of a template's batch sheet.
type Column struct {
	Header   string // Chinese, as the sample's header row has it
	Hint     string // the sample's second row
	Kind     Kind
	Choices  []string
	Required bool
	Target   Target
	RoleID   string // party columns
	FieldID  string // business field columns
}

// Fixed column headers.
const (
	HeaderTitle    = "合同标题"
	HeaderDeadline = "签署截止日期"
	HeaderExpiry   = "合同到期日期"
)

// Columns are a template's batch sheet columns: the title, per role its
// party's name, contact and (enterprise roles) enterprise name, one per
// business field, then the signing deadline and the contract's expiry.
func Columns(s template.Snapshot) []Column {
	cols := []Column{{Header: HeaderTitle, Kind: KindText, Target: TargetTitle,
		Hint: fmt.Sprintf("选填，默认为模板名称「%s」/ optional, default: the template's name", s.Name)}}
	for _, r := range s.Roles {
		name := Column{Header: r.Name + "姓名", Kind: KindText, Required: true, Target: TargetPartyName, RoleID: r.ID,
			Hint: "必填，签署人真实姓名 / required: the signer's real name"}
		contact := Column{Header: r.Name + "手机号/邮箱", Kind: KindContact, Required: true, Target: TargetPartyContact, RoleID: r.ID,
			Hint: "必填，11位手机号或邮箱 / required: mobile number (11 digits) or email"}
		if r.Kind == layout.Enterprise {
			name.Header, name.Hint = r.Name+"经办人姓名", "必填，企业经办人姓名 / required: the enterprise's contact person"
			cols = append(cols, Column{Header: r.Name + "企业名称", Kind: KindText, Required: true, Target: TargetPartyEnterprise, RoleID: r.ID,
				Hint: "必填，与营业执照一致的企业全称 / required: the registered name"})
		}
		cols = append(cols, name, contact)
	}
	taken := map[string]bool{HeaderDeadline: true, HeaderExpiry: true}
	for _, c := range cols {
		taken[c.Header] = true
	}
	for _, f := range s.Fields {
		if !f.Kind.Business() {
			continue
		}
		c := Column{Header: f.Name, Required: f.Required, Target: TargetValue, FieldID: f.ID}
		if taken[c.Header] {
			c.Header = f.Name + "（业务字段）"
		}
		taken[c.Header] = true
		need := "选填 / optional"
		if f.Required {
			need = "必填 / required"
		}
		switch f.Kind {
		case layout.Number:
			c.Kind, c.Hint = KindNumber, need+"：数字，如 3500 / a number"
		case layout.Date:
			c.Kind, c.Hint = KindDate, need+"：日期，如 2026-12-31 / a date"
		case layout.Choice:
			c.Kind, c.Choices = KindChoice, append([]string(nil), f.Choices...)
			c.Hint = need + "：" + strings.Join(f.Choices, " / ")
		default:
			c.Kind, c.Hint = KindText, fmt.Sprintf("%s：文本，至多%d字 / text", need, layout.MaxValueRunes)
		}
		cols = append(cols, c)
	}
	return append(cols,
		Column{Header: HeaderDeadline, Kind: KindDateTime, Required: true, Target: TargetDeadline,
			Hint: "必填，如 2026-12-31（当天24点截止）或 2026-12-31 18:00，一年内 / required, within a year"},
		Column{Header: HeaderExpiry, Kind: KindDate, Target: TargetExpiry,
			Hint: "选填，晚于签署截止日期 / optional, after the signing deadline"})
}

// Package completion renders the certificate of completion (合同签署完成证明)
// of a contract: who signed, as whom, proven how, from where and when, the
// hashes of the documents as sent and as finally signed, and the positions
// of the contract's events in the log. It is bilingual (Chinese and
// English) and needs no font file (see signet/infra/pdftext).
package completion

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"signet/infra/pdftext"
)

// Certificate is everything printed. The caller fills it from the
// contract's events and passes identifiers masked; Render masks them again.
type Certificate struct {
	Contract    Contract
	Documents   []Document
	Parties     []Party
	Events      []Event
	GeneratedAt time.Time // also the PDF's creation date
}

// Contract is the contract as a whole.
type Contract struct {
	ID               string
	Number           string // 合同编号
	Title            string
	Status           string // "completed", ... (see statusNames)
	SenderName       string // the sending person's verified name
	SenderEnterprise string // the sending enterprise's verified name, if any
	TemplateID       string // "" when sent without a template
	TemplateVersion  uint64
	CreatedAt        time.Time
	SentAt           time.Time
	CompletedAt      time.Time
}

// Document is one document of the contract.
type Document struct {
	ID           string
	Name         string
	Pages        int
	SentSHA256   string // hex SHA-256 frozen when the contract was sent
	SignedSHA256 string // hex SHA-256 of the final signed PDF
}

// Party is one signer and how it signed.
type Party struct {
	Role            string // 甲方, 乙方, ...
	Order           int    // signing order, 1-based; 0 when unordered
	Kind            string // "enterprise" or "person"
	SignerName      string // the signing person's name as verified
	IDNumber        string // the signer's ID number, masked ("330*****23X"); optional
	EnterpriseName  string // enterprise parties
	USCC            string // masked
	Login           string // the signer's login, masked ("138****8000")
	SignerAccountID string
	Willingness     Willingness
	Mark            Mark // the seal or signature used
	SignedAt        time.Time
	ClientIP        string // masked ("203.0.113.*")
	Documents       []DocumentHash
}

// Willingness is how the signer showed they meant to sign (意愿性校验).
type Willingness struct {
	Method     string // "sms_code", "email_code", ... (contract.Willingness.Method)
	Channel    string // "sms" or "email": where a code went; "" when not recorded
	Target     string // where the code went, masked ("138****8000")
	VerifiedAt time.Time
}

// Mark is the seal (enterprises) or signature (persons) applied.
type Mark struct {
	Kind        string // "seal", "typed_signature" ("typed") or "image_signature" ("image")
	Name        string // the seal's name, or the typed text
	ImageSHA256 string // hex SHA-256 of the image stamped
}

// DocumentHash is a document's hash as the party signed it.
type DocumentHash struct {
	DocumentID string
	SHA256     string
}

// Event is one event of the contract's stream.
type Event struct {
	Position uint64 // global position in the event log
	Version  uint64 // version in the contract's stream
	Type     string
	At       time.Time
	Hash     string // hex hash-chain hash
}

// Render returns the certificate as a PDF. Equal certificates give
// identical bytes.
func Render(c Certificate) ([]byte, error) {
	if strings.TrimSpace(c.Contract.ID) == "" {
		return nil, errors.New("certificate of completion: no contract ID")
	}
	if c.GeneratedAt.IsZero() {
		return nil, errors.New("certificate of completion: no generation time")
	}
	m := &composer{}
	m.compose(c)
	m.footers(c)
	return pdftext.Build(m.pages, "合同签署完成证明 Certificate of Completion "+printable(c.Contract.Number), c.GeneratedAt.In(shanghai)), nil
}

var shanghai = time.FixedZone("Asia/Shanghai", 8*3600)

// clean makes free text printable and scrubs identifiers from it.
func clean(s string) string { return scrub(printable(s)) }

// printable makes s printable with the font: controls become spaces and a
// character the font lacks is written as its code point ("<U+1F600>"), so
// nothing vanishes from the text layer.
func printable(s string) string {
	var b strings.Builder
	for len(s) > 0 {
		r, n := utf8.DecodeRuneInString(s)
		s = s[n:]
		switch {
		case r == utf8.RuneError && n == 1:
			b.WriteString("<U+FFFD>")
		case unicode.IsControl(r) || unicode.IsSpace(r):
			b.WriteByte(' ')
		case unicode.Is(pdftext.Printable, r):
			b.WriteRune(r)
		default:
			fmt.Fprintf(&b, "<U+%04X>", r)
		}
	}
	return strings.TrimSpace(b.String())
}

// when prints an instant in Beijing time and in UTC.
func when(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.In(shanghai).Format("2006-01-02 15:04:05") + " (Asia/Shanghai, UTC+8)  " +
		t.UTC().Format("2006-01-02 15:04:05") + " UTC"
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

var statusNames = map[string]string{
	"completed":         "已完成 Completed",
	"sealing":           "签章中 Sealing",
	"signing":           "签署中 Signing",
	"rejected":          "已拒签 Rejected",
	"revoked":           "已撤回 Revoked",
	"expired":           "已过期 Expired",
	"approval_rejected": "审批驳回 Approval rejected",
	"pending_approval":  "待审批 Pending approval",
}

var kindNames = map[string]string{
	"enterprise": "企业 Enterprise",
	"person":     "个人 Person",
}

var methodNames = map[string][2]string{
	"sms_code":   {"短信验证码", "SMS code"},
	"email_code": {"邮箱验证码", "email code"},
	"face":       {"刷脸认证", "face scan"},
	"password":   {"签署密码", "signing password"},
}

// markNames: the signature kinds are also accepted as the contract events
// name them ("typed", "image").
var markNames = map[string]string{
	"seal":            "印章 Seal",
	"typed_signature": "签名（键入姓名） Typed signature",
	"typed":           "签名（键入姓名） Typed signature",
	"image_signature": "签名（手写图片） Handwritten signature image",
	"image":           "签名（手写图片） Handwritten signature image",
}

var eventNames = map[string]string{
	"ContractCreated":              "创建合同",
	"ContractSubmittedForApproval": "提交审批",
	"ContractApproved":             "审批通过",
	"ContractApprovalRejected":     "审批驳回",
	"ContractSent":                 "发送合同",
	"PartySigned":                  "签约方签署",
	"PartyRejected":                "签约方拒签",
	"ContractRevoked":              "撤回合同",
	"ContractExpired":              "合同过期",
	"ContractSealingFailed":        "签章失败",
	"ContractSealed":               "文件签章完成",
	"ContractCompleted":            "签署完成",
}

func named(names map[string]string, code string) string {
	if n, ok := names[code]; ok {
		return n
	}
	return orDash(printable(code))
}

func willingness(w Willingness) string {
	method := w.Method
	if method == "sms_code" && w.Channel == "email" {
		method = "email_code" // the code went by email
	}
	n, ok := methodNames[method]
	if !ok {
		n = [2]string{printable(w.Method), printable(w.Method)}
	}
	zh, en := n[0], n[1]
	if t := maskLogin(printable(w.Target)); t != "" {
		zh += "，发送至 " + t
		en += " sent to " + t
	}
	if !w.VerifiedAt.IsZero() {
		zh += "，验证于 " + w.VerifiedAt.In(shanghai).Format("2006-01-02 15:04:05") + " (UTC+8)"
		en += ", verified " + w.VerifiedAt.UTC().Format("2006-01-02 15:04:05") + " UTC"
	}
	return zh + "。 " + en + "."
}

func (c Certificate) documentName(id string) string {
	for _, d := range c.Documents {
		if d.ID == id {
			return clean(d.Name)
		}
	}
	return printable(id)
}

func (m *composer) compose(c Certificate) {
	k := c.Contract
	m.title()
	m.heading("合同信息", "Contract", 3*lead)
	tpl := "—"
	if k.TemplateID != "" {
		tpl = fmt.Sprintf("%s（第 %d 版 version %d）", printable(k.TemplateID), k.TemplateVersion, k.TemplateVersion)
	}
	m.kv([]kv{
		{"合同名称", "Title", orDash(clean(k.Title))},
		{"合同编号", "Contract number", orDash(printable(k.Number))},
		{"合同 ID", "Contract ID", printable(k.ID)},
		{"合同状态", "Status", named(statusNames, k.Status)},
		{"发件人", "Sender", orDash(clean(k.SenderName))},
		{"发件企业", "Sending enterprise", orDash(clean(k.SenderEnterprise))},
		{"模板", "Template", tpl},
		{"创建时间", "Created", when(k.CreatedAt)},
		{"发送时间", "Sent", when(k.SentAt)},
		{"完成时间", "Completed", when(k.CompletedAt)},
	})

	m.heading("签署文件", "Documents", 3*lead)
	for i, d := range c.Documents {
		m.kv([]kv{
			{fmt.Sprintf("文件 %d", i+1), fmt.Sprintf("Document %d", i+1), orDash(clean(d.Name))},
			{"文件 ID", "Document ID", orDash(printable(d.ID))},
			{"页数", "Pages", fmt.Sprint(d.Pages)},
			{"发送时 SHA-256", "SHA-256 as sent", orDash(printable(d.SentSHA256))},
			{"签署后 SHA-256", "SHA-256 of the signed PDF", orDash(printable(d.SignedSHA256))},
		})
	}

	m.heading("签约方", "Parties", 6*lead)
	for i, p := range c.Parties {
		title := fmt.Sprintf("签约方 %d：%s  Party %d: %s", i+1, orDash(clean(p.Role)), i+1, orDash(clean(p.Role)))
		if p.Order > 0 {
			title += fmt.Sprintf("（签署顺序 %d, signing order %d）", p.Order, p.Order)
		}
		m.subheading(title)
		rows := []kv{{"类型", "Kind", named(kindNames, p.Kind)}}
		if p.EnterpriseName != "" || p.Kind == "enterprise" {
			rows = append(rows,
				kv{"企业名称（已认证）", "Enterprise (verified)", orDash(clean(p.EnterpriseName))},
				kv{"统一社会信用代码", "USCC", orDash(maskUSCC(printable(p.USCC)))})
		}
		rows = append(rows, kv{"签署人（实名）", "Signer (verified name)", orDash(clean(p.SignerName))})
		if p.IDNumber != "" {
			rows = append(rows, kv{"身份证号", "ID number", maskIDNumber(printable(p.IDNumber))})
		}
		mark := named(markNames, p.Mark.Kind)
		if n := clean(p.Mark.Name); n != "" {
			mark += "：" + n
		}
		if p.Mark.ImageSHA256 != "" {
			mark += "；图像 SHA-256 image: " + printable(p.Mark.ImageSHA256)
		}
		var hashes []string
		for _, h := range p.Documents {
			hashes = append(hashes, c.documentName(h.DocumentID)+": "+printable(h.SHA256))
		}
		rows = append(rows,
			kv{"登录账号", "Login", orDash(maskLogin(printable(p.Login)))},
			kv{"签署账号 ID", "Signer account", orDash(printable(p.SignerAccountID))},
			kv{"意愿认证", "Willingness check", willingness(p.Willingness)},
			kv{"印章/签名", "Seal or signature", mark},
			kv{"签署时间", "Signed at", when(p.SignedAt)},
			kv{"签署 IP", "Client IP", orDash(maskIP(printable(p.ClientIP)))},
			kv{"签署时文件哈希", "Document SHA-256 as signed", orDash(strings.Join(hashes, "\n"))},
		)
		m.kv(rows)
	}

	m.heading("事件记录", "Event log", 2*(size+3+small+2*pad)+lead)
	m.events(c.Events)

	m.heading("说明", "Notes", 3*lead)
	m.para("本证明由 signet 根据该合同的事件记录生成。每个事件按顺序以 SHA-256 哈希链相连，并记入签名的 Merkle 日志；“位置”是事件在全局日志中的位置。完整的事件、哈希、包含证明和已签署文件见该合同的证据包，可用 signet evidence verify 离线核验。事件记录列至本证明生成前的最后一个事件；记录本证明哈希的签章完成事件（ContractSealed）在其后，见证据包。为保护个人信息，手机号、邮箱、证件号、统一社会信用代码和 IP 地址已部分隐藏。")
	m.para("This certificate was generated by signet from the contract's event record. The events are linked in order by a SHA-256 hash chain and entered in a signed Merkle log; \"position\" is an event's place in the global log. The full events, hashes, inclusion proofs and signed documents are in the contract's evidence bundle, which signet evidence verify checks offline. The event list ends with the last event before this certificate was generated; the event that records this certificate's hash (ContractSealed) follows it and is in the bundle. Phone numbers, email addresses, ID numbers, credit codes and IP addresses are partly hidden to protect personal data.")
}

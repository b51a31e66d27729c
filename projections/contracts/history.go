package contracts

import (
	"fmt"

	"signet/domain/contract"
	"signet/domain/layout"
)

// summarize tells a history fact in one line, naming parties by their role
// and name as the contract has them.
func summarize(f fact, v *ContractView) Summary {
	switch f.Type {
	case contract.TypeContractCreated:
		who, whoZH := f.ActorName, f.ActorName
		if v.Sender.EnterpriseID != "" {
			who = fmt.Sprintf("%s (%s)", f.ActorName, v.Sender.Name)
			whoZH = v.Sender.Name + " " + f.ActorName
		}
		return Summary{
			EN: fmt.Sprintf("%s created the contract %q (No. %s) for %s", who, v.Title, v.Number, plural(f.Count, "party", "parties")),
			ZH: fmt.Sprintf("%s 创建合同《%s》（编号 %s），共 %d 个签约方", whoZH, v.Title, v.Number, f.Count),
		}
	case contract.TypeContractSubmittedForApproval:
		return Summary{
			EN: fmt.Sprintf("Submitted for approval to %s", plural(f.Count, "approver", "approvers")),
			ZH: fmt.Sprintf("提交审批，共 %d 位审批人", f.Count),
		}
	case contract.TypeContractApproved:
		return Summary{EN: "Approved", ZH: "审批通过"}
	case contract.TypeContractApprovalRejected:
		return Summary{EN: "Approval refused" + reasonEN(f.Reason), ZH: "审批驳回" + reasonZH(f.Reason)}
	case contract.TypeContractSent:
		return Summary{EN: "Sent to the parties for signing", ZH: "合同已发送，等待签约方签署"}
	case contract.TypePartySigned:
		return signedSummary(f, party(v, f.PartyID))
	case contract.TypePartyRejected:
		p := party(v, f.PartyID)
		return Summary{EN: p.en + " refused to sign" + reasonEN(f.Reason), ZH: p.zh + " 拒签" + reasonZH(f.Reason)}
	case contract.TypeContractRevoked:
		return Summary{EN: "The sender withdrew the contract" + reasonEN(f.Reason), ZH: "发件方撤回合同" + reasonZH(f.Reason)}
	case contract.TypeContractExpired:
		d := ""
		if f.Deadline != nil {
			d = f.Deadline.In(contract.Shanghai).Format("2006-01-02 15:04")
		}
		return Summary{
			EN: fmt.Sprintf("The signing deadline (%s) passed before every party signed", d),
			ZH: fmt.Sprintf("签署截止时间（%s）已过，仍有签约方未签署，合同已逾期", d),
		}
	case contract.TypeContractFullySigned:
		return Summary{EN: "Every party signed: the final documents are being produced", ZH: "全部签约方已签署，正在生成最终签署文件"}
	case contract.TypeContractSealingFailed:
		return Summary{EN: fmt.Sprintf("Producing the final documents failed (attempt %d)%s; it will be retried", f.Count, reasonEN(f.Reason)),
			ZH: fmt.Sprintf("生成最终签署文件失败（第 %d 次）%s，将自动重试", f.Count, reasonZH(f.Reason))}
	case contract.TypeContractSealed:
		return Summary{EN: fmt.Sprintf("Seals and signatures stamped and %s digitally signed and timestamped, with a certificate of completion", plural(f.Count, "document", "documents")),
			ZH: fmt.Sprintf("已加盖印章和签名，%d 份文件已数字签名并加盖时间戳，生成签署完成证明", f.Count)}
	case contract.TypeContractCompleted:
		return Summary{EN: "Every party signed: the contract is complete", ZH: "全部签约方已签署，合同签署完成"}
	}
	return Summary{EN: f.Type, ZH: f.Type}
}

// partyLabel names a party in both languages: its role and name, e.g.
// "乙方 张三", or the enterprise's name for an enterprise party.
type partyLabel struct {
	en, zh string
	kind   string
}

func party(v *ContractView, id string) partyLabel {
	for _, p := range v.Parties {
		if p.ID == id {
			name := p.Name
			if p.Kind == string(layout.Enterprise) && p.EnterpriseName != "" {
				name = p.EnterpriseName
			}
			return partyLabel{en: p.Role + " " + name, zh: p.Role + " " + name, kind: p.Kind}
		}
	}
	return partyLabel{en: "A party", zh: "签约方"}
}

func signedSummary(f fact, p partyLabel) Summary {
	how, howZH := willingness(f.Willingness)
	var with, withZH string
	switch {
	case f.Seal != "":
		with, withZH = fmt.Sprintf(" (seal %q)", f.Seal), "（印章“"+f.Seal+"”）"
	case f.Signature == "typed":
		with, withZH = " (typed name)", "（姓名签名）"
	case f.Signature == "image":
		with, withZH = " (handwritten signature)", "（手写签名）"
	}
	if p.kind == string(layout.Enterprise) && f.ActorName != "" {
		return Summary{
			EN: fmt.Sprintf("%s signed %s by %s%s", p.en, how, f.ActorName, with),
			ZH: fmt.Sprintf("%s 由 %s %s签署%s", p.zh, f.ActorName, howZH, withZH),
		}
	}
	return Summary{EN: fmt.Sprintf("%s signed %s%s", p.en, how, with), ZH: fmt.Sprintf("%s %s签署%s", p.zh, howZH, withZH)}
}

func willingness(m string) (en, zh string) {
	if m == contract.WillingnessSMSCode {
		return "with an SMS code", "以短信验证码"
	}
	return fmt.Sprintf("after the %s check", m), "经" + m + "校验后"
}

func reasonEN(r string) string {
	if r == "" {
		return ""
	}
	return ": " + r
}

func reasonZH(r string) string {
	if r == "" {
		return ""
	}
	return "：" + r
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

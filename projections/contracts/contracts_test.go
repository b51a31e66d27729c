package contracts_test

import (
	"context"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"signet/domain/account"
	"signet/domain/contract"
	"signet/domain/event"
	"signet/domain/fault"
	"signet/projections"
	"signet/projections/contracts"
)

func statuses(v contracts.ContractView) map[string]string {
	out := map[string]string{}
	for _, p := range v.Parties {
		out[p.ID] = p.Status
	}
	return out
}

func TestSequentialSigning(t *testing.T) {
	w := newWorld(t)
	id := uuid.NewString()
	w.add(id, sender, created(id, true), sent(1))
	v := w.view(id)
	if v.Status != "signing" || v.Number != "HT20261201-"+strings.ToUpper(id[:8]) || v.Title != "年度采购合同" || v.ContractType != "采购" ||
		!v.Sequential || !v.SigningDeadline.Equal(at(deadlineMin)) || !v.CreatedAt.Equal(at(0)) || v.SentAt == nil || !v.SentAt.Equal(at(1)) ||
		v.Ended != nil || v.Approval != nil || v.CompletedAt != nil || v.Version != 2 {
		t.Fatalf("sent: %+v", v)
	}
	if want := (contracts.Sender{AccountID: sender, EnterpriseID: senderEnt, Name: senderName, PersonName: "井然"}); v.Sender != want {
		t.Fatalf("sender: %+v", v.Sender)
	}
	if v.Template == nil || *v.Template != (contracts.TemplateRef{ID: "tpl-1", Version: 7}) {
		t.Fatalf("template: %+v", v.Template)
	}
	if !reflect.DeepEqual(v.Fields, fields) || !maps.Equal(v.Values, map[string]string{"f-amount": "120000"}) {
		t.Fatalf("fields %+v values %+v", v.Fields, v.Values)
	}
	if len(v.Documents) != 2 || !reflect.DeepEqual(v.Documents[0].Document, doc1) || v.Documents[0].SentSHA256 != "sha-sent-1" ||
		v.Documents[1].SentSHA256 != "sha-sent-2" || v.Documents[0].SignedSHA256 != "" {
		t.Fatalf("documents: %+v", v.Documents)
	}
	wantParties := []contracts.PartyView{
		{ID: "role-a", Role: "甲方", Kind: "enterprise", Order: 1, Name: "王五", Contact: contracts.Contact{Kind: "phone", Value: "138****8000"},
			EnterpriseName: partyEnt, Status: "to_sign"},
		{ID: "role-b", Role: "乙方", Kind: "person", Order: 2, Name: "张三", Contact: contracts.Contact{Kind: "email", Value: "l***@example.com"},
			Status: "waiting"},
		{ID: "role-c", Role: "丙方", Kind: "person", Order: 2, Name: "李四", Contact: contracts.Contact{Kind: "phone", Value: "150****2345"},
			Status: "waiting"},
	}
	if !reflect.DeepEqual(v.Parties, wantParties) {
		t.Fatalf("parties:\n got %+v\nwant %+v", v.Parties, wantParties)
	}

	// 甲方 signs: both persons (the same order) may sign now.
	w.add(id, acctWang, signedA(10))
	v = w.view(id)
	if want := map[string]string{"role-a": "signed", "role-b": "to_sign", "role-c": "to_sign"}; !maps.Equal(statuses(v), want) {
		t.Fatalf("after 甲方: %v", statuses(v))
	}
	s := v.Parties[0].Signed
	if s == nil || s.SignerAccountID != acctWang || s.SignerName != "王五" || s.SealName != "合同专用章" || s.SealID != "seal-1" ||
		s.EnterpriseID != "ent-party" || s.Willingness != "sms_code" || s.ClientIP != "203.0.113.*" || !s.SignedAt.Equal(at(10)) {
		t.Fatalf("甲方's signature: %+v", s)
	}
	if v.Documents[0].SignedSHA256 != "sha-a-1" || v.Documents[0].SentSHA256 != "sha-sent-1" {
		t.Fatalf("documents after 甲方: %+v", v.Documents)
	}

	w.add(id, acctZhang, signedB(20))
	w.add(id, acctLi, signedC(30), contract.ContractCompleted{CompletedAt: at(30)})
	v = w.view(id)
	if want := map[string]string{"role-a": "signed", "role-b": "signed", "role-c": "signed"}; v.Status != "completed" ||
		!maps.Equal(statuses(v), want) || v.CompletedAt == nil || !v.CompletedAt.Equal(at(30)) || v.Ended != nil {
		t.Fatalf("completed: %s %v %+v", v.Status, statuses(v), v.Ended)
	}
	if b, c := v.Parties[1].Signed, v.Parties[2].Signed; b.SignatureKind != "typed" || b.ClientIP != "2001:db8:85a3:8d3::*" ||
		c.SignatureKind != "image" || c.ClientIP != "198.51.100.*" {
		t.Fatalf("persons' signatures: %+v %+v", b, c)
	}
	if v.Documents[0].SignedSHA256 != "sha-c-1" || v.Documents[1].SignedSHA256 != "sha-c-2" {
		t.Fatalf("documents after the last signature: %+v", v.Documents)
	}
	want := []struct{ typ, actor, en, zh string }{
		{"ContractCreated", sender, `井然 (杭州井然食品贸易有限公司) created the contract "年度采购合同" (No. ` + v.Number + `) for 3 parties`,
			"杭州井然食品贸易有限公司 井然 创建合同《年度采购合同》（编号 " + v.Number + "），共 3 个签约方"},
		{"ContractSent", sender, "Sent to the parties for signing", "合同已发送，等待签约方签署"},
		{"PartySigned", acctWang, `甲方 上海云签科技有限公司 signed with an SMS code by 王五 (seal "合同专用章")`,
			"甲方 上海云签科技有限公司 由 王五 以短信验证码签署（印章“合同专用章”）"},
		{"PartySigned", acctZhang, "乙方 张三 signed with an SMS code (typed name)", "乙方 张三 以短信验证码签署（姓名签名）"},
		{"PartySigned", acctLi, "丙方 李四 signed with an SMS code (handwritten signature)", "丙方 李四 以短信验证码签署（手写签名）"},
		{"ContractCompleted", acctLi, "Every party signed: the contract is complete", "全部签约方已签署，合同签署完成"},
	}
	if len(v.History) != len(want) {
		t.Fatalf("history: %+v", v.History)
	}
	for i, h := range v.History {
		if h.Version != uint64(i+1) || h.Type != want[i].typ || h.Actor != want[i].actor || h.Summary.EN != want[i].en || h.Summary.ZH != want[i].zh {
			t.Errorf("history %d: %+v\nwant %+v", i, h, want[i])
		}
	}
	if !v.History[2].At.Equal(at(10)) || v.History[2].ActorName != "王五" {
		t.Errorf("history of 甲方: %+v", v.History[2])
	}
}

func TestParallelSigningAndRefusal(t *testing.T) {
	w := newWorld(t)
	id := uuid.NewString()
	w.add(id, sender, created(id, false), sent(1))
	if want := map[string]string{"role-a": "to_sign", "role-b": "to_sign", "role-c": "to_sign"}; !maps.Equal(statuses(w.view(id)), want) {
		t.Fatalf("parallel: %v", statuses(w.view(id)))
	}
	w.add(id, acctZhang, signedB(5))
	w.add(id, acctLi, contract.PartyRejected{PartyID: "role-c", SignerAccountID: acctLi,
		Reason: "金额不对，请致电 150-5711-2345 或发邮件到 " + emailZhang + "。", ClientIP: ipLi, RejectedAt: at(9)})
	v := w.view(id)
	if want := map[string]string{"role-a": "waiting", "role-b": "signed", "role-c": "rejected"}; v.Status != "rejected" || !maps.Equal(statuses(v), want) {
		t.Fatalf("rejected: %s %v", v.Status, statuses(v))
	}
	reason := "金额不对，请致电 150****2345 或发邮件到 l***@example.com。"
	if r := v.Parties[2].Rejected; r == nil || r.Reason != reason || r.ClientIP != "198.51.100.*" || r.SignerAccountID != acctLi || !r.RejectedAt.Equal(at(9)) {
		t.Fatalf("refusal: %+v", r)
	}
	if e := v.Ended; e == nil || e.Kind != "rejected" || e.By != acctLi || e.Reason != reason || !e.At.Equal(at(9)) {
		t.Fatalf("ending: %+v", e)
	}
	if h := v.History[len(v.History)-1]; h.Summary.EN != "丙方 李四 refused to sign: "+reason || h.Summary.ZH != "丙方 李四 拒签："+reason {
		t.Fatalf("history: %+v", h)
	}

	// Revoked and expired contracts end likewise; no party may sign.
	for _, c := range []struct {
		end  contract.Event
		kind string
		en   string
	}{
		{contract.ContractRevoked{RevokedBy: sender, Reason: "条款有误", RevokedAt: at(50)}, "revoked", "The sender withdrew the contract: 条款有误"},
		{contract.ContractExpired{Deadline: at(deadlineMin), ExpiredAt: at(deadlineMin + 1)}, "expired",
			"The signing deadline (2026-12-08 10:00) passed before every party signed"},
	} {
		id := uuid.NewString()
		w.add(id, sender, created(id, true), sent(1), signedA(2), c.end)
		v := w.view(id)
		if want := map[string]string{"role-a": "signed", "role-b": "waiting", "role-c": "waiting"}; v.Status != c.kind || v.Ended == nil ||
			v.Ended.Kind != c.kind || !maps.Equal(statuses(v), want) {
			t.Fatalf("%s: %s %+v %v", c.kind, v.Status, v.Ended, statuses(v))
		}
		if h := v.History[len(v.History)-1]; h.Summary.EN != c.en {
			t.Errorf("%s: %q", c.kind, h.Summary.EN)
		}
	}
}

func TestApprovals(t *testing.T) {
	w := newWorld(t)
	submit := func(min int) string {
		id := uuid.NewString()
		w.add(id, sender, created(id, true), contract.ContractSubmittedForApproval{Approvers: []string{approver1, approver2}, SubmittedAt: at(min)})
		return id
	}
	pending := func(aid string, limit int) []string {
		t.Helper()
		w.sync()
		items, err := w.reader.PendingApprovals(w.ctx, aid, limit)
		if err != nil {
			t.Fatal(err)
		}
		ids := []string{}
		for _, it := range items {
			ids = append(ids, it.ContractID)
		}
		return ids
	}
	first, second, third, fourth := submit(3), submit(1), submit(2), submit(4)
	if got, want := pending(approver1, 10), []string{second, third, first, fourth}; !slices.Equal(got, want) {
		t.Fatalf("pending, oldest first: %v, want %v", got, want)
	}
	v := w.view(first)
	if a := v.Approval; v.Status != "pending_approval" || a == nil || a.Status != "pending" || !slices.Equal(a.Approvers, []string{approver1, approver2}) ||
		!a.SubmittedAt.Equal(at(3)) || a.DecidedAt != nil {
		t.Fatalf("pending view: %s %+v", v.Status, v.Approval)
	}
	if want := map[string]string{"role-a": "waiting", "role-b": "waiting", "role-c": "waiting"}; !maps.Equal(statuses(v), want) {
		t.Fatalf("nobody signs before approval: %v", statuses(v))
	}
	items, _ := w.reader.PendingApprovals(w.ctx, approver2, 1)
	if len(items) != 1 || items[0].ContractID != second || items[0].Title != "年度采购合同" || items[0].Sender.Name != senderName ||
		!items[0].SubmittedAt.Equal(at(1)) || !items[0].SigningDeadline.Equal(at(deadlineMin)) || items[0].Number == "" {
		t.Fatalf("item: %+v", items)
	}

	// approver1 approves the first (it is sent in the same append),
	// approver2 refuses the second, the sender revokes the third.
	both := []string{approver1, approver2}
	w.add(first, approver1, contract.ContractApproved{ApproverID: approver1, ApprovedAt: at(10), Approvers: both}, sent(10))
	w.add(second, approver2, contract.ContractApprovalRejected{ApproverID: approver2, Reason: "价格待定 (ID " + idNumber + ")", RejectedAt: at(11), Approvers: both})
	w.add(third, sender, contract.ContractRevoked{RevokedBy: sender, Reason: "重发", RevokedAt: at(12), Approvers: both})
	w.sync()
	for _, aid := range both {
		// The decided contracts left every approver's list, not only the decider's.
		if n, err := w.db.ZCard(w.ctx, projections.Key(w.db, contracts.Name, "approvals", aid)).Result(); err != nil || n != 1 {
			t.Errorf("%s's list holds %d entries (%v), want 1", aid, n, err)
		}
	}
	for _, aid := range both {
		if got := pending(aid, 10); !slices.Equal(got, []string{fourth}) {
			t.Errorf("%s pending after the decisions: %v", aid, got)
		}
		if got := pending(aid, 1); !slices.Equal(got, []string{fourth}) {
			t.Errorf("%s first pending after the decisions: %v", aid, got)
		}
	}
	v = w.view(first)
	if a := v.Approval; v.Status != "signing" || a.Status != "approved" || a.DecidedBy != approver1 || a.DecidedAt == nil || !a.DecidedAt.Equal(at(10)) {
		t.Fatalf("approved: %s %+v", v.Status, a)
	}
	if want := map[string]string{"role-a": "to_sign", "role-b": "waiting", "role-c": "waiting"}; !maps.Equal(statuses(v), want) {
		t.Fatalf("approved and sent: %v", statuses(v))
	}
	v = w.view(second)
	reason := "价格待定 (ID 110*****02X)"
	if a := v.Approval; v.Status != "approval_rejected" || a.Status != "rejected" || a.Reason != reason || v.Ended == nil ||
		v.Ended.Kind != "approval_rejected" || v.Ended.By != approver2 || v.Ended.Reason != reason {
		t.Fatalf("refused: %s %+v %+v", v.Status, a, v.Ended)
	}
	wantHist := []string{"ContractCreated", "ContractSubmittedForApproval", "ContractApprovalRejected"}
	var types []string
	for _, h := range v.History {
		types = append(types, h.Type)
	}
	if !slices.Equal(types, wantHist) || v.History[1].Summary.EN != "Submitted for approval to 2 approvers" ||
		v.History[1].Summary.ZH != "提交审批，共 2 位审批人" || v.History[2].Summary.ZH != "审批驳回："+reason || v.History[2].Actor != approver2 {
		t.Fatalf("history: %+v", v.History)
	}
	for _, bad := range []string{"", "a:b", "nobody"} {
		if got := pending(bad, 10); len(got) != 0 {
			t.Errorf("pending of %q: %v", bad, got)
		}
	}
	if got := pending(approver1, 0); len(got) != 0 {
		t.Errorf("limit 0: %v", got)
	}
}

func TestDue(t *testing.T) {
	w := newWorld(t)
	mk := func(deadline int, evs ...contract.Event) string {
		id := uuid.NewString()
		c := created(id, true)
		c.SigningDeadline = at(deadline)
		w.add(id, sender, append([]contract.Event{c}, evs...)...)
		return id
	}
	var signing []string // deadlines 100, 101, ... minutes
	for i := range 40 {
		signing = append(signing, mk(100+i, sent(1)))
	}
	waiting := mk(95, contract.ContractSubmittedForApproval{Approvers: []string{approver1}, SubmittedAt: at(1)})
	ended := []string{
		mk(90, sent(1), signedA(2), signedB(3), signedC(4), contract.ContractCompleted{CompletedAt: at(4)}),
		mk(90, sent(1), contract.ContractRevoked{RevokedBy: sender, Reason: "x", RevokedAt: at(2)}),
		mk(90, sent(1), contract.PartyRejected{PartyID: "role-a", SignerAccountID: acctWang, Reason: "x", RejectedAt: at(2)}),
		mk(90, sent(1), contract.ContractExpired{Deadline: at(90), ExpiredAt: at(91)}),
		mk(90, contract.ContractSubmittedForApproval{Approvers: []string{approver1}, SubmittedAt: at(1)},
			contract.ContractApprovalRejected{ApproverID: approver1, Reason: "x", RejectedAt: at(2)}),
	}
	w.sync()
	due := func(until, limit int) []string {
		t.Helper()
		ids, err := w.reader.Due(w.ctx, at(until), limit)
		if err != nil {
			t.Fatal(err)
		}
		return ids
	}
	cases := []struct {
		until, limit int
		want         []string
	}{
		{94, 10, []string{}},
		{95, 10, []string{waiting}},
		{100, 10, []string{waiting, signing[0]}},
		{139, 100, append([]string{waiting}, signing...)},
		{10000, 5, append([]string{waiting}, signing[:4]...)},
		{10000, 41, append([]string{waiting}, signing...)},
		{10000, 0, []string{}},
	}
	for _, c := range cases {
		if got := due(c.until, c.limit); !slices.Equal(got, c.want) {
			t.Errorf("Due(%d, %d) = %v, want %v", c.until, c.limit, got, c.want)
		}
	}
	for _, id := range ended {
		if slices.Contains(due(100000, 1000), id) {
			t.Errorf("ended contract %s is due", id)
		}
	}
	// Ended contracts leave the index itself, not only the answer.
	for k, v := range snapshot(t, w.db, contracts.Name) {
		for _, id := range ended {
			if strings.HasPrefix(k, "rm:contracts:due:") && strings.Contains(v, id) {
				t.Errorf("%s still holds ended %s", k, id)
			}
		}
	}
}

func TestAccessMatrix(t *testing.T) {
	w := newWorld(t)
	id := uuid.NewString()
	w.add(id, sender, created(id, true), contract.ContractSubmittedForApproval{Approvers: []string{approver1}, SubmittedAt: at(1)},
		contract.ContractApproved{ApproverID: approver1, ApprovedAt: at(2)}, sent(2), signedA(3))
	other := uuid.NewString()
	c := created(other, false)
	c.Sender = contract.Sender{AccountID: "acct-solo", Name: "赵六", PersonName: "赵六"}
	w.add(other, "acct-solo", c, sent(1))
	waiting := uuid.NewString()
	w.add(waiting, sender, created(waiting, true), contract.ContractSubmittedForApproval{Approvers: []string{approver1}, SubmittedAt: at(1)})
	w.sync()

	key := func(login string) string {
		l, err := account.ParseLogin(login)
		if err != nil {
			t.Fatal(err)
		}
		return l.Hash()
	}
	m := func(eid, name, role string, verified bool) []contracts.Membership {
		return []contracts.Membership{{ID: eid, Name: name, Role: role, Verified: verified}}
	}
	cases := []struct {
		name string
		id   string
		c    contracts.Caller
		want string // "" allowed, else the fault code
	}{
		{"sender", id, contracts.Caller{AccountID: sender}, ""},
		{"master admin of the sending enterprise", id, contracts.Caller{AccountID: "acct-boss", Enterprises: m(senderEnt, senderName, "master_admin", true)}, ""},
		{"admin of the sending enterprise", id, contracts.Caller{AccountID: "acct-adm", Enterprises: m(senderEnt, senderName, "admin", true)}, ""},
		{"plain member of the sending enterprise", id, contracts.Caller{AccountID: "acct-mem", Enterprises: m(senderEnt, senderName, "member", true)}, "not_a_party"},
		{"party by phone login", id, contracts.Caller{AccountID: "acct-x", LoginKey: key(phoneLi)}, ""},
		{"party by email login, any spelling", id, contracts.Caller{AccountID: "acct-y", LoginKey: key(emailZhang)}, ""},
		{"member of the party enterprise", id, contracts.Caller{AccountID: "acct-z", Enterprises: m("ent-party", partyEnt, "member", true)}, ""},
		{"party enterprise not verified", id, contracts.Caller{AccountID: "acct-z", Enterprises: m("ent-fake", partyEnt, "creator", false)}, "not_a_party"},
		{"enterprise of another name", id, contracts.Caller{AccountID: "acct-z", Enterprises: m("ent-other", "上海云签科技有限公司分公司", "admin", true)}, "not_a_party"},
		{"approver", id, contracts.Caller{AccountID: approver1}, ""},
		{"signer", id, contracts.Caller{AccountID: acctWang}, ""},
		{"approver of nothing", id, contracts.Caller{AccountID: approver2}, "not_a_party"},
		{"stranger", id, contracts.Caller{AccountID: "acct-stranger", LoginKey: key("13912345678")}, "not_a_party"},
		{"nobody at all", id, contracts.Caller{}, "not_a_party"},
		{"login key of another contract's party is not enough", other, contracts.Caller{AccountID: acctWang}, "not_a_party"},
		{"personal sender", other, contracts.Caller{AccountID: "acct-solo"}, ""},
		{"admin of an enterprise with a personal contract", other, contracts.Caller{AccountID: "acct-boss", Enterprises: m(senderEnt, senderName, "master_admin", true)}, "not_a_party"},
		{"party of the personal contract", other, contracts.Caller{AccountID: "acct-p", LoginKey: key(phoneWang)}, ""},
		{"party of a contract waiting for approval", waiting, contracts.Caller{AccountID: "acct-x", LoginKey: key(phoneLi)}, "not_a_party"},
		{"party enterprise of a contract waiting for approval", waiting, contracts.Caller{AccountID: "acct-z", Enterprises: m("ent-party", partyEnt, "member", true)}, "not_a_party"},
		{"approver of a contract waiting for approval", waiting, contracts.Caller{AccountID: approver1}, ""},
		{"sender of a contract waiting for approval", waiting, contracts.Caller{AccountID: sender}, ""},
		{"unknown contract", uuid.NewString(), contracts.Caller{AccountID: sender}, "contract_not_found"},
		{"ID that is no ID", "a:b*", contracts.Caller{AccountID: sender}, "contract_not_found"},
	}
	for _, c := range cases {
		err := w.reader.Access(w.ctx, c.id, c.c)
		switch f, ok := fault.As(err); {
		case c.want == "" && err != nil:
			t.Errorf("%s: refused: %v", c.name, err)
		case c.want != "" && (!ok || f.Code != c.want):
			t.Errorf("%s: got %v, want %s", c.name, err, c.want)
		}
	}
	if _, err := w.reader.Contract(w.ctx, uuid.NewString()); err == nil || !strings.Contains(err.Error(), "contract_not_found") {
		t.Fatalf("unknown contract: %v", err)
	}
}

// TestNoPersonalDataInRedis scans every key, field, member and value the
// projection wrote for the parties' contacts, ID numbers and full IPs.
func TestNoPersonalDataInRedis(t *testing.T) {
	w := newWorld(t)
	id := uuid.NewString()
	w.add(id, sender, created(id, false), sent(1), signedA(2), signedB(3),
		contract.PartyRejected{PartyID: "role-c", SignerAccountID: acctLi, ClientIP: ipLi, RejectedAt: at(4),
			Reason: "联系 +86 138 0013 8000、１３８００１３８０００、86-150-5711-2345 或 " + strings.ToUpper(emailZhang) + "，身份证 " + idNumber})
	rev := uuid.NewString()
	w.add(rev, sender, created(rev, true), contract.ContractSubmittedForApproval{Approvers: []string{approver1}, SubmittedAt: at(1)},
		contract.ContractApprovalRejected{ApproverID: approver1, Reason: "call 13800138000 / mail lin.xiao@example.com.", RejectedAt: at(2)})
	w.sync()
	snap := snapshot(t, w.db, contracts.Name)
	if len(snap) < 10 {
		t.Fatalf("too little projected: %v", snap)
	}
	secrets := []string{phoneWang, phoneLi, emailNormal, strings.ToLower(emailZhang), "Lin.Xiao", idNumber, "1231002", ipWang, "198.51.100.7",
		"8a2e:370:7348", "0013", "5711"}
	for k, v := range snap {
		for _, s := range secrets {
			if strings.Contains(strings.ToLower(k+" "+v), strings.ToLower(s)) {
				t.Errorf("%s holds %q: %s", k, s, v)
			}
		}
	}
	v := w.view(id)
	if r := v.Parties[2].Rejected.Reason; r != "联系 +86 138****8000、138****8000、86-150****2345 或 l***@example.com，身份证 110*****02X" {
		t.Errorf("scrubbed reason: %q", r)
	}
}

// Delivering every event twice, or the whole history again, leaves the read
// model as once, even with no version guard in front of it.
func TestApplyingTwiceChangesNothing(t *testing.T) {
	w := newWorld(t)
	a, b, c := uuid.NewString(), uuid.NewString(), uuid.NewString()
	w.add(a, sender, created(a, true), contract.ContractSubmittedForApproval{Approvers: []string{approver1, approver2}, SubmittedAt: at(1)},
		contract.ContractApproved{ApproverID: approver2, ApprovedAt: at(2)}, sent(2), signedA(3), signedB(4), signedC(5),
		contract.ContractCompleted{CompletedAt: at(5)})
	w.add(b, sender, created(b, false), sent(1), contract.PartyRejected{PartyID: "role-b", SignerAccountID: acctZhang, Reason: "不同意", RejectedAt: at(3)})
	w.add(c, sender, created(c, false), contract.ContractSubmittedForApproval{Approvers: []string{approver1}, SubmittedAt: at(1)})
	envs := w.envelopes()
	p := contracts.Projection{}

	once := newWorld(t)
	applyRaw(t, once.db, p, envs...)
	twice := newWorld(t)
	for _, e := range envs {
		applyRaw(t, twice.db, p, e, e)
	}
	again := newWorld(t)
	applyRaw(t, again.db, p, envs...)
	applyRaw(t, again.db, p, envs...)
	w.sync()
	base := snapshot(t, once.db, contracts.Name)
	if len(base) == 0 {
		t.Fatal("nothing projected")
	}
	for name, s := range map[string]map[string]string{
		"each event twice":      snapshot(t, twice.db, contracts.Name),
		"history twice":         snapshot(t, again.db, contracts.Name),
		"through the projector": snapshot(t, w.db, contracts.Name),
	} {
		if !maps.Equal(base, s) {
			t.Errorf("%s differs from once:\n%s", name, diff(base, s))
		}
	}
}

func TestHandleIgnoresAndRefuses(t *testing.T) {
	ctx := context.Background()
	p := contracts.Projection{}
	env := func(stream string, ev contract.Event) event.Envelope {
		n, err := contract.NewEvent("e1", ev, event.Metadata{OccurredAt: at(0)})
		if err != nil {
			t.Fatal(err)
		}
		return event.Envelope{ID: n.ID, Stream: stream, Version: 1, Type: n.Type, Schema: n.Schema, Data: n.Data, Meta: n.Meta}
	}
	c := created("c1c1c1c1", false)
	reserved := contract.ContractNumberReserved{ContractID: "c1", ReservedAt: at(0)}
	if ops, err := p.Handle(ctx, env(contract.NumberStream("HT20261201-AAAA"), reserved)); err != nil || ops != nil {
		t.Fatalf("number reservation: %v %v", ops, err)
	}
	if ops, err := p.Handle(ctx, env("template-t1", c)); err != nil || ops != nil {
		t.Fatalf("other stream: %v %v", ops, err)
	}
	if ops, err := p.Handle(ctx, env(contract.StreamOf("c1"), c)); err != nil || len(ops) == 0 {
		t.Fatalf("contract stream: %v %v", ops, err)
	}
	for _, stream := range []string{"contract-", "contract-a:b", "contract-x*"} {
		if _, err := p.Handle(ctx, env(stream, c)); err == nil {
			t.Errorf("%s accepted", stream)
		}
	}
	for _, ev := range []contract.Event{
		contract.ContractSubmittedForApproval{Approvers: []string{"ok", "a:b"}, SubmittedAt: at(1)},
		contract.ContractApproved{ApproverID: "*", ApprovedAt: at(1)},
		contract.ContractApprovalRejected{ApproverID: "", RejectedAt: at(1)},
	} {
		if _, err := p.Handle(ctx, env(contract.StreamOf("c1"), ev)); err == nil {
			t.Errorf("%T with an approver that is no key accepted", ev)
		}
	}
	unknown := event.Envelope{Stream: contract.StreamOf("c1"), Version: 1, Type: "ContractExploded", Schema: 1, Data: []byte(`{}`)}
	if _, err := p.Handle(ctx, unknown); !contract.IsUnknownEvent(err) {
		t.Errorf("unknown event: %v", err)
	}
}

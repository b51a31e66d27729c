package searchdocs_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"signet/domain/account"
	"signet/domain/contract"
	"signet/domain/enterprise"
	"signet/domain/event"
	"signet/domain/filing"
	"signet/domain/template"
	"signet/infra/search"
	"signet/projections/principal"
)

var (
	out       = []string{principal.Enterprise(senderEnt), principal.Member(senderEnt, sender)}
	parties   = []string{principal.EnterpriseName(partyEnt), principal.Login(hashOf(emailZhang)), principal.Login(hashOf(phoneLi))}
	approvers = []string{principal.Account(approver1), principal.Account(approver2)}
	wangSide  = principal.Member(partyEntID, acctWang)
)

func set(ps ...[]string) []string {
	var all []string
	for _, p := range ps {
		all = append(all, p...)
	}
	slices.Sort(all)
	return slices.Compact(all)
}

func sorted(ps []string) []string { return set(ps) }

// Given a contract's events, its document and the last event's record.
func TestContractDocuments(t *testing.T) {
	submitted := contract.ContractSubmittedForApproval{Approvers: []string{approver1, approver2}, SubmittedAt: at(0)}
	both := []string{approver1, approver2}
	cases := []struct {
		name    string
		evs     []contract.Event
		person  bool
		status  contract.Status
		sent    bool
		visible []string
		record  []string // the last event's record, platform aside
	}{
		{"created and sent in one append", []contract.Event{created("", false), sent(0)},
			false, contract.StatusSigning, true, set(out, parties), set(out, parties)},
		{"waiting for approval: the approvers, not the parties", []contract.Event{created("", false), submitted},
			false, contract.StatusPendingApproval, false, set(out, approvers), set(out, approvers)},
		{"approved: the approvers keep the approval's record, not the contract", []contract.Event{created("", false), submitted,
			contract.ContractApproved{ApproverID: approver1, ApprovedAt: at(5), Approvers: both}},
			false, contract.StatusApproved, false, set(out), set(out, approvers)},
		{"approved and sent", []contract.Event{created("", false), submitted,
			contract.ContractApproved{ApproverID: approver1, ApprovedAt: at(5), Approvers: both}, sent(5)},
			false, contract.StatusSigning, true, set(out, parties), set(out, parties)},
		{"approval refused: never sent, never the parties'", []contract.Event{created("", false), submitted,
			contract.ContractApprovalRejected{ApproverID: approver2, Reason: "价格不对", RejectedAt: at(3), Approvers: both}},
			false, contract.StatusApprovalRejected, false, set(out), set(out, approvers)},
		{"revoked while waiting for approval", []contract.Event{created("", false), submitted,
			contract.ContractRevoked{RevokedBy: sender, Reason: "撤回", RevokedAt: at(3), Approvers: both}},
			false, contract.StatusRevoked, false, set(out), set(out, approvers)},
		{"an enterprise party's signer joins its side", []contract.Event{created("", true), sent(1), signedA(2)},
			false, contract.StatusSigning, true, set(out, parties, []string{wangSide}), set(out, parties, []string{wangSide})},
		{"refused by a person", []contract.Event{created("", false), sent(1), signedB(2),
			contract.PartyRejected{PartyID: "role-c", SignerAccountID: acctLi, Reason: "不签", ClientIP: ipLi, RejectedAt: at(3)}},
			false, contract.StatusRejected, true, set(out, parties), set(out, parties)},
		{"expired", []contract.Event{created("", false), sent(1), contract.ContractExpired{Deadline: at(7 * 24 * 60), ExpiredAt: at(7*24*60 + 1)}},
			false, contract.StatusExpired, true, set(out, parties), set(out, parties)},
		{"completed", []contract.Event{created("", false), sent(1), signedA(2), signedB(3), signedC(4),
			contract.ContractFullySigned{SignedAt: at(4)}, contract.ContractCompleted{CompletedAt: at(5)}},
			false, contract.StatusCompleted, true, set(out, parties, []string{wangSide}), set(out, parties, []string{wangSide})},
		{"sent by a person", []contract.Event{created("", false), sent(1)},
			true, contract.StatusSigning, true, set([]string{principal.Account(sender)}, parties), set([]string{principal.Account(sender)}, parties)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t)
			id := uuid.NewString()
			evs := make([]anyEvent, len(c.evs))
			for i, e := range c.evs {
				if cr, ok := e.(contract.ContractCreated); ok {
					n := created(id, cr.Sequential)
					if c.person {
						n.Sender = contract.Sender{AccountID: sender, Name: "井然", PersonName: "井然"}
					}
					e = n
				}
				evs[i] = e
			}
			w.add(contract.StreamOf(id), sender, ipWang, evs...)
			d := w.doc(id)
			if d.Status != string(c.status) {
				t.Errorf("status %q, want %q", d.Status, c.status)
			}
			if (d.SentAt != nil) != c.sent {
				t.Errorf("sent at %v, want sent %v", d.SentAt, c.sent)
			}
			if got := sorted(d.Visible); !slices.Equal(got, c.visible) {
				t.Errorf("visible\n got %v\nwant %v", got, c.visible)
			}
			recs := w.recordsOf(contract.StreamOf(id))
			if len(recs) != len(c.evs) {
				t.Fatalf("%d records of %d events", len(recs), len(c.evs))
			}
			want := set([]string{search.PlatformPrincipal}, c.record)
			if got := sorted(recs[len(recs)-1].Visible); !slices.Equal(got, want) {
				t.Errorf("last record visible\n got %v\nwant %v", got, want)
			}
		})
	}
}

func TestDocumentFields(t *testing.T) {
	w := newWorld(t)
	id := uuid.NewString()
	cr := created(id, false)
	w.add(contract.StreamOf(id), sender, ipWang, cr, sent(3))
	d := w.doc(id)
	exp := cr.ExpiresAt.UTC()
	sentAt := at(3)
	want := search.ContractDoc{ID: id, Number: cr.Number, Title: "年度采购合同", Status: "signing",
		SenderName: senderName, SenderPerson: "井然", SenderAccount: sender, SenderEnterprise: senderEnt,
		Receivers:    []string{"王五", partyEnt, "张三", "李四"},
		ReceiverKeys: []string{hashOf(phoneWang), hashOf(emailZhang), hashOf(phoneLi)},
		SentAt:       &sentAt, CreatedAt: at(0), Deadline: at(7 * 24 * 60), ExpiresAt: &exp,
		Visible: d.Visible, Version: d.Version}
	gotJSON, _ := json.Marshal(d)
	wantJSON, _ := json.Marshal(want)
	if string(gotJSON) != string(wantJSON) {
		t.Fatalf("document\n got %s\nwant %s", gotJSON, wantJSON)
	}
	recs := w.recordsOf(contract.StreamOf(id))
	r := recs[0]
	if r.Actor != sender || r.ClientIP != "203.0.113.*" || r.Type != contract.TypeContractCreated || r.Stream != contract.StreamOf(id) ||
		!strings.Contains(r.Summary, "年度采购合同") || r.At.IsZero() || r.Position == 0 {
		t.Fatalf("record of the creation: %+v", r)
	}
}

// Filing changes the tags and folders of the documents it touches, and
// a later contract event keeps them.
func TestFiling(t *testing.T) {
	w := newWorld(t)
	c1, c2 := uuid.NewString(), uuid.NewString()
	w.add(contract.StreamOf(c1), sender, ipWang, created(c1, false), sent(1))
	w.add(contract.StreamOf(c2), sender, ipWang, created(c2, false), sent(1))
	desk := func(aid string, evs ...anyEvent) { w.add(filing.DeskStream(aid), aid, ipZhang, evs...) }
	tags := func(evs ...anyEvent) { w.add(filing.TagsStream(senderEnt), sender, ipWang, evs...) }
	check := func(step string, id string, folders, tagList []string) {
		t.Helper()
		d := w.doc(id)
		if !slices.Equal(d.Folders, folders) || !slices.Equal(d.Tags, tagList) {
			t.Fatalf("%s: %s has folders %v tags %v, want %v %v", step, id[:8], d.Folders, d.Tags, folders, tagList)
		}
	}
	desk(acctZhang, filing.FolderCreated{FolderID: "f1", Name: "采购", CreatedAt: at(2)}, filing.FolderCreated{FolderID: "f2", Name: "2026", CreatedAt: at(2)},
		filing.ContractFiled{ContractID: c1, FolderID: "f1", FiledAt: at(3)})
	check("filed", c1, []string{acctZhang + "/f1"}, nil)
	desk(acctZhang, filing.ContractFiled{ContractID: c1, FolderID: "f2", From: "f1", FiledAt: at(4)}, filing.ContractFiled{ContractID: c2, FolderID: "f2", FiledAt: at(4)})
	check("moved", c1, []string{acctZhang + "/f2"}, nil)
	desk(acctLi, filing.FolderCreated{FolderID: "f9", Name: "杂项", CreatedAt: at(2)}, filing.ContractFiled{ContractID: c1, FolderID: "f9", FiledAt: at(5)})
	check("another account's folder", c1, []string{acctLi + "/f9", acctZhang + "/f2"}, nil)
	tags(filing.TagDefined{TagID: "t1", Name: "重要", DefinedBy: sender, DefinedAt: at(1)}, filing.TagDefined{TagID: "t2", Name: "续签", DefinedBy: sender, DefinedAt: at(1)},
		filing.ContractTagged{ContractID: c1, TagID: "t1", TaggedBy: sender, TaggedAt: at(6)}, filing.ContractTagged{ContractID: c1, TagID: "t2", TaggedBy: sender, TaggedAt: at(6)},
		filing.ContractTagged{ContractID: c2, TagID: "t1", TaggedBy: sender, TaggedAt: at(6)})
	check("tagged", c1, []string{acctLi + "/f9", acctZhang + "/f2"}, []string{senderEnt + "/t1", senderEnt + "/t2"})
	w.add(contract.StreamOf(c1), acctZhang, ipZhang, signedB(7))
	check("a signature keeps filing", c1, []string{acctLi + "/f9", acctZhang + "/f2"}, []string{senderEnt + "/t1", senderEnt + "/t2"})
	tags(filing.ContractUntagged{ContractID: c1, TagID: "t2", UntaggedBy: sender, UntaggedAt: at(8)})
	check("untagged", c1, []string{acctLi + "/f9", acctZhang + "/f2"}, []string{senderEnt + "/t1"})
	desk(acctLi, filing.ContractUnfiled{ContractID: c1, FolderID: "f9", UnfiledAt: at(9)})
	check("unfiled", c1, []string{acctZhang + "/f2"}, []string{senderEnt + "/t1"})
	desk(acctZhang, filing.ContractArchived{ContractID: c1, ArchivedAt: at(9)}, filing.ContractTrashed{ContractID: c2, TrashedAt: at(9)})
	check("archive does not hide", c1, []string{acctZhang + "/f2"}, []string{senderEnt + "/t1"})
	desk(acctZhang, filing.FolderDeleted{FolderID: "f2", DeletedAt: at(10)})
	check("folder deleted", c1, nil, []string{senderEnt + "/t1"})
	check("folder deleted", c2, nil, []string{senderEnt + "/t1"})
	tags(filing.TagRemoved{TagID: "t1", RemovedBy: sender, RemovedAt: at(11)})
	check("tag removed", c1, nil, nil)
	check("tag removed", c2, nil, nil)
	desk(acctLi, filing.ContractFiled{ContractID: c2, FolderID: "f9", FiledAt: at(12)}, filing.ContractRestored{ContractID: c2, RestoredAt: at(12)})
	check("filed again", c2, []string{acctLi + "/f9"}, nil)
	desk(acctLi, filing.ContractTrashed{ContractID: c2, TrashedAt: at(13)}, filing.ContractDeletedForMe{ContractID: c2, FolderID: "f9", DeletedAt: at(13)})
	check("deleted for me leaves the folder", c2, nil, nil)
	// Filing a contract the log does not hold changes no document.
	desk(acctLi, filing.ContractFiled{ContractID: uuid.NewString(), FolderID: "f9", FiledAt: at(14)})
	w.sync()
	if len(w.docs) != 2 {
		t.Fatalf("%d documents, want 2", len(w.docs))
	}
}

// appendRaw appends events of streams with no encoder here (reservations,
// ledgers): their records only name them.
func (w *world) appendRaw(stream, typ string) {
	w.t.Helper()
	n := event.New{ID: uuid.NewString(), Type: typ, Schema: 1, Data: []byte(`{}`), Meta: event.Metadata{Actor: "acct-x", ClientIP: ipLi, OccurredAt: t0}}
	if _, err := w.store.Append(w.ctx, stream, event.Any, n); err != nil {
		w.t.Fatal(err)
	}
}

// Every event of every stream has a record, seen by the platform and the
// stream's scope.
func TestRecordScopes(t *testing.T) {
	w := newWorld(t)
	eid, aid, tplE, tplP := uuid.NewString(), uuid.NewString(), uuid.NewString(), uuid.NewString()
	w.add(enterprise.Category+"-"+eid, aid, ipWang, enterprise.EnterpriseCreated{EnterpriseID: eid, CreatedBy: aid, CreatedAt: at(0)},
		enterprise.MemberJoined{AccountID: acctLi, Role: enterprise.Member, JoinedAt: at(1)})
	w.add(account.StreamOf(aid), aid, ipWang, account.PlatformRoleGranted{Role: "auditor", GrantedBy: "cli", GrantedAt: at(0)})
	w.add(filing.DeskStream(aid), aid, ipWang, filing.FolderCreated{FolderID: "f1", Name: "采购", CreatedAt: at(0)})
	w.add(filing.TagsStream(eid), aid, ipWang, filing.TagDefined{TagID: "t1", Name: "重要", DefinedBy: aid, DefinedAt: at(0)})
	w.add(template.StreamOf(tplE), aid, ipWang, template.TemplateCreated{TemplateID: tplE, Owner: template.Owner{EnterpriseID: eid, AccountID: aid}, Name: "采购模板", CreatedBy: aid, CreatedAt: at(0)})
	w.add(template.StreamOf(tplE), aid, ipWang, template.TemplateDisabled{})
	w.add(template.StreamOf(tplP), aid, ipWang, template.TemplateCreated{TemplateID: tplP, Owner: template.Owner{AccountID: aid}, Name: "个人模板", CreatedBy: aid, CreatedAt: at(0)})
	for _, s := range []string{enterprise.QuotaStream(eid), account.QuotaStream(aid), "accountname-abc", contract.NumberStream("HT1"), "treehead-log", "uscc-1234"} {
		w.appendRaw(s, "SomethingHappened")
	}
	w.sync()
	p := search.PlatformPrincipal
	want := map[string][]string{
		enterprise.Category + "-" + eid: {p, principal.Enterprise(eid)},
		account.StreamOf(aid):           {p, principal.Account(aid)},
		filing.DeskStream(aid):          {p, principal.Account(aid)},
		filing.TagsStream(eid):          {p, principal.Enterprise(eid)},
		template.StreamOf(tplE):         {p, principal.Enterprise(eid), principal.Member(eid, aid)},
		template.StreamOf(tplP):         {p, principal.Account(aid)},
		enterprise.QuotaStream(eid):     {p},
		account.QuotaStream(aid):        {p},
		"accountname-abc":               {p},
		contract.NumberStream("HT1"):    {p},
		"treehead-log":                  {p},
		"uscc-1234":                     {p},
	}
	n := 0
	for _, r := range w.records {
		wv, ok := want[r.Stream]
		if !ok {
			t.Fatalf("record of an unexpected stream %s", r.Stream)
		}
		if !slices.Equal(sorted(r.Visible), sorted(wv)) {
			t.Errorf("%s %s: visible %v, want %v", r.Stream, r.Type, r.Visible, wv)
		}
		if r.Summary == "" || r.Type == "" || r.ID == "" {
			t.Errorf("record without summary, type or ID: %+v", r)
		}
		n++
	}
	if n != 14 {
		t.Fatalf("%d records, want one per event (14)", n)
	}
	if r := w.recordsOf(enterprise.Category + "-" + eid)[1]; r.Summary != "account "+acctLi+" joined as member" || r.ClientIP != "203.0.113.*" {
		t.Fatalf("member record: %+v", r)
	}
	if r := w.recordsOf(filing.TagsStream(eid))[0]; !strings.Contains(r.Summary, "重要") {
		t.Fatalf("tag record: %+v", r)
	}
}

// A record of an event Build cannot read is refused, not guessed: the
// runner skips and counts it.
func TestUndecodableContractEvent(t *testing.T) {
	w := newWorld(t)
	id := uuid.NewString()
	bad := event.New{ID: uuid.NewString(), Type: "ContractTeleported", Schema: 1, Data: []byte(`{}`), Meta: event.Metadata{OccurredAt: t0}}
	if _, err := w.store.Append(w.ctx, contract.StreamOf(id), event.Any, bad); err != nil {
		t.Fatal(err)
	}
	envs, _ := w.store.ReadAll(w.ctx, 0, 0)
	if _, _, err := w.b.Build(envs[0], w.current); err == nil {
		t.Fatal("an unknown contract event must fail the build")
	}
}

// No phone number, email address, ID number or full client address in any
// document or record of a realistic history.
func TestNoPersonalData(t *testing.T) {
	w := newWorld(t)
	eid, aid := uuid.NewString(), uuid.NewString()
	w.add(account.StreamOf(aid), aid, ipZhang,
		account.AccountRegistered{AccountID: aid, LoginKind: account.Phone, Login: phoneWang, Name: "王五", PasswordHash: "argon2id$secret", RegisteredAt: at(0)},
		account.PersonVerified{Name: "王五", IDNumber: idNumber, Method: "face", VerifiedAt: at(1)})
	w.add(enterprise.Category+"-"+eid, aid, ipWang, enterprise.EnterpriseCreated{EnterpriseID: eid, CreatedBy: aid, CreatedAt: at(0)},
		enterprise.MaterialsSubmitted{Name: partyEnt, USCC: "91330106MA2H0X1234", LegalRepName: "赵六", LegalRepIDNumber: idLegalRep, SubmittedBy: aid, SubmittedAt: at(1)},
		enterprise.MaterialsRefused{Reason: "法人 " + idLegalRep + " 与手机 " + phoneLi + " 不符", RefusedAt: at(2)})
	id := uuid.NewString()
	w.add(contract.StreamOf(id), sender, ipWang, created(id, false), sent(1), signedA(2), signedB(3),
		contract.PartyRejected{PartyID: "role-c", SignerAccountID: acctLi, ClientIP: ipLi, RejectedAt: at(4),
			Reason: "联系 +86 138 0013 8000、１３８００１３８０００ 或 " + strings.ToUpper(emailZhang) + "，身份证 " + idNumber})
	rev := uuid.NewString()
	w.add(contract.StreamOf(rev), sender, ipLi, created(rev, true), contract.ContractSubmittedForApproval{Approvers: []string{approver1}, SubmittedAt: at(1)},
		contract.ContractApprovalRejected{ApproverID: approver1, Reason: "call 13800138000 / mail lin.xiao@example.com.", RejectedAt: at(2), Approvers: []string{approver1}})
	w.add(filing.DeskStream(acctZhang), acctZhang, ipZhang, filing.FolderCreated{FolderID: "f1", Name: "采购", CreatedAt: at(3)},
		filing.ContractFiled{ContractID: id, FolderID: "f1", FiledAt: at(3)})
	w.sync()
	var all []string
	for _, d := range w.docs {
		b, _ := json.Marshal(d)
		all = append(all, string(b))
	}
	for _, r := range w.records {
		b, _ := json.Marshal(r)
		all = append(all, string(b))
	}
	if len(w.records) != 15 || len(w.docs) != 2 {
		t.Fatalf("%d records and %d documents", len(w.records), len(w.docs))
	}
	secrets := []string{phoneWang, phoneLi, emailZhang, "lin.xiao", idNumber, idLegalRep, "1231002", "argon2id", ipWang, "198.51.100.7",
		"8a2e:370:7348", "0013", "5711", "１３８"}
	for _, s := range all {
		for _, secret := range secrets {
			if strings.Contains(strings.ToLower(s), strings.ToLower(secret)) {
				t.Errorf("%q found in %s", secret, s)
			}
		}
	}
}

// The documents do not depend on how the log was cut into builds: event
// by event with a warm cache, or all at once by a fresh builder.
func TestBuildIsAFunctionOfHistory(t *testing.T) {
	w := newWorld(t)
	randomWorld(t, w, 40, 3)
	w.sync()
	cold := newWorld(t)
	cold.store = w.store
	cold.b = newBuilder(w.store)
	cold.sync()
	if len(cold.docs) != len(w.docs) {
		t.Fatalf("%d documents rebuilt, %d incremental", len(cold.docs), len(w.docs))
	}
	for id, d := range w.docs {
		a, _ := json.Marshal(d)
		b, _ := json.Marshal(cold.docs[id])
		if string(a) != string(b) {
			t.Fatalf("%s differs:\n%s\n%s", id, a, b)
		}
	}
	for id, r := range w.records {
		a, _ := json.Marshal(r)
		b, _ := json.Marshal(cold.records[id])
		if string(a) != string(b) {
			t.Fatalf("record %s differs:\n%s\n%s", id, a, b)
		}
	}
}

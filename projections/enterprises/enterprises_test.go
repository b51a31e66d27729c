package enterprises_test

import (
	"context"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"signet/domain/enterprise"
	"signet/domain/event"
	"signet/domain/fault"
	"signet/projections/enterprises"
)

// Tuesday 2026-12-01 10:00 in Shanghai.
var start = time.Date(2026, 12, 1, 10, 0, 0, 0, enterprise.Shanghai)

var platform = enterprise.PlatformAccount{Holder: "杭州尚尚签网络科技有限公司", Bank: "华夏银行", Branch: "华夏银行高新支行",
	AccountNumber: platAcct, BankCode: "304331040230"}

var acks = map[string]bool{"payment_terms": true, "matching_conditions": true}

// TestFullVerificationHistory drives one case through every willingness
// check the seed knows, checking the view along the way, and then scans
// every key, field and member the projection wrote for personal numbers.
func TestFullVerificationHistory(t *testing.T) {
	w := newWorld(t, start)
	k := w.create(creator)
	c := creator

	v := w.view(k.id)
	if v.Step != "materials" || v.CreatedBy != c || !v.CreatedAt.Equal(start) || v.License != nil {
		t.Fatalf("new case: %+v", v)
	}
	if want := []string{"license", "legal_rep.portrait", "legal_rep.emblem", "materials", "willingness"}; !slices.Equal(v.Missing, want) {
		t.Fatalf("missing = %v, want %v", v.Missing, want)
	}
	if role, _ := w.reader.Access(w.ctx, k.id, c); role != enterprises.RoleCreator {
		t.Fatalf("creator's access = %q", role)
	}

	k.must(c, func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
		return e.UploadIDCard(c, enterprise.Agent, enterprise.Portrait, file("agent-first"), enterprise.IDCardFields{Name: agentName, IDNumber: agentID}, "test", now)
	})
	if v := w.view(k.id); !slices.Equal(v.Missing, []string{"license", "agent.emblem", "materials", "willingness"}) {
		t.Fatalf("agent uploading: missing = %v", v.Missing)
	}

	k.prepare(enterprise.Agent)
	v = w.view(k.id)
	if v.Step != "willingness" || v.Name != entName || v.USCC != entUSCC || v.Operator != "agent" ||
		v.LegalRepID != "110*****02X" || v.AgentID != "440*****013" || v.AgentName != agentName {
		t.Fatalf("submitted: %+v", v)
	}
	if v.License == nil || v.License.SHA256 != "sha-license" || v.License.Recognized.USCC != entUSCC || v.License.Recognized.LegalRep != legalName {
		t.Fatalf("license: %+v", v.License)
	}
	if p := v.IDCards.LegalRep.Portrait; p == nil || p.IDNumber != "110*****02X" || p.Name != legalName {
		t.Fatalf("legal rep portrait: %+v", p)
	}
	if e := v.IDCards.Agent.Emblem; e == nil || e.ValidUntil != "长期" {
		t.Fatalf("agent emblem: %+v", e)
	}
	if !v.Consents.PersonalData.Accepted || v.Consents.PersonalData.Version != "2026-11" || !v.Consents.PhoneFollowup.Accepted {
		t.Fatalf("consents: %+v", v.Consents)
	}
	if v.MaterialsExpiresAt == nil || !v.MaterialsExpiresAt.Equal(start.Add(enterprise.MaterialsValidFor)) || v.Deadlines.Materials == nil {
		t.Fatalf("materials deadline: %v", v.MaterialsExpiresAt)
	}
	if !slices.Equal(v.Missing, []string{"willingness"}) {
		t.Fatalf("missing = %v", v.Missing)
	}

	// Legal representative's phone: a carrier mismatch, then two wrong codes.
	k.choose(enterprise.MethodLegalRepPhone)
	k.refused(c, func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
		return e.CheckCarrier(c, enterprise.MethodLegalRepPhone, phoneWrong, enterprise.CarrierResult{Reason: "name_mismatch"}, now)
	})
	k.must(c, func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
		return e.CheckCarrier(c, enterprise.MethodLegalRepPhone, phoneLegal, enterprise.CarrierResult{Match: true}, now)
	})
	v = w.view(k.id)
	if p := v.Willingness.Phone; v.Willingness.Method != "legal_rep_phone" || p == nil || p.Person != "legal_rep" || p.CodeSentTo != "138****8000" {
		t.Fatalf("code sent: %+v", v.Willingness)
	}
	if v.Willingness.Face != nil || v.Willingness.Letter != nil || v.Willingness.Deposit != nil {
		t.Fatalf("phone method shows other checks: %+v", v.Willingness)
	}
	wrongCode := fault.New(fault.Invalid, "wrong_code", "That code is wrong.")
	k.refused(c, func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
		return e.ConfirmPhone(c, enterprise.MethodLegalRepPhone, wrongCode, intp(4), now)
	})
	w.now = w.now.Add(time.Minute)
	k.refused(c, func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
		return e.ConfirmPhone(c, enterprise.MethodLegalRepPhone, wrongCode, intp(0), now)
	})
	v = w.view(k.id)
	if v.Willingness.Phone.CodeSentTo != "" {
		t.Fatalf("a burnt code still awaited: %+v", v.Willingness.Phone)
	}
	if len(v.Failures) != 3 {
		t.Fatalf("failures: %+v", v.Failures)
	}
	if f := v.Failures[0]; f.Reason != "wrong_code" || f.Step != "code" || f.AttemptsLeft == nil || *f.AttemptsLeft != 0 || f.Detail != "phone 138****8000" || !f.At.Equal(w.now) {
		t.Fatalf("newest failure: %+v", f)
	}
	if f := v.Failures[2]; f.Reason != "name_mismatch" || f.Step != "carrier" || f.Detail != "phone 139****5678" {
		t.Fatalf("oldest failure: %+v", f)
	}

	// Face: one failed scan, a second attempt, then over the daily limit.
	k.choose(enterprise.MethodLegalRepFace)
	if f := w.view(k.id).Willingness.Face; f == nil || f.AttemptsLeftToday != 3 || f.Person != "legal_rep" || f.SessionID != "" {
		t.Fatalf("face before scans: %+v", f)
	}
	for attempt := 1; attempt <= 2; attempt++ {
		sid := "face-" + string(rune('0'+attempt))
		k.must(c, func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
			return e.StartFace(c, enterprise.MethodLegalRepFace, enterprise.FaceStart{SessionID: sid, QRURL: "https://face.example/" + sid,
				ExpiresAt: now.Add(10 * time.Minute), Attempt: attempt}, now)
		})
		if attempt == 1 {
			k.must(c, func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
				return e.FaceResult(sid, false, 0.2, "", now)
			})
		}
	}
	v = w.view(k.id)
	if f := v.Willingness.Face; f.AttemptsLeftToday != 1 || f.SessionID != "face-2" || f.QRURL != "https://face.example/face-2" ||
		f.ExpiresAt == nil || !f.ExpiresAt.Equal(w.now.Add(10*time.Minute)) || v.Deadlines.FaceSession == nil {
		t.Fatalf("face after two scans: %+v", f)
	}
	if f := v.Failures[0]; f.Reason != "face_mismatch" || f.Detail != "session face-1" {
		t.Fatalf("face failure: %+v", f)
	}
	k.refused(c, func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
		return e.CheckFaceStart(c, enterprise.MethodLegalRepFace, 4, now)
	})
	if f := w.view(k.id).Willingness.Face; f.AttemptsLeftToday != 0 {
		t.Fatalf("over the limit: %+v", f)
	}
	w.now = time.Date(2026, 12, 2, 0, 0, 1, 0, enterprise.Shanghai)
	if f := w.view(k.id).Willingness.Face; f.AttemptsLeftToday != 3 {
		t.Fatalf("next Shanghai day: %+v", f)
	}

	// Authorization letter: rejected (the reason quotes an ID number), then
	// uploaded again and left under review while the operator switches.
	k.letterUploaded()
	v = w.view(k.id)
	if v.Step != "review" || v.Willingness.Letter == nil || v.Willingness.Letter.Status != "pending" || v.Deadlines.Review == nil {
		t.Fatalf("letter uploaded: %+v", v.Willingness.Letter)
	}
	if p := v.Willingness.Phone; p == nil || p.Person != "agent" || p.Verified != "150****2345" || p.VerifiedAt == nil {
		t.Fatalf("agent phone: %+v", p)
	}
	if f := v.Willingness.Face; f == nil || f.Person != "agent" || f.AttemptsLeftToday != 3 || f.SessionID != "" {
		t.Fatalf("agent face: %+v", f)
	}
	k.must("acct-reviewer", func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
		return e.ReviewLetter("acct-reviewer", false, "公章不清晰；经办人身份证 "+agentID+" 与授权书不符", now)
	})
	v = w.view(k.id)
	if l := v.Willingness.Letter; v.Step != "willingness" || l.Status != "rejected" || l.RejectReason != "公章不清晰；经办人身份证 440*****013 与授权书不符" {
		t.Fatalf("rejected: step %s, %+v", v.Step, l)
	}
	if items, _ := w.reader.PendingLetters(w.ctx, 10); len(items) != 0 {
		t.Fatalf("rejected letter still queued: %+v", items)
	}
	k.upload("sha-stamped-again")
	if items, _ := w.reader.PendingLetters(w.ctx, 10); len(items) != 0 {
		t.Fatal("queue read before sync must not see the upload")
	}
	w.sync()
	items, err := w.reader.PendingLetters(w.ctx, 10)
	if err != nil || len(items) != 1 || items[0].EnterpriseID != k.id || items[0].UploadedSHA256 != "sha-stamped-again" || items[0].AgentName != agentName {
		t.Fatalf("queue: %+v, %v", items, err)
	}
	if l := w.view(k.id).Willingness.Letter; l.RejectReason != "" || l.Status != "pending" {
		t.Fatalf("uploaded again: %+v", l)
	}

	// Micro deposit: a wrong amount, then the bank fails the transfer.
	k.choose(enterprise.MethodMicroDeposit)
	k.must(c, func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
		return e.RequestMicroDeposit(c, enterprise.BankAccount{Bank: "招商银行", Branch: "杭州高新支行", Province: "浙江", City: "杭州",
			AccountNumber: "6214 8301 2345 6789"}, "tr-1", amountFen, now)
	})
	k.refused(c, func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
		return e.ConfirmMicroDeposit(c, 12, now)
	})
	v = w.view(k.id)
	if d := v.Willingness.Deposit; v.Step != "willingness" || d == nil || d.Account != "****6789" || d.AttemptsLeft != 2 || d.Holder != entName ||
		d.Deadline == nil || !d.Deadline.Equal(w.now.Add(enterprise.MicroDepositValidFor)) || d.Expired {
		t.Fatalf("deposit: step %s, %+v", v.Step, d)
	}
	if v.Willingness.Letter == nil || v.Willingness.Letter.Status != "pending" {
		t.Fatal("the letter's progress must stay visible after switching")
	}
	if items, _ := w.reader.PendingLetters(w.ctx, 10); len(items) != 0 {
		t.Fatalf("a letter of a case that switched away is not reviewable: %+v", items)
	}
	k.must("bank", func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
		return e.MicroDepositFailed("tr-1", "account_closed", now)
	})
	if d := w.view(k.id).Willingness.Deposit; d.FailedReason != "account_closed" {
		t.Fatalf("deposit failed: %+v", d)
	}
	k.must(c, func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
		return e.RequestMicroDeposit(c, enterprise.BankAccount{Bank: "招商银行", Branch: "杭州高新支行", Province: "浙江", City: "杭州",
			AccountNumber: acctNumber}, "tr-2", amountFen, now)
	})
	if d := w.view(k.id).Willingness.Deposit; d.TransferID != "tr-2" || d.AttemptsLeft != 3 || d.FailedReason != "" {
		t.Fatalf("new deposit: %+v", d)
	}
	w.now = w.now.Add(enterprise.MicroDepositValidFor + time.Second)
	if d := w.view(k.id).Willingness.Deposit; !d.Expired {
		t.Fatalf("deposit past its deadline: %+v", d)
	}

	// Reverse deposit: one payment of the wrong amount, then the right one.
	k.choose(enterprise.MethodReverse)
	k.must(c, func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
		return e.RequestReverseDeposit(c, "REF123", acks, platform, now)
	})
	w.appendTo(enterprise.DepositRefStream("REF123"), enterprise.DepositReferenceIssued{Reference: "REF123", EnterpriseID: k.id, IssuedAt: w.now})
	wrong := enterprise.StatementLine{StatementID: "st-1", PayerName: entName, PayerAccount: payerAcct, PayerAccountType: "corporate",
		AmountFen: 100, Currency: "CNY", PaidAt: w.now, PayeeAccount: platAcct, Memo: "REF123"}
	w.appendTo(enterprise.StatementStream("st-1"), enterprise.BankStatementReceived{Statement: wrong, EnterpriseID: k.id, Outcome: "mismatched", ReceivedAt: w.now})
	k.must("bank", func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
		return e.MatchStatement(wrong, now)
	})
	v = w.view(k.id)
	r := v.Willingness.Reverse
	if r == nil || r.Reference != "REF123" || r.AmountFen != 1 || r.PayTo == nil || r.PayTo.AccountNumber != platAcct || r.NotBefore == nil || r.MatchedAt != nil {
		t.Fatalf("reverse: %+v", r)
	}
	if len(r.Mismatches) != 1 || r.Mismatches[0].Reason != "amount_mismatch" || r.Mismatches[0].AmountFen != 100 || r.Mismatches[0].PayerName != entName {
		t.Fatalf("mismatches: %+v", r.Mismatches)
	}
	if v.Willingness.Deposit == nil || v.Willingness.Deposit.TransferID != "tr-2" {
		t.Fatal("the deposit's progress must stay visible after switching")
	}
	right := wrong
	right.StatementID, right.AmountFen = "st-2", 1
	w.appendTo(enterprise.StatementStream("st-2"), enterprise.BankStatementReceived{Statement: right, EnterpriseID: k.id, Outcome: "matched", ReceivedAt: w.now})
	w.appendTo(enterprise.USCCStream(entUSCC), enterprise.USCCReserved{USCC: entUSCC, EnterpriseID: k.id, ReservedAt: w.now})
	k.must("bank", func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
		return e.MatchStatement(right, now)
	})
	v = w.view(k.id)
	if v.Step != "verified" || v.VerifiedAt == nil || v.VerifiedMethod != "reverse_deposit" || v.Quota != enterprise.EnterpriseQuota ||
		len(v.Missing) != 0 || v.Willingness.Reverse.MatchedAt == nil || v.MaterialsExpired || v.Deadlines.Deposit != nil {
		t.Fatalf("verified: %+v", v)
	}
	if v.Version != k.agg.Version() {
		t.Fatalf("version %d, stream at %d", v.Version, k.agg.Version())
	}

	// Members.
	k.must(c, func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
		return e.Invite(c, "inv-1", "hash-1", enterprise.Member, now)
	})
	k.must(c, func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
		return e.Invite(c, "inv-2", "hash-2", enterprise.Admin, now)
	})
	w.appendTo(enterprise.InvitationStream("hash-1"), enterprise.InvitationTokenRegistered{EnterpriseID: k.id, InvitationID: "inv-1", RegisteredAt: w.now})
	for _, j := range []struct{ acct, inv string }{{"acct-m1", "inv-1"}, {"acct-a1", "inv-2"}, {"acct-m2", "inv-1"}} {
		k.must(j.acct, func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
			return e.Join(j.acct, j.inv, now)
		})
	}
	k.must(c, func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
		return e.ChangeRole(c, "acct-m1", enterprise.Admin, now)
	})
	k.must(c, func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
		return e.RemoveMember(c, "acct-a1", now)
	})
	w.sync()
	members, err := w.reader.Members(w.ctx, k.id)
	want := []enterprises.MemberView{{creator, "master_admin"}, {"acct-m1", "admin"}, {"acct-m2", "member"}}
	if err != nil || !reflect.DeepEqual(members, want) {
		t.Fatalf("members = %+v, %v; want %+v", members, err, want)
	}
	for acct, role := range map[string]string{c: "master_admin", "acct-m1": "admin", "acct-m2": "member", "acct-a1": "", "acct-x": ""} {
		if got, err := w.reader.Access(w.ctx, k.id, acct); err != nil || got != role {
			t.Errorf("Access(%s) = %q, %v; want %q", acct, got, err, role)
		}
	}
	list, err := w.reader.EnterprisesOf(w.ctx, c)
	if err != nil || len(list) != 1 || list[0] != (enterprises.Summary{ID: k.id, Name: entName, Step: "verified", Role: "master_admin", Verified: true, CreatedAt: start.UTC()}) {
		t.Fatalf("enterprises of creator: %+v, %v", list, err)
	}
	if list, _ := w.reader.EnterprisesOf(w.ctx, "acct-a1"); len(list) != 0 {
		t.Fatalf("removed member still lists it: %+v", list)
	}
	if items, _ := w.reader.PendingLetters(w.ctx, 10); len(items) != 0 {
		t.Fatalf("verified case still queued: %+v", items)
	}

	// Round trip through JSON as readapi sends it.
	raw, err := json.Marshal(w.view(k.id))
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range secrets() {
		if strings.Contains(string(raw), secret) {
			t.Errorf("case JSON holds %q", secret)
		}
	}
	scanForSecrets(t, w)
}

// secrets are the raw personal numbers the history above carries. The
// platform's own account (pay_to) is public and not among them.
func secrets() []string {
	return []string{legalID, agentID, phoneWrong, phoneLegal, phoneAgent, acctNumber, "6214 8301 2345 6789", payerAcct, "0.37"}
}

// amountJSON is how the micro-deposit amount travels in event JSON.
const amountJSON = `"amount_fen":37`

// scanForSecrets reads every key under the test's prefix, whatever its
// type, and fails on any raw ID number, phone, account number or the
// micro-deposit amount in a key, field, value or member.
func scanForSecrets(t *testing.T, w *world) {
	t.Helper()
	ctx := w.ctx
	keys, err := w.db.Keys(ctx, w.db.Prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) < 5 {
		t.Fatalf("only %d keys written: %v", len(keys), keys)
	}
	check := func(key, what, s string) {
		for _, secret := range secrets() {
			if strings.Contains(s, secret) {
				t.Errorf("%s %s holds %q: %q", key, what, secret, s)
			}
		}
		if strings.Contains(s, amountJSON) {
			t.Errorf("%s %s holds the micro-deposit amount: %q", key, what, s)
		}
	}
	// A hash field about the deposit or an amount must not hold it either.
	checkField := func(key, field, value string) {
		if (strings.Contains(field, "amount") || strings.HasPrefix(field, "deposit")) && value == "37" {
			t.Errorf("%s field %s holds the micro-deposit amount", key, field)
		}
	}
	scanned := 0
	for _, key := range keys {
		check(key, "name", key)
		typ, err := w.db.Type(ctx, key).Result()
		if err != nil {
			t.Fatal(err)
		}
		var parts []string
		switch typ {
		case "hash":
			m, err := w.db.HGetAll(ctx, key).Result()
			if err != nil {
				t.Fatal(err)
			}
			for f, v := range m {
				checkField(key, f, v)
				parts = append(parts, f, v)
			}
		case "zset":
			parts, err = w.db.ZRange(ctx, key, 0, -1).Result()
		case "set":
			parts, err = w.db.SMembers(ctx, key).Result()
		case "list":
			parts, err = w.db.LRange(ctx, key, 0, -1).Result()
		case "string":
			var s string
			s, err = w.db.Get(ctx, key).Result()
			parts = []string{s}
		default:
			t.Fatalf("%s has type %s", key, typ)
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range parts {
			check(key, "entry", p)
			scanned++
		}
	}
	if scanned < 100 {
		t.Fatalf("scanned only %d entries", scanned)
	}
	// The scan must be able to fail: the events themselves hold every secret.
	evs, err := w.store.ReadAll(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	for _, e := range evs {
		log.Write(e.Data)
	}
	for _, secret := range []string{legalID, agentID, phoneLegal, phoneAgent, acctNumber, payerAcct, amountJSON} {
		if !strings.Contains(log.String(), secret) {
			t.Errorf("the history never carried %q: the scan proves nothing about it", secret)
		}
	}
}

// TestReviewQueue: letters are listed by review due date, leave the queue
// when reviewed, resubmitted or verified, and hide while their case uses
// another method.
func TestReviewQueue(t *testing.T) {
	w := newWorld(t, start)
	a := w.create(creator)
	a.prepare(enterprise.Agent)
	a.letterUploaded()
	w.now = w.now.Add(2 * time.Hour)
	b := w.create(creator)
	b.prepare(enterprise.Agent)
	b.letterUploaded()
	// Saturday: due Tuesday 09:00, after a's and b's Wednesday.
	w.now = time.Date(2026, 12, 5, 15, 0, 0, 0, enterprise.Shanghai)
	c := w.create(creator)
	c.prepare(enterprise.Agent)
	c.letterUploaded()
	w.sync()

	ids := func(limit int) []string {
		t.Helper()
		items, err := w.reader.PendingLetters(w.ctx, limit)
		if err != nil {
			t.Fatal(err)
		}
		out := []string{}
		for _, it := range items {
			out = append(out, it.EnterpriseID)
		}
		return out
	}
	if got := ids(10); !slices.Equal(got, []string{a.id, b.id, c.id}) {
		t.Fatalf("queue = %v", got)
	}
	items, _ := w.reader.PendingLetters(w.ctx, 1)
	wantDue := time.Date(2026, 12, 2, 10, 0, 0, 0, enterprise.Shanghai)
	if len(items) != 1 || items[0].Name != entName || items[0].USCC != entUSCC || items[0].LegalRepName != legalName ||
		items[0].ReviewDue == nil || !items[0].ReviewDue.Equal(wantDue) || items[0].Reference != "SQ-"+a.id[:8] || items[0].UploadedAt == nil {
		t.Fatalf("first item: %+v", items)
	}
	if got := ids(0); len(got) != 0 {
		t.Fatalf("limit 0: %v", got)
	}

	a.choose(enterprise.MethodMicroDeposit)
	w.sync()
	if got := ids(2); !slices.Equal(got, []string{b.id, c.id}) {
		t.Fatalf("after a switched away: %v", got)
	}
	a.choose(enterprise.MethodLetter)
	w.sync()
	if got := ids(10); !slices.Equal(got, []string{a.id, b.id, c.id}) {
		t.Fatalf("after a switched back: %v", got)
	}
	if v := w.view(a.id); v.Step != "review" {
		t.Fatalf("a switched back: step %s", v.Step)
	}

	w.appendTo(enterprise.USCCStream(entUSCC), enterprise.USCCReserved{USCC: entUSCC, EnterpriseID: b.id, ReservedAt: w.now})
	b.must("acct-reviewer", func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
		return e.ReviewLetter("acct-reviewer", true, "", now)
	})
	a.submit(enterprise.Agent)
	w.sync()
	if got := ids(10); !slices.Equal(got, []string{c.id}) {
		t.Fatalf("after approving b and resubmitting a: %v", got)
	}
	vb := w.view(b.id)
	if vb.Step != "verified" || vb.VerifiedMethod != "authorization_letter" || vb.Willingness.Letter.Status != "approved" || vb.Willingness.Letter.ReviewedAt == nil {
		t.Fatalf("b approved: %+v", vb)
	}
	va := w.view(a.id)
	if va.Step != "willingness" || va.Willingness.Method != "" || va.Willingness.Letter != nil || va.Willingness.Deposit != nil || va.Willingness.Phone != nil {
		t.Fatalf("a resubmitted: %+v", va.Willingness)
	}

	list, err := w.reader.EnterprisesOf(w.ctx, creator)
	if err != nil || len(list) != 3 {
		t.Fatalf("enterprises: %+v, %v", list, err)
	}
	if list[0].ID != c.id || list[0].Role != "creator" || list[0].Step != "review" || list[0].Verified {
		t.Fatalf("newest first: %+v", list)
	}
	for _, s := range list {
		if s.ID == b.id && (s.Role != "master_admin" || !s.Verified) {
			t.Fatalf("b: %+v", s)
		}
	}
}

func TestMaterialsLapse(t *testing.T) {
	w := newWorld(t, start)
	k := w.create(creator)
	k.prepare(enterprise.LegalRep)
	v := w.view(k.id)
	if v.MaterialsExpired || !slices.Equal(v.Missing, []string{"willingness"}) || v.IDCards.Agent.Portrait == nil {
		t.Fatalf("fresh: %+v", v)
	}
	w.now = start.Add(enterprise.MaterialsValidFor + time.Second)
	v = w.view(k.id)
	if !v.MaterialsExpired || !slices.Equal(v.Missing, []string{"materials", "willingness"}) {
		t.Fatalf("lapsed: expired=%v missing=%v", v.MaterialsExpired, v.Missing)
	}
}

func TestNotFound(t *testing.T) {
	w := newWorld(t, start)
	k := w.create(creator)
	w.sync()
	for _, id := range []string{"00000000-0000-0000-0000-000000000000", "", k.id + ":failures", "*", strings.Repeat("a", 65)} {
		_, err := w.reader.Case(w.ctx, id)
		if f, ok := fault.As(err); !ok || f.Kind != fault.NotFound || f.Code != "enterprise_not_found" {
			t.Errorf("Case(%q): %v", id, err)
		}
		if role, err := w.reader.Access(w.ctx, id, creator); role != "" || err != nil {
			t.Errorf("Access(%q) = %q, %v", id, role, err)
		}
		if m, err := w.reader.Members(w.ctx, id); len(m) != 0 || err != nil {
			t.Errorf("Members(%q) = %v, %v", id, m, err)
		}
	}
	if list, err := w.reader.EnterprisesOf(w.ctx, "nobody"); err != nil || list == nil || len(list) != 0 {
		t.Fatalf("EnterprisesOf(nobody) = %#v, %v", list, err)
	}
}

func TestHandleIgnoresOtherStreams(t *testing.T) {
	data, _ := json.Marshal(enterprise.USCCReserved{USCC: entUSCC, EnterpriseID: "e1"})
	for _, stream := range []string{enterprise.USCCStream(entUSCC), "account-1", "depositref-X", "bankstatement-1", "invitation-1", "depositpayer-1"} {
		ops, err := enterprises.Projection{}.Handle(context.Background(), event.Envelope{Stream: stream, Version: 1, Type: enterprise.TypeUSCCReserved, Schema: 1, Data: data})
		if ops != nil || err != nil {
			t.Errorf("%s: %v, %v", stream, ops, err)
		}
	}
	bad := []event.Envelope{
		{Stream: "enterprise-e1", Version: 1, Type: "Nonsense", Schema: 1, Data: []byte(`{}`)},
		{Stream: "enterprise-e1", Version: 1, Type: enterprise.TypeEnterpriseCreated, Schema: 1, Data: []byte(`[`)},
		{Stream: "enterprise-a:b", Version: 1, Type: enterprise.TypeEnterpriseCreated, Schema: 1, Data: []byte(`{}`)},
	}
	for _, e := range bad {
		if _, err := (enterprises.Projection{}).Handle(context.Background(), e); err == nil {
			t.Errorf("%s %s: no error", e.Stream, e.Type)
		}
	}
	if (enterprises.Projection{}).Name() != enterprises.Name || enterprises.Name != "enterprises" {
		t.Fatal("name")
	}
}

func intp(n int) *int { return &n }

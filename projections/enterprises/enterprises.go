// Package enterprises is the read model of enterprise verification cases
// and their members: what the operator sees while verifying (and after
// logging in again), who belongs to which enterprise, and the queue of
// authorization letters waiting for a platform reviewer.
//
// Personal data stays masked: no full ID number, phone number, bank account
// number or micro-deposit amount reaches Redis.
package enterprises

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"signet/domain/enterprise"
	"signet/domain/event"
	"signet/domain/identity"
	"signet/projections"
)

// Name is the projection's stable name (consumer, checkpoint, key namespace).
const Name = "enterprises"

// Keys of the read model, relative to its namespace.
func caseKey(eid string) string     { return "case:" + eid }
func failuresKey(eid string) string { return "case:" + eid + ":failures" }
func reverseKey(eid string) string  { return "case:" + eid + ":reverse" }
func membersKey(eid string) string  { return "members:" + eid }
func accountKey(aid string) string  { return "account:" + aid + ":enterprises" }

// Seals and the approval policy: the seals of an enterprise in creation
// order, each seal's document, the seals granted to each member (so that
// removing a member drops all its grants at once) and the named approvers
// in their order.
func sealsKey(eid string) string       { return "seals:" + eid }
func sealKey(eid, sid string) string   { return "seal:" + eid + ":" + sid }
func grantsKey(eid, aid string) string { return "grants:" + eid + ":" + aid }
func approversKey(eid string) string   { return "approvers:" + eid }

// reviewsKey is the one global sorted set: it holds only letters waiting
// for review, a handful at any time.
const reviewsKey = "reviews:letters"

// roleCreator is the account index's role of the account that started an
// unverified case; MemberJoined replaces it.
const roleCreator = "creator"

// Per-method and per-person hash fields.
func phoneField(m enterprise.Method, f string) string { return "phone." + string(m) + "." + f }
func faceVerifiedField(m enterprise.Method) string    { return "face." + string(m) + ".verified_at" }
func faceAttemptField(p enterprise.Person) string     { return "face." + string(p) + ".attempt" }
func faceDayField(p enterprise.Person) string         { return "face." + string(p) + ".day" }
func idCardField(p enterprise.Person, s enterprise.Side, f string) string {
	return "idcard." + string(p) + "." + string(s) + "." + f
}

// willingnessFields is every field a new submission of the materials
// forgets, as the aggregate forgets its willingness progress. Face attempts
// are not among them: they count per person and day, not per submission.
var willingnessFields = func() []string {
	fs := []string{
		"method",
		"face_session", "face_qr_url", "face_expires_at", "face_method", "face_person", "face_started_at",
		"letter_reference", "letter_generated_sha256", "letter_generated_at", "letter_uploaded_sha256",
		"letter_uploaded_at", "letter_review_due", "letter_status", "letter_reject_reason", "letter_reviewed_at",
		"deposit_transfer_id", "deposit_account", "deposit_bank", "deposit_branch", "deposit_holder",
		"deposit_deadline", "deposit_requested_at", "deposit_wrong", "deposit_failed_transfer",
		"deposit_failed_reason", "deposit_confirmed_at",
		"reverse_reference", "reverse_payer_name", "reverse_amount_fen", "reverse_pay_to_holder",
		"reverse_pay_to_bank", "reverse_pay_to_branch", "reverse_pay_to_account", "reverse_pay_to_bank_code",
		"reverse_not_before", "reverse_requested_at", "reverse_matched_at",
	}
	for _, m := range enterprise.Methods {
		fs = append(fs, phoneField(m, "pending"), phoneField(m, "person"), phoneField(m, "verified"),
			phoneField(m, "verified_at"), faceVerifiedField(m))
	}
	return fs
}()

// Failure is one refused willingness step, newest first in CaseView.
type Failure struct {
	At           time.Time `json:"at"`
	Method       string    `json:"method"`
	Step         string    `json:"step"`
	Reason       string    `json:"reason"`
	Detail       string    `json:"detail,omitempty"`
	AttemptsLeft *int      `json:"attempts_left,omitempty"`
	Version      uint64    `json:"version"` // keeps equal failures apart in the sorted set
}

// Mismatch is a payment attributed to the case that broke a reverse-deposit
// condition. The payer's account number is never kept.
type Mismatch struct {
	At        time.Time `json:"at"`
	Reason    string    `json:"reason"`
	Detail    string    `json:"detail"`
	PayerName string    `json:"payer_name"`
	AmountFen int64     `json:"amount_fen"`
	PaidAt    time.Time `json:"paid_at"`
	Version   uint64    `json:"version"`
}

// Projection maps enterprise events to the read model.
type Projection struct{}

func (Projection) Name() string { return Name }

// Handle ignores every stream but "enterprise-<id>" and the quota ledger
// "enterprisequota-<id>" (the index streams uscc-, depositref-,
// depositpayer-, bankstatement- and invitation- carry nothing a reader
// needs).
func (Projection) Handle(_ context.Context, e event.Envelope) ([]projections.Op, error) {
	category := event.Category(e.Stream)
	if category != enterprise.Category && category != enterprise.QuotaCategory {
		return nil, nil
	}
	eid := strings.TrimPrefix(e.Stream, category+"-")
	if !projections.ValidID(eid) {
		return nil, fmt.Errorf("%s@%d: enterprise ID not usable as a key", e.Stream, e.Version)
	}
	ev, err := enterprise.DecodeEnvelope(e)
	if err != nil {
		return nil, err
	}
	if used, ok := ev.(enterprise.ContractQuotaUsed); ok && category == enterprise.QuotaCategory {
		// The ledger's running count, set idempotently; the case's version
		// stays the enterprise stream's.
		return []projections.Op{projections.HSet(caseKey(eid), "quota_used", int64(used.Used))}, nil
	}
	if category != enterprise.Category {
		return nil, fmt.Errorf("%s@%d: %s outside the quota ledger", e.Stream, e.Version, e.Type)
	}
	b := &builder{eid: eid, version: e.Version}
	b.event(ev)
	return b.ops(), nil
}

// builder collects an event's writes: deletions from the case hash, then
// its new fields, then the other documents.
type builder struct {
	eid     string
	version uint64
	del     []string
	set     []any
	other   []projections.Op
}

func (b *builder) hset(kv ...any) { b.set = append(b.set, kv...) }
func (b *builder) add(op ...projections.Op) {
	b.other = append(b.other, op...)
}

func (b *builder) ops() []projections.Op {
	var out []projections.Op
	if len(b.del) > 0 {
		out = append(out, projections.HDel(caseKey(b.eid), b.del...))
	}
	out = append(out, projections.HSet(caseKey(b.eid), append(b.set, "version", strconv.FormatUint(b.version, 10))...))
	return append(out, b.other...)
}

func (b *builder) event(ev enterprise.Event) {
	c := caseKey(b.eid)
	switch ev := ev.(type) {
	case enterprise.EnterpriseCreated:
		b.hset("id", b.eid, "created_by", ev.CreatedBy, "created_at", ts(ev.CreatedAt))
		b.add(projections.HSet(accountKey(ev.CreatedBy), b.eid, roleCreator))
	case enterprise.LicenseUploaded:
		b.hset("license_sha256", ev.File.SHA256, "license_size", ev.File.Size, "license_media_type", ev.File.MediaType,
			"license_uploaded_at", ts(ev.UploadedAt), "license_name", scrub(ev.Recognized.Name),
			"license_uscc", ev.Recognized.USCC, "license_legal_rep", scrub(ev.Recognized.LegalRep))
	case enterprise.IDCardUploaded:
		if !knownPerson(ev.Person) || !knownSide(ev.Side) {
			return
		}
		f := func(name string) string { return idCardField(ev.Person, ev.Side, name) }
		b.hset(f("uploaded_at"), ts(ev.UploadedAt), f("name"), scrub(ev.Recognized.Name),
			f("id_number"), identity.MaskIDNumber(ev.Recognized.IDNumber), f("valid_until"), scrub(ev.Recognized.ValidUntil))
	case enterprise.MaterialsSubmitted:
		b.del = append(b.del, willingnessFields...)
		b.hset("name", ev.Name, "uscc", ev.USCC, "legal_rep_name", ev.LegalRepName,
			"legal_rep_id", identity.MaskIDNumber(ev.LegalRepIDNumber), "operator", string(ev.Operator),
			"agent_name", ev.AgentName, "agent_id", identity.MaskIDNumber(ev.AgentIDNumber),
			"sole_proprietor", ev.SoleProprietor, "materials_submitted_at", ts(ev.SubmittedAt),
			"materials_expires_at", ts(ev.ExpiresAt),
			"consent_personal_data", ev.PersonalData.Accepted, "consent_personal_data_version", ev.PersonalData.Version,
			"consent_phone_followup", ev.PhoneFollowup.Accepted, "consent_phone_followup_version", ev.PhoneFollowup.Version)
		b.add(projections.Del(reverseKey(b.eid)), projections.ZRem(reviewsKey, b.eid))
	case enterprise.WillingnessMethodChosen:
		// A letter left under review stays queued: switching back to the
		// letter makes it reviewable again, and readers skip it meanwhile.
		b.hset("method", string(ev.Method))
	case enterprise.WillingnessCheckFailed:
		b.failure(ev)
	case enterprise.MaterialsRefused:
		// Shown with the failures: the registry's "no" is why the case
		// is still at the materials step.
		b.add(projections.ZAdd(failuresKey(b.eid), float64(b.version), projections.MustJSON(Failure{At: ev.RefusedAt.UTC(), Step: "registry",
			Reason: ev.Reason, Detail: scrub(ev.Name + " " + ev.USCC), Version: b.version})))
	case enterprise.CarrierCheckPassed:
		b.hset(phoneField(ev.Method, "pending"), identity.MaskPhone(ev.Phone), phoneField(ev.Method, "person"), string(ev.Person))
	case enterprise.PhoneVerified:
		b.del = append(b.del, phoneField(ev.Method, "pending"))
		b.hset(phoneField(ev.Method, "verified"), identity.MaskPhone(ev.Phone), phoneField(ev.Method, "person"), string(ev.Person),
			phoneField(ev.Method, "verified_at"), ts(ev.VerifiedAt))
	case enterprise.FaceScanStarted:
		b.hset("face_session", ev.SessionID, "face_qr_url", ev.QRURL, "face_expires_at", ts(ev.ExpiresAt),
			"face_method", string(ev.Method), "face_person", string(ev.Person), "face_started_at", ts(ev.StartedAt))
		if knownPerson(ev.Person) {
			b.hset(faceAttemptField(ev.Person), ev.Attempt, faceDayField(ev.Person), day(ev.StartedAt))
		}
	case enterprise.FaceVerified:
		b.hset(faceVerifiedField(ev.Method), ts(ev.VerifiedAt))
	case enterprise.AuthorizationLetterGenerated:
		b.del = append(b.del, "letter_uploaded_sha256", "letter_uploaded_at", "letter_review_due", "letter_status",
			"letter_reject_reason", "letter_reviewed_at")
		b.hset("letter_reference", ev.Reference, "letter_generated_sha256", ev.File.SHA256, "letter_generated_at", ts(ev.GeneratedAt))
	case enterprise.AuthorizationLetterUploaded:
		b.del = append(b.del, "letter_reject_reason", "letter_reviewed_at")
		b.hset("letter_reference", ev.Reference, "letter_uploaded_sha256", ev.File.SHA256, "letter_uploaded_at", ts(ev.UploadedAt),
			"letter_review_due", ts(ev.ReviewDue), "letter_status", enterprise.LetterPending)
		b.add(projections.ZAdd(reviewsKey, float64(ev.ReviewDue.Unix()), b.eid))
	case enterprise.AuthorizationLetterApproved:
		b.hset("letter_status", enterprise.LetterApproved, "letter_reviewed_at", ts(ev.ReviewedAt))
		b.add(projections.ZRem(reviewsKey, b.eid))
	case enterprise.AuthorizationLetterRejected:
		b.hset("letter_status", enterprise.LetterRejected, "letter_reject_reason", scrub(ev.Reason), "letter_reviewed_at", ts(ev.ReviewedAt))
		b.add(projections.ZRem(reviewsKey, b.eid))
	case enterprise.MicroDepositRequested:
		// Never the amount: it is the secret the operator proves control with.
		b.del = append(b.del, "deposit_failed_transfer", "deposit_failed_reason", "deposit_confirmed_at")
		b.hset("deposit_transfer_id", ev.TransferID, "deposit_account", identity.MaskBankAccount(ev.Account.AccountNumber),
			"deposit_bank", ev.Account.Bank, "deposit_branch", ev.Account.Branch, "deposit_holder", ev.Account.Holder,
			"deposit_deadline", ts(ev.Deadline), "deposit_requested_at", ts(ev.RequestedAt), "deposit_wrong", 0)
	case enterprise.MicroDepositFailed:
		b.hset("deposit_failed_transfer", ev.TransferID, "deposit_failed_reason", scrub(ev.Reason))
	case enterprise.MicroDepositConfirmed:
		b.hset("deposit_confirmed_at", ts(ev.ConfirmedAt))
	case enterprise.ReverseDepositRequested:
		b.del = append(b.del, "reverse_matched_at")
		b.hset("reverse_reference", ev.Reference, "reverse_payer_name", ev.PayerName, "reverse_amount_fen", ev.AmountFen,
			"reverse_pay_to_holder", ev.PayTo.Holder, "reverse_pay_to_bank", ev.PayTo.Bank, "reverse_pay_to_branch", ev.PayTo.Branch,
			"reverse_pay_to_account", ev.PayTo.AccountNumber, "reverse_pay_to_bank_code", ev.PayTo.BankCode,
			"reverse_not_before", ts(ev.NotBefore), "reverse_requested_at", ts(ev.RequestedAt))
		b.add(projections.Del(reverseKey(b.eid)))
	case enterprise.ReverseDepositMismatched:
		m := Mismatch{At: ev.CheckedAt.UTC(), Reason: ev.Reason, Detail: scrub(ev.Detail), PayerName: scrub(ev.Statement.PayerName),
			AmountFen: ev.Statement.AmountFen, PaidAt: ev.Statement.PaidAt.UTC(), Version: b.version}
		b.add(projections.ZAdd(reverseKey(b.eid), float64(b.version), projections.MustJSON(m)))
	case enterprise.ReverseDepositMatched:
		b.hset("reverse_matched_at", ts(ev.MatchedAt))
	case enterprise.EnterpriseVerified:
		b.hset("verified_at", ts(ev.VerifiedAt), "verified_method", string(ev.Method), "master_admin", ev.MasterAdmin,
			"name", ev.Name, "uscc", ev.USCC, "legal_rep_name", ev.LegalRepName)
		b.add(projections.ZRem(reviewsKey, b.eid))
	case enterprise.ContractQuotaGranted:
		b.add(projections.HIncrBy(c, "quota", int64(ev.Amount)))
	case enterprise.MemberJoined:
		b.member(ev.AccountID, ev.Role)
	case enterprise.MemberRoleChanged:
		b.member(ev.AccountID, ev.Role)
	case enterprise.MemberRemoved:
		b.add(projections.HDel(membersKey(b.eid), ev.AccountID), projections.HDel(accountKey(ev.AccountID), b.eid),
			projections.ZRem(approversKey(b.eid), ev.AccountID))
		if projections.ValidID(ev.AccountID) {
			b.add(projections.Del(grantsKey(b.eid, ev.AccountID)))
		}
	case enterprise.SealCreated:
		if !projections.ValidID(ev.SealID) {
			return
		}
		b.add(projections.HSet(sealKey(b.eid, ev.SealID), "id", ev.SealID, "name", ev.Name, "default", ev.Default,
			"sha256", ev.File.SHA256, "size", ev.File.Size, "media_type", ev.File.MediaType,
			"created_by", ev.CreatedBy, "created_at", ts(ev.CreatedAt)),
			projections.ZAdd(sealsKey(b.eid), float64(b.version), ev.SealID))
	case enterprise.SealUseGranted:
		if projections.ValidID(ev.AccountID) {
			b.add(projections.SAdd(grantsKey(b.eid, ev.AccountID), ev.SealID))
		}
	case enterprise.SealUseRevoked:
		if projections.ValidID(ev.AccountID) {
			b.add(projections.SRem(grantsKey(b.eid, ev.AccountID), ev.SealID))
		}
	case enterprise.SealDisabled:
		if projections.ValidID(ev.SealID) {
			b.add(projections.HSet(sealKey(b.eid, ev.SealID), "disabled", true, "disabled_at", ts(ev.DisabledAt)))
		}
	case enterprise.ApprovalPolicySet:
		b.hset("approval_required", ev.Required, "approval_set_by", ev.SetBy, "approval_set_at", ts(ev.SetAt))
		b.add(projections.Del(approversKey(b.eid)))
		for i, a := range ev.Approvers {
			b.add(projections.ZAdd(approversKey(b.eid), float64(i), a))
		}
	}
}

func (b *builder) member(aid string, role enterprise.Role) {
	b.add(projections.HSet(membersKey(b.eid), aid, string(role)), projections.HSet(accountKey(aid), b.eid, string(role)))
}

func (b *builder) failure(ev enterprise.WillingnessCheckFailed) {
	f := Failure{At: ev.FailedAt.UTC(), Method: string(ev.Method), Step: ev.Step, Reason: ev.Reason,
		Detail: scrub(ev.Detail), AttemptsLeft: ev.AttemptsLeft, Version: b.version}
	b.add(projections.ZAdd(failuresKey(b.eid), float64(b.version), projections.MustJSON(f)))
	switch {
	case ev.Step == "code" && ev.AttemptsLeft != nil && *ev.AttemptsLeft == 0:
		// The code is burnt: a new one must be requested.
		b.del = append(b.del, phoneField(ev.Method, "pending"))
	case ev.Method == enterprise.MethodMicroDeposit && ev.Reason == "wrong_amount":
		b.add(projections.HIncrBy(caseKey(b.eid), "deposit_wrong", 1))
	case ev.Step == "face" && ev.Reason == "face_daily_limit":
		if p, ok := facePerson(ev.Method); ok {
			b.hset(faceAttemptField(p), enterprise.FaceScansPerDay, faceDayField(p), day(ev.FailedAt))
		}
	}
}

// facePerson is whose face a method scans.
func facePerson(m enterprise.Method) (enterprise.Person, bool) {
	switch m {
	case enterprise.MethodLegalRepFace:
		return enterprise.LegalRep, true
	case enterprise.MethodLetter:
		return enterprise.Agent, true
	}
	return "", false
}

// phonePerson is whose phone a method checks.
func phonePerson(m enterprise.Method) (enterprise.Person, bool) {
	switch m {
	case enterprise.MethodLegalRepPhone:
		return enterprise.LegalRep, true
	case enterprise.MethodLetter:
		return enterprise.Agent, true
	}
	return "", false
}

func knownPerson(p enterprise.Person) bool { return p == enterprise.LegalRep || p == enterprise.Agent }
func knownSide(s enterprise.Side) bool     { return s == enterprise.Portrait || s == enterprise.Emblem }

// ts is how times are stored: RFC 3339 in UTC, "" for none.
func ts(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// day is t's calendar day in Shanghai, the day face-scan limits count in.
func day(t time.Time) string { return t.In(enterprise.Shanghai).Format(time.DateOnly) }

package enterprises

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"signet/domain/enterprise"
	"signet/domain/fault"
	"signet/infra/redisdb"
	"signet/projections"
)

// ErrNotFound: there is no case with this ID (or the ID cannot be one).
var ErrNotFound = fault.New(fault.NotFound, "enterprise_not_found", "There is no such enterprise; check the enterprise ID.")

// RoleCreator is the role Access gives the account that started a case
// not yet verified (it becomes the master admin on verification).
const RoleCreator = roleCreator

// Bounds of the lists a case view carries.
const (
	maxFailures   = 50
	maxMismatches = 50
)

// CaseView is what the operator sees of a verification case. Personal
// numbers are masked.
type CaseView struct {
	ID                   string      `json:"id"`
	Step                 string      `json:"step"` // materials, willingness, review, verified
	CreatedBy            string      `json:"created_by"`
	CreatedAt            time.Time   `json:"created_at"`
	Name                 string      `json:"name"`
	USCC                 string      `json:"uscc"`
	LegalRepName         string      `json:"legal_rep_name"`
	LegalRepID           string      `json:"legal_rep_id"` // masked
	Operator             string      `json:"operator"`     // legal_rep or agent
	AgentName            string      `json:"agent_name"`
	AgentID              string      `json:"agent_id"` // masked
	SoleProprietor       bool        `json:"sole_proprietor"`
	MaterialsSubmittedAt *time.Time  `json:"materials_submitted_at"`
	MaterialsExpiresAt   *time.Time  `json:"materials_expires_at"`
	MaterialsExpired     bool        `json:"materials_expired"`
	Consents             Consents    `json:"consents"`
	License              *License    `json:"license"`
	IDCards              IDCards     `json:"id_cards"`
	Willingness          Willingness `json:"willingness"`
	Failures             []Failure   `json:"failures"` // newest first, at most 50
	Missing              []string    `json:"missing"`  // what is still to do, in order
	Deadlines            Deadlines   `json:"deadlines"`
	VerifiedAt           *time.Time  `json:"verified_at"`
	VerifiedMethod       string      `json:"verified_method,omitempty"`
	Quota                int64       `json:"quota"`      // free contracts granted
	QuotaUsed            int64       `json:"quota_used"` // of them used
	QuotaLeft            int64       `json:"quota_left"`
	Version              uint64      `json:"version"` // of the enterprise's stream
}

// Consents as submitted with the materials.
type Consents struct {
	PersonalData  Consent `json:"personal_data"`
	PhoneFollowup Consent `json:"phone_followup"`
}

// Consent is a ticked box and the version of the text shown.
type Consent struct {
	Accepted bool   `json:"accepted"`
	Version  string `json:"version,omitempty"`
}

// License is the uploaded business licence and what OCR read on it.
type License struct {
	SHA256     string    `json:"sha256"`
	Size       int64     `json:"size"`
	MediaType  string    `json:"media_type"`
	UploadedAt time.Time `json:"uploaded_at"`
	Recognized struct {
		Name     string `json:"name"`
		USCC     string `json:"uscc"`
		LegalRep string `json:"legal_rep"`
	} `json:"recognized"`
}

// IDCards are the uploaded sides per person (null when not uploaded).
type IDCards struct {
	LegalRep IDCard `json:"legal_rep"`
	Agent    IDCard `json:"agent"`
}

// IDCard is both sides of one person's card.
type IDCard struct {
	Portrait *IDCardSide `json:"portrait"`
	Emblem   *IDCardSide `json:"emblem"`
}

// IDCardSide is an uploaded side and what OCR read on it.
type IDCardSide struct {
	UploadedAt time.Time `json:"uploaded_at"`
	Name       string    `json:"name,omitempty"`
	IDNumber   string    `json:"id_number,omitempty"` // masked
	ValidUntil string    `json:"valid_until,omitempty"`
}

// Willingness is the progress of the chosen check. Sub-objects appear for
// the checks the method uses or that have progress.
type Willingness struct {
	Method  string   `json:"method"`
	Phone   *Phone   `json:"phone,omitempty"`
	Face    *Face    `json:"face,omitempty"`
	Letter  *Letter  `json:"letter,omitempty"`
	Deposit *Deposit `json:"deposit,omitempty"`
	Reverse *Reverse `json:"reverse,omitempty"`
}

// Phone is the carrier check and code of the method's person.
type Phone struct {
	Person     string     `json:"person"`
	CodeSentTo string     `json:"code_sent_to,omitempty"` // masked; a code is awaited
	Verified   string     `json:"verified,omitempty"`     // masked
	VerifiedAt *time.Time `json:"verified_at,omitempty"`
}

// Face is the face scan of the method's person.
type Face struct {
	Person            string     `json:"person"`
	AttemptsLeftToday int        `json:"attempts_left_today"`
	SessionID         string     `json:"session_id,omitempty"`
	QRURL             string     `json:"qr_url,omitempty"`
	ExpiresAt         *time.Time `json:"expires_at,omitempty"`
	VerifiedAt        *time.Time `json:"verified_at,omitempty"`
}

// Letter is the authorization letter's progress.
type Letter struct {
	Reference       string     `json:"reference,omitempty"`
	GeneratedSHA256 string     `json:"generated_sha256,omitempty"`
	GeneratedAt     *time.Time `json:"generated_at,omitempty"`
	UploadedSHA256  string     `json:"uploaded_sha256,omitempty"`
	UploadedAt      *time.Time `json:"uploaded_at,omitempty"`
	ReviewDue       *time.Time `json:"review_due,omitempty"`
	Status          string     `json:"status,omitempty"` // pending, approved, rejected
	RejectReason    string     `json:"reject_reason,omitempty"`
	ReviewedAt      *time.Time `json:"reviewed_at,omitempty"`
}

// Deposit is the micro-deposit's progress; the amount is never shown.
type Deposit struct {
	TransferID   string     `json:"transfer_id,omitempty"`
	Holder       string     `json:"holder,omitempty"`
	Bank         string     `json:"bank,omitempty"`
	Branch       string     `json:"branch,omitempty"`
	Account      string     `json:"account,omitempty"` // masked
	RequestedAt  *time.Time `json:"requested_at,omitempty"`
	Deadline     *time.Time `json:"deadline,omitempty"`
	Expired      bool       `json:"expired"`
	AttemptsLeft int        `json:"attempts_left"`
	FailedReason string     `json:"failed_reason,omitempty"`
	ConfirmedAt  *time.Time `json:"confirmed_at,omitempty"`
}

// Reverse is the reverse deposit's progress.
type Reverse struct {
	Reference   string     `json:"reference,omitempty"`
	PayerName   string     `json:"payer_name,omitempty"`
	AmountFen   int64      `json:"amount_fen,omitempty"`
	PayTo       *PayTo     `json:"pay_to,omitempty"`
	NotBefore   *time.Time `json:"not_before,omitempty"`
	RequestedAt *time.Time `json:"requested_at,omitempty"`
	MatchedAt   *time.Time `json:"matched_at,omitempty"`
	Mismatches  []Mismatch `json:"mismatches"` // oldest first, at most 50
}

// PayTo is the platform account the reverse deposit goes to (public data).
type PayTo struct {
	Holder        string `json:"holder"`
	Bank          string `json:"bank"`
	Branch        string `json:"branch"`
	AccountNumber string `json:"account_number"`
	BankCode      string `json:"bank_code"`
}

// Deadlines of the case, gathered for reminders.
type Deadlines struct {
	Materials   *time.Time `json:"materials,omitempty"`
	Deposit     *time.Time `json:"deposit,omitempty"`
	Review      *time.Time `json:"review,omitempty"`
	FaceSession *time.Time `json:"face_session,omitempty"`
}

// Summary is one enterprise in an account's list.
type Summary struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"` // as submitted, else as recognised on the licence
	Step      string    `json:"step"`
	Role      string    `json:"role"` // master_admin, admin, member, or creator
	Verified  bool      `json:"verified"`
	CreatedAt time.Time `json:"created_at"`
}

// MemberView is a member of an enterprise.
type MemberView struct {
	AccountID string `json:"account_id"`
	Role      string `json:"role"`
}

// ReviewItem is a stamped letter waiting for a platform reviewer.
type ReviewItem struct {
	EnterpriseID   string     `json:"enterprise_id"`
	Name           string     `json:"name"`
	USCC           string     `json:"uscc"`
	LegalRepName   string     `json:"legal_rep_name"`
	AgentName      string     `json:"agent_name"`
	Reference      string     `json:"reference"`
	UploadedSHA256 string     `json:"uploaded_sha256"`
	UploadedAt     *time.Time `json:"uploaded_at"`
	ReviewDue      *time.Time `json:"review_due"`
}

// Reader answers queries from the read model.
type Reader struct {
	DB *redisdb.DB
	// Now is the clock of "today" (face attempts) and "expired"; nil is time.Now.
	Now func() time.Time
}

func (r Reader) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r Reader) key(parts ...string) string { return projections.Key(r.DB, Name, parts...) }

// Case returns the verification case, or ErrNotFound.
func (r Reader) Case(ctx context.Context, eid string) (CaseView, error) {
	if !projections.ValidID(eid) {
		return CaseView{}, ErrNotFound
	}
	pipe := r.DB.Pipeline()
	hc := pipe.HGetAll(ctx, r.key(caseKey(eid)))
	fc := pipe.ZRevRange(ctx, r.key(failuresKey(eid)), 0, maxFailures-1)
	mc := pipe.ZRange(ctx, r.key(reverseKey(eid)), 0, maxMismatches-1)
	if _, err := pipe.Exec(ctx); err != nil {
		return CaseView{}, fmt.Errorf("read enterprise case %s: %w", eid, err)
	}
	h := hash(hc.Val())
	if h["id"] == "" {
		return CaseView{}, ErrNotFound
	}
	failures, err := decodeAll[Failure](fc.Val())
	if err != nil {
		return CaseView{}, fmt.Errorf("failures of %s: %w", eid, err)
	}
	mismatches, err := decodeAll[Mismatch](mc.Val())
	if err != nil {
		return CaseView{}, fmt.Errorf("reverse deposit mismatches of %s: %w", eid, err)
	}
	return h.view(r.now(), failures, mismatches), nil
}

// Access returns accountID's role in the enterprise: a member's role,
// RoleCreator for the creator of an unverified case, "" for anyone else.
func (r Reader) Access(ctx context.Context, eid, accountID string) (string, error) {
	if !projections.ValidID(eid) || accountID == "" {
		return "", nil
	}
	role, err := r.DB.HGet(ctx, r.key(accountKey(accountID)), eid).Result()
	if err == redis.Nil {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read role of %s in %s: %w", accountID, eid, err)
	}
	return role, nil
}

// EnterprisesOf lists the account's enterprises, newest first: those it is
// a member of and the unverified cases it started.
func (r Reader) EnterprisesOf(ctx context.Context, accountID string) ([]Summary, error) {
	out := []Summary{}
	if accountID == "" {
		return out, nil
	}
	roles, err := r.DB.HGetAll(ctx, r.key(accountKey(accountID))).Result()
	if err != nil {
		return nil, fmt.Errorf("read enterprises of %s: %w", accountID, err)
	}
	fields := []string{"id", "name", "license_name", "created_at", "verified_at", "materials_submitted_at", "method", "letter_status"}
	pipe := r.DB.Pipeline()
	cmds := make(map[string]*redis.SliceCmd, len(roles))
	for eid := range roles {
		if projections.ValidID(eid) {
			cmds[eid] = pipe.HMGet(ctx, r.key(caseKey(eid)), fields...)
		}
	}
	if len(cmds) == 0 {
		return out, nil
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("read enterprises of %s: %w", accountID, err)
	}
	for eid, cmd := range cmds {
		h := hashOf(fields, cmd.Val())
		if h["id"] == "" {
			continue
		}
		out = append(out, Summary{ID: eid, Name: cmp.Or(h["name"], h["license_name"]), Step: h.step(), Role: roles[eid],
			Verified: h["verified_at"] != "", CreatedAt: h.time("created_at")})
	}
	slices.SortFunc(out, func(a, b Summary) int {
		return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

var roleRank = map[string]int{string(enterprise.MasterAdmin): 0, string(enterprise.Admin): 1, string(enterprise.Member): 2, string(enterprise.Auditor): 3}

// Members lists the enterprise's members, master admin first, then admins,
// then members. Callers check existence with Case.
func (r Reader) Members(ctx context.Context, eid string) ([]MemberView, error) {
	out := []MemberView{}
	if !projections.ValidID(eid) {
		return out, nil
	}
	m, err := r.DB.HGetAll(ctx, r.key(membersKey(eid))).Result()
	if err != nil {
		return nil, fmt.Errorf("read members of %s: %w", eid, err)
	}
	for aid, role := range m {
		out = append(out, MemberView{AccountID: aid, Role: role})
	}
	slices.SortFunc(out, func(a, b MemberView) int {
		ra, oka := roleRank[a.Role]
		rb, okb := roleRank[b.Role]
		if !oka {
			ra = len(roleRank)
		}
		if !okb {
			rb = len(roleRank)
		}
		return cmp.Or(cmp.Compare(ra, rb), cmp.Compare(a.AccountID, b.AccountID))
	})
	return out, nil
}

// PendingLetters lists up to limit letters waiting for review, the one due
// first first.
func (r Reader) PendingLetters(ctx context.Context, limit int) ([]ReviewItem, error) {
	out := []ReviewItem{}
	if limit <= 0 {
		return out, nil
	}
	fields := []string{"id", "name", "uscc", "legal_rep_name", "agent_name", "method", "verified_at", "materials_submitted_at", "letter_status",
		"letter_reference", "letter_uploaded_sha256", "letter_uploaded_at", "letter_review_due"}
	page := int64(min(max(limit, 20), 500))
	for offset := int64(0); len(out) < limit; offset += page {
		eids, err := r.DB.ZRange(ctx, r.key(reviewsKey), offset, offset+page-1).Result()
		if err != nil {
			return nil, fmt.Errorf("read letter review queue: %w", err)
		}
		if len(eids) == 0 {
			break
		}
		pipe := r.DB.Pipeline()
		cmds := make([]*redis.SliceCmd, len(eids))
		for i, eid := range eids {
			cmds[i] = pipe.HMGet(ctx, r.key(caseKey(eid)), fields...)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return nil, fmt.Errorf("read letter review queue: %w", err)
		}
		for i, cmd := range cmds {
			h := hashOf(fields, cmd.Val())
			// A case whose operator switched to another method keeps its
			// place but is not reviewable until they switch back.
			if h["id"] == "" || h.step() != string(enterprise.StepReview) {
				continue
			}
			out = append(out, ReviewItem{EnterpriseID: eids[i], Name: h["name"], USCC: h["uscc"], LegalRepName: h["legal_rep_name"],
				AgentName: h["agent_name"], Reference: h["letter_reference"], UploadedSHA256: h["letter_uploaded_sha256"],
				UploadedAt: h.timePtr("letter_uploaded_at"), ReviewDue: h.timePtr("letter_review_due")})
			if len(out) == limit {
				break
			}
		}
		if int64(len(eids)) < page {
			break
		}
	}
	return out, nil
}

func decodeAll[T any](members []string) ([]T, error) {
	out := make([]T, 0, len(members))
	for _, m := range members {
		var v T
		if err := json.Unmarshal([]byte(m), &v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// hash is a case document as read from Redis.
type hash map[string]string

func hashOf(fields []string, vals []any) hash { return projections.Fields(fields, vals) }

func (h hash) time(f string) time.Time { return projections.ParseTime(h[f]) }

func (h hash) timePtr(f string) *time.Time { return projections.ParseTimePtr(h[f]) }

func (h hash) int(f string) int64 {
	n, _ := strconv.ParseInt(h[f], 10, 64)
	return n
}

func (h hash) bool(f string) bool { return h[f] == "1" }

// step mirrors enterprise.(*Enterprise).Step: it depends on the method
// and the letter together, so it is derived here rather than stored.
func (h hash) step() string {
	switch {
	case h["verified_at"] != "":
		return string(enterprise.StepVerified)
	case h["materials_submitted_at"] == "":
		return string(enterprise.StepMaterials)
	case h["method"] == string(enterprise.MethodLetter) && h["letter_status"] == enterprise.LetterPending:
		return string(enterprise.StepReview)
	}
	return string(enterprise.StepWillingness)
}

func (h hash) view(now time.Time, failures []Failure, mismatches []Mismatch) CaseView {
	v := CaseView{
		ID: h["id"], Step: h.step(), CreatedBy: h["created_by"], CreatedAt: h.time("created_at"),
		Name: h["name"], USCC: h["uscc"], LegalRepName: h["legal_rep_name"], LegalRepID: h["legal_rep_id"],
		Operator: h["operator"], AgentName: h["agent_name"], AgentID: h["agent_id"], SoleProprietor: h.bool("sole_proprietor"),
		MaterialsSubmittedAt: h.timePtr("materials_submitted_at"), MaterialsExpiresAt: h.timePtr("materials_expires_at"),
		Consents: Consents{
			PersonalData:  Consent{Accepted: h.bool("consent_personal_data"), Version: h["consent_personal_data_version"]},
			PhoneFollowup: Consent{Accepted: h.bool("consent_phone_followup"), Version: h["consent_phone_followup_version"]},
		},
		IDCards: IDCards{
			LegalRep: IDCard{Portrait: h.idCard(enterprise.LegalRep, enterprise.Portrait), Emblem: h.idCard(enterprise.LegalRep, enterprise.Emblem)},
			Agent:    IDCard{Portrait: h.idCard(enterprise.Agent, enterprise.Portrait), Emblem: h.idCard(enterprise.Agent, enterprise.Emblem)},
		},
		Failures:       failures,
		VerifiedAt:     h.timePtr("verified_at"),
		VerifiedMethod: h["verified_method"],
		Quota:          h.int("quota"),
		QuotaUsed:      h.int("quota_used"),
	}
	v.QuotaLeft = max(0, v.Quota-v.QuotaUsed)
	v.Version, _ = strconv.ParseUint(h["version"], 10, 64)
	verified := v.VerifiedAt != nil
	v.MaterialsExpired = !verified && v.MaterialsExpiresAt != nil && now.After(*v.MaterialsExpiresAt)
	if h["license_sha256"] != "" {
		l := &License{SHA256: h["license_sha256"], Size: h.int("license_size"), MediaType: h["license_media_type"],
			UploadedAt: h.time("license_uploaded_at")}
		l.Recognized.Name, l.Recognized.USCC, l.Recognized.LegalRep = h["license_name"], h["license_uscc"], h["license_legal_rep"]
		v.License = l
	}
	v.Willingness = h.willingness(now, mismatches)
	v.Missing = v.missing()
	v.Deadlines = Deadlines{Materials: v.MaterialsExpiresAt}
	if !verified {
		if d := v.Willingness.Deposit; d != nil && d.ConfirmedAt == nil {
			v.Deadlines.Deposit = d.Deadline
		}
		if l := v.Willingness.Letter; l != nil && l.Status == enterprise.LetterPending {
			v.Deadlines.Review = l.ReviewDue
		}
		if f := v.Willingness.Face; f != nil && f.VerifiedAt == nil {
			v.Deadlines.FaceSession = f.ExpiresAt
		}
	}
	return v
}

func (h hash) idCard(p enterprise.Person, s enterprise.Side) *IDCardSide {
	at := h.timePtr(idCardField(p, s, "uploaded_at"))
	if at == nil {
		return nil
	}
	return &IDCardSide{UploadedAt: *at, Name: h[idCardField(p, s, "name")], IDNumber: h[idCardField(p, s, "id_number")],
		ValidUntil: h[idCardField(p, s, "valid_until")]}
}

func (h hash) willingness(now time.Time, mismatches []Mismatch) Willingness {
	m := enterprise.Method(h["method"])
	w := Willingness{Method: string(m)}
	if p, ok := phonePerson(m); ok {
		w.Phone = &Phone{Person: string(p), CodeSentTo: h[phoneField(m, "pending")], Verified: h[phoneField(m, "verified")],
			VerifiedAt: h.timePtr(phoneField(m, "verified_at"))}
	}
	if p, ok := facePerson(m); ok {
		f := &Face{Person: string(p), AttemptsLeftToday: enterprise.FaceScansPerDay, VerifiedAt: h.timePtr(faceVerifiedField(m))}
		if h[faceDayField(p)] == day(now) {
			f.AttemptsLeftToday = max(0, enterprise.FaceScansPerDay-int(h.int(faceAttemptField(p))))
		}
		if h["face_method"] == string(m) {
			f.SessionID, f.QRURL, f.ExpiresAt = h["face_session"], h["face_qr_url"], h.timePtr("face_expires_at")
		}
		w.Face = f
	}
	if m == enterprise.MethodLetter || h["letter_reference"] != "" {
		w.Letter = &Letter{Reference: h["letter_reference"], GeneratedSHA256: h["letter_generated_sha256"],
			GeneratedAt: h.timePtr("letter_generated_at"), UploadedSHA256: h["letter_uploaded_sha256"],
			UploadedAt: h.timePtr("letter_uploaded_at"), ReviewDue: h.timePtr("letter_review_due"), Status: h["letter_status"],
			RejectReason: h["letter_reject_reason"], ReviewedAt: h.timePtr("letter_reviewed_at")}
	}
	if m == enterprise.MethodMicroDeposit || h["deposit_transfer_id"] != "" {
		d := &Deposit{TransferID: h["deposit_transfer_id"], Holder: h["deposit_holder"], Bank: h["deposit_bank"],
			Branch: h["deposit_branch"], Account: h["deposit_account"], RequestedAt: h.timePtr("deposit_requested_at"),
			Deadline: h.timePtr("deposit_deadline"), ConfirmedAt: h.timePtr("deposit_confirmed_at"),
			AttemptsLeft: enterprise.MicroDepositTries}
		if d.TransferID != "" {
			d.AttemptsLeft = max(0, enterprise.MicroDepositTries-int(h.int("deposit_wrong")))
			d.Expired = d.ConfirmedAt == nil && d.Deadline != nil && now.After(*d.Deadline)
			// A late failure report of an earlier transfer says nothing of this one.
			if h["deposit_failed_transfer"] == d.TransferID {
				d.FailedReason = h["deposit_failed_reason"]
			}
		}
		w.Deposit = d
	}
	if m == enterprise.MethodReverse || h["reverse_reference"] != "" {
		rv := &Reverse{Reference: h["reverse_reference"], PayerName: h["reverse_payer_name"], AmountFen: h.int("reverse_amount_fen"),
			NotBefore: h.timePtr("reverse_not_before"), RequestedAt: h.timePtr("reverse_requested_at"),
			MatchedAt: h.timePtr("reverse_matched_at"), Mismatches: mismatches}
		if h["reverse_pay_to_account"] != "" {
			rv.PayTo = &PayTo{Holder: h["reverse_pay_to_holder"], Bank: h["reverse_pay_to_bank"], Branch: h["reverse_pay_to_branch"],
				AccountNumber: h["reverse_pay_to_account"], BankCode: h["reverse_pay_to_bank_code"]}
		}
		w.Reverse = rv
	}
	return w
}

// missing lists what the operator still has to do, in the order of the
// flow: "license", "<person>.<side>" of the ID card, "materials" (not
// submitted, or lapsed), "willingness".
func (v *CaseView) missing() []string {
	out := []string{}
	if v.VerifiedAt != nil {
		return out
	}
	if v.License == nil {
		out = append(out, "license")
	}
	// Whose card: the operator's once submitted; before that the agent's
	// if the agent has started uploading, else the legal representative's.
	person, card := enterprise.LegalRep, v.IDCards.LegalRep
	if v.Operator == string(enterprise.Agent) ||
		v.Operator == "" && (v.IDCards.Agent.Portrait != nil || v.IDCards.Agent.Emblem != nil) {
		person, card = enterprise.Agent, v.IDCards.Agent
	}
	if card.Portrait == nil {
		out = append(out, string(person)+"."+string(enterprise.Portrait))
	}
	if card.Emblem == nil {
		out = append(out, string(person)+"."+string(enterprise.Emblem))
	}
	if v.MaterialsSubmittedAt == nil || v.MaterialsExpired {
		out = append(out, "materials")
	}
	return append(out, "willingness")
}

// Package enterprise is the enterprise aggregate: real-name verification of
// a company (seed section 02: business licence, ID cards, one willingness
// check) and its members. Every step is an event on "enterprise-<id>", so an
// auditor can replay who proved what, how and when. Refused willingness
// steps are recorded too: a decision that refuses returns the events that
// record why together with its error, and the caller appends them.
package enterprise

import (
	"fmt"
	"time"

	"signet/domain/event"
)

// Category is the stream category of enterprises: "enterprise-<uuid>".
const Category = "enterprise"

// StreamOf names an enterprise's stream.
func StreamOf(id string) string { return event.StreamName(Category, id) }

// Shanghai is China Standard Time (no DST since 1991), the zone of the
// seed's calendar days: face-scan limits, deadlines, review days.
var Shanghai = time.FixedZone("Asia/Shanghai", 8*60*60)

// Rules of the seed (and of peers where the seed is silent).
const (
	// MaterialsValidFor: submitted materials lapse if no willingness check
	// succeeds in time ("请在...前完成所有材料提交, 否则基本信息将失效").
	MaterialsValidFor = 30 * 24 * time.Hour
	// FaceScansPerDay per person per calendar day in Shanghai ("刷脸认证一天仅3次机会").
	FaceScansPerDay = 3
	// MicroDepositValidFor: how long the operator has to enter the amount.
	MicroDepositValidFor = 72 * time.Hour
	// MicroDepositTries: wrong amounts allowed per deposit.
	MicroDepositTries = 3
	// MicroDepositsPerCase bounds the deposits of one case, resubmissions
	// included, so that the amount cannot be guessed by asking again and
	// again (3 deposits x 3 tries: at most 9 of the 99 amounts).
	MicroDepositsPerCase = 3
	// MicroDepositsPerDay bounds the deposits per USCC per Shanghai day,
	// across cases (counted by the caller).
	MicroDepositsPerDay = 2
	// ReverseDepositFen: the reverse deposit is exactly 0.01 CNY.
	ReverseDepositFen = 1
	// EnterpriseQuota: free enterprise contracts on verification ("实名认证企业再得10份免费合同").
	EnterpriseQuota = 10
	// InvitationValidFor: a member share link's lifetime.
	InvitationValidFor = 7 * 24 * time.Hour
)

// Person is whose ID card or identity a step concerns.
type Person string

const (
	LegalRep Person = "legal_rep" // 法定代表人
	Agent    Person = "agent"     // 经办人
)

// Side of an ID card.
type Side string

const (
	Portrait Side = "portrait" // 人像面
	Emblem   Side = "emblem"   // 国徽面
)

// Method is a willingness check (意愿性校验).
type Method string

const (
	MethodLegalRepPhone = Method("legal_rep_phone")      // 法人手机号认证
	MethodLegalRepFace  = Method("legal_rep_face")       // 法人刷脸认证
	MethodLetter        = Method("authorization_letter") // 授权书认证
	MethodMicroDeposit  = Method("micro_deposit")        // 企业打款认证 (platform pays)
	MethodReverse       = Method("reverse_deposit")      // 反向打款 (enterprise pays)
)

// Methods lists the willingness checks in the seed's order.
var Methods = []Method{MethodLegalRepPhone, MethodLegalRepFace, MethodLetter, MethodMicroDeposit, MethodReverse}

// Role of a member.
type Role string

const (
	MasterAdmin Role = "master_admin" // 主管理员
	Admin       Role = "admin"
	Member      Role = "member"
	// Auditor reads everything of the enterprise, as its administrators
	// do, and changes nothing: no sending or signing for it, no seals,
	// members, templates, approvals or tags.
	Auditor Role = "auditor"
)

// Step is where a verification case stands.
type Step string

const (
	StepMaterials   Step = "materials"   // uploading licence and ID cards, then submitting
	StepWillingness Step = "willingness" // choosing and passing a willingness check
	StepReview      Step = "review"      // stamped letter waiting for a platform reviewer
	StepVerified    Step = "verified"
)

// Letter review statuses.
const (
	LetterPending  = "pending"
	LetterApproved = "approved"
	LetterRejected = "rejected"
)

type faceSession struct {
	started FaceScanStarted
	done    bool
}

type letterState struct {
	reference   string
	generated   *File
	generatedAt time.Time
	uploaded    *File
	uploadedAt  time.Time
	reviewDue   time.Time
	status      string // "", pending, approved, rejected
	reason      string
}

type depositState struct {
	req    MicroDepositRequested
	failed string // bank's reason when the transfer failed
	wrong  int    // wrong amounts entered
	done   bool
}

type reverseState struct {
	req        ReverseDepositRequested
	mismatches []ReverseDepositMismatched
	matched    *ReverseDepositMatched
}

type invitation struct {
	created MemberInvitationCreated
}

type seal struct {
	created  SealCreated
	disabled bool
	grants   map[string]bool // account IDs
}

// Enterprise is the aggregate. Its state changes only through Apply, for
// replayed and new events alike.
type Enterprise struct {
	id        string
	version   uint64
	createdBy string
	createdAt time.Time

	license   *LicenseUploaded
	idCards   map[Person]map[Side]IDCardUploaded
	materials *MaterialsSubmitted

	method   Method
	carrier  map[Method]*CarrierCheckPassed // code sent, waiting for it
	phones   map[Method]*PhoneVerified
	faces    map[string]*faceSession // by session ID
	faceOK   map[Method]*FaceVerified
	letter   *letterState
	deposit  *depositState
	reverse  *reverseState
	failures []WillingnessCheckFailed

	refusals int // MaterialsRefused so far
	deposits int // MicroDepositRequested so far, never reset

	verified *EnterpriseVerified
	quota    int

	seals     map[string]*seal // by seal ID
	sealOrder []string         // seal IDs in creation order
	approval  ApprovalPolicySet

	members     map[string]Role
	invitations map[string]invitation // by invitation ID
	removed     map[string]time.Time  // when each removed account was last removed

	judged map[string]bool // bank statement lines judged, by statement ID
}

// New returns an empty aggregate (the state before EnterpriseCreated).
func New() *Enterprise { return &Enterprise{} }

// Apply mutates the enterprise by one event and advances its version.
func (e *Enterprise) Apply(ev Event) error {
	if e.version == 0 {
		c, ok := ev.(EnterpriseCreated)
		if !ok {
			return fmt.Errorf("%w: %s opens an enterprise stream", event.ErrInvalid, ev.EventType())
		}
		e.id, e.createdBy, e.createdAt = c.EnterpriseID, c.CreatedBy, c.CreatedAt
		e.idCards = map[Person]map[Side]IDCardUploaded{}
		e.carrier = map[Method]*CarrierCheckPassed{}
		e.phones = map[Method]*PhoneVerified{}
		e.faces = map[string]*faceSession{}
		e.faceOK = map[Method]*FaceVerified{}
		e.members = map[string]Role{}
		e.invitations = map[string]invitation{}
		e.removed = map[string]time.Time{}
		e.judged = map[string]bool{}
		e.seals = map[string]*seal{}
		e.version++
		return nil
	}
	switch ev := ev.(type) {
	case LicenseUploaded:
		e.license = &ev
	case IDCardUploaded:
		if e.idCards[ev.Person] == nil {
			e.idCards[ev.Person] = map[Side]IDCardUploaded{}
		}
		e.idCards[ev.Person][ev.Side] = ev
	case MaterialsSubmitted:
		e.materials = &ev
		e.resetWillingness()
	case MaterialsRefused:
		e.refusals++
	case WillingnessMethodChosen:
		e.method = ev.Method
	case WillingnessCheckFailed:
		e.failures = append(e.failures, ev)
		if s := e.faces[ev.SessionID]; s != nil {
			s.done = true
		}
		if ev.Step == "code" && ev.AttemptsLeft != nil && *ev.AttemptsLeft == 0 {
			delete(e.carrier, ev.Method)
		}
		if ev.Method == MethodMicroDeposit && ev.Reason == "wrong_amount" && e.deposit != nil {
			e.deposit.wrong++
		}
	case CarrierCheckPassed:
		e.carrier[ev.Method] = &ev
	case PhoneVerified:
		e.phones[ev.Method] = &ev
		delete(e.carrier, ev.Method)
	case FaceScanStarted:
		e.faces[ev.SessionID] = &faceSession{started: ev}
	case FaceVerified:
		if s := e.faces[ev.SessionID]; s != nil {
			s.done = true
		}
		e.faceOK[ev.Method] = &ev
	case AuthorizationLetterGenerated:
		f := ev.File
		e.letter = &letterState{reference: ev.Reference, generated: &f, generatedAt: ev.GeneratedAt}
	case AuthorizationLetterUploaded:
		if e.letter == nil {
			return fmt.Errorf("%w: letter uploaded before it was generated", event.ErrInvalid)
		}
		f := ev.File
		e.letter.uploaded, e.letter.uploadedAt, e.letter.reviewDue = &f, ev.UploadedAt, ev.ReviewDue
		e.letter.status, e.letter.reason = LetterPending, ""
	case AuthorizationLetterApproved:
		if e.letter != nil {
			e.letter.status = LetterApproved
		}
	case AuthorizationLetterRejected:
		if e.letter != nil {
			e.letter.status, e.letter.reason = LetterRejected, ev.Reason
		}
	case MicroDepositRequested:
		e.deposit = &depositState{req: ev}
		e.deposits++
	case MicroDepositFailed:
		if e.deposit != nil && e.deposit.req.TransferID == ev.TransferID {
			e.deposit.failed = ev.Reason
		}
	case MicroDepositConfirmed:
		if e.deposit != nil {
			e.deposit.done = true
		}
	case ReverseDepositRequested:
		e.reverse = &reverseState{req: ev}
	case ReverseDepositMismatched:
		e.judged[ev.Statement.StatementID] = true
		if e.reverse != nil {
			e.reverse.mismatches = append(e.reverse.mismatches, ev)
		}
	case ReverseDepositMatched:
		e.judged[ev.Statement.StatementID] = true
		if e.reverse != nil {
			e.reverse.matched = &ev
		}
	case EnterpriseVerified:
		e.verified = &ev
	case ContractQuotaGranted:
		e.quota += ev.Amount
	case MemberInvitationCreated:
		e.invitations[ev.InvitationID] = invitation{created: ev}
	case MemberJoined:
		e.members[ev.AccountID] = ev.Role
	case MemberRoleChanged:
		e.members[ev.AccountID] = ev.Role
	case MemberRemoved:
		delete(e.members, ev.AccountID)
		e.removed[ev.AccountID] = ev.RemovedAt
		// A removed member approves nothing and signs with no seal; joining
		// again does not bring either back.
		for _, s := range e.seals {
			delete(s.grants, ev.AccountID)
		}
		e.approval.Approvers = without(e.approval.Approvers, ev.AccountID)
	case SealCreated:
		if e.seals[ev.SealID] != nil {
			return fmt.Errorf("%w: seal %s created twice", event.ErrInvalid, ev.SealID)
		}
		e.seals[ev.SealID] = &seal{created: ev, grants: map[string]bool{}}
		e.sealOrder = append(e.sealOrder, ev.SealID)
	case SealUseGranted:
		s := e.seals[ev.SealID]
		if s == nil {
			return fmt.Errorf("%w: grant of unknown seal %s", event.ErrInvalid, ev.SealID)
		}
		s.grants[ev.AccountID] = true
	case SealUseRevoked:
		if s := e.seals[ev.SealID]; s != nil {
			delete(s.grants, ev.AccountID)
		}
	case SealDisabled:
		s := e.seals[ev.SealID]
		if s == nil {
			return fmt.Errorf("%w: unknown seal %s disabled", event.ErrInvalid, ev.SealID)
		}
		s.disabled = true
	case ApprovalPolicySet:
		ev.Approvers = append([]string(nil), ev.Approvers...)
		e.approval = ev
	default:
		return fmt.Errorf("%w: %s is not an enterprise event", event.ErrInvalid, ev.EventType())
	}
	e.version++
	return nil
}

// resetWillingness forgets the progress of willingness checks: new
// materials must be proven again.
func (e *Enterprise) resetWillingness() {
	e.method = ""
	e.carrier = map[Method]*CarrierCheckPassed{}
	e.phones = map[Method]*PhoneVerified{}
	e.faceOK = map[Method]*FaceVerified{}
	e.letter, e.deposit, e.reverse = nil, nil, nil
	// A scan still open was started for the old materials' person: its
	// result must not prove the new ones.
	for _, s := range e.faces {
		s.done = true
	}
}

// Replay rebuilds an enterprise from its stream read forwards from version 1.
func Replay(envs []event.Envelope) (*Enterprise, error) {
	e := New()
	for _, env := range envs {
		if env.Version != e.version+1 {
			return nil, fmt.Errorf("%w: %s: version %d after %d", event.ErrInvalid, env.Stream, env.Version, e.version)
		}
		ev, err := DecodeEnvelope(env)
		if err != nil {
			return nil, err
		}
		if err := e.Apply(ev); err != nil {
			return nil, fmt.Errorf("%s@%d: %w", env.Stream, env.Version, err)
		}
	}
	return e, nil
}

// Accessors for command handlers and tests.

func (e *Enterprise) ID() string                        { return e.id }
func (e *Enterprise) Version() uint64                   { return e.version }
func (e *Enterprise) Exists() bool                      { return e.version > 0 }
func (e *Enterprise) CreatedBy() string                 { return e.createdBy }
func (e *Enterprise) Verified() bool                    { return e.verified != nil }
func (e *Enterprise) Verification() *EnterpriseVerified { return e.verified }
func (e *Enterprise) Materials() *MaterialsSubmitted    { return e.materials }
func (e *Enterprise) License() *LicenseUploaded         { return e.license }
func (e *Enterprise) Method() Method                    { return e.method }
func (e *Enterprise) Quota() int                        { return e.quota }

// QuotaLeft is the number of free contracts still to use when the quota
// ledger counts used.
func (e *Enterprise) QuotaLeft(used int) int { return max(0, e.quota-used) }

// Refusals counts the registry's refusals of submitted materials.
func (e *Enterprise) Refusals() int { return e.refusals }
func (e *Enterprise) Failures() []WillingnessCheckFailed {
	return append([]WillingnessCheckFailed(nil), e.failures...)
}

// IDCard returns the upload of one side of a person's ID card.
func (e *Enterprise) IDCard(p Person, s Side) (IDCardUploaded, bool) {
	c, ok := e.idCards[p][s]
	return c, ok
}

// RoleOf returns the member's role ("" for none).
func (e *Enterprise) RoleOf(accountID string) Role { return e.members[accountID] }

// Members returns account ID -> role.
func (e *Enterprise) Members() map[string]Role {
	out := make(map[string]Role, len(e.members))
	for k, v := range e.members {
		out[k] = v
	}
	return out
}

// PendingCarrier returns the carrier check whose code is awaited for m.
func (e *Enterprise) PendingCarrier(m Method) *CarrierCheckPassed { return e.carrier[m] }

// FaceSession returns a started face scan by its session ID.
func (e *Enterprise) FaceSession(id string) (FaceScanStarted, bool, bool) {
	s := e.faces[id]
	if s == nil {
		return FaceScanStarted{}, false, false
	}
	return s.started, s.done, true
}

// LetterReference returns the generated letter's reference and file, if any.
func (e *Enterprise) LetterReference() (string, *File) {
	if e.letter == nil {
		return "", nil
	}
	return e.letter.reference, e.letter.generated
}

// LetterStatus returns the review status of the uploaded letter ("" if none).
func (e *Enterprise) LetterStatus() string {
	if e.letter == nil {
		return ""
	}
	return e.letter.status
}

// Deposit returns the current micro-deposit request, if any.
func (e *Enterprise) Deposit() (MicroDepositRequested, bool) {
	if e.deposit == nil {
		return MicroDepositRequested{}, false
	}
	return e.deposit.req, true
}

// Judged reports whether a bank statement line was already judged against
// this enterprise (matched or mismatched).
func (e *Enterprise) Judged(statementID string) bool { return e.judged[statementID] }

// Reverse returns the current reverse-deposit request, if any.
func (e *Enterprise) Reverse() (ReverseDepositRequested, bool) {
	if e.reverse == nil {
		return ReverseDepositRequested{}, false
	}
	return e.reverse.req, true
}

// Step tells where the case stands.
func (e *Enterprise) Step() Step {
	switch {
	case e.verified != nil:
		return StepVerified
	case e.materials == nil:
		return StepMaterials
	case e.method == MethodLetter && e.letter != nil && e.letter.status == LetterPending:
		return StepReview
	default:
		return StepWillingness
	}
}

// AgentPhone is the agent's phone proven for the authorization letter ("" if
// the agent was checked by face).
func (e *Enterprise) AgentPhone() string {
	if p := e.phones[MethodLetter]; p != nil {
		return p.Phone
	}
	return ""
}

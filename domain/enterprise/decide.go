package enterprise

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"signet/domain/fault"
	"signet/domain/identity"
)

// Refusals. Each is a *fault.Error the HTTP layer maps to a status.
var (
	ErrNotFound        = fault.New(fault.NotFound, "enterprise_not_found", "There is no such enterprise.")
	ErrNotMember       = fault.New(fault.Forbidden, "not_enterprise_member", "You are not a member of this enterprise.")
	ErrNotAdmin        = fault.New(fault.Forbidden, "not_enterprise_admin", "Only the enterprise's administrators may do this.")
	ErrAuditorReadOnly = fault.New(fault.Forbidden, "auditor_read_only", "An auditor reads the enterprise's contracts and records and changes nothing.")
	ErrNotOperator     = fault.New(fault.Forbidden, "not_case_operator", "Only the account that started this verification may continue it.")
	ErrAlreadyVerified = fault.New(fault.Conflict, "already_verified", "This enterprise is already verified.")
	ErrNoMaterials     = fault.New(fault.Rule, "materials_required", "Upload the business licence and ID card and submit the materials first.")
	ErrMaterialsLapsed = fault.New(fault.Rule, "materials_expired", "The submitted materials have lapsed; submit them again.")
	ErrConsent         = fault.Invalidf("accept_personal_data_policy", "consent_required", "Accept the personal information protection policy to submit the materials.")
	ErrUSCCTaken       = fault.New(fault.Conflict, "uscc_taken", "An enterprise with this unified social credit code is already verified.").OnField("uscc")
)

func rule(code, format string, args ...any) *fault.Error {
	return fault.New(fault.Rule, code, fmt.Sprintf(format, args...))
}

// Create opens a verification case for an enterprise.
func (e *Enterprise) Create(id, creator string, now time.Time) ([]Event, error) {
	if e.Exists() {
		return nil, fault.New(fault.Conflict, "enterprise_exists", "This enterprise already exists.")
	}
	if id == "" || creator == "" {
		return nil, errors.New("create enterprise: no id or creator")
	}
	return []Event{EnterpriseCreated{EnterpriseID: id, CreatedBy: creator, CreatedAt: timestamp(now)}}, nil
}

// checkCase: the case exists, is not verified, and actor runs it.
func (e *Enterprise) checkCase(actor string) error {
	if !e.Exists() {
		return ErrNotFound
	}
	if e.verified != nil {
		return ErrAlreadyVerified
	}
	if actor != e.createdBy {
		return ErrNotOperator
	}
	return nil
}

// checkWillingness: the case is open, materials are in and fresh, and m is
// the chosen method.
func (e *Enterprise) checkWillingness(actor string, m Method, now time.Time) error {
	if err := e.checkCase(actor); err != nil {
		return err
	}
	if e.materials == nil {
		return ErrNoMaterials
	}
	if now.After(e.materials.ExpiresAt) {
		return ErrMaterialsLapsed
	}
	if e.method != m {
		return rule("method_not_chosen", "Choose the willingness check %q first (the current one is %q).", m, e.method)
	}
	return nil
}

// checkChosen: the case is open with fresh materials and a chosen method.
func (e *Enterprise) checkChosen(actor string, now time.Time) error {
	if err := e.checkCase(actor); err != nil {
		return err
	}
	if e.materials == nil {
		return ErrNoMaterials
	}
	if now.After(e.materials.ExpiresAt) {
		return ErrMaterialsLapsed
	}
	if e.method == "" {
		return rule("method_not_chosen", "Choose a willingness check first (PUT .../willingness).")
	}
	return nil
}

// UploadLicense records a stored business licence photo and what OCR read.
func (e *Enterprise) UploadLicense(actor string, f File, rec LicenseFields, recognizer string, now time.Time) ([]Event, error) {
	if err := e.checkCase(actor); err != nil {
		return nil, err
	}
	return []Event{LicenseUploaded{File: f, Recognized: rec, Recognizer: recognizer, UploadedBy: actor, UploadedAt: timestamp(now)}}, nil
}

// UploadIDCard records one side of an ID card.
func (e *Enterprise) UploadIDCard(actor string, p Person, s Side, f File, rec IDCardFields, recognizer string, now time.Time) ([]Event, error) {
	if err := e.checkCase(actor); err != nil {
		return nil, err
	}
	if p != LegalRep && p != Agent {
		return nil, fault.Invalidf("person", "invalid_person", "The ID card is the legal representative's (legal_rep) or the agent's (agent).")
	}
	if s != Portrait && s != Emblem {
		return nil, fault.Invalidf("side", "invalid_side", "An ID card side is portrait (人像面) or emblem (国徽面).")
	}
	return []Event{IDCardUploaded{Person: p, Side: s, File: f, Recognized: rec, Recognizer: recognizer, UploadedBy: actor, UploadedAt: timestamp(now)}}, nil
}

// Materials is what the operator submits after checking the recognised fields.
type Materials struct {
	Name             string
	SoleProprietor   bool // 个体户 with no company name: the special channel
	USCC             string
	LegalRepName     string
	LegalRepIDNumber string
	Operator         Person
	AgentName        string
	AgentIDNumber    string
	AcceptPersonal   bool
	AcceptFollowup   bool
	PolicyVersion    string
}

// Submit validates and records the materials (确认提交).
func (e *Enterprise) Submit(actor string, m Materials, now time.Time) ([]Event, error) {
	if err := e.checkCase(actor); err != nil {
		return nil, err
	}
	today := now.In(Shanghai)
	var errs []error
	uscc, err := identity.ParseUSCC(m.USCC)
	errs = append(errs, err)
	legalRep, err := identity.ParseChineseName(m.LegalRepName, "legal_rep_name")
	errs = append(errs, err)
	name := strings.TrimSpace(m.Name)
	if m.SoleProprietor {
		// The seed's special channel: 法人姓名+统一社会信用代码.
		if err == nil && uscc.String() != "" {
			name = legalRep + uscc.String()
		}
	} else if n := utf8.RuneCountInString(name); n < 2 || n > 100 {
		errs = append(errs, fault.Invalidf("name", "invalid_enterprise_name",
			"Enter the enterprise name exactly as on the business licence (2 to 100 characters); a sole proprietor whose licence has no name uses sole_proprietor=true."))
	}
	out := MaterialsSubmitted{
		Name: name, LegalRepName: legalRep, Operator: m.Operator, SoleProprietor: m.SoleProprietor,
		PersonalData:  Consent{Accepted: m.AcceptPersonal, Version: m.PolicyVersion},
		PhoneFollowup: Consent{Accepted: m.AcceptFollowup, Version: m.PolicyVersion},
		SubmittedBy:   actor, SubmittedAt: timestamp(now), ExpiresAt: timestamp(now.Add(MaterialsValidFor)),
	}
	if err == nil {
		out.USCC = uscc.String()
	}
	if strings.TrimSpace(m.LegalRepIDNumber) != "" || m.Operator == LegalRep {
		id, err := identity.ParseIDNumber(m.LegalRepIDNumber, today)
		errs = append(errs, onField(err, "legal_rep_id_number"))
		if err == nil {
			out.LegalRepIDNumber = id.String()
		}
	}
	switch m.Operator {
	case LegalRep:
	case Agent:
		agent, err := identity.ParseChineseName(m.AgentName, "agent_name")
		errs = append(errs, err)
		id, err2 := identity.ParseIDNumber(m.AgentIDNumber, today)
		errs = append(errs, onField(err2, "agent_id_number"))
		if err == nil && err2 == nil {
			out.AgentName, out.AgentIDNumber = agent, id.String()
		}
	default:
		errs = append(errs, fault.Invalidf("operator", "invalid_operator", "Say who operates: legal_rep (我是法定代表人) or agent (我是企业经办人)."))
	}
	if err := firstErr(errs); err != nil {
		return nil, err
	}
	if !m.AcceptPersonal {
		return nil, ErrConsent
	}
	if m.PolicyVersion == "" {
		return nil, errors.New("submit: no policy version")
	}
	if e.license == nil {
		return nil, fault.New(fault.Rule, "license_required", "Upload a photo of the business licence first.").OnField("license")
	}
	for _, s := range []Side{Portrait, Emblem} {
		if _, ok := e.idCards[m.Operator][s]; !ok {
			return nil, fault.New(fault.Rule, "id_card_required",
				fmt.Sprintf("Upload the %s side of the %s's ID card first.", s, personName(m.Operator))).OnField("id_card")
		}
	}
	return []Event{out}, nil
}

// RegistryMismatches names the registry's reasons for users.
var registryReasons = map[string]string{
	"not_registered":     "no enterprise is registered under this unified social credit code",
	"name_mismatch":      "the enterprise registered under this code has another name",
	"legal_rep_mismatch": "the registered legal representative of this enterprise is someone else",
	"deregistered":       "this enterprise has been deregistered (注销)",
}

// RefuseMaterials records that the business registry does not confirm
// materials that Submit accepted (sub is what Submit decided), and refuses
// them with 422 registry_mismatch.
func (e *Enterprise) RefuseMaterials(actor string, sub MaterialsSubmitted, reason string, now time.Time) ([]Event, error) {
	if err := e.checkCase(actor); err != nil {
		return nil, err
	}
	why, ok := registryReasons[reason]
	if !ok {
		why = "the business registry does not confirm these details"
	}
	return []Event{MaterialsRefused{Name: sub.Name, USCC: sub.USCC, LegalRepName: sub.LegalRepName, Reason: orDefault(reason, "registry_mismatch"),
			RefusedBy: actor, RefusedAt: timestamp(now)}},
		rule("registry_mismatch", "The business registry does not confirm these details: %s. Check the name, the unified social credit code and the legal representative against the business licence.", why)
}

func personName(p Person) string {
	if p == Agent {
		return "agent"
	}
	return "legal representative"
}

func onField(err error, field string) error {
	if f, ok := fault.As(err); ok {
		return f.OnField(field)
	}
	return err
}

func firstErr(errs []error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// ChooseMethod picks (or switches) the willingness check; allowed until one
// succeeds.
func (e *Enterprise) ChooseMethod(actor string, m Method, now time.Time) ([]Event, error) {
	if err := e.checkCase(actor); err != nil {
		return nil, err
	}
	if e.materials == nil {
		return nil, ErrNoMaterials
	}
	if now.After(e.materials.ExpiresAt) {
		return nil, ErrMaterialsLapsed
	}
	switch m {
	case MethodLegalRepPhone, MethodLegalRepFace:
		if e.materials.LegalRepIDNumber == "" {
			return nil, rule("legal_rep_id_required", "This check needs the legal representative's ID number; submit the materials again with it.")
		}
	case MethodLetter:
		if e.materials.Operator != Agent {
			return nil, rule("agent_required", "The authorization letter authorises an agent (经办人); submit the materials as the agent with the agent's ID card.")
		}
	case MethodMicroDeposit, MethodReverse:
	default:
		return nil, fault.Invalidf("method", "invalid_method", "Choose one of legal_rep_phone, legal_rep_face, authorization_letter, micro_deposit, reverse_deposit.")
	}
	if e.method == m {
		return nil, nil
	}
	return []Event{WillingnessMethodChosen{Method: m, ChosenBy: actor, ChosenAt: timestamp(now)}}, nil
}

// phonePerson says whose phone a method checks: the legal representative's
// for legal_rep_phone, the agent's for the authorization letter.
func phonePerson(m Method) (Person, bool) {
	switch m {
	case MethodLegalRepPhone, MethodLegalRepFace:
		return LegalRep, true
	case MethodLetter:
		return Agent, true
	}
	return "", false
}

// Identity returns the name and ID number of the person a method checks.
func (e *Enterprise) Identity(m Method) (name, idNumber string, ok bool) {
	p, ok := phonePerson(m)
	if !ok || e.materials == nil {
		return "", "", false
	}
	if p == Agent {
		return e.materials.AgentName, e.materials.AgentIDNumber, e.materials.AgentName != ""
	}
	return e.materials.LegalRepName, e.materials.LegalRepIDNumber, e.materials.LegalRepIDNumber != ""
}

// checkIdentityStep: a method is chosen, it is one that proves a person by
// this kind of check (uses), and that person is not proven yet.
func (e *Enterprise) checkIdentityStep(actor string, m Method, uses [2]Method, notUsed *fault.Error, now time.Time) error {
	if err := e.checkChosen(actor, now); err != nil {
		return err
	}
	if m != uses[0] && m != uses[1] {
		return notUsed
	}
	if err := e.checkWillingness(actor, m, now); err != nil {
		return err
	}
	if e.phones[m] != nil || e.faceOK[m] != nil {
		return rule("identity_already_checked", "This person's identity is already checked; go on with the next step.")
	}
	return nil
}

var (
	errPhoneNotUsed = rule("phone_not_used", "The current willingness check does not use a phone code.")
	errFaceNotUsed  = rule("face_not_used", "The current willingness check does not use a face scan.")
)

// checkPhoneStep: the legal rep's phone, or the agent's for the letter.
func (e *Enterprise) checkPhoneStep(actor string, m Method, now time.Time) error {
	return e.checkIdentityStep(actor, m, [2]Method{MethodLegalRepPhone, MethodLetter}, errPhoneNotUsed, now)
}

// CarrierResult is what the carrier said about (name, ID number, phone).
type CarrierResult struct {
	Match  bool
	Reason string
}

// CheckCarrier records the carrier's three-factor answer for the method's
// person and phone. A mismatch is recorded and refused.
func (e *Enterprise) CheckCarrier(actor string, m Method, phone string, res CarrierResult, now time.Time) ([]Event, error) {
	if err := e.checkPhoneStep(actor, m, now); err != nil {
		return nil, err
	}
	p, _ := phonePerson(m)
	name, id, _ := e.Identity(m)
	if !res.Match {
		ev := WillingnessCheckFailed{Method: m, Step: "carrier", Reason: orDefault(res.Reason, "carrier_mismatch"),
			Detail: "phone " + identity.MaskPhone(phone), FailedAt: timestamp(now)}
		// Which of the three factors failed stays in the event: telling the
		// caller would help someone probing whose phone is whose.
		return []Event{ev}, rule("carrier_mismatch",
			"The carrier does not confirm that this phone is registered under %s's name and ID number; use a phone bought under the %s's own ID card.",
			name, personName(p)).OnField("phone")
	}
	return []Event{CarrierCheckPassed{Method: m, Person: p, Name: name, IDNumber: id, Phone: phone, CheckedAt: timestamp(now)}}, nil
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// ConfirmPhone records the result of checking the code sent after the
// carrier check: codeErr is nil when the code was right, else the code
// store's refusal (recorded, then returned). attemptsLeft is how many more
// tries the code has, when the store says (0 when it is burnt).
func (e *Enterprise) ConfirmPhone(actor string, m Method, codeErr error, attemptsLeft *int, now time.Time) ([]Event, error) {
	if err := e.checkPhoneStep(actor, m, now); err != nil {
		return nil, err
	}
	pending := e.carrier[m]
	if pending == nil {
		return nil, rule("code_not_requested", "Enter the phone number and request a code first.")
	}
	if codeErr != nil {
		reason := "wrong_code"
		if f, ok := fault.As(codeErr); ok {
			reason = f.Code
		}
		return []Event{WillingnessCheckFailed{Method: m, Step: "code", Reason: reason, Detail: "phone " + identity.MaskPhone(pending.Phone),
			AttemptsLeft: attemptsLeft, FailedAt: timestamp(now)}}, codeErr
	}
	out := []Event{PhoneVerified{Method: m, Person: pending.Person, Phone: pending.Phone, VerifiedAt: timestamp(now)}}
	if m == MethodLegalRepPhone {
		out = append(out, e.complete(m, now)...)
	}
	return out, nil
}

// complete decides the events of a successful verification: the creator of
// the case becomes the master admin ("完成企业实名的账号即为企业主管理员").
func (e *Enterprise) complete(m Method, now time.Time) []Event {
	at := timestamp(now)
	return []Event{
		EnterpriseVerified{Name: e.materials.Name, USCC: e.materials.USCC, LegalRepName: e.materials.LegalRepName, Method: m, MasterAdmin: e.createdBy, VerifiedAt: at},
		MemberJoined{AccountID: e.createdBy, Role: MasterAdmin, JoinedAt: at},
		ContractQuotaGranted{Kind: "enterprise", Amount: EnterpriseQuota, Reason: "enterprise_verified", GrantedAt: at},
	}
}

// Completes reports whether events end in EnterpriseVerified: the caller
// must hold the USCC reservation before appending them.
func Completes(events []Event) (EnterpriseVerified, bool) {
	for _, ev := range events {
		if v, ok := ev.(EnterpriseVerified); ok {
			return v, true
		}
	}
	return EnterpriseVerified{}, false
}

// checkFaceStep: the legal rep's face, or the agent's as the letter's
// fallback when the agent's phone cannot pass ("试试刷脸校验").
func (e *Enterprise) checkFaceStep(actor string, m Method, now time.Time) error {
	return e.checkIdentityStep(actor, m, [2]Method{MethodLegalRepFace, MethodLetter}, errFaceNotUsed, now)
}

// FaceStart is a face scan session the provider opened.
type FaceStart struct {
	SessionID string
	QRURL     string
	ExpiresAt time.Time
	Attempt   int // this person's attempt number today, counted by the caller
}

// CheckFaceStart refuses a scan before the provider is asked: wrong step,
// or the person's daily attempts are used up (recorded, then refused with
// a 429 until the next Shanghai day).
func (e *Enterprise) CheckFaceStart(actor string, m Method, attempt int, now time.Time) ([]Event, error) {
	if err := e.checkFaceStep(actor, m, now); err != nil {
		return nil, err
	}
	if attempt > FaceScansPerDay {
		next := NextDay(now)
		zero := 0
		return []Event{WillingnessCheckFailed{Method: m, Step: "face", Reason: "face_daily_limit",
				Detail: fmt.Sprintf("attempt %d of %d today", attempt, FaceScansPerDay), AttemptsLeft: &zero, FailedAt: timestamp(now)}},
			fault.New(fault.RateLimited, "face_daily_limit",
				fmt.Sprintf("A person may try the face scan %d times a day; try again after %s (Beijing time).", FaceScansPerDay, next.In(Shanghai).Format("2006-01-02 15:04"))).Retry(next.Sub(now))
	}
	return nil, nil
}

// StartFace records an opened face-scan session.
func (e *Enterprise) StartFace(actor string, m Method, s FaceStart, now time.Time) ([]Event, error) {
	if _, err := e.CheckFaceStart(actor, m, s.Attempt, now); err != nil {
		return nil, err
	}
	p, _ := phonePerson(m)
	name, id, _ := e.Identity(m)
	return []Event{FaceScanStarted{Method: m, SessionID: s.SessionID, Person: p, Name: name, IDNumber: id, Attempt: s.Attempt,
		QRURL: s.QRURL, ExpiresAt: timestamp(s.ExpiresAt), StartedAt: timestamp(now)}}, nil
}

// FaceResultGrace: how long after a session's expiry its result is still
// taken (the provider's callback may be delayed).
const FaceResultGrace = 5 * time.Minute

// NextDay is the start of the next calendar day in Shanghai.
func NextDay(now time.Time) time.Time {
	y, mo, d := now.In(Shanghai).Date()
	return time.Date(y, mo, d+1, 0, 0, 0, 0, Shanghai)
}

// FaceResult records the provider's verdict on a session. A result for an
// unknown or finished session is refused; a failed scan is recorded.
func (e *Enterprise) FaceResult(sessionID string, passed bool, score float64, reason string, now time.Time) ([]Event, error) {
	if !e.Exists() {
		return nil, ErrNotFound
	}
	s := e.faces[sessionID]
	if s == nil {
		return nil, fault.New(fault.NotFound, "face_session_not_found", "There is no such face scan session.")
	}
	if s.done {
		return nil, fault.New(fault.Conflict, "face_session_finished", "This face scan session already has a result.")
	}
	m := s.started.Method
	if now.After(s.started.ExpiresAt.Add(FaceResultGrace)) {
		// A result long after the session expired proves nothing about now.
		return []Event{WillingnessCheckFailed{Method: m, Step: "face", Reason: "face_session_expired",
			Detail: "session " + sessionID, SessionID: sessionID, FailedAt: timestamp(now)}}, nil
	}
	if !passed {
		return []Event{WillingnessCheckFailed{Method: m, Step: "face", Reason: orDefault(reason, "face_mismatch"),
			Detail: "session " + sessionID, SessionID: sessionID, FailedAt: timestamp(now)}}, nil
	}
	out := []Event{FaceVerified{Method: m, SessionID: sessionID, Person: s.started.Person, Score: score, VerifiedAt: timestamp(now)}}
	// The scan proves the current materials' legal representative even if
	// the operator switched methods meanwhile (as a matched reverse deposit
	// does): otherwise the proof would block new scans and count for nothing.
	if m == MethodLegalRepFace && e.verified == nil && e.materials != nil && !now.After(e.materials.ExpiresAt) {
		out = append(out, e.complete(m, now)...)
	}
	return out, nil
}

// LetterData is what the authorization letter is filled with.
type LetterData struct {
	EnterpriseName, LegalRepName, USCC string
	AgentName, AgentPhone, AgentID     string
}

// LetterData returns the letter's fields once the agent is proven.
func (e *Enterprise) LetterData(actor string, now time.Time) (LetterData, error) {
	if err := e.checkWillingness(actor, MethodLetter, now); err != nil {
		return LetterData{}, err
	}
	d := LetterData{EnterpriseName: e.materials.Name, LegalRepName: e.materials.LegalRepName, USCC: e.materials.USCC,
		AgentName: e.materials.AgentName, AgentID: e.materials.AgentIDNumber}
	switch {
	case e.phones[MethodLetter] != nil:
		d.AgentPhone = e.phones[MethodLetter].Phone
	case e.faceOK[MethodLetter] != nil:
	default:
		return LetterData{}, rule("agent_not_verified", "Verify the agent's phone (or face) first; the letter is generated after that.")
	}
	return d, nil
}

// GenerateLetter records the generated letter; it is generated once per
// materials submission (a new download of the same letter adds nothing).
func (e *Enterprise) GenerateLetter(actor, reference string, f File, now time.Time) ([]Event, error) {
	if _, err := e.LetterData(actor, now); err != nil {
		return nil, err
	}
	if e.letter != nil && e.letter.generated != nil && e.letter.generated.SHA256 == f.SHA256 {
		return nil, nil
	}
	return []Event{AuthorizationLetterGenerated{Reference: reference, File: f, GeneratedAt: timestamp(now)}}, nil
}

// UploadLetter records the stamped letter for review, due within one
// working day.
func (e *Enterprise) UploadLetter(actor string, f File, now time.Time) ([]Event, error) {
	if _, err := e.LetterData(actor, now); err != nil {
		return nil, err
	}
	if e.letter == nil {
		return nil, rule("letter_not_generated", "Download the authorization letter first, stamp it, then upload the photo.")
	}
	if e.letter.status == LetterPending {
		return nil, fault.New(fault.Conflict, "letter_under_review", "The uploaded letter is being reviewed; wait for the result.")
	}
	return []Event{AuthorizationLetterUploaded{Reference: e.letter.reference, File: f, UploadedBy: actor, UploadedAt: timestamp(now),
		ReviewDue: timestamp(ReviewDue(now))}}, nil
}

// ReviewDue adds one working day (Monday to Friday in Shanghai; public
// holidays are not known) to t; an upload at a weekend counts from Monday
// 09:00.
func ReviewDue(t time.Time) time.Time {
	s := t.In(Shanghai)
	for s.Weekday() == time.Saturday || s.Weekday() == time.Sunday {
		y, m, d := s.Date()
		s = time.Date(y, m, d+1, 9, 0, 0, 0, Shanghai)
	}
	s = s.Add(24 * time.Hour)
	for s.Weekday() == time.Saturday || s.Weekday() == time.Sunday {
		s = s.Add(24 * time.Hour)
	}
	return s
}

// ReviewLetter records a platform reviewer's decision. The caller checks
// the reviewer's platform role.
func (e *Enterprise) ReviewLetter(reviewer string, approve bool, reason string, now time.Time) ([]Event, error) {
	if !e.Exists() {
		return nil, ErrNotFound
	}
	if e.verified != nil {
		return nil, ErrAlreadyVerified
	}
	if reviewer == e.createdBy || e.members[reviewer] != "" {
		return nil, fault.New(fault.Forbidden, "reviewer_conflict", "A reviewer may not review the letter of an enterprise they belong to.")
	}
	if e.letter == nil || e.letter.status != LetterPending || e.method != MethodLetter {
		return nil, rule("no_letter_to_review", "This enterprise has no authorization letter waiting for review.")
	}
	if !approve {
		reason = strings.TrimSpace(reason)
		if n := utf8.RuneCountInString(reason); n < 2 || n > 500 {
			return nil, fault.Invalidf("reason", "reason_required", "Say why the letter is rejected (2 to 500 characters); the applicant reads it.")
		}
		return []Event{AuthorizationLetterRejected{Reference: e.letter.reference, Reviewer: reviewer, Reason: reason, ReviewedAt: timestamp(now)}}, nil
	}
	if now.After(e.materials.ExpiresAt) {
		return nil, ErrMaterialsLapsed
	}
	return append([]Event{AuthorizationLetterApproved{Reference: e.letter.reference, Reviewer: reviewer, ReviewedAt: timestamp(now)}},
		e.complete(MethodLetter, now)...), nil
}

// RequestMicroDeposit validates the corporate account and records the
// deposit the platform will pay (amount chosen by the caller).
func (e *Enterprise) RequestMicroDeposit(actor string, acct BankAccount, transferID string, amountFen int64, now time.Time) ([]Event, error) {
	if err := e.checkWillingness(actor, MethodMicroDeposit, now); err != nil {
		return nil, err
	}
	if e.deposits >= MicroDepositsPerCase {
		zero := 0
		return []Event{WillingnessCheckFailed{Method: MethodMicroDeposit, Step: "deposit", Reason: "deposit_limit",
				Detail: fmt.Sprintf("%d deposits already paid for this case", e.deposits), AttemptsLeft: &zero, FailedAt: timestamp(now)}},
			rule("deposit_limit", "This case has had %d deposits, the most it may have; switch to the reverse deposit or another check.", MicroDepositsPerCase)
	}
	acct.Holder = strings.TrimSpace(acct.Holder)
	if acct.Holder == "" {
		acct.Holder = e.materials.Name
	}
	if normName(acct.Holder) != normName(e.materials.Name) {
		return nil, fault.Invalidf("holder", "holder_mismatch", "The account holder must be the enterprise itself (%s).", e.materials.Name)
	}
	for _, f := range []struct{ name, v string }{{"bank", acct.Bank}, {"branch", acct.Branch}, {"province", acct.Province}, {"city", acct.City}} {
		if n := utf8.RuneCountInString(strings.TrimSpace(f.v)); n < 2 || n > 60 {
			return nil, fault.Invalidf(f.name, "invalid_"+f.name, "Enter the %s of the corporate account (2 to 60 characters).", f.name)
		}
	}
	num := strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, acct.AccountNumber)
	if len(num) < 8 || len(num) > 32 || strings.Trim(num, "0123456789") != "" {
		return nil, fault.Invalidf("account_number", "invalid_account_number", "Enter the corporate account number: 8 to 32 digits.")
	}
	acct.AccountNumber = num
	// The same account again while its deposit is on the way is a repeat;
	// another account is the seed's "账号填错了?": a new deposit replaces
	// the old one (whose amount then no longer counts), within the limits.
	if e.deposit != nil && e.deposit.failed == "" && !e.deposit.done && now.Before(e.deposit.req.Deadline) &&
		e.deposit.wrong < MicroDepositTries && e.deposit.req.Account.AccountNumber == num {
		return nil, fault.New(fault.Conflict, "deposit_pending", "A deposit to this account is already on its way; enter its amount, or correct the account number if it was wrong.")
	}
	if amountFen < 1 || amountFen > 99 {
		return nil, fmt.Errorf("micro deposit: amount %d fen outside 1..99", amountFen)
	}
	return []Event{MicroDepositRequested{TransferID: transferID, Account: acct, AmountFen: amountFen,
		Deadline: timestamp(now.Add(MicroDepositValidFor)), RequestedAt: timestamp(now)}}, nil
}

// normName makes names comparable across full-width and ASCII brackets and spaces.
func normName(s string) string {
	return strings.NewReplacer("（", "(", "）", ")", " ", "", "　", "").Replace(strings.TrimSpace(s))
}

// CheckDepositDay refuses a deposit beyond the day's allowance for the
// enterprise's code (n is this request's number today, counted by the
// caller), recording why; 429 until the next Shanghai day.
func (e *Enterprise) CheckDepositDay(actor string, n int, now time.Time) ([]Event, error) {
	if err := e.checkWillingness(actor, MethodMicroDeposit, now); err != nil {
		return nil, err
	}
	if n <= MicroDepositsPerDay {
		return nil, nil
	}
	next := NextDay(now)
	zero := 0
	return []Event{WillingnessCheckFailed{Method: MethodMicroDeposit, Step: "deposit", Reason: "deposit_daily_limit",
			Detail: fmt.Sprintf("deposit %d of %d today for this code", n, MicroDepositsPerDay), AttemptsLeft: &zero, FailedAt: timestamp(now)}},
		fault.New(fault.RateLimited, "deposit_daily_limit",
			fmt.Sprintf("At most %d deposits a day go to one enterprise; try again after %s (Beijing time), or use another check.", MicroDepositsPerDay, next.In(Shanghai).Format("2006-01-02 15:04"))).Retry(next.Sub(now))
}

// MicroDepositFailed records the bank's report that a deposit failed.
func (e *Enterprise) MicroDepositFailed(transferID, reason string, now time.Time) ([]Event, error) {
	if !e.Exists() {
		return nil, ErrNotFound
	}
	if e.deposit == nil || e.deposit.req.TransferID != transferID {
		return nil, fault.New(fault.NotFound, "transfer_not_found", "There is no such deposit.")
	}
	if e.deposit.failed != "" || e.deposit.done {
		return nil, nil
	}
	return []Event{MicroDepositFailed{TransferID: transferID, Reason: orDefault(reason, "bank_refused"), FailedAt: timestamp(now)}}, nil
}

// ConfirmMicroDeposit checks the amount the operator read off the account
// statement. Wrong, late and exhausted attempts are recorded and refused.
func (e *Enterprise) ConfirmMicroDeposit(actor string, amountFen int64, now time.Time) ([]Event, error) {
	if err := e.checkWillingness(actor, MethodMicroDeposit, now); err != nil {
		return nil, err
	}
	d := e.deposit
	if d == nil {
		return nil, rule("deposit_not_requested", "Enter the corporate account first; the platform then pays a small amount into it.")
	}
	fail := func(reason, detail string, left int, err *fault.Error) ([]Event, error) {
		l := left
		return []Event{WillingnessCheckFailed{Method: MethodMicroDeposit, Step: "amount", Reason: reason, Detail: detail, AttemptsLeft: &l, FailedAt: timestamp(now)}}, err
	}
	switch {
	case d.failed != "":
		return nil, rule("deposit_failed", "The deposit could not be paid (%s); check the account or switch to the reverse deposit.", d.failed)
	case d.wrong >= MicroDepositTries:
		return fail("deposit_attempts_exhausted", "transfer "+d.req.TransferID, 0,
			rule("deposit_attempts_exhausted", "The amount was entered wrongly %d times; ask for a new deposit or switch to the reverse deposit.", MicroDepositTries))
	case now.After(d.req.Deadline):
		return fail("deposit_expired", "deadline "+d.req.Deadline.In(Shanghai).Format("2006-01-02 15:04:05"), 0,
			rule("deposit_expired", "The amount had to be entered before %s (Beijing time); ask for a new deposit.", d.req.Deadline.In(Shanghai).Format("2006-01-02 15:04:05")))
	case amountFen != d.req.AmountFen:
		left := MicroDepositTries - d.wrong - 1
		return fail("wrong_amount", fmt.Sprintf("entered %d fen", amountFen), left,
			rule("wrong_amount", "That is not the amount paid; %d attempt(s) left. Look for a credit between 0.01 and 0.99 CNY on the corporate account.", left).OnField("amount"))
	}
	return append([]Event{MicroDepositConfirmed{TransferID: d.req.TransferID, ConfirmedAt: timestamp(now)}}, e.complete(MethodMicroDeposit, now)...), nil
}

// ReverseDepositConditions are the two boxes the seed asks to tick.
var ReverseDepositConditions = []string{"payment_terms", "matching_conditions"}

// RequestReverseDeposit records that the enterprise will pay 0.01 CNY.
func (e *Enterprise) RequestReverseDeposit(actor, reference string, acks map[string]bool, payTo PlatformAccount, now time.Time) ([]Event, error) {
	if err := e.checkWillingness(actor, MethodReverse, now); err != nil {
		return nil, err
	}
	for _, c := range ReverseDepositConditions {
		if !acks[c] {
			return nil, fault.Invalidf("acknowledge_"+c, "acknowledgement_required",
				"Tick both boxes (我知情并同意): the 0.01 CNY buys one enterprise contract and is not refunded, and the payment must meet every listed condition.")
		}
	}
	if e.reverse != nil && e.reverse.matched == nil {
		return nil, nil // already waiting for the payment
	}
	y, m, d := now.In(Shanghai).Date()
	return []Event{ReverseDepositRequested{Reference: reference, PayerName: e.materials.Name, AmountFen: ReverseDepositFen, PayTo: payTo,
		NotBefore: timestamp(time.Date(y, m, d, 0, 0, 0, 0, Shanghai)), Acknowledged: append([]string(nil), ReverseDepositConditions...), RequestedAt: timestamp(now)}}, nil
}

// AwaitsReverseDeposit reports whether a payment is expected.
func (e *Enterprise) AwaitsReverseDeposit() bool {
	return e.verified == nil && e.reverse != nil && e.reverse.matched == nil
}

// AwaitsPaymentFrom reports whether a payment is expected from payer: the
// payer name of the current request, not one of earlier materials.
func (e *Enterprise) AwaitsPaymentFrom(payer string) bool {
	return e.AwaitsReverseDeposit() && normName(e.reverse.req.PayerName) == normName(payer)
}

// MatchStatement judges an incoming payment attributed to this enterprise
// against the seed's conditions, in the seed's order; the first broken one
// is recorded as the reason.
func (e *Enterprise) MatchStatement(l StatementLine, now time.Time) ([]Event, error) {
	if !e.AwaitsReverseDeposit() {
		return nil, rule("no_reverse_deposit", "This enterprise is not waiting for a reverse deposit.")
	}
	r := e.reverse.req
	mismatch := func(reason, detail string) ([]Event, error) {
		return []Event{ReverseDepositMismatched{Statement: l, Reason: reason, Detail: detail, CheckedAt: timestamp(now)}}, nil
	}
	switch {
	case normName(l.PayerName) != normName(r.PayerName):
		return mismatch("payer_name_mismatch", fmt.Sprintf("paid by %q; the payer must be %q", l.PayerName, r.PayerName))
	case l.PayerAccountType != "corporate":
		return mismatch("payer_not_corporate", "paid from a "+orDefault(l.PayerAccountType, "unknown")+" account; a corporate account must pay")
	case l.Currency != "CNY" || l.AmountFen != r.AmountFen:
		return mismatch("amount_mismatch", fmt.Sprintf("paid %d.%02d %s; exactly 0.01 CNY is required", l.AmountFen/100, l.AmountFen%100, l.Currency))
	case l.PaidAt.Before(r.NotBefore):
		return mismatch("paid_before_request", "paid on "+l.PaidAt.In(Shanghai).Format("2006-01-02")+", before "+r.NotBefore.In(Shanghai).Format("2006-01-02"))
	case l.PayeeAccount != r.PayTo.AccountNumber:
		return mismatch("payee_mismatch", "paid into another account")
	}
	if now.After(e.materials.ExpiresAt) {
		return mismatch("materials_expired", "the submitted materials had lapsed")
	}
	return append([]Event{ReverseDepositMatched{Statement: l, MatchedAt: timestamp(now)}}, e.complete(MethodReverse, now)...), nil
}

// ReverseProgress returns the mismatches so far and whether it matched.
func (e *Enterprise) ReverseProgress() ([]ReverseDepositMismatched, bool) {
	if e.reverse == nil {
		return nil, false
	}
	return append([]ReverseDepositMismatched(nil), e.reverse.mismatches...), e.reverse.matched != nil
}

// checkAdmin: the enterprise is verified and actor administers it.
func (e *Enterprise) checkAdmin(actor string) error {
	if !e.Exists() {
		return ErrNotFound
	}
	if err := e.CheckActsFor(actor); err != nil {
		return err
	}
	if role := e.members[actor]; role != MasterAdmin && role != Admin {
		return ErrNotAdmin
	}
	return nil
}

// CheckActsFor refuses accounts that may not act for the enterprise (send,
// sign, use its templates and seals): those that are not members, and
// auditors.
func (e *Enterprise) CheckActsFor(accountID string) error {
	if !e.Exists() {
		return ErrNotFound
	}
	switch e.members[accountID] {
	case "":
		return ErrNotMember
	case Auditor:
		return ErrAuditorReadOnly
	}
	return nil
}

// Invite creates a share link for joining as role.
func (e *Enterprise) Invite(actor, invitationID, tokenHash string, role Role, now time.Time) ([]Event, error) {
	if err := e.checkAdmin(actor); err != nil {
		return nil, err
	}
	switch role {
	case "", Member:
		role = Member
	case Auditor:
	case Admin:
		if e.members[actor] != MasterAdmin {
			return nil, fault.New(fault.Forbidden, "master_admin_only", "Only the master admin may invite administrators.")
		}
	default:
		return nil, fault.Invalidf("role", "invalid_role", "An invitation is for the role member, auditor or admin.")
	}
	return []Event{MemberInvitationCreated{InvitationID: invitationID, TokenHash: tokenHash, Role: role, CreatedBy: actor,
		ExpiresAt: timestamp(now.Add(InvitationValidFor)), CreatedAt: timestamp(now)}}, nil
}

// Invitation returns the role an invitation grants while it is valid.
func (e *Enterprise) Invitation(invitationID string, now time.Time) (Role, error) {
	if !e.Exists() {
		return "", ErrNotFound
	}
	inv, ok := e.invitations[invitationID]
	if !ok {
		return "", fault.New(fault.NotFound, "invitation_not_found", "This invitation link is not valid.")
	}
	if now.After(inv.created.ExpiresAt) {
		return "", fault.New(fault.Rule, "invitation_expired", "This invitation link has expired; ask your administrator for a new one.")
	}
	return inv.created.Role, nil
}

// Join adds account through an invitation.
func (e *Enterprise) Join(accountID, invitationID string, now time.Time) ([]Event, error) {
	role, err := e.Invitation(invitationID, now)
	if err != nil {
		return nil, err
	}
	if e.members[accountID] != "" {
		return nil, fault.New(fault.Conflict, "already_member", "You are already a member of this enterprise.")
	}
	// Removal sticks: links made before it do not bring the account back.
	if at, ok := e.removed[accountID]; ok && !e.invitations[invitationID].created.CreatedAt.After(at) {
		return nil, fault.New(fault.Forbidden, "removed_from_enterprise", "You were removed from this enterprise; ask its administrator for a new invitation link.")
	}
	return []Event{MemberJoined{AccountID: accountID, Role: role, InvitationID: invitationID, JoinedAt: timestamp(now)}}, nil
}

// ChangeRole changes a member's role between admin, member and auditor.
func (e *Enterprise) ChangeRole(actor, target string, role Role, now time.Time) ([]Event, error) {
	if err := e.checkTarget(actor, target); err != nil {
		return nil, err
	}
	if role != Admin && role != Member && role != Auditor {
		return nil, fault.Invalidf("role", "invalid_role", "A member's role is admin, member or auditor.")
	}
	// As with invitations: only the master admin makes administrators.
	if role == Admin && e.members[actor] != MasterAdmin {
		return nil, fault.New(fault.Forbidden, "master_admin_only", "Only the master admin may make a member an administrator.")
	}
	if e.members[target] == role {
		return nil, nil
	}
	return []Event{MemberRoleChanged{AccountID: target, Role: role, ChangedBy: actor, ChangedAt: timestamp(now)}}, nil
}

// RemoveMember removes a member.
func (e *Enterprise) RemoveMember(actor, target string, now time.Time) ([]Event, error) {
	if err := e.checkTarget(actor, target); err != nil {
		return nil, err
	}
	return []Event{MemberRemoved{AccountID: target, RemovedBy: actor, RemovedAt: timestamp(now)}}, nil
}

// checkTarget: actor is an admin, target a member other than the master
// admin, and only the master admin touches other admins.
func (e *Enterprise) checkTarget(actor, target string) error {
	if err := e.checkAdmin(actor); err != nil {
		return err
	}
	switch e.members[target] {
	case "":
		return fault.New(fault.NotFound, "member_not_found", "This account is not a member of the enterprise.")
	case MasterAdmin:
		return fault.New(fault.Forbidden, "master_admin_fixed", "The master admin's role cannot be changed or removed.")
	case Admin:
		if e.members[actor] != MasterAdmin {
			return fault.New(fault.Forbidden, "master_admin_only", "Only the master admin may change or remove administrators.")
		}
	}
	return nil
}

package account

import (
	"errors"
	"fmt"
	"time"

	"signet/domain/fault"
	"signet/domain/identity"
)

// Shanghai is China Standard Time (no DST since 1991), the zone of the
// seed's calendar days: face-scan limits, birth dates judged against today.
var Shanghai = time.FixedZone("Asia/Shanghai", 8*60*60)

// Rules of the seed.
const (
	// RegistrationQuota: free personal contracts on registration ("您已获得5份对私合同").
	RegistrationQuota = 5
	// PersonalVerificationQuota: more on personal verification ("实名认证个人再得5份免费合同").
	PersonalVerificationQuota = 5
	// FaceScansPerDay per person per calendar day in Shanghai ("刷脸认证一天仅3次机会").
	FaceScansPerDay = 3
)

// Quota kinds and reasons of ContractQuotaGranted.
const (
	QuotaPersonal          = "personal"
	ReasonRegistration     = "registration"
	ReasonPersonalVerified = "personal_verified"
)

// Side of an ID card.
type Side string

const (
	Portrait Side = "portrait" // 人像面
	Emblem   Side = "emblem"   // 国徽面
)

// Method is how a person's real name was verified.
type Method string

const (
	MethodPhone Method = "phone" // ID card and carrier three-factor check, then a code
	MethodFace  Method = "face"  // face scan against the ID number's photo
)

// Platform roles let an account act for the platform itself.
const (
	PlatformOperator = "operator" // reviews authorization letters
	PlatformAuditor  = "auditor"  // reads event history
)

// PlatformRoles lists the platform roles that exist.
var PlatformRoles = []string{PlatformOperator, PlatformAuditor}

// Refusals of the personal verification and of platform roles.
var (
	ErrNotRegistered    = fault.New(fault.NotFound, "account_not_found", "There is no such account.")
	ErrAlreadyVerified  = fault.New(fault.Conflict, "already_verified", "Your real name is already verified; there is nothing left to do.")
	ErrCodeNotRequested = fault.New(fault.Rule, "code_not_requested",
		"Enter your name, ID number and phone number and request a code first.")
	ErrFaceSessionNotFound = fault.New(fault.NotFound, "face_session_not_found", "There is no such face scan session.")
	ErrFaceSessionFinished = fault.New(fault.Conflict, "face_session_finished", "This face scan session already has a result.")
)

// Person is a name and a resident ID number, checked and normalised.
type Person struct {
	Name     string
	IDNumber string
}

// ParsePerson checks a name and an ID number as typed; the ID number's
// birth date is judged against now's day in Shanghai. Refusals are 400 on
// "name" or "id_number", the name's first.
func ParsePerson(name, idNumber string, now time.Time) (Person, error) {
	n, err := identity.ParseChineseName(name, "name")
	if err != nil {
		return Person{}, err
	}
	id, err := identity.ParseIDNumber(idNumber, now.In(Shanghai))
	if err != nil {
		return Person{}, err
	}
	return Person{Name: n, IDNumber: id.String()}, nil
}

// checkVerifiable: the account exists and is not verified yet.
func (a *Account) checkVerifiable() error {
	if !a.Registered() {
		return ErrNotRegistered
	}
	if a.verified != nil {
		return ErrAlreadyVerified
	}
	return nil
}

// UploadIDCard records one stored side of the holder's ID card and what
// OCR read on it.
func (a *Account) UploadIDCard(side Side, f File, rec IDCardFields, recognizer string, now time.Time) ([]Event, error) {
	if err := a.checkVerifiable(); err != nil {
		return nil, err
	}
	if side != Portrait && side != Emblem {
		return nil, fault.Invalidf("side", "invalid_side", "An ID card side is portrait (人像面) or emblem (国徽面).")
	}
	if f.SHA256 == "" || f.Size <= 0 {
		return nil, errors.New("upload ID card: no stored file")
	}
	return []Event{PersonalIDCardUploaded{Side: side, File: f, Recognized: rec, Recognizer: recognizer, UploadedAt: timestamp(now)}}, nil
}

// PrepareCarrierCheck refuses a carrier check before the carrier is asked
// and returns what to ask it: the normalised person and 11-digit phone.
// Both ID card sides must be uploaded first (422 id_card_required); the
// input is refused with 400 on "name", "id_number" or "phone".
func (a *Account) PrepareCarrierCheck(name, idNumber, phone string, now time.Time) (Person, string, error) {
	if err := a.checkVerifiable(); err != nil {
		return Person{}, "", err
	}
	if err := a.checkIDCards(); err != nil {
		return Person{}, "", err
	}
	p, err := ParsePerson(name, idNumber, now)
	if err != nil {
		return Person{}, "", err
	}
	ph, err := identity.ParsePhone(phone)
	if err != nil {
		return Person{}, "", err
	}
	return p, ph, nil
}

// checkIDCards: both sides of the holder's ID card are uploaded (422
// id_card_required): either check compares against them.
func (a *Account) checkIDCards() error {
	for _, s := range []Side{Portrait, Emblem} {
		if _, ok := a.idCards[s]; !ok {
			return fault.New(fault.Rule, "id_card_required",
				fmt.Sprintf("Upload the %s side of your ID card first; the check needs both sides.", sideName(s))).OnField("id_card")
		}
	}
	return nil
}

func sideName(s Side) string {
	if s == Emblem {
		return "national emblem (国徽面)"
	}
	return "portrait (人像面)"
}

// CheckCarrier records the carrier's three-factor answer on (name, ID
// number, phone). A mismatch is recorded and refused: the PersonalCheckFailed
// comes back with a 422 carrier_mismatch, and the caller appends it.
func (a *Account) CheckCarrier(name, idNumber, phone string, match bool, reason string, now time.Time) ([]Event, error) {
	p, ph, err := a.PrepareCarrierCheck(name, idNumber, phone, now)
	if err != nil {
		return nil, err
	}
	if !match {
		ev := PersonalCheckFailed{Method: MethodPhone, Step: "carrier", Reason: orDefault(reason, "carrier_mismatch"),
			Detail: "phone " + identity.MaskPhone(ph), FailedAt: timestamp(now)}
		return []Event{ev}, fault.New(fault.Rule, "carrier_mismatch",
			"The carrier says this phone number is not registered under your name and ID number; use a phone number bought with your own ID card, or verify with a face scan.").OnField("phone")
	}
	return []Event{PersonalCarrierCheckPassed{Name: p.Name, IDNumber: p.IDNumber, Phone: ph, CheckedAt: timestamp(now)}}, nil
}

// ConfirmPhone records the result of checking the code sent after the
// carrier check: codeErr is nil when the code was right, else the code
// store's refusal (recorded, then returned). attemptsLeft is how many more
// codes may be tried for this one (0 when it is burnt, which ends the
// pending check; negative when the store does not say, which keeps it). A
// right code verifies the person and grants the quota.
func (a *Account) ConfirmPhone(codeErr error, attemptsLeft int, now time.Time) ([]Event, error) {
	if err := a.checkVerifiable(); err != nil {
		return nil, err
	}
	c := a.carrier
	if c == nil {
		return nil, ErrCodeNotRequested
	}
	if codeErr != nil {
		reason := "wrong_code"
		if f, ok := fault.As(codeErr); ok {
			reason = f.Code
		}
		var left *int
		if attemptsLeft >= 0 {
			left = &attemptsLeft
		}
		return []Event{PersonalCheckFailed{Method: MethodPhone, Step: "code", Reason: reason, Detail: "phone " + identity.MaskPhone(c.Phone),
			AttemptsLeft: left, FailedAt: timestamp(now)}}, codeErr
	}
	return a.verify(c.Name, c.IDNumber, MethodPhone, now), nil
}

// verify decides the events of a successful personal verification.
func (a *Account) verify(name, idNumber string, m Method, now time.Time) []Event {
	at := timestamp(now)
	return []Event{
		PersonVerified{Name: name, IDNumber: idNumber, Method: m, VerifiedAt: at},
		ContractQuotaGranted{Kind: QuotaPersonal, Amount: PersonalVerificationQuota, Reason: ReasonPersonalVerified, GrantedAt: at},
	}
}

// FaceResultGrace: how long after a session's expiry its result is still
// taken (the provider's callback may be delayed).
const FaceResultGrace = 5 * time.Minute

// NextDay is the start of the next calendar day in Shanghai.
func NextDay(now time.Time) time.Time {
	y, m, d := now.In(Shanghai).Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, Shanghai)
}

// CheckFaceStart refuses a face scan before the provider is asked: the
// account is verified, the input is bad (400 on "name" or "id_number"), or
// the person's daily attempts are used up. attempt is this person's attempt
// number today, counted by the caller (FaceAttemptsOn counts this
// account's). Over the limit, the PersonalCheckFailed comes back with a 429
// face_daily_limit that says to retry at the next Shanghai day; the caller
// appends it.
func (a *Account) CheckFaceStart(name, idNumber string, attempt int, now time.Time) ([]Event, error) {
	if err := a.checkVerifiable(); err != nil {
		return nil, err
	}
	if err := a.checkIDCards(); err != nil {
		return nil, err
	}
	if _, err := ParsePerson(name, idNumber, now); err != nil {
		return nil, err
	}
	if attempt > FaceScansPerDay {
		next := NextDay(now)
		zero := 0
		return []Event{PersonalCheckFailed{Method: MethodFace, Step: "face", Reason: "face_daily_limit",
				Detail: fmt.Sprintf("attempt %d of %d today", attempt, FaceScansPerDay), AttemptsLeft: &zero, FailedAt: timestamp(now)}},
			fault.New(fault.RateLimited, "face_daily_limit",
				fmt.Sprintf("A person may try the face scan %d times a day; try again after %s (Beijing time), or verify with your ID card and phone.",
					FaceScansPerDay, next.Format("2006-01-02 15:04"))).Retry(next.Sub(now))
	}
	return nil, nil
}

// StartFace records a face-scan session the provider opened. Call
// CheckFaceStart (and append what it returns) before asking the provider.
func (a *Account) StartFace(name, idNumber, sessionID, qrURL string, expiresAt time.Time, attempt int, now time.Time) ([]Event, error) {
	if _, err := a.CheckFaceStart(name, idNumber, attempt, now); err != nil {
		return nil, err
	}
	if sessionID == "" || attempt < 1 {
		return nil, errors.New("start face scan: no session ID or attempt number")
	}
	if _, ok := a.faces[sessionID]; ok {
		return nil, fmt.Errorf("start face scan: session %q already started", sessionID)
	}
	p, _ := ParsePerson(name, idNumber, now)
	return []Event{PersonalFaceScanStarted{SessionID: sessionID, Name: p.Name, IDNumber: p.IDNumber, Attempt: attempt, QRURL: qrURL,
		ExpiresAt: timestamp(expiresAt), StartedAt: timestamp(now)}}, nil
}

// FaceResult records the provider's verdict on a session. A result for an
// unknown (404) or finished (409) session is refused. A failed scan is
// recorded without an error. A passed scan verifies the person and grants
// the quota, unless the account got verified meanwhile: then only the scan
// is recorded.
func (a *Account) FaceResult(sessionID string, passed bool, score float64, reason string, now time.Time) ([]Event, error) {
	if !a.Registered() {
		return nil, ErrNotRegistered
	}
	s := a.faces[sessionID]
	if s == nil {
		return nil, ErrFaceSessionNotFound
	}
	if s.done {
		return nil, ErrFaceSessionFinished
	}
	if !s.started.ExpiresAt.IsZero() && now.After(s.started.ExpiresAt.Add(FaceResultGrace)) {
		// A result long after the session expired proves nothing about now.
		return []Event{PersonalCheckFailed{Method: MethodFace, Step: "face", Reason: "face_session_expired",
			Detail: "session " + sessionID, SessionID: sessionID, FailedAt: timestamp(now)}}, nil
	}
	if !passed {
		return []Event{PersonalCheckFailed{Method: MethodFace, Step: "face", Reason: orDefault(reason, "face_mismatch"),
			Detail: "session " + sessionID, SessionID: sessionID, FailedAt: timestamp(now)}}, nil
	}
	out := []Event{PersonalFaceVerified{SessionID: sessionID, Score: score, VerifiedAt: timestamp(now)}}
	if a.verified == nil {
		out = append(out, a.verify(s.started.Name, s.started.IDNumber, MethodFace, now)...)
	}
	return out, nil
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func validRole(r string) error {
	for _, k := range PlatformRoles {
		if r == k {
			return nil
		}
	}
	return fault.Invalidf("role", "invalid_role", "A platform role is operator or auditor.")
}

// GrantPlatformRole gives the account a platform role; granting a role it
// holds decides nothing. Whether by may grant it is the caller's check.
func (a *Account) GrantPlatformRole(role, by string, now time.Time) ([]Event, error) {
	if !a.Registered() {
		return nil, ErrNotRegistered
	}
	if err := validRole(role); err != nil {
		return nil, err
	}
	if by == "" {
		return nil, errors.New("grant platform role: no granter")
	}
	if a.roles[role] {
		return nil, nil
	}
	return []Event{PlatformRoleGranted{Role: role, GrantedBy: by, GrantedAt: timestamp(now)}}, nil
}

// RevokePlatformRole takes a platform role away; revoking a role the
// account does not hold decides nothing.
func (a *Account) RevokePlatformRole(role, by string, now time.Time) ([]Event, error) {
	if !a.Registered() {
		return nil, ErrNotRegistered
	}
	if err := validRole(role); err != nil {
		return nil, err
	}
	if by == "" {
		return nil, errors.New("revoke platform role: no revoker")
	}
	if !a.roles[role] {
		return nil, nil
	}
	return []Event{PlatformRoleRevoked{Role: role, RevokedBy: by, RevokedAt: timestamp(now)}}, nil
}

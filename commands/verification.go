package commands

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"strings"
	"time"

	"signet/domain/enterprise"
	"signet/domain/event"
	"signet/domain/fault"
	"signet/infra/bank"
	"signet/infra/blob"
	"signet/infra/carrier"
	"signet/infra/face"
	"signet/infra/letter"
	"signet/infra/ocr"
	"signet/infra/registry"
)

// Ports of real-name verification. Real providers are out of reach here;
// infra holds dev adapters of each.
type (
	// Blobs stores uploads content-addressed (photos, letters, PDFs).
	Blobs interface {
		Put(ctx context.Context, data []byte, mediaType string) (blob.Ref, error)
		Get(ctx context.Context, sha256 string) ([]byte, blob.Ref, error)
	}
	// Recognizer reads licences and ID cards (OCR).
	Recognizer interface {
		License(ctx context.Context, img []byte) (ocr.LicenseFields, error)
		Portrait(ctx context.Context, img []byte) (ocr.PortraitFields, error)
		Emblem(ctx context.Context, img []byte) (ocr.EmblemFields, error)
		Name() string
	}
	// RegistryChecker asks the business registry whether an enterprise is
	// registered with this code, name and legal representative.
	RegistryChecker interface {
		Check(ctx context.Context, uscc, name, legalRep string) (registry.Result, error)
	}
	// CarrierChecker asks the carrier whether a phone is registered to a
	// name and ID number (运营商三要素).
	CarrierChecker interface {
		Check(ctx context.Context, name, idNumber, phone string) (carrier.Result, error)
	}
	// FaceProvider opens face-scan sessions; results come by callback.
	FaceProvider interface {
		Start(ctx context.Context, req face.StartRequest) (face.Session, error)
	}
	// BankTransfers pays micro-deposits.
	BankTransfers interface {
		Send(ctx context.Context, t bank.Transfer) error
	}
	// DailyCounter numbers attempts per subject per day.
	DailyCounter interface {
		Take(ctx context.Context, subject string, dayEnd time.Time) (int, error)
		Peek(ctx context.Context, subject string, dayEnd time.Time) (int, error)
	}
)

// VerificationDeps are what verification needs besides Deps.
type VerificationDeps struct {
	Blobs       Blobs
	Recognizer  Recognizer
	Carrier     CarrierChecker
	Registry    RegistryChecker
	Face        FaceProvider
	Bank        BankTransfers
	FaceCounter DailyCounter
	// DepositCounter numbers micro-deposits per USCC per day.
	DepositCounter DailyCounter
	// FaceCallbackURL is where the face provider posts results.
	FaceCallbackURL string
	// PlatformAccount receives reverse deposits.
	PlatformAccount enterprise.PlatformAccount
	// RenderLetter renders the authorization letter (letter.Render).
	RenderLetter func(letter.Letter) ([]byte, error)
	// PlatformName is printed on the letter.
	PlatformName string
}

func (v VerificationDeps) check() error {
	var missing []string
	for _, d := range []struct {
		n  string
		ok bool
	}{{"Blobs", v.Blobs != nil}, {"Recognizer", v.Recognizer != nil}, {"Carrier", v.Carrier != nil}, {"Registry", v.Registry != nil}, {"Face", v.Face != nil},
		{"Bank", v.Bank != nil}, {"FaceCounter", v.FaceCounter != nil}, {"DepositCounter", v.DepositCounter != nil}, {"RenderLetter", v.RenderLetter != nil}} {
		if !d.ok {
			missing = append(missing, d.n)
		}
	}
	if len(missing) > 0 {
		return errors.New("commands: verification needs " + strings.Join(missing, ", "))
	}
	return nil
}

// Code purposes of verification (one slot per case and phone).
const (
	PurposeEnterprisePhone = "enterprise-phone"
	PurposePersonalPhone   = "personal-phone"
)

// Actor is who issues a command, as the HTTP layer knows them.
type Actor struct {
	AccountID     string
	ClientIP      string
	CorrelationID string
}

func (a Actor) meta(now time.Time, enterpriseID string) event.Metadata {
	return event.Metadata{Actor: a.AccountID, Enterprise: enterpriseID, CorrelationID: a.CorrelationID, ClientIP: a.ClientIP, OccurredAt: now}
}

// LogValue shows who acted.
func (a Actor) LogValue() slog.Value {
	return slog.GroupValue(slog.String("account", a.AccountID), slog.String("client_ip", a.ClientIP), slog.String("correlation_id", a.CorrelationID))
}

// Written is what every write returns: the global position of its last
// event (0 when it appended nothing).
type Written struct{ Position uint64 }

// enterprises loads and saves enterprise aggregates.
type enterprises struct {
	events EventStore
	ids    IDs
}

func (r enterprises) load(ctx context.Context, id string) (*enterprise.Enterprise, error) {
	if !validID(id) {
		return nil, enterprise.ErrNotFound
	}
	envs, err := r.events.ReadStream(ctx, enterprise.StreamOf(id), 1, event.Forwards, 0)
	if errors.Is(err, event.ErrNotFound) || (err == nil && len(envs) == 0) {
		return nil, enterprise.ErrNotFound
	}
	if err != nil {
		return nil, storeErr("read enterprise", err)
	}
	return enterprise.Replay(envs)
}

// save appends events decided on e (at e's version) and applies them to e.
func (r enterprises) save(ctx context.Context, e *enterprise.Enterprise, stream string, expected event.ExpectedVersion, evs []enterprise.Event, meta event.Metadata) (uint64, error) {
	pos, err := appendEvents(ctx, r.events, r.ids, stream, expected, enterprise.NewEvent, evs, meta)
	if err != nil {
		return 0, err
	}
	if e != nil {
		for _, ev := range evs {
			if err := e.Apply(ev); err != nil {
				return 0, err
			}
		}
	}
	return pos, nil
}

func validID(id string) bool {
	if len(id) != 36 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if c != '-' {
				return false
			}
		case (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'):
		default:
			return false
		}
	}
	return true
}

// verifier holds the verification use cases; each is exposed as a
// decorated Handler in Commands.
type verifier struct {
	enterprises
	codes    CodeStore
	senders  SenderLimit
	notifier Notifier
	clock    Clock
	v        VerificationDeps
	art      Artwork // draws the default seal of a newly verified enterprise
	policy   string
	log      *slog.Logger
}

func newVerifier(d Deps) *verifier {
	return &verifier{enterprises: enterprises{events: d.Events, ids: d.IDs}, codes: d.Codes, senders: d.Senders, notifier: d.Notifier, clock: d.Clock,
		v: d.Verification, art: d.Lifecycle.Art, policy: d.PrivacyPolicyVersion, log: d.Logger}
}

// decide runs one decision against the enterprise's stream: load, decide,
// append what was decided (refusals are recorded too), return the
// decision's error if any.
//
// A decision that lost the race with another change of the enterprise is
// taken again on the new state: what happened outside before it (a code the
// store consumed, a deposit decided, a provider's verdict) must not be lost
// to a 409, and the domain refuses what the new state no longer allows.
func (s *verifier) decide(ctx context.Context, a Actor, id string, d func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error)) (*enterprise.Enterprise, uint64, error) {
	for attempt := 1; ; attempt++ {
		e, pos, err := s.decideOnce(ctx, a, id, d)
		if attempt < decideAttempts && errors.Is(err, event.ErrConcurrency) {
			continue
		}
		return e, pos, err
	}
}

// decideAttempts bounds decide's retries after a concurrent change.
const decideAttempts = 3

func (s *verifier) decideOnce(ctx context.Context, a Actor, id string, d func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error)) (*enterprise.Enterprise, uint64, error) {
	e, err := s.load(ctx, id)
	if err != nil {
		return nil, 0, err
	}
	now := s.clock.Now()
	evs, derr := d(e, now)
	if v, ok := enterprise.Completes(evs); ok {
		if err := s.reserveUSCC(ctx, a, e, now); errors.Is(err, enterprise.ErrUSCCTaken) {
			// Proven, but another enterprise holds the code: record why it
			// stops here.
			evs = []enterprise.Event{enterprise.WillingnessCheckFailed{Method: v.Method, Step: "complete", Reason: "uscc_taken",
				Detail: "unified social credit code " + v.USCC + " is verified by another enterprise", FailedAt: now.UTC()}}
			derr = err
		} else if err != nil {
			return e, 0, err
		} else {
			// The default seal is appended with the verification: a verified
			// enterprise always has a seal to sign with.
			seal, err := s.defaultSeal(ctx, e, v.Name, now)
			if err != nil {
				return e, 0, err
			}
			evs = append(evs, seal...)
		}
	}
	pos, err := s.save(ctx, e, enterprise.StreamOf(id), event.Exactly(e.Version()), evs, a.meta(now, id))
	if err != nil {
		return e, 0, err
	}
	return e, pos, derr
}

// reserveUSCC makes the USCC this enterprise's before it is called
// verified, so that one enterprise is never verified twice.
func (s *verifier) reserveUSCC(ctx context.Context, a Actor, e *enterprise.Enterprise, now time.Time) error {
	uscc := e.Materials().USCC
	stream := enterprise.USCCStream(uscc)
	meta := a.meta(now, e.ID())
	_, err := s.save(ctx, nil, stream, event.NoStream, []enterprise.Event{enterprise.USCCReserved{USCC: uscc, EnterpriseID: e.ID(), ReservedAt: now.UTC()}}, meta)
	if err == nil || !errors.Is(err, event.ErrConcurrency) {
		return err
	}
	envs, err := s.events.ReadStream(ctx, stream, 1, event.Forwards, 0)
	if err != nil {
		return storeErr("read USCC reservation", err)
	}
	r, err := enterprise.ReplayReservation(envs)
	if err != nil {
		return err
	}
	if r.Holder() == e.ID() {
		// Ours from an earlier try whose verification was not written.
		// Re-assert it at its exact version: had another enterprise
		// reclaimed it meanwhile, one of the two appends fails, so the code
		// is never verified twice.
		_, err := s.save(ctx, nil, stream, event.Exactly(r.Version()), []enterprise.Event{enterprise.USCCReservationReclaimed{
			USCC: uscc, PreviousEnterpriseID: e.ID(), EnterpriseID: e.ID(), ReclaimedAt: now.UTC()}}, meta)
		if errors.Is(err, event.ErrConcurrency) {
			return enterprise.ErrUSCCTaken
		}
		return err
	}
	holderVerified := false
	if h, err := s.load(ctx, r.Holder()); err == nil {
		holderVerified = h.Verified()
	} else if _, ok := fault.As(err); !ok {
		return err
	}
	evs, err := r.Reclaim(uscc, e.ID(), holderVerified, now)
	if err != nil {
		return err
	}
	_, err = s.save(ctx, nil, stream, event.Exactly(r.Version()), evs, meta)
	if errors.Is(err, event.ErrConcurrency) {
		return enterprise.ErrUSCCTaken
	}
	return err
}

// CreateEnterprise starts the verification of a new enterprise (创建企业).
type CreateEnterprise struct{ Actor Actor }

// CreateEnterpriseResult names the new enterprise.
type CreateEnterpriseResult struct {
	EnterpriseID string
	Written
}

func (s *verifier) createEnterprise(ctx context.Context, c CreateEnterprise) (CreateEnterpriseResult, error) {
	id := s.ids.NewID()
	now := s.clock.Now()
	e := enterprise.New()
	evs, err := e.Create(id, c.Actor.AccountID, now)
	if err != nil {
		return CreateEnterpriseResult{}, err
	}
	pos, err := s.save(ctx, e, enterprise.StreamOf(id), event.NoStream, evs, c.Actor.meta(now, id))
	return CreateEnterpriseResult{EnterpriseID: id, Written: Written{pos}}, err
}

// Upload is an uploaded file checked by content. When Read is set the file
// is read through it only once the caller is known to be allowed to upload
// it: a refused caller costs no reading, decoding or OCR.
type Upload struct {
	Data      []byte
	MediaType string
	Read      func() (Upload, error)
}

func (u Upload) load() (Upload, error) {
	if u.Read == nil {
		return u, nil
	}
	return u.Read()
}

func (s *verifier) store(ctx context.Context, u Upload) (enterprise.File, error) {
	ref, err := s.v.Blobs.Put(ctx, u.Data, u.MediaType)
	if err != nil {
		return enterprise.File{}, fmt.Errorf("store upload: %w", err)
	}
	return enterprise.File{SHA256: ref.SHA256, Size: ref.Size, MediaType: ref.MediaType}, nil
}

// UploadLicense stores and reads a business licence photo.
type UploadLicense struct {
	Actor        Actor
	EnterpriseID string
	File         Upload
}

// UploadLicenseResult: the stored file and the recognised fields, for the
// user to check and correct.
type UploadLicenseResult struct {
	File       enterprise.File
	Recognized enterprise.LicenseFields
	Recognizer string
	Written
}

func (s *verifier) uploadLicense(ctx context.Context, c UploadLicense) (UploadLicenseResult, error) {
	e, err := s.load(ctx, c.EnterpriseID)
	if err != nil {
		return UploadLicenseResult{}, err
	}
	// Refused callers cost no OCR and leave no file behind.
	if _, err := e.UploadLicense(c.Actor.AccountID, enterprise.File{}, enterprise.LicenseFields{}, "", s.clock.Now()); err != nil {
		return UploadLicenseResult{}, err
	}
	file, err := c.File.load()
	if err != nil {
		return UploadLicenseResult{}, err
	}
	rec, err := s.v.Recognizer.License(ctx, file.Data)
	if err != nil {
		// Recognition is a convenience: the user types what was not read.
		rec = ocr.LicenseFields{}
	}
	f, err := s.store(ctx, file)
	if err != nil {
		return UploadLicenseResult{}, err
	}
	fields := enterprise.LicenseFields{Name: rec.Name, USCC: rec.USCC, LegalRep: rec.LegalRep}
	_, pos, err := s.decide(ctx, c.Actor, c.EnterpriseID, func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
		return e.UploadLicense(c.Actor.AccountID, f, fields, s.v.Recognizer.Name(), now)
	})
	return UploadLicenseResult{File: f, Recognized: fields, Recognizer: s.v.Recognizer.Name(), Written: Written{pos}}, err
}

// UploadIDCard stores and reads one side of an ID card.
type UploadIDCard struct {
	Actor        Actor
	EnterpriseID string
	Person       enterprise.Person
	Side         enterprise.Side
	File         Upload
}

// UploadIDCardResult: the stored file and the recognised fields.
type UploadIDCardResult struct {
	File       enterprise.File
	Recognized enterprise.IDCardFields
	Recognizer string
	Written
}

func (s *verifier) uploadIDCard(ctx context.Context, c UploadIDCard) (UploadIDCardResult, error) {
	e, err := s.load(ctx, c.EnterpriseID)
	if err != nil {
		return UploadIDCardResult{}, err
	}
	if _, err := e.UploadIDCard(c.Actor.AccountID, c.Person, c.Side, enterprise.File{}, enterprise.IDCardFields{}, "", s.clock.Now()); err != nil {
		return UploadIDCardResult{}, err
	}
	file, err := c.File.load()
	if err != nil {
		return UploadIDCardResult{}, err
	}
	fields := recognizeIDCard(ctx, s.v.Recognizer, string(c.Side), file.Data)
	f, err := s.store(ctx, file)
	if err != nil {
		return UploadIDCardResult{}, err
	}
	_, pos, err := s.decide(ctx, c.Actor, c.EnterpriseID, func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
		return e.UploadIDCard(c.Actor.AccountID, c.Person, c.Side, f, fields, s.v.Recognizer.Name(), now)
	})
	return UploadIDCardResult{File: f, Recognized: fields, Recognizer: s.v.Recognizer.Name(), Written: Written{pos}}, err
}

func recognizeIDCard(ctx context.Context, r Recognizer, side string, img []byte) enterprise.IDCardFields {
	if side == string(enterprise.Emblem) {
		if f, err := r.Emblem(ctx, img); err == nil {
			return enterprise.IDCardFields{Authority: f.Authority, ValidFrom: f.ValidFrom, ValidUntil: f.ValidUntil}
		}
		return enterprise.IDCardFields{}
	}
	if f, err := r.Portrait(ctx, img); err == nil {
		return enterprise.IDCardFields{Name: f.Name, IDNumber: f.IDNumber}
	}
	return enterprise.IDCardFields{}
}

// SubmitMaterials submits the checked fields and consents (确认提交).
type SubmitMaterials struct {
	Actor        Actor
	EnterpriseID string
	Materials    enterprise.Materials
}

// SubmitMaterialsResult: the enterprise name as recorded (the special
// channel makes it) and until when the materials stay valid.
type SubmitMaterialsResult struct {
	Name      string
	ExpiresAt time.Time
	Written
}

var errRegistryDown = fault.New(fault.Unavailable, "registry_unavailable", "The business registry cannot be reached right now; try again shortly.")

// submitMaterials validates the materials, asks the business registry
// whether the enterprise exists as submitted (the seed's "consistency check
// against authoritative data sources"), and records either the materials or
// the registry's refusal.
func (s *verifier) submitMaterials(ctx context.Context, c SubmitMaterials) (SubmitMaterialsResult, error) {
	m := c.Materials
	m.PolicyVersion = s.policy
	e, err := s.load(ctx, c.EnterpriseID)
	if err != nil {
		return SubmitMaterialsResult{}, err
	}
	evs, err := e.Submit(c.Actor.AccountID, m, s.clock.Now())
	if err != nil {
		return SubmitMaterialsResult{}, err
	}
	sub := evs[0].(enterprise.MaterialsSubmitted)
	// Each registry query is paid for: counted like a carrier check.
	if err := s.allowSender(ctx, c.Actor); err != nil {
		return SubmitMaterialsResult{}, err
	}
	reg, err := s.v.Registry.Check(ctx, sub.USCC, sub.Name, sub.LegalRepName)
	if err != nil {
		return SubmitMaterialsResult{}, depErr("registry check", errRegistryDown, err)
	}
	e, pos, err := s.decide(ctx, c.Actor, c.EnterpriseID, func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
		if !reg.Match {
			return e.RefuseMaterials(c.Actor.AccountID, sub, reg.Reason, now)
		}
		return e.Submit(c.Actor.AccountID, m, now)
	})
	if err != nil {
		return SubmitMaterialsResult{Written: Written{pos}}, err
	}
	return SubmitMaterialsResult{Name: e.Materials().Name, ExpiresAt: e.Materials().ExpiresAt, Written: Written{pos}}, nil
}

// ChooseMethod picks or switches the willingness check.
type ChooseMethod struct {
	Actor        Actor
	EnterpriseID string
	Method       enterprise.Method
}

func (s *verifier) chooseMethod(ctx context.Context, c ChooseMethod) (Written, error) {
	_, pos, err := s.decide(ctx, c.Actor, c.EnterpriseID, func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
		return e.ChooseMethod(c.Actor.AccountID, c.Method, now)
	})
	return Written{pos}, err
}

// SendPhoneCode runs the carrier check of the method's person and phone,
// then sends a code to the phone.
type SendPhoneCode struct {
	Actor        Actor
	EnterpriseID string
	Phone        string
}

// SendPhoneCodeResult: when the code expires and the next may be asked.
type SendPhoneCodeResult struct {
	MaskedPhone string
	ExpiresAt   time.Time
	ResendAfter time.Time
	Written
}

var errCarrierDown = fault.New(fault.Unavailable, "carrier_unavailable", "The carrier check is not available right now; try again shortly.")

// allowSender counts a carrier check and its SMS against the client's
// code limit, as registration codes are: each check is paid for, and its
// answer tells whether a phone belongs to a name and ID number.
func (s *verifier) allowSender(ctx context.Context, a Actor) error {
	if err := s.senders.Allow(ctx, a.ClientIP); err != nil {
		return depErr("limit code sender", errCodesUnavailable, err)
	}
	return nil
}

func (s *verifier) sendPhoneCode(ctx context.Context, c SendPhoneCode) (SendPhoneCodeResult, error) {
	phone, err := parsePhone(c.Phone)
	if err != nil {
		return SendPhoneCodeResult{}, err
	}
	e, err := s.load(ctx, c.EnterpriseID)
	if err != nil {
		return SendPhoneCodeResult{}, err
	}
	m := e.Method()
	// The domain refuses what it would refuse anyway (a caller who does not
	// run the case, a step not reached) before the carrier is asked and paid.
	if _, err := e.CheckCarrier(c.Actor.AccountID, m, phone, enterprise.CarrierResult{Match: true}, s.clock.Now()); err != nil {
		return SendPhoneCodeResult{}, err
	}
	name, id, ok := e.Identity(m)
	if !ok { // CheckCarrier passed, so the method names a person
		return SendPhoneCodeResult{}, fmt.Errorf("send phone code: %s names no person to check", m)
	}
	if err := s.allowSender(ctx, c.Actor); err != nil {
		return SendPhoneCodeResult{}, err
	}
	res, err := s.v.Carrier.Check(ctx, name, id, phone)
	if err != nil {
		return SendPhoneCodeResult{}, depErr("carrier check", errCarrierDown, err)
	}
	_, pos, err := s.decide(ctx, c.Actor, c.EnterpriseID, func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
		return e.CheckCarrier(c.Actor.AccountID, m, phone, enterprise.CarrierResult{Match: res.Match, Reason: res.Reason}, now)
	})
	if err != nil {
		return SendPhoneCodeResult{Written: Written{pos}}, err
	}
	// The carrier check is recorded: refusals from here on still say where.
	code, exp, resend, err := s.codes.Issue(ctx, PurposeEnterprisePhone+":"+c.EnterpriseID, phone)
	if err != nil {
		return SendPhoneCodeResult{Written: Written{pos}}, depErr("issue code", errCodesUnavailable, err)
	}
	now := s.clock.Now()
	if err := s.notifier.Notify(ctx, smsMessage(phone, fmt.Sprintf("您正在进行企业实名认证，验证码 %s，%d分钟内有效。", code, minutes(exp.Sub(now))), now)); err != nil {
		return SendPhoneCodeResult{Written: Written{pos}}, depErr("send code", errNotifyFailed, err)
	}
	return SendPhoneCodeResult{MaskedPhone: maskPhone(phone), ExpiresAt: exp, ResendAfter: resend, Written: Written{pos}}, nil
}

// ConfirmPhoneCode checks the code sent after the carrier check.
type ConfirmPhoneCode struct {
	Actor        Actor
	EnterpriseID string
	Code         string
}

// VerificationResult says whether the enterprise is now verified.
type VerificationResult struct {
	Verified bool
	Step     enterprise.Step
	Written
}

func (s *verifier) confirmPhoneCode(ctx context.Context, c ConfirmPhoneCode) (VerificationResult, error) {
	if !sixDigits(c.Code) {
		return VerificationResult{}, errCodeFormat
	}
	e, err := s.load(ctx, c.EnterpriseID)
	if err != nil {
		return VerificationResult{}, err
	}
	m := e.Method()
	// Refused callers (not the case's operator, a step not reached) are
	// refused before the code store counts a try of the case's code.
	if _, err := e.ConfirmPhone(c.Actor.AccountID, m, nil, nil, s.clock.Now()); err != nil {
		if f, ok := fault.As(err); !ok || f.Code != "code_not_requested" {
			return VerificationResult{}, err
		}
	}
	pending := e.PendingCarrier(m)
	var codeErr error
	var left *int
	if pending != nil {
		codeErr = s.codes.Verify(ctx, PurposeEnterprisePhone+":"+c.EnterpriseID, pending.Phone, c.Code)
		if f, ok := fault.As(codeErr); ok {
			if f.Code == "code_attempts_exhausted" || f.Code == "code_expired" {
				zero := 0
				left = &zero
			}
		} else if codeErr != nil {
			return VerificationResult{}, depErr("verify code", errCodesUnavailable, codeErr)
		}
	}
	e, pos, err := s.decide(ctx, c.Actor, c.EnterpriseID, func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
		// The code was checked against the phone seen above: a carrier
		// check that landed meanwhile has not had its code checked.
		if !sameCarrierCheck(pending, e.PendingCarrier(m)) {
			return nil, errPhoneCheckChanged
		}
		return e.ConfirmPhone(c.Actor.AccountID, m, codeErr, left, now)
	})
	if e == nil {
		return VerificationResult{}, err
	}
	return VerificationResult{Verified: e.Verified(), Step: e.Step(), Written: Written{pos}}, err
}

var errPhoneCheckChanged = fault.New(fault.Conflict, "phone_check_changed",
	"The phone check changed while the code was being checked; enter the code of the latest SMS.")

func sameCarrierCheck(a, b *enterprise.CarrierCheckPassed) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Method == b.Method && a.Person == b.Person && a.Name == b.Name && a.IDNumber == b.IDNumber && a.Phone == b.Phone
}

// StartFaceScan opens a face scan of the method's person.
type StartFaceScan struct {
	Actor        Actor
	EnterpriseID string
}

// StartFaceScanResult: the session and its QR code's URL.
type StartFaceScanResult struct {
	SessionID    string
	QRURL        string
	ExpiresAt    time.Time
	AttemptsLeft int
	Written
}

var errFaceDown = fault.New(fault.Unavailable, "face_unavailable", "The face scan provider is not available right now; try again shortly.")

func (s *verifier) startFaceScan(ctx context.Context, c StartFaceScan) (StartFaceScanResult, error) {
	e, err := s.load(ctx, c.EnterpriseID)
	if err != nil {
		return StartFaceScanResult{}, err
	}
	m := e.Method()
	now := s.clock.Now()
	if _, err := e.CheckFaceStart(c.Actor.AccountID, m, 1, now); err != nil {
		return StartFaceScanResult{}, err
	}
	name, id, _ := e.Identity(m)
	overLimit := func(attempt int) (StartFaceScanResult, error) {
		_, pos, err := s.decide(ctx, c.Actor, c.EnterpriseID, func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
			return e.CheckFaceStart(c.Actor.AccountID, m, attempt, now)
		})
		return StartFaceScanResult{Written: Written{pos}}, err
	}
	// Peek, open the session, then count: a provider outage costs no
	// attempt, and the count stays exact under concurrent starts.
	dayEnd := enterprise.NextDay(now)
	used, err := s.v.FaceCounter.Peek(ctx, id, dayEnd)
	if err != nil {
		return StartFaceScanResult{}, fmt.Errorf("count face scans: %w: %w", errFaceDown, err)
	}
	if used >= enterprise.FaceScansPerDay {
		return overLimit(used + 1)
	}
	sessionID := "e." + c.EnterpriseID + "." + randomToken(8)
	sess, err := s.v.Face.Start(ctx, face.StartRequest{SessionID: sessionID, Name: name, IDNumber: id, CallbackURL: s.v.FaceCallbackURL})
	if err != nil {
		return StartFaceScanResult{}, depErr("start face scan", errFaceDown, err)
	}
	attempt, err := s.v.FaceCounter.Take(ctx, id, dayEnd)
	if err != nil {
		return StartFaceScanResult{}, fmt.Errorf("count face scans: %w: %w", errFaceDown, err)
	}
	if attempt > enterprise.FaceScansPerDay {
		return overLimit(attempt) // another start took the last one meanwhile
	}
	_, pos, err := s.decide(ctx, c.Actor, c.EnterpriseID, func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
		return e.StartFace(c.Actor.AccountID, m, enterprise.FaceStart{SessionID: sessionID, QRURL: sess.QRURL, ExpiresAt: sess.ExpiresAt, Attempt: attempt}, now)
	})
	if err != nil {
		return StartFaceScanResult{}, err
	}
	return StartFaceScanResult{SessionID: sessionID, QRURL: sess.QRURL, ExpiresAt: sess.ExpiresAt,
		AttemptsLeft: enterprise.FaceScansPerDay - attempt, Written: Written{pos}}, nil
}

// FaceCallback is the face provider's authenticated verdict on a session.
type FaceCallback struct {
	Result   face.Result
	ClientIP string
}

// CallbackResult: what the callback changed.
type CallbackResult struct {
	Subject string // stream the callback was applied to
	Outcome string
	Written
}

func (s *verifier) faceCallback(ctx context.Context, c FaceCallback) (CallbackResult, error) {
	kind, id, ok := splitSession(c.Result.SessionID)
	if ok && kind == "a" {
		return s.personalFaceCallback(ctx, c, id)
	}
	if !ok || kind != "e" {
		return CallbackResult{}, fault.New(fault.NotFound, "face_session_not_found", "There is no such face scan session.")
	}
	a := Actor{AccountID: "provider:face", ClientIP: c.ClientIP}
	e, pos, err := s.decide(ctx, a, id, func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
		return e.FaceResult(c.Result.SessionID, c.Result.Passed, c.Result.Score, c.Result.Reason, now)
	})
	if err != nil {
		return CallbackResult{}, err
	}
	outcome := "failed"
	if c.Result.Passed {
		outcome = "passed"
		if e.Verified() {
			outcome = "verified"
		}
	}
	return CallbackResult{Subject: enterprise.StreamOf(id), Outcome: outcome, Written: Written{pos}}, nil
}

// splitSession parses "<kind>.<uuid>.<random>": kind "e" for an
// enterprise, "a" for an account.
func splitSession(s string) (kind, id string, ok bool) {
	parts := strings.Split(s, ".")
	if len(parts) != 3 || !validID(parts[1]) {
		return "", "", false
	}
	return parts[0], parts[1], true
}

// DownloadLetter generates (once per submission) the filled-in
// authorization letter as a PDF.
type DownloadLetter struct {
	Actor        Actor
	EnterpriseID string
}

// DownloadLetterResult is the PDF.
type DownloadLetterResult struct {
	PDF       []byte
	Reference string
	File      enterprise.File
	Written
}

func (s *verifier) downloadLetter(ctx context.Context, c DownloadLetter) (DownloadLetterResult, error) {
	e, err := s.load(ctx, c.EnterpriseID)
	if err != nil {
		return DownloadLetterResult{}, err
	}
	now := s.clock.Now()
	if ref, f := e.LetterReference(); f != nil {
		data, _, err := s.v.Blobs.Get(ctx, f.SHA256)
		if err != nil {
			return DownloadLetterResult{}, fmt.Errorf("read letter: %w", err)
		}
		if _, err := e.LetterData(c.Actor.AccountID, now); err != nil {
			return DownloadLetterResult{}, err
		}
		return DownloadLetterResult{PDF: data, Reference: ref, File: *f}, nil
	}
	d, err := e.LetterData(c.Actor.AccountID, now)
	if err != nil {
		return DownloadLetterResult{}, err
	}
	acct, err := s.accountLogin(ctx, e.CreatedBy())
	if err != nil {
		return DownloadLetterResult{}, err
	}
	ref := "SQ" + now.In(enterprise.Shanghai).Format("20060102") + strings.ToUpper(randomToken(4))
	pdf, err := s.v.RenderLetter(letter.Letter{
		Reference: ref, EnterpriseName: d.EnterpriseName, LegalRepName: d.LegalRepName, USCC: d.USCC, Account: acct,
		AgentName: d.AgentName, AgentPhone: orNone(d.AgentPhone), AgentIDNumber: d.AgentID, Platform: s.v.PlatformName, GeneratedAt: now,
	})
	if err != nil {
		return DownloadLetterResult{}, fmt.Errorf("render letter: %w", err)
	}
	f, err := s.store(ctx, Upload{Data: pdf, MediaType: "application/pdf"})
	if err != nil {
		return DownloadLetterResult{}, err
	}
	_, pos, err := s.decide(ctx, c.Actor, c.EnterpriseID, func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
		return e.GenerateLetter(c.Actor.AccountID, ref, f, now)
	})
	if err != nil {
		return DownloadLetterResult{}, err
	}
	return DownloadLetterResult{PDF: pdf, Reference: ref, File: f, Written: Written{pos}}, nil
}

func orNone(s string) string {
	if s == "" {
		return "（刷脸核验）"
	}
	return s
}

// UploadLetter submits the stamped letter for review.
type UploadLetter struct {
	Actor        Actor
	EnterpriseID string
	File         Upload
}

// UploadLetterResult: when the review is due.
type UploadLetterResult struct {
	File      enterprise.File
	ReviewDue time.Time
	Written
}

func (s *verifier) uploadLetter(ctx context.Context, c UploadLetter) (UploadLetterResult, error) {
	e, err := s.load(ctx, c.EnterpriseID)
	if err != nil {
		return UploadLetterResult{}, err
	}
	if _, err := e.UploadLetter(c.Actor.AccountID, enterprise.File{}, s.clock.Now()); err != nil {
		return UploadLetterResult{}, err
	}
	file, err := c.File.load()
	if err != nil {
		return UploadLetterResult{}, err
	}
	f, err := s.store(ctx, file)
	if err != nil {
		return UploadLetterResult{}, err
	}
	var due time.Time
	_, pos, err := s.decide(ctx, c.Actor, c.EnterpriseID, func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
		evs, err := e.UploadLetter(c.Actor.AccountID, f, now)
		if u, ok := firstOf[enterprise.AuthorizationLetterUploaded](evs); ok {
			due = u.ReviewDue
		}
		return evs, err
	})
	return UploadLetterResult{File: f, ReviewDue: due, Written: Written{pos}}, err
}

// ReviewLetter is a platform reviewer's decision on a stamped letter.
type ReviewLetter struct {
	Actor        Actor
	EnterpriseID string
	Approve      bool
	Reason       string
}

var errNotOperator = fault.New(fault.Forbidden, "not_platform_operator", "Only platform operators review authorization letters.")

func (s *verifier) reviewLetter(ctx context.Context, c ReviewLetter) (VerificationResult, error) {
	ok, err := s.hasPlatformRole(ctx, c.Actor.AccountID, "operator")
	if err != nil {
		return VerificationResult{}, err
	}
	if !ok {
		return VerificationResult{}, errNotOperator
	}
	e, pos, err := s.decide(ctx, c.Actor, c.EnterpriseID, func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
		return e.ReviewLetter(c.Actor.AccountID, c.Approve, c.Reason, now)
	})
	if err != nil {
		return VerificationResult{}, err
	}
	// The result goes by SMS to the agent's checked phone ("审核通过后，系统会给您发送短信通知").
	if phone := e.AgentPhone(); phone != "" {
		now := s.clock.Now()
		text := "您提交的企业服务授权书已审核通过，企业实名认证完成。"
		if !c.Approve {
			text = "您提交的企业服务授权书未通过审核，原因：" + strings.TrimSpace(c.Reason) + "。请修改后重新上传。"
		}
		if err := s.notifier.Notify(ctx, smsMessage(phone, text, now)); err != nil {
			s.log.WarnContext(ctx, "review result SMS not sent", "enterprise", c.EnterpriseID, "err", err)
		}
	}
	return VerificationResult{Verified: e.Verified(), Step: e.Step(), Written: Written{pos}}, nil
}

// RequestMicroDeposit records the corporate account and has the bank pay a
// random amount between 0.01 and 0.99 CNY into it.
type RequestMicroDeposit struct {
	Actor        Actor
	EnterpriseID string
	Account      enterprise.BankAccount
}

// RequestMicroDepositResult: the deadline to enter the amount.
type RequestMicroDepositResult struct {
	TransferID string
	Deadline   time.Time
	Written
}

var errBankDown = fault.New(fault.Unavailable, "bank_unavailable", "The bank cannot be reached right now; try again shortly.")

func (s *verifier) requestMicroDeposit(ctx context.Context, c RequestMicroDeposit) (RequestMicroDepositResult, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(99))
	if err != nil {
		return RequestMicroDepositResult{}, err
	}
	amount := n.Int64() + 1
	transferID := "md." + c.EnterpriseID + "." + randomToken(6)
	if pos, err := s.countDeposit(ctx, c); err != nil {
		return RequestMicroDepositResult{Written: Written{pos}}, err
	}
	var req enterprise.MicroDepositRequested
	_, pos, err := s.decide(ctx, c.Actor, c.EnterpriseID, func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
		evs, err := e.RequestMicroDeposit(c.Actor.AccountID, c.Account, transferID, amount, now)
		if r, ok := firstOf[enterprise.MicroDepositRequested](evs); ok {
			req = r
		}
		return evs, err
	})
	if err != nil {
		return RequestMicroDepositResult{}, err
	}
	// Recorded first, then paid: two requests at once pay once. A crash in
	// between leaves a deposit that never arrives; the user can ask again
	// once its deadline passed, or switch to the reverse deposit.
	sendErr := s.v.Bank.Send(ctx, bank.Transfer{ID: transferID, ToHolder: req.Account.Holder, ToBank: req.Account.Bank, ToBranch: req.Account.Branch,
		ToProvince: req.Account.Province, ToCity: req.Account.City, ToAccount: req.Account.AccountNumber, AmountFen: amount,
		Memo: "企业打款认证款项, 请在signet页面回填金额"})
	if sendErr != nil {
		reason := "bank_unavailable"
		if f, ok := fault.As(sendErr); ok {
			reason = "bank_refused: " + f.Code
		}
		_, p2, err := s.decide(ctx, c.Actor, c.EnterpriseID, func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
			return e.MicroDepositFailed(transferID, reason, now)
		})
		if err == nil && p2 > 0 {
			pos = p2
		}
		return RequestMicroDepositResult{Written: Written{pos}}, depErr("pay micro deposit", errBankDown, sendErr)
	}
	return RequestMicroDepositResult{TransferID: transferID, Deadline: req.Deadline, Written: Written{pos}}, nil
}

// countDeposit takes one of the day's deposits for the enterprise's code
// (across its cases), refusing and recording beyond the allowance. Requests
// the domain would refuse anyway are not counted.
func (s *verifier) countDeposit(ctx context.Context, c RequestMicroDeposit) (uint64, error) {
	e, err := s.load(ctx, c.EnterpriseID)
	if err != nil {
		return 0, err
	}
	now := s.clock.Now()
	// Only requests the domain would accept count; a refusal it records
	// (the per-case limit) is left to the real decision.
	if evs, err := e.RequestMicroDeposit(c.Actor.AccountID, c.Account, "precheck", 1, now); err != nil {
		if len(evs) == 0 {
			return 0, err
		}
		return 0, nil
	}
	n, err := s.v.DepositCounter.Take(ctx, e.Materials().USCC, enterprise.NextDay(now))
	if err != nil {
		return 0, fmt.Errorf("count deposits: %w: %w", errBankDown, err)
	}
	_, pos, err := s.decide(ctx, c.Actor, c.EnterpriseID, func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
		return e.CheckDepositDay(c.Actor.AccountID, n, now)
	})
	return pos, err
}

// ConfirmMicroDeposit checks the amount the user read off the statement.
type ConfirmMicroDeposit struct {
	Actor        Actor
	EnterpriseID string
	Amount       string
}

func (s *verifier) confirmMicroDeposit(ctx context.Context, c ConfirmMicroDeposit) (VerificationResult, error) {
	fen, err := bank.ParseYuan(c.Amount)
	if err != nil {
		return VerificationResult{}, err
	}
	e, pos, err := s.decide(ctx, c.Actor, c.EnterpriseID, func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
		return e.ConfirmMicroDeposit(c.Actor.AccountID, fen, now)
	})
	if e == nil {
		return VerificationResult{}, err
	}
	return VerificationResult{Verified: e.Verified(), Step: e.Step(), Written: Written{pos}}, err
}

// TransferStatusCallback is the bank's authenticated report on a deposit.
type TransferStatusCallback struct {
	Status   bank.TransferStatus
	ClientIP string
}

func (s *verifier) transferStatus(ctx context.Context, c TransferStatusCallback) (CallbackResult, error) {
	kind, id, ok := splitSession(c.Status.TransferID)
	if !ok || kind != "md" {
		return CallbackResult{}, fault.New(fault.NotFound, "transfer_not_found", "There is no such deposit.")
	}
	if c.Status.Status != "failed" {
		return CallbackResult{Subject: enterprise.StreamOf(id), Outcome: "ignored"}, nil
	}
	a := Actor{AccountID: "provider:bank", ClientIP: c.ClientIP}
	_, pos, err := s.decide(ctx, a, id, func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
		return e.MicroDepositFailed(c.Status.TransferID, orDefault(c.Status.Reason, "bank_refused"), now)
	})
	return CallbackResult{Subject: enterprise.StreamOf(id), Outcome: "failed", Written: Written{pos}}, err
}

// RequestReverseDeposit: the enterprise will pay 0.01 CNY to the platform.
type RequestReverseDeposit struct {
	Actor        Actor
	EnterpriseID string
	Acknowledged map[string]bool
}

// RequestReverseDepositResult: where and how to pay.
type RequestReverseDepositResult struct {
	Request enterprise.ReverseDepositRequested
	Written
}

func (s *verifier) requestReverseDeposit(ctx context.Context, c RequestReverseDeposit) (RequestReverseDepositResult, error) {
	e, err := s.load(ctx, c.EnterpriseID)
	if err != nil {
		return RequestReverseDepositResult{}, err
	}
	now := s.clock.Now()
	ref := strings.ToUpper(randomToken(4))
	evs, err := e.RequestReverseDeposit(c.Actor.AccountID, ref, c.Acknowledged, s.v.PlatformAccount, now)
	if err != nil {
		return RequestReverseDepositResult{}, err
	}
	if len(evs) == 0 {
		req, _ := e.Reverse()
		return RequestReverseDepositResult{Request: req}, nil
	}
	meta := c.Actor.meta(now, c.EnterpriseID)
	// The index streams first: a payment must be attributable before the
	// enterprise is told to pay.
	if _, err := s.save(ctx, nil, enterprise.DepositRefStream(ref), event.NoStream,
		[]enterprise.Event{enterprise.DepositReferenceIssued{Reference: ref, EnterpriseID: c.EnterpriseID, IssuedAt: now.UTC()}}, meta); err != nil {
		return RequestReverseDepositResult{}, err
	}
	if _, err := s.save(ctx, nil, enterprise.PayerStream(e.Materials().Name), event.Any,
		[]enterprise.Event{enterprise.ReverseDepositAwaited{PayerName: e.Materials().Name, EnterpriseID: c.EnterpriseID, Reference: ref, AwaitedAt: now.UTC()}}, meta); err != nil {
		return RequestReverseDepositResult{}, err
	}
	pos, err := s.save(ctx, e, enterprise.StreamOf(c.EnterpriseID), event.Exactly(e.Version()), evs, meta)
	if err != nil {
		return RequestReverseDepositResult{}, err
	}
	return RequestReverseDepositResult{Request: evs[0].(enterprise.ReverseDepositRequested), Written: Written{pos}}, nil
}

// StatementCallback is one authenticated line of the platform's bank
// statement feed.
type StatementCallback struct {
	Line     bank.StatementLine
	ClientIP string
}

// StatementResult: how the line was judged.
type StatementResult struct {
	EnterpriseID string
	Outcome      string // matched, mismatched, unmatched, duplicate
	Reason       string
	Written
}

func (s *verifier) statement(ctx context.Context, c StatementCallback) (StatementResult, error) {
	l := enterprise.StatementLine{StatementID: c.Line.StatementID, PayerName: c.Line.PayerName, PayerAccount: c.Line.PayerAccount,
		PayerAccountType: c.Line.PayerAccountType, AmountFen: c.Line.AmountFen, Currency: c.Line.Currency, PaidAt: c.Line.PaidAt.UTC(),
		PayeeAccount: c.Line.PayeeAccount, Memo: c.Line.Memo}
	stream := enterprise.StatementStream(l.StatementID)
	if envs, err := s.events.ReadStream(ctx, stream, 1, event.Forwards, 1); err == nil && len(envs) > 0 {
		return StatementResult{Outcome: "duplicate"}, nil
	} else if err != nil && !errors.Is(err, event.ErrNotFound) {
		return StatementResult{}, storeErr("read statement", err)
	}
	a := Actor{AccountID: "provider:bank", ClientIP: c.ClientIP}
	now := s.clock.Now()
	eid, reason, err := s.attribute(ctx, l)
	if err != nil {
		return StatementResult{}, err
	}
	res := StatementResult{EnterpriseID: eid, Outcome: "unmatched", Reason: reason}
	var decided []enterprise.Event
	var e *enterprise.Enterprise
	if eid != "" {
		if e, err = s.load(ctx, eid); err != nil {
			return StatementResult{}, err
		}
		if e.Judged(l.StatementID) {
			// Judged by a delivery that has not (or never) recorded the
			// line in its own stream yet.
			return StatementResult{EnterpriseID: eid, Outcome: "duplicate"}, nil
		}
		if decided, err = e.MatchStatement(l, now); err != nil {
			res.Outcome, res.Reason = "unmatched", "not_awaiting"
			decided = nil
		} else if m, ok := decided[0].(enterprise.ReverseDepositMismatched); ok {
			res.Outcome, res.Reason = "mismatched", m.Reason
		} else {
			res.Outcome = "matched"
			// The code must be this enterprise's before the line is judged
			// matched for good.
			if err := s.reserveUSCC(ctx, a, e, now); errors.Is(err, enterprise.ErrUSCCTaken) {
				decided = []enterprise.Event{enterprise.ReverseDepositMismatched{Statement: l, Reason: "uscc_taken",
					Detail: "the unified social credit code is verified by another enterprise", CheckedAt: now.UTC()}}
				res.Outcome, res.Reason = "mismatched", "uscc_taken"
			} else if err != nil {
				return StatementResult{}, err
			}
		}
	}
	// The enterprise's record comes first, at the version judged: a
	// concurrent delivery of the same line conflicts there (and its
	// redelivery finds the line judged), and a failure here leaves nothing
	// behind, so the feed's redelivery judges the line again. Writing the
	// statement stream first would lose a payment whose enterprise append
	// failed: every redelivery would be a "duplicate".
	if len(decided) > 0 {
		pos, err := s.save(ctx, e, enterprise.StreamOf(eid), event.Exactly(e.Version()), decided, a.meta(now, eid))
		if err != nil {
			return StatementResult{}, err
		}
		res.Position = pos
	}
	// "No stream": a line the feed delivers twice is recorded once.
	if _, err := s.save(ctx, nil, stream, event.NoStream, []enterprise.Event{enterprise.BankStatementReceived{Statement: l, EnterpriseID: eid,
		Outcome: res.Outcome, Reason: res.Reason, ReceivedAt: now.UTC()}}, a.meta(now, eid)); err != nil {
		switch {
		case res.Position > 0:
			// The judgement is on the enterprise's stream, which a
			// redelivery consults; only the fast answer is missing.
			s.log.WarnContext(ctx, "statement line judged but not recorded", "statement", l.StatementID, "enterprise", eid, "err", err)
			return res, nil
		case errors.Is(err, event.ErrConcurrency):
			return StatementResult{Outcome: "duplicate"}, nil
		}
		return StatementResult{}, err
	}
	return res, nil
}

// attribute finds the enterprise a payment is for: by the reference in its
// memo, else by its payer's name when exactly one enterprise of that name
// awaits a payment.
func (s *verifier) attribute(ctx context.Context, l enterprise.StatementLine) (string, string, error) {
	for _, tok := range strings.FieldsFunc(strings.ToUpper(l.Memo), func(r rune) bool { return !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') }) {
		if len(tok) != 8 {
			continue
		}
		envs, err := s.events.ReadStream(ctx, enterprise.DepositRefStream(tok), 1, event.Forwards, 1)
		if errors.Is(err, event.ErrNotFound) || (err == nil && len(envs) == 0) {
			continue
		}
		if err != nil {
			return "", "", storeErr("read deposit reference", err)
		}
		ev, err := enterprise.DecodeEnvelope(envs[0])
		if err != nil {
			return "", "", err
		}
		return ev.(enterprise.DepositReferenceIssued).EnterpriseID, "", nil
	}
	envs, err := s.events.ReadStream(ctx, enterprise.PayerStream(l.PayerName), 1, event.Forwards, 0)
	if errors.Is(err, event.ErrNotFound) || (err == nil && len(envs) == 0) {
		return "", "no_request_for_payer", nil
	}
	if err != nil {
		return "", "", storeErr("read payer index", err)
	}
	waiting := map[string]bool{}
	for _, env := range envs {
		ev, err := enterprise.DecodeEnvelope(env)
		if err != nil {
			return "", "", err
		}
		id := ev.(enterprise.ReverseDepositAwaited).EnterpriseID
		if waiting[id] {
			continue
		}
		e, err := s.load(ctx, id)
		if err != nil {
			return "", "", err
		}
		if e.Judged(l.StatementID) {
			// A concurrent delivery of this line judged it there (and
			// may have ended the wait): it is that enterprise's.
			return id, "", nil
		}
		// Only for the payer name of its current request: an earlier
		// request (materials since submitted under another name) does not
		// make the payer ambiguous.
		if e.AwaitsPaymentFrom(l.PayerName) {
			waiting[id] = true
		}
	}
	if len(waiting) != 1 {
		if len(waiting) == 0 {
			return "", "no_request_for_payer", nil
		}
		return "", "ambiguous_payer", nil
	}
	for id := range waiting {
		return id, "", nil
	}
	return "", "", nil
}

// firstOf finds the first event of type T among decided events (a decision
// may return a refusal record instead of what was asked for).
func firstOf[T enterprise.Event](evs []enterprise.Event) (T, bool) {
	for _, ev := range evs {
		if t, ok := ev.(T); ok {
			return t, true
		}
	}
	var zero T
	return zero, false
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// randomToken returns n random bytes as upper-case base32-like hex.
func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%X", b)
}

package account

import (
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"signet/domain/event"
	"signet/domain/fault"
)

// Category is the stream category of accounts: "account-<uuid>".
const Category = "account"

// StreamOf names an account's stream.
func StreamOf(accountID string) string { return event.StreamName(Category, accountID) }

// QuotaCategory is the category of the accounts' quota ledgers.
const QuotaCategory = "personalquota"

// QuotaStream names an account's quota ledger: its PersonalQuotaUsed
// events, kept apart so that the account's own stream stays short.
func QuotaStream(accountID string) string { return event.StreamName(QuotaCategory, accountID) }

// Status of an account.
type Status string

const (
	// StatusNone: not registered (an empty stream).
	StatusNone Status = ""
	// StatusActive: registered, may log in.
	StatusActive Status = "active"
)

// Account is the account aggregate. Its state changes only through Apply,
// for replayed and for new events alike; decisions return events.
type Account struct {
	id            string
	version       uint64
	login         Login
	name          string
	company       string
	invitedBy     string
	passwordHash  string
	status        Status
	privacyPolicy PrivacyConsent
	phoneFollowup bool
	registeredAt  time.Time

	quota    int
	idCards  map[Side]PersonalIDCardUploaded
	carrier  *PersonalCarrierCheckPassed // code sent, waiting for it
	faces    map[string]*faceSession     // by session ID
	verified *PersonVerified
	roles    map[string]bool

	signatures []SignatureImageAdded
}

type faceSession struct {
	started PersonalFaceScanStarted
	done    bool
}

// ErrAlreadyRegistered: Register on an account that already exists.
var ErrAlreadyRegistered = fault.New(fault.Conflict, "already_registered", "this account is already registered")

// ErrNotActive: the account may not log in.
var ErrNotActive = fault.New(fault.Forbidden, "account_not_active", "this account may not log in")

// Apply mutates the account by one event and advances its version.
func (a *Account) Apply(e Event) error {
	if _, opens := e.(AccountRegistered); !opens && a.version == 0 {
		return fmt.Errorf("%w: %s before AccountRegistered", event.ErrInvalid, e.EventType())
	}
	switch e := e.(type) {
	case AccountRegistered:
		if a.version != 0 {
			return fmt.Errorf("%w: AccountRegistered at version %d of account %s", event.ErrInvalid, a.version+1, a.id)
		}
		login, err := LoginOf(e.LoginKind, e.Login)
		if err != nil {
			return fmt.Errorf("%w: AccountRegistered of %s with a login that is not a normalised %s", event.ErrInvalid, e.AccountID, e.LoginKind)
		}
		a.id = e.AccountID
		a.login = login
		a.name = e.Name
		a.company = e.Company
		a.invitedBy = e.InvitedBy
		a.passwordHash = e.PasswordHash
		a.privacyPolicy = e.PrivacyPolicy
		a.phoneFollowup = e.PhoneFollowup.Accepted
		a.registeredAt = e.RegisteredAt
		a.status = StatusActive
		a.idCards = map[Side]PersonalIDCardUploaded{}
		a.faces = map[string]*faceSession{}
		a.roles = map[string]bool{}
	case ContractQuotaGranted:
		a.quota += e.Amount
	case PersonalIDCardUploaded:
		a.idCards[e.Side] = e
	case PersonalCarrierCheckPassed:
		a.carrier = &e
	case PersonalCheckFailed:
		if e.Step == "code" && e.AttemptsLeft != nil && *e.AttemptsLeft == 0 {
			a.carrier = nil // the code is burnt: check the phone again
		}
		if s := a.faces[e.SessionID]; s != nil {
			s.done = true
		}
	case PersonalFaceScanStarted:
		a.faces[e.SessionID] = &faceSession{started: e}
	case PersonalFaceVerified:
		s := a.faces[e.SessionID]
		if s == nil {
			return fmt.Errorf("%w: PersonalFaceVerified of unknown session %q", event.ErrInvalid, e.SessionID)
		}
		s.done = true
	case PersonVerified:
		a.verified = &e
		a.carrier = nil
	case PlatformRoleGranted:
		a.roles[e.Role] = true
	case PlatformRoleRevoked:
		delete(a.roles, e.Role)
	case SignatureImageAdded:
		a.signatures = append(a.signatures, e)
	default:
		return fmt.Errorf("%w: %s is not an account event", event.ErrInvalid, e.EventType())
	}
	a.version++
	return nil
}

// Replay rebuilds an account from its stream read forwards from version 1.
func Replay(envs []event.Envelope) (*Account, error) {
	a := &Account{}
	for _, env := range envs {
		if env.Version != a.version+1 {
			return nil, fmt.Errorf("%w: %s: version %d after %d", event.ErrInvalid, env.Stream, env.Version, a.version)
		}
		e, err := DecodeEnvelope(env)
		if err != nil {
			return nil, err
		}
		if err := a.Apply(e); err != nil {
			return nil, fmt.Errorf("%s@%d: %w", env.Stream, env.Version, err)
		}
	}
	return a, nil
}

// Registration is what Register needs besides the validated application.
type Registration struct {
	AccountID            string // a UUID chosen by the caller
	PasswordHash         string // of a password that passed CheckPassword
	PrivacyPolicyVersion string // the version of the policy the person accepted
}

// Register decides the registration of a new account: the application must
// be valid (Form.Validate makes one) with the privacy policy accepted. The
// account opens with RegistrationQuota free personal contracts.
func (a *Account) Register(app Application, r Registration, now time.Time) ([]Event, error) {
	if a.version != 0 {
		return nil, ErrAlreadyRegistered
	}
	app, err := app.normalised()
	if err != nil {
		return nil, err
	}
	if _, err := uuid.Parse(r.AccountID); err != nil {
		return nil, fmt.Errorf("register: account ID %q is not a UUID", r.AccountID)
	}
	if r.PasswordHash == "" {
		return nil, errors.New("register: no password hash")
	}
	if r.PrivacyPolicyVersion == "" {
		return nil, errors.New("register: no privacy policy version")
	}
	if now.IsZero() {
		return nil, errors.New("register: no time")
	}
	at := timestamp(now)
	return []Event{AccountRegistered{
		AccountID:     r.AccountID,
		LoginKind:     app.Login.Kind(),
		Login:         app.Login.String(),
		Name:          app.Name,
		Company:       app.Company,
		InvitedBy:     app.InvitedBy,
		PasswordHash:  r.PasswordHash,
		PrivacyPolicy: PrivacyConsent{Accepted: true, Version: r.PrivacyPolicyVersion},
		PhoneFollowup: FollowupConsent{Accepted: app.AcceptPhoneFollowup},
		RegisteredAt:  at,
	}, ContractQuotaGranted{Kind: QuotaPersonal, Amount: RegistrationQuota, Reason: ReasonRegistration, GrantedAt: at}}, nil
}

// CheckCanLogIn refuses accounts that may not log in.
func (a *Account) CheckCanLogIn() error {
	if a.status != StatusActive {
		return ErrNotActive
	}
	return nil
}

func (a *Account) ID() string                    { return a.id }
func (a *Account) Version() uint64               { return a.version }
func (a *Account) Registered() bool              { return a.version > 0 }
func (a *Account) Login() Login                  { return a.login }
func (a *Account) Name() string                  { return a.name }
func (a *Account) Company() string               { return a.company }
func (a *Account) InvitedBy() string             { return a.invitedBy }
func (a *Account) PasswordHash() string          { return a.passwordHash }
func (a *Account) Status() Status                { return a.status }
func (a *Account) PrivacyPolicy() PrivacyConsent { return a.privacyPolicy }
func (a *Account) PhoneFollowup() bool           { return a.phoneFollowup }
func (a *Account) RegisteredAt() time.Time       { return a.registeredAt }

// Quota is the number of free personal contracts granted so far.
func (a *Account) Quota() int { return a.quota }

// QuotaLeft is the number of free personal contracts still to use when the
// quota ledger counts used.
func (a *Account) QuotaLeft(used int) int { return max(0, a.quota-used) }

// Verified reports whether the holder's real name is verified.
func (a *Account) Verified() bool { return a.verified != nil }

// Verification is the PersonVerified event, or nil.
func (a *Account) Verification() *PersonVerified { return a.verified }

// VerifiedName is the verified real name ("" until verified).
func (a *Account) VerifiedName() string {
	if a.verified == nil {
		return ""
	}
	return a.verified.Name
}

// VerifiedIDNumber is the verified ID number ("" until verified).
func (a *Account) VerifiedIDNumber() string {
	if a.verified == nil {
		return ""
	}
	return a.verified.IDNumber
}

// IDCard returns the latest upload of one side of the holder's ID card.
func (a *Account) IDCard(s Side) (PersonalIDCardUploaded, bool) {
	c, ok := a.idCards[s]
	return c, ok
}

// PendingCarrier is the passed carrier check whose code is awaited, or nil.
func (a *Account) PendingCarrier() *PersonalCarrierCheckPassed { return a.carrier }

// FaceSession returns a started face scan by its session ID, whether it
// has a result, and whether it exists.
func (a *Account) FaceSession(id string) (PersonalFaceScanStarted, bool, bool) {
	s := a.faces[id]
	if s == nil {
		return PersonalFaceScanStarted{}, false, false
	}
	return s.started, s.done, true
}

// FaceAttemptsOn counts this account's face scans started on now's
// calendar day in Shanghai.
func (a *Account) FaceAttemptsOn(now time.Time) int {
	day := NextDay(now)
	n := 0
	for _, s := range a.faces {
		if at := s.started.StartedAt; !at.Before(day.AddDate(0, 0, -1)) && at.Before(day) {
			n++
		}
	}
	return n
}

// HasPlatformRole reports whether the account holds the platform role.
func (a *Account) HasPlatformRole(r string) bool { return a.roles[r] }

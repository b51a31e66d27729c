// Package commands is signet's write side: one command type and one handler
// per use case. A handler validates, loads aggregates from their streams,
// lets the domain decide and appends the resulting events with an expected
// version; it writes nothing else except short-lived state behind its ports
// (verification codes, throttles) and notifications.
//
// The shape follows ThreeDotsLabs' wild-workouts-go-ddd-example: handlers
// behind a generic Handler interface, wrapped by logging and metrics
// decorators; the ports the handlers need are declared here, small.
package commands

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"signet/domain/event"
	"signet/infra/notify"
)

// Handler handles one command type.
type Handler[C, R any] interface {
	Handle(ctx context.Context, cmd C) (R, error)
}

// EventStore is the part of the event store the write side uses.
type EventStore interface {
	Append(ctx context.Context, stream string, expected event.ExpectedVersion, events ...event.New) (event.AppendResult, error)
	ReadStream(ctx context.Context, stream string, from uint64, dir event.Direction, limit int) ([]event.Envelope, error)
}

// Notifier sends an SMS or an email.
type Notifier interface {
	Notify(ctx context.Context, m notify.Message) error
}

// CodeStore issues and checks one-time verification codes. Refusals
// (rate limits, wrong or expired codes) are *fault.Error; other errors are
// failures of the store.
type CodeStore interface {
	Issue(ctx context.Context, purpose, destination string) (code string, expiresAt, resendAfter time.Time, err error)
	Verify(ctx context.Context, purpose, destination, code string) error
}

// SenderLimit caps the codes one client address may have sent; Allow
// returns a *fault.Error RateLimited when it has had enough.
type SenderLimit interface {
	Allow(ctx context.Context, sender string) error
}

// PasswordHasher hashes passwords and checks them against stored hashes.
type PasswordHasher interface {
	Hash(password string) (string, error)
	Verify(password, encoded string) (bool, error)
}

// LoginThrottle locks a login after too many wrong passwords. Check counts
// the attempt before the password is checked (so parallel guesses count
// too) and returns a *fault.Error RateLimited while the login is locked;
// Succeeded forgets the attempts, Failed reports whether this one locked it.
type LoginThrottle interface {
	Check(ctx context.Context, login string) error
	Failed(ctx context.Context, login string) (locked bool, err error)
	Succeeded(ctx context.Context, login string) error
}

// TokenIssuer signs bearer tokens.
type TokenIssuer interface {
	Issue(accountID string, position uint64, now time.Time) (token string, expiresAt time.Time, err error)
}

// Clock tells the time.
type Clock interface{ Now() time.Time }

// IDs makes new unique IDs (account and event IDs).
type IDs interface{ NewID() string }

// UUIDs makes time-ordered (version 7) UUIDs: unique like random ones, but
// new IDs sort after old ones, so the event store's ID index grows at its
// right edge instead of dirtying a random page per insert.
type UUIDs struct{}

// NewID returns a new version 7 UUID.
func (UUIDs) NewID() string { return uuid.Must(uuid.NewV7()).String() }

// DefaultPrivacyPolicyVersion is recorded with a registration when Deps does
// not name the version of the privacy policy on the registration page.
const DefaultPrivacyPolicyVersion = "1"

// Deps are what the handlers need. Events, Notifier, Codes, Senders, Hasher,
// Throttle, Tokens and Clock are required; the rest have defaults.
type Deps struct {
	Events   EventStore
	Notifier Notifier
	Codes    CodeStore
	Senders  SenderLimit
	Hasher   PasswordHasher
	Throttle LoginThrottle
	Tokens   TokenIssuer
	Clock    Clock

	IDs                  IDs          // default UUIDs{}
	Logger               *slog.Logger // default slog.Default()
	Metrics              Metrics      // default: none recorded
	PrivacyPolicyVersion string       // default DefaultPrivacyPolicyVersion

	// Verification's ports; required by New, not by the account handlers.
	Verification VerificationDeps
	// Templates', seals', sending's and signing's ports; required by New.
	Lifecycle LifecycleDeps
	// Evidence bundles' parts; without Heads, exporting evidence is refused.
	Evidence EvidenceDeps
}

func (d Deps) withDefaults() Deps {
	if d.IDs == nil {
		d.IDs = UUIDs{}
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Metrics == nil {
		d.Metrics = nopMetrics{}
	}
	if d.PrivacyPolicyVersion == "" {
		d.PrivacyPolicyVersion = DefaultPrivacyPolicyVersion
	}
	return d
}

func (d Deps) check() error {
	var missing []error
	for _, dep := range []struct {
		name string
		ok   bool
	}{
		{"Events", d.Events != nil}, {"Notifier", d.Notifier != nil}, {"Codes", d.Codes != nil}, {"Senders", d.Senders != nil}, {"Hasher", d.Hasher != nil},
		{"Throttle", d.Throttle != nil}, {"Tokens", d.Tokens != nil}, {"Clock", d.Clock != nil},
	} {
		if !dep.ok {
			missing = append(missing, errors.New("commands: missing dependency "+dep.name))
		}
	}
	return errors.Join(missing...)
}

// Commands are the write side's use cases, decorated with logging and metrics.
type Commands struct {
	RequestCode     Handler[RequestCode, RequestCodeResult]
	RegisterAccount Handler[RegisterAccount, RegisterAccountResult]
	Login           Handler[Login, LoginResult]

	// Enterprise real-name verification (seed section 02).
	CreateEnterprise      Handler[CreateEnterprise, CreateEnterpriseResult]
	UploadLicense         Handler[UploadLicense, UploadLicenseResult]
	UploadIDCard          Handler[UploadIDCard, UploadIDCardResult]
	SubmitMaterials       Handler[SubmitMaterials, SubmitMaterialsResult]
	ChooseMethod          Handler[ChooseMethod, Written]
	SendPhoneCode         Handler[SendPhoneCode, SendPhoneCodeResult]
	ConfirmPhoneCode      Handler[ConfirmPhoneCode, VerificationResult]
	StartFaceScan         Handler[StartFaceScan, StartFaceScanResult]
	FaceCallback          Handler[FaceCallback, CallbackResult]
	DownloadLetter        Handler[DownloadLetter, DownloadLetterResult]
	UploadLetter          Handler[UploadLetter, UploadLetterResult]
	ReviewLetter          Handler[ReviewLetter, VerificationResult]
	RequestMicroDeposit   Handler[RequestMicroDeposit, RequestMicroDepositResult]
	ConfirmMicroDeposit   Handler[ConfirmMicroDeposit, VerificationResult]
	TransferStatus        Handler[TransferStatusCallback, CallbackResult]
	RequestReverseDeposit Handler[RequestReverseDeposit, RequestReverseDepositResult]
	Statement             Handler[StatementCallback, StatementResult]

	// Personal real-name verification (认证为个人).
	UploadPersonalIDCard     Handler[UploadPersonalIDCard, UploadIDCardResult]
	SendPersonalPhoneCode    Handler[SendPersonalPhoneCode, SendPhoneCodeResult]
	ConfirmPersonalPhoneCode Handler[ConfirmPersonalPhoneCode, PersonalResult]
	StartPersonalFaceScan    Handler[StartPersonalFaceScan, StartFaceScanResult]

	// Members.
	CreateInvitation Handler[CreateInvitation, CreateInvitationResult]
	AcceptInvitation Handler[AcceptInvitation, AcceptInvitationResult]
	CheckInvitation  Handler[CheckInvitation, CheckInvitationResult]
	ChangeMemberRole Handler[ChangeMemberRole, Written]
	RemoveMember     Handler[RemoveMember, Written]

	// Platform administration (CLI).
	GrantPlatformRole Handler[GrantPlatformRole, GrantPlatformRoleResult]

	// The contract lifecycle (seed section 03).
	Templates TemplateCommands
	Seals     SealCommands
	Contracts ContractCommands
	// Batch sending from a sheet (使用excel批量发送).
	Batches BatchCommands
	// Folders, archive, recycle bin and tags (合同管理).
	Organisation OrganisationCommands
}

// handlerFunc adapts a function to a Handler.
type handlerFunc[C, R any] func(ctx context.Context, cmd C) (R, error)

func (f handlerFunc[C, R]) Handle(ctx context.Context, cmd C) (R, error) { return f(ctx, cmd) }

func decorate[C, R any](d Deps, f func(ctx context.Context, cmd C) (R, error)) Handler[C, R] {
	return ApplyDecorators[C, R](handlerFunc[C, R](f), d.Logger, d.Metrics)
}

// New builds every handler from d.
func New(d Deps) (Commands, error) {
	if err := errors.Join(d.check(), d.Verification.check(), d.Lifecycle.check()); err != nil {
		return Commands{}, err
	}
	d = d.withDefaults()
	v := newVerifier(d)
	return Commands{
		RequestCode:     NewRequestCodeHandler(d),
		RegisterAccount: NewRegisterAccountHandler(d),
		Login:           NewLoginHandler(d),

		CreateEnterprise:      decorate(d, v.createEnterprise),
		UploadLicense:         decorate(d, v.uploadLicense),
		UploadIDCard:          decorate(d, v.uploadIDCard),
		SubmitMaterials:       decorate(d, v.submitMaterials),
		ChooseMethod:          decorate(d, v.chooseMethod),
		SendPhoneCode:         decorate(d, v.sendPhoneCode),
		ConfirmPhoneCode:      decorate(d, v.confirmPhoneCode),
		StartFaceScan:         decorate(d, v.startFaceScan),
		FaceCallback:          decorate(d, v.faceCallback),
		DownloadLetter:        decorate(d, v.downloadLetter),
		UploadLetter:          decorate(d, v.uploadLetter),
		ReviewLetter:          decorate(d, v.reviewLetter),
		RequestMicroDeposit:   decorate(d, v.requestMicroDeposit),
		ConfirmMicroDeposit:   decorate(d, v.confirmMicroDeposit),
		TransferStatus:        decorate(d, v.transferStatus),
		RequestReverseDeposit: decorate(d, v.requestReverseDeposit),
		Statement:             decorate(d, v.statement),

		UploadPersonalIDCard:     decorate(d, v.uploadPersonalIDCard),
		SendPersonalPhoneCode:    decorate(d, v.sendPersonalPhoneCode),
		ConfirmPersonalPhoneCode: decorate(d, v.confirmPersonalPhoneCode),
		StartPersonalFaceScan:    decorate(d, v.startPersonalFaceScan),

		CreateInvitation: decorate(d, v.createInvitation),
		AcceptInvitation: decorate(d, v.acceptInvitation),
		CheckInvitation:  decorate(d, v.checkInvitation),
		ChangeMemberRole: decorate(d, v.changeMemberRole),
		RemoveMember:     decorate(d, v.removeMember),

		GrantPlatformRole: NewGrantPlatformRoleHandler(d),

		Templates: newTemplateCommands(d),
		Seals:     newSealCommands(d),
		Contracts: newContractCommands(d),
		Batches:   newBatchCommands(d),

		Organisation: newOrganisationCommands(d),
	}, nil
}

package account

import (
	"fmt"
	"time"

	"signet/domain/event"
)

// Event is a domain event of this package. Type names are explicit and
// stable; they are never derived from Go type names.
type Event interface {
	EventType() string
}

// Stored event type names. Never rename one: stored history refers to them.
const (
	TypeAccountRegistered         = "AccountRegistered"
	TypeLoginReserved             = "LoginReserved"
	TypeLoginReservationReclaimed = "LoginReservationReclaimed"

	// Account stream "account-<id>": quotas, personal real-name
	// verification and platform roles. Names differ from the enterprise
	// package's (projections switch on type names alone).
	TypePersonalQuotaGranted       = "PersonalQuotaGranted"
	TypePersonalIDCardUploaded     = "PersonalIDCardUploaded"
	TypePersonalCarrierCheckPassed = "PersonalCarrierCheckPassed"
	TypePersonalCheckFailed        = "PersonalCheckFailed"
	TypePersonalFaceScanStarted    = "PersonalFaceScanStarted"
	TypePersonalFaceVerified       = "PersonalFaceVerified"
	TypePersonVerified             = "PersonVerified"
	TypePlatformRoleGranted        = "PlatformRoleGranted"
	TypePlatformRoleRevoked        = "PlatformRoleRevoked"
	TypePersonalQuotaUsed          = "PersonalQuotaUsed"
	TypeSignatureImageAdded        = "SignatureImageAdded"
)

// PrivacyConsent records the privacy policy box and the version of the
// policy that was shown.
type PrivacyConsent struct {
	Accepted bool   `json:"accepted"`
	Version  string `json:"version"`
}

// FollowupConsent records the "我愿意接受电话回访" box.
type FollowupConsent struct {
	Accepted bool `json:"accepted"`
}

// AccountRegistered opens an account stream "account-<account_id>".
type AccountRegistered struct {
	AccountID     string          `json:"account_id"`
	LoginKind     LoginKind       `json:"login_kind"`
	Login         string          `json:"login"`
	Name          string          `json:"name"`
	Company       string          `json:"company"`
	InvitedBy     string          `json:"invited_by"`
	PasswordHash  string          `json:"password_hash"`
	PrivacyPolicy PrivacyConsent  `json:"privacy_policy"`
	PhoneFollowup FollowupConsent `json:"phone_followup"`
	RegisteredAt  time.Time       `json:"registered_at"`
}

// LoginReserved opens a reservation stream "accountname-<login_hash>": the
// login now belongs to account_id.
type LoginReserved struct {
	LoginKind  LoginKind `json:"login_kind"`
	LoginHash  string    `json:"login_hash"`
	AccountID  string    `json:"account_id"`
	ReservedAt time.Time `json:"reserved_at"`
}

// LoginReservationReclaimed hands a reservation whose account was never
// written (the registration failed between the two appends) to a new
// registration.
type LoginReservationReclaimed struct {
	LoginKind         LoginKind `json:"login_kind"`
	LoginHash         string    `json:"login_hash"`
	PreviousAccountID string    `json:"previous_account_id"`
	AccountID         string    `json:"account_id"`
	ReclaimedAt       time.Time `json:"reclaimed_at"`
}

// ContractQuotaGranted: free personal contracts were granted to the
// account ("您已获得5份对私合同", "实名认证个人再得5份免费合同").
type ContractQuotaGranted struct {
	Kind      string    `json:"kind"` // "personal"
	Amount    int       `json:"amount"`
	Reason    string    `json:"reason"` // "registration", "personal_verified"
	GrantedAt time.Time `json:"granted_at"`
}

// File is a stored upload: its content lives in the blob store under its
// SHA-256; events carry only this reference.
type File struct {
	SHA256    string `json:"sha256"`
	Size      int64  `json:"size"`
	MediaType string `json:"media_type"`
}

// IDCardFields are an ID card side's fields as recognised by OCR.
type IDCardFields struct {
	Name       string `json:"name,omitempty"`
	IDNumber   string `json:"id_number,omitempty"`
	Authority  string `json:"authority,omitempty"`
	ValidFrom  string `json:"valid_from,omitempty"`
	ValidUntil string `json:"valid_until,omitempty"`
}

// PersonalIDCardUploaded: one side of the account holder's ID card was
// stored and recognised.
type PersonalIDCardUploaded struct {
	Side       Side         `json:"side"`
	File       File         `json:"file"`
	Recognized IDCardFields `json:"recognized"`
	Recognizer string       `json:"recognizer"`
	UploadedAt time.Time    `json:"uploaded_at"`
}

// PersonalCarrierCheckPassed: the carrier confirmed that the phone is
// registered to the name and ID number (运营商三要素); a code was then sent.
type PersonalCarrierCheckPassed struct {
	Name      string    `json:"name"`
	IDNumber  string    `json:"id_number"`
	Phone     string    `json:"phone"`
	CheckedAt time.Time `json:"checked_at"`
}

// PersonalCheckFailed records every refused step of the personal
// verification and why: a carrier mismatch, a wrong code, a failed or
// over-limit face scan. Detail is masked.
type PersonalCheckFailed struct {
	Method       Method    `json:"method"`
	Step         string    `json:"step"` // "carrier", "code", "face"
	Reason       string    `json:"reason"`
	Detail       string    `json:"detail,omitempty"`
	AttemptsLeft *int      `json:"attempts_left,omitempty"`
	SessionID    string    `json:"session_id,omitempty"` // of a failed face scan, which ends the session
	FailedAt     time.Time `json:"failed_at"`
}

// PersonalFaceScanStarted: a face scan session was opened with the provider.
type PersonalFaceScanStarted struct {
	SessionID string    `json:"session_id"`
	Name      string    `json:"name"`
	IDNumber  string    `json:"id_number"`
	Attempt   int       `json:"attempt"` // of the person's day (Asia/Shanghai)
	QRURL     string    `json:"qr_url"`
	ExpiresAt time.Time `json:"expires_at"`
	StartedAt time.Time `json:"started_at"`
}

// PersonalFaceVerified: the provider says the face matches the person.
type PersonalFaceVerified struct {
	SessionID  string    `json:"session_id"`
	Score      float64   `json:"score"`
	VerifiedAt time.Time `json:"verified_at"`
}

// PersonVerified: the account holder's real name is verified.
type PersonVerified struct {
	Name       string    `json:"name"`
	IDNumber   string    `json:"id_number"`
	Method     Method    `json:"method"`
	VerifiedAt time.Time `json:"verified_at"`
}

// PlatformRoleGranted: the account may act for the platform in a role.
type PlatformRoleGranted struct {
	Role      string    `json:"role"`
	GrantedBy string    `json:"granted_by"`
	GrantedAt time.Time `json:"granted_at"`
}

// PlatformRoleRevoked: the account no longer holds the role.
type PlatformRoleRevoked struct {
	Role      string    `json:"role"`
	RevokedBy string    `json:"revoked_by"`
	RevokedAt time.Time `json:"revoked_at"`
}

// PersonalQuotaUsed: sending a contract used one of the account's free
// personal contracts. It is kept on its own ledger, "personalquota-<id>";
// Used counts the contracts used so far, this one included.
type PersonalQuotaUsed struct {
	ContractID string    `json:"contract_id"`
	UsedAt     time.Time `json:"used_at"`
	Used       int       `json:"used"`
}

// SignatureImageAdded: the holder uploaded an image of their handwritten
// signature (手写签名) to sign with.
type SignatureImageAdded struct {
	SignatureID string    `json:"signature_id"`
	File        File      `json:"file"`
	AddedAt     time.Time `json:"added_at"`
}

func (AccountRegistered) EventType() string          { return TypeAccountRegistered }
func (LoginReserved) EventType() string              { return TypeLoginReserved }
func (LoginReservationReclaimed) EventType() string  { return TypeLoginReservationReclaimed }
func (ContractQuotaGranted) EventType() string       { return TypePersonalQuotaGranted }
func (PersonalIDCardUploaded) EventType() string     { return TypePersonalIDCardUploaded }
func (PersonalCarrierCheckPassed) EventType() string { return TypePersonalCarrierCheckPassed }
func (PersonalCheckFailed) EventType() string        { return TypePersonalCheckFailed }
func (PersonalFaceScanStarted) EventType() string    { return TypePersonalFaceScanStarted }
func (PersonalFaceVerified) EventType() string       { return TypePersonalFaceVerified }
func (PersonVerified) EventType() string             { return TypePersonVerified }
func (PlatformRoleGranted) EventType() string        { return TypePlatformRoleGranted }
func (PlatformRoleRevoked) EventType() string        { return TypePlatformRoleRevoked }
func (PersonalQuotaUsed) EventType() string          { return TypePersonalQuotaUsed }
func (SignatureImageAdded) EventType() string        { return TypeSignatureImageAdded }

// ErrUnknownEvent: a stored event type (or schema version) this package does
// not know. It wraps event.ErrInvalid.
var ErrUnknownEvent = fmt.Errorf("%w: unknown account event", event.ErrInvalid)

// codec knows every event type of this package by its explicit name, with
// the decoder of each schema version it has had (all at version 1 so far).
var codec = func() *event.Codec[Event] {
	c := event.NewCodec[Event](ErrUnknownEvent)
	event.Register[AccountRegistered](c, AccountRegistered{}.EventType())
	event.Register[LoginReserved](c, LoginReserved{}.EventType())
	event.Register[LoginReservationReclaimed](c, LoginReservationReclaimed{}.EventType())
	event.Register[ContractQuotaGranted](c, ContractQuotaGranted{}.EventType())
	event.Register[PersonalIDCardUploaded](c, PersonalIDCardUploaded{}.EventType())
	event.Register[PersonalCarrierCheckPassed](c, PersonalCarrierCheckPassed{}.EventType())
	event.Register[PersonalCheckFailed](c, PersonalCheckFailed{}.EventType())
	event.Register[PersonalFaceScanStarted](c, PersonalFaceScanStarted{}.EventType())
	event.Register[PersonalFaceVerified](c, PersonalFaceVerified{}.EventType())
	event.Register[PersonVerified](c, PersonVerified{}.EventType())
	event.Register[PlatformRoleGranted](c, PlatformRoleGranted{}.EventType())
	event.Register[PlatformRoleRevoked](c, PlatformRoleRevoked{}.EventType())
	event.Register[PersonalQuotaUsed](c, PersonalQuotaUsed{}.EventType())
	event.Register[SignatureImageAdded](c, SignatureImageAdded{}.EventType())
	return c
}()

// EventTypes lists the registered type names (for subscribers' filters).
func EventTypes() []string {
	return []string{
		TypeAccountRegistered, TypeLoginReserved, TypeLoginReservationReclaimed,
		TypePersonalQuotaGranted, TypePersonalIDCardUploaded, TypePersonalCarrierCheckPassed, TypePersonalCheckFailed,
		TypePersonalFaceScanStarted, TypePersonalFaceVerified, TypePersonVerified,
		TypePlatformRoleGranted, TypePlatformRoleRevoked, TypePersonalQuotaUsed, TypeSignatureImageAdded,
	}
}

// Encode turns a domain event into its stored type name, schema version and
// JSON payload.
func Encode(e Event) (typ string, schema int, data []byte, err error) { return codec.Encode(e) }

// Decode turns a stored type name, schema version and payload back into a
// domain event, upcasting older schema versions.
func Decode(typ string, schema int, data []byte) (Event, error) {
	return codec.Decode(typ, schema, data)
}

// DecodeEnvelope decodes a stored event.
func DecodeEnvelope(env event.Envelope) (Event, error) { return codec.DecodeEnvelope(env) }

// NewEvent encodes e as an event to append with the given ID and metadata.
func NewEvent(id string, e Event, meta event.Metadata) (event.New, error) {
	return codec.NewEvent(id, e, meta)
}

// IsUnknownEvent reports whether err says an event type or version is unknown.
func IsUnknownEvent(err error) bool { return codec.IsUnknown(err) }

// timestamp is how this package stores times: UTC at microsecond precision,
// like event metadata.
func timestamp(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

package enterprise

import (
	"fmt"
	"time"

	"signet/domain/event"
)

// Event is a domain event of this package. Type names are explicit and
// stable; they are never derived from Go type names.
type Event interface{ EventType() string }

// Stored event type names. Never rename one: stored history refers to them.
const (
	TypeEnterpriseCreated           = "EnterpriseCreated"
	TypeLicenseUploaded             = "LicenseUploaded"
	TypeIDCardUploaded              = "IDCardUploaded"
	TypeMaterialsSubmitted          = "MaterialsSubmitted"
	TypeMaterialsRefused            = "MaterialsRefused"
	TypeWillingnessMethodChosen     = "WillingnessMethodChosen"
	TypeWillingnessCheckFailed      = "WillingnessCheckFailed"
	TypeCarrierCheckPassed          = "CarrierCheckPassed"
	TypePhoneVerified               = "PhoneVerified"
	TypeFaceScanStarted             = "FaceScanStarted"
	TypeFaceVerified                = "FaceVerified"
	TypeAuthorizationLetterIssued   = "AuthorizationLetterGenerated"
	TypeAuthorizationLetterUploaded = "AuthorizationLetterUploaded"
	TypeAuthorizationLetterApproved = "AuthorizationLetterApproved"
	TypeAuthorizationLetterRejected = "AuthorizationLetterRejected"
	TypeMicroDepositRequested       = "MicroDepositRequested"
	TypeMicroDepositFailed          = "MicroDepositFailed"
	TypeMicroDepositConfirmed       = "MicroDepositConfirmed"
	TypeReverseDepositRequested     = "ReverseDepositRequested"
	TypeReverseDepositMismatched    = "ReverseDepositMismatched"
	TypeReverseDepositMatched       = "ReverseDepositMatched"
	TypeEnterpriseVerified          = "EnterpriseVerified"
	TypeContractQuotaGranted        = "ContractQuotaGranted"
	TypeMemberInvitationCreated     = "MemberInvitationCreated"
	TypeMemberJoined                = "MemberJoined"
	TypeMemberRoleChanged           = "MemberRoleChanged"
	TypeMemberRemoved               = "MemberRemoved"
	TypeSealCreated                 = "SealCreated"
	TypeSealUseGranted              = "SealUseGranted"
	TypeSealUseRevoked              = "SealUseRevoked"
	TypeSealDisabled                = "SealDisabled"
	TypeApprovalPolicySet           = "ApprovalPolicySet"
	TypeContractQuotaUsed           = "ContractQuotaUsed"

	// Streams other than "enterprise-<id>".
	TypeUSCCReserved              = "USCCReserved"              // "uscc-<hash>"
	TypeUSCCReservationReclaimed  = "USCCReservationReclaimed"  // "uscc-<hash>"
	TypeDepositReferenceIssued    = "DepositReferenceIssued"    // "depositref-<reference>"
	TypeBankStatementReceived     = "BankStatementReceived"     // "bankstatement-<hash of statement id>"
	TypeReverseDepositAwaited     = "ReverseDepositAwaited"     // "depositpayer-<hash of payer name>"
	TypeInvitationTokenRegistered = "InvitationTokenRegistered" // "invitation-<token hash>"
)

// File is a stored upload: its content lives in the blob store under its
// SHA-256; events carry only this reference.
type File struct {
	SHA256    string `json:"sha256"`
	Size      int64  `json:"size"`
	MediaType string `json:"media_type"`
}

// Consent records a box the operator ticked and the version of the text shown.
type Consent struct {
	Accepted bool   `json:"accepted"`
	Version  string `json:"version,omitempty"`
}

// EnterpriseCreated opens "enterprise-<id>": an account starts the
// verification of an enterprise (创建企业 / 新增企业).
type EnterpriseCreated struct {
	EnterpriseID string    `json:"enterprise_id"`
	CreatedBy    string    `json:"created_by"`
	CreatedAt    time.Time `json:"created_at"`
}

// LicenseFields are a business licence's fields as recognised by OCR.
type LicenseFields struct {
	Name     string `json:"name"`
	USCC     string `json:"uscc"`
	LegalRep string `json:"legal_rep"`
}

// LicenseUploaded: a business licence photo was stored and recognised.
type LicenseUploaded struct {
	File       File          `json:"file"`
	Recognized LicenseFields `json:"recognized"`
	Recognizer string        `json:"recognizer"`
	UploadedBy string        `json:"uploaded_by"`
	UploadedAt time.Time     `json:"uploaded_at"`
}

// IDCardFields are an ID card side's fields as recognised by OCR.
type IDCardFields struct {
	Name       string `json:"name,omitempty"`
	IDNumber   string `json:"id_number,omitempty"`
	Authority  string `json:"authority,omitempty"`
	ValidFrom  string `json:"valid_from,omitempty"`
	ValidUntil string `json:"valid_until,omitempty"`
}

// IDCardUploaded: one side of the legal representative's or the agent's ID
// card was stored and recognised.
type IDCardUploaded struct {
	Person     Person       `json:"person"`
	Side       Side         `json:"side"`
	File       File         `json:"file"`
	Recognized IDCardFields `json:"recognized"`
	Recognizer string       `json:"recognizer"`
	UploadedBy string       `json:"uploaded_by"`
	UploadedAt time.Time    `json:"uploaded_at"`
}

// MaterialsSubmitted: the operator checked (and corrected) the recognised
// fields and submitted them with the consents (确认提交). It may be
// submitted again until the enterprise is verified; a new submission
// restarts the willingness check.
type MaterialsSubmitted struct {
	Name             string    `json:"name"`
	USCC             string    `json:"uscc"`
	LegalRepName     string    `json:"legal_rep_name"`
	LegalRepIDNumber string    `json:"legal_rep_id_number,omitempty"`
	Operator         Person    `json:"operator"`
	AgentName        string    `json:"agent_name,omitempty"`
	AgentIDNumber    string    `json:"agent_id_number,omitempty"`
	SoleProprietor   bool      `json:"sole_proprietor"`
	PersonalData     Consent   `json:"personal_data"`
	PhoneFollowup    Consent   `json:"phone_followup"`
	SubmittedBy      string    `json:"submitted_by"`
	SubmittedAt      time.Time `json:"submitted_at"`
	ExpiresAt        time.Time `json:"expires_at"`
}

// MaterialsRefused: the business registry does not know the enterprise as
// submitted (工商信息核验): wrong name, legal representative or code.
type MaterialsRefused struct {
	Name         string    `json:"name"`
	USCC         string    `json:"uscc"`
	LegalRepName string    `json:"legal_rep_name"`
	Reason       string    `json:"reason"`
	RefusedBy    string    `json:"refused_by"` // the submitting account
	RefusedAt    time.Time `json:"refused_at"`
}

// WillingnessMethodChosen: the operator picked (or switched to) a method.
type WillingnessMethodChosen struct {
	Method   Method    `json:"method"`
	ChosenBy string    `json:"chosen_by"`
	ChosenAt time.Time `json:"chosen_at"`
}

// WillingnessCheckFailed records every refused willingness step and why:
// a carrier mismatch, a wrong code, a failed or over-limit face scan, a
// wrong or late amount...
type WillingnessCheckFailed struct {
	Method       Method    `json:"method"`
	Step         string    `json:"step"`
	Reason       string    `json:"reason"`
	Detail       string    `json:"detail,omitempty"`
	SessionID    string    `json:"session_id,omitempty"` // a failed face scan's session: it has its result
	AttemptsLeft *int      `json:"attempts_left,omitempty"`
	FailedAt     time.Time `json:"failed_at"`
}

// CarrierCheckPassed: the carrier confirmed that the phone is registered to
// the person's name and ID number (运营商三要素); a code was then sent.
type CarrierCheckPassed struct {
	Method    Method    `json:"method"`
	Person    Person    `json:"person"`
	Name      string    `json:"name"`
	IDNumber  string    `json:"id_number"`
	Phone     string    `json:"phone"`
	CheckedAt time.Time `json:"checked_at"`
}

// PhoneVerified: the code sent to the checked phone came back.
type PhoneVerified struct {
	Method     Method    `json:"method"`
	Person     Person    `json:"person"`
	Phone      string    `json:"phone"`
	VerifiedAt time.Time `json:"verified_at"`
}

// FaceScanStarted: a face scan session was opened with the provider.
type FaceScanStarted struct {
	Method    Method    `json:"method"`
	SessionID string    `json:"session_id"`
	Person    Person    `json:"person"`
	Name      string    `json:"name"`
	IDNumber  string    `json:"id_number"`
	Attempt   int       `json:"attempt"` // of the person's day (Asia/Shanghai)
	QRURL     string    `json:"qr_url"`
	ExpiresAt time.Time `json:"expires_at"`
	StartedAt time.Time `json:"started_at"`
}

// FaceVerified: the provider says the face matches the person.
type FaceVerified struct {
	Method     Method    `json:"method"`
	SessionID  string    `json:"session_id"`
	Person     Person    `json:"person"`
	Score      float64   `json:"score"`
	VerifiedAt time.Time `json:"verified_at"`
}

// AuthorizationLetterGenerated: the platform produced the filled-in letter.
type AuthorizationLetterGenerated struct {
	Reference   string    `json:"reference"`
	File        File      `json:"file"`
	GeneratedAt time.Time `json:"generated_at"`
}

// AuthorizationLetterUploaded: the stamped letter came back for review.
type AuthorizationLetterUploaded struct {
	Reference  string    `json:"reference"`
	File       File      `json:"file"`
	UploadedBy string    `json:"uploaded_by"`
	UploadedAt time.Time `json:"uploaded_at"`
	ReviewDue  time.Time `json:"review_due"`
}

// AuthorizationLetterApproved: a platform reviewer accepted the letter.
type AuthorizationLetterApproved struct {
	Reference  string    `json:"reference"`
	Reviewer   string    `json:"reviewer"`
	ReviewedAt time.Time `json:"reviewed_at"`
}

// AuthorizationLetterRejected: a platform reviewer refused the letter.
type AuthorizationLetterRejected struct {
	Reference  string    `json:"reference"`
	Reviewer   string    `json:"reviewer"`
	Reason     string    `json:"reason"`
	ReviewedAt time.Time `json:"reviewed_at"`
}

// BankAccount is a corporate account as the operator entered it.
type BankAccount struct {
	Holder        string `json:"holder"`
	Bank          string `json:"bank"`
	Branch        string `json:"branch"`
	Province      string `json:"province"`
	City          string `json:"city"`
	AccountNumber string `json:"account_number"`
}

// MicroDepositRequested: the platform decided to pay a random amount into
// the corporate account; the operator must enter it before Deadline.
type MicroDepositRequested struct {
	TransferID  string      `json:"transfer_id"`
	Account     BankAccount `json:"account"`
	AmountFen   int64       `json:"amount_fen"`
	Deadline    time.Time   `json:"deadline"`
	RequestedAt time.Time   `json:"requested_at"`
}

// MicroDepositFailed: the bank could not pay the deposit.
type MicroDepositFailed struct {
	TransferID string    `json:"transfer_id"`
	Reason     string    `json:"reason"`
	FailedAt   time.Time `json:"failed_at"`
}

// MicroDepositConfirmed: the operator entered the right amount in time.
type MicroDepositConfirmed struct {
	TransferID  string    `json:"transfer_id"`
	ConfirmedAt time.Time `json:"confirmed_at"`
}

// PlatformAccount is where the reverse deposit must be paid.
type PlatformAccount struct {
	Holder        string `json:"holder"`
	Bank          string `json:"bank"`
	Branch        string `json:"branch"`
	AccountNumber string `json:"account_number"`
	BankCode      string `json:"bank_code"`
}

// ReverseDepositRequested: the operator acknowledged the two conditions and
// will pay exactly 0.01 CNY from the corporate account.
type ReverseDepositRequested struct {
	Reference    string          `json:"reference"`
	PayerName    string          `json:"payer_name"`
	AmountFen    int64           `json:"amount_fen"`
	PayTo        PlatformAccount `json:"pay_to"`
	NotBefore    time.Time       `json:"not_before"`
	Acknowledged []string        `json:"acknowledged"`
	RequestedAt  time.Time       `json:"requested_at"`
}

// StatementLine is an incoming payment on the platform's bank statement.
type StatementLine struct {
	StatementID      string    `json:"statement_id"`
	PayerName        string    `json:"payer_name"`
	PayerAccount     string    `json:"payer_account"`
	PayerAccountType string    `json:"payer_account_type"`
	AmountFen        int64     `json:"amount_fen"`
	Currency         string    `json:"currency"`
	PaidAt           time.Time `json:"paid_at"`
	PayeeAccount     string    `json:"payee_account"`
	Memo             string    `json:"memo,omitempty"`
}

// ReverseDepositMismatched: a payment was attributed to this enterprise but
// breaks a condition; Reason names the first one it breaks.
type ReverseDepositMismatched struct {
	Statement StatementLine `json:"statement"`
	Reason    string        `json:"reason"`
	Detail    string        `json:"detail"`
	CheckedAt time.Time     `json:"checked_at"`
}

// ReverseDepositMatched: the payment meets every condition.
type ReverseDepositMatched struct {
	Statement StatementLine `json:"statement"`
	MatchedAt time.Time     `json:"matched_at"`
}

// EnterpriseVerified: real-name verification is complete.
type EnterpriseVerified struct {
	Name         string    `json:"name"`
	USCC         string    `json:"uscc"`
	LegalRepName string    `json:"legal_rep_name"`
	Method       Method    `json:"method"`
	MasterAdmin  string    `json:"master_admin"`
	VerifiedAt   time.Time `json:"verified_at"`
}

// ContractQuotaGranted: free contracts were granted (the seed: +10
// enterprise contracts on enterprise verification).
type ContractQuotaGranted struct {
	Kind      string    `json:"kind"` // "enterprise"
	Amount    int       `json:"amount"`
	Reason    string    `json:"reason"`
	GrantedAt time.Time `json:"granted_at"`
}

// MemberInvitationCreated: an admin made a share link; the token itself is
// never stored, only its hash.
type MemberInvitationCreated struct {
	InvitationID string    `json:"invitation_id"`
	TokenHash    string    `json:"token_hash"`
	Role         Role      `json:"role"`
	CreatedBy    string    `json:"created_by"`
	ExpiresAt    time.Time `json:"expires_at"`
	CreatedAt    time.Time `json:"created_at"`
}

// MemberJoined: an account became a member (the master admin on
// verification, others through an invitation).
type MemberJoined struct {
	AccountID    string    `json:"account_id"`
	Role         Role      `json:"role"`
	InvitationID string    `json:"invitation_id,omitempty"`
	JoinedAt     time.Time `json:"joined_at"`
}

// MemberRoleChanged: an admin changed a member's role.
type MemberRoleChanged struct {
	AccountID string    `json:"account_id"`
	Role      Role      `json:"role"`
	ChangedBy string    `json:"changed_by"`
	ChangedAt time.Time `json:"changed_at"`
}

// MemberRemoved: an admin removed a member.
type MemberRemoved struct {
	AccountID string    `json:"account_id"`
	RemovedBy string    `json:"removed_by"`
	RemovedAt time.Time `json:"removed_at"`
}

// SealCreated: a seal (印章) the enterprise signs with. The default seal
// is drawn by the platform on verification (Default, no CreatedBy); others
// are images an administrator uploaded.
type SealCreated struct {
	SealID    string    `json:"seal_id"`
	Name      string    `json:"name"`
	File      File      `json:"file"`
	Default   bool      `json:"default"`
	CreatedBy string    `json:"created_by,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// SealUseGranted: an administrator let a member sign with a seal.
type SealUseGranted struct {
	SealID    string    `json:"seal_id"`
	AccountID string    `json:"account_id"`
	GrantedBy string    `json:"granted_by"`
	GrantedAt time.Time `json:"granted_at"`
}

// SealUseRevoked: the member may no longer sign with the seal.
type SealUseRevoked struct {
	SealID    string    `json:"seal_id"`
	AccountID string    `json:"account_id"`
	RevokedBy string    `json:"revoked_by"`
	RevokedAt time.Time `json:"revoked_at"`
}

// SealDisabled: nobody signs with the seal any more; it stays in history.
type SealDisabled struct {
	SealID     string    `json:"seal_id"`
	DisabledBy string    `json:"disabled_by"`
	DisabledAt time.Time `json:"disabled_at"`
}

// ApprovalPolicySet: whether the enterprise's contracts need an approval
// before they are sent (合同审批), and who may approve them.
type ApprovalPolicySet struct {
	Required  bool      `json:"required"`
	Approvers []string  `json:"approvers"`
	SetBy     string    `json:"set_by"`
	SetAt     time.Time `json:"set_at"`
}

// ContractQuotaUsed: sending a contract used one of the enterprise's free
// contracts. It is kept on its own ledger, "enterprisequota-<id>", so that
// the enterprise's stream does not grow with every contract; Used counts
// the contracts used so far, this one included, so that the ledger's last
// event is all a decision needs.
type ContractQuotaUsed struct {
	ContractID string    `json:"contract_id"`
	UsedBy     string    `json:"used_by"`
	UsedAt     time.Time `json:"used_at"`
	Used       int       `json:"used"`
}

// USCCReserved opens "uscc-<hash>": the code belongs to this enterprise.
type USCCReserved struct {
	USCC         string    `json:"uscc"`
	EnterpriseID string    `json:"enterprise_id"`
	ReservedAt   time.Time `json:"reserved_at"`
}

// USCCReservationReclaimed hands a reservation whose enterprise never got
// verified (the verification died between the two appends) to another.
type USCCReservationReclaimed struct {
	USCC                 string    `json:"uscc"`
	PreviousEnterpriseID string    `json:"previous_enterprise_id"`
	EnterpriseID         string    `json:"enterprise_id"`
	ReclaimedAt          time.Time `json:"reclaimed_at"`
}

// DepositReferenceIssued opens "depositref-<reference>": payments whose
// memo carries the reference belong to this enterprise.
type DepositReferenceIssued struct {
	Reference    string    `json:"reference"`
	EnterpriseID string    `json:"enterprise_id"`
	IssuedAt     time.Time `json:"issued_at"`
}

// ReverseDepositAwaited is appended to "depositpayer-<hash of name>" so that
// a payment without a reference can be found by its payer's name.
type ReverseDepositAwaited struct {
	PayerName    string    `json:"payer_name"`
	EnterpriseID string    `json:"enterprise_id"`
	Reference    string    `json:"reference"`
	AwaitedAt    time.Time `json:"awaited_at"`
}

// BankStatementReceived opens "bankstatement-<hash>": each statement line is
// processed once, whatever the feed redelivers, and an unmatched line is
// kept with the reason.
type BankStatementReceived struct {
	Statement    StatementLine `json:"statement"`
	EnterpriseID string        `json:"enterprise_id,omitempty"`
	Outcome      string        `json:"outcome"` // "matched", "mismatched", "unmatched"
	Reason       string        `json:"reason,omitempty"`
	ReceivedAt   time.Time     `json:"received_at"`
}

// InvitationTokenRegistered opens "invitation-<token hash>": which
// enterprise and invitation a share-link token belongs to.
type InvitationTokenRegistered struct {
	EnterpriseID string    `json:"enterprise_id"`
	InvitationID string    `json:"invitation_id"`
	RegisteredAt time.Time `json:"registered_at"`
}

func (EnterpriseCreated) EventType() string            { return TypeEnterpriseCreated }
func (LicenseUploaded) EventType() string              { return TypeLicenseUploaded }
func (IDCardUploaded) EventType() string               { return TypeIDCardUploaded }
func (MaterialsSubmitted) EventType() string           { return TypeMaterialsSubmitted }
func (MaterialsRefused) EventType() string             { return TypeMaterialsRefused }
func (WillingnessMethodChosen) EventType() string      { return TypeWillingnessMethodChosen }
func (WillingnessCheckFailed) EventType() string       { return TypeWillingnessCheckFailed }
func (CarrierCheckPassed) EventType() string           { return TypeCarrierCheckPassed }
func (PhoneVerified) EventType() string                { return TypePhoneVerified }
func (FaceScanStarted) EventType() string              { return TypeFaceScanStarted }
func (FaceVerified) EventType() string                 { return TypeFaceVerified }
func (AuthorizationLetterGenerated) EventType() string { return TypeAuthorizationLetterIssued }
func (AuthorizationLetterUploaded) EventType() string  { return TypeAuthorizationLetterUploaded }
func (AuthorizationLetterApproved) EventType() string  { return TypeAuthorizationLetterApproved }
func (AuthorizationLetterRejected) EventType() string  { return TypeAuthorizationLetterRejected }
func (MicroDepositRequested) EventType() string        { return TypeMicroDepositRequested }
func (MicroDepositFailed) EventType() string           { return TypeMicroDepositFailed }
func (MicroDepositConfirmed) EventType() string        { return TypeMicroDepositConfirmed }
func (ReverseDepositRequested) EventType() string      { return TypeReverseDepositRequested }
func (ReverseDepositMismatched) EventType() string     { return TypeReverseDepositMismatched }
func (ReverseDepositMatched) EventType() string        { return TypeReverseDepositMatched }
func (EnterpriseVerified) EventType() string           { return TypeEnterpriseVerified }
func (ContractQuotaGranted) EventType() string         { return TypeContractQuotaGranted }
func (MemberInvitationCreated) EventType() string      { return TypeMemberInvitationCreated }
func (MemberJoined) EventType() string                 { return TypeMemberJoined }
func (MemberRoleChanged) EventType() string            { return TypeMemberRoleChanged }
func (MemberRemoved) EventType() string                { return TypeMemberRemoved }
func (SealCreated) EventType() string                  { return TypeSealCreated }
func (SealUseGranted) EventType() string               { return TypeSealUseGranted }
func (SealUseRevoked) EventType() string               { return TypeSealUseRevoked }
func (SealDisabled) EventType() string                 { return TypeSealDisabled }
func (ApprovalPolicySet) EventType() string            { return TypeApprovalPolicySet }
func (ContractQuotaUsed) EventType() string            { return TypeContractQuotaUsed }
func (USCCReserved) EventType() string                 { return TypeUSCCReserved }
func (USCCReservationReclaimed) EventType() string     { return TypeUSCCReservationReclaimed }
func (DepositReferenceIssued) EventType() string       { return TypeDepositReferenceIssued }
func (ReverseDepositAwaited) EventType() string        { return TypeReverseDepositAwaited }
func (BankStatementReceived) EventType() string        { return TypeBankStatementReceived }
func (InvitationTokenRegistered) EventType() string    { return TypeInvitationTokenRegistered }

// ErrUnknownEvent: a stored event type (or schema version) this package does
// not know. It wraps event.ErrInvalid.
var ErrUnknownEvent = fmt.Errorf("%w: unknown enterprise event", event.ErrInvalid)

// codec knows every event type of this package by its explicit name, with
// the decoder of each schema version it has had (all at version 1 so far).
var codec = func() *event.Codec[Event] {
	c := event.NewCodec[Event](ErrUnknownEvent)
	event.Register[EnterpriseCreated](c, EnterpriseCreated{}.EventType())
	event.Register[LicenseUploaded](c, LicenseUploaded{}.EventType())
	event.Register[IDCardUploaded](c, IDCardUploaded{}.EventType())
	event.Register[MaterialsSubmitted](c, MaterialsSubmitted{}.EventType())
	event.Register[MaterialsRefused](c, MaterialsRefused{}.EventType())
	event.Register[WillingnessMethodChosen](c, WillingnessMethodChosen{}.EventType())
	event.Register[WillingnessCheckFailed](c, WillingnessCheckFailed{}.EventType())
	event.Register[CarrierCheckPassed](c, CarrierCheckPassed{}.EventType())
	event.Register[PhoneVerified](c, PhoneVerified{}.EventType())
	event.Register[FaceScanStarted](c, FaceScanStarted{}.EventType())
	event.Register[FaceVerified](c, FaceVerified{}.EventType())
	event.Register[AuthorizationLetterGenerated](c, AuthorizationLetterGenerated{}.EventType())
	event.Register[AuthorizationLetterUploaded](c, AuthorizationLetterUploaded{}.EventType())
	event.Register[AuthorizationLetterApproved](c, AuthorizationLetterApproved{}.EventType())
	event.Register[AuthorizationLetterRejected](c, AuthorizationLetterRejected{}.EventType())
	event.Register[MicroDepositRequested](c, MicroDepositRequested{}.EventType())
	event.Register[MicroDepositFailed](c, MicroDepositFailed{}.EventType())
	event.Register[MicroDepositConfirmed](c, MicroDepositConfirmed{}.EventType())
	event.Register[ReverseDepositRequested](c, ReverseDepositRequested{}.EventType())
	event.Register[ReverseDepositMismatched](c, ReverseDepositMismatched{}.EventType())
	event.Register[ReverseDepositMatched](c, ReverseDepositMatched{}.EventType())
	event.Register[EnterpriseVerified](c, EnterpriseVerified{}.EventType())
	event.Register[ContractQuotaGranted](c, ContractQuotaGranted{}.EventType())
	event.Register[MemberInvitationCreated](c, MemberInvitationCreated{}.EventType())
	event.Register[MemberJoined](c, MemberJoined{}.EventType())
	event.Register[MemberRoleChanged](c, MemberRoleChanged{}.EventType())
	event.Register[MemberRemoved](c, MemberRemoved{}.EventType())
	event.Register[SealCreated](c, SealCreated{}.EventType())
	event.Register[SealUseGranted](c, SealUseGranted{}.EventType())
	event.Register[SealUseRevoked](c, SealUseRevoked{}.EventType())
	event.Register[SealDisabled](c, SealDisabled{}.EventType())
	event.Register[ApprovalPolicySet](c, ApprovalPolicySet{}.EventType())
	event.Register[ContractQuotaUsed](c, ContractQuotaUsed{}.EventType())
	event.Register[USCCReserved](c, USCCReserved{}.EventType())
	event.Register[USCCReservationReclaimed](c, USCCReservationReclaimed{}.EventType())
	event.Register[DepositReferenceIssued](c, DepositReferenceIssued{}.EventType())
	event.Register[ReverseDepositAwaited](c, ReverseDepositAwaited{}.EventType())
	event.Register[BankStatementReceived](c, BankStatementReceived{}.EventType())
	event.Register[InvitationTokenRegistered](c, InvitationTokenRegistered{}.EventType())
	return c
}()

// Has reports whether typ is one of this package's event types.
func Has(typ string) bool { return codec.Has(typ) }

// Encode turns a domain event into its stored type name, schema version and
// JSON payload.
func Encode(e Event) (typ string, schema int, data []byte, err error) { return codec.Encode(e) }

// Decode turns a stored type name, schema version and payload back into a
// domain event.
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

func timestamp(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

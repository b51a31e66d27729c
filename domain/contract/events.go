package contract

import (
	"encoding/json"
	"fmt"
	"time"

	"signet/domain/event"
	"signet/domain/layout"
)

// Event is a domain event of this package.
type Event interface{ EventType() string }

// Stored event type names. Never rename one: stored history refers to them.
const (
	TypeContractCreated              = "ContractCreated"
	TypeContractSubmittedForApproval = "ContractSubmittedForApproval"
	TypeContractApproved             = "ContractApproved"
	TypeContractApprovalRejected     = "ContractApprovalRejected"
	TypeContractSent                 = "ContractSent"
	TypePartySigned                  = "PartySigned"
	TypePartyRejected                = "PartyRejected"
	TypeContractRevoked              = "ContractRevoked"
	TypeContractExpired              = "ContractExpired"
	TypeContractCompleted            = "ContractCompleted"
	TypeContractFullySigned          = "ContractFullySigned"
	TypeContractSealed               = "ContractSealed"
	TypeContractSealingFailed        = "ContractSealingFailed"

	// "contractno-<number>": makes each contract number unique.
	TypeContractNumberReserved = "ContractNumberReserved"
)

// Sender is who sends the contract: an account, on behalf of a verified
// enterprise or as a verified person.
type Sender struct {
	AccountID    string `json:"account_id"`
	EnterpriseID string `json:"enterprise_id,omitempty"`
	Name         string `json:"name"`        // the enterprise's verified name, or the person's
	PersonName   string `json:"person_name"` // the sending person's verified name
}

// TemplateRef names the template version a contract was sent from.
type TemplateRef struct {
	ID      string `json:"id"`
	Version uint64 `json:"version"`
}

// Contact is how a party is reached and recognised: a normalised mainland
// mobile number or email address, the same form as an account login.
type Contact struct {
	Kind  string `json:"kind"` // "phone" or "email"
	Value string `json:"value"`
}

// Party is one signer of the contract (签约方), filling a role.
type Party struct {
	ID             string           `json:"id"`   // the role's ID
	Role           string           `json:"role"` // the role's name, e.g. 乙方
	Kind           layout.PartyKind `json:"kind"`
	Order          int              `json:"order"`
	Name           string           `json:"name"` // the person, or the enterprise's contact person
	Contact        Contact          `json:"contact"`
	EnterpriseName string           `json:"enterprise_name,omitempty"` // enterprise parties
}

// ContractCreated opens "contract-<id>": everything the sender decided,
// frozen. The contract is sent next, or first submitted for approval.
type ContractCreated struct {
	ContractID      string            `json:"contract_id"`
	Number          string            `json:"number"` // 合同编号
	Title           string            `json:"title"`
	ContractType    string            `json:"contract_type,omitempty"`
	Sender          Sender            `json:"sender"`
	Template        *TemplateRef      `json:"template,omitempty"` // nil when sent ad hoc
	Documents       []layout.Document `json:"documents"`
	Parties         []Party           `json:"parties"`
	Fields          []layout.Field    `json:"fields"`
	Values          map[string]string `json:"values,omitempty"` // business field ID -> value
	Sequential      bool              `json:"sequential"`
	SigningDeadline time.Time         `json:"signing_deadline"`
	ExpiresAt       *time.Time        `json:"expires_at,omitempty"` // the contract's own expiry (合同到期)
	CreatedAt       time.Time         `json:"created_at"`
}

// ContractSubmittedForApproval: the sender's enterprise requires approval;
// any one of Approvers may approve or reject.
type ContractSubmittedForApproval struct {
	Approvers   []string  `json:"approvers"`
	SubmittedAt time.Time `json:"submitted_at"`
}

// ContractApproved: an approver let it go out; ContractSent follows.
type ContractApproved struct {
	ApproverID string    `json:"approver_id"`
	ApprovedAt time.Time `json:"approved_at"`
	Approvers  []string  `json:"approvers"` // all it was submitted to: it leaves their lists
}

// ContractApprovalRejected: an approver stopped it; it is never sent.
type ContractApprovalRejected struct {
	ApproverID string    `json:"approver_id"`
	Reason     string    `json:"reason"`
	RejectedAt time.Time `json:"rejected_at"`
	Approvers  []string  `json:"approvers"` // all it was submitted to: it leaves their lists
}

// DocumentHash is a document's SHA-256 at a moment (sending, signing).
type DocumentHash struct {
	DocumentID string `json:"document_id"`
	SHA256     string `json:"sha256"`
}

// Quota names whose free-contract quota sending used.
type Quota struct {
	Kind string `json:"kind"` // "enterprise" or "personal"
	ID   string `json:"id"`   // enterprise or account ID
}

// ContractSent: the documents are frozen (their hashes recorded here) and
// the parties may sign.
type ContractSent struct {
	Documents []DocumentHash `json:"documents"`
	Quota     Quota          `json:"quota"`
	SentBy    string         `json:"sent_by"`
	SentAt    time.Time      `json:"sent_at"`
}

// SealUse is the seal an enterprise party signed with.
type SealUse struct {
	SealID string      `json:"seal_id"`
	Name   string      `json:"name"`
	File   layout.File `json:"file"`
}

// SignatureUse is the signature a person party signed with: the verified
// name typed (and rendered), or an uploaded handwriting image.
type SignatureUse struct {
	Kind string       `json:"kind"` // "typed" or "image"
	Text string       `json:"text,omitempty"`
	File *layout.File `json:"file,omitempty"`
}

// Willingness methods of signing.
const WillingnessSMSCode = "sms_code"

// Willingness is how a signer showed they meant to sign (意愿性校验): the
// method, the channel the code went through and when it was checked.
// Schema v1 of PartySigned stored only the method, as a string.
type Willingness struct {
	Method     string    `json:"method"`
	Channel    string    `json:"channel,omitempty"` // "sms" or "email"; "" when recorded by v1
	VerifiedAt time.Time `json:"verified_at,omitzero"`
}

// PartySigned: a party signed, by whom, with what, proven how, on which
// documents, from where and when.
type PartySigned struct {
	PartyID         string         `json:"party_id"`
	SignerAccountID string         `json:"signer_account_id"`
	SignerName      string         `json:"signer_name"` // verified name of the signing person
	EnterpriseID    string         `json:"enterprise_id,omitempty"`
	Seal            *SealUse       `json:"seal,omitempty"`
	Signature       *SignatureUse  `json:"signature,omitempty"`
	Willingness     Willingness    `json:"willingness"`
	Documents       []DocumentHash `json:"documents"`
	ClientIP        string         `json:"client_ip"`
	SignedAt        time.Time      `json:"signed_at"`
}

// PartyRejected: a party refused to sign (拒签); the contract ends.
type PartyRejected struct {
	PartyID         string    `json:"party_id"`
	SignerAccountID string    `json:"signer_account_id"`
	EnterpriseID    string    `json:"enterprise_id,omitempty"`
	Reason          string    `json:"reason"`
	ClientIP        string    `json:"client_ip"`
	RejectedAt      time.Time `json:"rejected_at"`
}

// ContractRevoked: the sender withdrew it before completion (撤回).
type ContractRevoked struct {
	RevokedBy string    `json:"revoked_by"`
	Reason    string    `json:"reason"`
	RevokedAt time.Time `json:"revoked_at"`
	// Approvers, when it still waited for approval: it leaves their lists.
	Approvers []string `json:"approvers,omitempty"`
}

// ContractExpired: the signing deadline passed before every party signed.
type ContractExpired struct {
	Deadline  time.Time `json:"deadline"`
	ExpiredAt time.Time `json:"expired_at"`
	// Approvers, when it still waited for approval: it leaves their lists.
	Approvers []string `json:"approvers,omitempty"`
}

// ContractCompleted: every party signed and, since sealing exists, the
// final signed documents were produced (ContractSealed, in the same append).
type ContractCompleted struct {
	CompletedAt time.Time `json:"completed_at"`
}

// ContractFullySigned: the last party signed (in the same append as its
// PartySigned); the final documents are due, and until ContractSealed the
// contract is "sealing".
type ContractFullySigned struct {
	SignedAt time.Time `json:"signed_at"`
}

// SealedDocument is a document as finally produced: every seal and
// signature stamped, then digitally signed once per party.
type SealedDocument struct {
	DocumentID string `json:"document_id"`
	Name       string `json:"name"`
	SHA256     string `json:"sha256"`
	Size       int64  `json:"size"`
	Signatures int    `json:"signatures"`
}

// CertificateRef names a signing certificate used on the documents.
type CertificateRef struct {
	Subject string `json:"subject"` // "enterprise-<id>" or "account-<id>"
	PartyID string `json:"party_id"`
	Serial  string `json:"serial"`
	SHA256  string `json:"sha256"` // of the DER certificate
}

// ContractSealed: the final documents exist, stored content-addressed,
// with the certificate of completion and the timestamp tokens.
type ContractSealed struct {
	Documents         []SealedDocument `json:"documents"`
	CertificateSHA256 string           `json:"certificate_sha256"` // certificate of completion (PDF)
	Certificates      []CertificateRef `json:"certificates"`
	Timestamps        []string         `json:"timestamps"` // SHA-256 of each RFC 3161 token, stored as blobs
	Attempt           int              `json:"attempt"`
	SealedAt          time.Time        `json:"sealed_at"`
}

// ContractSealingFailed: producing the final documents failed; the
// contract stays "sealing" and the attempt is retried.
type ContractSealingFailed struct {
	Attempt  int       `json:"attempt"`
	Step     string    `json:"step"`
	Reason   string    `json:"reason"`
	FailedAt time.Time `json:"failed_at"`
	RetryAt  time.Time `json:"retry_at"`
}

// ContractNumberReserved opens "contractno-<number>".
type ContractNumberReserved struct {
	ContractID string    `json:"contract_id"`
	ReservedAt time.Time `json:"reserved_at"`
}

func (ContractCreated) EventType() string              { return TypeContractCreated }
func (ContractSubmittedForApproval) EventType() string { return TypeContractSubmittedForApproval }
func (ContractApproved) EventType() string             { return TypeContractApproved }
func (ContractApprovalRejected) EventType() string     { return TypeContractApprovalRejected }
func (ContractSent) EventType() string                 { return TypeContractSent }
func (PartySigned) EventType() string                  { return TypePartySigned }
func (PartyRejected) EventType() string                { return TypePartyRejected }
func (ContractRevoked) EventType() string              { return TypeContractRevoked }
func (ContractExpired) EventType() string              { return TypeContractExpired }
func (ContractCompleted) EventType() string            { return TypeContractCompleted }
func (ContractNumberReserved) EventType() string       { return TypeContractNumberReserved }
func (ContractFullySigned) EventType() string          { return TypeContractFullySigned }
func (ContractSealed) EventType() string               { return TypeContractSealed }
func (ContractSealingFailed) EventType() string        { return TypeContractSealingFailed }

// ErrUnknownEvent: a stored type (or schema version) this package does not know.
var ErrUnknownEvent = fmt.Errorf("%w: unknown contract event", event.ErrInvalid)

var codec = func() *event.Codec[Event] {
	c := event.NewCodec[Event](ErrUnknownEvent)
	event.Register[ContractCreated](c, TypeContractCreated)
	event.Register[ContractSubmittedForApproval](c, TypeContractSubmittedForApproval)
	event.Register[ContractApproved](c, TypeContractApproved)
	event.Register[ContractApprovalRejected](c, TypeContractApprovalRejected)
	event.Register[ContractSent](c, TypeContractSent)
	event.RegisterVersion[PartySigned](c, TypePartySigned, 2, map[int]func([]byte) (Event, error){1: upcastPartySignedV1})
	event.Register[PartyRejected](c, TypePartyRejected)
	event.Register[ContractRevoked](c, TypeContractRevoked)
	event.Register[ContractExpired](c, TypeContractExpired)
	event.Register[ContractCompleted](c, TypeContractCompleted)
	event.Register[ContractNumberReserved](c, TypeContractNumberReserved)
	event.Register[ContractFullySigned](c, TypeContractFullySigned)
	event.Register[ContractSealed](c, TypeContractSealed)
	event.Register[ContractSealingFailed](c, TypeContractSealingFailed)
	return c
}()

// Has reports whether typ is one of this package's event types.
func Has(typ string) bool { return codec.Has(typ) }

// Encode turns a domain event into its stored type name, schema and JSON.
func Encode(e Event) (typ string, schema int, data []byte, err error) { return codec.Encode(e) }

// DecodeEnvelope decodes a stored event.
func DecodeEnvelope(env event.Envelope) (Event, error) { return codec.DecodeEnvelope(env) }

// NewEvent encodes e as an event to append with the given ID and metadata.
func NewEvent(id string, e Event, meta event.Metadata) (event.New, error) {
	return codec.NewEvent(id, e, meta)
}

// IsUnknownEvent reports whether err says an event type or version is unknown.
func IsUnknownEvent(err error) bool { return codec.IsUnknown(err) }

// upcastPartySignedV1 reads a v1 PartySigned, whose willingness was only
// the method's name; the channel and time were not recorded then.
func upcastPartySignedV1(data []byte) (Event, error) {
	var v1 struct {
		PartySigned
		Willingness string `json:"willingness"`
	}
	if err := json.Unmarshal(data, &v1); err != nil {
		return nil, err
	}
	e := v1.PartySigned
	e.Willingness = Willingness{Method: v1.Willingness}
	return e, nil
}

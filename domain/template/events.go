package template

import (
	"fmt"
	"time"

	"signet/domain/event"
	"signet/domain/layout"
)

// Event is a domain event of this package.
type Event interface{ EventType() string }

// Stored event type names. Never rename one: stored history refers to them.
const (
	TypeTemplateCreated        = "TemplateCreated"
	TypeTemplateDetailsChanged = "TemplateDetailsChanged"
	TypeTemplateDocumentAdded  = "TemplateDocumentAdded"
	TypeTemplateDocumentRemove = "TemplateDocumentRemoved"
	TypeTemplateRoleAdded      = "TemplateRoleAdded"
	TypeTemplateRoleRemoved    = "TemplateRoleRemoved"
	TypeTemplateFieldPlaced    = "TemplateFieldPlaced"
	TypeTemplateFieldRemoved   = "TemplateFieldRemoved"
	TypeTemplateDisabled       = "TemplateDisabled"
	TypeTemplateEnabled        = "TemplateEnabled"
)

// Owner is whose template it is: an enterprise's (visible to its members)
// or one account's (EnterpriseID empty).
type Owner struct {
	EnterpriseID string `json:"enterprise_id,omitempty"`
	AccountID    string `json:"account_id"` // the creator
}

// TemplateCreated opens "template-<id>" (创建模板: 模板名称, 合同类型).
type TemplateCreated struct {
	TemplateID   string    `json:"template_id"`
	Owner        Owner     `json:"owner"`
	Name         string    `json:"name"`
	ContractType string    `json:"contract_type"`
	Sequential   bool      `json:"sequential"` // 顺序签署
	CreatedBy    string    `json:"created_by"`
	CreatedAt    time.Time `json:"created_at"`
}

// TemplateDetailsChanged: name, contract type or signing order changed.
type TemplateDetailsChanged struct {
	Name         string    `json:"name"`
	ContractType string    `json:"contract_type"`
	Sequential   bool      `json:"sequential"`
	ChangedBy    string    `json:"changed_by"`
	ChangedAt    time.Time `json:"changed_at"`
}

// TemplateDocumentAdded: an uploaded PDF or a blank document (预设文档).
type TemplateDocumentAdded struct {
	Document layout.Document `json:"document"`
	AddedBy  string          `json:"added_by"`
	AddedAt  time.Time       `json:"added_at"`
}

// TemplateDocumentRemoved: the document and every field on it are gone.
type TemplateDocumentRemoved struct {
	DocumentID string    `json:"document_id"`
	FieldIDs   []string  `json:"field_ids,omitempty"` // the fields that were on it
	RemovedBy  string    `json:"removed_by"`
	RemovedAt  time.Time `json:"removed_at"`
}

// TemplateRoleAdded: a preset signer role (预置签约方 / 签约角色).
type TemplateRoleAdded struct {
	Role    layout.Role `json:"role"`
	AddedBy string      `json:"added_by"`
	AddedAt time.Time   `json:"added_at"`
}

// TemplateRoleRemoved: the role and its signing fields are gone.
type TemplateRoleRemoved struct {
	RoleID    string    `json:"role_id"`
	FieldIDs  []string  `json:"field_ids,omitempty"` // its signing fields
	RemovedBy string    `json:"removed_by"`
	RemovedAt time.Time `json:"removed_at"`
}

// TemplateFieldPlaced: a seal, signature, date or business field on a page
// (指定签署位置). Placing a field with an existing ID moves or changes it.
type TemplateFieldPlaced struct {
	Field    layout.Field `json:"field"`
	PlacedBy string       `json:"placed_by"`
	PlacedAt time.Time    `json:"placed_at"`
}

// TemplateFieldRemoved: a field is taken off its page.
type TemplateFieldRemoved struct {
	FieldID   string    `json:"field_id"`
	RemovedBy string    `json:"removed_by"`
	RemovedAt time.Time `json:"removed_at"`
}

// TemplateDisabled: no contract can be sent from it until it is enabled.
type TemplateDisabled struct {
	By string    `json:"by"`
	At time.Time `json:"at"`
}

// TemplateEnabled: usable again.
type TemplateEnabled struct {
	By string    `json:"by"`
	At time.Time `json:"at"`
}

func (TemplateCreated) EventType() string         { return TypeTemplateCreated }
func (TemplateDetailsChanged) EventType() string  { return TypeTemplateDetailsChanged }
func (TemplateDocumentAdded) EventType() string   { return TypeTemplateDocumentAdded }
func (TemplateDocumentRemoved) EventType() string { return TypeTemplateDocumentRemove }
func (TemplateRoleAdded) EventType() string       { return TypeTemplateRoleAdded }
func (TemplateRoleRemoved) EventType() string     { return TypeTemplateRoleRemoved }
func (TemplateFieldPlaced) EventType() string     { return TypeTemplateFieldPlaced }
func (TemplateFieldRemoved) EventType() string    { return TypeTemplateFieldRemoved }
func (TemplateDisabled) EventType() string        { return TypeTemplateDisabled }
func (TemplateEnabled) EventType() string         { return TypeTemplateEnabled }

// ErrUnknownEvent: a stored type (or schema version) this package does not know.
var ErrUnknownEvent = fmt.Errorf("%w: unknown template event", event.ErrInvalid)

var codec = func() *event.Codec[Event] {
	c := event.NewCodec[Event](ErrUnknownEvent)
	event.Register[TemplateCreated](c, TypeTemplateCreated)
	event.Register[TemplateDetailsChanged](c, TypeTemplateDetailsChanged)
	event.Register[TemplateDocumentAdded](c, TypeTemplateDocumentAdded)
	event.Register[TemplateDocumentRemoved](c, TypeTemplateDocumentRemove)
	event.Register[TemplateRoleAdded](c, TypeTemplateRoleAdded)
	event.Register[TemplateRoleRemoved](c, TypeTemplateRoleRemoved)
	event.Register[TemplateFieldPlaced](c, TypeTemplateFieldPlaced)
	event.Register[TemplateFieldRemoved](c, TypeTemplateFieldRemoved)
	event.Register[TemplateDisabled](c, TypeTemplateDisabled)
	event.Register[TemplateEnabled](c, TypeTemplateEnabled)
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

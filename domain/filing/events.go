package filing

import (
	"fmt"
	"time"

	"signet/domain/event"
)

// Event is a domain event of this package.
type Event interface{ EventType() string }

// Stored event type names. Never rename one: stored history refers to them.
const (
	// "desk-<account ID>"
	TypeFolderCreated        = "FolderCreated"
	TypeFolderRenamed        = "FolderRenamed"
	TypeFolderDeleted        = "FolderDeleted"
	TypeContractFiled        = "ContractFiled"
	TypeContractUnfiled      = "ContractUnfiled"
	TypeContractArchived     = "ContractArchived"
	TypeContractUnarchived   = "ContractUnarchived"
	TypeContractTrashed      = "ContractTrashed"
	TypeContractRestored     = "ContractRestored"
	TypeContractDeletedForMe = "ContractDeletedForMe"

	// "tags-<enterprise ID>"
	TypeTagDefined       = "TagDefined"
	TypeTagRemoved       = "TagRemoved"
	TypeContractTagged   = "ContractTagged"
	TypeContractUntagged = "ContractUntagged"
)

// FolderCreated: a new folder on the desk.
type FolderCreated struct {
	FolderID  string    `json:"folder_id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// FolderRenamed: the folder keeps its contracts under a new name.
type FolderRenamed struct {
	FolderID  string    `json:"folder_id"`
	Name      string    `json:"name"`
	RenamedAt time.Time `json:"renamed_at"`
}

// FolderDeleted: the folder is gone; its contracts are in no folder.
type FolderDeleted struct {
	FolderID  string    `json:"folder_id"`
	DeletedAt time.Time `json:"deleted_at"`
}

// ContractFiled: the contract is in the folder, and in no other; From is
// the folder it left ("" when it was in none).
type ContractFiled struct {
	ContractID string    `json:"contract_id"`
	FolderID   string    `json:"folder_id"`
	From       string    `json:"from,omitempty"`
	FiledAt    time.Time `json:"filed_at"`
}

// ContractUnfiled: the contract left its folder.
type ContractUnfiled struct {
	ContractID string    `json:"contract_id"`
	FolderID   string    `json:"folder_id"`
	UnfiledAt  time.Time `json:"unfiled_at"`
}

// ContractArchived: the contract leaves the owner's lists for the archive.
type ContractArchived struct {
	ContractID string    `json:"contract_id"`
	ArchivedAt time.Time `json:"archived_at"`
}

// ContractUnarchived: back from the archive.
type ContractUnarchived struct {
	ContractID   string    `json:"contract_id"`
	UnarchivedAt time.Time `json:"unarchived_at"`
}

// ContractTrashed: the contract is in the owner's recycle bin (回收站).
type ContractTrashed struct {
	ContractID string    `json:"contract_id"`
	TrashedAt  time.Time `json:"trashed_at"`
}

// ContractRestored: back from the recycle bin, where it was before.
type ContractRestored struct {
	ContractID string    `json:"contract_id"`
	RestoredAt time.Time `json:"restored_at"`
}

// ContractDeletedForMe: gone from the owner's views for good (its folder,
// FolderID, and the archive too). The contract itself and everyone else's
// views are untouched.
type ContractDeletedForMe struct {
	ContractID string    `json:"contract_id"`
	FolderID   string    `json:"folder_id,omitempty"`
	DeletedAt  time.Time `json:"deleted_at"`
}

// TagDefined: the enterprise has a new tag.
type TagDefined struct {
	TagID     string    `json:"tag_id"`
	Name      string    `json:"name"`
	Color     string    `json:"color,omitempty"` // "#RRGGBB"
	DefinedBy string    `json:"defined_by"`
	DefinedAt time.Time `json:"defined_at"`
}

// TagRemoved: the tag is gone, and from every contract it was on.
type TagRemoved struct {
	TagID     string    `json:"tag_id"`
	RemovedBy string    `json:"removed_by"`
	RemovedAt time.Time `json:"removed_at"`
}

// ContractTagged: the tag is on the contract.
type ContractTagged struct {
	ContractID string    `json:"contract_id"`
	TagID      string    `json:"tag_id"`
	TaggedBy   string    `json:"tagged_by"`
	TaggedAt   time.Time `json:"tagged_at"`
}

// ContractUntagged: the tag is off the contract.
type ContractUntagged struct {
	ContractID string    `json:"contract_id"`
	TagID      string    `json:"tag_id"`
	UntaggedBy string    `json:"untagged_by"`
	UntaggedAt time.Time `json:"untagged_at"`
}

func (FolderCreated) EventType() string        { return TypeFolderCreated }
func (FolderRenamed) EventType() string        { return TypeFolderRenamed }
func (FolderDeleted) EventType() string        { return TypeFolderDeleted }
func (ContractFiled) EventType() string        { return TypeContractFiled }
func (ContractUnfiled) EventType() string      { return TypeContractUnfiled }
func (ContractArchived) EventType() string     { return TypeContractArchived }
func (ContractUnarchived) EventType() string   { return TypeContractUnarchived }
func (ContractTrashed) EventType() string      { return TypeContractTrashed }
func (ContractRestored) EventType() string     { return TypeContractRestored }
func (ContractDeletedForMe) EventType() string { return TypeContractDeletedForMe }
func (TagDefined) EventType() string           { return TypeTagDefined }
func (TagRemoved) EventType() string           { return TypeTagRemoved }
func (ContractTagged) EventType() string       { return TypeContractTagged }
func (ContractUntagged) EventType() string     { return TypeContractUntagged }

// ErrUnknownEvent: a stored type (or schema version) this package does not know.
var ErrUnknownEvent = fmt.Errorf("%w: unknown filing event", event.ErrInvalid)

var codec = func() *event.Codec[Event] {
	c := event.NewCodec[Event](ErrUnknownEvent)
	event.Register[FolderCreated](c, TypeFolderCreated)
	event.Register[FolderRenamed](c, TypeFolderRenamed)
	event.Register[FolderDeleted](c, TypeFolderDeleted)
	event.Register[ContractFiled](c, TypeContractFiled)
	event.Register[ContractUnfiled](c, TypeContractUnfiled)
	event.Register[ContractArchived](c, TypeContractArchived)
	event.Register[ContractUnarchived](c, TypeContractUnarchived)
	event.Register[ContractTrashed](c, TypeContractTrashed)
	event.Register[ContractRestored](c, TypeContractRestored)
	event.Register[ContractDeletedForMe](c, TypeContractDeletedForMe)
	event.Register[TagDefined](c, TypeTagDefined)
	event.Register[TagRemoved](c, TypeTagRemoved)
	event.Register[ContractTagged](c, TypeContractTagged)
	event.Register[ContractUntagged](c, TypeContractUntagged)
	return c
}()

// Has reports whether typ is one of this package's event types.
func Has(typ string) bool { return codec.Has(typ) }

// DecodeEnvelope decodes a stored event.
func DecodeEnvelope(env event.Envelope) (Event, error) { return codec.DecodeEnvelope(env) }

// NewEvent encodes e as an event to append with the given ID and metadata.
func NewEvent(id string, e Event, meta event.Metadata) (event.New, error) {
	return codec.NewEvent(id, e, meta)
}

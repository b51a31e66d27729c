// Package filing is how people keep the contracts they see (seed section
// 合同管理): each account's desk of folders, archive and recycle bin
// ("desk-<account ID>"), and each enterprise's tags ("tags-<enterprise
// ID>"). Filing changes only its owner's views: never a contract, nor
// anyone else's lists.
//
// The streams are their own, not the account's or the enterprise's: a desk
// grows with every contract filed, and loading an account (every login)
// or an enterprise should not replay it.
package filing

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"signet/domain/event"
	"signet/domain/fault"
)

// Stream categories.
const (
	DeskCategory = "desk"
	TagsCategory = "tags"
)

// DeskStream names an account's desk.
func DeskStream(accountID string) string { return event.StreamName(DeskCategory, accountID) }

// TagsStream names an enterprise's tags.
func TagsStream(enterpriseID string) string { return event.StreamName(TagsCategory, enterpriseID) }

// Limits.
const (
	MaxFolders   = 200
	MaxTags      = 100
	MaxNameRunes = 50
)

func ts(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// Desk is an account's folders, archive and recycle bin.
type Desk struct {
	version  uint64
	folders  map[string]string // folder ID -> name
	filed    map[string]string // contract ID -> folder ID
	archived map[string]bool
	trashed  map[string]bool
	deleted  map[string]bool
}

// NewDesk is an empty desk.
func NewDesk() *Desk {
	return &Desk{folders: map[string]string{}, filed: map[string]string{}, archived: map[string]bool{},
		trashed: map[string]bool{}, deleted: map[string]bool{}}
}

// Version is the desk stream's version.
func (d *Desk) Version() uint64 { return d.version }

// Folders maps folder IDs to names.
func (d *Desk) Folders() map[string]string {
	out := make(map[string]string, len(d.folders))
	for k, v := range d.folders {
		out[k] = v
	}
	return out
}

// FolderOf is the folder a contract is in ("" for none).
func (d *Desk) FolderOf(contractID string) string { return d.filed[contractID] }

// Archived, Trashed and Deleted say where a contract is on the desk.
func (d *Desk) Archived(contractID string) bool { return d.archived[contractID] }
func (d *Desk) Trashed(contractID string) bool  { return d.trashed[contractID] }
func (d *Desk) Deleted(contractID string) bool  { return d.deleted[contractID] }

// Apply mutates the desk by one event.
func (d *Desk) Apply(e Event) error {
	switch e := e.(type) {
	case FolderCreated:
		d.folders[e.FolderID] = e.Name
	case FolderRenamed:
		d.folders[e.FolderID] = e.Name
	case FolderDeleted:
		delete(d.folders, e.FolderID)
		for c, f := range d.filed {
			if f == e.FolderID {
				delete(d.filed, c)
			}
		}
	case ContractFiled:
		d.filed[e.ContractID] = e.FolderID
	case ContractUnfiled:
		delete(d.filed, e.ContractID)
	case ContractArchived:
		d.archived[e.ContractID] = true
	case ContractUnarchived:
		delete(d.archived, e.ContractID)
	case ContractTrashed:
		d.trashed[e.ContractID] = true
	case ContractRestored:
		delete(d.trashed, e.ContractID)
	case ContractDeletedForMe:
		delete(d.trashed, e.ContractID)
		delete(d.archived, e.ContractID)
		delete(d.filed, e.ContractID)
		d.deleted[e.ContractID] = true
	default:
		return fmt.Errorf("%w: %s is not an event of a desk", event.ErrInvalid, e.EventType())
	}
	d.version++
	return nil
}

// ReplayDesk rebuilds a desk from its stream.
func ReplayDesk(envs []event.Envelope) (*Desk, error) {
	d := NewDesk()
	for _, env := range envs {
		e, err := DecodeEnvelope(env)
		if err != nil {
			return nil, fmt.Errorf("%s@%d: %w", env.Stream, env.Version, err)
		}
		if err := d.Apply(e); err != nil {
			return nil, fmt.Errorf("%s@%d: %w", env.Stream, env.Version, err)
		}
	}
	return d, nil
}

var (
	errFolderNotFound  = fault.New(fault.NotFound, "folder_not_found", "There is no such folder on your desk.")
	errDeletedForMe    = fault.New(fault.NotFound, "contract_deleted", "You deleted this contract from your views for good.")
	errTooManyFolders  = fault.New(fault.Rule, "too_many_folders", fmt.Sprintf("A desk has at most %d folders.", MaxFolders))
	errNotInTrash      = fault.New(fault.Rule, "not_in_trash", "Only a contract in your recycle bin can be deleted for good; move it to the recycle bin first.")
	errArchiveFromBin  = fault.New(fault.Rule, "in_trash", "This contract is in your recycle bin; restore it before archiving or filing it.")
	errTagNotFound     = fault.New(fault.NotFound, "tag_not_found", "The enterprise has no such tag.")
	errTooManyTags     = fault.New(fault.Rule, "too_many_tags", fmt.Sprintf("An enterprise has at most %d tags.", MaxTags))
	errMissingID       = fmt.Errorf("filing: missing ID")
	errMissingContract = fmt.Errorf("filing: missing contract ID")
)

// CheckName trims a folder or tag name and checks it: 1 to 50 characters
// that can be shown, and no phone or ID number (a run of 11 or more digits,
// spaces and dashes between them allowed), which would otherwise reach
// the read models in full.
func CheckName(field, name string) (string, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return "", fault.Invalidf(field, "missing_name", "Give a name.")
	case !utf8.ValidString(name) || strings.IndexFunc(name, unicode.IsControl) >= 0:
		return "", fault.Invalidf(field, "invalid_name", "The name has characters that cannot be shown.")
	case utf8.RuneCountInString(name) > MaxNameRunes:
		return "", fault.Invalidf(field, "invalid_name", "A name is at most %d characters long.", MaxNameRunes)
	case longDigitRun(name):
		return "", fault.Invalidf(field, "invalid_name", "A name cannot hold a phone or ID number.")
	}
	return name, nil
}

func longDigitRun(s string) bool {
	run := 0
	prevDigit := false
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9' || r >= '０' && r <= '９':
			run++
			prevDigit = true
			if run >= 11 {
				return true
			}
		case (r == ' ' || r == '-') && prevDigit:
			prevDigit = false
		default:
			run, prevDigit = 0, false
		}
	}
	return false
}

func (d *Desk) nameTaken(name, except string) bool {
	for id, n := range d.folders {
		if id != except && strings.EqualFold(n, name) {
			return true
		}
	}
	return false
}

// CreateFolder adds a folder named name under a new ID.
func (d *Desk) CreateFolder(id, name string, now time.Time) ([]Event, error) {
	if id == "" {
		return nil, errMissingID
	}
	name, err := CheckName("name", name)
	if err != nil {
		return nil, err
	}
	if _, dup := d.folders[id]; dup {
		return nil, fault.New(fault.Conflict, "folder_exists", "This folder exists already.")
	}
	if len(d.folders) >= MaxFolders {
		return nil, errTooManyFolders
	}
	if d.nameTaken(name, "") {
		return nil, fault.New(fault.Conflict, "duplicate_folder", "You have a folder named "+name+" already.").OnField("name")
	}
	return []Event{FolderCreated{FolderID: id, Name: name, CreatedAt: ts(now)}}, nil
}

// RenameFolder renames a folder; the same name again changes nothing.
func (d *Desk) RenameFolder(id, name string, now time.Time) ([]Event, error) {
	old, ok := d.folders[id]
	if !ok {
		return nil, errFolderNotFound
	}
	name, err := CheckName("name", name)
	if err != nil {
		return nil, err
	}
	if name == old {
		return nil, nil
	}
	if d.nameTaken(name, id) {
		return nil, fault.New(fault.Conflict, "duplicate_folder", "You have a folder named "+name+" already.").OnField("name")
	}
	return []Event{FolderRenamed{FolderID: id, Name: name, RenamedAt: ts(now)}}, nil
}

// DeleteFolder removes a folder; its contracts stay, in no folder.
func (d *Desk) DeleteFolder(id string, now time.Time) ([]Event, error) {
	if _, ok := d.folders[id]; !ok {
		return nil, errFolderNotFound
	}
	return []Event{FolderDeleted{FolderID: id, DeletedAt: ts(now)}}, nil
}

func (d *Desk) usable(contractID string) error {
	if contractID == "" {
		return errMissingContract
	}
	if d.deleted[contractID] {
		return errDeletedForMe
	}
	return nil
}

// File puts a contract in a folder (moving it out of any other); filing
// it where it is changes nothing.
func (d *Desk) File(contractID, folderID string, now time.Time) ([]Event, error) {
	if err := d.usable(contractID); err != nil {
		return nil, err
	}
	if _, ok := d.folders[folderID]; !ok {
		return nil, errFolderNotFound
	}
	if d.trashed[contractID] {
		return nil, errArchiveFromBin
	}
	from := d.filed[contractID]
	if from == folderID {
		return nil, nil
	}
	return []Event{ContractFiled{ContractID: contractID, FolderID: folderID, From: from, FiledAt: ts(now)}}, nil
}

// Unfile takes a contract out of a folder; one not in it changes nothing.
func (d *Desk) Unfile(contractID, folderID string, now time.Time) ([]Event, error) {
	if err := d.usable(contractID); err != nil {
		return nil, err
	}
	if _, ok := d.folders[folderID]; !ok {
		return nil, errFolderNotFound
	}
	if d.filed[contractID] != folderID {
		return nil, nil
	}
	return []Event{ContractUnfiled{ContractID: contractID, FolderID: folderID, UnfiledAt: ts(now)}}, nil
}

// Archive moves a contract to the archive (once).
func (d *Desk) Archive(contractID string, now time.Time) ([]Event, error) {
	if err := d.usable(contractID); err != nil {
		return nil, err
	}
	if d.trashed[contractID] {
		return nil, errArchiveFromBin
	}
	if d.archived[contractID] {
		return nil, nil
	}
	return []Event{ContractArchived{ContractID: contractID, ArchivedAt: ts(now)}}, nil
}

// Unarchive brings a contract back from the archive.
func (d *Desk) Unarchive(contractID string, now time.Time) ([]Event, error) {
	if err := d.usable(contractID); err != nil {
		return nil, err
	}
	if !d.archived[contractID] {
		return nil, nil
	}
	return []Event{ContractUnarchived{ContractID: contractID, UnarchivedAt: ts(now)}}, nil
}

// Trash moves a contract to the recycle bin (once).
func (d *Desk) Trash(contractID string, now time.Time) ([]Event, error) {
	if err := d.usable(contractID); err != nil {
		return nil, err
	}
	if d.trashed[contractID] {
		return nil, nil
	}
	return []Event{ContractTrashed{ContractID: contractID, TrashedAt: ts(now)}}, nil
}

// Restore brings a contract back from the recycle bin.
func (d *Desk) Restore(contractID string, now time.Time) ([]Event, error) {
	if err := d.usable(contractID); err != nil {
		return nil, err
	}
	if !d.trashed[contractID] {
		return nil, nil
	}
	return []Event{ContractRestored{ContractID: contractID, RestoredAt: ts(now)}}, nil
}

// DeleteForMe removes a contract in the recycle bin from the owner's
// views for good.
func (d *Desk) DeleteForMe(contractID string, now time.Time) ([]Event, error) {
	if err := d.usable(contractID); err != nil {
		return nil, err
	}
	if !d.trashed[contractID] {
		return nil, errNotInTrash
	}
	return []Event{ContractDeletedForMe{ContractID: contractID, FolderID: d.filed[contractID], DeletedAt: ts(now)}}, nil
}

// Tag is an enterprise's tag.
type Tag struct {
	ID    string
	Name  string
	Color string
}

// Tags are an enterprise's tags and the contracts they are on.
type Tags struct {
	version uint64
	tags    map[string]Tag
	on      map[string]map[string]bool // tag ID -> contract IDs
}

// NewTags is an enterprise without tags.
func NewTags() *Tags { return &Tags{tags: map[string]Tag{}, on: map[string]map[string]bool{}} }

// Version is the tags stream's version.
func (t *Tags) Version() uint64 { return t.version }

// Tag finds a tag by ID.
func (t *Tags) Tag(id string) (Tag, bool) { g, ok := t.tags[id]; return g, ok }

// Apply mutates the tags by one event.
func (t *Tags) Apply(e Event) error {
	switch e := e.(type) {
	case TagDefined:
		t.tags[e.TagID] = Tag{ID: e.TagID, Name: e.Name, Color: e.Color}
		t.on[e.TagID] = map[string]bool{}
	case TagRemoved:
		delete(t.tags, e.TagID)
		delete(t.on, e.TagID)
	case ContractTagged:
		if t.on[e.TagID] == nil {
			t.on[e.TagID] = map[string]bool{}
		}
		t.on[e.TagID][e.ContractID] = true
	case ContractUntagged:
		delete(t.on[e.TagID], e.ContractID)
	default:
		return fmt.Errorf("%w: %s is not an event of an enterprise's tags", event.ErrInvalid, e.EventType())
	}
	t.version++
	return nil
}

// ReplayTags rebuilds an enterprise's tags from their stream.
func ReplayTags(envs []event.Envelope) (*Tags, error) {
	t := NewTags()
	for _, env := range envs {
		e, err := DecodeEnvelope(env)
		if err != nil {
			return nil, fmt.Errorf("%s@%d: %w", env.Stream, env.Version, err)
		}
		if err := t.Apply(e); err != nil {
			return nil, fmt.Errorf("%s@%d: %w", env.Stream, env.Version, err)
		}
	}
	return t, nil
}

// CheckColor accepts "" (no color) or "#RRGGBB", answered in upper case.
func CheckColor(c string) (string, error) {
	c = strings.TrimSpace(c)
	if c == "" {
		return "", nil
	}
	bad := len(c) != 7 || c[0] != '#'
	for i := 1; !bad && i < len(c); i++ {
		x := c[i]
		bad = !('0' <= x && x <= '9' || 'a' <= x && x <= 'f' || 'A' <= x && x <= 'F')
	}
	if bad {
		return "", fault.Invalidf("color", "invalid_color", "A color is written #RRGGBB, e.g. #1E90FF.")
	}
	return strings.ToUpper(c), nil
}

// Define adds a tag.
func (t *Tags) Define(id, name, color, by string, now time.Time) ([]Event, error) {
	if id == "" {
		return nil, errMissingID
	}
	name, err := CheckName("name", name)
	if err != nil {
		return nil, err
	}
	if color, err = CheckColor(color); err != nil {
		return nil, err
	}
	if _, dup := t.tags[id]; dup {
		return nil, fault.New(fault.Conflict, "tag_exists", "This tag exists already.")
	}
	if len(t.tags) >= MaxTags {
		return nil, errTooManyTags
	}
	for _, g := range t.tags {
		if strings.EqualFold(g.Name, name) {
			return nil, fault.New(fault.Conflict, "duplicate_tag", "The enterprise has a tag named "+name+" already.").OnField("name")
		}
	}
	return []Event{TagDefined{TagID: id, Name: name, Color: color, DefinedBy: by, DefinedAt: ts(now)}}, nil
}

// Remove deletes a tag, and takes it off every contract.
func (t *Tags) Remove(id, by string, now time.Time) ([]Event, error) {
	if _, ok := t.tags[id]; !ok {
		return nil, errTagNotFound
	}
	return []Event{TagRemoved{TagID: id, RemovedBy: by, RemovedAt: ts(now)}}, nil
}

// TagContract puts a tag on a contract (once).
func (t *Tags) TagContract(contractID, tagID, by string, now time.Time) ([]Event, error) {
	if contractID == "" {
		return nil, errMissingContract
	}
	if _, ok := t.tags[tagID]; !ok {
		return nil, errTagNotFound
	}
	if t.on[tagID][contractID] {
		return nil, nil
	}
	return []Event{ContractTagged{ContractID: contractID, TagID: tagID, TaggedBy: by, TaggedAt: ts(now)}}, nil
}

// UntagContract takes a tag off a contract.
func (t *Tags) UntagContract(contractID, tagID, by string, now time.Time) ([]Event, error) {
	if contractID == "" {
		return nil, errMissingContract
	}
	if _, ok := t.tags[tagID]; !ok {
		return nil, errTagNotFound
	}
	if !t.on[tagID][contractID] {
		return nil, nil
	}
	return []Event{ContractUntagged{ContractID: contractID, TagID: tagID, UntaggedBy: by, UntaggedAt: ts(now)}}, nil
}

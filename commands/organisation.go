package commands

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"signet/domain/contract"
	"signet/domain/enterprise"
	"signet/domain/event"
	"signet/domain/fault"
	"signet/domain/filing"
	"signet/domain/layout"
)

// OrganisationCommands keep the contracts people see (seed 合同管理): each
// account's folders, archive and recycle bin, and each enterprise's tags.
// None of them changes a contract or anyone else's view.
type OrganisationCommands struct {
	CreateFolder Handler[CreateFolder, FolderResult]
	RenameFolder Handler[RenameFolder, Written]
	DeleteFolder Handler[DeleteFolder, Written]
	File         Handler[FileContract, Written]
	Unfile       Handler[FileContract, Written]
	Archive      Handler[DeskMove, Written]
	Unarchive    Handler[DeskMove, Written]
	Trash        Handler[DeskMove, Written]
	Restore      Handler[DeskMove, Written]
	DeleteForMe  Handler[DeskMove, Written]

	DefineTag Handler[DefineTag, TagResult]
	RemoveTag Handler[RemoveTag, Written]
	Tag       Handler[TagContract, Written]
	Untag     Handler[TagContract, Written]
}

type organisation struct {
	events EventStore
	ids    IDs
	clock  Clock
}

func newOrganisationCommands(d Deps) OrganisationCommands {
	o := &organisation{events: d.Events, ids: d.IDs, clock: d.Clock}
	move := func(decide func(*filing.Desk, string, time.Time) ([]filing.Event, error), check bool) Handler[DeskMove, Written] {
		return decorate(d, func(ctx context.Context, cmd DeskMove) (Written, error) { return o.move(ctx, cmd, decide, check) })
	}
	return OrganisationCommands{
		CreateFolder: decorate(d, o.createFolder),
		RenameFolder: decorate(d, o.renameFolder),
		DeleteFolder: decorate(d, o.deleteFolder),
		File:         decorate(d, o.file),
		Unfile:       decorate(d, o.unfile),
		// Taking a contract out of the archive or the bin, or deleting it
		// from the bin, only undoes what was allowed when it went in.
		Archive:     move((*filing.Desk).Archive, true),
		Unarchive:   move((*filing.Desk).Unarchive, false),
		Trash:       move((*filing.Desk).Trash, true),
		Restore:     move((*filing.Desk).Restore, false),
		DeleteForMe: move((*filing.Desk).DeleteForMe, false),

		DefineTag: decorate(d, o.defineTag),
		RemoveTag: decorate(d, o.removeTag),
		Tag:       decorate(d, o.tag),
		Untag:     decorate(d, o.untag),
	}
}

// FolderResult names a new folder.
type FolderResult struct {
	FolderID string
	Written
}

// TagResult names a new tag.
type TagResult struct {
	TagID string
	Written
}

// CreateFolder adds a folder to the caller's desk.
type CreateFolder struct {
	Actor Actor
	Name  string
}

// RenameFolder renames one of the caller's folders.
type RenameFolder struct {
	Actor    Actor
	FolderID string
	Name     string
}

// DeleteFolder removes one of the caller's folders; its contracts stay.
type DeleteFolder struct {
	Actor    Actor
	FolderID string
}

// FileContract puts a contract the caller sees in (or takes it out of) one
// of their folders. EnterpriseID, when the caller sees the contract as a
// member of an enterprise party that has not signed yet, names that
// enterprise.
type FileContract struct {
	Actor        Actor
	FolderID     string
	ContractID   string
	EnterpriseID string
}

// DeskMove moves a contract the caller sees to or from their archive or
// recycle bin, or deletes it from the bin for good (for them only).
// EnterpriseID as in FileContract.
type DeskMove struct {
	Actor        Actor
	ContractID   string
	EnterpriseID string
}

// DefineTag adds a tag to an enterprise (its administrators only).
type DefineTag struct {
	Actor        Actor
	EnterpriseID string
	Name         string
	Color        string
}

// RemoveTag removes an enterprise's tag, from every contract too.
type RemoveTag struct {
	Actor        Actor
	EnterpriseID string
	TagID        string
}

// TagContract puts an enterprise's tag on (or takes it off) a contract the
// enterprise sent or is a party to.
type TagContract struct {
	Actor        Actor
	EnterpriseID string
	TagID        string
	ContractID   string
}

var (
	errFolderNotFound = fault.New(fault.NotFound, "folder_not_found", "There is no such folder on your desk.")
	errTagNotFound    = fault.New(fault.NotFound, "tag_not_found", "The enterprise has no such tag.")
	errNotAParty      = fault.New(fault.Forbidden, "not_a_party",
		"Only the contract's sender (and the administrators of the sending enterprise), its parties, approvers and signers may keep it; "+
			"a member of an enterprise party says which enterprise (enterprise_id).")
	errNotTagAdmin     = fault.New(fault.Forbidden, "not_enterprise_admin", "Only the enterprise's administrators may change its tags.")
	errNotTheirs       = fault.New(fault.Forbidden, "not_enterprise_contract", "The enterprise neither sent this contract nor is a party to it.")
	errNotEntityMember = fault.New(fault.Forbidden, "not_enterprise_member", "You are not a member of this enterprise.")
)

// desk runs a decision on the caller's desk and appends its events, again
// after a concurrent change.
func (o *organisation) desk(ctx context.Context, a Actor, decide func(d *filing.Desk, now time.Time) ([]filing.Event, error)) (uint64, error) {
	if !validID(a.AccountID) {
		return 0, fault.New(fault.Unauthorized, "unauthenticated", "Log in first.")
	}
	stream := filing.DeskStream(a.AccountID)
	return retry(func() (uint64, error) {
		envs, err := o.events.ReadStream(ctx, stream, 1, event.Forwards, 0)
		if err != nil && !errors.Is(err, event.ErrNotFound) {
			return 0, storeErr("read desk", err)
		}
		d, err := filing.ReplayDesk(envs)
		if err != nil {
			return 0, err
		}
		now := o.clock.Now()
		evs, err := decide(d, now)
		if err != nil || len(evs) == 0 {
			return 0, err
		}
		return appendEvents(ctx, o.events, o.ids, stream, event.Exactly(d.Version()), filing.NewEvent, evs, a.meta(now, ""))
	})
}

func (o *organisation) createFolder(ctx context.Context, cmd CreateFolder) (FolderResult, error) {
	id := o.ids.NewID()
	pos, err := o.desk(ctx, cmd.Actor, func(d *filing.Desk, now time.Time) ([]filing.Event, error) {
		return d.CreateFolder(id, cmd.Name, now)
	})
	if err != nil {
		return FolderResult{}, err
	}
	return FolderResult{FolderID: id, Written: Written{pos}}, nil
}

func (o *organisation) renameFolder(ctx context.Context, cmd RenameFolder) (Written, error) {
	if !validID(cmd.FolderID) {
		return Written{}, errFolderNotFound
	}
	pos, err := o.desk(ctx, cmd.Actor, func(d *filing.Desk, now time.Time) ([]filing.Event, error) {
		return d.RenameFolder(cmd.FolderID, cmd.Name, now)
	})
	return Written{pos}, err
}

func (o *organisation) deleteFolder(ctx context.Context, cmd DeleteFolder) (Written, error) {
	if !validID(cmd.FolderID) {
		return Written{}, errFolderNotFound
	}
	pos, err := o.desk(ctx, cmd.Actor, func(d *filing.Desk, now time.Time) ([]filing.Event, error) {
		return d.DeleteFolder(cmd.FolderID, now)
	})
	return Written{pos}, err
}

func (o *organisation) file(ctx context.Context, cmd FileContract) (Written, error) {
	if !validID(cmd.FolderID) {
		return Written{}, errFolderNotFound
	}
	if err := o.maySee(ctx, cmd.ContractID, cmd.Actor.AccountID, cmd.EnterpriseID); err != nil {
		return Written{}, err
	}
	pos, err := o.desk(ctx, cmd.Actor, func(d *filing.Desk, now time.Time) ([]filing.Event, error) {
		return d.File(cmd.ContractID, cmd.FolderID, now)
	})
	return Written{pos}, err
}

func (o *organisation) unfile(ctx context.Context, cmd FileContract) (Written, error) {
	if !validID(cmd.FolderID) {
		return Written{}, errFolderNotFound
	}
	if !validID(cmd.ContractID) {
		return Written{}, errContractNotFound
	}
	pos, err := o.desk(ctx, cmd.Actor, func(d *filing.Desk, now time.Time) ([]filing.Event, error) {
		return d.Unfile(cmd.ContractID, cmd.FolderID, now)
	})
	return Written{pos}, err
}

func (o *organisation) move(ctx context.Context, cmd DeskMove, decide func(*filing.Desk, string, time.Time) ([]filing.Event, error), check bool) (Written, error) {
	if !validID(cmd.ContractID) {
		return Written{}, errContractNotFound
	}
	if check {
		if err := o.maySee(ctx, cmd.ContractID, cmd.Actor.AccountID, cmd.EnterpriseID); err != nil {
			return Written{}, err
		}
	}
	pos, err := o.desk(ctx, cmd.Actor, func(d *filing.Desk, now time.Time) ([]filing.Event, error) {
		return decide(d, cmd.ContractID, now)
	})
	return Written{pos}, err
}

func (o *organisation) loadContract(ctx context.Context, id string) (*contract.Contract, error) {
	return (&contracts{events: o.events}).load(ctx, id)
}

func (o *organisation) loadEnterprise(ctx context.Context, id string) (*enterprise.Enterprise, error) {
	return enterprises{events: o.events, ids: o.ids}.load(ctx, id)
}

// maySee says whether the account sees the contract, as the read side's
// access rule does: its sender and the administrators of the sending
// enterprise, its approvers and those who signed or refused for a party,
// and once it is sent, a person party by login and the members of an
// enterprise party (the enterprise a signature names, or via).
func (o *organisation) maySee(ctx context.Context, contractID, accountID, via string) error {
	k, err := o.loadContract(ctx, contractID)
	if err != nil {
		return err
	}
	s := k.Sender()
	if s.AccountID == accountID || slices.Contains(k.Approvers(), accountID) {
		return nil
	}
	for _, sg := range k.SignedOrder() {
		if sg.SignerAccountID == accountID {
			return nil
		}
	}
	if r, ok := k.Rejection(); ok && r.SignerAccountID == accountID {
		return nil
	}
	candidates := map[string]bool{}
	if s.EnterpriseID != "" {
		candidates[s.EnterpriseID] = true
	}
	if _, sent := k.Sent(); sent {
		a, err := loadAccount(ctx, o.events, accountID)
		if err != nil && !isNotFound(err) {
			return err
		}
		for _, p := range k.Created().Parties {
			if p.Kind == layout.Person && a != nil && p.Contact.Value == a.Login().String() {
				return nil
			}
			if sg, ok := k.Signature(p.ID); ok && sg.EnterpriseID != "" {
				candidates[sg.EnterpriseID] = true
			}
		}
		if via != "" {
			candidates[via] = true
		}
	}
	for eid := range candidates {
		if !validID(eid) {
			continue
		}
		e, err := o.loadEnterprise(ctx, eid)
		if isNotFound(err) {
			continue
		}
		if err != nil {
			return err
		}
		role := e.RoleOf(accountID)
		if eid == s.EnterpriseID && (role == enterprise.MasterAdmin || role == enterprise.Admin) {
			return nil
		}
		if role != "" && e.Verified() && partyNamed(k, e.Verification().Name) {
			return nil
		}
	}
	return errNotAParty
}

// partyNamed reports whether the sent contract has an enterprise party of
// that verified name.
func partyNamed(k *contract.Contract, name string) bool {
	if _, sent := k.Sent(); !sent || name == "" {
		return false
	}
	return slices.ContainsFunc(k.Created().Parties, func(p contract.Party) bool {
		return p.Kind == layout.Enterprise && strings.TrimSpace(p.EnterpriseName) == name
	})
}

func isNotFound(err error) bool {
	f, ok := fault.As(err)
	return ok && f.Kind == fault.NotFound
}

// tags runs a decision of an administrator on the enterprise's tags.
func (o *organisation) tags(ctx context.Context, a Actor, eid string, decide func(e *enterprise.Enterprise, t *filing.Tags, now time.Time) ([]filing.Event, error)) (uint64, error) {
	e, err := o.loadEnterprise(ctx, eid)
	if err != nil {
		return 0, err
	}
	switch e.RoleOf(a.AccountID) {
	case enterprise.MasterAdmin, enterprise.Admin:
	case "":
		return 0, errNotEntityMember
	default:
		return 0, errNotTagAdmin
	}
	if !e.Verified() {
		return 0, enterprise.ErrNotVerifiedYet
	}
	stream := filing.TagsStream(eid)
	return retry(func() (uint64, error) {
		envs, err := o.events.ReadStream(ctx, stream, 1, event.Forwards, 0)
		if err != nil && !errors.Is(err, event.ErrNotFound) {
			return 0, storeErr("read tags", err)
		}
		t, err := filing.ReplayTags(envs)
		if err != nil {
			return 0, err
		}
		now := o.clock.Now()
		evs, err := decide(e, t, now)
		if err != nil || len(evs) == 0 {
			return 0, err
		}
		return appendEvents(ctx, o.events, o.ids, stream, event.Exactly(t.Version()), filing.NewEvent, evs, a.meta(now, eid))
	})
}

func (o *organisation) defineTag(ctx context.Context, cmd DefineTag) (TagResult, error) {
	id := o.ids.NewID()
	pos, err := o.tags(ctx, cmd.Actor, cmd.EnterpriseID, func(_ *enterprise.Enterprise, t *filing.Tags, now time.Time) ([]filing.Event, error) {
		return t.Define(id, cmd.Name, cmd.Color, cmd.Actor.AccountID, now)
	})
	if err != nil {
		return TagResult{}, err
	}
	return TagResult{TagID: id, Written: Written{pos}}, nil
}

func (o *organisation) removeTag(ctx context.Context, cmd RemoveTag) (Written, error) {
	if !validID(cmd.TagID) {
		return Written{}, errTagNotFound
	}
	pos, err := o.tags(ctx, cmd.Actor, cmd.EnterpriseID, func(_ *enterprise.Enterprise, t *filing.Tags, now time.Time) ([]filing.Event, error) {
		return t.Remove(cmd.TagID, cmd.Actor.AccountID, now)
	})
	return Written{pos}, err
}

func (o *organisation) tag(ctx context.Context, cmd TagContract) (Written, error) {
	if !validID(cmd.TagID) {
		return Written{}, errTagNotFound
	}
	k, err := o.loadContract(ctx, cmd.ContractID)
	if err != nil {
		return Written{}, err
	}
	pos, err := o.tags(ctx, cmd.Actor, cmd.EnterpriseID, func(e *enterprise.Enterprise, t *filing.Tags, now time.Time) ([]filing.Event, error) {
		if k.Sender().EnterpriseID != e.ID() && !partyNamed(k, e.Verification().Name) {
			return nil, errNotTheirs
		}
		return t.TagContract(cmd.ContractID, cmd.TagID, cmd.Actor.AccountID, now)
	})
	return Written{pos}, err
}

func (o *organisation) untag(ctx context.Context, cmd TagContract) (Written, error) {
	if !validID(cmd.TagID) {
		return Written{}, errTagNotFound
	}
	if !validID(cmd.ContractID) {
		return Written{}, errContractNotFound
	}
	pos, err := o.tags(ctx, cmd.Actor, cmd.EnterpriseID, func(_ *enterprise.Enterprise, t *filing.Tags, now time.Time) ([]filing.Event, error) {
		return t.UntagContract(cmd.ContractID, cmd.TagID, cmd.Actor.AccountID, now)
	})
	return Written{pos}, err
}

// Package searchdocs is the search projection's mapping: every event of the
// log becomes one audit record, and the events of contracts and of filing
// (folders, tags) change the contract documents the search answers from.
// infra/search.Runner runs Builder.Build over the log.
//
// Who sees a document is the contract's principals as the Redis lists have
// them (principal.OfContract), so a search never shows what the lists hide.
// A contract's principals change with events that do not repeat who it
// concerns (a signature, an approval), so Build folds the contract's own
// stream, read from the immutable log (recent states cached): Build stays a
// function of the event and the history before it, and a rebuild gives the
// same documents as the incremental run.
//
// Archive, recycle bin and "deleted for me" are each account's own view and
// do not hide a contract from that account's search: the search answers
// what the caller may see, the lists what the caller keeps where.
package searchdocs

import (
	"context"
	"errors"
	"fmt"
	"signet/projections/contractstate"
	"slices"
	"strings"
	"sync"
	"time"

	"signet/domain/account"
	"signet/domain/batch"
	"signet/domain/contract"
	"signet/domain/enterprise"
	"signet/domain/event"
	"signet/domain/filing"
	"signet/domain/identity"
	"signet/domain/template"
	"signet/infra/search"
	"signet/projections/principal"
	"signet/projections/replay"
)

// History reads a stream forwards (eventstore.Store's ReadStream).
type History = contractstate.History

// cacheSize bounds the contract states kept: during a catch-up the events
// of one contract are mostly near each other.
const cacheSize = 4096

// readTimeout bounds one read of history (Build has no context of its own).
const readTimeout = 30 * time.Second

// Builder maps events to documents; its Build is a search.BuildFunc. It is
// safe for concurrent use (the runner's live loop and a rebuild).
type Builder struct {
	h      History
	states *contractstate.Cache

	mu     sync.Mutex
	owners map[string][]string // template or batch stream -> its owner's principals, bounded
}

// New makes a Builder reading contracts' histories from h.
func New(h History) *Builder {
	return &Builder{h: h, states: contractstate.New(h, cacheSize), owners: map[string][]string{}}
}

var _ search.BuildFunc = (*Builder)(nil).Build

// Build maps one event to the documents it changes and its audit record.
func (b *Builder) Build(env event.Envelope, current func(id string) (search.ContractDoc, bool, error)) ([]search.ContractDoc, []search.AuditRecord, error) {
	ctx, cancel := context.WithTimeout(context.Background(), readTimeout)
	defer cancel()
	rec := Record(env)
	var docs []search.ContractDoc
	var scope []string
	var err error
	switch event.Category(env.Stream) {
	case contract.Category:
		docs, scope, err = b.contractEvent(ctx, env, current)
	case filing.DeskCategory:
		docs, err = b.deskEvent(ctx, env, current)
		scope = []string{principal.Account(ownerOf(env.Stream))}
	case filing.TagsCategory:
		docs, err = b.tagsEvent(ctx, env, current)
		scope = []string{principal.Enterprise(ownerOf(env.Stream))}
	case enterprise.Category:
		scope = []string{principal.Enterprise(ownerOf(env.Stream))}
	case account.Category:
		scope = []string{principal.Account(ownerOf(env.Stream))}
	case template.Category, batch.Category:
		scope, err = b.ownerScope(ctx, env)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%s@%d (%s): %w", env.Stream, env.Version, env.Type, err)
	}
	rec.Visible = visible(scope)
	return docs, []search.AuditRecord{rec}, nil
}

// Record is an event's audit record without its visibility: when, who,
// from which (masked) address, and what in one line.
func Record(env event.Envelope) search.AuditRecord {
	return search.AuditRecord{
		ID: env.ID, At: env.Meta.OccurredAt.UTC(), Actor: env.Meta.Actor, Enterprise: env.Meta.Enterprise,
		ClientIP: identity.MaskIP(env.Meta.ClientIP), Stream: env.Stream, Type: env.Type,
		Summary: summary(env), Position: env.Position,
	}
}

// visible is the platform and the scope's principals, each once.
func visible(scope []string) []string {
	out := []string{search.PlatformPrincipal}
	for _, p := range scope {
		if p != "" && !slices.Contains(out, p) && !strings.HasSuffix(p, ":") {
			out = append(out, p)
		}
	}
	return out
}

func ownerOf(stream string) string {
	_, id, _ := strings.Cut(stream, "-")
	return id
}

// summary is replay's one-line sentence, or this package's for filing.
func summary(env event.Envelope) string {
	if filing.Has(env.Type) {
		if s := filingSummary(env); s != "" {
			return s
		}
	}
	return replay.Entries([]event.Envelope{env})[0].Summary
}

func filingSummary(env event.Envelope) string {
	ev, err := filing.DecodeEnvelope(env)
	if err != nil {
		return ""
	}
	switch e := ev.(type) {
	case filing.FolderCreated:
		return fmt.Sprintf("folder %q created (%s)", e.Name, e.FolderID)
	case filing.FolderRenamed:
		return fmt.Sprintf("folder %s renamed %q", e.FolderID, e.Name)
	case filing.FolderDeleted:
		return fmt.Sprintf("folder %s deleted", e.FolderID)
	case filing.ContractFiled:
		return fmt.Sprintf("contract %s filed in folder %s", e.ContractID, e.FolderID)
	case filing.ContractUnfiled:
		return fmt.Sprintf("contract %s taken out of folder %s", e.ContractID, e.FolderID)
	case filing.ContractArchived:
		return fmt.Sprintf("contract %s archived", e.ContractID)
	case filing.ContractUnarchived:
		return fmt.Sprintf("contract %s back from the archive", e.ContractID)
	case filing.ContractTrashed:
		return fmt.Sprintf("contract %s moved to the recycle bin", e.ContractID)
	case filing.ContractRestored:
		return fmt.Sprintf("contract %s restored from the recycle bin", e.ContractID)
	case filing.ContractDeletedForMe:
		return fmt.Sprintf("contract %s deleted from the owner's views", e.ContractID)
	case filing.TagDefined:
		return fmt.Sprintf("tag %q defined (%s) by %s", e.Name, e.TagID, e.DefinedBy)
	case filing.TagRemoved:
		return fmt.Sprintf("tag %s removed by %s", e.TagID, e.RemovedBy)
	case filing.ContractTagged:
		return fmt.Sprintf("contract %s tagged %s by %s", e.ContractID, e.TagID, e.TaggedBy)
	case filing.ContractUntagged:
		return fmt.Sprintf("tag %s taken off contract %s by %s", e.TagID, e.ContractID, e.UntaggedBy)
	}
	return ""
}

// contractEvent rebuilds the contract's document after the event; the
// record is seen by whoever saw the contract just before or just after it
// (an approver who approved keeps the approval's record).
func (b *Builder) contractEvent(ctx context.Context, env event.Envelope, current func(string) (search.ContractDoc, bool, error)) ([]search.ContractDoc, []string, error) {
	ev, err := contract.DecodeEnvelope(env)
	if err != nil {
		return nil, nil, err
	}
	k, err := b.states.Before(ctx, env.Stream, env.Version)
	if err != nil {
		return nil, nil, err
	}
	before := principal.OfContract(k).All()
	if err := k.Apply(ev); err != nil {
		return nil, nil, err
	}
	b.states.Keep(env.Stream, env.Version, k)
	after := principal.OfContract(k).All()
	doc := DocOf(k, env.Position)
	if doc.ID != ownerOf(env.Stream) {
		return nil, nil, fmt.Errorf("contract %q in stream %s", doc.ID, env.Stream)
	}
	cur, ok, err := current(doc.ID)
	if err != nil {
		return nil, nil, err
	}
	if ok {
		doc.Tags, doc.Folders = slices.Clone(cur.Tags), slices.Clone(cur.Folders)
	}
	return []search.ContractDoc{doc}, slices.Concat(before, after), nil
}

// DocOf is the contract k as the search sees it, at global position pos,
// without the tags and folders that filing adds.
func DocOf(k *contract.Contract, pos uint64) search.ContractDoc {
	cr := k.Created()
	d := search.ContractDoc{
		ID: cr.ContractID, Number: cr.Number, Title: cr.Title, Status: string(k.Status()),
		SenderName: cr.Sender.Name, SenderPerson: cr.Sender.PersonName,
		SenderAccount: cr.Sender.AccountID, SenderEnterprise: cr.Sender.EnterpriseID,
		CreatedAt: cr.CreatedAt.UTC(), Deadline: cr.SigningDeadline.UTC(),
		Visible: principal.OfContract(k).All(), Version: pos,
	}
	if s, ok := k.Sent(); ok {
		at := s.SentAt.UTC()
		d.SentAt = &at
	}
	if cr.ExpiresAt != nil {
		at := cr.ExpiresAt.UTC()
		d.ExpiresAt = &at
	}
	for _, p := range cr.Parties {
		for _, name := range []string{p.Name, p.EnterpriseName} {
			if name = strings.TrimSpace(name); name != "" && !slices.Contains(d.Receivers, name) {
				d.Receivers = append(d.Receivers, name)
			}
		}
		if l, err := account.ParseLogin(p.Contact.Value); err == nil && !slices.Contains(d.ReceiverKeys, l.Hash()) {
			d.ReceiverKeys = append(d.ReceiverKeys, l.Hash())
		}
	}
	return d
}

// changeDocs applies change to the current documents of ids; contracts the
// index does not hold (never created) are left out.
func changeDocs(env event.Envelope, ids []string, current func(string) (search.ContractDoc, bool, error), change func(d *search.ContractDoc)) ([]search.ContractDoc, error) {
	slices.Sort(ids)
	ids = slices.Compact(ids)
	var out []search.ContractDoc
	for _, id := range ids {
		d, ok, err := current(id)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		d.Tags, d.Folders = slices.Clone(d.Tags), slices.Clone(d.Folders)
		change(&d)
		slices.Sort(d.Tags)
		slices.Sort(d.Folders)
		d.Version = env.Position
		out = append(out, d)
	}
	return out, nil
}

func without(list []string, drop func(string) bool) []string {
	return slices.DeleteFunc(list, drop)
}

func with(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

// deskEvent keeps each document's folders: "<account ID>/<folder ID>", one
// per account at most.
func (b *Builder) deskEvent(ctx context.Context, env event.Envelope, current func(string) (search.ContractDoc, bool, error)) ([]search.ContractDoc, error) {
	aid := ownerOf(env.Stream)
	ev, err := filing.DecodeEnvelope(env)
	if err != nil {
		return nil, err
	}
	mine := func(s string) bool { return strings.HasPrefix(s, aid+"/") }
	switch ev := ev.(type) {
	case filing.ContractFiled:
		return changeDocs(env, []string{ev.ContractID}, current, func(d *search.ContractDoc) {
			d.Folders = append(without(d.Folders, mine), aid+"/"+ev.FolderID)
		})
	case filing.ContractUnfiled:
		return changeDocs(env, []string{ev.ContractID}, current, func(d *search.ContractDoc) {
			d.Folders = without(d.Folders, func(s string) bool { return s == aid+"/"+ev.FolderID })
		})
	case filing.ContractDeletedForMe:
		if ev.FolderID == "" {
			return nil, nil
		}
		return changeDocs(env, []string{ev.ContractID}, current, func(d *search.ContractDoc) {
			d.Folders = without(d.Folders, func(s string) bool { return s == aid+"/"+ev.FolderID })
		})
	case filing.FolderDeleted:
		ids, err := b.filedIn(ctx, env, ev.FolderID)
		if err != nil {
			return nil, err
		}
		return changeDocs(env, ids, current, func(d *search.ContractDoc) {
			d.Folders = without(d.Folders, func(s string) bool { return s == aid+"/"+ev.FolderID })
		})
	}
	return nil, nil
}

// before reads a stream's events before env.
func (b *Builder) before(ctx context.Context, env event.Envelope) ([]event.Envelope, error) {
	if env.Version <= 1 {
		return nil, nil
	}
	envs, err := b.h.ReadStream(ctx, env.Stream, 1, event.Forwards, int(env.Version-1))
	if err != nil {
		return nil, fmt.Errorf("read %s before version %d: %w", env.Stream, env.Version, err)
	}
	return envs, nil
}

// filedIn lists the contracts in a folder just before env (which deletes it).
func (b *Builder) filedIn(ctx context.Context, env event.Envelope, folder string) ([]string, error) {
	envs, err := b.before(ctx, env)
	if err != nil {
		return nil, err
	}
	filed := map[string]string{} // contract -> folder
	for _, e := range envs {
		ev, err := filing.DecodeEnvelope(e)
		if err != nil {
			return nil, err
		}
		switch ev := ev.(type) {
		case filing.ContractFiled:
			filed[ev.ContractID] = ev.FolderID
		case filing.ContractUnfiled:
			delete(filed, ev.ContractID)
		case filing.ContractDeletedForMe:
			delete(filed, ev.ContractID)
		case filing.FolderDeleted:
			for c, f := range filed {
				if f == ev.FolderID {
					delete(filed, c)
				}
			}
		}
	}
	var out []string
	for c, f := range filed {
		if f == folder {
			out = append(out, c)
		}
	}
	return out, nil
}

// tagsEvent keeps each document's tags: "<enterprise ID>/<tag ID>".
func (b *Builder) tagsEvent(ctx context.Context, env event.Envelope, current func(string) (search.ContractDoc, bool, error)) ([]search.ContractDoc, error) {
	eid := ownerOf(env.Stream)
	ev, err := filing.DecodeEnvelope(env)
	if err != nil {
		return nil, err
	}
	switch ev := ev.(type) {
	case filing.ContractTagged:
		return changeDocs(env, []string{ev.ContractID}, current, func(d *search.ContractDoc) {
			d.Tags = with(d.Tags, eid+"/"+ev.TagID)
		})
	case filing.ContractUntagged:
		return changeDocs(env, []string{ev.ContractID}, current, func(d *search.ContractDoc) {
			d.Tags = without(d.Tags, func(s string) bool { return s == eid+"/"+ev.TagID })
		})
	case filing.TagRemoved:
		envs, err := b.before(ctx, env)
		if err != nil {
			return nil, err
		}
		ids, err := tagged(envs, ev.TagID)
		if err != nil {
			return nil, err
		}
		return changeDocs(env, ids, current, func(d *search.ContractDoc) {
			d.Tags = without(d.Tags, func(s string) bool { return s == eid+"/"+ev.TagID })
		})
	}
	return nil, nil
}

// tagged lists the contracts a tag is on after envs (filing.Tags keeps
// them but does not list them).
func tagged(envs []event.Envelope, tag string) ([]string, error) {
	on := map[string]bool{}
	for _, e := range envs {
		ev, err := filing.DecodeEnvelope(e)
		if err != nil {
			return nil, err
		}
		switch ev := ev.(type) {
		case filing.ContractTagged:
			if ev.TagID == tag {
				on[ev.ContractID] = true
			}
		case filing.ContractUntagged:
			if ev.TagID == tag {
				delete(on, ev.ContractID)
			}
		case filing.TagRemoved:
			if ev.TagID == tag {
				clear(on)
			}
		}
	}
	out := make([]string, 0, len(on))
	for c := range on {
		out = append(out, c)
	}
	return out, nil
}

// ownerScope is who owns a template or batch: the enterprise's side (its
// administrators and the member who made it), or the person.
func (b *Builder) ownerScope(ctx context.Context, env event.Envelope) ([]string, error) {
	b.mu.Lock()
	s, ok := b.owners[env.Stream]
	b.mu.Unlock()
	if ok {
		return s, nil
	}
	first := env
	if env.Version != 1 {
		envs, err := b.h.ReadStream(ctx, env.Stream, 1, event.Forwards, 1)
		if errors.Is(err, event.ErrNotFound) || (err == nil && len(envs) == 0) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read the opening event of %s: %w", env.Stream, err)
		}
		first = envs[0]
	}
	var eid, aid string
	switch event.Category(env.Stream) {
	case template.Category:
		ev, err := template.DecodeEnvelope(first)
		if err != nil {
			return nil, err
		}
		if c, ok := ev.(template.TemplateCreated); ok {
			eid, aid = c.Owner.EnterpriseID, c.Owner.AccountID
		}
	case batch.Category:
		ev, err := batch.DecodeEnvelope(first)
		if err != nil {
			return nil, err
		}
		if c, ok := ev.(batch.SheetChecked); ok {
			eid, aid = c.Sender.EnterpriseID, c.Sender.AccountID
		}
	}
	switch {
	case eid != "" && aid != "":
		s = []string{principal.Enterprise(eid), principal.Member(eid, aid)}
	case eid != "":
		s = []string{principal.Enterprise(eid)}
	case aid != "":
		s = []string{principal.Account(aid)}
	}
	b.mu.Lock()
	if len(b.owners) >= 8*cacheSize {
		clear(b.owners)
	}
	b.owners[env.Stream] = s
	b.mu.Unlock()
	return s, nil
}

// Package boxes is the read model of contract lists: each principal's
// outbox, inbox and all contracts, the quick views (needs my signature,
// signing deadline soon, expiring soon) with exact counters, and each
// account's folders, archive and recycle bin and each enterprise's tags.
//
// Lists are sorted sets per principal (see package principal), never one
// global set, so that a page and a counter are range reads on a few small
// or one large set. A contract's memberships change when events that do
// not repeat who it concerns arrive (a signature moves the turn, an expiry
// ends it for everyone), so Handle folds the contract's own stream (read
// through History, the immutable log; recent states are cached) and writes
// the difference between the memberships before and after the event.
// Handle thus stays a function of the envelope and the history before it:
// rebuilding gives the same read model.
//
// Keys (relative to the projection's namespace), P a principal:
//
//	item:<cid>                   string: the contract as a list shows it (JSON, contacts masked)
//	box:P:all|out|in             sorted sets: contracts by creation time (ms; creation is sending,
//	                             except for contracts that waited for approval)
//	dl:P:all|out|in              sorted sets: contracts still open for signing or approval, by signing deadline (ms)
//	qv:P:to_sign                 sorted set: contracts where a party of P may sign now, by creation time
//	qv:P:expiring                sorted set: completed contracts with an expiry, by expiry (ms)
//	acted:<aid>                  set: enterprises the account sent or signed for
//	folders:<aid>                hash: folder ID -> name
//	folder:<aid>:<fid>           sorted set: the folder's contracts, by creation time
//	filed:<aid>                  hash: contract ID -> folder ID (stale once the folder is deleted)
//	org:<aid>:archived|trash|deleted  sorted sets: the account's archive, recycle bin, deleted for good
//	tags:<eid>                   hash: tag ID -> {"name","color"} (JSON)
//	tag:<eid>:<tid>              sorted set: contracts with the tag, by creation time
//	ctags:<eid>:<cid>            set: the enterprise's tag IDs on the contract (stale once a tag is removed)
package boxes

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
	"signet/domain/contract"
	"signet/domain/event"
	"signet/domain/filing"
	"signet/projections"
	"signet/projections/principal"
)

// Name is the projection's stable name (consumer, checkpoint, key namespace).
const Name = "boxes"

// Boxes.
const (
	BoxAll = "all"
	BoxOut = "out"
	BoxIn  = "in"
)

func itemKey(cid string) string              { return "item:" + cid }
func boxKey(p, box string) string            { return "box:" + p + ":" + box }
func deadlineKey(p, box string) string       { return "dl:" + p + ":" + box }
func toSignKey(p string) string              { return "qv:" + p + ":to_sign" }
func expiringKey(p string) string            { return "qv:" + p + ":expiring" }
func actedKey(aid string) string             { return "acted:" + aid }
func foldersKey(aid string) string           { return "folders:" + aid }
func folderKey(aid, fid string) string       { return "folder:" + aid + ":" + fid }
func filedKey(aid string) string             { return "filed:" + aid }
func orgKey(aid, what string) string         { return "org:" + aid + ":" + what }
func tagsKey(eid string) string              { return "tags:" + eid }
func tagKey(eid, tid string) string          { return "tag:" + eid + ":" + tid }
func contractTagsKey(eid, cid string) string { return "ctags:" + eid + ":" + cid }
func ms(t time.Time) float64                 { return float64(t.UnixMilli()) }
func contractOf(stream string) string        { return strings.TrimPrefix(stream, contract.Category+"-") }
func ownerOf(stream, category string) string { return strings.TrimPrefix(stream, category+"-") }
func errKey(what, id string) error           { return fmt.Errorf("%s %q not usable as a key", what, id) }

// isOpen: the signing deadline still matters (being signed or approved).
func isOpen(s contract.Status) bool { return !s.Ended() && s != contract.StatusSealing }

func sortedKeys(m map[string]float64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Organisation sets of an account.
const (
	OrgArchived = "archived"
	OrgTrash    = "trash"
	OrgDeleted  = "deleted"
)

// History reads a stream forwards (eventstore.Store's ReadStream).
type History = contractstate.History

// cacheSize is how many contracts' latest states are kept: during a
// catch-up the events of one contract are mostly near each other.
const cacheSize = 4096

// Projection maps contract, desk and tags events to the lists.
type Projection struct {
	h      History
	states *contractstate.Cache

	mu      sync.Mutex
	created map[string]float64 // contract ID -> creation time (ms), bounded
}

// New makes the projection; h reads the contracts' streams.
func New(h History) *Projection {
	return &Projection{h: h, states: contractstate.New(h, cacheSize), created: map[string]float64{}}
}

func (*Projection) Name() string { return Name }

// Handle ignores every stream but contracts, desks and tags.
func (p *Projection) Handle(ctx context.Context, e event.Envelope) ([]projections.Op, error) {
	var (
		ops []projections.Op
		err error
	)
	switch event.Category(e.Stream) {
	case contract.Category:
		ops, err = p.contractEvent(ctx, e)
	case filing.DeskCategory:
		ops, err = p.deskEvent(ctx, e)
	case filing.TagsCategory:
		ops, err = p.tagsEvent(ctx, e)
	default:
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s@%d: %w", e.Stream, e.Version, err)
	}
	return ops, nil
}

// keep caches the contract's state after an event and remembers its
// creation time.
func (p *Projection) keep(stream string, v uint64, k *contract.Contract) {
	p.states.Keep(stream, v, k)
	if cr := k.Created(); cr.ContractID != "" {
		p.mu.Lock()
		p.remember(cr.ContractID, ms(cr.CreatedAt))
		p.mu.Unlock()
	}
}

// remember keeps a contract's creation time; the map is dropped whole when
// full (a cheap bound: a miss costs one read of the stream's first event).
func (p *Projection) remember(cid string, score float64) {
	if len(p.created) >= 8*cacheSize {
		clear(p.created)
	}
	p.created[cid] = score
}

func (p *Projection) contractEvent(ctx context.Context, e event.Envelope) ([]projections.Op, error) {
	cid := contractOf(e.Stream)
	if !projections.ValidID(cid) {
		return nil, errKey("contract ID", cid)
	}
	ev, err := contract.DecodeEnvelope(e)
	if err != nil {
		return nil, err
	}
	k, err := p.states.Before(ctx, e.Stream, e.Version)
	if err != nil {
		return nil, err
	}
	before, err := memberships(k)
	if err != nil {
		return nil, err
	}
	if err := k.Apply(ev); err != nil {
		return nil, err
	}
	after, err := memberships(k)
	if err != nil {
		return nil, err
	}
	p.keep(e.Stream, e.Version, k)
	var ops []projections.Op
	for _, key := range sortedKeys(before) {
		if _, still := after[key]; !still {
			ops = append(ops, projections.ZRem(key, cid))
		}
	}
	for _, key := range sortedKeys(after) {
		if s, was := before[key]; !was || s != after[key] {
			ops = append(ops, projections.ZAdd(key, after[key], cid))
		}
	}
	for _, a := range acted(k) {
		ops = append(ops, projections.SAdd(actedKey(a[1]), a[0]))
	}
	return append(ops, projections.Set(itemKey(cid), projections.MustJSON(itemOf(k)))), nil
}

// memberships are the list keys the contract is in, with its score in each.
func memberships(k *contract.Contract) (map[string]float64, error) {
	m := map[string]float64{}
	if !k.Exists() {
		return m, nil
	}
	cr := k.Created()
	s := principal.OfContract(k)
	for _, p := range s.All() {
		if err := checkPrincipal(p); err != nil {
			return nil, err
		}
	}
	created, deadline := ms(cr.CreatedAt), ms(cr.SigningDeadline)
	open := isOpen(k.Status())
	put := func(ps []string, boxes ...string) {
		for _, p := range ps {
			for _, b := range boxes {
				m[boxKey(p, b)] = created
				if open {
					m[deadlineKey(p, b)] = deadline
				}
			}
		}
	}
	put(s.Out, BoxAll, BoxOut)
	put(s.In, BoxAll, BoxIn)
	put(s.Approvers, BoxAll)
	for _, p := range s.Turn {
		m[toSignKey(p)] = created
	}
	if k.Status() == contract.StatusCompleted && cr.ExpiresAt != nil {
		for _, p := range s.All() {
			m[expiringKey(p)] = ms(*cr.ExpiresAt)
		}
	}
	return m, nil
}

// checkPrincipal refuses a principal whose IDs could address other keys.
func checkPrincipal(p string) error {
	parts := strings.Split(p, ":")
	for _, part := range parts[1:] {
		if !projections.ValidID(part) {
			return errKey("principal", p)
		}
	}
	return nil
}

// acted lists (enterprise, account) pairs of the contract's members.
func acted(k *contract.Contract) [][2]string {
	var out [][2]string
	for _, p := range principal.OfContract(k).All() {
		if rest, ok := strings.CutPrefix(p, principal.KindMember+":"); ok {
			if eid, aid, ok := strings.Cut(rest, ":"); ok {
				out = append(out, [2]string{eid, aid})
			}
		}
	}
	return out
}

// Item is a contract as lists show it. Tags, Folder, Archived and Trashed
// are the caller's and filled in by the Reader.
type Item struct {
	ID              string       `json:"id"`
	Number          string       `json:"number"`
	Title           string       `json:"title"`
	Status          string       `json:"status"`
	Sender          Sender       `json:"sender"`
	Parties         []PartyBrief `json:"parties"`
	CreatedAt       time.Time    `json:"created_at"`
	SentAt          *time.Time   `json:"sent_at,omitempty"`
	SigningDeadline time.Time    `json:"signing_deadline"`
	ExpiresAt       *time.Time   `json:"expires_at,omitempty"`
	CompletedAt     *time.Time   `json:"completed_at,omitempty"`
	EndedAt         *time.Time   `json:"ended_at,omitempty"`

	Tags     []TagRef   `json:"tags"`
	Folder   *FolderRef `json:"folder,omitempty"`
	Archived bool       `json:"archived,omitempty"`
	Trashed  bool       `json:"trashed,omitempty"`
}

// Sender is who sent the contract.
type Sender struct {
	AccountID    string `json:"account_id"`
	EnterpriseID string `json:"enterprise_id,omitempty"`
	Name         string `json:"name"`
	PersonName   string `json:"person_name"`
}

// PartyBrief is a party in a list: its contact masked.
type PartyBrief struct {
	ID             string `json:"id"`
	Role           string `json:"role"`
	Kind           string `json:"kind"`
	Name           string `json:"name"`
	Contact        string `json:"contact"` // "138****8000", "l***@example.com"
	EnterpriseName string `json:"enterprise_name,omitempty"`
	Status         string `json:"status"` // waiting, to_sign, signed, rejected
}

// TagRef is an enterprise tag on a contract.
type TagRef struct {
	EnterpriseID string `json:"enterprise_id"`
	ID           string `json:"id"`
	Name         string `json:"name"`
	Color        string `json:"color,omitempty"`
}

// FolderRef is the caller's folder a contract is in.
type FolderRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

func itemOf(k *contract.Contract) Item {
	cr := k.Created()
	it := Item{ID: cr.ContractID, Number: cr.Number, Title: cr.Title, Status: string(k.Status()),
		Sender:    Sender{AccountID: cr.Sender.AccountID, EnterpriseID: cr.Sender.EnterpriseID, Name: cr.Sender.Name, PersonName: cr.Sender.PersonName},
		CreatedAt: cr.CreatedAt.UTC(), SigningDeadline: cr.SigningDeadline.UTC(), ExpiresAt: cr.ExpiresAt, Parties: []PartyBrief{}, Tags: []TagRef{}}
	if s, ok := k.Sent(); ok {
		at := s.SentAt.UTC()
		it.SentAt = &at
	}
	if end := k.EndedAt(); !end.IsZero() {
		end = end.UTC()
		it.EndedAt = &end
		if k.Status() == contract.StatusCompleted {
			it.CompletedAt = &end
		}
	}
	turn := map[string]bool{}
	for _, p := range k.Turn() {
		turn[p.ID] = true
	}
	rejected, _ := k.Rejection()
	for _, p := range cr.Parties {
		b := PartyBrief{ID: p.ID, Role: p.Role, Kind: string(p.Kind), Name: p.Name, EnterpriseName: p.EnterpriseName, Status: "waiting"}
		if l, err := account.ParseLogin(p.Contact.Value); err == nil {
			b.Contact = l.Mask()
		}
		switch _, signed := k.Signature(p.ID); {
		case rejected.PartyID == p.ID:
			b.Status = "rejected"
		case signed:
			b.Status = "signed"
		case turn[p.ID]:
			b.Status = "to_sign"
		}
		it.Parties = append(it.Parties, b)
	}
	return it
}

// errNoContract: an organisation event names a contract the log does not hold.
var errNoContract = errors.New("no such contract in the log")

// createdScore is a contract's creation time (ms), its score in every list.
func (p *Projection) createdScore(ctx context.Context, cid string) (float64, error) {
	if !projections.ValidID(cid) {
		return 0, errKey("contract ID", cid)
	}
	p.mu.Lock()
	s, ok := p.created[cid]
	p.mu.Unlock()
	if ok {
		return s, nil
	}
	envs, err := p.h.ReadStream(ctx, contract.StreamOf(cid), 1, event.Forwards, 1)
	if errors.Is(err, event.ErrNotFound) || (err == nil && len(envs) == 0) {
		return 0, fmt.Errorf("contract %s: %w", cid, errNoContract)
	}
	if err != nil {
		return 0, fmt.Errorf("read contract %s: %w", cid, err)
	}
	ev, err := contract.DecodeEnvelope(envs[0])
	if err != nil {
		return 0, err
	}
	cr, ok := ev.(contract.ContractCreated)
	if !ok {
		return 0, fmt.Errorf("contract %s opens with %s", cid, envs[0].Type)
	}
	s = ms(cr.CreatedAt)
	p.mu.Lock()
	p.remember(cid, s)
	p.mu.Unlock()
	return s, nil
}

func (p *Projection) deskEvent(ctx context.Context, e event.Envelope) ([]projections.Op, error) {
	aid := ownerOf(e.Stream, filing.DeskCategory)
	if !projections.ValidID(aid) {
		return nil, errKey("account ID", aid)
	}
	ev, err := filing.DecodeEnvelope(e)
	if err != nil {
		return nil, err
	}
	ids := []string{}
	org := func(what, cid string, add bool) ([]projections.Op, error) {
		if !add {
			return []projections.Op{projections.ZRem(orgKey(aid, what), cid)}, nil
		}
		s, err := p.createdScore(ctx, cid)
		if err != nil {
			return nil, err
		}
		return []projections.Op{projections.ZAdd(orgKey(aid, what), s, cid)}, nil
	}
	var ops []projections.Op
	switch ev := ev.(type) {
	case filing.FolderCreated:
		ids = append(ids, ev.FolderID)
		ops = []projections.Op{projections.HSet(foldersKey(aid), ev.FolderID, ev.Name)}
	case filing.FolderRenamed:
		ids = append(ids, ev.FolderID)
		ops = []projections.Op{projections.HSet(foldersKey(aid), ev.FolderID, ev.Name)}
	case filing.FolderDeleted:
		ids = append(ids, ev.FolderID)
		ops = []projections.Op{projections.HDel(foldersKey(aid), ev.FolderID), projections.Del(folderKey(aid, ev.FolderID))}
	case filing.ContractFiled:
		ids = append(ids, ev.FolderID, ev.ContractID)
		s, err := p.createdScore(ctx, ev.ContractID)
		if err != nil {
			return nil, err
		}
		ops = []projections.Op{projections.ZAdd(folderKey(aid, ev.FolderID), s, ev.ContractID), projections.HSet(filedKey(aid), ev.ContractID, ev.FolderID)}
		if ev.From != "" {
			ids = append(ids, ev.From)
			ops = append(ops, projections.ZRem(folderKey(aid, ev.From), ev.ContractID))
		}
	case filing.ContractUnfiled:
		ids = append(ids, ev.FolderID, ev.ContractID)
		ops = []projections.Op{projections.ZRem(folderKey(aid, ev.FolderID), ev.ContractID), projections.HDel(filedKey(aid), ev.ContractID)}
	case filing.ContractArchived:
		ids = append(ids, ev.ContractID)
		ops, err = org(OrgArchived, ev.ContractID, true)
	case filing.ContractUnarchived:
		ids = append(ids, ev.ContractID)
		ops, err = org(OrgArchived, ev.ContractID, false)
	case filing.ContractTrashed:
		ids = append(ids, ev.ContractID)
		ops, err = org(OrgTrash, ev.ContractID, true)
	case filing.ContractRestored:
		ids = append(ids, ev.ContractID)
		ops, err = org(OrgTrash, ev.ContractID, false)
	case filing.ContractDeletedForMe:
		ids = append(ids, ev.ContractID)
		ops, err = org(OrgDeleted, ev.ContractID, true)
		ops = append(ops, projections.ZRem(orgKey(aid, OrgTrash), ev.ContractID), projections.ZRem(orgKey(aid, OrgArchived), ev.ContractID))
		if ev.FolderID != "" {
			ids = append(ids, ev.FolderID)
			ops = append(ops, projections.ZRem(folderKey(aid, ev.FolderID), ev.ContractID), projections.HDel(filedKey(aid), ev.ContractID))
		}
	default:
		return nil, fmt.Errorf("%s is not an event of a desk", e.Type)
	}
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		if !projections.ValidID(id) {
			return nil, errKey("ID", id)
		}
	}
	return ops, nil
}

// tagDoc is a tag as kept.
type tagDoc struct {
	Name  string `json:"name"`
	Color string `json:"color,omitempty"`
}

func (p *Projection) tagsEvent(ctx context.Context, e event.Envelope) ([]projections.Op, error) {
	eid := ownerOf(e.Stream, filing.TagsCategory)
	if !projections.ValidID(eid) {
		return nil, errKey("enterprise ID", eid)
	}
	ev, err := filing.DecodeEnvelope(e)
	if err != nil {
		return nil, err
	}
	var ids []string
	var ops []projections.Op
	switch ev := ev.(type) {
	case filing.TagDefined:
		ids = []string{ev.TagID}
		ops = []projections.Op{projections.HSet(tagsKey(eid), ev.TagID, projections.MustJSON(tagDoc{ev.Name, ev.Color}))}
	case filing.TagRemoved:
		ids = []string{ev.TagID}
		ops = []projections.Op{projections.HDel(tagsKey(eid), ev.TagID), projections.Del(tagKey(eid, ev.TagID))}
	case filing.ContractTagged:
		ids = []string{ev.TagID, ev.ContractID}
		s, err := p.createdScore(ctx, ev.ContractID)
		if err != nil {
			return nil, err
		}
		ops = []projections.Op{projections.ZAdd(tagKey(eid, ev.TagID), s, ev.ContractID), projections.SAdd(contractTagsKey(eid, ev.ContractID), ev.TagID)}
	case filing.ContractUntagged:
		ids = []string{ev.TagID, ev.ContractID}
		ops = []projections.Op{projections.ZRem(tagKey(eid, ev.TagID), ev.ContractID), projections.SRem(contractTagsKey(eid, ev.ContractID), ev.TagID)}
	default:
		return nil, fmt.Errorf("%s is not an event of an enterprise's tags", e.Type)
	}
	for _, id := range ids {
		if !projections.ValidID(id) {
			return nil, errKey("ID", id)
		}
	}
	return ops, nil
}

package contracts

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"signet/domain/contract"
	"signet/domain/fault"
	"signet/domain/layout"
	"signet/infra/redisdb"
	"signet/projections"
)

var (
	// ErrNotFound: there is no contract with this ID (or the ID cannot be one).
	ErrNotFound = fault.New(fault.NotFound, "contract_not_found", "There is no such contract; check the contract ID.")
	// ErrNotAParty: the caller has no part in the contract.
	ErrNotAParty = fault.New(fault.Forbidden, "not_a_party",
		"Only the contract's sender (and the administrators of the sending enterprise), its parties, approvers and signers may see it.")
)

// Party statuses.
const (
	PartyWaiting  = "waiting"  // not signed, and it is not (or no longer) their turn
	PartyToSign   = "to_sign"  // may sign now
	PartySigned   = "signed"   // signed
	PartyRejected = "rejected" // refused to sign
)

// maxHistory bounds the history a view carries; a contract has a few
// events per party.
const maxHistory = 500

// ContractView is a contract as its sender's side and its parties see it.
type ContractView struct {
	ID              string            `json:"id"`
	Number          string            `json:"number"`
	Title           string            `json:"title"`
	ContractType    string            `json:"contract_type,omitempty"`
	Status          string            `json:"status"` // see contract.Status
	Sender          Sender            `json:"sender"`
	Template        *TemplateRef      `json:"template,omitempty"`
	Sequential      bool              `json:"sequential"`
	SigningDeadline time.Time         `json:"signing_deadline"`
	ExpiresAt       *time.Time        `json:"expires_at,omitempty"`
	CreatedAt       time.Time         `json:"created_at"`
	SentAt          *time.Time        `json:"sent_at,omitempty"`
	CompletedAt     *time.Time        `json:"completed_at,omitempty"`
	Sealing         *Sealing          `json:"sealing,omitempty"`
	Ended           *Ending           `json:"ended,omitempty"`
	Approval        *Approval         `json:"approval,omitempty"`
	Parties         []PartyView       `json:"parties"`
	Documents       []DocumentView    `json:"documents"`
	Fields          []layout.Field    `json:"fields"`
	Values          map[string]string `json:"values"`
	History         []HistoryEntry    `json:"history"` // oldest first
	Version         uint64            `json:"version"` // of the contract's stream
}

// Sealing is the production of the final documents after every signature:
// the certificate of completion once sealed, the failed attempts before.
type Sealing struct {
	SealedAt          *time.Time `json:"sealed_at,omitempty"`
	CertificateSHA256 string     `json:"certificate_sha256,omitempty"`
	Attempts          int        `json:"attempts"`
	LastFailure       *Failure   `json:"last_failure,omitempty"`
}

// Failure is a failed sealing attempt.
type Failure struct {
	Step    string    `json:"step"`
	Reason  string    `json:"reason"`
	At      time.Time `json:"at"`
	RetryAt time.Time `json:"retry_at"`
}

// Sender is who sent the contract.
type Sender struct {
	AccountID    string `json:"account_id"`
	EnterpriseID string `json:"enterprise_id,omitempty"`
	Name         string `json:"name"`        // the enterprise's verified name, or the person's
	PersonName   string `json:"person_name"` // the sending person's verified name
}

// TemplateRef names the template version the contract was sent from.
type TemplateRef struct {
	ID      string `json:"id"`
	Version uint64 `json:"version"`
}

// Ending is how a contract ended other than by completion.
type Ending struct {
	Kind   string    `json:"kind"` // approval_rejected, rejected, revoked, expired
	By     string    `json:"by,omitempty"`
	Reason string    `json:"reason,omitempty"`
	At     time.Time `json:"at"`
}

// Approval is the contract's approval before sending.
type Approval struct {
	Status      string     `json:"status"` // pending, approved, rejected
	Approvers   []string   `json:"approvers"`
	SubmittedAt time.Time  `json:"submitted_at"`
	DecidedBy   string     `json:"decided_by,omitempty"`
	DecidedAt   *time.Time `json:"decided_at,omitempty"`
	Reason      string     `json:"reason,omitempty"`
}

// PartyView is one party and where it stands.
type PartyView struct {
	ID             string     `json:"id"`
	Role           string     `json:"role"`
	Kind           string     `json:"kind"` // enterprise or person
	Order          int        `json:"order"`
	Name           string     `json:"name"`
	Contact        Contact    `json:"contact"`
	EnterpriseName string     `json:"enterprise_name,omitempty"`
	Status         string     `json:"status"` // waiting, to_sign, signed, rejected
	Signed         *Signing   `json:"signed,omitempty"`
	Rejected       *Rejection `json:"rejected,omitempty"`
}

// Contact is how the party is reached, masked.
type Contact struct {
	Kind  string `json:"kind"`  // phone or email
	Value string `json:"value"` // "138****8000", "l***@example.com"
}

// DocumentView is a document with its hashes: as the sender uploaded it
// (File), as sent, and after the last signature.
type DocumentView struct {
	layout.Document
	SentSHA256   string `json:"sent_sha256,omitempty"`
	SignedSHA256 string `json:"signed_sha256,omitempty"`
	// FinalSHA256 is the sealed PDF: every seal and signature stamped,
	// digitally signed once per party.
	FinalSHA256 string `json:"final_sha256,omitempty"`
}

// HistoryEntry is one thing that happened, told in a sentence.
type HistoryEntry struct {
	Version   uint64    `json:"version"`
	At        time.Time `json:"at"`
	Type      string    `json:"type"`
	Actor     string    `json:"actor,omitempty"` // account ID
	ActorName string    `json:"actor_name,omitempty"`
	Summary   Summary   `json:"summary"`
}

// Summary is a one-line account of an event in English and Chinese.
type Summary struct {
	EN string `json:"en"`
	ZH string `json:"zh"`
}

// ApprovalItem is a contract waiting for the caller's approval.
type ApprovalItem struct {
	ContractID      string    `json:"contract_id"`
	Number          string    `json:"number"`
	Title           string    `json:"title"`
	ContractType    string    `json:"contract_type,omitempty"`
	Sender          Sender    `json:"sender"`
	SubmittedAt     time.Time `json:"submitted_at"`
	SigningDeadline time.Time `json:"signing_deadline"`
}

// Caller is who asks, as the read side knows them: their account, their
// login's hash (account.Login.Hash, the accounts read model's login key)
// and the enterprises they belong to.
type Caller struct {
	AccountID   string
	LoginKey    string
	Enterprises []Membership
}

// Membership is the caller's place in an enterprise.
type Membership struct {
	ID       string
	Name     string // verified name
	Role     string // master_admin, admin, member (creator for an unverified case)
	Verified bool
}

// Reader answers contract queries from Redis.
type Reader struct{ DB *redisdb.DB }

func (r Reader) key(parts ...string) string { return projections.Key(r.DB, Name, parts...) }

// Access says whether c may see the contract: nil for its sender, the
// administrators (master_admin, admin) of the sending enterprise, a caller
// whose login is a party's contact, any member of a verified enterprise
// named as an enterprise party, its approvers and the accounts that signed
// or refused for a party; ErrNotAParty for anyone else, ErrNotFound when
// there is no such contract.
func (r Reader) Access(ctx context.Context, id string, c Caller) error {
	if !projections.ValidID(id) {
		return ErrNotFound
	}
	var names []any
	for _, m := range c.Enterprises {
		if m.Verified && m.Name != "" {
			names = append(names, m.Name)
		}
	}
	pipe := r.DB.Pipeline()
	core := pipe.HMGet(ctx, r.key(contractKey(id)), "id", "sender_account", "sender_enterprise", "sent_at")
	var approver *redis.BoolCmd
	var hits []*redis.BoolCmd // the parties'
	if c.LoginKey != "" {
		hits = append(hits, pipe.SIsMember(ctx, r.key(contactsKey(id)), c.LoginKey))
	}
	if c.AccountID != "" {
		approver = pipe.SIsMember(ctx, r.key(approversKey(id)), c.AccountID)
		hits = append(hits, pipe.SIsMember(ctx, r.key(signersKey(id)), c.AccountID))
	}
	var named *redis.BoolSliceCmd
	if len(names) > 0 {
		named = pipe.SMIsMember(ctx, r.key(enterprisesKey(id)), names...)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("read access to contract %s: %w", id, err)
	}
	h := hashOf([]string{"id", "sender_account", "sender_enterprise", "sent_at"}, core.Val())
	if h["id"] == "" {
		return ErrNotFound
	}
	if c.AccountID != "" && h["sender_account"] == c.AccountID {
		return nil
	}
	if se := h["sender_enterprise"]; se != "" {
		for _, m := range c.Enterprises {
			if m.ID == se && (m.Role == "master_admin" || m.Role == "admin" || m.Role == "auditor") {
				return nil
			}
		}
	}
	if approver != nil && approver.Val() {
		return nil
	}
	// The parties see a contract once it is sent to them: not while it
	// waits for approval, nor when its approver stopped it.
	if h["sent_at"] == "" {
		return ErrNotAParty
	}
	for _, b := range hits {
		if b.Val() {
			return nil
		}
	}
	if named != nil && slices.Contains(named.Val(), true) {
		return nil
	}
	return ErrNotAParty
}

// Contract returns the contract's view, or ErrNotFound.
func (r Reader) Contract(ctx context.Context, id string) (ContractView, error) {
	if !projections.ValidID(id) {
		return ContractView{}, ErrNotFound
	}
	pipe := r.DB.Pipeline()
	hc := pipe.HGetAll(ctx, r.key(contractKey(id)))
	fc := pipe.ZRange(ctx, r.key(historyKey(id)), 0, maxHistory-1)
	if _, err := pipe.Exec(ctx); err != nil {
		return ContractView{}, fmt.Errorf("read contract %s: %w", id, err)
	}
	h := hash(hc.Val())
	if h["id"] == "" {
		return ContractView{}, ErrNotFound
	}
	v, err := h.view()
	if err != nil {
		return ContractView{}, fmt.Errorf("contract %s: %w", id, err)
	}
	v.History = make([]HistoryEntry, 0, len(fc.Val()))
	for _, m := range fc.Val() {
		var f fact
		if err := json.Unmarshal([]byte(m), &f); err != nil {
			return ContractView{}, fmt.Errorf("history of contract %s: %w", id, err)
		}
		v.History = append(v.History, HistoryEntry{Version: f.Version, At: f.At, Type: f.Type, Actor: f.Actor,
			ActorName: f.ActorName, Summary: summarize(f, &v)})
	}
	return v, nil
}

func (h hash) view() (ContractView, error) {
	v := ContractView{
		ID: h["id"], Number: h["number"], Title: h["title"], ContractType: h["contract_type"], Status: h["status"],
		Sender:     Sender{AccountID: h["sender_account"], EnterpriseID: h["sender_enterprise"], Name: h["sender_name"], PersonName: h["sender_person"]},
		Sequential: h["sequential"] == "1", SigningDeadline: h.time("signing_deadline"), ExpiresAt: h.timePtr("expires_at"),
		CreatedAt: h.time("created_at"), SentAt: h.timePtr("sent_at"), CompletedAt: h.timePtr("completed_at"),
		Parties: []PartyView{}, Documents: []DocumentView{}, Fields: []layout.Field{}, Values: map[string]string{},
	}
	v.Version, _ = strconv.ParseUint(h["version"], 10, 64)
	if h["template_id"] != "" {
		tv, _ := strconv.ParseUint(h["template_version"], 10, 64)
		v.Template = &TemplateRef{ID: h["template_id"], Version: tv}
	}
	if at := h.timePtr("ended_at"); at != nil {
		v.Ended = &Ending{Kind: h["end_kind"], By: h["end_by"], Reason: h["end_reason"], At: *at}
	}
	if h["approval_status"] != "" {
		a := &Approval{Status: h["approval_status"], Approvers: []string{}, SubmittedAt: h.time("approval_submitted_at"),
			DecidedBy: h["approval_decided_by"], DecidedAt: h.timePtr("approval_decided_at"), Reason: h["approval_reason"]}
		if err := h.decode("approval_approvers", &a.Approvers); err != nil {
			return v, err
		}
		v.Approval = a
	}
	var docs []layout.Document
	for _, err := range []error{h.decode("documents", &docs), h.decode("fields", &v.Fields), h.decode("values", &v.Values)} {
		if err != nil {
			return v, err
		}
	}
	if v.Fields == nil {
		v.Fields = []layout.Field{}
	}
	if v.Values == nil {
		v.Values = map[string]string{}
	}
	for _, d := range docs {
		v.Documents = append(v.Documents, DocumentView{Document: d, SentSHA256: h[sentPrefix+d.ID], SignedSHA256: h[latestPrefix+d.ID], FinalSHA256: h[finalPrefix+d.ID]})
	}
	if h["fully_signed_at"] != "" || h["sealing_attempts"] != "" {
		s := &Sealing{SealedAt: h.timePtr("sealed_at"), CertificateSHA256: h["certificate_sha256"]}
		s.Attempts, _ = strconv.Atoi(h["sealing_attempts"])
		if at := h.timePtr("sealing_failed_at"); at != nil {
			s.LastFailure = &Failure{Step: h["sealing_step"], Reason: h["sealing_reason"], At: *at, RetryAt: h.time("sealing_retry_at")}
		}
		v.Sealing = s
	}
	parties, err := h.parties()
	if err != nil {
		return v, err
	}
	v.Parties = parties
	v.setTurn()
	return v, nil
}

type indexedParty struct {
	PartyView
	index int
}

func (h hash) parties() ([]PartyView, error) {
	var ps []indexedParty
	for f, val := range h {
		pid, ok := strings.CutPrefix(f, partyPrefix)
		if !ok {
			continue
		}
		var sp storedParty
		if err := json.Unmarshal([]byte(val), &sp); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		p := PartyView{ID: sp.ID, Role: sp.Role, Kind: sp.Kind, Order: sp.Order, Name: sp.Name,
			Contact: Contact{Kind: sp.ContactKind, Value: sp.Contact}, EnterpriseName: sp.EnterpriseName}
		if s := h[signedPrefix+pid]; s != "" {
			p.Signed = &Signing{}
			if err := json.Unmarshal([]byte(s), p.Signed); err != nil {
				return nil, fmt.Errorf("%s%s: %w", signedPrefix, pid, err)
			}
		}
		if s := h[rejectedPrefix+pid]; s != "" {
			p.Rejected = &Rejection{}
			if err := json.Unmarshal([]byte(s), p.Rejected); err != nil {
				return nil, fmt.Errorf("%s%s: %w", rejectedPrefix, pid, err)
			}
		}
		ps = append(ps, indexedParty{p, sp.Index})
	}
	slices.SortFunc(ps, func(a, b indexedParty) int { return cmp.Or(cmp.Compare(a.index, b.index), cmp.Compare(a.ID, b.ID)) })
	out := make([]PartyView, len(ps))
	for i, p := range ps {
		out[i] = p.PartyView
	}
	return out, nil
}

// setTurn gives each party its status. While the contract is being signed
// every unsigned party may sign, or in sequential signing those of the
// lowest order among the unsigned (as contract.Contract.Turn decides).
func (v *ContractView) setTurn() {
	low := 0
	for _, p := range v.Parties {
		if p.Signed == nil && (low == 0 || p.Order < low) {
			low = p.Order
		}
	}
	for i := range v.Parties {
		p := &v.Parties[i]
		switch {
		case p.Rejected != nil:
			p.Status = PartyRejected
		case p.Signed != nil:
			p.Status = PartySigned
		case v.Status == string(contract.StatusSigning) && (!v.Sequential || p.Order == low):
			p.Status = PartyToSign
		default:
			p.Status = PartyWaiting
		}
	}
}

// PendingApprovals lists up to limit contracts waiting for accountID's
// approval, the one submitted first first.
func (r Reader) PendingApprovals(ctx context.Context, accountID string, limit int) ([]ApprovalItem, error) {
	out := []ApprovalItem{}
	if limit <= 0 || !projections.ValidID(accountID) {
		return out, nil
	}
	fields := []string{"id", "status", "number", "title", "contract_type", "sender_account", "sender_enterprise", "sender_name",
		"sender_person", "approval_submitted_at", "signing_deadline"}
	page := int64(min(max(limit, 20), 500))
	for offset := int64(0); len(out) < limit; offset += page {
		ids, err := r.DB.ZRange(ctx, r.key(approvalsKey(accountID)), offset, offset+page-1).Result()
		if err != nil {
			return nil, fmt.Errorf("read approvals of %s: %w", accountID, err)
		}
		if len(ids) == 0 {
			break
		}
		hs, err := r.hashes(ctx, ids, fields)
		if err != nil {
			return nil, fmt.Errorf("read approvals of %s: %w", accountID, err)
		}
		for _, h := range hs {
			// Every ending takes a contract off all lists; the status is a
			// second guard, so that only a waiting contract is shown.
			if h["id"] == "" || h["status"] != string(contract.StatusPendingApproval) {
				continue
			}
			out = append(out, ApprovalItem{ContractID: h["id"], Number: h["number"], Title: h["title"], ContractType: h["contract_type"],
				Sender: Sender{AccountID: h["sender_account"], EnterpriseID: h["sender_enterprise"], Name: h["sender_name"],
					PersonName: h["sender_person"]},
				SubmittedAt: h.time("approval_submitted_at"), SigningDeadline: h.time("signing_deadline")})
			if len(out) == limit {
				break
			}
		}
		if int64(len(ids)) < page {
			break
		}
	}
	return out, nil
}

// Due lists up to limit contracts that may still expire, being signed or
// waiting for approval, whose signing deadline is at or before until, the
// earliest deadline first: what the deadline scheduler expires.
func (r Reader) Due(ctx context.Context, until time.Time, limit int) ([]string, error) {
	if limit <= 0 {
		return []string{}, nil
	}
	upto := strconv.FormatInt(until.UnixMilli(), 10)
	type due struct {
		id    string
		score float64
	}
	var all []due
	for b := range uint32(dueBuckets) {
		key := r.key(dueBucketKey(b))
		found := 0
		for offset := int64(0); found < limit; offset += int64(limit) {
			zs, err := r.DB.ZRangeByScoreWithScores(ctx, key, &redis.ZRangeBy{Min: "-inf", Max: upto, Offset: offset, Count: int64(limit)}).Result()
			if err != nil {
				return nil, fmt.Errorf("read due contracts: %w", err)
			}
			ids := make([]string, len(zs))
			for i, z := range zs {
				ids[i], _ = z.Member.(string)
			}
			hs, err := r.hashes(ctx, ids, []string{"status"})
			if err != nil {
				return nil, fmt.Errorf("read due contracts: %w", err)
			}
			for i, h := range hs {
				if s := h["status"]; (s == string(contract.StatusSigning) || s == string(contract.StatusPendingApproval)) && found < limit {
					all = append(all, due{ids[i], zs[i].Score})
					found++
				}
			}
			if len(zs) < limit {
				break
			}
		}
	}
	slices.SortFunc(all, func(a, b due) int { return cmp.Or(cmp.Compare(a.score, b.score), cmp.Compare(a.id, b.id)) })
	out := make([]string, 0, min(limit, len(all)))
	for _, d := range all[:min(limit, len(all))] {
		out = append(out, d.id)
	}
	return out, nil
}

// hashes reads fields of the contracts ids, in order.
func (r Reader) hashes(ctx context.Context, ids []string, fields []string) ([]hash, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	pipe := r.DB.Pipeline()
	cmds := make([]*redis.SliceCmd, len(ids))
	for i, id := range ids {
		cmds[i] = pipe.HMGet(ctx, r.key(contractKey(id)), fields...)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, err
	}
	out := make([]hash, len(ids))
	for i, c := range cmds {
		out[i] = hashOf(fields, c.Val())
	}
	return out, nil
}

// hash is a contract document as read from Redis.
type hash map[string]string

func hashOf(fields []string, vals []any) hash { return projections.Fields(fields, vals) }

func (h hash) time(f string) time.Time { return projections.ParseTime(h[f]) }

func (h hash) timePtr(f string) *time.Time { return projections.ParseTimePtr(h[f]) }

func (h hash) decode(f string, dst any) error {
	if h[f] == "" {
		return nil
	}
	if err := json.Unmarshal([]byte(h[f]), dst); err != nil {
		return fmt.Errorf("%s: %w", f, err)
	}
	return nil
}

// SealingDue lists up to limit contracts whose final documents are due by
// until: every party signed and the last attempt (if any) failed or never
// told its outcome. The one due first comes first.
func (r Reader) SealingDue(ctx context.Context, until time.Time, limit int) ([]string, error) {
	if limit <= 0 {
		return []string{}, nil
	}
	ids, err := r.DB.ZRangeByScore(ctx, r.key(sealingKey), &redis.ZRangeBy{Min: "-inf", Max: strconv.FormatInt(until.UnixMilli(), 10), Count: int64(limit)}).Result()
	if err != nil {
		return nil, fmt.Errorf("read contracts due for sealing: %w", err)
	}
	return ids, nil
}

// Package contracts is the read model of contracts: the detail the
// sender's side and the parties see (status, parties and how each signed,
// documents, a readable history), who may see it, the contracts waiting
// for each approver, and the signing deadlines the scheduler watches.
//
// Personal data stays masked: party contacts are kept as "138****8000" or
// "l***@example.com" (and as the login's hash, to recognise the party when
// they log in), client IPs without their last octet, and phone numbers,
// ID numbers and email addresses quoted in reasons are masked too.
//
// Keys (relative to the projection's namespace):
//
//	contract:<id>              hash: the contract's fields (builder.created), and per party
//	                           "party:<pid>", "signed:<pid>", "rejected:<pid>" (JSON), per
//	                           document "sent:<did>", "latest:<did>" (SHA-256)
//	contract:<id>:history      sorted set: what happened, by stream version (JSON facts)
//	contract:<id>:contacts     set: the parties' login hashes (account.Login.Hash)
//	contract:<id>:enterprises  set: the enterprise parties' names
//	contract:<id>:approvers    set: the accounts asked to approve it
//	contract:<id>:signers      set: the accounts that signed or refused for a party
//	approvals:<accountID>      sorted set: contracts submitted to the approver, by submission time (ms)
//	due:<bucket>               sorted set: contracts not ended, by signing deadline (ms); 16 buckets by ID
//
// Handle sees one event at a time. The events that end an approval (or a
// contract waiting for one) name every approver, so the contract leaves
// all their lists; the events that end a contract do not repeat the
// deadline, so the deadline index is keyed by contract ID (not by day) and
// every ending takes the contract off it exactly.
package contracts

import (
	"context"
	"fmt"
	"hash/fnv"
	"signet/domain/identity"
	"strconv"
	"strings"
	"time"

	"signet/domain/account"
	"signet/domain/contract"
	"signet/domain/event"
	"signet/projections"
)

// Name is the projection's stable name (consumer, checkpoint, key namespace).
const Name = "contracts"

// Approval states.
const (
	ApprovalPending  = "pending"
	ApprovalApproved = "approved"
	ApprovalRejected = "rejected"
)

func contractKey(id string) string    { return "contract:" + id }
func historyKey(id string) string     { return "contract:" + id + ":history" }
func contactsKey(id string) string    { return "contract:" + id + ":contacts" }
func enterprisesKey(id string) string { return "contract:" + id + ":enterprises" }
func approversKey(id string) string   { return "contract:" + id + ":approvers" }
func signersKey(id string) string     { return "contract:" + id + ":signers" }
func approvalsKey(aid string) string  { return "approvals:" + aid }

// dueBuckets spreads the deadline index over a few sorted sets so that none
// holds every open contract.
const dueBuckets = 16

func dueKey(id string) string {
	h := fnv.New32a()
	h.Write([]byte(id))
	return dueBucketKey(h.Sum32() % dueBuckets)
}

func dueBucketKey(b uint32) string { return "due:" + strconv.FormatUint(uint64(b), 16) }

// Hash field prefixes of per-party and per-document state.
const (
	partyPrefix    = "party:"    // + party ID: storedParty JSON
	signedPrefix   = "signed:"   // + party ID: Signing JSON
	rejectedPrefix = "rejected:" // + party ID: Rejection JSON
	sentPrefix     = "sent:"     // + document ID: SHA-256 as sent
	latestPrefix   = "latest:"   // + document ID: SHA-256 after the last signature
	finalPrefix    = "final:"    // + document ID: SHA-256 of the sealed (stamped and signed) PDF
)

// sealingKey indexes contracts whose final documents are due, scored by
// when the next attempt is (milliseconds).
const sealingKey = "sealing"

// sealingGrace is how long the attempt made at the last signature has
// before the sealing policy tries again.
const sealingGrace = time.Minute

// storedParty is a party as kept: the contact masked.
type storedParty struct {
	ID             string `json:"id"`
	Role           string `json:"role"`
	Kind           string `json:"kind"`
	Order          int    `json:"order"`
	Index          int    `json:"index"` // place in the sender's list
	Name           string `json:"name"`
	ContactKind    string `json:"contact_kind"`
	Contact        string `json:"contact"` // masked
	EnterpriseName string `json:"enterprise_name,omitempty"`
}

// Signing is how a party signed. ClientIP is masked.
type Signing struct {
	SignerAccountID string    `json:"signer_account_id"`
	SignerName      string    `json:"signer_name"`
	EnterpriseID    string    `json:"enterprise_id,omitempty"`
	SealID          string    `json:"seal_id,omitempty"`
	SealName        string    `json:"seal_name,omitempty"`
	SignatureKind   string    `json:"signature_kind,omitempty"`
	Willingness     string    `json:"willingness"`                   // method, e.g. sms_code
	WillingnessVia  string    `json:"willingness_channel,omitempty"` // sms or email
	ClientIP        string    `json:"client_ip,omitempty"`           // masked
	SignedAt        time.Time `json:"signed_at"`
}

// Rejection is how a party refused to sign. The reason is scrubbed of
// phone numbers, ID numbers and email addresses; ClientIP is masked.
type Rejection struct {
	SignerAccountID string    `json:"signer_account_id"`
	EnterpriseID    string    `json:"enterprise_id,omitempty"`
	Reason          string    `json:"reason"` // scrubbed
	ClientIP        string    `json:"client_ip,omitempty"`
	RejectedAt      time.Time `json:"rejected_at"`
}

// fact is a history entry as kept: what happened, in data; readers render
// it into sentences with the contract's parties at hand.
type fact struct {
	Version     uint64     `json:"version"`
	At          time.Time  `json:"at"`
	Type        string     `json:"type"`
	Actor       string     `json:"actor,omitempty"`
	ActorName   string     `json:"actor_name,omitempty"`
	PartyID     string     `json:"party_id,omitempty"`
	Seal        string     `json:"seal,omitempty"`
	Signature   string     `json:"signature,omitempty"`
	Willingness string     `json:"willingness,omitempty"`
	Reason      string     `json:"reason,omitempty"` // scrubbed
	Count       int        `json:"count,omitempty"`
	Deadline    *time.Time `json:"deadline,omitempty"`
}

// Projection maps contract events to the read model.
type Projection struct{}

func (Projection) Name() string { return Name }

// Handle ignores every stream but "contract-<id>".
func (Projection) Handle(_ context.Context, e event.Envelope) ([]projections.Op, error) {
	if event.Category(e.Stream) != contract.Category {
		return nil, nil
	}
	id := strings.TrimPrefix(e.Stream, contract.Category+"-")
	if !projections.ValidID(id) {
		return nil, fmt.Errorf("%s@%d: contract ID not usable as a key", e.Stream, e.Version)
	}
	decoded, err := contract.DecodeEnvelope(e)
	if err != nil {
		return nil, err
	}
	if _, ok := decoded.(contract.ContractNumberReserved); ok {
		return nil, nil // lives in "contractno-<n>"; says only that a number is taken
	}
	b := &builder{id: id, version: e.Version, actor: e.Meta.Actor}
	if err := b.event(decoded); err != nil {
		return nil, fmt.Errorf("%s@%d: %w", e.Stream, e.Version, err)
	}
	return b.ops(), nil
}

type builder struct {
	id      string
	version uint64
	actor   string // the envelope's
	set     []any
	other   []projections.Op
}

func (b *builder) hset(kv ...any) { b.set = append(b.set, kv...) }
func (b *builder) add(op ...projections.Op) {
	b.other = append(b.other, op...)
}

func (b *builder) history(f fact) {
	f.Version = b.version
	f.At = f.At.UTC()
	if f.Actor == "" {
		f.Actor = b.actor
	}
	b.add(projections.ZAdd(historyKey(b.id), float64(b.version), projections.MustJSON(f)))
}

func (b *builder) ops() []projections.Op {
	out := []projections.Op{projections.HSet(contractKey(b.id), append(b.set, "version", strconv.FormatUint(b.version, 10))...)}
	return append(out, b.other...)
}

// end records how a contract ended and takes it off the deadline index.
func (b *builder) end(status contract.Status, at time.Time, by, reason string) {
	b.hset("status", string(status), "ended_at", ts(at), "end_kind", string(status), "end_by", by, "end_reason", reason)
	b.add(projections.ZRem(dueKey(b.id), b.id))
}

func (b *builder) event(ev contract.Event) error {
	switch ev := ev.(type) {
	case contract.ContractCreated:
		return b.created(ev)
	case contract.ContractSubmittedForApproval:
		for _, a := range ev.Approvers {
			if !projections.ValidID(a) {
				return fmt.Errorf("approver %q not usable as a key", a)
			}
			b.add(projections.ZAdd(approvalsKey(a), float64(ev.SubmittedAt.UnixMilli()), b.id))
		}
		if len(ev.Approvers) > 0 {
			b.add(projections.SAdd(approversKey(b.id), ev.Approvers...))
		}
		b.hset("status", string(contract.StatusPendingApproval), "approval_status", ApprovalPending, "approval_approvers", projections.MustJSON(ev.Approvers),
			"approval_submitted_at", ts(ev.SubmittedAt))
		b.history(fact{At: ev.SubmittedAt, Type: contract.TypeContractSubmittedForApproval, Count: len(ev.Approvers)})
	case contract.ContractApproved:
		if err := b.decided(append([]string{ev.ApproverID}, ev.Approvers...)); err != nil {
			return err
		}
		b.hset("status", string(contract.StatusApproved), "approval_status", ApprovalApproved, "approval_decided_by", ev.ApproverID,
			"approval_decided_at", ts(ev.ApprovedAt))
		b.history(fact{At: ev.ApprovedAt, Type: contract.TypeContractApproved, Actor: ev.ApproverID})
	case contract.ContractApprovalRejected:
		if err := b.decided(append([]string{ev.ApproverID}, ev.Approvers...)); err != nil {
			return err
		}
		reason := scrub(ev.Reason)
		b.hset("approval_status", ApprovalRejected, "approval_decided_by", ev.ApproverID, "approval_decided_at", ts(ev.RejectedAt),
			"approval_reason", reason)
		b.end(contract.StatusApprovalRejected, ev.RejectedAt, ev.ApproverID, reason)
		b.history(fact{At: ev.RejectedAt, Type: contract.TypeContractApprovalRejected, Actor: ev.ApproverID, Reason: reason})
	case contract.ContractSent:
		b.hset("status", string(contract.StatusSigning), "sent_at", ts(ev.SentAt), "sent_by", ev.SentBy)
		for _, d := range ev.Documents {
			b.hset(sentPrefix+d.DocumentID, d.SHA256)
		}
		b.history(fact{At: ev.SentAt, Type: contract.TypeContractSent, Actor: ev.SentBy})
	case contract.PartySigned:
		s := Signing{SignerAccountID: ev.SignerAccountID, SignerName: ev.SignerName, EnterpriseID: ev.EnterpriseID,
			Willingness: ev.Willingness.Method, WillingnessVia: ev.Willingness.Channel, ClientIP: identity.MaskIP(ev.ClientIP), SignedAt: ev.SignedAt.UTC()}
		f := fact{At: ev.SignedAt, Type: contract.TypePartySigned, Actor: ev.SignerAccountID, ActorName: ev.SignerName,
			PartyID: ev.PartyID, Willingness: ev.Willingness.Method}
		if ev.Seal != nil {
			s.SealID, s.SealName, f.Seal = ev.Seal.SealID, ev.Seal.Name, ev.Seal.Name
		}
		if ev.Signature != nil {
			s.SignatureKind, f.Signature = ev.Signature.Kind, ev.Signature.Kind
		}
		b.hset(signedPrefix+ev.PartyID, projections.MustJSON(s))
		for _, d := range ev.Documents {
			b.hset(latestPrefix+d.DocumentID, d.SHA256)
		}
		if ev.SignerAccountID != "" {
			b.add(projections.SAdd(signersKey(b.id), ev.SignerAccountID))
		}
		b.history(f)
	case contract.PartyRejected:
		reason := scrub(ev.Reason)
		b.hset(rejectedPrefix+ev.PartyID, projections.MustJSON(Rejection{SignerAccountID: ev.SignerAccountID, EnterpriseID: ev.EnterpriseID,
			Reason: reason, ClientIP: identity.MaskIP(ev.ClientIP), RejectedAt: ev.RejectedAt.UTC()}))
		if ev.SignerAccountID != "" {
			b.add(projections.SAdd(signersKey(b.id), ev.SignerAccountID))
		}
		b.end(contract.StatusRejected, ev.RejectedAt, ev.SignerAccountID, reason)
		b.history(fact{At: ev.RejectedAt, Type: contract.TypePartyRejected, Actor: ev.SignerAccountID, PartyID: ev.PartyID, Reason: reason})
	case contract.ContractRevoked:
		if err := b.decided(ev.Approvers); err != nil {
			return err
		}
		reason := scrub(ev.Reason)
		b.end(contract.StatusRevoked, ev.RevokedAt, ev.RevokedBy, reason)
		b.history(fact{At: ev.RevokedAt, Type: contract.TypeContractRevoked, Actor: ev.RevokedBy, Reason: reason})
	case contract.ContractExpired:
		if err := b.decided(ev.Approvers); err != nil {
			return err
		}
		b.end(contract.StatusExpired, ev.ExpiredAt, "", "")
		d := ev.Deadline.UTC()
		b.history(fact{At: ev.ExpiredAt, Type: contract.TypeContractExpired, Deadline: &d})
	case contract.ContractFullySigned:
		// Off the deadline index; on the sealing one, due a minute from now
		// in case the attempt made at once never records its outcome.
		b.hset("status", string(contract.StatusSealing), "fully_signed_at", ts(ev.SignedAt))
		b.add(projections.ZRem(dueKey(b.id), b.id), projections.ZAdd(sealingKey, float64(ev.SignedAt.Add(sealingGrace).UnixMilli()), b.id))
		b.history(fact{At: ev.SignedAt, Type: contract.TypeContractFullySigned})
	case contract.ContractSealingFailed:
		b.hset("status", string(contract.StatusSealing), "sealing_attempts", ev.Attempt, "sealing_failed_at", ts(ev.FailedAt),
			"sealing_step", ev.Step, "sealing_reason", scrub(ev.Reason), "sealing_retry_at", ts(ev.RetryAt))
		b.add(projections.ZRem(dueKey(b.id), b.id), projections.ZAdd(sealingKey, float64(ev.RetryAt.UnixMilli()), b.id))
		b.history(fact{At: ev.FailedAt, Type: contract.TypeContractSealingFailed, Count: ev.Attempt, Reason: scrub(ev.Reason)})
	case contract.ContractSealed:
		for _, d := range ev.Documents {
			b.hset(finalPrefix+d.DocumentID, d.SHA256)
		}
		b.hset("sealed_at", ts(ev.SealedAt), "certificate_sha256", ev.CertificateSHA256, "sealing_attempts", ev.Attempt)
		b.add(projections.ZRem(sealingKey, b.id))
		b.history(fact{At: ev.SealedAt, Type: contract.TypeContractSealed, Count: len(ev.Documents)})
	case contract.ContractCompleted:
		b.hset("status", string(contract.StatusCompleted), "completed_at", ts(ev.CompletedAt))
		b.add(projections.ZRem(dueKey(b.id), b.id), projections.ZRem(sealingKey, b.id))
		b.history(fact{At: ev.CompletedAt, Type: contract.TypeContractCompleted})
	default:
		return fmt.Errorf("decoded %T", ev)
	}
	return nil
}

// decided takes the contract off the approvers' lists.
func (b *builder) decided(approvers []string) error {
	for _, a := range approvers {
		if !projections.ValidID(a) {
			return fmt.Errorf("approver %q not usable as a key", a)
		}
		b.add(projections.ZRem(approvalsKey(a), b.id))
	}
	return nil
}

func (b *builder) created(ev contract.ContractCreated) error {
	s := ev.Sender
	b.hset("id", b.id, "number", ev.Number, "title", ev.Title, "contract_type", ev.ContractType, "status", string(contract.StatusCreated),
		"sender_account", s.AccountID, "sender_enterprise", s.EnterpriseID, "sender_name", s.Name, "sender_person", s.PersonName,
		"sequential", ev.Sequential, "signing_deadline", ts(ev.SigningDeadline), "created_at", ts(ev.CreatedAt),
		"documents", projections.MustJSON(ev.Documents), "fields", projections.MustJSON(ev.Fields), "values", projections.MustJSON(ev.Values))
	if ev.Template != nil {
		b.hset("template_id", ev.Template.ID, "template_version", ev.Template.Version)
	}
	if ev.ExpiresAt != nil {
		b.hset("expires_at", ts(*ev.ExpiresAt))
	}
	var contacts, names []string
	for i, p := range ev.Parties {
		sp := storedParty{ID: p.ID, Role: p.Role, Kind: string(p.Kind), Order: p.Order, Index: i, Name: p.Name,
			ContactKind: p.Contact.Kind, EnterpriseName: p.EnterpriseName}
		if l, err := account.ParseLogin(p.Contact.Value); err == nil {
			sp.ContactKind, sp.Contact = string(l.Kind()), l.Mask()
			contacts = append(contacts, l.Hash())
		}
		if n := strings.TrimSpace(p.EnterpriseName); n != "" {
			names = append(names, n)
		}
		b.hset(partyPrefix+p.ID, projections.MustJSON(sp))
	}
	if len(contacts) > 0 {
		b.add(projections.SAdd(contactsKey(b.id), contacts...))
	}
	if len(names) > 0 {
		b.add(projections.SAdd(enterprisesKey(b.id), names...))
	}
	b.add(projections.ZAdd(dueKey(b.id), float64(ev.SigningDeadline.UnixMilli()), b.id))
	b.history(fact{At: ev.CreatedAt, Type: contract.TypeContractCreated, Actor: s.AccountID, ActorName: s.PersonName, Count: len(ev.Parties)})
	return nil
}

// ts is how times are stored: RFC 3339 in UTC, "" for none.
func ts(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

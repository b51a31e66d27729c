// Package contract is the contract aggregate: what the sender decided
// (documents, parties, fields, deadline), the optional approval before it
// goes out, and each party's signature or refusal, until the contract is
// completed, rejected, revoked or expired (seed section 03). Every step is
// an event on "contract-<id>"; the documents' hashes are frozen when the
// contract is sent and recorded again with each signature.
package contract

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"signet/domain/event"
	"signet/domain/fault"
)

// Category is the stream category of contracts: "contract-<uuid>".
const Category = "contract"

// StreamOf names a contract's stream.
func StreamOf(id string) string { return event.StreamName(Category, id) }

// NumberCategory is the category of contract number reservations.
const NumberCategory = "contractno"

// NumberStream names the reservation stream of a contract number.
func NumberStream(number string) string { return event.StreamName(NumberCategory, number) }

// Shanghai is the zone of the seed's calendar (contract numbers, due days).
var Shanghai = time.FixedZone("Asia/Shanghai", 8*60*60)

// Status is where a contract stands.
type Status string

const (
	StatusCreated          Status = "created" // between ContractCreated and ContractSent in one append
	StatusPendingApproval  Status = "pending_approval"
	StatusApproved         Status = "approved" // between ContractApproved and ContractSent in one append
	StatusApprovalRejected Status = "approval_rejected"
	StatusSigning          Status = "signing"
	StatusSealing          Status = "sealing" // every party signed; the final documents are being produced
	StatusCompleted        Status = "completed"
	StatusRejected         Status = "rejected"
	StatusRevoked          Status = "revoked"
	StatusExpired          Status = "expired"
)

// Ended reports whether no party can sign any more.
func (s Status) Ended() bool {
	switch s {
	case StatusApprovalRejected, StatusCompleted, StatusRejected, StatusRevoked, StatusExpired:
		return true
	}
	return false
}

// Limits of what a sender may decide.
const (
	MaxTitleRunes  = 100
	MaxReasonRunes = 500
	// MaxSigningWindow bounds the signing deadline (peers allow up to a year).
	MaxSigningWindow = 365 * 24 * time.Hour
)

// Contract is the aggregate's state, rebuilt from its events.
type Contract struct {
	version   uint64
	created   *ContractCreated
	status    Status
	approvers []string
	sent      *ContractSent
	signed    map[string]PartySigned
	rejected  *PartyRejected
	endedAt   time.Time
	sealed    *ContractSealed
	failures  []ContractSealingFailed
}

// New returns the state of a contract that does not exist yet.
func New() *Contract { return &Contract{signed: map[string]PartySigned{}} }

// Apply mutates the contract by one event and advances its version.
func (c *Contract) Apply(e Event) error {
	if c.signed == nil {
		c.signed = map[string]PartySigned{}
	}
	if _, opens := e.(ContractCreated); opens != (c.version == 0) {
		return fmt.Errorf("%w: %s at contract version %d", event.ErrInvalid, e.EventType(), c.version+1)
	}
	switch e := e.(type) {
	case ContractCreated:
		c.created, c.status = &e, StatusCreated
	case ContractSubmittedForApproval:
		c.status, c.approvers = StatusPendingApproval, slices.Clone(e.Approvers)
	case ContractApproved:
		c.status = StatusApproved
	case ContractApprovalRejected:
		c.status, c.endedAt = StatusApprovalRejected, e.RejectedAt
	case ContractSent:
		c.status, c.sent = StatusSigning, &e
	case PartySigned:
		c.signed[e.PartyID] = e
	case ContractFullySigned:
		c.status = StatusSealing
	case ContractSealed:
		c.sealed = &e
	case ContractSealingFailed:
		c.failures = append(c.failures, e)
	case PartyRejected:
		c.status, c.rejected, c.endedAt = StatusRejected, &e, e.RejectedAt
	case ContractRevoked:
		c.status, c.endedAt = StatusRevoked, e.RevokedAt
	case ContractExpired:
		c.status, c.endedAt = StatusExpired, e.ExpiredAt
	case ContractCompleted:
		c.status, c.endedAt = StatusCompleted, e.CompletedAt
	default:
		return fmt.Errorf("%w: %s is not an event of a contract stream", event.ErrInvalid, e.EventType())
	}
	c.version++
	return nil
}

// Replay rebuilds a contract from its stream read forwards.
func Replay(envs []event.Envelope) (*Contract, error) {
	c := New()
	for _, env := range envs {
		e, err := DecodeEnvelope(env)
		if err != nil {
			return nil, fmt.Errorf("%s@%d: %w", env.Stream, env.Version, err)
		}
		if err := c.Apply(e); err != nil {
			return nil, fmt.Errorf("%s@%d: %w", env.Stream, env.Version, err)
		}
	}
	return c, nil
}

// Accessors.
func (c *Contract) Version() uint64 { return c.version }
func (c *Contract) Exists() bool    { return c.created != nil }
func (c *Contract) Status() Status  { return c.status }

// EndedAt is when the contract ended (zero while it is open).
func (c *Contract) EndedAt() time.Time { return c.endedAt }

// Rejection is a party's refusal, if one rejected it.
func (c *Contract) Rejection() (PartyRejected, bool) {
	if c.rejected == nil {
		return PartyRejected{}, false
	}
	return *c.rejected, true
}

// Created is what the sender decided (zero when the contract does not exist).
func (c *Contract) Created() ContractCreated {
	if c.created == nil {
		return ContractCreated{}
	}
	return *c.created
}

// ID is the contract's ID.
func (c *Contract) ID() string { return c.Created().ContractID }

// Sender is who sent it.
func (c *Contract) Sender() Sender { return c.Created().Sender }

// Approvers may approve it while it waits for approval.
func (c *Contract) Approvers() []string { return slices.Clone(c.approvers) }

// Party finds a party by ID.
func (c *Contract) Party(id string) (Party, bool) {
	for _, p := range c.Created().Parties {
		if p.ID == id {
			return p, true
		}
	}
	return Party{}, false
}

// Signature returns a party's signature, if it signed.
func (c *Contract) Signature(partyID string) (PartySigned, bool) {
	s, ok := c.signed[partyID]
	return s, ok
}

// Sealing tells what producing the final documents came to: the result
// once sealed, and the failed attempts before it.
func (c *Contract) Sealing() (sealed *ContractSealed, failures []ContractSealingFailed) {
	if c.sealed != nil {
		s := *c.sealed
		sealed = &s
	}
	return sealed, slices.Clone(c.failures)
}

// SignedOrder lists the signatures in the order they were made.
func (c *Contract) SignedOrder() []PartySigned {
	out := make([]PartySigned, 0, len(c.signed))
	for _, s := range c.signed {
		out = append(out, s)
	}
	slices.SortStableFunc(out, func(a, b PartySigned) int { return a.SignedAt.Compare(b.SignedAt) })
	return out
}

// Sent returns what sending froze, if it was sent.
func (c *Contract) Sent() (ContractSent, bool) {
	if c.sent == nil {
		return ContractSent{}, false
	}
	return *c.sent, true
}

// Turn lists the parties that may sign now: every unsigned party in
// parallel signing; in sequential signing, the unsigned parties of the
// lowest order. Empty unless the contract is being signed.
func (c *Contract) Turn() []Party {
	if c.status != StatusSigning {
		return nil
	}
	var out []Party
	low := 0
	for _, p := range c.Created().Parties {
		if _, done := c.signed[p.ID]; done {
			continue
		}
		switch {
		case !c.created.Sequential:
			out = append(out, p)
		case low == 0 || p.Order < low:
			low, out = p.Order, []Party{p}
		case p.Order == low:
			out = append(out, p)
		}
	}
	return out
}

// NextAfter lists the parties whose turn starts once the given events are
// applied to a copy of c: whom to notify after a signature.
func (c *Contract) NextAfter(events []Event) []Party {
	before := map[string]bool{}
	for _, p := range c.Turn() {
		before[p.ID] = true
	}
	cp := c.clone()
	for _, e := range events {
		if err := cp.Apply(e); err != nil {
			return nil
		}
	}
	var out []Party
	for _, p := range cp.Turn() {
		if !before[p.ID] {
			out = append(out, p)
		}
	}
	return out
}

func (c *Contract) clone() *Contract {
	cp := *c
	cp.failures = slices.Clone(c.failures)
	cp.signed = make(map[string]PartySigned, len(c.signed))
	for k, v := range c.signed {
		cp.signed[k] = v
	}
	return &cp
}

// Number makes a human-readable contract number: "HT", the Shanghai date
// of sending, and eight characters of Crockford base32 from random (at
// least 5 bytes), e.g. "HT20261130-7K3M9Q2X". Uniqueness is made sure by
// reserving the number's stream.
func Number(now time.Time, random []byte) string {
	const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	var v uint64
	for _, b := range random[:5] {
		v = v<<8 | uint64(b)
	}
	var sb strings.Builder
	sb.WriteString("HT")
	sb.WriteString(now.In(Shanghai).Format("20060102"))
	sb.WriteByte('-')
	for i := 7; i >= 0; i-- {
		sb.WriteByte(alphabet[(v>>(uint(i)*5))&31])
	}
	return sb.String()
}

// checkText validates a line of text on field; its refusals are coded
// "missing_<slug>" and "invalid_<slug>".
func checkText(field, slug, what, s string, max int) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", fault.Invalidf(field, "missing_"+slug, "Give the %s.", what)
	case !utf8.ValidString(s) || strings.ContainsRune(s, 0):
		return "", fault.Invalidf(field, "invalid_"+slug, "The %s has characters that cannot be shown.", what)
	case utf8.RuneCountInString(s) > max:
		return "", fault.Invalidf(field, "invalid_"+slug, "The %s is longer than %d characters.", what, max)
	}
	return s, nil
}

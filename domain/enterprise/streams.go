package enterprise

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"signet/domain/event"
)

// Index streams: the event store enforces uniqueness and answers lookups
// that cross enterprises, so the write side never reads a read model.

func hashOf(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:16])
}

// USCCStream is the reservation stream of a verified USCC.
func USCCStream(uscc string) string { return "uscc-" + hashOf(uscc) }

// DepositRefStream maps a reverse-deposit reference to its enterprise.
func DepositRefStream(ref string) string { return "depositref-" + ref }

// PayerStream lists enterprises awaiting a reverse deposit from a payer name.
func PayerStream(name string) string { return "depositpayer-" + hashOf(normName(name)) }

// StatementStream holds the one processing of a bank statement line.
func StatementStream(statementID string) string { return "bankstatement-" + hashOf(statementID) }

// InvitationStream maps a share-link token's hash to its enterprise.
func InvitationStream(tokenHash string) string { return "invitation-" + tokenHash }

// ReclaimAfter: a USCC reservation whose enterprise is still unverified this
// long after it was made belongs to a verification that died between its
// two appends, and another enterprise may take it over.
const ReclaimAfter = 10 * time.Minute

// Reservation is the state of a "uscc-<hash>" stream.
type Reservation struct {
	version uint64
	holder  string
	since   time.Time
}

// ReplayReservation rebuilds a USCC reservation.
func ReplayReservation(envs []event.Envelope) (*Reservation, error) {
	r := &Reservation{}
	for _, env := range envs {
		ev, err := DecodeEnvelope(env)
		if err != nil {
			return nil, err
		}
		switch ev := ev.(type) {
		case USCCReserved:
			r.holder, r.since = ev.EnterpriseID, ev.ReservedAt
		case USCCReservationReclaimed:
			r.holder, r.since = ev.EnterpriseID, ev.ReclaimedAt
		default:
			return nil, fmt.Errorf("%w: %s in a USCC reservation stream", event.ErrInvalid, ev.EventType())
		}
		r.version = env.Version
	}
	return r, nil
}

func (r *Reservation) Version() uint64  { return r.version }
func (r *Reservation) Holder() string   { return r.holder }
func (r *Reservation) Since() time.Time { return r.since }

// Reclaim decides whether enterpriseID may take the reservation over: only
// when its holder never got verified and the reservation is old enough.
func (r *Reservation) Reclaim(uscc, enterpriseID string, holderVerified bool, now time.Time) ([]Event, error) {
	if r.holder == enterpriseID {
		return nil, nil
	}
	if holderVerified || now.Sub(r.since) < ReclaimAfter {
		return nil, ErrUSCCTaken
	}
	return []Event{USCCReservationReclaimed{USCC: uscc, PreviousEnterpriseID: r.holder, EnterpriseID: enterpriseID, ReclaimedAt: timestamp(now)}}, nil
}

// QuotaCategory is the category of the enterprises' quota ledgers.
const QuotaCategory = "enterprisequota"

// QuotaStream names an enterprise's quota ledger: its ContractQuotaUsed
// events, kept apart so that the enterprise's own stream stays short.
func QuotaStream(enterpriseID string) string { return event.StreamName(QuotaCategory, enterpriseID) }

package account

import (
	"errors"
	"fmt"
	"time"

	"signet/domain/event"
	"signet/domain/fault"
)

// ReclaimAfter is how old a reservation whose account stream does not exist
// must be before another registration may take it over: long enough that
// the registration that made it has certainly given up (a registration
// gives up at half this age, and HTTP requests time out long before).
const ReclaimAfter = 10 * time.Minute

// ErrLoginTaken: the login belongs to another account (or a registration of
// it is in progress).
var ErrLoginTaken = &fault.Error{
	Kind:    fault.Conflict,
	Code:    "login_taken",
	Message: "an account with this login already exists",
	Field:   "login",
}

// Reservation is the aggregate of a reservation stream
// "accountname-<login hash>": which account a login belongs to.
type Reservation struct {
	version   uint64
	kind      LoginKind
	loginHash string
	holder    string
	since     time.Time
}

// Apply mutates the reservation by one event and advances its version.
func (r *Reservation) Apply(e Event) error {
	switch e := e.(type) {
	case LoginReserved:
		if r.version != 0 {
			return fmt.Errorf("%w: LoginReserved at version %d", event.ErrInvalid, r.version+1)
		}
		r.kind, r.loginHash, r.holder, r.since = e.LoginKind, e.LoginHash, e.AccountID, e.ReservedAt
	case LoginReservationReclaimed:
		if r.version == 0 {
			return fmt.Errorf("%w: LoginReservationReclaimed opens a stream", event.ErrInvalid)
		}
		r.holder, r.since = e.AccountID, e.ReclaimedAt
	default:
		return fmt.Errorf("%w: %s is not a reservation event", event.ErrInvalid, e.EventType())
	}
	r.version++
	return nil
}

// ReplayReservation rebuilds a reservation from its stream read forwards.
func ReplayReservation(envs []event.Envelope) (*Reservation, error) {
	r := &Reservation{}
	for _, env := range envs {
		if env.Version != r.version+1 {
			return nil, fmt.Errorf("%w: %s: version %d after %d", event.ErrInvalid, env.Stream, env.Version, r.version)
		}
		e, err := DecodeEnvelope(env)
		if err != nil {
			return nil, err
		}
		if err := r.Apply(e); err != nil {
			return nil, fmt.Errorf("%s@%d: %w", env.Stream, env.Version, err)
		}
	}
	return r, nil
}

// Reserve decides the first reservation of login for accountID.
func (r *Reservation) Reserve(login Login, accountID string, now time.Time) ([]Event, error) {
	if r.version != 0 {
		return nil, ErrLoginTaken
	}
	if login.IsZero() || accountID == "" {
		return nil, errors.New("reserve: no login or account")
	}
	return []Event{LoginReserved{
		LoginKind: login.Kind(), LoginHash: login.Hash(), AccountID: accountID, ReservedAt: timestamp(now),
	}}, nil
}

// Reclaim decides whether accountID may take over this reservation: only
// when the holder's account stream does not exist (holderExists false) and
// the reservation is at least ReclaimAfter old. Otherwise the login is taken.
func (r *Reservation) Reclaim(accountID string, holderExists bool, now time.Time) ([]Event, error) {
	switch {
	case r.version == 0:
		return nil, errors.New("reclaim: no reservation to reclaim")
	case accountID == "" || accountID == r.holder:
		return nil, errors.New("reclaim: bad account ID")
	case holderExists:
		return nil, ErrLoginTaken
	case now.Sub(r.since) < ReclaimAfter:
		// Another registration of this login is (probably) in progress.
		return nil, ErrLoginTaken
	}
	return []Event{LoginReservationReclaimed{
		LoginKind: r.kind, LoginHash: r.loginHash, PreviousAccountID: r.holder, AccountID: accountID,
		ReclaimedAt: timestamp(now),
	}}, nil
}

// Version is the stream version the reservation was replayed to.
func (r *Reservation) Version() uint64 { return r.version }

// Reserved reports whether the login has a reservation at all.
func (r *Reservation) Reserved() bool { return r.version > 0 }

// Holder is the account ID the login is reserved for ("" when none).
func (r *Reservation) Holder() string { return r.holder }

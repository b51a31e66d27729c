package commands

import (
	"context"
	"errors"

	"signet/domain/account"
	"signet/domain/event"
)

// owner is what the event store says about a login: its reservation (nil
// when the login was never reserved) and the holder's account events (nil
// when the holder's account stream does not exist).
type owner struct {
	reservation *account.Reservation
	account     []event.Envelope
}

// taken reports whether the login belongs to an existing account.
func (o owner) taken() bool { return o.account != nil }

// findOwner reads the login's reservation stream and its holder's account
// stream. The reservation stream is the authority on who owns a login.
func findOwner(ctx context.Context, store EventStore, login account.Login) (owner, error) {
	envs, err := store.ReadStream(ctx, login.ReservationStream(), 1, event.Forwards, 0)
	if errors.Is(err, event.ErrNotFound) {
		return owner{}, nil
	}
	if err != nil {
		return owner{}, storeErr("read login reservation", err)
	}
	if len(envs) == 0 {
		return owner{}, nil
	}
	r, err := account.ReplayReservation(envs)
	if err != nil {
		return owner{}, err
	}
	o := owner{reservation: r}
	acct, err := store.ReadStream(ctx, account.StreamOf(r.Holder()), 1, event.Forwards, 0)
	if errors.Is(err, event.ErrNotFound) {
		return o, nil
	}
	if err != nil {
		return owner{}, storeErr("read account", err)
	}
	if len(acct) == 0 {
		return o, nil
	}
	o.account = acct
	return o, nil
}

package commands

import (
	"context"
	"errors"
	"fmt"

	"signet/domain/account"
	"signet/domain/enterprise"
	"signet/domain/event"
)

// QuotaUsed reads a quota ledger ("enterprisequota-<id>" or
// "personalquota-<id>"): how many contracts it has counted, and the
// version to append the next spend at. Each spend carries the running
// count, so only the ledger's last event is read, however long it is.
func QuotaUsed(ctx context.Context, events EventStore, stream string) (used int, version uint64, err error) {
	envs, err := events.ReadStream(ctx, stream, 0, event.Backwards, 1)
	if errors.Is(err, event.ErrNotFound) || (err == nil && len(envs) == 0) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, storeErr("read "+stream, err)
	}
	last := envs[0]
	switch event.Category(stream) {
	case enterprise.QuotaCategory:
		ev, err := enterprise.DecodeEnvelope(last)
		if u, ok := ev.(enterprise.ContractQuotaUsed); err == nil && ok {
			return u.Used, last.Version, nil
		}
	case account.QuotaCategory:
		ev, err := account.DecodeEnvelope(last)
		if u, ok := ev.(account.PersonalQuotaUsed); err == nil && ok {
			return u.Used, last.Version, nil
		}
	}
	return 0, 0, fmt.Errorf("%s@%d: %s is not a quota ledger event", stream, last.Version, last.Type)
}

// after is the expected version of an append to a stream read at version.
func after(version uint64) event.ExpectedVersion {
	if version == 0 {
		return event.NoStream
	}
	return event.Exactly(version)
}

// Package eventstore declares the full event store port that the adapters in
// its sub-packages implement and that storetest checks. The packages that use
// a store declare the smaller interfaces they need.
package eventstore

import (
	"context"

	"signet/domain/event"
)

// Store is an append-only log of streams with a global order.
type Store interface {
	// Append adds events to the end of stream if it is at the expected
	// version; all of them or none. Appending events whose IDs were already
	// appended to the same stream, in the same order, by an earlier call is
	// an idempotent retry: nothing is stored and the earlier result returned.
	// Errors wrap event.ErrConcurrency, event.ErrDuplicateEvent or event.ErrInvalid.
	Append(ctx context.Context, stream string, expected event.ExpectedVersion, events ...event.New) (event.AppendResult, error)

	// ReadStream reads up to limit events (limit <= 0: all). Forwards it
	// returns versions >= from ascending; backwards, versions <= from
	// descending, where from 0 means "from the end". A stream without
	// events gives an error wrapping event.ErrNotFound.
	ReadStream(ctx context.Context, stream string, from uint64, dir event.Direction, limit int) ([]event.Envelope, error)

	// ReadAll reads up to limit events (limit <= 0: a store-chosen page) of
	// the global log with position > after, ascending.
	ReadAll(ctx context.Context, after uint64, limit int) ([]event.Envelope, error)

	// Head is the global position of the last stored event, 0 when empty.
	Head(ctx context.Context) (uint64, error)

	// Subscribe calls handle for every event with position > after, in
	// global order, first those already stored and then new ones as they are
	// appended, with no gap and no duplicate. It blocks until ctx ends
	// (returning ctx.Err()) or handle fails (returning that error, wrapped).
	Subscribe(ctx context.Context, after uint64, handle func(context.Context, event.Envelope) error) error

	Close() error
}

// VerifyStream reads a whole stream and checks its hash chain; the error is an
// *event.ChainError naming the first broken event when history was changed.
func VerifyStream(ctx context.Context, s Store, stream string) error {
	events, err := s.ReadStream(ctx, stream, 1, event.Forwards, 0)
	if err != nil {
		return err
	}
	return event.VerifyChain(events)
}

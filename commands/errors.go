package commands

import (
	"context"
	"errors"
	"fmt"

	"signet/domain/event"
	"signet/domain/fault"
)

// Failures of dependencies, as the HTTP layer sees them. The cause stays in
// the chain (errors.Is finds the event sentinel or the driver's error).
var (
	errStoreConflict    = fault.New(fault.Conflict, "concurrent_change", "someone changed this at the same time; try again")
	errStoreUnavailable = fault.New(fault.Unavailable, "event_store_unavailable", "the event store is not available; try again")
	errCodesUnavailable = fault.New(fault.Unavailable, "codes_unavailable", "verification codes are not available; try again")
	errNotifyFailed     = fault.New(fault.Unavailable, "notify_failed", "the message could not be sent; try again")
	errThrottleDown     = fault.New(fault.Unavailable, "throttle_unavailable", "login is not available; try again")
)

// storeErr maps an event-store error (already mapped by the adapter to the
// event sentinels) to a fault kind, wrapped with what was being done.
//
//	event.ErrConcurrency         -> 409 concurrent_change
//	context cancelled / deadline -> unchanged
//	event.ErrInvalid, ErrDuplicateEvent, ErrNotFound -> unchanged: a bug of
//	                                ours, answered 500 (ErrNotFound: 404)
//	anything else                -> 503 event_store_unavailable
func storeErr(op string, err error) error {
	switch {
	case errors.Is(err, event.ErrConcurrency):
		return fmt.Errorf("%s: %w: %w", op, errStoreConflict, err)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, event.ErrInvalid), errors.Is(err, event.ErrDuplicateEvent), errors.Is(err, event.ErrNotFound):
		return fmt.Errorf("%s: %w", op, err)
	default:
		return fmt.Errorf("%s: %w: %w", op, errStoreUnavailable, err)
	}
}

// depErr passes refusals (*fault.Error) of a dependency through and turns
// its other failures into unavailable, keeping the cause.
func depErr(op string, unavailable *fault.Error, err error) error {
	if _, ok := fault.As(err); ok {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w", op, err)
	}
	return fmt.Errorf("%s: %w: %w", op, unavailable, err)
}

// appendEvents encodes events of one package with new IDs and appends them
// to stream at expected; it returns the last event's global position (0
// when there is nothing to append).
func appendEvents[E interface{ EventType() string }](ctx context.Context, events EventStore, ids IDs, stream string, expected event.ExpectedVersion,
	encode func(string, E, event.Metadata) (event.New, error), evs []E, meta event.Metadata) (uint64, error) {
	if len(evs) == 0 {
		return 0, nil
	}
	news := make([]event.New, 0, len(evs))
	for _, ev := range evs {
		n, err := encode(ids.NewID(), ev, meta)
		if err != nil {
			return 0, err
		}
		news = append(news, n)
	}
	res, err := events.Append(ctx, stream, expected, news...)
	if err != nil {
		return 0, storeErr("append "+stream, err)
	}
	return res.LastPosition, nil
}

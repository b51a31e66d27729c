// Package replay shows an aggregate as it was at a moment of its history:
// it reads the aggregate's stream from the event store (history, not a
// read model), applies the events up to that moment with the domain's own
// Apply, the code that decides new events, and describes the result and
// the events that led there. The CLI (`signet audit replay`) and the
// auditors' HTTP routes both use it.
//
// Personal data is masked as the read models mask it: phone numbers, ID
// numbers, email addresses and client IPs; free text (reasons) is scrubbed
// of them. Names are shown.
package replay

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"signet/domain/account"
	"signet/domain/contract"
	"signet/domain/enterprise"
	"signet/domain/event"
	"signet/domain/fault"
	"signet/domain/template"
)

// History reads a stream (eventstore.Store's ReadStream).
type History interface {
	ReadStream(ctx context.Context, stream string, from uint64, dir event.Direction, limit int) ([]event.Envelope, error)
}

// Point is the moment to replay to: the events that occurred at or before
// AsOf, or the first Version events; the zero Point is the stream's end.
// Events are taken in stream order up to the first that is past the point.
type Point struct {
	AsOf    time.Time
	Version uint64
}

// Refusals of Replay.
var (
	ErrStreamNotFound = fault.New(fault.NotFound, "stream_not_found", "There is no event stream of this name.")
	ErrBeyondStream   = fault.New(fault.Invalid, "version_beyond_stream", "The stream has fewer events than the version asked for.").OnField("version")
	ErrInvalidStream  = fault.New(fault.Invalid, "invalid_stream", "A stream name is a category and an ID joined by '-', e.g. contract-<uuid>.").OnField("stream")
)

// Entry is one event as auditors see it: when, what, who, in one line.
type Entry struct {
	Version  uint64    `json:"version"`
	Position uint64    `json:"position"`
	ID       string    `json:"id"`
	Type     string    `json:"type"`
	At       time.Time `json:"at"`
	Actor    string    `json:"actor,omitempty"`
	Summary  string    `json:"summary"`
	Hash     string    `json:"hash"`
}

// View is a stream replayed to a point.
type View struct {
	Stream   string     `json:"stream"`
	Category string     `json:"category"`
	AsOf     *time.Time `json:"as_of,omitempty"`
	Version  uint64     `json:"version"`        // events applied
	Latest   uint64     `json:"latest_version"` // events the stream has now
	Exists   bool       `json:"exists"`         // the aggregate existed at the point
	// State is the aggregate at the point: a *ContractState,
	// *EnterpriseState, *AccountState or *TemplateState; nil for streams of
	// other categories, which show their events only.
	State any `json:"state,omitempty"`
	// StateError says why the state could not be rebuilt (an event the
	// domain refuses or does not know); the events are still listed.
	StateError string  `json:"state_error,omitempty"`
	Events     []Entry `json:"events"`
}

// CheckStream refuses names that are no stream's.
func CheckStream(stream string) error {
	if stream == "" || len(stream) > 200 || strings.ContainsAny(stream, " \t\r\n/") || strings.HasPrefix(stream, "$") {
		return ErrInvalidStream
	}
	return nil
}

// Replay rebuilds stream's aggregate at p.
func Replay(ctx context.Context, h History, stream string, p Point) (View, error) {
	if err := CheckStream(stream); err != nil {
		return View{}, err
	}
	envs, err := h.ReadStream(ctx, stream, 1, event.Forwards, 0)
	if errors.Is(err, event.ErrNotFound) {
		return View{}, fmt.Errorf("%w: %s", ErrStreamNotFound, stream)
	}
	if err != nil {
		return View{}, fmt.Errorf("replay %s: %w", stream, err)
	}
	v := View{Stream: stream, Category: event.Category(stream)}
	if len(envs) > 0 {
		v.Latest = envs[len(envs)-1].Version
	}
	if p.Version > v.Latest {
		return View{}, fmt.Errorf("%w: %s has %d events, not %d", ErrBeyondStream, stream, v.Latest, p.Version)
	}
	if !p.AsOf.IsZero() {
		at := p.AsOf.UTC()
		v.AsOf = &at
	}
	n := 0
	for _, e := range envs {
		if p.Version > 0 && e.Version > p.Version || !p.AsOf.IsZero() && e.Meta.OccurredAt.After(p.AsOf) {
			break
		}
		n++
	}
	envs = envs[:n]
	if n > 0 {
		v.Version = envs[n-1].Version
	}
	v.Events = Entries(envs)
	b := builderOf(v.Category)
	if b == nil {
		v.Exists = n > 0
		return v, nil
	}
	if err := b.apply(envs); err != nil {
		v.StateError = err.Error()
	}
	v.Exists, v.State = b.state()
	return v, nil
}

// Entries describes events as Replay lists them.
func Entries(envs []event.Envelope) []Entry {
	out := make([]Entry, 0, len(envs))
	for _, e := range envs {
		out = append(out, Entry{Version: e.Version, Position: e.Position, ID: e.ID, Type: e.Type,
			At: e.Meta.OccurredAt.UTC(), Actor: e.Meta.Actor, Summary: summarize(e), Hash: e.Hash})
	}
	return out
}

// builder applies a category's events with its domain Apply and reads
// the state from the aggregate's getters.
type builder interface {
	apply(envs []event.Envelope) error
	state() (exists bool, state any)
}

func builderOf(category string) builder {
	switch category {
	case contract.Category:
		return &contractBuilder{c: contract.New()}
	case enterprise.Category:
		return &enterpriseBuilder{e: enterprise.New()}
	case account.Category:
		return &accountBuilder{a: &account.Account{}}
	case template.Category:
		return &templateBuilder{t: template.New()}
	}
	return nil
}

// applyAll decodes and applies events until one fails.
func applyAll[E any](envs []event.Envelope, decode func(event.Envelope) (E, error), apply func(E) error) error {
	for _, env := range envs {
		e, err := decode(env)
		if err == nil {
			err = apply(e)
		}
		if err != nil {
			return fmt.Errorf("the state stops before version %d (%s): %v", env.Version, env.Type, err)
		}
	}
	return nil
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

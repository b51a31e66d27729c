// Package event holds what every part of signet agrees on about stored events:
// the envelope, the per-stream hash chain, expected versions and the error
// sentinels that adapters map their own failures to. It does no I/O.
package event

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Sentinels that infrastructure errors are mapped to; wrap them with context.
var (
	// ErrConcurrency: the stream is not at the expected version.
	ErrConcurrency = errors.New("stream version conflict")
	// ErrNotFound: the stream (or record) does not exist.
	ErrNotFound = errors.New("not found")
	// ErrDuplicateEvent: an event ID is already stored somewhere that does not
	// make the append an idempotent retry of the same events.
	ErrDuplicateEvent = errors.New("duplicate event id")
	// ErrInvalid: the append itself is malformed (empty stream name, bad JSON...).
	ErrInvalid = errors.New("invalid event")
)

// ExpectedVersion is the optimistic-concurrency condition of an append.
// Stream versions start at 1 (the first event of a stream has version 1), so
// "no stream" is the same as "at version 0".
type ExpectedVersion int64

const (
	// Any appends whatever the stream's state.
	Any ExpectedVersion = -1
	// NoStream appends only when the stream has no event yet.
	NoStream ExpectedVersion = 0
)

// Exactly appends only when the stream's last event has version v.
func Exactly(v uint64) ExpectedVersion { return ExpectedVersion(v) }

func (e ExpectedVersion) String() string {
	switch {
	case e == Any:
		return "any"
	case e == NoStream:
		return "no stream"
	default:
		return fmt.Sprintf("version %d", int64(e))
	}
}

// Metadata travels with every event. OccurredAt is UTC, truncated to the
// microsecond so that it survives every store's round trip unchanged.
type Metadata struct {
	Actor         string    `json:"actor,omitempty"`      // account ID of whoever caused it
	Enterprise    string    `json:"enterprise,omitempty"` // acting enterprise ID, if any
	CorrelationID string    `json:"correlation_id,omitempty"`
	CausationID   string    `json:"causation_id,omitempty"`
	ClientIP      string    `json:"client_ip,omitempty"`
	OccurredAt    time.Time `json:"occurred_at"`
}

// Normalize returns m with OccurredAt in UTC at microsecond precision.
func (m Metadata) Normalize() Metadata {
	m.OccurredAt = m.OccurredAt.UTC().Truncate(time.Microsecond)
	return m
}

func (m Metadata) valid() bool {
	for _, s := range []string{m.Actor, m.Enterprise, m.CorrelationID, m.CausationID, m.ClientIP} {
		if !utf8.ValidString(s) {
			return false
		}
	}
	return true
}

// New is an event to be appended: the store assigns version, position and hashes.
type New struct {
	ID     string // UUID chosen by the caller; appending the same ID twice stores it once
	Type   string // stable PascalCase name, e.g. "AccountRegistered"
	Schema int    // payload schema version, starting at 1
	Data   []byte // JSON payload
	Meta   Metadata
}

// Envelope is a stored event.
type Envelope struct {
	ID       string
	Stream   string
	Version  uint64 // 1-based position within the stream
	Position uint64 // global position in the log; increases with every stored event
	Type     string
	Schema   int
	Data     []byte
	Meta     Metadata
	PrevHash string // hex SHA-256 of the previous event of the stream ("" for version 1)
	Hash     string // hex SHA-256 over PrevHash and this event's content, see ChainHash
}

// Category is the part of a stream name before the first '-' ("account" for
// "account-3f2..."), as EventStoreDB's $by_category projection sees it.
func Category(stream string) string {
	if i := strings.IndexByte(stream, '-'); i >= 0 {
		return stream[:i]
	}
	return stream
}

// StreamName joins a category and an ID the way EventStoreDB expects.
func StreamName(category, id string) string { return category + "-" + id }

// AppendResult says where an append landed.
type AppendResult struct {
	FirstVersion uint64 // version of the first appended event
	LastVersion  uint64 // version of the last appended event (the stream's new version)
	LastPosition uint64 // global position of the last appended event
}

// Validate checks what every store requires of an append before touching storage.
func Validate(stream string, expected ExpectedVersion, events []New) error {
	if stream == "" || strings.ContainsAny(stream, " \t\r\n") || strings.HasPrefix(stream, "$") {
		return fmt.Errorf("%w: stream name %q", ErrInvalid, stream)
	}
	if expected < Any {
		return fmt.Errorf("%w: expected version %d", ErrInvalid, int64(expected))
	}
	if len(events) == 0 {
		return fmt.Errorf("%w: no events to append to %s", ErrInvalid, stream)
	}
	seen := make(map[string]bool, len(events))
	for i, e := range events {
		switch {
		case e.ID == "":
			return fmt.Errorf("%w: event %d of %s has no ID", ErrInvalid, i, stream)
		case seen[e.ID]:
			return fmt.Errorf("%w: event ID %s twice in one append", ErrInvalid, e.ID)
		case e.Type == "":
			return fmt.Errorf("%w: event %s has no type", ErrInvalid, e.ID)
		case e.Schema < 1:
			return fmt.Errorf("%w: event %s has schema version %d", ErrInvalid, e.ID, e.Schema)
		case !validJSON(e.Data):
			return fmt.Errorf("%w: event %s data is not JSON", ErrInvalid, e.ID)
		case !e.Meta.valid():
			// Stores keep metadata as JSON, which would rewrite invalid
			// UTF-8 and so break the hash of the event for good.
			return fmt.Errorf("%w: event %s metadata is not valid UTF-8", ErrInvalid, e.ID)
		}
		seen[e.ID] = true
	}
	return nil
}

// Direction of a stream read.
type Direction int

const (
	Forwards Direction = iota
	Backwards
)

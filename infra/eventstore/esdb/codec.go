package esdb

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"signet/domain/event"
)

// metaFormat marks the user metadata written by this package; events whose
// metadata does not carry it are not signet events and are skipped by ReadAll,
// Head and Subscribe.
const metaFormat = 1

// occurredLayout writes OccurredAt at the microsecond, in UTC, always with six
// fraction digits (any RFC 3339 time parses back).
const occurredLayout = "2006-01-02T15:04:05.000000Z07:00"

// wireMeta is the JSON stored as an EventStoreDB event's user metadata. Its
// field names are part of the stored format: never rename them.
type wireMeta struct {
	Signet        int    `json:"signet"`
	Version       uint64 `json:"version"`
	Schema        int    `json:"schema"`
	Actor         string `json:"actor"`
	Enterprise    string `json:"enterprise"`
	CorrelationID string `json:"correlation_id"`
	CausationID   string `json:"causation_id"`
	ClientIP      string `json:"client_ip"`
	OccurredAt    string `json:"occurred_at"`
	PrevHash      string `json:"prev_hash"`
	Hash          string `json:"hash"`
}

// encodeMeta is the user metadata of a sealed envelope.
func encodeMeta(e event.Envelope) ([]byte, error) {
	m := e.Meta.Normalize()
	return json.Marshal(wireMeta{
		Signet:        metaFormat,
		Version:       e.Version,
		Schema:        e.Schema,
		Actor:         m.Actor,
		Enterprise:    m.Enterprise,
		CorrelationID: m.CorrelationID,
		CausationID:   m.CausationID,
		ClientIP:      m.ClientIP,
		OccurredAt:    m.OccurredAt.Format(occurredLayout),
		PrevHash:      e.PrevHash,
		Hash:          e.Hash,
	})
}

// decodeMeta fills e's version, schema, metadata and hashes from stored user
// metadata; ok is false when b is not signet metadata (e is then untouched).
func decodeMeta(b []byte, e *event.Envelope) (ok bool) {
	if len(b) == 0 || b[0] != '{' {
		return false
	}
	var w wireMeta
	if json.Unmarshal(b, &w) != nil || w.Signet != metaFormat || w.Hash == "" || w.Version < 1 || w.Schema < 1 {
		return false
	}
	at, err := time.Parse(time.RFC3339Nano, w.OccurredAt)
	if err != nil {
		return false
	}
	e.Version = w.Version
	e.Schema = w.Schema
	e.Meta = event.Metadata{
		Actor:         w.Actor,
		Enterprise:    w.Enterprise,
		CorrelationID: w.CorrelationID,
		CausationID:   w.CausationID,
		ClientIP:      w.ClientIP,
		OccurredAt:    at.UTC(),
	}
	e.PrevHash = w.PrevHash
	e.Hash = w.Hash
	return true
}

// record is one stored EventStoreDB event as this package sees it.
type record struct {
	env  event.Envelope
	rev  uint64 // EventStoreDB stream revision (0-based)
	ours bool   // carries signet metadata
	raw  *esdb.RecordedEvent
}

// toRecord decodes a recorded event. The envelope's version is the one sealed
// into the metadata (covered by the hash); for a signet event written by this
// package it always equals revision+1, and it stays the sealed one when an
// attacker re-appends history, so that verification names the changed event.
// Events without signet metadata get version revision+1 and no hashes.
func toRecord(rec *esdb.RecordedEvent) record {
	r := record{
		rev: rec.EventNumber,
		raw: rec,
		env: event.Envelope{
			ID:       rec.EventID.String(),
			Stream:   rec.StreamID,
			Version:  versionOf(rec.EventNumber),
			Position: knownPosition(rec.Position.Commit),
			Type:     rec.EventType,
			Data:     rec.Data,
		},
	}
	r.ours = decodeMeta(rec.UserMetadata, &r.env)
	return r
}

// isSystem says whether EventStoreDB owns the event: a $-type ($metadata,
// $>, $statsCollected...) or an event in a $-stream.
func isSystem(rec *esdb.RecordedEvent) bool {
	return strings.HasPrefix(rec.EventType, "$") || strings.HasPrefix(rec.StreamID, "$")
}

// inLog says whether a recorded event belongs to the global log that ReadAll,
// Head and Subscribe expose: not a system event, and carrying signet metadata.
func inLog(r record) bool { return r.ours && !isSystem(r.raw) }

// knownPosition maps EventStoreDB's "no position" (the maximum uint64, which
// servers older than 22.6 send for events read from a stream) to 0.
func knownPosition(commit uint64) uint64 {
	if commit == math.MaxUint64 {
		return 0
	}
	return commit
}

// resolvedPosition is the global position of an event delivered by a read or
// subscription of $all.
func resolvedPosition(ev *esdb.ResolvedEvent) uint64 {
	if p := knownPosition(ev.OriginalEvent().Position.Commit); p != 0 {
		return p
	}
	if ev.Commit != nil {
		return knownPosition(*ev.Commit)
	}
	return 0
}

// Stream versions are 1-based, EventStoreDB revisions 0-based.
func versionOf(rev uint64) uint64  { return rev + 1 }
func revisionOf(ver uint64) uint64 { return ver - 1 }

// expectedRevision maps an expected version to EventStoreDB's:
// NoStream (version 0) -> NoStream{}, Exactly(n) -> Revision(n-1), Any -> Any{}.
// Append never sends Any: it reads the stream's last event and appends at its
// exact revision so that the hash chain cannot fork (see Store.Append).
func expectedRevision(v event.ExpectedVersion) esdb.ExpectedRevision {
	switch {
	case v == event.Any:
		return esdb.Any{}
	case v == event.NoStream:
		return esdb.NoStream{}
	default:
		return esdb.Revision(revisionOf(uint64(v)))
	}
}

// readFrom is where a stream read starts: forwards from version `from`
// (0 or 1: the start), backwards from version `from` (0: the end).
func readFrom(from uint64, dir event.Direction) esdb.StreamPosition {
	switch {
	case dir == event.Backwards && from == 0:
		return esdb.End{}
	case dir != event.Backwards && from <= 1:
		return esdb.Start{}
	default:
		return esdb.Revision(revisionOf(from))
	}
}

// allFrom is where a read or subscription of $all starts for "after position
// p": the start, or the event at p itself (forward reads include it; callers
// skip positions <= p).
func allFrom(p uint64) esdb.AllPosition {
	if p == 0 {
		return esdb.Start{}
	}
	return esdb.Position{Commit: p, Prepare: p}
}

// eventUUID parses an event ID: EventStoreDB needs UUIDs, and the ID is hashed
// as given, so only the canonical lowercase form is accepted (it is also the
// form EventStoreDB gives back).
func eventUUID(id string) (uuid.UUID, error) {
	u, err := uuid.Parse(id)
	switch {
	case err != nil:
		return uuid.Nil, fmt.Errorf("%w: event ID %q is not a UUID (EventStoreDB needs UUID event IDs)", event.ErrInvalid, id)
	case u == uuid.Nil:
		return uuid.Nil, fmt.Errorf("%w: event ID is the nil UUID", event.ErrInvalid)
	case u.String() != id:
		return uuid.Nil, fmt.Errorf("%w: event ID %q is not in canonical form (want %s)", event.ErrInvalid, id, u)
	}
	return u, nil
}

// code is the EventStoreDB client error code of err, ErrorCodeUnknown if none.
func code(err error) esdb.ErrorCode {
	var e *esdb.Error
	if errors.As(err, &e) {
		return e.Code()
	}
	return esdb.ErrorCodeUnknown
}

func isWrongExpectedVersion(err error) bool {
	var e *esdb.Error
	return errors.As(err, &e) && e.IsErrorCode(esdb.ErrorCodeWrongExpectedVersion)
}

func isNotFound(err error) bool {
	var e *esdb.Error
	if errors.As(err, &e) && (e.IsErrorCode(esdb.ErrorCodeResourceNotFound) || e.IsErrorCode(esdb.ErrorCodeStreamDeleted)) {
		return true
	}
	return status.Code(err) == codes.NotFound
}

// mapErr wraps an EventStoreDB error with the event sentinel it means, keeping
// the original in the chain.
func mapErr(err error) error {
	switch {
	case err == nil:
		return nil
	case isWrongExpectedVersion(err):
		return fmt.Errorf("%w: %w", event.ErrConcurrency, err)
	case isNotFound(err):
		return fmt.Errorf("%w: %w", event.ErrNotFound, err)
	}
	return err
}

// permanent says whether retrying err cannot help (bad credentials, missing
// rights, a server without the feature).
func permanent(err error) bool {
	switch code(err) {
	case esdb.ErrorCodeUnauthenticated, esdb.ErrorCodeAccessDenied, esdb.ErrorCodeUnsupportedFeature:
		return true
	}
	switch status.Code(err) {
	case codes.Unauthenticated, codes.PermissionDenied, codes.InvalidArgument, codes.Unimplemented:
		return true
	}
	return false
}

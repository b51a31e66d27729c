package event

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// ChainHash is the hash of one event in its stream's chain: SHA-256 over the
// previous event's hash and every field of this event except its global
// position (which a store such as EventStoreDB only knows after the write).
// Fields are length-prefixed so that no two different events hash alike.
func ChainHash(prevHash string, e Envelope) string {
	h := sha256.New()
	field := func(b []byte) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	num := func(v uint64) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], v)
		field(n[:])
	}
	field([]byte("signet-event-v1"))
	field([]byte(prevHash))
	field([]byte(e.ID))
	field([]byte(e.Stream))
	num(e.Version)
	field([]byte(e.Type))
	num(uint64(e.Schema))
	field(e.Data)
	writeMeta(field, e.Meta)
	return hex.EncodeToString(h.Sum(nil))
}

func writeMeta(field func([]byte), m Metadata) {
	field([]byte(m.Actor))
	field([]byte(m.Enterprise))
	field([]byte(m.CorrelationID))
	field([]byte(m.CausationID))
	field([]byte(m.ClientIP))
	field([]byte(m.OccurredAt.UTC().Format(time.RFC3339Nano)))
}

// Seal fills in e.PrevHash and e.Hash given the hash of the stream's previous
// event. Stores call it inside their write so that the chain follows the
// order they actually stored.
func Seal(prevHash string, e *Envelope) {
	e.PrevHash = prevHash
	e.Hash = ChainHash(prevHash, *e)
}

// ChainError names the first event at which a stream's chain does not hold.
type ChainError struct {
	Stream  string
	Version uint64
	EventID string
	Reason  string
}

func (e *ChainError) Error() string {
	return fmt.Sprintf("hash chain of %s broken at version %d (event %s): %s", e.Stream, e.Version, e.EventID, e.Reason)
}

// VerifyChain checks a whole stream read forwards from version 1: versions are
// consecutive, each event links to its predecessor's hash, and each hash
// matches the event's content. It returns a *ChainError naming the first
// event that fails.
func VerifyChain(events []Envelope) error {
	prev := ""
	for i, e := range events {
		want := uint64(i + 1)
		switch {
		case e.Version != want:
			return &ChainError{e.Stream, e.Version, e.ID, fmt.Sprintf("expected version %d", want)}
		case i > 0 && e.Stream != events[0].Stream:
			return &ChainError{e.Stream, e.Version, e.ID, "event of another stream"}
		case e.PrevHash != prev:
			return &ChainError{e.Stream, e.Version, e.ID, "prev_hash does not match the previous event's hash"}
		case ChainHash(prev, e) != e.Hash:
			return &ChainError{e.Stream, e.Version, e.ID, "content does not match its hash (changed after it was written)"}
		}
		prev = e.Hash
	}
	return nil
}

func validJSON(b []byte) bool { return len(b) > 0 && json.Valid(b) }

// Package audit is the platform's tamper-evident log: signed tree heads.
// Every stored event is a leaf of one Merkle tree (RFC 6962) in the order
// of the global log; from time to time the platform signs the tree's size
// and root and records the signature as a TreeHeadSigned event on
// "treehead-platform". A later change, insertion or removal of any event
// changes the root at every later size, so it no longer matches a signed
// head, and each head can be shown to extend the one before it.
//
// The signed message is plain text, so that a few lines of any language
// can check a head with nothing but SHA-256 and Ed25519:
//
//	"signet-tree-head-v1\n" + <size, decimal> + "\n" + <root, 64 lowercase hex> + "\n" + <signed_at, RFC 3339 with nanoseconds, UTC>
//
// with no trailing newline, e.g.
//
//	signet-tree-head-v1
//	1042
//	5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328
//	2026-11-30T08:00:00.123456Z
//
// The signature is Ed25519 over those bytes, stored in standard base64.
package audit

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"signet/domain/event"
	"signet/domain/fault"
)

// Category is the stream category of tree heads.
const Category = "treehead"

// Stream is the one stream of the platform's signed tree heads.
const Stream = Category + "-platform"

// AlgorithmEd25519 is the only signature algorithm of tree heads.
const AlgorithmEd25519 = "ed25519"

// MessagePrefix opens every signed tree head message; its version changes
// if the message ever does.
const MessagePrefix = "signet-tree-head-v1\n"

// Stored event type names. Never rename one: stored history refers to them.
const TypeTreeHeadSigned = "TreeHeadSigned"

// Event is a domain event of this package.
type Event interface{ EventType() string }

// TreeHeadSigned: the platform signed the root of the tree over the first
// Size events of the global log, the last of which is at LastPosition.
type TreeHeadSigned struct {
	Size         uint64    `json:"size"`
	LastPosition uint64    `json:"last_position"`
	RootHash     string    `json:"root_hash"` // hex SHA-256
	SignedAt     time.Time `json:"signed_at"`
	KeyID        string    `json:"key_id"`    // KeyID of the public key
	Algorithm    string    `json:"algorithm"` // "ed25519"
	Signature    string    `json:"signature"` // standard base64
}

func (TreeHeadSigned) EventType() string { return TypeTreeHeadSigned }

// Message is the exact byte string a tree head signs (see the package doc).
func Message(size uint64, rootHex string, signedAt time.Time) []byte {
	b := make([]byte, 0, len(MessagePrefix)+20+1+64+1+30)
	b = append(b, MessagePrefix...)
	b = strconv.AppendUint(b, size, 10)
	b = append(b, '\n')
	b = append(b, rootHex...)
	b = append(b, '\n')
	b = signedAt.UTC().AppendFormat(b, time.RFC3339Nano)
	return b
}

// Message is the byte string h signs.
func (h TreeHeadSigned) Message() []byte { return Message(h.Size, h.RootHash, h.SignedAt) }

// Root is the head's root hash as bytes.
func (h TreeHeadSigned) Root() ([32]byte, error) {
	b, err := hex.DecodeString(h.RootHash)
	if err != nil || len(b) != 32 || hex.EncodeToString(b) != h.RootHash {
		return [32]byte{}, fmt.Errorf("tree head of size %d: root %q is not 64 lowercase hex digits", h.Size, h.RootHash)
	}
	return [32]byte(b), nil
}

// KeyID names a public key: the first 16 hex digits of SHA-256 over its 32 bytes.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}

// ErrBadSignature: a tree head's signature does not hold.
var ErrBadSignature = errors.New("tree head signature does not verify")

// Verify checks h's signature with pub: the algorithm, the key ID and the
// Ed25519 signature over Message.
func (h TreeHeadSigned) Verify(pub ed25519.PublicKey) error {
	switch {
	case h.Algorithm != AlgorithmEd25519:
		return fmt.Errorf("%w: algorithm %q, want %q", ErrBadSignature, h.Algorithm, AlgorithmEd25519)
	case len(pub) != ed25519.PublicKeySize:
		return fmt.Errorf("%w: public key of %d bytes", ErrBadSignature, len(pub))
	case h.KeyID != KeyID(pub):
		return fmt.Errorf("%w: signed by key %s, not by key %s", ErrBadSignature, h.KeyID, KeyID(pub))
	}
	if _, err := h.Root(); err != nil {
		return fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	sig, err := base64.StdEncoding.DecodeString(h.Signature)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return fmt.Errorf("%w: signature is not %d bytes of base64", ErrBadSignature, ed25519.SignatureSize)
	}
	if !ed25519.Verify(pub, h.Message(), sig) {
		return fmt.Errorf("%w: size %d, root %s, signed at %s by key %s", ErrBadSignature, h.Size, h.RootHash, h.SignedAt.UTC().Format(time.RFC3339Nano), h.KeyID)
	}
	return nil
}

// Refusals of Record.
var (
	ErrShrinks = fault.New(fault.Conflict, "tree_head_shrinks", "A signed tree head never covers fewer events than the one before it.")
	ErrFork    = fault.New(fault.Conflict, "tree_head_fork", "A tree head of this size was signed with another root: the log's history differs from what was signed.")
)

// Log is the state of "treehead-platform": its version and last head.
type Log struct {
	version uint64
	last    *TreeHeadSigned
}

// Apply mutates the log by one event and advances its version.
func (l *Log) Apply(e Event) error {
	h, ok := e.(TreeHeadSigned)
	if !ok {
		return fmt.Errorf("%w: %s is not a tree head event", event.ErrInvalid, e.EventType())
	}
	if l.last != nil && h.Size < l.last.Size {
		return fmt.Errorf("%w: tree head of size %d after one of size %d", event.ErrInvalid, h.Size, l.last.Size)
	}
	l.last = &h
	l.version++
	return nil
}

// Replay rebuilds the log from its stream read forwards from version 1.
func Replay(envs []event.Envelope) (*Log, error) {
	l := &Log{}
	for _, env := range envs {
		if env.Version != l.version+1 {
			return nil, fmt.Errorf("%w: %s: version %d after %d", event.ErrInvalid, env.Stream, env.Version, l.version)
		}
		e, err := DecodeEnvelope(env)
		if err != nil {
			return nil, err
		}
		if err := l.Apply(e); err != nil {
			return nil, fmt.Errorf("%s@%d: %w", env.Stream, env.Version, err)
		}
	}
	return l, nil
}

// Resume rebuilds the log from its last event alone (read backwards): the
// last head is all that the next decision needs.
func Resume(last event.Envelope) (*Log, error) {
	e, err := DecodeEnvelope(last)
	if err != nil {
		return nil, err
	}
	h, ok := e.(TreeHeadSigned)
	if !ok || last.Version == 0 {
		return nil, fmt.Errorf("%w: %s@%d is not a tree head", event.ErrInvalid, last.Stream, last.Version)
	}
	return &Log{version: last.Version, last: &h}, nil
}

// Version is the stream version the log was rebuilt to.
func (l *Log) Version() uint64 { return l.version }

// Last is the latest signed head, if any.
func (l *Log) Last() (TreeHeadSigned, bool) {
	if l.last == nil {
		return TreeHeadSigned{}, false
	}
	return *l.last, true
}

// Record decides whether a newly signed head goes into the log: never one
// smaller than the last, and never a second root for the same size. A head
// of the last head's size and root adds nothing (no events, no error).
func (l *Log) Record(h TreeHeadSigned) ([]Event, error) {
	if _, err := h.Root(); err != nil {
		return nil, fmt.Errorf("%w: %v", event.ErrInvalid, err)
	}
	if h.Algorithm != AlgorithmEd25519 || h.KeyID == "" || h.Signature == "" || h.SignedAt.IsZero() {
		return nil, fmt.Errorf("%w: tree head of size %d is not signed", event.ErrInvalid, h.Size)
	}
	if last := l.last; last != nil {
		switch {
		case h.Size < last.Size:
			return nil, ErrShrinks
		case h.Size == last.Size && h.RootHash != last.RootHash:
			return nil, ErrFork
		case h.Size == last.Size:
			return nil, nil
		}
	}
	h.SignedAt = h.SignedAt.UTC()
	return []Event{h}, nil
}

// ErrUnknownEvent: a stored type (or schema version) this package does not know.
var ErrUnknownEvent = fmt.Errorf("%w: unknown audit event", event.ErrInvalid)

var codec = func() *event.Codec[Event] {
	c := event.NewCodec[Event](ErrUnknownEvent)
	event.Register[TreeHeadSigned](c, TypeTreeHeadSigned)
	return c
}()

// Has reports whether typ is one of this package's event types.
func Has(typ string) bool { return codec.Has(typ) }

// DecodeEnvelope decodes a stored event.
func DecodeEnvelope(env event.Envelope) (Event, error) { return codec.DecodeEnvelope(env) }

// NewEvent encodes e as an event to append with the given ID and metadata.
func NewEvent(id string, e Event, meta event.Metadata) (event.New, error) {
	return codec.NewEvent(id, e, meta)
}

// IsUnknownEvent reports whether err says an event type or version is unknown.
func IsUnknownEvent(err error) bool { return codec.IsUnknown(err) }

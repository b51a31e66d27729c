// Package auditlog puts the global event log into a Merkle tree (RFC 6962)
// and checks it: the leaf of each event, the tree caught up from a store,
// the file-backed key that signs tree heads, the walk that `signet audit
// verify` runs over the whole log, and inclusion proofs in a JSON form that
// can be checked offline.
//
// Leaf i of the tree is the i-th event of the global log (0-based, in
// position order). Positions are not leaf indices: EventStoreDB's have gaps.
package auditlog

import (
	"context"
	"encoding/binary"
	"fmt"
	"slices"

	"signet/domain/audit"
	"signet/domain/event"
	"signet/infra/merkle"
)

// LeafPrefix opens every leaf's data; it changes if the encoding ever does.
const LeafPrefix = "signet-leaf-v1"

// LeafData is an event's leaf in the tree: its stream, version, ID and
// chain hash, each length-prefixed,
//
//	field("signet-leaf-v1") || field(stream) || uint64be(version) || field(id) || field(hash)
//
// where field(b) = uint64be(len(b)) || b and hash is the 64 hex digits as
// text. The chain hash covers the event's type, data, metadata and its
// stream's history before it, so the leaf binds the whole event.
func LeafData(e event.Envelope) []byte {
	b := make([]byte, 0, 8*5+len(LeafPrefix)+len(e.Stream)+len(e.ID)+len(e.Hash))
	field := func(s string) {
		b = binary.BigEndian.AppendUint64(b, uint64(len(s)))
		b = append(b, s...)
	}
	field(LeafPrefix)
	field(e.Stream)
	b = binary.BigEndian.AppendUint64(b, e.Version)
	field(e.ID)
	field(e.Hash)
	return b
}

// LeafHash is the tree's leaf hash of an event.
func LeafHash(e event.Envelope) [32]byte { return merkle.LeafHash(LeafData(e)) }

// Reader reads the global log (eventstore.Store's ReadAll).
type Reader interface {
	ReadAll(ctx context.Context, after uint64, limit int) ([]event.Envelope, error)
}

// Page is how many events a catch-up reads at a time.
const Page = 1000

// Tree is the Merkle tree over the global log as far as it was read, with
// the position of every leaf. It is not safe for concurrent use.
type Tree struct {
	tree      *merkle.Tree
	positions []uint64
	covered   uint64 // leaves up to and including the last event that is not a tree head
}

// NewTree returns the tree of an empty log.
func NewTree() *Tree { return &Tree{tree: merkle.New()} }

// Add appends the next event of the global log and returns its leaf index.
func (t *Tree) Add(e event.Envelope) (uint64, error) {
	if n := len(t.positions); n > 0 && e.Position <= t.positions[n-1] {
		return 0, fmt.Errorf("auditlog: event %s at position %d after position %d", e.ID, e.Position, t.positions[n-1])
	}
	i := t.tree.AppendHash(LeafHash(e))
	t.positions = append(t.positions, e.Position)
	if e.Stream != audit.Stream {
		t.covered = i + 1
	}
	return i, nil
}

// CatchUp reads and adds every event after the last one added.
func (t *Tree) CatchUp(ctx context.Context, r Reader) (int, error) {
	added := 0
	for {
		page, err := r.ReadAll(ctx, t.LastPosition(), Page)
		if err != nil {
			return added, fmt.Errorf("read the log after position %d: %w", t.LastPosition(), err)
		}
		for _, e := range page {
			if _, err := t.Add(e); err != nil {
				return added, err
			}
		}
		added += len(page)
		if len(page) == 0 {
			return added, nil
		}
	}
}

// Size is the number of leaves (events read).
func (t *Tree) Size() uint64 { return t.tree.Size() }

// Merkle is the tree itself, for roots and proofs.
func (t *Tree) Merkle() *merkle.Tree { return t.tree }

// LastPosition is the position of the last event read (0 for none).
func (t *Tree) LastPosition() uint64 {
	if len(t.positions) == 0 {
		return 0
	}
	return t.positions[len(t.positions)-1]
}

// PositionAt is the position of leaf i.
func (t *Tree) PositionAt(i uint64) (uint64, bool) {
	if i >= uint64(len(t.positions)) {
		return 0, false
	}
	return t.positions[i], true
}

// IndexOf is the leaf index of the event at a global position.
func (t *Tree) IndexOf(position uint64) (uint64, bool) {
	i, ok := slices.BinarySearch(t.positions, position)
	return uint64(i), ok
}

// Covered is the size of the smallest tree holding every event that is not
// a tree head: signing a bigger tree proves nothing new.
func (t *Tree) Covered() uint64 { return t.covered }

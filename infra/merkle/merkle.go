// Package merkle is the Merkle tree of RFC 6962 (Certificate Transparency),
// as RFC 9162 §2.1 restates it: leaf hashes, tree heads, inclusion and
// consistency proofs and their verification. It does no I/O.
//
// Hashes: a leaf is SHA-256(0x00 || data), an interior node SHA-256(0x01 ||
// left || right), the empty tree SHA-256(""). The tree over n leaves splits
// at the largest power of two below n, so a tree of any size has one root
// and every smaller tree is a prefix of it.
package merkle

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"math/bits"
)

// Errors of this package; returned errors wrap one of them.
var (
	// ErrRange: an index or tree size the tree does not have, or sizes out of order.
	ErrRange = errors.New("merkle: out of range")
	// ErrProof: a proof does not lead from what it proves to the root it is checked against.
	ErrProof = errors.New("merkle: proof does not verify")
)

// EmptyRoot is the root of the tree with no leaves.
var EmptyRoot = sha256.Sum256(nil)

// LeafHash is SHA-256(0x00 || data).
func LeafHash(data []byte) [32]byte {
	h := sha256.New()
	h.Write([]byte{0})
	h.Write(data)
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// NodeHash is SHA-256(0x01 || left || right).
func NodeHash(left, right [32]byte) [32]byte {
	var buf [65]byte
	buf[0] = 1
	copy(buf[1:], left[:])
	copy(buf[33:], right[:])
	return sha256.Sum256(buf[:])
}

// Tree is an append-only Merkle tree that keeps every complete subtree's
// hash: levels[k][i] covers leaves [i·2^k, (i+1)·2^k). Appending is O(1)
// amortised (O(n) for the whole tree, about 64 bytes a leaf), a root or a
// proof at any size O(log² n) at most. It is not safe for concurrent use.
type Tree struct {
	levels [][][32]byte
}

// New returns an empty tree.
func New() *Tree { return &Tree{levels: [][][32]byte{nil}} }

// Append adds a leaf with this data and returns its index.
func (t *Tree) Append(leafData []byte) uint64 { return t.AppendHash(LeafHash(leafData)) }

// AppendHash adds a leaf by its leaf hash and returns its index.
func (t *Tree) AppendHash(leafHash [32]byte) uint64 {
	if len(t.levels) == 0 {
		t.levels = [][][32]byte{nil}
	}
	index := uint64(len(t.levels[0]))
	t.levels[0] = append(t.levels[0], leafHash)
	h := leafHash
	for k := 0; len(t.levels[k])%2 == 0; k++ {
		row := t.levels[k]
		h = NodeHash(row[len(row)-2], h)
		if k+1 == len(t.levels) {
			t.levels = append(t.levels, nil)
		}
		t.levels[k+1] = append(t.levels[k+1], h)
	}
	return index
}

// Size is the number of leaves.
func (t *Tree) Size() uint64 {
	if len(t.levels) == 0 {
		return 0
	}
	return uint64(len(t.levels[0]))
}

// Leaf returns the leaf hash at index.
func (t *Tree) Leaf(index uint64) ([32]byte, error) {
	if index >= t.Size() {
		return [32]byte{}, fmt.Errorf("%w: leaf %d of a tree of %d", ErrRange, index, t.Size())
	}
	return t.levels[0][index], nil
}

// Root is the root of the tree made of the first size leaves.
func (t *Tree) Root(size uint64) ([32]byte, error) {
	if size > t.Size() {
		return [32]byte{}, fmt.Errorf("%w: root at size %d of a tree of %d", ErrRange, size, t.Size())
	}
	if size == 0 {
		return EmptyRoot, nil
	}
	return t.hash(0, size), nil
}

// hash is MTH(D[lo:hi]) for a range the RFC's recursion visits: hi > lo
// and lo a multiple of the largest power of two below hi-lo (or of hi-lo
// itself when that is a power of two).
func (t *Tree) hash(lo, hi uint64) [32]byte {
	n := hi - lo
	if n&(n-1) == 0 && lo%n == 0 {
		k := bits.TrailingZeros64(n)
		return t.levels[k][lo>>k]
	}
	k := split(n)
	return NodeHash(t.hash(lo, lo+k), t.hash(lo+k, hi))
}

// split is the largest power of two smaller than n (n >= 2).
func split(n uint64) uint64 { return 1 << (bits.Len64(n-1) - 1) }

// InclusionProof is the audit path of leaf index in the tree of the first
// size leaves (RFC 6962 §2.1.1), from the leaf's sibling up.
func (t *Tree) InclusionProof(index, size uint64) ([][32]byte, error) {
	if size > t.Size() || index >= size {
		return nil, fmt.Errorf("%w: leaf %d in a tree of %d (the tree has %d)", ErrRange, index, size, t.Size())
	}
	var path [][32]byte
	t.path(index, 0, size, &path)
	return path, nil
}

// path appends PATH(m, D[lo:hi]) with m an absolute index.
func (t *Tree) path(m, lo, hi uint64, out *[][32]byte) {
	if hi-lo == 1 {
		return
	}
	k := split(hi - lo)
	if m < lo+k {
		t.path(m, lo, lo+k, out)
		*out = append(*out, t.hash(lo+k, hi))
	} else {
		t.path(m, lo+k, hi, out)
		*out = append(*out, t.hash(lo, lo+k))
	}
}

// ConsistencyProof proves that the tree of the first m leaves is a prefix
// of the tree of the first n (RFC 6962 §2.1.2). It is empty when m is 0 or
// m equals n.
func (t *Tree) ConsistencyProof(m, n uint64) ([][32]byte, error) {
	if n > t.Size() || m > n {
		return nil, fmt.Errorf("%w: consistency of sizes %d and %d (the tree has %d)", ErrRange, m, n, t.Size())
	}
	var proof [][32]byte
	if m == 0 || m == n {
		return proof, nil
	}
	t.subproof(m, 0, n, true, &proof)
	return proof, nil
}

// subproof appends SUBPROOF(m, D[lo:hi], b), m relative to lo.
func (t *Tree) subproof(m, lo, hi uint64, b bool, out *[][32]byte) {
	n := hi - lo
	if m == n {
		if !b {
			*out = append(*out, t.hash(lo, hi))
		}
		return
	}
	k := split(n)
	if m <= k {
		t.subproof(m, lo, lo+k, b, out)
		*out = append(*out, t.hash(lo+k, hi))
	} else {
		t.subproof(m-k, lo+k, hi, false, out)
		*out = append(*out, t.hash(lo, lo+k))
	}
}

// VerifyInclusion checks that leafHash is leaf index of the tree of size
// leaves whose root is root, given its audit path (RFC 9162 §2.1.3.2).
func VerifyInclusion(leafHash [32]byte, index, size uint64, proof [][32]byte, root [32]byte) error {
	got, err := RootFromInclusion(leafHash, index, size, proof)
	if err != nil {
		return err
	}
	if got != root {
		return fmt.Errorf("%w: leaf %d of %d leads to root %x, not %x", ErrProof, index, size, got, root)
	}
	return nil
}

// RootFromInclusion is the root that an audit path leads to from a leaf.
func RootFromInclusion(leafHash [32]byte, index, size uint64, proof [][32]byte) ([32]byte, error) {
	if index >= size {
		return [32]byte{}, fmt.Errorf("%w: leaf %d in a tree of %d", ErrProof, index, size)
	}
	fn, sn := index, size-1
	r := leafHash
	for _, p := range proof {
		if sn == 0 {
			return [32]byte{}, fmt.Errorf("%w: audit path of leaf %d in a tree of %d is too long (%d hashes)", ErrProof, index, size, len(proof))
		}
		if fn&1 == 1 || fn == sn {
			r = NodeHash(p, r)
			for fn&1 == 0 && fn != 0 {
				fn >>= 1
				sn >>= 1
			}
		} else {
			r = NodeHash(r, p)
		}
		fn >>= 1
		sn >>= 1
	}
	if sn != 0 {
		return [32]byte{}, fmt.Errorf("%w: audit path of leaf %d in a tree of %d is too short (%d hashes)", ErrProof, index, size, len(proof))
	}
	return r, nil
}

// VerifyConsistency checks that the tree of m leaves with root rootM is a
// prefix of the tree of n leaves with root rootN (RFC 9162 §2.1.4.2). Any
// tree extends the empty one (m = 0, empty proof).
func VerifyConsistency(m, n uint64, rootM, rootN [32]byte, proof [][32]byte) error {
	switch {
	case m > n:
		return fmt.Errorf("%w: a tree of %d cannot extend one of %d", ErrProof, n, m)
	case m == 0:
		if len(proof) != 0 {
			return fmt.Errorf("%w: consistency with the empty tree takes no proof", ErrProof)
		}
		if rootM != EmptyRoot {
			return fmt.Errorf("%w: root of the empty tree is %x, not %x", ErrProof, EmptyRoot, rootM)
		}
		return nil
	case m == n:
		if len(proof) != 0 {
			return fmt.Errorf("%w: consistency of a tree with itself takes no proof", ErrProof)
		}
		if rootM != rootN {
			return fmt.Errorf("%w: two different roots for size %d", ErrProof, m)
		}
		return nil
	case len(proof) == 0:
		return fmt.Errorf("%w: empty consistency proof from %d to %d", ErrProof, m, n)
	}
	path := proof
	if m&(m-1) == 0 {
		path = append([][32]byte{rootM}, proof...)
	}
	fn, sn := m-1, n-1
	for fn&1 == 1 {
		fn >>= 1
		sn >>= 1
	}
	fr, sr := path[0], path[0]
	for _, c := range path[1:] {
		if sn == 0 {
			return fmt.Errorf("%w: consistency proof from %d to %d is too long", ErrProof, m, n)
		}
		if fn&1 == 1 || fn == sn {
			fr = NodeHash(c, fr)
			sr = NodeHash(c, sr)
			for fn&1 == 0 && fn != 0 {
				fn >>= 1
				sn >>= 1
			}
		} else {
			sr = NodeHash(sr, c)
		}
		fn >>= 1
		sn >>= 1
	}
	switch {
	case sn != 0:
		return fmt.Errorf("%w: consistency proof from %d to %d is too short", ErrProof, m, n)
	case fr != rootM:
		return fmt.Errorf("%w: proof leads to root %x at size %d, not %x", ErrProof, fr, m, rootM)
	case sr != rootN:
		return fmt.Errorf("%w: proof leads to root %x at size %d, not %x", ErrProof, sr, n, rootN)
	}
	return nil
}

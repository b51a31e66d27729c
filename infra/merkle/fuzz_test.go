package merkle

import (
	"encoding/binary"
	"testing"
)

func proofOf(b []byte) [][32]byte {
	var p [][32]byte
	for len(b) >= 32 {
		p = append(p, [32]byte(b[:32]))
		b = b[32:]
	}
	return p
}

// The verifiers take proofs from outside: whatever the sizes, indices and
// path lengths, they answer without panicking, and they accept a proof for
// the reference tree only if it is the tree's own.
func FuzzVerifyInclusion(f *testing.F) {
	tr := New()
	for i := range 13 {
		tr.Append([]byte{byte(i)})
	}
	p, _ := tr.InclusionProof(5, 13)
	var seed []byte
	for _, h := range p {
		seed = append(seed, h[:]...)
	}
	f.Add(uint64(5), uint64(13), seed)
	f.Add(uint64(0), uint64(0), []byte{})
	f.Add(^uint64(0), ^uint64(0), make([]byte, 64*32))
	f.Fuzz(func(t *testing.T, index, size uint64, raw []byte) {
		proof := proofOf(raw)
		var leaf [32]byte
		binary.BigEndian.PutUint64(leaf[:], index)
		_ = VerifyInclusion(leaf, index, size, proof, leaf)
		if size == 13 && index < 13 {
			l, _ := tr.Leaf(index)
			root, _ := tr.Root(13)
			if VerifyInclusion(l, index, size, proof, root) == nil {
				want, _ := tr.InclusionProof(index, 13)
				if len(want) != len(proof) {
					t.Fatalf("a path of %d hashes verified; the real one has %d", len(proof), len(want))
				}
				for i := range want {
					if want[i] != proof[i] {
						t.Fatalf("a forged path verified leaf %d", index)
					}
				}
			}
		}
	})
}

func FuzzVerifyConsistency(f *testing.F) {
	tr := New()
	for i := range 13 {
		tr.Append([]byte{byte(i)})
	}
	p, _ := tr.ConsistencyProof(6, 13)
	var seed []byte
	for _, h := range p {
		seed = append(seed, h[:]...)
	}
	f.Add(uint64(6), uint64(13), seed)
	f.Add(uint64(0), uint64(0), []byte{})
	f.Add(uint64(1)<<63, ^uint64(0), make([]byte, 70*32))
	f.Fuzz(func(t *testing.T, m, n uint64, raw []byte) {
		proof := proofOf(raw)
		var a, b [32]byte
		binary.BigEndian.PutUint64(a[:], m)
		binary.BigEndian.PutUint64(b[:], n)
		_ = VerifyConsistency(m, n, a, b, proof)
		if n == 13 && m >= 1 && m < 13 {
			rm, _ := tr.Root(m)
			rn, _ := tr.Root(13)
			if VerifyConsistency(m, n, rm, rn, proof) == nil {
				want, _ := tr.ConsistencyProof(m, 13)
				if len(want) != len(proof) {
					t.Fatalf("a proof of %d hashes verified; the real one has %d", len(proof), len(want))
				}
			}
		}
	})
}

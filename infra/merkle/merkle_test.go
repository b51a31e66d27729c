package merkle

import (
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
)

// The Certificate Transparency reference tree (certificate-transparency-go
// and trillian testonly vectors): eight leaves, the root at every size, and
// a few inclusion and consistency proofs.
var ctLeaves = []string{"", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"}

var ctRoots = []string{
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
	"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
	"aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
	"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
	"4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
	"76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
	"ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
	"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
}

var ctInclusion = []struct {
	index, size uint64
	proof       []string
}{
	{0, 8, []string{"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7", "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e", "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
	{5, 8, []string{"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b", "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0", "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
	{2, 3, []string{"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"}},
	{1, 5, []string{"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d", "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e", "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
	{0, 1, nil},
}

var ctConsistency = []struct {
	m, n  uint64
	proof []string
}{
	{1, 1, nil},
	{1, 8, []string{"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7", "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e", "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
	{6, 8, []string{"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a", "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0", "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
	{2, 5, []string{"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e", "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
}

func h32(t *testing.T, s string) [32]byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 32 {
		t.Fatalf("bad hash %q", s)
	}
	return [32]byte(b)
}

func hashes(t *testing.T, ss []string) [][32]byte {
	out := [][32]byte{}
	for _, s := range ss {
		out = append(out, h32(t, s))
	}
	return out
}

func ctTree(t *testing.T) *Tree {
	tr := New()
	for i, l := range ctLeaves {
		b, _ := hex.DecodeString(l)
		if got := tr.Append(b); got != uint64(i) {
			t.Fatalf("leaf %d got index %d", i, got)
		}
	}
	return tr
}

func TestReferenceRoots(t *testing.T) {
	tr := ctTree(t)
	for size, want := range ctRoots {
		got, err := tr.Root(uint64(size))
		if err != nil || hex.EncodeToString(got[:]) != want {
			t.Errorf("root at %d: %x %v, want %s", size, got, err, want)
		}
	}
	if _, err := tr.Root(9); !errors.Is(err, ErrRange) {
		t.Errorf("root beyond the tree: %v", err)
	}
}

func TestReferenceInclusion(t *testing.T) {
	tr := ctTree(t)
	for _, v := range ctInclusion {
		got, err := tr.InclusionProof(v.index, v.size)
		if err != nil {
			t.Fatal(err)
		}
		want := hashes(t, v.proof)
		if !slices.Equal(got, want) {
			t.Errorf("proof of %d in %d: %x, want %x", v.index, v.size, got, want)
		}
		leaf, _ := tr.Leaf(v.index)
		if err := VerifyInclusion(leaf, v.index, v.size, want, h32(t, ctRoots[v.size])); err != nil {
			t.Errorf("reference proof of %d in %d: %v", v.index, v.size, err)
		}
		if err := VerifyInclusion(leaf, v.index, v.size, want, h32(t, ctRoots[0])); !errors.Is(err, ErrProof) {
			t.Errorf("reference proof verified against the wrong root: %v", err)
		}
	}
}

func TestReferenceConsistency(t *testing.T) {
	tr := ctTree(t)
	for _, v := range ctConsistency {
		got, err := tr.ConsistencyProof(v.m, v.n)
		if err != nil {
			t.Fatal(err)
		}
		want := hashes(t, v.proof)
		if !slices.Equal(got, want) {
			t.Errorf("consistency %d->%d: %x, want %x", v.m, v.n, got, want)
		}
		if err := VerifyConsistency(v.m, v.n, h32(t, ctRoots[v.m]), h32(t, ctRoots[v.n]), want); err != nil {
			t.Errorf("reference consistency %d->%d: %v", v.m, v.n, err)
		}
	}
}

// naive is the RFC's recursive definition, computed from scratch.
func naive(leaves [][32]byte) [32]byte {
	switch n := uint64(len(leaves)); n {
	case 0:
		return EmptyRoot
	case 1:
		return leaves[0]
	default:
		k := uint64(1)
		for k*2 < n {
			k *= 2
		}
		return NodeHash(naive(leaves[:k]), naive(leaves[k:]))
	}
}

func flip(h [32]byte, bit int) [32]byte {
	h[bit/8] ^= 1 << (bit % 8)
	return h
}

// Every inclusion and consistency proof of random trees verifies against
// the naive roots, and one flipped bit anywhere makes it fail.
func TestProofsProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(6962, 9162))
	sizes := []int{1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 31, 33, 64, 100}
	for range 6 {
		sizes = append(sizes, 1+rng.IntN(300))
	}
	for _, n := range sizes {
		tr := New()
		var leaves [][32]byte
		for range n {
			data := make([]byte, rng.IntN(40))
			for j := range data {
				data[j] = byte(rng.UintN(256))
			}
			tr.Append(data)
			leaves = append(leaves, LeafHash(data))
		}
		roots := make([][32]byte, n+1)
		for m := 0; m <= n; m++ {
			roots[m] = naive(leaves[:m])
			got, err := tr.Root(uint64(m))
			if err != nil || got != roots[m] {
				t.Fatalf("n=%d root at %d differs from the recursive definition", n, m)
			}
		}
		for size := 1; size <= n; size++ {
			if n > 40 && size%7 != 0 && size != n {
				continue // keep large trees quick: a sample of sizes
			}
			for i := 0; i < size; i++ {
				p, err := tr.InclusionProof(uint64(i), uint64(size))
				if err != nil {
					t.Fatal(err)
				}
				if err := VerifyInclusion(leaves[i], uint64(i), uint64(size), p, roots[size]); err != nil {
					t.Fatalf("n=%d leaf %d of %d: %v", n, i, size, err)
				}
				if err := VerifyInclusion(flip(leaves[i], rng.IntN(256)), uint64(i), uint64(size), p, roots[size]); err == nil {
					t.Fatalf("n=%d leaf %d of %d: a changed leaf verified", n, i, size)
				}
				if len(p) > 0 {
					bad := slices.Clone(p)
					j := rng.IntN(len(bad))
					bad[j] = flip(bad[j], rng.IntN(256))
					if VerifyInclusion(leaves[i], uint64(i), uint64(size), bad, roots[size]) == nil {
						t.Fatalf("n=%d leaf %d of %d: a changed path verified", n, i, size)
					}
					if VerifyInclusion(leaves[i], uint64(i), uint64(size), p[:len(p)-1], roots[size]) == nil {
						t.Fatalf("n=%d leaf %d of %d: a short path verified", n, i, size)
					}
				}
				if VerifyInclusion(leaves[i], uint64(i), uint64(size), append(slices.Clone(p), leaves[i]), roots[size]) == nil {
					t.Fatalf("n=%d leaf %d of %d: a long path verified", n, i, size)
				}
			}
		}
		for m := 0; m <= n; m++ {
			for k := m; k <= n; k++ {
				if n > 40 && m%5 != 0 && k != n {
					continue
				}
				p, err := tr.ConsistencyProof(uint64(m), uint64(k))
				if err != nil {
					t.Fatal(err)
				}
				if err := VerifyConsistency(uint64(m), uint64(k), roots[m], roots[k], p); err != nil {
					t.Fatalf("n=%d consistency %d->%d: %v", n, m, k, err)
				}
				if m == 0 {
					continue
				}
				if VerifyConsistency(uint64(m), uint64(k), flip(roots[m], rng.IntN(256)), roots[k], p) == nil {
					t.Fatalf("n=%d consistency %d->%d: a changed old root verified", n, m, k)
				}
				if VerifyConsistency(uint64(m), uint64(k), roots[m], flip(roots[k], rng.IntN(256)), p) == nil {
					t.Fatalf("n=%d consistency %d->%d: a changed new root verified", n, m, k)
				}
				if len(p) > 0 {
					bad := slices.Clone(p)
					j := rng.IntN(len(bad))
					bad[j] = flip(bad[j], rng.IntN(256))
					if VerifyConsistency(uint64(m), uint64(k), roots[m], roots[k], bad) == nil {
						t.Fatalf("n=%d consistency %d->%d: a changed proof verified", n, m, k)
					}
				}
			}
		}
	}
}

func TestRangeErrors(t *testing.T) {
	tr := ctTree(t)
	for _, err := range []error{
		func() error { _, err := tr.InclusionProof(8, 8); return err }(),
		func() error { _, err := tr.InclusionProof(0, 9); return err }(),
		func() error { _, err := tr.ConsistencyProof(5, 4); return err }(),
		func() error { _, err := tr.ConsistencyProof(1, 9); return err }(),
		func() error { _, err := tr.Leaf(8); return err }(),
	} {
		if !errors.Is(err, ErrRange) {
			t.Errorf("got %v, want ErrRange", err)
		}
	}
	var zero Tree
	if zero.Size() != 0 || zero.AppendHash(LeafHash(nil)) != 0 || zero.Size() != 1 {
		t.Error("the zero Tree is not an empty tree")
	}
	if err := VerifyConsistency(0, 5, EmptyRoot, h32(t, ctRoots[5]), nil); err != nil {
		t.Errorf("the empty tree is a prefix of every tree: %v", err)
	}
	if err := VerifyConsistency(3, 2, h32(t, ctRoots[3]), h32(t, ctRoots[2]), nil); !errors.Is(err, ErrProof) {
		t.Errorf("a shrinking tree verified: %v", err)
	}
}

// Building is linear: a million leaves take well under a second here, and
// a root at every size costs O(log n), not a rebuild.
func BenchmarkAppend(b *testing.B) {
	tr := New()
	var h [32]byte
	for i := 0; b.Loop(); i++ {
		h[0], h[1], h[2] = byte(i), byte(i>>8), byte(i>>16)
		tr.AppendHash(h)
	}
}

func BenchmarkProof(b *testing.B) {
	tr := New()
	for i := range 1 << 20 {
		tr.Append([]byte{byte(i), byte(i >> 8), byte(i >> 16)})
	}
	n := tr.Size()
	for i := uint64(0); b.Loop(); i++ {
		if _, err := tr.InclusionProof(i*7919%n, n-i%1000); err != nil && i*7919%n < n-i%1000 {
			b.Fatal(err)
		}
	}
}

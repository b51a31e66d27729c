package audit

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"signet/domain/event"
	"signet/domain/fault"
)

var t0 = time.Date(2026, 11, 30, 8, 0, 0, 123456000, time.UTC)

const rootA = "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
const rootB = "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"

func signed(t *testing.T, key ed25519.PrivateKey, size uint64, root string, at time.Time) TreeHeadSigned {
	t.Helper()
	pub := key.Public().(ed25519.PublicKey)
	h := TreeHeadSigned{Size: size, LastPosition: size + 3, RootHash: root, SignedAt: at, KeyID: KeyID(pub), Algorithm: AlgorithmEd25519}
	h.Signature = base64.StdEncoding.EncodeToString(ed25519.Sign(key, h.Message()))
	return h
}

func testKey() ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed([]byte(strings.Repeat("k", ed25519.SeedSize)))
}

func TestMessage(t *testing.T) {
	want := "signet-tree-head-v1\n1042\n" + rootA + "\n2026-11-30T08:00:00.123456Z"
	if got := string(Message(1042, rootA, t0.In(time.FixedZone("CST", 8*3600)))); got != want {
		t.Fatalf("message %q, want %q", got, want)
	}
}

func TestVerify(t *testing.T) {
	key := testKey()
	pub := key.Public().(ed25519.PublicKey)
	good := signed(t, key, 8, rootA, t0)
	if err := good.Verify(pub); err != nil {
		t.Fatal(err)
	}
	other := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	for name, edit := range map[string]func(*TreeHeadSigned){
		"size":      func(h *TreeHeadSigned) { h.Size++ },
		"root":      func(h *TreeHeadSigned) { h.RootHash = rootB },
		"time":      func(h *TreeHeadSigned) { h.SignedAt = h.SignedAt.Add(time.Microsecond) },
		"algorithm": func(h *TreeHeadSigned) { h.Algorithm = "rsa" },
		"key id":    func(h *TreeHeadSigned) { h.KeyID = KeyID(other.Public().(ed25519.PublicKey)) },
		"signature": func(h *TreeHeadSigned) { h.Signature = h.Signature[:10] },
		"upper hex": func(h *TreeHeadSigned) { h.RootHash = strings.ToUpper(h.RootHash) },
		"other key": func(h *TreeHeadSigned) { *h = signed(t, other, h.Size, h.RootHash, h.SignedAt) },
	} {
		h := good
		edit(&h)
		if err := h.Verify(pub); !errors.Is(err, ErrBadSignature) {
			t.Errorf("%s changed, and Verify says %v", name, err)
		}
	}
	// LastPosition is not signed: it only tells the log where to look.
	moved := good
	moved.LastPosition = 99
	if err := moved.Verify(pub); err != nil {
		t.Errorf("LastPosition changed: %v", err)
	}
}

func TestRecord(t *testing.T) {
	key := testKey()
	h8 := signed(t, key, 8, rootA, t0)
	cases := []struct {
		name  string
		given []Event
		head  TreeHeadSigned
		want  int    // events decided
		code  string // or a refusal
	}{
		{"first head", nil, h8, 1, ""},
		{"grows", []Event{signed(t, key, 4, rootB, t0)}, h8, 1, ""},
		{"same head again", []Event{h8}, signed(t, key, 8, rootA, t0.Add(time.Minute)), 0, ""},
		{"shrinks", []Event{h8}, signed(t, key, 4, rootB, t0.Add(time.Minute)), 0, "tree_head_shrinks"},
		{"fork", []Event{h8}, signed(t, key, 8, rootB, t0.Add(time.Minute)), 0, "tree_head_fork"},
		{"unsigned", nil, TreeHeadSigned{Size: 8, RootHash: rootA, SignedAt: t0, Algorithm: AlgorithmEd25519}, 0, "invalid"},
		{"bad root", nil, signed(t, key, 8, "abc", t0), 0, "invalid"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := &Log{}
			for _, e := range tc.given {
				if err := l.Apply(e); err != nil {
					t.Fatal(err)
				}
			}
			evs, err := l.Record(tc.head)
			code := ""
			if f, ok := fault.As(err); ok {
				code = f.Code
			} else if errors.Is(err, event.ErrInvalid) {
				code = "invalid"
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tc.code || len(evs) != tc.want {
				t.Fatalf("got %d events, refusal %q (%v); want %d, %q", len(evs), code, err, tc.want, tc.code)
			}
		})
	}
}

// Stored heads replay, and a stream whose heads shrink does not.
func TestReplay(t *testing.T) {
	key := testKey()
	env := func(v uint64, h TreeHeadSigned) event.Envelope {
		n, err := NewEvent("id", h, event.Metadata{OccurredAt: t0})
		if err != nil {
			t.Fatal(err)
		}
		return event.Envelope{Stream: Stream, Version: v, Type: n.Type, Schema: n.Schema, Data: n.Data}
	}
	l, err := Replay([]event.Envelope{env(1, signed(t, key, 4, rootB, t0)), env(2, signed(t, key, 8, rootA, t0))})
	if err != nil {
		t.Fatal(err)
	}
	last, ok := l.Last()
	if !ok || l.Version() != 2 || last.Size != 8 || last.Verify(key.Public().(ed25519.PublicKey)) != nil {
		t.Fatalf("replayed %d %+v", l.Version(), last)
	}
	if _, err := Replay([]event.Envelope{env(1, signed(t, key, 8, rootA, t0)), env(2, signed(t, key, 4, rootB, t0))}); !errors.Is(err, event.ErrInvalid) {
		t.Fatalf("a shrinking stream replayed: %v", err)
	}
}

func TestResume(t *testing.T) {
	key := testKey()
	n, err := NewEvent("id", signed(t, key, 8, rootA, t0), event.Metadata{OccurredAt: t0})
	if err != nil {
		t.Fatal(err)
	}
	l, err := Resume(event.Envelope{Stream: Stream, Version: 7, Type: n.Type, Schema: n.Schema, Data: n.Data})
	if err != nil {
		t.Fatal(err)
	}
	if last, _ := l.Last(); l.Version() != 7 || last.Size != 8 {
		t.Fatalf("resumed at %d with %+v", l.Version(), last)
	}
	if _, err := l.Record(signed(t, key, 7, rootB, t0)); !errors.Is(err, ErrShrinks) {
		t.Fatalf("a resumed log took a smaller head: %v", err)
	}
	if _, err := Resume(event.Envelope{Stream: Stream, Version: 1, Type: "Other", Schema: 1, Data: []byte("{}")}); !IsUnknownEvent(err) {
		t.Fatalf("resumed from an unknown event: %v", err)
	}
}

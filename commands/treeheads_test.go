package commands_test

import (
	"context"
	"crypto/ed25519"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"signet/commands"
	"signet/domain/audit"
	"signet/domain/event"
	"signet/infra/auditlog"
	"signet/infra/clock"
	"signet/infra/eventstore/sqlite"
	"signet/infra/merkle"
)

func openLog(t *testing.T) (*sqlite.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "events.db")
	store, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return store, path
}

func testSigner() *auditlog.FileSigner {
	return auditlog.NewSigner(ed25519.NewKeyFromSeed([]byte(strings.Repeat("s", ed25519.SeedSize))))
}

// appendN appends n events to a few streams.
func appendN(s *sqlite.Store, prefix string, n int) error {
	for i := range n {
		stream := fmt.Sprintf("thing-%s%d", prefix, i%3)
		_, err := s.Append(ctx, stream, event.Any, event.New{ID: fmt.Sprintf("%s-%d", prefix, i), Type: "ThingHappened", Schema: 1,
			Data: []byte(fmt.Sprintf(`{"n":%d}`, i)), Meta: event.Metadata{Actor: "a1", OccurredAt: t0}})
		if err != nil {
			return err
		}
	}
	return nil
}

func appendSome(t *testing.T, s *sqlite.Store, prefix string, n int) {
	t.Helper()
	if err := appendN(s, prefix, n); err != nil {
		t.Fatal(err)
	}
}

func heads(t *testing.T, s *sqlite.Store) []audit.TreeHeadSigned {
	t.Helper()
	envs, err := s.ReadStream(ctx, audit.Stream, 1, event.Forwards, 0)
	if errors.Is(err, event.ErrNotFound) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []audit.TreeHeadSigned
	for _, e := range envs {
		h, err := audit.DecodeEnvelope(e)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, h.(audit.TreeHeadSigned))
	}
	return out
}

func verifyLog(t *testing.T, s *sqlite.Store, signer commands.HeadSigner) auditlog.Report {
	t.Helper()
	r, err := auditlog.Verify(ctx, s, auditlog.KeySet(signer.PublicKey()))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestTreeHeadsGrow(t *testing.T) {
	store, _ := openLog(t)
	signer := testSigner()
	clk := clock.NewFake(t0)
	th := &commands.TreeHeads{Store: store, Signer: signer, Clock: clk}

	if h, err := th.Tick(ctx); err != nil || h.Size != 0 || heads(t, store) != nil {
		t.Fatalf("empty log: %+v %v", h, err)
	}
	appendSome(t, store, "a", 10)
	h1, err := th.Tick(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if h1.Size != 10 || h1.LastPosition != 10 || h1.KeyID != signer.KeyID() || h1.Verify(signer.PublicKey()) != nil {
		t.Fatalf("first head %+v", h1)
	}
	// The head is an event of the log too; a log that grew only by heads
	// gets no new head.
	clk.Set(t0.Add(time.Minute))
	if h, err := th.Tick(ctx); err != nil || h != h1 || len(heads(t, store)) != 1 {
		t.Fatalf("tick without news: %+v %v, %d heads", h, err, len(heads(t, store)))
	}
	appendSome(t, store, "b", 5)
	h2, err := th.Tick(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if h2.Size != 16 || !h2.SignedAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("second head %+v (10 + the first head + 5)", h2)
	}
	// The second head extends the first: a consistency proof from a tree
	// rebuilt from the log checks against the two signed roots.
	tree := auditlog.NewTree()
	if _, err := tree.CatchUp(ctx, store); err != nil {
		t.Fatal(err)
	}
	proof, err := tree.Merkle().ConsistencyProof(h1.Size, h2.Size)
	if err != nil {
		t.Fatal(err)
	}
	r1, _ := h1.Root()
	r2, _ := h2.Root()
	if err := merkle.VerifyConsistency(h1.Size, h2.Size, r1, r2, proof); err != nil {
		t.Fatal(err)
	}
	// A new policy (a restarted process) reads the whole log and agrees.
	again := &commands.TreeHeads{Store: store, Signer: signer, Clock: clk}
	if h, err := again.Tick(ctx); err != nil || h != h2 {
		t.Fatalf("restarted: %+v %v", h, err)
	}
	if r := verifyLog(t, store, signer); !r.OK() || r.Heads != 2 || r.HeadsVerified != 2 || r.Events != 17 {
		t.Fatalf("verify:\n%s", r.Summary())
	}
}

// Two processes signing one store at once never record two heads of one
// size, and every head extends the one before it.
func TestTreeHeadsConcurrent(t *testing.T) {
	store, _ := openLog(t)
	signer := testSigner()
	clk := clock.NewFake(t0)
	a := &commands.TreeHeads{Store: store, Signer: signer, Clock: clk}
	b := &commands.TreeHeads{Store: store, Signer: signer, Clock: clk}
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for p, th := range []*commands.TreeHeads{a, b, a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 15 {
				if err := appendN(store, fmt.Sprintf("p%d-%d-", p, i), 2); err != nil {
					errs <- err
					return
				}
				if _, err := th.Tick(ctx); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	hs := heads(t, store)
	if len(hs) < 2 {
		t.Fatalf("%d heads", len(hs))
	}
	for i := 1; i < len(hs); i++ {
		if hs[i].Size <= hs[i-1].Size {
			t.Fatalf("head %d has size %d after %d", i+1, hs[i].Size, hs[i-1].Size)
		}
	}
	if r := verifyLog(t, store, signer); !r.OK() || r.HeadsVerified != len(hs) {
		t.Fatalf("verify:\n%s", r.Summary())
	}
}

func TestTreeHeadsEnsureAndProof(t *testing.T) {
	store, _ := openLog(t)
	signer := testSigner()
	clk := clock.NewFake(t0)
	th := &commands.TreeHeads{Store: store, Signer: signer, Clock: clk}
	appendSome(t, store, "a", 7)
	h1, err := th.Tick(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Covered already: the same head, nothing signed.
	if h, err := th.Ensure(ctx, 3); err != nil || h != h1 {
		t.Fatalf("ensure a covered position: %+v %v", h, err)
	}
	appendSome(t, store, "b", 2)
	// Position 10 is the first of "b" (after the head at 8): signed now.
	h2, err := th.Ensure(ctx, 10)
	if err != nil || h2.Size != 10 {
		t.Fatalf("ensure a new position: %+v %v", h2, err)
	}
	if _, err := th.Ensure(ctx, 999); !errors.Is(err, event.ErrNotFound) {
		t.Fatalf("ensure a position beyond the log: %v", err)
	}

	p, err := th.Proof(ctx, "a-4")
	if err != nil {
		t.Fatal(err)
	}
	if p.LeafIndex != 4 || p.TreeSize != 10 || p.Head != h2 || p.Event.ID != "a-4" {
		t.Fatalf("proof %+v", p)
	}
	if err := p.Verify(signer.PublicKey()); err != nil {
		t.Fatal(err)
	}
	other := auditlog.NewSigner(ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)))
	if err := p.Verify(other.PublicKey()); !errors.Is(err, auditlog.ErrProofFails) {
		t.Fatalf("verified with another key: %v", err)
	}
	if _, err := th.Proof(ctx, "nope"); !errors.Is(err, event.ErrNotFound) {
		t.Fatalf("proof of an unknown event: %v", err)
	}
	changed := p.Event
	changed.Data = []byte(`{"n":5}`)
	if _, err := th.ProofFor(ctx, changed); err == nil {
		t.Fatal("proved an event that is not the stored one")
	}
}

// A log changed after its head was signed is never signed again.
func TestTreeHeadsRefuseDivergedLog(t *testing.T) {
	store, path := openLog(t)
	signer := testSigner()
	appendSome(t, store, "a", 5)
	th := &commands.TreeHeads{Store: store, Signer: signer, Clock: clock.NewFake(t0)}
	if _, err := th.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE events SET hash = ? WHERE id = 'a-2'`, strings.Repeat("0", 64)); err != nil {
		t.Fatal(err)
	}
	appendSome(t, store, "b", 1)
	fresh := &commands.TreeHeads{Store: store, Signer: signer, Clock: clock.NewFake(t0)}
	if _, err := fresh.Tick(ctx); !errors.Is(err, commands.ErrLogDiverged) {
		t.Fatalf("signed over a changed log: %v", err)
	}
	if n := len(heads(t, store)); n != 1 {
		t.Fatalf("%d heads", n)
	}
}

// racingStore lets another process act just before the policy's next
// append of a tree head.
type racingStore struct {
	*sqlite.Store
	before func()
}

func (r *racingStore) Append(ctx context.Context, stream string, expected event.ExpectedVersion, evs ...event.New) (event.AppendResult, error) {
	if f := r.before; stream == audit.Stream && f != nil {
		r.before = nil
		f()
	}
	return r.Store.Append(ctx, stream, expected, evs...)
}

// A head recorded by another process between reading the stream and
// appending: the append conflicts, the policy reloads and takes that head
// (even one over events it had not read yet) instead of recording its own.
func TestTreeHeadsConflict(t *testing.T) {
	store, _ := openLog(t)
	signer := testSigner()
	clk := clock.NewFake(t0)
	racing := &racingStore{Store: store}
	a := &commands.TreeHeads{Store: racing, Signer: signer, Clock: clk}
	b := &commands.TreeHeads{Store: store, Signer: signer, Clock: clk}
	tickB := func() {
		if _, err := b.Tick(ctx); err != nil {
			t.Error(err)
		}
	}

	appendSome(t, store, "a", 4)
	racing.before = tickB
	h, err := a.Tick(ctx)
	if err != nil {
		t.Fatal(err)
	}
	hs := heads(t, store)
	if len(hs) != 1 || h != hs[0] || h.Size != 4 {
		t.Fatalf("got %+v, recorded %+v", h, hs)
	}

	appendSome(t, store, "b", 3)
	racing.before = func() {
		appendSome(t, store, "c", 2) // b's head will cover events a has not read
		tickB()
	}
	h, err = a.Tick(ctx)
	if err != nil {
		t.Fatal(err)
	}
	hs = heads(t, store)
	if len(hs) != 2 || h != hs[1] || h.Size != 10 {
		t.Fatalf("got %+v, recorded %+v", h, hs)
	}
	if r := verifyLog(t, store, signer); !r.OK() || r.HeadsVerified != 2 {
		t.Fatalf("verify:\n%s", r.Summary())
	}
}

package auditlog_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"signet/domain/audit"
	"signet/domain/event"
	"signet/infra/auditlog"
	"signet/infra/eventstore/sqlite"
)

var ctx = context.Background()

var t0 = time.Date(2026, 11, 30, 2, 0, 0, 0, time.UTC)

var signer = auditlog.NewSigner(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize)))

type logFile struct {
	t     testing.TB
	path  string
	store *sqlite.Store
	tree  *auditlog.Tree
	heads int
}

func newLog(t *testing.T) *logFile {
	t.Helper()
	l := &logFile{t: t, path: filepath.Join(t.TempDir(), "events.db"), tree: auditlog.NewTree()}
	l.open()
	return l
}

func (l *logFile) open() {
	s, err := sqlite.Open(l.path)
	if err != nil {
		l.t.Fatal(err)
	}
	l.store = s
	l.t.Cleanup(func() { s.Close() })
}

func (l *logFile) close() {
	if err := l.store.Close(); err != nil {
		l.t.Fatal(err)
	}
}

// add appends n events, batch at a time, to streams "order-<k>".
func (l *logFile) add(prefix string, n, streams, batch int) {
	l.t.Helper()
	for i := 0; i < n; i += batch {
		stream := fmt.Sprintf("order-%s%d", prefix, (i/batch)%streams)
		var news []event.New
		for j := i; j < min(n, i+batch); j++ {
			news = append(news, event.New{ID: fmt.Sprintf("%s-%d", prefix, j), Type: "OrderPlaced", Schema: 1,
				Data: []byte(fmt.Sprintf(`{"amount":%d,"note":"order %d"}`, 1000+j, j)), Meta: event.Metadata{Actor: "acct-1", OccurredAt: t0}})
		}
		if _, err := l.store.Append(ctx, stream, event.Any, news...); err != nil {
			l.t.Fatal(err)
		}
	}
}

// sign records a tree head over the log as it is now.
func (l *logFile) sign() audit.TreeHeadSigned {
	l.t.Helper()
	if _, err := l.tree.CatchUp(ctx, l.store); err != nil {
		l.t.Fatal(err)
	}
	n := l.tree.Size()
	root, _ := l.tree.Merkle().Root(n)
	pos, _ := l.tree.PositionAt(n - 1)
	h := audit.TreeHeadSigned{Size: n, LastPosition: pos, RootHash: hex.EncodeToString(root[:]), SignedAt: t0.Add(time.Duration(n) * time.Second),
		KeyID: signer.KeyID(), Algorithm: audit.AlgorithmEd25519}
	sig, _ := signer.Sign(h.Message())
	h.Signature = base64.StdEncoding.EncodeToString(sig)
	ne, err := audit.NewEvent(fmt.Sprintf("head-%d", n), h, event.Metadata{Actor: "system:treeheads", OccurredAt: h.SignedAt})
	if err != nil {
		l.t.Fatal(err)
	}
	if _, err := l.store.Append(ctx, audit.Stream, event.Exactly(uint64(l.heads)), ne); err != nil {
		l.t.Fatal(err)
	}
	l.heads++
	return h
}

func (l *logFile) verify(keys auditlog.Keys) auditlog.Report {
	l.t.Helper()
	r, err := auditlog.Verify(ctx, l.store, keys)
	if err != nil {
		l.t.Fatal(err)
	}
	return r
}

// tamper closes the store, changes its file with SQL and opens it again.
func (l *logFile) tamper(query string, args ...any) {
	l.t.Helper()
	l.close()
	db, err := sql.Open("sqlite", l.path)
	if err != nil {
		l.t.Fatal(err)
	}
	res, err := db.Exec(query, args...)
	if err != nil {
		l.t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		l.t.Fatalf("%s changed %d rows", query, n)
	}
	if err := db.Close(); err != nil {
		l.t.Fatal(err)
	}
	l.open()
}

func (l *logFile) stored(id string) event.Envelope {
	l.t.Helper()
	all, err := l.store.ReadAll(ctx, 0, 100000)
	if err != nil {
		l.t.Fatal(err)
	}
	for _, e := range all {
		if e.ID == id {
			return e
		}
	}
	l.t.Fatalf("no event %s", id)
	return event.Envelope{}
}

func mentions(r auditlog.Report, parts ...string) bool {
	for _, p := range r.Problems {
		s := p.String()
		ok := true
		for _, part := range parts {
			ok = ok && strings.Contains(s, part)
		}
		if ok {
			return true
		}
	}
	return false
}

// builtLog has 40 events in 4 streams, a head, 20 more and a second head.
func builtLog(t *testing.T) *logFile {
	l := newLog(t)
	l.add("a", 40, 4, 5)
	l.sign()
	l.add("b", 20, 2, 5)
	l.sign()
	return l
}

func TestVerifyIntactLog(t *testing.T) {
	l := builtLog(t)
	r := l.verify(auditlog.KeySet(signer.PublicKey()))
	if !r.OK() || r.Events != 62 || r.Streams != 7 || r.Heads != 2 || r.HeadsVerified != 2 || r.Unsigned() != 1 {
		t.Fatalf("intact log:\n%s", r.Summary())
	}
	if !strings.HasSuffix(r.Summary(), "OK\n") {
		t.Fatalf("summary:\n%s", r.Summary())
	}
	// Without the key, the heads cannot be trusted.
	if r := l.verify(nil); r.OK() || !mentions(r, "not a key given to check with") {
		t.Fatalf("no key:\n%s", r.Summary())
	}
}

// One byte of one event's data changed in the SQLite file: verify names
// the event, and every head that covered it no longer matches.
func TestVerifyChangedByte(t *testing.T) {
	l := builtLog(t)
	victim := l.stored("a-17")
	data := bytes.Clone(victim.Data)
	i := bytes.IndexByte(data, '7')
	data[i] = '8'
	l.tamper(`UPDATE events SET data = ? WHERE id = ?`, data, victim.ID)

	r := l.verify(auditlog.KeySet(signer.PublicKey()))
	if r.OK() {
		t.Fatal("a changed event verified")
	}
	want := fmt.Sprintf("%s: event %d (id a-17, OrderPlaced, position %d) does not match its hash: its content was changed after it was written", victim.Stream, victim.Version, victim.Position)
	if r.Problems[0].String() != want {
		t.Fatalf("first problem:\n%s\nwant:\n%s", r.Problems[0], want)
	}
	// The leaf binds the event's hash, not its data: the heads still hold,
	// and the chain hash names the event.
	if r.HeadsVerified != 2 {
		t.Fatalf("heads:\n%s", r.Summary())
	}
	if !strings.Contains(r.Summary(), "FAIL: 1 problems") {
		t.Fatalf("summary:\n%s", r.Summary())
	}

	// Changing the hash too (to hide the change from the chain) breaks the
	// next event's link and every head over it.
	l.tamper(`UPDATE events SET hash = ? WHERE id = ?`, event.ChainHash(victim.PrevHash, event.Envelope{ID: victim.ID, Stream: victim.Stream,
		Version: victim.Version, Type: victim.Type, Schema: victim.Schema, Data: data, Meta: victim.Meta}), victim.ID)
	r = l.verify(auditlog.KeySet(signer.PublicKey()))
	t.Log(r.Summary())
	if r.OK() || r.HeadsVerified != 0 || !mentions(r, "is tree head 1", "no longer have the root it signed") || !mentions(r, victim.Stream, fmt.Sprintf("event %d", victim.Version+1), "does not link") {
		t.Fatalf("hash rewritten:\n%s", r.Summary())
	}
}

func TestVerifyDeletedRow(t *testing.T) {
	// In the middle of a stream: a version gap.
	l := builtLog(t)
	victim := l.stored("a-7")
	l.tamper(`DELETE FROM events WHERE id = ?`, victim.ID)
	r := l.verify(auditlog.KeySet(signer.PublicKey()))
	if r.OK() || !mentions(r, victim.Stream, fmt.Sprintf("follows version %d: version %d is missing", victim.Version-1, victim.Version)) {
		t.Fatalf("deleted middle event:\n%s", r.Summary())
	}
	if r.HeadsVerified != 0 || !mentions(r, "is tree head 1") {
		t.Fatalf("heads over a deleted event:\n%s", r.Summary())
	}

	// The first of its stream.
	l = builtLog(t)
	victim = l.stored("a-0")
	l.tamper(`DELETE FROM events WHERE id = ?`, victim.ID)
	if r := l.verify(auditlog.KeySet(signer.PublicKey())); !mentions(r, victim.Stream, "event 2 (id a-1", "opens the stream: version 1 is missing") {
		t.Fatalf("deleted first event:\n%s", r.Summary())
	}

	// The last event of its stream: only the head that covered it tells.
	l = builtLog(t)
	victim = l.stored("a-39")
	l.tamper(`DELETE FROM events WHERE id = ?`, victim.ID)
	r = l.verify(auditlog.KeySet(signer.PublicKey()))
	if r.OK() || !mentions(r, "is tree head 1", "it covers 40 events but only 39 precede it") {
		t.Fatalf("deleted last event:\n%s", r.Summary())
	}
}

// A tree head whose stored root was edited: its own chain hash and its
// signature fail.
func TestVerifyEditedHead(t *testing.T) {
	l := builtLog(t)
	head := l.stored("head-40")
	var h audit.TreeHeadSigned
	if err := json.Unmarshal(head.Data, &h); err != nil {
		t.Fatal(err)
	}
	forged := strings.Replace(string(head.Data), h.RootHash, strings.Repeat("0", 64), 1)
	l.tamper(`UPDATE events SET data = ? WHERE id = ?`, []byte(forged), head.ID)
	r := l.verify(auditlog.KeySet(signer.PublicKey()))
	t.Log(r.Summary())
	if r.OK() || !mentions(r, audit.Stream, "event 1 (id head-40", "does not match its hash") ||
		!mentions(r, "is tree head 1", "no longer have the root it signed") || !mentions(r, "is tree head 1", "signature does not verify") ||
		!mentions(r, "is tree head 2", "does not extend the head before it") {
		t.Fatalf("edited head:\n%s", r.Summary())
	}
}

func TestProofDocument(t *testing.T) {
	l := builtLog(t)
	e := l.stored("b-3")
	tree := auditlog.NewTree()
	if _, err := tree.CatchUp(ctx, l.store); err != nil {
		t.Fatal(err)
	}
	all, _ := l.store.ReadStream(ctx, audit.Stream, 0, event.Backwards, 1)
	hd, _ := audit.DecodeEnvelope(all[0])
	head := hd.(audit.TreeHeadSigned)
	i, _ := tree.IndexOf(e.Position)
	path, err := tree.Merkle().InclusionProof(i, head.Size)
	if err != nil {
		t.Fatal(err)
	}
	p := auditlog.InclusionProof{LeafIndex: i, TreeSize: head.Size, Hashes: path, Head: head, Event: e}
	if err := p.Verify(signer.PublicKey()); err != nil {
		t.Fatal(err)
	}
	doc, err := json.MarshalIndent(p.Document(signer.PublicKey()), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := auditlog.ParseProof(bytes.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	held, err := parsed.Check(nil)
	if err != nil || len(held) != 5 || !strings.Contains(held[4], "compare it with the platform's published") {
		t.Fatalf("check: %v %q", err, held)
	}
	if held, err := parsed.Check(signer.PublicKey()); err != nil || !strings.Contains(held[4], "is the key you trust") {
		t.Fatalf("check with the trusted key: %v %q", err, held)
	}
	other := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)).Public().(ed25519.PublicKey)
	if _, err := parsed.Check(other); !errors.Is(err, auditlog.ErrProofFails) {
		t.Fatalf("checked against another trusted key: %v", err)
	}
	for name, edit := range map[string]func(d *auditlog.ProofDocument){
		"data":       func(d *auditlog.ProofDocument) { d.Event.Data = []byte(`{"amount":1}`) },
		"actor":      func(d *auditlog.ProofDocument) { d.Event.Metadata.Actor = "someone" },
		"leaf index": func(d *auditlog.ProofDocument) { d.LeafIndex++ },
		"tree size":  func(d *auditlog.ProofDocument) { d.TreeSize-- },
		"path":       func(d *auditlog.ProofDocument) { d.AuditPath[0] = strings.Repeat("1", 64) },
		"short path": func(d *auditlog.ProofDocument) { d.AuditPath = d.AuditPath[1:] },
		"root":       func(d *auditlog.ProofDocument) { d.TreeHead.RootHash = strings.Repeat("2", 64) },
		"signed at":  func(d *auditlog.ProofDocument) { d.TreeHead.SignedAt = d.TreeHead.SignedAt.Add(time.Second) },
		"key":        func(d *auditlog.ProofDocument) { d.PublicKey = base64.StdEncoding.EncodeToString(other) },
		"leaf hash":  func(d *auditlog.ProofDocument) { d.LeafHash = strings.Repeat("3", 64) },
		"format":     func(d *auditlog.ProofDocument) { d.Format = "v0" },
	} {
		d, _ := auditlog.ParseProof(bytes.NewReader(doc))
		edit(&d)
		if _, err := d.Check(nil); !errors.Is(err, auditlog.ErrProofFails) {
			t.Errorf("%s changed and the proof holds: %v", name, err)
		}
	}
	if _, err := auditlog.ParseProof(strings.NewReader(string(doc) + "{}")); err == nil {
		t.Error("trailing data parsed")
	}
	if _, err := auditlog.ParseProof(strings.NewReader(`{"format":"x","extra":1}`)); err == nil {
		t.Error("unknown field parsed")
	}
}

func TestLogKey(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if _, err := auditlog.LoadLogKey(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("no key yet: %v", err)
	}
	s1, err := auditlog.LoadOrCreateLogKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(dir, auditlog.KeyFile))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file %v %v", st, err)
	}
	s2, err := auditlog.LoadOrCreateLogKey(dir)
	if err != nil || !s1.PublicKey().Equal(s2.PublicKey()) || s1.KeyID() != audit.KeyID(s1.PublicKey()) {
		t.Fatalf("reloaded another key: %v", err)
	}
	sig, _ := s2.Sign([]byte("m"))
	if !ed25519.Verify(s1.PublicKey(), []byte("m"), sig) {
		t.Fatal("signature of the reloaded key")
	}
	pemPub, err := auditlog.MarshalPublicKey(s1.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range [][]byte{pemPub, must(os.ReadFile(filepath.Join(dir, auditlog.KeyFile)))} {
		if pub, err := auditlog.ParsePublicKey(b); err != nil || !pub.Equal(s1.PublicKey()) {
			t.Fatalf("parse %s: %v", b[:20], err)
		}
	}
	if _, err := auditlog.ParsePublicKey([]byte("nope")); err == nil {
		t.Fatal("parsed garbage")
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func FuzzParseProof(f *testing.F) {
	f.Add([]byte(`{"format":"signet-inclusion-proof-v1","leaf_index":3,"tree_size":2,"audit_path":["00"]}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := auditlog.ParseProof(bytes.NewReader(b))
		if err != nil {
			return
		}
		if _, err := d.Check(nil); err == nil {
			t.Fatalf("an arbitrary document proved something: %s", b)
		}
	})
}

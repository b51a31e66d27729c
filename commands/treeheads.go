package commands

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"sync"
	"time"

	"signet/domain/audit"
	"signet/domain/event"
	"signet/infra/auditlog"
)

// HeadSigner signs tree heads with an Ed25519 key (auditlog.FileSigner).
type HeadSigner interface {
	KeyID() string
	PublicKey() ed25519.PublicKey
	Sign(msg []byte) ([]byte, error)
}

// LogStore is the part of the event store the tree heads policy uses: the
// global log to read and the tree head stream to append to.
type LogStore interface {
	EventStore
	ReadAll(ctx context.Context, after uint64, limit int) ([]event.Envelope, error)
}

// ErrLogDiverged: the log no longer has the root that its last signed head
// signed. Nothing is signed over a log like that; `signet audit verify`
// says which event changed.
var ErrLogDiverged = errors.New("the event log no longer matches its last signed tree head")

// treeHeadAttempts bounds the retries when other processes sign at the same time.
const treeHeadAttempts = 20

// TreeHeads is the policy that signs the Merkle tree over the global log
// (see signet/domain/audit) and records each signed head on
// "treehead-platform". It keeps the tree in memory and reads only the
// events appended since its last look. Several processes may run it on one
// store: the stream's expected version lets one of them record a head, the
// others reload and find it. Use it by pointer; it is safe for concurrent
// use.
type TreeHeads struct {
	Store  LogStore
	Signer HeadSigner
	Clock  Clock
	Logger *slog.Logger  // default slog.Default()
	Every  time.Duration // how often Run ticks; default 1 minute
	IDs    IDs           // default UUIDs{}

	mu   sync.Mutex
	tree *auditlog.Tree
}

func (t *TreeHeads) check() error {
	if t.Store == nil || t.Signer == nil || t.Clock == nil {
		return errors.New("commands: TreeHeads needs Store, Signer and Clock")
	}
	if t.tree == nil {
		t.tree = auditlog.NewTree()
	}
	if t.IDs == nil {
		t.IDs = UUIDs{}
	}
	return nil
}

// Tick reads the events appended since the last look and, if any of them
// is not itself a tree head, signs and records a head over the whole log.
// It returns the latest head (zero while the log is empty).
func (t *TreeHeads) Tick(ctx context.Context) (audit.TreeHeadSigned, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.check(); err != nil {
		return audit.TreeHeadSigned{}, err
	}
	return t.advance(ctx, 0)
}

// Ensure returns the latest head that covers the event at a global
// position, signing one now if none does yet.
func (t *TreeHeads) Ensure(ctx context.Context, position uint64) (audit.TreeHeadSigned, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	i, err := t.index(ctx, position)
	if err != nil {
		return audit.TreeHeadSigned{}, err
	}
	return t.advance(ctx, i+1)
}

// index catches up and finds the leaf index of a position.
func (t *TreeHeads) index(ctx context.Context, position uint64) (uint64, error) {
	if err := t.check(); err != nil {
		return 0, err
	}
	if _, err := t.tree.CatchUp(ctx, t.Store); err != nil {
		return 0, storeErr("tree heads", err)
	}
	i, ok := t.tree.IndexOf(position)
	if !ok {
		return 0, fmt.Errorf("tree heads: %w: no event at position %d", event.ErrNotFound, position)
	}
	return i, nil
}

// ProofFor proves that env, as stored, is in the log: its inclusion in the
// latest head that covers it (signed now if none does).
func (t *TreeHeads) ProofFor(ctx context.Context, env event.Envelope) (auditlog.InclusionProof, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	i, err := t.index(ctx, env.Position)
	if err != nil {
		return auditlog.InclusionProof{}, err
	}
	tree := t.tree.Merkle()
	if leaf, _ := tree.Leaf(i); leaf != auditlog.LeafHash(env) || event.ChainHash(env.PrevHash, env) != env.Hash {
		return auditlog.InclusionProof{}, fmt.Errorf("tree heads: event %s (%s@%d) is not the event stored at position %d", env.ID, env.Stream, env.Version, env.Position)
	}
	head, err := t.advance(ctx, i+1)
	if err != nil {
		return auditlog.InclusionProof{}, err
	}
	path, err := tree.InclusionProof(i, head.Size)
	if err != nil {
		return auditlog.InclusionProof{}, err
	}
	return auditlog.InclusionProof{LeafIndex: i, TreeSize: head.Size, Hashes: path, Head: head, Event: env}, nil
}

// Proof proves the event with this ID is in the log. The store has no
// index by event ID, so it scans the global log from the start (O(n)):
// callers that hold the envelope use ProofFor.
func (t *TreeHeads) Proof(ctx context.Context, eventID string) (auditlog.InclusionProof, error) {
	var after uint64
	for {
		page, err := t.Store.ReadAll(ctx, after, auditlog.Page)
		if err != nil {
			return auditlog.InclusionProof{}, storeErr("find event "+eventID, err)
		}
		if len(page) == 0 {
			return auditlog.InclusionProof{}, fmt.Errorf("find event %s: %w", eventID, event.ErrNotFound)
		}
		for _, e := range page {
			if e.ID == eventID {
				return t.ProofFor(ctx, e)
			}
		}
		after = page[len(page)-1].Position
	}
}

// Run ticks every Every until ctx ends.
func (t *TreeHeads) Run(ctx context.Context) {
	every := t.Every
	if every <= 0 {
		every = time.Minute
	}
	log := t.Logger
	if log == nil {
		log = slog.Default()
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	var signed uint64
	for {
		if h, err := t.Tick(ctx); err != nil && ctx.Err() == nil {
			log.Error("signing the event log's tree head", "err", err)
		} else if err == nil && h.Size > signed {
			signed = h.Size
			log.Debug("tree head signed", "size", h.Size, "root", h.RootHash)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// advance catches up and returns the latest head, signing a new one when
// the last is smaller than need, or (need 0) when events other than heads
// were added since it. Called with t.mu held.
func (t *TreeHeads) advance(ctx context.Context, need uint64) (audit.TreeHeadSigned, error) {
	for attempt := 1; ; attempt++ {
		if _, err := t.tree.CatchUp(ctx, t.Store); err != nil {
			return audit.TreeHeadSigned{}, storeErr("tree heads", err)
		}
		log, err := t.load(ctx)
		if err != nil {
			return audit.TreeHeadSigned{}, err
		}
		last, has := log.Last()
		size := t.tree.Size()
		if has {
			if last.Size > size {
				// Signed elsewhere over events appended after our read.
				if attempt < treeHeadAttempts {
					continue
				}
				return audit.TreeHeadSigned{}, fmt.Errorf("tree heads: %w: the last head covers %d events, the log has %d", ErrLogDiverged, last.Size, size)
			}
			root, _ := t.tree.Merkle().Root(last.Size)
			if got := hex.EncodeToString(root[:]); got != last.RootHash {
				return audit.TreeHeadSigned{}, fmt.Errorf("tree heads: %w: root of the first %d events is %s, the head signed at %s says %s",
					ErrLogDiverged, last.Size, got, last.SignedAt.Format(time.RFC3339), last.RootHash)
			}
			if need > 0 && last.Size >= need || need == 0 && last.Size >= t.tree.Covered() {
				return last, nil
			}
		}
		if size == 0 {
			return audit.TreeHeadSigned{}, nil
		}
		head, err := t.sign(size)
		if err != nil {
			return audit.TreeHeadSigned{}, err
		}
		evs, err := log.Record(head)
		if err != nil {
			return audit.TreeHeadSigned{}, fmt.Errorf("tree heads: %w", err)
		}
		if len(evs) == 0 {
			return last, nil
		}
		meta := event.Metadata{Actor: "system:treeheads", CorrelationID: t.IDs.NewID(), OccurredAt: head.SignedAt}
		_, err = appendEvents(ctx, t.Store, t.IDs, audit.Stream, event.Exactly(log.Version()), audit.NewEvent, evs, meta)
		if errors.Is(err, event.ErrConcurrency) {
			if attempt < treeHeadAttempts {
				// Another process recorded a head: look at it, after a
				// pause that grows and differs between the racers.
				time.Sleep(time.Duration(attempt*(1+mrand.IntN(3))) * time.Millisecond)
				continue
			}
			if need == 0 {
				return last, nil // a periodic tick: the others are signing
			}
		}
		if err != nil {
			return audit.TreeHeadSigned{}, err
		}
		return head, nil
	}
}

// load reads the tree head stream's last event.
func (t *TreeHeads) load(ctx context.Context) (*audit.Log, error) {
	envs, err := t.Store.ReadStream(ctx, audit.Stream, 0, event.Backwards, 1)
	if errors.Is(err, event.ErrNotFound) || err == nil && len(envs) == 0 {
		return &audit.Log{}, nil
	}
	if err != nil {
		return nil, storeErr("read "+audit.Stream, err)
	}
	return audit.Resume(envs[0])
}

// sign signs the root of the first size events.
func (t *TreeHeads) sign(size uint64) (audit.TreeHeadSigned, error) {
	root, err := t.tree.Merkle().Root(size)
	if err != nil {
		return audit.TreeHeadSigned{}, err
	}
	pos, _ := t.tree.PositionAt(size - 1)
	h := audit.TreeHeadSigned{
		Size: size, LastPosition: pos, RootHash: hex.EncodeToString(root[:]),
		SignedAt: t.Clock.Now().UTC().Truncate(time.Microsecond), KeyID: t.Signer.KeyID(), Algorithm: audit.AlgorithmEd25519,
	}
	sig, err := t.Signer.Sign(h.Message())
	if err != nil {
		return audit.TreeHeadSigned{}, fmt.Errorf("sign tree head: %w", err)
	}
	h.Signature = base64.StdEncoding.EncodeToString(sig)
	return h, nil
}

// ProofsFor proves a run of events (one stream's, say) against one head:
// the latest that covers the last of them, signed now if none does.
func (t *TreeHeads) ProofsFor(ctx context.Context, envs []event.Envelope) (audit.TreeHeadSigned, []auditlog.InclusionProof, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(envs) == 0 {
		return audit.TreeHeadSigned{}, nil, fmt.Errorf("tree heads: %w: no events to prove", event.ErrInvalid)
	}
	last := uint64(0)
	idx := make([]uint64, len(envs))
	for n, env := range envs {
		i, err := t.index(ctx, env.Position)
		if err != nil {
			return audit.TreeHeadSigned{}, nil, err
		}
		if leaf, _ := t.tree.Merkle().Leaf(i); leaf != auditlog.LeafHash(env) || event.ChainHash(env.PrevHash, env) != env.Hash {
			return audit.TreeHeadSigned{}, nil, fmt.Errorf("tree heads: event %s (%s@%d) is not the event stored at position %d", env.ID, env.Stream, env.Version, env.Position)
		}
		idx[n], last = i, max(last, i)
	}
	head, err := t.advance(ctx, last+1)
	if err != nil {
		return audit.TreeHeadSigned{}, nil, err
	}
	out := make([]auditlog.InclusionProof, len(envs))
	for n, env := range envs {
		path, err := t.tree.Merkle().InclusionProof(idx[n], head.Size)
		if err != nil {
			return audit.TreeHeadSigned{}, nil, err
		}
		out[n] = auditlog.InclusionProof{LeafIndex: idx[n], TreeSize: head.Size, Hashes: path, Head: head, Event: env}
	}
	return head, out, nil
}

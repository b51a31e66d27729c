package auditlog

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"signet/domain/audit"
	"signet/domain/event"
	"signet/infra/merkle"
)

// Keys finds the public key of a tree head's key ID.
type Keys func(keyID string) (ed25519.PublicKey, bool)

// KeySet knows the given public keys.
func KeySet(pubs ...ed25519.PublicKey) Keys {
	m := map[string]ed25519.PublicKey{}
	for _, p := range pubs {
		m[audit.KeyID(p)] = p
	}
	return func(id string) (ed25519.PublicKey, bool) { p, ok := m[id]; return p, ok }
}

// MaxProblems is how many problems a Report lists; the rest are counted.
const MaxProblems = 100

// Problem is one thing found wrong, naming the event (or tree head) it is
// about and what is wrong in a sentence.
type Problem struct {
	Stream   string
	Version  uint64
	EventID  string
	Type     string
	Position uint64
	What     string
}

func (p Problem) String() string {
	return fmt.Sprintf("%s: event %d (id %s, %s, position %d) %s", p.Stream, p.Version, p.EventID, p.Type, p.Position, p.What)
}

// Report is what Verify found.
type Report struct {
	Events        uint64 // events read
	Streams       int
	Heads         int // tree heads recorded
	HeadsVerified int // tree heads whose root, signature and consistency all hold
	LastHead      *audit.TreeHeadSigned
	Problems      []Problem
	MoreProblems  int           // problems found beyond MaxProblems
	Elapsed       time.Duration // time taken
}

// OK reports whether nothing was found wrong.
func (r Report) OK() bool { return len(r.Problems) == 0 }

// Unsigned is how many events no recorded tree head covers yet: only their
// streams' hash chains protect them (the next head will cover them).
func (r Report) Unsigned() uint64 {
	if r.LastHead == nil {
		return r.Events
	}
	return r.Events - min(r.Events, r.LastHead.Size)
}

func (r *Report) add(e event.Envelope, what string, args ...any) {
	if len(r.Problems) >= MaxProblems {
		r.MoreProblems++
		return
	}
	r.Problems = append(r.Problems, Problem{Stream: e.Stream, Version: e.Version, EventID: e.ID, Type: e.Type, Position: e.Position, What: fmt.Sprintf(what, args...)})
}

type streamState struct {
	version uint64
	hash    string
}

// verifier walks the log once.
type verifier struct {
	keys    Keys
	tree    *Tree
	streams map[string]*streamState
	report  Report
	prev    *audit.TreeHeadSigned // the last head read
	good    uint64                // size of the last head whose root matched the log
}

// Verify reads the whole global log once, in order, and checks every
// stream's hash chain (consecutive versions, links, content against its
// hash) and every recorded tree head (its root against the tree rebuilt
// from the log, its signature with keys, its consistency with the head
// before it). A changed event fails its chain hash; a deleted one leaves a
// version gap in its stream or, if it was its stream's last, changes the
// root of every head that covered it. The error is for failures to read;
// what is wrong with the log is in the Report.
func Verify(ctx context.Context, r Reader, keys Keys) (Report, error) {
	start := time.Now()
	v := &verifier{keys: keys, tree: NewTree(), streams: map[string]*streamState{}}
	if v.keys == nil {
		v.keys = KeySet()
	}
	var after uint64
	for {
		page, err := r.ReadAll(ctx, after, Page)
		if err != nil {
			return v.report, fmt.Errorf("read the log after position %d: %w", after, err)
		}
		if len(page) == 0 {
			break
		}
		for _, e := range page {
			if err := v.event(e); err != nil {
				return v.report, err
			}
		}
		after = page[len(page)-1].Position
	}
	v.report.Events = v.tree.Size()
	v.report.Streams = len(v.streams)
	v.report.Elapsed = time.Since(start)
	return v.report, nil
}

func (v *verifier) event(e event.Envelope) error {
	s := v.streams[e.Stream]
	if s == nil {
		s = &streamState{}
		v.streams[e.Stream] = s
	}
	switch {
	case e.Version == s.version+1:
		if e.PrevHash != s.hash {
			v.report.add(e, "does not link to the event before it (its prev_hash is not that event's hash): the history before it was changed")
		}
	case e.Version > s.version+1:
		missing := fmt.Sprintf("version %d is missing from the stream: it was", s.version+1)
		if e.Version > s.version+2 {
			missing = fmt.Sprintf("versions %d to %d are missing from the stream: they were", s.version+1, e.Version-1)
		}
		after := fmt.Sprintf("follows version %d", s.version)
		if s.version == 0 {
			after = "opens the stream"
		}
		v.report.add(e, "%s: %s deleted", after, missing)
	default:
		v.report.add(e, "comes after version %d of its stream: versions were changed or events inserted", s.version)
	}
	if event.ChainHash(e.PrevHash, e) != e.Hash {
		v.report.add(e, "does not match its hash: its content was changed after it was written")
	}
	s.version, s.hash = e.Version, e.Hash

	index := v.tree.Size()
	if e.Stream == audit.Stream && e.Type == audit.TypeTreeHeadSigned {
		v.head(e, index)
	}
	if _, err := v.tree.Add(e); err != nil {
		return err
	}
	return nil
}

// head checks a recorded tree head against the tree of the index events
// that precede it.
func (v *verifier) head(e event.Envelope, index uint64) {
	v.report.Heads++
	ev, err := audit.DecodeEnvelope(e)
	if err != nil {
		v.report.add(e, "is a tree head that cannot be read: %v", err)
		return
	}
	h := ev.(audit.TreeHeadSigned)
	v.report.LastHead = &h
	prev := v.prev
	v.prev = &h
	name := fmt.Sprintf("is tree head %d (size %d, signed %s)", v.report.Heads, h.Size, h.SignedAt.UTC().Format(time.RFC3339))
	ok := true
	fail := func(what string, args ...any) {
		ok = false
		v.report.add(e, name+": "+what, args...)
	}
	if h.Size > index {
		fail("it covers %d events but only %d precede it in the log: events were deleted", h.Size, index)
		return
	}
	if h.Size == 0 {
		fail("it covers no events")
		return
	}
	root, err := h.Root()
	if err != nil {
		fail("%v", err)
		return
	}
	tree := v.tree.Merkle()
	actual, _ := tree.Root(h.Size)
	if actual != root {
		from, _ := v.tree.PositionAt(v.good)
		to, _ := v.tree.PositionAt(h.Size - 1)
		fail("the log's first %d events no longer have the root it signed (%s, now %s): an event at positions %d to %d was changed, inserted or deleted after it was signed",
			h.Size, h.RootHash, hex.EncodeToString(actual[:]), from, to)
	} else {
		v.good = h.Size
		if pos, _ := v.tree.PositionAt(h.Size - 1); pos != h.LastPosition {
			fail("it says its last event is at position %d, the log has it at %d", h.LastPosition, pos)
		}
	}
	if pub, known := v.keys(h.KeyID); !known {
		fail("it is signed by key %s, which is not a key given to check with", h.KeyID)
	} else if err := h.Verify(pub); err != nil {
		fail("%v", err)
	}
	if prev != nil {
		prevRoot, err := prev.Root()
		switch {
		case err != nil:
		case prev.Size > h.Size:
			fail("it covers fewer events than the head before it (%d)", prev.Size)
		default:
			proof, perr := tree.ConsistencyProof(prev.Size, h.Size)
			if perr == nil {
				perr = merkle.VerifyConsistency(prev.Size, h.Size, prevRoot, root, proof)
			}
			if perr != nil {
				fail("it does not extend the head before it (size %d): %v", prev.Size, perr)
			}
		}
	}
	if ok {
		v.report.HeadsVerified++
	}
}

// Summary is the report in a few plain lines, ending in OK or FAIL.
func (r Report) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "events:  %d in %d streams, read in %s (%.0f events/s)\n", r.Events, r.Streams, r.Elapsed.Round(time.Millisecond), float64(r.Events)/max(r.Elapsed.Seconds(), 1e-9))
	fmt.Fprintf(&b, "heads:   %d signed tree heads, %d verified\n", r.Heads, r.HeadsVerified)
	if r.LastHead != nil {
		fmt.Fprintf(&b, "latest:  size %d, root %s, signed %s by key %s\n", r.LastHead.Size, r.LastHead.RootHash, r.LastHead.SignedAt.UTC().Format(time.RFC3339), r.LastHead.KeyID)
	}
	if n := r.Unsigned(); n > 0 {
		fmt.Fprintf(&b, "note:    %d events after the latest head are protected by their hash chains only until the next head\n", n)
	}
	for _, p := range r.Problems {
		fmt.Fprintf(&b, "problem: %s\n", p)
	}
	if r.MoreProblems > 0 {
		fmt.Fprintf(&b, "problem: ... and %d more\n", r.MoreProblems)
	}
	if r.OK() {
		b.WriteString("OK\n")
	} else {
		fmt.Fprintf(&b, "FAIL: %d problems\n", len(r.Problems)+r.MoreProblems)
	}
	return b.String()
}

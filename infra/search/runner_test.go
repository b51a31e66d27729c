package search_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"signet/domain/event"
	"signet/infra/eventstore/sqlite"
	"signet/infra/search"
	"signet/infra/search/bleve"
)

// The example Build of these tests: ContractDrafted makes a document,
// ContractSent and ContractTagged change it (through current), Broken fails,
// and every event becomes an audit record.
type payload struct {
	Title      string `json:"title,omitempty"`
	Enterprise string `json:"enterprise,omitempty"`
	Tag        string `json:"tag,omitempty"`
}

var errBroken = errors.New("broken event")

func build(env event.Envelope, current func(string) (search.ContractDoc, bool, error)) ([]search.ContractDoc, []search.AuditRecord, error) {
	var p payload
	if err := json.Unmarshal(env.Data, &p); err != nil {
		return nil, nil, err
	}
	id := strings.TrimPrefix(env.Stream, "contract-")
	at := env.Meta.OccurredAt
	var doc search.ContractDoc
	switch env.Type {
	case "ContractDrafted":
		doc = search.ContractDoc{ID: id, Title: p.Title, Status: "draft", SenderEnterprise: p.Enterprise,
			CreatedAt: at, Deadline: at.Add(7 * 24 * time.Hour), Visible: []string{"ent:" + p.Enterprise}}
	case "ContractSent", "ContractTagged":
		d, ok, err := current(id)
		if err != nil {
			return nil, nil, err
		}
		if !ok {
			return nil, nil, fmt.Errorf("%s of unknown contract %s", env.Type, id)
		}
		doc = d
		if env.Type == "ContractSent" {
			doc.Status, doc.SentAt = "signing", &at
		} else {
			doc.Tags = append(slices.Clone(doc.Tags), p.Tag)
		}
	default:
		return nil, nil, errBroken
	}
	doc.Version = env.Position
	rec := search.AuditRecord{ID: env.ID, At: at, Actor: env.Meta.Actor, Enterprise: env.Meta.Enterprise,
		Stream: env.Stream, Type: env.Type, Summary: env.Type + " 《" + doc.Title + "》", Visible: doc.Visible, Position: env.Position}
	return []search.ContractDoc{doc}, []search.AuditRecord{rec}, nil
}

func newStore(t *testing.T) *sqlite.Store { return newStoreB(t) }

func newStoreB(t testing.TB) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(filepath.Join(t.TempDir(), "events.db"))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func newIndex(t *testing.T) *bleve.Index { return newIndexB(t) }

func newIndexB(t testing.TB) *bleve.Index {
	t.Helper()
	x, err := bleve.Open(t.TempDir())
	if err != nil {
		t.Fatalf("open index: %v", err)
	}
	t.Cleanup(func() { x.Close() })
	return x
}

var clock atomic.Int64

// quiet drops the runner's logs where the test provokes errors.
var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func appendEvent(t testing.TB, s *sqlite.Store, id, typ string, p payload) uint64 {
	t.Helper()
	pos, err := tryAppend(s, id, typ, p)
	if err != nil {
		t.Fatalf("append: %v", err)
	}
	return pos
}

func tryAppend(s *sqlite.Store, id, typ string, p payload) (uint64, error) {
	data, _ := json.Marshal(p)
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(clock.Add(1)) * time.Minute)
	res, err := s.Append(context.Background(), "contract-"+id, event.Any, event.New{
		ID: uuid.NewString(), Type: typ, Schema: 1, Data: data,
		Meta: event.Metadata{Actor: "acct-1", Enterprise: p.Enterprise, OccurredAt: at},
	})
	return res.LastPosition, err
}

// burst appends a draft and n-1 tags to one contract, 100 events per append.
func burst(t testing.TB, s *sqlite.Store, id, ent string, n int) uint64 {
	t.Helper()
	var evs []event.New
	var head uint64
	for i := range n {
		typ, p := "ContractTagged", payload{Enterprise: ent, Tag: fmt.Sprintf("%s/%d", ent, i)}
		if i == 0 {
			typ, p = "ContractDrafted", payload{Title: "批量", Enterprise: ent}
		}
		data, _ := json.Marshal(p)
		evs = append(evs, event.New{ID: uuid.NewString(), Type: typ, Schema: 1, Data: data,
			Meta: event.Metadata{OccurredAt: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}})
		if len(evs) == 100 || i == n-1 {
			res, err := s.Append(context.Background(), "contract-"+id, event.Any, evs...)
			if err != nil {
				t.Fatalf("append: %v", err)
			}
			head, evs = res.LastPosition, nil
		}
	}
	return head
}

// contract appends the life of one contract: drafted, sent, tagged.
func contract(t testing.TB, s *sqlite.Store, id, ent string) uint64 {
	appendEvent(t, s, id, "ContractDrafted", payload{Title: "合同" + id, Enterprise: ent})
	appendEvent(t, s, id, "ContractSent", payload{Enterprise: ent})
	return appendEvent(t, s, id, "ContractTagged", payload{Enterprise: ent, Tag: ent + "/t"})
}

func wait(t *testing.T, r *search.Runner, pos uint64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := r.WaitFor(ctx, pos); err != nil {
		t.Fatalf("WaitFor(%d): %v (at %d)", pos, err, r.Position())
	}
}

func start(t *testing.T, r *search.Runner) (stop func() error) {
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			err = <-done
		})
		return err
	}
	t.Cleanup(func() { stop() })
	return stop
}

func TestRunnerLive(t *testing.T) {
	s, x := newStore(t), newIndex(t)
	for i := range 5 {
		contract(t, s, fmt.Sprintf("a%d", i), "a")
	}
	appendEvent(t, s, "zz", "Broken", payload{})
	r := &search.Runner{Log: s, Index: x, Build: build, FlushEvery: 10 * time.Millisecond, Logger: quiet}
	stop := start(t, r)
	head, _ := s.Head(t.Context())
	wait(t, r, head)

	// Live: one event per contract at a time, and a burst.
	for i := range 3 {
		head = contract(t, s, fmt.Sprintf("b%d", i), "b")
	}
	wait(t, r, head)
	// A burst larger than a batch, on one contract: each event builds on
	// the one before, within a batch and across batches.
	head = burst(t, s, "burst", "c", 700)
	wait(t, r, head)

	p, err := x.SearchContracts(t.Context(), search.ContractQuery{Principals: []string{"ent:a"}, Status: []string{"signing"}, Tags: []string{"a/t"}})
	if err != nil || p.Total != 5 {
		t.Fatalf("enterprise a: %d (%v), want 5 sent and tagged", p.Total, err)
	}
	p, _ = x.SearchContracts(t.Context(), search.ContractQuery{Principals: []string{"ent:b"}, Text: "合同"})
	if p.Total != 3 || p.Hits[0].Status != "signing" || !slices.Equal(p.Hits[0].Tags, []string{"b/t"}) {
		t.Fatalf("enterprise b: %+v", p)
	}
	if d, ok, _ := x.GetContract(t.Context(), "burst"); !ok || len(d.Tags) != 699 || d.Version != head || d.Status != "draft" {
		t.Fatalf("burst: %d tags, version %d (head %d), status %q", len(d.Tags), d.Version, head, d.Status)
	}
	a, _ := x.SearchAudit(t.Context(), search.AuditQuery{Principals: []string{search.PlatformPrincipal}})
	if want := int(head) - 1; a.Total != want { // every event but the broken one
		t.Errorf("audit records: %d, want %d", a.Total, want)
	}
	if r.Skipped() != 1 {
		t.Errorf("skipped %d, want 1 (the broken event)", r.Skipped())
	}
	if err := stop(); !errors.Is(err, context.Canceled) {
		t.Errorf("Run after cancel: %v", err)
	}
	if cp, _ := x.Checkpoint(t.Context(), "search"); cp != head {
		t.Errorf("checkpoint %d, want %d", cp, head)
	}
}

// countingBuild counts calls.
func countingBuild(n *atomic.Int64) search.BuildFunc {
	return func(env event.Envelope, cur func(string) (search.ContractDoc, bool, error)) ([]search.ContractDoc, []search.AuditRecord, error) {
		n.Add(1)
		return build(env, cur)
	}
}

func TestRunnerResumesFromCheckpoint(t *testing.T) {
	s, x := newStore(t), newIndex(t)
	for i := range 4 {
		contract(t, s, fmt.Sprintf("a%d", i), "a")
	}
	var calls atomic.Int64
	r := &search.Runner{Log: s, Index: x, Build: countingBuild(&calls), BatchSize: 5}
	pos, err := r.CatchUp(t.Context())
	if err != nil || pos != 12 || calls.Load() != 12 {
		t.Fatalf("CatchUp: %d, %v, %d builds", pos, err, calls.Load())
	}
	contract(t, s, "later", "a")
	calls.Store(0)
	r2 := &search.Runner{Log: s, Index: x, Build: countingBuild(&calls)}
	if pos, err := r2.CatchUp(t.Context()); err != nil || pos != 15 {
		t.Fatalf("second CatchUp: %d, %v", pos, err)
	}
	if calls.Load() != 3 {
		t.Errorf("second runner built %d events, want the 3 new ones", calls.Load())
	}
	if d, ok, _ := x.GetContract(t.Context(), "later"); !ok || d.Status != "signing" || d.Version != 15 {
		t.Errorf("later: %+v %v", d, ok)
	}
}

// flaky fails the first writes of the wrapped index, as an unreachable
// server would.
type flaky struct {
	search.Index
	failWrites, failReads atomic.Int64
}

func (f *flaky) Write(ctx context.Context, b search.Batch) error {
	if f.failWrites.Add(-1) >= 0 {
		return errors.New("index unreachable")
	}
	return f.Index.Write(ctx, b)
}

func (f *flaky) GetContract(ctx context.Context, id string) (search.ContractDoc, bool, error) {
	if f.failReads.Add(-1) >= 0 {
		return search.ContractDoc{}, false, errors.New("index unreachable")
	}
	return f.Index.GetContract(ctx, id)
}

func TestRunnerRetriesIndexFailures(t *testing.T) {
	s := newStore(t)
	f := &flaky{Index: newIndex(t)}
	f.failWrites.Store(2)
	f.failReads.Store(2)
	contract(t, s, "x", "a")
	r := &search.Runner{Log: s, Index: f, Build: build, BatchSize: 1, Logger: quiet}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if pos, err := r.CatchUp(ctx); err != nil || pos != 3 {
		t.Fatalf("CatchUp: %d, %v", pos, err)
	}
	// One event per batch: the Sent event's reads of the drafted document
	// failed twice and were retried, not skipped.
	if r.Skipped() != 0 {
		t.Errorf("skipped %d events on index failures", r.Skipped())
	}
	if f.failWrites.Load() >= 0 || f.failReads.Load() >= 0 {
		t.Errorf("the injected failures did not all happen: %d writes, %d reads left", f.failWrites.Load()+1, f.failReads.Load()+1)
	}
	if d, ok, _ := f.Index.GetContract(ctx, "x"); !ok || d.Status != "signing" || len(d.Tags) != 1 {
		t.Errorf("x: %+v %v", d, ok)
	}
}

// snapshot reads every contract and audit record visible to the enterprises.
func snapshot(t *testing.T, g search.Generation, ents ...string) string {
	t.Helper()
	var b strings.Builder
	var ps []string
	for _, e := range ents {
		ps = append(ps, "ent:"+e)
	}
	q := search.ContractQuery{Principals: ps, Sort: search.SentAsc, Limit: 200}
	for {
		p, err := g.SearchContracts(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range p.Hits {
			j, _ := json.Marshal(d)
			b.Write(j)
			b.WriteByte('\n')
		}
		if q.After = p.Next; p.Next == "" {
			break
		}
	}
	aq := search.AuditQuery{Principals: []string{search.PlatformPrincipal}, Sort: search.OldestFirst, Limit: 200}
	for {
		p, err := g.SearchAudit(t.Context(), aq)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range p.Hits {
			j, _ := json.Marshal(r)
			b.Write(j)
			b.WriteByte('\n')
		}
		if aq.After = p.Next; p.Next == "" {
			break
		}
	}
	return b.String()
}

// TestRunnerRebuild rebuilds while the live runner applies new events, and
// compares the result with an index built incrementally from scratch.
func TestRunnerRebuild(t *testing.T) {
	s, x := newStore(t), newIndex(t)
	for i := range 200 {
		contract(t, s, fmt.Sprintf("a%03d", i), []string{"a", "b"}[i%2])
	}
	r := &search.Runner{Log: s, Index: x, Build: build, BatchSize: 50, FlushEvery: 5 * time.Millisecond}
	start(t, r)
	head, _ := s.Head(t.Context())
	wait(t, r, head)

	// Writers keep appending during the rebuild.
	var wg sync.WaitGroup
	stopWriting := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stopWriting:
				return
			default:
			}
			id := fmt.Sprintf("w%03d", i)
			for _, typ := range []string{"ContractDrafted", "ContractSent", "ContractTagged"} {
				if _, err := tryAppend(s, id, typ, payload{Title: "写入", Enterprise: "a", Tag: "a/w"}); err != nil {
					t.Errorf("append during rebuild: %v", err)
					return
				}
			}
			time.Sleep(time.Millisecond)
		}
	}()
	var calls atomic.Int64
	st, err := r.Rebuild(t.Context(), func(done, total uint64) {
		calls.Add(1)
		if done == 0 || total < 600 {
			t.Errorf("progress(%d, %d)", done, total)
		}
	})
	close(stopWriting)
	wg.Wait()
	if err != nil {
		t.Fatalf("Rebuild: %v", err)
	}
	if st.Events < 600 || st.PerSecond <= 0 || calls.Load() < 12 {
		t.Errorf("stats %+v after %d progress calls", st, calls.Load())
	}
	t.Logf("rebuild: %d events in %v (%.0f events/s)", st.Events, st.Elapsed, st.PerSecond)
	head, _ = s.Head(t.Context())
	wait(t, r, head)

	fresh := newIndex(t)
	if _, err := (&search.Runner{Log: s, Index: fresh, Build: build}).CatchUp(t.Context()); err != nil {
		t.Fatal(err)
	}
	got, want := snapshot(t, x, "a", "b"), snapshot(t, fresh, "a", "b")
	if got != want {
		t.Fatalf("rebuilt index differs from a fresh one:\n got %d bytes\nwant %d bytes", len(got), len(want))
	}
	if n := strings.Count(got, "\n"); n < 2*int(head)/3 {
		t.Fatalf("snapshot has only %d lines for %d events", n, head)
	}
	if cp, _ := x.Checkpoint(t.Context(), "search"); cp != head {
		t.Errorf("checkpoint %d, head %d", cp, head)
	}
}

func TestRunnerRebuildAbortsOnFailure(t *testing.T) {
	s, x := newStore(t), newIndex(t)
	contract(t, s, "a", "a")
	r := &search.Runner{Log: s, Index: x, Build: build}
	if _, err := r.CatchUp(t.Context()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	_, err := r.Rebuild(ctx, func(done, total uint64) { cancel() })
	if err == nil {
		t.Fatal("Rebuild with a cancelled context succeeded")
	}
	// The rebuild was dropped: a new one can start, the live index is intact.
	rb, err := x.BeginRebuild(t.Context())
	if err != nil {
		t.Fatalf("BeginRebuild after a failed rebuild: %v", err)
	}
	rb.Abort(t.Context())
	if _, ok, _ := x.GetContract(t.Context(), "a"); !ok {
		t.Error("live index lost its document")
	}
}

// Package storetest is the acceptance suite of the event store port
// (eventstore.Store). Every adapter runs it from its own tests:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) (eventstore.Store, storetest.Tamper) {
//			s := open a fresh or shared store for t
//			return s, func(t *testing.T, stream string, version uint64) { ...flip one stored byte... }
//		})
//	}
//
// Stores may share a server with other tests: every subtest uses stream names
// of its own (a random category per subtest) and, when it reads the global
// log, looks only at its own streams. The suite closes each store it opens
// when the subtest ends (t.Cleanup); open should not close it itself.
//
// Besides eventstore.Store's own doc, the suite holds a store to what
// domain/event says: every stored event has its own global position, strictly
// greater than those stored before it (also within one append);
// AppendResult.LastPosition is the position of the append's last event; the
// store normalizes metadata (OccurredAt in UTC, truncated to the microsecond)
// before hashing, so it reads back exactly as event.Metadata.Normalize gives
// it; and event IDs are UUIDs (the suite makes them with google/uuid).
package storetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"signet/domain/event"
	"signet/infra/eventstore"
)

// Tamper changes one stored byte of the event at (stream, version) behind the
// store's back. Every store must supply one.
type Tamper func(t *testing.T, stream string, version uint64)

// Run runs the whole suite. open returns a store for one subtest; stores may
// share a server with other tests, so the suite uses random unique stream
// names per subtest and, when reading the global log, only looks at its own
// streams.
func Run(t *testing.T, open func(t *testing.T) (eventstore.Store, Tamper)) {
	tests := []struct {
		name string
		fn   func(*testing.T, *harness)
	}{
		{"ExpectedVersion", testExpectedVersion},
		{"ConcurrentSameExpectedVersion", testConcurrentSameExpected},
		{"ConcurrentAppendsSameStreamAny", testConcurrentSameStreamAny},
		{"Idempotency", testIdempotency},
		{"DuplicateEventID", testDuplicateEvent},
		{"InvalidAppends", testInvalid},
		{"Ordering", testOrdering},
		{"ReadStream", testReadStream},
		{"ReadAll", testReadAll},
		{"Head", testHead},
		{"RoundTrip", testRoundTrip},
		{"HashChain", testHashChain},
		{"Subscribe/CatchUpThenLive", testSubscribeLive},
		{"Subscribe/HandlerErrorStops", testSubscribeHandlerError},
		{"Subscribe/ResumeFromCheckpoint", testSubscribeResume},
		{"Subscribe/ContextCancel", testSubscribeCancel},
		{"Tamper", testTamper},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, tamper := open(t)
			if s == nil {
				t.Fatal("open returned a nil store")
			}
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
			t.Cleanup(cancel)
			var b [6]byte
			rand.Read(b[:])
			h := &harness{s: s, tamper: tamper, ctx: ctx, category: "storetest" + hex.EncodeToString(b[:])}
			tc.fn(t, h)
		})
	}
}

// harness carries one subtest's store and its private stream namespace.
type harness struct {
	s        eventstore.Store
	tamper   Tamper
	ctx      context.Context
	category string
	seq      int
}

// stream names a stream of this subtest ("storetest<random>-<name>").
func (h *harness) stream(name string) string { return event.StreamName(h.category, name) }

func (h *harness) own(e event.Envelope) bool { return event.Category(e.Stream) == h.category }

// ev makes a valid new event with a fresh UUID.
func (h *harness) ev() event.New {
	h.seq++
	return event.New{
		ID:     uuid.NewString(),
		Type:   "ThingHappened",
		Schema: 1,
		Data:   fmt.Appendf(nil, `{"n":%d}`, h.seq),
		Meta:   event.Metadata{Actor: "acct-1", OccurredAt: time.Now()},
	}
}

func (h *harness) evs(n int) []event.New {
	out := make([]event.New, n)
	for i := range out {
		out[i] = h.ev()
	}
	return out
}

func ids(evs []event.New) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.ID
	}
	return out
}

func envIDs(evs []event.Envelope) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.ID
	}
	return out
}

func (h *harness) mustAppend(t testing.TB, stream string, exp event.ExpectedVersion, evs ...event.New) event.AppendResult {
	t.Helper()
	res, err := h.s.Append(h.ctx, stream, exp, evs...)
	if err != nil {
		t.Fatalf("Append(%s, %s, %d events): %v", stream, exp, len(evs), err)
	}
	return res
}

func (h *harness) mustHead(t testing.TB) uint64 {
	t.Helper()
	p, err := h.s.Head(h.ctx)
	if err != nil {
		t.Fatalf("Head: %v", err)
	}
	return p
}

// readStream reads the whole stream forwards; a missing stream gives nil.
func (h *harness) readStream(t testing.TB, stream string) []event.Envelope {
	t.Helper()
	evs, err := h.s.ReadStream(h.ctx, stream, 1, event.Forwards, 0)
	if errors.Is(err, event.ErrNotFound) {
		return nil
	}
	if err != nil {
		t.Fatalf("ReadStream(%s): %v", stream, err)
	}
	return evs
}

func (h *harness) wantNotFound(t testing.TB, stream string) {
	t.Helper()
	evs, err := h.s.ReadStream(h.ctx, stream, 1, event.Forwards, 0)
	if !errors.Is(err, event.ErrNotFound) {
		t.Fatalf("ReadStream(%s) = %d events, %v; want an error wrapping event.ErrNotFound", stream, len(evs), err)
	}
}

// readLog pages through the global log after `after` until it has passed
// `until` (or the log ends) and returns every event read, checking that
// positions strictly increase and that each page respects its limit.
func (h *harness) readLog(t testing.TB, after, until uint64, limit int) []event.Envelope {
	t.Helper()
	var out []event.Envelope
	pos := after
	for pos < until {
		page, err := h.s.ReadAll(h.ctx, pos, limit)
		if err != nil {
			t.Fatalf("ReadAll(%d, %d): %v", pos, limit, err)
		}
		if len(page) == 0 {
			break
		}
		if limit > 0 && len(page) > limit {
			t.Fatalf("ReadAll(%d, %d) returned %d events", pos, limit, len(page))
		}
		for _, e := range page {
			if e.Position <= pos {
				t.Fatalf("ReadAll: position %d (event %s) after position %d: not strictly increasing", e.Position, e.ID, pos)
			}
			pos = e.Position
			out = append(out, e)
		}
	}
	return out
}

// readOwn is readLog restricted to this subtest's streams.
func (h *harness) readOwn(t testing.TB, after, until uint64) []event.Envelope {
	t.Helper()
	var out []event.Envelope
	for _, e := range h.readLog(t, after, until, 100) {
		if h.own(e) {
			out = append(out, e)
		}
	}
	return out
}

// ---- appends ----

func testExpectedVersion(t *testing.T, h *harness) {
	cases := []struct {
		name     string
		existing int
		expected event.ExpectedVersion
		ok       bool
	}{
		{"any on missing stream", 0, event.Any, true},
		{"any on existing stream", 2, event.Any, true},
		{"no stream on missing stream", 0, event.NoStream, true},
		{"no stream on existing stream", 2, event.NoStream, false},
		{"exactly 0 on missing stream", 0, event.Exactly(0), true},
		{"exactly current", 2, event.Exactly(2), true},
		{"exactly 1 on version 1", 1, event.Exactly(1), true},
		{"exactly behind", 2, event.Exactly(1), false},
		{"exactly ahead", 2, event.Exactly(3), false},
		{"exactly on missing stream", 0, event.Exactly(1), false},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			stream := h.stream(fmt.Sprintf("ev%d", i))
			var before []string
			for v := range tc.existing {
				e := h.ev()
				h.mustAppend(t, stream, event.Exactly(uint64(v)), e)
				before = append(before, e.ID)
			}
			var prevPos uint64
			if tc.existing > 0 {
				prevPos = h.readStream(t, stream)[tc.existing-1].Position
			}
			evs := h.evs(2)
			res, err := h.s.Append(h.ctx, stream, tc.expected, evs...)
			got := h.readStream(t, stream)
			if !tc.ok {
				if !errors.Is(err, event.ErrConcurrency) {
					t.Fatalf("Append with %s on a stream at version %d: err = %v, want event.ErrConcurrency", tc.expected, tc.existing, err)
				}
				if errors.Is(err, event.ErrDuplicateEvent) || errors.Is(err, event.ErrInvalid) {
					t.Errorf("conflict error also wraps another sentinel: %v", err)
				}
				if !slices.Equal(envIDs(got), before) {
					t.Fatalf("refused append changed the stream: %v, want %v", envIDs(got), before)
				}
				return
			}
			if err != nil {
				t.Fatalf("Append with %s on a stream at version %d: %v", tc.expected, tc.existing, err)
			}
			n := uint64(tc.existing)
			if res.FirstVersion != n+1 || res.LastVersion != n+2 || res.LastPosition <= prevPos {
				t.Errorf("AppendResult = %+v, want versions %d..%d and a position > %d", res, n+1, n+2, prevPos)
			}
			if want := append(before, ids(evs)...); !slices.Equal(envIDs(got), want) {
				t.Fatalf("stream = %v, want %v", envIDs(got), want)
			}
			if got[len(got)-1].Position != res.LastPosition {
				t.Errorf("last event's position %d, AppendResult.LastPosition %d", got[len(got)-1].Position, res.LastPosition)
			}
		})
	}
}

func testConcurrentSameExpected(t *testing.T, h *harness) {
	for _, existing := range []int{0, 3} {
		t.Run(fmt.Sprintf("stream at version %d", existing), func(t *testing.T) {
			stream := h.stream(fmt.Sprintf("race%d", existing))
			for v := range existing {
				h.mustAppend(t, stream, event.Exactly(uint64(v)), h.ev())
			}
			const n = 16
			batches := make([][]event.New, n)
			for i := range batches {
				batches[i] = h.evs(2)
			}
			start := make(chan struct{})
			errs := make([]error, n)
			results := make([]event.AppendResult, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					<-start
					results[i], errs[i] = h.s.Append(h.ctx, stream, event.Exactly(uint64(existing)), batches[i]...)
				})
			}
			close(start)
			wg.Wait()
			winner := -1
			for i, err := range errs {
				switch {
				case err == nil && winner >= 0:
					t.Fatalf("appenders %d and %d both won with expected version %d", winner, i, existing)
				case err == nil:
					winner = i
				case !errors.Is(err, event.ErrConcurrency):
					t.Fatalf("appender %d: %v, want event.ErrConcurrency", i, err)
				}
			}
			if winner < 0 {
				t.Fatal("no appender won")
			}
			if r := results[winner]; r.FirstVersion != uint64(existing)+1 || r.LastVersion != uint64(existing)+2 {
				t.Errorf("winner's result %+v", r)
			}
			got := h.readStream(t, stream)
			if len(got) != existing+2 || !slices.Equal(envIDs(got[existing:]), ids(batches[winner])) {
				t.Fatalf("stream holds %v, want %d earlier events then the winner's %v", envIDs(got), existing, ids(batches[winner]))
			}
			if err := eventstore.VerifyStream(h.ctx, h.s, stream); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func testConcurrentSameStreamAny(t *testing.T, h *harness) {
	stream := h.stream("shared")
	const writers, each = 8, 10
	var mu sync.Mutex
	versions := map[uint64]string{}
	var wg sync.WaitGroup
	evs := make([][]event.New, writers)
	for w := range evs {
		evs[w] = h.evs(each)
	}
	for w := range writers {
		wg.Go(func() {
			for _, e := range evs[w] {
				res, err := h.s.Append(h.ctx, stream, event.Any, e)
				if err != nil {
					t.Errorf("Append Any: %v", err)
					return
				}
				mu.Lock()
				if res.FirstVersion != res.LastVersion {
					t.Errorf("one event, result %+v", res)
				}
				if other, dup := versions[res.LastVersion]; dup {
					t.Errorf("version %d given to %s and %s", res.LastVersion, other, e.ID)
				}
				versions[res.LastVersion] = e.ID
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	got := h.readStream(t, stream)
	if len(got) != writers*each {
		t.Fatalf("stream has %d events, want %d", len(got), writers*each)
	}
	for _, e := range got {
		if versions[e.Version] != e.ID {
			t.Errorf("version %d holds %s, Append said %s", e.Version, e.ID, versions[e.Version])
		}
	}
	if err := eventstore.VerifyStream(h.ctx, h.s, stream); err != nil {
		t.Fatal(err)
	}
}

func testIdempotency(t *testing.T, h *harness) {
	t.Run("sequential retries", func(t *testing.T) {
		before := h.mustHead(t)
		stream := h.stream("idem")
		ab := h.evs(2)
		r1 := h.mustAppend(t, stream, event.NoStream, ab...)
		if r1.FirstVersion != 1 || r1.LastVersion != 2 {
			t.Fatalf("first append: %+v", r1)
		}
		retry := func(exp event.ExpectedVersion, evs []event.New, want event.AppendResult) {
			t.Helper()
			got, err := h.s.Append(h.ctx, stream, exp, evs...)
			if err != nil {
				t.Fatalf("retry with %s: %v", exp, err)
			}
			if got != want {
				t.Fatalf("retry with %s: result %+v, want the original %+v", exp, got, want)
			}
		}
		retry(event.NoStream, ab, r1) // expected version now stale
		retry(event.Any, ab, r1)
		retry(event.Exactly(0), ab, r1)
		c := h.ev()
		r2 := h.mustAppend(t, stream, event.Exactly(2), c)
		retry(event.NoStream, ab, r1)
		retry(event.Exactly(2), []event.New{c}, r2) // stale too
		if got := envIDs(h.readStream(t, stream)); !slices.Equal(got, append(ids(ab), c.ID)) {
			t.Fatalf("stream holds %v, want each event once: %v", got, append(ids(ab), c.ID))
		}
		if own := h.readOwn(t, before, r2.LastPosition); len(own) != 3 {
			t.Fatalf("global log holds %d events of this test, want 3: %v", len(own), envIDs(own))
		}
	})
	t.Run("concurrent identical appends", func(t *testing.T) {
		stream := h.stream("idemrace")
		evs := h.evs(2)
		const n = 8
		results := make([]event.AppendResult, n)
		errs := make([]error, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				<-start
				results[i], errs[i] = h.s.Append(h.ctx, stream, event.NoStream, evs...)
			})
		}
		close(start)
		wg.Wait()
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("appender %d: %v", i, errs[i])
			}
			if results[i] != results[0] {
				t.Fatalf("appender %d got %+v, appender 0 got %+v", i, results[i], results[0])
			}
		}
		if got := envIDs(h.readStream(t, stream)); !slices.Equal(got, ids(evs)) {
			t.Fatalf("stream holds %v, want %v", got, ids(evs))
		}
	})
}

func testDuplicateEvent(t *testing.T, h *harness) {
	s1, s2, s3 := h.stream("one"), h.stream("two"), h.stream("three")
	a := h.ev()
	h.mustAppend(t, s1, event.NoStream, a)
	bc := h.evs(2)
	h.mustAppend(t, s3, event.NoStream, bc...)
	fresh := h.ev()
	cases := []struct {
		name   string
		stream string
		exp    event.ExpectedVersion
		evs    []event.New
		want   []event.New // what the target stream must still hold
	}{
		{"same ID into another stream", s2, event.NoStream, []event.New{a}, nil},
		{"same ID into another stream, any version", s2, event.Any, []event.New{a}, nil},
		{"stored ID after a new one", s1, event.Any, []event.New{fresh, a}, []event.New{a}},
		{"stored ID before a new one", s1, event.Exactly(1), []event.New{a, fresh}, []event.New{a}},
		{"stored IDs in another order", s3, event.Any, []event.New{bc[1], bc[0]}, bc},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := h.s.Append(h.ctx, tc.stream, tc.exp, tc.evs...)
			if !errors.Is(err, event.ErrDuplicateEvent) {
				t.Fatalf("err = %v, want event.ErrDuplicateEvent", err)
			}
			if got := envIDs(h.readStream(t, tc.stream)); !slices.Equal(got, ids(tc.want)) {
				t.Fatalf("%s holds %v, want %v", tc.stream, got, ids(tc.want))
			}
		})
	}
	if got := envIDs(h.readStream(t, s1)); len(got) != 1 {
		t.Fatalf("%s holds %v", s1, got)
	}
	h.wantNotFound(t, s2)
}

func testInvalid(t *testing.T, h *harness) {
	before := h.mustHead(t)
	good := func() event.New { return h.ev() }
	with := func(f func(*event.New)) []event.New {
		e := good()
		f(&e)
		return []event.New{e}
	}
	twice := good()
	cases := []struct {
		name     string
		stream   string
		exp      event.ExpectedVersion
		evs      []event.New
		readable bool // the stream name is valid: reading it must say not found
	}{
		{"empty stream name", "", event.Any, []event.New{good()}, false},
		{"space in stream name", h.stream("a b"), event.Any, []event.New{good()}, false},
		{"system stream", "$" + h.stream("sys"), event.Any, []event.New{good()}, false},
		{"expected version below any", h.stream("v"), event.ExpectedVersion(-2), []event.New{good()}, true},
		{"no events", h.stream("none"), event.Any, nil, true},
		{"empty ID", h.stream("id"), event.Any, with(func(e *event.New) { e.ID = "" }), true},
		{"same ID twice", h.stream("twice"), event.Any, []event.New{twice, twice}, true},
		{"empty type", h.stream("type"), event.Any, with(func(e *event.New) { e.Type = "" }), true},
		{"schema 0", h.stream("schema"), event.Any, with(func(e *event.New) { e.Schema = 0 }), true},
		{"data not JSON", h.stream("json"), event.Any, with(func(e *event.New) { e.Data = []byte(`{"a":`) }), true},
		{"empty data", h.stream("empty"), event.Any, with(func(e *event.New) { e.Data = nil }), true},
		{"one bad event among good ones", h.stream("mixed"), event.Any, []event.New{good(), good(), with(func(e *event.New) { e.Type = "" })[0]}, true},
	}
	used := map[string]bool{}
	for _, tc := range cases {
		for _, e := range tc.evs {
			used[e.ID] = true
		}
		t.Run(tc.name, func(t *testing.T) {
			res, err := h.s.Append(h.ctx, tc.stream, tc.exp, tc.evs...)
			if !errors.Is(err, event.ErrInvalid) {
				t.Fatalf("Append = %+v, %v; want event.ErrInvalid", res, err)
			}
			if tc.readable {
				h.wantNotFound(t, tc.stream)
			}
		})
	}
	// Nothing of any of them reached the log: append a marker and scan up to it.
	marker := h.mustAppend(t, h.stream("marker"), event.NoStream, h.ev())
	for _, e := range h.readLog(t, before, marker.LastPosition, 100) {
		if e.ID != "" && used[e.ID] {
			t.Errorf("refused event %s was stored in %s at position %d", e.ID, e.Stream, e.Position)
		}
	}
}

// ---- reads ----

func testOrdering(t *testing.T, h *harness) {
	before := h.mustHead(t)
	a, b, c := h.stream("a"), h.stream("b"), h.stream("c")
	plan := []struct {
		stream string
		n      int
	}{{a, 2}, {b, 1}, {a, 1}, {c, 3}, {b, 2}, {a, 1}}
	var global []string
	perStream := map[string][]string{}
	var last uint64
	lastOf := map[string]uint64{} // event ID -> AppendResult.LastPosition when it was the last of its append
	for _, p := range plan {
		evs := h.evs(p.n)
		res := h.mustAppend(t, p.stream, event.Any, evs...)
		if res.LastPosition <= last {
			t.Fatalf("append to %s landed at position %d, not after the previous append's %d", p.stream, res.LastPosition, last)
		}
		if want := uint64(len(perStream[p.stream]) + 1); res.FirstVersion != want || res.LastVersion != want+uint64(p.n)-1 {
			t.Fatalf("append of %d to %s: %+v, want versions from %d", p.n, p.stream, res, want)
		}
		last = res.LastPosition
		lastOf[evs[p.n-1].ID] = res.LastPosition
		global = append(global, ids(evs)...)
		perStream[p.stream] = append(perStream[p.stream], ids(evs)...)
	}
	for stream, want := range perStream {
		got := h.readStream(t, stream)
		if !slices.Equal(envIDs(got), want) {
			t.Fatalf("%s holds %v, want %v", stream, envIDs(got), want)
		}
		for i, e := range got {
			if e.Version != uint64(i+1) || e.Stream != stream {
				t.Errorf("%s[%d]: stream %s version %d", stream, i, e.Stream, e.Version)
			}
			if i > 0 && e.Position <= got[i-1].Position {
				t.Errorf("%s: position %d after %d", stream, e.Position, got[i-1].Position)
			}
		}
	}
	own := h.readOwn(t, before, last)
	if !slices.Equal(envIDs(own), global) {
		t.Fatalf("global log order %v, want append order %v", envIDs(own), global)
	}
	for _, e := range own {
		if p, ok := lastOf[e.ID]; ok && p != e.Position {
			t.Errorf("event %s at position %d, its append said %d", e.ID, e.Position, p)
		}
	}
}

func testReadStream(t *testing.T, h *harness) {
	stream := h.stream("read")
	var all []string
	for _, n := range []int{3, 3, 4} {
		evs := h.evs(n)
		h.mustAppend(t, stream, event.Any, evs...)
		all = append(all, ids(evs)...)
	}
	vers := func(vs ...int) []string { // versions -> IDs
		out := []string{}
		for _, v := range vs {
			out = append(out, all[v-1])
		}
		return out
	}
	span := func(from, to int) []int {
		var out []int
		if from <= to {
			for v := from; v <= to; v++ {
				out = append(out, v)
			}
		} else {
			for v := from; v >= to; v-- {
				out = append(out, v)
			}
		}
		return out
	}
	fw, bw := event.Forwards, event.Backwards
	cases := []struct {
		name  string
		from  uint64
		dir   event.Direction
		limit int
		want  []int
	}{
		{"forwards all", 1, fw, 0, span(1, 10)},
		{"forwards from 0 is from the start", 0, fw, 0, span(1, 10)},
		{"forwards negative limit is all", 1, fw, -1, span(1, 10)},
		{"forwards from 4 limit 3", 4, fw, 3, span(4, 6)},
		{"forwards limit beyond the end", 8, fw, 5, span(8, 10)},
		{"forwards from the last", 10, fw, 0, span(10, 10)},
		{"forwards past the end is empty", 11, fw, 0, nil},
		{"backwards from 0 is from the end", 0, bw, 0, span(10, 1)},
		{"backwards from the end limit 3", 0, bw, 3, span(10, 8)},
		{"backwards from 5", 5, bw, 0, span(5, 1)},
		{"backwards from 5 limit 2", 5, bw, 2, span(5, 4)},
		{"backwards from 1", 1, bw, 0, span(1, 1)},
		{"backwards from beyond the end", 100, bw, 2, span(10, 9)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := h.s.ReadStream(h.ctx, stream, tc.from, tc.dir, tc.limit)
			if err != nil {
				t.Fatalf("ReadStream(from %d, dir %d, limit %d): %v", tc.from, tc.dir, tc.limit, err)
			}
			if want := vers(tc.want...); !slices.Equal(envIDs(got), want) {
				t.Fatalf("ReadStream(from %d, dir %d, limit %d) = %v, want versions %v = %v", tc.from, tc.dir, tc.limit, envIDs(got), tc.want, want)
			}
			for i, e := range got {
				if e.Version != uint64(tc.want[i]) || e.Stream != stream {
					t.Errorf("event %d: %s@%d, want %s@%d", i, e.Stream, e.Version, stream, tc.want[i])
				}
			}
		})
	}
	for _, dir := range []event.Direction{fw, bw} {
		t.Run(fmt.Sprintf("unknown stream dir %d", dir), func(t *testing.T) {
			got, err := h.s.ReadStream(h.ctx, h.stream("nobody"), 0, dir, 0)
			if !errors.Is(err, event.ErrNotFound) {
				t.Fatalf("ReadStream of an unknown stream = %d events, %v; want event.ErrNotFound", len(got), err)
			}
		})
	}
}

func testReadAll(t *testing.T, h *harness) {
	before := h.mustHead(t)
	stream := h.stream("all")
	var pos []uint64
	var all []string
	for range 6 {
		e := h.ev()
		res := h.mustAppend(t, stream, event.Any, e)
		pos = append(pos, res.LastPosition)
		all = append(all, e.ID)
	}
	// After the 2nd event: the 3rd to the 6th.
	if got := envIDs(h.readOwn(t, pos[1], pos[5])); !slices.Equal(got, all[2:]) {
		t.Fatalf("own events after position %d = %v, want %v", pos[1], got, all[2:])
	}
	// A limited page starts at the first event after the position.
	page, err := h.s.ReadAll(h.ctx, pos[1], 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(page) == 0 || len(page) > 2 {
		t.Fatalf("ReadAll(%d, 2) returned %d events", pos[1], len(page))
	}
	if page[0].Position <= pos[1] || page[0].Position > pos[2] {
		t.Fatalf("ReadAll(%d, 2) starts at position %d, want in (%d, %d]", pos[1], page[0].Position, pos[1], pos[2])
	}
	if page[0].Position == pos[2] && page[0].ID != all[2] {
		t.Fatalf("event at position %d is %s, want %s", pos[2], page[0].ID, all[2])
	}
	// Paging with small limits from before the test sees everything in order.
	var paged []string
	for _, e := range h.readLog(t, before, pos[5], 1) {
		if h.own(e) {
			paged = append(paged, e.ID)
		}
	}
	if !slices.Equal(paged, all) {
		t.Fatalf("paging by 1 = %v, want %v", paged, all)
	}
	// The store-chosen page (limit <= 0) is not empty and in order.
	page, err = h.s.ReadAll(h.ctx, pos[3], 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(page) == 0 || page[0].Position <= pos[3] || page[0].Position > pos[4] {
		t.Fatalf("ReadAll(%d, 0) = %d events starting at %v", pos[3], len(page), envIDs(page))
	}
	for i := 1; i < len(page); i++ {
		if page[i].Position <= page[i-1].Position {
			t.Fatalf("ReadAll positions %d then %d", page[i-1].Position, page[i].Position)
		}
	}
}

func testHead(t *testing.T, h *harness) {
	h0 := h.mustHead(t)
	res := h.mustAppend(t, h.stream("head"), event.NoStream, h.evs(3)...)
	if res.LastPosition <= h0 {
		t.Fatalf("append landed at %d, not after the head %d seen before it", res.LastPosition, h0)
	}
	if h1 := h.mustHead(t); h1 < res.LastPosition {
		t.Fatalf("Head = %d after an append acknowledged at position %d", h1, res.LastPosition)
	}
}

func testRoundTrip(t *testing.T, h *harness) {
	before := h.mustHead(t)
	stream := h.stream("trip")
	cst := time.FixedZone("CST", 8*3600)
	full := event.New{
		ID:     uuid.NewString(),
		Type:   "ContractSent",
		Schema: 3,
		// Odd spacing, key order, escapes and non-ASCII: stored bytes must come back as they were.
		Data: []byte("{ \"name\" : \"张三\",\n\t\"n\": 1.50, \"z\":[1, 2 ,3],\"a\":\"\\u00e9\\n\\\"\" }"),
		Meta: event.Metadata{
			Actor:         uuid.NewString(),
			Enterprise:    uuid.NewString(),
			CorrelationID: uuid.NewString(),
			CausationID:   uuid.NewString(),
			ClientIP:      "2001:db8::7",
			OccurredAt:    time.Date(2026, 3, 4, 5, 6, 7, 123456789, cst),
		},
	}
	bare := event.New{
		ID:     uuid.NewString(),
		Type:   "PartySigned",
		Schema: 1,
		Data:   []byte(`[]`),
		Meta:   event.Metadata{OccurredAt: time.Date(2025, 12, 31, 23, 59, 59, 999999999, time.UTC)},
	}
	res := h.mustAppend(t, stream, event.NoStream, full, bare)
	want := []event.New{full, bare}

	check := func(how string, got []event.Envelope) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("%s: %d events, want %d", how, len(got), len(want))
		}
		for i, g := range got {
			w := want[i]
			if g.ID != w.ID || g.Stream != stream || g.Version != uint64(i+1) || g.Type != w.Type || g.Schema != w.Schema {
				t.Errorf("%s[%d]: envelope %s %s@%d %s v%d, want %s %s@%d %s v%d", how, i, g.ID, g.Stream, g.Version, g.Type, g.Schema, w.ID, stream, i+1, w.Type, w.Schema)
			}
			if !bytes.Equal(g.Data, w.Data) {
				t.Errorf("%s[%d]: data %q, want exactly %q", how, i, g.Data, w.Data)
			}
			wm := w.Meta.Normalize()
			gm := g.Meta
			if gm.Actor != wm.Actor || gm.Enterprise != wm.Enterprise || gm.CorrelationID != wm.CorrelationID ||
				gm.CausationID != wm.CausationID || gm.ClientIP != wm.ClientIP {
				t.Errorf("%s[%d]: metadata %+v, want %+v", how, i, gm, wm)
			}
			if !gm.OccurredAt.Equal(wm.OccurredAt) || gm.OccurredAt.Location() != time.UTC {
				t.Errorf("%s[%d]: occurred at %s (%v), want %s in UTC (microsecond precision)", how, i,
					gm.OccurredAt.Format(time.RFC3339Nano), gm.OccurredAt.Location(), wm.OccurredAt.Format(time.RFC3339Nano))
			}
		}
	}
	check("ReadStream", h.readStream(t, stream))
	check("ReadAll", h.readOwn(t, before, res.LastPosition))

	ctx, cancel := context.WithTimeout(h.ctx, 30*time.Second)
	defer cancel()
	var subbed []event.Envelope
	err := h.s.Subscribe(ctx, before, func(_ context.Context, e event.Envelope) error {
		if h.own(e) {
			subbed = append(subbed, e)
			if len(subbed) == len(want) {
				cancel()
			}
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Subscribe: %v", err)
	}
	check("Subscribe", subbed)
}

func testHashChain(t *testing.T, h *harness) {
	a, b := h.stream("a"), h.stream("b")
	h.mustAppend(t, a, event.NoStream, h.ev())
	h.mustAppend(t, b, event.NoStream, h.evs(2)...)
	h.mustAppend(t, a, event.Exactly(1), h.evs(2)...)
	h.mustAppend(t, a, event.Exactly(3), h.ev())
	seen := map[string]bool{}
	for _, stream := range []string{a, b} {
		got := h.readStream(t, stream)
		prev := ""
		for _, e := range got {
			if e.PrevHash != prev {
				t.Errorf("%s@%d: prev_hash %q, want the previous event's hash %q", stream, e.Version, e.PrevHash, prev)
			}
			if len(e.Hash) != 64 {
				t.Errorf("%s@%d: hash %q is not hex SHA-256", stream, e.Version, e.Hash)
			}
			if want := event.ChainHash(e.PrevHash, e); e.Hash != want {
				t.Errorf("%s@%d: hash %s, ChainHash gives %s", stream, e.Version, e.Hash, want)
			}
			if seen[e.Hash] {
				t.Errorf("%s@%d: hash %s seen before", stream, e.Version, e.Hash)
			}
			seen[e.Hash] = true
			prev = e.Hash
		}
		if err := eventstore.VerifyStream(h.ctx, h.s, stream); err != nil {
			t.Errorf("VerifyStream(%s): %v", stream, err)
		}
	}
}

// ---- subscribe ----

// collector records what a subscription delivers.
type collector struct {
	h       *harness
	mu      sync.Mutex
	last    uint64
	order   []event.Envelope // own events in delivery order
	count   map[string]int
	bad     []string
	changed chan struct{}
}

func newCollector(h *harness, after uint64) *collector {
	return &collector{h: h, last: after, count: map[string]int{}, changed: make(chan struct{}, 1)}
}

func (c *collector) handle(_ context.Context, e event.Envelope) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e.Position <= c.last {
		c.bad = append(c.bad, fmt.Sprintf("position %d (%s) delivered after %d", e.Position, e.ID, c.last))
	}
	c.last = e.Position
	if c.h.own(e) {
		c.order = append(c.order, e)
		c.count[e.ID]++
		select {
		case c.changed <- struct{}{}:
		default:
		}
	}
	return nil
}

// waitFor waits until every ID in want has been delivered.
func (c *collector) waitFor(t *testing.T, want func() []string, timeout time.Duration) {
	t.Helper()
	deadline := time.After(timeout)
	for {
		c.mu.Lock()
		missing := 0
		for _, id := range want() {
			if c.count[id] == 0 {
				missing++
			}
		}
		c.mu.Unlock()
		if missing == 0 {
			return
		}
		select {
		case <-c.changed:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatalf("subscription still misses %d acknowledged events after %s", missing, timeout)
		}
	}
}

func testSubscribeLive(t *testing.T, h *harness) {
	before := h.mustHead(t)
	var mu sync.Mutex
	var acked []string
	ackedPos := map[string]uint64{}
	ack := func(evs []event.New, res event.AppendResult) {
		mu.Lock()
		defer mu.Unlock()
		acked = append(acked, ids(evs)...)
		ackedPos[evs[len(evs)-1].ID] = res.LastPosition
	}
	// Already stored: the catch-up part.
	for i := range 20 {
		evs := h.evs(1 + i%2)
		ack(evs, h.mustAppend(t, h.stream(fmt.Sprintf("pre%d", i%3)), event.Any, evs...))
	}

	c := newCollector(h, before)
	ctx, cancel := context.WithCancel(h.ctx)
	defer cancel()
	subErr := make(chan error, 1)
	go func() { subErr <- h.s.Subscribe(ctx, before, c.handle) }()

	// Live: several writers at once, own streams and one shared stream.
	const writers, rounds = 6, 25
	var wg sync.WaitGroup
	batches := make([][][]event.New, writers)
	for w := range writers {
		for r := range rounds {
			batches[w] = append(batches[w], h.evs(1+r%2))
		}
	}
	for w := range writers {
		wg.Go(func() {
			own := h.stream(fmt.Sprintf("live%d", w))
			var v uint64
			for r, evs := range batches[w] {
				stream, exp := own, event.Exactly(v)
				if r%3 == 2 {
					stream, exp = h.stream("liveshared"), event.Any
				}
				res, err := h.s.Append(h.ctx, stream, exp, evs...)
				if err != nil {
					t.Errorf("writer %d: %v", w, err)
					return
				}
				if stream == own {
					v = res.LastVersion
				}
				ack(evs, res)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	mu.Lock()
	total := len(acked)
	mu.Unlock()
	c.waitFor(t, func() []string { return acked }, 30*time.Second)
	// Give a duplicate a moment to show up before stopping.
	tailEv := h.ev()
	tail := h.mustAppend(t, h.stream("tail"), event.NoStream, tailEv)
	c.waitFor(t, func() []string { return []string{tailEv.ID} }, 30*time.Second)
	cancel()
	select {
	case err := <-subErr:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Subscribe returned %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Subscribe did not return after its context was cancelled")
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	for _, b := range c.bad {
		t.Error(b)
	}
	if len(c.order) != total+1 {
		t.Errorf("delivered %d own events, %d were acknowledged (+1 tail)", len(c.order), total)
	}
	for _, id := range acked {
		if c.count[id] != 1 {
			t.Errorf("acknowledged event %s delivered %d times", id, c.count[id])
		}
	}
	perStream := map[string]uint64{}
	for _, e := range c.order {
		if e.Version != perStream[e.Stream]+1 {
			t.Errorf("%s: version %d delivered after %d", e.Stream, e.Version, perStream[e.Stream])
		}
		perStream[e.Stream] = e.Version
		if p, ok := ackedPos[e.ID]; ok && p != e.Position {
			t.Errorf("event %s delivered at position %d, its append said %d", e.ID, e.Position, p)
		}
	}
	if last := c.order[len(c.order)-1]; last.Position != tail.LastPosition {
		t.Errorf("last delivered event at %d, tail appended at %d", last.Position, tail.LastPosition)
	}
}

var errStop = errors.New("handler says stop")

func testSubscribeHandlerError(t *testing.T, h *harness) {
	before := h.mustHead(t)
	stream := h.stream("stop")
	h.mustAppend(t, stream, event.NoStream, h.evs(5)...)
	calls, after := 0, 0
	stopped := false
	ctx, cancel := context.WithTimeout(h.ctx, 30*time.Second)
	defer cancel()
	err := h.s.Subscribe(ctx, before, func(_ context.Context, e event.Envelope) error {
		if stopped {
			after++
		}
		if h.own(e) {
			calls++
			if calls == 3 {
				stopped = true
				return errStop
			}
		}
		return nil
	})
	if !errors.Is(err, errStop) {
		t.Fatalf("Subscribe returned %v, want the handler's error", err)
	}
	if after != 0 || calls != 3 {
		t.Fatalf("handler called %d times for own events and %d times after failing", calls, after)
	}
}

func testSubscribeResume(t *testing.T, h *harness) {
	before := h.mustHead(t)
	stream := h.stream("resume")
	first := h.evs(10)
	h.mustAppend(t, stream, event.NoStream, first[:6]...)
	h.mustAppend(t, stream, event.Exactly(6), first[6:]...)

	// First run: stop after 4 of our events, remembering the checkpoint.
	var checkpoint uint64
	var got []string
	ctx1, cancel1 := context.WithTimeout(h.ctx, 30*time.Second)
	defer cancel1()
	err := h.s.Subscribe(ctx1, before, func(_ context.Context, e event.Envelope) error {
		if !h.own(e) {
			return nil
		}
		got = append(got, e.ID)
		checkpoint = e.Position
		if len(got) == 4 {
			return errStop
		}
		return nil
	})
	if !errors.Is(err, errStop) {
		t.Fatalf("Subscribe returned %v, want the handler's error", err)
	}
	if !slices.Equal(got, ids(first[:4])) {
		t.Fatalf("first run saw %v, want %v", got, ids(first[:4]))
	}

	more := h.evs(3)
	h.mustAppend(t, stream, event.Exactly(10), more...)
	want := append(ids(first[4:]), ids(more)...)

	// Resume after the checkpoint: the rest, once each, in order, then live.
	c := newCollector(h, checkpoint)
	ctx, cancel := context.WithCancel(h.ctx)
	defer cancel()
	subErr := make(chan error, 1)
	go func() { subErr <- h.s.Subscribe(ctx, checkpoint, c.handle) }()
	c.waitFor(t, func() []string { return want }, 30*time.Second)
	live := h.ev()
	h.mustAppend(t, stream, event.Exactly(13), live)
	want = append(want, live.ID)
	c.waitFor(t, func() []string { return want }, 30*time.Second)
	cancel()
	if err := <-subErr; !errors.Is(err, context.Canceled) {
		t.Fatalf("resumed Subscribe returned %v", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, b := range c.bad {
		t.Error(b)
	}
	if !slices.Equal(envIDs(c.order), want) {
		t.Fatalf("resumed run saw %v, want %v", envIDs(c.order), want)
	}
}

func testSubscribeCancel(t *testing.T, h *harness) {
	h.mustAppend(t, h.stream("idle"), event.NoStream, h.ev())
	t.Run("while waiting for events", func(t *testing.T) {
		head := h.mustHead(t)
		ctx, cancel := context.WithCancel(h.ctx)
		done := make(chan error, 1)
		go func() {
			done <- h.s.Subscribe(ctx, head, func(context.Context, event.Envelope) error { return nil })
		}()
		select {
		case err := <-done:
			t.Fatalf("Subscribe returned %v before its context ended", err)
		case <-time.After(300 * time.Millisecond):
		}
		cancel()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("Subscribe returned %v, want context.Canceled", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Subscribe did not return within 5s of its context being cancelled")
		}
	})
	t.Run("already cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(h.ctx)
		cancel()
		done := make(chan error, 1)
		go func() {
			done <- h.s.Subscribe(ctx, 0, func(context.Context, event.Envelope) error { return nil })
		}()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("Subscribe returned %v, want context.Canceled", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Subscribe with a cancelled context did not return")
		}
	})
}

// ---- tamper ----

func testTamper(t *testing.T, h *harness) {
	if h.tamper == nil {
		t.Fatal("the store under test supplies no Tamper: every store must show that verification catches a changed byte")
	}
	for v := uint64(1); v <= 3; v++ {
		t.Run(fmt.Sprintf("version %d", v), func(t *testing.T) {
			stream, neighbour := h.stream(fmt.Sprintf("tamper%d", v)), h.stream(fmt.Sprintf("intact%d", v))
			evs := h.evs(3)
			h.mustAppend(t, stream, event.NoStream, evs[0])
			h.mustAppend(t, stream, event.Exactly(1), evs[1:]...)
			h.mustAppend(t, neighbour, event.NoStream, h.evs(3)...)
			if err := eventstore.VerifyStream(h.ctx, h.s, stream); err != nil {
				t.Fatalf("before tampering: %v", err)
			}
			h.tamper(t, stream, v)
			err := eventstore.VerifyStream(h.ctx, h.s, stream)
			var ce *event.ChainError
			if !errors.As(err, &ce) {
				t.Fatalf("VerifyStream after tampering with version %d = %v, want an *event.ChainError", v, err)
			}
			if ce.Stream != stream || ce.Version != v || ce.EventID != evs[v-1].ID {
				t.Fatalf("ChainError names %s@%d (%s), want %s@%d (%s)", ce.Stream, ce.Version, ce.EventID, stream, v, evs[v-1].ID)
			}
			if err := eventstore.VerifyStream(h.ctx, h.s, neighbour); err != nil {
				t.Fatalf("untouched stream: %v", err)
			}
		})
	}
}

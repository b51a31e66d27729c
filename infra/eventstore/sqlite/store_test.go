package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"signet/domain/event"
	"signet/infra/eventstore"
	"signet/infra/eventstore/sqlite"
	"signet/infra/eventstore/storetest"
)

func TestAcceptance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (eventstore.Store, storetest.Tamper) {
		path := filepath.Join(t.TempDir(), "events.db")
		s, err := sqlite.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		return s, func(t *testing.T, stream string, version uint64) { flipDataByte(t, path, stream, version) }
	})
}

// flipDataByte changes one byte of the stored data of stream@version through
// a connection of its own, behind the store's back.
func flipDataByte(t *testing.T, path, stream string, version uint64) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var data []byte
	if err := db.QueryRow(`SELECT data FROM events WHERE stream = ? AND version = ?`, stream, version).Scan(&data); err != nil {
		t.Fatalf("tamper %s@%d: %v", stream, version, err)
	}
	data[len(data)/2] ^= 0x01
	res, err := db.Exec(`UPDATE events SET data = ? WHERE stream = ? AND version = ?`, data, stream, version)
	if err != nil {
		t.Fatalf("tamper %s@%d: %v", stream, version, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("tamper %s@%d: %d rows changed", stream, version, n)
	}
}

func newEvent(i int) event.New {
	return event.New{
		ID:     uuid.Must(uuid.NewV7()).String(), // as commands.UUIDs makes them
		Type:   "ThingHappened",
		Schema: 1,
		Data:   fmt.Appendf(nil, `{"i":%d}`, i),
		Meta:   event.Metadata{OccurredAt: time.Now()},
	}
}

func open(t *testing.T, path string, opts ...sqlite.Option) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(path, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestEmptyStore(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "e.db"))
	ctx := t.Context()
	if h, err := s.Head(ctx); err != nil || h != 0 {
		t.Fatalf("Head of an empty store = %d, %v", h, err)
	}
	if evs, err := s.ReadAll(ctx, 0, 0); err != nil || len(evs) != 0 {
		t.Fatalf("ReadAll of an empty store = %d events, %v", len(evs), err)
	}
	res, err := s.Append(ctx, "a-1", event.NoStream, newEvent(1))
	if err != nil {
		t.Fatal(err)
	}
	if res != (event.AppendResult{FirstVersion: 1, LastVersion: 1, LastPosition: 1}) {
		t.Fatalf("first append of a fresh store: %+v", res)
	}
}

func TestReopenKeepsEverything(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.db")
	ctx := t.Context()
	s, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if _, err := s.Append(ctx, "a-1", event.Exactly(uint64(i)), newEvent(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := s.Append(ctx, "a-1", event.Any, newEvent(9)); !errors.Is(err, sqlite.ErrClosed) {
		t.Fatalf("Append after Close: %v", err)
	}
	s = open(t, path)
	res, err := s.Append(ctx, "a-1", event.Exactly(5), newEvent(5))
	if err != nil {
		t.Fatal(err)
	}
	if res.LastVersion != 6 || res.LastPosition != 6 {
		t.Fatalf("append after reopen: %+v", res)
	}
	if err := eventstore.VerifyStream(ctx, s, "a-1"); err != nil {
		t.Fatal(err)
	}
}

// Close while many appenders are queued: every Append returns, either
// acknowledged (and then stored) or with an error.
func TestCloseAnswersPendingAppends(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.db")
	s, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	const n = 200
	var wg sync.WaitGroup
	var mu sync.Mutex
	var acked []string
	failed := 0
	for i := range n {
		wg.Go(func() {
			e := newEvent(i)
			_, err := s.Append(ctx, fmt.Sprintf("c-%d", i), event.NoStream, e)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if !errors.Is(err, sqlite.ErrClosed) {
					t.Errorf("Append: %v, want success or ErrClosed", err)
				}
				failed++
				return
			}
			acked = append(acked, e.ID)
		})
	}
	time.Sleep(2 * time.Millisecond)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("appenders still blocked 10s after Close")
	}
	t.Logf("%d acknowledged, %d refused by Close", len(acked), failed)
	s = open(t, path)
	stored := map[string]bool{}
	for _, e := range readEverything(t, s) {
		stored[e.ID] = true
	}
	for _, id := range acked {
		if !stored[id] {
			t.Errorf("acknowledged event %s lost", id)
		}
	}
}

func readEverything(t *testing.T, s eventstore.Store) []event.Envelope {
	t.Helper()
	var out []event.Envelope
	var pos uint64
	for {
		page, err := s.ReadAll(t.Context(), pos, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			return out
		}
		out = append(out, page...)
		pos = page[len(page)-1].Position
	}
}

// A second Store on the same file stands for another process: its appends
// reach this Store's subscribers through the poll fallback, and both keep one
// gap-free global order and intact chains on a shared stream.
func TestTwoStoresOneFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "two.db")
	a := open(t, path, sqlite.WithPollInterval(20*time.Millisecond))
	b := open(t, path, sqlite.WithPollInterval(20*time.Millisecond))
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()

	var mu sync.Mutex
	seen := map[string]int{}
	var last uint64
	subCtx, stop := context.WithCancel(ctx)
	subErr := make(chan error, 1)
	go func() {
		subErr <- a.Subscribe(subCtx, 0, func(_ context.Context, e event.Envelope) error {
			mu.Lock()
			defer mu.Unlock()
			if e.Position <= last {
				t.Errorf("position %d after %d", e.Position, last)
			}
			last = e.Position
			seen[e.ID]++
			return nil
		})
	}()

	var wg sync.WaitGroup
	var acked sync.Map
	for w, s := range []*sqlite.Store{a, b, a, b} {
		wg.Go(func() {
			for i := range 30 {
				e := newEvent(i)
				if _, err := s.Append(ctx, "shared-1", event.Any, e); err != nil {
					t.Errorf("writer %d: %v", w, err)
					return
				}
				acked.Store(e.ID, true)
			}
		})
	}
	wg.Wait()
	deadline := time.Now().Add(20 * time.Second)
	for {
		missing := 0
		mu.Lock()
		acked.Range(func(k, _ any) bool {
			if seen[k.(string)] == 0 {
				missing++
			}
			return true
		})
		mu.Unlock()
		if missing == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("subscriber misses %d events", missing)
		}
		time.Sleep(10 * time.Millisecond)
	}
	stop()
	if err := <-subErr; !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 120 {
		t.Errorf("saw %d events, want 120", len(seen))
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("%s seen %d times", id, n)
		}
	}
	if err := eventstore.VerifyStream(ctx, b, "shared-1"); err != nil {
		t.Fatal(err)
	}
}

// An append whose context is already over when the writer reaches it is not
// stored.
func TestCancelledAppend(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "x.db"))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.Append(ctx, "x-1", event.NoStream, newEvent(1)); !errors.Is(err, context.Canceled) {
		t.Fatalf("Append with a cancelled context: %v", err)
	}
	if _, err := s.ReadStream(t.Context(), "x-1", 0, event.Forwards, 0); !errors.Is(err, event.ErrNotFound) {
		t.Fatalf("ReadStream: %v", err)
	}
}

func TestErrorsNameTheStream(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "n.db"))
	ctx := t.Context()
	if _, err := s.Append(ctx, "n-1", event.NoStream, newEvent(1)); err != nil {
		t.Fatal(err)
	}
	_, err := s.Append(ctx, "n-1", event.NoStream, newEvent(2))
	if !errors.Is(err, event.ErrConcurrency) {
		t.Fatal(err)
	}
	if got := err.Error(); got[:len("append n-1: ")] != "append n-1: " {
		t.Fatalf("error %q does not start with the operation and stream", got)
	}
}

// Appends made only through another Store on the same file (as another
// process would) reach a subscriber through the poll fallback alone.
func TestSubscribePollsForOtherWriters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "poll.db")
	reader := open(t, path, sqlite.WithPollInterval(30*time.Millisecond))
	writer := open(t, path)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	got := make(chan event.Envelope, 100)
	subErr := make(chan error, 1)
	go func() {
		subErr <- reader.Subscribe(ctx, 0, func(_ context.Context, e event.Envelope) error {
			got <- e
			return nil
		})
	}()
	for i := range 5 {
		e := newEvent(i)
		res, err := writer.Append(ctx, "other-1", event.Exactly(uint64(i)), e)
		if err != nil {
			t.Fatal(err)
		}
		select {
		case d := <-got:
			if d.ID != e.ID || d.Position != res.LastPosition {
				t.Fatalf("delivered %s at %d, want %s at %d", d.ID, d.Position, e.ID, res.LastPosition)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("append %d by the other writer not delivered within 5s", i)
		}
	}
	cancel()
	if err := <-subErr; !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
}

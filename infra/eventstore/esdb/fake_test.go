package esdb

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"signet/domain/event"
	"signet/infra/eventstore"
	"signet/infra/eventstore/storetest"
)

// The whole acceptance suite through the real client against the in-process
// model of the server (see fakeServer for what it models).
func TestStoreOnFakeServer(t *testing.T) {
	f := startFake(t)
	storetest.Run(t, opener(f.url()))
}

func openFake(t *testing.T, f *fakeServer) *Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	s, err := Open(ctx, f.url())
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func newEvent(n int) event.New {
	return event.New{
		ID:     uuid.NewString(),
		Type:   "ThingHappened",
		Schema: 1,
		Data:   fmt.Appendf(nil, `{"n":%d}`, n),
		Meta:   event.Metadata{Actor: "acct-1", OccurredAt: time.Now()},
	}
}

// Errors as the real client produces them, mapped to the sentinels.
func TestErrorMapping(t *testing.T) {
	f := startFake(t)
	s := openFake(t, f)
	ctx := t.Context()
	c := s.current()

	_, err := c.AppendToStream(ctx, "thing-1", esdb.AppendToStreamOptions{ExpectedRevision: esdb.Revision(4)},
		esdb.EventData{EventID: uuid.New(), EventType: "X", ContentType: esdb.ContentTypeJson, Data: []byte(`{}`)})
	var ee *esdb.Error
	if !errors.As(err, &ee) || !ee.IsErrorCode(esdb.ErrorCodeWrongExpectedVersion) {
		t.Fatalf("client append at a wrong revision: %v", err)
	}
	if m := mapErr(err); !errors.Is(m, event.ErrConcurrency) || !errors.As(m, &ee) {
		t.Errorf("mapErr(wrong expected version) = %v, want event.ErrConcurrency keeping the client error", m)
	}

	_, err = readStream(ctx, c, "thing-404", 1, event.Forwards, 0)
	if !errors.As(err, &ee) || !ee.IsErrorCode(esdb.ErrorCodeResourceNotFound) {
		t.Fatalf("client read of a missing stream: %v", err)
	}
	if m := mapErr(err); !errors.Is(m, event.ErrNotFound) {
		t.Errorf("mapErr(resource not found) = %v", m)
	}

	f.write("thing-dead", "X", []byte(`{}`), nil)
	f.mu.Lock()
	f.tombstone["thing-dead"] = true
	f.mu.Unlock()
	_, err = readStream(ctx, c, "thing-dead", 1, event.Forwards, 0)
	if !errors.As(err, &ee) || !ee.IsErrorCode(esdb.ErrorCodeStreamDeleted) {
		t.Fatalf("client read of a tombstoned stream: %v", err)
	}
	if _, err := s.ReadStream(ctx, "thing-dead", 1, event.Forwards, 0); !errors.Is(err, event.ErrNotFound) {
		t.Errorf("ReadStream of a tombstoned stream = %v, want event.ErrNotFound", err)
	}
	if _, err := s.Append(ctx, "thing-dead", event.Any, newEvent(1)); !errors.Is(err, event.ErrNotFound) {
		t.Errorf("Append to a tombstoned stream = %v, want event.ErrNotFound", err)
	}

	// Store-level errors carry the stream and the sentinel.
	if _, err := s.Append(ctx, "thing-2", event.Exactly(3), newEvent(1)); !errors.Is(err, event.ErrConcurrency) {
		t.Errorf("Append at a wrong version = %v", err)
	} else if want := "append thing-2: "; err.Error()[:len(want)] != want {
		t.Errorf("error %q does not start with %q", err, want)
	}
	bad := newEvent(1)
	bad.ID = "not-a-uuid"
	if _, err := s.Append(ctx, "thing-2", event.Any, bad); !errors.Is(err, event.ErrInvalid) {
		t.Errorf("Append with a non-UUID ID = %v", err)
	}
	sys := newEvent(1)
	sys.Type = "$metadata"
	if _, err := s.Append(ctx, "thing-2", event.Any, sys); !errors.Is(err, event.ErrInvalid) {
		t.Errorf("Append with a $-type = %v", err)
	}

	closed, err := esdb.NewClient(s.cfg)
	if err != nil {
		t.Fatal(err)
	}
	closed.Close()
	_, err = readStream(ctx, closed, "thing-1", 1, event.Forwards, 0)
	if code(err) != esdb.ErrorCodeConnectionClosed {
		t.Errorf("read on a closed client: %v", err)
	}
}

// The log shows neither system events, nor events without signet metadata,
// nor ID reservations; ReadStream shows a foreign event so that verification
// reports it.
func TestLogFiltering(t *testing.T) {
	f := startFake(t)
	s := openFake(t, f)
	ctx := t.Context()
	res, err := s.Append(ctx, "thing-1", event.NoStream, newEvent(1), newEvent(2))
	if err != nil {
		t.Fatal(err)
	}
	foreign := f.write("thing-1", "Injected", []byte(`{"evil":true}`), []byte(`{"by":"someone"}`))
	f.write("$stats-127.0.0.1:2113", "$statsCollected", []byte(`{}`), nil)
	all, err := s.ReadAll(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[1].Position != res.LastPosition {
		t.Fatalf("ReadAll = %d events (%v), want the 2 signet events", len(all), all)
	}
	if h, err := s.Head(ctx); err != nil || h != res.LastPosition {
		t.Fatalf("Head = %d, %v; want %d (the last signet event, not the foreign or system ones after it)", h, err, res.LastPosition)
	}
	got, err := s.ReadStream(ctx, "thing-1", 1, event.Forwards, 0)
	if err != nil || len(got) != 3 || got[2].ID != foreign.id.String() || got[2].Version != 3 {
		t.Fatalf("ReadStream = %v, %v; want the foreign event as version 3", got, err)
	}
	var ce *event.ChainError
	if err := eventstore.VerifyStream(ctx, s, "thing-1"); !errors.As(err, &ce) || ce.Version != 3 {
		t.Fatalf("VerifyStream = %v, want the foreign event named", err)
	}
	if _, err := s.Append(ctx, "thing-1", event.Any, newEvent(3)); err == nil {
		t.Fatal("Append extended a stream whose last event has no signet metadata")
	}
}

// A subscription that the server keeps dropping resumes after the last event
// it saw, with no gap and no duplicate.
func TestSubscribeResumesAfterDrops(t *testing.T) {
	f := startFake(t)
	s := openFake(t, f)
	ctx := t.Context()
	var want []string
	for i := range 10 {
		e := newEvent(i)
		if _, err := s.Append(ctx, fmt.Sprintf("thing-%d", i%3), event.Any, e); err != nil {
			t.Fatal(err)
		}
		want = append(want, e.ID)
	}
	f.dropAfter.Store(3) // every subscription fails after 3 events (reservations count)
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var got []string
	var last uint64
	err := s.Subscribe(sctx, 0, func(_ context.Context, e event.Envelope) error {
		if e.Position <= last {
			t.Errorf("position %d after %d", e.Position, last)
		}
		last = e.Position
		got = append(got, e.ID)
		if len(got) == len(want) {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Subscribe = %v", err)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("delivered %v, want %v", got, want)
	}
}

// The client gives up for good when the server stays unreachable through its
// node discovery; the store replaces it and the subscription carries on.
func TestSubscribeSurvivesServerRestart(t *testing.T) {
	f := startFake(t)
	s := openFake(t, f)
	ctx := t.Context()
	first := newEvent(1)
	if _, err := s.Append(ctx, "thing-1", event.NoStream, first); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var got []string
	seen := make(chan struct{}, 10)
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- s.Subscribe(sctx, 0, func(_ context.Context, e event.Envelope) error {
			mu.Lock()
			got = append(got, e.ID)
			mu.Unlock()
			seen <- struct{}{}
			return nil
		})
	}()
	waitSeen := func(what string) {
		t.Helper()
		select {
		case <-seen:
		case err := <-done:
			t.Fatalf("Subscribe returned %v while waiting for %s", err, what)
		case <-time.After(20 * time.Second):
			t.Fatalf("no %s delivered", what)
		}
	}
	waitSeen("first event")

	f.stop()
	time.Sleep(3 * time.Second) // longer than the client's discovery (10 attempts, 100ms apart)
	f.restart(t)

	second := newEvent(2)
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, err := s.Append(ctx, "thing-1", event.Exactly(1), second)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Append after the restart: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	waitSeen("event appended after the restart")
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Subscribe = %v", err)
	}
	s.mu.Lock()
	renewals := s.renewals
	s.mu.Unlock()
	if renewals == 0 {
		t.Error("the client was never replaced: the test did not outlast the client's node discovery")
	}
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(got) != fmt.Sprint([]string{first.ID, second.ID}) {
		t.Fatalf("delivered %v, want %v", got, []string{first.ID, second.ID})
	}
}

// Servers before 22.6 give no positions on stream reads: appends then report
// the write's own position, which is the one $all shows.
func TestAppendPositionWithoutStreamPositions(t *testing.T) {
	f := startFake(t)
	f.noStreamPosInfo.Store(true)
	s := openFake(t, f)
	ctx := t.Context()
	res, err := s.Append(ctx, "thing-1", event.NoStream, newEvent(1), newEvent(2))
	if err != nil {
		t.Fatal(err)
	}
	all, err := s.ReadAll(ctx, 0, 0)
	if err != nil || len(all) != 2 {
		t.Fatalf("ReadAll = %v, %v", all, err)
	}
	if res.FirstVersion != 1 || res.LastVersion != 2 || res.LastPosition != all[1].Position {
		t.Fatalf("AppendResult %+v, want versions 1..2 at position %d", res, all[1].Position)
	}
	got, err := s.ReadStream(ctx, "thing-1", 1, event.Forwards, 0)
	if err != nil || len(got) != 2 || got[1].Position != 0 {
		t.Fatalf("ReadStream = %v, %v; want positions unknown (0)", got, err)
	}
}

// Close ends a running Subscribe and later calls fail with ErrClosed.
func TestCloseStopsSubscribe(t *testing.T) {
	f := startFake(t)
	s := openFake(t, f)
	done := make(chan error, 1)
	go func() {
		done <- s.Subscribe(context.Background(), 0, func(context.Context, event.Envelope) error { return nil })
	}()
	time.Sleep(200 * time.Millisecond)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("Subscribe after Close = %v, want ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Subscribe still running after Close")
	}
	if _, err := s.Head(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("Head after Close = %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

// Open gives up when nothing listens, within its context.
func TestOpenFailsWithoutServer(t *testing.T) {
	f := startFake(t)
	url := f.url()
	f.stop()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	if s, err := Open(ctx, url); err == nil {
		s.Close()
		t.Fatal("Open succeeded with no server")
	}
	if _, err := Open(ctx, "esdb://user:secret@[::1"); err == nil || contains(err.Error(), "secret") {
		t.Fatalf("Open with a bad URL = %v (must fail and not echo the password)", err)
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

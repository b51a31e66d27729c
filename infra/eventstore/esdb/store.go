// Package esdb is the production event store: an adapter of the
// eventstore.Store port over EventStoreDB / KurrentDB, through the official Go
// gRPC client (github.com/EventStore/EventStore-Client-Go/v4/esdb).
//
// Mapping:
//   - A signet stream is the EventStoreDB stream of the same name. Stream
//     versions are 1-based, EventStoreDB revisions 0-based (version =
//     revision+1). The global position is the event's commit position in $all.
//   - Event ID, type and data (content type JSON) are stored as they are; the
//     schema version, the metadata, the stream version and the hash chain
//     (prev_hash, hash) go into the event's user metadata as JSON (wireMeta).
//     Events without that metadata, and EventStoreDB's own ($-typed or in
//     $-streams) events, are not part of the log that ReadAll, Head and
//     Subscribe expose.
//   - Appends read the stream's tail and append at the exact revision they saw
//     (also for event.Any, retrying on conflict), so that each event is sealed
//     onto the hash of its real predecessor and the chain never forks.
//   - Event IDs are unique across streams through one reservation stream per
//     ID ("signetid-<uuid>"), written before the events; see reserve.
//
// It needs EventStoreDB 22.6 or later (stream reads then carry the $all
// position of each event); the docker-compose file runs 24.10.
package esdb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"sync"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"signet/domain/event"
	"signet/infra/eventstore"
)

// ErrClosed is returned by calls made on (or still running when) a closed Store.
var ErrClosed = errors.New("esdb event store: closed")

const (
	readPage         = 500                    // events per stream read request
	allPageDefault   = 500                    // ReadAll page when limit <= 0
	tailWindow       = 200                    // last events of a stream checked for retried IDs
	maxAnyAttempts   = 200                    // appends at event.Any retried on conflict, at most
	maxExactAttempts = 3                      // appends at an exact version: one conflict re-check
	reserveParallel  = 8                      // reservation appends in flight per Append
	closeWait        = 5 * time.Second        // Close waits this long for running calls
	minBackoff       = 100 * time.Millisecond // Subscribe's first wait before resubscribing
	maxBackoff       = 5 * time.Second
)

var _ eventstore.Store = (*Store)(nil)

// Store is an eventstore.Store over one EventStoreDB client. It is safe for
// concurrent use.
type Store struct {
	cfg    *esdb.Configuration
	ctx    context.Context // cancelled by Close; every call's context follows it
	cancel context.CancelFunc

	mu       sync.Mutex
	client   *esdb.Client
	closed   bool
	ops      sync.WaitGroup // calls in flight (a Subscribe counts as one)
	renewals int            // clients replaced by noteErr
}

// Open connects to EventStoreDB at url ("esdb://host:2113?tls=false", any
// connection string the client accepts) and checks that $all can be read.
func Open(ctx context.Context, url string) (*Store, error) {
	cfg, err := esdb.ParseConnectionString(url)
	if err != nil {
		return nil, fmt.Errorf("esdb: invalid connection string: %w", redact(err))
	}
	cfg.Logger = clientLog
	client, err := esdb.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("esdb: %w", err)
	}
	sctx, cancel := context.WithCancel(context.Background())
	s := &Store{cfg: cfg, ctx: sctx, cancel: cancel, client: client}

	// The client discovers the node on first use and does not watch ctx
	// while doing so: ping in the background and stop waiting when ctx ends.
	pinged := make(chan error, 1)
	go func() { pinged <- ping(ctx, client) }()
	select {
	case err = <-pinged:
	case <-ctx.Done():
		go func() { <-pinged; client.Close() }()
		cancel()
		return nil, fmt.Errorf("esdb: connect: %w", ctx.Err())
	}
	if err != nil {
		client.Close()
		cancel()
		return nil, fmt.Errorf("esdb: connect: %w", err)
	}
	return s, nil
}

func ping(ctx context.Context, c *esdb.Client) error {
	rs, err := c.ReadAll(ctx, esdb.ReadAllOptions{Direction: esdb.Backwards, From: esdb.End{}}, 1)
	if err != nil {
		return err
	}
	defer rs.Close()
	if _, err := rs.Recv(); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

// redact keeps a connection string (and any password in it) out of a parse error.
func redact(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// clientLog sends the client's own log lines (it reports every dropped
// subscription and failed call as an error) to slog at debug level; this
// package returns those errors to its callers.
func clientLog(level esdb.LogLevel, format string, args ...any) {
	if slog.Default().Enabled(context.Background(), slog.LevelDebug) {
		slog.Debug("esdb client: "+fmt.Sprintf(format, args...), "level", level)
	}
}

// Close stops every running call (Subscribe returns ErrClosed), waits for
// them and closes the client.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	client := s.client
	s.mu.Unlock()
	s.cancel()

	done := make(chan struct{})
	go func() { s.ops.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(closeWait):
		// A call stuck inside the client (it can block sending to its own
		// connection goroutine after a failed discovery) would panic if the
		// client were closed under it: leave the client to the garbage collector.
		return errors.New("esdb: close: calls still running after 5s; connection left open")
	}
	return client.Close()
}

// begin registers a call: it returns a context that also ends when the store
// is closed, the current client, and the function that ends the call.
func (s *Store) begin(ctx context.Context) (context.Context, *esdb.Client, func(), error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ctx, nil, func() {}, ErrClosed
	}
	s.ops.Add(1)
	client := s.client
	s.mu.Unlock()
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(s.ctx, cancel)
	return ctx, client, func() { stop(); cancel(); s.ops.Done() }, nil
}

func (s *Store) current() *esdb.Client {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.client
}

// noteErr replaces a client that has shut itself down. The client gives up for
// good when node discovery fails (MaxDiscoverAttempts in a row, about a second
// with the defaults): every later call then fails with ErrorCodeConnectionClosed.
// The dead client is not closed: a call may still be blocked inside it.
func (s *Store) noteErr(c *esdb.Client, err error) {
	if code(err) != esdb.ErrorCodeConnectionClosed {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.client != c {
		return
	}
	if fresh, err := esdb.NewClient(s.cfg); err == nil {
		s.client = fresh
		s.renewals++
	}
}

// failure is what a call returns for err: the caller's context error when it
// ended, ErrClosed when the store was closed, else err mapped to the event
// sentinels.
func (s *Store) failure(caller context.Context, c *esdb.Client, err error) error {
	if caller.Err() != nil {
		return caller.Err()
	}
	if s.ctx.Err() != nil {
		return ErrClosed
	}
	s.noteErr(c, err)
	return mapErr(err)
}

// ---- append ----

// Append implements eventstore.Store. Beyond the port's contract:
//   - Event IDs must be canonical lowercase UUIDs, and event types must not
//     start with '$' (EventStoreDB's system types); otherwise event.ErrInvalid.
//   - Each event ID is first reserved for this stream (see reserve): an ID
//     already reserved for another stream gives event.ErrDuplicateEvent and
//     nothing is written. A reservation stays even if the append then fails,
//     so an ID offered once to a stream can later go only to that stream.
//   - An ID already in this stream is found among its last tailWindow events,
//     or at the versions right after the expected one: found in the order
//     given and consecutively, the append is an idempotent retry and returns
//     the stored events' result; otherwise event.ErrDuplicateEvent. A reuse
//     further back in the same stream is not detected.
func (s *Store) Append(ctx context.Context, stream string, expected event.ExpectedVersion, events ...event.New) (event.AppendResult, error) {
	if err := event.Validate(stream, expected, events); err != nil {
		return event.AppendResult{}, fmt.Errorf("append %s: %w", stream, err)
	}
	ids := make([]uuid.UUID, len(events))
	for i, e := range events {
		u, err := eventUUID(e.ID)
		if err != nil {
			return event.AppendResult{}, fmt.Errorf("append %s: %w", stream, err)
		}
		if e.Type[0] == '$' {
			return event.AppendResult{}, fmt.Errorf("append %s: %w: event type %q: types starting with '$' belong to EventStoreDB", stream, event.ErrInvalid, e.Type)
		}
		ids[i] = u
	}
	opCtx, c, done, err := s.begin(ctx)
	defer done()
	if err != nil {
		return event.AppendResult{}, fmt.Errorf("append %s: %w", stream, err)
	}
	res, err := s.appendAll(opCtx, c, stream, expected, ids, events)
	if err != nil {
		if !errors.Is(err, event.ErrDuplicateEvent) && !errors.Is(err, event.ErrConcurrency) {
			err = s.failure(ctx, c, err)
		}
		return event.AppendResult{}, fmt.Errorf("append %s: %w", stream, err)
	}
	return res, nil
}

func (s *Store) appendAll(ctx context.Context, c *esdb.Client, stream string, expected event.ExpectedVersion, ids []uuid.UUID, events []event.New) (event.AppendResult, error) {
	if err := s.reserve(ctx, c, stream, ids); err != nil {
		return event.AppendResult{}, err
	}
	attempts := maxExactAttempts
	if expected == event.Any {
		attempts = maxAnyAttempts
	}
	for attempt := 1; ; attempt++ {
		res, conflict, err := s.tryAppend(ctx, c, stream, expected, ids, events)
		if err != nil || !conflict {
			return res, err
		}
		if attempt >= attempts {
			return event.AppendResult{}, fmt.Errorf("%w: still losing the race for the end of the stream after %d attempts", event.ErrConcurrency, attempt)
		}
		// Another writer got in between our read and our write: read again.
		if err := sleep(ctx, time.Duration(rand.Int64N(int64(time.Millisecond)*int64(min(attempt, 20))))); err != nil {
			return event.AppendResult{}, err
		}
	}
}

// tryAppend makes one attempt; conflict reports that the stream moved between
// the read and the write, so the caller should try again.
func (s *Store) tryAppend(ctx context.Context, c *esdb.Client, stream string, expected event.ExpectedVersion, ids []uuid.UUID, events []event.New) (res event.AppendResult, conflict bool, err error) {
	tail, err := readStream(ctx, c, stream, 0, event.Backwards, tailWindow)
	if err != nil && !isNotFound(err) {
		return res, false, err
	}
	slicesReverse(tail)
	if res, found, err := findStored(ctx, c, stream, tail, ids); found || err != nil {
		return res, false, err
	}

	var cur uint64 // the stream's version: that of its last event
	prevHash := ""
	next := esdb.ExpectedRevision(esdb.NoStream{})
	firstRev := uint64(0)
	if n := len(tail); n > 0 {
		last := tail[n-1]
		if !last.ours {
			return res, false, fmt.Errorf("its last event %s (revision %d) carries no signet metadata: refusing to extend a hash chain that does not hold", last.env.ID, last.rev)
		}
		cur, prevHash = last.env.Version, last.env.Hash
		// The exact revision seen, even for event.Any: a writer that got in
		// since makes this a wrong expected version, and we seal again.
		next, firstRev = expectedRevision(event.Exactly(versionOf(last.rev))), last.rev+1
	}
	if expected != event.Any && uint64(expected) != cur {
		if uint64(expected) < cur {
			// A retry whose events landed right after the expected version,
			// possibly beyond the tail window.
			if res, ok, err := matchAt(ctx, c, stream, uint64(expected), ids); ok || err != nil {
				return res, false, err
			}
		}
		return res, false, fmt.Errorf("%w: expected %s, the stream is at version %d", event.ErrConcurrency, expected, cur)
	}

	data := make([]esdb.EventData, len(events))
	for i, e := range events {
		env := event.Envelope{
			ID:      ids[i].String(),
			Stream:  stream,
			Version: cur + uint64(i) + 1,
			Type:    e.Type,
			Schema:  e.Schema,
			Data:    e.Data,
			Meta:    e.Meta.Normalize(),
		}
		event.Seal(prevHash, &env)
		prevHash = env.Hash
		meta, err := encodeMeta(env)
		if err != nil {
			return res, false, err
		}
		data[i] = esdb.EventData{EventID: ids[i], EventType: e.Type, ContentType: esdb.ContentTypeJson, Data: e.Data, Metadata: meta}
	}
	wr, err := c.AppendToStream(ctx, stream, esdb.AppendToStreamOptions{ExpectedRevision: next}, data...)
	if isWrongExpectedVersion(err) {
		return res, true, nil
	}
	if err != nil {
		return res, false, err
	}
	return landed(ctx, c, stream, firstRev, ids, cur, wr)
}

// findStored looks for the IDs among the stream's tail. When one is there it
// decides: the same IDs stored consecutively in the same order are an
// idempotent retry (their result, found=true), anything else is a duplicate.
func findStored(ctx context.Context, c *esdb.Client, stream string, tail []record, ids []uuid.UUID) (event.AppendResult, bool, error) {
	at := make(map[string]record, len(tail))
	for _, r := range tail {
		at[r.env.ID] = r
	}
	for k, id := range ids {
		r, ok := at[id.String()]
		if !ok {
			continue
		}
		// The first of our IDs that is stored: an earlier append of the same
		// events started k events before it, i.e. right after version r.rev-k.
		if r.rev >= uint64(k) {
			if res, ok, err := matchAt(ctx, c, stream, r.rev-uint64(k), ids); ok || err != nil {
				return res, true, err
			}
		}
		return event.AppendResult{}, true, fmt.Errorf("%w: event %s is already stored in %s at version %d, not as part of the same append", event.ErrDuplicateEvent, id, stream, r.env.Version)
	}
	return event.AppendResult{}, false, nil
}

// matchAt reports whether the events right after version `after` are the
// given IDs in order, and if so the result of the append that stored them.
func matchAt(ctx context.Context, c *esdb.Client, stream string, after uint64, ids []uuid.UUID) (event.AppendResult, bool, error) {
	recs, err := readStream(ctx, c, stream, after+1, event.Forwards, len(ids))
	if err != nil {
		if isNotFound(err) {
			return event.AppendResult{}, false, nil
		}
		return event.AppendResult{}, false, err
	}
	if !sameIDs(recs, ids) {
		return event.AppendResult{}, false, nil
	}
	return resultOf(recs), true, nil
}

// landed is the result of a successful write: read back from the revision the
// events were written at, so that the position is exactly the one that reads
// of the stream and of $all report. If the read fails, fall back on the
// write's own result.
func landed(ctx context.Context, c *esdb.Client, stream string, firstRev uint64, ids []uuid.UUID, cur uint64, wr *esdb.WriteResult) (event.AppendResult, bool, error) {
	recs, err := readStream(ctx, c, stream, versionOf(firstRev), event.Forwards, len(ids))
	if err == nil && sameIDs(recs, ids) {
		if res := resultOf(recs); res.LastPosition != 0 {
			return res, false, nil
		}
	} else if err == nil {
		return event.AppendResult{}, false, fmt.Errorf("acknowledged, but revisions from %d do not hold the appended events", firstRev)
	}
	n := uint64(len(ids))
	return event.AppendResult{FirstVersion: cur + 1, LastVersion: cur + n, LastPosition: knownPosition(wr.CommitPosition)}, false, nil
}

func sameIDs(recs []record, ids []uuid.UUID) bool {
	if len(recs) != len(ids) {
		return false
	}
	for i, r := range recs {
		if !r.ours || r.raw.EventID != ids[i] {
			return false
		}
	}
	return true
}

func resultOf(recs []record) event.AppendResult {
	last := recs[len(recs)-1].env
	return event.AppendResult{FirstVersion: recs[0].env.Version, LastVersion: last.Version, LastPosition: last.Position}
}

// ---- event ID reservations ----

const (
	reservePrefix = "signetid-"
	reserveType   = "SignetEventIDReserved"
)

// reserveNamespace derives the reservation event's ID from (stream, event ID).
var reserveNamespace = uuid.MustParse("2b0e4c59-1f7a-4d8e-9c35-6a1d0f8b7e42")

// reserve binds each event ID to stream before the events are written.
// EventStoreDB has no index by event ID and no uniqueness across streams, so
// each ID gets a stream of its own, "signetid-<id>", holding one event written
// with expected version "no stream". That event's ID is derived from (stream,
// event ID): appending it again for the same stream is one of EventStoreDB's
// idempotent writes (it compares the IDs at the expected revision), while for
// another stream it is a wrong expected version, i.e. a duplicate. These events
// carry no signet metadata, so the log never shows them.
func (s *Store) reserve(ctx context.Context, c *esdb.Client, stream string, ids []uuid.UUID) error {
	errs := make([]error, len(ids))
	sem := make(chan struct{}, reserveParallel)
	var wg sync.WaitGroup
	for i, id := range ids {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			errs[i] = reserveOne(ctx, c, stream, id)
		})
	}
	wg.Wait()
	for _, err := range errs { // a duplicate first: it is the caller's mistake
		if errors.Is(err, event.ErrDuplicateEvent) {
			return err
		}
	}
	return errors.Join(errs...)
}

func reserveOne(ctx context.Context, c *esdb.Client, stream string, id uuid.UUID) error {
	data := fmt.Appendf(nil, `{"stream":%q,"event_id":%q}`, stream, id)
	_, err := c.AppendToStream(ctx, reservePrefix+id.String(), esdb.AppendToStreamOptions{ExpectedRevision: esdb.NoStream{}}, esdb.EventData{
		EventID:     uuid.NewSHA1(reserveNamespace, []byte(stream+"\x00"+id.String())),
		EventType:   reserveType,
		ContentType: esdb.ContentTypeJson,
		Data:        data,
	})
	if isWrongExpectedVersion(err) {
		return fmt.Errorf("%w: event ID %s is already used in another stream", event.ErrDuplicateEvent, id)
	}
	if err != nil {
		return fmt.Errorf("reserve event ID %s: %w", id, err)
	}
	return nil
}

// ---- reads ----

// ReadStream implements eventstore.Store. Every event of the stream is
// returned, also one without signet metadata (version revision+1, no hashes)
// so that chain verification reports it.
func (s *Store) ReadStream(ctx context.Context, stream string, from uint64, dir event.Direction, limit int) ([]event.Envelope, error) {
	if stream == "" || stream[0] == '$' {
		return nil, fmt.Errorf("read %s: %w: stream name %q", stream, event.ErrInvalid, stream)
	}
	opCtx, c, done, err := s.begin(ctx)
	defer done()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", stream, err)
	}
	recs, err := readStream(opCtx, c, stream, from, dir, limit)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", stream, s.failure(ctx, c, err))
	}
	out := make([]event.Envelope, len(recs))
	for i, r := range recs {
		out[i] = r.env
	}
	return out, nil
}

// readStream reads up to limit events (limit <= 0: all) from version `from`,
// as ReadStream does; a missing stream gives the client's not-found error.
func readStream(ctx context.Context, c *esdb.Client, stream string, from uint64, dir event.Direction, limit int) ([]record, error) {
	esDir := esdb.Forwards
	if dir == event.Backwards {
		esDir = esdb.Backwards
	}
	pos := readFrom(from, dir)
	clamped := false
	var out []record
	for {
		count := readPage
		if limit > 0 {
			count = min(count, limit-len(out))
		}
		page, err := readStreamPage(ctx, c, stream, esdb.ReadStreamOptions{Direction: esDir, From: pos}, count)
		if err != nil {
			return nil, err
		}
		if dir == event.Backwards && from > 0 && !clamped && len(out) == 0 && len(page) == 0 {
			// A backwards read from beyond the last revision finds nothing
			// on EventStoreDB: read from the end, keeping versions <= from.
			clamped, pos = true, esdb.End{}
			continue
		}
		for _, r := range page {
			if clamped && r.rev >= from {
				continue
			}
			out = append(out, r)
		}
		if len(page) < count || (limit > 0 && len(out) >= limit) {
			return out, nil
		}
		last := page[len(page)-1].rev
		if dir == event.Backwards {
			if last == 0 {
				return out, nil
			}
			pos = esdb.Revision(last - 1)
		} else {
			pos = esdb.Revision(last + 1)
		}
	}
}

func readStreamPage(ctx context.Context, c *esdb.Client, stream string, opts esdb.ReadStreamOptions, count int) ([]record, error) {
	rs, err := c.ReadStream(ctx, stream, opts, uint64(count))
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var out []record
	for {
		ev, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		out = append(out, toRecord(ev.OriginalEvent()))
	}
}

// ReadAll implements eventstore.Store: signet events of $all after position
// `after`, skipping system events and events without signet metadata.
func (s *Store) ReadAll(ctx context.Context, after uint64, limit int) ([]event.Envelope, error) {
	if limit <= 0 {
		limit = allPageDefault
	}
	opCtx, c, done, err := s.begin(ctx)
	defer done()
	if err != nil {
		return nil, fmt.Errorf("read all: %w", err)
	}
	var out []event.Envelope
	cursor := after
	for len(out) < limit {
		count := min(max(limit-len(out)+1, 32), 1000)
		n, err := readAllPage(opCtx, c, cursor, count, func(ev *esdb.ResolvedEvent) bool {
			p := resolvedPosition(ev)
			if p <= cursor {
				return true // the event at `after` itself: reads from a position include it
			}
			cursor = p
			if r := toRecord(ev.OriginalEvent()); inLog(r) {
				r.env.Position = p
				out = append(out, r.env)
			}
			return len(out) < limit
		})
		if err != nil {
			return nil, fmt.Errorf("read all after %d: %w", after, s.failure(ctx, c, err))
		}
		if n < count {
			break // the end of $all
		}
	}
	return out, nil
}

// readAllPage reads up to count events of $all forwards from position p
// (inclusive), calling each until it returns false; n counts events received.
func readAllPage(ctx context.Context, c *esdb.Client, p uint64, count int, each func(*esdb.ResolvedEvent) bool) (n int, err error) {
	rs, err := c.ReadAll(ctx, esdb.ReadAllOptions{Direction: esdb.Forwards, From: allFrom(p)}, uint64(count))
	if err != nil {
		return 0, err
	}
	defer rs.Close()
	for {
		ev, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		n++
		if !each(ev) {
			return count, nil // stopped early: not the end
		}
	}
}

// Head implements eventstore.Store: the position of the last event that
// ReadAll would return (system events and events without signet metadata,
// such as ID reservations, are skipped), found by reading $all backwards.
func (s *Store) Head(ctx context.Context) (uint64, error) {
	opCtx, c, done, err := s.begin(ctx)
	defer done()
	if err != nil {
		return 0, fmt.Errorf("head: %w", err)
	}
	const count = 500
	var from esdb.AllPosition = esdb.End{}
	for {
		var last *esdb.Position
		n, found := 0, uint64(0)
		rs, err := c.ReadAll(opCtx, esdb.ReadAllOptions{Direction: esdb.Backwards, From: from}, count)
		if err == nil {
			for found == 0 {
				ev, rerr := rs.Recv()
				if errors.Is(rerr, io.EOF) {
					break
				}
				if rerr != nil {
					err = rerr
					break
				}
				n++
				rec := ev.OriginalEvent()
				p := rec.Position
				last = &p
				if inLog(toRecord(rec)) {
					found = resolvedPosition(ev)
				}
			}
			rs.Close()
		}
		if err != nil {
			return 0, fmt.Errorf("head: %w", s.failure(ctx, c, err))
		}
		if found != 0 {
			return found, nil
		}
		if n < count || last == nil {
			return 0, nil
		}
		from = *last // backwards reads from a position exclude it
	}
}

// ---- subscribe ----

// handlerError carries the handler's own failure out of a subscription.
type handlerError struct{ err error }

func (e *handlerError) Error() string { return e.err.Error() }

// Subscribe implements eventstore.Store with a catch-up subscription to $all
// (server-side filter: no $-typed events). It delivers signet events with
// position > after in order, skipping everything at or before the last
// position it has seen, and resubscribes from there with a backoff (100ms
// doubling to 5s) whenever the subscription drops or cannot be made, until
// ctx ends, the handler fails, the store is closed (ErrClosed) or the server
// refuses for good (credentials, rights).
func (s *Store) Subscribe(ctx context.Context, after uint64, handle func(context.Context, event.Envelope) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	opCtx, _, done, err := s.begin(ctx)
	defer done()
	if err != nil {
		return fmt.Errorf("subscribe: %w", err)
	}
	last := after
	wait := minBackoff
	for {
		c := s.current()
		delivered, err := subscribeOnce(opCtx, c, &last, handle)
		var he *handlerError
		switch {
		case errors.As(err, &he):
			return fmt.Errorf("subscribe: handler: %w", he.err)
		case ctx.Err() != nil:
			return ctx.Err()
		case s.ctx.Err() != nil:
			return fmt.Errorf("subscribe: %w", ErrClosed)
		case permanent(err):
			return fmt.Errorf("subscribe after %d: %w", last, err)
		}
		s.noteErr(c, err)
		slog.Debug("esdb: subscription dropped, resubscribing", "after", last, "in", wait, "err", err)
		if delivered {
			wait = minBackoff
		}
		if err := sleep(opCtx, wait); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("subscribe: %w", ErrClosed)
		}
		wait = min(2*wait, maxBackoff)
	}
}

// subscribeOnce runs one subscription from *last until it drops (its error),
// ctx ends or the handler fails (*handlerError). It advances *last past every
// event it sees, delivered or skipped.
func subscribeOnce(ctx context.Context, c *esdb.Client, last *uint64, handle func(context.Context, event.Envelope) error) (delivered bool, err error) {
	sub, err := c.SubscribeToAll(ctx, esdb.SubscribeToAllOptions{From: allFrom(*last), Filter: esdb.ExcludeSystemEventsFilter()})
	if err != nil {
		return false, err
	}
	defer sub.Close()
	for {
		msg := sub.Recv()
		switch {
		case msg.SubscriptionDropped != nil:
			if msg.SubscriptionDropped.Error == nil {
				return delivered, errors.New("subscription dropped")
			}
			return delivered, msg.SubscriptionDropped.Error
		case msg.EventAppeared != nil:
			p := resolvedPosition(msg.EventAppeared)
			if p <= *last {
				continue
			}
			*last = p
			r := toRecord(msg.EventAppeared.OriginalEvent())
			if !inLog(r) {
				continue
			}
			r.env.Position = p
			if err := handle(ctx, r.env); err != nil {
				return delivered, &handlerError{fmt.Errorf("event %s (%s@%d, position %d): %w", r.env.ID, r.env.Stream, r.env.Version, p, err)}
			}
			delivered = true
		}
		// CheckPointReached, CaughtUp, FellBehind: nothing to deliver.
	}
}

// ---- helpers ----

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func slicesReverse(rs []record) {
	for i, j := 0, len(rs)-1; i < j; i, j = i+1, j-1 {
		rs[i], rs[j] = rs[j], rs[i]
	}
}

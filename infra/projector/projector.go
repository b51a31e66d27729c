// Package projector runs projections (see package projections) into Redis:
// a fast batched catch-up from each projection's checkpoint, a rebuild from
// position 0, live delivery of the event store's global log through a
// Watermill router, status, and read-your-writes waits.
//
// Keys, all under the DB prefix:
//
//	rm:<name>:<key>        the read model (projections.Key)
//	proj:<name>:versions   hash stream -> last applied stream version (the guard)
//	proj:<name>:checkpoint global position up to which the log was processed
//	proj:<name>:poison     list of JSON PoisonRecords (the last 10000)
//	proj:<name>:poisoned   number of poisoned events ever recorded
//
// Every write of a projection goes through one Lua script per batch, which
// checks the guard per (projection, stream), applies the ops, sets the guards
// and moves the checkpoint forwards atomically (see applyLua). Delivery is
// therefore at-least-once and applying is idempotent.
//
// One Runner per projection should apply at a time: within a process the
// Runner serializes catch-up, rebuild and live handling of a projection;
// across processes (say, `projections rebuild` while a server runs the same
// projection live) nothing does, so stop the live projector first.
package projector

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/redis/go-redis/v9"

	"signet/domain/event"
	"signet/infra/redisdb"
	"signet/projections"
)

// EventLog is what the projector needs of the event store (eventstore.Store
// satisfies it).
type EventLog interface {
	ReadAll(ctx context.Context, after uint64, limit int) ([]event.Envelope, error)
	Head(ctx context.Context) (uint64, error)
	Subscribe(ctx context.Context, after uint64, handle func(context.Context, event.Envelope) error) error
}

// Option tunes a Runner.
type Option func(*config)

type config struct {
	batchSize      int
	maxRetries     int
	retryInterval  time.Duration
	redeliverDelay time.Duration
	pollInterval   time.Duration
	closeTimeout   time.Duration
}

// WithBatchSize sets how many events catch-up reads and applies per script
// call (default 500). Redis runs nothing else while a script runs: at 500 a
// batch of a typical projection blocks it for a few milliseconds, and larger
// batches measured no faster here.
func WithBatchSize(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.batchSize = n
		}
	}
}

// WithRetry sets how often the live handler retries an event that failed
// (default 3) and the first backoff (default 10ms, doubling, at most 250ms)
// before the event is poisoned.
func WithRetry(maxRetries int, initial time.Duration) Option {
	return func(c *config) {
		if maxRetries >= 0 {
			c.maxRetries = maxRetries
		}
		if initial > 0 {
			c.retryInterval = initial
		}
	}
}

// WithRedeliverDelay sets how long the subscriber waits before redelivering
// a Nacked event (default 100ms); events are Nacked when applying failed for
// reasons that are not the projection's (Redis unreachable).
func WithRedeliverDelay(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.redeliverDelay = d
		}
	}
}

// WithPollInterval sets how often WaitFor reads the checkpoints (default 5ms).
func WithPollInterval(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.pollInterval = d
		}
	}
}

// Runner runs a fixed set of projections.
type Runner struct {
	db     *redisdb.DB
	log    EventLog
	logger *slog.Logger
	cfg    config
	projs  []*proj
	byName map[string]*proj

	mu      sync.Mutex
	started bool
	router  *message.Router
	done    chan struct{}
	cancel  context.CancelFunc
	runErr  error
}

type proj struct {
	projections.Projection
	name string
	keys keySet
	// mu serializes everything that applies this projection: catch-up,
	// rebuild and the live handler.
	mu sync.Mutex
}

var validName = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

// New makes a Runner. Projection names must be unique and use only letters,
// digits, '_', '-' and '.' (they end up in key patterns and handler names).
// logger may be nil.
func New(db *redisdb.DB, log EventLog, projs []projections.Projection, logger *slog.Logger, opts ...Option) (*Runner, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	r := &Runner{
		db: db, log: log, logger: logger,
		cfg: config{
			batchSize:      500,
			maxRetries:     3,
			retryInterval:  10 * time.Millisecond,
			redeliverDelay: 100 * time.Millisecond,
			pollInterval:   5 * time.Millisecond,
			closeTimeout:   10 * time.Second,
		},
		byName: make(map[string]*proj, len(projs)),
		done:   make(chan struct{}),
	}
	for _, o := range opts {
		o(&r.cfg)
	}
	for _, p := range projs {
		name := p.Name()
		if !validName.MatchString(name) {
			return nil, fmt.Errorf("projector: invalid projection name %q", name)
		}
		if r.byName[name] != nil {
			return nil, fmt.Errorf("projector: projection %q registered twice", name)
		}
		pp := &proj{Projection: p, name: name, keys: keysFor(db.Prefix, name)}
		r.projs = append(r.projs, pp)
		r.byName[name] = pp
	}
	return r, nil
}

// Names lists the projections in registration order.
func (r *Runner) Names() []string {
	names := make([]string, len(r.projs))
	for i, p := range r.projs {
		names[i] = p.name
	}
	return names
}

func (r *Runner) get(name string) (*proj, error) {
	p := r.byName[name]
	if p == nil {
		return nil, fmt.Errorf("projector: unknown projection %q", name)
	}
	return p, nil
}

// Checkpoint is the global position up to which name has processed the log.
func (r *Runner) Checkpoint(ctx context.Context, name string) (uint64, error) {
	p, err := r.get(name)
	if err != nil {
		return 0, err
	}
	return r.checkpoint(ctx, p)
}

func (r *Runner) checkpoint(ctx context.Context, p *proj) (uint64, error) {
	v, err := r.db.Get(ctx, p.keys.checkpoint).Uint64()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("projector: read checkpoint of %s: %w", p.name, err)
	}
	return v, nil
}

// CatchUp applies the log from name's checkpoint to the store's current
// head in batches, reporting progress (done and total events' worth of
// positions; progress may be nil). Events the projection fails on (error,
// panic, ops Redis would refuse) are recorded as poisoned and skipped, as
// the live path does after its retries: Handle is pure, so retrying it
// within a catch-up would fail the same way.
func (r *Runner) CatchUp(ctx context.Context, name string, progress func(done, total uint64)) error {
	p, err := r.get(name)
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return r.catchUp(ctx, p, progress)
}

// Rebuild drops name's read model, guard, checkpoint and poison records,
// then catches up from position 0. Readers see the read model empty and
// then filling while it runs.
func (r *Runner) Rebuild(ctx context.Context, name string, progress func(done, total uint64)) error {
	p, err := r.get(name)
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := r.db.DeletePrefix(ctx, projections.Namespace(p.name)); err != nil {
		return fmt.Errorf("projector: drop read model %s: %w", p.name, err)
	}
	if err := r.db.DeletePrefix(ctx, "proj:"+p.name+":"); err != nil {
		return fmt.Errorf("projector: reset checkpoint of %s: %w", p.name, err)
	}
	return r.catchUp(ctx, p, progress)
}

func (r *Runner) catchUp(ctx context.Context, p *proj, progress func(done, total uint64)) error {
	start, err := r.checkpoint(ctx, p)
	if err != nil {
		return err
	}
	head, err := r.log.Head(ctx)
	if err != nil {
		return fmt.Errorf("projector: read head: %w", err)
	}
	if progress == nil {
		progress = func(uint64, uint64) {}
	}
	if start >= head {
		progress(0, 0)
		return nil
	}
	total := head - start
	progress(0, total)

	// Reading and mapping the next page overlaps applying this one.
	rctx, cancel := context.WithCancel(ctx)
	const inFlight = 3
	free := make(chan *batch, inFlight)
	full := make(chan *batch, inFlight)
	for range inFlight {
		free <- &batch{}
	}
	go r.readBatches(rctx, p, start, head, free, full)
	defer func() {
		cancel()
		for range full { // wait for the reader to stop
		}
	}()

	for b := range full {
		if b.err != nil {
			return b.err
		}
		if _, err := apply(ctx, r.db, &p.keys, b); err != nil {
			return fmt.Errorf("projector: %s: %w", p.name, err)
		}
		r.logPoisoned(p, b.poison)
		done := b.last - start
		if done > total {
			total = done
		}
		progress(done, total)
		b.reset()
		free <- b
	}
	return ctx.Err()
}

// readBatches reads pages of the log after `after` up to head, maps them
// through the projection and hands them over on full, reusing the batches
// it gets back on free. It closes full when done.
func (r *Runner) readBatches(ctx context.Context, p *proj, after, head uint64, free <-chan *batch, full chan<- *batch) {
	defer close(full)
	for after < head {
		var b *batch
		select {
		case b = <-free:
		case <-ctx.Done():
			return
		}
		evs, err := r.log.ReadAll(ctx, after, r.cfg.batchSize)
		if err != nil {
			b.err = fmt.Errorf("projector: read log after %d: %w", after, err)
		} else if len(evs) == 0 {
			b.err = fmt.Errorf("projector: log ends at %d before its head %d", after, head)
		} else {
			for i := range evs {
				e := &evs[i]
				ops, err := r.handle(ctx, p, e)
				if err != nil {
					b.poison = append(b.poison, poisonOf(e, err))
					continue
				}
				if len(ops) > 0 {
					b.items = append(b.items, item{
						id: e.ID, typ: e.Type, stream: e.Stream,
						version: e.Version, position: e.Position, ops: ops,
					})
				}
			}
			b.last = evs[len(evs)-1].Position
			after = b.last
			b.encode(&p.keys)
		}
		failed := b.err != nil // b is the consumer's once sent
		select {
		case full <- b:
		case <-ctx.Done():
			return
		}
		if failed {
			return
		}
	}
}

// handle maps one event, turning a panic into an error and checking the ops.
func (r *Runner) handle(ctx context.Context, p *proj, e *event.Envelope) (ops []projections.Op, err error) {
	defer func() {
		if v := recover(); v != nil {
			ops, err = nil, fmt.Errorf("projection %s panicked: %v", p.name, v)
		}
	}()
	ops, err = p.Handle(ctx, *e)
	if err != nil {
		return nil, err
	}
	if err := checkOps(ops); err != nil {
		return nil, err
	}
	return ops, nil
}

func (r *Runner) logPoisoned(p *proj, recs []PoisonRecord) {
	for i := range recs {
		rec := &recs[i]
		r.logger.Error("projection poisoned an event", "projection", p.name,
			"event_id", rec.EventID, "stream", rec.Stream, "version", rec.Version,
			"position", rec.Position, "error", rec.Error)
	}
}

// Status of one projection.
type Status struct {
	Name       string
	Checkpoint uint64 // position processed up to
	Head       uint64 // the event store's last position
	Lag        uint64 // Head - Checkpoint (0 when ahead)
	CaughtUp   bool   // Checkpoint >= Head
	Poisoned   int64  // events recorded as poisoned since the last rebuild
}

// Status reports every projection, in registration order.
func (r *Runner) Status(ctx context.Context) ([]Status, error) {
	head, err := r.log.Head(ctx)
	if err != nil {
		return nil, fmt.Errorf("projector: read head: %w", err)
	}
	pipe := r.db.Pipeline()
	cps := make([]*redis.StringCmd, len(r.projs))
	pcs := make([]*redis.StringCmd, len(r.projs))
	for i, p := range r.projs {
		cps[i] = pipe.Get(ctx, p.keys.checkpoint)
		pcs[i] = pipe.Get(ctx, p.keys.poisonCount)
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("projector: read status: %w", err)
	}
	out := make([]Status, len(r.projs))
	for i, p := range r.projs {
		cp, _ := strconv.ParseUint(cps[i].Val(), 10, 64)
		pc, _ := strconv.ParseInt(pcs[i].Val(), 10, 64)
		s := Status{Name: p.name, Checkpoint: cp, Head: head, CaughtUp: cp >= head, Poisoned: pc}
		if !s.CaughtUp {
			s.Lag = head - cp
		}
		out[i] = s
	}
	return out, nil
}

// Poisoned returns up to limit of the most recent poison records of name,
// oldest first (limit <= 0: all that are kept).
func (r *Runner) Poisoned(ctx context.Context, name string, limit int) ([]PoisonRecord, error) {
	p, err := r.get(name)
	if err != nil {
		return nil, err
	}
	start := int64(0)
	if limit > 0 {
		start = -int64(limit)
	}
	raw, err := r.db.LRange(ctx, p.keys.poison, start, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("projector: read poison list of %s: %w", name, err)
	}
	out := make([]PoisonRecord, 0, len(raw))
	for _, s := range raw {
		var rec PoisonRecord
		if err := json.Unmarshal([]byte(s), &rec); err != nil {
			return nil, fmt.Errorf("projector: poison record of %s: %w", name, err)
		}
		out = append(out, rec)
	}
	return out, nil
}

// WaitFor waits until every named projection (all when none are named) has
// processed the log up to pos, polling their checkpoints. It reports
// whether they got there before ctx ended; ctx ending is not an error.
func (r *Runner) WaitFor(ctx context.Context, pos uint64, names ...string) (bool, error) {
	if pos == 0 {
		return true, nil
	}
	if len(names) == 0 {
		names = r.Names()
	}
	keys := make([]string, len(names))
	for i, n := range names {
		p, err := r.get(n)
		if err != nil {
			return false, err
		}
		keys[i] = p.keys.checkpoint
	}
	var tick *time.Ticker
	for {
		vals, err := r.db.MGet(ctx, keys...).Result()
		if err != nil {
			if ctx.Err() != nil {
				return false, nil
			}
			return false, fmt.Errorf("projector: read checkpoints: %w", err)
		}
		reached := true
		for _, v := range vals {
			s, _ := v.(string)
			if cp, _ := strconv.ParseUint(s, 10, 64); cp < pos {
				reached = false
				break
			}
		}
		if reached {
			return true, nil
		}
		if tick == nil {
			tick = time.NewTicker(r.cfg.pollInterval)
			defer tick.Stop()
		}
		select {
		case <-ctx.Done():
			return false, nil
		case <-tick.C:
		}
	}
}

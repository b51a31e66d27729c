package search

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"signet/domain/event"
)

// Log is what the runner needs of the event store (eventstore.Store
// satisfies it).
type Log interface {
	ReadAll(ctx context.Context, after uint64, limit int) ([]event.Envelope, error)
	Head(ctx context.Context) (uint64, error)
	Subscribe(ctx context.Context, after uint64, handle func(context.Context, event.Envelope) error) error
}

// BuildFunc maps one event to the documents it changes and its audit
// records. current reads a contract as the runner knows it so far (the
// batch being built included; copy its slices before changing them); set
// each document's Version to env.Position. When current fails the runner
// retries the whole batch later; any other error of Build skips the event
// (logged and counted).
type BuildFunc func(env event.Envelope, current func(id string) (ContractDoc, bool, error)) ([]ContractDoc, []AuditRecord, error)

// Runner is the search projection: it applies the global log, in order, to
// an Index through Build, in batches (up to BatchSize events, or what
// arrived within FlushEvery), each written together with its checkpoint.
// One Runner per Index and Name; its methods may be called concurrently
// (Run, Rebuild and WaitFor typically are).
type Runner struct {
	Log        Log
	Index      Index
	Build      BuildFunc
	Name       string        // checkpoint name, default "search"
	BatchSize  int           // default 500
	FlushEvery time.Duration // default 200ms
	Logger     *slog.Logger  // default slog.Default()

	// mu serializes applying to the live index: the live loop, CatchUp and
	// the end of a Rebuild.
	mu      sync.Mutex
	loaded  bool
	applied atomic.Uint64

	pmu     sync.Mutex
	pending []event.Envelope

	skipped atomic.Uint64

	wmu     sync.Mutex
	changed chan struct{} // closed and replaced whenever applied moves
}

// RebuildStats reports a finished rebuild.
type RebuildStats struct {
	Events    uint64        // events read and built
	Position  uint64        // global position the new generation has applied
	Elapsed   time.Duration //
	PerSecond float64       // Events / Elapsed
}

func (r *Runner) name() string {
	if r.Name == "" {
		return "search"
	}
	return r.Name
}

func (r *Runner) batchSize() int {
	if r.BatchSize <= 0 {
		return 500
	}
	return r.BatchSize
}

func (r *Runner) flushEvery() time.Duration {
	if r.FlushEvery <= 0 {
		return 200 * time.Millisecond
	}
	return r.FlushEvery
}

func (r *Runner) logger() *slog.Logger {
	if r.Logger == nil {
		return slog.Default()
	}
	return r.Logger
}

// Position is the global position the live index has applied.
func (r *Runner) Position() uint64 { return r.applied.Load() }

// Skipped counts events whose Build failed and that were skipped.
func (r *Runner) Skipped() uint64 { return r.skipped.Load() }

func (r *Runner) advance(pos uint64) {
	r.applied.Store(pos)
	r.wmu.Lock()
	if r.changed != nil {
		close(r.changed)
		r.changed = nil
	}
	r.wmu.Unlock()
}

// WaitFor blocks until the live index has applied position pos (read your
// writes) or ctx ends.
func (r *Runner) WaitFor(ctx context.Context, pos uint64) error {
	for {
		r.wmu.Lock()
		if r.applied.Load() >= pos {
			r.wmu.Unlock()
			return nil
		}
		if r.changed == nil {
			r.changed = make(chan struct{})
		}
		ch := r.changed
		r.wmu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// load reads the checkpoint once; called with mu held.
func (r *Runner) load(ctx context.Context) error {
	if r.loaded {
		return nil
	}
	pos, err := r.Index.Checkpoint(ctx, r.name())
	if err != nil {
		return fmt.Errorf("search runner: read checkpoint: %w", err)
	}
	r.loaded = true
	r.advance(pos)
	return nil
}

// CatchUp applies every stored event after the checkpoint and returns the
// position reached.
func (r *Runner) CatchUp(ctx context.Context) (uint64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.load(ctx); err != nil {
		return 0, err
	}
	pos, _, err := r.drain(ctx, r.Index, r.applied.Load(), nil)
	if pos > r.applied.Load() {
		r.advance(pos)
	}
	return r.applied.Load(), err
}

// drain applies pages of the log after pos to g until the log is exhausted;
// it returns the position reached and the number of events read.
func (r *Runner) drain(ctx context.Context, g Generation, pos uint64, progress func(uint64)) (uint64, uint64, error) {
	var n uint64
	for {
		evs, err := r.Log.ReadAll(ctx, pos, r.batchSize())
		if err != nil {
			return pos, n, fmt.Errorf("search runner: read log after %d: %w", pos, err)
		}
		if len(evs) == 0 {
			return pos, n, nil
		}
		last, err := r.applyRetry(ctx, g, evs, pos)
		if err != nil {
			return pos, n, err
		}
		pos = last
		n += uint64(len(evs))
		if progress != nil {
			progress(pos)
		}
	}
}

// Run catches up from the checkpoint, then follows the log until ctx ends
// (returning ctx.Err()) or the subscription fails.
func (r *Runner) Run(ctx context.Context) error {
	from, err := r.CatchUp(ctx)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		t := time.NewTicker(r.flushEvery())
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				r.flush(ctx)
			}
		}
	}()
	err = r.Log.Subscribe(ctx, from, func(ctx context.Context, env event.Envelope) error {
		r.pmu.Lock()
		r.pending = append(r.pending, env)
		full := len(r.pending) >= r.batchSize()
		r.pmu.Unlock()
		if full {
			return r.flush(ctx)
		}
		return nil
	})
	if err != nil && ctx.Err() == nil {
		return fmt.Errorf("search runner: subscription: %w", err)
	}
	return ctx.Err()
}

// flush applies what the subscription delivered so far. The pending events
// are taken under mu, so batches are applied in the order they arrived.
func (r *Runner) flush(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pmu.Lock()
	evs := r.pending
	r.pending = nil
	r.pmu.Unlock()
	if len(evs) == 0 {
		return nil
	}
	pos, err := r.applyRetry(ctx, r.Index, evs, r.applied.Load())
	if pos > r.applied.Load() {
		r.advance(pos)
	}
	return err
}

// applyRetry applies evs (skipping those at or before after) to g, retrying
// failures of the index with backoff until ctx ends.
func (r *Runner) applyRetry(ctx context.Context, g Generation, evs []event.Envelope, after uint64) (uint64, error) {
	wait := 100 * time.Millisecond
	for {
		pos, err := r.apply(ctx, g, evs, after)
		if err == nil {
			return pos, nil
		}
		if ctx.Err() != nil {
			return after, ctx.Err()
		}
		r.logger().Error("search runner: applying a batch failed; retrying", "after", after, "events", len(evs), "wait", wait, "err", err)
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return after, ctx.Err()
		}
		wait = min(2*wait, 5*time.Second)
	}
}

func (r *Runner) apply(ctx context.Context, g Generation, evs []event.Envelope, after uint64) (uint64, error) {
	batched := map[string]ContractDoc{}
	var order []string
	var audit []AuditRecord
	pos := after
	for _, env := range evs {
		if env.Position <= pos {
			continue
		}
		var curErr error
		current := func(id string) (ContractDoc, bool, error) {
			if d, ok := batched[id]; ok {
				return d, true, nil
			}
			d, ok, err := g.GetContract(ctx, id)
			if err != nil {
				curErr = err
			}
			return d, ok, err
		}
		docs, recs, err := r.Build(env, current)
		if curErr != nil {
			// Built on a failed read, whatever Build made of it: retry.
			return after, fmt.Errorf("search runner: read index while building %s@%d: %w", env.Type, env.Position, curErr)
		}
		if err != nil {
			r.skipped.Add(1)
			r.logger().Error("search runner: event skipped: build failed", "type", env.Type, "stream", env.Stream, "position", env.Position, "err", err)
			pos = env.Position
			continue
		}
		for _, d := range docs {
			if _, ok := batched[d.ID]; !ok {
				order = append(order, d.ID)
			}
			if old, ok := batched[d.ID]; !ok || d.Version >= old.Version {
				batched[d.ID] = d
			}
		}
		audit = append(audit, recs...)
		pos = env.Position
	}
	if pos == after {
		return after, nil
	}
	b := Batch{Audit: audit, Checkpoint: &Checkpoint{Name: r.name(), Position: pos}}
	for _, id := range order {
		b.Contracts = append(b.Contracts, batched[id])
	}
	if err := g.Write(ctx, b); err != nil {
		return after, err
	}
	return pos, nil
}

// Rebuild fills a fresh generation from position 0 while the live one keeps
// answering (and the live loop keeps applying to it), then, holding the live
// loop, applies the events that arrived meanwhile and commits. progress, if
// set, is called after every batch with the position reached and the log's
// head when the rebuild started (positions, not counts: they may have gaps).
func (r *Runner) Rebuild(ctx context.Context, progress func(done, total uint64)) (RebuildStats, error) {
	start := time.Now()
	head, err := r.Log.Head(ctx)
	if err != nil {
		return RebuildStats{}, fmt.Errorf("search runner: read head: %w", err)
	}
	rb, err := r.Index.BeginRebuild(ctx)
	if err != nil {
		return RebuildStats{}, err
	}
	committed := false
	defer func() {
		if !committed {
			rb.Abort(context.WithoutCancel(ctx))
		}
	}()
	report := func(pos uint64) {
		if progress != nil {
			progress(pos, max(head, pos))
		}
	}
	pos, n, err := r.drain(ctx, rb, 0, report)
	if err != nil {
		return RebuildStats{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	pos, m, err := r.drain(ctx, rb, pos, report)
	if err != nil {
		return RebuildStats{}, err
	}
	n += m
	if err := rb.Commit(ctx); err != nil {
		return RebuildStats{}, fmt.Errorf("search runner: commit rebuild: %w", err)
	}
	committed = true
	r.loaded = true
	r.advance(pos)
	el := time.Since(start)
	st := RebuildStats{Events: n, Position: pos, Elapsed: el}
	if el > 0 {
		st.PerSecond = float64(n) / el.Seconds()
	}
	return st, nil
}

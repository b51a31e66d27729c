package commands

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"signet/domain/batch"
	"signet/domain/contract"
	"signet/domain/event"
	"signet/domain/fault"
)

// RunningBatches lists the batches being sent (a read model; it may lag or
// repeat, which is harmless: each batch's stream decides).
type RunningBatches interface {
	Running(ctx context.Context) ([]string, error)
}

// BatchRunner is the process manager of batch sending: it sends the rows
// of every running batch through the same send command as a single
// contract, and records each row's outcome on the batch's stream, in
// chunks. Each row's contract ID derives from the batch and the row, so a
// row sent twice (after a crash, or by two processes at once) is one
// contract; a restarted runner skips the rows with an outcome and records
// the contracts of rows sent but not recorded. A cancelled batch sends no
// row after its cancellation is seen (at once in this process, within a
// flush, about 0.2 s, from another); a batch whose quota runs out pauses
// until it is resumed.
type BatchRunner struct {
	Running RunningBatches
	Batches BatchCommands
	// Workers is how many rows are sent at once, over all batches (default 4).
	Workers int
	// Interval is how often Running is asked (default 2 s); batches
	// started, resumed or cancelled in this process are acted on at once.
	Interval time.Duration
	Logger   *slog.Logger
}

// Chunking of row outcomes: at most this many per append, and at least
// one append this often while rows are sent.
const (
	batchChunk = 50
	batchFlush = 200 * time.Millisecond
)

// Run sends rows until ctx ends, then waits for the rows in flight.
func (r BatchRunner) Run(ctx context.Context) {
	core := r.Batches.core
	workers := r.Workers
	if workers <= 0 {
		workers = 4
	}
	every := r.Interval
	if every <= 0 {
		every = 2 * time.Second
	}
	log := r.Logger
	if log == nil {
		log = slog.Default()
	}
	sem := make(chan struct{}, workers)
	active := map[string]*batchRun{}
	// ended are the batches seen completed or cancelled: the read model
	// may list them a while longer.
	ended := map[string]bool{}
	done := make(chan *batchRun)
	// launch runs a batch unless it runs; told by a command of this
	// process, a running batch looks at its stream again (a cancellation).
	launch := func(id string, told bool) {
		if ru, ok := active[id]; ok {
			if told {
				ru.poke()
			}
			return
		}
		if ended[id] {
			return
		}
		ru := &batchRun{id: id, core: core, sem: sem, workers: workers, log: log, poked: make(chan struct{}, 1)}
		active[id] = ru
		go func() {
			if err := ru.run(ctx); err != nil && ctx.Err() == nil {
				log.Warn("batch stopped; it goes on at the next poll", "batch", id, "err", err)
			}
			done <- ru
		}()
	}
	poll := func() {
		ids, err := r.Running.Running(ctx)
		if err != nil {
			if ctx.Err() == nil {
				log.Warn("listing running batches", "err", err)
			}
			return
		}
		for _, id := range ids {
			launch(id, false)
		}
	}
	t := time.NewTicker(every)
	defer t.Stop()
	poll()
	for {
		select {
		case <-ctx.Done():
			for len(active) > 0 {
				delete(active, (<-done).id)
			}
			return
		case id := <-core.wake:
			launch(id, true)
		case ru := <-done:
			delete(active, ru.id)
			if ru.ended {
				ended[ru.id] = true
			}
			if ru.pokedLate.Load() {
				launch(ru.id, false)
			}
		case <-t.C:
			poll()
		}
	}
}

// batchRun sends one batch's pending rows once.
type batchRun struct {
	id      string
	core    *batches
	sem     chan struct{}
	workers int
	log     *slog.Logger

	poked     chan struct{}
	pokedLate atomic.Bool // poked after it stopped looking
	stop      atomic.Bool
	ended     bool // the batch was seen completed or cancelled
}

func (ru *batchRun) poke() {
	ru.pokedLate.Store(true)
	select {
	case ru.poked <- struct{}{}:
	default:
	}
}

type rowResult struct {
	out   batch.Outcome
	pause *fault.Error // the quota ran out: the row stays pending
	err   error        // a failure of ours: the row stays pending
}

func (ru *batchRun) run(ctx context.Context) error {
	ru.pokedLate.Store(false)
	b, err := ru.core.load(ctx, ru.id)
	if err != nil {
		return err
	}
	defer func() { ru.ended = b.Status() == batch.StatusCompleted || b.Status() == batch.StatusCancelled }()
	if b.CheckSend() != nil {
		return nil
	}
	c := b.Checked()
	rows, err := ru.core.rows(ctx, c.RowsSHA256)
	if err != nil {
		return err
	}
	if len(rows) != b.Count() {
		return fmt.Errorf("batch %s: %d rows stored, %d to send", ru.id, len(rows), b.Count())
	}
	pending := b.Pending()
	jobs := make(chan int)
	results := make(chan rowResult, ru.workers)
	go func() {
		defer close(jobs)
		for _, i := range pending {
			if ru.stop.Load() {
				return
			}
			select {
			case jobs <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for range ru.workers {
		wg.Go(func() {
			for i := range jobs {
				if res, ok := ru.sendRow(ctx, c, rows[i], i); ok {
					results <- res
				}
			}
		})
	}
	go func() {
		wg.Wait()
		close(results)
	}()

	var (
		buf       []batch.Outcome
		pause     *fault.Error
		failure   error // of a row: it stays pending
		unrecords error // of recording: the rows' contracts are found next time
	)
	flush := func() {
		if len(buf) == 0 || unrecords != nil {
			return
		}
		if b, err = ru.record(ctx, b, buf); err != nil {
			unrecords = err
			ru.stop.Store(true)
		}
		buf = buf[:0]
	}
	tick := time.NewTicker(batchFlush)
	defer tick.Stop()
	for open := true; open; {
		select {
		case res, ok := <-results:
			switch {
			case !ok:
				open = false
			case res.err != nil:
				failure = cmp.Or(failure, res.err)
				ru.stop.Store(true)
			case res.pause != nil:
				pause = res.pause
				ru.stop.Store(true)
			default:
				buf = append(buf, res.out)
				if len(buf) >= batchChunk {
					flush()
				}
			}
		case <-tick.C:
			flush()
		case <-ru.poked:
			// A command of this process changed the batch (a cancellation).
			ru.pokedLate.Store(false)
			if nb, err := ru.core.load(ctx, ru.id); err == nil && nb.CheckSend() != nil {
				ru.stop.Store(true)
			}
		}
	}
	flush()
	if err := cmp.Or(unrecords, failure); err != nil {
		return err
	}
	if pause != nil && b.Status() == batch.StatusRunning {
		msg := fmt.Sprintf("%d of %d rows sent; the quota ran out (%s) Get more contracts granted, then resume the batch.", b.Sent(), b.Count(), pause.Message)
		_, err := ru.core.decide(ctx, Actor{AccountID: c.Sender.AccountID, CorrelationID: ru.id}, ru.id, func(bt *batch.Batch, now time.Time) ([]batch.Event, error) {
			return bt.Pause(batch.PausedQuotaExhausted, msg, now)
		})
		return err
	}
	return nil
}

// sendRow sends row i unless the batch was stopped; ok is false when it
// was not sent.
func (ru *batchRun) sendRow(ctx context.Context, c batch.SheetChecked, row batch.Row, i int) (rowResult, bool) {
	if ru.stop.Load() {
		return rowResult{}, false
	}
	select {
	case ru.sem <- struct{}{}:
	case <-ctx.Done():
		return rowResult{}, false
	}
	defer func() { <-ru.sem }()
	if ru.stop.Load() {
		return rowResult{}, false
	}
	cmd := SendContract{
		Actor:        Actor{AccountID: c.Sender.AccountID, CorrelationID: ru.id},
		EnterpriseID: c.Sender.EnterpriseID, TemplateID: c.TemplateID,
		Title: row.Title, Parties: row.Parties, Values: row.Values, SigningDeadline: row.SigningDeadline, ExpiresAt: row.ExpiresAt,
		ContractID: batch.RowContractID(ru.id, i),
	}
	var (
		res SendContractResult
		err error
	)
	for attempt := 0; attempt < 3; attempt++ {
		res, err = ru.core.send.Handle(ctx, cmd)
		if !errors.Is(err, event.ErrConcurrency) {
			break
		}
	}
	if err == nil {
		status := batch.SentSigning
		if res.Status == contract.StatusPendingApproval {
			status = batch.SentAwaitingApproval
		}
		return rowResult{out: batch.Outcome{Index: i, Line: row.Line, ContractID: res.ContractID, Number: res.Number, Status: status}}, true
	}
	f, refused := fault.As(err)
	switch {
	case !refused || f.Kind == fault.Unavailable || errors.Is(err, event.ErrConcurrency):
		return rowResult{err: fmt.Errorf("row %d (line %d): %w", i, row.Line, err)}, true
	case f.Code == "quota_exhausted":
		return rowResult{pause: f}, true
	}
	return rowResult{out: batch.Outcome{Index: i, Line: row.Line, Code: f.Code, Message: f.Message}}, true
}

// record appends outcomes at the batch's version, deciding again on the
// batch as it is after a concurrent change; it returns the batch as
// recorded. A batch that stopped running stops the run.
func (ru *batchRun) record(ctx context.Context, b *batch.Batch, outs []batch.Outcome) (*batch.Batch, error) {
	meta := Actor{AccountID: b.Checked().Sender.AccountID, CorrelationID: ru.id}
	for attempt := 1; ; attempt++ {
		now := ru.core.c.clock.Now()
		evs, err := b.Record(outs, now)
		if err != nil {
			return b, err
		}
		_, err = appendEvents(ctx, ru.core.c.events, ru.core.c.ids, batch.StreamOf(ru.id), event.Exactly(b.Version()), batch.NewEvent, evs,
			meta.meta(now, b.Checked().Sender.EnterpriseID))
		if errors.Is(err, event.ErrConcurrency) && attempt < 10 {
			if b, err = ru.core.load(ctx, ru.id); err != nil {
				return b, err
			}
			if b.CheckSend() != nil {
				ru.stop.Store(true)
			}
			continue
		}
		if err != nil {
			return b, err
		}
		for _, e := range evs {
			if err := b.Apply(e); err != nil {
				return b, err
			}
		}
		if b.CheckSend() != nil {
			ru.stop.Store(true)
		}
		return b, nil
	}
}

// rows reads a batch's valid rows (JSON lines).
func (b *batches) rows(ctx context.Context, sha string) ([]batch.Row, error) {
	data, _, err := b.blobs.Get(ctx, sha)
	if err != nil {
		return nil, fmt.Errorf("read batch rows %s: %w", sha, err)
	}
	var rows []batch.Row
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for sc.Scan() {
		var r batch.Row
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("batch rows %s, line %d: %w", sha, len(rows)+1, err)
		}
		rows = append(rows, r)
	}
	return rows, sc.Err()
}

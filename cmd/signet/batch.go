package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"

	"signet/commands"
	"signet/domain/batch"
	"signet/domain/event"
	"signet/infra/eventstore"
	"signet/projections/batches"
)

// batchRunner sends the rows of running batches (found in the batches read
// model, or told by this process's commands).
func (a *app) batchRunner() commands.BatchRunner {
	return commands.BatchRunner{Running: batches.Reader{DB: a.redis}, Batches: a.cmds.Batches, Logger: a.log}
}

const batchUsage = `Usage:
  signet batch status <batch-id> [--watch] [--interval 1s]
        a batch's progress, read from the event store (no read side needed):
        sent, failed and remaining rows, rows per second, time left;
        --watch refreshes until the batch is completed or cancelled
`

// runBatch is `signet batch ...`.
func runBatch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "status" {
		fmt.Fprint(stderr, batchUsage)
		return errors.New("say status")
	}
	var cfg config
	fs := flag.NewFlagSet("batch status", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.flags(fs, false)
	watch := fs.Bool("watch", false, "refresh until the batch is completed or cancelled")
	every := fs.Duration("interval", time.Second, "how often --watch refreshes")
	rest := args[1:]
	var id string
	if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		id, rest = rest[0], rest[1:]
	}
	if err := fs.Parse(rest); err != nil {
		return err
	}
	if id == "" && fs.NArg() == 1 {
		id = fs.Arg(0)
	} else if fs.NArg() > 0 || id == "" {
		fmt.Fprint(stderr, batchUsage)
		return errors.New("give one batch ID")
	}
	store, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	w := &batchWatch{store: store, id: id}
	if err := w.refresh(ctx); err != nil {
		return err
	}
	if !*watch {
		bar := w.bar(io.Discard)
		w.draw(bar, time.Now())
		fmt.Fprintln(stdout, strings.TrimSpace(bar.String()))
		fmt.Fprintln(stdout, w.summary(time.Now()))
		return nil
	}
	bar := w.bar(stderr)
	t := time.NewTicker(*every)
	defer t.Stop()
	for {
		w.draw(bar, time.Now())
		if s := w.b.Status(); s == batch.StatusCompleted || s == batch.StatusCancelled {
			_ = bar.Finish()
			fmt.Fprintln(stderr)
			fmt.Fprintln(stdout, w.summary(time.Now()))
			return nil
		}
		select {
		case <-ctx.Done():
			fmt.Fprintln(stderr)
			return nil
		case <-t.C:
		}
		if err := w.refresh(ctx); err != nil {
			return err
		}
	}
}

// batchWatch follows a batch's stream, reading only what is new.
type batchWatch struct {
	store eventstore.Store
	id    string
	b     *batch.Batch
	done  []time.Time // when each row got its outcome
}

func (w *batchWatch) refresh(ctx context.Context) error {
	if w.b == nil {
		w.b = batch.New()
	}
	envs, err := w.store.ReadStream(ctx, batch.StreamOf(w.id), w.b.Version()+1, event.Forwards, 0)
	if errors.Is(err, event.ErrNotFound) && w.b.Exists() {
		return nil
	}
	if errors.Is(err, event.ErrNotFound) {
		return fmt.Errorf("there is no batch %s in this event store", w.id)
	}
	if err != nil {
		return err
	}
	for _, env := range envs {
		e, err := batch.DecodeEnvelope(env)
		if err != nil {
			return err
		}
		if err := w.b.Apply(e); err != nil {
			return err
		}
		switch e := e.(type) {
		case batch.RowSent:
			w.done = append(w.done, e.SentAt)
		case batch.RowFailed:
			w.done = append(w.done, e.FailedAt)
		}
	}
	return nil
}

// rate is rows per second: over the last minute while the batch runs,
// over the whole run once it stopped.
func (w *batchWatch) rate(now time.Time) float64 {
	st, ok := w.b.Started()
	if !ok || len(w.done) == 0 {
		return 0
	}
	if w.b.Status() != batch.StatusRunning {
		if secs := w.done[len(w.done)-1].Sub(st.StartedAt).Seconds(); secs > 0 {
			return float64(len(w.done)) / secs
		}
		return 0
	}
	since := now.Add(-time.Minute)
	if st.StartedAt.After(since) {
		since = st.StartedAt
	}
	n := 0
	for i := len(w.done) - 1; i >= 0 && w.done[i].After(since); i-- {
		n++
	}
	return float64(n) / max(1, now.Sub(since).Seconds())
}

func (w *batchWatch) bar(out io.Writer) *progressbar.ProgressBar {
	return progressbar.NewOptions64(int64(max(1, w.b.Count())), progressbar.OptionSetWriter(out),
		progressbar.OptionSetDescription("batch "+w.id[:min(8, len(w.id))]), progressbar.OptionShowCount(), progressbar.OptionSetWidth(30),
		progressbar.OptionShowDescriptionAtLineEnd(), progressbar.OptionSetRenderBlankState(true), progressbar.OptionSetPredictTime(false))
}

func (w *batchWatch) draw(bar *progressbar.ProgressBar, now time.Time) {
	if w.b.Count() > 0 {
		bar.ChangeMax64(int64(w.b.Count()))
	}
	bar.Describe(w.line(now))
	_ = bar.Set64(int64(w.b.Sent() + w.b.Failed()))
}

// line is the bar's description: where the batch stands.
func (w *batchWatch) line(now time.Time) string {
	b := w.b
	s := fmt.Sprintf("%s · %d sent, %d failed, %d left", b.Status(), b.Sent(), b.Failed(), b.Remaining())
	if r := w.rate(now); r > 0 {
		s += fmt.Sprintf(" · %.1f rows/s", r)
		if b.Status() == batch.StatusRunning {
			s += " · about " + (time.Duration(float64(b.Remaining())/r) * time.Second).Round(time.Second).String() + " left"
		}
	}
	if p, ok := b.Paused(); ok {
		s += " · paused: " + p.Message
	}
	return s
}

func (w *batchWatch) summary(now time.Time) string {
	c := w.b.Checked()
	head := fmt.Sprintf("batch %s (%s, %d rows: %d valid, %d bad)", w.id, c.FileName, c.Total, c.Valid, c.Invalid)
	if w.b.Status() == batch.StatusChecked {
		return head + ": checked, not started"
	}
	return head + ": " + w.line(now)
}

package batches_test

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"

	"signet/domain/batch"
	"signet/domain/event"
	"signet/infra/eventstore/sqlite"
	"signet/infra/projector"
	"signet/infra/redisdb/redistest"
	"signet/projections"
	"signet/projections/batches"
)

var (
	ctx = context.Background()
	t0  = time.Date(2026, 11, 30, 2, 0, 0, 0, time.UTC)
)

type world struct {
	t      *testing.T
	store  *sqlite.Store
	runner *projector.Runner
	reader batches.Reader
	now    time.Time
}

func newWorld(t *testing.T) *world {
	t.Helper()
	store, err := sqlite.Open(filepath.Join(t.TempDir(), "events.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	db := redistest.New(t)
	runner, err := projector.New(db, store, []projections.Projection{batches.Projection{}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, store: store, runner: runner, now: t0}
	w.reader = batches.Reader{DB: db, Now: func() time.Time { return w.now }}
	return w
}

func (w *world) add(id string, evs ...batch.Event) {
	w.t.Helper()
	for _, ev := range evs {
		n, err := batch.NewEvent(uuid.NewString(), ev, event.Metadata{OccurredAt: t0})
		if err != nil {
			w.t.Fatal(err)
		}
		if _, err := w.store.Append(ctx, batch.StreamOf(id), event.Any, n); err != nil {
			w.t.Fatal(err)
		}
	}
	if err := w.runner.CatchUp(ctx, batches.Name, nil); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) progress(id string) batches.Progress {
	w.t.Helper()
	p, err := w.reader.Progress(ctx, id)
	if err != nil {
		w.t.Fatal(err)
	}
	return p
}

func checked(id, account, ent string, valid, invalid int) batch.SheetChecked {
	c := batch.SheetChecked{BatchID: id, TemplateID: "tpl", TemplateVersion: 4, Sender: batch.Sender{AccountID: account, EnterpriseID: ent},
		FileName: "a.xlsx", Format: "xlsx", SheetSHA256: "s", RowsSHA256: "r", ReportSHA256: "p", Total: valid + invalid, Valid: valid, Invalid: invalid, CheckedAt: t0}
	if invalid > 0 {
		c.ErrorSheetSHA256 = "e"
	}
	return c
}

func sent(id string, i int, at time.Time) batch.RowSent {
	return batch.RowSent{Line: i + 3, Index: i, ContractID: batch.RowContractID(id, i), Number: "HT", Status: batch.SentSigning, SentAt: at}
}

func TestProgress(t *testing.T) {
	w := newWorld(t)
	id := uuid.NewString()
	w.add(id, checked(id, "acct", "ent", 100, 2))
	p := w.progress(id)
	if p.Status != "checked" || p.Sheet != (batches.SheetCount{Total: 102, Valid: 100, Invalid: 2}) || p.Total != 0 || p.Rate != 0 || p.ETASeconds != nil ||
		p.Sender != (batches.Sender{AccountID: "acct", EnterpriseID: "ent"}) || p.TemplateVersion != 4 || !p.CheckedAt.Equal(t0) {
		t.Fatalf("checked: %+v", p)
	}
	w.add(id, batch.BatchStarted{Rows: batch.RowsValid, Count: 100, StartedBy: "acct", StartedAt: t0})
	if running, _ := w.reader.Running(ctx); !reflect.DeepEqual(running, []string{id}) {
		t.Fatalf("running %v", running)
	}
	// 30 rows in the first 30 seconds, one failed.
	for i := range 29 {
		w.add(id, sent(id, i, t0.Add(time.Duration(i+1)*time.Second)))
	}
	w.add(id, batch.RowFailed{Line: 40, Index: 29, Code: "deadline_passed", Message: "late", FailedAt: t0.Add(30 * time.Second)})
	w.now = t0.Add(30 * time.Second)
	p = w.progress(id)
	if p.Status != "running" || p.Total != 100 || p.Sent != 29 || p.Failed != 1 || p.Remaining != 70 || p.Rows != "valid" {
		t.Fatalf("running: %+v", p)
	}
	if p.Rate < 0.9 || p.Rate > 1.1 || p.ETASeconds == nil || *p.ETASeconds < 60 || *p.ETASeconds > 80 {
		t.Fatalf("rate %.2f rows/s, eta %v", p.Rate, p.ETASeconds)
	}
	// Two minutes later with nothing new, the rate of the last minute is 0.
	w.now = t0.Add(150 * time.Second)
	if p = w.progress(id); p.Rate != 0 || p.ETASeconds != nil {
		t.Fatalf("idle: rate %.2f eta %v", p.Rate, p.ETASeconds)
	}
	w.add(id, batch.BatchPaused{Reason: batch.PausedQuotaExhausted, Message: "no quota", PausedAt: t0.Add(31 * time.Second)})
	p = w.progress(id)
	if p.Status != "paused" || p.Pause == nil || p.Pause.Reason != batch.PausedQuotaExhausted {
		t.Fatalf("paused: %+v", p)
	}
	if running, _ := w.reader.Running(ctx); len(running) != 0 {
		t.Fatalf("running while paused: %v", running)
	}
	w.add(id, batch.BatchResumed{By: "acct", At: t0.Add(time.Minute)})
	if p = w.progress(id); p.Status != "running" || p.Pause != nil {
		t.Fatalf("resumed: %+v", p)
	}
	for i := 30; i < 100; i++ {
		w.add(id, sent(id, i, t0.Add(time.Duration(i+40)*time.Second)))
	}
	w.add(id, batch.BatchCompleted{Sent: 99, Failed: 1, At: t0.Add(140 * time.Second)})
	p = w.progress(id)
	if p.Status != "completed" || p.Remaining != 0 || p.Sent != 99 || p.EndedAt == nil || p.Rate < 0.7 || p.Rate > 0.75 {
		t.Fatalf("completed: %+v", p)
	}
	if running, _ := w.reader.Running(ctx); len(running) != 0 {
		t.Fatalf("running after completion: %v", running)
	}
}

func TestAccessAndLists(t *testing.T) {
	w := newWorld(t)
	a, b, c := uuid.NewString(), uuid.NewString(), uuid.NewString()
	w.add(a, checked(a, "alice", "ent1", 1, 0))
	w.add(b, checked(b, "alice", "", 1, 0))
	bc := checked(c, "bob", "ent1", 1, 0)
	bc.CheckedAt = t0.Add(time.Hour)
	w.add(c, bc)
	for _, tc := range []struct {
		id     string
		caller batches.Caller
		want   error
	}{
		{a, batches.Caller{AccountID: "alice"}, nil},
		{c, batches.Caller{AccountID: "alice"}, batches.ErrNotYours},
		{c, batches.Caller{AccountID: "carol", AdminOf: []string{"ent1"}}, nil},
		{b, batches.Caller{AccountID: "carol", AdminOf: []string{"ent1"}}, batches.ErrNotYours},
		{uuid.NewString(), batches.Caller{AccountID: "alice"}, batches.ErrNotFound},
		{"bad:id", batches.Caller{AccountID: "alice"}, batches.ErrNotFound},
	} {
		if err := w.reader.Access(ctx, tc.id, tc.caller); err != tc.want {
			t.Errorf("%s for %+v: %v, want %v", tc.id, tc.caller, err, tc.want)
		}
	}
	list := func(c batches.Caller) []string {
		ps, err := w.reader.List(ctx, c, 10)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, p := range ps {
			ids = append(ids, p.ID)
		}
		return ids
	}
	if got := list(batches.Caller{AccountID: "alice"}); len(got) != 2 || !contains(got, a) || !contains(got, b) {
		t.Fatalf("alice's %v", got)
	}
	if got := list(batches.Caller{AccountID: "carol", AdminOf: []string{"ent1"}}); !reflect.DeepEqual(got, []string{c, a}) {
		t.Fatalf("admin's %v, want newest first %v", got, []string{c, a})
	}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

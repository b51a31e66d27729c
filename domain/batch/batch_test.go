package batch

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"signet/domain/event"
	"signet/domain/fault"
)

var t0 = time.Date(2026, 11, 30, 2, 0, 0, 0, time.UTC)

const batchID = "0190f0a4-8a77-7c3e-9a55-3a7d3e1f0001"

func checked(valid, invalid int) SheetChecked {
	c := SheetChecked{BatchID: batchID, TemplateID: "tpl", TemplateVersion: 7, Sender: Sender{AccountID: "acct", EnterpriseID: "ent"},
		FileName: "批量.xlsx", Format: "xlsx", SheetSHA256: "s", RowsSHA256: "r", ReportSHA256: "p",
		Total: valid + invalid, Valid: valid, Invalid: invalid, CheckedAt: t0}
	if invalid > 0 {
		c.ErrorSheetSHA256 = "e"
	}
	return c
}

func started(n int) BatchStarted {
	return BatchStarted{Rows: RowsValid, Count: n, StartedBy: "acct", StartedAt: t0}
}

func sent(i int) RowSent {
	return RowSent{Line: i + 3, Index: i, ContractID: RowContractID(batchID, i), Number: "HT-" + string(rune('A'+i)), Status: SentSigning, SentAt: t0}
}

func rowOut(i int) Outcome {
	return Outcome{Index: i, Line: i + 3, ContractID: RowContractID(batchID, i), Number: "HT-" + string(rune('A'+i)), Status: SentSigning}
}

func given(t *testing.T, evs ...Event) *Batch {
	t.Helper()
	b := New()
	for _, e := range evs {
		if err := b.Apply(e); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

func code(err error) string {
	if f, ok := fault.As(err); ok {
		return f.Code
	}
	if err != nil {
		return "error"
	}
	return ""
}

func TestDecisions(t *testing.T) {
	at := t0.Add(time.Minute)
	cases := []struct {
		name  string
		given []Event
		do    func(b *Batch) ([]Event, error)
		want  []Event
		code  string
	}{
		{"check opens", nil, func(b *Batch) ([]Event, error) { return b.Check(checked(3, 1)) }, []Event{checked(3, 1)}, ""},
		{"check twice", []Event{checked(3, 0)}, func(b *Batch) ([]Event, error) { return b.Check(checked(3, 0)) }, nil, "batch_exists"},
		{"check with wrong counts", nil, func(b *Batch) ([]Event, error) {
			c := checked(3, 0)
			c.Total = 4
			return b.Check(c)
		}, nil, "error"},
		{"check too many rows", nil, func(b *Batch) ([]Event, error) { return b.Check(checked(MaxRows+1, 0)) }, nil, "too_many_rows"},

		{"start valid rows", []Event{checked(3, 1)}, func(b *Batch) ([]Event, error) { return b.Start(RowsValid, "acct", 7, at) },
			[]Event{BatchStarted{Rows: RowsValid, Count: 3, StartedBy: "acct", StartedAt: at}}, ""},
		{"start all without errors", []Event{checked(3, 0)}, func(b *Batch) ([]Event, error) { return b.Start(RowsAll, "admin", 7, at) },
			[]Event{BatchStarted{Rows: RowsAll, Count: 3, StartedBy: "admin", StartedAt: at}}, ""},
		{"start all with bad rows", []Event{checked(3, 1)}, func(b *Batch) ([]Event, error) { return b.Start(RowsAll, "acct", 7, at) }, nil, "sheet_has_errors"},
		{"start what", []Event{checked(3, 0)}, func(b *Batch) ([]Event, error) { return b.Start("some", "acct", 7, at) }, nil, "invalid_rows"},
		{"start without valid rows", []Event{checked(0, 2)}, func(b *Batch) ([]Event, error) { return b.Start(RowsValid, "acct", 7, at) }, nil, "no_valid_rows"},
		{"start after the template changed", []Event{checked(3, 0)}, func(b *Batch) ([]Event, error) { return b.Start(RowsValid, "acct", 8, at) }, nil, "template_changed"},
		{"start twice", []Event{checked(3, 0), started(3)}, func(b *Batch) ([]Event, error) { return b.Start(RowsValid, "acct", 7, at) }, nil, "batch_started"},
		{"start after cancel", []Event{checked(3, 0), BatchCancelled{By: "acct", At: t0}}, func(b *Batch) ([]Event, error) { return b.Start(RowsValid, "acct", 7, at) }, nil, "batch_cancelled"},
		{"start unknown", nil, func(b *Batch) ([]Event, error) { return b.Start(RowsValid, "acct", 7, at) }, nil, "batch_not_found"},

		{"record a row", []Event{checked(3, 0), started(3)}, func(b *Batch) ([]Event, error) { return b.Record([]Outcome{rowOut(1)}, t0) },
			[]Event{sent(1)}, ""},
		{"record a failure", []Event{checked(3, 0), started(3)}, func(b *Batch) ([]Event, error) {
			return b.Record([]Outcome{{Index: 2, Line: 5, Code: "deadline_passed", Message: "late"}}, at)
		}, []Event{RowFailed{Line: 5, Index: 2, Code: "deadline_passed", Message: "late", FailedAt: at}}, ""},
		{"record the same row again is a no-op", []Event{checked(3, 0), started(3), sent(1)}, func(b *Batch) ([]Event, error) {
			return b.Record([]Outcome{rowOut(1)}, t0)
		}, nil, ""},
		{"record the same row twice in one go", []Event{checked(3, 0), started(3)}, func(b *Batch) ([]Event, error) {
			return b.Record([]Outcome{rowOut(1), rowOut(1)}, t0)
		}, []Event{sent(1)}, ""},
		{"record a failed row failing again is a no-op", []Event{checked(3, 0), started(3), RowFailed{Index: 0, Line: 3, Code: "x", Message: "x", FailedAt: t0}}, func(b *Batch) ([]Event, error) {
			return b.Record([]Outcome{{Index: 0, Line: 3, Code: "x", Message: "x"}}, t0)
		}, nil, ""},
		{"record another contract for a row", []Event{checked(3, 0), started(3), sent(1)}, func(b *Batch) ([]Event, error) {
			o := rowOut(1)
			o.ContractID = RowContractID(batchID, 9)
			return b.Record([]Outcome{o}, t0)
		}, nil, "row_recorded"},
		{"record a failure of a sent row", []Event{checked(3, 0), started(3), sent(1)}, func(b *Batch) ([]Event, error) {
			return b.Record([]Outcome{{Index: 1, Line: 4, Code: "x", Message: "x"}}, t0)
		}, nil, "row_recorded"},
		{"record a row out of range", []Event{checked(3, 0), started(3)}, func(b *Batch) ([]Event, error) { return b.Record([]Outcome{rowOut(3)}, t0) }, nil, "error"},
		{"record before start", []Event{checked(3, 0)}, func(b *Batch) ([]Event, error) { return b.Record([]Outcome{rowOut(0)}, t0) }, nil, "batch_not_running"},
		{"the last row completes", []Event{checked(3, 0), started(3), sent(0), RowFailed{Index: 2, Line: 5, Code: "x", Message: "x", FailedAt: t0}},
			func(b *Batch) ([]Event, error) { return b.Record([]Outcome{rowOut(1)}, at) },
			[]Event{RowSent{Line: 4, Index: 1, ContractID: RowContractID(batchID, 1), Number: "HT-B", Status: SentSigning, SentAt: at}, BatchCompleted{Sent: 2, Failed: 1, At: at}}, ""},
		{"in flight rows are recorded after a cancel, without completing", []Event{checked(2, 0), started(2), sent(0), BatchCancelled{By: "acct", At: t0}},
			func(b *Batch) ([]Event, error) { return b.Record([]Outcome{rowOut(1)}, t0) }, []Event{sent(1)}, ""},
		{"in flight rows complete a paused batch", []Event{checked(2, 0), started(2), sent(0), BatchPaused{Reason: PausedQuotaExhausted, PausedAt: t0}},
			func(b *Batch) ([]Event, error) { return b.Record([]Outcome{rowOut(1)}, t0) }, []Event{sent(1), BatchCompleted{Sent: 2, At: t0}}, ""},
		{"record after completion", []Event{checked(1, 0), started(1), sent(0), BatchCompleted{Sent: 1, At: t0}},
			func(b *Batch) ([]Event, error) { return b.Record([]Outcome{rowOut(0)}, t0) }, nil, "batch_not_running"},

		{"pause", []Event{checked(3, 0), started(3)}, func(b *Batch) ([]Event, error) { return b.Pause(PausedQuotaExhausted, "no quota", at) },
			[]Event{BatchPaused{Reason: PausedQuotaExhausted, Message: "no quota", PausedAt: at}}, ""},
		{"pause a cancelled batch", []Event{checked(3, 0), started(3), BatchCancelled{By: "acct", At: t0}}, func(b *Batch) ([]Event, error) {
			return b.Pause(PausedQuotaExhausted, "no quota", at)
		}, nil, ""},
		{"resume", []Event{checked(3, 0), started(3), BatchPaused{Reason: PausedQuotaExhausted, PausedAt: t0}}, func(b *Batch) ([]Event, error) { return b.Resume("acct", at) },
			[]Event{BatchResumed{By: "acct", At: at}}, ""},
		{"resume a running batch", []Event{checked(3, 0), started(3)}, func(b *Batch) ([]Event, error) { return b.Resume("acct", at) }, nil, ""},
		{"resume before start", []Event{checked(3, 0)}, func(b *Batch) ([]Event, error) { return b.Resume("acct", at) }, nil, "batch_not_started"},
		{"resume a cancelled batch", []Event{checked(3, 0), started(3), BatchCancelled{By: "acct", At: t0}}, func(b *Batch) ([]Event, error) { return b.Resume("acct", at) }, nil, "batch_ended"},

		{"cancel a running batch", []Event{checked(3, 0), started(3), sent(0)}, func(b *Batch) ([]Event, error) { return b.Cancel("admin", at) },
			[]Event{BatchCancelled{By: "admin", At: at}}, ""},
		{"cancel before start", []Event{checked(3, 0)}, func(b *Batch) ([]Event, error) { return b.Cancel("acct", at) }, []Event{BatchCancelled{By: "acct", At: at}}, ""},
		{"cancel twice", []Event{checked(3, 0), BatchCancelled{By: "acct", At: t0}}, func(b *Batch) ([]Event, error) { return b.Cancel("acct", at) }, nil, ""},
		{"cancel a completed batch", []Event{checked(1, 0), started(1), sent(0), BatchCompleted{Sent: 1, At: t0}}, func(b *Batch) ([]Event, error) { return b.Cancel("acct", at) }, nil, "batch_completed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := given(t, c.given...)
			got, err := c.do(b)
			if code(err) != c.code {
				t.Fatalf("error %v, want %q", err, c.code)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("events\n got %#v\nwant %#v", got, c.want)
			}
			for _, e := range got {
				if err := b.Apply(e); err != nil {
					t.Fatalf("decided event does not apply: %v", err)
				}
			}
		})
	}
}

func TestCheckSend(t *testing.T) {
	cases := []struct {
		name  string
		given []Event
		code  string
	}{
		{"running", []Event{checked(3, 0), started(3), sent(1)}, ""},
		{"resumed", []Event{checked(3, 0), started(3), BatchPaused{Reason: PausedQuotaExhausted, PausedAt: t0}, BatchResumed{By: "acct", At: t0}}, ""},
		{"not started", []Event{checked(3, 0)}, "batch_not_running"},
		{"after cancel", []Event{checked(3, 0), started(3), BatchCancelled{By: "acct", At: t0}}, "batch_not_running"},
		{"while paused", []Event{checked(3, 0), started(3), BatchPaused{Reason: PausedQuotaExhausted, PausedAt: t0}}, "batch_not_running"},
		{"completed", []Event{checked(1, 0), started(1), sent(0), BatchCompleted{Sent: 1, At: t0}}, "batch_not_running"},
		{"no batch", nil, "batch_not_found"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := code(given(t, c.given...).CheckSend()); got != c.code {
				t.Fatalf("got %q, want %q", got, c.code)
			}
		})
	}
}

func TestProgressAndPending(t *testing.T) {
	b := given(t, checked(4, 1), started(4), sent(0), sent(2), RowFailed{Index: 3, Line: 6, Code: "x", Message: "x", FailedAt: t0}, sent(2))
	if b.Sent() != 2 || b.Failed() != 1 || b.Remaining() != 1 || b.Count() != 4 {
		t.Fatalf("sent %d failed %d remaining %d of %d", b.Sent(), b.Failed(), b.Remaining(), b.Count())
	}
	if got := b.Pending(); !reflect.DeepEqual(got, []int{1}) {
		t.Fatalf("pending %v", got)
	}
	if b.Status() != StatusRunning || b.Version() != 6 {
		t.Fatalf("status %s version %d", b.Status(), b.Version())
	}
}

func TestApplyRefusesStrangeOrder(t *testing.T) {
	if err := New().Apply(started(1)); !errors.Is(err, event.ErrInvalid) {
		t.Fatalf("start before check: %v", err)
	}
	if err := given(t, checked(1, 0)).Apply(checked(1, 0)); !errors.Is(err, event.ErrInvalid) {
		t.Fatalf("second check: %v", err)
	}
}

func TestRowContractID(t *testing.T) {
	a, b := RowContractID(batchID, 0), RowContractID(batchID, 1)
	if a == b || a != RowContractID(batchID, 0) {
		t.Fatalf("row IDs %s %s", a, b)
	}
	if other := RowContractID("0190f0a4-8a77-7c3e-9a55-3a7d3e1f0002", 0); other == a {
		t.Fatal("two batches share a row's contract ID")
	}
	if len(a) != 36 || strings.ToLower(a) != a {
		t.Fatalf("not a canonical UUID: %s", a)
	}
}

func TestEventsRoundTrip(t *testing.T) {
	for _, e := range []Event{checked(2, 1), started(2), sent(0), RowFailed{Index: 1, Line: 4, Code: "c", Message: "m", FailedAt: t0},
		BatchPaused{Reason: PausedQuotaExhausted, Message: "m", PausedAt: t0}, BatchResumed{By: "a", At: t0}, BatchCancelled{By: "a", At: t0}, BatchCompleted{Sent: 1, Failed: 1, At: t0}} {
		n, err := NewEvent("id", e, event.Metadata{OccurredAt: t0})
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecodeEnvelope(event.Envelope{Type: n.Type, Schema: n.Schema, Data: n.Data})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, e) {
			t.Fatalf("%s: got %#v want %#v", e.EventType(), got, e)
		}
	}
}

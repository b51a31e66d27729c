// Package batch is the batch send aggregate (使用excel批量发送): a sheet of
// rows checked against a template, then sent row by row as ordinary
// contracts. Its stream "batch-<id>" records the check, the start, one
// outcome per row, and how the batch ended, so that a batch interrupted
// by a crash resumes where it stopped and never sends a row twice: a
// row's contract ID is derived from the batch ID and the row's index.
package batch

import (
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"signet/domain/event"
	"signet/domain/fault"
)

// Category is the stream category of batches: "batch-<uuid>".
const Category = "batch"

// StreamOf names a batch's stream.
func StreamOf(id string) string { return event.StreamName(Category, id) }

// Limits of a batch.
const (
	// MaxRows bounds the data rows of one sheet (peers cap a bulk send at
	// 1,000 copies).
	MaxRows = 50_000
)

// RowContractID is the contract ID of a batch's row: the same for every
// attempt to send it, so that a retried or resumed row finds its contract
// instead of making a second one.
func RowContractID(batchID string, index int) string {
	ns, err := uuid.Parse(batchID)
	if err != nil {
		ns = uuid.NewSHA1(uuid.NameSpaceURL, []byte("signet:batch:"+batchID))
	}
	return uuid.NewSHA1(ns, fmt.Appendf(nil, "row/%d", index)).String()
}

// Status is where a batch stands.
type Status string

const (
	StatusChecked   Status = "checked"   // checked, not started
	StatusRunning   Status = "running"   // rows are being sent
	StatusPaused    Status = "paused"    // stopped until resumed (no quota)
	StatusCancelled Status = "cancelled" // rows not sent by then are never sent
	StatusCompleted Status = "completed" // every row sent or failed
)

// Refusals.
var (
	ErrNotFound = fault.New(fault.NotFound, "batch_not_found", "There is no such batch; check the batch ID.")
)

type outcome struct {
	contractID string // "" when the row failed
}

// Batch is the aggregate's state, rebuilt from its events.
type Batch struct {
	version  uint64
	checked  *SheetChecked
	started  *BatchStarted
	status   Status
	outcomes map[int]outcome
	sent     int
	failed   int
	paused   *BatchPaused
}

// New returns the state of a batch that does not exist yet.
func New() *Batch { return &Batch{outcomes: map[int]outcome{}} }

// Apply mutates the batch by one event and advances its version.
func (b *Batch) Apply(e Event) error {
	if b.outcomes == nil {
		b.outcomes = map[int]outcome{}
	}
	if _, opens := e.(SheetChecked); opens != (b.version == 0) {
		return fmt.Errorf("%w: %s at batch version %d", event.ErrInvalid, e.EventType(), b.version+1)
	}
	switch e := e.(type) {
	case SheetChecked:
		b.checked, b.status = &e, StatusChecked
	case BatchStarted:
		b.started, b.status = &e, StatusRunning
	case RowSent:
		if _, done := b.outcomes[e.Index]; !done {
			b.outcomes[e.Index] = outcome{contractID: e.ContractID}
			b.sent++
		}
	case RowFailed:
		if _, done := b.outcomes[e.Index]; !done {
			b.outcomes[e.Index] = outcome{}
			b.failed++
		}
	case BatchPaused:
		b.status, b.paused = StatusPaused, &e
	case BatchResumed:
		b.status, b.paused = StatusRunning, nil
	case BatchCancelled:
		b.status = StatusCancelled
	case BatchCompleted:
		b.status = StatusCompleted
	default:
		return fmt.Errorf("%w: %s is not an event of a batch stream", event.ErrInvalid, e.EventType())
	}
	b.version++
	return nil
}

// Replay rebuilds a batch from its stream read forwards.
func Replay(envs []event.Envelope) (*Batch, error) {
	b := New()
	for _, env := range envs {
		e, err := DecodeEnvelope(env)
		if err != nil {
			return nil, fmt.Errorf("%s@%d: %w", env.Stream, env.Version, err)
		}
		if err := b.Apply(e); err != nil {
			return nil, fmt.Errorf("%s@%d: %w", env.Stream, env.Version, err)
		}
	}
	return b, nil
}

// Accessors.
func (b *Batch) Version() uint64 { return b.version }
func (b *Batch) Exists() bool    { return b.checked != nil }
func (b *Batch) Status() Status  { return b.status }
func (b *Batch) Sent() int       { return b.sent }
func (b *Batch) Failed() int     { return b.failed }

// Checked is the sheet's check (zero when the batch does not exist).
func (b *Batch) Checked() SheetChecked {
	if b.checked == nil {
		return SheetChecked{}
	}
	return *b.checked
}

// Started is the start (zero before it).
func (b *Batch) Started() (BatchStarted, bool) {
	if b.started == nil {
		return BatchStarted{}, false
	}
	return *b.started, true
}

// Paused is why the batch is paused, while it is.
func (b *Batch) Paused() (BatchPaused, bool) {
	if b.paused == nil {
		return BatchPaused{}, false
	}
	return *b.paused, true
}

// Count is how many rows the batch sends (0 before it is started).
func (b *Batch) Count() int {
	if b.started == nil {
		return 0
	}
	return b.started.Count
}

// Remaining is how many rows have no outcome yet.
func (b *Batch) Remaining() int { return b.Count() - b.sent - b.failed }

// Pending lists the rows without an outcome, in sheet order.
func (b *Batch) Pending() []int {
	var out []int
	for i := range b.Count() {
		if _, ok := b.outcomes[i]; !ok {
			out = append(out, i)
		}
	}
	return out
}

func ts(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func rule(code, format string, args ...any) *fault.Error {
	return fault.New(fault.Rule, code, fmt.Sprintf(format, args...))
}

// Check opens the batch with a checked sheet.
func (b *Batch) Check(c SheetChecked) ([]Event, error) {
	if b.Exists() {
		return nil, fault.New(fault.Conflict, "batch_exists", "This batch already exists.")
	}
	switch {
	case c.BatchID == "" || c.TemplateID == "" || c.Sender.AccountID == "" || c.SheetSHA256 == "" || c.RowsSHA256 == "" || c.ReportSHA256 == "":
		return nil, errors.New("batch: check without batch, template, sender or blobs")
	case c.Total < 0 || c.Valid < 0 || c.Invalid < 0 || c.Valid+c.Invalid != c.Total:
		return nil, fmt.Errorf("batch: check counts %d valid + %d invalid != %d", c.Valid, c.Invalid, c.Total)
	case (c.Invalid > 0) != (c.ErrorSheetSHA256 != ""):
		return nil, errors.New("batch: an error sheet goes with bad rows, and only with them")
	case c.Total > MaxRows:
		return nil, fault.New(fault.TooLarge, "too_many_rows", fmt.Sprintf("A batch has at most %d rows; this sheet has %d. Split it into several sheets.", MaxRows, c.Total))
	}
	c.CheckedAt = ts(c.CheckedAt)
	return []Event{c}, nil
}

// Start decides to send: rows "valid" sends the valid rows; "all" sends
// every row and is refused while any row is bad. templateVersion is the
// template's version now: a template changed since the check makes the
// sender check the sheet again.
func (b *Batch) Start(rows, by string, templateVersion uint64, now time.Time) ([]Event, error) {
	if !b.Exists() {
		return nil, ErrNotFound
	}
	if rows != RowsAll && rows != RowsValid {
		return nil, fault.Invalidf("rows", "invalid_rows", "Say which rows to send: %q (every row; only when none is bad) or %q (the valid rows only), not %q.", RowsAll, RowsValid, rows)
	}
	switch b.status {
	case StatusCancelled:
		return nil, fault.New(fault.Conflict, "batch_cancelled", "This batch was cancelled; upload the sheet again to send it.")
	case StatusChecked:
	default:
		return nil, fault.New(fault.Conflict, "batch_started", "This batch was already started.")
	}
	c := b.checked
	if rows == RowsAll && c.Invalid > 0 {
		return nil, rule("sheet_has_errors", "%d of the sheet's %d rows are bad: fix them and upload the sheet again, or send the %d valid rows only (rows \"valid\").", c.Invalid, c.Total, c.Valid).OnField("rows")
	}
	if c.Valid == 0 {
		return nil, rule("no_valid_rows", "No row of the sheet is valid; fix the rows listed in the report and upload the sheet again.")
	}
	if templateVersion != c.TemplateVersion {
		return nil, rule("template_changed", "The template was changed after the sheet was checked; upload the sheet again so that it is checked against the template as it is now.")
	}
	return []Event{BatchStarted{Rows: rows, Count: c.Valid, StartedBy: by, StartedAt: ts(now)}}, nil
}

// CheckSend says whether rows may be sent now: only while the batch runs
// (not before its start, nor once paused, cancelled or completed).
func (b *Batch) CheckSend() error {
	if !b.Exists() {
		return ErrNotFound
	}
	if b.status != StatusRunning {
		return fault.New(fault.Conflict, "batch_not_running", fmt.Sprintf("The batch is %s: no row is sent.", b.status))
	}
	return nil
}

// Outcome is what sending one row came to: a contract (ContractID set) or
// a refusal (Code and Message).
type Outcome struct {
	Index      int
	Line       int
	ContractID string
	Number     string
	Status     string // SentSigning or SentAwaitingApproval
	Code       string
	Message    string
}

// Record records the outcomes of rows, and the batch's completion when
// they are its last. A row already recorded with the same contract is
// skipped, and so is a failed row failing again (a retry after a crash
// records it again); any other second outcome is refused. Rows in flight when the batch was paused or
// cancelled are recorded: their contracts exist.
func (b *Batch) Record(outs []Outcome, now time.Time) ([]Event, error) {
	if !b.Exists() {
		return nil, ErrNotFound
	}
	switch b.status {
	case StatusRunning, StatusPaused, StatusCancelled:
	default:
		return nil, fault.New(fault.Conflict, "batch_not_running", fmt.Sprintf("The batch is %s: no row outcome is recorded.", b.status))
	}
	at := ts(now)
	var evs []Event
	seen := map[int]string{}
	sent, failed := b.sent, b.failed
	for _, o := range outs {
		if o.Index < 0 || o.Index >= b.Count() {
			return nil, fmt.Errorf("batch: outcome of row %d of %d", o.Index, b.Count())
		}
		prev, recorded := b.outcomes[o.Index]
		if id, again := seen[o.Index]; again {
			prev, recorded = outcome{contractID: id}, true
		}
		if recorded {
			if prev.contractID == o.ContractID {
				continue
			}
			return nil, fault.New(fault.Conflict, "row_recorded", fmt.Sprintf("Row %d already has another outcome.", o.Line))
		}
		seen[o.Index] = o.ContractID
		if o.ContractID != "" {
			if o.Status != SentSigning && o.Status != SentAwaitingApproval {
				return nil, fmt.Errorf("batch: row %d sent with status %q", o.Index, o.Status)
			}
			evs = append(evs, RowSent{Line: o.Line, Index: o.Index, ContractID: o.ContractID, Number: o.Number, Status: o.Status, SentAt: at})
			sent++
			continue
		}
		if o.Code == "" {
			return nil, fmt.Errorf("batch: row %d failed without a code", o.Index)
		}
		evs = append(evs, RowFailed{Line: o.Line, Index: o.Index, Code: o.Code, Message: o.Message, FailedAt: at})
		failed++
	}
	if len(evs) > 0 && b.status != StatusCancelled && sent+failed == b.Count() {
		evs = append(evs, BatchCompleted{Sent: sent, Failed: failed, At: at})
	}
	return evs, nil
}

// Pause stops a running batch for a reason that holds for every row left.
// A batch that is not running is left as it is.
func (b *Batch) Pause(reason, message string, now time.Time) ([]Event, error) {
	if !b.Exists() {
		return nil, ErrNotFound
	}
	if b.status != StatusRunning {
		return nil, nil
	}
	return []Event{BatchPaused{Reason: reason, Message: message, PausedAt: ts(now)}}, nil
}

// Resume lets a paused batch go on; a running one needs nothing.
func (b *Batch) Resume(by string, now time.Time) ([]Event, error) {
	if !b.Exists() {
		return nil, ErrNotFound
	}
	switch b.status {
	case StatusPaused:
		return []Event{BatchResumed{By: by, At: ts(now)}}, nil
	case StatusRunning:
		return nil, nil
	case StatusChecked:
		return nil, rule("batch_not_started", "This batch was not started yet; start it (POST .../start).")
	}
	return nil, fault.New(fault.Conflict, "batch_ended", fmt.Sprintf("This batch is %s; it cannot be resumed.", b.status))
}

// Cancel stops the batch for good: rows not sent by now are never sent.
// Cancelling a cancelled batch changes nothing.
func (b *Batch) Cancel(by string, now time.Time) ([]Event, error) {
	if !b.Exists() {
		return nil, ErrNotFound
	}
	switch b.status {
	case StatusCancelled:
		return nil, nil
	case StatusCompleted:
		return nil, fault.New(fault.Conflict, "batch_completed", "This batch is completed: every row was sent or failed; there is nothing to cancel.")
	}
	return []Event{BatchCancelled{By: by, At: ts(now)}}, nil
}

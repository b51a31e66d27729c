package commands

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"signet/domain/batch"
	"signet/domain/contract"
	"signet/domain/enterprise"
	"signet/domain/event"
	"signet/domain/fault"
	"signet/infra/sheet"
)

// BatchCommands are batch sending from a sheet (使用excel批量发送): check an
// uploaded sheet against a template, then start, cancel or resume sending
// its rows. The rows are sent by a BatchRunner.
type BatchCommands struct {
	Check  Handler[CheckBatchSheet, CheckBatchSheetResult]
	Start  Handler[StartBatch, BatchResult]
	Cancel Handler[CancelBatch, BatchResult]
	Resume Handler[ResumeBatch, BatchResult]

	core *batches
}

// Media types of a batch's blobs.
const (
	XLSXMediaType   = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	csvMediaType    = "text/csv; charset=utf-8"
	rowsMediaType   = "application/x-ndjson"
	reportMediaType = "application/json"
)

type batches struct {
	c     *contracts // who sends, quota
	send  Handler[SendContract, SendContractResult]
	blobs Blobs
	// wake tells this process's runner about a batch started, resumed or
	// cancelled here, so that it acts at once instead of at its next poll.
	wake chan string
}

func newBatchCommands(d Deps) BatchCommands {
	cc := newContractCommands(d)
	b := &batches{c: &contracts{events: d.Events, ids: d.IDs, clock: d.Clock, log: d.Logger}, send: cc.Send,
		blobs: d.Verification.Blobs, wake: make(chan string, 64)}
	return BatchCommands{
		Check:  decorate(d, b.check),
		Start:  decorate(d, b.start),
		Cancel: decorate(d, b.cancel),
		Resume: decorate(d, b.resume),
		core:   b,
	}
}

func (b *batches) signal(id string) {
	select {
	case b.wake <- id:
	default: // the runner's next poll finds it
	}
}

// CheckBatchSheet reads an uploaded sheet and checks every row against the
// template; the batch is recorded whatever the rows are, for the sender to
// see the report and choose.
type CheckBatchSheet struct {
	Actor        Actor
	TemplateID   string
	EnterpriseID string // sending on behalf of this enterprise; "" = as a person
	FileName     string
	// File is read only once the caller may send from the template.
	File Upload
}

// CheckBatchSheetResult is the recorded check with every bad cell.
type CheckBatchSheetResult struct {
	Checked   batch.SheetChecked
	Errors    []batch.RowError
	QuotaLeft int
	Written
}

func (b *batches) check(ctx context.Context, cmd CheckBatchSheet) (CheckBatchSheetResult, error) {
	t, err := loadTemplate(ctx, b.c.events, cmd.TemplateID)
	if err != nil {
		return CheckBatchSheetResult{}, blame(err, "template_id")
	}
	if err := mayUseTemplate(ctx, b.c.events, t, cmd.Actor.AccountID); err != nil {
		return CheckBatchSheetResult{}, err
	}
	if err := t.CheckSendable(); err != nil {
		return CheckBatchSheetResult{}, err
	}
	sender, _, _, err := b.c.sender(ctx, cmd.Actor.AccountID, cmd.EnterpriseID)
	if err != nil {
		return CheckBatchSheetResult{}, err
	}
	left, err := b.quotaLeft(ctx, sender)
	if err != nil {
		return CheckBatchSheetResult{}, err
	}
	file, err := cmd.File.load()
	if err != nil {
		return CheckBatchSheetResult{}, err
	}
	table, err := sheet.Read(bytes.NewReader(file.Data), cmd.FileName, sheet.DefaultLimits)
	if err != nil {
		return CheckBatchSheetResult{}, blame(err, "file")
	}
	// A copy with the error column, fixed and uploaded again, is read
	// as the sheet it copies.
	sheet.StripErrorColumn(table)
	rows := make([]batch.SheetRow, len(table.Rows))
	for i, r := range table.Rows {
		rows[i] = batch.SheetRow{Line: r.Line, Cells: r.Cells}
	}
	now := b.c.clock.Now()
	checked, err := batch.CheckRows(t.Snapshot(), rows, now)
	if err != nil {
		return CheckBatchSheetResult{}, blame(err, "file")
	}

	sheetType := XLSXMediaType
	if table.Format == sheet.FormatCSV {
		sheetType = csvMediaType
	}
	var rowsJSON bytes.Buffer
	enc := json.NewEncoder(&rowsJSON)
	for _, r := range checked.Valid {
		if err := enc.Encode(r); err != nil {
			return CheckBatchSheetResult{}, err
		}
	}
	report := checked.Errors
	if report == nil {
		report = []batch.RowError{}
	}
	reportJSON, err := json.Marshal(report)
	if err != nil {
		return CheckBatchSheetResult{}, err
	}
	type stored struct {
		data      []byte
		mediaType string
	}
	blobs := []stored{{file.Data, sheetType}, {rowsJSON.Bytes(), rowsMediaType}, {reportJSON, reportMediaType}}
	if len(checked.Errors) > 0 {
		var errSheet bytes.Buffer
		if err := sheet.WriteErrors(&errSheet, table, checked.ByLine()); err != nil {
			return CheckBatchSheetResult{}, fmt.Errorf("write the sheet's error copy: %w", err)
		}
		blobs = append(blobs, stored{errSheet.Bytes(), XLSXMediaType})
	}
	shas := make([]string, 4) // sheet, rows, report, error copy
	for i, bl := range blobs {
		ref, err := b.blobs.Put(ctx, bl.data, bl.mediaType)
		if err != nil {
			return CheckBatchSheetResult{}, fmt.Errorf("store batch sheet: %w", err)
		}
		shas[i] = ref.SHA256
	}
	id := b.c.ids.NewID()
	evs, err := batch.New().Check(batch.SheetChecked{
		BatchID: id, TemplateID: t.ID(), TemplateVersion: t.Version(),
		Sender:   batch.Sender{AccountID: sender.AccountID, EnterpriseID: sender.EnterpriseID},
		FileName: fileName(cmd.FileName), Format: table.Format, SheetSHA256: shas[0], RowsSHA256: shas[1], ReportSHA256: shas[2], ErrorSheetSHA256: shas[3],
		Total: checked.Total, Valid: len(checked.Valid), Invalid: checked.Invalid(), CheckedAt: now,
	})
	if err != nil {
		return CheckBatchSheetResult{}, err
	}
	pos, err := appendEvents(ctx, b.c.events, b.c.ids, batch.StreamOf(id), event.NoStream, batch.NewEvent, evs, cmd.Actor.meta(now, sender.EnterpriseID))
	if err != nil {
		return CheckBatchSheetResult{}, err
	}
	return CheckBatchSheetResult{Checked: evs[0].(batch.SheetChecked), Errors: checked.Errors, QuotaLeft: left, Written: Written{pos}}, nil
}

// fileName keeps the client's file name for people: without directories,
// valid UTF-8, at most 200 characters.
func fileName(name string) string {
	name = strings.ToValidUTF8(name, "")
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, strings.TrimSpace(name))
	if r := []rune(name); len(r) > 200 {
		name = string(r[:200])
	}
	return name
}

// blame names the input field a refusal is about, unless it names one.
func blame(err error, field string) error {
	if f, ok := fault.As(err); ok && f.Field == "" {
		return f.OnField(field)
	}
	return err
}

// quotaLeft is how many contracts the sender may still send.
func (b *batches) quotaLeft(ctx context.Context, s contract.Sender) (int, error) {
	used, _, err := QuotaUsed(ctx, b.c.events, quotaStream(quotaOf(s)))
	if err != nil {
		return 0, err
	}
	if s.EnterpriseID != "" {
		ent, err := b.c.loadEnterprise(ctx, s.EnterpriseID)
		if err != nil {
			return 0, err
		}
		return ent.QuotaLeft(used), nil
	}
	acct, err := b.c.loadAccount(ctx, s.AccountID)
	if err != nil {
		return 0, err
	}
	return acct.QuotaLeft(used), nil
}

func (b *batches) load(ctx context.Context, id string) (*batch.Batch, error) {
	if !validID(id) {
		return nil, batch.ErrNotFound
	}
	envs, err := b.c.events.ReadStream(ctx, batch.StreamOf(id), 1, event.Forwards, 0)
	if errors.Is(err, event.ErrNotFound) || (err == nil && len(envs) == 0) {
		return nil, batch.ErrNotFound
	}
	if err != nil {
		return nil, storeErr("read batch", err)
	}
	return batch.Replay(envs)
}

var errNotBatchSender = fault.New(fault.Forbidden, "not_batch_sender",
	"Only the account that uploaded the sheet, or an administrator of its enterprise, may act on this batch.")

// mayAct lets the uploader, and the administrators of the enterprise the
// batch sends for, act on a batch.
func (b *batches) mayAct(ctx context.Context, bt *batch.Batch, accountID string) error {
	s := bt.Checked().Sender
	if s.AccountID == accountID {
		return nil
	}
	if s.EnterpriseID != "" {
		role, err := roleIn(ctx, b.c.events, s.EnterpriseID, accountID)
		if err != nil {
			return err
		}
		if role == enterprise.MasterAdmin || role == enterprise.Admin {
			return nil
		}
	}
	return errNotBatchSender
}

// BatchResult is where a batch stands after a command.
type BatchResult struct {
	BatchID string
	Status  batch.Status
	Written
}

// decide loads a batch, lets the caller act on it, decides and appends
// with the version it read, again after a concurrent change (the runner
// records rows all the time).
func (b *batches) decide(ctx context.Context, a Actor, id string, d func(bt *batch.Batch, now time.Time) ([]batch.Event, error)) (BatchResult, error) {
	return retry(func() (BatchResult, error) {
		bt, err := b.load(ctx, id)
		if err != nil {
			return BatchResult{}, err
		}
		if err := b.mayAct(ctx, bt, a.AccountID); err != nil {
			return BatchResult{}, err
		}
		now := b.c.clock.Now()
		evs, err := d(bt, now)
		if err != nil {
			return BatchResult{}, err
		}
		pos, err := appendEvents(ctx, b.c.events, b.c.ids, batch.StreamOf(id), event.Exactly(bt.Version()), batch.NewEvent, evs, a.meta(now, bt.Checked().Sender.EnterpriseID))
		if err != nil {
			return BatchResult{}, err
		}
		for _, e := range evs {
			if err := bt.Apply(e); err != nil {
				return BatchResult{}, err
			}
		}
		if len(evs) > 0 {
			b.signal(id)
		}
		return BatchResult{BatchID: id, Status: bt.Status(), Written: Written{pos}}, nil
	})
}

// errNoQuotaForBatch says how many contracts are left: none.
func errNoQuotaForBatch(rows int) error {
	return fault.New(fault.Rule, "quota_exhausted", fmt.Sprintf(
		"No contracts are left in the quota, and the batch has %d row(s) to send: get more contracts granted first.", rows))
}

// StartBatch starts sending a checked batch: Rows "valid" sends the valid
// rows; "all" sends every row and is refused while any row is bad.
type StartBatch struct {
	Actor   Actor
	BatchID string
	Rows    string
}

func (b *batches) start(ctx context.Context, cmd StartBatch) (BatchResult, error) {
	return b.decide(ctx, cmd.Actor, cmd.BatchID, func(bt *batch.Batch, now time.Time) ([]batch.Event, error) {
		c := bt.Checked()
		t, err := loadTemplate(ctx, b.c.events, c.TemplateID)
		if err != nil {
			return nil, err
		}
		evs, err := bt.Start(cmd.Rows, cmd.Actor.AccountID, t.Version(), now)
		if err != nil {
			return nil, err
		}
		left, err := b.quotaLeft(ctx, contractSender(c.Sender))
		if err != nil {
			return nil, err
		}
		if left <= 0 {
			return nil, errNoQuotaForBatch(c.Valid)
		}
		return evs, nil
	})
}

// CancelBatch stops a batch for good: rows not sent by then are never sent.
type CancelBatch struct {
	Actor   Actor
	BatchID string
}

func (b *batches) cancel(ctx context.Context, cmd CancelBatch) (BatchResult, error) {
	return b.decide(ctx, cmd.Actor, cmd.BatchID, func(bt *batch.Batch, now time.Time) ([]batch.Event, error) {
		return bt.Cancel(cmd.Actor.AccountID, now)
	})
}

// ResumeBatch lets a paused batch (its quota ran out) go on.
type ResumeBatch struct {
	Actor   Actor
	BatchID string
}

func (b *batches) resume(ctx context.Context, cmd ResumeBatch) (BatchResult, error) {
	return b.decide(ctx, cmd.Actor, cmd.BatchID, func(bt *batch.Batch, now time.Time) ([]batch.Event, error) {
		evs, err := bt.Resume(cmd.Actor.AccountID, now)
		if err != nil || len(evs) == 0 {
			return evs, err
		}
		left, err := b.quotaLeft(ctx, contractSender(bt.Checked().Sender))
		if err != nil {
			return nil, err
		}
		if left <= 0 {
			return nil, errNoQuotaForBatch(bt.Remaining())
		}
		return evs, nil
	})
}

func contractSender(s batch.Sender) contract.Sender {
	return contract.Sender{AccountID: s.AccountID, EnterpriseID: s.EnterpriseID}
}

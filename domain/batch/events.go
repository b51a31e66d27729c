package batch

import (
	"fmt"
	"time"

	"signet/domain/event"
)

// Event is a domain event of this package.
type Event interface{ EventType() string }

// Stored event type names. Never rename one: stored history refers to them.
const (
	TypeSheetChecked   = "SheetChecked"
	TypeBatchStarted   = "BatchStarted"
	TypeRowSent        = "RowSent"
	TypeRowFailed      = "RowFailed"
	TypeBatchPaused    = "BatchPaused"
	TypeBatchResumed   = "BatchResumed"
	TypeBatchCancelled = "BatchCancelled"
	TypeBatchCompleted = "BatchCompleted"
)

// Sender is who uploaded the sheet and sends its contracts: an account,
// on behalf of an enterprise or as a person.
type Sender struct {
	AccountID    string `json:"account_id"`
	EnterpriseID string `json:"enterprise_id,omitempty"`
}

// SheetChecked opens "batch-<id>": an uploaded sheet was read and every
// row checked against the template. The sheet, its valid rows (JSON
// lines, in sheet order: a row's index is its place there), the error
// report and the sheet copy with an error column are blobs named by their
// SHA-256.
type SheetChecked struct {
	BatchID          string    `json:"batch_id"`
	TemplateID       string    `json:"template_id"`
	TemplateVersion  uint64    `json:"template_version"`
	Sender           Sender    `json:"sender"`
	FileName         string    `json:"file_name"`
	Format           string    `json:"format"` // xlsx or csv
	SheetSHA256      string    `json:"sheet_sha256"`
	RowsSHA256       string    `json:"rows_sha256"`
	Total            int       `json:"total"` // data rows (header and hint rows not counted)
	Valid            int       `json:"valid"`
	Invalid          int       `json:"invalid"`
	ReportSHA256     string    `json:"report_sha256"`
	ErrorSheetSHA256 string    `json:"error_sheet_sha256,omitempty"` // "" when no row is bad
	CheckedAt        time.Time `json:"checked_at"`
}

// Which rows a batch sends.
const (
	RowsAll   = "all"   // every row; only when none is bad
	RowsValid = "valid" // the valid rows, leaving the bad ones out
)

// BatchStarted: the sender chose to send; Count rows are to be sent.
type BatchStarted struct {
	Rows      string    `json:"rows"`
	Count     int       `json:"count"`
	StartedBy string    `json:"started_by"`
	StartedAt time.Time `json:"started_at"`
}

// Row statuses of a sent row.
const (
	SentSigning          = "sent"              // out to the parties
	SentAwaitingApproval = "awaiting_approval" // waits for the enterprise's approver
)

// RowSent: the row's contract exists.
type RowSent struct {
	Line       int       `json:"line"`  // row number in the sheet
	Index      int       `json:"index"` // place among the valid rows
	ContractID string    `json:"contract_id"`
	Number     string    `json:"number"`
	Status     string    `json:"status"`
	SentAt     time.Time `json:"sent_at"`
}

// RowFailed: the row was refused when it was sent (it passed the check,
// but something changed since, e.g. its signing deadline passed).
type RowFailed struct {
	Line     int       `json:"line"`
	Index    int       `json:"index"`
	Code     string    `json:"code"`
	Message  string    `json:"message"`
	FailedAt time.Time `json:"failed_at"`
}

// Reasons of a pause.
const PausedQuotaExhausted = "quota_exhausted"

// BatchPaused: sending stopped before every row was sent, for a reason
// that holds for every row left (no quota); it goes on once resumed.
type BatchPaused struct {
	Reason   string    `json:"reason"`
	Message  string    `json:"message"`
	PausedAt time.Time `json:"paused_at"`
}

// BatchResumed: the sender let a paused batch go on.
type BatchResumed struct {
	By string    `json:"by"`
	At time.Time `json:"at"`
}

// BatchCancelled: rows not sent by now are never sent.
type BatchCancelled struct {
	By string    `json:"by"`
	At time.Time `json:"at"`
}

// BatchCompleted: every row was sent or failed.
type BatchCompleted struct {
	Sent   int       `json:"sent"`
	Failed int       `json:"failed"`
	At     time.Time `json:"at"`
}

func (SheetChecked) EventType() string   { return TypeSheetChecked }
func (BatchStarted) EventType() string   { return TypeBatchStarted }
func (RowSent) EventType() string        { return TypeRowSent }
func (RowFailed) EventType() string      { return TypeRowFailed }
func (BatchPaused) EventType() string    { return TypeBatchPaused }
func (BatchResumed) EventType() string   { return TypeBatchResumed }
func (BatchCancelled) EventType() string { return TypeBatchCancelled }
func (BatchCompleted) EventType() string { return TypeBatchCompleted }

// ErrUnknownEvent: a stored type (or schema version) this package does not know.
var ErrUnknownEvent = fmt.Errorf("%w: unknown batch event", event.ErrInvalid)

var codec = func() *event.Codec[Event] {
	c := event.NewCodec[Event](ErrUnknownEvent)
	event.Register[SheetChecked](c, TypeSheetChecked)
	event.Register[BatchStarted](c, TypeBatchStarted)
	event.Register[RowSent](c, TypeRowSent)
	event.Register[RowFailed](c, TypeRowFailed)
	event.Register[BatchPaused](c, TypeBatchPaused)
	event.Register[BatchResumed](c, TypeBatchResumed)
	event.Register[BatchCancelled](c, TypeBatchCancelled)
	event.Register[BatchCompleted](c, TypeBatchCompleted)
	return c
}()

// Has reports whether typ is one of this package's event types.
func Has(typ string) bool { return codec.Has(typ) }

// DecodeEnvelope decodes a stored event.
func DecodeEnvelope(env event.Envelope) (Event, error) { return codec.DecodeEnvelope(env) }

// NewEvent encodes e as an event to append with the given ID and metadata.
func NewEvent(id string, e Event, meta event.Metadata) (event.New, error) {
	return codec.NewEvent(id, e, meta)
}

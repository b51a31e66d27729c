// Package bank is the port to the bank for enterprise payment verification
// (企业打款认证): micro-deposit transfers from the platform to an
// enterprise's corporate account, their status callbacks, and the feed of
// incoming statement lines through which an enterprise's reverse deposit
// to the platform arrives. Amounts are integer fen (1 fen = 0.01 CNY).
package bank

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"signet/domain/fault"
	"signet/infra/clock"
	"signet/infra/web"
)

// PlatformAccount is the platform's corporate account that enterprises
// pay a reverse deposit into.
type PlatformAccount struct {
	Holder     string `json:"holder"`      // 户名
	Bank       string `json:"bank"`        // 银行
	Branch     string `json:"branch"`      // 开户行名称
	Account    string `json:"account"`     // 银行账户
	BranchCode string `json:"branch_code"` // 联行号 (CNAPS code, 12 digits)
}

// DemoPlatformAccount has the shape of a real account (17-digit number,
// 12-digit CNAPS code of 华夏银行, bank code 304) but belongs to no one.
var DemoPlatformAccount = PlatformAccount{
	Holder:     "签网科技（演示）有限公司",
	Bank:       "华夏银行（演示）",
	Branch:     "华夏银行高新支行（演示）",
	Account:    "10450000000000001",
	BranchCode: "304000000001",
}

// Transfer is a payment from the platform to an enterprise account. ID is
// the idempotency key: the bank executes one transfer per ID.
type Transfer struct {
	ID         string `json:"id"`
	ToHolder   string `json:"to_holder"`
	ToBank     string `json:"to_bank"`
	ToBranch   string `json:"to_branch"`
	ToProvince string `json:"to_province,omitempty"`
	ToCity     string `json:"to_city,omitempty"`
	ToAccount  string `json:"to_account"`
	Memo       string `json:"memo,omitempty"`
	AmountFen  int64  `json:"amount_fen"`
}

// Transfers sends transfers. Send returning nil means the bank accepted
// the order; whether money arrived comes later as a TransferStatus.
type Transfers interface {
	Send(ctx context.Context, t Transfer) error
}

// Transfer outcomes.
const (
	StatusSucceeded = "succeeded"
	StatusFailed    = "failed"
)

// TransferStatus is the bank's callback on a transfer.
type TransferStatus struct {
	TransferID string    `json:"transfer_id"`
	Status     string    `json:"status"` // StatusSucceeded or StatusFailed
	Reason     string    `json:"reason,omitempty"`
	At         time.Time `json:"at"`
}

// Payer account types of a statement line.
const (
	AccountCorporate = "corporate"
	AccountPersonal  = "personal"
)

// StatementLine is one incoming payment on a platform account, as the
// bank's statement feed posts it.
type StatementLine struct {
	StatementID      string    `json:"statement_id"`
	PayerName        string    `json:"payer_name"`
	PayerAccount     string    `json:"payer_account"`
	PayerAccountType string    `json:"payer_account_type"` // AccountCorporate or AccountPersonal
	AmountFen        int64     `json:"amount_fen"`
	Currency         string    `json:"currency"` // ISO 4217, upper case ("CNY")
	PaidAt           time.Time `json:"paid_at"`
	PayeeAccount     string    `json:"payee_account"`
	Memo             string    `json:"memo,omitempty"`
}

// Bounds of text fields, in bytes.
const (
	maxIDLen   = 128
	maxTextLen = 256
)

// token: an ID or account number, printable and without spaces.
func token(s string) bool {
	if s == "" || len(s) > maxIDLen {
		return false
	}
	for _, c := range s {
		if !unicode.IsPrint(c) || unicode.IsSpace(c) {
			return false
		}
	}
	return true
}

// text: a name or memo, printable (spaces allowed).
func text(s string) bool {
	if len(s) > maxTextLen || !utf8.ValidString(s) {
		return false
	}
	for _, c := range s {
		if !unicode.IsPrint(c) && c != ' ' {
			return false
		}
	}
	return true
}

func required(field string) error {
	return fault.Invalidf(field, "required", "Field %q is required.", field)
}

func badToken(field string) error {
	return fault.Invalidf(field, "invalid_id", "Field %q must be at most %d printable characters without spaces.", field, maxIDLen)
}

func badText(field string) error {
	return fault.Invalidf(field, "invalid_text", "Field %q must be at most %d bytes of printable text.", field, maxTextLen)
}

// ParseTransferStatus reads a transfer status callback strictly: one JSON
// object, no unknown fields, transfer_id, a known status and at present.
// Refusals are *fault.Error.
func ParseTransferStatus(body []byte) (TransferStatus, error) {
	var s TransferStatus
	if err := web.DecodeStrict(bytes.NewReader(body), &s); err != nil {
		return TransferStatus{}, err
	}
	switch {
	case s.TransferID == "":
		return TransferStatus{}, required("transfer_id")
	case !token(s.TransferID):
		return TransferStatus{}, badToken("transfer_id")
	case s.Status == "":
		return TransferStatus{}, required("status")
	case s.Status != StatusSucceeded && s.Status != StatusFailed:
		return TransferStatus{}, fault.Invalidf("status", "unknown_status", "Field \"status\" must be %q or %q.", StatusSucceeded, StatusFailed)
	case !text(s.Reason):
		return TransferStatus{}, badText("reason")
	case s.At.IsZero():
		return TransferStatus{}, fault.Invalidf("at", "required", "Field \"at\" is required (RFC 3339).")
	}
	return s, nil
}

// ParseStatementLine reads a statement line strictly: one JSON object, no
// unknown fields, every field but memo present, a positive amount and an
// upper-case three-letter currency. Refusals are *fault.Error.
func ParseStatementLine(body []byte) (StatementLine, error) {
	var l StatementLine
	if err := web.DecodeStrict(bytes.NewReader(body), &l); err != nil {
		return StatementLine{}, err
	}
	for _, f := range []struct{ field, value string }{
		{"statement_id", l.StatementID}, {"payer_name", l.PayerName}, {"payer_account", l.PayerAccount},
		{"payer_account_type", l.PayerAccountType}, {"currency", l.Currency}, {"payee_account", l.PayeeAccount},
	} {
		if f.value == "" {
			return StatementLine{}, required(f.field)
		}
	}
	switch {
	case !token(l.StatementID):
		return StatementLine{}, badToken("statement_id")
	case !text(l.PayerName) || strings.TrimSpace(l.PayerName) == "":
		return StatementLine{}, badText("payer_name")
	case !token(l.PayerAccount):
		return StatementLine{}, badToken("payer_account")
	case l.PayerAccountType != AccountCorporate && l.PayerAccountType != AccountPersonal:
		return StatementLine{}, fault.Invalidf("payer_account_type", "unknown_account_type",
			"Field \"payer_account_type\" must be %q or %q.", AccountCorporate, AccountPersonal)
	case l.AmountFen <= 0:
		return StatementLine{}, fault.Invalidf("amount_fen", "not_positive", "Field \"amount_fen\" must be a positive whole number of fen.")
	case !currency(l.Currency):
		return StatementLine{}, fault.Invalidf("currency", "invalid_currency", "Field \"currency\" must be an upper-case ISO 4217 code such as \"CNY\".")
	case l.PaidAt.IsZero():
		return StatementLine{}, fault.Invalidf("paid_at", "required", "Field \"paid_at\" is required (RFC 3339).")
	case !token(l.PayeeAccount):
		return StatementLine{}, badToken("payee_account")
	case !text(l.Memo):
		return StatementLine{}, badText("memo")
	}
	return l, nil
}

func currency(s string) bool {
	return len(s) == 3 && 'A' <= s[0] && s[0] <= 'Z' && 'A' <= s[1] && s[1] <= 'Z' && 'A' <= s[2] && s[2] <= 'Z'
}

// maxRecords bounds the memory of a long-running dev server.
const maxRecords = 10000

// Dev accepts transfers without moving money: it records them (the last
// 10,000) for tests and dev routes, which play the bank's callback with
// Status. Safe for concurrent use.
//
// Rules: a transfer to an account ending in 9999 gets no answer (a
// fault.Unavailable error, nothing recorded); resending a recorded ID with
// the same content is accepted once more without a second transfer, with
// other content it is a Conflict; an incomplete transfer is Invalid.
type Dev struct {
	Clock clock.Clock // nil: system clock

	mu    sync.Mutex
	order []string
	byID  map[string]Transfer
}

// NewDev returns a Dev bank on clock c (nil: system clock).
func NewDev(c clock.Clock) *Dev { return &Dev{Clock: c, byID: map[string]Transfer{}} }

// Send records t after the checks a bank would make.
func (d *Dev) Send(ctx context.Context, t Transfer) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := validateTransfer(t); err != nil {
		return err
	}
	if strings.HasSuffix(t.ToAccount, "9999") {
		return fault.New(fault.Unavailable, "bank_unavailable",
			"The bank did not answer; send the transfer again with the same ID in a minute.").Retry(time.Minute)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.byID == nil {
		d.byID = map[string]Transfer{}
	}
	if old, ok := d.byID[t.ID]; ok {
		if old == t {
			return nil
		}
		return fault.New(fault.Conflict, "transfer_id_reused", "A different transfer was already sent with this ID; use a new ID.")
	}
	d.byID[t.ID] = t
	d.order = append(d.order, t.ID)
	if len(d.order) > maxRecords {
		delete(d.byID, d.order[0])
		d.order = d.order[1:]
	}
	return nil
}

func validateTransfer(t Transfer) error {
	switch {
	case !token(t.ID):
		return badToken("id")
	case strings.TrimSpace(t.ToHolder) == "":
		return required("to_holder")
	case strings.TrimSpace(t.ToBank) == "":
		return required("to_bank")
	case strings.TrimSpace(t.ToBranch) == "":
		return required("to_branch")
	case !digits(t.ToAccount, 8, 32):
		return fault.Invalidf("to_account", "invalid_account", "The account number must be 8 to 32 digits.")
	case t.AmountFen <= 0:
		return fault.Invalidf("amount_fen", "not_positive", "A transfer must be for a positive amount.")
	}
	for _, f := range []struct{ field, value string }{
		{"to_holder", t.ToHolder}, {"to_bank", t.ToBank}, {"to_branch", t.ToBranch},
		{"to_province", t.ToProvince}, {"to_city", t.ToCity}, {"memo", t.Memo},
	} {
		if !text(f.value) {
			return badText(f.field)
		}
	}
	return nil
}

func digits(s string, min, max int) bool {
	if len(s) < min || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Transfers returns the recorded transfers, oldest first.
func (d *Dev) Transfers() []Transfer {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]Transfer, len(d.order))
	for i, id := range d.order {
		out[i] = d.byID[id]
	}
	return out
}

// Transfer returns the recorded transfer id.
func (d *Dev) Transfer(id string) (Transfer, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	t, ok := d.byID[id]
	return t, ok
}

// Status plays the bank's callback for transfer id, dated now: succeeded
// when ok, otherwise failed with reason.
func (d *Dev) Status(id string, ok bool, reason string) (TransferStatus, error) {
	if _, found := d.Transfer(id); !found {
		return TransferStatus{}, fault.New(fault.NotFound, "transfer_not_found", "No transfer with this ID was sent.")
	}
	now := time.Now()
	if d.Clock != nil {
		now = d.Clock.Now()
	}
	s := TransferStatus{TransferID: id, Status: StatusSucceeded, At: now.UTC()}
	if !ok {
		s.Status, s.Reason = StatusFailed, reason
	}
	return s, nil
}

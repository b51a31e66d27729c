package bank

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"signet/domain/fault"
	"signet/infra/clock"
)

var _ Transfers = (*Dev)(nil)

var t0 = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

func TestDemoPlatformAccountShape(t *testing.T) {
	a := DemoPlatformAccount
	if !digits(a.Account, 17, 17) || a.Account == "10454000000496333" {
		t.Errorf("account %q: want 17 demo digits, not the seed's real number", a.Account)
	}
	if !digits(a.BranchCode, 12, 12) || !strings.HasPrefix(a.BranchCode, "304") || a.BranchCode == "304331040230" {
		t.Errorf("branch code %q: want 12 demo digits of bank 304", a.BranchCode)
	}
	for _, s := range []string{a.Holder, a.Bank, a.Branch} {
		if !strings.Contains(s, "演示") {
			t.Errorf("%q is not marked as demo", s)
		}
	}
}

func transfer(id string) Transfer {
	return Transfer{ID: id, ToHolder: "杭州井然食品贸易有限公司", ToBank: "中国工商银行", ToBranch: "中国工商银行杭州西湖支行",
		ToProvince: "浙江省", ToCity: "杭州市", ToAccount: "1202020209000012345", Memo: "企业打款认证款项，请在签网页面回填金额", AmountFen: 37}
}

func TestDevSend(t *testing.T) {
	c := clock.NewFake(t0)
	d := NewDev(c)
	ctx := context.Background()
	if err := d.Send(ctx, transfer("tr_1")); err != nil {
		t.Fatal(err)
	}
	// Resending the same order (a retry) transfers nothing more.
	if err := d.Send(ctx, transfer("tr_1")); err != nil {
		t.Fatalf("idempotent resend: %v", err)
	}
	other := transfer("tr_1")
	other.AmountFen = 38
	if err := d.Send(ctx, other); !isKind(err, fault.Conflict) {
		t.Fatalf("reused ID: %v", err)
	}
	if err := d.Send(ctx, transfer("tr_2")); err != nil {
		t.Fatal(err)
	}
	all := d.Transfers()
	if len(all) != 2 || all[0] != transfer("tr_1") || all[1] != transfer("tr_2") {
		t.Fatalf("Transfers = %+v", all)
	}
	if got, ok := d.Transfer("tr_1"); !ok || got != transfer("tr_1") {
		t.Errorf("Transfer(tr_1) = %+v, %v", got, ok)
	}
	if _, ok := d.Transfer("nope"); ok {
		t.Error("unknown transfer found")
	}

	c.Advance(time.Hour)
	s, err := d.Status("tr_1", true, "")
	if err != nil || s != (TransferStatus{TransferID: "tr_1", Status: StatusSucceeded, At: t0.Add(time.Hour)}) {
		t.Fatalf("Status ok = %+v, %v", s, err)
	}
	s, err = d.Status("tr_2", false, "account_closed")
	if err != nil || s.Status != StatusFailed || s.Reason != "account_closed" {
		t.Fatalf("Status failed = %+v, %v", s, err)
	}
	body, _ := json.Marshal(s)
	if back, err := ParseTransferStatus(body); err != nil || back != s {
		t.Fatalf("round trip %s: %+v, %v", body, back, err)
	}
	if _, err := d.Status("nope", true, ""); !isKind(err, fault.NotFound) {
		t.Errorf("Status of unknown: %v", err)
	}
}

func isKind(err error, k fault.Kind) bool {
	f, ok := fault.As(err)
	return ok && f.Kind == k
}

func TestDevSendRefuses(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*Transfer)
		kind  fault.Kind
		field string
	}{
		{"no id", func(t *Transfer) { t.ID = "" }, fault.Invalid, "id"},
		{"id with space", func(t *Transfer) { t.ID = "tr 1" }, fault.Invalid, "id"},
		{"no holder", func(t *Transfer) { t.ToHolder = " " }, fault.Invalid, "to_holder"},
		{"no bank", func(t *Transfer) { t.ToBank = "" }, fault.Invalid, "to_bank"},
		{"no branch", func(t *Transfer) { t.ToBranch = "" }, fault.Invalid, "to_branch"},
		{"no account", func(t *Transfer) { t.ToAccount = "" }, fault.Invalid, "to_account"},
		{"account with letters", func(t *Transfer) { t.ToAccount = "12020202090000ABC" }, fault.Invalid, "to_account"},
		{"account too short", func(t *Transfer) { t.ToAccount = "1234567" }, fault.Invalid, "to_account"},
		{"zero amount", func(t *Transfer) { t.AmountFen = 0 }, fault.Invalid, "amount_fen"},
		{"negative amount", func(t *Transfer) { t.AmountFen = -1 }, fault.Invalid, "amount_fen"},
		{"memo with newline", func(t *Transfer) { t.Memo = "a\nb" }, fault.Invalid, "memo"},
		{"bank does not answer", func(t *Transfer) { t.ToAccount = "1202020209000019999" }, fault.Unavailable, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDev(nil)
			tr := transfer("tr_1")
			tt.edit(&tr)
			err := d.Send(context.Background(), tr)
			f, ok := fault.As(err)
			if !ok || f.Kind != tt.kind || f.Field != tt.field {
				t.Fatalf("err %v, want kind %d on %q", err, tt.kind, tt.field)
			}
			if len(d.Transfers()) != 0 {
				t.Error("refused transfer recorded")
			}
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := NewDev(nil).Send(ctx, transfer("tr_1")); err != context.Canceled {
		t.Errorf("canceled: %v", err)
	}
}

func TestDevConcurrent(t *testing.T) {
	d := NewDev(nil)
	var wg sync.WaitGroup
	for i := range 60 {
		wg.Go(func() {
			if err := d.Send(context.Background(), transfer(fmt.Sprint("tr_", i%20))); err != nil {
				t.Error(err)
			}
			d.Transfer("tr_1")
			_ = d.Transfers()
		})
	}
	wg.Wait()
	if n := len(d.Transfers()); n != 20 {
		t.Fatalf("%d transfers", n)
	}
}

func TestDevKeepsLastRecords(t *testing.T) {
	d := NewDev(nil)
	for i := range maxRecords + 2 {
		if err := d.Send(context.Background(), transfer(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	all := d.Transfers()
	if _, ok := d.Transfer("1"); ok || len(all) != maxRecords || all[0].ID != "2" {
		t.Fatalf("%d transfers, first %q", len(all), all[0].ID)
	}
}

func TestParseTransferStatus(t *testing.T) {
	at := `"at":"2026-03-04T05:06:07Z"`
	tests := []struct {
		name, body  string
		want        TransferStatus
		field, code string
	}{
		{"succeeded", `{"transfer_id":"tr_1","status":"succeeded",` + at + `}`,
			TransferStatus{TransferID: "tr_1", Status: StatusSucceeded, At: t0}, "", ""},
		{"failed", `{"transfer_id":"tr_1","status":"failed","reason":"账户已销户",` + at + `}`,
			TransferStatus{TransferID: "tr_1", Status: StatusFailed, Reason: "账户已销户", At: t0}, "", ""},
		{"no id", `{"status":"failed",` + at + `}`, TransferStatus{}, "transfer_id", "required"},
		{"no status", `{"transfer_id":"tr_1",` + at + `}`, TransferStatus{}, "status", "required"},
		{"unknown status", `{"transfer_id":"tr_1","status":"pending",` + at + `}`, TransferStatus{}, "status", "unknown_status"},
		{"status upper case", `{"transfer_id":"tr_1","status":"SUCCEEDED",` + at + `}`, TransferStatus{}, "status", "unknown_status"},
		{"no at", `{"transfer_id":"tr_1","status":"failed"}`, TransferStatus{}, "at", "required"},
		{"unknown field", `{"transfer_id":"tr_1","status":"failed","amount_fen":1,` + at + `}`, TransferStatus{}, "amount_fen", "unknown_field"},
		{"id as number", `{"transfer_id":1,"status":"failed",` + at + `}`, TransferStatus{}, "transfer_id", "wrong_type"},
		{"trailing data", `{"transfer_id":"tr_1","status":"failed",` + at + `} x`, TransferStatus{}, "", "malformed_json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseTransferStatus([]byte(tt.body))
			if tt.code == "" {
				if err != nil || !got.At.Equal(tt.want.At) {
					t.Fatalf("= %+v, %v", got, err)
				}
				got.At = tt.want.At
				if got != tt.want {
					t.Fatalf("= %+v, want %+v", got, tt.want)
				}
				return
			}
			f, ok := fault.As(err)
			if !ok || f.Kind != fault.Invalid || f.Field != tt.field || f.Code != tt.code {
				t.Fatalf("err %v, want %s on %q", err, tt.code, tt.field)
			}
		})
	}
}

func statementJSON(edit func(map[string]any)) string {
	m := map[string]any{
		"statement_id": "st_20260304_0001", "payer_name": "杭州井然食品贸易有限公司", "payer_account": "1202020209000012345",
		"payer_account_type": "corporate", "amount_fen": 1, "currency": "CNY", "paid_at": "2026-03-04T13:06:07+08:00",
		"payee_account": DemoPlatformAccount.Account, "memo": "签网认证 ENT-42",
	}
	if edit != nil {
		edit(m)
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func TestParseStatementLine(t *testing.T) {
	want := StatementLine{StatementID: "st_20260304_0001", PayerName: "杭州井然食品贸易有限公司", PayerAccount: "1202020209000012345",
		PayerAccountType: AccountCorporate, AmountFen: 1, Currency: "CNY", PaidAt: t0, PayeeAccount: DemoPlatformAccount.Account, Memo: "签网认证 ENT-42"}
	del := func(k string) func(map[string]any) { return func(m map[string]any) { delete(m, k) } }
	set := func(k string, v any) func(map[string]any) { return func(m map[string]any) { m[k] = v } }
	tests := []struct {
		name        string
		edit        func(map[string]any)
		field, code string
		adjust      func(*StatementLine) // of want, for accepted lines
	}{
		{"good", nil, "", "", nil},
		{"personal payer", set("payer_account_type", "personal"), "", "", func(l *StatementLine) { l.PayerAccountType = AccountPersonal }},
		{"no memo", del("memo"), "", "", func(l *StatementLine) { l.Memo = "" }},
		{"big amount in USD", func(m map[string]any) { m["amount_fen"] = int64(1) << 62; m["currency"] = "USD" }, "", "",
			func(l *StatementLine) { l.AmountFen, l.Currency = 1<<62, "USD" }},
		{"no statement id", del("statement_id"), "statement_id", "required", nil},
		{"no payer name", del("payer_name"), "payer_name", "required", nil},
		{"blank payer name", set("payer_name", "  "), "payer_name", "invalid_text", nil},
		{"no payer account", del("payer_account"), "payer_account", "required", nil},
		{"no account type", del("payer_account_type"), "payer_account_type", "required", nil},
		{"unknown account type", set("payer_account_type", "business"), "payer_account_type", "unknown_account_type", nil},
		{"no amount", del("amount_fen"), "amount_fen", "not_positive", nil},
		{"zero amount", set("amount_fen", 0), "amount_fen", "not_positive", nil},
		{"negative amount", set("amount_fen", -1), "amount_fen", "not_positive", nil},
		{"fractional amount", set("amount_fen", 0.5), "amount_fen", "wrong_type", nil},
		{"amount as string", set("amount_fen", "1"), "amount_fen", "wrong_type", nil},
		{"no currency", del("currency"), "currency", "required", nil},
		{"lower-case currency", set("currency", "cny"), "currency", "invalid_currency", nil},
		{"long currency", set("currency", "CNYY"), "currency", "invalid_currency", nil},
		{"no paid_at", del("paid_at"), "paid_at", "required", nil},
		{"no payee", del("payee_account"), "payee_account", "required", nil},
		{"payee with space", set("payee_account", "1045 0000"), "payee_account", "invalid_id", nil},
		{"memo with control", set("memo", "a\u0000b"), "memo", "invalid_text", nil},
		{"long memo", set("memo", strings.Repeat("款", 100)), "memo", "invalid_text", nil},
		{"unknown field", set("fee_fen", 0), "fee_fen", "unknown_field", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseStatementLine([]byte(statementJSON(tt.edit)))
			if tt.code == "" {
				w := want
				if err != nil || !got.PaidAt.Equal(t0) {
					t.Fatalf("= %+v, %v", got, err)
				}
				got.PaidAt = t0
				if tt.adjust != nil {
					tt.adjust(&w)
				}
				if got != w {
					t.Fatalf("= %+v, want %+v", got, w)
				}
				return
			}
			f, ok := fault.As(err)
			if !ok || f.Kind != fault.Invalid || f.Field != tt.field || f.Code != tt.code {
				t.Fatalf("err %v, want %s on %q", err, tt.code, tt.field)
			}
		})
	}
}

func FuzzParseTransferStatus(f *testing.F) {
	f.Add([]byte(`{"transfer_id":"tr_1","status":"succeeded","at":"2026-03-04T05:06:07Z"}`))
	f.Add([]byte(`{"transfer_id":"tr_1","status":"failed","reason":"x","at":"2026-03-04T05:06:07.5+08:00"}`))
	f.Add([]byte(`{"Transfer_ID":"a","STATUS":"failed","at":"0001-01-01T00:00:00Z"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		s, err := ParseTransferStatus(body)
		if err != nil {
			if _, ok := fault.As(err); !ok {
				t.Fatalf("plain error %v", err)
			}
			return
		}
		if !token(s.TransferID) || (s.Status != StatusSucceeded && s.Status != StatusFailed) || s.At.IsZero() || !utf8.ValidString(s.Reason) {
			t.Fatalf("accepted %+v", s)
		}
		again, err := json.Marshal(s)
		if err != nil {
			t.Fatalf("accepted %+v cannot be encoded: %v", s, err)
		}
		s2, err := ParseTransferStatus(again)
		if err != nil || s2.TransferID != s.TransferID || s2.Status != s.Status || s2.Reason != s.Reason || !s2.At.Equal(s.At) {
			t.Fatalf("round trip of %+v: %+v, %v", s, s2, err)
		}
	})
}

func FuzzParseStatementLine(f *testing.F) {
	f.Add([]byte(statementJSON(nil)))
	f.Add([]byte(statementJSON(func(m map[string]any) { m["amount_fen"] = 9223372036854775807; m["currency"] = "USD" })))
	f.Add([]byte(`{"statement_id":"a","payer_name":"b","payer_account":"c","payer_account_type":"personal","amount_fen":1,"currency":"CNY","paid_at":"2026-03-04T05:06:07Z","payee_account":"d"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		l, err := ParseStatementLine(body)
		if err != nil {
			if _, ok := fault.As(err); !ok {
				t.Fatalf("plain error %v", err)
			}
			return
		}
		if l.AmountFen <= 0 || !currency(l.Currency) || l.PaidAt.IsZero() || !token(l.StatementID) || !token(l.PayeeAccount) ||
			(l.PayerAccountType != AccountCorporate && l.PayerAccountType != AccountPersonal) {
			t.Fatalf("accepted %+v", l)
		}
		again, err := json.Marshal(l)
		if err != nil {
			t.Fatalf("accepted %+v cannot be encoded: %v", l, err)
		}
		l2, err := ParseStatementLine(again)
		if err != nil || !l2.PaidAt.Equal(l.PaidAt) {
			t.Fatalf("round trip of %+v: %+v, %v", l, l2, err)
		}
		l2.PaidAt = l.PaidAt
		if l2 != l {
			t.Fatalf("round trip of %+v: %+v", l, l2)
		}
	})
}

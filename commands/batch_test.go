package commands_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"signet/commands"
	"signet/domain/batch"
	"signet/domain/contract"
	"signet/domain/enterprise"
	"signet/domain/event"
	"signet/domain/fault"
	"signet/domain/layout"
)

// batchWorld: a registered sender, master admin of a verified enterprise
// with a quota, and a two-party template (person 乙方, enterprise 甲方,
// a required number field 金额).
type batchWorld struct {
	*world
	sender, ent, tpl string
}

func newBatchWorld(t *testing.T, quota int, opts ...option) *batchWorld {
	t.Helper()
	w := newWorld(t, opts...)
	code := w.requestCode(t, "13800138000")
	reg, err := w.cmds.RegisterAccount.Handle(ctx, registration("13800138000", code))
	if err != nil {
		t.Fatal(err)
	}
	bw := &batchWorld{world: w, sender: reg.AccountID}
	bw.ent = givenEnterprise(t, w, map[string]enterprise.Role{bw.sender: enterprise.MasterAdmin})
	bw.grant(t, quota)
	bw.tpl = createTemplate(t, w, bw.sender, bw.ent)
	a := act(bw.sender)
	tc := w.cmds.Templates
	doc, err := tc.AddDocument.Handle(ctx, commands.AddTemplateDocument{Actor: a, TemplateID: bw.tpl, Name: "采购合同", BlankPages: 2})
	if err != nil {
		t.Fatal(err)
	}
	person, err := tc.AddRole.Handle(ctx, commands.AddTemplateRole{Actor: a, TemplateID: bw.tpl, Name: "乙方", Kind: layout.Person, Order: 1})
	if err != nil {
		t.Fatal(err)
	}
	company, err := tc.AddRole.Handle(ctx, commands.AddTemplateRole{Actor: a, TemplateID: bw.tpl, Name: "甲方", Kind: layout.Enterprise, Order: 2})
	if err != nil {
		t.Fatal(err)
	}
	d := doc.Document.ID
	for _, f := range []layout.Field{
		{Kind: layout.Signature, RoleID: person.Role.ID, DocumentID: d, Page: 2, Rect: layout.Rect{X: 100, Y: 100, W: 120, H: 60}},
		{Kind: layout.Seal, RoleID: company.Role.ID, DocumentID: d, Page: 2, Rect: layout.Rect{X: 300, Y: 100, W: 120, H: 120}},
		{Kind: layout.Number, Name: "金额", Required: true, DocumentID: d, Page: 1, Rect: layout.Rect{X: 100, Y: 700, W: 150, H: 20}},
	} {
		if _, err := tc.PlaceField.Handle(ctx, commands.PlaceTemplateField{Actor: a, TemplateID: bw.tpl, Field: f}); err != nil {
			t.Fatal(err)
		}
	}
	return bw
}

func (bw *batchWorld) grant(t *testing.T, n int) {
	t.Helper()
	if n == 0 {
		return
	}
	h := commands.NewGrantEnterpriseQuotaHandler(commands.Deps{Events: bw.store, Clock: bw.clock, Logger: discard()})
	if _, err := h.Handle(ctx, commands.GrantEnterpriseQuota{EnterpriseID: bw.ent, Amount: n, Reason: "test", GrantedBy: "staff"}); err != nil {
		t.Fatal(err)
	}
}

// csvSheet is a UTF-8 CSV with a byte order mark, as Excel saves "CSV UTF-8".
func csvSheet(t *testing.T, rows [][]string) []byte {
	t.Helper()
	var b bytes.Buffer
	b.WriteString("\ufeff")
	w := csv.NewWriter(&b)
	w.WriteAll(append([][]string{{"合同标题", "乙方姓名", "乙方手机号/邮箱", "甲方企业名称", "甲方经办人姓名", "甲方手机号/邮箱", "金额", "签署截止日期"}}, rows...))
	if err := w.Error(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func row(i int) []string {
	return []string{fmt.Sprintf("采购合同 %d", i), "林某某", fmt.Sprintf("1351234%04d", i), entName, "井然", "boss@example.com", fmt.Sprint(1000 + i), "2026-12-31"}
}

func rows(n int) [][]string {
	var out [][]string
	for i := range n {
		out = append(out, row(i))
	}
	return out
}

func (bw *batchWorld) check(t *testing.T, sheet []byte) commands.CheckBatchSheetResult {
	t.Helper()
	res, err := bw.cmds.Batches.Check.Handle(ctx, commands.CheckBatchSheet{Actor: act(bw.sender), TemplateID: bw.tpl, EnterpriseID: bw.ent,
		FileName: "批量发送.csv", File: commands.Upload{Data: sheet}})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func (bw *batchWorld) load(t *testing.T, id string) *batch.Batch {
	t.Helper()
	envs, err := bw.store.ReadStream(ctx, batch.StreamOf(id), 1, event.Forwards, 0)
	if err != nil {
		t.Fatal(err)
	}
	b, err := batch.Replay(envs)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// runner runs a BatchRunner that polls the given batches until the test ends.
func (bw *batchWorld) runner(t *testing.T, workers int, ids ...string) {
	t.Helper()
	c, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		commands.BatchRunner{Running: listed(ids), Batches: bw.cmds.Batches, Workers: workers, Interval: 20 * time.Millisecond, Logger: discard()}.Run(c)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
}

// listed stands for the running batches' read model.
type listed []string

func (l listed) Running(context.Context) ([]string, error) { return l, nil }

func (bw *batchWorld) waitFor(t *testing.T, id string, status batch.Status) *batch.Batch {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		b := bw.load(t, id)
		if b.Status() == status {
			return b
		}
		if time.Now().After(deadline) {
			t.Fatalf("batch %s is %s (%d sent, %d failed of %d), want %s", id, b.Status(), b.Sent(), b.Failed(), b.Count(), status)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// ledger counts what the whole log holds for contracts.
type ledger struct {
	created map[string]int // contract ID -> ContractCreated events
	numbers map[string]int // reserved number -> reservations
	spends  map[string]int // contract ID -> quota spends
}

func (bw *batchWorld) ledger(t *testing.T) ledger {
	t.Helper()
	l := ledger{created: map[string]int{}, numbers: map[string]int{}, spends: map[string]int{}}
	for after := uint64(0); ; {
		envs, err := bw.store.ReadAll(ctx, after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(envs) == 0 {
			return l
		}
		for _, env := range envs {
			after = env.Position
			switch env.Type {
			case contract.TypeContractCreated:
				e, _ := contract.DecodeEnvelope(env)
				l.created[e.(contract.ContractCreated).ContractID]++
			case contract.TypeContractNumberReserved:
				l.numbers[strings.TrimPrefix(env.Stream, contract.NumberCategory+"-")]++
			case enterprise.TypeContractQuotaUsed:
				e, _ := enterprise.DecodeEnvelope(env)
				l.spends[e.(enterprise.ContractQuotaUsed).ContractID]++
			}
		}
	}
}

// exactlyOnce checks that the batch's n rows made n contracts, each
// created, numbered and paid once, and recorded under its row's ID.
func (bw *batchWorld) exactlyOnce(t *testing.T, id string, n int) {
	t.Helper()
	l := bw.ledger(t)
	if len(l.created) != n || len(l.numbers) != n || len(l.spends) != n {
		t.Fatalf("%d contracts, %d numbers, %d spends; want %d each", len(l.created), len(l.numbers), len(l.spends), n)
	}
	for cid, k := range l.created {
		if k != 1 || l.spends[cid] != 1 {
			t.Fatalf("contract %s created %d times, paid %d times", cid, k, l.spends[cid])
		}
	}
	for num, k := range l.numbers {
		if k != 1 {
			t.Fatalf("number %s reserved %d times", num, k)
		}
	}
	used, _, err := commands.QuotaUsed(ctx, bw.store, enterprise.QuotaStream(bw.ent))
	if err != nil || used != n {
		t.Fatalf("quota used %d (%v), want %d", used, err, n)
	}
	envs, err := bw.store.ReadStream(ctx, batch.StreamOf(id), 1, event.Forwards, 0)
	if err != nil {
		t.Fatal(err)
	}
	recorded := map[int]bool{}
	for _, env := range envs {
		e, err := batch.DecodeEnvelope(env)
		if err != nil {
			t.Fatal(err)
		}
		if s, ok := e.(batch.RowSent); ok {
			if recorded[s.Index] || s.ContractID != batch.RowContractID(id, s.Index) || l.created[s.ContractID] != 1 {
				t.Fatalf("row %d recorded again or with contract %s", s.Index, s.ContractID)
			}
			recorded[s.Index] = true
		}
	}
	if len(recorded) != n {
		t.Fatalf("%d rows recorded as sent, want %d", len(recorded), n)
	}
}

func TestBatchChecksSendsAndCompletes(t *testing.T) {
	bw := newBatchWorld(t, 10)
	sheetRows := append(rows(4), with(row(4), 2, "12345"), row(1)) // a bad phone; a repeat of row 3
	res := bw.check(t, csvSheet(t, sheetRows))
	c := res.Checked
	if c.Total != 6 || c.Valid != 4 || c.Invalid != 2 || c.Format != "csv" || c.ErrorSheetSHA256 == "" || res.QuotaLeft != 10 || res.Position == 0 {
		t.Fatalf("checked %+v, quota left %d", c, res.QuotaLeft)
	}
	if len(res.Errors) != 2 || res.Errors[0].Line != 6 || res.Errors[0].Column != "乙方手机号/邮箱" || res.Errors[0].Code != "invalid_contact" ||
		res.Errors[1].Line != 7 || res.Errors[1].Code != "duplicate_row" || !strings.Contains(res.Errors[1].Message, "row 3") {
		t.Fatalf("errors %+v", res.Errors)
	}
	_, err := bw.cmds.Batches.Start.Handle(ctx, commands.StartBatch{Actor: act(bw.sender), BatchID: c.BatchID, Rows: batch.RowsAll})
	wantCode(t, err, "sheet_has_errors")

	bw.runner(t, 4)
	if _, err := bw.cmds.Batches.Start.Handle(ctx, commands.StartBatch{Actor: act(bw.sender), BatchID: c.BatchID, Rows: batch.RowsValid}); err != nil {
		t.Fatal(err)
	}
	b := bw.waitFor(t, c.BatchID, batch.StatusCompleted)
	if b.Sent() != 4 || b.Failed() != 0 {
		t.Fatalf("sent %d failed %d", b.Sent(), b.Failed())
	}
	bw.exactlyOnce(t, c.BatchID, 4)
	// The parties were told, as for a single contract.
	if _, ok := bw.notes.Last("13512340003"); !ok {
		t.Fatal("row 3's person was not notified")
	}
	_, err = bw.cmds.Batches.Cancel.Handle(ctx, commands.CancelBatch{Actor: act(bw.sender), BatchID: c.BatchID})
	wantCode(t, err, "batch_completed")
}

func with(r []string, i int, v string) []string {
	r = append([]string(nil), r...)
	r[i] = v
	return r
}

func TestBatchCheckRefusals(t *testing.T) {
	bw := newBatchWorld(t, 10)
	stranger := "0190f0a4-0000-7000-8000-000000000001"
	cases := []struct {
		name  string
		actor string
		tpl   string
		sheet []byte
		code  string
		field string
	}{
		{"not a sheet", bw.sender, bw.tpl, []byte("%PDF-1.7\n\x00\x01\x02binary"), "not_a_sheet", "file"},
		{"header of another template", bw.sender, bw.tpl, []byte("姓名,手机\n张三,13800138000\n"), "sheet_header_mismatch", "file"},
		{"no rows", bw.sender, bw.tpl, csvSheet(t, nil), "empty_sheet", "file"},
		{"unknown template", bw.sender, "0190f0a4-0000-7000-8000-00000000000f", csvSheet(t, rows(1)), "template_not_found", "template_id"},
		{"not allowed to use the template", stranger, bw.tpl, csvSheet(t, rows(1)), "not_template_user", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			head := bw.head(t)
			_, err := bw.cmds.Batches.Check.Handle(ctx, commands.CheckBatchSheet{Actor: act(c.actor), TemplateID: c.tpl, EnterpriseID: bw.ent,
				FileName: "x.csv", File: commands.Upload{Data: c.sheet}})
			f := wantCodeField(t, err, c.code)
			if f != c.field {
				t.Fatalf("field %q, want %q", f, c.field)
			}
			if bw.head(t) != head {
				t.Fatal("a refused check wrote events")
			}
		})
	}
}

func wantCodeField(t *testing.T, err error, code string) string {
	t.Helper()
	wantCode(t, err, code)
	f, _ := fault.As(err)
	return f.Field
}

// Sending a row is three appends (number, quota, contract) and recording
// it a fourth (batch). Whichever of them fails, before or after the store
// kept it (an answer lost in a crash), the batch ends with each row one
// contract, one number, one quota unit: the last row's quota spend is
// even the last unit of the quota.
func TestBatchRowCrashBetweenAppends(t *testing.T) {
	const n = 3
	for _, category := range []string{contract.NumberCategory, enterprise.QuotaCategory, contract.Category, batch.Category} {
		for _, after := range []bool{false, true} {
			name := category + "/before"
			if after {
				name = category + "/after"
			}
			t.Run(name, func(t *testing.T) {
				crash := &rowCrashStore{category: category, after: after, at: n}
				if category == batch.Category {
					crash.at = 3 // the check, the start, then the first rows
				}
				bw := newBatchWorld(t, n, withEvents(func(s commands.EventStore) commands.EventStore { crash.EventStore = s; return crash }))
				id := bw.check(t, csvSheet(t, rows(n))).Checked.BatchID
				if _, err := bw.cmds.Batches.Start.Handle(ctx, commands.StartBatch{Actor: act(bw.sender), BatchID: id, Rows: batch.RowsValid}); err != nil {
					t.Fatal(err)
				}
				bw.runner(t, 1, id)
				bw.waitFor(t, id, batch.StatusCompleted)
				if !crash.crashed() {
					t.Fatal("no append crashed")
				}
				bw.exactlyOnce(t, id, n)
			})
		}
	}
}

var errRowCrash = errors.New("injected crash")

// rowCrashStore fails the at-th append to streams of a category, once:
// before writing it, or after (the answer is lost).
type rowCrashStore struct {
	commands.EventStore
	category string
	after    bool
	at       int

	mu   sync.Mutex
	seen int
}

func (c *rowCrashStore) crashed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.seen >= c.at
}

func (c *rowCrashStore) Append(ctx context.Context, stream string, expected event.ExpectedVersion, evs ...event.New) (event.AppendResult, error) {
	if event.Category(stream) == c.category {
		c.mu.Lock()
		c.seen++
		crash := c.seen == c.at
		c.mu.Unlock()
		if crash {
			if c.after {
				if _, err := c.EventStore.Append(ctx, stream, expected, evs...); err != nil {
					return event.AppendResult{}, err
				}
			}
			return event.AppendResult{}, errRowCrash
		}
	}
	return c.EventStore.Append(ctx, stream, expected, evs...)
}

func TestBatchPausesWhenTheQuotaRunsOutAndResumes(t *testing.T) {
	bw := newBatchWorld(t, 3)
	id := bw.check(t, csvSheet(t, rows(5))).Checked.BatchID
	bw.runner(t, 2)
	if _, err := bw.cmds.Batches.Start.Handle(ctx, commands.StartBatch{Actor: act(bw.sender), BatchID: id, Rows: batch.RowsValid}); err != nil {
		t.Fatal(err)
	}
	b := bw.waitFor(t, id, batch.StatusPaused)
	p, _ := b.Paused()
	if b.Sent() != 3 || b.Failed() != 0 || p.Reason != batch.PausedQuotaExhausted || !strings.Contains(p.Message, "3 of 5") {
		t.Fatalf("paused with %d sent, %d failed: %+v", b.Sent(), b.Failed(), p)
	}
	_, err := bw.cmds.Batches.Resume.Handle(ctx, commands.ResumeBatch{Actor: act(bw.sender), BatchID: id})
	wantCode(t, err, "quota_exhausted")
	bw.grant(t, 2)
	if _, err := bw.cmds.Batches.Resume.Handle(ctx, commands.ResumeBatch{Actor: act(bw.sender), BatchID: id}); err != nil {
		t.Fatal(err)
	}
	bw.waitFor(t, id, batch.StatusCompleted)
	bw.exactlyOnce(t, id, 5)
}

func TestBatchCancelSendsNoMoreRows(t *testing.T) {
	gate := &gatedStore{at: 3, entered: make(chan struct{}), release: make(chan struct{})}
	bw := newBatchWorld(t, 20, withEvents(func(s commands.EventStore) commands.EventStore { gate.EventStore = s; return gate }))
	id := bw.check(t, csvSheet(t, rows(10))).Checked.BatchID
	bw.runner(t, 1)
	if _, err := bw.cmds.Batches.Start.Handle(ctx, commands.StartBatch{Actor: act(bw.sender), BatchID: id, Rows: batch.RowsValid}); err != nil {
		t.Fatal(err)
	}
	<-gate.entered // the third contract is being written
	res, err := bw.cmds.Batches.Cancel.Handle(ctx, commands.CancelBatch{Actor: act(bw.sender), BatchID: id})
	if err != nil || res.Status != batch.StatusCancelled {
		t.Fatalf("cancel: %v %+v", err, res)
	}
	time.Sleep(50 * time.Millisecond) // the runner hears of it
	close(gate.release)
	time.Sleep(300 * time.Millisecond) // time it would need to send more
	l := bw.ledger(t)
	if len(l.created) != 3 {
		t.Fatalf("%d contracts after cancelling during the third, want 3", len(l.created))
	}
	b := bw.load(t, id)
	if b.Status() != batch.StatusCancelled || b.Sent() != 3 {
		t.Fatalf("batch %s with %d recorded", b.Status(), b.Sent())
	}
	_, err = bw.cmds.Batches.Resume.Handle(ctx, commands.ResumeBatch{Actor: act(bw.sender), BatchID: id})
	wantCode(t, err, "batch_ended")
}

// gatedStore holds the at-th contract append until released.
type gatedStore struct {
	commands.EventStore
	at      int
	entered chan struct{}
	release chan struct{}
	mu      sync.Mutex
	n       int
}

func (g *gatedStore) Append(ctx context.Context, stream string, expected event.ExpectedVersion, evs ...event.New) (event.AppendResult, error) {
	if event.Category(stream) == contract.Category {
		g.mu.Lock()
		g.n++
		hold := g.n == g.at
		g.mu.Unlock()
		if hold {
			close(g.entered)
			<-g.release
		}
	}
	return g.EventStore.Append(ctx, stream, expected, evs...)
}

func TestBatchAccess(t *testing.T) {
	bw := newBatchWorld(t, 10)
	code := bw.requestCode(t, "13800138001")
	other, err := bw.cmds.RegisterAccount.Handle(ctx, registration("13800138001", code))
	if err != nil {
		t.Fatal(err)
	}
	id := bw.check(t, csvSheet(t, rows(2))).Checked.BatchID
	_, err = bw.cmds.Batches.Start.Handle(ctx, commands.StartBatch{Actor: act(other.AccountID), BatchID: id, Rows: batch.RowsValid})
	wantCode(t, err, "not_batch_sender")
	_, err = bw.cmds.Batches.Cancel.Handle(ctx, commands.CancelBatch{Actor: act(other.AccountID), BatchID: id})
	wantCode(t, err, "not_batch_sender")
	_, err = bw.cmds.Batches.Start.Handle(ctx, commands.StartBatch{Actor: act(other.AccountID), BatchID: "0190f0a4-0000-7000-8000-0000000000ff", Rows: batch.RowsValid})
	wantCode(t, err, "batch_not_found")
	// An administrator of the enterprise may act on it.
	appendEnterprise(t, bw.world, bw.ent, enterprise.MemberJoined{AccountID: other.AccountID, Role: enterprise.Admin, JoinedAt: t0})
	if _, err := bw.cmds.Batches.Cancel.Handle(ctx, commands.CancelBatch{Actor: act(other.AccountID), BatchID: id}); err != nil {
		t.Fatal(err)
	}
}

// A send with a given contract ID, repeated, is one contract.
func TestSendWithContractIDIsIdempotent(t *testing.T) {
	bw := newBatchWorld(t, 1)
	id := batch.RowContractID("0190f0a4-0000-7000-8000-0000000000aa", 0)
	tp := loadTemplate(t, bw.world, bw.tpl)
	var person, company, amount string
	for _, r := range tp.Snapshot().Roles {
		if r.Kind == layout.Person {
			person = r.ID
		} else {
			company = r.ID
		}
	}
	for _, f := range tp.Snapshot().Fields {
		if f.Kind == layout.Number {
			amount = f.ID
		}
	}
	cmd := commands.SendContract{Actor: act(bw.sender), EnterpriseID: bw.ent, TemplateID: bw.tpl, ContractID: id,
		Parties: map[string]contract.PartyInput{person: {Name: "林某某", Contact: "13512340001"}, company: {Name: "井然", Contact: "boss@example.com", EnterpriseName: entName}},
		Values:  map[string]string{amount: "100"}, SigningDeadline: t0.Add(7 * 24 * time.Hour)}
	first, err := bw.cmds.Contracts.Send.Handle(ctx, cmd)
	if err != nil {
		t.Fatal(err)
	}
	again, err := bw.cmds.Contracts.Send.Handle(ctx, cmd) // the quota is used up by now
	if err != nil || again.ContractID != id || again.Number != first.Number || again.Status != first.Status {
		t.Fatalf("again: %v %+v, first %+v", err, again, first)
	}
	cmd.Actor = act("0190f0a4-0000-7000-8000-0000000000bb")
	_, err = bw.cmds.Contracts.Send.Handle(ctx, cmd)
	wantCode(t, err, "contract_exists")
	cmd.ContractID = "not-a-uuid"
	_, err = bw.cmds.Contracts.Send.Handle(ctx, cmd)
	wantCode(t, err, "invalid_contract_id")
}

// Rows of an enterprise that requires approval wait for the approver, as
// single contracts do: recorded as sent awaiting approval, no quota used yet.
func TestBatchRowsAwaitApproval(t *testing.T) {
	bw := newBatchWorld(t, 5)
	approver := "0190f0a4-0000-7000-8000-0000000000cc"
	appendEnterprise(t, bw.world, bw.ent, enterprise.MemberJoined{AccountID: approver, Role: enterprise.Admin, JoinedAt: t0},
		enterprise.ApprovalPolicySet{Required: true, Approvers: []string{approver}, SetBy: bw.sender, SetAt: t0})
	id := bw.check(t, csvSheet(t, rows(2))).Checked.BatchID
	bw.runner(t, 2)
	if _, err := bw.cmds.Batches.Start.Handle(ctx, commands.StartBatch{Actor: act(bw.sender), BatchID: id, Rows: batch.RowsValid}); err != nil {
		t.Fatal(err)
	}
	bw.waitFor(t, id, batch.StatusCompleted)
	envs, err := bw.store.ReadStream(ctx, batch.StreamOf(id), 1, event.Forwards, 0)
	if err != nil {
		t.Fatal(err)
	}
	waiting := 0
	for _, env := range envs {
		if e, _ := batch.DecodeEnvelope(env); e != nil {
			if s, ok := e.(batch.RowSent); ok && s.Status == batch.SentAwaitingApproval {
				waiting++
			}
		}
	}
	used, _, _ := commands.QuotaUsed(ctx, bw.store, enterprise.QuotaStream(bw.ent))
	if waiting != 2 || used != 0 {
		t.Fatalf("%d rows awaiting approval, %d contracts of quota used", waiting, used)
	}
}

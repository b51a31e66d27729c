package commands_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"signet/commands"
	"signet/domain/enterprise"
	"signet/domain/event"
	"signet/domain/fault"
	"signet/infra/bank"
)

const testUSCC = "91350100M000100Y43"

// depositCase walks an enterprise of account up to an entered-but-unconfirmed
// micro-deposit and returns its ID and the amount paid.
func depositCase(t *testing.T, w *world, accountID string) (string, int64) {
	t.Helper()
	id, a := openCase(t, w, accountID, entName, enterprise.MethodMicroDeposit)
	dep, err := w.cmds.RequestMicroDeposit.Handle(ctx, commands.RequestMicroDeposit{Actor: a, EnterpriseID: id, Account: enterprise.BankAccount{
		Bank: "招商银行", Branch: "杭州高新支行", Province: "浙江省", City: "杭州市", AccountNumber: "6214830112345678"}})
	if err != nil {
		t.Fatal(err)
	}
	tr, ok := w.bank.Transfer(dep.TransferID)
	if !ok {
		t.Fatalf("the bank was not asked to pay %s", dep.TransferID)
	}
	return id, tr.AmountFen
}

func enterpriseEvents(t *testing.T, w *world, id string) []string {
	t.Helper()
	envs, err := w.store.ReadStream(ctx, enterprise.StreamOf(id), 1, event.Forwards, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, env := range envs {
		out = append(out, env.Type)
	}
	return out
}

// Two enterprises with one USCC proving themselves at the same moment: the
// event store's reservation lets exactly one be verified, and the other's
// refusal is recorded.
func TestOneUSCCIsVerifiedOnce(t *testing.T) {
	w := newWorld(t)
	type attempt struct {
		actor commands.Actor
		id    string
		fen   int64
	}
	var attempts []attempt
	for i := range 6 {
		acct := register(t, w, fmt.Sprintf("1380013810%d", i)).AccountID
		id, fen := depositCase(t, w, acct)
		attempts = append(attempts, attempt{commands.Actor{AccountID: acct}, id, fen})
		if i%enterprise.MicroDepositsPerDay == enterprise.MicroDepositsPerDay-1 {
			w.clock.Advance(24 * time.Hour) // one code gets MicroDepositsPerDay deposits a day
		}
	}
	var wg sync.WaitGroup
	errs := make([]error, len(attempts))
	for i, a := range attempts {
		wg.Go(func() {
			_, errs[i] = w.cmds.ConfirmMicroDeposit.Handle(ctx, commands.ConfirmMicroDeposit{Actor: a.actor, EnterpriseID: a.id, Amount: bank.FormatFen(a.fen)})
		})
	}
	wg.Wait()
	verified := 0
	for i, err := range errs {
		evs := strings.Join(enterpriseEvents(t, w, attempts[i].id), ",")
		switch {
		case err == nil:
			verified++
			if !strings.Contains(evs, "EnterpriseVerified") || !strings.HasSuffix(evs, "ContractQuotaGranted,SealCreated") {
				t.Errorf("%s said verified without the events (or its default seal): %s", attempts[i].id, evs)
			}
		case errors.Is(err, enterprise.ErrUSCCTaken):
			if strings.Contains(evs, "EnterpriseVerified") || strings.Contains(evs, "SealCreated") || !strings.HasSuffix(evs, "WillingnessCheckFailed") {
				t.Errorf("refused %s has events %s", attempts[i].id, evs)
			}
		default:
			t.Errorf("attempt %d: %v", i, err)
		}
	}
	if verified != 1 {
		t.Fatalf("%d enterprises verified with one USCC", verified)
	}
}

// A statement line delivered many times at once is judged once.
func TestStatementIsJudgedOnce(t *testing.T) {
	w := newWorld(t)
	acct := register(t, w, "13800138200").AccountID
	a := commands.Actor{AccountID: acct}
	id, _ := depositCase(t, w, acct)
	if _, err := w.cmds.ChooseMethod.Handle(ctx, commands.ChooseMethod{Actor: a, EnterpriseID: id, Method: enterprise.MethodReverse}); err != nil {
		t.Fatal(err)
	}
	req, err := w.cmds.RequestReverseDeposit.Handle(ctx, commands.RequestReverseDeposit{Actor: a, EnterpriseID: id,
		Acknowledged: map[string]bool{"payment_terms": true, "matching_conditions": true}})
	if err != nil {
		t.Fatal(err)
	}
	line := bank.StatementLine{StatementID: "ST-1", PayerName: "杭州井然食品贸易有限公司", PayerAccount: "123456789", PayerAccountType: "corporate",
		AmountFen: 1, Currency: "CNY", PaidAt: w.clock.Now(), PayeeAccount: req.Request.PayTo.AccountNumber}
	outcomes := make(chan string, 8)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			res, err := w.cmds.Statement.Handle(ctx, commands.StatementCallback{Line: line})
			if f, ok := fault.As(err); ok && f.Code == "concurrent_change" {
				outcomes <- "conflict"
				return
			}
			if err != nil {
				t.Error(err)
			}
			outcomes <- res.Outcome
		})
	}
	wg.Wait()
	close(outcomes)
	count := map[string]int{}
	for o := range outcomes {
		count[o]++
	}
	if count["matched"] != 1 || count["matched"]+count["duplicate"]+count["conflict"] != 8 {
		t.Fatalf("outcomes %v", count)
	}
	if n := strings.Count(strings.Join(enterpriseEvents(t, w, id), ","), "EnterpriseVerified"); n != 1 {
		t.Fatalf("%d EnterpriseVerified", n)
	}
}

// The amount of a micro-deposit cannot be guessed by asking for deposit
// after deposit: two a day per code, three per case, each refusal recorded.
func TestMicroDepositsAreLimited(t *testing.T) {
	w := newWorld(t)
	acct := register(t, w, "13800138230").AccountID
	a := commands.Actor{AccountID: acct}
	id, _ := depositCase(t, w, acct)
	again := func() error {
		t.Helper()
		// The last deposit failed at the bank, so a new one may be asked for.
		for _, tr := range w.bank.Transfers() {
			if strings.Contains(tr.ID, id) {
				_, _ = w.cmds.TransferStatus.Handle(ctx, commands.TransferStatusCallback{Status: bank.TransferStatus{TransferID: tr.ID, Status: "failed", Reason: "test"}})
			}
		}
		_, err := w.cmds.RequestMicroDeposit.Handle(ctx, commands.RequestMicroDeposit{Actor: a, EnterpriseID: id, Account: enterprise.BankAccount{
			Bank: "招商银行", Branch: "杭州高新支行", Province: "浙江省", City: "杭州市", AccountNumber: "6214830112345678"}})
		return err
	}
	if err := again(); err != nil { // the second of the day
		t.Fatal(err)
	}
	wantFault(t, again(), fault.RateLimited, "deposit_daily_limit", "")
	w.clock.Advance(24 * time.Hour)
	if err := again(); err != nil { // the case's third
		t.Fatal(err)
	}
	wantFault(t, again(), fault.Rule, "deposit_limit", "")
	evs := strings.Join(enterpriseEvents(t, w, id), ",")
	if strings.Count(evs, "MicroDepositRequested") != enterprise.MicroDepositsPerCase || strings.Count(evs, "WillingnessCheckFailed") != 2 {
		t.Fatalf("events %s", evs)
	}
}

// A reservation left by a verification that never got written is taken
// over after enterprise.ReclaimAfter; the abandoned case then cannot finish.
func TestAbandonedUSCCReservationIsReclaimed(t *testing.T) {
	w := newWorld(t)
	actA := register(t, w, "13800138240").AccountID
	idA, fenA := depositCase(t, w, actA)
	// A's earlier verification reserved the code and died before its
	// EnterpriseVerified was appended.
	n, err := enterprise.NewEvent(commands.UUIDs{}.NewID(), enterprise.USCCReserved{USCC: testUSCC, EnterpriseID: idA, ReservedAt: w.clock.Now()}, event.Metadata{OccurredAt: w.clock.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.store.Append(ctx, enterprise.USCCStream(testUSCC), event.NoStream, n); err != nil {
		t.Fatal(err)
	}
	actB := register(t, w, "13800138241").AccountID
	idB, fenB := depositCase(t, w, actB)
	confirm := func(actor, id string, fen int64) error {
		_, err := w.cmds.ConfirmMicroDeposit.Handle(ctx, commands.ConfirmMicroDeposit{Actor: commands.Actor{AccountID: actor}, EnterpriseID: id, Amount: bank.FormatFen(fen)})
		return err
	}
	if err := confirm(actB, idB, fenB); !errors.Is(err, enterprise.ErrUSCCTaken) {
		t.Fatalf("B within the reclaim window: %v", err)
	}
	w.clock.Advance(enterprise.ReclaimAfter + time.Minute)
	if err := confirm(actB, idB, fenB); err != nil {
		t.Fatalf("B after the window: %v", err)
	}
	if err := confirm(actA, idA, fenA); !errors.Is(err, enterprise.ErrUSCCTaken) {
		t.Fatalf("A after B took the code: %v", err)
	}
}

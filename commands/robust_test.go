package commands_test

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"

	"signet/commands"
	"signet/domain/account"
	"signet/domain/enterprise"
	"signet/domain/event"
	"signet/domain/fault"
	"signet/infra/bank"
	"signet/infra/face"
)

// hiccup lets a test act once, right before the first append that matches:
// append something else to the same stream (a concurrent change), or fail
// the append (the store hiccups).
type hiccup struct {
	commands.EventStore
	mu     sync.Mutex
	match  func(stream string, evs []event.New) bool
	before func(stream string) error // nil: append normally
}

func (h *hiccup) arm(match func(string, []event.New) bool, before func(string) error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.match, h.before = match, before
}

func (h *hiccup) Append(ctx context.Context, stream string, expected event.ExpectedVersion, evs ...event.New) (event.AppendResult, error) {
	h.mu.Lock()
	var before func(string) error
	if h.match != nil && h.match(stream, evs) {
		before, h.match = h.before, nil
	}
	h.mu.Unlock()
	if before != nil {
		if err := before(stream); err != nil {
			return event.AppendResult{}, err
		}
	}
	return h.EventStore.Append(ctx, stream, expected, evs...)
}

func withHiccup(h *hiccup) option {
	return withEvents(func(s commands.EventStore) commands.EventStore { h.EventStore = s; return h })
}

// carrying matches an append to stream that carries an event of type typ.
func carrying(stream, typ string) func(string, []event.New) bool {
	return func(s string, evs []event.New) bool {
		if s != stream {
			return false
		}
		for _, e := range evs {
			if e.Type == typ {
				return true
			}
		}
		return false
	}
}

// concurrentUpload appends a licence upload to the stream, as the operator
// uploading again at that very moment would.
func (w *world) concurrentUpload(t *testing.T) func(string) error {
	return func(stream string) error {
		n, err := enterprise.NewEvent(uuid.NewString(), enterprise.LicenseUploaded{File: enterprise.File{SHA256: strings.Repeat("b", 64), Size: 3, MediaType: "image/png"},
			UploadedAt: w.clock.Now().UTC()}, event.Metadata{OccurredAt: w.clock.Now()})
		if err != nil {
			t.Error(err)
			return nil
		}
		if _, err := w.store.Append(ctx, stream, event.Any, n); err != nil {
			t.Error(err)
		}
		return nil
	}
}

var errDiskHiccup = errors.New("disk I/O error")

func failOnce(string) error { return errDiskHiccup }

// openCase creates an enterprise of accountID named name and chooses m.
func openCase(t *testing.T, w *world, accountID, name string, m enterprise.Method) (string, commands.Actor) {
	t.Helper()
	a := commands.Actor{AccountID: accountID, ClientIP: "10.0.0.3"}
	c, err := w.cmds.CreateEnterprise.Handle(ctx, commands.CreateEnterprise{Actor: a})
	if err != nil {
		t.Fatal(err)
	}
	id := c.EnterpriseID
	img := commands.Upload{Data: []byte("photo " + id), MediaType: "image/png"}
	if _, err := w.cmds.UploadLicense.Handle(ctx, commands.UploadLicense{Actor: a, EnterpriseID: id, File: img}); err != nil {
		t.Fatal(err)
	}
	for _, side := range []enterprise.Side{enterprise.Portrait, enterprise.Emblem} {
		if _, err := w.cmds.UploadIDCard.Handle(ctx, commands.UploadIDCard{Actor: a, EnterpriseID: id, Person: enterprise.LegalRep, Side: side, File: img}); err != nil {
			t.Fatal(err)
		}
	}
	submit(t, w, a, id, name)
	if _, err := w.cmds.ChooseMethod.Handle(ctx, commands.ChooseMethod{Actor: a, EnterpriseID: id, Method: m}); err != nil {
		t.Fatal(err)
	}
	return id, a
}

func submit(t *testing.T, w *world, a commands.Actor, id, name string) {
	t.Helper()
	if _, err := w.cmds.SubmitMaterials.Handle(ctx, commands.SubmitMaterials{Actor: a, EnterpriseID: id, Materials: enterprise.Materials{
		Name: name, USCC: testUSCC, LegalRepName: "井然", LegalRepIDNumber: "11010519491231002X",
		Operator: enterprise.LegalRep, AcceptPersonal: true}}); err != nil {
		t.Fatal(err)
	}
}

var smsCodeRE = regexp.MustCompile(`验证码 (\d{6})`)

func (w *world) smsCode(t *testing.T, phone string) string {
	t.Helper()
	m, ok := w.notes.Last(phone)
	if !ok {
		t.Fatalf("no SMS to %s", phone)
	}
	c := smsCodeRE.FindStringSubmatch(m.Body)
	if c == nil {
		t.Fatalf("no code in %q", m.Body)
	}
	return c[1]
}

func load(t *testing.T, w *world, id string) *enterprise.Enterprise {
	t.Helper()
	envs, err := w.store.ReadStream(ctx, enterprise.StreamOf(id), 1, event.Forwards, 0)
	if err != nil {
		t.Fatal(err)
	}
	e, err := enterprise.Replay(envs)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

const entName = "杭州井然食品贸易有限公司"

// A right code is consumed by the code store before the verification is
// appended; a concurrent change of the enterprise at that moment must not
// lose it (the code cannot be used twice).
func TestRightCodeSurvivesAConcurrentChange(t *testing.T) {
	h := &hiccup{}
	w := newWorld(t, withHiccup(h))
	acct := register(t, w, "13800138301").AccountID
	id, a := openCase(t, w, acct, entName, enterprise.MethodLegalRepPhone)
	if _, err := w.cmds.SendPhoneCode.Handle(ctx, commands.SendPhoneCode{Actor: a, EnterpriseID: id, Phone: "13912345678"}); err != nil {
		t.Fatal(err)
	}
	code := w.smsCode(t, "13912345678")
	h.arm(carrying(enterprise.StreamOf(id), enterprise.TypePhoneVerified), w.concurrentUpload(t))
	res, err := w.cmds.ConfirmPhoneCode.Handle(ctx, commands.ConfirmPhoneCode{Actor: a, EnterpriseID: id, Code: code})
	if err != nil {
		// Acceptable only if saying it again with the same code works.
		if res, err = w.cmds.ConfirmPhoneCode.Handle(ctx, commands.ConfirmPhoneCode{Actor: a, EnterpriseID: id, Code: code}); err != nil {
			t.Fatalf("the right code was lost to a concurrent change: %v (events %v)", err, enterpriseEvents(t, w, id))
		}
	}
	if !res.Verified || !load(t, w, id).Verified() || res.Position == 0 {
		t.Fatalf("result %+v", res)
	}
}

// A payment that matches is never lost: whatever fails between judging the
// statement line and recording the verification, the bank's redelivery of
// the line gets it recorded.
func TestMatchedStatementIsNeverLost(t *testing.T) {
	for _, tc := range []struct {
		name   string
		before func(w *world, t *testing.T) func(string) error
	}{
		{"concurrent change", func(w *world, t *testing.T) func(string) error { return w.concurrentUpload(t) }},
		{"store hiccup", func(*world, *testing.T) func(string) error { return failOnce }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &hiccup{}
			w := newWorld(t, withHiccup(h))
			acct := register(t, w, "13800138302").AccountID
			id, a := openCase(t, w, acct, entName, enterprise.MethodReverse)
			req, err := w.cmds.RequestReverseDeposit.Handle(ctx, commands.RequestReverseDeposit{Actor: a, EnterpriseID: id,
				Acknowledged: map[string]bool{"payment_terms": true, "matching_conditions": true}})
			if err != nil {
				t.Fatal(err)
			}
			line := bank.StatementLine{StatementID: "ST-77", PayerName: entName, PayerAccount: "123456789", PayerAccountType: "corporate",
				AmountFen: 1, Currency: "CNY", PaidAt: w.clock.Now(), PayeeAccount: req.Request.PayTo.AccountNumber, Memo: "signet " + req.Request.Reference}
			h.arm(carrying(enterprise.StreamOf(id), enterprise.TypeReverseDepositMatched), tc.before(w, t))
			first, err := w.cmds.Statement.Handle(ctx, commands.StatementCallback{Line: line})
			if err == nil && first.Outcome != "matched" {
				t.Fatalf("first delivery: %+v", first)
			}
			if err != nil {
				// The feed redelivers what was not acknowledged.
				again, err := w.cmds.Statement.Handle(ctx, commands.StatementCallback{Line: line})
				if err != nil || again.Outcome != "matched" {
					t.Fatalf("redelivery: %+v, %v", again, err)
				}
			}
			if !load(t, w, id).Verified() {
				t.Fatalf("the payment matched but the enterprise is not verified: %v", enterpriseEvents(t, w, id))
			}
			if dup, err := w.cmds.Statement.Handle(ctx, commands.StatementCallback{Line: line}); err != nil || dup.Outcome != "duplicate" {
				t.Fatalf("a third delivery: %+v, %v", dup, err)
			}
		})
	}
}

// When the reverse-deposit request fails after its index streams were
// written, a retry gets a new reference; a payment quoting the old one is
// still attributed to the enterprise and judged.
func TestReverseDepositRetryKeepsTheOldReferenceHarmless(t *testing.T) {
	h := &hiccup{}
	w := newWorld(t, withHiccup(h))
	acct := register(t, w, "13800138303").AccountID
	id, a := openCase(t, w, acct, entName, enterprise.MethodReverse)
	acks := map[string]bool{"payment_terms": true, "matching_conditions": true}
	h.arm(carrying(enterprise.StreamOf(id), enterprise.TypeReverseDepositRequested), failOnce)
	if _, err := w.cmds.RequestReverseDeposit.Handle(ctx, commands.RequestReverseDeposit{Actor: a, EnterpriseID: id, Acknowledged: acks}); err == nil {
		t.Fatal("the failed append was not reported")
	}
	envs, err := w.store.ReadAll(ctx, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	var oldRef string
	for _, env := range envs {
		if env.Type == enterprise.TypeDepositReferenceIssued {
			ev, _ := enterprise.DecodeEnvelope(env)
			oldRef = ev.(enterprise.DepositReferenceIssued).Reference
		}
	}
	if oldRef == "" {
		t.Fatal("no orphan reference to test with")
	}
	req, err := w.cmds.RequestReverseDeposit.Handle(ctx, commands.RequestReverseDeposit{Actor: a, EnterpriseID: id, Acknowledged: acks})
	if err != nil || req.Request.Reference == oldRef {
		t.Fatalf("retry: %+v, %v", req, err)
	}
	res, err := w.cmds.Statement.Handle(ctx, commands.StatementCallback{Line: bank.StatementLine{StatementID: "ST-OLD", PayerName: entName,
		PayerAccount: "123456789", PayerAccountType: "corporate", AmountFen: 1, Currency: "CNY", PaidAt: w.clock.Now(),
		PayeeAccount: req.Request.PayTo.AccountNumber, Memo: "signet " + oldRef}})
	if err != nil || res.Outcome != "matched" || res.EnterpriseID != id {
		t.Fatalf("payment with the old reference: %+v, %v", res, err)
	}
}

// A payment without a reference is attributed by its payer's name to the
// one enterprise that awaits a payment from that name: an enterprise that
// awaited it under its previous materials does not make it ambiguous.
func TestPayerNameAttributionIgnoresOldNames(t *testing.T) {
	w := newWorld(t)
	acks := map[string]bool{"payment_terms": true, "matching_conditions": true}
	renamed := register(t, w, "13800138304").AccountID
	rid, ra := openCase(t, w, renamed, entName, enterprise.MethodReverse)
	if _, err := w.cmds.RequestReverseDeposit.Handle(ctx, commands.RequestReverseDeposit{Actor: ra, EnterpriseID: rid, Acknowledged: acks}); err != nil {
		t.Fatal(err)
	}
	// A typo corrected: the materials again under another name, and the
	// reverse deposit asked for again.
	submit(t, w, ra, rid, "杭州井然食品贸易股份有限公司")
	if _, err := w.cmds.ChooseMethod.Handle(ctx, commands.ChooseMethod{Actor: ra, EnterpriseID: rid, Method: enterprise.MethodReverse}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.cmds.RequestReverseDeposit.Handle(ctx, commands.RequestReverseDeposit{Actor: ra, EnterpriseID: rid, Acknowledged: acks}); err != nil {
		t.Fatal(err)
	}
	payer := register(t, w, "13800138305").AccountID
	pid, pa := openCase(t, w, payer, entName, enterprise.MethodReverse)
	req, err := w.cmds.RequestReverseDeposit.Handle(ctx, commands.RequestReverseDeposit{Actor: pa, EnterpriseID: pid, Acknowledged: acks})
	if err != nil {
		t.Fatal(err)
	}
	res, err := w.cmds.Statement.Handle(ctx, commands.StatementCallback{Line: bank.StatementLine{StatementID: "ST-NAME", PayerName: entName,
		PayerAccount: "123456789", PayerAccountType: "corporate", AmountFen: 1, Currency: "CNY", PaidAt: w.clock.Now(),
		PayeeAccount: req.Request.PayTo.AccountNumber}})
	if err != nil || res.Outcome != "matched" || res.EnterpriseID != pid {
		t.Fatalf("payment by name: %+v, %v", res, err)
	}
}

// Many micro-deposit requests at once: the bank pays one deposit.
func TestConcurrentMicroDepositRequestsPayOnce(t *testing.T) {
	w := newWorld(t)
	acct := register(t, w, "13800138306").AccountID
	id, a := openCase(t, w, acct, entName, enterprise.MethodMicroDeposit)
	var wg sync.WaitGroup
	codes := make(chan string, 8)
	for range 8 {
		wg.Go(func() {
			_, err := w.cmds.RequestMicroDeposit.Handle(ctx, commands.RequestMicroDeposit{Actor: a, EnterpriseID: id, Account: enterprise.BankAccount{
				Bank: "招商银行", Branch: "杭州高新支行", Province: "浙江省", City: "杭州市", AccountNumber: "6214830112345678"}})
			if f, ok := fault.As(err); ok {
				codes <- f.Code
			} else if err != nil {
				t.Error(err)
			} else {
				codes <- "ok"
			}
		})
	}
	wg.Wait()
	close(codes)
	count := map[string]int{}
	for c := range codes {
		count[c]++
	}
	paid := 0
	for _, tr := range w.bank.Transfers() {
		if strings.Contains(tr.ID, id) {
			paid++
		}
	}
	// Racing requests may also use up the day's deposits for the code: they
	// are refused, never paid.
	if paid != 1 || count["ok"] != 1 || count["ok"]+count["deposit_pending"]+count["concurrent_change"]+count["deposit_daily_limit"] != 8 {
		t.Fatalf("%d transfers paid; outcomes %v", paid, count)
	}
	if evs := strings.Count(strings.Join(enterpriseEvents(t, w, id), ","), enterprise.TypeMicroDepositRequested); evs != 1 {
		t.Fatalf("%d deposits recorded", evs)
	}
}

// A refusal that comes after the carrier check was recorded (the code was
// asked for again too soon) still says where it was recorded.
func TestSendPhoneCodeRefusalAfterTheCarrierCheckHasAPosition(t *testing.T) {
	w := newWorld(t)
	acct := register(t, w, "13800138307").AccountID
	id, a := openCase(t, w, acct, entName, enterprise.MethodLegalRepPhone)
	send := commands.SendPhoneCode{Actor: a, EnterpriseID: id, Phone: "13912345678"}
	if _, err := w.cmds.SendPhoneCode.Handle(ctx, send); err != nil {
		t.Fatal(err)
	}
	res, err := w.cmds.SendPhoneCode.Handle(ctx, send)
	if f, ok := fault.As(err); !ok || f.Kind != fault.RateLimited {
		t.Fatalf("code asked again at once: %v", err)
	}
	if evs := enterpriseEvents(t, w, id); evs[len(evs)-1] != enterprise.TypeCarrierCheckPassed || res.Position != w.head(t) {
		t.Fatalf("position %d, head %d, events %v", res.Position, w.head(t), evs)
	}
}

// One wrong personal code (with tries left) must not end the pending
// carrier check: the right code still verifies.
func TestPersonalWrongCodeKeepsThePendingCheck(t *testing.T) {
	w := newWorld(t)
	acct := register(t, w, "13800138308").AccountID
	a := commands.Actor{AccountID: acct, ClientIP: "10.0.0.4"}
	for _, side := range []account.Side{account.Portrait, account.Emblem} {
		if _, err := w.cmds.UploadPersonalIDCard.Handle(ctx, commands.UploadPersonalIDCard{Actor: a, Side: side,
			File: commands.Upload{Data: []byte("card " + string(side)), MediaType: "image/png"}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.cmds.SendPersonalPhoneCode.Handle(ctx, commands.SendPersonalPhoneCode{Actor: a, Name: "井然", IDNumber: "11010519491231002X", Phone: "13912345678"}); err != nil {
		t.Fatal(err)
	}
	code := w.smsCode(t, "13912345678")
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	_, err := w.cmds.ConfirmPersonalPhoneCode.Handle(ctx, commands.ConfirmPersonalPhoneCode{Actor: a, Code: wrong})
	wantFault(t, err, fault.Invalid, "invalid_code", "code")
	res, err := w.cmds.ConfirmPersonalPhoneCode.Handle(ctx, commands.ConfirmPersonalPhoneCode{Actor: a, Code: code})
	if err != nil || !res.Verified {
		t.Fatalf("the right code after one typo: %+v, %v", res, err)
	}
}

// As for enterprises: a right personal code, consumed by the code store,
// is not lost to a concurrent change of the account.
func TestRightPersonalCodeSurvivesAConcurrentChange(t *testing.T) {
	h := &hiccup{}
	w := newWorld(t, withHiccup(h))
	acct := register(t, w, "13800138309").AccountID
	a := commands.Actor{AccountID: acct, ClientIP: "10.0.0.5"}
	for _, side := range []account.Side{account.Portrait, account.Emblem} {
		if _, err := w.cmds.UploadPersonalIDCard.Handle(ctx, commands.UploadPersonalIDCard{Actor: a, Side: side,
			File: commands.Upload{Data: []byte("card " + string(side)), MediaType: "image/png"}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.cmds.SendPersonalPhoneCode.Handle(ctx, commands.SendPersonalPhoneCode{Actor: a, Name: "井然", IDNumber: "11010519491231002X", Phone: "13912345678"}); err != nil {
		t.Fatal(err)
	}
	code := w.smsCode(t, "13912345678")
	h.arm(carrying(account.StreamOf(acct), account.TypePersonVerified), func(stream string) error {
		n, err := account.NewEvent(uuid.NewString(), account.PersonalIDCardUploaded{Side: account.Emblem,
			File: account.File{SHA256: strings.Repeat("c", 64), Size: 3, MediaType: "image/png"}, UploadedAt: w.clock.Now().UTC()}, event.Metadata{OccurredAt: w.clock.Now()})
		if err != nil {
			t.Error(err)
			return nil
		}
		if _, err := w.store.Append(ctx, stream, event.Any, n); err != nil {
			t.Error(err)
		}
		return nil
	})
	res, err := w.cmds.ConfirmPersonalPhoneCode.Handle(ctx, commands.ConfirmPersonalPhoneCode{Actor: a, Code: code})
	if err != nil {
		if res, err = w.cmds.ConfirmPersonalPhoneCode.Handle(ctx, commands.ConfirmPersonalPhoneCode{Actor: a, Code: code}); err != nil {
			t.Fatalf("the right code was lost to a concurrent change: %v", err)
		}
	}
	if !res.Verified || res.Position == 0 {
		t.Fatalf("result %+v", res)
	}
}

// Someone who may not run the case cannot spend the tries of its code:
// they are refused before the code store is asked.
func TestOutsiderCannotBurnTheCaseCode(t *testing.T) {
	w := newWorld(t)
	acct := register(t, w, "13800138310").AccountID
	id, a := openCase(t, w, acct, entName, enterprise.MethodLegalRepPhone)
	if _, err := w.cmds.SendPhoneCode.Handle(ctx, commands.SendPhoneCode{Actor: a, EnterpriseID: id, Phone: "13912345678"}); err != nil {
		t.Fatal(err)
	}
	code := w.smsCode(t, "13912345678")
	outsider := commands.Actor{AccountID: register(t, w, "13800138311").AccountID, ClientIP: "10.0.0.9"}
	for i := range 10 {
		guess := []string{"000000", "111111"}[i%2]
		if guess == code {
			continue
		}
		_, err := w.cmds.ConfirmPhoneCode.Handle(ctx, commands.ConfirmPhoneCode{Actor: outsider, EnterpriseID: id, Code: guess})
		wantFault(t, err, fault.Forbidden, "not_case_operator", "")
	}
	res, err := w.cmds.ConfirmPhoneCode.Handle(ctx, commands.ConfirmPhoneCode{Actor: a, EnterpriseID: id, Code: code})
	if err != nil || !res.Verified {
		t.Fatalf("the operator's right code after an outsider's guesses: %+v, %v", res, err)
	}
}

// Nor can they have the carrier asked (a paid check) about the case's
// legal representative.
func TestOutsiderCannotAskTheCarrier(t *testing.T) {
	w := newWorld(t)
	acct := register(t, w, "13800138312").AccountID
	id, _ := openCase(t, w, acct, entName, enterprise.MethodLegalRepPhone)
	outsider := commands.Actor{AccountID: register(t, w, "13800138313").AccountID, ClientIP: "10.0.0.9"}
	_, err := w.cmds.SendPhoneCode.Handle(ctx, commands.SendPhoneCode{Actor: outsider, EnterpriseID: id, Phone: "13912345678"})
	wantFault(t, err, fault.Forbidden, "not_case_operator", "")
	if n := len(w.carrier.Checks()); n != 0 {
		t.Fatalf("the carrier was asked %d times for an outsider", n)
	}
}

// The daily face-scan limit holds on a day that is long past in Redis's own
// clock (the counter's keys must not expire by the wall clock).
func TestFourthFaceScanOfTheDay(t *testing.T) {
	w := newWorld(t)
	acct := register(t, w, "13800138321").AccountID
	id, a := openCase(t, w, acct, entName, enterprise.MethodLegalRepFace)
	for range 3 {
		if _, err := w.cmds.StartFaceScan.Handle(ctx, commands.StartFaceScan{Actor: a, EnterpriseID: id}); err != nil {
			t.Fatal(err)
		}
	}
	_, err := w.cmds.StartFaceScan.Handle(ctx, commands.StartFaceScan{Actor: a, EnterpriseID: id})
	wantFault(t, err, fault.RateLimited, "face_daily_limit", "")
}

// downFace is the dev face provider, failing while down.
type downFace struct {
	real commands.FaceProvider
	down bool
}

func (d *downFace) Start(ctx context.Context, req face.StartRequest) (face.Session, error) {
	if d.down {
		return face.Session{}, fault.New(fault.Unavailable, "face_unavailable", "down")
	}
	return d.real.Start(ctx, req)
}

// A face provider outage costs the person no attempt of the day.
func TestFaceProviderOutageCostsNoAttempt(t *testing.T) {
	df := &downFace{down: true}
	w := newWorld(t, func(w *world, d *commands.Deps) { df.real = d.Verification.Face; d.Verification.Face = df })
	acct := register(t, w, "13800138322").AccountID
	id, a := openCase(t, w, acct, entName, enterprise.MethodLegalRepFace)
	for range 3 {
		_, err := w.cmds.StartFaceScan.Handle(ctx, commands.StartFaceScan{Actor: a, EnterpriseID: id})
		wantFault(t, err, fault.Unavailable, "face_unavailable", "")
	}
	df.down = false
	res, err := w.cmds.StartFaceScan.Handle(ctx, commands.StartFaceScan{Actor: a, EnterpriseID: id})
	if err != nil || res.AttemptsLeft != enterprise.FaceScansPerDay-1 {
		t.Fatalf("%+v, %v", res, err)
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"signet/commands"
	"signet/domain/enterprise"
	"signet/domain/event"
	"signet/domain/identity"
	"signet/infra/callback"
	"signet/infra/clock"
)

// usccWith completes a 17-character base with its GB 32100 check character.
func usccWith(t testing.TB, division string) string {
	t.Helper()
	const alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
	weights := []int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}
	base := "91" + division + "M000100Y4"
	sum := 0
	for i, c := range base {
		sum += strings.IndexRune(alphabet, c) * weights[i]
	}
	code := base + string(alphabet[(31-sum%31)%31])
	if _, err := identity.ParseUSCC(code); err != nil {
		t.Fatalf("test USCC %s: %v", code, err)
	}
	return code
}

// idWith completes 17 digits with their GB 11643 check digit.
func idWith(t testing.TB, first17 string) string {
	t.Helper()
	weights := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i, c := range first17 {
		sum += int(c-'0') * weights[i]
	}
	id := first17 + string("10X98765432"[sum%11])
	if _, err := identity.ParseIDNumber(id, time.Now()); err != nil {
		t.Fatalf("test ID %s: %v", id, err)
	}
	return id
}

// photo is a small real PNG (content is what uploads are judged by).
func photo(t testing.TB, shade uint8) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 64, 40))
	for y := 0; y < 40; y++ {
		for x := 0; x < 64; x++ {
			img.Set(x, y, color.RGBA{shade, uint8(x * 3), uint8(y * 5), 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// vclient is a logged-in user of a test signet.
type vclient struct {
	*client
	t     testing.TB
	token string
	login string
	env   *testEnv
	pos   string
}

func newUser(t testing.TB, e *testEnv, login string) *vclient {
	t.Helper()
	if r, err := e.c.register(login, goodPassword); err != nil || r.Status != http.StatusCreated {
		t.Fatalf("register %s: %v %d %s", login, err, r.Status, r.Body)
	}
	tok, r := e.c.login(login, goodPassword)
	if tok == "" {
		t.Fatalf("login %s: %d %s", login, r.Status, r.Body)
	}
	return &vclient{client: e.c, t: t, token: tok, login: login, env: e}
}

// call sends an authenticated request and remembers the write position.
func (v *vclient) call(method, path string, body any, want int) response {
	v.t.Helper()
	headers := []string{"Authorization", "Bearer " + v.token}
	if v.pos != "" && method == http.MethodGet {
		headers = append(headers, "Signet-Wait-For", v.pos)
	}
	r := v.must(method, path, body, headers...)
	if p := r.Header.Get("Signet-Position"); p != "" {
		v.pos = p
	}
	if r.Status != want {
		v.t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.Status, want, r.Body)
	}
	return r
}

func (v *vclient) refused(method, path string, body any, status int, code string) response {
	v.t.Helper()
	r := v.call(method, path, body, status)
	if got := r.errorCode(); got != code {
		v.t.Fatalf("%s %s: error code %q, want %q: %s", method, path, got, code, r.Body)
	}
	return r
}

func (v *vclient) upload(path string, data []byte, want int) response {
	v.t.Helper()
	r := v.must(http.MethodPut, path, string(data), "Authorization", "Bearer "+v.token, "Content-Type", "image/png")
	if p := r.Header.Get("Signet-Position"); p != "" {
		v.pos = p
	}
	if r.Status != want {
		v.t.Fatalf("PUT %s: %d, want %d: %s", path, r.Status, want, r.Body)
	}
	return r
}

type caseSpec struct {
	uscc, legalRepID string
	agent            bool
	agentID          string
}

// openCase creates an enterprise and submits its materials.
func (v *vclient) openCase(s caseSpec) string {
	v.t.Helper()
	var created struct{ ID string }
	v.call(http.MethodPost, "/api/v1/enterprises", nil, http.StatusCreated).json(v.t, &created)
	base := "/api/v1/enterprises/" + created.ID
	v.upload(base+"/license", photo(v.t, 10), http.StatusOK)
	person := "legal_rep"
	if s.agent {
		person = "agent"
	}
	v.upload(base+"/id-cards/"+person+"/portrait", photo(v.t, 20), http.StatusOK)
	v.upload(base+"/id-cards/"+person+"/emblem", photo(v.t, 30), http.StatusOK)
	m := map[string]any{
		"name": "杭州井然食品贸易有限公司", "uscc": s.uscc, "legal_rep_name": "井然", "legal_rep_id_number": s.legalRepID,
		"operator": person, "accept_personal_data_policy": true, "accept_phone_followup": false,
	}
	if s.agent {
		m["agent_name"], m["agent_id_number"] = "林小明", s.agentID
	}
	v.call(http.MethodPost, base+"/materials", m, http.StatusOK)
	return created.ID
}

// view reads the case through the read API.
func (v *vclient) view(id string) map[string]any {
	v.t.Helper()
	var out map[string]any
	v.call(http.MethodGet, "/api/v1/enterprises/"+id, nil, http.StatusOK).json(v.t, &out)
	return out
}

// events returns the enterprise's stored events of type typ.
func (e *testEnv) events(id, typ string) []enterprise.Event {
	e.t.Helper()
	envs, err := e.app.store.ReadStream(context.Background(), enterprise.StreamOf(id), 1, event.Forwards, 0)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []enterprise.Event
	for _, env := range envs {
		if env.Type != typ {
			continue
		}
		ev, err := enterprise.DecodeEnvelope(env)
		if err != nil {
			e.t.Fatal(err)
		}
		out = append(out, ev)
	}
	return out
}

// failureReasons lists the recorded WillingnessCheckFailed reasons.
func (e *testEnv) failureReasons(id string) []string {
	var out []string
	for _, ev := range e.events(id, enterprise.TypeWillingnessCheckFailed) {
		out = append(out, ev.(enterprise.WillingnessCheckFailed).Reason)
	}
	return out
}

func (e *testEnv) mustBeVerified(id string, method enterprise.Method) {
	e.t.Helper()
	vs := e.events(id, enterprise.TypeEnterpriseVerified)
	if len(vs) != 1 || vs[0].(enterprise.EnterpriseVerified).Method != method {
		e.t.Fatalf("EnterpriseVerified events: %+v, want one by %s", vs, method)
	}
}

func lastSMS(t testing.TB, c *client, phone string) string {
	t.Helper()
	r := c.must(http.MethodGet, "/dev/messages?to="+url.QueryEscape(phone), nil)
	var msgs []struct{ Body string }
	r.json(t, &msgs)
	if len(msgs) == 0 {
		t.Fatalf("no SMS to %s", phone)
	}
	return msgs[len(msgs)-1].Body
}

func TestVerifyByLegalRepPhone(t *testing.T) {
	e := start(t, testConfig(t), roles{true, true, true}, nil)
	u := newUser(t, e, "13800138001")
	repID := idWith(t, "35010219900101123")
	id := u.openCase(caseSpec{uscc: usccWith(t, "350101"), legalRepID: repID})
	base := "/api/v1/enterprises/" + id

	// A code cannot be asked for before a method is chosen.
	u.refused(http.MethodPost, base+"/willingness/phone-code", map[string]string{"phone": "13912345678"}, http.StatusUnprocessableEntity, "method_not_chosen")
	u.call(http.MethodPut, base+"/willingness", map[string]string{"method": "legal_rep_phone"}, http.StatusOK)

	// The dev carrier says a phone ending in 0000 is not the person's.
	u.refused(http.MethodPost, base+"/willingness/phone-code", map[string]string{"phone": "13912340000"}, http.StatusUnprocessableEntity, "carrier_mismatch")
	u.call(http.MethodPost, base+"/willingness/phone-code", map[string]string{"phone": "139 1234 5678"}, http.StatusAccepted)
	code := codeRe.FindString(lastSMS(t, e.c, "13912345678"))
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	u.refused(http.MethodPost, base+"/willingness/phone-code/confirm", map[string]string{"code": wrong}, http.StatusBadRequest, "invalid_code")
	var res struct {
		Verified bool
		Step     string
	}
	u.call(http.MethodPost, base+"/willingness/phone-code/confirm", map[string]string{"code": code}, http.StatusOK).json(t, &res)
	if !res.Verified || res.Step != "verified" {
		t.Fatalf("after the right code: %+v", res)
	}
	e.mustBeVerified(id, enterprise.MethodLegalRepPhone)
	if got := strings.Join(e.failureReasons(id), ","); got != "phone_not_owned,invalid_code" {
		t.Fatalf("recorded refusals %q", got)
	}

	v := u.view(id)
	raw, _ := json.Marshal(v)
	if v["step"] != "verified" {
		t.Fatalf("view step %v: %s", v["step"], raw)
	}
	for _, secret := range []string{repID, "13912345678"} {
		if strings.Contains(string(raw), secret) {
			t.Fatalf("the case view shows %s in full: %s", secret, raw)
		}
	}
	if !strings.Contains(string(raw), identity.MaskIDNumber(repID)) {
		t.Fatalf("the case view lacks the masked ID %s: %s", identity.MaskIDNumber(repID), raw)
	}

	// Done is done: another willingness step is refused.
	u.refused(http.MethodPut, base+"/willingness", map[string]string{"method": "legal_rep_face"}, http.StatusConflict, "already_verified")

	// A second enterprise with the same USCC cannot be verified.
	other := newUser(t, e, "13800138002")
	id2 := other.openCase(caseSpec{uscc: usccWith(t, "350101"), legalRepID: repID})
	b2 := "/api/v1/enterprises/" + id2
	other.call(http.MethodPut, b2+"/willingness", map[string]string{"method": "legal_rep_phone"}, http.StatusOK)
	other.call(http.MethodPost, b2+"/willingness/phone-code", map[string]string{"phone": "13912345679"}, http.StatusAccepted)
	code = codeRe.FindString(lastSMS(t, e.c, "13912345679"))
	other.refused(http.MethodPost, b2+"/willingness/phone-code/confirm", map[string]string{"code": code}, http.StatusConflict, "uscc_taken")

	// Outsiders can neither read nor change the first enterprise.
	other.refused(http.MethodGet, base, nil, http.StatusForbidden, "not_enterprise_member")
	other.refused(http.MethodGet, base+"/members", nil, http.StatusForbidden, "not_enterprise_member")
	other.refused(http.MethodPost, base+"/invitations", map[string]string{"role": "member"}, http.StatusForbidden, "not_enterprise_member")
	// The caller is judged before the body is read.
	other.refused(http.MethodPut, base+"/license", nil, http.StatusConflict, "already_verified")
	other.upload(base+"/license", photo(t, 1), http.StatusConflict)
	u.refused(http.MethodGet, "/api/v1/enterprises/"+strings.Repeat("0", 8)+"-0000-0000-0000-000000000000", nil, http.StatusNotFound, "enterprise_not_found")
}

func TestVerifyByFaceScanWithDailyLimit(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)) // 10:00 in Shanghai
	e := start(t, testConfig(t), roles{true, true, true}, clk)
	u := newUser(t, e, "13800138011")
	id := u.openCase(caseSpec{uscc: usccWith(t, "330106"), legalRepID: idWith(t, "33010619850505123")})
	base := "/api/v1/enterprises/" + id
	u.call(http.MethodPut, base+"/willingness", map[string]string{"method": "legal_rep_face"}, http.StatusOK)

	var sess struct {
		SessionID    string `json:"session_id"`
		QRURL        string `json:"qr_url"`
		AttemptsLeft int    `json:"attempts_left_today"`
	}
	for i := 1; i <= 3; i++ {
		u.call(http.MethodPost, base+"/willingness/face-scans", nil, http.StatusCreated).json(t, &sess)
		if sess.AttemptsLeft != 3-i || sess.QRURL == "" {
			t.Fatalf("attempt %d: %+v", i, sess)
		}
		r := e.c.must(http.MethodPost, "/dev/face/sessions/"+sess.SessionID+"/result", map[string]any{"passed": false, "reason": "face_mismatch"})
		if r.Status != http.StatusOK {
			t.Fatalf("failed scan callback: %d %s", r.Status, r.Body)
		}
	}
	r := u.refused(http.MethodPost, base+"/willingness/face-scans", nil, http.StatusTooManyRequests, "face_daily_limit")
	if r.Header.Get("Retry-After") == "" {
		t.Fatalf("429 without Retry-After: %v", r.Header)
	}
	// A result for a session that already has one is refused.
	r = e.c.must(http.MethodPost, "/dev/face/sessions/"+sess.SessionID+"/result", map[string]any{"passed": true, "score": 0.99})
	if r.Status != http.StatusConflict {
		t.Fatalf("second result of a session: %d %s", r.Status, r.Body)
	}

	clk.Advance(14 * time.Hour) // past midnight in Shanghai
	u.token, _ = e.c.login(u.login, goodPassword)
	u.call(http.MethodPost, base+"/willingness/face-scans", nil, http.StatusCreated).json(t, &sess)
	r = e.c.must(http.MethodPost, "/dev/face/sessions/"+sess.SessionID+"/result", map[string]any{"passed": true, "score": 0.97})
	if r.Status != http.StatusOK || !strings.Contains(string(r.Body), "verified") {
		t.Fatalf("passing scan: %d %s", r.Status, r.Body)
	}
	e.mustBeVerified(id, enterprise.MethodLegalRepFace)
	if n := len(e.events(id, enterprise.TypeFaceVerified)); n != 1 {
		t.Fatalf("%d FaceVerified events", n)
	}
	if got := strings.Join(e.failureReasons(id), ","); got != "face_mismatch,face_mismatch,face_mismatch,face_daily_limit" {
		t.Fatalf("recorded refusals %q", got)
	}
}

func TestVerifyByAuthorizationLetter(t *testing.T) {
	e := start(t, testConfig(t), roles{true, true, true}, nil)
	u := newUser(t, e, "13800138021")
	agentID := idWith(t, "11010519920304567")
	id := u.openCase(caseSpec{uscc: usccWith(t, "110105"), agent: true, agentID: agentID})
	base := "/api/v1/enterprises/" + id
	u.call(http.MethodPut, base+"/willingness", map[string]string{"method": "authorization_letter"}, http.StatusOK)
	u.refused(http.MethodGet, base+"/authorization-letter", nil, http.StatusUnprocessableEntity, "agent_not_verified")

	u.call(http.MethodPost, base+"/willingness/phone-code", map[string]string{"phone": "13700137000"}, http.StatusAccepted)
	code := codeRe.FindString(lastSMS(t, e.c, "13700137000"))
	u.call(http.MethodPost, base+"/willingness/phone-code/confirm", map[string]string{"code": code}, http.StatusOK)

	r := u.call(http.MethodGet, base+"/authorization-letter", nil, http.StatusOK)
	if ct := r.Header.Get("Content-Type"); ct != "application/pdf" || !bytes.HasPrefix(r.Body, []byte("%PDF-")) {
		t.Fatalf("letter: %s %q", ct, r.Body[:min(20, len(r.Body))])
	}
	again := u.call(http.MethodGet, base+"/authorization-letter", nil, http.StatusOK)
	if !bytes.Equal(again.Body, r.Body) || len(e.events(id, enterprise.TypeAuthorizationLetterIssued)) != 1 {
		t.Fatalf("a second download made a new letter")
	}

	u.upload(base+"/authorization-letter", photo(t, 99), http.StatusOK)
	reviewer := newUser(t, e, "reviewer@example.com")
	reviewer.refused(http.MethodPost, base+"/authorization-letter/review", map[string]string{"decision": "approve"}, http.StatusForbidden, "not_platform_operator")
	reviewer.pos = grantRole(t, e, "reviewer@example.com", "operator")

	var queue []map[string]any
	reviewer.call(http.MethodGet, "/api/v1/reviews/authorization-letters", nil, http.StatusOK).json(t, &queue)
	if len(queue) != 1 {
		t.Fatalf("review queue: %+v", queue)
	}
	// The reviewer sees the stamped photo (and the licence); outsiders do not.
	var letterView struct {
		Willingness struct {
			Letter struct {
				UploadedSHA256 string `json:"uploaded_sha256"`
			} `json:"letter"`
		} `json:"willingness"`
	}
	u.call(http.MethodGet, base, nil, http.StatusOK).json(t, &letterView)
	stamped := letterView.Willingness.Letter.UploadedSHA256
	if r := reviewer.call(http.MethodGet, base+"/files/"+stamped, nil, http.StatusOK); !bytes.Equal(r.Body, photo(t, 99)) || r.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("the reviewer got %s %d bytes", r.Header.Get("Content-Type"), len(r.Body))
	}
	stranger := newUser(t, e, "13800138029")
	stranger.refused(http.MethodGet, base+"/files/"+stamped, nil, http.StatusForbidden, "not_enterprise_admin")
	u.refused(http.MethodGet, base+"/files/"+strings.Repeat("0", 64), nil, http.StatusNotFound, "file_not_found")
	reviewer.refused(http.MethodPost, base+"/authorization-letter/review", map[string]string{"decision": "reject"}, http.StatusBadRequest, "reason_required")
	reviewer.call(http.MethodPost, base+"/authorization-letter/review", map[string]string{"decision": "reject", "reason": "公章不清晰"}, http.StatusOK)
	if sms := lastSMS(t, e.c, "13700137000"); !strings.Contains(sms, "公章不清晰") {
		t.Fatalf("rejection SMS %q", sms)
	}
	u.pos = reviewer.pos // read the reviewer's write
	v := u.view(id)
	raw, _ := json.Marshal(v)
	if !strings.Contains(string(raw), "公章不清晰") || strings.Contains(string(raw), agentID) {
		t.Fatalf("case view after rejection: %s", raw)
	}

	u.upload(base+"/authorization-letter", photo(t, 98), http.StatusOK)
	reviewer.call(http.MethodPost, base+"/authorization-letter/review", map[string]string{"decision": "approve"}, http.StatusOK)
	if sms := lastSMS(t, e.c, "13700137000"); !strings.Contains(sms, "审核通过") {
		t.Fatalf("approval SMS %q", sms)
	}
	e.mustBeVerified(id, enterprise.MethodLetter)
	if n := len(e.events(id, enterprise.TypeAuthorizationLetterRejected)); n != 1 {
		t.Fatalf("%d rejections recorded", n)
	}
}

func TestVerifyByMicroDeposit(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 12, 2, 2, 0, 0, 0, time.UTC))
	e := start(t, testConfig(t), roles{true, true, true}, clk)
	u := newUser(t, e, "13800138031")
	id := u.openCase(caseSpec{uscc: usccWith(t, "440305"), legalRepID: idWith(t, "44030519880808123")})
	base := "/api/v1/enterprises/" + id
	u.call(http.MethodPut, base+"/willingness", map[string]string{"method": "micro_deposit"}, http.StatusOK)
	acct := map[string]string{"holder": "杭州井然食品贸易有限公司", "bank": "招商银行", "branch": "杭州高新支行", "province": "浙江省", "city": "杭州市", "account_number": "6214 8301 2345 6789"}
	u.refused(http.MethodPost, base+"/willingness/micro-deposit", map[string]string{"holder": "别的公司", "bank": "招商银行", "branch": "杭州高新支行", "province": "浙江省", "city": "杭州市", "account_number": "62148301"},
		http.StatusBadRequest, "holder_mismatch")
	u.call(http.MethodPost, base+"/willingness/micro-deposit", acct, http.StatusCreated)

	amount := devTransferAmount(t, e, id)
	wrong := amount%99 + 1
	u.refused(http.MethodPost, base+"/willingness/micro-deposit/confirm", map[string]string{"amount": fmt.Sprintf("0.%02d", wrong)}, http.StatusUnprocessableEntity, "wrong_amount")

	clk.Advance(enterprise.MicroDepositValidFor + time.Minute)
	u.token, _ = e.c.login(u.login, goodPassword) // days later
	u.refused(http.MethodPost, base+"/willingness/micro-deposit/confirm", map[string]string{"amount": fmt.Sprintf("0.%02d", amount)}, http.StatusUnprocessableEntity, "deposit_expired")

	u.call(http.MethodPost, base+"/willingness/micro-deposit", acct, http.StatusCreated)
	amount = devTransferAmount(t, e, id)
	u.call(http.MethodPost, base+"/willingness/micro-deposit/confirm", map[string]string{"amount": fmt.Sprintf("0.%02d", amount)}, http.StatusOK)
	e.mustBeVerified(id, enterprise.MethodMicroDeposit)
	if got := strings.Join(e.failureReasons(id), ","); got != "wrong_amount,deposit_expired" {
		t.Fatalf("recorded refusals %q", got)
	}
	raw, _ := json.Marshal(u.view(id))
	if strings.Contains(string(raw), "62148301234567") || strings.Contains(string(raw), fmt.Sprintf(`"0.%02d"`, amount)) {
		t.Fatalf("case view leaks the account number or the amount: %s", raw)
	}
}

// devTransferAmount reads the newest dev-bank transfer to the enterprise.
func devTransferAmount(t *testing.T, e *testEnv, id string) int64 {
	t.Helper()
	var ts []struct {
		ID        string `json:"id"`
		AmountFen int64  `json:"amount_fen"`
	}
	e.c.must(http.MethodGet, "/dev/bank/transfers", nil).json(t, &ts)
	for i := len(ts) - 1; i >= 0; i-- {
		if strings.Contains(ts[i].ID, id) {
			return ts[i].AmountFen
		}
	}
	t.Fatalf("no dev transfer for %s in %+v", id, ts)
	return 0
}

func TestVerifyByReverseDepositAfterFailedTransfer(t *testing.T) {
	e := start(t, testConfig(t), roles{true, true, true}, nil)
	u := newUser(t, e, "13800138041")
	id := u.openCase(caseSpec{uscc: usccWith(t, "320102"), legalRepID: idWith(t, "32010219750101123")})
	base := "/api/v1/enterprises/" + id
	u.call(http.MethodPut, base+"/willingness", map[string]string{"method": "micro_deposit"}, http.StatusOK)
	var dep struct {
		TransferID string `json:"transfer_id"`
	}
	u.call(http.MethodPost, base+"/willingness/micro-deposit", map[string]string{"bank": "华夏银行", "branch": "南京分行", "province": "江苏省", "city": "南京市", "account_number": "1045400000049"}, http.StatusCreated).json(t, &dep)
	if r := e.c.must(http.MethodPost, "/dev/bank/transfers/"+dep.TransferID+"/fail", map[string]string{"reason": "account_closed"}); r.Status != http.StatusOK {
		t.Fatalf("fail transfer: %d %s", r.Status, r.Body)
	}
	u.refused(http.MethodPost, base+"/willingness/micro-deposit/confirm", map[string]string{"amount": "0.10"}, http.StatusUnprocessableEntity, "deposit_failed")

	// 汇款不成功? 切换打款方式
	u.call(http.MethodPut, base+"/willingness", map[string]string{"method": "reverse_deposit"}, http.StatusOK)
	u.refused(http.MethodPost, base+"/willingness/reverse-deposit", map[string]bool{"acknowledge_payment_terms": true}, http.StatusBadRequest, "acknowledgement_required")
	var rev struct {
		Reference string
		Amount    string
		PayTo     struct {
			AccountNumber string `json:"account_number"`
		} `json:"pay_to"`
	}
	u.call(http.MethodPost, base+"/willingness/reverse-deposit", map[string]bool{"acknowledge_payment_terms": true, "acknowledge_matching_conditions": true}, http.StatusOK).json(t, &rev)
	if rev.Amount != "0.01" || len(rev.Reference) != 8 {
		t.Fatalf("reverse deposit request: %+v", rev)
	}
	line := func(id, payer string, fen int64, kind string) map[string]any {
		return map[string]any{"statement_id": id, "payer_name": payer, "payer_account": "3301040160000123456", "payer_account_type": kind,
			"amount_fen": fen, "currency": "CNY", "paid_at": time.Now().UTC().Format(time.RFC3339), "payee_account": rev.PayTo.AccountNumber,
			"memo": "signet " + rev.Reference}
	}
	feed := func(l map[string]any, outcome, reason string) {
		t.Helper()
		r := e.c.must(http.MethodPost, "/dev/bank/statements", l)
		var out struct{ Outcome, Reason string }
		r.json(t, &out)
		if r.Status != http.StatusOK || out.Outcome != outcome || out.Reason != reason {
			t.Fatalf("statement %v: %d %s, want %s/%s", l["statement_id"], r.Status, r.Body, outcome, reason)
		}
	}
	feed(line("ST-1", "杭州别家贸易有限公司", 1, "corporate"), "mismatched", "payer_name_mismatch")
	feed(line("ST-2", "杭州井然食品贸易有限公司", 2, "corporate"), "mismatched", "amount_mismatch")
	feed(line("ST-3", "杭州井然食品贸易有限公司", 1, "personal"), "mismatched", "payer_not_corporate")
	// The same signed delivery again is a replay; the bank redelivering the
	// same line later (newly signed) is judged once all the same.
	dup, _ := json.Marshal(line("ST-2", "杭州井然食品贸易有限公司", 2, "corporate"))
	if r := e.c.must(http.MethodPost, "/dev/bank/statements", string(dup)); r.Status != http.StatusOK && r.errorCode() != "callback_replayed" {
		t.Fatalf("replayed delivery: %d %s", r.Status, r.Body)
	}
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/api/v1/callbacks/bank/statements", bytes.NewReader(dup))
	callback.SignRequest(req, e.app.providers.bankSecret, time.Now().Add(2*time.Second), dup)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var out struct{ Outcome string }
	json.NewDecoder(res.Body).Decode(&out)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || out.Outcome != "duplicate" {
		t.Fatalf("redelivered statement: %d %+v", res.StatusCode, out)
	}
	noMemo := line("ST-4", "杭州井然食品贸易有限公司", 1, "corporate")
	noMemo["memo"] = ""
	feed(noMemo, "matched", "")
	e.mustBeVerified(id, enterprise.MethodReverse)

	v := u.view(id)
	raw, _ := json.Marshal(v)
	for _, want := range []string{"payer_name_mismatch", "amount_mismatch", "payer_not_corporate"} {
		if !strings.Contains(string(raw), want) {
			t.Fatalf("case view lacks the mismatch %s: %s", want, raw)
		}
	}

	// The feed is authenticated: unsigned and replayed deliveries are refused.
	body, _ := json.Marshal(line("ST-9", "x", 1, "corporate"))
	r := e.c.must(http.MethodPost, "/api/v1/callbacks/bank/statements", string(body))
	if r.Status != http.StatusUnauthorized {
		t.Fatalf("unsigned callback: %d %s", r.Status, r.Body)
	}
}

func TestSeedSamplesAreRefusedWithReasons(t *testing.T) {
	e := start(t, testConfig(t), roles{true, true, true}, nil)
	u := newUser(t, e, "13800138051")
	var created struct{ ID string }
	u.call(http.MethodPost, "/api/v1/enterprises", nil, http.StatusCreated).json(t, &created)
	base := "/api/v1/enterprises/" + created.ID
	u.upload(base+"/license", photo(t, 10), http.StatusOK)
	u.upload(base+"/id-cards/legal_rep/portrait", photo(t, 20), http.StatusOK)
	u.upload(base+"/id-cards/legal_rep/emblem", photo(t, 30), http.StatusOK)
	m := map[string]any{"name": "杭州井然食品贸易有限公司", "uscc": "9141082736195979498G", "legal_rep_name": "井然",
		"legal_rep_id_number": "123456199908041236", "operator": "legal_rep", "accept_personal_data_policy": true}
	r := u.refused(http.MethodPost, base+"/materials", m, http.StatusBadRequest, "uscc_length")
	if !strings.Contains(string(r.Body), "20") {
		t.Fatalf("the USCC refusal does not say how long the code is: %s", r.Body)
	}
	m["uscc"] = usccWith(t, "410827")
	r = u.refused(http.MethodPost, base+"/materials", m, http.StatusBadRequest, "id_number_check")
	t.Logf("seed ID refused: %s", r.Body)
	m["legal_rep_id_number"] = idWith(t, "41082719900804123")
	m["accept_personal_data_policy"] = false
	u.refused(http.MethodPost, base+"/materials", m, http.StatusBadRequest, "consent_required")
	if n := len(e.events(created.ID, enterprise.TypeMaterialsSubmitted)); n != 0 {
		t.Fatalf("refused submissions recorded %d MaterialsSubmitted", n)
	}

	// The business registry must know the enterprise as submitted (the dev
	// registry refuses names containing 错); the refusal is recorded and shown.
	m["accept_personal_data_policy"] = true
	m["name"] = "杭州错字食品贸易有限公司"
	u.refused(http.MethodPost, base+"/materials", m, http.StatusUnprocessableEntity, "registry_mismatch")
	if evs := e.events(created.ID, enterprise.TypeMaterialsRefused); len(evs) != 1 || evs[0].(enterprise.MaterialsRefused).Reason != "name_mismatch" {
		t.Fatalf("registry refusal recorded as %+v", evs)
	}
	if raw, _ := json.Marshal(u.view(created.ID)); !strings.Contains(string(raw), "name_mismatch") {
		t.Fatalf("the case view does not show the registry's refusal: %s", raw)
	}

	// Sole proprietor: the name is legal representative + USCC.
	m["accept_personal_data_policy"] = true
	m["name"], m["sole_proprietor"] = "", true
	var out struct{ Name string }
	u.call(http.MethodPost, base+"/materials", m, http.StatusOK).json(t, &out)
	if out.Name != "井然"+m["uscc"].(string) {
		t.Fatalf("sole proprietor name %q", out.Name)
	}

	// Uploads are judged by content.
	r = u.must(http.MethodPut, base+"/license", "%PDF-1.4 not an image", "Authorization", "Bearer "+u.token, "Content-Type", "image/png")
	if r.Status != http.StatusUnsupportedMediaType {
		t.Fatalf("a PDF as licence: %d %s", r.Status, r.Body)
	}
	big := bytes.Repeat([]byte{0}, 10<<20+1)
	r = u.must(http.MethodPut, base+"/license", string(big), "Authorization", "Bearer "+u.token, "Content-Type", "image/png")
	if r.Status != http.StatusRequestEntityTooLarge {
		t.Fatalf("an 10 MB+1 licence: %d %s", r.Status, r.Body[:min(200, len(r.Body))])
	}
}

func TestMembersJoinThroughShareLink(t *testing.T) {
	e := start(t, testConfig(t), roles{true, true, true}, nil)
	admin := newUser(t, e, "13800138061")
	id := admin.openCase(caseSpec{uscc: usccWith(t, "310101"), legalRepID: idWith(t, "31010119800101123")})
	base := "/api/v1/enterprises/" + id
	admin.refused(http.MethodPost, base+"/invitations", nil, http.StatusForbidden, "not_enterprise_member")
	admin.call(http.MethodPut, base+"/willingness", map[string]string{"method": "legal_rep_phone"}, http.StatusOK)
	admin.call(http.MethodPost, base+"/willingness/phone-code", map[string]string{"phone": "13612345678"}, http.StatusAccepted)
	admin.call(http.MethodPost, base+"/willingness/phone-code/confirm", map[string]string{"code": codeRe.FindString(lastSMS(t, e.c, "13612345678"))}, http.StatusOK)

	var inv struct {
		Token     string `json:"token"`
		AcceptURL string `json:"accept_url"`
	}
	admin.call(http.MethodPost, base+"/invitations", map[string]string{"role": "member"}, http.StatusCreated).json(t, &inv)
	m := newUser(t, e, "member@example.com")
	var j struct {
		EnterpriseID string `json:"enterprise_id"`
		Role         string `json:"role"`
	}
	m.call(http.MethodPost, inv.AcceptURL, nil, http.StatusOK).json(t, &j)
	if j.EnterpriseID != id || j.Role != "member" {
		t.Fatalf("joined %+v", j)
	}
	m.refused(http.MethodPost, inv.AcceptURL, nil, http.StatusConflict, "already_member")

	// Registering through the link joins at once; a bad link refuses the
	// registration before the account exists.
	reg := func(login, token string) response {
		t.Helper()
		e.c.must(http.MethodPost, "/api/v1/verification-codes", map[string]string{"to": login, "purpose": "register"})
		code, err := e.c.latestCode(login)
		if err != nil {
			t.Fatal(err)
		}
		body := registration(login, code, goodPassword)
		body["invitation"] = token
		return e.c.must(http.MethodPost, "/api/v1/accounts", body)
	}
	if r := reg("13800138062", strings.Repeat("B", 48)); r.Status != http.StatusNotFound || r.errorCode() != "invitation_not_found" {
		t.Fatalf("registration with a bad link: %d %s", r.Status, r.Body)
	}
	if tok, _ := e.c.login("13800138062", goodPassword); tok != "" {
		t.Fatal("a refused registration left an account")
	}
	r := reg("13800138063", inv.Token)
	admin.pos = r.Header.Get("Signet-Position") // the admin lists members after this join
	var regOut struct {
		Joined struct {
			EnterpriseID string `json:"enterprise_id"`
			Role         string `json:"role"`
		} `json:"joined"`
	}
	r.json(t, &regOut)
	if r.Status != http.StatusCreated || regOut.Joined.EnterpriseID != id || regOut.Joined.Role != "member" {
		t.Fatalf("registration through the link: %d %s", r.Status, r.Body)
	}
	m.refused(http.MethodPost, "/api/v1/invitations/"+strings.Repeat("A", 48)+"/accept", nil, http.StatusNotFound, "invitation_not_found")
	m.view(id) // a member reads the enterprise
	m.refused(http.MethodPost, base+"/invitations", nil, http.StatusForbidden, "not_enterprise_admin")

	var members []map[string]any
	admin.call(http.MethodGet, base+"/members", nil, http.StatusOK).json(t, &members)
	if len(members) != 3 {
		t.Fatalf("members %+v", members)
	}
	var mine []map[string]any
	m.call(http.MethodGet, "/api/v1/me/enterprises", nil, http.StatusOK).json(t, &mine)
	if len(mine) != 1 || mine[0]["id"] != id {
		t.Fatalf("member's enterprises %+v", mine)
	}
	memberID := accountIDOf(t, m)
	admin.call(http.MethodPut, base+"/members/"+memberID, map[string]string{"role": "admin"}, http.StatusOK)
	admin.refused(http.MethodDelete, base+"/members/"+accountIDOf(t, admin), nil, http.StatusForbidden, "master_admin_fixed")
	admin.call(http.MethodDelete, base+"/members/"+memberID, nil, http.StatusNoContent)
	m.pos = admin.pos
	m.refused(http.MethodGet, base, nil, http.StatusForbidden, "not_enterprise_member")
}

func accountIDOf(t *testing.T, v *vclient) string {
	t.Helper()
	var me struct{ ID string }
	v.call(http.MethodGet, "/api/v1/me", nil, http.StatusOK).json(t, &me)
	return me.ID
}

// grantRole runs the CLI's handler against the test app's store, as an
// administrator would with `signet roles grant`.
func grantRole(t *testing.T, e *testEnv, login, role string) string {
	t.Helper()
	res, err := e.app.cmds.GrantPlatformRole.Handle(context.Background(), commands.GrantPlatformRole{Login: login, Role: role, GrantedBy: "test"})
	if err != nil || res.Position == 0 {
		t.Fatalf("grant %s to %s: %+v %v", role, login, res, err)
	}
	return fmt.Sprint(res.Position)
}

type profileJSON struct {
	Verification struct {
		Verified bool   `json:"verified"`
		IDNumber string `json:"id_number"`
		Method   string `json:"method"`
	} `json:"verification"`
	Quota struct {
		PersonalContracts int `json:"personal_contracts"`
	} `json:"quota"`
}

func (v *vclient) profile() (profileJSON, string) {
	v.t.Helper()
	var p profileJSON
	r := v.call(http.MethodGet, "/api/v1/me", nil, http.StatusOK)
	r.json(v.t, &p)
	return p, string(r.Body)
}

func TestPersonalVerificationGrantsQuota(t *testing.T) {
	e := start(t, testConfig(t), roles{true, true, true}, nil)
	id := idWith(t, "35010219900307104")

	byPhone := newUser(t, e, "13800138071")
	if p, _ := byPhone.profile(); p.Quota.PersonalContracts != 5 || p.Verification.Verified {
		t.Fatalf("after registration: %+v", p)
	}
	person := map[string]string{"name": "林某某", "id_number": id, "phone": "13512345678"}
	byPhone.refused(http.MethodPost, "/api/v1/me/verification/phone-code", person, http.StatusUnprocessableEntity, "id_card_required")
	byPhone.upload("/api/v1/me/id-cards/portrait", photo(t, 40), http.StatusOK)
	byPhone.upload("/api/v1/me/id-cards/emblem", photo(t, 50), http.StatusOK)
	bad := map[string]string{"name": "林某某", "id_number": "123456199908041236", "phone": "13512345678"}
	byPhone.refused(http.MethodPost, "/api/v1/me/verification/phone-code", bad, http.StatusBadRequest, "id_number_check")
	byPhone.call(http.MethodPost, "/api/v1/me/verification/phone-code", person, http.StatusAccepted)
	code := codeRe.FindString(lastSMS(t, e.c, "13512345678"))
	byPhone.call(http.MethodPost, "/api/v1/me/verification/phone-code/confirm", map[string]string{"code": code}, http.StatusOK)
	p, raw := byPhone.profile()
	if !p.Verification.Verified || p.Verification.Method != "phone" || p.Quota.PersonalContracts != 10 {
		t.Fatalf("after personal verification: %s", raw)
	}
	if strings.Contains(raw, id) || strings.Contains(raw, "13512345678") || p.Verification.IDNumber != identity.MaskIDNumber(id) {
		t.Fatalf("profile shows personal data in full: %s", raw)
	}

	byFace := newUser(t, e, "byface@example.com")
	face := map[string]string{"name": "林某某", "id_number": id}
	byFace.refused(http.MethodPost, "/api/v1/me/verification/face-scans", face, http.StatusUnprocessableEntity, "id_card_required")
	byFace.upload("/api/v1/me/id-cards/portrait", photo(t, 60), http.StatusOK)
	byFace.upload("/api/v1/me/id-cards/emblem", photo(t, 70), http.StatusOK)
	var sess struct {
		SessionID string `json:"session_id"`
	}
	byFace.call(http.MethodPost, "/api/v1/me/verification/face-scans", face, http.StatusCreated).json(t, &sess)
	r := e.c.must(http.MethodPost, "/dev/face/sessions/"+sess.SessionID+"/result", map[string]any{"passed": true, "score": 0.95})
	if r.Status != http.StatusOK || !strings.Contains(string(r.Body), "verified") {
		t.Fatalf("face result: %d %s", r.Status, r.Body)
	}
	byFace.pos = r.Header.Get("Signet-Position")
	if p, raw := byFace.profile(); !p.Verification.Verified || p.Verification.Method != "face" || p.Quota.PersonalContracts != 10 {
		t.Fatalf("after face verification: %s", raw)
	}
}

package main

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"signet/infra/clock"
)

// Every write that appended says where (Signet-Position = the store's new
// head), refusals that were recorded included; every refusal has the JSON
// error shape.
func TestRecordedWritesSayWhere(t *testing.T) {
	// Far ahead of the wall clock: the face-scan counter's keys expire by
	// the Redis server's clock.
	clk := clock.NewFake(time.Date(2036, 12, 2, 2, 0, 0, 0, time.UTC))
	e := start(t, testConfig(t), roles{true, true, true}, clk)
	u := newUser(t, e, "13800138091")
	head := func() uint64 {
		h, err := e.app.store.Head(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	write := func(method, path string, body any, want int, code string) response {
		t.Helper()
		before := head()
		r := u.must(method, path, body, "Authorization", "Bearer "+u.token)
		if r.Status != want {
			t.Fatalf("%s %s: %d, want %d: %s", method, path, r.Status, want, r.Body)
		}
		if code != "" && r.errorCode() != code {
			t.Fatalf("%s %s: error %q, want %q: %s", method, path, r.errorCode(), code, r.Body)
		}
		if r.Status >= 400 && r.errorCode() == "" {
			t.Fatalf("%s %s: refusal without the error shape: %s", method, path, r.Body)
		}
		after, got := head(), r.Header.Get("Signet-Position")
		if after != before && got != strconv.FormatUint(after, 10) {
			t.Fatalf("%s %s (%d) appended up to %d but says Signet-Position %q", method, path, r.Status, after, got)
		}
		return r
	}
	id := u.openCase(caseSpec{uscc: usccWith(t, "310115"), legalRepID: idWith(t, "31011519800101123")})
	base := "/api/v1/enterprises/" + id

	write(http.MethodPut, base+"/willingness", map[string]string{"method": "legal_rep_phone"}, http.StatusOK, "")
	write(http.MethodPost, base+"/willingness/phone-code", map[string]string{"phone": "13912340000"}, http.StatusUnprocessableEntity, "carrier_mismatch")
	write(http.MethodPost, base+"/willingness/phone-code", map[string]string{"phone": "13912345678"}, http.StatusAccepted, "")
	write(http.MethodPost, base+"/willingness/phone-code", map[string]string{"phone": "13912345678"}, http.StatusTooManyRequests, "code_too_soon")
	code := codeRe.FindString(lastSMS(t, e.c, "13912345678"))
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	write(http.MethodPost, base+"/willingness/phone-code/confirm", map[string]string{"code": wrong}, http.StatusBadRequest, "invalid_code")

	write(http.MethodPut, base+"/willingness", map[string]string{"method": "micro_deposit"}, http.StatusOK, "")
	acct := map[string]string{"bank": "招商银行", "branch": "杭州高新支行", "province": "浙江省", "city": "杭州市", "account_number": "6214830112349999"}
	write(http.MethodPost, base+"/willingness/micro-deposit", acct, http.StatusServiceUnavailable, "bank_unavailable")
	acct["account_number"] = "6214830112345678"
	write(http.MethodPost, base+"/willingness/micro-deposit", acct, http.StatusCreated, "")
	write(http.MethodPost, base+"/willingness/micro-deposit/confirm", map[string]string{"amount": "1.00"}, http.StatusUnprocessableEntity, "wrong_amount")

	write(http.MethodPut, base+"/willingness", map[string]string{"method": "legal_rep_face"}, http.StatusOK, "")
	for range 3 {
		write(http.MethodPost, base+"/willingness/face-scans", nil, http.StatusCreated, "")
	}
	write(http.MethodPost, base+"/willingness/face-scans", nil, http.StatusTooManyRequests, "face_daily_limit")

	write(http.MethodPut, base+"/willingness", map[string]string{"method": "reverse_deposit"}, http.StatusOK, "")
	write(http.MethodPost, base+"/willingness/reverse-deposit", map[string]bool{"acknowledge_payment_terms": true, "acknowledge_matching_conditions": true}, http.StatusOK, "")

	write(http.MethodPut, base+"/willingness", map[string]string{"method": "legal_rep_phone"}, http.StatusOK, "")
	clk.Advance(2 * time.Minute)
	write(http.MethodPost, base+"/willingness/phone-code", map[string]string{"phone": "13912345678"}, http.StatusAccepted, "")
	code = codeRe.FindString(lastSMS(t, e.c, "13912345678"))
	write(http.MethodPost, base+"/willingness/phone-code/confirm", map[string]string{"code": code}, http.StatusOK, "")
	e.mustBeVerified(id, "legal_rep_phone")

	var inv struct {
		Token string `json:"token"`
	}
	write(http.MethodPost, base+"/invitations", map[string]string{"role": "member"}, http.StatusCreated, "").json(t, &inv)
	member := newUser(t, e, "13800138092")
	before := head()
	r := member.must(http.MethodPost, "/api/v1/invitations/"+inv.Token+"/accept", nil, "Authorization", "Bearer "+member.token)
	if r.Status != http.StatusOK || r.Header.Get("Signet-Position") != strconv.FormatUint(head(), 10) || head() == before {
		t.Fatalf("accept: %d %q %s", r.Status, r.Header.Get("Signet-Position"), r.Body)
	}
	mid := accountIDOf(t, member)
	write(http.MethodPut, base+"/members/"+mid, map[string]string{"role": "admin"}, http.StatusOK, "")
	write(http.MethodDelete, base+"/members/"+mid, nil, http.StatusNoContent, "")
	write(http.MethodDelete, base+"/members/"+mid, nil, http.StatusNotFound, "member_not_found")
}

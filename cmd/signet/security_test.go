package main

import (
	"net/http"
	"testing"
	"time"

	"signet/domain/enterprise"
	"signet/infra/clock"
)

// verifiedCase opens a case for u and verifies it by the legal rep's phone.
func (v *vclient) verifiedCase(division, phone string) string {
	v.t.Helper()
	id := v.openCase(caseSpec{uscc: usccWith(v.t, division), legalRepID: idWith(v.t, division+"19800101123")})
	base := "/api/v1/enterprises/" + id
	v.call(http.MethodPut, base+"/willingness", map[string]string{"method": "legal_rep_phone"}, http.StatusOK)
	v.call(http.MethodPost, base+"/willingness/phone-code", map[string]string{"phone": phone}, http.StatusAccepted)
	v.call(http.MethodPost, base+"/willingness/phone-code/confirm", map[string]string{"code": codeRe.FindString(lastSMS(v.t, v.env.c, phone))}, http.StatusOK)
	return id
}

// A face scan started for one legal representative cannot prove materials
// submitted afterwards for another: scan yourself, then swap in someone
// else's ID number before the provider answers.
func TestStaleFaceScanCannotProveNewMaterials(t *testing.T) {
	e := start(t, testConfig(t), roles{true, true, true}, nil)
	u := newUser(t, e, "13800138401")
	id := u.openCase(caseSpec{uscc: usccWith(t, "330106"), legalRepID: idWith(t, "33010619850505123")})
	base := "/api/v1/enterprises/" + id
	u.call(http.MethodPut, base+"/willingness", map[string]string{"method": "legal_rep_face"}, http.StatusOK)
	var sess struct {
		SessionID string `json:"session_id"`
	}
	u.call(http.MethodPost, base+"/willingness/face-scans", nil, http.StatusCreated).json(t, &sess)

	u.call(http.MethodPost, base+"/materials", map[string]any{
		"name": "杭州井然食品贸易有限公司", "uscc": usccWith(t, "330106"), "legal_rep_name": "王五",
		"legal_rep_id_number": idWith(t, "33010619700101123"), "operator": "legal_rep", "accept_personal_data_policy": true,
	}, http.StatusOK)
	u.call(http.MethodPut, base+"/willingness", map[string]string{"method": "legal_rep_face"}, http.StatusOK)

	r := e.c.must(http.MethodPost, "/dev/face/sessions/"+sess.SessionID+"/result", map[string]any{"passed": true, "score": 99})
	if r.Status != http.StatusConflict || r.errorCode() != "face_session_finished" {
		t.Fatalf("result of a scan started for the old materials: %d %s", r.Status, r.Body)
	}
	if vs := e.events(id, enterprise.TypeEnterpriseVerified); len(vs) != 0 {
		t.Fatalf("verified by a scan of another person: %+v", vs)
	}
}

// Only the master admin makes administrators, by invitation or by
// promotion: an admin cannot promote a member it invited.
func TestOnlyMasterAdminMakesAdmins(t *testing.T) {
	e := start(t, testConfig(t), roles{true, true, true}, nil)
	master := newUser(t, e, "13800138411")
	base := "/api/v1/enterprises/" + master.verifiedCase("310101", "13612345411")
	join := func(inviter *vclient, role, login string) (*vclient, string) {
		t.Helper()
		var inv struct {
			AcceptURL string `json:"accept_url"`
		}
		inviter.call(http.MethodPost, base+"/invitations", map[string]string{"role": role}, http.StatusCreated).json(t, &inv)
		u := newUser(t, e, login)
		u.call(http.MethodPost, inv.AcceptURL, nil, http.StatusOK)
		return u, accountIDOf(t, u)
	}
	admin, _ := join(master, "admin", "admin@example.com")
	admin.refused(http.MethodPost, base+"/invitations", map[string]string{"role": "admin"}, http.StatusForbidden, "master_admin_only")
	member, memberID := join(admin, "member", "sock@example.com")

	admin.refused(http.MethodPut, base+"/members/"+memberID, map[string]string{"role": "admin"}, http.StatusForbidden, "master_admin_only")
	member.refused(http.MethodPut, base+"/members/"+memberID, map[string]string{"role": "admin"}, http.StatusForbidden, "not_enterprise_admin")
	master.call(http.MethodPut, base+"/members/"+memberID, map[string]string{"role": "admin"}, http.StatusOK)
}

// Every carrier check (and registry query) is paid for and tells whether a phone belongs to a
// name and ID number: the checks of one client count against its code
// limit, personal and enterprise alike, and a refused one never reaches
// the carrier.
func TestCarrierChecksCountAgainstClientLimit(t *testing.T) {
	cfg := testConfig(t)
	cfg.CodesPerHour = 6
	e := start(t, cfg, roles{true, true, true}, nil) // the registration code and the registry query of the materials count too
	u := newUser(t, e, "13800138421")
	u.upload("/api/v1/me/id-cards/portrait", photo(t, 40), http.StatusOK)
	u.upload("/api/v1/me/id-cards/emblem", photo(t, 50), http.StatusOK)
	person := func(phone string) map[string]string {
		return map[string]string{"name": "林某某", "id_number": idWith(t, "35010219900307104"), "phone": phone}
	}
	u.call(http.MethodPost, "/api/v1/me/verification/phone-code", person("13512345421"), http.StatusAccepted)
	u.refused(http.MethodPost, "/api/v1/me/verification/phone-code", person("13512340000"), http.StatusUnprocessableEntity, "carrier_mismatch")

	id := u.openCase(caseSpec{uscc: usccWith(t, "350101"), legalRepID: idWith(t, "35010219900101123")})
	base := "/api/v1/enterprises/" + id
	u.call(http.MethodPut, base+"/willingness", map[string]string{"method": "legal_rep_phone"}, http.StatusOK)
	u.refused(http.MethodPost, base+"/willingness/phone-code", map[string]string{"phone": "13512350000"}, http.StatusUnprocessableEntity, "carrier_mismatch")
	u.call(http.MethodPost, base+"/willingness/phone-code", map[string]string{"phone": "13512345422"}, http.StatusAccepted)

	r := u.refused(http.MethodPost, base+"/willingness/phone-code", map[string]string{"phone": "13512345423"}, http.StatusTooManyRequests, "too_many_codes_from_client")
	if r.Header.Get("Retry-After") == "" {
		t.Fatalf("429 without Retry-After: %v", r.Header)
	}
	u.refused(http.MethodPost, "/api/v1/me/verification/phone-code", person("13512345424"), http.StatusTooManyRequests, "too_many_codes_from_client")
	if n := len(e.app.providers.carrier.Checks()); n != 4 {
		t.Fatalf("the carrier was asked %d times, want 4", n)
	}
}

// The dev providers' routes (which sign callbacks with the real secrets)
// exist only with --dev.
func TestDevProviderRoutesOnlyWithDev(t *testing.T) {
	cfg := testConfig(t)
	cfg.Dev = false
	e := start(t, cfg, roles{true, true, true}, nil)
	for _, r := range []struct{ method, path string }{
		{http.MethodGet, "/dev/carrier/checks"},
		{http.MethodGet, "/dev/face/sessions"},
		{http.MethodPost, "/dev/face/sessions/e.x.y/result"},
		{http.MethodGet, "/dev/bank/transfers"},
		{http.MethodPost, "/dev/bank/transfers/md.x.y/fail"},
		{http.MethodPost, "/dev/bank/statements"},
	} {
		if res := e.c.must(r.method, r.path, map[string]any{}); res.Status != http.StatusNotFound {
			t.Errorf("%s %s without --dev: %d %s", r.method, r.path, res.Status, res.Body)
		}
	}
}

// The letter review queue names other enterprises: operators only.
func TestReviewQueueOnlyForOperators(t *testing.T) {
	e := start(t, testConfig(t), roles{true, true, true}, nil)
	u := newUser(t, e, "13800138431")
	u.refused(http.MethodGet, "/api/v1/reviews/authorization-letters", nil, http.StatusForbidden, "not_platform_operator")
}

// Removal sticks: a removed member (here an admin) cannot rejoin with a
// share link it saw before; a new link brings it back.
func TestRemovedMemberCannotRejoinWithOldLink(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 12, 3, 2, 0, 0, 0, time.UTC))
	e := start(t, testConfig(t), roles{true, true, true}, clk)
	master := newUser(t, e, "13800138511")
	base := "/api/v1/enterprises/" + master.verifiedCase("310101", "13612345511")
	var inv struct {
		AcceptURL string `json:"accept_url"`
	}
	master.call(http.MethodPost, base+"/invitations", map[string]string{"role": "admin"}, http.StatusCreated).json(t, &inv)
	ex := newUser(t, e, "ex@example.com")
	ex.call(http.MethodPost, inv.AcceptURL, nil, http.StatusOK)
	master.call(http.MethodDelete, base+"/members/"+accountIDOf(t, ex), nil, http.StatusNoContent)
	ex.refused(http.MethodPost, inv.AcceptURL, nil, http.StatusForbidden, "removed_from_enterprise")

	clk.Advance(time.Minute) // a link made after the removal
	master.call(http.MethodPost, base+"/invitations", map[string]string{"role": "member"}, http.StatusCreated).json(t, &inv)
	var j struct {
		Role string `json:"role"`
	}
	ex.call(http.MethodPost, inv.AcceptURL, nil, http.StatusOK).json(t, &j)
	if j.Role != "member" {
		t.Fatalf("rejoined as %q", j.Role)
	}
}

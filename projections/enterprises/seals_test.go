package enterprises_test

import (
	"reflect"
	"testing"
	"time"

	"signet/domain/enterprise"
	"signet/projections/enterprises"
)

// verifiedTeam verifies a case by the legal representative's phone (with
// its default seal, as the command appends it) and joins acct-a1 as admin
// and acct-m1, acct-m2 as members.
func verifiedTeam(w *world) *kase {
	w.t.Helper()
	c := creator
	k := w.create(c)
	k.prepare(enterprise.LegalRep)
	k.choose(enterprise.MethodLegalRepPhone)
	k.must(c, func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
		return e.CheckCarrier(c, enterprise.MethodLegalRepPhone, phoneLegal, enterprise.CarrierResult{Match: true}, now)
	})
	k.must(c, func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
		evs, err := e.ConfirmPhone(c, enterprise.MethodLegalRepPhone, nil, nil, now)
		return append(evs, e.DefaultSeal("seal-default", enterprise.File{SHA256: "sha-default", Size: 900, MediaType: "image/svg+xml"}, now)...), err
	})
	k.must(c, func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
		return e.Invite(c, "inv-m", "hash-m", enterprise.Member, now)
	})
	k.must(c, func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
		return e.Invite(c, "inv-a", "hash-a", enterprise.Admin, now)
	})
	for _, j := range []struct{ acct, inv string }{{"acct-a1", "inv-a"}, {"acct-m1", "inv-m"}, {"acct-m2", "inv-m"}} {
		k.must(j.acct, func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
			return e.Join(j.acct, j.inv, now)
		})
	}
	return k
}

func TestSealsAndApprovalPolicy(t *testing.T) {
	w := newWorld(t, start)
	k := verifiedTeam(w)
	c := creator
	if seals, err := w.reader.Seals(w.ctx, k.id); err != nil || len(seals) != 0 {
		t.Fatalf("before sync: %+v %v", seals, err) // the projection has not run
	}
	w.sync()
	at := start.UTC()
	def := enterprises.SealView{ID: "seal-default", Name: enterprise.DefaultSealName, Default: true,
		File: enterprises.SealFile{SHA256: "sha-default", Size: 900, MediaType: "image/svg+xml"}, Grants: []string{}, CreatedAt: at}
	if seals, err := w.reader.Seals(w.ctx, k.id); err != nil || !reflect.DeepEqual(seals, []enterprises.SealView{def}) {
		t.Fatalf("seals after verification: %+v %v", seals, err)
	}

	w.now = w.now.Add(time.Hour)
	for _, s := range []struct{ id, name string }{{"seal-contract", "合同专用章"}, {"seal-finance", "财务专用章"}} {
		k.must("acct-a1", func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
			return e.CreateSeal("acct-a1", s.id, s.name, enterprise.File{SHA256: "sha-" + s.id, Size: 50, MediaType: "image/png"}, now)
		})
	}
	for _, g := range []struct{ seal, acct string }{{"seal-contract", "acct-m1"}, {"seal-contract", "acct-m2"}, {"seal-finance", "acct-m1"}} {
		k.must(c, func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
			return e.GrantSeal(c, g.seal, g.acct, now)
		})
	}
	k.must(c, func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
		return e.RevokeSeal(c, "seal-finance", "acct-m1", now)
	})
	k.must(c, func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
		return e.DisableSeal(c, "seal-finance", now)
	})
	k.must(c, func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
		return e.SetApprovalPolicy(c, true, []string{"acct-m2", "acct-m1"}, now)
	})
	for _, cid := range []string{"c1", "c2"} {
		if err := k.spend("acct-m1", cid); err != nil {
			t.Fatal(err)
		}
	}
	w.sync()

	later := w.now.UTC()
	contractSeal := enterprises.SealView{ID: "seal-contract", Name: "合同专用章", File: enterprises.SealFile{SHA256: "sha-seal-contract", Size: 50, MediaType: "image/png"},
		Grants: []string{"acct-m1", "acct-m2"}, CreatedBy: "acct-a1", CreatedAt: later}
	finance := enterprises.SealView{ID: "seal-finance", Name: "财务专用章", Disabled: true, File: enterprises.SealFile{SHA256: "sha-seal-finance", Size: 50, MediaType: "image/png"},
		Grants: []string{}, CreatedBy: "acct-a1", CreatedAt: later, DisabledAt: &later}
	seals, err := w.reader.Seals(w.ctx, k.id)
	if err != nil || !reflect.DeepEqual(seals, []enterprises.SealView{def, contractSeal, finance}) {
		t.Fatalf("seals\n got %+v\nwant %+v (%v)", seals, []enterprises.SealView{def, contractSeal, finance}, err)
	}
	for _, u := range []struct {
		acct, role string
		seal       enterprises.SealView
		may        bool
	}{
		{c, "master_admin", def, true}, {"acct-a1", "admin", contractSeal, true}, {"acct-m1", "member", contractSeal, true},
		{"acct-m1", "member", def, false}, {c, "master_admin", finance, false}, {"acct-x", "", contractSeal, false},
	} {
		if got := u.seal.MayUse(u.acct, u.role); got != u.may {
			t.Errorf("%s may use %s: %v", u.acct, u.seal.ID, got)
		}
	}
	if s, err := w.reader.Seal(w.ctx, k.id, "seal-contract"); err != nil || !reflect.DeepEqual(s, contractSeal) {
		t.Fatalf("Seal: %+v %v", s, err)
	}
	if _, err := w.reader.Seal(w.ctx, k.id, "seal-nope"); err != enterprise.ErrSealNotFound {
		t.Fatalf("unknown seal: %v", err)
	}
	p, err := w.reader.ApprovalPolicy(w.ctx, k.id)
	if err != nil || !reflect.DeepEqual(p, enterprises.ApprovalPolicyView{Required: true, Approvers: []string{"acct-m2", "acct-m1"}, SetBy: c, SetAt: &later}) {
		t.Fatalf("policy %+v %v", p, err)
	}
	if v := w.view(k.id); v.Quota != enterprise.EnterpriseQuota || v.QuotaUsed != 2 || v.QuotaLeft != enterprise.EnterpriseQuota-2 {
		t.Fatalf("quota %d used %d left %d", v.Quota, v.QuotaUsed, v.QuotaLeft)
	}

	// Removed members lose their grants and approvals; when no approver
	// is left, the administrators approve.
	for _, m := range []string{"acct-m1", "acct-m2"} {
		k.must(c, func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
			return e.RemoveMember(c, m, now)
		})
	}
	w.now = w.now.Add(time.Minute)
	k.must(c, func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
		return e.Invite(c, "inv-m2", "hash-m2", enterprise.Member, now)
	})
	k.must("acct-m1", func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
		return e.Join("acct-m1", "inv-m2", now)
	})
	w.sync()
	seals, _ = w.reader.Seals(w.ctx, k.id)
	if len(seals) != 3 || len(seals[1].Grants) != 0 {
		t.Fatalf("grants survived the removal: %+v", seals)
	}
	p, _ = w.reader.ApprovalPolicy(w.ctx, k.id)
	if !p.Required || !p.Fallback || !reflect.DeepEqual(p.Approvers, []string{"acct-a1", creator}) {
		t.Fatalf("policy after the approvers left: %+v", p)
	}
	if req, ap := k.agg.ApprovalPolicy(); !req || !reflect.DeepEqual(ap, p.Approvers) {
		t.Fatalf("domain says %v %v", req, ap)
	}

	// Unknown or malformed enterprises have nothing.
	for _, eid := range []string{"0190a0d2-0000-7000-8000-0000000000ff", "a:b"} {
		seals, err := w.reader.Seals(w.ctx, eid)
		p, err2 := w.reader.ApprovalPolicy(w.ctx, eid)
		if err != nil || err2 != nil || len(seals) != 0 || seals == nil || p.Required || p.Approvers == nil {
			t.Fatalf("%s: %+v %+v %v %v", eid, seals, p, err, err2)
		}
	}
}

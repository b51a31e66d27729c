package commands_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"

	"signet/commands"
	"signet/domain/account"
	"signet/domain/enterprise"
	"signet/domain/event"
	"signet/domain/fault"
)

// appends records the event types of each Append on a stream category.
type appends struct {
	commands.EventStore
	mu    sync.Mutex
	calls [][]string
}

func (a *appends) Append(ctx context.Context, stream string, expected event.ExpectedVersion, evs ...event.New) (event.AppendResult, error) {
	if event.Category(stream) == enterprise.Category {
		var types []string
		for _, e := range evs {
			types = append(types, e.Type)
		}
		a.mu.Lock()
		a.calls = append(a.calls, types)
		a.mu.Unlock()
	}
	return a.EventStore.Append(ctx, stream, expected, evs...)
}

// verified walks an enterprise of a new account through the legal
// representative's phone check and returns it with its master admin.
func verified(t *testing.T, w *world, login string) (string, commands.Actor) {
	t.Helper()
	acct := register(t, w, login).AccountID
	id, a := openCase(t, w, acct, entName, enterprise.MethodLegalRepPhone)
	if _, err := w.cmds.SendPhoneCode.Handle(ctx, commands.SendPhoneCode{Actor: a, EnterpriseID: id, Phone: "13912345678"}); err != nil {
		t.Fatal(err)
	}
	res, err := w.cmds.ConfirmPhoneCode.Handle(ctx, commands.ConfirmPhoneCode{Actor: a, EnterpriseID: id, Code: w.smsCode(t, "13912345678")})
	if err != nil || !res.Verified {
		t.Fatalf("verification: %+v %v", res, err)
	}
	return id, a
}

// join adds a new account to the enterprise as role.
func join(t *testing.T, w *world, admin commands.Actor, id, login string, role enterprise.Role) commands.Actor {
	t.Helper()
	inv, err := w.cmds.CreateInvitation.Handle(ctx, commands.CreateInvitation{Actor: admin, EnterpriseID: id, Role: role})
	if err != nil {
		t.Fatal(err)
	}
	a := commands.Actor{AccountID: register(t, w, login).AccountID}
	if _, err := w.cmds.AcceptInvitation.Handle(ctx, commands.AcceptInvitation{Actor: a, Token: inv.Token}); err != nil {
		t.Fatal(err)
	}
	return a
}

// lazy is an Upload that counts how often it was read.
func lazy(data, mediaType string, reads *int) commands.Upload {
	return commands.Upload{Read: func() (commands.Upload, error) {
		*reads++
		return commands.Upload{Data: []byte(data), MediaType: mediaType}, nil
	}}
}

func TestVerificationAppendsTheDefaultSeal(t *testing.T) {
	rec := &appends{}
	w := newWorld(t, withEvents(func(s commands.EventStore) commands.EventStore { rec.EventStore = s; return rec }))
	id, a := verified(t, w, "13800138500")
	seals := load(t, w, id).Seals()
	if len(seals) != 1 {
		t.Fatalf("seals %+v", seals)
	}
	s := seals[0]
	if !s.Default || s.Name != enterprise.DefaultSealName || s.Disabled || s.CreatedBy != "" || len(s.File.SHA256) != 64 || s.File.Size == 0 || s.File.MediaType == "" {
		t.Fatalf("default seal %+v", s)
	}
	if _, err := load(t, w, id).CanUseSeal(a.AccountID, s.ID); err != nil {
		t.Fatalf("the master admin cannot use the default seal: %v", err)
	}
	// One append holds the verification and its seal.
	together := 0
	for _, c := range rec.calls {
		if slices.Contains(c, enterprise.TypeEnterpriseVerified) && slices.Contains(c, enterprise.TypeSealCreated) {
			together++
		}
	}
	if together != 1 {
		t.Fatalf("appends %v", rec.calls)
	}
}

// A name too long for the seal's ring does not stop the verification:
// the enterprise is verified without a default seal.
func TestVerificationOfANameTooLongToDraw(t *testing.T) {
	w := newWorld(t)
	acct := register(t, w, "13800138505").AccountID
	id, a := openCase(t, w, acct, strings.Repeat("井", 45)+"有限公司", enterprise.MethodLegalRepPhone)
	if _, err := w.cmds.SendPhoneCode.Handle(ctx, commands.SendPhoneCode{Actor: a, EnterpriseID: id, Phone: "13912345678"}); err != nil {
		t.Fatal(err)
	}
	res, err := w.cmds.ConfirmPhoneCode.Handle(ctx, commands.ConfirmPhoneCode{Actor: a, EnterpriseID: id, Code: w.smsCode(t, "13912345678")})
	if err != nil || !res.Verified {
		t.Fatalf("verification: %+v %v", res, err)
	}
	if e := load(t, w, id); !e.Verified() || len(e.Seals()) != 0 {
		t.Fatalf("verified %v, seals %+v", e.Verified(), e.Seals())
	}
	if !strings.Contains(w.logs.String(), "default seal not drawn") {
		t.Fatal("the missing seal was not logged")
	}
}

func TestSeals(t *testing.T) {
	w := newWorld(t)
	id, master := verified(t, w, "13800138510")
	admin := join(t, w, master, id, "13800138511", enterprise.Admin)
	member := join(t, w, master, id, "13800138512", enterprise.Member)
	outsider := commands.Actor{AccountID: register(t, w, "13800138513").AccountID}

	// Refused callers cost no reading.
	reads := 0
	for _, c := range []struct {
		actor      commands.Actor
		name       string
		kind       fault.Kind
		code, fild string
	}{
		{member, "合同专用章", fault.Forbidden, "not_enterprise_admin", ""},
		{outsider, "合同专用章", fault.Forbidden, "not_enterprise_member", ""},
		{admin, " ", fault.Invalid, "seal_name_required", "name"},
		{admin, enterprise.DefaultSealName, fault.Conflict, "seal_name_taken", "name"},
	} {
		_, err := w.cmds.Seals.UploadSeal.Handle(ctx, commands.UploadSeal{Actor: c.actor, EnterpriseID: id, Name: c.name, File: lazy("png", "image/png", &reads)})
		wantFault(t, err, c.kind, c.code, c.fild)
	}
	if reads != 0 {
		t.Fatalf("refused uploads were read %d times", reads)
	}
	_, err := w.cmds.Seals.UploadSeal.Handle(ctx, commands.UploadSeal{Actor: admin, EnterpriseID: "0190a0d2-0000-7000-8000-0000000000ff", Name: "合同专用章", File: lazy("png", "image/png", &reads)})
	wantFault(t, err, fault.NotFound, "enterprise_not_found", "")

	up, err := w.cmds.Seals.UploadSeal.Handle(ctx, commands.UploadSeal{Actor: admin, EnterpriseID: id, Name: " 合同专用章 ", File: lazy("contract seal", "image/png", &reads)})
	if err != nil {
		t.Fatal(err)
	}
	if reads != 1 || up.Position == 0 || up.Seal.Name != "合同专用章" || up.Seal.Default || up.Seal.CreatedBy != admin.AccountID || up.Seal.File.MediaType != "image/png" || up.Seal.File.Size != 13 {
		t.Fatalf("upload %+v (reads %d)", up, reads)
	}
	sealID := up.Seal.ID
	_, err = w.cmds.Seals.UploadSeal.Handle(ctx, commands.UploadSeal{Actor: admin, EnterpriseID: id, Name: "财务专用章", File: lazy("gif", "image/gif", &reads)})
	wantFault(t, err, fault.Unsupported, "unsupported_seal_image", "file")

	// Grants.
	use := func(a commands.Actor) error {
		_, err := load(t, w, id).CanUseSeal(a.AccountID, sealID)
		return err
	}
	wantFault(t, use(member), fault.Forbidden, "seal_not_granted", "")
	grant := commands.GrantSeal{Actor: admin, EnterpriseID: id, SealID: sealID, AccountID: member.AccountID}
	if g, err := w.cmds.Seals.GrantSeal.Handle(ctx, grant); err != nil || g.Position == 0 {
		t.Fatalf("grant: %+v %v", g, err)
	}
	if g, err := w.cmds.Seals.GrantSeal.Handle(ctx, grant); err != nil || g.Position != 0 {
		t.Fatalf("grant again: %+v %v", g, err)
	}
	if err := use(member); err != nil {
		t.Fatal(err)
	}
	_, err = w.cmds.Seals.GrantSeal.Handle(ctx, commands.GrantSeal{Actor: member, EnterpriseID: id, SealID: sealID, AccountID: member.AccountID})
	wantFault(t, err, fault.Forbidden, "not_enterprise_admin", "")
	_, err = w.cmds.Seals.GrantSeal.Handle(ctx, commands.GrantSeal{Actor: admin, EnterpriseID: id, SealID: sealID, AccountID: outsider.AccountID})
	wantFault(t, err, fault.NotFound, "member_not_found", "")
	if _, err := w.cmds.Seals.RevokeSeal.Handle(ctx, commands.RevokeSeal{Actor: master, EnterpriseID: id, SealID: sealID, AccountID: member.AccountID}); err != nil {
		t.Fatal(err)
	}
	wantFault(t, use(member), fault.Forbidden, "seal_not_granted", "")

	// Disabling.
	def := load(t, w, id).Seals()[0].ID
	if _, err := w.cmds.Seals.DisableSeal.Handle(ctx, commands.DisableSeal{Actor: admin, EnterpriseID: id, SealID: sealID}); err != nil {
		t.Fatal(err)
	}
	wantFault(t, use(admin), fault.Rule, "seal_disabled", "")
	_, err = w.cmds.Seals.DisableSeal.Handle(ctx, commands.DisableSeal{Actor: admin, EnterpriseID: id, SealID: def})
	wantFault(t, err, fault.Rule, "last_seal", "")

	// The approval policy.
	_, err = w.cmds.Seals.SetApprovalPolicy.Handle(ctx, commands.SetApprovalPolicy{Actor: admin, EnterpriseID: id, Required: true})
	wantFault(t, err, fault.Invalid, "approvers_required", "approvers")
	_, err = w.cmds.Seals.SetApprovalPolicy.Handle(ctx, commands.SetApprovalPolicy{Actor: admin, EnterpriseID: id, Required: true, Approvers: []string{outsider.AccountID}})
	wantFault(t, err, fault.Rule, "approver_not_member", "approvers")
	_, err = w.cmds.Seals.SetApprovalPolicy.Handle(ctx, commands.SetApprovalPolicy{Actor: member, EnterpriseID: id, Required: true, Approvers: []string{member.AccountID}})
	wantFault(t, err, fault.Forbidden, "not_enterprise_admin", "")
	if p, err := w.cmds.Seals.SetApprovalPolicy.Handle(ctx, commands.SetApprovalPolicy{Actor: admin, EnterpriseID: id, Required: true, Approvers: []string{member.AccountID}}); err != nil || p.Position == 0 {
		t.Fatalf("policy: %+v %v", p, err)
	}
	if req, ap := load(t, w, id).ApprovalPolicy(); !req || !slices.Equal(ap, []string{member.AccountID}) {
		t.Fatalf("policy %v %v", req, ap)
	}
}

func TestSignatureImages(t *testing.T) {
	w := newWorld(t)
	a := commands.Actor{AccountID: register(t, w, "13800138520").AccountID}
	reads := 0
	first, err := w.cmds.Seals.UploadSignatureImage.Handle(ctx, commands.UploadSignatureImage{Actor: a, File: lazy("my signature", "image/png", &reads)})
	if err != nil {
		t.Fatal(err)
	}
	if first.SignatureID == "" || first.Position == 0 || first.File.MediaType != "image/png" || len(first.File.SHA256) != 64 {
		t.Fatalf("first %+v", first)
	}
	again, err := w.cmds.Seals.UploadSignatureImage.Handle(ctx, commands.UploadSignatureImage{Actor: a, File: lazy("my signature", "image/png", &reads)})
	if err != nil || again.SignatureID != first.SignatureID || again.Position != 0 {
		t.Fatalf("the same image again: %+v %v", again, err)
	}
	for i := 1; i < account.MaxSignatureImages; i++ {
		if _, err := w.cmds.Seals.UploadSignatureImage.Handle(ctx, commands.UploadSignatureImage{Actor: a, File: lazy("signature "+strings.Repeat("x", i), "image/jpeg", &reads)}); err != nil {
			t.Fatal(err)
		}
	}
	before := reads
	_, err = w.cmds.Seals.UploadSignatureImage.Handle(ctx, commands.UploadSignatureImage{Actor: a, File: lazy("one too many", "image/png", &reads)})
	wantFault(t, err, fault.Rule, "signature_limit", "")
	if reads != before {
		t.Fatal("a refused signature image was read")
	}
	_, err = w.cmds.Seals.UploadSignatureImage.Handle(ctx, commands.UploadSignatureImage{Actor: commands.Actor{AccountID: "0190a0d2-0000-7000-8000-0000000000ff"}, File: lazy("x", "image/png", &reads)})
	wantFault(t, err, fault.NotFound, "account_not_found", "")
}

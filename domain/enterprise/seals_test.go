package enterprise

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"signet/domain/fault"
)

var (
	sealPNG  = File{SHA256: strings.Repeat("b", 64), Size: 20, MediaType: "image/png"}
	sealSVG  = File{SHA256: strings.Repeat("c", 64), Size: 30, MediaType: "image/svg+xml"}
	defSeal  = SealCreated{SealID: "s0", Name: DefaultSealName, File: sealSVG, Default: true, CreatedAt: t0}
	contract = SealCreated{SealID: "s1", Name: "合同专用章", File: sealPNG, CreatedBy: creator, CreatedAt: t0}
)

// team is a verified enterprise with its default seal, an admin a1 and
// members m1 and m2.
func team(more ...Event) []Event {
	return cat(ready(LegalRep, MethodLegalRepPhone), verifiedBy(MethodLegalRepPhone, t0), []Event{defSeal,
		MemberJoined{AccountID: "a1", Role: Admin, JoinedAt: t0},
		MemberJoined{AccountID: "m1", Role: Member, JoinedAt: t0},
		MemberJoined{AccountID: "m2", Role: Member, JoinedAt: t0}}, more)
}

type sealCase struct {
	name    string
	given   []Event
	do      decision
	want    []Event
	errCode string
	kind    fault.Kind
	check   func(*testing.T, *Enterprise)
}

func runSealCases(t *testing.T, cases []sealCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := given(t, tc.given...)
			got, err := tc.do(e)
			if tc.errCode == "" && err != nil {
				t.Fatalf("error %v", err)
			}
			if tc.errCode == "error" {
				if _, ok := fault.As(err); err == nil || ok {
					t.Fatalf("error %v, want a programming error", err)
				}
			} else if tc.errCode != "" {
				f, ok := fault.As(err)
				if !ok || f.Code != tc.errCode || f.Kind != tc.kind {
					t.Fatalf("error %v, want code %s kind %d", err, tc.errCode, tc.kind)
				}
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("events\n got %#v\nwant %#v", got, tc.want)
			}
			for _, ev := range got {
				if _, ledger := ev.(ContractQuotaUsed); ledger {
					continue // appended to the quota ledger, not to the enterprise
				}
				if err := e.Apply(ev); err != nil {
					t.Fatalf("apply %s: %v", ev.EventType(), err)
				}
			}
			if tc.check != nil {
				tc.check(t, e)
			}
		})
	}
}

func TestSealDecisions(t *testing.T) {
	later := t0.Add(time.Hour)
	create := func(actor, id, name string, f File) decision {
		return func(e *Enterprise) ([]Event, error) { return e.CreateSeal(actor, id, name, f, later) }
	}
	var many []Event
	for i := range MaxSeals - 1 {
		many = append(many, SealCreated{SealID: "x" + string(rune('a'+i)), Name: "章" + string(rune('a'+i)), File: sealPNG, CreatedAt: t0})
	}
	runSealCases(t, []sealCase{
		{name: "an admin uploads a seal", given: team(), do: create("a1", "s1", " 合同专用章 ", sealPNG),
			want: []Event{SealCreated{SealID: "s1", Name: "合同专用章", File: sealPNG, CreatedBy: "a1", CreatedAt: later}},
			check: func(t *testing.T, e *Enterprise) {
				ss := e.Seals()
				if len(ss) != 2 || !ss[0].Default || ss[1].ID != "s1" || ss[1].CreatedBy != "a1" || ss[1].Grants == nil {
					t.Fatalf("seals %+v", ss)
				}
			}},
		{name: "a member may not upload", given: team(), do: create("m1", "s1", "合同专用章", sealPNG), errCode: "not_enterprise_admin", kind: fault.Forbidden},
		{name: "an outsider may not upload", given: team(), do: create("x", "s1", "合同专用章", sealPNG), errCode: "not_enterprise_member", kind: fault.Forbidden},
		{name: "no seal before verification", given: cat(ready(LegalRep, MethodLegalRepPhone), []Event{MemberJoined{AccountID: creator, Role: MasterAdmin}}),
			do: create(creator, "s1", "合同专用章", sealPNG), errCode: "enterprise_not_verified", kind: fault.Rule},
		{name: "no enterprise", do: create(creator, "s1", "合同专用章", sealPNG), errCode: "enterprise_not_found", kind: fault.NotFound},
		{name: "a seal needs a name", given: team(), do: create(creator, "s1", "  ", sealPNG), errCode: "seal_name_required", kind: fault.Invalid},
		{name: "a name too long", given: team(), do: create(creator, "s1", strings.Repeat("章", MaxSealNameRunes+1), sealPNG), errCode: "invalid_seal_name", kind: fault.Invalid},
		{name: "a name with a control character", given: team(), do: create(creator, "s1", "合同\n专用章", sealPNG), errCode: "invalid_seal_name", kind: fault.Invalid},
		{name: "a name with a right-to-left override", given: team(), do: create(creator, "s1", "合同\u202e专用章", sealPNG), errCode: "invalid_seal_name", kind: fault.Invalid},
		{name: "a name taken by an enabled seal", given: team(contract), do: create(creator, "s2", "合同专用章", sealPNG), errCode: "seal_name_taken", kind: fault.Conflict},
		{name: "a disabled seal's name is free", given: team(contract, SealDisabled{SealID: "s1"}), do: create(creator, "s2", "合同专用章", sealPNG),
			want: []Event{SealCreated{SealID: "s2", Name: "合同专用章", File: sealPNG, CreatedBy: creator, CreatedAt: later}}},
		{name: "no SVG uploads", given: team(), do: create(creator, "s1", "合同专用章", sealSVG), errCode: "unsupported_seal_image", kind: fault.Unsupported},
		{name: "twenty enabled seals at most", given: team(many...), do: create(creator, "s1", "合同专用章", sealPNG), errCode: "seal_limit", kind: fault.Rule},
		{name: "a disabled seal makes room", given: team(append(many, SealDisabled{SealID: "xa"})...), do: create(creator, "s1", "合同专用章", sealPNG),
			want: []Event{SealCreated{SealID: "s1", Name: "合同专用章", File: sealPNG, CreatedBy: creator, CreatedAt: later}}},
		{name: "a seal ID is used once", given: team(contract), do: create(creator, "s1", "财务专用章", sealPNG), errCode: "error"},
		{name: "no stored file", given: team(), do: create(creator, "s1", "合同专用章", File{MediaType: "image/png"}), errCode: "error"},

		{name: "the default seal", given: cat(ready(LegalRep, MethodLegalRepPhone)),
			do:   func(e *Enterprise) ([]Event, error) { return e.DefaultSeal("s0", sealSVG, t0), nil },
			want: []Event{defSeal}},
		{name: "one default seal", given: team(),
			do: func(e *Enterprise) ([]Event, error) { return e.DefaultSeal("s9", sealSVG, t0), nil }},

		{name: "grant a member", given: team(contract), do: func(e *Enterprise) ([]Event, error) { return e.GrantSeal("a1", "s1", "m1", later) },
			want: []Event{SealUseGranted{SealID: "s1", AccountID: "m1", GrantedBy: "a1", GrantedAt: later}},
			check: func(t *testing.T, e *Enterprise) {
				if s, _ := e.Seal("s1"); !slices.Equal(s.Grants, []string{"m1"}) {
					t.Fatalf("grants %v", s.Grants)
				}
			}},
		{name: "grant again", given: team(contract, SealUseGranted{SealID: "s1", AccountID: "m1"}),
			do: func(e *Enterprise) ([]Event, error) { return e.GrantSeal("a1", "s1", "m1", later) }},
		{name: "grant to an outsider", given: team(contract), do: func(e *Enterprise) ([]Event, error) { return e.GrantSeal("a1", "s1", "x", later) },
			errCode: "member_not_found", kind: fault.NotFound},
		{name: "a member grants nothing", given: team(contract), do: func(e *Enterprise) ([]Event, error) { return e.GrantSeal("m1", "s1", "m2", later) },
			errCode: "not_enterprise_admin", kind: fault.Forbidden},
		{name: "grant an unknown seal", given: team(), do: func(e *Enterprise) ([]Event, error) { return e.GrantSeal("a1", "nope", "m1", later) },
			errCode: "seal_not_found", kind: fault.NotFound},
		{name: "grant a disabled seal", given: team(contract, SealDisabled{SealID: "s1"}), do: func(e *Enterprise) ([]Event, error) { return e.GrantSeal("a1", "s1", "m1", later) },
			errCode: "seal_disabled", kind: fault.Rule},
		{name: "revoke", given: team(contract, SealUseGranted{SealID: "s1", AccountID: "m1"}),
			do:   func(e *Enterprise) ([]Event, error) { return e.RevokeSeal(creator, "s1", "m1", later) },
			want: []Event{SealUseRevoked{SealID: "s1", AccountID: "m1", RevokedBy: creator, RevokedAt: later}},
			check: func(t *testing.T, e *Enterprise) {
				if _, err := e.CanUseSeal("m1", "s1"); err == nil {
					t.Fatal("a revoked member still uses the seal")
				}
			}},
		{name: "revoke what was not granted", given: team(contract), do: func(e *Enterprise) ([]Event, error) { return e.RevokeSeal(creator, "s1", "m1", later) }},
		{name: "a member revokes nothing", given: team(contract, SealUseGranted{SealID: "s1", AccountID: "m2"}),
			do: func(e *Enterprise) ([]Event, error) { return e.RevokeSeal("m1", "s1", "m2", later) }, errCode: "not_enterprise_admin", kind: fault.Forbidden},

		{name: "disable", given: team(contract), do: func(e *Enterprise) ([]Event, error) { return e.DisableSeal("a1", "s0", later) },
			want: []Event{SealDisabled{SealID: "s0", DisabledBy: "a1", DisabledAt: later}}},
		{name: "disable again", given: team(contract, SealDisabled{SealID: "s1"}), do: func(e *Enterprise) ([]Event, error) { return e.DisableSeal("a1", "s1", later) }},
		{name: "the last enabled seal stays", given: team(contract, SealDisabled{SealID: "s1"}), do: func(e *Enterprise) ([]Event, error) { return e.DisableSeal("a1", "s0", later) },
			errCode: "last_seal", kind: fault.Rule},
		{name: "a member disables nothing", given: team(contract), do: func(e *Enterprise) ([]Event, error) { return e.DisableSeal("m1", "s1", later) },
			errCode: "not_enterprise_admin", kind: fault.Forbidden},
		{name: "disable an unknown seal", given: team(), do: func(e *Enterprise) ([]Event, error) { return e.DisableSeal("a1", "s9", later) },
			errCode: "seal_not_found", kind: fault.NotFound},
		{name: "a removed member loses grants and approvals",
			given: team(contract, SealUseGranted{SealID: "s1", AccountID: "m1"}, ApprovalPolicySet{Required: true, Approvers: []string{"m1", "m2"}}),
			do:    func(e *Enterprise) ([]Event, error) { return e.RemoveMember("a1", "m1", later) },
			want:  []Event{MemberRemoved{AccountID: "m1", RemovedBy: "a1", RemovedAt: later}},
			check: func(t *testing.T, e *Enterprise) {
				if s, _ := e.Seal("s1"); len(s.Grants) != 0 {
					t.Fatalf("grants %v", s.Grants)
				}
				if req, ap := e.ApprovalPolicy(); !req || !slices.Equal(ap, []string{"m2"}) {
					t.Fatalf("policy %v %v", req, ap)
				}
			}},
	})
}

func TestCanUseSeal(t *testing.T) {
	e := given(t, team(contract, SealUseGranted{SealID: "s1", AccountID: "m1"},
		SealCreated{SealID: "s2", Name: "旧章", File: sealPNG}, SealDisabled{SealID: "s2"})...)
	cases := []struct {
		account, seal string
		code          string
		kind          fault.Kind
	}{
		{creator, "s0", "", 0},
		{"a1", "s1", "", 0},
		{"m1", "s1", "", 0},
		{"m1", "s0", "seal_not_granted", fault.Forbidden},
		{"m2", "s1", "seal_not_granted", fault.Forbidden},
		{"x", "s0", "not_enterprise_member", fault.Forbidden},
		{"x", "nope", "not_enterprise_member", fault.Forbidden},
		{creator, "nope", "seal_not_found", fault.NotFound},
		{creator, "s2", "seal_disabled", fault.Rule},
	}
	for _, c := range cases {
		s, err := e.CanUseSeal(c.account, c.seal)
		if c.code == "" {
			if err != nil || s.ID != c.seal {
				t.Errorf("%s with %s: %+v %v", c.account, c.seal, s, err)
			}
			continue
		}
		f, ok := fault.As(err)
		if !ok || f.Code != c.code || f.Kind != c.kind {
			t.Errorf("%s with %s: %v, want %s", c.account, c.seal, err, c.code)
		}
		if c.code == "seal_not_granted" && !strings.Contains(f.Message, "administrator") {
			t.Errorf("message %q does not say whom to ask", f.Message)
		}
	}
	if _, err := New().CanUseSeal(creator, "s0"); err != ErrNotFound {
		t.Errorf("no enterprise: %v", err)
	}
	for _, c := range []struct {
		role    Role
		granted bool
		want    bool
	}{{MasterAdmin, false, true}, {Admin, false, true}, {Member, true, true}, {Member, false, false}, {"", true, false}} {
		if got := MayUseSeal(c.role, c.granted); got != c.want {
			t.Errorf("MayUseSeal(%q, %v) = %v", c.role, c.granted, got)
		}
	}
}

func TestApprovalPolicy(t *testing.T) {
	later := t0.Add(time.Hour)
	set := func(actor string, req bool, ap ...string) decision {
		return func(e *Enterprise) ([]Event, error) { return e.SetApprovalPolicy(actor, req, ap, later) }
	}
	runSealCases(t, []sealCase{
		{name: "require approval", given: team(), do: set("a1", true, "m1", " m2 ", "m1"),
			want: []Event{ApprovalPolicySet{Required: true, Approvers: []string{"m1", "m2"}, SetBy: "a1", SetAt: later}},
			check: func(t *testing.T, e *Enterprise) {
				if req, ap := e.ApprovalPolicy(); !req || !slices.Equal(ap, []string{"m1", "m2"}) {
					t.Fatalf("policy %v %v", req, ap)
				}
			}},
		{name: "the same policy again", given: team(ApprovalPolicySet{Required: true, Approvers: []string{"m1"}}), do: set("a1", true, "m1")},
		{name: "no approval needed", given: team(ApprovalPolicySet{Required: true, Approvers: []string{"m1"}}), do: set(creator, false),
			want: []Event{ApprovalPolicySet{Required: false, Approvers: []string{}, SetBy: creator, SetAt: later}}},
		{name: "required needs approvers", given: team(), do: set("a1", true), errCode: "approvers_required", kind: fault.Invalid},
		{name: "approvers are members", given: team(), do: set("a1", true, "m1", "x"), errCode: "approver_not_member", kind: fault.Rule},
		{name: "an empty approver", given: team(), do: set("a1", true, ""), errCode: "invalid_approver", kind: fault.Invalid},
		{name: "a member sets no policy", given: team(), do: set("m1", true, "m1"), errCode: "not_enterprise_admin", kind: fault.Forbidden},
		{name: "approval falls to the admins when every approver left",
			given: team(ApprovalPolicySet{Required: true, Approvers: []string{"m1"}}),
			do:    func(e *Enterprise) ([]Event, error) { return e.RemoveMember("a1", "m1", later) },
			want:  []Event{MemberRemoved{AccountID: "m1", RemovedBy: "a1", RemovedAt: later}},
			check: func(t *testing.T, e *Enterprise) {
				if req, ap := e.ApprovalPolicy(); !req || !slices.Equal(ap, []string{creator, "a1"}) {
					t.Fatalf("policy %v %v", req, ap)
				}
			}},
	})
	if req, ap := given(t, team()...).ApprovalPolicy(); req || ap == nil || len(ap) != 0 {
		t.Fatalf("default policy %v %v", req, ap)
	}
}

func TestUseQuota(t *testing.T) {
	later := t0.Add(time.Hour)
	use := func(actor, cid string, used int) decision {
		return func(e *Enterprise) ([]Event, error) { return e.UseQuota(actor, cid, used, later) }
	}
	runSealCases(t, []sealCase{
		{name: "a member uses the first", given: team(), do: use("m1", "c1", 0),
			want: []Event{ContractQuotaUsed{ContractID: "c1", UsedBy: "m1", UsedAt: later, Used: 1}},
			check: func(t *testing.T, e *Enterprise) {
				if e.QuotaLeft(1) != EnterpriseQuota-1 || e.Quota() != EnterpriseQuota {
					t.Fatalf("left %d of %d", e.QuotaLeft(1), e.Quota())
				}
			}},
		{name: "the ledger's count goes on", given: team(), do: use("m1", "c7", 6),
			want: []Event{ContractQuotaUsed{ContractID: "c7", UsedBy: "m1", UsedAt: later, Used: 7}}},
		{name: "the last one", given: team(), do: use("m1", "c10", EnterpriseQuota-1),
			want: []Event{ContractQuotaUsed{ContractID: "c10", UsedBy: "m1", UsedAt: later, Used: EnterpriseQuota}}},
		{name: "used up", given: team(), do: use("m1", "c99", EnterpriseQuota), errCode: "quota_exhausted", kind: fault.Rule,
			check: func(t *testing.T, e *Enterprise) {
				_, err := e.UseQuota("m1", "c99", EnterpriseQuota, later)
				if f, _ := fault.As(err); !strings.Contains(f.Message, "10 granted, 10 used") {
					t.Fatalf("message %q", f.Message)
				}
			}},
		{name: "a ledger beyond the grants", given: team(), do: use("m1", "c99", EnterpriseQuota+3), errCode: "quota_exhausted", kind: fault.Rule},
		{name: "an outsider uses nothing", given: team(), do: use("x", "c1", 0), errCode: "not_enterprise_member", kind: fault.Forbidden},
		{name: "not before verification", given: cat(ready(LegalRep, MethodLegalRepPhone), []Event{MemberJoined{AccountID: creator, Role: MasterAdmin}}),
			do: use(creator, "c1", 0), errCode: "enterprise_not_verified", kind: fault.Rule},
		{name: "no contract ID", given: team(), do: use("m1", "", 0), errCode: "error"},
		{name: "no enterprise", do: use("m1", "c1", 0), errCode: "enterprise_not_found", kind: fault.NotFound},
	})
}

func TestSealEventsRoundTrip(t *testing.T) {
	evs := []Event{defSeal, contract, SealUseGranted{SealID: "s1", AccountID: "m1", GrantedBy: "a1", GrantedAt: t0},
		SealUseRevoked{SealID: "s1", AccountID: "m1", RevokedBy: "a1", RevokedAt: t0}, SealDisabled{SealID: "s1", DisabledBy: "a1", DisabledAt: t0},
		ApprovalPolicySet{Required: true, Approvers: []string{"m1"}, SetBy: "a1", SetAt: t0},
		ContractQuotaUsed{ContractID: "c1", UsedBy: "m1", UsedAt: t0, Used: 1}}
	for _, ev := range evs {
		typ, schema, data, err := Encode(ev)
		if err != nil {
			t.Fatal(err)
		}
		if !Has(typ) || typ != ev.EventType() {
			t.Fatalf("%T stored as %q", ev, typ)
		}
		back, err := Decode(typ, schema, data)
		if err != nil || !reflect.DeepEqual(back, ev) {
			t.Fatalf("%s: %#v %v", typ, back, err)
		}
	}
	// A grant or a disabling of a seal that does not exist is a broken stream.
	// So is quota spending there: it belongs on the quota ledger.
	for _, ev := range []Event{SealUseGranted{SealID: "zz"}, SealDisabled{SealID: "zz"}, defSeal, ContractQuotaUsed{ContractID: "c1", Used: 1}} {
		if err := given(t, team()...).Apply(ev); err == nil {
			t.Errorf("%T of an unknown or existing seal applied", ev)
		}
	}
}

// FuzzCheckSealName: an accepted name is trimmed, short, printable UTF-8,
// and accepted again as it is.
func FuzzCheckSealName(f *testing.F) {
	for _, s := range []string{"合同专用章", " 财务专用章 ", "", "a\x00b", "\xff", strings.Repeat("章", 31), "‮章"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		name, err := CheckSealName(s)
		if err != nil {
			if f, ok := fault.As(err); !ok || f.Kind != fault.Invalid || f.Field != "name" {
				t.Fatalf("refusal %v", err)
			}
			return
		}
		if name != strings.TrimSpace(name) || name == "" || !utf8.ValidString(name) || utf8.RuneCountInString(name) > MaxSealNameRunes {
			t.Fatalf("accepted %q as %q", s, name)
		}
		for _, r := range name {
			if unicode.In(r, unicode.Cc, unicode.Cf) {
				t.Fatalf("control character in %q", name)
			}
		}
		if again, err := CheckSealName(name); err != nil || again != name {
			t.Fatalf("not stable: %q -> %q (%v)", name, again, err)
		}
	})
}

package enterprise

import (
	"slices"
	"testing"
	"time"

	"signet/domain/fault"
)

// An auditor joins like a member, reads everything and decides nothing.
func TestAuditor(t *testing.T) {
	later := t0.Add(time.Hour)
	aud := MemberJoined{AccountID: "au", Role: Auditor, JoinedAt: t0}
	readOnly := func(name string, do decision) sealCase {
		return sealCase{name: "an auditor " + name, given: team(contract, aud), do: do, errCode: "auditor_read_only", kind: fault.Forbidden}
	}
	runSealCases(t, []sealCase{
		{name: "an admin invites an auditor", given: team(), do: func(e *Enterprise) ([]Event, error) { return e.Invite("a1", "i1", "h", Auditor, later) },
			want: []Event{MemberInvitationCreated{InvitationID: "i1", TokenHash: "h", Role: Auditor, CreatedBy: "a1", ExpiresAt: later.Add(InvitationValidFor), CreatedAt: later}}},
		{name: "an auditor joins as an auditor", given: team(MemberInvitationCreated{InvitationID: "i1", Role: Auditor, ExpiresAt: later.Add(time.Hour), CreatedAt: t0}),
			do:   func(e *Enterprise) ([]Event, error) { return e.Join("au", "i1", later) },
			want: []Event{MemberJoined{AccountID: "au", Role: Auditor, InvitationID: "i1", JoinedAt: later}},
			check: func(t *testing.T, e *Enterprise) {
				if e.RoleOf("au") != Auditor {
					t.Fatalf("role %q", e.RoleOf("au"))
				}
			}},
		{name: "an admin makes a member an auditor", given: team(), do: func(e *Enterprise) ([]Event, error) { return e.ChangeRole("a1", "m1", Auditor, later) },
			want: []Event{MemberRoleChanged{AccountID: "m1", Role: Auditor, ChangedBy: "a1", ChangedAt: later}}},
		{name: "and back", given: team(aud), do: func(e *Enterprise) ([]Event, error) { return e.ChangeRole(creator, "au", Member, later) },
			want: []Event{MemberRoleChanged{AccountID: "au", Role: Member, ChangedBy: creator, ChangedAt: later}}},
		{name: "a plain member makes no auditor", given: team(), do: func(e *Enterprise) ([]Event, error) { return e.ChangeRole("m1", "m2", Auditor, later) },
			errCode: "not_enterprise_admin", kind: fault.Forbidden},
		{name: "no such role", given: team(), do: func(e *Enterprise) ([]Event, error) { return e.ChangeRole("a1", "m1", "boss", later) },
			errCode: "invalid_role", kind: fault.Invalid},
		readOnly("invites nobody", func(e *Enterprise) ([]Event, error) { return e.Invite("au", "i1", "h", Member, later) }),
		readOnly("changes no role", func(e *Enterprise) ([]Event, error) { return e.ChangeRole("au", "m1", Admin, later) }),
		readOnly("removes nobody", func(e *Enterprise) ([]Event, error) { return e.RemoveMember("au", "m1", later) }),
		readOnly("creates no seal", func(e *Enterprise) ([]Event, error) {
			return e.CreateSeal("au", "s9", "财务专用章", sealPNG, later)
		}),
		readOnly("grants no seal", func(e *Enterprise) ([]Event, error) { return e.GrantSeal("au", "s1", "m1", later) }),
		readOnly("revokes no seal", func(e *Enterprise) ([]Event, error) { return e.RevokeSeal("au", "s1", "m1", later) }),
		readOnly("disables no seal", func(e *Enterprise) ([]Event, error) { return e.DisableSeal("au", "s1", later) }),
		readOnly("sets no approval policy", func(e *Enterprise) ([]Event, error) { return e.SetApprovalPolicy("au", false, nil, later) }),
		readOnly("spends no quota", func(e *Enterprise) ([]Event, error) { return e.UseQuota("au", "c1", 0, later) }),
		{name: "an auditor is granted no seal", given: team(contract, aud), do: func(e *Enterprise) ([]Event, error) { return e.GrantSeal("a1", "s1", "au", later) },
			errCode: "auditor_cannot_sign", kind: fault.Rule},
		{name: "an auditor approves nothing", given: team(aud), do: func(e *Enterprise) ([]Event, error) {
			return e.SetApprovalPolicy("a1", true, []string{"m1", "au"}, later)
		},
			errCode: "auditor_cannot_approve", kind: fault.Rule},
		{name: "an approver made an auditor leaves the approvers", given: team(ApprovalPolicySet{Required: true, Approvers: []string{"m1", "m2"}}),
			do:   func(e *Enterprise) ([]Event, error) { return e.ChangeRole("a1", "m1", Auditor, later) },
			want: []Event{MemberRoleChanged{AccountID: "m1", Role: Auditor, ChangedBy: "a1", ChangedAt: later}},
			check: func(t *testing.T, e *Enterprise) {
				if req, ap := e.ApprovalPolicy(); !req || !slices.Equal(ap, []string{"m2"}) {
					t.Fatalf("policy %v %v", req, ap)
				}
			}},
	})
	e := given(t, team(contract, aud, SealUseGranted{SealID: "s0", AccountID: "m1"})...)
	for _, c := range []struct {
		account string
		code    string
	}{{creator, ""}, {"a1", ""}, {"m1", ""}, {"au", "auditor_read_only"}, {"x", "not_enterprise_member"}} {
		err := e.CheckActsFor(c.account)
		if f, _ := fault.As(err); (c.code == "" && err != nil) || (c.code != "" && (f == nil || f.Code != c.code)) {
			t.Errorf("CheckActsFor(%s) = %v, want %q", c.account, err, c.code)
		}
	}
	if _, err := e.CanUseSeal("au", "s0"); err != ErrAuditorReadOnly {
		t.Errorf("an auditor signs with a seal: %v", err)
	}
	if MayUseSeal(Auditor, true) {
		t.Error("MayUseSeal(auditor) must be false")
	}
}

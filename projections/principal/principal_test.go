package principal

import (
	"slices"
	"testing"
	"time"

	"signet/domain/account"
	"signet/domain/contract"
	"signet/domain/layout"
)

var t0 = time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)

func hashOf(phone string) string {
	l, err := account.ParseLogin(phone)
	if err != nil {
		panic(err)
	}
	return l.Hash()
}

func TestGroupsOfCallers(t *testing.T) {
	admin := Membership{EnterpriseID: "e1", Name: "甲公司", Role: RoleAdmin, Verified: true}
	master := Membership{EnterpriseID: "e2", Name: "乙公司", Role: RoleMasterAdmin, Verified: true}
	member := Membership{EnterpriseID: "e3", Name: "丙公司", Role: RoleMember, Verified: true}
	unverified := Membership{EnterpriseID: "e4", Name: "丁公司", Role: RoleMasterAdmin}
	tests := []struct {
		name       string
		c          Caller
		enterprise string
		want       [][]string
		ok         bool
	}{
		{"a person", Caller{AccountID: "a", LoginHash: "h"}, "", [][]string{{"acct:a"}, {"login:h"}}, true},
		{"no profile yet", Caller{AccountID: "a"}, "", [][]string{{"acct:a"}}, true},
		{"administrators see both sides of their enterprises", Caller{AccountID: "a", LoginHash: "h", Memberships: []Membership{admin, master, member, unverified}}, "",
			[][]string{{"ent:e1", EnterpriseName("甲公司")}, {"ent:e2", EnterpriseName("乙公司")}, {"member:e3:a"}, {"acct:a"}, {"login:h"}}, true},
		{"members see their own; so do former members", Caller{AccountID: "a", Memberships: []Membership{member}, Acted: []string{"e9", "e1"}}, "",
			[][]string{{"member:e1:a"}, {"member:e3:a"}, {"member:e9:a"}, {"acct:a"}}, true},
		{"an administrator acting for it needs no member key", Caller{AccountID: "a", Memberships: []Membership{admin}, Acted: []string{"e1"}}, "",
			[][]string{{"ent:e1", EnterpriseName("甲公司")}, {"acct:a"}}, true},
		{"narrowed to one enterprise", Caller{AccountID: "a", LoginHash: "h", Memberships: []Membership{admin, member}}, "e1",
			[][]string{{"ent:e1", EnterpriseName("甲公司")}}, true},
		{"narrowed to a member's", Caller{AccountID: "a", Memberships: []Membership{admin, member}}, "e3", [][]string{{"member:e3:a"}}, true},
		{"narrowed to another's", Caller{AccountID: "a", Memberships: []Membership{admin}}, "e2", nil, false},
		{"narrowed to an unverified case", Caller{AccountID: "a", Memberships: []Membership{unverified}}, "e4", nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := Groups(tc.c, tc.enterprise)
			if ok != tc.ok || !slices.EqualFunc(got, tc.want, slices.Equal) {
				t.Fatalf("groups %v %v, want %v %v", got, ok, tc.want, tc.ok)
			}
			if tc.enterprise == "" && !slices.Equal(OfCaller(tc.c), slices.Concat(tc.want...)) {
				t.Fatalf("OfCaller %v", OfCaller(tc.c))
			}
		})
	}
}

func TestSidesOfContracts(t *testing.T) {
	const phone, other = "13800000001", "13800000002"
	created := func(sender contract.Sender, sequential bool) contract.ContractCreated {
		return contract.ContractCreated{ContractID: "c", Sender: sender, Sequential: sequential, SigningDeadline: t0.Add(time.Hour), CreatedAt: t0,
			Parties: []contract.Party{
				{ID: "p1", Kind: layout.Person, Order: 1, Contact: contract.Contact{Kind: "phone", Value: phone}},
				{ID: "p2", Kind: layout.Enterprise, Order: 2, Contact: contract.Contact{Kind: "phone", Value: other}, EnterpriseName: " 乙公司 "},
				{ID: "p3", Kind: layout.Enterprise, Order: 2, Contact: contract.Contact{Kind: "phone", Value: other}, EnterpriseName: "甲公司"},
			}}
	}
	ent := contract.Sender{AccountID: "s", EnterpriseID: "e1", Name: "甲公司"}
	person := contract.Sender{AccountID: "s", Name: "张三"}
	sent := contract.ContractSent{SentBy: "s", SentAt: t0}
	play := func(evs ...contract.Event) *contract.Contract {
		k := contract.New()
		for _, e := range evs {
			if err := k.Apply(e); err != nil {
				t.Fatal(err)
			}
		}
		return k
	}
	login, nameA, nameB := Login(hashOf(phone)), EnterpriseName("甲公司"), EnterpriseName("乙公司")
	tests := []struct {
		name string
		k    *contract.Contract
		want Sides
	}{
		{"nothing yet", contract.New(), Sides{}},
		{"waiting for approval: the sender's side and the approvers", play(created(ent, false), contract.ContractSubmittedForApproval{Approvers: []string{"x", "y"}, SubmittedAt: t0}),
			Sides{Out: []string{"ent:e1", "member:e1:s"}, Approvers: []string{"acct:x", "acct:y"}}},
		{"approved and sent: the parties (itself by its ID), the approvers no more", play(created(ent, false), contract.ContractSubmittedForApproval{Approvers: []string{"x"}, SubmittedAt: t0},
			contract.ContractApproved{ApproverID: "x", ApprovedAt: t0}, sent),
			Sides{Out: []string{"ent:e1", "member:e1:s"}, In: []string{login, nameB, "ent:e1"}, Turn: []string{login, nameB, "ent:e1"}}},
		{"sent by a person, in turn", play(created(person, true), sent),
			Sides{Out: []string{"acct:s"}, In: []string{login, nameB, nameA}, Turn: []string{login}}},
		{"the turn moves; who signed for an enterprise sees it", play(created(person, true), sent,
			contract.PartySigned{PartyID: "p1", SignerAccountID: "a1", SignedAt: t0},
			contract.PartySigned{PartyID: "p2", SignerAccountID: "a2", EnterpriseID: "e2", SignedAt: t0}),
			Sides{Out: []string{"acct:s"}, In: []string{login, nameB, nameA, "member:e2:a2"}, Turn: []string{nameA}}},
		{"refused for an enterprise: no turn", play(created(person, false), sent,
			contract.PartyRejected{PartyID: "p2", SignerAccountID: "a2", EnterpriseID: "e2", RejectedAt: t0}),
			Sides{Out: []string{"acct:s"}, In: []string{login, nameB, nameA, "member:e2:a2"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := OfContract(tc.k)
			for _, pair := range [][2][]string{{got.Out, tc.want.Out}, {got.In, tc.want.In}, {got.Approvers, tc.want.Approvers}, {got.Turn, tc.want.Turn}} {
				if !slices.Equal(pair[0], pair[1]) {
					t.Fatalf("sides %+v\nwant %+v", got, tc.want)
				}
			}
		})
	}
	if EnterpriseName(" 甲公司") != EnterpriseName("甲公司") || EnterpriseName("甲公司") == EnterpriseName("乙公司") {
		t.Fatal("names are hashed trimmed and apart")
	}
}

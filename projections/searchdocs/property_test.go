package searchdocs_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"signet/domain/contract"
	"signet/domain/event"
	"signet/domain/filing"
	"signet/domain/layout"
	"signet/infra/eventstore/sqlite"
	"signet/projections/principal"
	"signet/projections/searchdocs"
)

func newBuilder(s *sqlite.Store) *searchdocs.Builder { return searchdocs.New(s) }

type person struct{ id, name, phone string }

type firm struct {
	id, name string
	admins   []string
}

var (
	people = []person{{"p-zhao", "赵一", "13900000001"}, {"p-qian", "钱二", "13900000002"}, {"p-sun", "孙三", "13900000003"},
		{"p-li", "李四", "13900000004"}, {"p-zhou", "周五", "13900000005"}}
	firms = []firm{{"f-a", "甲科技有限公司", []string{"p-zhao"}}, {"f-b", "乙贸易有限公司", []string{"p-qian", "p-sun"}}}
)

// randomWorld plays n random contracts, interleaved: approval or not,
// signatures (for enterprises too), refusals, revocations, expiry,
// completion; and random filing on them.
func randomWorld(t testing.TB, w *world, n int, seed uint64) {
	rnd := rand.New(rand.NewPCG(seed, 11))
	type live struct {
		id string
		k  *contract.Contract
	}
	var open []*live
	var ids []string
	clock := t0
	next := func() time.Time { clock = clock.Add(time.Duration(1+rnd.IntN(30)) * time.Minute); return clock }
	do := func(l *live, actor string, evs ...contract.Event) {
		anys := make([]anyEvent, len(evs))
		for i, e := range evs {
			if err := l.k.Apply(e); err != nil {
				t.Fatal(err)
			}
			anys[i] = e
		}
		w.add(contract.StreamOf(l.id), actor, ipWang, anys...)
	}
	made := 0
	for made < n || len(open) > 0 {
		if made < n && (len(open) == 0 || rnd.IntN(3) == 0) {
			made++
			l := &live{id: uuid.NewString(), k: contract.New()}
			snd := people[rnd.IntN(len(people))]
			s := contract.Sender{AccountID: snd.id, Name: snd.name, PersonName: snd.name}
			var sending *firm
			if rnd.IntN(2) == 0 {
				f := firms[rnd.IntN(len(firms))]
				sending = &f
				s.EnterpriseID, s.Name = f.id, f.name
			}
			var ps []contract.Party
			for j := range 1 + rnd.IntN(3) {
				p := contract.Party{ID: fmt.Sprintf("r%d", j), Role: fmt.Sprintf("第%d方", j+1), Order: 1 + rnd.IntN(2), Kind: layout.Person}
				who := people[rnd.IntN(len(people))]
				p.Name, p.Contact = who.name, contract.Contact{Kind: "phone", Value: who.phone}
				if rnd.IntN(3) == 0 {
					p.Kind, p.EnterpriseName = layout.Enterprise, firms[rnd.IntN(len(firms))].name
				}
				ps = append(ps, p)
			}
			slices.SortStableFunc(ps, func(a, b contract.Party) int { return a.Order - b.Order })
			cr := contract.ContractCreated{ContractID: l.id, Number: fmt.Sprintf("HT%06d", made), Title: "合同 " + l.id[:4], Sender: s,
				Documents: []layout.Document{doc1}, Parties: ps, Sequential: rnd.IntN(2) == 0, SigningDeadline: t0.Add(30 * 24 * time.Hour), CreatedAt: next()}
			snt := contract.ContractSent{SentBy: snd.id, SentAt: clock}
			if sending != nil && rnd.IntN(3) == 0 {
				do(l, snd.id, cr, contract.ContractSubmittedForApproval{Approvers: sending.admins, SubmittedAt: clock})
			} else {
				do(l, snd.id, cr, snt)
			}
			open = append(open, l)
			ids = append(ids, l.id)
			continue
		}
		i := rnd.IntN(len(open))
		l := open[i]
		cr := l.k.Created()
		switch st := l.k.Status(); {
		case st == contract.StatusPendingApproval:
			a := l.k.Approvers()
			switch rnd.IntN(4) {
			case 0:
				do(l, a[0], contract.ContractApprovalRejected{ApproverID: a[0], Reason: "不行", RejectedAt: next(), Approvers: a})
			case 1:
				do(l, cr.Sender.AccountID, contract.ContractRevoked{RevokedBy: cr.Sender.AccountID, Reason: "撤回", RevokedAt: next(), Approvers: a})
			default:
				do(l, a[0], contract.ContractApproved{ApproverID: a[0], ApprovedAt: next(), Approvers: a},
					contract.ContractSent{SentBy: cr.Sender.AccountID, SentAt: clock})
			}
		case st == contract.StatusSigning:
			turn := l.k.Turn()
			p := turn[rnd.IntN(len(turn))]
			signer := people[rnd.IntN(len(people))].id
			switch r := rnd.IntN(10); {
			case r == 0:
				do(l, signer, contract.PartyRejected{PartyID: p.ID, SignerAccountID: signer, RejectedAt: next(), Reason: "不签"})
			case r == 1:
				do(l, cr.Sender.AccountID, contract.ContractRevoked{RevokedBy: cr.Sender.AccountID, RevokedAt: next(), Reason: "撤回"})
			case r == 2:
				do(l, "", contract.ContractExpired{Deadline: cr.SigningDeadline, ExpiredAt: next()})
			default:
				sg := contract.PartySigned{PartyID: p.ID, SignerAccountID: signer, SignerName: "某人", SignedAt: next()}
				if p.Kind == layout.Enterprise {
					for _, f := range firms {
						if f.name == p.EnterpriseName {
							sg.EnterpriseID = f.id
						}
					}
				}
				evs := []contract.Event{sg}
				if len(turn) == 1 && len(l.k.SignedOrder())+1 == len(cr.Parties) {
					evs = append(evs, contract.ContractFullySigned{SignedAt: clock})
				}
				do(l, signer, evs...)
			}
		case st == contract.StatusSealing:
			do(l, "", contract.ContractCompleted{CompletedAt: next()})
		default:
			open = slices.Delete(open, i, i+1)
		}
		// Filing now and then, on any contract made so far.
		if rnd.IntN(4) == 0 {
			cid := ids[rnd.IntN(len(ids))]
			who := people[rnd.IntN(len(people))].id
			f := fmt.Sprintf("f%d", rnd.IntN(3))
			switch rnd.IntN(4) {
			case 0:
				w.add(filing.DeskStream(who), who, ipZhang, filing.ContractFiled{ContractID: cid, FolderID: f, FiledAt: clock})
			case 1:
				w.add(filing.DeskStream(who), who, ipZhang, filing.FolderDeleted{FolderID: f, DeletedAt: clock})
			case 2:
				w.add(filing.TagsStream(firms[0].id), who, ipZhang, filing.ContractTagged{ContractID: cid, TagID: f, TaggedBy: who, TaggedAt: clock})
			case 3:
				w.add(filing.TagsStream(firms[0].id), who, ipZhang, filing.TagRemoved{TagID: f, RemovedBy: who, RemovedAt: clock})
			}
		}
		if rnd.IntN(5) == 0 {
			w.sync()
		}
	}
}

// Every document is visible exactly to the principals the lists use for
// its contract (principal.OfContract over its whole stream).
func TestVisibleIsPrincipalOfContract(t *testing.T) {
	for seed := range uint64(4) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			w := newWorld(t)
			randomWorld(t, w, 30, seed)
			w.sync()
			if len(w.docs) != 30 {
				t.Fatalf("%d documents, want 30", len(w.docs))
			}
			for id, d := range w.docs {
				envs, err := w.store.ReadStream(w.ctx, contract.StreamOf(id), 1, event.Forwards, 0)
				if err != nil {
					t.Fatal(err)
				}
				k, err := contract.Replay(envs)
				if err != nil {
					t.Fatal(err)
				}
				want := sorted(principal.OfContract(k).All())
				if got := sorted(d.Visible); !slices.Equal(got, want) {
					t.Fatalf("%s (%s): visible\n got %v\nwant %v", id, k.Status(), got, want)
				}
				if d.Status != string(k.Status()) || len(d.Visible) != len(want) {
					t.Fatalf("%s: status %s, want %s; visible has duplicates: %v", id, d.Status, k.Status(), d.Visible)
				}
			}
		})
	}
}

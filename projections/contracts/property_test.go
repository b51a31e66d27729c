package contracts_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"signet/domain/contract"
	"signet/domain/layout"
)

// TestRandomHistories plays random contract histories (approval or not,
// signatures in and out of turn order, refusals, revocations, expiry),
// keeps the aggregate's state beside them, and checks that the read model
// agrees with the aggregate on the status, on who signed or refused, on
// whose turn it is, on the approvers' lists and on the deadline index.
func TestRandomHistories(t *testing.T) {
	w := newWorld(t)
	approvers := []string{"acct-ap-1", "acct-ap-2", "acct-ap-3"}
	type played struct {
		id        string
		agg       *contract.Contract
		approvers []string
	}
	var all []played
	for seed := range uint64(150) {
		rnd := rand.New(rand.NewPCG(seed, 42))
		id := uuid.NewString()
		agg := contract.New()
		do := func(actor string, evs ...contract.Event) {
			t.Helper()
			for _, ev := range evs {
				if err := agg.Apply(ev); err != nil {
					t.Fatalf("seed %d: %v", seed, err)
				}
			}
			w.add(id, actor, evs...)
		}
		c := created(id, rnd.IntN(2) == 0)
		c.Parties = nil
		for i := range 1 + rnd.IntN(5) {
			kind := layout.Person
			if rnd.IntN(2) == 0 {
				kind = layout.Enterprise
			}
			c.Parties = append(c.Parties, contract.Party{ID: fmt.Sprintf("role-%d", i), Role: fmt.Sprintf("第%d方", i+1), Kind: kind,
				Order: 1 + rnd.IntN(3), Name: "甲乙丙丁戊"[3*i : 3*i+3], Contact: contract.Contact{Kind: "phone", Value: fmt.Sprintf("1380013800%d", i)}})
		}
		slices.SortStableFunc(c.Parties, func(a, b contract.Party) int { return a.Order - b.Order })
		do(sender, c)
		var asked []string
		clock := 1
		next := func() int { clock += 1 + rnd.IntN(30); return clock }
		if rnd.IntN(3) == 0 {
			asked = approvers[:1+rnd.IntN(len(approvers))]
			do(sender, contract.ContractSubmittedForApproval{Approvers: asked, SubmittedAt: at(next())})
			switch rnd.IntN(5) {
			case 0:
				all = append(all, played{id, agg, asked})
				continue // left waiting
			case 1:
				a := asked[rnd.IntN(len(asked))]
				do(a, contract.ContractApprovalRejected{ApproverID: a, Reason: "不行", RejectedAt: at(next())})
				all = append(all, played{id, agg, asked})
				continue
			case 2:
				do(sender, contract.ContractRevoked{RevokedBy: sender, Reason: "撤回", RevokedAt: at(next())})
				all = append(all, played{id, agg, asked})
				continue
			default:
				a := asked[rnd.IntN(len(asked))]
				do(a, contract.ContractApproved{ApproverID: a, ApprovedAt: at(next())})
			}
		}
		do(sender, sent(next()))
	signing:
		for agg.Status() == contract.StatusSigning {
			turn := agg.Turn()
			p := turn[rnd.IntN(len(turn))]
			switch n := rnd.IntN(20); {
			case n == 0:
				do(sender, contract.ContractRevoked{RevokedBy: sender, Reason: "撤回", RevokedAt: at(next())})
			case n == 1:
				do("", contract.ContractExpired{Deadline: at(deadlineMin), ExpiredAt: at(deadlineMin + 1)})
			case n == 2:
				do("acct-"+p.ID, contract.PartyRejected{PartyID: p.ID, SignerAccountID: "acct-" + p.ID, Reason: "拒签", RejectedAt: at(next())})
			case n < 5:
				break signing // left mid-way
			default:
				s := contract.PartySigned{PartyID: p.ID, SignerAccountID: "acct-" + p.ID, SignerName: p.Name, Willingness: contract.Willingness{Method: contract.WillingnessSMSCode, Channel: "sms"},
					SignedAt: at(next())}
				if p.Kind == layout.Enterprise {
					s.Seal = &contract.SealUse{SealID: "seal", Name: "公章"}
				} else {
					s.Signature = &contract.SignatureUse{Kind: "typed", Text: p.Name}
				}
				evs := []contract.Event{s}
				if allSignedAfter(agg, p.ID) {
					evs = append(evs, contract.ContractFullySigned{SignedAt: s.SignedAt})
				}
				do(s.SignerAccountID, evs...)
				if agg.Status() != contract.StatusSealing {
					continue
				}
				// The final documents: made at once, after failures, or not yet.
				for range rnd.IntN(3) {
					f, err := agg.SealingFailed("sign", "tsa down", at(next()))
					if err != nil {
						t.Fatal(err)
					}
					do("", f...)
				}
				if rnd.IntN(3) > 0 {
					sealed, err := agg.Seal(sealedFor(agg), at(next()))
					if err != nil {
						t.Fatal(err)
					}
					do("", sealed...)
				}
			}
		}
		all = append(all, played{id, agg, asked})
	}
	w.sync()

	due, err := w.reader.Due(w.ctx, at(deadlineMin+10), 1000)
	if err != nil {
		t.Fatal(err)
	}
	sealingDue, err := w.reader.SealingDue(w.ctx, at(1_000_000), 1000)
	if err != nil {
		t.Fatal(err)
	}
	pending := map[string][]string{}
	for _, a := range approvers {
		items, err := w.reader.PendingApprovals(w.ctx, a, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			pending[a] = append(pending[a], it.ContractID)
		}
	}
	statusSeen := map[string]int{}
	for i, p := range all {
		v, err := w.reader.Contract(w.ctx, p.id)
		if err != nil {
			t.Fatal(err)
		}
		st := p.agg.Status()
		statusSeen[string(st)]++
		if v.Status != string(st) || v.Version != p.agg.Version() {
			t.Fatalf("contract %d: status %s@%d, aggregate %s@%d", i, v.Status, v.Version, st, p.agg.Version())
		}
		turn := map[string]bool{}
		for _, q := range p.agg.Turn() {
			turn[q.ID] = true
		}
		rej, rejected := p.agg.Rejection()
		for _, q := range v.Parties {
			_, signed := p.agg.Signature(q.ID)
			want := "waiting"
			switch {
			case rejected && rej.PartyID == q.ID:
				want = "rejected"
			case signed:
				want = "signed"
			case turn[q.ID]:
				want = "to_sign"
			}
			if q.Status != want {
				t.Fatalf("contract %d (%s, sequential %v): party %s (order %d) is %s, aggregate says %s", i, st, v.Sequential, q.ID, q.Order, q.Status, want)
			}
		}
		open := st == contract.StatusSigning || st == contract.StatusPendingApproval
		if slices.Contains(due, p.id) != open {
			t.Fatalf("contract %d (%s): due %v", i, st, slices.Contains(due, p.id))
		}
		if slices.Contains(sealingDue, p.id) != (st == contract.StatusSealing) {
			t.Fatalf("contract %d (%s): due for sealing %v", i, st, !(st == contract.StatusSealing))
		}
		if sealed, _ := p.agg.Sealing(); (sealed != nil) != (v.Sealing != nil && v.Sealing.SealedAt != nil) {
			t.Fatalf("contract %d (%s): sealed %v, view %+v", i, st, sealed, v.Sealing)
		}
		for _, a := range approvers {
			want := st == contract.StatusPendingApproval && slices.Contains(p.approvers, a)
			if slices.Contains(pending[a], p.id) != want {
				t.Fatalf("contract %d (%s): pending for %s is %v, want %v", i, st, a, !want, want)
			}
		}
	}
	// The random histories reach every status that can last.
	for _, s := range []contract.Status{contract.StatusPendingApproval, contract.StatusApprovalRejected, contract.StatusSigning,
		contract.StatusSealing, contract.StatusCompleted, contract.StatusRejected, contract.StatusRevoked, contract.StatusExpired} {
		if statusSeen[string(s)] == 0 {
			t.Errorf("no history ended %s: %v", s, statusSeen)
		}
	}
}

// allSignedAfter reports whether every party has signed once pid signs.
func allSignedAfter(agg *contract.Contract, pid string) bool {
	for _, p := range agg.Created().Parties {
		if _, ok := agg.Signature(p.ID); !ok && p.ID != pid {
			return false
		}
	}
	return true
}

// sealedFor is a sealing result that fits the contract's documents.
func sealedFor(c *contract.Contract) contract.ContractSealed {
	var docs []contract.SealedDocument
	for _, d := range c.Created().Documents {
		docs = append(docs, contract.SealedDocument{DocumentID: d.ID, Name: d.Name, SHA256: strings.Repeat("f", 64), Size: 100, Signatures: len(c.Created().Parties)})
	}
	return contract.ContractSealed{Documents: docs, CertificateSHA256: strings.Repeat("e", 64)}
}

package boxes_test

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"signet/domain/contract"
	"signet/domain/filing"
	"signet/domain/layout"
	"signet/projections/boxes"
)

// played is a contract of the random world and its aggregate.
type played struct {
	id string
	k  *contract.Contract
}

// randomWorld plays n random contract histories (approval or not, turns,
// signatures, refusals, revocations, expiry, completion) between the
// test's enterprises and people, and random desk moves of every person
// (on contracts they see and on some they do not).
func randomWorld(t testing.TB, w *world, n int, seed uint64) ([]played, map[string]*filing.Desk) {
	rnd := rand.New(rand.NewPCG(seed, 7))
	var all []played
	created := t0
	for i := range n {
		id := uuid.NewString()
		k := contract.New()
		do := func(actor string, evs ...contract.Event) {
			t.Helper()
			for _, ev := range evs {
				if err := k.Apply(ev); err != nil {
					t.Fatalf("contract %d: %v", i, err)
				}
			}
			anys := make([]anyEvent, len(evs))
			for j, e := range evs {
				anys[j] = e
			}
			w.add(contract.StreamOf(id), actor, anys...)
		}
		if i%9 != 5 { // every ninth contract ties with the one before
			created = created.Add(time.Duration(1+rnd.IntN(90)) * time.Minute)
		}
		snd := people[rnd.IntN(len(people))]
		sender := contract.Sender{AccountID: snd.id, Name: snd.name, PersonName: snd.name}
		var sending *firm
		if fs := firmsOf(snd.id); len(fs) > 0 && rnd.IntN(10) < 7 {
			f := fs[rnd.IntN(len(fs))]
			sending = &f
			sender.EnterpriseID, sender.Name = f.id, f.name
		}
		var parties []contract.Party
		usedPhone, usedName := map[string]bool{}, map[string]bool{}
		for j := range 1 + rnd.IntN(4) {
			p := contract.Party{ID: fmt.Sprintf("r%d", j), Role: fmt.Sprintf("第%d方", j+1), Order: 1 + rnd.IntN(3), Name: "某人",
				Contact: contract.Contact{Kind: "phone", Value: people[rnd.IntN(len(people))].phone}}
			if rnd.IntN(2) == 0 {
				name := strangerFirm
				if rnd.IntN(6) > 0 {
					name = firms[rnd.IntN(len(firms))].name
				}
				if usedName[name] {
					continue
				}
				usedName[name] = true
				p.Kind, p.EnterpriseName = layout.Enterprise, name
			} else {
				phone := strangerPhone
				if rnd.IntN(6) > 0 {
					phone = people[rnd.IntN(len(people))].phone
				}
				if usedPhone[phone] {
					continue
				}
				usedPhone[phone] = true
				p.Kind, p.Contact.Value = layout.Person, phone
				for _, q := range people {
					if q.phone == phone {
						p.Name = q.name
					}
				}
			}
			parties = append(parties, p)
		}
		if len(parties) == 0 {
			parties = []contract.Party{{ID: "r0", Role: "甲方", Kind: layout.Person, Order: 1, Name: "某人", Contact: contract.Contact{Kind: "phone", Value: strangerPhone}}}
		}
		slices.SortStableFunc(parties, func(a, b contract.Party) int { return a.Order - b.Order })
		deadline := t0.Add(time.Duration(1+rnd.IntN(12*24)) * time.Hour)
		cr := contract.ContractCreated{ContractID: id, Number: fmt.Sprintf("HT%06d", i), Title: "合同 " + id[:4], Sender: sender,
			Documents: []layout.Document{doc}, Parties: parties, Sequential: rnd.IntN(2) == 0, SigningDeadline: deadline, CreatedAt: created}
		if rnd.IntN(2) == 0 {
			exp := deadline.Add(time.Duration(1+rnd.IntN(10*24)) * time.Hour)
			cr.ExpiresAt = &exp
		}
		do(snd.id, cr)
		clock := created
		next := func() time.Time { clock = clock.Add(time.Duration(1+rnd.IntN(60)) * time.Minute); return clock }
		if sending != nil && rnd.IntN(10) < 3 {
			asked := sending.admins
			do(snd.id, contract.ContractSubmittedForApproval{Approvers: asked, SubmittedAt: created})
			switch rnd.IntN(5) {
			case 0:
				all = append(all, played{id, k})
				continue
			case 1:
				do(asked[0], contract.ContractApprovalRejected{ApproverID: asked[0], Reason: "不行", RejectedAt: next(), Approvers: asked})
				all = append(all, played{id, k})
				continue
			case 2:
				do(snd.id, contract.ContractRevoked{RevokedBy: snd.id, Reason: "撤回", RevokedAt: next(), Approvers: asked})
				all = append(all, played{id, k})
				continue
			default:
				do(asked[0], contract.ContractApproved{ApproverID: asked[0], ApprovedAt: next(), Approvers: asked})
			}
		}
		do(snd.id, contract.ContractSent{SentBy: snd.id, SentAt: next()})
	signing:
		for k.Status() == contract.StatusSigning {
			turn := k.Turn()
			p := turn[rnd.IntN(len(turn))]
			signer, ent := "", ""
			if p.Kind == layout.Person {
				for _, q := range people {
					if q.phone == p.Contact.Value {
						signer = q.id
					}
				}
			} else {
				for _, f := range firms {
					if f.name == p.EnterpriseName {
						them := append(slices.Clone(f.admins), f.members...)
						signer, ent = them[rnd.IntN(len(them))], f.id
					}
				}
			}
			switch n := rnd.IntN(20); {
			case n == 0:
				do(snd.id, contract.ContractRevoked{RevokedBy: snd.id, Reason: "撤回", RevokedAt: next()})
			case n == 1:
				do("", contract.ContractExpired{Deadline: deadline, ExpiredAt: next()})
			case n == 2 && signer != "":
				do(signer, contract.PartyRejected{PartyID: p.ID, SignerAccountID: signer, EnterpriseID: ent, Reason: "拒签", RejectedAt: next()})
			case n < 5 || signer == "":
				break signing
			default:
				s := contract.PartySigned{PartyID: p.ID, SignerAccountID: signer, EnterpriseID: ent, SignedAt: next()}
				evs := []contract.Event{s}
				if len(k.SignedOrder())+1 == len(parties) {
					evs = append(evs, contract.ContractFullySigned{SignedAt: s.SignedAt})
				}
				do(signer, evs...)
				if k.Status() == contract.StatusSealing && rnd.IntN(3) > 0 {
					at := next()
					do("", contract.ContractSealed{Attempt: 1, SealedAt: at}, contract.ContractCompleted{CompletedAt: at})
				}
			}
		}
		all = append(all, played{id, k})
	}
	desks := map[string]*filing.Desk{}
	for _, p := range people {
		d := filing.NewDesk()
		desks[p.id] = d
		folder := "f-" + p.id
		var evs []filing.Event
		decide := func(es []filing.Event, err error) {
			if err != nil {
				return // a move the desk refuses: not made
			}
			for _, e := range es {
				if err := d.Apply(e); err != nil {
					t.Fatal(err)
				}
			}
			evs = append(evs, es...)
		}
		decide(d.CreateFolder(folder, "文件夹", t0))
		for range 25 {
			c := all[rnd.IntN(len(all))].id
			switch rnd.IntN(7) {
			case 0, 1:
				decide(d.Archive(c, t0))
			case 2:
				decide(d.Unarchive(c, t0))
			case 3:
				decide(d.Trash(c, t0))
			case 4:
				decide(d.Restore(c, t0))
			case 5:
				decide(d.DeleteForMe(c, t0))
			default:
				decide(d.File(c, folder, t0))
			}
		}
		anys := make([]anyEvent, len(evs))
		for j, e := range evs {
			anys[j] = e
		}
		w.add(filing.DeskStream(p.id), p.id, anys...)
	}
	return all, desks
}

// expected is what the oracle says a caller's lists hold.
type expected struct {
	counts boxes.Counts
	all    []played // visible in all, not hidden
	out    []played
	in     []played
	toSign []played
	soon   []played // deadline within 7 days
	open   []played // by deadline
	expiry []played
	approv []played
	arch   []played
	trash  []played
	folder []played
}

func expect(caller string, all []played, d *filing.Desk, enterprise string) expected {
	var e expected
	e.counts.Days = 7
	lo, hi := now, now.Add(7*24*time.Hour)
	within := func(t time.Time) bool { return !t.Before(lo) && !t.After(hi) }
	for _, p := range all {
		out, in, appr := oracle(caller, p.k)
		cr := p.k.Created()
		if enterprise != "" {
			s := cr.Sender
			out = s.EnterpriseID == enterprise && (isAdmin(caller, enterprise) || s.AccountID == caller)
			in = false
			if _, sent := p.k.Sent(); sent {
				for _, q := range cr.Parties {
					for _, f := range firms {
						if f.id == enterprise && q.EnterpriseName == f.name && isAdmin(caller, enterprise) {
							in = true
						}
					}
				}
				for _, sg := range p.k.SignedOrder() {
					in = in || (sg.EnterpriseID == enterprise && sg.SignerAccountID == caller)
				}
				if r, ok := p.k.Rejection(); ok && r.EnterpriseID == enterprise && r.SignerAccountID == caller {
					in = true
				}
			}
			appr = false
		}
		visible := out || in || appr
		hidden := d.Archived(p.id) || d.Trashed(p.id) || d.Deleted(p.id)
		st := p.k.Status()
		add := func(l *[]played, n *int64, ok bool) {
			if ok {
				*l = append(*l, p)
				if n != nil {
					*n++
				}
			}
		}
		add(&e.all, &e.counts.All, visible && !hidden)
		add(&e.out, &e.counts.Out, out && !hidden)
		add(&e.in, &e.counts.In, in && !hidden)
		mine := turnIsMine(caller, p.k)
		if enterprise != "" {
			mine = false
			for _, q := range p.k.Turn() {
				mine = mine || (q.Kind == layout.Enterprise && isAdmin(caller, enterprise) && firmName(enterprise) == q.EnterpriseName)
			}
		}
		add(&e.toSign, &e.counts.ToSign, mine && !hidden)
		openNow := !st.Ended() && st != contract.StatusSealing
		add(&e.soon, &e.counts.DeadlineSoon, visible && !hidden && openNow && within(cr.SigningDeadline))
		add(&e.open, nil, visible && !hidden && openNow)
		add(&e.expiry, &e.counts.ExpiringSoon, visible && !hidden && st == contract.StatusCompleted && cr.ExpiresAt != nil && within(*cr.ExpiresAt))
		add(&e.approv, &e.counts.Approvals, st == contract.StatusPendingApproval && slices.Contains(p.k.Approvers(), caller) && !hidden)
		add(&e.arch, &e.counts.Archive, visible && d.Archived(p.id) && !d.Trashed(p.id))
		add(&e.trash, &e.counts.Trash, visible && d.Trashed(p.id))
		add(&e.folder, nil, visible && d.FolderOf(p.id) != "" && !d.Trashed(p.id))
	}
	return e
}

func firmName(eid string) string {
	for _, f := range firms {
		if f.id == eid {
			return f.name
		}
	}
	return ""
}

// order sorts contracts as a list does: by a time, then by ID.
func order(ps []played, key func(*contract.Contract) time.Time, desc bool) []string {
	ps = slices.Clone(ps)
	slices.SortFunc(ps, func(a, b played) int {
		c := cmp.Or(key(a.k).Compare(key(b.k)), cmp.Compare(a.id, b.id))
		if desc {
			return -c
		}
		return c
	})
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.id
	}
	return out
}

func createdAt(k *contract.Contract) time.Time {
	return k.Created().CreatedAt.Truncate(time.Millisecond)
}
func deadlineOf(k *contract.Contract) time.Time {
	return k.Created().SigningDeadline.Truncate(time.Millisecond)
}
func expiresOf(k *contract.Contract) time.Time {
	return k.Created().ExpiresAt.Truncate(time.Millisecond)
}

// TestCountsAndListsMatchTheRules plays random histories and checks, for
// every person and for each enterprise they belong to, that each counter
// equals a brute-force count by the rules, and that every list, read page
// by page, holds exactly those contracts, in order, each once.
func TestCountsAndListsMatchTheRules(t *testing.T) {
	w := newWorld(t)
	all, desks := randomWorld(t, w, 160, 1)
	w.sync()
	statuses := map[contract.Status]int{}
	for _, p := range all {
		statuses[p.k.Status()]++
	}
	for _, s := range []contract.Status{contract.StatusPendingApproval, contract.StatusSigning, contract.StatusCompleted, contract.StatusSealing,
		contract.StatusRejected, contract.StatusRevoked, contract.StatusExpired} {
		if statuses[s] == 0 {
			t.Fatalf("no contract ended %s: %v", s, statuses)
		}
	}
	type scope struct{ who, enterprise string }
	var scopes []scope
	for _, p := range people {
		scopes = append(scopes, scope{p.id, ""})
		for _, f := range firmsOf(p.id) {
			scopes = append(scopes, scope{p.id, f.id})
		}
	}
	nonEmpty := map[string]int{}
	for _, sc := range scopes {
		c := callerOf(sc.who)
		want := expect(sc.who, all, desks[sc.who], sc.enterprise)
		got, err := w.reader.Counts(w.ctx, c, 7, sc.enterprise)
		if err != nil {
			t.Fatal(err)
		}
		if got != want.counts {
			t.Fatalf("%s in %q: counts\n got %+v\nwant %+v", sc.who, sc.enterprise, got, want.counts)
		}
		lists := []struct {
			name string
			q    boxes.Query
			want []string
		}{
			{"all", boxes.Query{}, order(want.all, createdAt, true)},
			{"all oldest first", boxes.Query{Sort: boxes.SortSentAsc}, order(want.all, createdAt, false)},
			{"out", boxes.Query{Box: boxes.BoxOut}, order(want.out, createdAt, true)},
			{"in", boxes.Query{Box: boxes.BoxIn}, order(want.in, createdAt, true)},
			{"by deadline", boxes.Query{Sort: boxes.SortDeadlineAsc}, order(want.open, deadlineOf, false)},
			{"to sign", boxes.Query{View: boxes.ViewToSign}, order(want.toSign, createdAt, true)},
			{"deadline soon", boxes.Query{View: boxes.ViewDeadlineSoon}, order(want.soon, deadlineOf, false)},
			{"expiring soon", boxes.Query{View: boxes.ViewExpiringSoon}, order(want.expiry, expiresOf, false)},
		}
		if sc.enterprise == "" {
			lists = append(lists, []struct {
				name string
				q    boxes.Query
				want []string
			}{
				{"approvals", boxes.Query{View: boxes.ViewApprovals}, nil},
				{"archive", boxes.Query{Box: boxes.BoxArchive}, order(want.arch, createdAt, true)},
				{"trash", boxes.Query{Box: boxes.BoxTrash}, order(want.trash, createdAt, true)},
				{"folder", boxes.Query{Folder: "f-" + sc.who}, order(want.folder, createdAt, true)},
			}...)
		}
		for _, l := range lists {
			for _, limit := range []int{1, 7, 100} {
				l.q.Limit = limit
				l.q.Enterprise = sc.enterprise
				got := w.all(c, l.q)
				if l.name == "approvals" {
					slices.Sort(got)
					l.want = order(want.approv, createdAt, false)
					slices.Sort(l.want)
				}
				if !slices.Equal(got, l.want) {
					t.Fatalf("%s in %q, %s (limit %d):\n got %v\nwant %v", sc.who, sc.enterprise, l.name, limit, got, l.want)
				}
				nonEmpty[l.name] += len(got)
			}
		}
	}
	for name, n := range nonEmpty {
		if n == 0 {
			t.Errorf("list %s was empty for everyone: the test checks nothing there", name)
		}
	}
}

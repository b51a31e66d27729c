package boxes_test

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"signet/domain/contract"
	"signet/domain/event"
	"signet/domain/filing"
	"signet/domain/layout"
	"signet/infra/redisdb/redistest"
	"signet/projections"
	"signet/projections/boxes"
	"signet/projections/principal"
)

// TestHandleIsAFunctionOfTheLog maps every event with a warm projection (its
// cache filled by the events before), again right away (the same event
// redelivered), and with a cold one (nothing cached, the history read
// back): all three give the same writes.
func TestHandleIsAFunctionOfTheLog(t *testing.T) {
	w := newWorld(t)
	randomWorld(t, w, 60, 2)
	envs, err := w.store.ReadAll(w.ctx, 0, 100000)
	if err != nil {
		t.Fatal(err)
	}
	warm := boxes.New(w.store)
	n := 0
	for _, e := range envs {
		a, err := warm.Handle(w.ctx, e)
		if err != nil {
			t.Fatalf("%s@%d: %v", e.Stream, e.Version, err)
		}
		b, err := warm.Handle(w.ctx, e)
		if err != nil {
			t.Fatal(err)
		}
		c, err := boxes.New(w.store).Handle(w.ctx, e)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(a, b) || !reflect.DeepEqual(a, c) {
			t.Fatalf("%s@%d %s: warm %v\nagain %v\ncold %v", e.Stream, e.Version, e.Type, a, b, c)
		}
		n += len(a)
	}
	if n == 0 {
		t.Fatal("no writes")
	}
}

// TestEventsAppliedTwiceChangeNothing applies every event's writes twice,
// without the projector's version guard (a redelivery with the guard
// lost), and compares the read model with the projector's.
func TestEventsAppliedTwiceChangeNothing(t *testing.T) {
	w := newWorld(t)
	randomWorld(t, w, 60, 3)
	w.sync()
	want := snapshot(t, w.db)

	raw := redistest.New(t)
	envs, err := w.store.ReadAll(w.ctx, 0, 100000)
	if err != nil {
		t.Fatal(err)
	}
	p := boxes.New(w.store)
	for _, e := range envs {
		ops, err := p.Handle(w.ctx, e)
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			for _, op := range ops {
				args := append([]any{op.Cmd, projections.Key(raw, boxes.Name, op.Key)}, op.Args...)
				if err := raw.Do(w.ctx, args...).Err(); err != nil {
					t.Fatalf("%s@%d: %s %s: %v", e.Stream, e.Version, op.Cmd, op.Key, err)
				}
			}
		}
	}
	if d := diff(want, snapshot(t, raw)); d != "" {
		t.Fatalf("applied twice differs:\n%s", d)
	}

	// A rebuild from the log ends where the incremental projection is.
	if err := w.runner.Rebuild(w.ctx, boxes.Name, nil); err != nil {
		t.Fatal(err)
	}
	if d := diff(want, snapshot(t, w.db)); d != "" {
		t.Fatalf("rebuilt differs:\n%s", d)
	}
}

// TestNoPersonalDataInTheReadModel: contacts are masked in items, logins and
// enterprise names are keyed by their hashes.
func TestNoPersonalDataInTheReadModel(t *testing.T) {
	w := newWorld(t)
	randomWorld(t, w, 40, 4)
	w.sync()
	secrets := []string{strangerPhone, strangerFirm}
	for _, p := range people {
		secrets = append(secrets, p.phone)
	}
	checked := 0
	for k, v := range snapshot(t, w.db) {
		for _, s := range secrets {
			if strings.Contains(k, s) {
				t.Fatalf("key %s holds %s", k, s)
			}
			if strings.Contains(v, s) && s != strangerFirm {
				t.Fatalf("%s holds %s: %s", k, s, v)
			}
		}
		if strings.HasPrefix(strings.TrimPrefix(k, projections.Namespace(boxes.Name)), "item:") {
			checked++
			if !strings.Contains(v, "****") {
				t.Fatalf("%s has no masked contact: %s", k, v)
			}
		}
	}
	if checked == 0 {
		t.Fatal("no items checked")
	}
}

// TestOrganisationOfAnUnknownContractIsRefused: a desk event about a
// contract the log does not hold, or from a stream whose ID cannot be a
// key, fails (and is poisoned), writing nothing.
func TestOrganisationOfAnUnknownContractIsRefused(t *testing.T) {
	w := newWorld(t)
	p := boxes.New(w.store)
	n, err := filing.NewEvent("e1", filing.ContractArchived{ContractID: "c-nowhere", ArchivedAt: t0}, event.Metadata{})
	if err != nil {
		t.Fatal(err)
	}
	e := event.Envelope{ID: "e1", Stream: filing.DeskStream("acct-a1"), Version: 1, Position: 1, Type: n.Type, Schema: n.Schema, Data: n.Data}
	if _, err := p.Handle(context.Background(), e); err == nil {
		t.Fatal("archived a contract that does not exist")
	}
	bad := event.Envelope{ID: "e2", Stream: filing.DeskStream("acct:x"), Version: 1, Position: 2, Type: n.Type, Schema: n.Schema, Data: n.Data}
	if _, err := p.Handle(context.Background(), bad); err == nil {
		t.Fatal("used an account ID with ':' in a key")
	}
}

// TestTurnMovesThroughToSign follows one sequential contract through its
// turns: only the party whose turn it is has it in "needs my signature".
func TestTurnMovesThroughToSign(t *testing.T) {
	w := newWorld(t)
	a4, a5 := personByID("acct-a4"), personByID("acct-a5")
	cr := contract.ContractCreated{ContractID: "c-seq", Number: "HT1", Title: "顺序", Sequential: true, Documents: []layout.Document{doc},
		Sender: contract.Sender{AccountID: "acct-a1", EnterpriseID: "ent-1", Name: firms[0].name, PersonName: "赵一"},
		Parties: []contract.Party{
			{ID: "r1", Role: "甲方", Kind: layout.Person, Order: 1, Name: a4.name, Contact: contract.Contact{Kind: "phone", Value: a4.phone}},
			{ID: "r2", Role: "乙方", Kind: layout.Person, Order: 2, Name: a5.name, Contact: contract.Contact{Kind: "phone", Value: a5.phone}},
		},
		SigningDeadline: now.Add(48 * time.Hour), CreatedAt: t0}
	toSign := func(who string) int64 {
		w.sync()
		c, err := w.reader.Counts(w.ctx, callerOf(who), 7, "")
		if err != nil {
			t.Fatal(err)
		}
		return c.ToSign
	}
	w.add(contract.StreamOf("c-seq"), "acct-a1", cr, contract.ContractSent{SentBy: "acct-a1", SentAt: t0})
	if toSign("acct-a4") != 1 || toSign("acct-a5") != 0 {
		t.Fatalf("first turn: a4 %d, a5 %d", toSign("acct-a4"), toSign("acct-a5"))
	}
	w.add(contract.StreamOf("c-seq"), "acct-a4", contract.PartySigned{PartyID: "r1", SignerAccountID: "acct-a4", SignedAt: t0.Add(time.Hour)})
	if toSign("acct-a4") != 0 || toSign("acct-a5") != 1 {
		t.Fatalf("second turn: a4 %d, a5 %d", toSign("acct-a4"), toSign("acct-a5"))
	}
	w.add(contract.StreamOf("c-seq"), "acct-a1", contract.ContractRevoked{RevokedBy: "acct-a1", Reason: "撤回", RevokedAt: t0.Add(2 * time.Hour)})
	if toSign("acct-a5") != 0 {
		t.Fatal("a revoked contract still needs a signature")
	}
	page, err := w.reader.List(w.ctx, callerOf("acct-a5"), boxes.Query{Box: boxes.BoxIn})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 1 || page.Items[0].Status != "revoked" || page.Items[0].Parties[0].Status != "signed" || page.Items[0].Parties[1].Contact != "138****0005" {
		t.Fatalf("inbox: %+v", page.Items)
	}
}

// TestPagesWhileContractsArrive reads a list page by page while contracts
// keep arriving (newer ones, and ones created at the very moment of the
// cursor): every contract there at the start is read once, none twice.
func TestPagesWhileContractsArrive(t *testing.T) {
	w := newWorld(t)
	a4 := personByID("acct-a4")
	send := func(id string, created time.Time) {
		cr := contract.ContractCreated{ContractID: id, Number: "HT-" + id, Title: "合同", Documents: []layout.Document{doc},
			Sender:          contract.Sender{AccountID: "acct-a1", EnterpriseID: "ent-1", Name: firms[0].name, PersonName: "赵一"},
			Parties:         []contract.Party{{ID: "r1", Role: "甲方", Kind: layout.Person, Order: 1, Name: a4.name, Contact: contract.Contact{Kind: "phone", Value: a4.phone}}},
			SigningDeadline: now.Add(48 * time.Hour), CreatedAt: created}
		w.add(contract.StreamOf(id), "acct-a1", cr, contract.ContractSent{SentBy: "acct-a1", SentAt: created})
	}
	var initial []string
	for i := range 40 {
		id := uuid.NewString()
		initial = append(initial, id)
		send(id, t0.Add(time.Duration(i/3)*time.Minute)) // three at each minute
	}
	w.sync()
	for _, desc := range []bool{true, false} {
		q := boxes.Query{Box: boxes.BoxIn, Limit: 3}
		if !desc {
			q.Sort = boxes.SortSentAsc
		}
		seen := map[string]int{}
		for pages := 0; ; pages++ {
			p, err := w.reader.List(w.ctx, callerOf("acct-a4"), q)
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range p.Items {
				seen[it.ID]++
			}
			// Newer contracts arrive, and one at the same moment as the page's last.
			send(uuid.NewString(), t0.Add(time.Duration(100+pages)*time.Hour))
			if len(p.Items) > 0 {
				send(uuid.NewString(), p.Items[len(p.Items)-1].CreatedAt)
			}
			w.sync()
			if p.Next == "" {
				break
			}
			q.After = p.Next
		}
		for _, id := range initial {
			if seen[id] != 1 {
				t.Fatalf("desc %v: %s read %d times", desc, id, seen[id])
			}
		}
		for id, n := range seen {
			if n > 1 {
				t.Fatalf("desc %v: %s read %d times", desc, id, n)
			}
		}
	}
}

// TestFormerMembersKeepTheirOwn: what a member sent for an enterprise stays
// in their lists after they leave it; the enterprise's other members never
// see it.
func TestFormerMembersKeepTheirOwn(t *testing.T) {
	w := newWorld(t)
	a5 := personByID("acct-a5")
	cr := contract.ContractCreated{ContractID: "c-m", Number: "HT-m", Title: "合同", Documents: []layout.Document{doc},
		Sender:          contract.Sender{AccountID: "acct-a2", EnterpriseID: "ent-1", Name: firms[0].name, PersonName: "钱二"},
		Parties:         []contract.Party{{ID: "r1", Role: "甲方", Kind: layout.Person, Order: 1, Name: a5.name, Contact: contract.Contact{Kind: "phone", Value: a5.phone}}},
		SigningDeadline: now.Add(48 * time.Hour), CreatedAt: t0}
	w.add(contract.StreamOf("c-m"), "acct-a2", cr, contract.ContractSent{SentBy: "acct-a2", SentAt: t0})
	w.sync()
	left := principal.Caller{AccountID: "acct-a2", LoginHash: loginHash(personByID("acct-a2").phone)}
	if ids := w.all(left, boxes.Query{Box: boxes.BoxOut}); len(ids) != 1 || ids[0] != "c-m" {
		t.Fatalf("a former member's outbox: %v", ids)
	}
	other := principal.Caller{AccountID: "acct-x", Memberships: []principal.Membership{{EnterpriseID: "ent-1", Name: firms[0].name, Role: principal.RoleMember, Verified: true}}}
	if ids := w.all(other, boxes.Query{}); len(ids) != 0 {
		t.Fatalf("another member sees %v", ids)
	}
	if acted, err := w.reader.Acted(w.ctx, "acct-a2"); err != nil || len(acted) != 1 || acted[0] != "ent-1" {
		t.Fatalf("acted %v %v", acted, err)
	}
}

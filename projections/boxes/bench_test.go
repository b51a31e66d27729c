package boxes_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"signet/domain/contract"
	"signet/domain/event"
	"signet/domain/layout"
	"signet/projections/boxes"
	"signet/projections/principal"
)

// BenchmarkLists loads N contracts, made by the domain's decisions (create,
// send, signatures, sealing, revocation) and stored in the SQLite event
// store, through the projector into Redis (SIGNET_REDIS_URL, else the
// in-process one), then measures pages and counters of the heaviest
// readers, reporting p50 and p99 per call:
//
//	SIGNET_REDIS_URL=redis://127.0.0.1:6379/0 SIGNET_BENCH_CONTRACTS=100000 \
//	  go test ./projections/boxes -run '^$' -bench Lists -benchtime 2000x -timeout 30m
//
// The load: enterprise E0 sends 60% of the contracts (half by its member),
// nine others 30%, people 10%; each has a person party (one of 2000
// logins, 1% one heavy person's) and an enterprise party (E0 for 20%).
// Half are signed by the person, 30% of those completed; 3% are revoked.
func BenchmarkLists(b *testing.B) {
	n := 2000
	if s := os.Getenv("SIGNET_BENCH_CONTRACTS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			b.Fatal(err)
		}
	}
	w := newWorld(b)
	start := time.Now()
	events := benchLoad(b, w, n)
	stored := time.Since(start)
	start = time.Now()
	if err := w.runner.CatchUp(w.ctx, boxes.Name, nil); err != nil {
		b.Fatal(err)
	}
	took := time.Since(start)
	b.Logf("%d contracts, %d events stored in %v; projected in %v (%.0f events/s)", n, events, stored.Round(time.Millisecond), took.Round(time.Millisecond), float64(events)/took.Seconds())
	w.reader.Now = func() time.Time { return benchT0.Add(time.Duration(n/2) * 10 * time.Second) }

	admin := principal.Caller{AccountID: "acct-e0-admin", LoginHash: loginHash("13600000000"),
		Memberships: []principal.Membership{{EnterpriseID: "ent-e0", Name: benchFirm(0), Role: principal.RoleAdmin, Verified: true}}}
	member := principal.Caller{AccountID: "acct-e0-member", LoginHash: loginHash("13600000001"),
		Memberships: []principal.Membership{{EnterpriseID: "ent-e0", Name: benchFirm(0), Role: principal.RoleMember, Verified: true}}}
	heavy := principal.Caller{AccountID: "acct-heavy", LoginHash: loginHash(benchPhone(0))}
	first, err := w.reader.List(w.ctx, admin, boxes.Query{Limit: 20})
	if err != nil || len(first.Items) != 20 {
		b.Fatalf("first page: %v %d", err, len(first.Items))
	}
	// A cursor half-way down the admin's list.
	deep := first.Next
	for range min(50, n/40) {
		p, err := w.reader.List(w.ctx, admin, boxes.Query{Limit: 20, After: deep})
		if err != nil || p.Next == "" {
			b.Fatalf("deep page: %v", err)
		}
		deep = p.Next
	}
	c, err := w.reader.Counts(w.ctx, admin, 7, "")
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("the admin's counters: %+v", c)

	measure := func(name string, call func() error) {
		b.Run(name, func(b *testing.B) {
			lat := make([]time.Duration, 0, b.N)
			for b.Loop() {
				t := time.Now()
				if err := call(); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t))
			}
			slices.Sort(lat)
			q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
			b.ReportMetric(q(0.5), "p50-ms")
			b.ReportMetric(q(0.99), "p99-ms")
		})
	}
	list := func(c principal.Caller, q boxes.Query) func() error {
		return func() error {
			p, err := w.reader.List(context.Background(), c, q)
			if err == nil && len(p.Items) == 0 {
				err = fmt.Errorf("empty page for %+v", q)
			}
			return err
		}
	}
	counts := func(c principal.Caller) func() error {
		return func() error { _, err := w.reader.Counts(context.Background(), c, 7, ""); return err }
	}
	// An event whose contract's state is not cached: its history is read.
	envs, err := w.store.ReadAll(w.ctx, uint64(len(first.Items)), 5000)
	if err != nil {
		b.Fatal(err)
	}
	var later []event.Envelope
	for _, e := range envs {
		if e.Version > 2 {
			later = append(later, e)
		}
	}
	next := 0
	measure("projection/uncached-event", func() error {
		e := later[next%len(later)]
		next++
		_, err := boxes.New(w.store).Handle(context.Background(), e)
		return err
	})
	measure("admin/all", list(admin, boxes.Query{Limit: 20}))
	measure("admin/all-deep", list(admin, boxes.Query{Limit: 20, After: deep}))
	measure("admin/in", list(admin, boxes.Query{Box: boxes.BoxIn, Limit: 20}))
	measure("admin/by-deadline", list(admin, boxes.Query{Sort: boxes.SortDeadlineAsc, Limit: 20}))
	measure("admin/to-sign", list(admin, boxes.Query{View: boxes.ViewToSign, Limit: 20}))
	measure("admin/deadline-soon", list(admin, boxes.Query{View: boxes.ViewDeadlineSoon, Limit: 20}))
	measure("admin/counts", counts(admin))
	measure("member/all", list(member, boxes.Query{Limit: 20}))
	measure("member/counts", counts(member))
	measure("person/all", list(heavy, boxes.Query{Limit: 20}))
	measure("person/counts", counts(heavy))
}

var benchT0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func benchFirm(i int) string  { return fmt.Sprintf("测试第%d有限公司", i) }
func benchPhone(i int) string { return fmt.Sprintf("135%08d", i) }

// benchLoad decides n contracts with the domain and appends them from a
// few writers at once (the store commits them in groups).
func benchLoad(b *testing.B, w *world, n int) int {
	const writers = 16
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	errs := make(chan error, writers)
	for g := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			count := 0
			for i := g; i < n; i += writers {
				evs, err := benchContract(i)
				if err != nil {
					errs <- err
					return
				}
				news := make([]event.New, len(evs))
				for j, ev := range evs {
					if news[j], err = contract.NewEvent(fmt.Sprintf("ev-%d-%d", i, j), ev, event.Metadata{OccurredAt: benchT0}); err != nil {
						errs <- err
						return
					}
				}
				if _, err := w.store.Append(context.Background(), contract.StreamOf(fmt.Sprintf("c-%08d", i)), event.NoStream, news...); err != nil {
					errs <- err
					return
				}
				count += len(evs)
			}
			mu.Lock()
			total += count
			mu.Unlock()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	return total
}

// benchContract is contract i's history, decided by the aggregate.
func benchContract(i int) ([]contract.Event, error) {
	rnd := rand.New(rand.NewPCG(uint64(i), 99))
	now := benchT0.Add(time.Duration(i) * 10 * time.Second)
	sender := contract.Sender{AccountID: "acct-e0-admin", EnterpriseID: "ent-e0", Name: benchFirm(0), PersonName: "管理员"}
	switch r := rnd.IntN(10); {
	case r < 3:
		sender.AccountID, sender.PersonName = "acct-e0-member", "成员"
	case r < 6:
	case r < 9:
		k := 1 + rnd.IntN(9)
		sender = contract.Sender{AccountID: fmt.Sprintf("acct-e%d", k), EnterpriseID: fmt.Sprintf("ent-e%d", k), Name: benchFirm(k), PersonName: "某人"}
	default:
		sender = contract.Sender{AccountID: fmt.Sprintf("acct-p%d", rnd.IntN(500)), Name: "个人", PersonName: "个人"}
	}
	person := 1 + rnd.IntN(2000)
	if rnd.IntN(100) == 0 {
		person = 0
	}
	firm := benchFirm(1 + rnd.IntN(12)) // some name no verified enterprise has
	if rnd.IntN(5) == 0 {
		firm = benchFirm(0)
	}
	roles := []layout.Role{{ID: "r1", Name: "乙方", Kind: layout.Person, Order: 1}, {ID: "r2", Name: "甲方", Kind: layout.Enterprise, Order: 2}}
	rect := layout.Rect{X: 100, Y: 100, W: 100, H: 50}
	spec := contract.Spec{ContractID: fmt.Sprintf("c-%08d", i), Number: fmt.Sprintf("HT%08d", i), Title: "采购合同 " + strconv.Itoa(i), Sender: sender,
		Documents: []layout.Document{doc}, Roles: roles, Sequential: rnd.IntN(2) == 0,
		Fields: []layout.Field{{ID: "f1", Kind: layout.Signature, RoleID: "r1", DocumentID: "d1", Page: 1, Rect: rect},
			{ID: "f2", Kind: layout.Seal, RoleID: "r2", DocumentID: "d1", Page: 1, Rect: rect}},
		Parties:         map[string]contract.PartyInput{"r1": {Name: "林某某", Contact: benchPhone(person)}, "r2": {Name: "联系人", Contact: "13700000000", EnterpriseName: firm}},
		SigningDeadline: now.Add(time.Duration(4+rnd.IntN(30*24)) * time.Hour)}
	if rnd.IntN(2) == 0 {
		exp := spec.SigningDeadline.Add(time.Duration(1+rnd.IntN(365*24)) * time.Hour)
		spec.ExpiresAt = &exp
	}
	k := contract.New()
	var out []contract.Event
	step := func(evs []contract.Event, err error) error {
		if err != nil {
			return err
		}
		for _, e := range evs {
			if err := k.Apply(e); err != nil {
				return err
			}
		}
		out = append(out, evs...)
		return nil
	}
	if err := step(contract.Create(spec, now)); err != nil {
		return nil, err
	}
	if err := step(k.Send(sender.AccountID, contract.Quota{}, now)); err != nil {
		return nil, err
	}
	if rnd.IntN(33) == 0 {
		return out, step(k.Revoke(sender.AccountID, "撤回", now.Add(time.Minute)))
	}
	if rnd.IntN(2) == 0 {
		return out, nil
	}
	signer := contract.Signer{AccountID: fmt.Sprintf("acct-person-%d", person), Login: contract.Contact{Kind: "phone", Value: benchPhone(person)}, VerifiedName: "林某某"}
	if err := step(k.Sign(contract.Signing{PartyID: "r1", Signer: signer, Signature: &contract.SignatureUse{Kind: "typed", Text: "林某某"}}, now.Add(time.Hour))); err != nil {
		return nil, err
	}
	if rnd.IntN(10) >= 3 {
		return out, nil
	}
	ent := contract.Signer{AccountID: "acct-sealer", Enterprise: &contract.SignerEnterprise{ID: "ent-x", Name: firm}}
	if err := step(k.Sign(contract.Signing{PartyID: "r2", Signer: ent, Seal: &contract.SealUse{SealID: "s", Name: "公章"}}, now.Add(2*time.Hour))); err != nil {
		return nil, err
	}
	sha := strings.Repeat("b", 64)
	return out, step(k.Seal(contract.ContractSealed{Documents: []contract.SealedDocument{{DocumentID: "d1", SHA256: sha, Signatures: 2}}, CertificateSHA256: sha}, now.Add(3*time.Hour)))
}

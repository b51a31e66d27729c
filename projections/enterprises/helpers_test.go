package enterprises_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"

	"signet/domain/enterprise"
	"signet/domain/event"
	"signet/infra/eventstore/sqlite"
	"signet/infra/projector"
	"signet/infra/redisdb"
	"signet/infra/redisdb/redistest"
	"signet/projections"
	"signet/projections/enterprises"
)

// world is an event store, a Redis and the projector between them; cases
// decide through the real aggregate and append what it decides.
type world struct {
	t      *testing.T
	ctx    context.Context
	store  *sqlite.Store
	db     *redisdb.DB
	runner *projector.Runner
	now    time.Time
	reader enterprises.Reader
}

func newWorld(t *testing.T, start time.Time) *world {
	t.Helper()
	store, err := sqlite.Open(filepath.Join(t.TempDir(), "events.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	db := redistest.New(t)
	runner, err := projector.New(db, store, []projections.Projection{enterprises.Projection{}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, ctx: context.Background(), store: store, db: db, runner: runner, now: start}
	w.reader = enterprises.Reader{DB: db, Now: func() time.Time { return w.now }}
	return w
}

// sync runs the projection up to the head and checks nothing was poisoned.
func (w *world) sync() {
	w.t.Helper()
	if err := w.runner.CatchUp(w.ctx, enterprises.Name, nil); err != nil {
		w.t.Fatal(err)
	}
	st, err := w.runner.Status(w.ctx)
	if err != nil {
		w.t.Fatal(err)
	}
	for _, s := range st {
		if s.Poisoned != 0 {
			recs, _ := w.runner.Poisoned(w.ctx, s.Name, 0)
			w.t.Fatalf("%s poisoned %d events: %+v", s.Name, s.Poisoned, recs)
		}
	}
}

// appendTo appends events of another stream (index streams).
func (w *world) appendTo(stream string, evs ...enterprise.Event) {
	w.t.Helper()
	for _, ev := range evs {
		n, err := enterprise.NewEvent(uuid.NewString(), ev, event.Metadata{OccurredAt: w.now})
		if err != nil {
			w.t.Fatal(err)
		}
		if _, err := w.store.Append(w.ctx, stream, event.Any, n); err != nil {
			w.t.Fatal(err)
		}
	}
}

type kase struct {
	w    *world
	id   string
	agg  *enterprise.Enterprise
	used int // contracts counted on the quota ledger
}

// spend uses one contract of the quota on the enterprise's ledger, as the
// send command does; it returns the domain's refusal, if any.
func (k *kase) spend(actor, contractID string) error {
	k.w.t.Helper()
	evs, err := k.agg.UseQuota(actor, contractID, k.used, k.w.now)
	if err != nil {
		return err
	}
	n, err := enterprise.NewEvent(uuid.NewString(), evs[0], event.Metadata{Actor: actor, OccurredAt: k.w.now})
	if err != nil {
		k.w.t.Fatal(err)
	}
	expected := event.Exactly(uint64(k.used))
	if k.used == 0 {
		expected = event.NoStream
	}
	if _, err := k.w.store.Append(k.w.ctx, enterprise.QuotaStream(k.id), expected, n); err != nil {
		k.w.t.Fatal(err)
	}
	k.used++
	return nil
}

func (w *world) create(creator string) *kase {
	w.t.Helper()
	k := &kase{w: w, id: uuid.NewString(), agg: enterprise.New()}
	k.must(creator, func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
		return e.Create(k.id, creator, now)
	})
	return k
}

// do runs a decision and appends its events, also those of a refusal (the
// domain records refused willingness steps); it returns the decision's error.
func (k *kase) do(actor string, decide func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error)) error {
	k.w.t.Helper()
	evs, derr := decide(k.agg, k.w.now)
	if len(evs) == 0 {
		return derr
	}
	news := make([]event.New, len(evs))
	for i, ev := range evs {
		n, err := enterprise.NewEvent(uuid.NewString(), ev, event.Metadata{Actor: actor, OccurredAt: k.w.now})
		if err != nil {
			k.w.t.Fatal(err)
		}
		news[i] = n
	}
	if _, err := k.w.store.Append(k.w.ctx, enterprise.StreamOf(k.id), event.Exactly(k.agg.Version()), news...); err != nil {
		k.w.t.Fatal(err)
	}
	for _, ev := range evs {
		if err := k.agg.Apply(ev); err != nil {
			k.w.t.Fatal(err)
		}
	}
	return derr
}

func (k *kase) must(actor string, decide func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error)) {
	k.w.t.Helper()
	if err := k.do(actor, decide); err != nil {
		k.w.t.Fatalf("decision refused: %v", err)
	}
}

// refused runs a decision the domain must refuse (recording why).
func (k *kase) refused(actor string, decide func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error)) {
	k.w.t.Helper()
	if err := k.do(actor, decide); err == nil {
		k.w.t.Fatal("decision accepted, want a refusal")
	}
}

func (w *world) view(eid string) enterprises.CaseView {
	w.t.Helper()
	w.sync()
	v, err := w.reader.Case(w.ctx, eid)
	if err != nil {
		w.t.Fatal(err)
	}
	return v
}

func file(name string) enterprise.File {
	return enterprise.File{SHA256: "sha-" + name, Size: 1234, MediaType: "image/jpeg"}
}

// Identities of the test; the leak test looks for them in Redis.
const (
	entName    = "杭州井然食品贸易有限公司"
	entUSCC    = "91440300708461136T"
	legalName  = "井然"
	legalID    = "11010519491231002X"
	agentName  = "林小明"
	agentID    = "440524198001010013"
	phoneWrong = "13912345678"
	phoneLegal = "13800138000"
	phoneAgent = "15057112345"
	acctNumber = "6214830123456789"
	payerAcct  = "6217000010012345678"
	platAcct   = "10454000000496333"
	amountFen  = 37
	creator    = "acct-creator"
)

// prepare uploads the licence and both persons' cards and submits the
// materials with operator op.
func (k *kase) prepare(op enterprise.Person) {
	k.w.t.Helper()
	c := creator
	k.must(c, func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
		return e.UploadLicense(c, file("license"), enterprise.LicenseFields{Name: entName, USCC: entUSCC, LegalRep: legalName}, "test", now)
	})
	cards := []struct {
		p   enterprise.Person
		s   enterprise.Side
		rec enterprise.IDCardFields
	}{
		{enterprise.LegalRep, enterprise.Portrait, enterprise.IDCardFields{Name: legalName, IDNumber: legalID}},
		{enterprise.LegalRep, enterprise.Emblem, enterprise.IDCardFields{Authority: "北京市公安局", ValidUntil: "2036.01.01"}},
		{enterprise.Agent, enterprise.Portrait, enterprise.IDCardFields{Name: agentName, IDNumber: agentID}},
		{enterprise.Agent, enterprise.Emblem, enterprise.IDCardFields{ValidUntil: "长期"}},
	}
	for _, cd := range cards {
		k.must(c, func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
			return e.UploadIDCard(c, cd.p, cd.s, file(string(cd.p)+string(cd.s)), cd.rec, "test", now)
		})
	}
	k.submit(op)
}

func (k *kase) submit(op enterprise.Person) {
	k.w.t.Helper()
	m := enterprise.Materials{Name: entName, USCC: entUSCC, LegalRepName: legalName, LegalRepIDNumber: legalID, Operator: op,
		AcceptPersonal: true, AcceptFollowup: true, PolicyVersion: "2026-11"}
	if op == enterprise.Agent {
		m.AgentName, m.AgentIDNumber = agentName, agentID
	}
	k.must(creator, func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
		return e.Submit(creator, m, now)
	})
}

func (k *kase) choose(m enterprise.Method) {
	k.w.t.Helper()
	k.must(creator, func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
		return e.ChooseMethod(creator, m, now)
	})
}

// letterUploaded verifies the agent's phone, generates and uploads a letter.
func (k *kase) letterUploaded() {
	k.w.t.Helper()
	k.choose(enterprise.MethodLetter)
	k.must(creator, func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
		return e.CheckCarrier(creator, enterprise.MethodLetter, phoneAgent, enterprise.CarrierResult{Match: true}, now)
	})
	k.must(creator, func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
		return e.ConfirmPhone(creator, enterprise.MethodLetter, nil, nil, now)
	})
	k.must(creator, func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
		return e.GenerateLetter(creator, "SQ-"+k.id[:8], enterprise.File{SHA256: "sha-letter-" + k.id, Size: 99, MediaType: "application/pdf"}, now)
	})
	k.upload("sha-stamped-" + k.id)
}

func (k *kase) upload(sha string) {
	k.w.t.Helper()
	k.must(creator, func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
		return e.UploadLetter(creator, enterprise.File{SHA256: sha, Size: 5000, MediaType: "image/png"}, now)
	})
}

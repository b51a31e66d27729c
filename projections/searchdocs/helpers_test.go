package searchdocs_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"signet/domain/account"
	"signet/domain/batch"
	"signet/domain/contract"
	"signet/domain/enterprise"
	"signet/domain/event"
	"signet/domain/filing"
	"signet/domain/layout"
	"signet/domain/template"
	"signet/infra/eventstore/sqlite"
	"signet/infra/search"
	"signet/projections/searchdocs"
)

type anyEvent interface{ EventType() string }

// world is an event store and the documents Build made of its log, kept
// as an index keeps them (a document is replaced only by a newer version).
type world struct {
	t       testing.TB
	ctx     context.Context
	store   *sqlite.Store
	b       *searchdocs.Builder
	docs    map[string]search.ContractDoc
	records map[string]search.AuditRecord
	applied uint64
	clock   time.Time
}

func newWorld(t testing.TB) *world {
	t.Helper()
	store, err := sqlite.Open(filepath.Join(t.TempDir(), "events.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return &world{t: t, ctx: context.Background(), store: store, b: searchdocs.New(store),
		docs: map[string]search.ContractDoc{}, records: map[string]search.AuditRecord{}, clock: t0}
}

func encode(stream string, id string, e anyEvent, meta event.Metadata) (event.New, error) {
	switch event.Category(stream) {
	case contract.Category:
		return contract.NewEvent(id, e, meta)
	case filing.DeskCategory, filing.TagsCategory:
		return filing.NewEvent(id, e, meta)
	case account.Category:
		return account.NewEvent(id, e, meta)
	case enterprise.Category:
		return enterprise.NewEvent(id, e, meta)
	case template.Category:
		return template.NewEvent(id, e, meta)
	case batch.Category:
		return batch.NewEvent(id, e, meta)
	}
	return event.New{}, fmt.Errorf("no encoder for %s", stream)
}

// add appends events to a stream as actor from a client address.
func (w *world) add(stream, actor, ip string, evs ...anyEvent) {
	w.t.Helper()
	news := make([]event.New, len(evs))
	for i, ev := range evs {
		w.clock = w.clock.Add(time.Second)
		n, err := encode(stream, uuid.NewString(), ev, event.Metadata{Actor: actor, ClientIP: ip, OccurredAt: w.clock})
		if err != nil {
			w.t.Fatal(err)
		}
		news[i] = n
	}
	if _, err := w.store.Append(w.ctx, stream, event.Any, news...); err != nil {
		w.t.Fatal(err)
	}
}

// sync builds every event not built yet, one by one, as the runner does.
func (w *world) sync() {
	w.t.Helper()
	envs, err := w.store.ReadAll(w.ctx, w.applied, 0)
	if err != nil {
		w.t.Fatal(err)
	}
	for _, env := range envs {
		docs, recs, err := w.b.Build(env, w.current)
		if err != nil {
			w.t.Fatalf("build %s@%d %s: %v", env.Stream, env.Version, env.Type, err)
		}
		if len(recs) != 1 || recs[0].ID != env.ID {
			w.t.Fatalf("%s@%d: want one record of the event, got %+v", env.Stream, env.Version, recs)
		}
		for _, d := range docs {
			if d.Version != env.Position {
				w.t.Fatalf("%s@%d: document %s has version %d, want the position %d", env.Stream, env.Version, d.ID, d.Version, env.Position)
			}
			if old, ok := w.docs[d.ID]; !ok || d.Version > old.Version {
				w.docs[d.ID] = d
			}
		}
		w.records[env.ID] = recs[0]
		w.applied = env.Position
	}
}

func (w *world) current(id string) (search.ContractDoc, bool, error) {
	d, ok := w.docs[id]
	return d, ok, nil
}

func (w *world) doc(id string) search.ContractDoc {
	w.t.Helper()
	w.sync()
	d, ok := w.docs[id]
	if !ok {
		w.t.Fatalf("no document of contract %s", id)
	}
	return d
}

// recordsOf lists a stream's records in log order.
func (w *world) recordsOf(stream string) []search.AuditRecord {
	w.t.Helper()
	w.sync()
	var out []search.AuditRecord
	for _, r := range w.records {
		if r.Stream == stream {
			out = append(out, r)
		}
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].Position < out[j-1].Position; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

var t0 = time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)

func at(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }

// Personal data of the test; the leak test looks for it everywhere.
const (
	phoneWang  = "13800138000"
	phoneLi    = "15057112345"
	emailZhang = "lin.xiao@example.com"
	idNumber   = "11010519491231002X"
	idLegalRep = "330106198001011234"
	ipWang     = "203.0.113.45"
	ipZhang    = "2001:db8:85a3:8d3:1319:8a2e:370:7348"
	ipLi       = "::ffff:198.51.100.7"
)

const (
	sender     = "acct-sender"
	senderEnt  = "ent-sender"
	senderName = "杭州井然食品贸易有限公司"
	partyEnt   = "上海云签科技有限公司"
	partyEntID = "ent-party"
	acctWang   = "acct-wang"
	acctZhang  = "acct-zhang"
	acctLi     = "acct-li"
	approver1  = "acct-approver-1"
	approver2  = "acct-approver-2"
)

var doc1 = layout.Document{ID: "doc-1", Name: "采购合同.pdf", File: layout.File{SHA256: "sha-doc-1", Size: 2048, MediaType: "application/pdf"},
	Pages: []layout.Page{layout.A4}}

func hashOf(login string) string {
	l, err := account.ParseLogin(login)
	if err != nil {
		panic(err)
	}
	return l.Hash()
}

// created is a contract from the sending enterprise to an enterprise (甲方,
// order 1) and two persons (乙方 and 丙方, order 2).
func created(id string, sequential bool) contract.ContractCreated {
	exp := at(60 * 24 * 365)
	return contract.ContractCreated{
		ContractID: id, Number: "HT20261201-" + strings.ToUpper(id[:min(8, len(id))]), Title: "年度采购合同", ContractType: "采购",
		Sender:    contract.Sender{AccountID: sender, EnterpriseID: senderEnt, Name: senderName, PersonName: "井然"},
		Documents: []layout.Document{doc1},
		Parties: []contract.Party{
			{ID: "role-a", Role: "甲方", Kind: layout.Enterprise, Order: 1, Name: "王五", Contact: contract.Contact{Kind: "phone", Value: phoneWang},
				EnterpriseName: partyEnt},
			{ID: "role-b", Role: "乙方", Kind: layout.Person, Order: 2, Name: "张三", Contact: contract.Contact{Kind: "email", Value: emailZhang}},
			{ID: "role-c", Role: "丙方", Kind: layout.Person, Order: 2, Name: "李四", Contact: contract.Contact{Kind: "phone", Value: phoneLi}},
		},
		Sequential: sequential, SigningDeadline: at(7 * 24 * 60), ExpiresAt: &exp, CreatedAt: at(0),
	}
}

func sent(min int) contract.ContractSent {
	return contract.ContractSent{Documents: []contract.DocumentHash{{DocumentID: "doc-1", SHA256: "sha-sent-1"}},
		Quota: contract.Quota{Kind: "enterprise", ID: senderEnt}, SentBy: sender, SentAt: at(min)}
}

func signedA(min int) contract.PartySigned {
	return contract.PartySigned{PartyID: "role-a", SignerAccountID: acctWang, SignerName: "王五", EnterpriseID: partyEntID,
		Seal: &contract.SealUse{SealID: "seal-1", Name: "合同专用章", File: layout.File{SHA256: "sha-seal"}}, Willingness: contract.Willingness{Method: contract.WillingnessSMSCode, Channel: "sms"},
		Documents: []contract.DocumentHash{{DocumentID: "doc-1", SHA256: "sha-a-1"}}, ClientIP: ipWang, SignedAt: at(min)}
}

func signedB(min int) contract.PartySigned {
	return contract.PartySigned{PartyID: "role-b", SignerAccountID: acctZhang, SignerName: "张三",
		Signature: &contract.SignatureUse{Kind: "typed", Text: "张三"}, Willingness: contract.Willingness{Method: contract.WillingnessSMSCode, Channel: "sms"},
		Documents: []contract.DocumentHash{{DocumentID: "doc-1", SHA256: "sha-b-1"}}, ClientIP: ipZhang, SignedAt: at(min)}
}

func signedC(min int) contract.PartySigned {
	return contract.PartySigned{PartyID: "role-c", SignerAccountID: acctLi, SignerName: "李四",
		Signature: &contract.SignatureUse{Kind: "typed", Text: "李四"}, Willingness: contract.Willingness{Method: contract.WillingnessSMSCode, Channel: "sms"},
		Documents: []contract.DocumentHash{{DocumentID: "doc-1", SHA256: "sha-c-1"}}, ClientIP: ipLi, SignedAt: at(min)}
}

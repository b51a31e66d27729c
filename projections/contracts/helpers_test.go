package contracts_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"signet/domain/contract"
	"signet/domain/event"
	"signet/domain/layout"
	"signet/infra/eventstore/sqlite"
	"signet/infra/projector"
	"signet/infra/redisdb"
	"signet/infra/redisdb/redistest"
	"signet/projections"
	"signet/projections/contracts"
)

// world is an event store, a Redis and the projector between them.
type world struct {
	t      *testing.T
	ctx    context.Context
	store  *sqlite.Store
	db     *redisdb.DB
	runner *projector.Runner
	reader contracts.Reader
}

func newWorld(t *testing.T) *world {
	t.Helper()
	store, err := sqlite.Open(filepath.Join(t.TempDir(), "events.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	db := redistest.New(t)
	runner, err := projector.New(db, store, []projections.Projection{contracts.Projection{}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &world{t: t, ctx: context.Background(), store: store, db: db, runner: runner, reader: contracts.Reader{DB: db}}
}

// add appends events to a contract's stream, encoded as the store keeps them.
func (w *world) add(id, actor string, evs ...contract.Event) {
	w.t.Helper()
	news := make([]event.New, len(evs))
	for i, ev := range evs {
		n, err := contract.NewEvent(uuid.NewString(), ev, event.Metadata{Actor: actor, ClientIP: "203.0.113.45", OccurredAt: t0})
		if err != nil {
			w.t.Fatal(err)
		}
		news[i] = n
	}
	if _, err := w.store.Append(w.ctx, contract.StreamOf(id), event.Any, news...); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) sync() {
	w.t.Helper()
	if err := w.runner.CatchUp(w.ctx, contracts.Name, nil); err != nil {
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

func (w *world) view(id string) contracts.ContractView {
	w.t.Helper()
	w.sync()
	v, err := w.reader.Contract(w.ctx, id)
	if err != nil {
		w.t.Fatal(err)
	}
	return v
}

func (w *world) envelopes() []event.Envelope {
	w.t.Helper()
	envs, err := w.store.ReadAll(w.ctx, 0, 100000)
	if err != nil {
		w.t.Fatal(err)
	}
	return envs
}

// t0 is the test's start: Tuesday 2026-12-01 10:00 in Shanghai.
var t0 = time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)

func at(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }

// Personal data of the test; the leak test looks for it in Redis.
const (
	phoneWang   = "13800138000"
	phoneLi     = "15057112345"
	emailZhang  = "Lin.Xiao@Example.com"
	emailNormal = "lin.xiao@example.com"
	idNumber    = "11010519491231002X"
	ipWang      = "203.0.113.45"
	ipZhang     = "2001:db8:85a3:8d3:1319:8a2e:370:7348"
	ipLi        = "::ffff:198.51.100.7"
)

const (
	sender      = "acct-sender"
	senderEnt   = "ent-sender"
	senderName  = "杭州井然食品贸易有限公司"
	partyEnt    = "上海云签科技有限公司"
	acctWang    = "acct-wang"
	acctZhang   = "acct-zhang"
	acctLi      = "acct-li"
	approver1   = "acct-approver-1"
	approver2   = "acct-approver-2"
	deadlineMin = 7 * 24 * 60
)

var (
	doc1 = layout.Document{ID: "doc-1", Name: "采购合同.pdf", File: layout.File{SHA256: "sha-doc-1", Size: 2048, MediaType: "application/pdf"},
		Pages: []layout.Page{layout.A4}}
	doc2 = layout.Document{ID: "doc-2", Name: "附件一", Blank: true, File: layout.File{SHA256: "sha-doc-2", Size: 900, MediaType: "application/pdf"},
		Pages: []layout.Page{layout.A4}}
	fields = []layout.Field{
		{ID: "f-seal", Kind: layout.Seal, RoleID: "role-a", Required: true, DocumentID: "doc-1", Page: 1, Rect: layout.Rect{X: 10, Y: 10, W: 100, H: 100}},
		{ID: "f-amount", Kind: layout.Number, Name: "金额", DocumentID: "doc-1", Page: 1, Rect: layout.Rect{X: 10, Y: 500, W: 100, H: 20}},
	}
)

// created is a contract from the sending enterprise to an enterprise (甲方,
// order 1) and two persons (乙方 and 丙方, order 2).
func created(id string, sequential bool) contract.ContractCreated {
	return contract.ContractCreated{
		ContractID: id, Number: "HT20261201-" + strings.ToUpper(id[:8]), Title: "年度采购合同", ContractType: "采购",
		Sender:    contract.Sender{AccountID: sender, EnterpriseID: senderEnt, Name: senderName, PersonName: "井然"},
		Template:  &contract.TemplateRef{ID: "tpl-1", Version: 7},
		Documents: []layout.Document{doc1, doc2},
		Parties: []contract.Party{
			{ID: "role-a", Role: "甲方", Kind: layout.Enterprise, Order: 1, Name: "王五", Contact: contract.Contact{Kind: "phone", Value: phoneWang},
				EnterpriseName: partyEnt},
			{ID: "role-b", Role: "乙方", Kind: layout.Person, Order: 2, Name: "张三", Contact: contract.Contact{Kind: "email", Value: emailNormal}},
			{ID: "role-c", Role: "丙方", Kind: layout.Person, Order: 2, Name: "李四", Contact: contract.Contact{Kind: "phone", Value: phoneLi}},
		},
		Fields: fields, Values: map[string]string{"f-amount": "120000"}, Sequential: sequential,
		SigningDeadline: at(deadlineMin), CreatedAt: at(0),
	}
}

func sent(min int) contract.ContractSent {
	return contract.ContractSent{Documents: []contract.DocumentHash{{DocumentID: "doc-1", SHA256: "sha-sent-1"}, {DocumentID: "doc-2", SHA256: "sha-sent-2"}},
		Quota: contract.Quota{Kind: "enterprise", ID: senderEnt}, SentBy: sender, SentAt: at(min)}
}

func signedA(min int) contract.PartySigned {
	return contract.PartySigned{PartyID: "role-a", SignerAccountID: acctWang, SignerName: "王五", EnterpriseID: "ent-party",
		Seal: &contract.SealUse{SealID: "seal-1", Name: "合同专用章", File: layout.File{SHA256: "sha-seal"}}, Willingness: contract.Willingness{Method: contract.WillingnessSMSCode, Channel: "sms"},
		Documents: []contract.DocumentHash{{DocumentID: "doc-1", SHA256: "sha-a-1"}, {DocumentID: "doc-2", SHA256: "sha-a-2"}},
		ClientIP:  ipWang, SignedAt: at(min)}
}

func signedB(min int) contract.PartySigned {
	return contract.PartySigned{PartyID: "role-b", SignerAccountID: acctZhang, SignerName: "张三",
		Signature: &contract.SignatureUse{Kind: "typed", Text: "张三"}, Willingness: contract.Willingness{Method: contract.WillingnessSMSCode, Channel: "sms"},
		Documents: []contract.DocumentHash{{DocumentID: "doc-1", SHA256: "sha-b-1"}, {DocumentID: "doc-2", SHA256: "sha-b-2"}},
		ClientIP:  ipZhang, SignedAt: at(min)}
}

func signedC(min int) contract.PartySigned {
	return contract.PartySigned{PartyID: "role-c", SignerAccountID: acctLi, SignerName: "李四",
		Signature: &contract.SignatureUse{Kind: "image", File: &layout.File{SHA256: "sha-hand"}}, Willingness: contract.Willingness{Method: contract.WillingnessSMSCode, Channel: "sms"},
		Documents: []contract.DocumentHash{{DocumentID: "doc-1", SHA256: "sha-c-1"}, {DocumentID: "doc-2", SHA256: "sha-c-2"}},
		ClientIP:  ipLi, SignedAt: at(min)}
}

// applyRaw applies a projection's ops straight to Redis, without the
// projector's version guard: what a duplicate delivery would do if the
// guard were lost.
func applyRaw(t *testing.T, db *redisdb.DB, p projections.Projection, envs ...event.Envelope) {
	t.Helper()
	ctx := context.Background()
	for _, e := range envs {
		ops, err := p.Handle(ctx, e)
		if err != nil {
			t.Fatalf("%s@%d: %v", e.Stream, e.Version, err)
		}
		for _, op := range ops {
			args := append([]any{op.Cmd, projections.Key(db, p.Name(), op.Key)}, op.Args...)
			if err := db.Do(ctx, args...).Err(); err != nil {
				t.Fatalf("%s@%d: %s %s: %v", e.Stream, e.Version, op.Cmd, op.Key, err)
			}
		}
	}
}

// snapshot dumps every key of a projection's read model: per key its type
// and its fields, members or value.
func snapshot(t *testing.T, db *redisdb.DB, name string) map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]string{}
	iter := db.Scan(ctx, 0, db.Prefix+projections.Namespace(name)+"*", 1000).Iterator()
	for iter.Next(ctx) {
		k := iter.Val()
		typ := db.Type(ctx, k).Val()
		var vals []string
		switch typ {
		case "hash":
			for f, x := range db.HGetAll(ctx, k).Val() {
				vals = append(vals, f+"="+x)
			}
		case "set":
			vals = db.SMembers(ctx, k).Val()
		case "zset":
			for _, z := range db.ZRangeWithScores(ctx, k, 0, -1).Val() {
				vals = append(vals, fmt.Sprintf("%v:%v", z.Member, z.Score))
			}
		case "string":
			vals = []string{db.Get(ctx, k).Val()}
		}
		sort.Strings(vals)
		out[strings.TrimPrefix(k, db.Prefix)] = typ + " " + strings.Join(vals, "\n")
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func diff(a, b map[string]string) string {
	var d []string
	for k, v := range a {
		if b[k] != v {
			d = append(d, fmt.Sprintf("%s:\n  %q\n  %q", k, v, b[k]))
		}
	}
	for k, v := range b {
		if _, ok := a[k]; !ok {
			d = append(d, fmt.Sprintf("%s: missing vs %q", k, v))
		}
	}
	sort.Strings(d)
	return strings.Join(d, "\n")
}

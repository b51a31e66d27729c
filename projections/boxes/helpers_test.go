package boxes_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"signet/domain/account"
	"signet/domain/contract"
	"signet/domain/event"
	"signet/domain/filing"
	"signet/domain/layout"
	"signet/infra/eventstore/sqlite"
	"signet/infra/projector"
	"signet/infra/redisdb"
	"signet/infra/redisdb/redistest"
	"signet/projections"
	"signet/projections/boxes"
	"signet/projections/contracts"
	"signet/projections/principal"
)

// t0 is the test's start; "now" for the readers is a few days later.
var (
	t0  = time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)
	now = t0.Add(5 * 24 * time.Hour)
)

// world is an event store, a Redis and the projector between them.
type world struct {
	t      testing.TB
	ctx    context.Context
	store  *sqlite.Store
	db     *redisdb.DB
	proj   *boxes.Projection
	runner *projector.Runner
	reader boxes.Reader
}

func newWorld(t testing.TB) *world {
	t.Helper()
	store, err := sqlite.Open(filepath.Join(t.TempDir(), "events.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	db := redistest.New(t)
	proj := boxes.New(store)
	runner, err := projector.New(db, store, []projections.Projection{contracts.Projection{}, proj}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &world{t: t, ctx: context.Background(), store: store, db: db, proj: proj, runner: runner,
		reader: boxes.Reader{DB: db, Now: func() time.Time { return now }}}
}

type anyEvent interface{ EventType() string }

// add appends events to a stream, encoded as the store keeps them.
func (w *world) add(stream, actor string, evs ...anyEvent) {
	w.t.Helper()
	news := make([]event.New, len(evs))
	for i, ev := range evs {
		meta := event.Metadata{Actor: actor, OccurredAt: t0}
		var n event.New
		var err error
		if event.Category(stream) == contract.Category {
			n, err = contract.NewEvent(uuid.NewString(), ev, meta)
		} else {
			n, err = filing.NewEvent(uuid.NewString(), ev, meta)
		}
		if err != nil {
			w.t.Fatal(err)
		}
		news[i] = n
	}
	if _, err := w.store.Append(w.ctx, stream, event.Any, news...); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) sync() {
	w.t.Helper()
	for _, name := range []string{contracts.Name, boxes.Name} {
		if err := w.runner.CatchUp(w.ctx, name, nil); err != nil {
			w.t.Fatal(err)
		}
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

// Who plays in the tests: three verified enterprises and their people.
type person struct {
	id    string
	phone string
	name  string
}

type firm struct {
	id, name string
	admins   []string
	members  []string
}

var (
	people = []person{
		{"acct-a1", "13800000001", "赵一"}, {"acct-a2", "13800000002", "钱二"}, {"acct-a3", "13800000003", "孙三"},
		{"acct-a4", "13800000004", "李四"}, {"acct-a5", "13800000005", "周五"}, {"acct-a6", "13800000006", "吴六"},
	}
	firms = []firm{
		{"ent-1", "杭州甲有限公司", []string{"acct-a1"}, []string{"acct-a2"}},
		{"ent-2", "上海乙有限公司", []string{"acct-a3"}, []string{"acct-a4"}},
		{"ent-3", "北京丙有限公司", []string{"acct-a6", "acct-a1"}, nil},
	}
	strangerPhone = "13900000009" // a party with no account
	strangerFirm  = "无名有限公司"      // a party no verified enterprise has
)

func personByID(id string) person {
	for _, p := range people {
		if p.id == id {
			return p
		}
	}
	panic(id)
}

func loginHash(phone string) string {
	l, err := account.ParseLogin(phone)
	if err != nil {
		panic(err)
	}
	return l.Hash()
}

// callerOf is who an account is to the readers.
func callerOf(id string) principal.Caller {
	c := principal.Caller{AccountID: id, LoginHash: loginHash(personByID(id).phone)}
	for _, f := range firms {
		role := ""
		if slices.Contains(f.admins, id) {
			role = principal.RoleAdmin
		} else if slices.Contains(f.members, id) {
			role = principal.RoleMember
		}
		if role != "" {
			c.Memberships = append(c.Memberships, principal.Membership{EnterpriseID: f.id, Name: f.name, Role: role, Verified: true})
		}
	}
	return c
}

func firmsOf(id string) []firm {
	var out []firm
	for _, f := range firms {
		if slices.Contains(f.admins, id) || slices.Contains(f.members, id) {
			out = append(out, f)
		}
	}
	return out
}

func isAdmin(id, eid string) bool {
	for _, f := range firms {
		if f.id == eid {
			return slices.Contains(f.admins, id)
		}
	}
	return false
}

var doc = layout.Document{ID: "d1", Name: "合同.pdf", File: layout.File{SHA256: strings.Repeat("a", 64), Size: 10, MediaType: "application/pdf"}, Pages: []layout.Page{layout.A4}}

// oracle says, from the aggregate and the rules as the issue states them,
// whether caller sees contract k in a box: the sender; the administrators
// of the sending enterprise; a person party by login, an enterprise party's
// administrators and whoever signed or refused for an enterprise party,
// once sent; the approvers while it waits for them.
func oracle(caller string, k *contract.Contract) (out, in, approver bool) {
	cr := k.Created()
	s := cr.Sender
	out = s.AccountID == caller || (s.EnterpriseID != "" && isAdmin(caller, s.EnterpriseID))
	approver = k.Status() == contract.StatusPendingApproval && slices.Contains(k.Approvers(), caller)
	if _, sent := k.Sent(); !sent {
		return out, false, approver
	}
	me := personByID(caller)
	for _, p := range cr.Parties {
		if p.Kind == layout.Person && p.Contact.Value == me.phone {
			in = true
		}
		if p.Kind == layout.Enterprise {
			for _, f := range firms {
				if f.name == p.EnterpriseName && slices.Contains(f.admins, caller) {
					in = true
				}
			}
		}
	}
	for _, sg := range k.SignedOrder() {
		if sg.EnterpriseID != "" && sg.SignerAccountID == caller {
			in = true
		}
	}
	if r, ok := k.Rejection(); ok && r.EnterpriseID != "" && r.SignerAccountID == caller {
		in = true
	}
	return out, in, approver
}

// turnIsMine: a party whose turn it is is addressed to the caller (their
// login, or an enterprise they administer).
func turnIsMine(caller string, k *contract.Contract) bool {
	me := personByID(caller)
	for _, p := range k.Turn() {
		if p.Kind == layout.Person && p.Contact.Value == me.phone {
			return true
		}
		if p.Kind == layout.Enterprise {
			for _, f := range firms {
				if f.name == p.EnterpriseName && slices.Contains(f.admins, caller) {
					return true
				}
			}
		}
	}
	return false
}

// snapshot dumps every key of the boxes read model.
func snapshot(t testing.TB, db *redisdb.DB) map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]string{}
	iter := db.Scan(ctx, 0, db.Prefix+projections.Namespace(boxes.Name)+"*", 1000).Iterator()
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

// all reads every page of a list.
func (w *world) all(c principal.Caller, q boxes.Query) []string {
	w.t.Helper()
	var ids []string
	seen := map[string]bool{}
	for pages := 0; ; pages++ {
		if pages > 1000 {
			w.t.Fatal("too many pages")
		}
		p, err := w.reader.List(w.ctx, c, q)
		if err != nil {
			w.t.Fatalf("list %+v: %v", q, err)
		}
		for _, it := range p.Items {
			if seen[it.ID] {
				w.t.Fatalf("list %+v: %s twice", q, it.ID)
			}
			seen[it.ID] = true
			ids = append(ids, it.ID)
		}
		if p.Next == "" {
			return ids
		}
		q.After = p.Next
	}
}

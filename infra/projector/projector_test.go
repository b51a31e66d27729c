package projector

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"signet/domain/event"
	"signet/infra/redisdb/redistest"
	"signet/projections"
)

func newRunner(t testing.TB, store EventLog, projs ...projections.Projection) *Runner {
	t.Helper()
	r, err := New(redistest.New(t), store, projs, nil, WithRetry(2, time.Millisecond), WithRedeliverDelay(20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func newRunnerOn(t testing.TB, r0 *Runner, store EventLog, projs ...projections.Projection) *Runner {
	t.Helper()
	r, err := New(r0.db, store, projs, nil, WithRetry(2, time.Millisecond), WithRedeliverDelay(20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// batchOf maps envelopes through p into a batch, like catch-up does.
func batchOf(t testing.TB, r *Runner, p *proj, evs []event.Envelope) *batch {
	t.Helper()
	b := &batch{}
	for i := range evs {
		ops, err := r.handle(context.Background(), p, &evs[i])
		if err != nil {
			t.Fatalf("handle %s: %v", evs[i].Type, err)
		}
		if len(ops) > 0 {
			e := &evs[i]
			b.items = append(b.items, item{id: e.ID, typ: e.Type, stream: e.Stream, version: e.Version, position: e.Position, ops: ops})
		}
		b.last = evs[i].Position
	}
	return b
}

func TestApplyIsIdempotent(t *testing.T) {
	ctx := context.Background()
	store := newStore(t)
	appendEvent(t, store, "contract-a", "ContractSent", contractData{Owner: "u1", Title: "租赁合同"})
	appendEvent(t, store, "contract-b", "ContractSent", contractData{Owner: "u1", Title: "B"})
	appendEvent(t, store, "contract-a", "ContractRetitled", contractData{Title: "租赁合同（修订）"})
	appendEvent(t, store, "contract-a", "ContractSigned", contractData{})
	r := newRunner(t, store, newContracts("contracts"))
	p := r.byName["contracts"]
	evs, err := store.ReadAll(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}

	if n, err := apply(ctx, r.db, &p.keys, batchOf(t, r, p, evs)); err != nil || n != 4 {
		t.Fatalf("first apply: %d applied, %v", n, err)
	}
	want := snapshot(t, r.db, "contracts")
	if got := want["rm:contracts:contract:a"]; got != "hash owner=u1,status=signed,title=租赁合同（修订）,version=3" {
		t.Fatalf("contract a = %q", got)
	}
	if got := want["rm:contracts:stats"]; got != "hash sent=2,signed=1" {
		t.Fatalf("stats = %q", got)
	}

	// The same envelopes again: nothing applies, nothing changes.
	if n, err := apply(ctx, r.db, &p.keys, batchOf(t, r, p, evs)); err != nil || n != 0 {
		t.Fatalf("second apply: %d applied, %v", n, err)
	}
	if d := diff(want, snapshot(t, r.db, "contracts")); d != "" {
		t.Fatalf("second apply changed the read model:\n%s", d)
	}
	// An older version after a newer one: ignored (the title would go back).
	if n, err := apply(ctx, r.db, &p.keys, batchOf(t, r, p, evs[0:1])); err != nil || n != 0 {
		t.Fatalf("old version: %d applied, %v", n, err)
	}
	if d := diff(want, snapshot(t, r.db, "contracts")); d != "" {
		t.Fatalf("old version changed the read model:\n%s", d)
	}
	if cp, _ := r.Checkpoint(ctx, "contracts"); cp != evs[3].Position {
		t.Fatalf("checkpoint = %d, want %d (only forwards)", cp, evs[3].Position)
	}
	// Through the public path too: catching up from the reset checkpoint
	// re-reads everything and changes nothing.
	r.db.Del(ctx, p.keys.checkpoint)
	if err := r.CatchUp(ctx, "contracts", nil); err != nil {
		t.Fatal(err)
	}
	if d := diff(want, snapshot(t, r.db, "contracts")); d != "" {
		t.Fatalf("re-catch-up changed the read model:\n%s", d)
	}
}

func TestIgnoredEventsAdvanceCheckpoint(t *testing.T) {
	ctx := context.Background()
	store := newStore(t)
	var last uint64
	for i := range 5 {
		last = appendEvent(t, store, fmt.Sprintf("account-%d", i), "Noise", contractData{})
	}
	r := newRunner(t, store, newContracts("contracts"))
	if err := r.CatchUp(ctx, "contracts", nil); err != nil {
		t.Fatal(err)
	}
	if cp, _ := r.Checkpoint(ctx, "contracts"); cp != last {
		t.Fatalf("checkpoint = %d, want %d", cp, last)
	}
	if s := snapshot(t, r.db, "contracts"); len(s) != 0 {
		t.Fatalf("read model not empty: %v", s)
	}
	// Ignored events leave no guard behind either.
	if n := r.db.HLen(ctx, r.byName["contracts"].keys.guard).Val(); n != 0 {
		t.Fatalf("%d guards for ignored events", n)
	}
	st, err := r.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st[0] != (Status{Name: "contracts", Checkpoint: last, Head: last, CaughtUp: true}) {
		t.Fatalf("status = %+v", st[0])
	}
}

func TestExactBytes(t *testing.T) {
	ctx := context.Background()
	raw := []byte{0, 1, 0xff, 0xfe, '\r', '\n', '"', '\\', 0xe5, 0x90}
	text := "电子合同·签署 ✍️ \"quoted\" \\ back\x00slash"
	p := projections.Func("exact", func(_ context.Context, e event.Envelope) ([]projections.Op, error) {
		return []projections.Op{
			projections.HSet("doc:"+e.Stream+":中文键", "text", text, "raw", raw, "字段", "值", "f", 0.1, "big", uint64(1<<63), "neg", -42, "yes", true),
			projections.ZAdd("z", 1e21, "m1"),
			projections.ZAdd("z", -0.000001, "成员"),
			projections.Set("s", raw),
		}, nil
	})
	store := newStore(t)
	appendEvent(t, store, "contract-x", "Any", contractData{})
	r := newRunner(t, store, p)
	if err := r.CatchUp(ctx, "exact", nil); err != nil {
		t.Fatal(err)
	}
	key := projections.Key(r.db, "exact", "doc", "contract-x", "中文键")
	got := r.db.HGetAll(ctx, key).Val()
	want := map[string]string{"text": text, "raw": string(raw), "字段": "值", "f": "0.1", "big": "9223372036854775808", "neg": "-42", "yes": "1"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("hash = %q\nwant %q", got, want)
	}
	zs := r.db.ZRangeWithScores(ctx, projections.Key(r.db, "exact", "z"), 0, -1).Val()
	if len(zs) != 2 || zs[0].Member != "成员" || zs[0].Score != -0.000001 || zs[1].Score != 1e21 {
		t.Fatalf("zset = %v", zs)
	}
	if s := r.db.Get(ctx, projections.Key(r.db, "exact", "s")).Val(); s != string(raw) {
		t.Fatalf("string = %q", s)
	}
}

// TestBadBatchAppliesNothing checks the script's all-or-nothing promise:
// Redis does not roll back a script that fails halfway, so the script must
// refuse before its first write.
func TestBadBatchAppliesNothing(t *testing.T) {
	ctx := context.Background()
	store := newStore(t)
	appendEvent(t, store, "contract-a", "ContractSent", contractData{Owner: "u1", Title: "A"})
	appendEvent(t, store, "contract-b", "ContractSent", contractData{Owner: "u2", Title: "B"})
	appendEvent(t, store, "contract-c", "ContractSent", contractData{Owner: "u3", Title: "C"})
	r := newRunner(t, store, newContracts("contracts"))
	p := r.byName["contracts"]
	evs, _ := store.ReadAll(ctx, 0, 0)

	// contract:b is a string already: the HSET of the second event would
	// fail with WRONGTYPE after the first event's writes.
	bKey := projections.Key(r.db, "contracts", "contract", "b")
	r.db.Set(ctx, bKey, "not a hash", 0)
	before := snapshot(t, r.db, "contracts")

	b := batchOf(t, r, p, evs)
	applied, failed, reason, err := applyOnce(ctx, r.db, &p.keys, b)
	if err != nil || failed != 1 || applied != 0 || !strings.Contains(reason, "WRONGTYPE") {
		t.Fatalf("applyOnce = %d, %d, %q, %v; want refusal of envelope 1", applied, failed, reason, err)
	}
	if d := diff(before, snapshot(t, r.db, "contracts")); d != "" {
		t.Fatalf("refused batch wrote:\n%s", d)
	}
	if cp, _ := r.Checkpoint(ctx, "contracts"); cp != 0 {
		t.Fatalf("refused batch moved the checkpoint to %d", cp)
	}
	if n := r.db.HLen(ctx, p.keys.guard).Val(); n != 0 {
		t.Fatalf("refused batch wrote %d guards", n)
	}

	// Catch-up poisons that event and applies the others.
	if err := r.CatchUp(ctx, "contracts", nil); err != nil {
		t.Fatal(err)
	}
	s := snapshot(t, r.db, "contracts")
	if s["rm:contracts:contract:a"] == "" || s["rm:contracts:contract:c"] == "" || s["rm:contracts:contract:b"] != "string not a hash" {
		t.Fatalf("after catch-up: %v", s)
	}
	if s["rm:contracts:stats"] != "hash sent=2" {
		t.Fatalf("stats = %q", s["rm:contracts:stats"])
	}
	recs, err := r.Poisoned(ctx, "contracts", 0)
	if err != nil || len(recs) != 1 || recs[0].EventID != evs[1].ID || recs[0].Stream != "contract-b" || !strings.Contains(recs[0].Error, "WRONGTYPE") {
		t.Fatalf("poisoned = %+v, %v", recs, err)
	}
	if cp, _ := r.Checkpoint(ctx, "contracts"); cp != evs[2].Position {
		t.Fatalf("checkpoint = %d", cp)
	}
}

func TestScriptChecks(t *testing.T) {
	ctx := context.Background()
	db := redistest.New(t)
	ks := keysFor(db.Prefix, "chk")
	k := func(s string) string { return ks.ns + s }
	db.Set(ctx, k("str"), "x", 0)
	db.Set(ctx, k("num"), "9200000000000000000", 0)
	db.HSet(ctx, k("h"), "word", "abc", "lead0", "007", "n", "5")
	db.SAdd(ctx, k("set"), "m")

	cases := []struct {
		name string
		ops  []projections.Op
		ok   bool
	}{
		{"hset on string", []projections.Op{projections.HSet("str", "f", "v")}, false},
		{"del then hset on string", []projections.Op{projections.Del("str"), projections.HSet("str", "f", "v")}, true},
		{"set then hset", []projections.Op{projections.Set("new", "v"), projections.HSet("new", "f", "v")}, false},
		{"sadd to hash", []projections.Op{projections.SAdd("h", "m")}, false},
		{"zadd to set", []projections.Op{projections.ZAdd("set", 1, "m")}, false},
		{"zrem on set", []projections.Op{projections.ZRem("set", "m")}, false},
		{"srem on set", []projections.Op{projections.SRem("set", "m")}, true},
		{"hincrby on word", []projections.Op{projections.HIncrBy("h", "word", 1)}, false},
		{"hincrby on leading zero", []projections.Op{projections.HIncrBy("h", "lead0", 1)}, false},
		{"hincrby on integer", []projections.Op{projections.HIncrBy("h", "n", -7)}, true},
		{"hincrby on missing field", []projections.Op{projections.HIncrBy("h", "missing", 1)}, true},
		{"hset word then hincrby", []projections.Op{projections.HSet("fresh", "f", "x"), projections.HIncrBy("fresh", "f", 1)}, false},
		{"hset int then hincrby", []projections.Op{projections.HSet("fresh", "f", 41), projections.HIncrBy("fresh", "f", 1)}, true},
		{"hdel word then hincrby", []projections.Op{projections.HDel("h", "word"), projections.HIncrBy("h", "word", 1)}, true},
		{"incrby overflow", []projections.Op{projections.IncrBy("num", 100000000000000000)}, false},
		{"incrby on string", []projections.Op{projections.IncrBy("str", 1)}, false},
		{"set then incrby", []projections.Op{projections.Set("str2", 3), projections.IncrBy("str2", 1)}, true},
		{"hincrby overflow across ops", []projections.Op{projections.HIncrBy("big", "f", 5000000000000000000), projections.HIncrBy("big", "f", 5000000000000000000)}, false},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := snapshot(t, db, "chk")
			b := &batch{last: uint64(i + 1), items: []item{
				{stream: "ok-" + c.name, version: 1, position: 1, ops: []projections.Op{projections.HSet("marker", c.name, "1")}},
				{stream: c.name, version: 1, position: 2, ops: c.ops},
			}}
			if err := checkOps(c.ops); err != nil {
				t.Fatal(err)
			}
			_, failed, reason, err := applyOnce(ctx, db, &ks, b)
			if err != nil {
				t.Fatal(err)
			}
			if c.ok && failed >= 0 {
				t.Fatalf("refused: %s", reason)
			}
			if !c.ok {
				if failed != 1 {
					t.Fatalf("accepted (failed=%d)", failed)
				}
				if d := diff(before, snapshot(t, db, "chk")); d != "" {
					t.Fatalf("refused batch wrote:\n%s", d)
				}
			}
		})
	}
}

func TestCheckOpsRefusesBadOps(t *testing.T) {
	bad := []projections.Op{
		{Cmd: "FLUSHALL"},
		{Cmd: "EVAL", Key: "k"},
		{Cmd: "ZUNIONSTORE", Key: "k", Args: []any{"1", "other"}},
		projections.HSet("", "f", "v"),
		projections.HSet("k", "f"),
		projections.HSet("k", "f", struct{}{}),
		projections.HSet("k", "f", time.Now()),
		projections.ZAdd("k", nan(), "m"),
		{Cmd: "ZADD", Key: "k", Args: []any{"0x1p3", "m"}},
		{Cmd: "ZADD", Key: "k", Args: []any{"NX", "1", "m"}},
		{Cmd: "HINCRBY", Key: "k", Args: []any{"f", 1.5}},
		{Cmd: "HINCRBY", Key: "k", Args: []any{"f", "007"}},
		{Cmd: "INCRBY", Key: "k", Args: []any{uint64(1 << 63)}},
		{Cmd: "SET", Key: "k", Args: []any{"v", "EX", "10"}},
		{Cmd: "DEL", Key: "k", Args: []any{"other"}},
		projections.SAdd("k"),
		{Cmd: "HSET", Key: "k", Args: make([]any, maxOpArgs+2)},
	}
	for _, op := range bad {
		if err := checkOps([]projections.Op{op}); err == nil {
			t.Errorf("%s %q %v accepted", op.Cmd, op.Key, op.Args)
		}
	}
	good := []projections.Op{
		{Cmd: "hset", Key: "k", Args: []any{"f", "v"}},
		{Cmd: "ZADD", Key: "k", Args: []any{"1.5", "m", 2, "n", "-inf", "o"}},
		projections.HIncrBy("k", "f", -3),
		{Cmd: "INCRBY", Key: "k", Args: []any{"-12"}},
		projections.Set("k", []byte{0}),
		projections.Del("k"),
	}
	for _, op := range good {
		if err := checkOps([]projections.Op{op}); err != nil {
			t.Errorf("%s %q %v refused: %v", op.Cmd, op.Key, op.Args, err)
		}
	}
}

func TestCatchUpPoisonsAndContinues(t *testing.T) {
	ctx := context.Background()
	store := newStore(t)
	appendEvent(t, store, "contract-a", "ContractSent", contractData{Owner: "u1", Title: "A"})
	appendEvent(t, store, "contract-b", "Bad", contractData{})
	appendEvent(t, store, "contract-c", "Boom", contractData{})
	appendEvent(t, store, "contract-d", "Evil", contractData{})
	last := appendEvent(t, store, "contract-e", "ContractSent", contractData{Owner: "u1", Title: "E"})
	r := newRunner(t, store, newContracts("contracts"))
	if err := r.CatchUp(ctx, "contracts", nil); err != nil {
		t.Fatal(err)
	}
	s := snapshot(t, r.db, "contracts")
	if s["rm:contracts:owner:u1:contracts"] != "zset a:1,e:5," {
		t.Fatalf("owner set = %q", s["rm:contracts:owner:u1:contracts"])
	}
	st, _ := r.Status(ctx)
	if st[0].Poisoned != 3 || st[0].Checkpoint != last {
		t.Fatalf("status = %+v", st[0])
	}
	recs, _ := r.Poisoned(ctx, "contracts", 2)
	if len(recs) != 2 || recs[0].Type != "Boom" || !strings.Contains(recs[0].Error, "panicked: boom") || !strings.Contains(recs[1].Error, "not allowed") {
		t.Fatalf("poison records = %+v", recs)
	}
}

// TestRebuildMatchesIncremental drives a random history through small
// incremental catch-ups interleaved with appends, then rebuilds from zero:
// both read models must be identical.
func TestRebuildMatchesIncremental(t *testing.T) {
	ctx := context.Background()
	store := newStore(t)
	db := redistest.New(t)
	r, err := New(db, store, []projections.Projection{newContracts("contracts")}, nil, WithBatchSize(7))
	if err != nil {
		t.Fatal(err)
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	type st struct{ owner, state string }
	streams := map[string]*st{}
	for i := range 400 {
		id := fmt.Sprintf("c%d", rnd.IntN(60))
		s := streams[id]
		switch {
		case s == nil || s.state == "deleted":
			s = &st{owner: fmt.Sprintf("u%d", rnd.IntN(5)), state: "sent"}
			streams[id] = s
			appendEvent(t, store, "contract-"+id, "ContractSent", contractData{Owner: s.owner, Title: fmt.Sprintf("合同 %d", i)})
		case rnd.IntN(4) == 0:
			appendEvent(t, store, "contract-"+id, "ContractRetitled", contractData{Title: fmt.Sprintf("标题 %d", i)})
		case rnd.IntN(5) == 0:
			s.state = "deleted"
			appendEvent(t, store, "contract-"+id, "ContractDeleted", contractData{Owner: s.owner})
		case rnd.IntN(3) == 0:
			appendEvent(t, store, "contract-"+id, "ContractSigned", contractData{})
		default:
			appendEvent(t, store, "account-"+id, "Noise", contractData{})
		}
		if rnd.IntN(25) == 0 {
			if err := r.CatchUp(ctx, "contracts", nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := r.CatchUp(ctx, "contracts", nil); err != nil {
		t.Fatal(err)
	}
	incremental := snapshot(t, db, "contracts")
	if len(incremental) < 20 {
		t.Fatalf("suspiciously small read model: %d keys", len(incremental))
	}
	var calls, lastDone, lastTotal uint64
	monotonic := true
	progress := func(done, total uint64) {
		calls++
		monotonic = monotonic && done >= lastDone && done <= total
		lastDone, lastTotal = done, total
	}
	if err := r.Rebuild(ctx, "contracts", progress); err != nil {
		t.Fatal(err)
	}
	if d := diff(incremental, snapshot(t, db, "contracts")); d != "" {
		t.Fatalf("rebuild differs from incremental:\n%s", d)
	}
	head, _ := store.Head(ctx)
	if calls < 10 || !monotonic || lastDone != head || lastTotal != head {
		t.Fatalf("progress: %d calls (monotonic %v), last %d/%d, head %d", calls, monotonic, lastDone, lastTotal, head)
	}
}

func TestLiveDeliveryAndRestart(t *testing.T) {
	ctx := waitCtx(t, 30*time.Second)
	store := newStore(t)
	appendEvent(t, store, "contract-a", "ContractSent", contractData{Owner: "u1", Title: "before start"})
	c := newContracts("contracts")
	r := newRunner(t, store, c, newContracts("other"))
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r.Start(ctx); err != ErrStarted {
		t.Fatalf("second Start: %v", err)
	}
	if cp, _ := r.Checkpoint(ctx, "contracts"); cp != 1 {
		t.Fatalf("Start did not catch up: checkpoint %d", cp)
	}
	appendEvent(t, store, "contract-b", "ContractSent", contractData{Owner: "u1", Title: "live"})
	appendEvent(t, store, "contract-b", "ContractSigned", contractData{})
	pos := appendEvent(t, store, "account-x", "Noise", contractData{})
	if ok, err := r.WaitFor(ctx, pos); !ok || err != nil {
		t.Fatalf("WaitFor(%d) = %v, %v", pos, ok, err)
	}
	s := snapshot(t, r.db, "contracts")
	if s["rm:contracts:contract:b"] != "hash owner=u1,status=signed,title=live,version=2" {
		t.Fatalf("live event not applied: %v", s)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-r.Done():
	default:
		t.Fatal("Done not closed after Close")
	}
	calls := c.calls.Load()
	if calls != 4 {
		t.Fatalf("%d Handle calls for 4 events", calls)
	}

	// Restart: nothing is handled again; new events flow.
	c2 := newContracts("contracts")
	r2 := newRunnerOn(t, r, store, c2)
	ctx2, cancel := context.WithCancel(ctx)
	if err := r2.Start(ctx2); err != nil {
		t.Fatal(err)
	}
	pos = appendEvent(t, store, "contract-c", "ContractSent", contractData{Owner: "u2", Title: "after restart"})
	if ok, err := r2.WaitFor(ctx, pos, "contracts"); !ok || err != nil {
		t.Fatalf("WaitFor after restart = %v, %v", ok, err)
	}
	if n := c2.calls.Load(); n != 1 {
		t.Fatalf("restart handled %d events, want only the new one", n)
	}
	cancel() // stopping by context works too
	select {
	case <-r2.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("runner did not stop on ctx cancel")
	}
	if err := r2.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestLivePoisonRetryRecover(t *testing.T) {
	ctx := waitCtx(t, 30*time.Second)
	store := newStore(t)
	c := newContracts("contracts")
	r := newRunner(t, store, c)
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	appendEvent(t, store, "contract-a", "ContractSent", contractData{Owner: "u1", Title: "A"})
	appendEvent(t, store, "contract-b", "Bad", contractData{})
	appendEvent(t, store, "contract-c", "Boom", contractData{})
	appendEvent(t, store, "contract-d", "Evil", contractData{})
	pos := appendEvent(t, store, "contract-e", "ContractSent", contractData{Owner: "u1", Title: "E"})
	if ok, err := r.WaitFor(ctx, pos); !ok || err != nil {
		t.Fatalf("WaitFor = %v, %v", ok, err)
	}
	if n := c.bad.Load(); n != 3 {
		t.Fatalf("Bad event handled %d times, want 1 + 2 retries", n)
	}
	s := snapshot(t, r.db, "contracts")
	if s["rm:contracts:owner:u1:contracts"] != "zset a:1,e:5," {
		t.Fatalf("later events not applied: %v", s)
	}
	st, _ := r.Status(ctx)
	if st[0].Poisoned != 3 || !st[0].CaughtUp || st[0].Lag != 0 {
		t.Fatalf("status = %+v", st[0])
	}
	recs, _ := r.Poisoned(ctx, "contracts", 0)
	if len(recs) != 3 || recs[0].Type != "Bad" || recs[0].Position != 2 || recs[0].Stream != "contract-b" ||
		!strings.Contains(recs[0].Error, "cannot project a Bad event") ||
		!strings.Contains(recs[1].Error, "panic occurred") || !strings.Contains(recs[2].Error, "not allowed") {
		t.Fatalf("poison records = %+v", recs)
	}
	// A poisoned last event still moves the checkpoint (WaitFor needs it).
	pos = appendEvent(t, store, "contract-f", "Bad", contractData{})
	if ok, err := r.WaitFor(ctx, pos); !ok || err != nil {
		t.Fatalf("WaitFor poisoned last event = %v, %v", ok, err)
	}
}

func TestWaitFor(t *testing.T) {
	store := newStore(t)
	r := newRunner(t, store, newContracts("a"), newContracts("b"))
	ctx := context.Background()
	pos := appendEvent(t, store, "contract-a", "ContractSent", contractData{Owner: "u", Title: "t"})
	if ok, err := r.WaitFor(ctx, 0); !ok || err != nil {
		t.Fatalf("WaitFor(0) = %v, %v", ok, err)
	}
	short, cancel := context.WithTimeout(ctx, 30*time.Millisecond)
	defer cancel()
	if ok, err := r.WaitFor(short, pos); ok || err != nil {
		t.Fatalf("WaitFor before catch-up = %v, %v", ok, err)
	}
	if _, err := r.WaitFor(ctx, pos, "nope"); err == nil {
		t.Fatal("WaitFor of an unknown projection succeeded")
	}
	done := make(chan bool)
	go func() {
		ok, _ := r.WaitFor(waitCtx(t, 10*time.Second), pos, "a")
		done <- ok
	}()
	time.Sleep(20 * time.Millisecond)
	if err := r.CatchUp(ctx, "a", nil); err != nil {
		t.Fatal(err)
	}
	if !<-done {
		t.Fatal("WaitFor(a) did not see the catch-up")
	}
	short2, cancel2 := context.WithTimeout(ctx, 30*time.Millisecond)
	defer cancel2()
	if ok, _ := r.WaitFor(short2, pos); ok {
		t.Fatal("WaitFor(all) reached although b did not catch up")
	}
}

func TestSubscriberRedeliversOnNack(t *testing.T) {
	ctx := waitCtx(t, 10*time.Second)
	store := newStore(t)
	appendEvent(t, store, "contract-a", "ContractSent", contractData{Owner: "u", Title: "合同"})
	appendEvent(t, store, "contract-b", "ContractSent", contractData{Owner: "u", Title: "B"})
	appendEvent(t, store, "contract-c", "ContractSent", contractData{Owner: "u", Title: "C"})
	sub := NewSubscriber(store, func(_ context.Context, consumer string) (uint64, error) {
		if consumer != "c1" {
			t.Errorf("checkpoint asked for %q", consumer)
		}
		return 1, nil
	}, 5*time.Millisecond, nil)
	msgs, err := sub.Subscribe(ctx, "c1")
	if err != nil {
		t.Fatal(err)
	}
	evs, _ := store.ReadAll(ctx, 0, 0)
	recv := func() *message.Message {
		select {
		case m := <-msgs:
			return m
		case <-ctx.Done():
			t.Fatal("no message")
			return nil
		}
	}
	m := recv()
	if m.UUID != evs[1].ID || m.Metadata.Get(MetaPosition) != "2" || m.Metadata.Get(MetaStream) != "contract-b" ||
		m.Metadata.Get(MetaVersion) != "1" || m.Metadata.Get(MetaType) != "ContractSent" {
		t.Fatalf("first message %s %v", m.UUID, m.Metadata)
	}
	// Nothing else arrives before an Ack or Nack.
	select {
	case m2 := <-msgs:
		t.Fatalf("got %s before acknowledging", m2.UUID)
	case <-time.After(30 * time.Millisecond):
	}
	m.Nack()
	m = recv()
	if m.UUID != evs[1].ID {
		t.Fatalf("after Nack got %s, want %s again", m.UUID, evs[1].ID)
	}
	e, err := DecodeEnvelope(m)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(e) != fmt.Sprint(evs[1]) || !e.Meta.OccurredAt.Equal(evs[1].Meta.OccurredAt) || event.ChainHash(e.PrevHash, e) != event.ChainHash(evs[1].PrevHash, evs[1]) || e.Hash != evs[1].Hash {
		t.Fatalf("decoded envelope differs:\n%+v\n%+v", e, evs[1])
	}
	m.Ack()
	if m = recv(); m.UUID != evs[2].ID {
		t.Fatalf("after Ack got %s", m.UUID)
	}
	if err := sub.Close(); err != nil {
		t.Fatal(err)
	}
	for range msgs { // closed by Close
	}
	if _, err := sub.Subscribe(ctx, "c1"); err != ErrSubscriberClosed {
		t.Fatalf("Subscribe after Close: %v", err)
	}
}

func TestNewRefusesBadNames(t *testing.T) {
	store := newStore(t)
	db := redistest.New(t)
	for _, name := range []string{"", "a:b", "a*", "a b", "a[1]"} {
		if _, err := New(db, store, []projections.Projection{newContracts(name)}, nil); err == nil {
			t.Errorf("name %q accepted", name)
		}
	}
	if _, err := New(db, store, []projections.Projection{newContracts("x"), newContracts("x")}, nil); err == nil {
		t.Error("duplicate names accepted")
	}
}

func TestEnvelopeRoundTripIsExact(t *testing.T) {
	e := event.Envelope{
		ID: "id-\xff", Stream: "contract-\xfe中", Version: 7, Position: 1 << 60, Type: "T", Schema: 2,
		Data:     []byte(`{"a":"\u0000 合同"}`),
		Meta:     event.Metadata{Actor: "a\xc3", ClientIP: "::1", OccurredAt: time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)},
		PrevHash: "p", Hash: "h",
	}
	payload, err := EncodeEnvelope(e)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeEnvelope(message.NewMessage("x", payload))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, e) || event.ChainHash("p", got) != event.ChainHash("p", e) {
		t.Fatalf("round trip:\n%#v\n%#v", got, e)
	}
}

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"signet/domain/contract"
	"signet/domain/event"
	"signet/infra/clock"
	"signet/infra/redisdb"
	"signet/infra/search"
)

// A full rebuild (`signet projections rebuild`, every Redis read model and
// the search index) of a history holding contracts in every status a
// contract reaches without a failing sealer (signing, partly signed,
// completed, rejected, revoked, expired, pending_approval, approved then
// sent, approval_rejected), a batch, folders, archive, bin, deletion for
// one account, tags, ends with exactly the read models the live
// projections built: every key the projector owns in Redis (rm:* read
// models, proj:* guards and checkpoints) with its type, members, scores and
// values, every contract's search document and the whole audit trail.
func TestRebuildEqualsIncremental(t *testing.T) {
	clk := clock.NewFake(time.Now().UTC())
	cfg := testConfig(t)
	cfg.CodesPerHour = 1000
	shareRedis(t, &cfg)
	e := start(t, cfg, roles{true, true, true}, clk)
	users := rebuildHistory(t, e, clk)

	e.waitCaughtUp()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.app.search.runner.WaitFor(ctx, e.head()); err != nil {
		t.Fatalf("search did not catch up: %v", err)
	}
	st, err := e.app.runner.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range st {
		if s.Poisoned != 0 {
			t.Fatalf("projection %s poisoned %d events", s.Name, s.Poisoned)
		}
	}
	live := dumpReadModels(t, e.app.redis)
	liveSearch := dumpSearch(t, e, users)
	if len(live) < 100 || len(liveSearch) < 100 {
		t.Fatalf("only %d keys and %d search entries to compare", len(live), len(liveSearch))
	}
	e.shutdown()

	var out, errb strings.Builder
	args := []string{"rebuild", "--data", cfg.Data, "--redis-url", cfg.RedisURL, "--redis-prefix", cfg.RedisPrefix, "--log-level", "error"}
	if err := runProjections(context.Background(), args, &out, &errb); err != nil {
		t.Fatalf("rebuild: %v\n%s", err, errb.String())
	}
	rates := rebuildRates(t, out.String())
	names := []string{searchName}
	for _, s := range st {
		names = append(names, s.Name)
	}
	for _, n := range names {
		if _, ok := rates[n]; !ok {
			t.Fatalf("the rebuild did not report %s: %q", n, out.String())
		}
	}
	t.Logf("rebuild: %v", rates)

	db, err := redisdb.Open(context.Background(), cfg.RedisURL, cfg.RedisPrefix)
	if err != nil {
		t.Fatal(err)
	}
	rebuilt := dumpReadModels(t, db)
	db.Close()
	sameDump(t, "redis", live, rebuilt)

	e2 := start(t, cfg, roles{true, true, true}, clk)
	for _, u := range users {
		u.client = e2.c
		u.env = e2
	}
	sameDump(t, "search", liveSearch, dumpSearch(t, e2, users))
}

// rebuildHistory writes the history the rebuild test compares, through
// the API as users would, and returns its users.
func rebuildHistory(t *testing.T, e *testEnv, clk *clock.Fake) []*vclient {
	bossA, entA := loadEnterprise(t, e, "13700009001", 9001, "杭州甲方科技有限公司")
	bossB, entB := loadEnterprise(t, e, "13700009002", 9002, "上海乙方贸易有限公司")
	e.grant(entA, 50)
	e.grant(entB, 50)
	tplA, tplB := bossA.template(entA, false), bossB.template(entB, false)
	sealB := bossB.defaultSeal(entB)
	person := verifiedPerson(t, e, "13500009001", "林某某")
	const other = "13500009002" // addressed, never registered

	deadline := clk.Now().Add(72 * time.Hour)
	send := func(boss *vclient, tpl tplIDs, ent, title, personPhone, toName, toContact string, due time.Time) string {
		body := sendBody(tpl, ent, personPhone, "林某某", toContact, due)
		body["title"] = title
		body["parties"].(map[string]any)[tpl.ent].(map[string]string)["enterprise_name"] = toName
		body["expires_at"] = due.AddDate(1, 0, 0).Format(time.RFC3339)
		id, _ := boss.send(body)
		return id
	}
	const nameA, nameB = "杭州甲方科技有限公司", "上海乙方贸易有限公司"
	completed := send(bossA, tplA, entA, "办公楼租赁合同", person.login, nameB, bossB.login, deadline)
	person.signAs(completed, tplA.person, nil, http.StatusOK)
	bossB.signAs(completed, tplA.ent, map[string]string{"enterprise_id": entB, "seal_id": sealB}, http.StatusOK)
	rejected := send(bossA, tplA, entA, "设备采购合同", person.login, nameB, bossB.login, deadline)
	person.call(http.MethodPost, "/api/v1/contracts/"+rejected+"/parties/"+tplA.person+"/rejection", map[string]string{"reason": "金额有误"}, http.StatusOK)
	revoked := send(bossA, tplA, entA, "软件服务协议", other, nameB, bossB.login, deadline)
	bossA.call(http.MethodPost, "/api/v1/contracts/"+revoked+"/revocation", map[string]string{"reason": "条款需修改"}, http.StatusOK)
	send(bossA, tplA, entA, "仓库租赁合同", other, nameA, bossA.login, clk.Now().Add(2*time.Hour)) // expires below
	signing := send(bossA, tplA, entA, "物流服务协议", person.login, nameB, bossB.login, deadline)
	person.signAs(signing, tplA.person, nil, http.StatusOK)
	waiting := send(bossA, tplA, entA, "广告代理协议", other, nameB, bossB.login, deadline)
	received := send(bossB, tplB, entB, "原材料销售合同", person.login, nameA, bossA.login, deadline)

	// A member's contracts wait for the master admin's approval.
	var inv struct{ Token string }
	bossA.call(http.MethodPost, "/api/v1/enterprises/"+entA+"/invitations", map[string]string{"role": "member"}, http.StatusCreated).json(t, &inv)
	clerk := newUser(t, e, "13800139001")
	clerk.call(http.MethodPost, "/api/v1/invitations/"+inv.Token+"/accept", nil, http.StatusOK)
	bossA.call(http.MethodPut, "/api/v1/enterprises/"+entA+"/approval-policy", map[string]any{"required": true, "approvers": []string{loadAccountID(t, bossA)}}, http.StatusOK)
	send(clerk, tplA, entA, "保密协议", other, nameB, bossB.login, deadline) // stays pending
	approved := send(clerk, tplA, entA, "技术开发合同", person.login, nameB, bossB.login, deadline)
	bossA.call(http.MethodPost, "/api/v1/contracts/"+approved+"/approval", nil, http.StatusOK)
	refused := send(clerk, tplA, entA, "借款合同", other, nameB, bossB.login, deadline)
	bossA.call(http.MethodPost, "/api/v1/contracts/"+refused+"/approval-rejection", map[string]string{"reason": "金额超预算"}, http.StatusOK)
	bossA.call(http.MethodPut, "/api/v1/enterprises/"+entA+"/approval-policy", map[string]any{"required": false}, http.StatusOK)

	// A batch of three.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	runner := e.app.batchRunner()
	runner.Interval = 50 * time.Millisecond
	go func() {
		defer close(done)
		runner.Run(ctx)
	}()
	var sheet strings.Builder
	sheet.WriteString("合同标题,乙方姓名,乙方手机号/邮箱,甲方企业名称,甲方经办人姓名,甲方手机号/邮箱,月租金,签署截止日期\n")
	for i := range 3 {
		fmt.Fprintf(&sheet, "批量租赁合同 %d,林某某,1350000910%d,%s,经办人,%s,%d,%s\n", i, i, nameB, bossB.login, 3000+i, deadline.Format(time.DateOnly))
	}
	var up batchReply
	bossA.uploadSheet(tplA.id, entA, "批量.csv", []byte(sheet.String()), http.StatusCreated).json(t, &up)
	bossA.call(http.MethodPost, "/api/v1/batches/"+up.ID+"/start", map[string]string{"rows": "valid"}, http.StatusOK)
	bossA.waitBatch(up.ID, "completed")
	cancel()
	<-done

	// Desks and tags.
	var folder, tag, gone struct{ ID string }
	person.call(http.MethodPost, "/api/v1/me/folders", map[string]string{"name": "租房"}, http.StatusCreated).json(t, &folder)
	person.call(http.MethodPut, "/api/v1/me/folders/"+folder.ID+"/contracts/"+completed, nil, http.StatusNoContent)
	person.call(http.MethodPatch, "/api/v1/me/folders/"+folder.ID, map[string]string{"name": "租房合同"}, http.StatusNoContent)
	person.call(http.MethodPut, "/api/v1/me/archive/"+signing, nil, http.StatusNoContent)
	person.call(http.MethodPut, "/api/v1/me/trash/"+rejected, nil, http.StatusNoContent)
	person.call(http.MethodDelete, "/api/v1/me/trash/"+rejected+"/forever", nil, http.StatusNoContent)
	person.call(http.MethodPut, "/api/v1/me/trash/"+received, nil, http.StatusNoContent)
	person.call(http.MethodDelete, "/api/v1/me/trash/"+received, nil, http.StatusNoContent)
	bossA.call(http.MethodPost, "/api/v1/enterprises/"+entA+"/tags", map[string]string{"name": "重要", "color": "#ff0000"}, http.StatusCreated).json(t, &tag)
	bossA.call(http.MethodPut, "/api/v1/enterprises/"+entA+"/tags/"+tag.ID+"/contracts/"+completed, nil, http.StatusNoContent)
	bossA.call(http.MethodPut, "/api/v1/enterprises/"+entA+"/tags/"+tag.ID+"/contracts/"+waiting, nil, http.StatusNoContent)
	bossA.call(http.MethodDelete, "/api/v1/enterprises/"+entA+"/tags/"+tag.ID+"/contracts/"+waiting, nil, http.StatusNoContent)
	bossA.call(http.MethodPost, "/api/v1/enterprises/"+entA+"/tags", map[string]string{"name": "临时"}, http.StatusCreated).json(t, &gone)
	bossA.call(http.MethodPut, "/api/v1/enterprises/"+entA+"/tags/"+gone.ID+"/contracts/"+received, nil, http.StatusNoContent)
	bossA.call(http.MethodDelete, "/api/v1/enterprises/"+entA+"/tags/"+gone.ID, nil, http.StatusNoContent)
	var drop struct{ ID string }
	bossB.call(http.MethodPost, "/api/v1/me/folders", map[string]string{"name": "待处理"}, http.StatusCreated).json(t, &drop)
	bossB.call(http.MethodPut, "/api/v1/me/folders/"+drop.ID+"/contracts/"+waiting+"?enterprise_id="+entB, nil, http.StatusNoContent)
	bossB.call(http.MethodDelete, "/api/v1/me/folders/"+drop.ID, nil, http.StatusNoContent)

	// The short deadline passes.
	clk.Advance(3 * time.Hour)
	if n, err := e.app.deadlines().Tick(context.Background()); err != nil || n != 1 {
		t.Fatalf("deadlines: %d expired, %v", n, err)
	}

	// Every status is there.
	want := []string{"signing", "completed", "rejected", "revoked", "expired", "pending_approval", "approval_rejected"}
	seen := map[string]bool{}
	for _, id := range contractIDs(t, e) {
		envs, err := e.app.store.ReadStream(context.Background(), contract.StreamOf(id), 1, event.Forwards, 0)
		if err != nil {
			t.Fatal(err)
		}
		k, err := contract.Replay(envs)
		if err != nil {
			t.Fatal(err)
		}
		seen[string(k.Status())] = true
	}
	for _, s := range want {
		if !seen[s] {
			t.Fatalf("no contract is %s: %v", s, seen)
		}
	}
	return []*vclient{bossA, bossB, clerk, person}
}

// contractIDs lists every contract in the log.
func contractIDs(t testing.TB, e *testEnv) []string {
	t.Helper()
	var ids []string
	seen := map[string]bool{}
	eachEvent(t, e, func(env event.Envelope) {
		if id, ok := strings.CutPrefix(env.Stream, contract.Category+"-"); ok && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	})
	return ids
}

// logSpan is when the log's first and last events occurred.
func logSpan(t testing.TB, e *testEnv) (first, last time.Time) {
	t.Helper()
	eachEvent(t, e, func(env event.Envelope) {
		at := env.Meta.OccurredAt
		if first.IsZero() || at.Before(first) {
			first = at
		}
		if at.After(last) {
			last = at
		}
	})
	return first, last
}

func eachEvent(t testing.TB, e *testEnv, f func(event.Envelope)) {
	t.Helper()
	var after uint64
	for {
		envs, err := e.app.store.ReadAll(context.Background(), after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(envs) == 0 {
			return
		}
		for _, env := range envs {
			f(env)
		}
		after = envs[len(envs)-1].Position
	}
}

// dumpReadModels renders every key the projector owns under db's prefix:
// the read models (rm:*) and the projector's guards, checkpoints and
// poison records (proj:*). The write side's short-lived keys (codes,
// limits) are no read model and are left out.
func dumpReadModels(t testing.TB, db *redisdb.DB) map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]string{}
	for _, family := range []string{"rm:", "proj:"} {
		var keys []string
		iter := db.Scan(ctx, 0, db.Prefix+family+"*", 1000).Iterator()
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		if err := iter.Err(); err != nil {
			t.Fatal(err)
		}
		for len(keys) > 0 {
			n := min(len(keys), 500)
			for k, v := range dumpKeys(t, db, keys[:n]) {
				out[strings.TrimPrefix(k, db.Prefix)] = v
			}
			keys = keys[n:]
		}
	}
	return out
}

// dumpKeys reads keys, whatever their types, in two pipelined round trips.
func dumpKeys(t testing.TB, db *redisdb.DB, keys []string) map[string]string {
	t.Helper()
	ctx := context.Background()
	pipe := db.Pipeline()
	types := make([]interface{ Val() string }, len(keys))
	for i, k := range keys {
		types[i] = pipe.Type(ctx, k)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	pipe = db.Pipeline()
	vals := make([]func() (string, error), len(keys))
	for i, k := range keys {
		switch typ := types[i].Val(); typ {
		case "string":
			c := pipe.Get(ctx, k)
			vals[i] = func() (string, error) { return "string " + c.Val(), c.Err() }
		case "hash":
			c := pipe.HGetAll(ctx, k)
			vals[i] = func() (string, error) {
				var lines []string
				for f, v := range c.Val() {
					lines = append(lines, f+" = "+v)
				}
				slices.Sort(lines)
				return "hash\n" + strings.Join(lines, "\n"), c.Err()
			}
		case "set":
			c := pipe.SMembers(ctx, k)
			vals[i] = func() (string, error) {
				m := slices.Clone(c.Val())
				slices.Sort(m)
				return "set\n" + strings.Join(m, "\n"), c.Err()
			}
		case "zset":
			c := pipe.ZRangeWithScores(ctx, k, 0, -1)
			vals[i] = func() (string, error) {
				var lines []string
				for _, z := range c.Val() {
					lines = append(lines, fmt.Sprintf("%v %s", z.Member, strconv.FormatFloat(z.Score, 'f', -1, 64)))
				}
				return "zset\n" + strings.Join(lines, "\n"), c.Err()
			}
		case "list":
			c := pipe.LRange(ctx, k, 0, -1)
			vals[i] = func() (string, error) { return "list\n" + strings.Join(c.Val(), "\n"), c.Err() }
		case "none":
			vals[i] = func() (string, error) { return "", nil } // gone between the scan and now
		default:
			t.Fatalf("key %s of type %s", k, typ)
		}
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	out := make(map[string]string, len(keys))
	for i, k := range keys {
		v, err := vals[i]()
		if err != nil {
			t.Fatalf("read %s: %v", k, err)
		}
		if v != "" {
			out[k] = v
		}
	}
	return out
}

// dumpSearch renders what the search index holds: every contract's
// document, the whole audit trail, and each user's contract searches
// through the read API.
func dumpSearch(t testing.TB, e *testEnv, users []*vclient) map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]string{}
	ids := contractIDs(t, e)
	for _, id := range ids {
		d, ok, err := e.app.search.index.GetContract(ctx, id)
		if err != nil || !ok {
			t.Fatalf("search document of %s: %v %v", id, ok, err)
		}
		out["contract "+id] = string(mustJSON(t, d))
	}
	// The audit trail a day at a time: deep pages of one query cost a
	// scan of every match each.
	first, last := logSpan(t, e)
	for day := first.Truncate(24 * time.Hour); !day.After(last); day = day.Add(24 * time.Hour) {
		to := day.Add(24 * time.Hour)
		q := search.AuditQuery{Principals: []string{search.PlatformPrincipal}, From: &day, To: &to, Sort: search.OldestFirst, Limit: search.MaxLimit}
		for {
			p, err := e.app.search.index.SearchAudit(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range p.Hits {
				out["audit "+r.ID] = string(mustJSON(t, r))
			}
			if p.Next == "" {
				break
			}
			q.After = p.Next
		}
	}
	all, err := e.app.search.index.SearchAudit(ctx, search.AuditQuery{Principals: []string{search.PlatformPrincipal}, Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(out) - len(ids); all.Total != n {
		t.Fatalf("the audit trail holds %d records, read a day at a time %d", all.Total, n)
	}
	for i, u := range users {
		for _, query := range []string{"limit=200", "q=" + url.QueryEscape("租赁") + "&limit=200", "status=signing&limit=200"} {
			r := u.call(http.MethodGet, "/api/v1/search/contracts?"+query, nil, http.StatusOK)
			out[fmt.Sprintf("user %d search %s", i, query)] = string(r.Body)
		}
	}
	return out
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sameDump fails on the first differences between two dumps.
func sameDump(t testing.TB, what string, want, got map[string]string) {
	t.Helper()
	var diffs []string
	for k, v := range want {
		switch g, ok := got[k]; {
		case !ok:
			diffs = append(diffs, fmt.Sprintf("%s missing after the rebuild (was %.300s)", k, v))
		case g != v:
			diffs = append(diffs, fmt.Sprintf("%s differs:\n  live:    %.500s\n  rebuilt: %.500s", k, v, g))
		}
	}
	for k, v := range got {
		if _, ok := want[k]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s only after the rebuild: %.300s", k, v))
		}
	}
	if len(diffs) > 0 {
		slices.Sort(diffs)
		t.Fatalf("%s: %d of %d entries differ after the rebuild:\n%s", what, len(diffs), len(want), strings.Join(diffs[:min(len(diffs), 10)], "\n"))
	}
}

var rebuiltRe = regexp.MustCompile(`(?m)^rebuilt (\S+)(?: \([^)]*\))?: .*\(([\d.]+) events/s`)

// rebuildRates reads the events/s that `projections rebuild` reports per projection.
func rebuildRates(t testing.TB, out string) map[string]float64 {
	t.Helper()
	rates := map[string]float64{}
	for _, m := range rebuiltRe.FindAllStringSubmatch(out, -1) {
		r, err := strconv.ParseFloat(m[2], 64)
		if err != nil {
			t.Fatal(err)
		}
		rates[m[1]] = r
	}
	return rates
}

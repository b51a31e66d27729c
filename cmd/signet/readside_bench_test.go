package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"signet/commands"
	"signet/domain/account"
	"signet/domain/contract"
	"signet/domain/fault"
	"signet/infra/clock"
	"signet/infra/redisdb"
	"signet/infra/search"
	"signet/projections"
	"signet/projections/boxes"
	"signet/projections/principal"
)

// BenchmarkReadSide loads contracts through the domain's commands into the
// whole app (SQLite event store, Redis projections, bleve search), then
// measures the read side as the "Done means" asks:
//
//	SIGNET_REDIS_URL=redis://127.0.0.1:6379/0 SIGNET_LOAD_CONTRACTS=100000 \
//	  go test ./cmd/signet -run '^$' -bench ReadSide -benchtime 1x -timeout 60m
//
// Setup over HTTP: 50 verified enterprises (each with a template, its
// default seal and enough quota) and 10 verified persons. Then the
// contracts, sent by calling the send command in-process from 8 workers
// over a year of a fake clock (a day at a time, one second apart): E0 sends
// 30%, the 49 others the rest; the enterprise party is another of the 50
// (half) or an outside firm; the person party one of the verified persons
// (30%) or one of 5,000 other phones. Outcomes: 4% revoked, 3% rejected by
// the person, 5% signed by the person, 2% completed (both sign, sealed),
// 2% expired at their deadline, the rest waiting for signatures.
//
// Measured, with E0's master admin as the caller (it sees ~30% of all
// contracts plus what was addressed to E0): p50/p99 of 2,000 sequential
// calls (SIGNET_LOAD_CALLS) through the HTTP handler of the running
// server, and directly on the readers, for the first page of box=all, a
// page 5,000 deep by cursor, the counters, the to_sign quick view and a
// combined search (title text + status + a three-month sent range); then
// wrk (-t2 -c8, SIGNET_LOAD_WRK seconds, default 10) on the box page, the
// search and /healthz. Baselines of the same run: GET /healthz (the HTTP
// stack alone) and one ZREVRANGE of 20 on E0's largest sorted set (a Redis
// round trip) sequentially, pipelined ZADDs per second, and one-row
// SQLite transactions per second (as BenchmarkBaselineSQLiteInsert).
// Last, the app stops and `signet projections rebuild` rebuilds every read
// model and the search index from the log, reporting events/s per
// projection; the result must equal what the live projections built (as
// in TestRebuildEqualsIncremental).
func BenchmarkReadSide(b *testing.B) {
	n := loadEnvInt(b, "SIGNET_LOAD_CONTRACTS", 2000)
	calls := loadEnvInt(b, "SIGNET_LOAD_CALLS", 2000)
	wrkSecs := loadEnvInt(b, "SIGNET_LOAD_WRK", 10)
	ctx := context.Background()

	end := time.Now().UTC().Truncate(time.Hour)
	t0 := end.AddDate(-1, 0, 0)
	clk := clock.NewFake(t0)
	cfg := testConfig(b)
	cfg.CodesPerHour = 1 << 30
	cfg.ReadWait = time.Minute
	if cfg.RedisURL == "" {
		// The rebuild at the end runs as its own command on the same Redis.
		shared, err := redisdb.Open(ctx, "", "")
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { shared.Close() }) // after the apps' cleanups
		cfg.RedisURL = "redis://" + shared.Options().Addr
	}
	e := start(b, cfg, roles{true, true, true}, clk)
	if e.app.search == nil || e.app.search.runner == nil {
		b.Fatal("no search index or search runner in the app")
	}

	began := time.Now()
	w := newLoadWorld(b, e, clk, 50, 10, n)
	b.Logf("setup: %d enterprises, %d persons in %v", len(w.ents), len(w.persons), time.Since(began).Round(time.Millisecond))

	head0 := e.head()
	began = time.Now()
	w.run(ctx, n, t0, end, 8)
	sent := time.Since(began)
	head := e.head()
	events := head - head0
	b.ReportMetric(float64(n)/sent.Seconds(), "contracts/s")
	b.ReportMetric(float64(events)/float64(n), "events/contract")
	b.ReportMetric(float64(w.conflicts.Load())/float64(n), "send_retries/contract")

	// The projections ran live during the load, sharing the two cores with
	// it: their backlog when sending ended, and how fast they cleared it.
	st, err := e.app.runner.Status(ctx)
	if err != nil {
		b.Fatal(err)
	}
	redisAt := head
	for _, s := range st {
		redisAt = min(redisAt, s.Checkpoint)
	}
	searchAt := e.app.search.runner.Position()
	wctx, cancel := context.WithTimeout(ctx, 30*time.Minute)
	defer cancel()
	tail := time.Now()
	var searchTail time.Duration
	searchErr := make(chan error, 1)
	go func() {
		err := e.app.search.runner.WaitFor(wctx, head)
		searchTail = time.Since(tail)
		searchErr <- err
	}()
	if ok, err := e.app.runner.WaitFor(wctx, head); err != nil || !ok {
		b.Fatalf("redis projections did not catch up: %v", err)
	}
	redisTail := time.Since(tail)
	if err := <-searchErr; err != nil {
		b.Fatalf("search did not catch up: %v", err)
	}
	b.ReportMetric(float64(events)/sent.Seconds(), "sent_events/s")
	b.ReportMetric(float64(head-redisAt), "redis_backlog_events")
	b.ReportMetric(redisTail.Seconds(), "redis_tail_s")
	b.ReportMetric(float64(head-redisAt)/redisTail.Seconds(), "redis_tail_events/s")
	b.ReportMetric(float64(head-searchAt), "search_backlog_events")
	b.ReportMetric(searchTail.Seconds(), "search_tail_s")
	b.ReportMetric(float64(head-searchAt)/searchTail.Seconds(), "search_tail_events/s")
	b.Logf("%d contracts, %d events sent in %v; then redis projections were %d events behind (caught up in %v), search %d (in %v)",
		n, events, sent.Round(time.Millisecond), head-redisAt, redisTail.Round(time.Millisecond), head-searchAt, searchTail.Round(time.Millisecond))
	if st, err = e.app.runner.Status(ctx); err != nil {
		b.Fatal(err)
	}
	for _, s := range st {
		if s.Poisoned > 0 {
			b.Fatalf("projection %s poisoned %d events", s.Name, s.Poisoned)
		}
	}
	if sk := e.app.search.runner.Skipped(); sk > 0 {
		b.Fatalf("the search runner skipped %d events", sk)
	}

	// Other processes on the machine show in the tails: say how busy it was.
	if avg, err := os.ReadFile("/proc/loadavg"); err == nil {
		b.Logf("load average before measuring: %s", strings.TrimSpace(string(avg)))
	}
	clk.Set(end)
	big := w.ents[0]
	token, lr := e.c.login(big.boss.login, goodPassword)
	if token == "" {
		b.Fatalf("login: %d %s", lr.Status, lr.Body)
	}
	r := &readBench{b: b, e: e, w: w, token: token, calls: calls,
		http: &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}}
	caller := w.caller(ctx, 0)

	// The counters are exact: E0's admin sees what E0 sent and what was
	// addressed to E0 by name.
	var cnt counts
	r.getJSON("/api/v1/contracts/counts", &cnt)
	if want := w.visible[0].Load(); int64(cnt.All) != want {
		b.Fatalf("E0's admin counts %d contracts, sent and received %d: %+v", cnt.All, want, cnt)
	}
	b.Logf("E0's admin: %+v", cnt)
	if cnt.ToSign == 0 {
		b.Fatalf("nothing to sign for E0's admin: %+v", cnt)
	}

	// A cursor 5,000 contracts deep (or half the list when shorter).
	deep := r.cursor("/api/v1/contracts?box=all&limit=100", min(50, cnt.All/200))
	from, to := t0.AddDate(0, 4, 0), t0.AddDate(0, 7, 0)
	searchPath := "/api/v1/search/contracts?q=" + url.QueryEscape("租赁") + "&status=signing&sent_from=" +
		url.QueryEscape(from.Format(time.RFC3339)) + "&sent_to=" + url.QueryEscape(to.Format(time.RFC3339))
	var hits struct {
		Items []struct {
			Title  string    `json:"title"`
			Status string    `json:"status"`
			SentAt time.Time `json:"sent_at"`
		} `json:"items"`
		Total int `json:"total"`
	}
	r.getJSON(searchPath, &hits)
	if len(hits.Items) == 0 {
		b.Fatalf("the combined search found nothing")
	}
	for _, h := range hits.Items {
		if !strings.Contains(h.Title, "租赁") || h.Status != "signing" || h.SentAt.Before(from) || !h.SentAt.Before(to) {
			b.Fatalf("the combined search answers %+v", h)
		}
	}
	b.Logf("combined search: %d hits in all", hits.Total)

	routes := []struct{ name, path string }{
		{"healthz", "/healthz"},
		{"box", "/api/v1/contracts?box=all"},
		{"box_deep", "/api/v1/contracts?box=all&after=" + url.QueryEscape(deep)},
		{"counts", "/api/v1/contracts/counts"},
		{"to_sign", "/api/v1/contracts?view=to_sign"},
		{"search", searchPath},
	}
	for _, rt := range routes {
		p50, p99 := r.measure(func() error { return r.get(rt.path) })
		b.ReportMetric(p50, "http_"+rt.name+"_p50_ms")
		b.ReportMetric(p99, "http_"+rt.name+"_p99_ms")
	}

	reader := boxes.Reader{DB: e.app.redis, Now: clk.Now}
	sq := search.ContractQuery{Principals: principal.OfCaller(caller), Text: "租赁", Status: []string{"signing"}, SentFrom: &from, SentTo: &to}
	direct := []struct {
		name string
		f    func() error
	}{
		{"box", func() error { _, err := reader.List(ctx, caller, boxes.Query{}); return err }},
		{"box_deep", func() error { _, err := reader.List(ctx, caller, boxes.Query{After: deep}); return err }},
		{"counts", func() error { _, err := reader.Counts(ctx, caller, 0, ""); return err }},
		{"to_sign", func() error { _, err := reader.List(ctx, caller, boxes.Query{View: boxes.ViewToSign}); return err }},
		{"search", func() error { _, err := e.app.search.index.SearchContracts(ctx, sq); return err }},
	}
	for _, d := range direct {
		p50, p99 := r.measure(d.f)
		b.ReportMetric(p50, "direct_"+d.name+"_p50_ms")
		b.ReportMetric(p99, "direct_"+d.name+"_p99_ms")
	}

	// Redis round trips on E0's box, and pipelined writes, as baselines.
	key := projections.Key(e.app.redis, boxes.Name, "box:"+principal.Enterprise(big.id)+":all")
	if c, err := e.app.redis.ZCard(ctx, key).Result(); err != nil || c == 0 {
		b.Fatalf("E0's box %s: %d members, %v", key, c, err)
	}
	p50, p99 := r.measure(func() error { return e.app.redis.ZRevRangeWithScores(ctx, key, 0, 19).Err() })
	b.ReportMetric(p50, "redis_zrevrange_p50_ms")
	b.ReportMetric(p99, "redis_zrevrange_p99_ms")
	b.ReportMetric(loadRedisZAdds(b, e), "redis_zadd/s")
	b.ReportMetric(sqliteInsertRate(b, 2000), "sqlite_inserts/s")

	for _, rt := range []struct{ name, path string }{{"healthz", "/healthz"}, {"box", "/api/v1/contracts?box=all"}, {"search", searchPath}} {
		res := runWrk(b, e.srv.URL+rt.path, token, wrkSecs)
		b.ReportMetric(res.p50, "wrk_"+rt.name+"_p50_ms")
		b.ReportMetric(res.p99, "wrk_"+rt.name+"_p99_ms")
		b.ReportMetric(res.rps, "wrk_"+rt.name+"_req/s")
	}
	if avg, err := os.ReadFile("/proc/loadavg"); err == nil {
		b.Logf("load average after measuring: %s", strings.TrimSpace(string(avg)))
	}
	benchRebuild(b, e, cfg, clk)
}

// benchRebuild stops the app, rebuilds every read model and the search
// index from the log with `signet projections rebuild`, reports each one's
// events/s, and compares the result with what the live projections built.
func benchRebuild(b *testing.B, e *testEnv, cfg config, clk *clock.Fake) {
	live := dumpReadModels(b, e.app.redis)
	liveSearch := dumpSearch(b, e, nil)
	e.shutdown()
	var out, errb strings.Builder
	args := []string{"rebuild", "--data", cfg.Data, "--redis-url", cfg.RedisURL, "--redis-prefix", cfg.RedisPrefix, "--log-level", "error"}
	began := time.Now()
	if err := runProjections(context.Background(), args, &out, &errb); err != nil {
		b.Fatalf("rebuild: %v\n%s", err, errb.String())
	}
	b.ReportMetric(time.Since(began).Seconds(), "rebuild_all_s")
	b.Logf("%s", out.String())
	for name, rate := range rebuildRates(b, out.String()) {
		b.ReportMetric(rate, "rebuild_"+name+"_events/s")
	}
	db, err := redisdb.Open(context.Background(), cfg.RedisURL, cfg.RedisPrefix)
	if err != nil {
		b.Fatal(err)
	}
	rebuilt := dumpReadModels(b, db)
	db.Close()
	sameDump(b, "redis", live, rebuilt)
	e2 := start(b, cfg, roles{true, true, true}, clk)
	sameDump(b, "search", liveSearch, dumpSearch(b, e2, nil))
	b.Logf("after the rebuild: %d Redis keys and %d search entries as the live projections left them", len(live), len(liveSearch))
}

func loadEnvInt(b *testing.B, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		b.Fatalf("%s=%q: want a positive whole number", name, s)
	}
	return n
}

// loadEnt is a verified enterprise of the load and its master admin.
type loadEnt struct {
	boss      *vclient
	id, name  string
	accountID string
	seal      string
	tpl       tplIDs
}

// loadPerson is a verified person of the load.
type loadPerson struct {
	v         *vclient
	accountID string
	name      string
}

type loadWorld struct {
	b       testing.TB
	e       *testEnv
	clk     *clock.Fake
	ents    []loadEnt
	persons []loadPerson
	// visible counts per enterprise the contracts its admin sees: sent by
	// it or addressed to it by name.
	visible   []atomic.Int64
	conflicts atomic.Int64 // sends tried again after a concurrent change
	ip        string
}

func newLoadWorld(b testing.TB, e *testEnv, clk *clock.Fake, ents, persons, n int) *loadWorld {
	w := &loadWorld{b: b, e: e, clk: clk, visible: make([]atomic.Int64, ents), ip: "203.0.113.9"}
	for i := range ents {
		name := fmt.Sprintf("%s%s%s有限公司", loadCities[i%len(loadCities)], loadFirmWords[(i/len(loadCities))%len(loadFirmWords)], "科技")
		if i >= len(loadCities)*len(loadFirmWords) {
			b.Fatalf("at most %d enterprises", len(loadCities)*len(loadFirmWords))
		}
		boss, id := loadEnterprise(b, e, fmt.Sprintf("1370000%04d", i), i, name)
		le := loadEnt{boss: boss, id: id, name: name, accountID: loadAccountID(b, boss), seal: boss.defaultSeal(id), tpl: boss.template(id, false)}
		e.grant(id, n+10)
		w.ents = append(w.ents, le)
	}
	for i := range persons {
		name := loadPersonNames[i%len(loadPersonNames)]
		v := newUser(b, e, fmt.Sprintf("1350000%04d", i+1))
		v.verifyPerson(name)
		w.persons = append(w.persons, loadPerson{v: v, accountID: loadAccountID(b, v), name: name})
	}
	return w
}

// loadEnterprise registers login and verifies an enterprise called name by
// its legal representative's phone (n makes its USCC and that phone unique).
func loadEnterprise(t testing.TB, e *testEnv, login string, n int, name string) (*vclient, string) {
	t.Helper()
	u := newUser(t, e, login)
	var created struct{ ID string }
	u.call(http.MethodPost, "/api/v1/enterprises", nil, http.StatusCreated).json(t, &created)
	base := "/api/v1/enterprises/" + created.ID
	u.upload(base+"/license", photo(t, 10), http.StatusOK)
	u.upload(base+"/id-cards/legal_rep/portrait", photo(t, 20), http.StatusOK)
	u.upload(base+"/id-cards/legal_rep/emblem", photo(t, 30), http.StatusOK)
	u.call(http.MethodPost, base+"/materials", map[string]any{
		"name": name, "uscc": usccWith(t, fmt.Sprintf("36%04d", n)), "legal_rep_name": "井然", "legal_rep_id_number": idWith(t, "35010219900101123"),
		"operator": "legal_rep", "accept_personal_data_policy": true, "accept_phone_followup": false,
	}, http.StatusOK)
	u.call(http.MethodPut, base+"/willingness", map[string]string{"method": "legal_rep_phone"}, http.StatusOK)
	phone := fmt.Sprintf("1391235%04d", n+1) // not ending in 0000: the dev carrier refuses those
	u.call(http.MethodPost, base+"/willingness/phone-code", map[string]string{"phone": phone}, http.StatusAccepted)
	u.call(http.MethodPost, base+"/willingness/phone-code/confirm", map[string]string{"code": codeRe.FindString(lastSMS(t, e.c, phone))}, http.StatusOK)
	return u, created.ID
}

func loadAccountID(t testing.TB, v *vclient) string {
	t.Helper()
	var me struct{ ID string }
	v.call(http.MethodGet, "/api/v1/me", nil, http.StatusOK).json(t, &me)
	return me.ID
}

// caller is the admin of enterprise i as the readers know them.
func (w *loadWorld) caller(ctx context.Context, i int) principal.Caller {
	ent := w.ents[i]
	l, err := account.ParseLogin(ent.boss.login)
	if err != nil {
		w.b.Fatal(err)
	}
	acted, err := actedReader{w.e.app.redis}.Acted(ctx, ent.accountID)
	if err != nil {
		w.b.Fatal(err)
	}
	return principal.Caller{AccountID: ent.accountID, LoginHash: l.Hash(), Acted: acted,
		Memberships: []principal.Membership{{EnterpriseID: ent.id, Name: ent.name, Role: principal.RoleMasterAdmin, Verified: true}}}
}

var (
	loadCities      = []string{"杭州", "上海", "北京", "深圳", "广州", "成都", "南京", "苏州", "武汉", "西安"}
	loadFirmWords   = []string{"井然", "远航", "恒信", "华泰", "启明"}
	loadObjects     = []string{"办公楼", "仓库", "设备", "软件", "原材料", "食品", "物流", "广告", "咨询", "装修", "车辆", "厂房"}
	loadKinds       = []string{"租赁合同", "采购合同", "销售合同", "服务协议", "框架协议", "保密协议", "劳动合同", "技术开发合同", "代理协议", "借款合同"}
	loadPersonNames = []string{"林某某", "王小明", "张伟", "李娜", "刘洋", "陈静", "杨帆", "赵磊", "黄敏", "周杰"}
)

// outcome is what happens to a contract after it is sent.
type outcome int

const (
	waiting outcome = iota
	revoked
	rejected
	personSigned
	completed
	expired
)

func pickOutcome(r *rand.Rand) outcome {
	switch x := r.IntN(100); {
	case x < 4:
		return revoked
	case x < 7:
		return rejected
	case x < 12:
		return personSigned
	case x < 14:
		return completed
	case x < 16:
		return expired
	}
	return waiting
}

// run sends n contracts over [t0, end), a day of the fake clock at a time.
func (w *loadWorld) run(ctx context.Context, n int, t0, end time.Time, workers int) {
	days := min(n, int(end.Sub(t0)/(24*time.Hour)))
	var (
		failed  atomic.Pointer[error]
		mu      sync.Mutex
		expire  []string // contracts to expire once their deadline passed
		stepped = time.Now()
	)
	for d := range days {
		w.clk.Set(t0.Add(time.Duration(d)*24*time.Hour + time.Hour))
		mu.Lock()
		due := expire
		expire = nil
		mu.Unlock()
		for _, id := range due {
			if _, err := w.e.app.cmds.Contracts.Expire.Handle(ctx, commands.ExpireContract{ContractID: id}); err != nil {
				w.b.Fatalf("expire %s: %v", id, err)
			}
		}
		lo, hi := d*n/days, (d+1)*n/days
		var next atomic.Int64
		next.Store(int64(lo))
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				for failed.Load() == nil {
					i := int(next.Add(1) - 1)
					if i >= hi {
						return
					}
					exp, err := w.contract(ctx, i)
					if err != nil {
						err = fmt.Errorf("contract %d: %w", i, err)
						failed.CompareAndSwap(nil, &err)
						return
					}
					if exp != "" {
						mu.Lock()
						expire = append(expire, exp)
						mu.Unlock()
					}
				}
			})
		}
		wg.Wait()
		if err := failed.Load(); err != nil {
			w.b.Fatal(*err)
		}
		if testing.Verbose() && time.Since(stepped) > 10*time.Second {
			stepped = time.Now()
			fmt.Fprintf(os.Stderr, "load: %d of %d contracts sent\n", hi, n)
		}
	}
}

// contract sends contract i and plays its outcome; it returns the ID of a
// contract to expire once its deadline has passed.
func (w *loadWorld) contract(ctx context.Context, i int) (string, error) {
	r := rand.New(rand.NewPCG(uint64(i), 0x5167_6e65_74))
	now := w.clk.Advance(time.Second)
	si := 0
	if r.IntN(100) >= 30 {
		si = 1 + r.IntN(len(w.ents)-1)
	}
	s := w.ents[si]
	out := pickOutcome(r)

	// The enterprise party: another of the load's enterprises (always when
	// it is to sign), or an outside firm.
	ri := -1
	if out == completed || r.IntN(2) == 0 {
		ri = r.IntN(len(w.ents))
	}
	entParty := contract.PartyInput{Name: "联系人", Contact: fmt.Sprintf("1380%07d", r.IntN(10000)), EnterpriseName: fmt.Sprintf("外部公司%04d", r.IntN(2000))}
	if ri >= 0 {
		entParty = contract.PartyInput{Name: "经办人", Contact: w.ents[ri].boss.login, EnterpriseName: w.ents[ri].name}
	}
	// The person party: a verified person when they are to act.
	pi := -1
	if out == rejected || out == personSigned || out == completed || r.IntN(100) < 30 {
		pi = r.IntN(len(w.persons))
	}
	personParty := contract.PartyInput{Name: loadPersonNames[r.IntN(len(loadPersonNames))], Contact: fmt.Sprintf("1590%07d", r.IntN(5000))}
	if pi >= 0 {
		personParty = contract.PartyInput{Name: w.persons[pi].name, Contact: w.persons[pi].v.login}
	}

	title := loadCities[r.IntN(len(loadCities))] + loadObjects[r.IntN(len(loadObjects))] + loadKinds[r.IntN(len(loadKinds))] +
		fmt.Sprintf(" %s-%03d", now.Format("0102"), r.IntN(1000))
	deadline := now.Add(time.Duration(1+r.IntN(60)) * 24 * time.Hour)
	if out == expired {
		deadline = now.Add(2 * time.Hour)
	}
	cmd := commands.SendContract{
		Actor:        commands.Actor{AccountID: s.accountID, ClientIP: w.ip},
		EnterpriseID: s.id, TemplateID: s.tpl.id, Title: title,
		Parties:         map[string]contract.PartyInput{s.tpl.person: personParty, s.tpl.ent: entParty},
		Values:          map[string]string{s.tpl.rent: strconv.Itoa(1000 + r.IntN(9000))},
		SigningDeadline: deadline,
	}
	if r.IntN(2) == 0 {
		exp := deadline.AddDate(0, 1+r.IntN(24), 0)
		cmd.ExpiresAt = &exp
	}
	// Sends of one enterprise race for its quota ledger; the command tries
	// again a few times, and then, like a client, so does the load, with
	// the same contract ID so that a retried send is never sent twice.
	cmd.ContractID = uuid.NewString()
	var res commands.SendContractResult
	var err error
	for attempt := 1; ; attempt++ {
		res, err = w.e.app.cmds.Contracts.Send.Handle(ctx, cmd)
		if f, ok := fault.As(err); !ok || f.Code != "concurrent_change" || attempt == 20 {
			break
		}
		w.conflicts.Add(1)
		time.Sleep(time.Duration(attempt) * time.Millisecond)
	}
	if err != nil {
		return "", fmt.Errorf("send: %w", err)
	}
	w.visible[si].Add(1)
	if ri >= 0 && ri != si {
		w.visible[ri].Add(1)
	}
	id, number := res.ContractID, res.Number
	switch out {
	case revoked:
		_, err = w.e.app.cmds.Contracts.Revoke.Handle(ctx, commands.RevokeContract{Actor: commands.Actor{AccountID: s.accountID, ClientIP: w.ip}, ContractID: id, Reason: "条款需修改"})
	case rejected:
		p := w.persons[pi]
		_, err = w.e.app.cmds.Contracts.Reject.Handle(ctx, commands.RejectContract{Actor: commands.Actor{AccountID: p.accountID, ClientIP: w.ip}, ContractID: id, PartyID: s.tpl.person, Reason: "金额有误"})
	case personSigned, completed:
		p := w.persons[pi]
		err = w.sign(ctx, p.accountID, p.v.login, id, number, s.tpl.person, "", "")
		if err == nil && out == completed {
			rc := w.ents[ri]
			err = w.sign(ctx, rc.accountID, rc.boss.login, id, number, s.tpl.ent, rc.id, rc.seal)
		}
	case expired:
		return id, nil
	}
	return "", err
}

// sign asks for a signing code, reads it from the dev outbox and signs.
func (w *loadWorld) sign(ctx context.Context, accountID, login, id, number, partyID, enterpriseID, sealID string) error {
	actor := commands.Actor{AccountID: accountID, ClientIP: w.ip}
	if _, err := w.e.app.cmds.Contracts.SendSignCode.Handle(ctx, commands.SendSignCode{Actor: actor, ContractID: id, PartyID: partyID, EnterpriseID: enterpriseID}); err != nil {
		return fmt.Errorf("sign code: %w", err)
	}
	l, err := account.ParseLogin(login)
	if err != nil {
		return err
	}
	code := ""
	for _, m := range slices.Backward(w.e.app.outbox.Messages(l.String())) {
		if strings.Contains(m.Body, "("+number+")") {
			if c := signCodeRe.FindStringSubmatch(m.Body); c != nil {
				code = c[1]
				break
			}
		}
	}
	if code == "" {
		return errors.New("no signing code for " + number)
	}
	_, err = w.e.app.cmds.Contracts.Sign.Handle(ctx, commands.SignContract{Actor: actor, ContractID: id, PartyID: partyID, EnterpriseID: enterpriseID, SealID: sealID, Code: code})
	if err != nil {
		return fmt.Errorf("sign: %w", err)
	}
	return nil
}

// readBench calls the read API of a running app as one caller.
type readBench struct {
	b     *testing.B
	e     *testEnv
	w     *loadWorld
	token string
	calls int
	http  *http.Client
}

func (r *readBench) get(path string) error {
	req, err := http.NewRequest(http.MethodGet, r.e.srv.URL+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+r.token)
	res, err := r.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	var body json.RawMessage
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		return fmt.Errorf("GET %s: %d: %w", path, res.StatusCode, err)
	}
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %d %s", path, res.StatusCode, body)
	}
	return nil
}

func (r *readBench) getJSON(path string, out any) {
	r.b.Helper()
	res := r.e.c.must(http.MethodGet, path, nil, "Authorization", "Bearer "+r.token)
	if res.Status != http.StatusOK {
		r.b.Fatalf("GET %s: %d %s", path, res.Status, res.Body)
	}
	res.json(r.b, out)
}

// cursor follows a list pages times and returns the cursor after them.
func (r *readBench) cursor(path string, pages int) string {
	after := ""
	for range max(pages, 1) {
		p := path
		if after != "" {
			p += "&after=" + url.QueryEscape(after)
		}
		var page listPage
		r.getJSON(p, &page)
		if page.Next == "" {
			r.b.Fatalf("%s ended before %d pages", path, pages)
		}
		after = page.Next
	}
	return after
}

// measure calls f r.calls times, one after the other, and returns the
// 50th and 99th percentile in milliseconds.
func (r *readBench) measure(f func() error) (p50, p99 float64) {
	r.b.Helper()
	var lat latencies
	for range r.calls {
		began := time.Now()
		if err := f(); err != nil {
			r.b.Fatal(err)
		}
		lat.add("call", time.Since(began))
	}
	return lat.percentiles("call")
}

// loadRedisZAdds writes 100,000 members to a scratch sorted set in
// pipelines of 100 and returns the rate.
func loadRedisZAdds(b *testing.B, e *testEnv) float64 {
	ctx := context.Background()
	key := e.app.redis.Key("bench", "zadd")
	defer e.app.redis.Del(ctx, key)
	const total, per = 100_000, 100
	began := time.Now()
	for i := 0; i < total; i += per {
		pipe := e.app.redis.Pipeline()
		for j := i; j < i+per; j++ {
			pipe.ZAdd(ctx, key, redis.Z{Score: float64(j), Member: strconv.Itoa(j)})
		}
		if _, err := pipe.Exec(ctx); err != nil {
			b.Fatal(err)
		}
	}
	return total / time.Since(began).Seconds()
}

// wrkResult is what wrk reports of one run.
type wrkResult struct{ p50, p99, rps float64 }

var (
	wrkPercentRe = regexp.MustCompile(`(?m)^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$`)
	wrkRateRe    = regexp.MustCompile(`(?m)^Requests/sec:\s+([\d.]+)`)
	wrkErrorsRe  = regexp.MustCompile(`(?m)^\s+(Non-2xx or 3xx responses|Socket errors):.*$`)
)

// runWrk runs wrk with 2 threads and 8 connections against url as the
// token's holder.
func runWrk(b *testing.B, url, token string, secs int) wrkResult {
	b.Helper()
	script := filepath.Join(b.TempDir(), "auth.lua")
	if err := os.WriteFile(script, []byte(`wrk.headers["Authorization"] = "Bearer `+token+`"`+"\n"), 0o600); err != nil {
		b.Fatal(err)
	}
	out, err := exec.Command("wrk", "-t2", "-c8", fmt.Sprintf("-d%ds", secs), "--latency", "-s", script, url).CombinedOutput()
	if err != nil {
		b.Fatalf("wrk: %v\n%s", err, out)
	}
	res, err := parseWrk(string(out))
	if err != nil {
		b.Fatalf("%v\n%s", err, out)
	}
	b.Logf("wrk %s: p50 %.2f ms, p99 %.2f ms, %.0f requests/s", url, res.p50, res.p99, res.rps)
	return res
}

func parseWrk(out string) (wrkResult, error) {
	var res wrkResult
	if m := wrkErrorsRe.FindString(out); m != "" {
		return res, fmt.Errorf("wrk: %s", strings.TrimSpace(m))
	}
	ps := wrkPercentRe.FindAllStringSubmatch(out, -1)
	rate := wrkRateRe.FindStringSubmatch(out)
	if len(ps) != 2 || rate == nil {
		return res, errors.New("wrk: no latency distribution or rate in its output")
	}
	for _, p := range ps {
		v, err := strconv.ParseFloat(p[2], 64)
		if err != nil {
			return res, err
		}
		switch p[3] {
		case "us":
			v /= 1000
		case "s":
			v *= 1000
		}
		if p[1] == "50" {
			res.p50 = v
		} else {
			res.p99 = v
		}
	}
	var err error
	res.rps, err = strconv.ParseFloat(rate[1], 64)
	return res, err
}

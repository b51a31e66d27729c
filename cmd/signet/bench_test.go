package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"signet/commands"
	"signet/infra/clock"
)

// The contract lifecycle over HTTP on the embedded default (SQLite event
// store, in-process Redis, projections running), measured client-side:
//
//	go test ./cmd/signet -run '^$' -bench 'ContractLifecycle|BaselineSQLite' -benchtime 200x
//
// Setup, once: one verified person, the person party of every contract;
// per concurrency level a verified enterprise (its master admin sends and
// seals) with a sequential two-party template (the person 乙方 signs
// first, then the enterprise 甲方). Each run grants the enterprise b.N+10
// contracts with the quota command. Then per contract: send; the person's sign-code and signature;
// the enterprise's sign-code and signature with its default seal, which
// completes the contract. The codes are read from /dev/messages.
//
// BenchmarkBaselineSQLiteInsert, in the same run, measures what the disk
// allows: one-row transactions on a SQLite file with the store's settings.
// Compare contracts/s with its inserts/s.
func BenchmarkContractLifecycle(b *testing.B) {
	cfg := testConfig(b)
	cfg.CodesPerHour = 1 << 30 // one client address asks for every code
	e := start(b, cfg, roles{true, true, true}, nil)
	person := newUser(b, e, "13512349001")
	person.verifyPerson("林某某")
	grant := commands.NewGrantEnterpriseQuotaHandler(commands.Deps{Events: e.app.store, Clock: clock.Real{}, Logger: quietLogger()})
	// More connections than workers: Go's default keeps two idle per host,
	// and eight workers would then open a new connection per request.
	c := &client{t: b, base: e.srv.URL, http: &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}

	// A new enterprise for every measurement, so that each starts from the
	// same state (its quota ledger, the read models' lists).
	var n atomic.Int64
	newEnterprise := func(b *testing.B) lifecycleRun {
		k := n.Add(1)
		boss := newUser(b, e, fmt.Sprintf("13800139%03d", k))
		ent := boss.verifiedCase(fmt.Sprintf("33%04d", k), fmt.Sprintf("13912349%03d", k))
		return lifecycleRun{c: c, ent: ent, seal: boss.defaultSeal(ent), tpl: boss.template(ent, true),
			boss: party{token: boss.token, login: boss.login}, person: party{token: person.token, login: person.login}}
	}

	for _, workers := range []int{1, 8} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			run := newEnterprise(b)
			if _, err := grant.Handle(context.Background(), commands.GrantEnterpriseQuota{
				EnterpriseID: run.ent, Amount: b.N + 10, Reason: "benchmark", GrantedBy: "bench"}); err != nil {
				b.Fatal(err)
			}
			head := e.head()
			var lat latencies
			var next atomic.Int64
			var failed atomic.Pointer[error]
			var wg sync.WaitGroup
			b.ResetTimer()
			began := time.Now()
			for range workers {
				wg.Go(func() {
					for next.Add(1) <= int64(b.N) && failed.Load() == nil {
						if err := run.contract(&lat); err != nil {
							failed.CompareAndSwap(nil, &err)
						}
					}
				})
			}
			wg.Wait()
			elapsed := time.Since(began)
			b.StopTimer()
			if err := failed.Load(); err != nil {
				b.Fatal(*err)
			}
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "contracts/s")
			b.ReportMetric(float64(e.head()-head)/float64(b.N), "events/contract")
			b.ReportMetric(float64(lat.conflicts.Load())/float64(b.N), "conflicts/contract")
			for _, step := range []string{"send", "sign_code", "sign", "code_fetch"} {
				p50, p99 := lat.percentiles(step)
				b.ReportMetric(p50, step+"_p50_ms")
				b.ReportMetric(p99, step+"_p99_ms")
			}
		})
	}
}

type party struct{ token, login string }

// lifecycleRun sends and signs contracts; it is safe for concurrent use.
type lifecycleRun struct {
	c            *client
	ent, seal    string
	tpl          tplIDs
	boss, person party
}

// contract walks one contract from sending to completion.
func (r lifecycleRun) contract(lat *latencies) error {
	body := sendBody(r.tpl, r.ent, r.person.login, "林某某", r.boss.login, time.Now().Add(7*24*time.Hour))
	var sent struct{ ID, Number, Status string }
	if err := r.call(lat, "send", r.boss, "/api/v1/contracts", body, http.StatusCreated, &sent); err != nil {
		return err
	}
	if sent.Status != "signing" {
		return fmt.Errorf("contract %s sent as %q", sent.Number, sent.Status)
	}
	var signed struct{ Status string }
	if err := r.sign(lat, r.person, sent.ID, sent.Number, r.tpl.person, nil, &signed); err != nil {
		return err
	}
	if err := r.sign(lat, r.boss, sent.ID, sent.Number, r.tpl.ent, map[string]string{"enterprise_id": r.ent, "seal_id": r.seal}, &signed); err != nil {
		return err
	}
	if signed.Status != "completed" {
		return fmt.Errorf("contract %s is %q after both signatures", sent.Number, signed.Status)
	}
	return nil
}

// sign asks for the party's signing code, finds it among the messages to
// the signer and signs with it.
func (r lifecycleRun) sign(lat *latencies, p party, contractID, number, partyID string, extra map[string]string, out any) error {
	base := "/api/v1/contracts/" + contractID + "/parties/" + partyID
	codeReq := map[string]string{}
	if extra["enterprise_id"] != "" {
		codeReq["enterprise_id"] = extra["enterprise_id"]
	}
	if err := r.call(lat, "sign_code", p, base+"/sign-code", codeReq, http.StatusAccepted, nil); err != nil {
		return err
	}
	began := time.Now()
	code, err := signCodeFor(r.c, p.login, number)
	lat.add("code_fetch", time.Since(began))
	if err != nil {
		return err
	}
	body := map[string]string{"code": code}
	for k, v := range extra {
		body[k] = v
	}
	return r.call(lat, "sign", p, base+"/signature", body, http.StatusOK, out)
}

// call posts body as p. A 409 concurrent_change ("try again") is tried
// again, as a client would, and counted: concurrent sends of one
// enterprise race for its stream.
func (r lifecycleRun) call(lat *latencies, step string, p party, path string, body any, want int, out any) error {
	var res response
	for attempt := 1; ; attempt++ {
		began := time.Now()
		var err error
		res, err = r.c.do(http.MethodPost, path, body, "Authorization", "Bearer "+p.token)
		lat.add(step, time.Since(began))
		if err != nil {
			return fmt.Errorf("%s: %w", step, err)
		}
		if res.Status != http.StatusConflict || res.errorCode() != "concurrent_change" || attempt == maxConflicts {
			break
		}
		lat.conflicts.Add(1)
	}
	if res.Status != want {
		return fmt.Errorf("%s: POST %s: status %d, want %d: %s", step, path, res.Status, want, res.Body)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(res.Body, out)
}

var signCodeRe = regexp.MustCompile(`验证码 (\d{6})`)

// signCodeFor finds the signing code of one contract among the messages to
// login: several workers ask codes for the same login at once, and only the
// contract number in the SMS tells them apart.
func signCodeFor(c *client, login, number string) (string, error) {
	res, err := c.do(http.MethodGet, "/dev/messages?to="+url.QueryEscape(login), nil)
	if err != nil {
		return "", err
	}
	var msgs []struct{ Body string }
	if err := json.Unmarshal(res.Body, &msgs); err != nil {
		return "", fmt.Errorf("dev messages: %d %q: %w", res.Status, res.Body, err)
	}
	for _, m := range slices.Backward(msgs) {
		if strings.Contains(m.Body, "("+number+")") {
			if code := signCodeRe.FindStringSubmatch(m.Body); code != nil {
				return code[1], nil
			}
		}
	}
	return "", errors.New("no signing code for contract " + number + " sent to " + login)
}

// maxConflicts bounds the tries of one request that keeps meeting
// concurrent changes.
const maxConflicts = 10

// latencies collects durations per step (every request, retried ones
// included) and the conflicts met, from all workers.
type latencies struct {
	mu        sync.Mutex
	by        map[string][]time.Duration
	conflicts atomic.Int64
}

func (l *latencies) add(step string, d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.by == nil {
		l.by = map[string][]time.Duration{}
	}
	l.by[step] = append(l.by[step], d)
}

// percentiles returns the step's 50th and 99th percentile in milliseconds
// (nearest rank).
func (l *latencies) percentiles(step string) (p50, p99 float64) {
	l.mu.Lock()
	ds := slices.Clone(l.by[step])
	l.mu.Unlock()
	if len(ds) == 0 {
		return 0, 0
	}
	slices.Sort(ds)
	rank := func(p float64) float64 {
		i := int(p*float64(len(ds))+0.999999) - 1
		return float64(ds[max(0, min(i, len(ds)-1))].Microseconds()) / 1000
	}
	return rank(0.50), rank(0.99)
}

// BenchmarkBaselineSQLiteInsert commits one row per transaction to a SQLite
// file opened like the event store (modernc.org/sqlite, WAL,
// synchronous=FULL, one writer connection): the fsync rate of this disk,
// against which contracts/s is judged.
func BenchmarkBaselineSQLiteInsert(b *testing.B) {
	b.ReportMetric(sqliteInsertRate(b, b.N), "inserts/s")
}

// sqliteInsertRate commits n one-row transactions as above and returns
// their rate.
func sqliteInsertRate(b testing.TB, n int) float64 {
	q := url.Values{}
	for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "synchronous(FULL)", "wal_autocheckpoint(4000)", "cache_size(-65536)"} {
		q.Add("_pragma", p)
	}
	u := url.URL{Scheme: "file", Path: filepath.Join(b.TempDir(), "baseline.db"), RawQuery: q.Encode()}
	db, err := sql.Open("sqlite", u.String())
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	var mode, syncMode string
	if err := conn.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		b.Fatalf("journal_mode %q: %v", mode, err)
	}
	if err := conn.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&syncMode); err != nil || syncMode != "2" {
		b.Fatalf("synchronous %q (2 is FULL): %v", syncMode, err)
	}
	// The events table's shape: the same keys and indexes, a payload of
	// a typical event's size.
	if _, err := conn.ExecContext(ctx, `CREATE TABLE events (
	position INTEGER PRIMARY KEY AUTOINCREMENT,
	id       TEXT NOT NULL UNIQUE,
	stream   TEXT NOT NULL,
	version  INTEGER NOT NULL,
	data     BLOB NOT NULL,
	UNIQUE (stream, version))`); err != nil {
		b.Fatal(err)
	}
	data := []byte(strings.Repeat("x", 400))
	began := time.Now()
	for i := range n {
		if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
			b.Fatal(err)
		}
		if _, err := conn.ExecContext(ctx, "INSERT INTO events (id, stream, version, data) VALUES (?, ?, 1, ?)",
			fmt.Sprintf("%08d-0000-7000-8000-000000000000", i), fmt.Sprintf("bench-%d", i), data); err != nil {
			b.Fatal(err)
		}
		if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
			b.Fatal(err)
		}
	}
	return float64(n) / time.Since(began).Seconds()
}

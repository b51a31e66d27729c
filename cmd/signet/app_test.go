package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"signet/infra/clock"
	"signet/infra/eventstore"
	"signet/infra/password"
	"signet/infra/redisdb"
)

func TestMain(m *testing.M) {
	// Cheap argon2id so that tests spend their time on what they test; the
	// production binary never runs this.
	passwordParams = password.Params{Memory: 64, Time: 1, Threads: 1}
	if os.Getenv(childEnv) == "1" {
		os.Exit(childMain())
	}
	os.Exit(m.Run())
}

// testEnv is one signet, started in-process on its own data directory and
// Redis key prefix (the real Redis when SIGNET_REDIS_URL is set).
type testEnv struct {
	t      testing.TB
	cfg    config
	app    *app
	srv    *httptest.Server
	c      *client
	cancel context.CancelFunc
}

func testConfig(t testing.TB) config {
	var b [6]byte
	rand.Read(b[:])
	return config{
		Addr: "127.0.0.1:0", Data: t.TempDir(), Dev: true,
		RedisURL:    os.Getenv("SIGNET_REDIS_URL"),
		RedisPrefix: "signet-test:" + hex.EncodeToString(b[:]) + ":",
		ReadWait:    3 * time.Second, LogLevel: "error", CodesPerHour: 60,
	}
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// start runs an app with roles r on cfg; clk replaces the real clock when set.
func start(t testing.TB, cfg config, r roles, clk clock.Clock) *testEnv {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	if clk != nil {
		prev := newClock
		newClock = func() clock.Clock { return clk }
		defer func() { newClock = prev }()
	}
	a, err := newApp(ctx, cfg, r, quietLogger())
	if err != nil {
		cancel()
		t.Fatalf("newApp: %v", err)
	}
	if r.project {
		if err := a.runner.Start(ctx); err != nil {
			cancel()
			a.Close()
			t.Fatalf("start projections: %v", err)
		}
	}
	a.startSearch(ctx)
	e := &testEnv{t: t, cfg: cfg, app: a, cancel: cancel}
	if r.read || r.write {
		e.srv = httptest.NewServer(a.handler())
		e.c = newClient(t, e.srv.URL)
	}
	t.Cleanup(e.stop)
	return e
}

// stop shuts the app down, then removes its keys from a shared Redis (after:
// a live projector could otherwise write again behind the cleanup).
func (e *testEnv) stop() {
	e.shutdown()
	if e.cfg.RedisURL == "" {
		return
	}
	db, err := redisdb.Open(context.Background(), e.cfg.RedisURL, e.cfg.RedisPrefix)
	if err != nil {
		e.t.Errorf("clean redis: %v", err)
		return
	}
	defer db.Close()
	if err := db.DeletePrefix(context.Background(), ""); err != nil {
		e.t.Errorf("clean redis: %v", err)
	}
}

// shutdown stops the app like a process exiting: a shared Redis keeps its keys.
func (e *testEnv) shutdown() {
	if e.app == nil {
		return
	}
	if e.srv != nil {
		e.srv.Close()
	}
	e.cancel()
	e.app.Close()
	e.app = nil
}

func (e *testEnv) head() uint64 {
	e.t.Helper()
	h, err := e.app.store.Head(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return h
}

const goodPassword = "Passw0rdX"

func TestRegisterLoginAndMe(t *testing.T) {
	e := start(t, testConfig(t), roles{true, true, true}, nil)
	res, err := e.c.register("138 0013 8000", goodPassword)
	if err != nil || res.Status != http.StatusCreated {
		t.Fatalf("register: %v %d %s", err, res.Status, res.Body)
	}
	var reg struct{ ID, Login string }
	res.json(t, &reg)
	if reg.Login != "138****8000" || reg.ID == "" {
		t.Fatalf("register answered %+v", reg)
	}
	if _, err := strconv.ParseUint(res.Header.Get("Signet-Position"), 10, 64); err != nil {
		t.Fatalf("no Signet-Position: %q", res.Header.Get("Signet-Position"))
	}

	token, lr := e.c.login("+86 13800138000", goodPassword)
	if lr.Status != http.StatusCreated || token == "" {
		t.Fatalf("login: %d %s", lr.Status, lr.Body)
	}
	// No Signet-Wait-For: the token carries the position to wait for.
	me := e.c.must(http.MethodGet, "/api/v1/me", nil, "Authorization", "Bearer "+token)
	if me.Status != http.StatusOK {
		t.Fatalf("/me: %d %s", me.Status, me.Body)
	}
	var p struct {
		ID, Login, Name, Company string
		LoginKind                string `json:"login_kind"`
		Consents                 struct {
			PrivacyPolicy        bool   `json:"privacy_policy"`
			PrivacyPolicyVersion string `json:"privacy_policy_version"`
			PhoneFollowup        bool   `json:"phone_followup"`
		}
	}
	me.json(t, &p)
	if p.ID != reg.ID || p.Login != "138****8000" || p.LoginKind != "phone" || p.Name != "林小明" ||
		p.Company != "杭州井然食品贸易有限公司" || !p.Consents.PrivacyPolicy || p.Consents.PrivacyPolicyVersion != privacyPolicyVersion || !p.Consents.PhoneFollowup {
		t.Fatalf("/me = %s", me.Body)
	}
	if strings.Contains(string(me.Body), "13800138000") || strings.Contains(string(me.Body), "argon2") {
		t.Fatalf("/me leaks personal data or the password hash: %s", me.Body)
	}

	// No key or value in Redis holds the full phone number or the hash.
	ctx := context.Background()
	keys, err := e.app.redis.Keys(ctx, e.cfg.RedisPrefix+"*").Result()
	if err != nil || len(keys) == 0 {
		t.Fatalf("keys: %v %v", keys, err)
	}
	for _, k := range keys {
		dump := redisValue(t, e.app.redis, k)
		if strings.Contains(k+dump, "13800138000") || strings.Contains(dump, "argon2") {
			t.Fatalf("redis key %s holds personal data unmasked: %s", k, dump)
		}
	}

	// Email logins are separate accounts, never merged with phones.
	res, err = e.c.register("Lin.Xiao@Example.com", goodPassword)
	if err != nil || res.Status != http.StatusCreated {
		t.Fatalf("register email: %v %d %s", err, res.Status, res.Body)
	}
	token2, _ := e.c.login("lin.xiao@example.com", goodPassword)
	me2 := e.c.must(http.MethodGet, "/api/v1/me", nil, "Authorization", "Bearer "+token2)
	if !strings.Contains(string(me2.Body), `"login":"l***@example.com"`) || strings.Contains(string(me2.Body), reg.ID) {
		t.Fatalf("/me of the email account = %s", me2.Body)
	}
}

// redisValue renders whatever k holds as text.
func redisValue(t *testing.T, db *redisdb.DB, k string) string {
	t.Helper()
	ctx := context.Background()
	typ, err := db.Type(ctx, k).Result()
	if err != nil {
		t.Fatal(err)
	}
	var v any
	switch typ {
	case "string":
		v, err = db.Get(ctx, k).Result()
	case "hash":
		v, err = db.HGetAll(ctx, k).Result()
	case "set":
		v, err = db.SMembers(ctx, k).Result()
	case "zset":
		v, err = db.ZRangeWithScores(ctx, k, 0, -1).Result()
	case "list":
		v, err = db.LRange(ctx, k, 0, -1).Result()
	default:
		t.Fatalf("key %s of unexpected type %s", k, typ)
	}
	if err != nil {
		t.Fatalf("read %s: %v", k, err)
	}
	return fmt.Sprint(v)
}

func TestRefusalsLeaveNoTrace(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC))
	e := start(t, testConfig(t), roles{true, true, true}, clk)
	if res, err := e.c.register("13900139000", goodPassword); err != nil || res.Status != http.StatusCreated {
		t.Fatalf("first registration: %v %d %s", err, res.Status, res.Body)
	}
	clk.Advance(2 * time.Minute)

	// A fresh code for a new login, used by the cases below that need one.
	freshCode := func(login string) string {
		clk.Advance(2 * time.Minute)
		r := e.c.must(http.MethodPost, "/api/v1/verification-codes", map[string]string{"to": login, "purpose": "register"})
		if r.Status != http.StatusAccepted {
			t.Fatalf("code for %s: %d %s", login, r.Status, r.Body)
		}
		code, err := e.c.latestCode(login)
		if err != nil {
			t.Fatal(err)
		}
		return code
	}
	with := func(login, code string, change func(map[string]any)) map[string]any {
		b := registration(login, code, goodPassword)
		change(b)
		return b
	}
	const login = "13700137000"
	cases := []struct {
		name   string
		body   func() any
		ct     string
		status int
		code   string
	}{
		{"malformed JSON", func() any { return `{"login":` }, "", 400, "malformed_json"},
		{"unknown field", func() any { return with(login, freshCode(login), func(m map[string]any) { m["is_admin"] = true }) }, "", 400, "unknown_field"},
		{"not JSON", func() any { return `login=1` }, "text/plain", 415, "unsupported_media_type"},
		{"weak password", func() any {
			return with(login, freshCode(login), func(m map[string]any) { m["password"] = "password1" })
		}, "", 400, "weak_password"},
		{"wrong code", func() any {
			c := freshCode(login)
			wrong := "000000"
			if c == wrong {
				wrong = "111111"
			}
			return with(login, wrong, func(map[string]any) {})
		}, "", 400, "invalid_code"},
		{"expired code", func() any {
			c := freshCode(login)
			clk.Advance(6 * time.Minute)
			return with(login, c, func(map[string]any) {})
		}, "", 400, "code_expired"},
		{"no privacy consent", func() any {
			return with(login, freshCode(login), func(m map[string]any) { m["accept_privacy_policy"] = false })
		}, "", 0, "privacy_policy_required"},
		// A registered login cannot get a code (409 at the code request,
		// below), so registering it again fails on the code and says
		// nothing about the login.
		{"duplicate login", func() any { return with("13900139000", "123456", func(map[string]any) {}) }, "", 400, "code_expired"},
		{"bad login", func() any { return with("12345", "123456", func(map[string]any) {}) }, "", 400, "invalid_login"},
		{"no name", func() any { return with(login, "123456", func(m map[string]any) { m["name"] = "" }) }, "", 400, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := c.body()
			before := e.head()
			var headers []string
			if c.ct != "" {
				headers = []string{"Content-Type", c.ct}
			}
			r := e.c.must(http.MethodPost, "/api/v1/accounts", body, headers...)
			if r.Status < 400 || r.Status >= 500 || (c.status != 0 && r.Status != c.status) {
				t.Fatalf("status %d, want %d: %s", r.Status, c.status, r.Body)
			}
			if code := r.errorCode(); code == "" || (c.code != "" && code != c.code) {
				t.Fatalf("error code %q, want %q: %s", code, c.code, r.Body)
			}
			if after := e.head(); after != before {
				t.Fatalf("a refused registration appended events: head %d -> %d", before, after)
			}
		})
	}
	if r := e.c.must(http.MethodPost, "/api/v1/verification-codes", map[string]string{"to": "139 0013 9000", "purpose": "register"}); r.Status != http.StatusConflict || r.errorCode() != "login_taken" {
		t.Fatalf("code for a registered login: %d %s", r.Status, r.Body)
	}
	// The login refused above still registers cleanly afterwards.
	code := freshCode(login)
	if r := e.c.must(http.MethodPost, "/api/v1/accounts", registration(login, code, goodPassword)); r.Status != http.StatusCreated {
		t.Fatalf("registration after refusals: %d %s", r.Status, r.Body)
	}
}

func TestCodeAndLoginRateLimits(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC))
	e := start(t, testConfig(t), roles{true, true, true}, clk)
	ask := func() response {
		return e.c.must(http.MethodPost, "/api/v1/verification-codes", map[string]string{"to": "13600136000", "purpose": "register"})
	}
	if r := ask(); r.Status != http.StatusAccepted {
		t.Fatalf("first code: %d %s", r.Status, r.Body)
	}
	r := ask()
	if r.Status != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" {
		t.Fatalf("second code within a minute: %d %s (Retry-After %q)", r.Status, r.Body, r.Header.Get("Retry-After"))
	}
	if r := e.c.must(http.MethodPost, "/api/v1/verification-codes", map[string]string{"to": "13600136000", "purpose": "spam"}); r.Status != 400 {
		t.Fatalf("unknown purpose: %d %s", r.Status, r.Body)
	}

	res, err := e.c.register("lock@example.com", goodPassword)
	if err != nil || res.Status != http.StatusCreated {
		t.Fatalf("register: %v %d %s", err, res.Status, res.Body)
	}
	for i := 0; i < 5; i++ {
		if _, r := e.c.login("lock@example.com", "Wrong0Password"); r.Status != http.StatusUnauthorized {
			t.Fatalf("wrong password %d: %d %s", i, r.Status, r.Body)
		}
	}
	if _, r := e.c.login("lock@example.com", goodPassword); r.Status != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" {
		t.Fatalf("locked login with the right password: %d %s", r.Status, r.Body)
	}
	clk.Advance(16 * time.Minute)
	if tok, r := e.c.login("lock@example.com", goodPassword); r.Status != http.StatusCreated || tok == "" {
		t.Fatalf("after the lock: %d %s", r.Status, r.Body)
	}
}

func TestRestartKeepsAccounts(t *testing.T) {
	cfg := testConfig(t)
	e := start(t, cfg, roles{true, true, true}, nil)
	if res, err := e.c.register("13500135000", goodPassword); err != nil || res.Status != http.StatusCreated {
		t.Fatalf("register: %v %d %s", err, res.Status, res.Body)
	}
	token, _ := e.c.login("13500135000", goodPassword)
	before := e.c.must(http.MethodGet, "/api/v1/me", nil, "Authorization", "Bearer "+token)
	keepRedis := !e.app.redis.Embedded()
	if keepRedis {
		// A real Redis keeps the read models across the restart: keep them,
		// the projections must resume from their checkpoints.
		e.shutdown()
	} else {
		e.stop()
	}

	e2 := start(t, cfg, roles{true, true, true}, nil)
	token2, r := e2.c.login("13500135000", goodPassword)
	if r.Status != http.StatusCreated {
		t.Fatalf("login after restart: %d %s", r.Status, r.Body)
	}
	after := e2.c.must(http.MethodGet, "/api/v1/me", nil, "Authorization", "Bearer "+token2)
	if after.Status != http.StatusOK || string(after.Body) != string(before.Body) {
		t.Fatalf("/me changed across the restart:\n%s\n%s", before.Body, after.Body)
	}
}

func TestReadYourWritesHeader(t *testing.T) {
	cfg := testConfig(t)
	cfg.ReadWait = 300 * time.Millisecond
	e := start(t, cfg, roles{true, true, true}, nil)
	res, err := e.c.register("a@example.com", goodPassword)
	if err != nil || res.Status != http.StatusCreated {
		t.Fatalf("register: %v %d %s", err, res.Status, res.Body)
	}
	token, _ := e.c.login("a@example.com", goodPassword)
	auth := "Bearer " + token
	if r := e.c.must(http.MethodGet, "/api/v1/me", nil, "Authorization", auth, "Signet-Wait-For", res.Header.Get("Signet-Position")); r.Status != 200 {
		t.Fatalf("wait for own position: %d %s", r.Status, r.Body)
	}
	if r := e.c.must(http.MethodGet, "/api/v1/me", nil, "Authorization", auth, "Signet-Wait-For", "99999999"); r.Status != 400 || r.errorCode() != "unknown_position" {
		t.Fatalf("wait for a position never written: %d %s", r.Status, r.Body)
	}
	if r := e.c.must(http.MethodGet, "/api/v1/me", nil, "Authorization", auth, "Signet-Wait-For", "soon"); r.Status != 400 {
		t.Fatalf("bad Signet-Wait-For: %d %s", r.Status, r.Body)
	}
	for _, h := range []string{"", "Bearer nonsense", "Bearer " + token + "x"} {
		var hdr []string
		if h != "" {
			hdr = []string{"Authorization", h}
		}
		if r := e.c.must(http.MethodGet, "/api/v1/me", nil, hdr...); r.Status != 401 || r.errorCode() == "" {
			t.Fatalf("/me with %q: %d %s", h, r.Status, r.Body)
		}
	}
	if r := e.c.must(http.MethodGet, "/api/v1/nothing", nil); r.Status != 404 || r.errorCode() == "" {
		t.Fatalf("unknown route: %d %s", r.Status, r.Body)
	}
	if r := e.c.must(http.MethodDelete, "/api/v1/accounts", nil); r.Status != 405 || r.errorCode() == "" {
		t.Fatalf("wrong method: %d %s", r.Status, r.Body)
	}
	if r := e.c.must(http.MethodGet, "/readyz", nil); r.Status != 200 {
		t.Fatalf("readyz: %d %s", r.Status, r.Body)
	}
	m := e.c.must(http.MethodGet, "/metrics", nil)
	for _, want := range []string{`signet_commands_total{command="RegisterAccount",outcome="ok"} 1`, `signet_projection_checkpoint{projection="accounts"}`, "signet_eventstore_head "} {
		if !strings.Contains(string(m.Body), want) {
			t.Fatalf("/metrics lacks %q:\n%s", want, m.Body)
		}
	}
}

func TestDevRoutesOnlyWithDev(t *testing.T) {
	cfg := testConfig(t)
	cfg.Dev = false
	e := start(t, cfg, roles{true, true, true}, nil)
	if r := e.c.must(http.MethodGet, "/dev/messages?to=13800138000", nil); r.Status != http.StatusNotFound {
		t.Fatalf("/dev/messages without --dev: %d", r.Status)
	}
}

// shareRedis gives cfg a Redis URL that several apps can share: the real
// server when configured, else an in-process one that outlives the apps.
func shareRedis(t *testing.T, cfg *config) {
	if cfg.RedisURL != "" {
		return
	}
	shared, err := redisdb.Open(context.Background(), "", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { shared.Close() })
	cfg.RedisURL = "redis://" + shared.Options().Addr
}

// The parts as separate processes: a write API, a projector and a read API
// sharing one event store and one Redis.
func TestSeparateParts(t *testing.T) {
	cfg := testConfig(t)
	shareRedis(t, &cfg)
	if _, err := newApp(context.Background(), config{Data: t.TempDir(), RedisPrefix: "x:"}, roles{read: true}, quietLogger()); err == nil {
		t.Fatal("a read API without a shared Redis must refuse to start")
	}
	w := start(t, cfg, roles{write: true}, nil)
	start(t, cfg, roles{project: true}, nil)
	rd := start(t, cfg, roles{read: true}, nil)

	res, err := w.c.register("split@example.com", goodPassword)
	if err != nil || res.Status != http.StatusCreated {
		t.Fatalf("register: %v %d %s", err, res.Status, res.Body)
	}
	token, _ := w.c.login("split@example.com", goodPassword)
	me := rd.c.must(http.MethodGet, "/api/v1/me", nil, "Authorization", "Bearer "+token)
	if me.Status != http.StatusOK || !strings.Contains(string(me.Body), "s***@example.com") {
		t.Fatalf("/me from the separate read API: %d %s", me.Status, me.Body)
	}
	if r := rd.c.must(http.MethodPost, "/api/v1/sessions", map[string]string{"login": "x", "password": "y"}); r.Status != 404 && r.Status != 405 {
		t.Fatalf("the read API must not take commands: %d", r.Status)
	}
	if r := w.c.must(http.MethodGet, "/api/v1/me", nil, "Authorization", "Bearer "+token); r.Status != 404 && r.Status != 405 {
		t.Fatalf("the write API must not answer queries: %d", r.Status)
	}
}

func TestRunSubcommands(t *testing.T) {
	var out, errb strings.Builder
	if err := run(context.Background(), []string{"version"}, &out, &errb); err != nil || !strings.HasPrefix(out.String(), "signet ") {
		t.Fatalf("version: %v %q", err, out.String())
	}
	if err := run(context.Background(), []string{"frobnicate"}, &out, &errb); err == nil {
		t.Fatal("an unknown command must fail")
	}
	if err := run(context.Background(), []string{"projections", "rebuild", "--redis-url", ""}, &out, &errb); err == nil || !strings.Contains(err.Error(), "SIGNET_REDIS_URL") {
		t.Fatalf("rebuild without Redis: %v", err)
	}
}

// projections rebuild against a real (or shared) Redis gives the same read
// model as the incremental one.
func TestProjectionsRebuildCommand(t *testing.T) {
	cfg := testConfig(t)
	shareRedis(t, &cfg)
	e := start(t, cfg, roles{true, true, true}, nil)
	var tokens []string
	for i := range 3 {
		login := fmt.Sprintf("r%d@example.com", i)
		if res, err := e.c.register(login, goodPassword); err != nil || res.Status != http.StatusCreated {
			t.Fatalf("register: %v %d %s", err, res.Status, res.Body)
		}
		tok, _ := e.c.login(login, goodPassword)
		tokens = append(tokens, tok)
	}
	before := make([]string, len(tokens))
	for i, tok := range tokens {
		before[i] = string(e.c.must(http.MethodGet, "/api/v1/me", nil, "Authorization", "Bearer "+tok).Body)
	}
	e.shutdown()

	var out, errb strings.Builder
	args := []string{"rebuild", "--data", cfg.Data, "--redis-url", cfg.RedisURL, "--redis-prefix", cfg.RedisPrefix}
	if err := runProjections(context.Background(), args, &out, &errb); err != nil {
		t.Fatalf("rebuild: %v\n%s", err, errb.String())
	}
	if !strings.Contains(out.String(), "rebuilt accounts") {
		t.Fatalf("rebuild output: %q", out.String())
	}
	out.Reset()
	if err := runProjections(context.Background(), []string{"status", "--data", cfg.Data, "--redis-url", cfg.RedisURL, "--redis-prefix", cfg.RedisPrefix}, &out, &errb); err != nil {
		t.Fatalf("status: %v", err)
	}
	if !strings.Contains(out.String(), "accounts") || !strings.Contains(out.String(), "true") {
		t.Fatalf("status output: %q", out.String())
	}
	e2 := start(t, cfg, roles{read: true}, nil)
	for i, tok := range tokens {
		if got := string(e2.c.must(http.MethodGet, "/api/v1/me", nil, "Authorization", "Bearer "+tok).Body); got != before[i] {
			t.Fatalf("rebuilt read model differs:\n%s\n%s", before[i], got)
		}
	}
}

// One client asking codes for many numbers is stopped (SMS pumping).
func TestCodesPerClientLimit(t *testing.T) {
	cfg := testConfig(t)
	cfg.CodesPerHour = 3
	e := start(t, cfg, roles{true, true, true}, nil)
	for i := range 4 {
		r := e.c.must(http.MethodPost, "/api/v1/verification-codes", map[string]string{"to": fmt.Sprintf("1360013600%d", i), "purpose": "register"})
		switch {
		case i < 3 && r.Status != http.StatusAccepted:
			t.Fatalf("code %d: %d %s", i, r.Status, r.Body)
		case i == 3 && (r.Status != http.StatusTooManyRequests || r.errorCode() != "too_many_codes_from_client" || r.Header.Get("Retry-After") == ""):
			t.Fatalf("4th code from one client within the hour: %d %s", r.Status, r.Body)
		}
	}
}

// Whatever a client sends in headers, what is stored verifies: a request ID
// that JSON would rewrite (invalid UTF-8) is replaced, not stored.
func TestStoredHistoryVerifiesWhateverTheClientSends(t *testing.T) {
	e := start(t, testConfig(t), roles{true, true, true}, nil)
	login := "13300133000"
	if r := e.c.must(http.MethodPost, "/api/v1/verification-codes", map[string]string{"to": login, "purpose": "register"}, "X-Request-ID", "req-\xff\xfe"); r.Status != http.StatusAccepted {
		t.Fatalf("code: %d %s", r.Status, r.Body)
	}
	code, err := e.c.latestCode(login)
	if err != nil {
		t.Fatal(err)
	}
	r := e.c.must(http.MethodPost, "/api/v1/accounts", registration(login, code, goodPassword), "X-Request-ID", "req-\xff\xfe")
	if r.Status != http.StatusCreated {
		t.Fatalf("register: %d %s", r.Status, r.Body)
	}
	var reg struct{ ID string }
	r.json(t, &reg)
	ctx := context.Background()
	all, err := e.app.store.ReadAll(ctx, 0, 0)
	if err != nil || len(all) < 2 {
		t.Fatalf("read log: %d events, %v", len(all), err)
	}
	for _, ev := range all {
		if err := eventstore.VerifyStream(ctx, e.app.store, ev.Stream); err != nil {
			t.Fatalf("stored history does not verify: %v", err)
		}
		if ev.Stream == "account-"+reg.ID && (ev.Meta.CorrelationID == "" || strings.Contains(ev.Meta.CorrelationID, "req-")) {
			t.Fatalf("correlation ID %q: want a generated one", ev.Meta.CorrelationID)
		}
	}
}

// With no projector running, a read that must reflect the caller's own
// write waits (bounded) and then says the read models lag.
func TestReadWaitsThenReportsLag(t *testing.T) {
	cfg := testConfig(t)
	cfg.ReadWait = 200 * time.Millisecond
	shareRedis(t, &cfg)
	w := start(t, cfg, roles{write: true}, nil)
	rd := start(t, cfg, roles{read: true}, nil)
	if res, err := w.c.register("lag@example.com", goodPassword); err != nil || res.Status != http.StatusCreated {
		t.Fatalf("register: %v %d %s", err, res.Status, res.Body)
	}
	token, _ := w.c.login("lag@example.com", goodPassword)
	r := rd.c.must(http.MethodGet, "/api/v1/me", nil, "Authorization", "Bearer "+token)
	if r.Status != http.StatusServiceUnavailable || r.errorCode() != "projection_lag" || r.Header.Get("Retry-After") == "" {
		t.Fatalf("/me with no projector: %d %s", r.Status, r.Body)
	}
	if r := rd.c.must(http.MethodGet, "/readyz", nil); r.Status != http.StatusServiceUnavailable {
		t.Fatalf("readyz with projections behind: %d %s", r.Status, r.Body)
	}
}

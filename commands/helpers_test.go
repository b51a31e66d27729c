package commands_test

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"signet/commands"
	"signet/domain/account"
	"signet/domain/enterprise"
	"signet/domain/fault"
	"signet/infra/artwork"
	"signet/infra/auth"
	"signet/infra/bank"
	"signet/infra/blob"
	"signet/infra/carrier"
	"signet/infra/clock"
	"signet/infra/codes"
	"signet/infra/completion"
	"signet/infra/eventstore/sqlite"
	"signet/infra/face"
	"signet/infra/letter"
	"signet/infra/notify"
	"signet/infra/ocr"
	"signet/infra/password"
	"signet/infra/pdfdoc"
	"signet/infra/pki"
	"signet/infra/redisdb/redistest"
	"signet/infra/registry"
	"signet/infra/sealing"
	"signet/infra/tsa"
)

// testSealer is a real sealer: its own certificate authority and timestamp
// authority in the test's directory.
func testSealer(t *testing.T, art *artwork.Artwork) *sealing.Sealer {
	t.Helper()
	ca, err := pki.Open(t.TempDir(), []byte("test key store secret"), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	key, chain, _, err := ca.TimestampSigner(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ts, err := tsa.New(key, chain[0], chain, time.Now, nil)
	if err != nil {
		t.Fatal(err)
	}
	return sealing.New(ca, ts, art, nil)
}

var ctx = context.Background()

// 10:00 in Shanghai.
var t0 = time.Date(2026, 11, 30, 2, 0, 0, 0, time.UTC)

// world is a write side on a real SQLite event store and a real Redis
// namespace, with a fake clock and the dev notifier.
type world struct {
	store    *sqlite.Store
	events   commands.EventStore // what the handlers use (the store, or a wrapper around it)
	clock    *clock.Fake
	notes    *notify.Dev
	codes    *codes.Store
	throttle *codes.Throttle
	senders  *codes.SenderLimit
	issuer   *auth.Issuer
	carrier  *carrier.Dev
	face     *face.Dev
	bank     *bank.Dev
	metrics  *commands.MemoryMetrics
	logs     *syncBuffer
	cmds     commands.Commands
}

type option func(*world, *commands.Deps)

// withEvents puts a wrapper between the handlers and the SQLite store.
func withEvents(wrap func(commands.EventStore) commands.EventStore) option {
	return func(w *world, d *commands.Deps) { w.events = wrap(w.store); d.Events = w.events }
}

// withCodes replaces the code store.
func withCodes(c commands.CodeStore) option {
	return func(_ *world, d *commands.Deps) { d.Codes = c }
}

func newWorld(t *testing.T, opts ...option) *world {
	t.Helper()
	store, err := sqlite.Open(filepath.Join(t.TempDir(), "events.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	db := redistest.New(t)
	w := &world{
		store: store, events: store, clock: clock.NewFake(t0), notes: notify.NewDev(),
		metrics: commands.NewMemoryMetrics(), logs: &syncBuffer{},
	}
	w.codes = codes.New(db, w.clock, codes.Config{})
	w.throttle = codes.NewThrottle(db, w.clock, codes.ThrottleConfig{})
	w.senders = codes.NewSenderLimit(db, w.clock, 0, 0, nil)
	hasher, err := password.New(password.Params{Memory: 64, Time: 1, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	w.issuer, err = auth.NewIssuer(bytes.Repeat([]byte("k"), 32))
	if err != nil {
		t.Fatal(err)
	}
	blobs, err := blob.Open(filepath.Join(t.TempDir(), "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	w.carrier, w.face, w.bank = carrier.NewDev(w.clock), face.NewDev(w.clock), bank.NewDev(w.clock)
	art, err := artwork.New("") // SVG: no font needed
	if err != nil {
		t.Fatal(err)
	}
	d := commands.Deps{
		Verification: commands.VerificationDeps{
			Blobs: blobs, Recognizer: ocr.Manual{}, Carrier: w.carrier, Registry: registry.NewDev(w.clock), Face: w.face, Bank: w.bank,
			FaceCounter: codes.NewDailyCount(db, "face", []byte("k")), DepositCounter: codes.NewDailyCount(db, "deposits", []byte("k")), FaceCallbackURL: "http://127.0.0.1:8080/api/v1/callbacks/face",
			PlatformAccount: enterprise.PlatformAccount{Holder: "签网科技（演示）有限公司", AccountNumber: "10450000000000001"},
			RenderLetter:    letter.Render, PlatformName: "signet",
		},
		Lifecycle: commands.LifecycleDeps{PDF: pdfdoc.New(), Art: art, Sealer: testSealer(t, art), Completion: completion.Render},
		Events:    store, Notifier: w.notes, Codes: w.codes, Senders: w.senders, Hasher: hasher, Throttle: w.throttle, Tokens: w.issuer,
		Clock: w.clock, Metrics: w.metrics, PrivacyPolicyVersion: "2026-01",
		Logger: slog.New(slog.NewJSONHandler(w.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	for _, o := range opts {
		o(w, &d)
	}
	w.cmds, err = commands.New(d)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *world) head(t *testing.T) uint64 {
	t.Helper()
	h, err := w.store.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

var codeRE = regexp.MustCompile(`验证码是 (\d{6})`)

// requestCode asks for a registration code for to and returns it as
// received.
func (w *world) requestCode(t *testing.T, to string) string {
	t.Helper()
	if _, err := w.cmds.RequestCode.Handle(ctx, commands.RequestCode{To: to, Purpose: "register", ClientIP: "10.0.0.1"}); err != nil {
		t.Fatalf("request code for %s: %v", to, err)
	}
	l, err := account.ParseLogin(to)
	if err != nil {
		t.Fatal(err)
	}
	return w.lastCode(t, l.String())
}

func (w *world) lastCode(t *testing.T, normalisedTo string) string {
	t.Helper()
	m, ok := w.notes.Last(normalisedTo)
	if !ok {
		t.Fatalf("no message to %s", normalisedTo)
	}
	c := codeRE.FindStringSubmatch(m.Body)
	if c == nil {
		t.Fatalf("no code in %q", m.Body)
	}
	return c[1]
}

func registration(login, code string) commands.RegisterAccount {
	return commands.RegisterAccount{
		Login: login, Code: code, Name: "张三", Company: "上海某某科技有限公司", Password: "Passw0rd",
		AcceptPrivacyPolicy: true, ClientIP: "10.0.0.1", CorrelationID: "corr-1",
	}
}

func wantFault(t *testing.T, err error, kind fault.Kind, code, field string) *fault.Error {
	t.Helper()
	f, ok := fault.As(err)
	if !ok {
		t.Fatalf("error %v, want *fault.Error %s", err, code)
	}
	if f.Kind != kind || f.Code != code || f.Field != field {
		t.Fatalf("fault kind %d %q field %q (%s), want kind %d %q field %q", f.Kind, f.Code, f.Field, f.Message, kind, code, field)
	}
	return f
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func mustHasher(t *testing.T) *password.Hasher {
	t.Helper()
	h, err := password.New(password.Params{Memory: 64, Time: 1, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func mustNormal(t *testing.T, login string) string {
	t.Helper()
	l, err := account.ParseLogin(login)
	if err != nil {
		t.Fatal(err)
	}
	return l.String()
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

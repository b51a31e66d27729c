package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"signet/commands"
	"signet/domain/account"
	"signet/domain/fault"
	"signet/infra/artwork"
	"signet/infra/auditlog"
	"signet/infra/auth"
	"signet/infra/blob"
	"signet/infra/clock"
	"signet/infra/codes"
	"signet/infra/eventstore"
	"signet/infra/eventstore/esdb"
	"signet/infra/eventstore/sqlite"
	"signet/infra/notify"
	"signet/infra/password"
	"signet/infra/pdfdoc"
	"signet/infra/pki"
	"signet/infra/projector"
	"signet/infra/redisdb"
	"signet/infra/web"
	"signet/projections"
	"signet/projections/accounts"
	"signet/projections/batches"
	"signet/projections/boxes"
	"signet/projections/contracts"
	"signet/projections/enterprises"
	"signet/projections/templates"
	"signet/readapi"
	"signet/writeapi"
)

// roles says which parts of signet a process runs.
type roles struct{ write, read, project bool }

// passwordParams are the argon2id costs; tests lower them.
var passwordParams = password.DefaultParams

// privacyPolicyVersion is the version of the personal-data protection policy
// shown at registration; accepting it is recorded with this version.
const privacyPolicyVersion = "2026-11"

// findFont finds a CJK font for seals and signatures; tests replace it to
// play a machine without one.
var findFont = artwork.FindFont

// newClock tells the time to the write side; tests replace it.
var newClock = func() clock.Clock { return clock.Real{} }

// app is one process's wiring: the adapters it opened and the parts built on them.
type app struct {
	cfg    config
	roles  roles
	log    *slog.Logger
	clock  clock.Clock
	store  eventstore.Store
	redis  *redisdb.DB
	runner *projector.Runner
	search *searchPart // nil when the process has no search
	tokens *auth.Issuer
	outbox *notify.Dev
	blobs  *blob.Store
	ca     *pki.Authority
	heads  *commands.TreeHeads
	cmds   commands.Commands
	router *mux.Router

	providers *providers

	cmdMetrics *commands.MemoryMetrics
}

// allProjections are the read models, in the order they are run and listed;
// h is the event log, which the lists read contracts' histories from.
func allProjections(h boxes.History) []projections.Projection {
	return []projections.Projection{accounts.Projection{}, enterprises.Projection{}, templates.Projection{}, contracts.Projection{}, batches.Projection{}, boxes.New(h)}
}

func openStore(ctx context.Context, cfg config) (eventstore.Store, error) {
	if cfg.EventStoreURL != "" {
		s, err := esdb.Open(ctx, cfg.EventStoreURL)
		if err != nil {
			return nil, fmt.Errorf("open EventStoreDB: %w", err)
		}
		return s, nil
	}
	if err := os.MkdirAll(cfg.Data, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	s, err := sqlite.Open(cfg.sqlitePath())
	if err != nil {
		return nil, fmt.Errorf("open SQLite event store: %w", err)
	}
	return s, nil
}

// newApp opens what the roles need. Separate read or projector processes
// must share a real Redis: an in-process one lives and dies with serve.
func newApp(ctx context.Context, cfg config, r roles, logger *slog.Logger) (_ *app, err error) {
	a := &app{cfg: cfg, roles: r, log: logger, clock: newClock()}
	defer func() {
		if err != nil {
			a.Close()
		}
	}()
	shared := (r.read || r.project) && !(r.read && r.project && r.write)
	if shared && cfg.RedisURL == "" {
		return nil, errors.New("this part needs a Redis shared with the other parts: set SIGNET_REDIS_URL (or run `signet serve`, which has its own)")
	}
	if a.store, err = openStore(ctx, cfg); err != nil {
		return nil, err
	}
	if a.redis, err = redisdb.Open(ctx, cfg.RedisURL, cfg.RedisPrefix); err != nil {
		return nil, err
	}
	a.runner, err = projector.New(a.redis, a.store, allProjections(a.store), logger)
	if err != nil {
		return nil, err
	}
	if a.search, err = openSearch(ctx, cfg, r, logger, a.store); err != nil {
		return nil, err
	}
	if r.write || r.read {
		if err := os.MkdirAll(cfg.Data, 0o700); err != nil {
			return nil, fmt.Errorf("data directory: %w", err)
		}
		// Uploaded documents: written by the write side, served to
		// administrators and operators by the read side.
		if a.blobs, err = blob.Open(filepath.Join(cfg.Data, "blobs")); err != nil {
			return nil, err
		}
		key, err := auth.LoadOrCreateKey(cfg.Data, cfg.JWTKey)
		if err != nil {
			return nil, err
		}
		if a.tokens, err = auth.NewIssuer(key); err != nil {
			return nil, err
		}
		if r.write {
			if err := a.buildCommands(key); err != nil {
				return nil, err
			}
		}
	}
	return a, nil
}

func (a *app) buildCommands(key []byte) error {
	hasher, err := password.New(passwordParams)
	if err != nil {
		return err
	}
	// Codes are stored as HMACs under a key of their own, derived from the
	// token key so that a deployment has one secret to keep.
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("signet verification codes"))
	codeCfg := codes.DefaultConfig()
	codeCfg.Secret = mac.Sum(nil)

	// No SMS or email provider is wired yet: messages are kept in the dev
	// outbox, readable only under --dev.
	a.outbox = notify.NewDev()
	if !a.cfg.Dev {
		a.log.Warn("no SMS or email provider is configured: verification codes can only be read with --dev at /dev/messages")
	}
	// Signed tree heads over the whole log, with a key of their own that
	// auditors pin (signet audit public-key).
	logKey, err := auditlog.LoadOrCreateLogKey(a.cfg.Data)
	if err != nil {
		return fmt.Errorf("tree head key: %w", err)
	}
	a.heads = &commands.TreeHeads{Store: a.store, Signer: logKey, Clock: a.clock, Logger: a.log}
	a.cmdMetrics = commands.NewMemoryMetrics()
	verification, err := a.verificationDeps(key)
	if err != nil {
		return err
	}
	lifecycle, err := a.lifecycleDeps(key)
	if err != nil {
		return err
	}
	logPub, err := auditlog.MarshalPublicKey(logKey.PublicKey())
	if err != nil {
		return err
	}
	a.cmds, err = commands.New(commands.Deps{
		Verification:         verification,
		Lifecycle:            lifecycle,
		Evidence:             commands.EvidenceDeps{Heads: a.heads, CAPEM: a.ca.RootPEM(), LogKeyPEM: logPub},
		Events:               a.store,
		Notifier:             a.outbox,
		Codes:                codes.New(a.redis, a.clock, codeCfg),
		Senders:              codes.NewSenderLimit(a.redis, a.clock, a.cfg.CodesPerHour, time.Hour, codeCfg.Secret),
		Hasher:               hasher,
		Throttle:             codes.NewThrottle(a.redis, a.clock, codes.ThrottleConfig{Secret: codeCfg.Secret}),
		Tokens:               a.tokens,
		Clock:                a.clock,
		Logger:               a.log,
		Metrics:              a.cmdMetrics,
		PrivacyPolicyVersion: privacyPolicyVersion,
	})
	return err
}

// lifecycleDeps are the ports of templates, seals, sending and signing.
// Seals and typed signatures are drawn as PNG with a CJK font found on the
// system (SIGNET_CJK_FONT or the usual paths); without one, as SVG that
// the viewer's fonts draw.
func (a *app) lifecycleDeps(tokenKey []byte) (commands.LifecycleDeps, error) {
	font := findFont()
	art, err := artwork.New(font)
	if err != nil {
		return commands.LifecycleDeps{}, fmt.Errorf("seal font: %w", err)
	}
	if font == "" {
		a.log.Warn("no CJK font found: seals and signatures are drawn as SVG; install fonts-wqy-zenhei or set SIGNET_CJK_FONT for PNG")
	}
	seal, render, err := a.sealingDeps(context.Background(), tokenKey, art)
	if err != nil {
		return commands.LifecycleDeps{}, err
	}
	return commands.LifecycleDeps{PDF: pdfdoc.New(), Art: art, PublicURL: a.publicURL(), Sealer: seal, Completion: render}, nil
}

// deadlines is the policy that expires contracts past their signing deadline.
func (a *app) deadlines() commands.Deadlines {
	return commands.Deadlines{Due: contracts.Reader{DB: a.redis}, Expire: a.cmds.Contracts.Expire, Clock: a.clock, Logger: a.log}
}

// sealing is the policy that retries the final documents of contracts.
func (a *app) sealing() commands.Sealing {
	return commands.Sealing{Due: contracts.Reader{DB: a.redis}, Seal: a.cmds.Contracts.Seal, Clock: a.clock, Logger: a.log}
}

func (a *app) verify(token string) (web.Principal, error) {
	c, err := a.tokens.Verify(token, a.clock.Now())
	if err != nil {
		return web.Principal{}, err
	}
	return web.Principal{AccountID: c.AccountID, Position: c.Position}, nil
}

// handler is the HTTP surface of the process's roles.
func (a *app) handler() http.Handler {
	r := mux.NewRouter()
	a.router = r
	r.NotFoundHandler = web.NotFound()
	r.MethodNotAllowedHandler = web.MethodNotAllowed()
	a.routes(r)
	return web.Common(r)
}

// routes mounts every endpoint of the process's roles on r.
func (a *app) routes(r *mux.Router) {
	r.HandleFunc("/healthz", web.Healthz).Methods(http.MethodGet)
	r.HandleFunc("/readyz", web.Readyz(a.readyChecks()...)).Methods(http.MethodGet)
	r.HandleFunc("/metrics", a.metrics).Methods(http.MethodGet)
	if a.roles.write {
		writeapi.Register(r, writeapi.Deps{
			Commands:      a.cmds,
			Verify:        a.verify,
			FaceCallbacks: a.callbackVerifier(a.providers.faceSecret),
			BankCallbacks: a.callbackVerifier(a.providers.bankSecret),
		})
	}
	if a.roles.read {
		readapi.Register(r, readapi.Deps{
			Profiles:      accounts.Reader{DB: a.redis},
			Enterprises:   enterprises.Reader{DB: a.redis, Now: a.clock.Now},
			PlatformRoles: accounts.Reader{DB: a.redis},
			Files:         a.blobs,
			Waiter:        a.runner,
			Head:          a.store.Head,
			Verify:        a.verify,
			WaitBound:     a.cfg.ReadWait,
			Contracts:     contracts.Reader{DB: a.redis},
			Templates:     templates.Reader{DB: a.redis},
			LoginKeys:     accounts.Reader{DB: a.redis},
			History:       a.store,
			Seals:         readapi.SealReaders{Enterprises: enterprises.Reader{DB: a.redis, Now: a.clock.Now}, Accounts: accounts.Reader{DB: a.redis}},
			Batches:       batches.Reader{DB: a.redis, Now: a.clock.Now},
			Boxes:         boxes.Reader{DB: a.redis, Now: a.clock.Now},
			Search:        a.searchDeps(),
		})
	}
	if a.cfg.Dev && a.outbox != nil {
		r.HandleFunc("/dev/messages", a.devMessages).Methods(http.MethodGet)
		a.devProviderRoutes(r)
	}
}

func (a *app) readyChecks() []web.Check {
	checks := []web.Check{
		{Name: "eventstore", Run: func(ctx context.Context) (any, error) {
			head, err := a.store.Head(ctx)
			return map[string]uint64{"head": head}, err
		}},
		{Name: "redis", Run: func(ctx context.Context) (any, error) {
			return map[string]bool{"embedded": a.redis.Embedded()}, a.redis.Ping(ctx).Err()
		}},
	}
	if a.roles.read || a.roles.project {
		// Caught up within a bound: the projections reach the head seen now
		// within a second.
		checks = append(checks, web.Check{Name: "projections", Run: func(ctx context.Context) (any, error) {
			head, err := a.store.Head(ctx)
			if err != nil {
				return nil, err
			}
			wctx, cancel := context.WithTimeout(ctx, time.Second)
			defer cancel()
			reached, err := a.runner.WaitFor(wctx, head)
			st, serr := a.runner.Status(ctx)
			if err == nil && serr != nil {
				err = serr
			}
			if err == nil && !reached {
				err = fmt.Errorf("projections have not reached position %d within a second", head)
			}
			return statusJSON(st), err
		}})
	}
	if a.search != nil {
		checks = append(checks, a.searchCheck())
	}
	return checks
}

type projectionStatus struct {
	Name       string `json:"name"`
	Checkpoint uint64 `json:"checkpoint"`
	Head       uint64 `json:"head"`
	Lag        uint64 `json:"lag"`
	CaughtUp   bool   `json:"caught_up"`
	Poisoned   int64  `json:"poisoned"`
}

func statusJSON(st []projector.Status) []projectionStatus {
	out := make([]projectionStatus, len(st))
	for i, s := range st {
		out[i] = projectionStatus{s.Name, s.Checkpoint, s.Head, s.Lag, s.CaughtUp, s.Poisoned}
	}
	return out
}

type devMessage struct {
	To      string    `json:"to"`
	Channel string    `json:"channel"`
	Subject string    `json:"subject,omitempty"`
	Body    string    `json:"body"`
	SentAt  time.Time `json:"sent_at"`
}

// devMessages shows what the dev notifier sent to a login, newest last. The
// login may be written as at registration ("138 0013 8000", "+86...").
func (a *app) devMessages(w http.ResponseWriter, r *http.Request) {
	to := strings.TrimSpace(r.URL.Query().Get("to"))
	if to == "" {
		web.WriteError(w, r, fault.Invalidf("to", "missing_to", "Say whose messages to show: /dev/messages?to=<phone or email>."))
		return
	}
	if l, err := account.ParseLogin(to); err == nil {
		to = l.String()
	}
	msgs := a.outbox.Messages(to)
	out := make([]devMessage, len(msgs))
	for i, m := range msgs {
		out[i] = devMessage{m.To, m.Channel, m.Subject, m.Body, m.SentAt}
	}
	web.WriteJSON(w, http.StatusOK, out)
}

// Close releases everything opened, in reverse order.
func (a *app) Close() error {
	var errs []error
	errs = append(errs, a.search.Close())
	if a.runner != nil {
		errs = append(errs, a.runner.Close())
	}
	if a.redis != nil {
		errs = append(errs, a.redis.Close())
	}
	if a.store != nil {
		errs = append(errs, a.store.Close())
	}
	return errors.Join(errs...)
}

package commands

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"signet/domain/account"
	"signet/domain/fault"
)

// Login checks a login and password and issues a bearer token.
type Login struct {
	Login    string
	Password string
	ClientIP string
}

// LogValue shows the command without the password or the full login.
func (c Login) LogValue() slog.Value {
	return slog.GroupValue(slog.String("login", maskAsTyped(c.Login)), slog.String("client_ip", c.ClientIP))
}

// LoginResult is the bearer token. Its "pos" claim is the global position
// of the account's last event.
type LoginResult struct {
	Token     string
	ExpiresAt time.Time
	AccountID string
}

// ErrInvalidCredentials: unknown login or wrong password, indistinguishably.
var ErrInvalidCredentials = fault.New(fault.Unauthorized, "invalid_credentials", "the login or the password is not correct")

type loginHandler struct {
	events   EventStore
	hasher   PasswordHasher
	throttle LoginThrottle
	tokens   TokenIssuer
	clock    Clock

	// dummy is a hash to verify against when the login is unknown, so that
	// an unknown login costs as much time as a wrong password.
	dummyOnce sync.Once
	dummy     string
}

// NewLoginHandler returns the decorated Login handler. It panics when d
// lacks Events, Hasher, Throttle, Tokens or Clock.
func NewLoginHandler(d Deps) Handler[Login, LoginResult] {
	if d.Events == nil || d.Hasher == nil || d.Throttle == nil || d.Tokens == nil || d.Clock == nil {
		panic("commands: Login needs Events, Hasher, Throttle, Tokens and Clock")
	}
	d = d.withDefaults()
	return ApplyDecorators[Login, LoginResult](&loginHandler{
		events: d.Events, hasher: d.Hasher, throttle: d.Throttle, tokens: d.Tokens, clock: d.Clock,
	}, d.Logger, d.Metrics)
}

// Handle refuses a malformed login (400 invalid_login) or an empty password
// (400 password_required); a locked login (429 login_locked with
// RetryAfter); an unknown login or a wrong password alike (401
// invalid_credentials, counted by the throttle: the 5th within 15 minutes
// locks the login for 15 minutes). The throttle counts the attempt before
// the password is verified, so that concurrent guesses cannot all pass it
// before the first failure is recorded; a right password forgets the
// attempts. Otherwise it issues a token carrying the position of the
// account's last event.
func (h *loginHandler) Handle(ctx context.Context, cmd Login) (LoginResult, error) {
	login, err := account.ParseLogin(cmd.Login)
	if err != nil {
		return LoginResult{}, err
	}
	if cmd.Password == "" {
		return LoginResult{}, fault.Invalidf("password", "password_required", "enter the password")
	}
	key := string(login.Kind()) + ":" + login.String()
	// Counts this attempt (or refuses it while the login is locked).
	if err := h.throttle.Check(ctx, key); err != nil {
		return LoginResult{}, depErr("check login throttle", errThrottleDown, err)
	}

	o, err := findOwner(ctx, h.events, login)
	if err != nil {
		return LoginResult{}, err
	}
	var acct *account.Account
	if o.taken() {
		if acct, err = account.Replay(o.account); err != nil {
			return LoginResult{}, fmt.Errorf("load account: %w", err)
		}
	}
	ok := false
	if acct == nil {
		// Spend the time a wrong password would take; the answer is no anyway.
		_, _ = h.hasher.Verify(cmd.Password, h.dummyHash())
	} else if ok, err = h.hasher.Verify(cmd.Password, acct.PasswordHash()); err != nil {
		return LoginResult{}, fmt.Errorf("verify password of account %s: %w", acct.ID(), err)
	}
	if acct == nil || !ok {
		if _, err := h.throttle.Failed(ctx, key); err != nil {
			return LoginResult{}, depErr("record failed login", errThrottleDown, err)
		}
		return LoginResult{}, ErrInvalidCredentials
	}
	// The password is right: forget the attempts (this one included, which
	// Check counted) before refusing an inactive account.
	if err := h.throttle.Succeeded(ctx, key); err != nil {
		return LoginResult{}, depErr("reset login throttle", errThrottleDown, err)
	}
	if err := acct.CheckCanLogIn(); err != nil {
		return LoginResult{}, err
	}
	last := o.account[len(o.account)-1]
	token, expiresAt, err := h.tokens.Issue(acct.ID(), last.Position, h.clock.Now())
	if err != nil {
		return LoginResult{}, fmt.Errorf("issue token: %w", err)
	}
	return LoginResult{Token: token, ExpiresAt: expiresAt, AccountID: acct.ID()}, nil
}

func (h *loginHandler) dummyHash() string {
	h.dummyOnce.Do(func() {
		var b [16]byte
		rand.Read(b[:])
		h.dummy, _ = h.hasher.Hash(hex.EncodeToString(b[:]))
	})
	return h.dummy
}

package commands

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"signet/domain/account"
	"signet/domain/event"
	"signet/domain/fault"
)

// RegisterAccount registers a new account (企业账号注册): the login proven
// by a code sent to it, the holder's real name, the company (or "无"), the
// inviting enterprise if any, a password and the consent boxes.
type RegisterAccount struct {
	Login               string
	Code                string
	Name                string
	Company             string
	InvitedBy           string
	Password            string
	AcceptPrivacyPolicy bool
	AcceptPhoneFollowup bool
	ClientIP            string
	CorrelationID       string
}

// LogValue shows the command without password, code or full login.
func (c RegisterAccount) LogValue() slog.Value {
	return slog.GroupValue(slog.String("login", maskAsTyped(c.Login)), slog.Bool("accept_privacy_policy", c.AcceptPrivacyPolicy),
		slog.String("client_ip", c.ClientIP), slog.String("correlation_id", c.CorrelationID))
}

// RegisterAccountResult names the new account; Position is the global
// position of the last event appended to it (its PersonalQuotaGranted,
// which follows AccountRegistered in the same append).
type RegisterAccountResult struct {
	AccountID   string
	MaskedLogin string
	Position    uint64
}

type registerAccountHandler struct {
	events        EventStore
	codes         CodeStore
	hasher        PasswordHasher
	clock         Clock
	ids           IDs
	policyVersion string
}

// NewRegisterAccountHandler returns the decorated RegisterAccount handler.
// It panics when d lacks Events, Codes, Hasher or Clock.
func NewRegisterAccountHandler(d Deps) Handler[RegisterAccount, RegisterAccountResult] {
	if d.Events == nil || d.Codes == nil || d.Hasher == nil || d.Clock == nil {
		panic("commands: RegisterAccount needs Events, Codes, Hasher and Clock")
	}
	d = d.withDefaults()
	return ApplyDecorators[RegisterAccount, RegisterAccountResult](registerAccountHandler{
		events: d.Events, codes: d.Codes, hasher: d.Hasher, clock: d.Clock, ids: d.IDs, policyVersion: d.PrivacyPolicyVersion,
	}, d.Logger, d.Metrics)
}

var (
	errCodeFormat = fault.Invalidf("code", "invalid_code", "enter the 6-digit code that was sent to you")
	errTooSlow    = fault.New(fault.Unavailable, "registration_timeout", "the registration took too long; try again in a minute")
)

// Handle registers the account. In order, and stopping at the first refusal
// with nothing appended:
//
//  1. every field is validated (login, name, company, invited_by, password
//     policy, privacy consent, code format): 400 / 422;
//  2. the code is checked and consumed: 400 invalid_code / code_expired /
//     code_attempts_exhausted;
//  3. a login that already has an account (or whose registration is in
//     progress) is refused: 409 login_taken. This comes after the code so
//     that only someone holding a code (rate limited per destination and
//     per client) learns whether a login is registered;
//  4. the password is hashed and the domain decides AccountRegistered;
//  5. the login is reserved by appending LoginReserved to its reservation
//     stream with "no stream" (a concurrent registration of the same login
//     gets 409 login_taken); a reservation left by a registration that died
//     before step 6 and is older than account.ReclaimAfter is reclaimed
//     with LoginReservationReclaimed at the stream's exact version;
//  6. AccountRegistered and the registration quota (PersonalQuotaGranted)
//     are appended together to "account-<uuid>" with "no stream".
func (h registerAccountHandler) Handle(ctx context.Context, cmd RegisterAccount) (RegisterAccountResult, error) {
	now := h.clock.Now()
	app, err := account.Form{
		Login: cmd.Login, Name: cmd.Name, Company: cmd.Company, InvitedBy: cmd.InvitedBy, Password: cmd.Password,
		AcceptPrivacyPolicy: cmd.AcceptPrivacyPolicy, AcceptPhoneFollowup: cmd.AcceptPhoneFollowup,
	}.Validate()
	if err != nil {
		return RegisterAccountResult{}, err
	}
	if !sixDigits(cmd.Code) {
		return RegisterAccountResult{}, errCodeFormat
	}
	accountID := h.ids.NewID()

	// 2.
	if err := h.codes.Verify(ctx, PurposeRegister, app.Login.String(), cmd.Code); err != nil {
		return RegisterAccountResult{}, depErr("verify code", errCodesUnavailable, err)
	}

	// 3.
	o, err := findOwner(ctx, h.events, app.Login)
	if err != nil {
		return RegisterAccountResult{}, err
	}
	if o.reservation != nil {
		if _, err := o.reservation.Reclaim(accountID, o.taken(), now); err != nil {
			return RegisterAccountResult{}, err
		}
	}

	// 4.
	hash, err := h.hasher.Hash(cmd.Password)
	if err != nil {
		return RegisterAccountResult{}, fmt.Errorf("hash password: %w", err)
	}
	decided, err := (&account.Account{}).Register(app, account.Registration{
		AccountID: accountID, PasswordHash: hash, PrivacyPolicyVersion: h.policyVersion,
	}, now)
	if err != nil {
		return RegisterAccountResult{}, err
	}
	correlation := cmd.CorrelationID
	if correlation == "" {
		correlation = h.ids.NewID()
	}
	meta := event.Metadata{Actor: accountID, CorrelationID: correlation, ClientIP: cmd.ClientIP, OccurredAt: now}
	accountEvents, err := h.toNew(decided, meta)
	if err != nil {
		return RegisterAccountResult{}, err
	}

	// 5.
	if err := h.reserve(ctx, app.Login, accountID, now, meta); err != nil {
		return RegisterAccountResult{}, err
	}
	// A registration this slow may already have lost its reservation to a
	// reclaim; appending the account now could give the login two accounts.
	if h.clock.Now().Sub(now) >= account.ReclaimAfter/2 {
		return RegisterAccountResult{}, errTooSlow
	}

	// 6.
	res, err := h.events.Append(ctx, account.StreamOf(accountID), event.NoStream, accountEvents...)
	if err != nil {
		return RegisterAccountResult{}, storeErr("append account", err)
	}
	return RegisterAccountResult{AccountID: accountID, MaskedLogin: app.Login.Mask(), Position: res.LastPosition}, nil
}

func (h registerAccountHandler) toNew(events []account.Event, meta event.Metadata) ([]event.New, error) {
	out := make([]event.New, 0, len(events))
	for _, e := range events {
		n, err := account.NewEvent(h.ids.NewID(), e, meta)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

// reserve appends LoginReserved to the login's reservation stream, or
// reclaims an abandoned reservation.
func (h registerAccountHandler) reserve(ctx context.Context, login account.Login, accountID string, now time.Time, meta event.Metadata) error {
	stream := login.ReservationStream()
	decided, err := (&account.Reservation{}).Reserve(login, accountID, now)
	if err != nil {
		return err
	}
	evs, err := h.toNew(decided, meta)
	if err != nil {
		return err
	}
	_, err = h.events.Append(ctx, stream, event.NoStream, evs...)
	if err == nil {
		return nil
	}
	if !errors.Is(err, event.ErrConcurrency) {
		return storeErr("reserve login", err)
	}

	// The stream exists: taken, in progress, or abandoned.
	o, err := findOwner(ctx, h.events, login)
	if err != nil {
		return err
	}
	if o.reservation == nil || !o.reservation.Reserved() {
		return account.ErrLoginTaken // it existed a moment ago; do not guess
	}
	decided, err = o.reservation.Reclaim(accountID, o.taken(), now)
	if err != nil {
		return err
	}
	if evs, err = h.toNew(decided, meta); err != nil {
		return err
	}
	_, err = h.events.Append(ctx, stream, event.Exactly(o.reservation.Version()), evs...)
	if errors.Is(err, event.ErrConcurrency) {
		return account.ErrLoginTaken // another registration reclaimed it first
	}
	if err != nil {
		return storeErr("reclaim login reservation", err)
	}
	return nil
}

func sixDigits(s string) bool {
	if len(s) != 6 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

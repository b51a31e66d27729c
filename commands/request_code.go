package commands

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"time"

	"signet/domain/account"
	"signet/domain/fault"
	"signet/infra/notify"
)

// Purposes of verification codes.
const (
	PurposeRegister = "register"
)

// RequestCode sends a verification code to a phone number (SMS) or an
// email address.
type RequestCode struct {
	To       string // phone number or email address, as typed
	Purpose  string // PurposeRegister
	ClientIP string
}

// LogValue shows the command without the full destination.
func (c RequestCode) LogValue() slog.Value {
	return slog.GroupValue(slog.String("to", maskAsTyped(c.To)), slog.String("purpose", c.Purpose), slog.String("client_ip", c.ClientIP))
}

// RequestCodeResult says until when the code is valid and when the next one
// may be requested.
type RequestCodeResult struct {
	ExpiresAt   time.Time
	ResendAfter time.Time
}

type requestCodeHandler struct {
	events   EventStore
	codes    CodeStore
	senders  SenderLimit
	notifier Notifier
	clock    Clock
}

// NewRequestCodeHandler returns the decorated RequestCode handler. It panics
// when d lacks Events, Codes, Senders, Notifier or Clock.
func NewRequestCodeHandler(d Deps) Handler[RequestCode, RequestCodeResult] {
	if d.Events == nil || d.Codes == nil || d.Senders == nil || d.Notifier == nil || d.Clock == nil {
		panic("commands: RequestCode needs Events, Codes, Senders, Notifier and Clock")
	}
	d = d.withDefaults()
	return ApplyDecorators[RequestCode, RequestCodeResult](
		requestCodeHandler{events: d.Events, codes: d.Codes, senders: d.Senders, notifier: d.Notifier, clock: d.Clock}, d.Logger, d.Metrics)
}

// Handle refuses an unknown purpose (400 invalid_purpose on "purpose"), a
// malformed destination (400 invalid_login on "to"), a login that already
// has an account (409 login_taken on "to") and rate-limited requests (429
// with RetryAfter); otherwise it issues a code and sends it.
func (h requestCodeHandler) Handle(ctx context.Context, cmd RequestCode) (RequestCodeResult, error) {
	if cmd.Purpose != PurposeRegister {
		return RequestCodeResult{}, fault.Invalidf("purpose", "invalid_purpose", "unknown code purpose %q", cmd.Purpose)
	}
	login, err := account.ParseLogin(cmd.To)
	if err != nil {
		return RequestCodeResult{}, onField(err, "to")
	}
	// Counted before saying whether the login is taken, so that probing
	// which numbers are registered is rate limited too.
	if err := h.senders.Allow(ctx, cmd.ClientIP); err != nil {
		return RequestCodeResult{}, depErr("limit code sender", errCodesUnavailable, err)
	}
	o, err := findOwner(ctx, h.events, login)
	if err != nil {
		return RequestCodeResult{}, err
	}
	if o.taken() {
		return RequestCodeResult{}, account.ErrLoginTaken.OnField("to")
	}
	code, expiresAt, resendAfter, err := h.codes.Issue(ctx, cmd.Purpose, login.String())
	if err != nil {
		return RequestCodeResult{}, depErr("issue code", errCodesUnavailable, err)
	}
	now := h.clock.Now()
	if err := h.notifier.Notify(ctx, codeMessage(login, code, expiresAt.Sub(now), now)); err != nil {
		return RequestCodeResult{}, depErr("send code", errNotifyFailed, err)
	}
	return RequestCodeResult{ExpiresAt: expiresAt, ResendAfter: resendAfter}, nil
}

// codeMessage is the SMS or email carrying a code.
func codeMessage(to account.Login, code string, valid time.Duration, now time.Time) notify.Message {
	minutes := max(1, int(math.Round(valid.Minutes())))
	text := fmt.Sprintf("您的验证码是 %s，%d分钟内有效。", code, minutes)
	if to.Kind() == account.Phone {
		return notify.Message{To: to.String(), Channel: notify.SMS, Body: "【signet】" + text, SentAt: now}
	}
	return notify.Message{
		To: to.String(), Channel: notify.Email, Subject: "【signet】验证码 " + code,
		Body:   "您好：\n\n" + text + "\n如非本人操作，请忽略本邮件。\n\nsignet",
		SentAt: now,
	}
}

// onField re-blames a *fault.Error on another field (the command's name for it).
func onField(err error, field string) error {
	if f, ok := fault.As(err); ok {
		return f.OnField(field)
	}
	return err
}

// maskAsTyped masks a login for logs even when it does not parse.
func maskAsTyped(s string) string {
	if l, err := account.ParseLogin(s); err == nil {
		return l.Mask()
	}
	return fmt.Sprintf("<unparsable, %d bytes>", len(s))
}

package commands

import (
	"context"

	"signet/domain/account"
	"signet/domain/event"
	"signet/domain/fault"
)

// GrantPlatformRole gives an account a platform role (operator: reviews
// authorization letters; auditor: reads everything). Run by an
// administrator of the platform through the CLI, never over HTTP.
type GrantPlatformRole struct {
	Login     string
	Role      string
	GrantedBy string // who ran the command, for the record
}

// GrantPlatformRoleResult names the account.
type GrantPlatformRoleResult struct {
	AccountID string
	Written
}

type grantRoleHandler struct {
	events EventStore
	clock  Clock
	ids    IDs
}

// NewGrantPlatformRoleHandler returns the decorated handler.
func NewGrantPlatformRoleHandler(d Deps) Handler[GrantPlatformRole, GrantPlatformRoleResult] {
	d = d.withDefaults()
	return ApplyDecorators[GrantPlatformRole, GrantPlatformRoleResult](grantRoleHandler{events: d.Events, clock: d.Clock, ids: d.IDs}, d.Logger, d.Metrics)
}

func (h grantRoleHandler) Handle(ctx context.Context, c GrantPlatformRole) (GrantPlatformRoleResult, error) {
	login, err := account.ParseLogin(c.Login)
	if err != nil {
		return GrantPlatformRoleResult{}, err
	}
	o, err := findOwner(ctx, h.events, login)
	if err != nil {
		return GrantPlatformRoleResult{}, err
	}
	if !o.taken() {
		return GrantPlatformRoleResult{}, fault.New(fault.NotFound, "account_not_found", "No account has this login.")
	}
	a, err := account.Replay(o.account)
	if err != nil {
		return GrantPlatformRoleResult{}, err
	}
	now := h.clock.Now()
	evs, err := a.GrantPlatformRole(c.Role, c.GrantedBy, now)
	if err != nil || len(evs) == 0 {
		return GrantPlatformRoleResult{AccountID: a.ID()}, err
	}
	meta := event.Metadata{Actor: c.GrantedBy, CorrelationID: h.ids.NewID(), OccurredAt: now}
	news := make([]event.New, 0, len(evs))
	for _, ev := range evs {
		n, err := account.NewEvent(h.ids.NewID(), ev, meta)
		if err != nil {
			return GrantPlatformRoleResult{}, err
		}
		news = append(news, n)
	}
	res, err := h.events.Append(ctx, account.StreamOf(a.ID()), event.Exactly(a.Version()), news...)
	if err != nil {
		return GrantPlatformRoleResult{}, storeErr("append role", err)
	}
	return GrantPlatformRoleResult{AccountID: a.ID(), Written: Written{res.LastPosition}}, nil
}

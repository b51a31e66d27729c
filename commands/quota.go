package commands

import (
	"context"
	"errors"
	"log/slog"

	"signet/domain/enterprise"
	"signet/domain/event"
)

// GrantEnterpriseQuota gives an enterprise more contracts to send (a
// purchase, a promotion, a correction). Run by platform staff through the
// CLI, never over HTTP: nobody can grant their own enterprise contracts.
type GrantEnterpriseQuota struct {
	EnterpriseID string
	Amount       int    // 1..enterprise.MaxQuotaGrant
	Reason       string // recorded for the auditors
	GrantedBy    string // who ran the command: the events' actor
}

// LogValue shows the grant; the reason may be long and is in the event.
func (c GrantEnterpriseQuota) LogValue() slog.Value {
	return slog.GroupValue(slog.String("enterprise", c.EnterpriseID), slog.Int("amount", c.Amount), slog.String("granted_by", c.GrantedBy))
}

type grantQuotaHandler struct {
	enterprises
	clock Clock
}

// NewGrantEnterpriseQuotaHandler returns the decorated handler. It needs
// only Events and Clock (and uses IDs, Logger and Metrics when given).
func NewGrantEnterpriseQuotaHandler(d Deps) Handler[GrantEnterpriseQuota, Written] {
	d = d.withDefaults()
	return ApplyDecorators[GrantEnterpriseQuota, Written](grantQuotaHandler{enterprises: enterprises{events: d.Events, ids: d.IDs}, clock: d.Clock}, d.Logger, d.Metrics)
}

func (h grantQuotaHandler) Handle(ctx context.Context, c GrantEnterpriseQuota) (Written, error) {
	if c.GrantedBy == "" {
		return Written{}, errors.New("grant quota: nobody named as granting it")
	}
	// A contract sent at the same moment uses the quota: decide again on
	// the new state rather than fail the grant.
	return retry(func() (Written, error) {
		e, err := h.load(ctx, c.EnterpriseID)
		if err != nil {
			return Written{}, err
		}
		now := h.clock.Now()
		evs, err := e.GrantQuota(c.Amount, c.Reason, now)
		if err != nil {
			return Written{}, err
		}
		meta := Actor{AccountID: c.GrantedBy, CorrelationID: h.ids.NewID()}.meta(now, e.ID())
		pos, err := h.save(ctx, e, enterprise.StreamOf(e.ID()), event.Exactly(e.Version()), evs, meta)
		return Written{Position: pos}, err
	})
}

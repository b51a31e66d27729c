// Package accounts is the read model of account profiles behind GET /api/v1/me.
// It keeps personal data masked: the full phone or email never reaches Redis.
package accounts

import (
	"context"
	"fmt"
	"time"

	"signet/domain/account"
	"signet/domain/event"
	"signet/domain/fault"
	"signet/infra/redisdb"
	"signet/projections"
)

// Name is the projection's stable name (consumer, checkpoint, key namespace).
const Name = "accounts"

// Profile is what an account sees of itself.
type Profile struct {
	ID           string    `json:"id"`
	Login        string    `json:"login"` // masked
	LoginKind    string    `json:"login_kind"`
	Name         string    `json:"name"`
	Company      string    `json:"company"`
	InvitedBy    string    `json:"invited_by,omitempty"`
	RegisteredAt time.Time `json:"registered_at"`
	Consents     Consents  `json:"consents"`
}

// Consents as given at registration.
type Consents struct {
	PrivacyPolicy        bool   `json:"privacy_policy"`
	PrivacyPolicyVersion string `json:"privacy_policy_version"`
	PhoneFollowup        bool   `json:"phone_followup"`
}

// Projection maps account events to profile hashes.
type Projection struct{}

func (Projection) Name() string { return Name }

func (Projection) Handle(_ context.Context, e event.Envelope) ([]projections.Op, error) {
	if e.Type != account.TypeAccountRegistered {
		return nil, nil
	}
	decoded, err := account.DecodeEnvelope(e)
	if err != nil {
		return nil, err
	}
	ev, ok := decoded.(account.AccountRegistered)
	if !ok {
		return nil, fmt.Errorf("%s@%d: decoded as %T", e.Stream, e.Version, decoded)
	}
	login, err := account.LoginOf(ev.LoginKind, ev.Login)
	if err != nil {
		return nil, fmt.Errorf("stored login of %s: %w", ev.AccountID, err)
	}
	return []projections.Op{projections.HSet("account:"+ev.AccountID,
		"id", ev.AccountID,
		"login", login.Mask(),
		"login_kind", string(ev.LoginKind),
		"name", ev.Name,
		"company", ev.Company,
		"invited_by", ev.InvitedBy,
		"registered_at", ev.RegisteredAt.UTC().Format(time.RFC3339Nano),
		"privacy_policy", boolStr(ev.PrivacyPolicy.Accepted),
		"privacy_policy_version", ev.PrivacyPolicy.Version,
		"phone_followup", boolStr(ev.PhoneFollowup.Accepted),
	)}, nil
}

func boolStr(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// Reader answers profile queries from Redis.
type Reader struct{ DB *redisdb.DB }

// Profile returns the account's profile, or a NotFound fault.
func (r Reader) Profile(ctx context.Context, accountID string) (Profile, error) {
	m, err := r.DB.HGetAll(ctx, projections.Key(r.DB, Name, "account", accountID)).Result()
	if err != nil {
		return Profile{}, fmt.Errorf("read profile %s: %w", accountID, err)
	}
	if len(m) == 0 {
		return Profile{}, fault.New(fault.NotFound, "account_not_found", "This account has no profile (yet).")
	}
	at, _ := time.Parse(time.RFC3339Nano, m["registered_at"])
	return Profile{
		ID: m["id"], Login: m["login"], LoginKind: m["login_kind"], Name: m["name"], Company: m["company"],
		InvitedBy: m["invited_by"], RegisteredAt: at,
		Consents: Consents{
			PrivacyPolicy: m["privacy_policy"] == "1", PrivacyPolicyVersion: m["privacy_policy_version"],
			PhoneFollowup: m["phone_followup"] == "1",
		},
	}, nil
}

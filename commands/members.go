package commands

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math"
	"time"

	"signet/domain/account"
	"signet/domain/enterprise"
	"signet/domain/event"
	"signet/domain/fault"
	"signet/domain/identity"
	"signet/infra/notify"
)

// CreateInvitation makes a share link for joining the enterprise
// ("若您的公司已入驻，请联系公司管理员通过分享链接注册").
type CreateInvitation struct {
	Actor        Actor
	EnterpriseID string
	Role         enterprise.Role
}

// CreateInvitationResult: the token is shown once; only its hash is kept.
type CreateInvitationResult struct {
	InvitationID string
	Token        string
	ExpiresAt    time.Time
	Written
}

func tokenHash(token string) string {
	sum := sha256.Sum256([]byte("signet invitation\x00" + token))
	return hex.EncodeToString(sum[:])
}

func (s *verifier) createInvitation(ctx context.Context, c CreateInvitation) (CreateInvitationResult, error) {
	token := randomToken(24)
	hash := tokenHash(token)
	invID := s.ids.NewID()
	e, err := s.load(ctx, c.EnterpriseID)
	if err != nil {
		return CreateInvitationResult{}, err
	}
	now := s.clock.Now()
	evs, err := e.Invite(c.Actor.AccountID, invID, hash, c.Role, now)
	if err != nil {
		return CreateInvitationResult{}, err
	}
	meta := c.Actor.meta(now, c.EnterpriseID)
	if _, err := s.save(ctx, nil, enterprise.InvitationStream(hash), event.NoStream,
		[]enterprise.Event{enterprise.InvitationTokenRegistered{EnterpriseID: c.EnterpriseID, InvitationID: invID, RegisteredAt: now.UTC()}}, meta); err != nil {
		return CreateInvitationResult{}, err
	}
	pos, err := s.save(ctx, e, enterprise.StreamOf(c.EnterpriseID), event.Exactly(e.Version()), evs, meta)
	if err != nil {
		return CreateInvitationResult{}, err
	}
	return CreateInvitationResult{InvitationID: invID, Token: token, ExpiresAt: evs[0].(enterprise.MemberInvitationCreated).ExpiresAt, Written: Written{pos}}, nil
}

// AcceptInvitation joins the caller to the enterprise of a share link.
type AcceptInvitation struct {
	Actor Actor
	Token string
}

// AcceptInvitationResult names the enterprise joined.
type AcceptInvitationResult struct {
	EnterpriseID string
	Role         enterprise.Role
	Written
}

var errBadInvitation = fault.New(fault.NotFound, "invitation_not_found", "This invitation link is not valid.")

// invitationOf finds the enterprise and invitation of a share-link token.
func (s *verifier) invitationOf(ctx context.Context, token string) (enterprise.InvitationTokenRegistered, error) {
	if len(token) != 48 {
		return enterprise.InvitationTokenRegistered{}, errBadInvitation
	}
	envs, err := s.events.ReadStream(ctx, enterprise.InvitationStream(tokenHash(token)), 1, event.Forwards, 1)
	if errors.Is(err, event.ErrNotFound) || (err == nil && len(envs) == 0) {
		return enterprise.InvitationTokenRegistered{}, errBadInvitation
	}
	if err != nil {
		return enterprise.InvitationTokenRegistered{}, storeErr("read invitation", err)
	}
	ev, err := enterprise.DecodeEnvelope(envs[0])
	if err != nil {
		return enterprise.InvitationTokenRegistered{}, err
	}
	return ev.(enterprise.InvitationTokenRegistered), nil
}

// CheckInvitation tells whether a share-link token is valid, without using
// it: registration through a link checks it before creating the account.
type CheckInvitation struct{ Token string }

// CheckInvitationResult: the enterprise and role the link leads to.
type CheckInvitationResult struct {
	EnterpriseID string
	Role         enterprise.Role
}

func (s *verifier) checkInvitation(ctx context.Context, c CheckInvitation) (CheckInvitationResult, error) {
	reg, err := s.invitationOf(ctx, c.Token)
	if err != nil {
		return CheckInvitationResult{}, err
	}
	e, err := s.load(ctx, reg.EnterpriseID)
	if err != nil {
		return CheckInvitationResult{}, err
	}
	role, err := e.Invitation(reg.InvitationID, s.clock.Now())
	return CheckInvitationResult{EnterpriseID: reg.EnterpriseID, Role: role}, err
}

func (s *verifier) acceptInvitation(ctx context.Context, c AcceptInvitation) (AcceptInvitationResult, error) {
	reg, err := s.invitationOf(ctx, c.Token)
	if err != nil {
		return AcceptInvitationResult{}, err
	}
	var role enterprise.Role
	_, pos, err := s.decide(ctx, c.Actor, reg.EnterpriseID, func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
		evs, err := e.Join(c.Actor.AccountID, reg.InvitationID, now)
		if j, ok := firstOf[enterprise.MemberJoined](evs); ok {
			role = j.Role
		}
		return evs, err
	})
	return AcceptInvitationResult{EnterpriseID: reg.EnterpriseID, Role: role, Written: Written{pos}}, err
}

// ChangeMemberRole makes a member an admin or a plain member.
type ChangeMemberRole struct {
	Actor        Actor
	EnterpriseID string
	AccountID    string
	Role         enterprise.Role
}

func (s *verifier) changeMemberRole(ctx context.Context, c ChangeMemberRole) (Written, error) {
	_, pos, err := s.decide(ctx, c.Actor, c.EnterpriseID, func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
		return e.ChangeRole(c.Actor.AccountID, c.AccountID, c.Role, now)
	})
	return Written{pos}, err
}

// RemoveMember removes a member from the enterprise.
type RemoveMember struct {
	Actor        Actor
	EnterpriseID string
	AccountID    string
}

func (s *verifier) removeMember(ctx context.Context, c RemoveMember) (Written, error) {
	_, pos, err := s.decide(ctx, c.Actor, c.EnterpriseID, func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
		return e.RemoveMember(c.Actor.AccountID, c.AccountID, now)
	})
	return Written{pos}, err
}

// loadAccount replays an account.
func (s *verifier) loadAccount(ctx context.Context, id string) (*account.Account, error) {
	return loadAccount(ctx, s.events, id)
}

// loadAccount replays an account; an unknown one is a NotFound fault.
func loadAccount(ctx context.Context, events EventStore, id string) (*account.Account, error) {
	envs, err := events.ReadStream(ctx, account.StreamOf(id), 1, event.Forwards, 0)
	if errors.Is(err, event.ErrNotFound) || (err == nil && len(envs) == 0) {
		return nil, fault.New(fault.NotFound, "account_not_found", "There is no such account.")
	}
	if err != nil {
		return nil, storeErr("read account", err)
	}
	return account.Replay(envs)
}

func (s *verifier) accountLogin(ctx context.Context, id string) (string, error) {
	a, err := s.loadAccount(ctx, id)
	if err != nil {
		return "", err
	}
	return a.Login().String(), nil
}

func (s *verifier) hasPlatformRole(ctx context.Context, id, role string) (bool, error) {
	a, err := s.loadAccount(ctx, id)
	if err != nil {
		if f, ok := fault.As(err); ok && f.Kind == fault.NotFound {
			return false, nil
		}
		return false, err
	}
	return a.HasPlatformRole(role), nil
}

func parsePhone(s string) (string, error) {
	p, err := identity.ParsePhone(s)
	if err != nil {
		return "", onField(err, "phone")
	}
	return p, nil
}

func maskPhone(p string) string { return identity.MaskPhone(p) }

func smsMessage(phone, text string, now time.Time) notify.Message {
	return notify.Message{To: phone, Channel: notify.SMS, Body: "【signet】" + text, SentAt: now}
}

func minutes(d time.Duration) int { return max(1, int(math.Round(d.Minutes()))) }

package commands

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"signet/domain/account"
	"signet/domain/enterprise"
	"signet/domain/fault"
)

// SealCommands are the seal, signature-image and approval-policy use cases.
type SealCommands struct {
	UploadSeal           Handler[UploadSeal, UploadSealResult]
	GrantSeal            Handler[GrantSeal, Written]
	RevokeSeal           Handler[RevokeSeal, Written]
	DisableSeal          Handler[DisableSeal, Written]
	SetApprovalPolicy    Handler[SetApprovalPolicy, Written]
	UploadSignatureImage Handler[UploadSignatureImage, UploadSignatureImageResult]
}

func newSealCommands(d Deps) SealCommands {
	s := newVerifier(d)
	return SealCommands{
		UploadSeal:           decorate(d, s.uploadSeal),
		GrantSeal:            decorate(d, s.grantSeal),
		RevokeSeal:           decorate(d, s.revokeSeal),
		DisableSeal:          decorate(d, s.disableSeal),
		SetApprovalPolicy:    decorate(d, s.setApprovalPolicy),
		UploadSignatureImage: decorate(d, s.uploadSignatureImage),
	}
}

// defaultSeal draws and stores the seal of an enterprise being verified
// under name, and decides its SealCreated. A name the artwork refuses to
// draw (too long for the ring) does not stop the verification, whose proof
// is spent by now: the enterprise is verified without a default seal and
// its administrators upload one.
func (s *verifier) defaultSeal(ctx context.Context, e *enterprise.Enterprise, name string, now time.Time) ([]enterprise.Event, error) {
	data, mediaType, err := s.art.Seal(name)
	if _, refused := fault.As(err); refused {
		s.log.WarnContext(ctx, "default seal not drawn", slog.String("enterprise", e.ID()), slog.String("reason", err.Error()))
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("draw the default seal: %w", err)
	}
	f, err := s.store(ctx, Upload{Data: data, MediaType: mediaType})
	if err != nil {
		return nil, err
	}
	return e.DefaultSeal(s.ids.NewID(), f, now), nil
}

// UploadSeal adds a seal from an image (PNG or JPEG) an administrator
// uploaded.
type UploadSeal struct {
	Actor        Actor
	EnterpriseID string
	Name         string
	File         Upload
}

// UploadSealResult is the new seal.
type UploadSealResult struct {
	Seal enterprise.Seal
	Written
}

func (s *verifier) uploadSeal(ctx context.Context, c UploadSeal) (UploadSealResult, error) {
	e, err := s.load(ctx, c.EnterpriseID)
	if err != nil {
		return UploadSealResult{}, err
	}
	// Refused callers cost no reading and leave no file behind.
	if _, err := e.CheckCreateSeal(c.Actor.AccountID, c.Name); err != nil {
		return UploadSealResult{}, err
	}
	file, err := c.File.load()
	if err != nil {
		return UploadSealResult{}, err
	}
	f, err := s.store(ctx, file)
	if err != nil {
		return UploadSealResult{}, err
	}
	id := s.ids.NewID()
	e, pos, err := s.decide(ctx, c.Actor, c.EnterpriseID, func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
		return e.CreateSeal(c.Actor.AccountID, id, c.Name, f, now)
	})
	if err != nil {
		return UploadSealResult{Written: Written{pos}}, err
	}
	seal, _ := e.Seal(id)
	return UploadSealResult{Seal: seal, Written: Written{pos}}, nil
}

// GrantSeal lets a member sign with a seal.
type GrantSeal struct {
	Actor        Actor
	EnterpriseID string
	SealID       string
	AccountID    string
}

func (s *verifier) grantSeal(ctx context.Context, c GrantSeal) (Written, error) {
	_, pos, err := s.decide(ctx, c.Actor, c.EnterpriseID, func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
		return e.GrantSeal(c.Actor.AccountID, c.SealID, c.AccountID, now)
	})
	return Written{pos}, err
}

// RevokeSeal takes a member's use of a seal away.
type RevokeSeal struct {
	Actor        Actor
	EnterpriseID string
	SealID       string
	AccountID    string
}

func (s *verifier) revokeSeal(ctx context.Context, c RevokeSeal) (Written, error) {
	_, pos, err := s.decide(ctx, c.Actor, c.EnterpriseID, func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
		return e.RevokeSeal(c.Actor.AccountID, c.SealID, c.AccountID, now)
	})
	return Written{pos}, err
}

// DisableSeal stops all use of a seal.
type DisableSeal struct {
	Actor        Actor
	EnterpriseID string
	SealID       string
}

func (s *verifier) disableSeal(ctx context.Context, c DisableSeal) (Written, error) {
	_, pos, err := s.decide(ctx, c.Actor, c.EnterpriseID, func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
		return e.DisableSeal(c.Actor.AccountID, c.SealID, now)
	})
	return Written{pos}, err
}

// SetApprovalPolicy says whether the enterprise's contracts need an
// approval before they are sent, and who approves them.
type SetApprovalPolicy struct {
	Actor        Actor
	EnterpriseID string
	Required     bool
	Approvers    []string
}

func (s *verifier) setApprovalPolicy(ctx context.Context, c SetApprovalPolicy) (Written, error) {
	_, pos, err := s.decide(ctx, c.Actor, c.EnterpriseID, func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
		return e.SetApprovalPolicy(c.Actor.AccountID, c.Required, c.Approvers, now)
	})
	return Written{pos}, err
}

// UploadSignatureImage adds an image (PNG or JPEG) of the caller's
// handwritten signature.
type UploadSignatureImage struct {
	Actor Actor
	File  Upload
}

// UploadSignatureImageResult names the stored image; the same image
// uploaded again names the one stored first.
type UploadSignatureImageResult struct {
	SignatureID string
	File        account.File
	Written
}

func (s *verifier) uploadSignatureImage(ctx context.Context, c UploadSignatureImage) (UploadSignatureImageResult, error) {
	acct, err := s.loadAccount(ctx, c.Actor.AccountID)
	if err != nil {
		return UploadSignatureImageResult{}, err
	}
	if err := acct.CheckAddSignatureImage(); err != nil {
		return UploadSignatureImageResult{}, err
	}
	file, err := c.File.load()
	if err != nil {
		return UploadSignatureImageResult{}, err
	}
	stored, err := s.store(ctx, file)
	if err != nil {
		return UploadSignatureImageResult{}, err
	}
	f := account.File{SHA256: stored.SHA256, Size: stored.Size, MediaType: stored.MediaType}
	id := s.ids.NewID()
	acct, pos, err := s.decideAccount(ctx, c.Actor, c.Actor.AccountID, func(a *account.Account, now time.Time) ([]account.Event, error) {
		return a.AddSignatureImage(id, f, now)
	})
	if err != nil {
		return UploadSignatureImageResult{Written: Written{pos}}, err
	}
	for _, img := range acct.SignatureImages() {
		if img.File.SHA256 == f.SHA256 {
			return UploadSignatureImageResult{SignatureID: img.ID, File: img.File, Written: Written{pos}}, nil
		}
	}
	return UploadSignatureImageResult{}, fmt.Errorf("signature image %s not recorded", f.SHA256)
}

package account

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"signet/domain/fault"
)

// What an account signs and sends with: its free personal contracts and
// images of its handwritten signature.

// MaxSignatureImages is how many signature images an account keeps.
const MaxSignatureImages = 10

// SignatureMediaTypes are the images a signature may be.
var SignatureMediaTypes = []string{"image/png", "image/jpeg"}

// ErrNotVerified: the holder's real name is not verified yet.
var ErrNotVerified = fault.New(fault.Rule, "person_not_verified",
	"Verify your real name first (认证为个人): contracts are sent and signed under a verified name.")

// UseQuota uses one of the account's free personal contracts for a
// contract it sends under its verified name; used is what the quota ledger
// has counted so far. The event goes to the ledger.
func (a *Account) UseQuota(contractID string, used int, now time.Time) ([]Event, error) {
	if !a.Registered() {
		return nil, ErrNotRegistered
	}
	if a.verified == nil {
		return nil, ErrNotVerified
	}
	if contractID == "" {
		return nil, errors.New("use quota: no contract ID")
	}
	if a.QuotaLeft(used) <= 0 {
		return nil, fault.New(fault.Rule, "quota_exhausted",
			fmt.Sprintf("Your personal contracts are used up: %d granted, %d used; nothing was sent.", a.quota, used))
	}
	return []Event{PersonalQuotaUsed{ContractID: contractID, UsedAt: timestamp(now), Used: used + 1}}, nil
}

// SignatureImage is a stored image of the holder's handwritten signature.
type SignatureImage struct {
	ID      string
	File    File
	AddedAt time.Time
}

// SignatureImages lists the holder's signature images, oldest first.
func (a *Account) SignatureImages() []SignatureImage {
	out := make([]SignatureImage, 0, len(a.signatures))
	for _, s := range a.signatures {
		out = append(out, SignatureImage{ID: s.SignatureID, File: s.File, AddedAt: s.AddedAt})
	}
	return out
}

// SignatureImage returns the file of one of the holder's signature images.
func (a *Account) SignatureImage(id string) (File, bool) {
	for _, s := range a.signatures {
		if s.SignatureID == id {
			return s.File, true
		}
	}
	return File{}, false
}

// CheckAddSignatureImage refuses a signature image before it is read.
func (a *Account) CheckAddSignatureImage() error {
	if !a.Registered() {
		return ErrNotRegistered
	}
	if len(a.signatures) >= MaxSignatureImages {
		return fault.New(fault.Rule, "signature_limit",
			fmt.Sprintf("You keep %d signature images, the most allowed.", MaxSignatureImages))
	}
	return nil
}

// AddSignatureImage records a stored image of the holder's signature. The
// same image again decides nothing: the caller finds it by its SHA-256.
func (a *Account) AddSignatureImage(id string, f File, now time.Time) ([]Event, error) {
	for _, s := range a.signatures {
		if f.SHA256 != "" && s.File.SHA256 == f.SHA256 {
			return nil, nil
		}
	}
	if err := a.CheckAddSignatureImage(); err != nil {
		return nil, err
	}
	if !slices.Contains(SignatureMediaTypes, f.MediaType) {
		return nil, fault.New(fault.Unsupported, "unsupported_signature_image", "A signature image is a PNG or JPEG picture.").OnField("file")
	}
	if id == "" || f.SHA256 == "" || f.Size <= 0 {
		return nil, errors.New("add signature image: no ID or stored file")
	}
	if _, ok := a.SignatureImage(id); ok {
		return nil, fmt.Errorf("add signature image: ID %s is taken", id)
	}
	return []Event{SignatureImageAdded{SignatureID: id, File: f, AddedAt: timestamp(now)}}, nil
}

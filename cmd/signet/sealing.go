package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"signet/commands"
	"signet/infra/artwork"
	"signet/infra/completion"
	"signet/infra/pki"
	"signet/infra/sealing"
	"signet/infra/tsa"
)

// openAuthority opens the certificate authority in the data dir (creating
// its root on first start), or around the root configured with
// SIGNET_CA_CERT and SIGNET_CA_KEY. Keys are sealed under SIGNET_KEY_SECRET,
// or under a secret derived from the token key when that is not set.
func openAuthority(cfg config, tokenKey []byte, now func() time.Time) (*pki.Authority, error) {
	secret := []byte(cfg.KeySecret)
	if len(secret) == 0 {
		mac := hmac.New(sha256.New, tokenKey)
		mac.Write([]byte("signet key store"))
		secret = mac.Sum(nil)
	}
	dir := filepath.Join(cfg.Data, "pki")
	if cfg.CACert == "" && cfg.CAKey == "" {
		return pki.Open(dir, secret, now)
	}
	if cfg.CACert == "" || cfg.CAKey == "" {
		return nil, errors.New("a configured root CA needs both SIGNET_CA_CERT and SIGNET_CA_KEY")
	}
	certPEM, err := os.ReadFile(cfg.CACert)
	if err != nil {
		return nil, fmt.Errorf("root CA certificate: %w", err)
	}
	keyPEM, err := os.ReadFile(cfg.CAKey)
	if err != nil {
		return nil, fmt.Errorf("root CA key: %w", err)
	}
	return pki.OpenWithRoot(dir, secret, certPEM, keyPEM, now)
}

// sealingDeps builds the sealer and the certificate of completion renderer.
func (a *app) sealingDeps(ctx context.Context, tokenKey []byte, art *artwork.Artwork) (commands.Sealer, commands.CompletionRenderer, error) {
	ca, err := openAuthority(a.cfg, tokenKey, a.clock.Now)
	if err != nil {
		return nil, nil, fmt.Errorf("certificate authority: %w", err)
	}
	key, chain, _, err := ca.TimestampSigner(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("timestamp authority: %w", err)
	}
	// The platform's own certificates are on record like the parties'.
	_, platform, _, err := ca.PlatformSigner(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("platform certificate: %w", err)
	}
	for _, own := range []*pki.Issued{
		pki.Describe(pki.Subject{ID: pki.TimestampID, Kind: pki.Timestamp}, chain[0]),
		pki.Describe(pki.Subject{ID: pki.PlatformID, Kind: pki.Platform}, platform[0]),
	} {
		if err := commands.RecordCertificate(ctx, a.store, own, a.clock.Now()); err != nil {
			return nil, nil, fmt.Errorf("record certificate %s: %w", own.SubjectID, err)
		}
	}
	ts, err := tsa.New(key, chain[0], chain, a.clock.Now, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("timestamp authority: %w", err)
	}
	a.ca = ca
	s := sealing.New(ca, ts, art, a.log)
	// The certificate of completion is signed by the platform too, so a
	// reader sees at once that it is the platform's and unchanged.
	render := func(c completion.Certificate) ([]byte, error) {
		pdf, err := completion.Render(c)
		if err != nil {
			return nil, err
		}
		signed, _, _, err := s.SignPlatform(ctx, pdf, "签署完成证明 / certificate of completion "+c.Contract.Number)
		return signed.PDF, err
	}
	return s, render, nil
}

package commands

import (
	"context"
	"fmt"
	"slices"

	"signet/domain/account"
	"signet/domain/contract"
	"signet/domain/enterprise"
	"signet/domain/fault"
	"signet/domain/layout"
	"signet/infra/evidence"
)

// EvidenceDeps are what an evidence bundle is made of besides the
// contract: the tree heads that prove its events are in the log, and the
// public halves of the keys a verifier checks against.
type EvidenceDeps struct {
	Heads     *TreeHeads
	CAPEM     []byte // the platform's root CA certificate
	LogKeyPEM []byte // the tree heads' Ed25519 public key (PKIX PEM)
}

// ExportEvidence asks for a completed contract's evidence bundle.
// Actor "" is the platform itself (the evidence CLI on the server).
type ExportEvidence struct {
	Actor      Actor
	ContractID string
}

var errNotCompleted = fault.New(fault.Conflict, "not_completed", "The evidence bundle exists once the contract is completed (every party signed and the final documents were produced).")

var errNoEvidenceAccess = fault.New(fault.Forbidden, "not_a_party", "Only the sender's side, the parties and signers of this contract, and platform auditors may have its evidence.")

// evidence gathers the bundle: the contract's events as stored, a signed
// tree head covering the last of them with an inclusion proof for each,
// the final PDFs, the certificate of completion and the timestamp tokens,
// each checked against the hash ContractSealed recorded.
func (c *contracts) evidence(ctx context.Context, cmd ExportEvidence) (evidence.Bundle, error) {
	if c.evidenceDeps.Heads == nil {
		return evidence.Bundle{}, fault.New(fault.Unavailable, "evidence_unavailable", "Evidence bundles are made by the write side, which signs the tree heads; this process has none.")
	}
	envs, k, err := c.loadEnvelopes(ctx, cmd.ContractID)
	if err != nil {
		return evidence.Bundle{}, err
	}
	if cmd.Actor.AccountID != "" {
		if err := c.mayHaveEvidence(ctx, k, cmd.Actor.AccountID); err != nil {
			return evidence.Bundle{}, err
		}
	}
	sealed, _ := k.Sealing()
	if k.Status() != contract.StatusCompleted || sealed == nil {
		return evidence.Bundle{}, errNotCompleted
	}
	b := evidence.Bundle{ContractID: cmd.ContractID, Events: envs, CACert: c.evidenceDeps.CAPEM, LogKey: c.evidenceDeps.LogKeyPEM}
	get := func(what, sha string) ([]byte, error) {
		data, _, err := c.blobs.Get(ctx, sha)
		if err != nil {
			return nil, fmt.Errorf("evidence of %s: %s: %w", cmd.ContractID, what, err)
		}
		return data, nil
	}
	for _, d := range sealed.Documents {
		data, err := get("document "+d.DocumentID, d.SHA256)
		if err != nil {
			return evidence.Bundle{}, err
		}
		b.Documents = append(b.Documents, evidence.File{Name: evidence.DocumentName(d.DocumentID), Data: data})
	}
	if b.Certificate.Data, err = get("certificate of completion", sealed.CertificateSHA256); err != nil {
		return evidence.Bundle{}, err
	}
	for i, sha := range sealed.Timestamps {
		data, err := get("timestamp token", sha)
		if err != nil {
			return evidence.Bundle{}, err
		}
		b.Timestamps = append(b.Timestamps, evidence.File{Name: evidence.TimestampName(i + 1), Data: data})
	}
	head, proofs, err := c.evidenceDeps.Heads.ProofsFor(ctx, envs)
	if err != nil {
		return evidence.Bundle{}, err
	}
	b.Head = head
	for _, p := range proofs {
		b.Proofs = append(b.Proofs, evidence.Inclusion{EventID: p.Event.ID, LeafIndex: p.LeafIndex, Hashes: p.Hashes})
	}
	return b, nil
}

// mayHaveEvidence: the sender's side, a party (by login, or as a member
// of the enterprise named as an enterprise party), a signer, or a
// platform auditor.
func (c *contracts) mayHaveEvidence(ctx context.Context, k *contract.Contract, accountID string) error {
	if err := c.checkSenderSide(ctx, k, accountID); err == nil {
		return nil
	} else if f, ok := fault.As(err); !ok || f.Kind != fault.Forbidden {
		return err
	}
	// The sending enterprise's auditors read what its administrators do.
	if eid := k.Sender().EnterpriseID; eid != "" {
		e, err := c.loadEnterprise(ctx, eid)
		if err != nil {
			return err
		}
		if e.RoleOf(accountID) == enterprise.Auditor {
			return nil
		}
	}
	for _, s := range k.SignedOrder() {
		if s.SignerAccountID == accountID {
			return nil
		}
	}
	a, err := c.loadAccount(ctx, accountID)
	if err != nil {
		if f, ok := fault.As(err); ok && f.Kind == fault.NotFound {
			return errNoEvidenceAccess
		}
		return err
	}
	if a.HasPlatformRole(account.PlatformAuditor) {
		return nil
	}
	for _, p := range k.Created().Parties {
		if p.Kind == layout.Person && p.Contact.Value == a.Login().String() {
			return nil
		}
		if p.Kind != layout.Enterprise {
			continue
		}
		s, ok := k.Signature(p.ID)
		if !ok || s.EnterpriseID == "" {
			continue
		}
		e, err := c.loadEnterprise(ctx, s.EnterpriseID)
		if err != nil {
			return err
		}
		if slices.Contains([]enterprise.Role{enterprise.MasterAdmin, enterprise.Admin, enterprise.Member, enterprise.Auditor}, e.RoleOf(accountID)) {
			return nil
		}
	}
	return errNoEvidenceAccess
}

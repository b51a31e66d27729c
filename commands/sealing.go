package commands

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"signet/domain/account"
	"signet/domain/certificate"
	"signet/domain/contract"
	"signet/domain/event"
	"signet/domain/fault"
	"signet/domain/identity"
	"signet/domain/layout"
	"signet/infra/completion"
	"signet/infra/pki"
	"signet/infra/sealing"
)

// Sealer produces a contract's final documents: every seal and signature
// stamped, then one digital signature per party with a timestamp.
type Sealer interface {
	Seal(ctx context.Context, req sealing.Request) (sealing.Result, error)
	// Certificate is the subject's signing certificate (issuing it if it
	// has none), for the record of which certificate signed.
	Certificate(ctx context.Context, s pki.Subject) (*pki.Issued, error)
}

// CompletionRenderer renders the certificate of completion.
type CompletionRenderer func(completion.Certificate) ([]byte, error)

// SealContract produces a contract's final documents once every party
// signed, and completes it. The last signature does this at once; the
// sealing policy retries what failed or never finished.
type SealContract struct {
	Actor      Actor // the platform itself when the policy retries
	ContractID string
}

const mediaPDF = "application/pdf"

// seal is idempotent: a contract already completed answers as it is; two
// attempts at once end with one ContractSealed (the other's append
// conflicts and finds the contract completed).
func (c *contracts) seal(ctx context.Context, cmd SealContract) (ContractResult, error) {
	envs, k, err := c.loadEnvelopes(ctx, cmd.ContractID)
	if err != nil {
		return ContractResult{}, err
	}
	if cmd.Actor.AccountID != "" {
		// A person asking for a retry now: the sender's side only.
		if err := c.checkSenderSide(ctx, k, cmd.Actor.AccountID); err != nil {
			return ContractResult{}, err
		}
	}
	if k.Status() == contract.StatusCompleted {
		return ContractResult{ContractID: cmd.ContractID, Status: k.Status()}, nil
	}
	if k.Status() != contract.StatusSealing {
		_, err := k.Seal(contract.ContractSealed{}, c.clock.Now())
		return ContractResult{}, err
	}
	sealed, step, err := c.produce(ctx, envs, k)
	if err != nil {
		c.log.ErrorContext(ctx, "sealing failed", slog.String("contract", cmd.ContractID), slog.String("step", step), slog.Any("error", err))
		_, evs, pos, ferr := c.decide(ctx, cmd.Actor, cmd.ContractID, func(k *contract.Contract, now time.Time) ([]contract.Event, error) {
			return k.SealingFailed(step, err.Error(), now)
		})
		if ferr != nil {
			return ContractResult{}, errors.Join(fmt.Errorf("seal contract %s (%s): %w", cmd.ContractID, step, err), ferr)
		}
		f := evs[0].(contract.ContractSealingFailed)
		return ContractResult{ContractID: cmd.ContractID, Status: contract.StatusSealing, Written: Written{pos}},
			fmt.Errorf("seal contract %s (%s, attempt %d, next at %s): %w", cmd.ContractID, step, f.Attempt, f.RetryAt.Format(time.RFC3339), err)
	}
	k, _, pos, err := c.decide(ctx, cmd.Actor, cmd.ContractID, func(k *contract.Contract, now time.Time) ([]contract.Event, error) {
		return k.Seal(sealed, now)
	})
	if err != nil {
		return ContractResult{}, err
	}
	cr := k.Created()
	c.notifyAccounts(ctx, []string{k.Sender().AccountID}, "合同已完成 Contract completed",
		fmt.Sprintf("合同《%s》(%s) 各方已签署完成 / has been signed by every party: %s", cr.Title, cr.Number, c.link(cmd.ContractID)))
	return ContractResult{ContractID: cmd.ContractID, Status: contract.StatusCompleted, Written: Written{pos}}, nil
}

func (c *contracts) loadEnvelopes(ctx context.Context, id string) ([]event.Envelope, *contract.Contract, error) {
	if !validID(id) {
		return nil, nil, errContractNotFound
	}
	envs, err := c.events.ReadStream(ctx, contract.StreamOf(id), 1, event.Forwards, 0)
	if errors.Is(err, event.ErrNotFound) || (err == nil && len(envs) == 0) {
		return nil, nil, errContractNotFound
	}
	if err != nil {
		return nil, nil, storeErr("read contract", err)
	}
	k, err := contract.Replay(envs)
	return envs, k, err
}

// produce makes and stores the final documents and the certificate of
// completion, and records the certificates that signed. step names what
// failed.
func (c *contracts) produce(ctx context.Context, envs []event.Envelope, k *contract.Contract) (_ contract.ContractSealed, step string, _ error) {
	cr := k.Created()
	sent, _ := k.Sent()
	req := sealing.Request{ContractID: cr.ContractID, Number: cr.Number, Title: cr.Title}
	for i, d := range cr.Documents {
		data, _, err := c.blobs.Get(ctx, d.File.SHA256)
		if err != nil {
			return contract.ContractSealed{}, "read documents", fmt.Errorf("document %s: %w", d.ID, err)
		}
		if i < len(sent.Documents) && hexSHA(data) != sent.Documents[i].SHA256 {
			return contract.ContractSealed{}, "read documents", fmt.Errorf("document %s no longer has the hash it was sent with", d.ID)
		}
		req.Documents = append(req.Documents, sealing.Document{ID: d.ID, Name: d.Name, PDF: data})
	}
	signed := k.SignedOrder()
	stamps, err := c.stamps(ctx, cr, k)
	if err != nil {
		return contract.ContractSealed{}, "read seals and signatures", err
	}
	req.Stamps = stamps
	subjects := map[string]pki.Subject{}
	for _, s := range signed {
		subj, err := c.subject(ctx, k, s)
		if err != nil {
			return contract.ContractSealed{}, "identify signers", err
		}
		subjects[s.PartyID] = subj
		p, _ := k.Party(s.PartyID)
		req.Parties = append(req.Parties, sealing.Party{PartyID: s.PartyID, SubjectID: subj.ID, Kind: subj.Kind, Name: subj.Name,
			Organization: subj.Organization, SerialNumber: subj.SerialNumber, SignedAt: s.SignedAt,
			Reason:   fmt.Sprintf("%s 签署合同 %s / %s signs contract %s", p.Role, cr.Number, p.Role, cr.Number),
			Location: "signet"})
	}
	res, err := c.sealer.Seal(ctx, req)
	if err != nil {
		return contract.ContractSealed{}, "stamp and sign", err
	}
	out := contract.ContractSealed{}
	for i, d := range res.Documents {
		ref, err := c.blobs.Put(ctx, d.PDF, mediaPDF)
		if err != nil {
			return contract.ContractSealed{}, "store signed documents", err
		}
		name := ""
		if i < len(cr.Documents) {
			name = cr.Documents[i].Name
		}
		out.Documents = append(out.Documents, contract.SealedDocument{DocumentID: d.ID, Name: name, SHA256: ref.SHA256, Size: int64(len(d.PDF)), Signatures: d.Signatures})
	}
	for _, tok := range res.Timestamps {
		ref, err := c.blobs.Put(ctx, tok, "application/timestamp-reply")
		if err != nil {
			return contract.ContractSealed{}, "store timestamps", err
		}
		out.Timestamps = append(out.Timestamps, ref.SHA256)
	}
	for _, s := range signed {
		issued, err := c.sealer.Certificate(ctx, subjects[s.PartyID])
		if err != nil {
			return contract.ContractSealed{}, "record certificates", err
		}
		if err := c.recordCertificate(ctx, issued); err != nil {
			return contract.ContractSealed{}, "record certificates", err
		}
		out.Certificates = append(out.Certificates, contract.CertificateRef{Subject: issued.SubjectID, PartyID: s.PartyID, Serial: issued.Serial, SHA256: issued.SHA256})
	}
	pdf, err := c.completion(completionOf(envs, k, out, c.clock.Now()))
	if err != nil {
		return contract.ContractSealed{}, "certificate of completion", err
	}
	ref, err := c.blobs.Put(ctx, pdf, mediaPDF)
	if err != nil {
		return contract.ContractSealed{}, "store certificate of completion", err
	}
	out.CertificateSHA256 = ref.SHA256
	return out, "", nil
}

// stamps are what goes on the pages: each signing field of a party gets
// its seal, signature or date; each business field its value.
func (c *contracts) stamps(ctx context.Context, cr contract.ContractCreated, k *contract.Contract) ([]sealing.Stamp, error) {
	var out []sealing.Stamp
	for _, f := range cr.Fields {
		st := sealing.Stamp{DocumentID: f.DocumentID, Page: f.Page, Rect: f.Rect}
		switch {
		case f.Kind.Business():
			v := strings.TrimSpace(cr.Values[f.ID])
			if v == "" {
				continue
			}
			st.Text = v
		case f.Kind == layout.SignDate:
			s, ok := k.Signature(f.RoleID)
			if !ok {
				return nil, fmt.Errorf("party %s has not signed", f.RoleID)
			}
			st.Text = s.SignedAt.In(contract.Shanghai).Format("2006-01-02")
		default:
			s, ok := k.Signature(f.RoleID)
			if !ok {
				return nil, fmt.Errorf("party %s has not signed", f.RoleID)
			}
			var file *layout.File
			switch {
			case f.Kind == layout.Seal && s.Seal != nil:
				file, st.Text = &s.Seal.File, s.Seal.Name
			case s.Signature != nil:
				file, st.Text = s.Signature.File, s.SignerName
			}
			if file != nil && file.SHA256 != "" {
				data, ref, err := c.blobs.Get(ctx, file.SHA256)
				if err != nil {
					return nil, fmt.Errorf("image of party %s: %w", f.RoleID, err)
				}
				st.Image, st.MediaType = data, ref.MediaType
			}
		}
		out = append(out, st)
	}
	return out, nil
}

// subject is who a party's digital signature is by: the enterprise for an
// enterprise party, the signing person otherwise; identifiers masked.
func (c *contracts) subject(ctx context.Context, k *contract.Contract, s contract.PartySigned) (pki.Subject, error) {
	p, _ := k.Party(s.PartyID)
	if p.Kind == layout.Enterprise {
		e, err := c.loadEnterprise(ctx, s.EnterpriseID)
		if err != nil {
			return pki.Subject{}, err
		}
		v := e.Verification()
		if v == nil {
			return pki.Subject{}, fmt.Errorf("enterprise %s is not verified", s.EnterpriseID)
		}
		return pki.Subject{ID: "enterprise-" + e.ID(), Kind: pki.Enterprise, Name: v.Name, Organization: v.Name, SerialNumber: identity.MaskIDNumber(v.USCC)}, nil
	}
	a, err := c.loadAccount(ctx, s.SignerAccountID)
	if err != nil {
		return pki.Subject{}, err
	}
	return pki.Subject{ID: "account-" + a.ID(), Kind: pki.Person, Name: a.VerifiedName(), SerialNumber: identity.MaskIDNumber(a.VerifiedIDNumber())}, nil
}

// recordCertificate opens the certificate's stream once; a second record
// of the same certificate finds it there.
func (c *contracts) recordCertificate(ctx context.Context, is *pki.Issued) error {
	return RecordCertificate(ctx, c.events, is, c.clock.Now())
}

// RecordCertificate records that the platform's CA issued a certificate
// (CertificateIssued on "certificate-<serial>"), once: recording it again
// changes nothing.
func RecordCertificate(ctx context.Context, events EventStore, is *pki.Issued, now time.Time) error {
	evs, err := certificate.Issue(certificate.CertificateIssued{Serial: is.Serial, Subject: is.SubjectID, Kind: is.Kind, DN: is.Subject,
		Issuer: is.Issuer, NotBefore: is.NotBefore, NotAfter: is.NotAfter, SHA256: is.SHA256, PEM: is.PEM})
	if err != nil {
		return err
	}
	_, err = appendEvents(ctx, events, UUIDs{}, certificate.StreamOf(is.Serial), event.NoStream, certificate.NewEvent, evs, event.Metadata{Actor: "system:pki", OccurredAt: now})
	if errors.Is(err, event.ErrConcurrency) {
		return nil
	}
	return err
}

// completionOf fills the certificate of completion from the contract's
// events; every identifier in it is masked.
func completionOf(envs []event.Envelope, k *contract.Contract, sealed contract.ContractSealed, now time.Time) completion.Certificate {
	cr := k.Created()
	sent, _ := k.Sent()
	out := completion.Certificate{GeneratedAt: now.UTC(), Contract: completion.Contract{ID: cr.ContractID, Number: cr.Number, Title: cr.Title,
		Status: string(contract.StatusCompleted), SenderName: cr.Sender.PersonName, CreatedAt: cr.CreatedAt, SentAt: sent.SentAt, CompletedAt: now.UTC()}}
	if cr.Sender.EnterpriseID != "" {
		out.Contract.SenderEnterprise = cr.Sender.Name
	}
	if cr.Template != nil {
		out.Contract.TemplateID, out.Contract.TemplateVersion = cr.Template.ID, cr.Template.Version
	}
	for i, d := range cr.Documents {
		doc := completion.Document{ID: d.ID, Name: d.Name, Pages: len(d.Pages)}
		if i < len(sent.Documents) {
			doc.SentSHA256 = sent.Documents[i].SHA256
		}
		if i < len(sealed.Documents) {
			doc.SignedSHA256 = sealed.Documents[i].SHA256
		}
		out.Documents = append(out.Documents, doc)
	}
	for _, s := range k.SignedOrder() {
		p, _ := k.Party(s.PartyID)
		cp := completion.Party{Role: p.Role, Order: p.Order, Kind: string(p.Kind), SignerName: s.SignerName, SignerAccountID: s.SignerAccountID,
			SignedAt: s.SignedAt, ClientIP: identity.MaskIP(s.ClientIP),
			Willingness: completion.Willingness{Method: s.Willingness.Method, VerifiedAt: s.Willingness.VerifiedAt}}
		if s.Willingness.Channel == "email" && s.Willingness.Method == contract.WillingnessSMSCode {
			cp.Willingness.Method = "email_code"
		}
		if p.Kind == layout.Enterprise {
			cp.EnterpriseName = p.EnterpriseName
		}
		if p.Contact.Value != "" && p.Kind == layout.Person {
			if l, err := account.ParseLogin(p.Contact.Value); err == nil {
				cp.Login, cp.Willingness.Target = l.Mask(), l.Mask()
			}
		}
		switch {
		case s.Seal != nil:
			cp.Mark = completion.Mark{Kind: "seal", Name: s.Seal.Name, ImageSHA256: s.Seal.File.SHA256}
		case s.Signature != nil && s.Signature.Kind == "image":
			cp.Mark = completion.Mark{Kind: "image_signature", ImageSHA256: fileHash(s.Signature.File)}
		case s.Signature != nil:
			cp.Mark = completion.Mark{Kind: "typed_signature", Name: s.Signature.Text, ImageSHA256: fileHash(s.Signature.File)}
		}
		for _, d := range s.Documents {
			cp.Documents = append(cp.Documents, completion.DocumentHash{DocumentID: d.DocumentID, SHA256: d.SHA256})
		}
		out.Parties = append(out.Parties, cp)
	}
	for _, e := range envs {
		out.Events = append(out.Events, completion.Event{Position: e.Position, Version: e.Version, Type: e.Type, At: e.Meta.OccurredAt, Hash: e.Hash})
	}
	return out
}

func fileHash(f *layout.File) string {
	if f == nil {
		return ""
	}
	return f.SHA256
}

func hexSHA(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// SealingDue lists contracts whose final documents are due by a time.
type SealingDue interface {
	SealingDue(ctx context.Context, until time.Time, limit int) ([]string, error)
}

// Sealing is the policy that retries the final documents of contracts
// whose attempt failed or never told its outcome (a crash after the last
// signature), so that no contract stays "sealing" for good.
type Sealing struct {
	Due    SealingDue
	Seal   Handler[SealContract, ContractResult]
	Clock  Clock
	Logger *slog.Logger
	Every  time.Duration // default 15 s
}

// Tick attempts every contract due now, at most 100.
func (s Sealing) Tick(ctx context.Context) (sealed int, err error) {
	ids, err := s.Due.SealingDue(ctx, s.Clock.Now(), 100)
	if err != nil {
		return 0, err
	}
	var errs []error
	for _, id := range ids {
		r, err := s.Seal.Handle(ctx, SealContract{ContractID: id})
		if _, refused := fault.As(err); refused {
			continue // completed meanwhile by another attempt
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if r.Status == contract.StatusCompleted {
			sealed++
		}
	}
	return sealed, errors.Join(errs...)
}

// Run ticks until ctx ends.
func (s Sealing) Run(ctx context.Context) {
	every := cmpOr(s.Every, 15*time.Second)
	logger := s.Logger
	if logger == nil {
		logger = slog.Default()
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if n, err := s.Tick(ctx); err != nil && ctx.Err() == nil {
			logger.Warn("sealing retries", slog.Int("sealed", n), slog.Any("error", err))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func cmpOr(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

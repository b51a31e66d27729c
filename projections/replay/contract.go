package replay

import (
	"signet/domain/identity"
	"slices"
	"time"

	"signet/domain/contract"
	"signet/domain/event"
)

// ContractState is a contract as it stood.
type ContractState struct {
	ID              string             `json:"id"`
	Number          string             `json:"number"`
	Title           string             `json:"title"`
	ContractType    string             `json:"contract_type,omitempty"`
	Status          string             `json:"status"` // as the domain names it; new statuses pass through
	Sender          contract.Sender    `json:"sender"`
	TemplateID      string             `json:"template_id,omitempty"`
	TemplateVersion uint64             `json:"template_version,omitempty"`
	Sequential      bool               `json:"sequential"`
	CreatedAt       time.Time          `json:"created_at"`
	SigningDeadline time.Time          `json:"signing_deadline"`
	ExpiresAt       *time.Time         `json:"expires_at,omitempty"`
	SentAt          *time.Time         `json:"sent_at,omitempty"`
	SentBy          string             `json:"sent_by,omitempty"`
	EndedAt         *time.Time         `json:"ended_at,omitempty"`
	Documents       []ContractDocument `json:"documents"`
	Parties         []ContractParty    `json:"parties"`
	Turn            []string           `json:"turn"` // parties who may sign now
	Approval        *Approval          `json:"approval,omitempty"`
	Rejection       *Rejection         `json:"rejection,omitempty"`
	// Sealed is the final documents once produced; SealingFailures counts
	// the failed attempts before (or since).
	Sealed          *contract.ContractSealed `json:"sealed,omitempty"`
	SealingFailures int                      `json:"sealing_failures"`
}

// ContractDocument is a document and its hashes: as created and as frozen
// by sending.
type ContractDocument struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	SHA256     string `json:"sha256"`
	SentSHA256 string `json:"sent_sha256,omitempty"`
	Pages      int    `json:"pages"`
}

// ContractParty is a party and whether (how, when) it had signed.
type ContractParty struct {
	ID             string     `json:"id"`
	Role           string     `json:"role"`
	Kind           string     `json:"kind"`
	Order          int        `json:"order"`
	Name           string     `json:"name"`
	EnterpriseName string     `json:"enterprise_name,omitempty"`
	ContactKind    string     `json:"contact_kind"`
	Contact        string     `json:"contact"` // masked
	Signed         bool       `json:"signed"`
	Signature      *Signature `json:"signature,omitempty"`
}

// Signature is how a party signed.
type Signature struct {
	SignerAccountID string                  `json:"signer_account_id"`
	SignerName      string                  `json:"signer_name"`
	EnterpriseID    string                  `json:"enterprise_id,omitempty"`
	SealID          string                  `json:"seal_id,omitempty"`
	SealName        string                  `json:"seal_name,omitempty"`
	SealSHA256      string                  `json:"seal_sha256,omitempty"`
	SignatureKind   string                  `json:"signature_kind,omitempty"` // typed or image
	SignatureSHA256 string                  `json:"signature_sha256,omitempty"`
	Willingness     contract.Willingness    `json:"willingness"`
	ClientIP        string                  `json:"client_ip,omitempty"` // masked
	SignedAt        time.Time               `json:"signed_at"`
	Documents       []contract.DocumentHash `json:"documents"` // the documents' hashes it signed
}

// Approval is the contract's approval before sending.
type Approval struct {
	Outcome   string   `json:"outcome"`             // pending, approved or rejected
	Approvers []string `json:"approvers,omitempty"` // while pending
}

// Rejection is a party's refusal.
type Rejection struct {
	PartyID         string    `json:"party_id"`
	SignerAccountID string    `json:"signer_account_id"`
	EnterpriseID    string    `json:"enterprise_id,omitempty"`
	Reason          string    `json:"reason"` // scrubbed
	ClientIP        string    `json:"client_ip,omitempty"`
	RejectedAt      time.Time `json:"rejected_at"`
}

type contractBuilder struct {
	c     *contract.Contract
	types []string // applied event types, for the approval's outcome
}

func (b *contractBuilder) apply(envs []event.Envelope) error {
	return applyAll(envs, contract.DecodeEnvelope, func(e contract.Event) error {
		if err := b.c.Apply(e); err != nil {
			return err
		}
		b.types = append(b.types, e.EventType())
		return nil
	})
}

func (b *contractBuilder) state() (bool, any) {
	c := b.c
	if !c.Exists() {
		return false, nil
	}
	cr := c.Created()
	s := &ContractState{
		ID: cr.ContractID, Number: cr.Number, Title: cr.Title, ContractType: cr.ContractType, Status: string(c.Status()),
		Sender: cr.Sender, Sequential: cr.Sequential, CreatedAt: cr.CreatedAt.UTC(), SigningDeadline: cr.SigningDeadline.UTC(),
		ExpiresAt: ptrTime(cr.ExpiresAt), EndedAt: timePtr(c.EndedAt()), Turn: []string{},
	}
	if cr.Template != nil {
		s.TemplateID, s.TemplateVersion = cr.Template.ID, cr.Template.Version
	}
	sent, isSent := c.Sent()
	if isSent {
		s.SentAt, s.SentBy = timePtr(sent.SentAt), sent.SentBy
	}
	for _, d := range cr.Documents {
		cd := ContractDocument{ID: d.ID, Name: d.Name, SHA256: d.File.SHA256, Pages: len(d.Pages)}
		for _, h := range sent.Documents {
			if h.DocumentID == d.ID {
				cd.SentSHA256 = h.SHA256
			}
		}
		s.Documents = append(s.Documents, cd)
	}
	for _, p := range cr.Parties {
		kind, contact := maskContact(p.Contact)
		cp := ContractParty{ID: p.ID, Role: p.Role, Kind: string(p.Kind), Order: p.Order, Name: p.Name, EnterpriseName: p.EnterpriseName,
			ContactKind: kind, Contact: contact}
		if sig, ok := c.Signature(p.ID); ok {
			cp.Signed, cp.Signature = true, signatureOf(sig)
		}
		s.Parties = append(s.Parties, cp)
	}
	for _, p := range c.Turn() {
		s.Turn = append(s.Turn, p.ID)
	}
	switch {
	case c.Status() == contract.StatusPendingApproval:
		s.Approval = &Approval{Outcome: "pending", Approvers: c.Approvers()}
	case c.Status() == contract.StatusApprovalRejected:
		s.Approval = &Approval{Outcome: "rejected"}
	case slices.Contains(b.types, contract.TypeContractApproved):
		s.Approval = &Approval{Outcome: "approved"}
	}
	sealed, failures := c.Sealing()
	s.Sealed, s.SealingFailures = sealed, len(failures)
	if r, ok := c.Rejection(); ok {
		s.Rejection = &Rejection{PartyID: r.PartyID, SignerAccountID: r.SignerAccountID, EnterpriseID: r.EnterpriseID,
			Reason: scrub(r.Reason), ClientIP: identity.MaskIP(r.ClientIP), RejectedAt: r.RejectedAt.UTC()}
	}
	return true, s
}

func signatureOf(e contract.PartySigned) *Signature {
	s := &Signature{SignerAccountID: e.SignerAccountID, SignerName: e.SignerName, EnterpriseID: e.EnterpriseID,
		Willingness: e.Willingness, ClientIP: identity.MaskIP(e.ClientIP), SignedAt: e.SignedAt.UTC(),
		Documents: slices.Clone(e.Documents)}
	if e.Seal != nil {
		s.SealID, s.SealName, s.SealSHA256 = e.Seal.SealID, e.Seal.Name, e.Seal.File.SHA256
	}
	if e.Signature != nil {
		s.SignatureKind = e.Signature.Kind
		if e.Signature.File != nil {
			s.SignatureSHA256 = e.Signature.File.SHA256
		}
	}
	if s.Documents == nil {
		s.Documents = []contract.DocumentHash{}
	}
	return s
}

func ptrTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	return timePtr(*t)
}

package replay

import (
	"slices"
	"time"

	"signet/domain/account"
	"signet/domain/enterprise"
	"signet/domain/event"
	"signet/domain/identity"
	"signet/domain/template"
)

// EnterpriseState is an enterprise's verification, members, seals and
// policies as they stood.
type EnterpriseState struct {
	ID           string              `json:"id"`
	CreatedBy    string              `json:"created_by"`
	Step         string              `json:"step"` // materials, willingness, review, verified
	Method       string              `json:"method,omitempty"`
	Materials    *Materials          `json:"materials,omitempty"`
	LetterStatus string              `json:"letter_status,omitempty"`
	Refusals     int                 `json:"refusals"`
	Failures     int                 `json:"failures"` // willingness checks that failed
	Verified     *EnterpriseVerified `json:"verified,omitempty"`
	Quota        int                 `json:"quota"` // free contracts granted
	Members      []Member            `json:"members"`
	Seals        []SealState         `json:"seals"`
	Approval     ApprovalPolicy      `json:"approval_policy"`
}

// Materials are the submitted materials; ID numbers masked.
type Materials struct {
	Name           string    `json:"name"`
	USCC           string    `json:"uscc"`
	LegalRepName   string    `json:"legal_rep_name"`
	LegalRepID     string    `json:"legal_rep_id,omitempty"` // masked
	Operator       string    `json:"operator"`
	AgentName      string    `json:"agent_name,omitempty"`
	AgentID        string    `json:"agent_id,omitempty"` // masked
	SoleProprietor bool      `json:"sole_proprietor"`
	SubmittedBy    string    `json:"submitted_by"`
	SubmittedAt    time.Time `json:"submitted_at"`
	ExpiresAt      time.Time `json:"expires_at"`
}

// EnterpriseVerified is the verification's outcome.
type EnterpriseVerified struct {
	Name         string    `json:"name"`
	USCC         string    `json:"uscc"`
	LegalRepName string    `json:"legal_rep_name"`
	Method       string    `json:"method"`
	MasterAdmin  string    `json:"master_admin"`
	VerifiedAt   time.Time `json:"verified_at"`
}

// Member is an account and its role in the enterprise.
type Member struct {
	AccountID string `json:"account_id"`
	Role      string `json:"role"`
}

// SealState is a seal as it stood.
type SealState struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	SHA256    string    `json:"sha256"`
	Default   bool      `json:"default"`
	Disabled  bool      `json:"disabled"`
	Grants    []string  `json:"grants"`
	CreatedBy string    `json:"created_by,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// ApprovalPolicy is the enterprise's contract approval policy.
type ApprovalPolicy struct {
	Required  bool     `json:"required"`
	Approvers []string `json:"approvers"`
}

type enterpriseBuilder struct{ e *enterprise.Enterprise }

func (b *enterpriseBuilder) apply(envs []event.Envelope) error {
	return applyAll(envs, enterprise.DecodeEnvelope, b.e.Apply)
}

func (b *enterpriseBuilder) state() (bool, any) {
	e := b.e
	if !e.Exists() {
		return false, nil
	}
	s := &EnterpriseState{ID: e.ID(), CreatedBy: e.CreatedBy(), Step: string(e.Step()), Method: string(e.Method()),
		LetterStatus: e.LetterStatus(), Refusals: e.Refusals(), Failures: len(e.Failures()), Quota: e.Quota(),
		Members: []Member{}, Seals: []SealState{}}
	if m := e.Materials(); m != nil {
		s.Materials = &Materials{Name: m.Name, USCC: m.USCC, LegalRepName: m.LegalRepName, LegalRepID: maskID(m.LegalRepIDNumber),
			Operator: string(m.Operator), AgentName: m.AgentName, AgentID: maskID(m.AgentIDNumber), SoleProprietor: m.SoleProprietor,
			SubmittedBy: m.SubmittedBy, SubmittedAt: m.SubmittedAt.UTC(), ExpiresAt: m.ExpiresAt.UTC()}
	}
	if v := e.Verification(); v != nil {
		s.Verified = &EnterpriseVerified{Name: v.Name, USCC: v.USCC, LegalRepName: v.LegalRepName, Method: string(v.Method),
			MasterAdmin: v.MasterAdmin, VerifiedAt: v.VerifiedAt.UTC()}
	}
	for id, role := range e.Members() {
		s.Members = append(s.Members, Member{AccountID: id, Role: string(role)})
	}
	slices.SortFunc(s.Members, func(a, b Member) int {
		if a.AccountID < b.AccountID {
			return -1
		}
		if a.AccountID > b.AccountID {
			return 1
		}
		return 0
	})
	for _, seal := range e.Seals() {
		grants := seal.Grants
		if grants == nil {
			grants = []string{}
		}
		s.Seals = append(s.Seals, SealState{ID: seal.ID, Name: seal.Name, SHA256: seal.File.SHA256, Default: seal.Default,
			Disabled: seal.Disabled, Grants: grants, CreatedBy: seal.CreatedBy, CreatedAt: seal.CreatedAt.UTC()})
	}
	required, approvers := e.ApprovalPolicy()
	s.Approval = ApprovalPolicy{Required: required, Approvers: append([]string{}, approvers...)}
	return true, s
}

// AccountState is an account as it stood; its login and ID number masked.
type AccountState struct {
	ID                  string     `json:"id"`
	LoginKind           string     `json:"login_kind"`
	Login               string     `json:"login"` // masked
	Name                string     `json:"name"`
	Company             string     `json:"company,omitempty"`
	InvitedBy           string     `json:"invited_by,omitempty"`
	Status              string     `json:"status"`
	RegisteredAt        time.Time  `json:"registered_at"`
	PrivacyPolicy       string     `json:"privacy_policy_version"`
	PhoneFollowup       bool       `json:"phone_followup"`
	Verified            bool       `json:"verified"`
	VerifiedName        string     `json:"verified_name,omitempty"`
	VerifiedIDNumber    string     `json:"verified_id_number,omitempty"` // masked
	VerificationMethod  string     `json:"verification_method,omitempty"`
	VerifiedAt          *time.Time `json:"verified_at,omitempty"`
	PlatformRoles       []string   `json:"platform_roles"`
	Quota               int        `json:"quota"` // free personal contracts granted
	SignatureImageCount int        `json:"signature_images"`
}

type accountBuilder struct{ a *account.Account }

func (b *accountBuilder) apply(envs []event.Envelope) error {
	return applyAll(envs, account.DecodeEnvelope, b.a.Apply)
}

func (b *accountBuilder) state() (bool, any) {
	a := b.a
	if !a.Registered() {
		return false, nil
	}
	s := &AccountState{ID: a.ID(), LoginKind: string(a.Login().Kind()), Login: a.Login().Mask(), Name: a.Name(), Company: a.Company(),
		InvitedBy: a.InvitedBy(), Status: string(a.Status()), RegisteredAt: a.RegisteredAt().UTC(),
		PrivacyPolicy: a.PrivacyPolicy().Version, PhoneFollowup: a.PhoneFollowup(), Verified: a.Verified(),
		PlatformRoles: []string{}, Quota: a.Quota(), SignatureImageCount: len(a.SignatureImages())}
	if v := a.Verification(); v != nil {
		s.VerifiedName, s.VerifiedIDNumber, s.VerificationMethod, s.VerifiedAt = v.Name, maskID(v.IDNumber), string(v.Method), timePtr(v.VerifiedAt)
	}
	for _, r := range []string{account.PlatformAuditor, account.PlatformOperator} {
		if a.HasPlatformRole(r) {
			s.PlatformRoles = append(s.PlatformRoles, r)
		}
	}
	return true, s
}

// TemplateState is a template as it stood.
type TemplateState struct {
	ID           string         `json:"id"`
	Owner        template.Owner `json:"owner"`
	Name         string         `json:"name"`
	ContractType string         `json:"contract_type,omitempty"`
	Sequential   bool           `json:"sequential"`
	Disabled     bool           `json:"disabled"`
	Documents    []TemplateDoc  `json:"documents"`
	Roles        []TemplateRole `json:"roles"`
	Fields       int            `json:"fields"`
}

// TemplateDoc is a template's document.
type TemplateDoc struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
	Pages  int    `json:"pages"`
}

// TemplateRole is a template's signer role.
type TemplateRole struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Kind  string `json:"kind"`
	Order int    `json:"order"`
}

type templateBuilder struct{ t *template.Template }

func (b *templateBuilder) apply(envs []event.Envelope) error {
	return applyAll(envs, template.DecodeEnvelope, b.t.Apply)
}

func (b *templateBuilder) state() (bool, any) {
	t := b.t
	if !t.Exists() {
		return false, nil
	}
	snap := t.Snapshot()
	s := &TemplateState{ID: t.ID(), Owner: t.Owner(), Name: t.Name(), ContractType: t.ContractType(), Sequential: t.Sequential(),
		Disabled: t.Disabled(), Documents: []TemplateDoc{}, Roles: []TemplateRole{}, Fields: len(snap.Fields)}
	for _, d := range snap.Documents {
		s.Documents = append(s.Documents, TemplateDoc{ID: d.ID, Name: d.Name, SHA256: d.File.SHA256, Pages: len(d.Pages)})
	}
	for _, r := range snap.Roles {
		s.Roles = append(s.Roles, TemplateRole{ID: r.ID, Name: r.Name, Kind: string(r.Kind), Order: r.Order})
	}
	return true, s
}

func maskID(s string) string {
	if s == "" {
		return ""
	}
	return identity.MaskIDNumber(s)
}

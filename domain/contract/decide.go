package contract

import (
	"fmt"
	"slices"
	"time"

	"signet/domain/account"
	"signet/domain/event"
	"signet/domain/fault"
	"signet/domain/layout"
)

// PartyInput is who the sender names for a role.
type PartyInput struct {
	Name           string `json:"name"`
	Contact        string `json:"contact"`                   // mobile number or email address
	EnterpriseName string `json:"enterprise_name,omitempty"` // enterprise roles
}

// Spec is everything a sender decides about a contract.
type Spec struct {
	ContractID      string
	Number          string
	Title           string
	ContractType    string
	Sender          Sender
	Template        *TemplateRef
	Documents       []layout.Document
	Roles           []layout.Role
	Fields          []layout.Field
	Sequential      bool
	Parties         map[string]PartyInput // role ID -> party
	Values          map[string]string     // business field ID -> value
	SigningDeadline time.Time
	ExpiresAt       *time.Time
}

func ts(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// Create checks a sender's spec and opens the contract.
func Create(s Spec, now time.Time) ([]Event, error) {
	if s.ContractID == "" || s.Number == "" || s.Sender.AccountID == "" || s.Sender.Name == "" {
		return nil, fmt.Errorf("contract: spec without ID, number or sender")
	}
	title, err := checkText("title", "title", "contract's title", s.Title, MaxTitleRunes)
	if err != nil {
		return nil, err
	}
	if len(s.Documents) == 0 {
		return nil, fault.Invalidf("documents", "no_documents", "A contract needs at least one document.")
	}
	if len(s.Documents) > layout.MaxDocuments {
		return nil, fault.Invalidf("documents", "too_many_documents", "A contract has at most %d documents.", layout.MaxDocuments)
	}
	for _, d := range s.Documents {
		if d.File.SHA256 == "" || len(d.Pages) == 0 {
			return nil, fault.Invalidf("documents", "invalid_document", "Document %s has no stored file or no pages.", d.Name)
		}
	}
	if len(s.Roles) == 0 {
		return nil, fault.Invalidf("parties", "no_parties", "A contract needs at least one party (签约方).")
	}
	if len(s.Roles) > layout.MaxRoles {
		return nil, fault.Invalidf("parties", "too_many_parties", "A contract has at most %d parties.", layout.MaxRoles)
	}
	for id := range s.Parties {
		if !slices.ContainsFunc(s.Roles, func(r layout.Role) bool { return r.ID == id }) {
			return nil, fault.Invalidf("parties."+id, "unknown_role", "There is no role %q to fill.", id)
		}
	}
	roles := slices.Clone(s.Roles)
	slices.SortStableFunc(roles, func(a, b layout.Role) int { return a.Order - b.Order })
	parties := make([]Party, 0, len(roles))
	contacts, enterprises := map[string]string{}, map[string]string{}
	for _, r := range roles {
		r, err := layout.CheckRole(r)
		if err != nil {
			return nil, err
		}
		p, err := checkParty(r, s.Parties[r.ID])
		if err != nil {
			return nil, err
		}
		key := p.Contact.Value
		if p.Kind == layout.Enterprise {
			key = "enterprise:" + p.EnterpriseName
			if other, dup := enterprises[p.EnterpriseName]; dup {
				return nil, fault.Invalidf("parties."+r.ID+".enterprise_name", "duplicate_party", "%s and %s are the same enterprise %s.", other, r.Name, p.EnterpriseName)
			}
			enterprises[p.EnterpriseName] = r.Name
		} else if other, dup := contacts[key]; dup {
			return nil, fault.Invalidf("parties."+r.ID+".contact", "duplicate_party", "%s and %s are the same person (%s).", other, r.Name, p.Contact.Value)
		}
		contacts[key] = r.Name
		parties = append(parties, p)
	}
	if len(s.Fields) > layout.MaxFields {
		return nil, fault.Invalidf("fields", "too_many_fields", "A contract has at most %d fields.", layout.MaxFields)
	}
	fields := make([]layout.Field, 0, len(s.Fields))
	ids := map[string]bool{}
	signs := map[string]bool{}
	for _, f := range s.Fields {
		f.Choices = slices.Clone(f.Choices)
		f, err := layout.CheckField(f, s.Documents, roles)
		if err != nil {
			return nil, err
		}
		if f.ID == "" || ids[f.ID] {
			return nil, fault.Invalidf("fields", "duplicate_field", "Each field needs its own ID (%q).", f.ID)
		}
		ids[f.ID] = true
		if f.Kind == layout.Seal || f.Kind == layout.Signature {
			signs[f.RoleID] = true
		}
		fields = append(fields, f)
	}
	for _, r := range roles {
		if !signs[r.ID] {
			what := "signature (签字处)"
			if r.Kind == layout.Enterprise {
				what = "seal (盖章处)"
			}
			return nil, fault.Invalidf("fields", "missing_signing_field", "%s has no place for its %s.", r.Name, what)
		}
	}
	values := map[string]string{}
	for id := range s.Values {
		if !slices.ContainsFunc(fields, func(f layout.Field) bool { return f.ID == id && f.Kind.Business() }) {
			return nil, fault.Invalidf("values."+id, "unknown_field", "There is no business field %q to fill.", id)
		}
	}
	for _, f := range fields {
		if !f.Kind.Business() {
			continue
		}
		v, err := layout.CheckValue(f, s.Values[f.ID])
		if err != nil {
			return nil, err
		}
		if v != "" {
			values[f.ID] = v
		}
	}
	if !s.SigningDeadline.After(now) {
		return nil, fault.Invalidf("signing_deadline", "deadline_passed", "The signing deadline must be in the future.")
	}
	if s.SigningDeadline.After(now.Add(MaxSigningWindow)) {
		return nil, fault.Invalidf("signing_deadline", "deadline_too_far", "The signing deadline is at most a year from now.")
	}
	var expires *time.Time
	if s.ExpiresAt != nil {
		if !s.ExpiresAt.After(s.SigningDeadline) {
			return nil, fault.Invalidf("expires_at", "expiry_before_deadline", "The contract cannot expire before its signing deadline.")
		}
		t := ts(*s.ExpiresAt)
		expires = &t
	}
	ctype := s.ContractType
	if ctype != "" {
		if ctype, err = checkText("contract_type", "contract_type", "contract type", ctype, layout.MaxNameRunes); err != nil {
			return nil, err
		}
	}
	if len(values) == 0 {
		values = nil
	}
	return []Event{ContractCreated{
		ContractID: s.ContractID, Number: s.Number, Title: title, ContractType: ctype, Sender: s.Sender, Template: s.Template,
		Documents: slices.Clone(s.Documents), Parties: parties, Fields: fields, Values: values, Sequential: s.Sequential,
		SigningDeadline: ts(s.SigningDeadline), ExpiresAt: expires, CreatedAt: ts(now),
	}}, nil
}

func checkParty(r layout.Role, in PartyInput) (Party, error) {
	field := "parties." + r.ID
	name, err := checkText(field+".name", "party_name", r.Name+"'s name", in.Name, layout.MaxNameRunes)
	if err != nil {
		return Party{}, err
	}
	if in.Contact == "" {
		return Party{}, fault.Invalidf(field+".contact", "missing_contact", "Give %s's mobile number or email address.", r.Name)
	}
	login, err := account.ParseLogin(in.Contact)
	if err != nil {
		return Party{}, fault.Invalidf(field+".contact", "invalid_contact", "%s's contact must be a mainland mobile number (11 digits) or an email address.", r.Name)
	}
	p := Party{ID: r.ID, Role: r.Name, Kind: r.Kind, Order: r.Order, Name: name, Contact: Contact{Kind: string(login.Kind()), Value: login.String()}}
	if r.Kind == layout.Enterprise {
		if p.EnterpriseName, err = checkText(field+".enterprise_name", "enterprise_name", r.Name+"'s enterprise name", in.EnterpriseName, layout.MaxNameRunes); err != nil {
			return Party{}, err
		}
	}
	return p, nil
}

func (c *Contract) refuseEnded() error {
	switch c.status {
	case StatusCompleted:
		return fault.New(fault.Rule, "contract_completed", "This contract is already completed: every party signed it.")
	case StatusSealing:
		return fault.New(fault.Rule, "contract_signed", "Every party has signed this contract; its final documents are being produced.")
	case StatusRejected:
		return fault.New(fault.Rule, "contract_rejected", "This contract was rejected by a party and can no longer be signed.")
	case StatusRevoked:
		return fault.New(fault.Rule, "contract_revoked", "The sender revoked this contract; it can no longer be signed.")
	case StatusExpired:
		return fault.New(fault.Rule, "contract_expired", "This contract's signing deadline passed; it can no longer be signed.")
	case StatusApprovalRejected:
		return fault.New(fault.Rule, "contract_not_approved", "This contract was stopped by its approver and never sent.")
	case StatusPendingApproval, StatusCreated, StatusApproved:
		return fault.New(fault.Rule, "contract_not_sent", "This contract has not been sent yet (it waits for approval).")
	}
	return nil
}

var errNotFound = fault.New(fault.NotFound, "contract_not_found", "There is no such contract.")

// SubmitForApproval holds the contract until one of approvers decides.
func (c *Contract) SubmitForApproval(approvers []string, now time.Time) ([]Event, error) {
	if !c.Exists() {
		return nil, errNotFound
	}
	if c.status != StatusCreated {
		return nil, fault.New(fault.Conflict, "already_submitted", "This contract was already sent or submitted.")
	}
	if len(approvers) == 0 {
		return nil, fmt.Errorf("contract: approval without approvers")
	}
	return []Event{ContractSubmittedForApproval{Approvers: slices.Clone(approvers), SubmittedAt: ts(now)}}, nil
}

func (c *Contract) checkApprover(approver string) error {
	if !c.Exists() {
		return errNotFound
	}
	if c.status != StatusPendingApproval {
		if c.status.Ended() || c.status == StatusSigning {
			return fault.New(fault.Conflict, "approval_decided", "This contract's approval was already decided.")
		}
		return fault.New(fault.Rule, "not_pending_approval", "This contract does not wait for approval.")
	}
	if !slices.Contains(c.approvers, approver) {
		return fault.New(fault.Forbidden, "not_an_approver", "You are not an approver of this contract.")
	}
	return nil
}

// Approve lets the contract go out; the caller appends Send's events with it.
func (c *Contract) Approve(approver string, now time.Time) ([]Event, error) {
	if err := c.checkApprover(approver); err != nil {
		return nil, err
	}
	return []Event{ContractApproved{ApproverID: approver, ApprovedAt: ts(now), Approvers: slices.Clone(c.approvers)}}, nil
}

// RejectApproval stops the contract: it is never sent.
func (c *Contract) RejectApproval(approver, reason string, now time.Time) ([]Event, error) {
	if err := c.checkApprover(approver); err != nil {
		return nil, err
	}
	reason, err := checkText("reason", "reason", "reason", reason, MaxReasonRunes)
	if err != nil {
		return nil, err
	}
	return []Event{ContractApprovalRejected{ApproverID: approver, Reason: reason, RejectedAt: ts(now), Approvers: slices.Clone(c.approvers)}}, nil
}

// Send freezes the documents and opens signing. It follows creation (or
// approval) in the same append; quota names whose quota paid for it.
func (c *Contract) Send(sentBy string, quota Quota, now time.Time) ([]Event, error) {
	if !c.Exists() {
		return nil, errNotFound
	}
	if c.status != StatusCreated && c.status != StatusApproved {
		return nil, fault.New(fault.Conflict, "already_sent", "This contract was already sent.")
	}
	if !now.Before(c.created.SigningDeadline) {
		return nil, fault.New(fault.Rule, "deadline_passed", "The contract's signing deadline has passed; send a new one.")
	}
	docs := make([]DocumentHash, len(c.created.Documents))
	for i, d := range c.created.Documents {
		docs[i] = DocumentHash{DocumentID: d.ID, SHA256: d.File.SHA256}
	}
	return []Event{ContractSent{Documents: docs, Quota: quota, SentBy: sentBy, SentAt: ts(now)}}, nil
}

// Signer is who asks to sign or reject for a party, as the command found
// them: the login they hold, their verified name, and the verified
// enterprise they act for.
type Signer struct {
	AccountID    string
	Login        Contact
	VerifiedName string // "" when the person is not verified
	Name         string // the account's registered name, shown when not verified
	// Enterprise is set when acting for an enterprise; its Name is the
	// verified name ("" when not verified).
	Enterprise *SignerEnterprise
}

// SignerEnterprise is the enterprise a signer acts for.
type SignerEnterprise struct {
	ID   string
	Name string
}

// CheckSigner says whether s may act for the party: a person party is the
// person whose login the sender named, verified under the name the sender
// gave; an enterprise party is acted for by a member of the verified
// enterprise of the name the sender gave (membership and seal rights are
// checked by the enterprise).
func (c *Contract) CheckSigner(partyID string, s Signer) (Party, error) {
	if !c.Exists() {
		return Party{}, errNotFound
	}
	p, ok := c.Party(partyID)
	if !ok {
		return Party{}, fault.New(fault.NotFound, "party_not_found", "This contract has no party "+partyID+".")
	}
	switch p.Kind {
	case layout.Person:
		if s.Login != p.Contact {
			return Party{}, fault.New(fault.Forbidden, "not_this_party", "This party ("+p.Role+") is addressed to another mobile number or email address than the one you are logged in with.")
		}
		if s.VerifiedName == "" {
			return Party{}, fault.New(fault.Rule, "person_not_verified", "Verify your real name (个人实名认证) before signing.")
		}
		if s.VerifiedName != p.Name {
			return Party{}, fault.New(fault.Rule, "name_mismatch", "The sender addressed this party to "+p.Name+", but your verified name is "+s.VerifiedName+".")
		}
	case layout.Enterprise:
		if s.Enterprise == nil {
			return Party{}, fault.Invalidf("enterprise_id", "enterprise_required", "%s is signed for the enterprise %s: say which enterprise you act for.", p.Role, p.EnterpriseName)
		}
		if s.Enterprise.Name == "" {
			return Party{}, fault.New(fault.Rule, "enterprise_not_verified", "The enterprise you act for has not completed its real-name verification (企业实名认证).")
		}
		if s.Enterprise.Name != p.EnterpriseName {
			return Party{}, fault.New(fault.Forbidden, "not_this_enterprise", "This party is the enterprise "+p.EnterpriseName+", not "+s.Enterprise.Name+".")
		}
	}
	return p, nil
}

// Signing is a signature as the command prepared it.
type Signing struct {
	PartyID   string
	Signer    Signer
	Seal      *SealUse
	Signature *SignatureUse
	ClientIP  string
	Channel   string // where the SMS or email code went: "sms" or "email"
}

// Sign records a party's signature. After the last one the contract is
// "sealing" until Seal records the final documents and completes it.
// The willingness check (an SMS code) is the caller's, before this.
func (c *Contract) Sign(s Signing, now time.Time) ([]Event, error) {
	p, err := c.checkActing(s.PartyID, s.Signer, now)
	if err != nil {
		return nil, err
	}
	if c.created.Sequential && !slices.ContainsFunc(c.Turn(), func(t Party) bool { return t.ID == p.ID }) {
		var names []string
		for _, t := range c.Turn() {
			names = append(names, t.Role)
		}
		return nil, fault.New(fault.Rule, "not_your_turn", fmt.Sprintf("This contract is signed in order; it is %v's turn first.", names))
	}
	name := s.Signer.VerifiedName
	if name == "" {
		name = s.Signer.Name
	}
	signed := PartySigned{PartyID: p.ID, SignerAccountID: s.Signer.AccountID, SignerName: name,
		Willingness: Willingness{Method: WillingnessSMSCode, Channel: s.Channel, VerifiedAt: ts(now)}, Documents: slices.Clone(c.sent.Documents), ClientIP: s.ClientIP, SignedAt: ts(now)}
	switch p.Kind {
	case layout.Enterprise:
		if s.Seal == nil {
			return nil, fault.Invalidf("seal_id", "seal_required", "An enterprise signs with one of its seals: choose a seal.")
		}
		seal := *s.Seal
		signed.Seal, signed.EnterpriseID = &seal, s.Signer.Enterprise.ID
	case layout.Person:
		if s.Signature == nil {
			return nil, fault.Invalidf("signature", "signature_required", "A person signs with a signature: typed or an uploaded handwriting image.")
		}
		sig := *s.Signature
		signed.Signature = &sig
	}
	if len(c.signed)+1 == len(c.created.Parties) {
		return []Event{signed, ContractFullySigned{SignedAt: ts(now)}}, nil
	}
	return []Event{signed}, nil
}

// Sealing retries: soon at first, then every 30 minutes at most.
const (
	firstSealingRetry = 30 * time.Second
	maxSealingRetry   = 30 * time.Minute
)

// SealingRetryAt is when the attempt after a failed one is due.
func SealingRetryAt(attempt int, failedAt time.Time) time.Time {
	d := firstSealingRetry
	for i := 1; i < attempt && d < maxSealingRetry; i++ {
		d *= 2
	}
	return failedAt.Add(min(d, maxSealingRetry))
}

var errNotSealing = fault.New(fault.Conflict, "not_sealing", "This contract is not waiting for its final documents.")

// Seal records the final documents, the certificate of completion and the
// timestamps, and completes the contract: a contract is never called
// completed without them.
func (c *Contract) Seal(s ContractSealed, now time.Time) ([]Event, error) {
	if !c.Exists() {
		return nil, errNotFound
	}
	if c.status != StatusSealing {
		return nil, errNotSealing
	}
	docs := c.created.Documents
	if len(s.Documents) != len(docs) {
		return nil, fmt.Errorf("%w: sealed %d documents of %d", event.ErrInvalid, len(s.Documents), len(docs))
	}
	for i, d := range s.Documents {
		if d.DocumentID != docs[i].ID || len(d.SHA256) != 64 || d.Signatures != len(c.created.Parties) {
			return nil, fmt.Errorf("%w: sealed document %d (%s) does not match document %s signed by %d parties", event.ErrInvalid, i, d.DocumentID, docs[i].ID, len(c.created.Parties))
		}
	}
	if len(s.CertificateSHA256) != 64 {
		return nil, fmt.Errorf("%w: no certificate of completion", event.ErrInvalid)
	}
	s.Attempt, s.SealedAt = len(c.failures)+1, ts(now)
	return []Event{s, ContractCompleted{CompletedAt: ts(now)}}, nil
}

// SealingFailed records a failed attempt at the final documents and when
// the next one is due; the contract stays "sealing".
func (c *Contract) SealingFailed(step, reason string, now time.Time) ([]Event, error) {
	if !c.Exists() {
		return nil, errNotFound
	}
	if c.status != StatusSealing {
		return nil, errNotSealing
	}
	attempt := len(c.failures) + 1
	if r := []rune(reason); len(r) > MaxReasonRunes {
		reason = string(r[:MaxReasonRunes])
	}
	return []Event{ContractSealingFailed{Attempt: attempt, Step: step, Reason: reason, FailedAt: ts(now), RetryAt: ts(SealingRetryAt(attempt, now))}}, nil
}

func (c *Contract) checkActing(partyID string, s Signer, now time.Time) (Party, error) {
	if !c.Exists() {
		return Party{}, errNotFound
	}
	if err := c.refuseEnded(); err != nil {
		return Party{}, err
	}
	p, err := c.CheckSigner(partyID, s)
	if err != nil {
		return Party{}, err
	}
	if _, done := c.signed[p.ID]; done {
		return Party{}, fault.New(fault.Conflict, "already_signed", p.Role+" has already signed this contract.")
	}
	if !now.Before(c.created.SigningDeadline) {
		return Party{}, fault.New(fault.Rule, "contract_expired", "This contract's signing deadline passed; it can no longer be signed.")
	}
	return p, nil
}

// Reject records a party's refusal (拒签): the contract ends as rejected.
func (c *Contract) Reject(partyID string, s Signer, reason, clientIP string, now time.Time) ([]Event, error) {
	p, err := c.checkActing(partyID, s, now)
	if err != nil {
		return nil, err
	}
	reason, err = checkText("reason", "reason", "reason for rejecting", reason, MaxReasonRunes)
	if err != nil {
		return nil, err
	}
	enterpriseID := ""
	if s.Enterprise != nil && p.Kind == layout.Enterprise {
		enterpriseID = s.Enterprise.ID
	}
	return []Event{PartyRejected{PartyID: p.ID, SignerAccountID: s.AccountID, EnterpriseID: enterpriseID, Reason: reason, ClientIP: clientIP, RejectedAt: ts(now)}}, nil
}

// Revoke withdraws the contract before completion (the caller checks that
// by is the sender or an administrator of the sender's enterprise).
func (c *Contract) Revoke(by, reason string, now time.Time) ([]Event, error) {
	if !c.Exists() {
		return nil, errNotFound
	}
	if c.status != StatusSigning && c.status != StatusPendingApproval {
		if err := c.refuseEnded(); err != nil {
			return nil, err
		}
	}
	reason, err := checkText("reason", "reason", "reason for revoking", reason, MaxReasonRunes)
	if err != nil {
		return nil, err
	}
	return []Event{ContractRevoked{RevokedBy: by, Reason: reason, RevokedAt: ts(now), Approvers: c.waitingApprovers()}}, nil
}

// Expire ends a contract whose signing deadline passed before every party
// signed. It refuses a contract that is not being signed or not yet due,
// so that of several schedulers only one records the expiry.
func (c *Contract) Expire(now time.Time) ([]Event, error) {
	if !c.Exists() {
		return nil, errNotFound
	}
	if c.status != StatusSigning && c.status != StatusPendingApproval {
		return nil, fault.New(fault.Conflict, "contract_ended", "This contract is no longer being signed.")
	}
	if now.Before(c.created.SigningDeadline) {
		return nil, fault.New(fault.Rule, "not_due", "This contract's signing deadline has not passed.")
	}
	return []Event{ContractExpired{Deadline: c.created.SigningDeadline, ExpiredAt: ts(now), Approvers: c.waitingApprovers()}}, nil
}

// waitingApprovers are the approvers while the contract waits for them.
func (c *Contract) waitingApprovers() []string {
	if c.status != StatusPendingApproval {
		return nil
	}
	return slices.Clone(c.approvers)
}

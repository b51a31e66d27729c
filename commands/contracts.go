package commands

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"signet/domain/account"
	"signet/domain/contract"
	"signet/domain/enterprise"
	"signet/domain/event"
	"signet/domain/fault"
	"signet/domain/layout"
	"signet/infra/evidence"
	"signet/infra/notify"
)

// ContractCommands are sending and signing (seed section 03).
type ContractCommands struct {
	Send           Handler[SendContract, SendContractResult]
	Approve        Handler[ApproveContract, ContractResult]
	RejectApproval Handler[RejectApproval, ContractResult]
	SendSignCode   Handler[SendSignCode, SendSignCodeResult]
	Sign           Handler[SignContract, ContractResult]
	Seal           Handler[SealContract, ContractResult]
	Evidence       Handler[ExportEvidence, evidence.Bundle]
	Reject         Handler[RejectContract, ContractResult]
	Revoke         Handler[RevokeContract, ContractResult]
	Expire         Handler[ExpireContract, ContractResult]
}

// PurposeSign is the code purpose of the willingness check when signing.
const PurposeSign = "contract-sign"

type contracts struct {
	events       EventStore
	ids          IDs
	clock        Clock
	codes        CodeStore
	senders      SenderLimit
	notifier     Notifier
	blobs        Blobs
	pdf          PDFInspector
	art          Artwork
	sealer       Sealer
	completion   CompletionRenderer
	evidenceDeps EvidenceDeps
	url          string
	log          *slog.Logger
	typed        sync.Map // verified name -> its stored typed signature
}

func newContractCommands(d Deps) ContractCommands {
	c := &contracts{events: d.Events, ids: d.IDs, clock: d.Clock, codes: d.Codes, senders: d.Senders, notifier: d.Notifier,
		blobs: d.Verification.Blobs, pdf: d.Lifecycle.PDF, art: d.Lifecycle.Art, sealer: d.Lifecycle.Sealer, completion: d.Lifecycle.Completion, evidenceDeps: d.Evidence, url: strings.TrimRight(d.Lifecycle.PublicURL, "/"), log: d.Logger}
	return ContractCommands{
		Send:           decorate(d, c.send),
		Approve:        decorate(d, c.approve),
		RejectApproval: decorate(d, c.rejectApproval),
		SendSignCode:   decorate(d, c.sendSignCode),
		Sign:           decorate(d, c.sign),
		Seal:           decorate(d, c.seal),
		Evidence:       decorate(d, c.evidence),
		Reject:         decorate(d, c.reject),
		Revoke:         decorate(d, c.revoke),
		Expire:         decorate(d, c.expire),
	}
}

// ContractResult is a write on a contract and where it stands after it.
type ContractResult struct {
	ContractID string
	Status     contract.Status
	Written
}

func appendTo[E interface{ EventType() string }](ctx context.Context, c *contracts, stream string, expected event.ExpectedVersion,
	encode func(string, E, event.Metadata) (event.New, error), evs []E, meta event.Metadata) (uint64, error) {
	return appendEvents(ctx, c.events, c.ids, stream, expected, encode, evs, meta)
}

var errContractNotFound = fault.New(fault.NotFound, "contract_not_found", "There is no such contract.")

func (c *contracts) load(ctx context.Context, id string) (*contract.Contract, error) {
	if !validID(id) {
		return nil, errContractNotFound
	}
	envs, err := c.events.ReadStream(ctx, contract.StreamOf(id), 1, event.Forwards, 0)
	if errors.Is(err, event.ErrNotFound) || (err == nil && len(envs) == 0) {
		return nil, errContractNotFound
	}
	if err != nil {
		return nil, storeErr("read contract", err)
	}
	return contract.Replay(envs)
}

func (c *contracts) loadAccount(ctx context.Context, id string) (*account.Account, error) {
	return loadAccount(ctx, c.events, id)
}

func (c *contracts) loadEnterprise(ctx context.Context, id string) (*enterprise.Enterprise, error) {
	return enterprises{events: c.events, ids: c.ids}.load(ctx, id)
}

// retry runs f again after a concurrent change, a bounded number of times.
// Many senders of one enterprise race for its stream when they spend quota,
// so the retries are more and spread out by a growing, jittered pause.
func retry[R any](f func() (R, error)) (R, error) {
	// Enough for a dozen senders racing for one quota ledger on a loaded
	// machine (under -race in CI 10 were not); at most about a second.
	const attempts = 25
	for attempt := 1; ; attempt++ {
		r, err := f()
		if attempt < attempts && errors.Is(err, event.ErrConcurrency) {
			time.Sleep(time.Duration(attempt) * time.Duration(1+mrand.IntN(4)) * time.Millisecond)
			continue
		}
		return r, err
	}
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// SendContract sends a contract from a template, or ad hoc with its own
// documents, roles and fields.
type SendContract struct {
	Actor        Actor
	EnterpriseID string // sending on behalf of this enterprise; "" = as a person
	TemplateID   string // "" = ad hoc

	Title           string
	Parties         map[string]contract.PartyInput // role ID -> party
	Values          map[string]string
	SigningDeadline time.Time
	ExpiresAt       *time.Time
	// DryRun checks everything and answers what would be sent, writing nothing (确认信息).
	DryRun bool
	// ContractID, when given, is the new contract's ID and makes sending
	// again harmless: the number, the quota spend and the contract's events
	// get IDs derived from it, and a contract that exists already is
	// answered as sent. A batch's rows are sent so (retried after a crash).
	ContractID string

	// Ad hoc only.
	ContractType string
	Sequential   bool
	Documents    []AdHocDocument
	Roles        []layout.Role
	Fields       []layout.Field
}

// AdHocDocument is an uploaded PDF of an ad hoc contract.
type AdHocDocument struct {
	ID   string // referred to by fields; "" = "d<n>"
	Name string
	File Upload
}

// SendContractResult: the contract, or what it would be (DryRun).
type SendContractResult struct {
	ContractID string
	Number     string
	Status     contract.Status
	Contract   contract.ContractCreated
	Approvers  []string
	Written
}

var errQuotaExhausted = fault.New(fault.Rule, "quota_exhausted", "No contracts are left in the quota; nothing was sent.")

func (c *contracts) send(ctx context.Context, cmd SendContract) (SendContractResult, error) {
	now := c.clock.Now()
	if res, done, err := c.sentBefore(ctx, cmd); done || err != nil {
		return res, err
	}
	sender, ent, acct, err := c.sender(ctx, cmd.Actor.AccountID, cmd.EnterpriseID)
	if err != nil {
		return SendContractResult{}, err
	}
	// Quota first: with none left nothing is read, stored or written.
	used, ledger, err := QuotaUsed(ctx, c.events, quotaStream(quotaOf(sender)))
	if err != nil {
		return SendContractResult{}, err
	}
	if (ent != nil && ent.QuotaLeft(used) <= 0) || (ent == nil && acct.QuotaLeft(used) <= 0) {
		if paid, err := c.quotaSpent(ctx, cmd.Actor, sender, cmd.ContractID, ledger, now); err != nil || !paid {
			return SendContractResult{}, cmp.Or(err, error(errQuotaExhausted))
		}
	}
	var uploads [][]byte
	spec := contract.Spec{ContractID: cmp.Or(cmd.ContractID, c.ids.NewID()), Title: cmd.Title, Sender: sender, Parties: cmd.Parties, Values: cmd.Values,
		SigningDeadline: cmd.SigningDeadline, ExpiresAt: cmd.ExpiresAt}
	if cmd.TemplateID != "" {
		if len(cmd.Documents)+len(cmd.Roles)+len(cmd.Fields) > 0 || cmd.ContractType != "" || cmd.Sequential {
			return SendContractResult{}, fault.Invalidf("template_id", "template_and_ad_hoc", "Send from a template or with your own documents, roles and fields, not both.")
		}
		t, err := loadTemplate(ctx, c.events, cmd.TemplateID)
		if err != nil {
			return SendContractResult{}, err
		}
		if err := mayUseTemplate(ctx, c.events, t, cmd.Actor.AccountID); err != nil {
			return SendContractResult{}, err
		}
		if err := t.CheckSendable(); err != nil {
			return SendContractResult{}, err
		}
		snap := t.Snapshot()
		spec.Template = &contract.TemplateRef{ID: t.ID(), Version: t.Version()}
		spec.Documents, spec.Roles, spec.Fields, spec.Sequential, spec.ContractType = snap.Documents, snap.Roles, snap.Fields, snap.Sequential, snap.ContractType
		if strings.TrimSpace(spec.Title) == "" {
			spec.Title = snap.Name
		}
	} else if err := c.adHoc(cmd, &spec, &uploads); err != nil {
		return SendContractResult{}, err
	}
	// Check the whole spec before anything is written.
	spec.Number = contract.Number(now, numberRandom(cmd.ContractID, 0))
	opened, err := contract.Create(spec, now)
	if err != nil {
		return SendContractResult{}, err
	}
	created := opened[0].(contract.ContractCreated)
	var approvers []string
	if ent != nil {
		if required, list := ent.ApprovalPolicy(); required && !slices.Contains(list, cmd.Actor.AccountID) {
			approvers = list
		}
	}
	if cmd.DryRun {
		return SendContractResult{ContractID: "", Number: "", Status: contract.StatusCreated, Contract: created, Approvers: approvers}, nil
	}
	for i, data := range uploads {
		ref, err := c.blobs.Put(ctx, data, PDFMediaType)
		if err != nil {
			return SendContractResult{}, fmt.Errorf("store document: %w", err)
		}
		if ref.SHA256 != spec.Documents[i].File.SHA256 {
			return SendContractResult{}, fmt.Errorf("store document: stored as %s, hashed as %s", ref.SHA256, spec.Documents[i].File.SHA256)
		}
	}
	meta := cmd.Actor.meta(now, sender.EnterpriseID)
	// A unique number: reserve its stream; on the rare clash draw again.
	for attempt := 0; ; attempt++ {
		_, err := appendEvents(ctx, c.events, c.idsFor(cmd.ContractID, "number:"+spec.Number), contract.NumberStream(spec.Number), event.NoStream, contract.NewEvent,
			[]contract.Event{contract.ContractNumberReserved{ContractID: spec.ContractID, ReservedAt: now.UTC()}}, meta)
		if err == nil {
			break
		}
		if !errors.Is(err, event.ErrConcurrency) || attempt == 4 {
			return SendContractResult{}, err
		}
		spec.Number = contract.Number(now, numberRandom(cmd.ContractID, attempt+1))
	}
	created.Number = spec.Number
	k := contract.New()
	if err := k.Apply(created); err != nil {
		return SendContractResult{}, err
	}
	var evs []contract.Event
	if len(approvers) > 0 {
		evs, err = k.SubmitForApproval(approvers, now)
	} else {
		if err := c.useQuota(ctx, cmd.Actor, sender, spec.ContractID, now); err != nil {
			return SendContractResult{}, err
		}
		evs, err = k.Send(cmd.Actor.AccountID, quotaOf(sender), now)
	}
	if err != nil {
		return SendContractResult{}, err
	}
	pos, err := appendEvents(ctx, c.events, c.idsFor(cmd.ContractID, "contract"), contract.StreamOf(spec.ContractID), event.NoStream, contract.NewEvent, append([]contract.Event{created}, evs...), meta)
	if err != nil {
		return SendContractResult{}, err
	}
	for _, e := range evs {
		if err := k.Apply(e); err != nil {
			return SendContractResult{}, err
		}
	}
	if len(approvers) > 0 {
		c.notifyAccounts(ctx, approvers, "合同待审批 Contract awaiting your approval",
			fmt.Sprintf("%s 发送的合同《%s》(%s) 需要您审批 / needs your approval: %s", sender.Name, created.Title, created.Number, c.link(spec.ContractID)))
	} else {
		c.notifyParties(ctx, k, k.Turn())
	}
	return SendContractResult{ContractID: spec.ContractID, Number: spec.Number, Status: k.Status(), Contract: created, Approvers: approvers, Written: Written{pos}}, nil
}

func quotaOf(s contract.Sender) contract.Quota {
	if s.EnterpriseID != "" {
		return contract.Quota{Kind: "enterprise", ID: s.EnterpriseID}
	}
	return contract.Quota{Kind: "personal", ID: s.AccountID}
}

// sender finds who sends: a member of a verified enterprise, or a verified person.
func (c *contracts) sender(ctx context.Context, accountID, enterpriseID string) (contract.Sender, *enterprise.Enterprise, *account.Account, error) {
	acct, err := c.loadAccount(ctx, accountID)
	if err != nil {
		return contract.Sender{}, nil, nil, err
	}
	person := acct.VerifiedName()
	if person == "" {
		person = acct.Name()
	}
	if enterpriseID == "" {
		if !acct.Verified() {
			return contract.Sender{}, nil, nil, fault.New(fault.Rule, "person_not_verified", "Verify your real name (个人实名认证) before sending contracts as a person, or send on behalf of your verified enterprise.")
		}
		return contract.Sender{AccountID: accountID, Name: acct.VerifiedName(), PersonName: person}, nil, acct, nil
	}
	ent, err := c.loadEnterprise(ctx, enterpriseID)
	if err != nil {
		return contract.Sender{}, nil, nil, err
	}
	if ent.RoleOf(accountID) == "" {
		return contract.Sender{}, nil, nil, fault.New(fault.Forbidden, "not_a_member", "You are not a member of this enterprise.")
	}
	if ent.RoleOf(accountID) == enterprise.Auditor {
		return contract.Sender{}, nil, nil, enterprise.ErrAuditorReadOnly
	}
	if !ent.Verified() {
		return contract.Sender{}, nil, nil, enterprise.ErrNotVerifiedYet
	}
	return contract.Sender{AccountID: accountID, EnterpriseID: enterpriseID, Name: ent.Verification().Name, PersonName: person}, ent, acct, nil
}

// adHoc checks the uploaded documents into spec; their bytes, to be
// stored once the whole contract is accepted, go to pending.
func (c *contracts) adHoc(cmd SendContract, spec *contract.Spec, pending *[][]byte) error {
	if len(cmd.Documents) == 0 {
		return fault.Invalidf("documents", "no_documents", "Send from a template (template_id) or upload at least one PDF document.")
	}
	if len(cmd.Documents) > layout.MaxDocuments {
		return fault.Invalidf("documents", "too_many_documents", "A contract has at most %d documents.", layout.MaxDocuments)
	}
	seen := map[string]bool{}
	for i, d := range cmd.Documents {
		id := d.ID
		if id == "" {
			id = fmt.Sprintf("d%d", i+1)
		}
		if seen[id] {
			return fault.Invalidf("documents", "duplicate_document", "Two documents have the ID %q.", id)
		}
		seen[id] = true
		name, err := layout.CheckName("documents", "document", d.Name)
		if err != nil {
			return err
		}
		u, err := d.File.load()
		if err != nil {
			return err
		}
		pages, err := c.pdf.Inspect(u.Data)
		if err != nil {
			if f, ok := fault.As(err); ok {
				return f.OnField("documents." + id)
			}
			return err
		}
		sum := sha256.Sum256(u.Data)
		spec.Documents = append(spec.Documents, layout.Document{ID: id, Name: name, Pages: pages,
			File: layout.File{SHA256: hex.EncodeToString(sum[:]), Size: int64(len(u.Data)), MediaType: PDFMediaType}})
		*pending = append(*pending, u.Data)
	}
	spec.Roles, spec.Sequential = slices.Clone(cmd.Roles), cmd.Sequential
	spec.ContractType = cmd.ContractType
	for i, f := range cmd.Fields {
		if f.ID == "" {
			f.ID = fmt.Sprintf("f%d", i+1)
		}
		spec.Fields = append(spec.Fields, f)
	}
	return nil
}

func quotaStream(q contract.Quota) string {
	if q.Kind == "enterprise" {
		return enterprise.QuotaStream(q.ID)
	}
	return account.QuotaStream(q.ID)
}

// useQuota spends one contract of the sender's quota on its ledger. The
// enterprise (or account) is read for its grants and rules, the ledger for
// its count; a concurrent spend makes the append fail and the spend is
// decided again.
func (c *contracts) useQuota(ctx context.Context, a Actor, s contract.Sender, contractID string, now time.Time) error {
	meta := a.meta(now, s.EnterpriseID)
	stream := quotaStream(quotaOf(s))
	var (
		ent  *enterprise.Enterprise
		acct *account.Account
		err  error
	)
	if s.EnterpriseID != "" {
		ent, err = c.loadEnterprise(ctx, s.EnterpriseID)
	} else {
		acct, err = c.loadAccount(ctx, s.AccountID)
	}
	if err != nil {
		return err
	}
	_, err = retry(func() (uint64, error) {
		used, version, err := QuotaUsed(ctx, c.events, stream)
		if err != nil {
			return 0, err
		}
		if ent != nil {
			evs, err := ent.UseQuota(a.AccountID, contractID, used, now)
			if err != nil {
				return 0, c.unlessSpent(ctx, a, s, contractID, version, now, err)
			}
			return appendEvents(ctx, c.events, spendIDs(contractID), stream, after(version), enterprise.NewEvent, evs, meta)
		}
		evs, err := acct.UseQuota(contractID, used, now)
		if err != nil {
			return 0, c.unlessSpent(ctx, a, s, contractID, version, now, err)
		}
		return appendEvents(ctx, c.events, spendIDs(contractID), stream, after(version), account.NewEvent, evs, meta)
	})
	return err
}

// decide loads a contract, decides and appends with the version it read,
// again after a concurrent change.
func (c *contracts) decide(ctx context.Context, a Actor, id string, d func(k *contract.Contract, now time.Time) ([]contract.Event, error)) (*contract.Contract, []contract.Event, uint64, error) {
	type out struct {
		k   *contract.Contract
		evs []contract.Event
		pos uint64
	}
	o, err := retry(func() (out, error) {
		k, err := c.load(ctx, id)
		if err != nil {
			return out{}, err
		}
		now := c.clock.Now()
		evs, err := d(k, now)
		if err != nil {
			return out{}, err
		}
		pos, err := appendTo(ctx, c, contract.StreamOf(id), event.Exactly(k.Version()), contract.NewEvent, evs, a.meta(now, k.Sender().EnterpriseID))
		if err != nil {
			return out{}, err
		}
		return out{k, evs, pos}, nil
	})
	return o.k, o.evs, o.pos, err
}

// ApproveContract lets a contract waiting for approval go out.
type ApproveContract struct {
	Actor      Actor
	ContractID string
}

func (c *contracts) approve(ctx context.Context, cmd ApproveContract) (ContractResult, error) {
	approveAndSend := func(k *contract.Contract, now time.Time) ([]contract.Event, error) {
		approved, err := k.Approve(cmd.Actor.AccountID, now)
		if err != nil {
			return nil, err
		}
		cp := *k
		if err := cp.Apply(approved[0]); err != nil {
			return nil, err
		}
		sent, err := cp.Send(k.Sender().AccountID, quotaOf(k.Sender()), now)
		if err != nil {
			return nil, err
		}
		return append(approved, sent...), nil
	}
	k, err := c.load(ctx, cmd.ContractID)
	if err != nil {
		return ContractResult{}, err
	}
	// Every refusal comes before the quota is spent, which happens only
	// when the contract really goes out.
	if _, err := approveAndSend(k, c.clock.Now()); err != nil {
		return ContractResult{}, err
	}
	if err := c.useQuota(ctx, cmd.Actor, k.Sender(), cmd.ContractID, c.clock.Now()); err != nil {
		return ContractResult{}, err
	}
	k, evs, pos, err := c.decide(ctx, cmd.Actor, cmd.ContractID, approveAndSend)
	if err != nil {
		return ContractResult{}, err
	}
	k = c.applied(k, evs)
	c.notifyParties(ctx, k, k.Turn())
	return ContractResult{ContractID: cmd.ContractID, Status: k.Status(), Written: Written{pos}}, nil
}

// applied returns k with evs applied (k as read before the decision).
func (c *contracts) applied(k *contract.Contract, evs []contract.Event) *contract.Contract {
	for _, e := range evs {
		if err := k.Apply(e); err != nil {
			c.log.Error("apply decided contract event", "err", err)
		}
	}
	return k
}

// RejectApproval stops a contract waiting for approval.
type RejectApproval struct {
	Actor      Actor
	ContractID string
	Reason     string
}

func (c *contracts) rejectApproval(ctx context.Context, cmd RejectApproval) (ContractResult, error) {
	k, evs, pos, err := c.decide(ctx, cmd.Actor, cmd.ContractID, func(k *contract.Contract, now time.Time) ([]contract.Event, error) {
		return k.RejectApproval(cmd.Actor.AccountID, cmd.Reason, now)
	})
	if err != nil {
		return ContractResult{}, err
	}
	k = c.applied(k, evs)
	cr := k.Created()
	c.notifyAccounts(ctx, []string{k.Sender().AccountID}, "合同审批未通过 Contract not approved",
		fmt.Sprintf("合同《%s》(%s) 审批未通过 / was not approved: %s", cr.Title, cr.Number, strings.TrimSpace(cmd.Reason)))
	return ContractResult{ContractID: cmd.ContractID, Status: k.Status(), Written: Written{pos}}, nil
}

// signer finds who acts for a party: the caller's login and verified
// name, and the enterprise they act for.
func (c *contracts) signer(ctx context.Context, accountID, enterpriseID string) (contract.Signer, *enterprise.Enterprise, *account.Account, error) {
	acct, err := c.loadAccount(ctx, accountID)
	if err != nil {
		return contract.Signer{}, nil, nil, err
	}
	s := contract.Signer{AccountID: accountID, Login: contract.Contact{Kind: string(acct.Login().Kind()), Value: acct.Login().String()},
		VerifiedName: acct.VerifiedName(), Name: acct.Name()}
	if enterpriseID == "" {
		return s, nil, acct, nil
	}
	ent, err := c.loadEnterprise(ctx, enterpriseID)
	if err != nil {
		return contract.Signer{}, nil, nil, err
	}
	if ent.RoleOf(accountID) == "" {
		return contract.Signer{}, nil, nil, fault.New(fault.Forbidden, "not_a_member", "You are not a member of the enterprise you say you act for.")
	}
	if ent.RoleOf(accountID) == enterprise.Auditor {
		return contract.Signer{}, nil, nil, enterprise.ErrAuditorReadOnly
	}
	s.Enterprise = &contract.SignerEnterprise{ID: enterpriseID}
	if ent.Verified() {
		s.Enterprise.Name = ent.Verification().Name
	}
	return s, ent, acct, nil
}

// SendSignCode sends the willingness code for signing to the caller's own
// phone (or email, for an email login).
type SendSignCode struct {
	Actor        Actor
	ContractID   string
	PartyID      string
	EnterpriseID string
}

// SendSignCodeResult says where the code went (masked) and until when it holds.
type SendSignCodeResult struct {
	To          string
	ExpiresAt   time.Time
	ResendAfter time.Time
}

func signDestination(login, contractID, partyID string) string {
	// Limits apply per login and party, so that signing many contracts a
	// day is not throttled by another contract's codes.
	return login + "|" + contractID + "|" + partyID
}

func (c *contracts) sendSignCode(ctx context.Context, cmd SendSignCode) (SendSignCodeResult, error) {
	k, err := c.load(ctx, cmd.ContractID)
	if err != nil {
		return SendSignCodeResult{}, err
	}
	s, _, acct, err := c.signer(ctx, cmd.Actor.AccountID, cmd.EnterpriseID)
	if err != nil {
		return SendSignCodeResult{}, err
	}
	// Refuse before sending anything when signing could not succeed.
	probe := contract.Signing{PartyID: cmd.PartyID, Signer: s, Seal: &contract.SealUse{}, Signature: &contract.SignatureUse{}}
	if _, err := k.Sign(probe, c.clock.Now()); err != nil {
		return SendSignCodeResult{}, err
	}
	if err := c.senders.Allow(ctx, cmd.Actor.ClientIP); err != nil {
		return SendSignCodeResult{}, depErr("sender limit", errCodesUnavailable, err)
	}
	login := acct.Login()
	code, exp, resend, err := c.codes.Issue(ctx, PurposeSign, signDestination(login.String(), cmd.ContractID, cmd.PartyID))
	if err != nil {
		return SendSignCodeResult{}, depErr("issue signing code", errCodesUnavailable, err)
	}
	cr := k.Created()
	msg := notify.Message{To: login.String(), Channel: notify.SMS,
		Body: fmt.Sprintf("【signet】您正在签署合同《%s》(%s)，验证码 %s，5分钟内有效。Your signing code is %s.", cr.Title, cr.Number, code, code)}
	if login.Kind() == account.Email {
		msg.Channel, msg.Subject = notify.Email, "签署验证码 Signing code"
	}
	if err := c.notifier.Notify(ctx, msg); err != nil {
		return SendSignCodeResult{}, depErr("send signing code", errNotifyFailed, err)
	}
	return SendSignCodeResult{To: login.Mask(), ExpiresAt: exp, ResendAfter: resend}, nil
}

// SignContract signs for a party: with a seal of the enterprise acted for,
// or with the person's signature, after the SMS code.
type SignContract struct {
	Actor        Actor
	ContractID   string
	PartyID      string
	EnterpriseID string // enterprise parties
	SealID       string // enterprise parties
	// SignatureID names an uploaded handwriting image; "" = the verified
	// name typed and rendered.
	SignatureID string
	Code        string
}

func (c *contracts) sign(ctx context.Context, cmd SignContract) (ContractResult, error) {
	k, err := c.load(ctx, cmd.ContractID)
	if err != nil {
		return ContractResult{}, err
	}
	s, ent, acct, err := c.signer(ctx, cmd.Actor.AccountID, cmd.EnterpriseID)
	if err != nil {
		return ContractResult{}, err
	}
	p, err := k.CheckSigner(cmd.PartyID, s)
	if err != nil {
		return ContractResult{}, err
	}
	signing := contract.Signing{PartyID: cmd.PartyID, Signer: s, ClientIP: cmd.Actor.ClientIP, Channel: "sms"}
	if acct.Login().Kind() == account.Email {
		signing.Channel = "email"
	}
	switch p.Kind {
	case layout.Enterprise:
		if cmd.SealID == "" {
			return ContractResult{}, fault.Invalidf("seal_id", "seal_required", "An enterprise signs with one of its seals: choose a seal (seal_id).")
		}
		seal, err := ent.CanUseSeal(cmd.Actor.AccountID, cmd.SealID)
		if err != nil {
			return ContractResult{}, err
		}
		signing.Seal = &contract.SealUse{SealID: seal.ID, Name: seal.Name, File: layout.File(seal.File)}
	case layout.Person:
		if cmd.SealID != "" {
			return ContractResult{}, fault.Invalidf("seal_id", "seal_for_person", "A person signs with a signature, not a seal.")
		}
		signing.Signature = &contract.SignatureUse{Kind: "typed", Text: s.VerifiedName}
		if cmd.SignatureID != "" {
			f, ok := acct.SignatureImage(cmd.SignatureID)
			if !ok {
				return ContractResult{}, fault.Invalidf("signature_id", "signature_not_found", "You have no signature image %q; upload one first.", cmd.SignatureID)
			}
			file := layout.File(f)
			signing.Signature = &contract.SignatureUse{Kind: "image", File: &file}
		}
	}
	// Every refusal the contract can make is made before the code is spent.
	if _, err := k.Sign(signing, c.clock.Now()); err != nil {
		return ContractResult{}, err
	}
	if strings.TrimSpace(cmd.Code) == "" {
		return ContractResult{}, fault.Invalidf("code", "missing_code", "Enter the verification code sent to you (request one first).")
	}
	if err := c.codes.Verify(ctx, PurposeSign, signDestination(acct.Login().String(), cmd.ContractID, cmd.PartyID), strings.TrimSpace(cmd.Code)); err != nil {
		return ContractResult{}, onCode(depErr("check signing code", errCodesUnavailable, err))
	}
	if signing.Signature != nil && signing.Signature.Kind == "typed" {
		f, err := c.typedSignature(ctx, s.VerifiedName)
		if err != nil {
			return ContractResult{}, err
		}
		signing.Signature.File = &f
	}
	k, evs, pos, err := c.decide(ctx, cmd.Actor, cmd.ContractID, func(k *contract.Contract, now time.Time) ([]contract.Event, error) {
		return k.Sign(signing, now)
	})
	if err != nil {
		return ContractResult{}, err
	}
	next := k.NextAfter(evs)
	k = c.applied(k, evs)
	if k.Status() != contract.StatusSealing {
		c.notifyParties(ctx, k, next)
		return ContractResult{ContractID: cmd.ContractID, Status: k.Status(), Written: Written{pos}}, nil
	}
	// The last signature: the final documents now. A failure is recorded
	// and retried by the sealing policy; the signature itself stands.
	sealed, err := c.seal(ctx, SealContract{Actor: Actor{ClientIP: cmd.Actor.ClientIP}, ContractID: cmd.ContractID})
	if err != nil {
		c.log.WarnContext(ctx, "final documents not produced at the last signature", slog.String("contract", cmd.ContractID), slog.Any("error", err))
		return ContractResult{ContractID: cmd.ContractID, Status: contract.StatusSealing, Written: Written{max(pos, sealed.Position)}}, nil
	}
	return ContractResult{ContractID: cmd.ContractID, Status: sealed.Status, Written: Written{max(pos, sealed.Position)}}, nil
}

// typedSignature draws and stores a name's typed signature once per
// process: the drawing is the same every time and the blob store keeps it
// under its hash.
func (c *contracts) typedSignature(ctx context.Context, name string) (layout.File, error) {
	if f, ok := c.typed.Load(name); ok {
		return f.(layout.File), nil
	}
	data, media, err := c.art.TypedSignature(name)
	if err != nil {
		return layout.File{}, fmt.Errorf("draw typed signature: %w", err)
	}
	ref, err := c.blobs.Put(ctx, data, media)
	if err != nil {
		return layout.File{}, fmt.Errorf("store typed signature: %w", err)
	}
	f := layout.File{SHA256: ref.SHA256, Size: ref.Size, MediaType: ref.MediaType}
	c.typed.Store(name, f)
	return f, nil
}

func onCode(err error) error {
	if f, ok := fault.As(err); ok {
		return f.OnField("code")
	}
	return err
}

// RejectContract refuses to sign for a party (拒签).
type RejectContract struct {
	Actor        Actor
	ContractID   string
	PartyID      string
	EnterpriseID string
	Reason       string
}

func (c *contracts) reject(ctx context.Context, cmd RejectContract) (ContractResult, error) {
	s, _, _, err := c.signer(ctx, cmd.Actor.AccountID, cmd.EnterpriseID)
	if err != nil {
		return ContractResult{}, err
	}
	k, evs, pos, err := c.decide(ctx, cmd.Actor, cmd.ContractID, func(k *contract.Contract, now time.Time) ([]contract.Event, error) {
		return k.Reject(cmd.PartyID, s, cmd.Reason, cmd.Actor.ClientIP, now)
	})
	if err != nil {
		return ContractResult{}, err
	}
	k = c.applied(k, evs)
	cr := k.Created()
	p, _ := k.Party(cmd.PartyID)
	c.notifyAccounts(ctx, []string{k.Sender().AccountID}, "合同被拒签 Contract rejected",
		fmt.Sprintf("%s 拒签了合同《%s》(%s) / rejected the contract: %s", p.Role, cr.Title, cr.Number, strings.TrimSpace(cmd.Reason)))
	return ContractResult{ContractID: cmd.ContractID, Status: k.Status(), Written: Written{pos}}, nil
}

// RevokeContract withdraws a contract before completion (撤回): by its
// sender, or an administrator of the sending enterprise.
type RevokeContract struct {
	Actor      Actor
	ContractID string
	Reason     string
}

func (c *contracts) revoke(ctx context.Context, cmd RevokeContract) (ContractResult, error) {
	k, err := c.load(ctx, cmd.ContractID)
	if err != nil {
		return ContractResult{}, err
	}
	if err := c.checkSenderSide(ctx, k, cmd.Actor.AccountID); err != nil {
		return ContractResult{}, err
	}
	before := *k
	k, evs, pos, err := c.decide(ctx, cmd.Actor, cmd.ContractID, func(k *contract.Contract, now time.Time) ([]contract.Event, error) {
		return k.Revoke(cmd.Actor.AccountID, cmd.Reason, now)
	})
	if err != nil {
		return ContractResult{}, err
	}
	k = c.applied(k, evs)
	// Tell those who were asked to sign.
	var told []contract.Party
	for _, p := range k.Created().Parties {
		if _, signed := before.Signature(p.ID); signed || slices.ContainsFunc(before.Turn(), func(t contract.Party) bool { return t.ID == p.ID }) {
			told = append(told, p)
		}
	}
	cr := k.Created()
	for _, p := range told {
		c.notifyContact(ctx, p.Contact, "合同已撤回 Contract revoked",
			fmt.Sprintf("%s 撤回了合同《%s》(%s) / revoked the contract: %s", cr.Sender.Name, cr.Title, cr.Number, strings.TrimSpace(cmd.Reason)))
	}
	return ContractResult{ContractID: cmd.ContractID, Status: k.Status(), Written: Written{pos}}, nil
}

// checkSenderSide lets the sender, or an administrator of the sending
// enterprise, act as the sender.
func (c *contracts) checkSenderSide(ctx context.Context, k *contract.Contract, accountID string) error {
	s := k.Sender()
	if s.AccountID == accountID {
		return nil
	}
	if s.EnterpriseID != "" {
		ent, err := c.loadEnterprise(ctx, s.EnterpriseID)
		if err != nil {
			return err
		}
		if r := ent.RoleOf(accountID); r == enterprise.MasterAdmin || r == enterprise.Admin {
			return nil
		}
	}
	return fault.New(fault.Forbidden, "not_the_sender", "Only the sender, or an administrator of the sending enterprise, may do this.")
}

// ExpireContract ends a contract whose signing deadline passed.
type ExpireContract struct {
	ContractID string
}

func (c *contracts) expire(ctx context.Context, cmd ExpireContract) (ContractResult, error) {
	k, evs, pos, err := c.decide(ctx, Actor{AccountID: "system:scheduler"}, cmd.ContractID, func(k *contract.Contract, now time.Time) ([]contract.Event, error) {
		return k.Expire(now)
	})
	if err != nil {
		return ContractResult{}, err
	}
	k = c.applied(k, evs)
	cr := k.Created()
	c.notifyAccounts(ctx, []string{k.Sender().AccountID}, "合同已过期 Contract expired",
		fmt.Sprintf("合同《%s》(%s) 已过签署截止时间 / passed its signing deadline unsigned.", cr.Title, cr.Number))
	return ContractResult{ContractID: cmd.ContractID, Status: k.Status(), Written: Written{pos}}, nil
}

func (c *contracts) link(contractID string) string { return c.url + "/contracts/" + contractID }

// notifyParties asks parties to sign. Notifications are best effort: the
// contract stands whether or not the SMS went out, and the party also
// finds it in their inbox.
func (c *contracts) notifyParties(ctx context.Context, k *contract.Contract, parties []contract.Party) {
	cr := k.Created()
	for _, p := range parties {
		c.notifyContact(ctx, p.Contact, "请签署合同 Please sign",
			fmt.Sprintf("【signet】%s 邀请您签署合同《%s》(%s)，请于 %s 前签署 / invites you to sign before %s: %s",
				cr.Sender.Name, cr.Title, cr.Number, cr.SigningDeadline.In(contract.Shanghai).Format("2006-01-02 15:04"),
				cr.SigningDeadline.In(contract.Shanghai).Format("2006-01-02 15:04"), c.link(cr.ContractID)))
	}
}

func (c *contracts) notifyContact(ctx context.Context, to contract.Contact, subject, body string) {
	m := notify.Message{To: to.Value, Channel: notify.SMS, Body: body}
	if to.Kind == string(account.Email) {
		m.Channel, m.Subject = notify.Email, subject
	}
	if err := c.notifier.Notify(ctx, m); err != nil {
		c.log.Warn("notification not sent", "err", err, "subject", subject)
	}
}

func (c *contracts) notifyAccounts(ctx context.Context, accountIDs []string, subject, body string) {
	for _, id := range accountIDs {
		a, err := c.loadAccount(ctx, id)
		if err != nil {
			c.log.Warn("notification not sent", "err", err, "subject", subject)
			continue
		}
		c.notifyContact(ctx, contract.Contact{Kind: string(a.Login().Kind()), Value: a.Login().String()}, subject, body)
	}
}

package replay

import (
	"fmt"
	"strings"
	"time"

	"signet/domain/account"
	"signet/domain/audit"
	"signet/domain/contract"
	"signet/domain/enterprise"
	"signet/domain/event"
	"signet/domain/template"
)

// summarize says in one line what an event did, with personal numbers
// masked; events it has no sentence for are named by their type.
func summarize(e event.Envelope) string {
	var s string
	switch event.Category(e.Stream) {
	case contract.Category:
		if ev, err := contract.DecodeEnvelope(e); err == nil {
			s = contractSummary(ev)
		}
	case enterprise.Category:
		if ev, err := enterprise.DecodeEnvelope(e); err == nil {
			s = enterpriseSummary(ev)
		}
	case account.Category:
		if ev, err := account.DecodeEnvelope(e); err == nil {
			s = accountSummary(ev)
		}
	case template.Category:
		if ev, err := template.DecodeEnvelope(e); err == nil {
			s = templateSummary(ev)
		}
	case audit.Category:
		if ev, err := audit.DecodeEnvelope(e); err == nil {
			h := ev.(audit.TreeHeadSigned)
			s = fmt.Sprintf("tree head signed: the log's first %d events have root %s (key %s)", h.Size, h.RootHash, h.KeyID)
		}
	}
	if s == "" {
		return e.Type
	}
	return s
}

func day(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func contractSummary(ev contract.Event) string {
	switch e := ev.(type) {
	case contract.ContractCreated:
		return fmt.Sprintf("created %q (%s) by %s with %d parties, to be signed by %s", e.Title, e.Number, e.Sender.PersonName, len(e.Parties), day(e.SigningDeadline))
	case contract.ContractSubmittedForApproval:
		return fmt.Sprintf("submitted for approval to %d approvers", len(e.Approvers))
	case contract.ContractApproved:
		return "approved by " + e.ApproverID
	case contract.ContractApprovalRejected:
		return fmt.Sprintf("approval refused by %s: %s", e.ApproverID, scrub(e.Reason))
	case contract.ContractSent:
		return fmt.Sprintf("sent by %s; %d documents frozen", e.SentBy, len(e.Documents))
	case contract.PartySigned:
		with := "a signature"
		switch {
		case e.Seal != nil:
			with = fmt.Sprintf("seal %q", e.Seal.Name)
		case e.Signature != nil:
			with = e.Signature.Kind + " signature"
		}
		how := e.Willingness.Method
		if e.Willingness.Channel != "" {
			how += " by " + e.Willingness.Channel
		}
		return fmt.Sprintf("party %s signed by %s (account %s) with %s, willingness %s", e.PartyID, e.SignerName, e.SignerAccountID, with, how)
	case contract.PartyRejected:
		return fmt.Sprintf("party %s refused to sign: %s", e.PartyID, scrub(e.Reason))
	case contract.ContractRevoked:
		return fmt.Sprintf("revoked by %s: %s", e.RevokedBy, scrub(e.Reason))
	case contract.ContractExpired:
		return "expired: the signing deadline " + day(e.Deadline) + " passed"
	case contract.ContractCompleted:
		return "completed"
	case contract.ContractFullySigned:
		return "every party signed; the final documents are being produced"
	case contract.ContractSealed:
		return fmt.Sprintf("final documents produced (%d documents, attempt %d), certificate of completion %s", len(e.Documents), e.Attempt, e.CertificateSHA256)
	case contract.ContractSealingFailed:
		return fmt.Sprintf("producing the final documents failed at %s (attempt %d): %s", e.Step, e.Attempt, scrub(e.Reason))
	}
	return ""
}

func enterpriseSummary(ev enterprise.Event) string {
	switch e := ev.(type) {
	case enterprise.EnterpriseCreated:
		return "verification started by " + e.CreatedBy
	case enterprise.MaterialsSubmitted:
		return fmt.Sprintf("materials submitted for %s (%s), legal representative %s", e.Name, e.USCC, e.LegalRepName)
	case enterprise.MaterialsRefused:
		return "materials refused by the business registry: " + scrub(e.Reason)
	case enterprise.WillingnessMethodChosen:
		return "willingness check chosen: " + string(e.Method)
	case enterprise.WillingnessCheckFailed:
		return fmt.Sprintf("willingness check %s failed at %s: %s", e.Method, e.Step, scrub(e.Reason))
	case enterprise.AuthorizationLetterRejected:
		return fmt.Sprintf("authorization letter rejected by %s: %s", e.Reviewer, scrub(e.Reason))
	case enterprise.AuthorizationLetterApproved:
		return "authorization letter approved by " + e.Reviewer
	case enterprise.EnterpriseVerified:
		return fmt.Sprintf("verified as %s (%s) by %s; master admin %s", e.Name, e.USCC, e.Method, e.MasterAdmin)
	case enterprise.ContractQuotaGranted:
		return fmt.Sprintf("%d contracts granted (%s)", e.Amount, scrub(e.Reason))
	case enterprise.MemberJoined:
		return fmt.Sprintf("account %s joined as %s", e.AccountID, e.Role)
	case enterprise.MemberRoleChanged:
		return fmt.Sprintf("account %s became %s", e.AccountID, e.Role)
	case enterprise.MemberRemoved:
		return fmt.Sprintf("account %s removed by %s", e.AccountID, e.RemovedBy)
	case enterprise.SealCreated:
		return fmt.Sprintf("seal %q created (%s)", e.Name, e.SealID)
	case enterprise.SealUseGranted:
		return fmt.Sprintf("seal %s granted to account %s", e.SealID, e.AccountID)
	case enterprise.SealUseRevoked:
		return fmt.Sprintf("seal %s revoked from account %s", e.SealID, e.AccountID)
	case enterprise.SealDisabled:
		return fmt.Sprintf("seal %s disabled", e.SealID)
	case enterprise.ApprovalPolicySet:
		if !e.Required {
			return "contracts no longer need approval"
		}
		return fmt.Sprintf("contracts need approval by one of %d approvers", len(e.Approvers))
	}
	return ""
}

func accountSummary(ev account.Event) string {
	switch e := ev.(type) {
	case account.AccountRegistered:
		login, err := account.LoginOf(e.LoginKind, e.Login)
		if err != nil {
			return ""
		}
		return fmt.Sprintf("registered with %s %s as %s", e.LoginKind, login.Mask(), e.Name)
	case account.ContractQuotaGranted:
		return fmt.Sprintf("%d personal contracts granted (%s)", e.Amount, scrub(e.Reason))
	case account.PersonalCheckFailed:
		return fmt.Sprintf("verification step %s failed: %s", e.Step, scrub(e.Reason))
	case account.PersonVerified:
		return fmt.Sprintf("real name verified by %s: %s, ID %s", e.Method, e.Name, maskID(e.IDNumber))
	case account.PlatformRoleGranted:
		return fmt.Sprintf("platform role %s granted by %s", e.Role, e.GrantedBy)
	case account.PlatformRoleRevoked:
		return fmt.Sprintf("platform role %s revoked by %s", e.Role, e.RevokedBy)
	}
	return ""
}

func templateSummary(ev template.Event) string {
	switch e := ev.(type) {
	case template.TemplateCreated:
		return fmt.Sprintf("template %q created", e.Name)
	case template.TemplateDetailsChanged:
		return fmt.Sprintf("renamed %q", e.Name)
	case template.TemplateDisabled:
		return "disabled"
	case template.TemplateEnabled:
		return "enabled"
	}
	return strings.TrimPrefix(ev.EventType(), "Template")
}

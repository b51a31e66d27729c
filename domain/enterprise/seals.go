package enterprise

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"signet/domain/fault"
)

// Seals (印章), the contract approval policy (合同审批) and the free
// contract quota of a verified enterprise.
//
// Who may sign with which seal: the master admin and admins with every
// enabled seal, members only with the seals granted to them. Every seal may
// be disabled except the last enabled one, the default seal included: an
// enterprise always keeps one seal to sign with.

// Seal rules.
const (
	// MaxSeals is how many enabled seals an enterprise may have.
	MaxSeals = 20
	// MaxSealNameRunes bounds a seal's name ("合同专用章", "财务专用章").
	MaxSealNameRunes = 30
	// DefaultSealName names the seal the platform draws on verification.
	DefaultSealName = "企业公章"
	// MaxApprovers bounds the approvers of the approval policy.
	MaxApprovers = 50
)

// SealMediaTypes are the images an uploaded seal may be. The default seal
// is drawn by the platform and may be of another type (SVG).
var SealMediaTypes = []string{"image/png", "image/jpeg"}

var (
	ErrSealNotFound   = fault.New(fault.NotFound, "seal_not_found", "This enterprise has no such seal.")
	ErrSealDisabled   = fault.New(fault.Rule, "seal_disabled", "This seal is disabled; choose another seal.")
	ErrNotVerifiedYet = fault.New(fault.Rule, "enterprise_not_verified", "Finish the enterprise's real-name verification first.")
)

// Seal is a seal as its enterprise knows it.
type Seal struct {
	ID        string
	Name      string
	File      File
	Default   bool
	Disabled  bool
	Grants    []string // members granted its use, sorted
	CreatedBy string   // "" for the default seal
	CreatedAt time.Time
}

func (s *seal) view() Seal {
	grants := make([]string, 0, len(s.grants))
	for a := range s.grants {
		grants = append(grants, a)
	}
	slices.Sort(grants)
	c := s.created
	return Seal{ID: c.SealID, Name: c.Name, File: c.File, Default: c.Default, Disabled: s.disabled, Grants: grants,
		CreatedBy: c.CreatedBy, CreatedAt: c.CreatedAt}
}

// Seals lists the enterprise's seals in the order they were made.
func (e *Enterprise) Seals() []Seal {
	out := make([]Seal, 0, len(e.sealOrder))
	for _, id := range e.sealOrder {
		out = append(out, e.seals[id].view())
	}
	return out
}

// Seal returns one seal.
func (e *Enterprise) Seal(id string) (Seal, bool) {
	s := e.seals[id]
	if s == nil {
		return Seal{}, false
	}
	return s.view(), true
}

func (e *Enterprise) enabledSeals() int {
	n := 0
	for _, s := range e.seals {
		if !s.disabled {
			n++
		}
	}
	return n
}

// checkVerifiedAdmin: actor administers the enterprise, which is verified.
func (e *Enterprise) checkVerifiedAdmin(actor string) error {
	if err := e.checkAdmin(actor); err != nil {
		return err
	}
	if e.verified == nil {
		return ErrNotVerifiedYet
	}
	return nil
}

// CheckSealName trims a seal's name and checks it.
func CheckSealName(name string) (string, error) {
	name = strings.TrimSpace(name)
	n := utf8.RuneCountInString(name)
	switch {
	case n == 0:
		return "", fault.Invalidf("name", "seal_name_required", "Give the seal a name, such as 合同专用章.")
	case n > MaxSealNameRunes:
		return "", fault.Invalidf("name", "invalid_seal_name", "A seal's name is at most %d characters.", MaxSealNameRunes)
	case !utf8.ValidString(name) || strings.IndexFunc(name, func(r rune) bool { return unicode.In(r, unicode.Cc, unicode.Cf) || r == utf8.RuneError }) >= 0:
		// Format characters too: a right-to-left override would show
		// another name than the one stored.
		return "", fault.Invalidf("name", "invalid_seal_name", "The seal's name has characters that cannot be shown.")
	}
	return name, nil
}

// CheckCreateSeal refuses a new seal before its image is read: actor is
// not an administrator, the name is wrong or taken, or the enterprise has
// MaxSeals enabled seals. It returns the trimmed name.
func (e *Enterprise) CheckCreateSeal(actor, name string) (string, error) {
	if err := e.checkVerifiedAdmin(actor); err != nil {
		return "", err
	}
	name, err := CheckSealName(name)
	if err != nil {
		return "", err
	}
	for _, s := range e.seals {
		if !s.disabled && s.created.Name == name {
			return "", fault.New(fault.Conflict, "seal_name_taken",
				fmt.Sprintf("The enterprise already has a seal named %s; give the new one another name or disable the old one.", name)).OnField("name")
		}
	}
	if e.enabledSeals() >= MaxSeals {
		return "", rule("seal_limit", "An enterprise may have %d enabled seals; disable one it no longer uses first.", MaxSeals)
	}
	return name, nil
}

// CreateSeal records a seal whose image (PNG or JPEG) an administrator
// uploaded and the platform stored.
func (e *Enterprise) CreateSeal(actor, sealID, name string, f File, now time.Time) ([]Event, error) {
	name, err := e.CheckCreateSeal(actor, name)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(SealMediaTypes, f.MediaType) {
		return nil, fault.New(fault.Unsupported, "unsupported_seal_image", "A seal's image is a PNG or JPEG picture.").OnField("file")
	}
	if sealID == "" || f.SHA256 == "" || f.Size <= 0 {
		return nil, errors.New("create seal: no seal ID or stored file")
	}
	if e.seals[sealID] != nil {
		return nil, fmt.Errorf("create seal: seal ID %s is taken", sealID)
	}
	return []Event{SealCreated{SealID: sealID, Name: name, File: f, CreatedBy: actor, CreatedAt: timestamp(now)}}, nil
}

// DefaultSeal decides the seal the platform drew for the enterprise: it
// goes with the events that verify it (Completes), so it decides nothing
// when the enterprise has a default seal already.
func (e *Enterprise) DefaultSeal(sealID string, f File, now time.Time) []Event {
	for _, s := range e.seals {
		if s.created.Default {
			return nil
		}
	}
	return []Event{SealCreated{SealID: sealID, Name: DefaultSealName, File: f, Default: true, CreatedAt: timestamp(now)}}
}

// sealFor: actor administers the enterprise and sealID is one of its seals.
func (e *Enterprise) sealFor(actor, sealID string) (*seal, error) {
	if err := e.checkVerifiedAdmin(actor); err != nil {
		return nil, err
	}
	s := e.seals[sealID]
	if s == nil {
		return nil, ErrSealNotFound
	}
	return s, nil
}

var errNoSuchMember = fault.New(fault.NotFound, "member_not_found", "This account is not a member of the enterprise.")

// GrantSeal lets a member sign with an enabled seal; granting it again
// decides nothing.
func (e *Enterprise) GrantSeal(actor, sealID, accountID string, now time.Time) ([]Event, error) {
	s, err := e.sealFor(actor, sealID)
	if err != nil {
		return nil, err
	}
	if s.disabled {
		return nil, ErrSealDisabled
	}
	switch e.members[accountID] {
	case "":
		return nil, errNoSuchMember
	case Auditor:
		return nil, fault.New(fault.Rule, "auditor_cannot_sign", "An auditor signs nothing for the enterprise; seals are granted to members.").OnField("account_id")
	}
	if s.grants[accountID] {
		return nil, nil
	}
	return []Event{SealUseGranted{SealID: sealID, AccountID: accountID, GrantedBy: actor, GrantedAt: timestamp(now)}}, nil
}

// RevokeSeal takes a member's use of a seal away; revoking a use that was
// not granted decides nothing.
func (e *Enterprise) RevokeSeal(actor, sealID, accountID string, now time.Time) ([]Event, error) {
	s, err := e.sealFor(actor, sealID)
	if err != nil {
		return nil, err
	}
	if !s.grants[accountID] {
		return nil, nil
	}
	return []Event{SealUseRevoked{SealID: sealID, AccountID: accountID, RevokedBy: actor, RevokedAt: timestamp(now)}}, nil
}

// DisableSeal stops all use of a seal; disabling it again decides nothing.
// The last enabled seal stays: the enterprise could sign nothing.
func (e *Enterprise) DisableSeal(actor, sealID string, now time.Time) ([]Event, error) {
	s, err := e.sealFor(actor, sealID)
	if err != nil {
		return nil, err
	}
	if s.disabled {
		return nil, nil
	}
	if e.enabledSeals() == 1 {
		return nil, rule("last_seal", "This is the enterprise's only enabled seal; upload another seal before disabling it.")
	}
	return []Event{SealDisabled{SealID: sealID, DisabledBy: actor, DisabledAt: timestamp(now)}}, nil
}

// CanUseSeal returns the seal if accountID may sign with it: an enabled
// seal, and accountID an administrator or a member it was granted to.
func (e *Enterprise) CanUseSeal(accountID, sealID string) (Seal, error) {
	if !e.Exists() {
		return Seal{}, ErrNotFound
	}
	if err := e.CheckActsFor(accountID); err != nil {
		return Seal{}, err
	}
	role := e.members[accountID]
	s := e.seals[sealID]
	if s == nil {
		return Seal{}, ErrSealNotFound
	}
	if s.disabled {
		return Seal{}, ErrSealDisabled
	}
	if role != MasterAdmin && role != Admin && !s.grants[accountID] {
		return Seal{}, fault.New(fault.Forbidden, "seal_not_granted",
			fmt.Sprintf("You may not sign with the seal %s; ask an administrator of the enterprise to grant it to you.", s.created.Name))
	}
	return s.view(), nil
}

// MayUseSeal reports whether a member of the given role, with the given
// grants, may sign with an enabled seal: CanUseSeal's rule for read models.
func MayUseSeal(role Role, granted bool) bool {
	return role == MasterAdmin || role == Admin || (role == Member && granted)
}

// SetApprovalPolicy decides whether contracts need an approval before they
// are sent, and by whom (any one approver approves). Approvers must be
// members; a required approval needs at least one. Setting the policy it
// has decides nothing.
func (e *Enterprise) SetApprovalPolicy(actor string, required bool, approvers []string, now time.Time) ([]Event, error) {
	if err := e.checkVerifiedAdmin(actor); err != nil {
		return nil, err
	}
	list := make([]string, 0, len(approvers))
	for _, a := range approvers {
		a = strings.TrimSpace(a)
		if a == "" {
			return nil, fault.Invalidf("approvers", "invalid_approver", "An approver is a member's account ID; the list has an empty one.")
		}
		if slices.Contains(list, a) {
			continue
		}
		switch e.members[a] {
		case "":
			return nil, fault.New(fault.Rule, "approver_not_member",
				fmt.Sprintf("Account %s is not a member of the enterprise; approvers are members.", a)).OnField("approvers")
		case Auditor:
			return nil, fault.New(fault.Rule, "auditor_cannot_approve",
				fmt.Sprintf("Account %s is an auditor, who changes nothing; approvers are other members.", a)).OnField("approvers")
		}
		list = append(list, a)
	}
	if len(list) > MaxApprovers {
		return nil, fault.Invalidf("approvers", "too_many_approvers", "Name at most %d approvers.", MaxApprovers)
	}
	if required && len(list) == 0 {
		return nil, fault.Invalidf("approvers", "approvers_required", "Name at least one approver when contracts need an approval.")
	}
	if required == e.approval.Required && slices.Equal(list, e.approval.Approvers) {
		return nil, nil
	}
	return []Event{ApprovalPolicySet{Required: required, Approvers: list, SetBy: actor, SetAt: timestamp(now)}}, nil
}

// ApprovalPolicy says whether contracts need an approval and who may give
// it. When every named approver has left the enterprise, the approval falls
// to its administrators, so that no contract waits for nobody.
func (e *Enterprise) ApprovalPolicy() (required bool, approvers []string) {
	if !e.approval.Required {
		return false, append([]string{}, e.approval.Approvers...)
	}
	// An approver made an auditor since approves nothing.
	named := slices.DeleteFunc(append([]string{}, e.approval.Approvers...), func(a string) bool { return e.members[a] == Auditor })
	if len(named) > 0 {
		return true, named
	}
	return true, e.admins()
}

// admins lists the master admin and the admins, sorted.
func (e *Enterprise) admins() []string {
	out := []string{}
	for a, r := range e.members {
		if r == MasterAdmin || r == Admin {
			out = append(out, a)
		}
	}
	slices.Sort(out)
	return out
}

// UseQuota uses one of the enterprise's free contracts for a contract a
// member sends; used is what the quota ledger has counted so far (its last
// ContractQuotaUsed's Used, 0 for an empty ledger). The event goes to the
// ledger, appended at the version that count was read at.
func (e *Enterprise) UseQuota(actor, contractID string, used int, now time.Time) ([]Event, error) {
	if !e.Exists() {
		return nil, ErrNotFound
	}
	if err := e.CheckActsFor(actor); err != nil {
		return nil, err
	}
	if e.verified == nil {
		return nil, ErrNotVerifiedYet
	}
	if contractID == "" {
		return nil, errors.New("use quota: no contract ID")
	}
	if e.QuotaLeft(used) <= 0 {
		return nil, rule("quota_exhausted", "The enterprise's contracts are used up: %d granted, %d used; nothing was sent.", e.quota, used)
	}
	return []Event{ContractQuotaUsed{ContractID: contractID, UsedBy: actor, UsedAt: timestamp(now), Used: used + 1}}, nil
}

func without(list []string, s string) []string {
	return slices.DeleteFunc(slices.Clone(list), func(v string) bool { return v == s })
}

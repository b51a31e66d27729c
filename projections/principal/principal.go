// Package principal names who may see a contract in lists and search, as
// strings that read models key their lists by and search documents carry:
//
//	acct:<account ID>            a person's own contracts sent as a person, and those waiting for their approval
//	login:<login hash>           person parties addressed to this login (account.Login.Hash), registered or not
//	ent:<enterprise ID>          everything a verified enterprise sent (its administrators' view)
//	entname:<hash of name>       enterprise parties addressed by this verified name (its administrators' view)
//	member:<enterprise ID>:<account ID>  what one member sent or signed for the enterprise
//
// A contract's principals come from its own history (OfContract); a caller
// holds acct, login, member for each enterprise they belong to, and ent and
// entname for each verified enterprise they administer (OfCaller). A caller
// may see a contract in a list when the two share a principal.
package principal

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"

	"signet/domain/account"
	"signet/domain/contract"
	"signet/domain/layout"
)

// Principal kinds (the part before the first ':').
const (
	KindAccount        = "acct"
	KindLogin          = "login"
	KindEnterprise     = "ent"
	KindEnterpriseName = "entname"
	KindMember         = "member"
)

// Enterprise roles that see everything of their enterprise.
const (
	RoleMasterAdmin = "master_admin"
	RoleAdmin       = "admin"
	RoleMember      = "member"
	RoleAuditor     = "auditor" // added by the search helper (issue 5): reads like an admin
)

// Account is an account's own principal.
func Account(accountID string) string { return KindAccount + ":" + accountID }

// Login is the principal of a login by its hash (account.Login.Hash).
func Login(loginHash string) string { return KindLogin + ":" + loginHash }

// Enterprise is the principal of a verified enterprise's sending side.
func Enterprise(enterpriseID string) string { return KindEnterprise + ":" + enterpriseID }

// EnterpriseName is the principal of enterprise parties named name: its
// hash, so that neither keys nor documents carry the name itself.
func EnterpriseName(name string) string { return KindEnterpriseName + ":" + NameHash(name) }

// Member is what one member sent or signed for an enterprise.
func Member(enterpriseID, accountID string) string {
	return KindMember + ":" + enterpriseID + ":" + accountID
}

// NameHash is the hex SHA-256 of an enterprise name, trimmed as contracts
// and verification keep it.
func NameHash(name string) string {
	sum := sha256.Sum256([]byte(strings.TrimSpace(name)))
	return hex.EncodeToString(sum[:])
}

// Membership is the caller's place in an enterprise.
type Membership struct {
	EnterpriseID string
	Name         string // verified name
	Role         string // master_admin, admin, member (creator of an unverified case)
	Verified     bool
}

// IsAdmin reports whether the role sees everything of its enterprise.
func IsAdmin(role string) bool {
	return role == RoleMasterAdmin || role == RoleAdmin || role == RoleAuditor
}

// Caller is who reads.
type Caller struct {
	AccountID   string
	LoginHash   string // "" when the account has no profile yet
	Memberships []Membership
	// Acted are enterprises the caller sent or signed for, members or not
	// any more: their own contracts stay theirs.
	Acted []string
}

// OfCaller lists the caller's principals.
func OfCaller(c Caller) []string {
	groups, _ := Groups(c, "")
	var out []string
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}

// Groups are the caller's principals in groups whose lists never hold the
// same contract twice (an administered enterprise's sending and receiving
// sides, see OfContract); lists of different groups may. With enterprise,
// only that enterprise's principals; ok is false when the caller neither
// belongs to it nor acted for it.
func Groups(c Caller, enterprise string) (groups [][]string, ok bool) {
	admin, member := map[string]bool{}, map[string]bool{}
	for _, m := range c.Memberships {
		if m.EnterpriseID == "" || !m.Verified {
			continue
		}
		if IsAdmin(m.Role) {
			admin[m.EnterpriseID] = true
			if enterprise == "" || enterprise == m.EnterpriseID {
				g := []string{Enterprise(m.EnterpriseID)}
				if m.Name != "" {
					g = append(g, EnterpriseName(m.Name))
				}
				groups = append(groups, g)
			}
		} else if m.Role != "" {
			member[m.EnterpriseID] = true
		}
	}
	for _, eid := range c.Acted {
		if eid != "" {
			member[eid] = true
		}
	}
	eids := make([]string, 0, len(member))
	for eid := range member {
		if !admin[eid] && (enterprise == "" || enterprise == eid) && c.AccountID != "" {
			eids = append(eids, eid)
		}
	}
	slices.Sort(eids)
	for _, eid := range eids {
		groups = append(groups, []string{Member(eid, c.AccountID)})
	}
	if enterprise != "" {
		return groups, admin[enterprise] || member[enterprise]
	}
	if c.AccountID != "" {
		groups = append(groups, []string{Account(c.AccountID)})
	}
	if c.LoginHash != "" {
		groups = append(groups, []string{Login(c.LoginHash)})
	}
	return groups, true
}

// Sides are a contract's principals by how they relate to it.
type Sides struct {
	Out       []string // the sending side
	In        []string // the parties (once sent) and those who signed or refused for an enterprise party
	Approvers []string // while it waits for approval
	// Turn are the principals of the parties that may sign now.
	Turn []string
}

// All is every principal of s, each once.
func (s Sides) All() []string {
	var out []string
	seen := map[string]bool{}
	for _, l := range [][]string{s.Out, s.In, s.Approvers} {
		for _, p := range l {
			if !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
	}
	return out
}

// OfContract lists who sees the contract k as it stands.
//
// A contract an enterprise sends to itself (an enterprise party named as
// the sender's verified name) is received under ent:<sender> rather than
// entname:<name>, so that the enterprise's administrators, who hold both,
// find it once in their lists.
func OfContract(k *contract.Contract) Sides {
	var s Sides
	if !k.Exists() {
		return s
	}
	cr := k.Created()
	snd := cr.Sender
	if snd.EnterpriseID != "" {
		s.Out = []string{Enterprise(snd.EnterpriseID), Member(snd.EnterpriseID, snd.AccountID)}
	} else {
		s.Out = []string{Account(snd.AccountID)}
	}
	if k.Status() == contract.StatusPendingApproval {
		for _, a := range k.Approvers() {
			s.Approvers = append(s.Approvers, Account(a))
		}
	}
	if _, sent := k.Sent(); !sent {
		return s
	}
	seen := map[string]bool{}
	in := func(p string) {
		if p != "" && !seen[p] {
			seen[p] = true
			s.In = append(s.In, p)
		}
	}
	for _, p := range cr.Parties {
		in(OfParty(cr, p))
	}
	for _, sg := range k.SignedOrder() {
		if sg.EnterpriseID != "" && sg.SignerAccountID != "" {
			in(Member(sg.EnterpriseID, sg.SignerAccountID))
		}
	}
	if r, ok := k.Rejection(); ok && r.EnterpriseID != "" && r.SignerAccountID != "" {
		in(Member(r.EnterpriseID, r.SignerAccountID))
	}
	turn := map[string]bool{}
	for _, p := range k.Turn() {
		if q := OfParty(cr, p); q != "" && !turn[q] {
			turn[q] = true
			s.Turn = append(s.Turn, q)
		}
	}
	return s
}

// OfParty is the principal a party is addressed to: the login of a person
// party, the name of an enterprise party (the sender itself when it names
// the sending enterprise). "" when the contact cannot be read.
func OfParty(cr contract.ContractCreated, p contract.Party) string {
	if p.Kind == layout.Enterprise {
		name := strings.TrimSpace(p.EnterpriseName)
		if cr.Sender.EnterpriseID != "" && name == strings.TrimSpace(cr.Sender.Name) {
			return Enterprise(cr.Sender.EnterpriseID)
		}
		if name == "" {
			return ""
		}
		return EnterpriseName(name)
	}
	l, err := account.ParseLogin(p.Contact.Value)
	if err != nil {
		return ""
	}
	return Login(l.Hash())
}

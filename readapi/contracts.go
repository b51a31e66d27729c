package readapi

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gorilla/mux"

	"signet/domain/event"
	"signet/domain/fault"
	"signet/infra/web"
	"signet/projections/accounts"
	"signet/projections/contracts"
	"signet/projections/enterprises"
	"signet/projections/templates"
)

// ContractReader reads contracts and approvals; contracts.Reader implements it.
type ContractReader interface {
	Contract(ctx context.Context, id string) (contracts.ContractView, error)
	Access(ctx context.Context, id string, c contracts.Caller) error
	PendingApprovals(ctx context.Context, accountID string, limit int) ([]contracts.ApprovalItem, error)
}

// TemplateReader reads templates; templates.Reader implements it.
type TemplateReader interface {
	Template(ctx context.Context, id string) (templates.TemplateView, error)
	List(ctx context.Context, owners []string, limit int) ([]templates.Summary, error)
}

// LoginKeys finds an account's login key (account.Login.Hash); accounts.Reader
// implements it.
type LoginKeys interface {
	LoginKey(ctx context.Context, accountID string) (string, error)
}

var (
	errNotTemplateOwner = fault.New(fault.Forbidden, "not_template_owner", "This is another account's personal template.")
	errNoSuchDocument   = fault.New(fault.NotFound, "document_not_found", "There is no such document here; check the document ID.")
	errFileMissing      = fault.New(fault.NotFound, "file_not_found", "The document's file is not stored here.")
)

func (a *api) registerContracts(r *mux.Router) {
	if a.Enterprises == nil || a.LoginKeys == nil {
		panic("readapi: Deps.Contracts needs Deps.Enterprises and Deps.LoginKeys")
	}
	authed := web.RequireAuth(a.Verify)
	get := func(path string, h http.HandlerFunc) {
		r.Handle(path, authed(h)).Methods(http.MethodGet)
	}
	get("/api/v1/contracts/{id}", a.contract)
	get("/api/v1/approvals", a.approvals)
	if a.Files != nil {
		get("/api/v1/contracts/{id}/documents/{doc}", a.contractDocument)
		get("/api/v1/contracts/{id}/certificate", a.contractCertificate)
	}
	if a.Templates != nil {
		get("/api/v1/templates", a.templateList)
		get("/api/v1/templates/{id}", a.template)
		if a.Files != nil {
			get("/api/v1/templates/{id}/documents/{doc}", a.templateDocument)
		}
	}
}

// caller is who the request's account is to contracts: its login key and
// its enterprises.
func (a *api) caller(r *http.Request) (contracts.Caller, error) {
	p, _ := web.Caller(r.Context())
	c := contracts.Caller{AccountID: p.AccountID}
	key, err := a.LoginKeys.LoginKey(r.Context(), p.AccountID)
	if f, ok := fault.As(err); ok && f.Kind == fault.NotFound {
		key, err = "", nil // no profile yet: it can still be a sender, approver or signer
	}
	if err != nil {
		return c, err
	}
	c.LoginKey = key
	ents, err := a.Enterprises.EnterprisesOf(r.Context(), p.AccountID)
	if err != nil {
		return c, err
	}
	for _, e := range ents {
		c.Enterprises = append(c.Enterprises, contracts.Membership{ID: e.ID, Name: e.Name, Role: e.Role, Verified: e.Verified})
	}
	return c, nil
}

// contractAccess waits for the read models a contract's access depends on
// and refuses callers with no part in the route's contract.
func (a *api) contractAccess(r *http.Request) (string, error) {
	if err := a.catchUp(r, contracts.Name, accounts.Name, enterprises.Name); err != nil {
		return "", err
	}
	c, err := a.caller(r)
	if err != nil {
		return "", err
	}
	id := mux.Vars(r)["id"]
	return id, a.Contracts.Access(r.Context(), id, c)
}

func (a *api) contract(w http.ResponseWriter, r *http.Request) {
	id, err := a.contractAccess(r)
	if err != nil {
		answer(w, r, nil, err)
		return
	}
	v, err := a.Contracts.Contract(r.Context(), id)
	answer(w, r, v, err)
}

// contractDocument serves a document: once the contract is completed, the
// final PDF (stamped, digitally signed and timestamped); before, or with
// ?version=sent, as it was sent (before sending, as the sender uploaded it:
// what approvers approve).
func (a *api) contractDocument(w http.ResponseWriter, r *http.Request) {
	version := r.URL.Query().Get("version")
	if version != "" && version != "sent" && version != "final" {
		answer(w, r, nil, fault.Invalidf("version", "invalid_version", "version is \"sent\" (the document as sent) or \"final\" (stamped and digitally signed)."))
		return
	}
	id, err := a.contractAccess(r)
	if err != nil {
		answer(w, r, nil, err)
		return
	}
	v, err := a.Contracts.Contract(r.Context(), id)
	if err != nil {
		answer(w, r, nil, err)
		return
	}
	doc := mux.Vars(r)["doc"]
	for _, d := range v.Documents {
		if d.ID != doc {
			continue
		}
		switch {
		case version == "final" && d.FinalSHA256 == "":
			answer(w, r, nil, errNotSealed)
		case version != "sent" && d.FinalSHA256 != "":
			a.serveDocument(w, r, d.FinalSHA256, d.Name)
		default:
			a.serveDocument(w, r, cmp.Or(d.SentSHA256, d.File.SHA256), d.Name)
		}
		return
	}
	answer(w, r, nil, errNoSuchDocument)
}

var errNotSealed = fault.New(fault.Conflict, "not_completed", "The final signed documents exist once every party has signed and the contract is completed.")

// contractCertificate serves the certificate of completion (签署完成证明).
func (a *api) contractCertificate(w http.ResponseWriter, r *http.Request) {
	id, err := a.contractAccess(r)
	if err != nil {
		answer(w, r, nil, err)
		return
	}
	v, err := a.Contracts.Contract(r.Context(), id)
	if err != nil {
		answer(w, r, nil, err)
		return
	}
	if v.Sealing == nil || v.Sealing.CertificateSHA256 == "" {
		answer(w, r, nil, errNotSealed)
		return
	}
	a.serveDocument(w, r, v.Sealing.CertificateSHA256, "签署完成证明 "+v.Number)
}

func (a *api) approvals(w http.ResponseWriter, r *http.Request) {
	limit, err := parseLimit(r.URL.Query().Get("limit"))
	if err != nil {
		answer(w, r, nil, err)
		return
	}
	if err := a.catchUp(r, contracts.Name); err != nil {
		answer(w, r, nil, err)
		return
	}
	p, _ := web.Caller(r.Context())
	items, err := a.Contracts.PendingApprovals(r.Context(), p.AccountID, limit)
	answer(w, r, items, err)
}

// isMember reports whether an enterprise role is a member's (the creator of
// an unverified case is not one yet).
func isMember(role string) bool {
	return role == "master_admin" || role == "admin" || role == "member" || role == "auditor"
}

// templateList lists the caller's personal templates, or with
// ?enterprise_id= those of an enterprise the caller is a member of.
func (a *api) templateList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, err := parseLimit(q.Get("limit"))
	if err != nil {
		answer(w, r, nil, err)
		return
	}
	if err := a.catchUp(r, templates.Name, enterprises.Name); err != nil {
		answer(w, r, nil, err)
		return
	}
	p, _ := web.Caller(r.Context())
	owner := templates.OwnerOfAccount(p.AccountID)
	if eid := q.Get("enterprise_id"); eid != "" {
		role, err := a.Enterprises.Access(r.Context(), eid, p.AccountID)
		if err != nil {
			answer(w, r, nil, err)
			return
		}
		if !isMember(role) {
			answer(w, r, nil, errNotMember)
			return
		}
		owner = templates.OwnerOfEnterprise(eid)
	}
	list, err := a.Templates.List(r.Context(), []string{owner}, limit)
	answer(w, r, list, err)
}

// templateAccess returns the route's template if the caller owns it: a
// personal template to its account, an enterprise's to its members.
func (a *api) templateAccess(r *http.Request) (templates.TemplateView, error) {
	if err := a.catchUp(r, templates.Name, enterprises.Name); err != nil {
		return templates.TemplateView{}, err
	}
	v, err := a.Templates.Template(r.Context(), mux.Vars(r)["id"])
	if err != nil {
		return templates.TemplateView{}, err
	}
	p, _ := web.Caller(r.Context())
	if v.Owner.EnterpriseID == "" {
		if v.Owner.AccountID != p.AccountID {
			return templates.TemplateView{}, errNotTemplateOwner
		}
		return v, nil
	}
	role, err := a.Enterprises.Access(r.Context(), v.Owner.EnterpriseID, p.AccountID)
	if err != nil {
		return templates.TemplateView{}, err
	}
	if !isMember(role) {
		return templates.TemplateView{}, errNotMember
	}
	return v, nil
}

func (a *api) template(w http.ResponseWriter, r *http.Request) {
	v, err := a.templateAccess(r)
	answer(w, r, v, err)
}

func (a *api) templateDocument(w http.ResponseWriter, r *http.Request) {
	v, err := a.templateAccess(r)
	if err != nil {
		answer(w, r, nil, err)
		return
	}
	doc := mux.Vars(r)["doc"]
	for _, d := range v.Documents {
		if d.ID == doc {
			a.serveDocument(w, r, d.File.SHA256, d.Name)
			return
		}
	}
	answer(w, r, nil, errNoSuchDocument)
}

// serveDocument answers a stored PDF as a download, after checking that
// its bytes still hash to what the read model recorded.
func (a *api) serveDocument(w http.ResponseWriter, r *http.Request, sha, name string) {
	if !isSHA256(sha) {
		answer(w, r, nil, errFileMissing)
		return
	}
	data, _, err := a.Files.Get(r.Context(), sha)
	switch {
	case errors.Is(err, event.ErrNotFound):
		answer(w, r, nil, errFileMissing)
		return
	case err != nil:
		// A corrupt store is no passing outage: a logged 500.
		web.WriteError(w, r, fmt.Errorf("document %s: %w", sha, err))
		return
	}
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != sha {
		web.WriteError(w, r, fmt.Errorf("document %s: stored bytes hash to %x", sha, sum))
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/pdf")
	h.Set("Content-Length", strconv.Itoa(len(data)))
	h.Set("Content-Disposition", attachment(name))
	h.Set("Cache-Control", "private, no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("ETag", `"`+sha+`"`)
	_, _ = w.Write(data)
}

func isSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// attachment is a Content-Disposition that downloads the document under
// its name (with ".pdf" added when missing): an ASCII filename for old
// clients, and the exact name as RFC 5987 filename* (UTF-8, percent-encoded)
// for the rest, so "劳动合同.pdf" arrives as such.
func attachment(name string) string {
	name = strings.ToValidUTF8(strings.TrimSpace(name), "\uFFFD")
	if name == "" {
		name = "document"
	}
	if !strings.HasSuffix(strings.ToLower(name), ".pdf") {
		name += ".pdf"
	}
	var ascii, enc strings.Builder
	for _, c := range name {
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '/' {
			ascii.WriteByte('_')
		} else {
			ascii.WriteRune(c)
		}
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; isAttrChar(c) {
			enc.WriteByte(c)
		} else {
			fmt.Fprintf(&enc, "%%%02X", c)
		}
	}
	return `attachment; filename="` + ascii.String() + `"; filename*=UTF-8''` + enc.String()
}

// isAttrChar is RFC 5987's attr-char: what filename* carries unencoded.
func isAttrChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$&+-.^_`|~", c) >= 0
}

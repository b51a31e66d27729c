package readapi

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"signet/domain/account"
	"signet/domain/contract"
	"signet/domain/fault"
	"signet/infra/search"
	"signet/infra/web"
	"signet/projections"
	"signet/projections/principal"
)

// SearchIndex answers searches (search.Index implements it).
type SearchIndex interface {
	GetContract(ctx context.Context, id string) (search.ContractDoc, bool, error)
	SearchContracts(ctx context.Context, q search.ContractQuery) (search.ContractPage, error)
	SearchAudit(ctx context.Context, q search.AuditQuery) (search.AuditPage, error)
}

// SearchWaiter waits until the search index has applied a global position
// (search.Runner implements it), or ctx ends.
type SearchWaiter interface {
	WaitFor(ctx context.Context, pos uint64) error
}

// ActedReader lists the enterprises an account sent or signed for, member
// or not any more: their contracts stay the account's (as in the lists).
type ActedReader interface {
	Acted(ctx context.Context, accountID string) ([]string, error)
}

// Search are the ports of the search, audit trail and export routes.
type Search struct {
	Index  SearchIndex
	Waiter SearchWaiter
	Acted  ActedReader // optional
}

func (a *api) registerSearch(r *mux.Router) {
	if a.Enterprises == nil || a.LoginKeys == nil || a.PlatformRoles == nil || a.Search.Index == nil || a.Search.Waiter == nil {
		panic("readapi: Deps.Search needs its Index and Waiter, and Deps.Enterprises, LoginKeys and PlatformRoles")
	}
	authed := web.RequireAuth(a.Verify)
	get := func(path string, h http.HandlerFunc) { r.Handle(path, authed(h)).Methods(http.MethodGet) }
	get("/api/v1/search/contracts", a.searchContracts)
	get("/api/v1/audit/trail", a.auditTrail)
	get("/api/v1/contracts/export", a.exportContracts)
}

var (
	errSearchLag      = fault.New(fault.Unavailable, "projection_lag", "The search index has not caught up with your last change yet; try again shortly.").Retry(time.Second)
	errTagEnterprise  = fault.Invalidf("tag", "tag_needs_enterprise", "A tag belongs to an enterprise: give enterprise with tag.")
	errTrailNotFound  = fault.New(fault.NotFound, "contract_not_found", "There is no such contract, or it is not yours to see.")
	errInvalidStatus  = fault.Invalidf("status", "invalid_status", "status is a comma-separated list of created, pending_approval, approved, approval_rejected, signing, sealing, completed, rejected, revoked, expired.")
	errInvalidStream  = fault.Invalidf("stream", "invalid_stream", "stream is a category and an ID joined by '-', e.g. contract-<uuid>.")
	errTooManyTags    = fault.Invalidf("tag", "too_many_values", "At most 20 tags.")
	errInvalidTagID   = fault.Invalidf("tag", "invalid_tag", "tag is a tag ID (letters, digits, '-' and '_').")
	errInvalidFolder  = fault.Invalidf("folder", "invalid_folder", "folder is a folder ID (letters, digits, '-' and '_').")
	errInvalidEntID   = fault.Invalidf("enterprise", "invalid_enterprise", "enterprise is an enterprise ID (letters, digits, '-' and '_').")
	errInvalidFormat  = fault.Invalidf("format", "invalid_format", "format is csv or xlsx.")
	knownStatuses     = []contract.Status{contract.StatusCreated, contract.StatusPendingApproval, contract.StatusApproved, contract.StatusApprovalRejected, contract.StatusSigning, contract.StatusSealing, contract.StatusCompleted, contract.StatusRejected, contract.StatusRevoked, contract.StatusExpired}
	maxSearchDuration = 10 * time.Second
)

// SearchParams are a contract search as the query string asks it: tags and
// folder are IDs here, qualified with their owner by the handler.
type SearchParams struct {
	Query      search.ContractQuery
	Enterprise string   // the enterprise whose tags Tags are
	Tags       []string // tag IDs
	Folder     string   // one of the caller's folder IDs
}

// ParseSearchParams reads a contract search's query parameters. Dates are
// RFC 3339 moments or days (YYYY-MM-DD, in China's time; sent_to then
// includes that day).
func ParseSearchParams(v url.Values) (SearchParams, error) {
	p := SearchParams{Query: search.ContractQuery{
		Text: v.Get("q"), Sender: v.Get("sender"), Receiver: strings.TrimSpace(v.Get("receiver")),
		Number: v.Get("number"), Sort: v.Get("sort"), After: v.Get("after"),
	}}
	if l, err := account.ParseLogin(p.Query.Receiver); err == nil {
		p.Query.Receiver = l.Hash() // a party's phone or email: its exact key
	}
	for _, s := range commaList(v["status"]) {
		if !slices.Contains(knownStatuses, contract.Status(s)) {
			return p, errInvalidStatus
		}
		p.Query.Status = append(p.Query.Status, s)
	}
	var err error
	if p.Query.SentFrom, err = timeParam(v, "sent_from", false); err != nil {
		return p, err
	}
	if p.Query.SentTo, err = timeParam(v, "sent_to", true); err != nil {
		return p, err
	}
	if p.Query.Limit, err = intParam(v, "limit"); err != nil {
		return p, err
	}
	p.Tags = commaList(v["tag"])
	if len(p.Tags) > 20 {
		return p, errTooManyTags
	}
	for _, t := range p.Tags {
		if !projections.ValidID(t) {
			return p, errInvalidTagID
		}
	}
	p.Enterprise = strings.TrimSpace(v.Get("enterprise"))
	if p.Enterprise != "" && !projections.ValidID(p.Enterprise) {
		return p, errInvalidEntID
	}
	if len(p.Tags) > 0 && p.Enterprise == "" {
		return p, errTagEnterprise
	}
	p.Folder = strings.TrimSpace(v.Get("folder"))
	if p.Folder != "" && !projections.ValidID(p.Folder) {
		return p, errInvalidFolder
	}
	return p, nil
}

// commaList splits repeated and comma-separated values, dropping blanks.
func commaList(vals []string) []string {
	var out []string
	for _, v := range vals {
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

// timeParam reads an RFC 3339 moment or a day in China's time; a day as
// the end of a range means the end of that day.
func timeParam(v url.Values, name string, end bool) (*time.Time, error) {
	s := strings.TrimSpace(v.Get(name))
	if s == "" {
		return nil, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		t = t.UTC()
		return &t, nil
	}
	d, err := time.ParseInLocation(time.DateOnly, s, contract.Shanghai)
	if err != nil || d.Year() < 1970 || d.Year() > 9999 {
		return nil, fault.Invalidf(name, "invalid_"+name, "%s is a day (2026-12-01) or a moment in RFC 3339 (2026-12-01T10:00:00+08:00).", name)
	}
	if end {
		d = d.AddDate(0, 0, 1)
	}
	d = d.UTC()
	return &d, nil
}

// searchCaller is who reads, with their principals, once the read models
// and the search index reflect the caller's writes.
func (a *api) searchCaller(r *http.Request) (principal.Caller, []string, error) {
	c, err := a.listCaller(r)
	if err != nil {
		return c, nil, err
	}
	if a.Search.Acted != nil {
		if c.Acted, err = a.Search.Acted.Acted(r.Context(), c.AccountID); err != nil {
			return c, nil, err
		}
	}
	if err := a.searchCatchUp(r); err != nil {
		return c, nil, err
	}
	return c, principal.OfCaller(c), nil
}

// searchCatchUp waits until the search index reflects the caller's token
// and Signet-Wait-For (which catchUp has already checked).
func (a *api) searchCatchUp(r *http.Request) error {
	var pos uint64
	if h := strings.TrimSpace(r.Header.Get(WaitForHeader)); h != "" {
		p, err := strconv.ParseUint(h, 10, 64)
		if err != nil {
			return fault.Invalidf(WaitForHeader, "invalid_wait_for", "Header %s must be a global position (a non-negative integer) as returned in Signet-Position.", WaitForHeader)
		}
		pos = p
	}
	if p, ok := web.Caller(r.Context()); ok && p.Position > pos {
		pos = p.Position
	}
	if pos == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(r.Context(), a.WaitBound)
	defer cancel()
	if err := a.Search.Waiter.WaitFor(ctx, pos); err != nil {
		if ctx.Err() != nil && r.Context().Err() == nil {
			return errSearchLag
		}
		return unavailable(err)
	}
	return nil
}

// contractQuery completes a search with the caller's principals and
// qualifies its tags and folder by their owners.
func contractQuery(c principal.Caller, principals []string, p SearchParams) (search.ContractQuery, error) {
	q := p.Query
	q.Principals = principals
	if p.Enterprise != "" {
		if !slices.ContainsFunc(c.Memberships, func(m principal.Membership) bool { return m.EnterpriseID == p.Enterprise && m.Role != "" }) {
			return q, errNotMember
		}
		for _, t := range p.Tags {
			q.Tags = append(q.Tags, p.Enterprise+"/"+t)
		}
	}
	if p.Folder != "" {
		q.Folder = c.AccountID + "/" + p.Folder
	}
	return q, nil
}

// ContractHit is a contract as a search answers it: the caller's own tags
// and folder only, no principals, no contacts.
type ContractHit struct {
	ID              string     `json:"id"`
	Number          string     `json:"number"`
	Title           string     `json:"title"`
	Status          string     `json:"status"`
	Sender          HitSender  `json:"sender"`
	Receivers       []string   `json:"receivers"`
	CreatedAt       time.Time  `json:"created_at"`
	SentAt          *time.Time `json:"sent_at,omitempty"`
	SigningDeadline time.Time  `json:"signing_deadline"`
	ExpiresAt       *time.Time `json:"expires_at,omitempty"`
	Tags            []HitTag   `json:"tags"`
	Folder          string     `json:"folder,omitempty"`
}

// HitSender is who sent a contract.
type HitSender struct {
	Name         string `json:"name"`
	PersonName   string `json:"person_name"`
	AccountID    string `json:"account_id"`
	EnterpriseID string `json:"enterprise_id,omitempty"`
}

// HitTag is one of the caller's enterprises' tags on a contract.
type HitTag struct {
	EnterpriseID string `json:"enterprise_id"`
	ID           string `json:"id"`
}

// ContractHits is one page of a contract search.
type ContractHits struct {
	Items []ContractHit `json:"items"`
	Total int           `json:"total"`
	Next  string        `json:"next,omitempty"`
}

// hitOf shows d to caller c.
func hitOf(c principal.Caller, d search.ContractDoc) ContractHit {
	h := ContractHit{ID: d.ID, Number: d.Number, Title: d.Title, Status: d.Status,
		Sender:    HitSender{Name: d.SenderName, PersonName: d.SenderPerson, AccountID: d.SenderAccount, EnterpriseID: d.SenderEnterprise},
		Receivers: d.Receivers, CreatedAt: d.CreatedAt, SentAt: d.SentAt, SigningDeadline: d.Deadline, ExpiresAt: d.ExpiresAt, Tags: []HitTag{}}
	if h.Receivers == nil {
		h.Receivers = []string{}
	}
	for _, t := range d.Tags {
		eid, tid, ok := strings.Cut(t, "/")
		if ok && slices.ContainsFunc(c.Memberships, func(m principal.Membership) bool { return m.EnterpriseID == eid && m.Role != "" }) {
			h.Tags = append(h.Tags, HitTag{EnterpriseID: eid, ID: tid})
		}
	}
	for _, f := range d.Folders {
		if fid, ok := strings.CutPrefix(f, c.AccountID+"/"); ok {
			h.Folder = fid
		}
	}
	return h
}

func (a *api) searchContracts(w http.ResponseWriter, r *http.Request) {
	p, err := ParseSearchParams(r.URL.Query())
	if err != nil {
		answer(w, r, nil, err)
		return
	}
	c, principals, err := a.searchCaller(r)
	if err != nil {
		answer(w, r, nil, err)
		return
	}
	q, err := contractQuery(c, principals, p)
	if err != nil {
		answer(w, r, nil, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), maxSearchDuration)
	defer cancel()
	page, err := a.Search.Index.SearchContracts(ctx, q)
	if err != nil {
		answer(w, r, nil, err)
		return
	}
	out := ContractHits{Items: make([]ContractHit, 0, len(page.Hits)), Total: page.Total, Next: page.Next}
	for _, d := range page.Hits {
		out.Items = append(out.Items, hitOf(c, d))
	}
	answer(w, r, out, nil)
}

// AuditItem is one audit record as the trail answers it.
type AuditItem struct {
	ID         string    `json:"id"`
	At         time.Time `json:"at"`
	Actor      string    `json:"actor,omitempty"`
	Enterprise string    `json:"enterprise,omitempty"`
	ClientIP   string    `json:"client_ip,omitempty"`
	Stream     string    `json:"stream"`
	Type       string    `json:"type"`
	Summary    string    `json:"summary"`
	Position   uint64    `json:"position"`
}

// AuditItems is one page of the audit trail.
type AuditItems struct {
	Items []AuditItem `json:"items"`
	Total int         `json:"total"`
	Next  string      `json:"next,omitempty"`
}

// ParseAuditParams reads an audit trail query's parameters.
func ParseAuditParams(v url.Values) (search.AuditQuery, error) {
	q := search.AuditQuery{Actor: v.Get("actor"), Enterprise: v.Get("enterprise"), Type: v.Get("type"),
		Stream: strings.TrimSpace(v.Get("stream")), Text: v.Get("q"), Sort: v.Get("sort"), After: v.Get("after")}
	if q.Stream != "" {
		cat, id, ok := strings.Cut(q.Stream, "-")
		if !ok || cat == "" || id == "" || len(q.Stream) > 200 || strings.ContainsAny(q.Stream, " \t\r\n/") {
			return q, errInvalidStream
		}
	}
	var err error
	if q.From, err = timeParam(v, "from", false); err != nil {
		return q, err
	}
	if q.To, err = timeParam(v, "to", true); err != nil {
		return q, err
	}
	if q.Limit, err = intParam(v, "limit"); err != nil {
		return q, err
	}
	return q, nil
}

// auditTrail searches the audit records the caller may read: everything
// for the platform's auditors; else what their principals see (their own
// account, their enterprises' records for administrators and auditors,
// their contracts' events). The trail of one contract is read whole by
// whoever may see the contract.
func (a *api) auditTrail(w http.ResponseWriter, r *http.Request) {
	q, err := ParseAuditParams(r.URL.Query())
	if err != nil {
		answer(w, r, nil, err)
		return
	}
	c, principals, err := a.searchCaller(r)
	if err != nil {
		answer(w, r, nil, err)
		return
	}
	platform, err := a.PlatformRoles.HasPlatformRole(r.Context(), c.AccountID, PlatformAuditor)
	if err != nil {
		answer(w, r, nil, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), maxSearchDuration)
	defer cancel()
	switch cid, isContract := strings.CutPrefix(q.Stream, contract.Category+"-"); {
	case platform:
		q.Principals = []string{search.PlatformPrincipal}
	case isContract:
		d, ok, err := a.Search.Index.GetContract(ctx, cid)
		if err != nil {
			answer(w, r, nil, err)
			return
		}
		if !ok || !slices.ContainsFunc(d.Visible, func(p string) bool { return slices.Contains(principals, p) }) {
			answer(w, r, nil, errTrailNotFound)
			return
		}
		// The stream filter holds the query to this contract's records.
		q.Principals = []string{search.PlatformPrincipal}
	default:
		q.Principals = principals
	}
	page, err := a.Search.Index.SearchAudit(ctx, q)
	if err != nil {
		answer(w, r, nil, err)
		return
	}
	out := AuditItems{Items: make([]AuditItem, 0, len(page.Hits)), Total: page.Total, Next: page.Next}
	for _, h := range page.Hits {
		out.Items = append(out.Items, AuditItem{ID: h.ID, At: h.At, Actor: h.Actor, Enterprise: h.Enterprise, ClientIP: h.ClientIP,
			Stream: h.Stream, Type: h.Type, Summary: h.Summary, Position: h.Position})
	}
	answer(w, r, out, nil)
}

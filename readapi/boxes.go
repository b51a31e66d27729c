package readapi

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/gorilla/mux"

	"signet/domain/fault"
	"signet/infra/web"
	"signet/projections/accounts"
	"signet/projections/boxes"
	"signet/projections/contracts"
	"signet/projections/enterprises"
	"signet/projections/principal"
)

// BoxReader reads contract lists, counters, folders and tags; boxes.Reader
// implements it.
type BoxReader interface {
	List(ctx context.Context, c principal.Caller, q boxes.Query) (boxes.Page, error)
	Counts(ctx context.Context, c principal.Caller, days int, enterprise string) (boxes.Counts, error)
	Folders(ctx context.Context, accountID string) ([]boxes.Folder, error)
	Tags(ctx context.Context, enterpriseID string) ([]boxes.Tag, error)
}

// registerBoxes mounts the lists before the contract routes, so that
// /contracts/counts is not taken for a contract ID.
func (a *api) registerBoxes(r *mux.Router) {
	if a.Enterprises == nil || a.LoginKeys == nil {
		panic("readapi: Deps.Boxes needs Deps.Enterprises and Deps.LoginKeys")
	}
	authed := web.RequireAuth(a.Verify)
	get := func(path string, h http.HandlerFunc) { r.Handle(path, authed(h)).Methods(http.MethodGet) }
	get("/api/v1/contracts", a.contractList)
	get("/api/v1/contracts/counts", a.contractCounts)
	get("/api/v1/me/folders", a.folders)
	get("/api/v1/enterprises/{id}/tags", a.enterpriseTags)
}

// The read models a list depends on: its own, approvals, and who the caller is.
var listModels = []string{boxes.Name, contracts.Name, accounts.Name, enterprises.Name}

// listCaller is the caller as the lists know them.
func (a *api) listCaller(r *http.Request) (principal.Caller, error) {
	if err := a.catchUp(r, listModels...); err != nil {
		return principal.Caller{}, err
	}
	c, err := a.caller(r)
	if err != nil {
		return principal.Caller{}, err
	}
	out := principal.Caller{AccountID: c.AccountID, LoginHash: c.LoginKey}
	for _, m := range c.Enterprises {
		out.Memberships = append(out.Memberships, principal.Membership{EnterpriseID: m.ID, Name: m.Name, Role: m.Role, Verified: m.Verified})
	}
	return out, nil
}

// intParam reads an optional whole-number query parameter (0 when absent).
func intParam(q url.Values, name string) (int, error) {
	s := q.Get(name)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || strconv.Itoa(n) != s {
		return 0, fault.Invalidf(name, "invalid_"+name, "Query parameter %s must be a positive whole number.", name)
	}
	return n, nil
}

// ParseListQuery reads a list's query parameters; the reader checks their
// values and combinations.
func ParseListQuery(v url.Values) (boxes.Query, error) {
	q := boxes.Query{Box: v.Get("box"), View: v.Get("view"), Folder: v.Get("folder"), Tag: v.Get("tag"),
		Enterprise: v.Get("enterprise"), Sort: v.Get("sort"), After: v.Get("after")}
	var err error
	if q.Days, err = intParam(v, "days"); err != nil {
		return q, err
	}
	if q.Limit, err = intParam(v, "limit"); err != nil {
		return q, err
	}
	return q, nil
}

func (a *api) contractList(w http.ResponseWriter, r *http.Request) {
	q, err := ParseListQuery(r.URL.Query())
	if err != nil {
		answer(w, r, nil, err)
		return
	}
	c, err := a.listCaller(r)
	if err != nil {
		answer(w, r, nil, err)
		return
	}
	page, err := a.Boxes.List(r.Context(), c, q)
	answer(w, r, page, err)
}

func (a *api) contractCounts(w http.ResponseWriter, r *http.Request) {
	days, err := intParam(r.URL.Query(), "days")
	if err != nil {
		answer(w, r, nil, err)
		return
	}
	c, err := a.listCaller(r)
	if err != nil {
		answer(w, r, nil, err)
		return
	}
	counts, err := a.Boxes.Counts(r.Context(), c, days, r.URL.Query().Get("enterprise"))
	answer(w, r, counts, err)
}

func (a *api) folders(w http.ResponseWriter, r *http.Request) {
	if err := a.catchUp(r, boxes.Name); err != nil {
		answer(w, r, nil, err)
		return
	}
	p, _ := web.Caller(r.Context())
	fs, err := a.Boxes.Folders(r.Context(), p.AccountID)
	answer(w, r, fs, err)
}

// enterpriseTags lists an enterprise's tags to its members.
func (a *api) enterpriseTags(w http.ResponseWriter, r *http.Request) {
	if err := a.catchUp(r, boxes.Name, enterprises.Name); err != nil {
		answer(w, r, nil, err)
		return
	}
	p, _ := web.Caller(r.Context())
	eid := mux.Vars(r)["id"]
	role, err := a.Enterprises.Access(r.Context(), eid, p.AccountID)
	if err != nil {
		answer(w, r, nil, err)
		return
	}
	if !isMember(role) {
		answer(w, r, nil, errNotMember)
		return
	}
	tags, err := a.Boxes.Tags(r.Context(), eid)
	answer(w, r, tags, err)
}

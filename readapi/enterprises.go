package readapi

import (
	"net/http"
	"strconv"

	"github.com/gorilla/mux"

	"signet/domain/fault"
	"signet/infra/web"
	"signet/projections/accounts"
	"signet/projections/enterprises"
)

var (
	errNotMember   = fault.New(fault.Forbidden, "not_enterprise_member", "You are not a member of this enterprise; ask one of its administrators for an invitation link.")
	errNotAdmin    = fault.New(fault.Forbidden, "not_enterprise_admin", "Only the enterprise's administrators and the platform's operators may read its documents.")
	errNotOperator = fault.New(fault.Forbidden, "not_platform_operator", "Only the platform's operators may review authorization letters.")
)

// Bounds of the review queue's limit query parameter.
const (
	defaultReviewLimit = 50
	maxReviewLimit     = 200
)

// answer writes v, or the refusal or read-model failure in err.
func answer(w http.ResponseWriter, r *http.Request, v any, err error) {
	if err != nil {
		web.WriteError(w, r, unavailable(err))
		return
	}
	w.Header().Set("Cache-Control", "private, no-store")
	web.WriteJSON(w, http.StatusOK, v)
}

// caseAccess loads the route's case and refuses callers with no role in it:
// 404 when there is no such case, 403 when the caller is neither a member
// nor the creator of the unverified case.
func (a *api) caseAccess(r *http.Request) (string, error) {
	if err := a.catchUp(r, enterprises.Name); err != nil {
		return "", err
	}
	eid := mux.Vars(r)["id"]
	p, _ := web.Caller(r.Context())
	role, err := a.Enterprises.Access(r.Context(), eid, p.AccountID)
	if err != nil {
		return "", err
	}
	if role == "" {
		// Only then tell a missing case from a forbidden one.
		if _, err := a.Enterprises.Case(r.Context(), eid); err != nil {
			return "", err
		}
		return "", errNotMember
	}
	return eid, nil
}

func (a *api) enterprise(w http.ResponseWriter, r *http.Request) {
	eid, err := a.caseAccess(r)
	if err != nil {
		answer(w, r, nil, err)
		return
	}
	v, err := a.Enterprises.Case(r.Context(), eid)
	answer(w, r, v, err)
}

var errNoSuchFile = fault.New(fault.NotFound, "file_not_found", "This enterprise's case has no such document.")

// caseFile serves one of a case's documents: the business licence and the
// authorization letter (generated and stamped). Its administrators (the
// creator before verification) and platform operators, who review the
// letter against the licence, may read them; plain members may not. ID card
// photos are never served.
func (a *api) caseFile(w http.ResponseWriter, r *http.Request) {
	if err := a.catchUp(r, enterprises.Name, accounts.Name); err != nil {
		answer(w, r, nil, err)
		return
	}
	eid, sha := mux.Vars(r)["id"], mux.Vars(r)["sha256"]
	p, _ := web.Caller(r.Context())
	role, err := a.Enterprises.Access(r.Context(), eid, p.AccountID)
	if err != nil {
		answer(w, r, nil, err)
		return
	}
	v, err := a.Enterprises.Case(r.Context(), eid)
	if err != nil {
		answer(w, r, nil, err)
		return
	}
	switch role {
	case "master_admin", "admin", "auditor", enterprises.RoleCreator:
	default:
		op, err := a.PlatformRoles.HasPlatformRole(r.Context(), p.AccountID, PlatformOperator)
		if err != nil {
			answer(w, r, nil, err)
			return
		}
		if !op {
			answer(w, r, nil, errNotAdmin)
			return
		}
	}
	allowed := map[string]bool{}
	if v.License != nil {
		allowed[v.License.SHA256] = true
	}
	if l := v.Willingness.Letter; l != nil {
		allowed[l.GeneratedSHA256], allowed[l.UploadedSHA256] = true, true
	}
	if sha == "" || !allowed[sha] {
		answer(w, r, nil, errNoSuchFile)
		return
	}
	data, ref, err := a.Files.Get(r.Context(), sha)
	if err != nil {
		answer(w, r, nil, err)
		return
	}
	w.Header().Set("Content-Type", ref.MediaType)
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.Header().Set("Cache-Control", "private, no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Disposition", "inline")
	w.Header().Set("ETag", `"`+sha+`"`)
	_, _ = w.Write(data)
}

func (a *api) members(w http.ResponseWriter, r *http.Request) {
	eid, err := a.caseAccess(r)
	if err != nil {
		answer(w, r, nil, err)
		return
	}
	ms, err := a.Enterprises.Members(r.Context(), eid)
	answer(w, r, ms, err)
}

func (a *api) myEnterprises(w http.ResponseWriter, r *http.Request) {
	if err := a.catchUp(r, enterprises.Name); err != nil {
		answer(w, r, nil, err)
		return
	}
	p, _ := web.Caller(r.Context())
	list, err := a.Enterprises.EnterprisesOf(r.Context(), p.AccountID)
	answer(w, r, list, err)
}

func (a *api) pendingLetters(w http.ResponseWriter, r *http.Request) {
	limit, err := parseLimit(r.URL.Query().Get("limit"))
	if err != nil {
		answer(w, r, nil, err)
		return
	}
	// Caught up first (roles live in the accounts read model), so a role
	// granted at a position the client waits for is seen.
	if err := a.catchUp(r, enterprises.Name, accounts.Name); err != nil {
		answer(w, r, nil, err)
		return
	}
	p, _ := web.Caller(r.Context())
	ok, err := a.PlatformRoles.HasPlatformRole(r.Context(), p.AccountID, PlatformOperator)
	if err != nil {
		answer(w, r, nil, err)
		return
	}
	if !ok {
		answer(w, r, nil, errNotOperator)
		return
	}
	items, err := a.Enterprises.PendingLetters(r.Context(), limit)
	answer(w, r, items, err)
}

// parseLimit reads the limit query parameter: empty for the default, else
// 1 to maxReviewLimit in plain decimal.
func parseLimit(s string) (int, error) {
	if s == "" {
		return defaultReviewLimit, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > maxReviewLimit || strconv.Itoa(n) != s {
		return 0, fault.Invalidf("limit", "invalid_limit", "Query parameter limit must be a whole number from 1 to %d.", maxReviewLimit)
	}
	return n, nil
}

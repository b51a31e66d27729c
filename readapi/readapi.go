// Package readapi answers queries from read models only. A client that has
// just written can send Signet-Wait-For: <position> (from the write's
// Signet-Position) and the answer waits, bounded, until the projections it
// reads from have passed that position.
package readapi

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"signet/domain/fault"
	"signet/infra/blob"
	"signet/infra/web"
	"signet/projections/accounts"
	"signet/projections/enterprises"
)

// WaitForHeader names the position a read must reflect.
const WaitForHeader = "Signet-Wait-For"

// Profiles reads account profiles.
type Profiles interface {
	Profile(ctx context.Context, accountID string) (accounts.Profile, error)
}

// Waiter reports whether projections have reached a position, waiting until ctx ends.
type Waiter interface {
	WaitFor(ctx context.Context, pos uint64, names ...string) (bool, error)
}

// Enterprises reads verification cases, memberships and the letter review
// queue; enterprises.Reader implements it.
type Enterprises interface {
	Case(ctx context.Context, eid string) (enterprises.CaseView, error)
	Access(ctx context.Context, eid, accountID string) (role string, err error)
	EnterprisesOf(ctx context.Context, accountID string) ([]enterprises.Summary, error)
	Members(ctx context.Context, eid string) ([]enterprises.MemberView, error)
	PendingLetters(ctx context.Context, limit int) ([]enterprises.ReviewItem, error)
}

// Files reads stored documents by their SHA-256.
type Files interface {
	Get(ctx context.Context, sha256 string) ([]byte, blob.Ref, error)
}

// PlatformRoles says whether an account holds a role of the platform's own
// staff (not of an enterprise).
type PlatformRoles interface {
	HasPlatformRole(ctx context.Context, accountID, role string) (bool, error)
}

// PlatformOperator is the platform role that reviews authorization letters.
const PlatformOperator = "operator"

// Deps are what the read endpoints need.
type Deps struct {
	Profiles Profiles
	// Enterprises, when set, mounts the enterprise routes.
	Enterprises Enterprises
	// PlatformRoles, when set with Enterprises, mounts the letter review queue.
	PlatformRoles PlatformRoles
	// Files, when set with Enterprises and PlatformRoles, serves a case's
	// documents (licence, letters) to its administrators and to operators.
	Files  Files
	Waiter Waiter
	// Head is the event log's last position: a Signet-Wait-For beyond it
	// names a write that never happened and is refused at once.
	Head   func(ctx context.Context) (uint64, error)
	Verify web.VerifyFunc
	// WaitBound caps how long a read waits for projections (default 5 s).
	WaitBound time.Duration

	// Contracts, when set, mounts the contract, approval and template routes.
	// It needs Enterprises and LoginKeys (who the caller is to a contract);
	// Templates mounts the template routes, Files the document downloads.
	Contracts ContractReader
	// Templates reads templates (projections/templates.Reader).
	Templates TemplateReader
	// LoginKeys finds the caller's login key (projections/accounts.Reader),
	// by which contracts recognise their parties.
	LoginKeys LoginKeys
	// Seals, when set, mounts the seal and signature-image routes.
	Seals SealReader
	// History, when set with PlatformRoles, mounts the auditors' routes:
	// a stream's state as of a moment and its events, from the event store.
	History History
	// Batches, when set, mounts the batch sending routes; it needs
	// Enterprises, Files and Templates.
	Batches BatchReader
	// Boxes, when set, mounts the contract lists, counters, folders and
	// tags; it needs Enterprises and LoginKeys.
	Boxes BoxReader
	// Search, when set, mounts the contract search, its export and the
	// audit trail; it needs Enterprises, LoginKeys and PlatformRoles.
	Search *Search
}

type api struct{ Deps }

// Register mounts the query endpoints on r.
func Register(r *mux.Router, d Deps) {
	if d.WaitBound <= 0 {
		d.WaitBound = 5 * time.Second
	}
	a := &api{d}
	authed := web.RequireAuth(d.Verify)
	r.Handle("/api/v1/me", authed(http.HandlerFunc(a.me))).Methods(http.MethodGet)
	if d.Enterprises != nil {
		r.Handle("/api/v1/me/enterprises", authed(http.HandlerFunc(a.myEnterprises))).Methods(http.MethodGet)
		r.Handle("/api/v1/enterprises/{id}", authed(http.HandlerFunc(a.enterprise))).Methods(http.MethodGet)
		r.Handle("/api/v1/enterprises/{id}/members", authed(http.HandlerFunc(a.members))).Methods(http.MethodGet)
		if d.PlatformRoles != nil {
			r.Handle("/api/v1/reviews/authorization-letters", authed(http.HandlerFunc(a.pendingLetters))).Methods(http.MethodGet)
			if d.Files != nil {
				r.Handle("/api/v1/enterprises/{id}/files/{sha256}", authed(http.HandlerFunc(a.caseFile))).Methods(http.MethodGet)
			}
		}
	}
	if d.Boxes != nil {
		a.registerBoxes(r)
	}
	if d.Search != nil {
		a.registerSearch(r) // before the contract routes: /contracts/export is no contract ID
	}
	if d.Contracts != nil {
		a.registerContracts(r)
	}
	if d.Seals != nil {
		a.registerSeals(r)
	}
	if d.History != nil && d.PlatformRoles != nil {
		a.registerAudit(r)
	}
	if d.Batches != nil {
		a.registerBatches(r)
	}
}

// catchUp waits until the named projections reflect both the caller's token
// and the client's Signet-Wait-For header.
func (a *api) catchUp(r *http.Request, projections ...string) error {
	var pos uint64
	if h := strings.TrimSpace(r.Header.Get(WaitForHeader)); h != "" {
		p, err := strconv.ParseUint(h, 10, 64)
		if err != nil {
			return fault.Invalidf(WaitForHeader, "invalid_wait_for", "Header %s must be a global position (a non-negative integer) as returned in Signet-Position.", WaitForHeader)
		}
		head, err := a.Head(r.Context())
		if err != nil {
			return unavailable(err)
		}
		if p > head {
			return fault.Invalidf(WaitForHeader, "unknown_position", "Position %d has not been written (the log ends at %d); send a position from a Signet-Position header.", p, head)
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
	ok, err := a.Waiter.WaitFor(ctx, pos, projections...)
	if err != nil && ctx.Err() == nil {
		return unavailable(err)
	}
	if !ok {
		return fault.New(fault.Unavailable, "projection_lag",
			"The read models have not caught up with position "+strconv.FormatUint(pos, 10)+" yet; try again shortly.").Retry(time.Second)
	}
	return nil
}

func (a *api) me(w http.ResponseWriter, r *http.Request) {
	if err := a.catchUp(r, accounts.Name); err != nil {
		web.WriteError(w, r, err)
		return
	}
	p, _ := web.Caller(r.Context())
	profile, err := a.Profiles.Profile(r.Context(), p.AccountID)
	if err != nil {
		web.WriteError(w, r, unavailable(err))
		return
	}
	w.Header().Set("Cache-Control", "private, no-store")
	web.WriteJSON(w, http.StatusOK, profile)
}

// unavailable passes refusals through and turns read-model failures into a
// 503 that keeps the cause for the log.
func unavailable(err error) error {
	if _, ok := fault.As(err); ok {
		return err
	}
	return fmt.Errorf("%w: %w", errReadModel, err)
}

var errReadModel = fault.New(fault.Unavailable, "read_model_unavailable", "The read models cannot be reached right now; try again shortly.").Retry(time.Second)

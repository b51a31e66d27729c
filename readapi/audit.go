package readapi

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"signet/domain/event"
	"signet/domain/fault"
	"signet/infra/web"
	"signet/projections/accounts"
	"signet/projections/replay"
)

// History reads event streams from the event store itself: auditors replay
// history, which no read model keeps (eventstore.Store implements it).
type History interface {
	ReadStream(ctx context.Context, stream string, from uint64, dir event.Direction, limit int) ([]event.Envelope, error)
}

// PlatformAuditor is the platform role that reads event history.
const PlatformAuditor = "auditor"

// Paging of a stream's events.
const (
	defaultEventsLimit = 100
	maxEventsLimit     = 1000
)

var (
	errNotAuditor     = fault.New(fault.Forbidden, "not_an_auditor", "Only the platform's auditors may read event history.")
	errHistoryDown    = fault.New(fault.Unavailable, "event_store_unavailable", "The event store cannot be reached right now; try again shortly.").Retry(time.Second)
	errBothPoints     = fault.Invalidf("as_of", "invalid_point", "Give as_of or version, not both.")
	errInvalidAsOf    = fault.Invalidf("as_of", "invalid_as_of", "as_of is a moment in RFC 3339, e.g. 2026-11-30T10:00:00+08:00.")
	errInvalidVersion = fault.Invalidf("version", "invalid_version", "version is a whole number of events from 1.")
	errInvalidAfter   = fault.Invalidf("after", "invalid_after", "after is the version of the last event already read (0 for none).")
	errInvalidLimit   = fault.Invalidf("limit", "invalid_limit", "limit is a whole number from 1 to 1000.")
)

func (a *api) registerAudit(r *mux.Router) {
	authed := web.RequireAuth(a.Verify)
	r.Handle("/api/v1/audit/streams/{stream}/state", authed(http.HandlerFunc(a.streamState))).Methods(http.MethodGet)
	r.Handle("/api/v1/audit/streams/{stream}/events", authed(http.HandlerFunc(a.streamEvents))).Methods(http.MethodGet)
}

// auditor refuses callers without the platform's auditor role.
func (a *api) auditor(r *http.Request) error {
	// Roles live in the accounts read model: a grant the client waits for is seen.
	if err := a.catchUp(r, accounts.Name); err != nil {
		return err
	}
	p, _ := web.Caller(r.Context())
	ok, err := a.PlatformRoles.HasPlatformRole(r.Context(), p.AccountID, PlatformAuditor)
	if err != nil {
		return unavailable(err)
	}
	if !ok {
		return errNotAuditor
	}
	return nil
}

// historyErr passes refusals through; anything else is the store failing.
func historyErr(err error) error {
	if _, ok := fault.As(err); ok || errors.Is(err, context.Canceled) {
		return err
	}
	return errors.Join(errHistoryDown, err)
}

func auditAnswer(w http.ResponseWriter, r *http.Request, v any, err error) {
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "private, no-store")
	web.WriteJSON(w, http.StatusOK, v)
}

// parsePoint reads as_of or version.
func parsePoint(q map[string][]string) (replay.Point, error) {
	var p replay.Point
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return strings.TrimSpace(v[0])
		}
		return ""
	}
	asOf, version := get("as_of"), get("version")
	if asOf != "" && version != "" {
		return p, errBothPoints
	}
	if asOf != "" {
		t, err := time.Parse(time.RFC3339, asOf)
		if err != nil {
			return p, errInvalidAsOf
		}
		p.AsOf = t
	}
	if version != "" {
		n, err := strconv.ParseUint(version, 10, 64)
		if err != nil || n == 0 || strconv.FormatUint(n, 10) != version {
			return p, errInvalidVersion
		}
		p.Version = n
	}
	return p, nil
}

// streamState is a stream's aggregate as of a moment (or version), with
// the events that led there.
func (a *api) streamState(w http.ResponseWriter, r *http.Request) {
	if err := a.auditor(r); err != nil {
		auditAnswer(w, r, nil, err)
		return
	}
	p, err := parsePoint(r.URL.Query())
	if err != nil {
		auditAnswer(w, r, nil, err)
		return
	}
	v, err := replay.Replay(r.Context(), a.History, mux.Vars(r)["stream"], p)
	if err != nil {
		auditAnswer(w, r, nil, historyErr(err))
		return
	}
	auditAnswer(w, r, v, nil)
}

// EventsPage is a page of a stream's events.
type EventsPage struct {
	Stream string         `json:"stream"`
	Events []replay.Entry `json:"events"`
	// NextAfter is the after of the next page; absent on the last page.
	NextAfter *uint64 `json:"next_after,omitempty"`
}

// streamEvents pages through a stream's events, oldest first.
func (a *api) streamEvents(w http.ResponseWriter, r *http.Request) {
	if err := a.auditor(r); err != nil {
		auditAnswer(w, r, nil, err)
		return
	}
	stream := mux.Vars(r)["stream"]
	if err := replay.CheckStream(stream); err != nil {
		auditAnswer(w, r, nil, err)
		return
	}
	q := r.URL.Query()
	after, limit := uint64(0), defaultEventsLimit
	if s := q.Get("after"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil || strconv.FormatUint(n, 10) != s {
			auditAnswer(w, r, nil, errInvalidAfter)
			return
		}
		after = n
	}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxEventsLimit || strconv.Itoa(n) != s {
			auditAnswer(w, r, nil, errInvalidLimit)
			return
		}
		limit = n
	}
	page := EventsPage{Stream: stream, Events: []replay.Entry{}}
	if after < 1<<63-1 {
		// One more than asked tells whether another page follows.
		envs, err := a.History.ReadStream(r.Context(), stream, after+1, event.Forwards, limit+1)
		if errors.Is(err, event.ErrNotFound) {
			err = replay.ErrStreamNotFound
		}
		if err != nil {
			auditAnswer(w, r, nil, historyErr(err))
			return
		}
		if len(envs) > limit {
			envs = envs[:limit]
			next := envs[limit-1].Version
			page.NextAfter = &next
		}
		page.Events = replay.Entries(envs)
	}
	auditAnswer(w, r, page, nil)
}

package boxes

import (
	"context"
	"encoding/base64"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"signet/domain/fault"
	"signet/infra/redisdb"
	"signet/projections"
	"signet/projections/contracts"
	"signet/projections/principal"
)

// Boxes and views a list may show.
const (
	BoxArchive = "archive"
	BoxTrash   = "trash"

	ViewToSign       = "to_sign"
	ViewDeadlineSoon = "deadline_soon"
	ViewExpiringSoon = "expiring_soon"
	ViewApprovals    = "approvals"
)

// Orders of a list.
const (
	SortSentDesc    = "sent_desc"
	SortSentAsc     = "sent_asc"
	SortDeadlineAsc = "deadline_asc"
	SortExpiresAsc  = "expires_asc"
)

// Bounds of queries.
const (
	DefaultLimit = 20
	MaxLimit     = 100
	DefaultDays  = 7
	MaxDays      = 366
	// scanBudget bounds how many contracts one page looks at: a filtered
	// list (a folder, a tag, the archive) may answer fewer items than asked,
	// with a cursor to go on from.
	scanBudget = 2000
)

// Query asks for one page of a list.
type Query struct {
	Box        string // all (default), out, in, archive, trash
	View       string // "", to_sign, deadline_soon, expiring_soon, approvals
	Days       int    // deadline_soon and expiring_soon: within this many days (default 7)
	Folder     string // one of the caller's folders
	Tag        string // one of Enterprise's tags
	Enterprise string // only what the caller sees of this enterprise
	Sort       string // sent_desc (default), sent_asc, deadline_asc, expires_asc
	After      string // cursor from the previous page
	Limit      int    // 1..100, default 20
}

// Page is one page of a list; Next continues it ("" at the end).
type Page struct {
	Items []Item `json:"items"`
	Next  string `json:"next,omitempty"`
}

// Counts are the caller's exact counters.
type Counts struct {
	All          int64 `json:"all"`
	Out          int64 `json:"out"`
	In           int64 `json:"in"`
	ToSign       int64 `json:"to_sign"`
	DeadlineSoon int64 `json:"deadline_soon"`
	ExpiringSoon int64 `json:"expiring_soon"`
	Approvals    int64 `json:"approvals"`
	Archive      int64 `json:"archive"`
	Trash        int64 `json:"trash"`
	Days         int   `json:"days"`
}

// Folder is one of an account's folders.
type Folder struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Tag is one of an enterprise's tags.
type Tag struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Color string `json:"color,omitempty"`
}

var (
	errFolderNotFound = fault.New(fault.NotFound, "folder_not_found", "There is no such folder on your desk.")
	errTagNotFound    = fault.New(fault.NotFound, "tag_not_found", "The enterprise has no such tag.")
	errNotMember      = fault.New(fault.Forbidden, "not_enterprise_member", "You are not a member of this enterprise.")
)

// Reader answers list queries from Redis.
type Reader struct {
	DB  *redisdb.DB
	Now func() time.Time // default time.Now
}

func (r Reader) key(parts ...string) string { return projections.Key(r.DB, Name, parts...) }

func (r Reader) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// approvalsKey is the contracts read model's list of contracts waiting for
// an approver.
func (r Reader) approvalsKey(aid string) string {
	return projections.Key(r.DB, contracts.Name, "approvals", aid)
}

// plan is what a caller reads: principals in groups whose lists never hold
// the same contract twice (an enterprise's sending and receiving sides),
// and the enterprises whose tags they see.
type plan struct {
	aid    string
	groups [][]string
	tagsOf []string // enterprise IDs
}

// Acted lists the enterprises the account sent or signed for (member or
// not any more): principal.Caller.Acted, for readers other than the lists.
func (r Reader) Acted(ctx context.Context, accountID string) ([]string, error) {
	if !projections.ValidID(accountID) {
		return nil, nil
	}
	acted, err := r.DB.SMembers(ctx, r.key(actedKey(accountID))).Result()
	if err != nil {
		return nil, fmt.Errorf("read enterprises acted for: %w", err)
	}
	slices.Sort(acted)
	return slices.DeleteFunc(acted, func(eid string) bool { return !projections.ValidID(eid) }), nil
}

// planFor builds the caller's plan, narrowed to one enterprise when asked.
func (r Reader) planFor(ctx context.Context, c principal.Caller, enterprise string) (plan, error) {
	if !projections.ValidID(c.AccountID) {
		return plan{}, fmt.Errorf("boxes: caller without a usable account ID")
	}
	acted, err := r.Acted(ctx, c.AccountID)
	if err != nil {
		return plan{}, err
	}
	c.Acted = acted
	c.Memberships = slices.DeleteFunc(slices.Clone(c.Memberships), func(m principal.Membership) bool { return !projections.ValidID(m.EnterpriseID) })
	groups, ok := principal.Groups(c, enterprise)
	if !ok {
		return plan{}, errNotMember
	}
	p := plan{aid: c.AccountID, groups: groups}
	for _, m := range c.Memberships {
		if m.Verified && m.Role != "" && (enterprise == "" || enterprise == m.EnterpriseID) {
			p.tagsOf = append(p.tagsOf, m.EnterpriseID)
		}
	}
	return p, nil
}

// keys maps the plan's groups through a key function.
func (r Reader) keys(p plan, f func(string) string) [][]string {
	out := make([][]string, len(p.groups))
	for i, g := range p.groups {
		for _, pr := range g {
			out[i] = append(out[i], r.key(f(pr)))
		}
	}
	return out
}

// source is an ordered list read by merging sorted sets: the contracts in
// any of keys with scores in [lo, hi], minus those in any of hide, and
// (when require is set) only those also in one of require.
type source struct {
	keys    []string
	desc    bool
	lo, hi  float64
	hide    []string
	require []string
}

func (r Reader) checkQuery(q *Query) error {
	if q.Box == "" {
		q.Box = BoxAll
	}
	switch q.Box {
	case BoxAll, BoxOut, BoxIn, BoxArchive, BoxTrash:
	default:
		return fault.Invalidf("box", "invalid_box", "box is all, out, in, archive or trash.")
	}
	switch q.View {
	case "", ViewToSign, ViewDeadlineSoon, ViewExpiringSoon, ViewApprovals:
	default:
		return fault.Invalidf("view", "invalid_view", "view is to_sign, deadline_soon, expiring_soon or approvals.")
	}
	if q.Limit == 0 {
		q.Limit = DefaultLimit
	}
	if q.Limit < 1 || q.Limit > MaxLimit {
		return fault.Invalidf("limit", "invalid_limit", "limit is between 1 and %d.", MaxLimit)
	}
	if q.Days == 0 {
		q.Days = DefaultDays
	}
	if q.Days < 1 || q.Days > MaxDays {
		return fault.Invalidf("days", "invalid_days", "days is between 1 and %d.", MaxDays)
	}
	for field, id := range map[string]string{"folder": q.Folder, "tag": q.Tag, "enterprise": q.Enterprise} {
		if id != "" && !projections.ValidID(id) {
			return fault.Invalidf(field, "invalid_"+field, "%s is an ID (letters, digits, '-' and '_').", field)
		}
	}
	if q.Tag != "" && q.Enterprise == "" {
		return fault.Invalidf("tag", "tag_needs_enterprise", "A tag belongs to an enterprise: give enterprise with tag.")
	}
	filtered := q.Folder != "" || q.Tag != ""
	if q.View != "" && (filtered || (q.Box != BoxAll && !(q.View == ViewDeadlineSoon && (q.Box == BoxOut || q.Box == BoxIn)))) {
		return fault.Invalidf("view", "invalid_view", "A quick view lists all contracts (deadline_soon also out or in), without folder or tag.")
	}
	if filtered && (q.Box == BoxArchive || q.Box == BoxTrash) {
		return fault.Invalidf("box", "invalid_box", "The archive and the recycle bin are not filtered by folder or tag.")
	}
	native := SortSentDesc
	allowed := []string{SortSentDesc, SortSentAsc}
	switch {
	case q.View == ViewDeadlineSoon:
		native, allowed = SortDeadlineAsc, []string{SortDeadlineAsc}
	case q.View == ViewExpiringSoon:
		native, allowed = SortExpiresAsc, []string{SortExpiresAsc}
	case q.View == "" && !filtered && q.Box != BoxArchive && q.Box != BoxTrash:
		allowed = append(allowed, SortDeadlineAsc)
	}
	if q.Sort == "" {
		q.Sort = native
	}
	if !slices.Contains(allowed, q.Sort) {
		return fault.Invalidf("sort", "invalid_sort", "This list sorts by %s.", strings.Join(allowed, " or "))
	}
	return nil
}

// List answers one page of the caller's list.
func (r Reader) List(ctx context.Context, c principal.Caller, q Query) (Page, error) {
	if err := r.checkQuery(&q); err != nil {
		return Page{}, err
	}
	var after *position
	if q.After != "" {
		pos, err := ParseCursor(q.After)
		if err != nil {
			return Page{}, err
		}
		after = &pos
	}
	p, err := r.planFor(ctx, c, q.Enterprise)
	if err != nil {
		return Page{}, err
	}
	src, err := r.sourceFor(ctx, p, q)
	if err != nil {
		return Page{}, err
	}
	ids, next, err := r.scan(ctx, src, after, q.Limit)
	if err != nil {
		return Page{}, err
	}
	items, err := r.items(ctx, p, ids)
	if err != nil {
		return Page{}, err
	}
	return Page{Items: items, Next: next}, nil
}

func (r Reader) hidden(aid string, which ...string) []string {
	out := make([]string, len(which))
	for i, w := range which {
		out[i] = r.key(orgKey(aid, w))
	}
	return out
}

func (r Reader) sourceFor(ctx context.Context, p plan, q Query) (source, error) {
	inf := math.Inf(1)
	src := source{desc: q.Sort == SortSentDesc, lo: -inf, hi: inf}
	flat := func(f func(string) string) []string { return slices.Concat(r.keys(p, f)...) }
	boxOf := func(box string) func(string) string { return func(pr string) string { return boxKey(pr, box) } }
	allHidden := r.hidden(p.aid, OrgArchived, OrgTrash, OrgDeleted)
	now := r.now()
	soon := now.Add(time.Duration(q.Days) * 24 * time.Hour)
	switch {
	case q.Box == BoxArchive:
		src.keys = []string{r.key(orgKey(p.aid, OrgArchived))}
		src.hide, src.require = r.hidden(p.aid, OrgTrash, OrgDeleted), flat(boxOf(BoxAll))
	case q.Box == BoxTrash:
		src.keys = []string{r.key(orgKey(p.aid, OrgTrash))}
		src.hide, src.require = r.hidden(p.aid, OrgDeleted), flat(boxOf(BoxAll))
	case q.Folder != "":
		ok, err := r.DB.HExists(ctx, r.key(foldersKey(p.aid)), q.Folder).Result()
		if err != nil {
			return src, fmt.Errorf("read folders of %s: %w", p.aid, err)
		}
		if !ok {
			return src, errFolderNotFound
		}
		src.keys = []string{r.key(folderKey(p.aid, q.Folder))}
		src.hide, src.require = r.hidden(p.aid, OrgTrash, OrgDeleted), flat(boxOf(q.Box))
	case q.Tag != "":
		ok, err := r.DB.HExists(ctx, r.key(tagsKey(q.Enterprise)), q.Tag).Result()
		if err != nil {
			return src, fmt.Errorf("read tags of %s: %w", q.Enterprise, err)
		}
		if !ok {
			return src, errTagNotFound
		}
		src.keys = []string{r.key(tagKey(q.Enterprise, q.Tag))}
		src.hide, src.require = r.hidden(p.aid, OrgTrash, OrgDeleted), flat(boxOf(q.Box))
	case q.View == ViewToSign:
		src.keys, src.hide = flat(toSignKey), allHidden
	case q.View == ViewApprovals:
		src.keys, src.hide = []string{r.approvalsKey(p.aid)}, allHidden
	case q.View == ViewDeadlineSoon:
		src.keys, src.hide = flat(func(pr string) string { return deadlineKey(pr, q.Box) }), allHidden
		src.lo, src.hi = ms(now), ms(soon)
	case q.View == ViewExpiringSoon:
		src.keys, src.hide = flat(expiringKey), allHidden
		src.lo, src.hi = ms(now), ms(soon)
	case q.Sort == SortDeadlineAsc:
		src.keys, src.hide = flat(func(pr string) string { return deadlineKey(pr, q.Box) }), allHidden
	default:
		src.keys, src.hide = flat(boxOf(q.Box)), allHidden
	}
	return src, nil
}

// position is a place in a list: a score and the contract ID there.
type position struct {
	score float64
	id    string
}

// before reports whether a comes before b in the list's order. Redis
// orders equal scores by member, backwards when reversed.
func before(a, b position, desc bool) bool {
	if a.score != b.score {
		return (a.score < b.score) != desc
	}
	if a.id == b.id {
		return false
	}
	return (a.id < b.id) != desc
}

// Cursor writes a position for the client.
func Cursor(score float64, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatFloat(score, 'f', -1, 64) + "~" + id))
}

var errBadCursor = fault.Invalidf("after", "invalid_cursor", "after is the next cursor of the previous page, as it was given.")

// ParseCursor reads a cursor made by Cursor.
func ParseCursor(s string) (position, error) {
	if len(s) > 200 {
		return position{}, errBadCursor
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return position{}, errBadCursor
	}
	score, id, ok := strings.Cut(string(raw), "~")
	if !ok || !projections.ValidID(id) {
		return position{}, errBadCursor
	}
	f, err := strconv.ParseFloat(score, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return position{}, errBadCursor
	}
	return position{f, id}, nil
}

// run is one sorted set being read in order.
type run struct {
	key  string
	buf  []position
	done bool
	last *position // the last position read from Redis
}

const chunk = 64

func bound(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "+inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// fill reads the next chunk of every run that ran dry, in one round trip.
func (r Reader) fill(ctx context.Context, runs []*run, src source) error {
	type pending struct {
		run    *run
		from   *position
		offset int64
		cmd    *redis.ZSliceCmd
	}
	var todo []*pending
	for _, rn := range runs {
		if !rn.done && len(rn.buf) == 0 {
			todo = append(todo, &pending{run: rn, from: rn.last})
		}
	}
	for len(todo) > 0 {
		pipe := r.DB.Pipeline()
		for _, t := range todo {
			lo, hi := src.lo, src.hi
			if t.from != nil {
				if src.desc {
					hi = math.Min(hi, t.from.score)
				} else {
					lo = math.Max(lo, t.from.score)
				}
			}
			start, stop := bound(lo), bound(hi)
			if src.desc {
				start, stop = stop, start
			}
			t.cmd = pipe.ZRangeArgsWithScores(ctx, redis.ZRangeArgs{Key: t.run.key, Start: start, Stop: stop, ByScore: true, Rev: src.desc, Offset: t.offset, Count: chunk})
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return fmt.Errorf("read list: %w", err)
		}
		var again []*pending
		for _, t := range todo {
			zs := t.cmd.Val()
			for _, z := range zs {
				id, _ := z.Member.(string)
				pos := position{z.Score, id}
				if t.from != nil && !before(*t.from, pos, src.desc) {
					continue // at or before where this run stopped: ties read again
				}
				t.run.buf = append(t.run.buf, pos)
			}
			if len(zs) < chunk {
				t.run.done = true
			} else if len(t.run.buf) == 0 {
				t.offset += chunk // a run of ties: read further
				again = append(again, t)
				continue
			}
			if n := len(t.run.buf); n > 0 {
				l := t.run.buf[n-1]
				t.run.last = &l
			}
		}
		todo = again
	}
	return nil
}

// scan reads up to limit contract IDs of src after the cursor, merging its
// sets (a contract in several is listed once: every set scores it alike).
func (r Reader) scan(ctx context.Context, src source, after *position, limit int) ([]string, string, error) {
	runs := make([]*run, len(src.keys))
	for i, k := range src.keys {
		runs[i] = &run{key: k, last: after}
	}
	var ids []string
	var last *position
	seen := 0
	for len(ids) < limit && seen < scanBudget {
		if err := r.fill(ctx, runs, src); err != nil {
			return nil, "", err
		}
		// Candidates: the merge up to the first run that needs refilling.
		var cands []position
		for len(cands) < 2*limit+8 {
			var best *run
			for _, rn := range runs {
				if len(rn.buf) > 0 && (best == nil || before(rn.buf[0], best.buf[0], src.desc)) {
					best = rn
				}
			}
			if best == nil {
				break
			}
			head := best.buf[0]
			for _, rn := range runs {
				if len(rn.buf) > 0 && rn.buf[0] == head {
					rn.buf = rn.buf[1:]
				}
			}
			cands = append(cands, head)
			if len(best.buf) == 0 && !best.done {
				break
			}
			if slices.ContainsFunc(runs, func(rn *run) bool { return len(rn.buf) == 0 && !rn.done }) {
				break
			}
		}
		if len(cands) == 0 {
			return ids, "", nil
		}
		keep, err := r.filter(ctx, src, cands)
		if err != nil {
			return nil, "", err
		}
		for i, c := range cands {
			seen++
			l := c
			last = &l
			if keep[i] {
				ids = append(ids, c.id)
				if len(ids) == limit {
					break
				}
			}
		}
	}
	if last == nil {
		return ids, "", nil
	}
	return ids, Cursor(last.score, last.id), nil
}

// filter says which candidates pass src's hide and require sets.
func (r Reader) filter(ctx context.Context, src source, cands []position) ([]bool, error) {
	keep := make([]bool, len(cands))
	for i := range keep {
		keep[i] = true
	}
	if len(src.hide)+len(src.require) == 0 {
		return keep, nil
	}
	members := make([]string, len(cands))
	for i, c := range cands {
		members[i] = c.id
	}
	pipe := r.DB.Pipeline()
	hide := make([]*redis.Cmd, len(src.hide))
	for i, k := range src.hide {
		hide[i] = zmscore(ctx, pipe, k, members)
	}
	req := make([]*redis.Cmd, len(src.require))
	for i, k := range src.require {
		req[i] = zmscore(ctx, pipe, k, members)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("filter list: %w", err)
	}
	for _, c := range hide {
		for i, s := range scores(c) {
			if s != nil {
				keep[i] = false
			}
		}
	}
	if len(req) > 0 {
		found := make([]bool, len(cands))
		for _, c := range req {
			for i, s := range scores(c) {
				found[i] = found[i] || s != nil
			}
		}
		for i := range keep {
			keep[i] = keep[i] && found[i]
		}
	}
	return keep, nil
}

// zmscore queues ZMSCORE as a raw command: go-redis' ZMScore reads an
// absent member as score 0, this keeps it nil.
func zmscore(ctx context.Context, pipe redis.Pipeliner, key string, members []string) *redis.Cmd {
	args := make([]any, 0, len(members)+2)
	args = append(args, "ZMSCORE", key)
	for _, m := range members {
		args = append(args, m)
	}
	return pipe.Do(ctx, args...)
}

// scores reads a ZMSCORE reply: nil for absent members.
func scores(c *redis.Cmd) []*float64 {
	vals, _ := c.Slice()
	out := make([]*float64, len(vals))
	for i, v := range vals {
		var f float64
		switch v := v.(type) {
		case string:
			var err error
			if f, err = strconv.ParseFloat(v, 64); err != nil {
				continue
			}
		case float64:
			f = v
		case int64:
			f = float64(v)
		default:
			continue
		}
		out[i] = &f
	}
	return out
}

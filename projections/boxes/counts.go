package boxes

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"

	"signet/projections"
	"signet/projections/principal"
)

// counter is one exact count: contracts in any of groups' sets with a
// score in [lo, hi], minus the caller's hidden ones. Sets of one group
// never share a contract; sets of different groups may.
type counter struct {
	dst    *int64
	groups [][]string
	lo, hi float64
}

func (c counter) keys() []string { return slices.Concat(c.groups...) }

func inRange(s *float64, lo, hi float64) bool { return s != nil && *s >= lo && *s <= hi }

// Counts answers the caller's counters; days bounds deadline_soon and
// expiring_soon (0: DefaultDays). With enterprise, only what the caller
// sees of that enterprise is counted (approvals, the archive and the bin
// stay the caller's own).
func (r Reader) Counts(ctx context.Context, c principal.Caller, days int, enterprise string) (Counts, error) {
	q := Query{Days: days, Enterprise: enterprise}
	if err := r.checkQuery(&q); err != nil {
		return Counts{}, err
	}
	p, err := r.planFor(ctx, c, enterprise)
	if err != nil {
		return Counts{}, err
	}
	out := Counts{Days: q.Days}
	inf := math.Inf(1)
	now := r.now()
	lo, hi := ms(now), ms(now.Add(time.Duration(q.Days)*24*time.Hour))
	box := func(b string) [][]string { return r.keys(p, func(pr string) string { return boxKey(pr, b) }) }
	counters := []counter{
		{&out.All, box(BoxAll), -inf, inf},
		{&out.Out, box(BoxOut), -inf, inf},
		{&out.In, box(BoxIn), -inf, inf},
		{&out.ToSign, r.keys(p, toSignKey), -inf, inf},
		{&out.DeadlineSoon, r.keys(p, func(pr string) string { return deadlineKey(pr, BoxAll) }), lo, hi},
		{&out.ExpiringSoon, r.keys(p, expiringKey), lo, hi},
		{&out.Approvals, [][]string{{r.approvalsKey(p.aid)}}, -inf, inf},
	}

	// 1. Every set's count in range, and the caller's hidden contracts.
	pipe := r.DB.Pipeline()
	zc := make([][]*redis.IntCmd, len(counters))
	for i, ct := range counters {
		for _, k := range ct.keys() {
			zc[i] = append(zc[i], pipe.ZCount(ctx, k, bound(ct.lo), bound(ct.hi)))
		}
	}
	archivedCmd := pipe.ZRange(ctx, r.key(orgKey(p.aid, OrgArchived)), 0, -1)
	trashCmd := pipe.ZRange(ctx, r.key(orgKey(p.aid, OrgTrash)), 0, -1)
	deletedCmd := pipe.ZRange(ctx, r.key(orgKey(p.aid, OrgDeleted)), 0, -1)
	if _, err := pipe.Exec(ctx); err != nil {
		return Counts{}, fmt.Errorf("count lists: %w", err)
	}

	// 2. The group with most contracts counts by its sets' sizes; the
	// others' contracts are read and counted when no earlier group has them.
	type probe struct {
		ct      int
		members *redis.StringSliceCmd
		prev    []string
	}
	var probes []*probe
	pipe = r.DB.Pipeline()
	for i, ct := range counters {
		n := 0
		sizes := make([]int64, len(ct.groups))
		for g, grp := range ct.groups {
			for range grp {
				sizes[g] += zc[i][n].Val()
				n++
			}
		}
		order := make([]int, len(ct.groups))
		for g := range order {
			order[g] = g
		}
		slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(sizes[b], sizes[a]) })
		if len(order) == 0 {
			continue
		}
		*ct.dst = sizes[order[0]]
		var prev []string
		for pos, g := range order {
			if pos > 0 && sizes[g] > 0 {
				for _, k := range ct.groups[g] {
					probes = append(probes, &probe{ct: i, prev: slices.Clone(prev),
						members: pipe.ZRangeArgs(ctx, redis.ZRangeArgs{Key: k, Start: bound(ct.lo), Stop: bound(ct.hi), ByScore: true})})
				}
			}
			if sizes[g] > 0 {
				prev = append(prev, ct.groups[g]...)
			}
		}
	}
	if len(probes) > 0 {
		if _, err := pipe.Exec(ctx); err != nil {
			return Counts{}, fmt.Errorf("count lists: %w", err)
		}
		pipe = r.DB.Pipeline()
		checks := make([][]*redis.Cmd, len(probes))
		for i, pr := range probes {
			if ms := pr.members.Val(); len(ms) > 0 {
				for _, k := range pr.prev {
					checks[i] = append(checks[i], zmscore(ctx, pipe, k, ms))
				}
			}
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return Counts{}, fmt.Errorf("count lists: %w", err)
		}
		for i, pr := range probes {
			seen := make([]bool, len(pr.members.Val()))
			for _, c := range checks[i] {
				for j, s := range scores(c) {
					seen[j] = seen[j] || s != nil
				}
			}
			for _, s := range seen {
				if !s {
					*counters[pr.ct].dst++
				}
			}
		}
	}

	// 3. Hidden contracts (archived, in the bin, deleted for good) come off
	// every count they are in; the archive and the bin count those the
	// caller still sees.
	archived, trash := archivedCmd.Val(), trashCmd.Val()
	hidden := slices.Compact(slices.Sorted(slices.Values(slices.Concat(archived, trash, deletedCmd.Val()))))
	if len(hidden) == 0 {
		return out, nil
	}
	allKeys := slices.Concat(box(BoxAll)...)
	var distinct []string
	for _, ct := range counters {
		distinct = append(distinct, ct.keys()...)
	}
	distinct = slices.Compact(slices.Sorted(slices.Values(distinct)))
	pipe = r.DB.Pipeline()
	found := make(map[string]*redis.Cmd, len(distinct))
	for _, k := range distinct {
		found[k] = zmscore(ctx, pipe, k, hidden)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return Counts{}, fmt.Errorf("count hidden contracts: %w", err)
	}
	at := make(map[string][]*float64, len(found))
	for k, c := range found {
		at[k] = scores(c)
	}
	for _, ct := range counters {
		for j := range hidden {
			for _, k := range ct.keys() {
				if inRange(at[k][j], ct.lo, ct.hi) {
					*ct.dst--
					break
				}
			}
		}
	}
	visible := func(j int) bool {
		return slices.ContainsFunc(allKeys, func(k string) bool { return at[k][j] != nil })
	}
	inTrash := map[string]bool{}
	for _, id := range trash {
		inTrash[id] = true
	}
	for j, id := range hidden {
		if !visible(j) {
			continue
		}
		if inTrash[id] {
			out.Trash++
		} else if slices.Contains(archived, id) {
			out.Archive++
		}
	}
	return out, nil
}

// items reads the page's contracts with the caller's tags, folder and
// archive state.
func (r Reader) items(ctx context.Context, p plan, ids []string) ([]Item, error) {
	out := make([]Item, 0, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = r.key(itemKey(id))
	}
	pipe := r.DB.Pipeline()
	docs := pipe.MGet(ctx, keys...)
	filed := pipe.HMGet(ctx, r.key(filedKey(p.aid)), ids...)
	folders := pipe.HGetAll(ctx, r.key(foldersKey(p.aid)))
	archived := zmscore(ctx, pipe, r.key(orgKey(p.aid, OrgArchived)), ids)
	trashed := zmscore(ctx, pipe, r.key(orgKey(p.aid, OrgTrash)), ids)
	tagDefs := make([]*redis.MapStringStringCmd, len(p.tagsOf))
	onItems := make([][]*redis.StringSliceCmd, len(p.tagsOf))
	for e, eid := range p.tagsOf {
		tagDefs[e] = pipe.HGetAll(ctx, r.key(tagsKey(eid)))
		for _, id := range ids {
			onItems[e] = append(onItems[e], pipe.SMembers(ctx, r.key(contractTagsKey(eid, id))))
		}
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("read list items: %w", err)
	}
	fs, as, ts := filed.Val(), scores(archived), scores(trashed)
	for i, raw := range docs.Val() {
		s, ok := raw.(string)
		if !ok {
			continue // not projected yet: lists and items are written together, so only mid-rebuild
		}
		var it Item
		if err := json.Unmarshal([]byte(s), &it); err != nil {
			return nil, fmt.Errorf("list item %s: %w", ids[i], err)
		}
		it.Tags = []TagRef{}
		if fid, ok := fs[i].(string); ok {
			if name, ok := folders.Val()[fid]; ok {
				it.Folder = &FolderRef{ID: fid, Name: name}
			}
		}
		it.Archived, it.Trashed = as[i] != nil, ts[i] != nil
		for e, eid := range p.tagsOf {
			tids := onItems[e][i].Val()
			slices.Sort(tids)
			for _, tid := range tids {
				if def, ok := tagDefs[e].Val()[tid]; ok {
					var d tagDoc
					if json.Unmarshal([]byte(def), &d) == nil {
						it.Tags = append(it.Tags, TagRef{EnterpriseID: eid, ID: tid, Name: d.Name, Color: d.Color})
					}
				}
			}
		}
		out = append(out, it)
	}
	return out, nil
}

// Folders lists the account's folders by name.
func (r Reader) Folders(ctx context.Context, accountID string) ([]Folder, error) {
	out := []Folder{}
	if !projections.ValidID(accountID) {
		return out, nil
	}
	h, err := r.DB.HGetAll(ctx, r.key(foldersKey(accountID))).Result()
	if err != nil {
		return nil, fmt.Errorf("read folders of %s: %w", accountID, err)
	}
	for id, name := range h {
		out = append(out, Folder{ID: id, Name: name})
	}
	slices.SortFunc(out, func(a, b Folder) int { return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID)) })
	return out, nil
}

// Tags lists the enterprise's tags by name.
func (r Reader) Tags(ctx context.Context, enterpriseID string) ([]Tag, error) {
	out := []Tag{}
	if !projections.ValidID(enterpriseID) {
		return out, nil
	}
	h, err := r.DB.HGetAll(ctx, r.key(tagsKey(enterpriseID))).Result()
	if err != nil {
		return nil, fmt.Errorf("read tags of %s: %w", enterpriseID, err)
	}
	for id, doc := range h {
		var d tagDoc
		if err := json.Unmarshal([]byte(doc), &d); err != nil {
			return nil, fmt.Errorf("tag %s of %s: %w", id, enterpriseID, err)
		}
		out = append(out, Tag{ID: id, Name: d.Name, Color: d.Color})
	}
	slices.SortFunc(out, func(a, b Tag) int { return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID)) })
	return out, nil
}

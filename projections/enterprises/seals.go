package enterprises

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"

	"signet/domain/enterprise"
	"signet/projections"
)

// SealView is one seal of an enterprise.
type SealView struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Default    bool       `json:"default"`
	Disabled   bool       `json:"disabled"`
	File       SealFile   `json:"file"`
	Grants     []string   `json:"grants"` // members granted its use, sorted
	CreatedBy  string     `json:"created_by,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	DisabledAt *time.Time `json:"disabled_at,omitempty"`
}

// SealFile is a seal's stored image.
type SealFile struct {
	SHA256    string `json:"sha256"`
	Size      int64  `json:"size"`
	MediaType string `json:"media_type"`
}

// MayUse reports whether a member of the given role may sign with the
// seal: the domain's rule (enterprise.CanUseSeal) on the read model.
func (s SealView) MayUse(accountID, role string) bool {
	return !s.Disabled && enterprise.MayUseSeal(enterprise.Role(role), slices.Contains(s.Grants, accountID))
}

// ApprovalPolicyView says whether the enterprise's contracts need an
// approval before they are sent, and who may give it.
type ApprovalPolicyView struct {
	Required bool `json:"required"`
	// Approvers are the named approvers; when every one of them has left
	// the enterprise, its administrators (Fallback).
	Approvers []string   `json:"approvers"`
	Fallback  bool       `json:"fallback"`
	SetBy     string     `json:"set_by,omitempty"`
	SetAt     *time.Time `json:"set_at,omitempty"`
}

// Seals lists the enterprise's seals in the order they were made ([] for
// an unknown enterprise: callers check access first).
func (r Reader) Seals(ctx context.Context, eid string) ([]SealView, error) {
	out := []SealView{}
	if !projections.ValidID(eid) {
		return out, nil
	}
	pipe := r.DB.Pipeline()
	idsCmd := pipe.ZRange(ctx, r.key(sealsKey(eid)), 0, -1)
	membersCmd := pipe.HKeys(ctx, r.key(membersKey(eid)))
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("read seals of %s: %w", eid, err)
	}
	ids, members := idsCmd.Val(), membersCmd.Val()
	if len(ids) == 0 {
		return out, nil
	}
	pipe = r.DB.Pipeline()
	docs := make([]*redis.MapStringStringCmd, len(ids))
	for i, sid := range ids {
		docs[i] = pipe.HGetAll(ctx, r.key(sealKey(eid, sid)))
	}
	grants := make([]*redis.StringSliceCmd, 0, len(members))
	for _, aid := range members {
		if projections.ValidID(aid) {
			grants = append(grants, pipe.SMembers(ctx, r.key(grantsKey(eid, aid))))
		} else {
			grants = append(grants, nil)
		}
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("read seals of %s: %w", eid, err)
	}
	granted := map[string][]string{} // seal ID -> accounts
	for i, aid := range members {
		if grants[i] == nil {
			continue
		}
		for _, sid := range grants[i].Val() {
			granted[sid] = append(granted[sid], aid)
		}
	}
	for i, sid := range ids {
		h := hash(docs[i].Val())
		if h["id"] == "" {
			continue
		}
		g := append([]string{}, granted[sid]...)
		slices.Sort(g)
		out = append(out, SealView{ID: sid, Name: h["name"], Default: h.bool("default"), Disabled: h.bool("disabled"),
			File:   SealFile{SHA256: h["sha256"], Size: h.int("size"), MediaType: h["media_type"]},
			Grants: g, CreatedBy: h["created_by"], CreatedAt: h.time("created_at"), DisabledAt: h.timePtr("disabled_at")})
	}
	return out, nil
}

// ApprovalPolicy returns the enterprise's approval policy (none required
// for an unknown enterprise: callers check access first).
func (r Reader) ApprovalPolicy(ctx context.Context, eid string) (ApprovalPolicyView, error) {
	v := ApprovalPolicyView{Approvers: []string{}}
	if !projections.ValidID(eid) {
		return v, nil
	}
	pipe := r.DB.Pipeline()
	hc := pipe.HMGet(ctx, r.key(caseKey(eid)), "approval_required", "approval_set_by", "approval_set_at")
	ac := pipe.ZRange(ctx, r.key(approversKey(eid)), 0, -1)
	mc := pipe.HGetAll(ctx, r.key(membersKey(eid)))
	if _, err := pipe.Exec(ctx); err != nil {
		return v, fmt.Errorf("read approval policy of %s: %w", eid, err)
	}
	h := hashOf([]string{"required", "set_by", "set_at"}, hc.Val())
	v.Required, v.SetBy, v.SetAt = h.bool("required"), h["set_by"], h.timePtr("set_at")
	v.Approvers = append(v.Approvers, ac.Val()...)
	if v.Required && len(v.Approvers) == 0 {
		// As enterprise.ApprovalPolicy: the administrators approve.
		for aid, role := range mc.Val() {
			if role == string(enterprise.MasterAdmin) || role == string(enterprise.Admin) {
				v.Approvers = append(v.Approvers, aid)
			}
		}
		slices.Sort(v.Approvers)
		v.Fallback = true
	}
	return v, nil
}

// Seal returns one seal of the enterprise, or ErrSealNotFound.
func (r Reader) Seal(ctx context.Context, eid, sid string) (SealView, error) {
	seals, err := r.Seals(ctx, eid)
	if err != nil {
		return SealView{}, err
	}
	i := slices.IndexFunc(seals, func(s SealView) bool { return s.ID == sid })
	if i < 0 {
		return SealView{}, enterprise.ErrSealNotFound
	}
	return seals[i], nil
}

package templates

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"signet/domain/fault"
	"signet/domain/layout"
	"signet/infra/redisdb"
	"signet/projections"
)

// ErrNotFound: there is no template with this ID (or the ID cannot be one).
var ErrNotFound = fault.New(fault.NotFound, "template_not_found", "There is no such template; check the template ID.")

// Owner is whose template it is: an enterprise's (EnterpriseID set) or one
// account's.
type Owner struct {
	EnterpriseID string `json:"enterprise_id,omitempty"`
	AccountID    string `json:"account_id"` // the creator
}

// Summary is a template in a list.
type Summary struct {
	ID           string    `json:"id"`
	Name         string    `json:"name"`
	ContractType string    `json:"contract_type"`
	Sequential   bool      `json:"sequential"`
	Owner        Owner     `json:"owner"`
	CreatedBy    string    `json:"created_by"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
	Disabled     bool      `json:"disabled"`
	Version      uint64    `json:"version"` // of the template's stream
}

// TemplateView is a whole template: documents in the order they were
// added, roles by signing order, fields by document, page and placement.
type TemplateView struct {
	Summary
	Documents []layout.Document `json:"documents"`
	Roles     []layout.Role     `json:"roles"`
	Fields    []layout.Field    `json:"fields"`
}

// Reader answers template queries from Redis.
type Reader struct{ DB *redisdb.DB }

func (r Reader) key(parts ...string) string { return projections.Key(r.DB, Name, parts...) }

// Template returns the template, or ErrNotFound.
func (r Reader) Template(ctx context.Context, id string) (TemplateView, error) {
	if !projections.ValidID(id) {
		return TemplateView{}, ErrNotFound
	}
	h, err := r.DB.HGetAll(ctx, r.key(templateKey(id))).Result()
	if err != nil {
		return TemplateView{}, fmt.Errorf("read template %s: %w", id, err)
	}
	if h["id"] == "" {
		return TemplateView{}, ErrNotFound
	}
	v := TemplateView{Summary: summary(h), Documents: []layout.Document{}, Roles: []layout.Role{}, Fields: []layout.Field{}}
	var docs []storedDoc
	var roles []storedRole
	var fields []storedField
	for f, val := range h {
		var err error
		switch {
		case strings.HasPrefix(f, docPrefix):
			docs, err = appendJSON(docs, val)
		case strings.HasPrefix(f, rolePrefix):
			roles, err = appendJSON(roles, val)
		case strings.HasPrefix(f, fieldPrefix):
			fields, err = appendJSON(fields, val)
		}
		if err != nil {
			return TemplateView{}, fmt.Errorf("template %s field %s: %w", id, f, err)
		}
	}
	slices.SortFunc(docs, func(a, b storedDoc) int { return cmp.Or(cmp.Compare(a.Seq, b.Seq), cmp.Compare(a.ID, b.ID)) })
	slices.SortFunc(roles, func(a, b storedRole) int {
		return cmp.Or(cmp.Compare(a.Order, b.Order), cmp.Compare(a.Seq, b.Seq), cmp.Compare(a.ID, b.ID))
	})
	docRank := make(map[string]int, len(docs))
	for i, d := range docs {
		docRank[d.ID] = i
		v.Documents = append(v.Documents, d.Document)
	}
	for _, rl := range roles {
		v.Roles = append(v.Roles, rl.Role)
	}
	slices.SortFunc(fields, func(a, b storedField) int {
		return cmp.Or(cmp.Compare(docRank[a.DocumentID], docRank[b.DocumentID]), cmp.Compare(a.Page, b.Page),
			cmp.Compare(a.Seq, b.Seq), cmp.Compare(a.ID, b.ID))
	})
	for _, f := range fields {
		v.Fields = append(v.Fields, f.Field)
	}
	return v, nil
}

func appendJSON[T any](list []T, s string) ([]T, error) {
	var v T
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return list, err
	}
	return append(list, v), nil
}

// summaryFields are the hash fields a Summary is made of.
var summaryFields = []string{"id", "name", "contract_type", "sequential", "owner_enterprise", "owner_account",
	"created_by", "created_at", "updated_at", "disabled", "version"}

func summary(h map[string]string) Summary {
	s := Summary{ID: h["id"], Name: h["name"], ContractType: h["contract_type"], Sequential: h["sequential"] == "1",
		Owner:     Owner{EnterpriseID: h["owner_enterprise"], AccountID: h["owner_account"]},
		CreatedBy: h["created_by"], CreatedAt: projections.ParseTime(h["created_at"]), UpdatedAt: projections.ParseTime(h["updated_at"]),
		Disabled: h["disabled"] == "1"}
	s.Version, _ = strconv.ParseUint(h["version"], 10, 64)
	return s
}

// List returns up to limit templates of the given owners (OwnerOfEnterprise,
// OwnerOfAccount), newest first. Owners that cannot be keys have none.
func (r Reader) List(ctx context.Context, owners []string, limit int) ([]Summary, error) {
	out := []Summary{}
	if limit <= 0 {
		return out, nil
	}
	pipe := r.DB.Pipeline()
	var cmds []*redis.ZSliceCmd
	for _, o := range owners {
		kind, id, _ := strings.Cut(o, ":")
		if (kind != "enterprise" && kind != "account") || !projections.ValidID(id) {
			continue
		}
		cmds = append(cmds, pipe.ZRevRangeWithScores(ctx, r.key(ownerKey(o)), 0, int64(limit)-1))
	}
	if len(cmds) == 0 {
		return out, nil
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("read template lists: %w", err)
	}
	var all []redis.Z
	for _, c := range cmds {
		all = append(all, c.Val()...)
	}
	slices.SortFunc(all, func(a, b redis.Z) int {
		return cmp.Or(cmp.Compare(b.Score, a.Score), cmp.Compare(a.Member.(string), b.Member.(string)))
	})
	all = slices.CompactFunc(all, func(a, b redis.Z) bool { return a.Member == b.Member })
	all = all[:min(len(all), limit)]
	pipe = r.DB.Pipeline()
	hs := make([]*redis.SliceCmd, len(all))
	for i, z := range all {
		hs[i] = pipe.HMGet(ctx, r.key(templateKey(z.Member.(string))), summaryFields...)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("read template lists: %w", err)
	}
	for _, c := range hs {
		h := make(map[string]string, len(summaryFields))
		for i, v := range c.Val() {
			if s, ok := v.(string); ok {
				h[summaryFields[i]] = s
			}
		}
		if h["id"] != "" {
			out = append(out, summary(h))
		}
	}
	return out, nil
}

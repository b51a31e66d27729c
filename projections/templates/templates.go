// Package templates is the read model of contract templates (模板): their
// details, documents, preset signer roles (签约角色) and placed fields, and
// the list of each owner's templates.
//
// Keys (relative to the projection's namespace):
//
//	template:<id>           hash: the details, and one field per document ("doc:<id>"),
//	                        role ("role:<id>") and placed field ("field:<id>") holding JSON
//	owner:enterprise:<eid>  sorted set: an enterprise's templates, scored by creation time (unix ms)
//	owner:account:<aid>     sorted set: an account's personal templates, likewise
package templates

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"signet/domain/event"
	"signet/domain/layout"
	"signet/domain/template"
	"signet/projections"
)

// Name is the projection's stable name (consumer, checkpoint, key namespace).
const Name = "templates"

// category is the stream category of templates ("template-<id>").
const category = "template"

// Hash field prefixes of a template's parts.
const (
	docPrefix   = "doc:"
	rolePrefix  = "role:"
	fieldPrefix = "field:"
)

func templateKey(id string) string { return "template:" + id }
func ownerKey(owner string) string { return "owner:" + owner }

// OwnerOfEnterprise and OwnerOfAccount name an owner's list for Reader.List.
func OwnerOfEnterprise(eid string) string { return "enterprise:" + eid }
func OwnerOfAccount(aid string) string    { return "account:" + aid }

// Stored parts carry the stream version that last placed them, so readers
// can keep the order in which they were added.
type storedDoc struct {
	layout.Document
	Seq uint64 `json:"seq"`
}

type storedRole struct {
	layout.Role
	Seq uint64 `json:"seq"`
}

type storedField struct {
	layout.Field
	Seq uint64 `json:"seq"`
}

// Projection maps template events to the read model.
type Projection struct{}

func (Projection) Name() string { return Name }

// Handle ignores every stream but "template-<id>".
func (Projection) Handle(_ context.Context, e event.Envelope) ([]projections.Op, error) {
	if event.Category(e.Stream) != category {
		return nil, nil
	}
	id := strings.TrimPrefix(e.Stream, category+"-")
	if !projections.ValidID(id) {
		return nil, fmt.Errorf("%s@%d: template ID not usable as a key", e.Stream, e.Version)
	}
	decoded, err := template.DecodeEnvelope(e)
	if err != nil {
		return nil, err
	}
	k := templateKey(id)
	ver := strconv.FormatUint(e.Version, 10)
	var ops []projections.Op
	set := func(at time.Time, kv ...any) {
		ops = append(ops, projections.HSet(k, append(kv, "updated_at", ts(at), "version", ver)...))
	}
	switch ev := decoded.(type) {
	case template.TemplateCreated:
		owner := OwnerOfAccount(ev.Owner.AccountID)
		if ev.Owner.EnterpriseID != "" {
			owner = OwnerOfEnterprise(ev.Owner.EnterpriseID)
		}
		if !projections.ValidID(ev.Owner.AccountID) || ev.Owner.EnterpriseID != "" && !projections.ValidID(ev.Owner.EnterpriseID) {
			return nil, fmt.Errorf("%s@%d: owner %+v not usable as a key", e.Stream, e.Version, ev.Owner)
		}
		set(ev.CreatedAt, "id", id, "name", ev.Name, "contract_type", ev.ContractType, "sequential", ev.Sequential,
			"owner_enterprise", ev.Owner.EnterpriseID, "owner_account", ev.Owner.AccountID,
			"created_by", ev.CreatedBy, "created_at", ts(ev.CreatedAt), "disabled", false)
		ops = append(ops, projections.ZAdd(ownerKey(owner), float64(ev.CreatedAt.UnixMilli()), id))
	case template.TemplateDetailsChanged:
		set(ev.ChangedAt, "name", ev.Name, "contract_type", ev.ContractType, "sequential", ev.Sequential)
	case template.TemplateDocumentAdded:
		set(ev.AddedAt, docPrefix+ev.Document.ID, projections.MustJSON(storedDoc{ev.Document, e.Version}))
	case template.TemplateDocumentRemoved:
		ops = append(ops, projections.HDel(k, append(prefixed(fieldPrefix, ev.FieldIDs), docPrefix+ev.DocumentID)...))
		set(ev.RemovedAt)
	case template.TemplateRoleAdded:
		set(ev.AddedAt, rolePrefix+ev.Role.ID, projections.MustJSON(storedRole{ev.Role, e.Version}))
	case template.TemplateRoleRemoved:
		ops = append(ops, projections.HDel(k, append(prefixed(fieldPrefix, ev.FieldIDs), rolePrefix+ev.RoleID)...))
		set(ev.RemovedAt)
	case template.TemplateFieldPlaced:
		set(ev.PlacedAt, fieldPrefix+ev.Field.ID, projections.MustJSON(storedField{ev.Field, e.Version}))
	case template.TemplateFieldRemoved:
		ops = append(ops, projections.HDel(k, fieldPrefix+ev.FieldID))
		set(ev.RemovedAt)
	case template.TemplateDisabled:
		set(ev.At, "disabled", true)
	case template.TemplateEnabled:
		set(ev.At, "disabled", false)
	default:
		return nil, fmt.Errorf("%s@%d: decoded %s as %T", e.Stream, e.Version, e.Type, decoded)
	}
	return ops, nil
}

func prefixed(prefix string, ids []string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = prefix + id
	}
	return out
}

// ts is how times are stored: RFC 3339 in UTC.
func ts(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

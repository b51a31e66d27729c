// Package template is the template aggregate (模板): a reusable contract
// set-up of documents, preset signer roles and the fields placed on the
// documents' pages (seed section 03, 创建模板). Contracts sent from a template
// copy its snapshot, so later edits never change a sent contract.
//
// Who may edit or use a template is decided by the command handlers (it
// depends on the owner enterprise's members); this package keeps the
// template consistent: every field lies on a page of one of its documents
// and belongs to a role it has.
//
// A change that changes nothing (the same details, the same placement,
// disabling a disabled template) decides no events and no error: the
// request is answered as done, and history records only real changes.
package template

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"time"

	"signet/domain/event"
	"signet/domain/fault"
	"signet/domain/layout"
)

// Category is the stream category of templates: "template-<uuid>".
const Category = "template"

// StreamOf names a template's stream.
func StreamOf(id string) string { return event.StreamName(Category, id) }

// Refusals shared with the command handlers.
var (
	ErrNotFound      = fault.New(fault.NotFound, "template_not_found", "There is no such template.")
	ErrFieldNotFound = fault.New(fault.NotFound, "field_not_found", "The template has no such field.")
)

// Template is the aggregate. Its state changes only through Apply.
type Template struct {
	id        string
	version   uint64
	owner     Owner
	createdAt time.Time

	name         string
	contractType string
	sequential   bool
	disabled     bool

	docs   []layout.Document // in the order they were added
	roles  []layout.Role     // in the order they were added
	fields []layout.Field    // in the order they were first placed
}

// New returns an empty aggregate (the state before TemplateCreated).
func New() *Template { return &Template{} }

// Apply mutates the template by one event and advances its version.
func (t *Template) Apply(ev Event) error {
	if t.version == 0 {
		c, ok := ev.(TemplateCreated)
		if !ok {
			return fmt.Errorf("%w: %s opens a template stream", event.ErrInvalid, ev.EventType())
		}
		t.id, t.owner, t.createdAt = c.TemplateID, c.Owner, c.CreatedAt
		t.name, t.contractType, t.sequential = c.Name, c.ContractType, c.Sequential
		t.version++
		return nil
	}
	switch ev := ev.(type) {
	case TemplateDetailsChanged:
		t.name, t.contractType, t.sequential = ev.Name, ev.ContractType, ev.Sequential
	case TemplateDocumentAdded:
		t.docs = append(t.docs, copyDocument(ev.Document))
	case TemplateDocumentRemoved:
		t.docs = slices.DeleteFunc(t.docs, func(d layout.Document) bool { return d.ID == ev.DocumentID })
		t.fields = slices.DeleteFunc(t.fields, func(f layout.Field) bool { return f.DocumentID == ev.DocumentID })
	case TemplateRoleAdded:
		t.roles = append(t.roles, ev.Role)
	case TemplateRoleRemoved:
		t.roles = slices.DeleteFunc(t.roles, func(r layout.Role) bool { return r.ID == ev.RoleID })
		t.fields = slices.DeleteFunc(t.fields, func(f layout.Field) bool { return f.RoleID == ev.RoleID })
	case TemplateFieldPlaced:
		f := copyField(ev.Field)
		if i := t.fieldIndex(f.ID); i >= 0 {
			t.fields[i] = f
		} else {
			t.fields = append(t.fields, f)
		}
	case TemplateFieldRemoved:
		t.fields = slices.DeleteFunc(t.fields, func(f layout.Field) bool { return f.ID == ev.FieldID })
	case TemplateDisabled:
		t.disabled = true
	case TemplateEnabled:
		t.disabled = false
	default:
		return fmt.Errorf("%w: %s is not a template event", event.ErrInvalid, ev.EventType())
	}
	t.version++
	return nil
}

// Replay rebuilds a template from its stream read forwards from version 1.
func Replay(envs []event.Envelope) (*Template, error) {
	t := New()
	for _, env := range envs {
		if env.Version != t.version+1 {
			return nil, fmt.Errorf("%w: %s: version %d after %d", event.ErrInvalid, env.Stream, env.Version, t.version)
		}
		ev, err := DecodeEnvelope(env)
		if err != nil {
			return nil, err
		}
		if err := t.Apply(ev); err != nil {
			return nil, fmt.Errorf("%s@%d: %w", env.Stream, env.Version, err)
		}
	}
	return t, nil
}

// Accessors for command handlers and tests.

func (t *Template) ID() string           { return t.id }
func (t *Template) Version() uint64      { return t.version }
func (t *Template) Exists() bool         { return t.version > 0 }
func (t *Template) Owner() Owner         { return t.owner }
func (t *Template) Disabled() bool       { return t.disabled }
func (t *Template) Name() string         { return t.name }
func (t *Template) ContractType() string { return t.contractType }
func (t *Template) Sequential() bool     { return t.sequential }

// Field returns a copy of the field with this ID, if the template has it.
func (t *Template) Field(id string) (layout.Field, bool) {
	if i := t.fieldIndex(id); i >= 0 {
		return copyField(t.fields[i]), true
	}
	return layout.Field{}, false
}

// Snapshot is what a contract copies from its template.
type Snapshot struct {
	Name         string
	ContractType string
	Sequential   bool
	Documents    []layout.Document // in the order they were added
	Roles        []layout.Role     // by signing order, then name
	Fields       []layout.Field    // in the order they were first placed
}

// Snapshot returns a deep copy of the template's content: changing it
// changes nothing here.
func (t *Template) Snapshot() Snapshot {
	s := Snapshot{Name: t.name, ContractType: t.contractType, Sequential: t.sequential}
	for _, d := range t.docs {
		s.Documents = append(s.Documents, copyDocument(d))
	}
	s.Roles = t.sortedRoles()
	for _, f := range t.fields {
		s.Fields = append(s.Fields, copyField(f))
	}
	return s
}

func (t *Template) sortedRoles() []layout.Role {
	roles := slices.Clone(t.roles)
	slices.SortStableFunc(roles, func(a, b layout.Role) int {
		if a.Order != b.Order {
			return a.Order - b.Order
		}
		return strings.Compare(a.Name, b.Name)
	})
	return roles
}

// CheckSendable says whether a contract may be sent from the template: it
// is enabled, has a document and a role, and every role has the field it
// signs in (an enterprise role a seal field, a person role a signature
// field). Refusals are 422.
func (t *Template) CheckSendable() error {
	switch {
	case !t.Exists():
		return ErrNotFound
	case t.disabled:
		return rule("template_disabled", "The template %s is disabled (已停用); enable it to send contracts from it.", t.name)
	case len(t.docs) == 0:
		return rule("template_without_document", "The template %s has no document; add a document (预设文档) first.", t.name)
	case len(t.roles) == 0:
		return rule("template_without_role", "The template %s has no signer role; add a role (预置签约方) first.", t.name)
	}
	for _, r := range t.sortedRoles() {
		kind, what := layout.Signature, "signature field (签字处)"
		if r.Kind == layout.Enterprise {
			kind, what = layout.Seal, "seal field (盖章处)"
		}
		if !slices.ContainsFunc(t.fields, func(f layout.Field) bool { return f.RoleID == r.ID && f.Kind == kind }) {
			return rule("role_without_signing_field", "Role %s has no %s; place one on a document before sending.", r.Name, what)
		}
	}
	return nil
}

func rule(code, format string, args ...any) *fault.Error {
	return fault.New(fault.Rule, code, fmt.Sprintf(format, args...))
}

func (t *Template) check() error {
	if !t.Exists() {
		return ErrNotFound
	}
	return nil
}

// Create decides the creation of template id (创建模板: 模板名称, 合同类型,
// 顺序签署). The owner's AccountID is the creating actor.
func Create(id string, owner Owner, name, contractType string, sequential bool, actor string, now time.Time) ([]Event, error) {
	if id == "" || actor == "" || owner.AccountID != actor {
		return nil, fmt.Errorf("create template: id %q, owner %q, actor %q", id, owner.AccountID, actor)
	}
	name, contractType, err := checkDetails(name, contractType)
	if err != nil {
		return nil, err
	}
	return []Event{TemplateCreated{TemplateID: id, Owner: owner, Name: name, ContractType: contractType, Sequential: sequential,
		CreatedBy: actor, CreatedAt: timestamp(now)}}, nil
}

// checkDetails validates a template's name and its optional contract type.
func checkDetails(name, contractType string) (string, string, error) {
	name, err := layout.CheckName("name", "template", name)
	if err != nil {
		return "", "", err
	}
	if strings.TrimSpace(contractType) == "" {
		return name, "", nil
	}
	contractType, err = layout.CheckName("contract_type", "contract type", contractType)
	if err != nil {
		return "", "", err
	}
	return name, contractType, nil
}

// ChangeDetails renames the template or changes its contract type or
// signing order (顺序签署).
func (t *Template) ChangeDetails(actor, name, contractType string, sequential bool, now time.Time) ([]Event, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	name, contractType, err := checkDetails(name, contractType)
	if err != nil {
		return nil, err
	}
	if name == t.name && contractType == t.contractType && sequential == t.sequential {
		return nil, nil
	}
	return []Event{TemplateDetailsChanged{Name: name, ContractType: contractType, Sequential: sequential, ChangedBy: actor, ChangedAt: timestamp(now)}}, nil
}

// AddDocument adds a stored document (an uploaded PDF or a blank one) with
// its page sizes.
func (t *Template) AddDocument(actor string, d layout.Document, now time.Time) ([]Event, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	if d.ID == "" || d.File.SHA256 == "" {
		return nil, errors.New("add template document: no ID or no stored file")
	}
	if t.docIndex(d.ID) >= 0 {
		return nil, fault.New(fault.Conflict, "document_exists", "The template already has a document with this ID.")
	}
	if len(t.docs) >= layout.MaxDocuments {
		return nil, rule("too_many_documents", "A template has at most %d documents; remove one first.", layout.MaxDocuments)
	}
	name, err := layout.CheckName("name", "document", d.Name)
	if err != nil {
		return nil, err
	}
	d = copyDocument(d)
	d.Name = name
	if len(d.Pages) == 0 {
		return nil, rule("document_without_pages", "The document %s has no pages.", name)
	}
	for i, p := range d.Pages {
		if !(p.W > 0 && p.H > 0) || math.IsInf(p.W, 0) || math.IsInf(p.H, 0) {
			return nil, fault.Invalidf("file", "invalid_page_size", "Page %d of %s has no usable size (%.1f x %.1f points).", i+1, name, p.W, p.H)
		}
	}
	return []Event{TemplateDocumentAdded{Document: d, AddedBy: actor, AddedAt: timestamp(now)}}, nil
}

// RemoveDocument removes a document and every field placed on it.
func (t *Template) RemoveDocument(actor, docID string, now time.Time) ([]Event, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	if t.docIndex(docID) < 0 {
		return nil, fault.New(fault.NotFound, "document_not_found", "The template has no such document.")
	}
	var on []string
	for _, f := range t.fields {
		if f.DocumentID == docID {
			on = append(on, f.ID)
		}
	}
	return []Event{TemplateDocumentRemoved{DocumentID: docID, FieldIDs: on, RemovedBy: actor, RemovedAt: timestamp(now)}}, nil
}

// AddRole adds a preset signer role (签约角色) such as 甲方 or 乙方; role
// names are unique within a template.
func (t *Template) AddRole(actor string, r layout.Role, now time.Time) ([]Event, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	if r.ID == "" {
		return nil, errors.New("add template role: no ID")
	}
	r, err := layout.CheckRole(r)
	if err != nil {
		return nil, err
	}
	for _, o := range t.roles {
		if o.ID == r.ID {
			return nil, fault.New(fault.Conflict, "role_exists", "The template already has a role with this ID.")
		}
		if o.Name == r.Name {
			return nil, fault.New(fault.Conflict, "duplicate_role_name", fmt.Sprintf("The template already has a role named %s.", r.Name)).OnField("name")
		}
	}
	if len(t.roles) >= layout.MaxRoles {
		return nil, rule("too_many_roles", "A template has at most %d signer roles.", layout.MaxRoles)
	}
	return []Event{TemplateRoleAdded{Role: r, AddedBy: actor, AddedAt: timestamp(now)}}, nil
}

// RemoveRole removes a role and the fields it signs in.
func (t *Template) RemoveRole(actor, roleID string, now time.Time) ([]Event, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	if !slices.ContainsFunc(t.roles, func(r layout.Role) bool { return r.ID == roleID }) {
		return nil, fault.New(fault.NotFound, "role_not_found", "The template has no such role.")
	}
	var its []string
	for _, f := range t.fields {
		if f.RoleID == roleID {
			its = append(its, f.ID)
		}
	}
	return []Event{TemplateRoleRemoved{RoleID: roleID, FieldIDs: its, RemovedBy: actor, RemovedAt: timestamp(now)}}, nil
}

// PlaceField places a field on a page (指定签署位置); a field with the ID of
// one already placed moves or changes it. Business field (业务字段) names are
// unique within a template: the sender fills each in by name.
func (t *Template) PlaceField(actor string, f layout.Field, now time.Time) ([]Event, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	if f.ID == "" {
		return nil, errors.New("place template field: no ID")
	}
	f, err := layout.CheckField(copyField(f), t.docs, t.roles)
	if err != nil {
		return nil, err
	}
	i := t.fieldIndex(f.ID)
	if i >= 0 && reflect.DeepEqual(t.fields[i], f) {
		return nil, nil
	}
	if i < 0 && len(t.fields) >= layout.MaxFields {
		return nil, rule("too_many_fields", "A template has at most %d fields.", layout.MaxFields)
	}
	if f.Kind.Business() {
		for _, o := range t.fields {
			if o.ID != f.ID && o.Kind.Business() && o.Name == f.Name {
				return nil, fault.New(fault.Conflict, "duplicate_field_name", fmt.Sprintf("The template already has a business field named %s.", f.Name)).OnField("name")
			}
		}
	}
	return []Event{TemplateFieldPlaced{Field: f, PlacedBy: actor, PlacedAt: timestamp(now)}}, nil
}

// RemoveField takes a field off its page.
func (t *Template) RemoveField(actor, fieldID string, now time.Time) ([]Event, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	if t.fieldIndex(fieldID) < 0 {
		return nil, ErrFieldNotFound
	}
	return []Event{TemplateFieldRemoved{FieldID: fieldID, RemovedBy: actor, RemovedAt: timestamp(now)}}, nil
}

// Disable stops contracts from being sent from the template (停用); it can
// still be edited.
func (t *Template) Disable(actor string, now time.Time) ([]Event, error) {
	if err := t.check(); err != nil || t.disabled {
		return nil, err
	}
	return []Event{TemplateDisabled{By: actor, At: timestamp(now)}}, nil
}

// Enable makes a disabled template usable again (启用).
func (t *Template) Enable(actor string, now time.Time) ([]Event, error) {
	if err := t.check(); err != nil || !t.disabled {
		return nil, err
	}
	return []Event{TemplateEnabled{By: actor, At: timestamp(now)}}, nil
}

func (t *Template) docIndex(id string) int {
	return slices.IndexFunc(t.docs, func(d layout.Document) bool { return d.ID == id })
}

func (t *Template) fieldIndex(id string) int {
	return slices.IndexFunc(t.fields, func(f layout.Field) bool { return f.ID == id })
}

func copyDocument(d layout.Document) layout.Document {
	d.Pages = slices.Clone(d.Pages)
	return d
}

func copyField(f layout.Field) layout.Field {
	f.Choices = slices.Clone(f.Choices)
	return f
}

func timestamp(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

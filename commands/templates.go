package commands

import (
	"context"
	"errors"
	"fmt"
	"time"

	"signet/domain/enterprise"
	"signet/domain/event"
	"signet/domain/fault"
	"signet/domain/layout"
	"signet/domain/template"
)

// TemplateCommands are the template use cases (模板管理, seed section 03:
// 创建模板 -> 预设文档, 预置签约方, 指定签署位置).
//
// Anyone may make a personal template; a member of an enterprise may make
// one of the enterprise. A template is edited by its creator (while still
// a member of its enterprise) or by the enterprise's admins and master
// admin; anyone else is refused with 403.
type TemplateCommands struct {
	Create         Handler[CreateTemplate, CreateTemplateResult]
	Change         Handler[ChangeTemplate, ChangeTemplateResult]
	AddDocument    Handler[AddTemplateDocument, AddTemplateDocumentResult]
	RemoveDocument Handler[RemoveTemplateDocument, Written]
	AddRole        Handler[AddTemplateRole, AddTemplateRoleResult]
	RemoveRole     Handler[RemoveTemplateRole, Written]
	PlaceField     Handler[PlaceTemplateField, PlaceTemplateFieldResult]
	RemoveField    Handler[RemoveTemplateField, Written]
	Disable        Handler[DisableTemplate, TemplateStateResult]
	Enable         Handler[EnableTemplate, TemplateStateResult]
}

func newTemplateCommands(d Deps) TemplateCommands {
	s := &templates{events: d.Events, ids: d.IDs, clock: d.Clock, blobs: d.Verification.Blobs, pdf: d.Lifecycle.PDF}
	return TemplateCommands{
		Create:         decorate(d, s.create),
		Change:         decorate(d, s.change),
		AddDocument:    decorate(d, s.addDocument),
		RemoveDocument: decorate(d, s.removeDocument),
		AddRole:        decorate(d, s.addRole),
		RemoveRole:     decorate(d, s.removeRole),
		PlaceField:     decorate(d, s.placeField),
		RemoveField:    decorate(d, s.removeField),
		Disable:        decorate(d, s.disable),
		Enable:         decorate(d, s.enable),
	}
}

type templates struct {
	events EventStore
	ids    IDs
	clock  Clock
	blobs  Blobs
	pdf    PDFInspector
}

var (
	errNotTemplateEditor = fault.New(fault.Forbidden, "not_template_editor",
		"Only the template's creator or the administrators of its enterprise may change it.")
	errNotTemplateUser = fault.New(fault.Forbidden, "not_template_user",
		"This template is not yours: only its owner, or the members of the enterprise it belongs to, may send from it.")
)

// loadTemplate replays a template; an ID that names none is 404.
func loadTemplate(ctx context.Context, events EventStore, id string) (*template.Template, error) {
	if !validID(id) {
		return nil, template.ErrNotFound
	}
	envs, err := events.ReadStream(ctx, template.StreamOf(id), 1, event.Forwards, 0)
	if errors.Is(err, event.ErrNotFound) || (err == nil && len(envs) == 0) {
		return nil, template.ErrNotFound
	}
	if err != nil {
		return nil, storeErr("read template", err)
	}
	return template.Replay(envs)
}

// roleIn is the account's role in the enterprise ("" for none).
func roleIn(ctx context.Context, events EventStore, enterpriseID, accountID string) (enterprise.Role, error) {
	e, err := enterprises{events: events}.load(ctx, enterpriseID)
	if err != nil {
		return "", err
	}
	return e.RoleOf(accountID), nil
}

// mayEditTemplate: the creator of a personal template; for an enterprise's
// template its admins, and its creator while still a member.
func mayEditTemplate(ctx context.Context, events EventStore, t *template.Template, accountID string) error {
	o := t.Owner()
	if o.EnterpriseID == "" {
		if o.AccountID == accountID {
			return nil
		}
		return errNotTemplateEditor
	}
	role, err := roleIn(ctx, events, o.EnterpriseID, accountID)
	if err != nil {
		return err
	}
	if role == enterprise.Auditor {
		return enterprise.ErrAuditorReadOnly
	}
	if role == enterprise.Admin || role == enterprise.MasterAdmin || (role != "" && o.AccountID == accountID) {
		return nil
	}
	return errNotTemplateEditor
}

// mayUseTemplate says whether the account may send contracts from t: the
// owner of a personal template, any member of the owner enterprise.
func mayUseTemplate(ctx context.Context, events EventStore, t *template.Template, accountID string) error {
	o := t.Owner()
	if o.EnterpriseID == "" {
		if o.AccountID == accountID {
			return nil
		}
		return errNotTemplateUser
	}
	role, err := roleIn(ctx, events, o.EnterpriseID, accountID)
	if err != nil {
		return err
	}
	if role == "" {
		return errNotTemplateUser
	}
	if role == enterprise.Auditor {
		return enterprise.ErrAuditorReadOnly
	}
	return nil
}

// save appends events decided on t (at t's version) and applies them to t.
func (s *templates) save(ctx context.Context, t *template.Template, stream string, expected event.ExpectedVersion, evs []template.Event, meta event.Metadata) (uint64, error) {
	pos, err := appendEvents(ctx, s.events, s.ids, stream, expected, template.NewEvent, evs, meta)
	if err != nil {
		return 0, err
	}
	for _, ev := range evs {
		if err := t.Apply(ev); err != nil {
			return 0, err
		}
	}
	return pos, nil
}

type templateDecision func(t *template.Template, now time.Time) ([]template.Event, error)

// decide loads the template, checks that the actor may edit it, decides
// and appends. A decision that lost the race with another change of the
// template is taken again on the new state (the permission too).
func (s *templates) decide(ctx context.Context, a Actor, id string, d templateDecision) (*template.Template, uint64, error) {
	for attempt := 1; ; attempt++ {
		t, pos, err := s.decideOnce(ctx, a, id, d)
		if attempt < decideAttempts && errors.Is(err, event.ErrConcurrency) {
			continue
		}
		return t, pos, err
	}
}

func (s *templates) decideOnce(ctx context.Context, a Actor, id string, d templateDecision) (*template.Template, uint64, error) {
	t, err := s.editable(ctx, a, id)
	if err != nil {
		return nil, 0, err
	}
	now := s.clock.Now()
	evs, err := d(t, now)
	if err != nil {
		return t, 0, err
	}
	pos, err := s.save(ctx, t, template.StreamOf(id), event.Exactly(t.Version()), evs, a.meta(now, t.Owner().EnterpriseID))
	return t, pos, err
}

// editable loads a template the actor may edit.
func (s *templates) editable(ctx context.Context, a Actor, id string) (*template.Template, error) {
	t, err := loadTemplate(ctx, s.events, id)
	if err != nil {
		return nil, err
	}
	if err := mayEditTemplate(ctx, s.events, t, a.AccountID); err != nil {
		return nil, err
	}
	return t, nil
}

// CreateTemplate makes a template (创建模板). An empty EnterpriseID makes a
// personal template.
type CreateTemplate struct {
	Actor        Actor
	EnterpriseID string
	Name         string
	ContractType string
	Sequential   bool
}

// CreateTemplateResult names the new template.
type CreateTemplateResult struct {
	TemplateID string
	Written
}

func (s *templates) create(ctx context.Context, c CreateTemplate) (CreateTemplateResult, error) {
	if c.EnterpriseID != "" {
		role, err := roleIn(ctx, s.events, c.EnterpriseID, c.Actor.AccountID)
		if f, ok := fault.As(err); ok && f.Kind == fault.NotFound {
			return CreateTemplateResult{}, f.OnField("enterprise_id")
		}
		if err != nil {
			return CreateTemplateResult{}, err
		}
		if role == "" {
			return CreateTemplateResult{}, enterprise.ErrNotMember
		}
		if role == enterprise.Auditor {
			return CreateTemplateResult{}, enterprise.ErrAuditorReadOnly
		}
	}
	id := s.ids.NewID()
	now := s.clock.Now()
	evs, err := template.Create(id, template.Owner{EnterpriseID: c.EnterpriseID, AccountID: c.Actor.AccountID}, c.Name, c.ContractType, c.Sequential, c.Actor.AccountID, now)
	if err != nil {
		return CreateTemplateResult{}, err
	}
	pos, err := s.save(ctx, template.New(), template.StreamOf(id), event.NoStream, evs, c.Actor.meta(now, c.EnterpriseID))
	if err != nil {
		return CreateTemplateResult{}, err
	}
	return CreateTemplateResult{TemplateID: id, Written: Written{pos}}, nil
}

// ChangeTemplate changes a template's name, contract type or signing order;
// a nil field stays as it is.
type ChangeTemplate struct {
	Actor        Actor
	TemplateID   string
	Name         *string
	ContractType *string
	Sequential   *bool
}

// ChangeTemplateResult: the template's details after the change.
type ChangeTemplateResult struct {
	Name         string
	ContractType string
	Sequential   bool
	Written
}

func (s *templates) change(ctx context.Context, c ChangeTemplate) (ChangeTemplateResult, error) {
	t, pos, err := s.decide(ctx, c.Actor, c.TemplateID, func(t *template.Template, now time.Time) ([]template.Event, error) {
		name, contractType, sequential := t.Name(), t.ContractType(), t.Sequential()
		if c.Name != nil {
			name = *c.Name
		}
		if c.ContractType != nil {
			contractType = *c.ContractType
		}
		if c.Sequential != nil {
			sequential = *c.Sequential
		}
		return t.ChangeDetails(c.Actor.AccountID, name, contractType, sequential, now)
	})
	if err != nil {
		return ChangeTemplateResult{}, err
	}
	return ChangeTemplateResult{Name: t.Name(), ContractType: t.ContractType(), Sequential: t.Sequential(), Written: Written{pos}}, nil
}

// PDFMediaType is the media type of every stored document.
const PDFMediaType = "application/pdf"

// AddTemplateDocument adds a document (预设文档): an uploaded PDF in File,
// or, when BlankPages > 0, a blank document of that many A4 pages (空白文档).
// File is read only once the actor is known to be allowed to add it.
type AddTemplateDocument struct {
	Actor      Actor
	TemplateID string
	Name       string
	File       Upload
	BlankPages int
}

// AddTemplateDocumentResult: the document as stored.
type AddTemplateDocumentResult struct {
	Document layout.Document
	Written
}

// placeholderFile stands for the not yet stored file in the check made
// before the file is read.
var placeholderFile = layout.File{SHA256: "pending", Size: 1, MediaType: PDFMediaType}

func (s *templates) addDocument(ctx context.Context, c AddTemplateDocument) (AddTemplateDocumentResult, error) {
	if c.BlankPages < 0 {
		return AddTemplateDocumentResult{}, fault.Invalidf("pages", "blank_pages", "A blank document has at least 1 page, not %d.", c.BlankPages)
	}
	blank := c.BlankPages > 0
	// Refused callers, names and full templates cost no reading, parsing or storing.
	t, err := s.editable(ctx, c.Actor, c.TemplateID)
	if err != nil {
		return AddTemplateDocumentResult{}, err
	}
	if _, err := t.AddDocument(c.Actor.AccountID, layout.Document{ID: "pending", Name: c.Name, File: placeholderFile, Pages: []layout.Page{layout.A4}}, s.clock.Now()); err != nil {
		return AddTemplateDocumentResult{}, err
	}
	var data []byte
	if blank {
		data, err = s.pdf.Blank(c.BlankPages)
	} else {
		var u Upload
		u, err = c.File.load()
		data = u.Data
	}
	if err != nil {
		return AddTemplateDocumentResult{}, err
	}
	pages, err := s.pdf.Inspect(data)
	if err != nil {
		return AddTemplateDocumentResult{}, err
	}
	ref, err := s.blobs.Put(ctx, data, PDFMediaType)
	if err != nil {
		return AddTemplateDocumentResult{}, fmt.Errorf("store document: %w", err)
	}
	doc := layout.Document{ID: s.ids.NewID(), Name: c.Name, Blank: blank, File: layout.File{SHA256: ref.SHA256, Size: ref.Size, MediaType: ref.MediaType}, Pages: pages}
	_, pos, err := s.decide(ctx, c.Actor, c.TemplateID, func(t *template.Template, now time.Time) ([]template.Event, error) {
		evs, err := t.AddDocument(c.Actor.AccountID, doc, now)
		if err == nil {
			doc = evs[0].(template.TemplateDocumentAdded).Document
		}
		return evs, err
	})
	if err != nil {
		return AddTemplateDocumentResult{}, err
	}
	return AddTemplateDocumentResult{Document: doc, Written: Written{pos}}, nil
}

// RemoveTemplateDocument removes a document and the fields on it.
type RemoveTemplateDocument struct {
	Actor      Actor
	TemplateID string
	DocumentID string
}

func (s *templates) removeDocument(ctx context.Context, c RemoveTemplateDocument) (Written, error) {
	_, pos, err := s.decide(ctx, c.Actor, c.TemplateID, func(t *template.Template, now time.Time) ([]template.Event, error) {
		return t.RemoveDocument(c.Actor.AccountID, c.DocumentID, now)
	})
	return Written{pos}, err
}

// AddTemplateRole adds a signer role (签约角色) such as 甲方.
type AddTemplateRole struct {
	Actor      Actor
	TemplateID string
	Name       string
	Kind       layout.PartyKind
	Order      int
}

// AddTemplateRoleResult: the role as stored, with its new ID.
type AddTemplateRoleResult struct {
	Role layout.Role
	Written
}

func (s *templates) addRole(ctx context.Context, c AddTemplateRole) (AddTemplateRoleResult, error) {
	role := layout.Role{ID: s.ids.NewID(), Name: c.Name, Kind: c.Kind, Order: c.Order}
	_, pos, err := s.decide(ctx, c.Actor, c.TemplateID, func(t *template.Template, now time.Time) ([]template.Event, error) {
		evs, err := t.AddRole(c.Actor.AccountID, role, now)
		if err == nil {
			role = evs[0].(template.TemplateRoleAdded).Role
		}
		return evs, err
	})
	if err != nil {
		return AddTemplateRoleResult{}, err
	}
	return AddTemplateRoleResult{Role: role, Written: Written{pos}}, nil
}

// RemoveTemplateRole removes a role and the fields it signs in.
type RemoveTemplateRole struct {
	Actor      Actor
	TemplateID string
	RoleID     string
}

func (s *templates) removeRole(ctx context.Context, c RemoveTemplateRole) (Written, error) {
	_, pos, err := s.decide(ctx, c.Actor, c.TemplateID, func(t *template.Template, now time.Time) ([]template.Event, error) {
		return t.RemoveRole(c.Actor.AccountID, c.RoleID, now)
	})
	return Written{pos}, err
}

// PlaceTemplateField places a field (指定签署位置: 签字处, 盖章处, 业务字段).
// An empty FieldID places a new field; otherwise the field with that ID,
// which must exist, is moved or changed. Field.ID is ignored.
type PlaceTemplateField struct {
	Actor      Actor
	TemplateID string
	FieldID    string
	Field      layout.Field
}

// PlaceTemplateFieldResult: the field as stored.
type PlaceTemplateFieldResult struct {
	Field layout.Field
	Written
}

func (s *templates) placeField(ctx context.Context, c PlaceTemplateField) (PlaceTemplateFieldResult, error) {
	f := c.Field
	f.ID = c.FieldID
	if f.ID == "" {
		f.ID = s.ids.NewID()
	}
	_, pos, err := s.decide(ctx, c.Actor, c.TemplateID, func(t *template.Template, now time.Time) ([]template.Event, error) {
		if _, ok := t.Field(f.ID); c.FieldID != "" && !ok {
			return nil, template.ErrFieldNotFound
		}
		evs, err := t.PlaceField(c.Actor.AccountID, f, now)
		if err != nil {
			return nil, err
		}
		if len(evs) > 0 {
			f = evs[0].(template.TemplateFieldPlaced).Field
		} else {
			f, _ = t.Field(f.ID)
		}
		return evs, nil
	})
	if err != nil {
		return PlaceTemplateFieldResult{}, err
	}
	return PlaceTemplateFieldResult{Field: f, Written: Written{pos}}, nil
}

// RemoveTemplateField takes a field off its page.
type RemoveTemplateField struct {
	Actor      Actor
	TemplateID string
	FieldID    string
}

func (s *templates) removeField(ctx context.Context, c RemoveTemplateField) (Written, error) {
	_, pos, err := s.decide(ctx, c.Actor, c.TemplateID, func(t *template.Template, now time.Time) ([]template.Event, error) {
		return t.RemoveField(c.Actor.AccountID, c.FieldID, now)
	})
	return Written{pos}, err
}

// DisableTemplate stops sending from a template (停用); EnableTemplate
// allows it again (启用). Either is a no-op when already so.
type (
	DisableTemplate struct {
		Actor      Actor
		TemplateID string
	}
	EnableTemplate struct {
		Actor      Actor
		TemplateID string
	}
)

// TemplateStateResult: whether the template is disabled now.
type TemplateStateResult struct {
	Disabled bool
	Written
}

func (s *templates) disable(ctx context.Context, c DisableTemplate) (TemplateStateResult, error) {
	return s.setState(ctx, c.Actor, c.TemplateID, (*template.Template).Disable)
}

func (s *templates) enable(ctx context.Context, c EnableTemplate) (TemplateStateResult, error) {
	return s.setState(ctx, c.Actor, c.TemplateID, (*template.Template).Enable)
}

func (s *templates) setState(ctx context.Context, a Actor, id string, d func(*template.Template, string, time.Time) ([]template.Event, error)) (TemplateStateResult, error) {
	t, pos, err := s.decide(ctx, a, id, func(t *template.Template, now time.Time) ([]template.Event, error) {
		return d(t, a.AccountID, now)
	})
	if err != nil {
		return TemplateStateResult{}, err
	}
	return TemplateStateResult{Disabled: t.Disabled(), Written: Written{pos}}, nil
}

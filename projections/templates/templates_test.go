package templates_test

import (
	"context"
	"maps"
	"reflect"
	"slices"
	"testing"

	"github.com/google/uuid"

	"signet/domain/event"
	"signet/domain/fault"
	"signet/domain/layout"
	"signet/domain/template"
	"signet/projections/templates"
)

const (
	owner  = "acct-owner"
	editor = "acct-editor"
	eid    = "ent-1"
)

var (
	docA = layout.Document{ID: "doc-a", Name: "劳动合同.pdf", File: layout.File{SHA256: "sha-a", Size: 100, MediaType: "application/pdf"},
		Pages: []layout.Page{layout.A4, layout.A4}}
	docB     = layout.Document{ID: "doc-b", Name: "附件", Blank: true, File: layout.File{SHA256: "sha-b"}, Pages: []layout.Page{layout.A4}}
	roleA    = layout.Role{ID: "role-a", Name: "甲方", Kind: layout.Enterprise, Order: 2}
	roleB    = layout.Role{ID: "role-b", Name: "乙方", Kind: layout.Person, Order: 1}
	sealA    = layout.Field{ID: "f-seal", Kind: layout.Seal, RoleID: "role-a", Required: true, DocumentID: "doc-a", Page: 2, Rect: layout.Rect{X: 10, Y: 10, W: 100, H: 100}}
	signB    = layout.Field{ID: "f-sign", Kind: layout.Signature, RoleID: "role-b", Required: true, DocumentID: "doc-a", Page: 2, Rect: layout.Rect{X: 300, Y: 10, W: 100, H: 50}}
	salary   = layout.Field{ID: "f-salary", Kind: layout.Number, Name: "月薪", DocumentID: "doc-a", Page: 1, Rect: layout.Rect{X: 50, Y: 700, W: 80, H: 20}}
	note     = layout.Field{ID: "f-note", Kind: layout.Text, Name: "备注", DocumentID: "doc-b", Page: 1, Rect: layout.Rect{X: 50, Y: 50, W: 200, H: 20}}
	moved    = layout.Field{ID: "f-salary", Kind: layout.Number, Name: "月薪（元）", DocumentID: "doc-a", Page: 1, Rect: layout.Rect{X: 60, Y: 600, W: 80, H: 20}}
	signDate = layout.Field{ID: "f-date", Kind: layout.SignDate, RoleID: "role-b", Required: true, DocumentID: "doc-b", Page: 1, Rect: layout.Rect{X: 300, Y: 50, W: 80, H: 20}}
)

func TestTemplateLifecycle(t *testing.T) {
	w := newWorld(t)
	id := uuid.NewString()
	w.add(id, owner,
		template.TemplateCreated{TemplateID: id, Owner: template.Owner{EnterpriseID: eid, AccountID: owner}, Name: "劳动合同",
			ContractType: "劳动合同", Sequential: true, CreatedBy: owner, CreatedAt: at(0)},
		template.TemplateDocumentAdded{Document: docA, AddedBy: owner, AddedAt: at(1)},
		template.TemplateDocumentAdded{Document: docB, AddedBy: owner, AddedAt: at(2)},
		template.TemplateRoleAdded{Role: roleA, AddedBy: owner, AddedAt: at(3)},
		template.TemplateRoleAdded{Role: roleB, AddedBy: owner, AddedAt: at(4)},
		template.TemplateFieldPlaced{Field: note, PlacedBy: owner, PlacedAt: at(5)},
		template.TemplateFieldPlaced{Field: sealA, PlacedBy: owner, PlacedAt: at(5)},
		template.TemplateFieldPlaced{Field: signB, PlacedBy: owner, PlacedAt: at(5)},
		template.TemplateFieldPlaced{Field: salary, PlacedBy: owner, PlacedAt: at(5)},
		template.TemplateFieldPlaced{Field: signDate, PlacedBy: owner, PlacedAt: at(5)},
	)
	v := w.view(id)
	want := templates.TemplateView{
		Summary: templates.Summary{ID: id, Name: "劳动合同", ContractType: "劳动合同", Sequential: true,
			Owner: templates.Owner{EnterpriseID: eid, AccountID: owner}, CreatedBy: owner, CreatedAt: at(0), UpdatedAt: at(5), Version: 10},
		Documents: []layout.Document{docA, docB},
		Roles:     []layout.Role{roleB, roleA},                          // by signing order
		Fields:    []layout.Field{salary, sealA, signB, note, signDate}, // by document, page, placement
	}
	if !reflect.DeepEqual(v, want) {
		t.Fatalf("after setting up:\n got %+v\nwant %+v", v, want)
	}

	// Moving a field keeps one field; removing a role takes its fields;
	// removing a document takes the fields on it.
	w.add(id, editor,
		template.TemplateFieldPlaced{Field: moved, PlacedBy: editor, PlacedAt: at(6)},
		template.TemplateDetailsChanged{Name: "劳动合同（2027）", ContractType: "人事", Sequential: false, ChangedBy: editor, ChangedAt: at(7)},
		template.TemplateFieldRemoved{FieldID: "f-sign", RemovedBy: editor, RemovedAt: at(8)},
		template.TemplateRoleRemoved{RoleID: "role-b", FieldIDs: []string{"f-date"}, RemovedBy: editor, RemovedAt: at(9)},
		template.TemplateDocumentRemoved{DocumentID: "doc-b", FieldIDs: []string{"f-note"}, RemovedBy: editor, RemovedAt: at(10)},
		template.TemplateDisabled{By: editor, At: at(11)},
	)
	v = w.view(id)
	want.Name, want.ContractType, want.Sequential, want.Disabled, want.UpdatedAt, want.Version = "劳动合同（2027）", "人事", false, true, at(11), 16
	want.Documents, want.Roles, want.Fields = []layout.Document{docA}, []layout.Role{roleA}, []layout.Field{moved, sealA}
	if !reflect.DeepEqual(v, want) {
		t.Fatalf("after editing:\n got %+v\nwant %+v", v, want)
	}
	w.add(id, editor, template.TemplateEnabled{By: editor, At: at(12)})
	if v := w.view(id); v.Disabled || v.Version != 17 {
		t.Fatalf("enabled again: %+v", v.Summary)
	}

	for _, bad := range []string{uuid.NewString(), "", "a:b", "*"} {
		if _, err := w.reader.Template(w.ctx, bad); err == nil {
			t.Fatalf("template %q found", bad)
		} else if f, ok := fault.As(err); !ok || f.Code != "template_not_found" || f.Kind != fault.NotFound {
			t.Fatalf("template %q: %v", bad, err)
		}
	}
}

func TestListPerOwner(t *testing.T) {
	w := newWorld(t)
	var ent, mine, theirs []string
	create := func(o template.Owner, min int) string {
		id := uuid.NewString()
		w.add(id, o.AccountID, template.TemplateCreated{TemplateID: id, Owner: o, Name: "t" + id[:4], CreatedBy: o.AccountID, CreatedAt: at(min)})
		return id
	}
	for i := range 3 {
		ent = append(ent, create(template.Owner{EnterpriseID: eid, AccountID: editor}, 10*i))
		mine = append(mine, create(template.Owner{AccountID: owner}, 10*i+5))
		theirs = append(theirs, create(template.Owner{AccountID: editor}, 10*i+1))
	}
	w.sync()
	ids := func(owners []string, limit int) []string {
		t.Helper()
		list, err := w.reader.List(w.ctx, owners, limit)
		if err != nil {
			t.Fatal(err)
		}
		out := []string{}
		for _, s := range list {
			out = append(out, s.ID)
		}
		return out
	}
	cases := []struct {
		name   string
		owners []string
		limit  int
		want   []string
	}{
		{"an enterprise's, newest first", []string{templates.OwnerOfEnterprise(eid)}, 10, []string{ent[2], ent[1], ent[0]}},
		{"personal ones are not the enterprise's", []string{templates.OwnerOfAccount(editor)}, 10, []string{theirs[2], theirs[1], theirs[0]}},
		{"two owners merged by time", []string{templates.OwnerOfAccount(owner), templates.OwnerOfEnterprise(eid)}, 4,
			[]string{mine[2], ent[2], mine[1], ent[1]}},
		{"limit", []string{templates.OwnerOfAccount(owner)}, 1, []string{mine[2]}},
		{"same owner twice", []string{templates.OwnerOfAccount(owner), templates.OwnerOfAccount(owner)}, 10, []string{mine[2], mine[1], mine[0]}},
		{"no owner", nil, 10, []string{}},
		{"owner that is no key", []string{"enterprise:*", "account:", "x:" + owner, owner}, 10, []string{}},
		{"unknown owner", []string{templates.OwnerOfEnterprise("nobody")}, 10, []string{}},
		{"zero limit", []string{templates.OwnerOfAccount(owner)}, 0, []string{}},
	}
	for _, c := range cases {
		if got := ids(c.owners, c.limit); !slices.Equal(got, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
	list, _ := w.reader.List(w.ctx, []string{templates.OwnerOfEnterprise(eid)}, 1)
	if s := list[0]; s.Owner.EnterpriseID != eid || s.Owner.AccountID != editor || !s.CreatedAt.Equal(at(20)) || s.Version != 1 || s.Name != "t"+ent[2][:4] {
		t.Fatalf("summary: %+v", s)
	}
}

// Delivering every event twice, or the whole history again, leaves the read
// model as once, even with no version guard in front of it.
func TestApplyingTwiceChangesNothing(t *testing.T) {
	w := newWorld(t)
	id := uuid.NewString()
	w.add(id, owner,
		template.TemplateCreated{TemplateID: id, Owner: template.Owner{AccountID: owner}, Name: "租赁合同", CreatedBy: owner, CreatedAt: at(0)},
		template.TemplateDocumentAdded{Document: docA, AddedBy: owner, AddedAt: at(1)},
		template.TemplateDocumentAdded{Document: docB, AddedBy: owner, AddedAt: at(1)},
		template.TemplateRoleAdded{Role: roleA, AddedBy: owner, AddedAt: at(2)},
		template.TemplateRoleAdded{Role: roleB, AddedBy: owner, AddedAt: at(2)},
		template.TemplateFieldPlaced{Field: sealA, PlacedBy: owner, PlacedAt: at(3)},
		template.TemplateFieldPlaced{Field: note, PlacedBy: owner, PlacedAt: at(3)},
		template.TemplateFieldPlaced{Field: moved, PlacedBy: owner, PlacedAt: at(3)},
		template.TemplateDocumentRemoved{DocumentID: "doc-b", FieldIDs: []string{"f-note"}, RemovedBy: owner, RemovedAt: at(4)},
		template.TemplateRoleRemoved{RoleID: "role-a", FieldIDs: []string{"f-seal"}, RemovedBy: owner, RemovedAt: at(4)},
		template.TemplateDisabled{By: owner, At: at(5)},
	)
	envs := w.envelopes()
	p := templates.Projection{}

	once := newWorld(t)
	applyRaw(t, once.db, p, envs...)
	twice := newWorld(t)
	for _, e := range envs {
		applyRaw(t, twice.db, p, e, e)
	}
	again := newWorld(t)
	applyRaw(t, again.db, p, envs...)
	applyRaw(t, again.db, p, envs...)
	w.sync()
	a, b, c, d := snapshot(t, once.db, templates.Name), snapshot(t, twice.db, templates.Name), snapshot(t, again.db, templates.Name),
		snapshot(t, w.db, templates.Name)
	if len(a) == 0 {
		t.Fatal("nothing projected")
	}
	for name, s := range map[string]map[string]string{"each event twice": b, "history twice": c, "through the projector": d} {
		if !maps.Equal(a, s) {
			t.Errorf("%s differs from once:\n%s", name, diff(a, s))
		}
	}
	if v := w.view(id); len(v.Fields) != 1 || v.Fields[0].ID != moved.ID || len(v.Roles) != 1 || len(v.Documents) != 1 {
		t.Fatalf("view: %+v", v)
	}
}

func TestHandleIgnoresAndRefuses(t *testing.T) {
	ctx := context.Background()
	p := templates.Projection{}
	created, err := template.NewEvent("e1", template.TemplateCreated{TemplateID: "t1", Owner: template.Owner{AccountID: owner}, CreatedAt: at(0)},
		event.Metadata{OccurredAt: at(0)})
	if err != nil {
		t.Fatal(err)
	}
	env := func(stream string, n event.New) event.Envelope {
		return event.Envelope{ID: n.ID, Stream: stream, Version: 1, Type: n.Type, Schema: n.Schema, Data: n.Data, Meta: n.Meta}
	}
	if ops, err := p.Handle(ctx, env("enterprise-e1", created)); err != nil || ops != nil {
		t.Fatalf("other stream: %v %v", ops, err)
	}
	if ops, err := p.Handle(ctx, env("template-t1", created)); err != nil || len(ops) != 2 {
		t.Fatalf("template stream: %v %v", ops, err)
	}
	for _, stream := range []string{"template-", "template-a:b", "template-x*"} {
		if _, err := p.Handle(ctx, env(stream, created)); err == nil {
			t.Errorf("%s accepted", stream)
		}
	}
	badOwner, _ := template.NewEvent("e2", template.TemplateCreated{TemplateID: "t1", Owner: template.Owner{AccountID: "a:b"}, CreatedAt: at(0)},
		event.Metadata{OccurredAt: at(0)})
	if _, err := p.Handle(ctx, env("template-t1", badOwner)); err == nil {
		t.Error("owner that is no key accepted")
	}
	unknown := event.Envelope{Stream: "template-t1", Version: 1, Type: "TemplateExploded", Schema: 1, Data: []byte(`{}`)}
	if _, err := p.Handle(ctx, unknown); !template.IsUnknownEvent(err) {
		t.Errorf("unknown event: %v", err)
	}
}

package commands_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"reflect"
	"sync"
	"testing"

	"signet/commands"
	"signet/domain/enterprise"
	"signet/domain/event"
	"signet/domain/fault"
	"signet/domain/layout"
	"signet/domain/template"
	"signet/infra/blob"
	"signet/infra/pdfdoc"
)

// givenEnterprise appends a verified enterprise's history with these
// members straight to the store.
func givenEnterprise(t *testing.T, w *world, members map[string]enterprise.Role) string {
	t.Helper()
	id := commands.UUIDs{}.NewID()
	var master string
	for a, r := range members {
		if r == enterprise.MasterAdmin {
			master = a
		}
	}
	evs := []enterprise.Event{
		enterprise.EnterpriseCreated{EnterpriseID: id, CreatedBy: master, CreatedAt: t0},
		enterprise.EnterpriseVerified{Name: entName, USCC: testUSCC, LegalRepName: "井然", Method: enterprise.MethodLegalRepPhone, MasterAdmin: master, VerifiedAt: t0},
	}
	for a, r := range members {
		evs = append(evs, enterprise.MemberJoined{AccountID: a, Role: r, JoinedAt: t0})
	}
	appendEnterprise(t, w, id, evs...)
	return id
}

func appendEnterprise(t *testing.T, w *world, id string, evs ...enterprise.Event) {
	t.Helper()
	var news []event.New
	for _, ev := range evs {
		n, err := enterprise.NewEvent(commands.UUIDs{}.NewID(), ev, event.Metadata{OccurredAt: t0})
		if err != nil {
			t.Fatal(err)
		}
		news = append(news, n)
	}
	if _, err := w.store.Append(ctx, enterprise.StreamOf(id), event.Any, news...); err != nil {
		t.Fatal(err)
	}
}

func act(account string) commands.Actor {
	return commands.Actor{AccountID: account, ClientIP: "10.0.0.9", CorrelationID: "corr-" + account}
}

func createTemplate(t *testing.T, w *world, account, enterpriseID string) string {
	t.Helper()
	res, err := w.cmds.Templates.Create.Handle(ctx, commands.CreateTemplate{Actor: act(account), EnterpriseID: enterpriseID, Name: "采购模板", ContractType: "采购合同"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Position == 0 {
		t.Fatal("no position")
	}
	return res.TemplateID
}

func loadTemplate(t *testing.T, w *world, id string) *template.Template {
	t.Helper()
	tp, err := commands.LoadTemplate(ctx, w.store, id)
	if err != nil {
		t.Fatal(err)
	}
	return tp
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if code == "" {
		if err != nil {
			t.Fatalf("error %v", err)
		}
		return
	}
	if f, ok := fault.As(err); !ok || f.Code != code {
		t.Fatalf("error %v, want %s", err, code)
	}
}

func TestTemplatePermissions(t *testing.T) {
	w := newWorld(t)
	eid := givenEnterprise(t, w, map[string]enterprise.Role{"master": enterprise.MasterAdmin, "admin": enterprise.Admin, "creator": enterprise.Member,
		"member": enterprise.Member, "leaver": enterprise.Member})
	ent := createTemplate(t, w, "creator", eid)
	left := createTemplate(t, w, "leaver", eid)
	appendEnterprise(t, w, eid, enterprise.MemberRemoved{AccountID: "leaver", RemovedBy: "master", RemovedAt: t0})
	personal := createTemplate(t, w, "person", "")

	if o := loadTemplate(t, w, ent).Owner(); o != (template.Owner{EnterpriseID: eid, AccountID: "creator"}) {
		t.Fatalf("owner %+v", o)
	}
	if o := loadTemplate(t, w, personal).Owner(); o != (template.Owner{AccountID: "person"}) {
		t.Fatalf("owner %+v", o)
	}

	t.Run("create", func(t *testing.T) {
		head := w.head(t)
		for _, tc := range []struct {
			account, enterprise, name, code, field string
		}{
			{"outsider", eid, "x", "not_enterprise_member", ""},
			{"leaver", eid, "x", "not_enterprise_member", ""},
			{"member", commands.UUIDs{}.NewID(), "x", "enterprise_not_found", "enterprise_id"},
			{"member", "not-an-id", "x", "enterprise_not_found", "enterprise_id"},
			{"member", eid, " ", "missing_name", "name"},
		} {
			_, err := w.cmds.Templates.Create.Handle(ctx, commands.CreateTemplate{Actor: act(tc.account), EnterpriseID: tc.enterprise, Name: tc.name})
			if f, ok := fault.As(err); !ok || f.Code != tc.code || f.Field != tc.field {
				t.Fatalf("%s in %s: %v, want %s on %q", tc.account, tc.enterprise, err, tc.code, tc.field)
			}
		}
		if w.head(t) != head {
			t.Fatal("a refused creation appended")
		}
		createTemplate(t, w, "member", eid)
		createTemplate(t, w, "outsider", "")
	})

	t.Run("edit", func(t *testing.T) {
		for i, tc := range []struct {
			template, account, code string
		}{
			{ent, "creator", ""},
			{ent, "admin", ""},
			{ent, "master", ""},
			{ent, "member", "not_template_editor"},
			{ent, "outsider", "not_template_editor"},
			{ent, "person", "not_template_editor"},
			{left, "leaver", "not_template_editor"}, // its creator, no longer a member
			{left, "admin", ""},
			{personal, "person", ""},
			{personal, "master", "not_template_editor"},
			{personal, "outsider", "not_template_editor"},
			{commands.UUIDs{}.NewID(), "creator", "template_not_found"},
			{"template-1", "creator", "template_not_found"},
		} {
			name := fmt.Sprint("模板 ", i)
			res, err := w.cmds.Templates.Change.Handle(ctx, commands.ChangeTemplate{Actor: act(tc.account), TemplateID: tc.template, Name: &name})
			wantCode(t, err, tc.code)
			if tc.code == "" && (res.Position == 0 || loadTemplate(t, w, tc.template).Name() != name) {
				t.Fatalf("%s's change of %s not recorded", tc.account, tc.template)
			}
			// Every editing command asks the same question.
			_, err = w.cmds.Templates.Disable.Handle(ctx, commands.DisableTemplate{Actor: act(tc.account), TemplateID: tc.template})
			wantCode(t, err, tc.code)
			_, err = w.cmds.Templates.AddRole.Handle(ctx, commands.AddTemplateRole{Actor: act(tc.account), TemplateID: tc.template, Name: name, Kind: layout.Person, Order: 1})
			wantCode(t, err, tc.code)
		}
	})

	t.Run("use", func(t *testing.T) {
		for _, tc := range []struct {
			template, account, code string
		}{
			{ent, "creator", ""},
			{ent, "member", ""},
			{ent, "admin", ""},
			{ent, "master", ""},
			{ent, "outsider", "not_template_user"},
			{ent, "leaver", "not_template_user"},
			{left, "member", ""},
			{personal, "person", ""},
			{personal, "master", "not_template_user"},
		} {
			err := commands.MayUseTemplate(ctx, w.store, loadTemplate(t, w, tc.template), tc.account)
			wantCode(t, err, tc.code)
			if tc.code != "" {
				if f, _ := fault.As(err); f.Kind != fault.Forbidden {
					t.Fatalf("kind %d", f.Kind)
				}
			}
		}
	})
}

// blobSpy records what is stored.
type blobSpy struct {
	commands.Blobs
	mu   sync.Mutex
	puts []blob.Ref
}

func (b *blobSpy) Put(ctx context.Context, data []byte, mediaType string) (blob.Ref, error) {
	ref, err := b.Blobs.Put(ctx, data, mediaType)
	b.mu.Lock()
	b.puts = append(b.puts, ref)
	b.mu.Unlock()
	return ref, err
}

func withBlobSpy(spy *blobSpy) option {
	return func(_ *world, d *commands.Deps) { spy.Blobs = d.Verification.Blobs; d.Verification.Blobs = spy }
}

func pdfOf(t *testing.T, pages int) []byte {
	t.Helper()
	data, err := pdfdoc.New().Blank(pages)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestTemplateBuild(t *testing.T) {
	spy := &blobSpy{}
	w := newWorld(t, withBlobSpy(spy))
	eid := givenEnterprise(t, w, map[string]enterprise.Role{"master": enterprise.MasterAdmin, "creator": enterprise.Member})
	a := act("creator")
	id := createTemplate(t, w, "creator", eid)
	tc := w.cmds.Templates

	// 预设文档: an uploaded PDF and a blank document.
	upload := pdfOf(t, 2)
	up, err := tc.AddDocument.Handle(ctx, commands.AddTemplateDocument{Actor: a, TemplateID: id, Name: " 采购合同 ",
		File: commands.Upload{Data: upload, MediaType: commands.PDFMediaType}})
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(upload)
	if d := up.Document; d.Name != "采购合同" || d.Blank || len(d.Pages) != 2 || d.Pages[0] != layout.A4 || d.File.SHA256 != hex.EncodeToString(sum[:]) ||
		d.File.Size != int64(len(upload)) || d.File.MediaType != "application/pdf" || up.Position == 0 {
		t.Fatalf("uploaded %+v at %d", d, up.Position)
	}
	blank, err := tc.AddDocument.Handle(ctx, commands.AddTemplateDocument{Actor: a, TemplateID: id, Name: "附件", BlankPages: 3})
	if err != nil {
		t.Fatal(err)
	}
	if d := blank.Document; !d.Blank || len(d.Pages) != 3 || blank.Position <= up.Position {
		t.Fatalf("blank %+v", d)
	}
	if len(spy.puts) != 2 || spy.puts[0].SHA256 != up.Document.File.SHA256 || spy.puts[1].SHA256 != blank.Document.File.SHA256 {
		t.Fatalf("stored %+v", spy.puts)
	}
	if _, err := tc.AddDocument.Handle(ctx, commands.AddTemplateDocument{Actor: a, TemplateID: id, Name: "x", BlankPages: -1}); err == nil {
		t.Fatal("negative pages")
	}
	_, err = tc.AddDocument.Handle(ctx, commands.AddTemplateDocument{Actor: a, TemplateID: id, Name: "x", BlankPages: pdfdoc.DefaultMaxPages + 1})
	wantCode(t, err, "blank_pages")

	// 预置签约方.
	buyer, err := tc.AddRole.Handle(ctx, commands.AddTemplateRole{Actor: a, TemplateID: id, Name: "甲方", Kind: layout.Enterprise, Order: 1})
	if err != nil {
		t.Fatal(err)
	}
	seller, err := tc.AddRole.Handle(ctx, commands.AddTemplateRole{Actor: a, TemplateID: id, Name: "乙方", Kind: layout.Person, Order: 2})
	if err != nil {
		t.Fatal(err)
	}
	if buyer.Role.ID == "" || buyer.Role.ID == seller.Role.ID || seller.Role.Name != "乙方" {
		t.Fatalf("roles %+v %+v", buyer.Role, seller.Role)
	}
	_, err = tc.AddRole.Handle(ctx, commands.AddTemplateRole{Actor: a, TemplateID: id, Name: "甲方", Kind: layout.Person, Order: 3})
	wantCode(t, err, "duplicate_role_name")
	wantCode(t, loadTemplate(t, w, id).CheckSendable(), "role_without_signing_field")

	// 指定签署位置.
	place := func(fieldID string, f layout.Field) commands.PlaceTemplateFieldResult {
		t.Helper()
		res, err := tc.PlaceField.Handle(ctx, commands.PlaceTemplateField{Actor: a, TemplateID: id, FieldID: fieldID, Field: f})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	doc := up.Document.ID
	seal := place("", layout.Field{Kind: layout.Seal, RoleID: buyer.Role.ID, DocumentID: doc, Page: 2, Rect: layout.Rect{X: 400, Y: 100, W: 120, H: 120}})
	place("", layout.Field{Kind: layout.Signature, RoleID: seller.Role.ID, DocumentID: doc, Page: 2, Rect: layout.Rect{X: 100, Y: 100, W: 120, H: 60}})
	amount := place("", layout.Field{Kind: layout.Number, Name: "金额", Required: true, DocumentID: doc, Page: 1, Rect: layout.Rect{X: 100, Y: 700, W: 150, H: 20}})
	note := place("", layout.Field{Kind: layout.Text, Name: "备注", DocumentID: blank.Document.ID, Page: 3, Rect: layout.Rect{X: 50, Y: 50, W: 200, H: 20}})
	if seal.Field.ID == "" || !seal.Field.Required || amount.Field.Name != "金额" {
		t.Fatalf("placed %+v %+v", seal.Field, amount.Field)
	}
	wantCode(t, loadTemplate(t, w, id).CheckSendable(), "")

	// Moving a field keeps its ID; placing it where it is appends nothing.
	moved := seal.Field
	moved.Page, moved.Rect.X = 1, 300
	if res := place(seal.Field.ID, moved); !reflect.DeepEqual(res.Field, moved) || res.Position == 0 {
		t.Fatalf("moved %+v at %d", res.Field, res.Position)
	}
	if res := place(seal.Field.ID, moved); !reflect.DeepEqual(res.Field, moved) || res.Position != 0 {
		t.Fatalf("placed again %+v at %d", res.Field, res.Position)
	}
	_, err = tc.PlaceField.Handle(ctx, commands.PlaceTemplateField{Actor: a, TemplateID: id, FieldID: commands.UUIDs{}.NewID(), Field: moved})
	wantCode(t, err, "field_not_found")
	_, err = tc.PlaceField.Handle(ctx, commands.PlaceTemplateField{Actor: a, TemplateID: id, Field: layout.Field{Kind: layout.Text, Name: "金额",
		DocumentID: doc, Page: 1, Rect: layout.Rect{X: 1, Y: 1, W: 10, H: 10}}})
	wantCode(t, err, "duplicate_field_name")

	// Details, nil meaning unchanged; the same details append nothing.
	ct, seq := "买卖合同", true
	ch, err := tc.Change.Handle(ctx, commands.ChangeTemplate{Actor: a, TemplateID: id, ContractType: &ct, Sequential: &seq})
	if err != nil || ch.Name != "采购模板" || ch.ContractType != "买卖合同" || !ch.Sequential || ch.Position == 0 {
		t.Fatalf("change %+v %v", ch, err)
	}
	if ch, err := tc.Change.Handle(ctx, commands.ChangeTemplate{Actor: a, TemplateID: id, Sequential: &seq}); err != nil || ch.Position != 0 {
		t.Fatalf("same details %+v %v", ch, err)
	}

	// Disable and enable; twice is no change.
	st, err := tc.Disable.Handle(ctx, commands.DisableTemplate{Actor: a, TemplateID: id})
	if err != nil || !st.Disabled || st.Position == 0 {
		t.Fatalf("disable %+v %v", st, err)
	}
	if st, err := tc.Disable.Handle(ctx, commands.DisableTemplate{Actor: a, TemplateID: id}); err != nil || !st.Disabled || st.Position != 0 {
		t.Fatalf("disable again %+v %v", st, err)
	}
	wantCode(t, loadTemplate(t, w, id).CheckSendable(), "template_disabled")
	if st, err := tc.Enable.Handle(ctx, commands.EnableTemplate{Actor: a, TemplateID: id}); err != nil || st.Disabled || st.Position == 0 {
		t.Fatalf("enable %+v %v", st, err)
	}

	// Removals take what depends on them.
	if res, err := tc.RemoveDocument.Handle(ctx, commands.RemoveTemplateDocument{Actor: a, TemplateID: id, DocumentID: blank.Document.ID}); err != nil || res.Position == 0 {
		t.Fatalf("remove document %v", err)
	}
	if _, ok := loadTemplate(t, w, id).Field(note.Field.ID); ok {
		t.Fatal("the field on the removed document stayed")
	}
	if _, err := tc.RemoveRole.Handle(ctx, commands.RemoveTemplateRole{Actor: a, TemplateID: id, RoleID: seller.Role.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := tc.RemoveField.Handle(ctx, commands.RemoveTemplateField{Actor: a, TemplateID: id, FieldID: amount.Field.ID}); err != nil {
		t.Fatal(err)
	}
	_, err = tc.RemoveField.Handle(ctx, commands.RemoveTemplateField{Actor: a, TemplateID: id, FieldID: amount.Field.ID})
	wantCode(t, err, "field_not_found")

	final := loadTemplate(t, w, id)
	s := final.Snapshot()
	if len(s.Documents) != 1 || len(s.Roles) != 1 || len(s.Fields) != 1 || s.Fields[0].ID != seal.Field.ID || s.Fields[0].Page != 1 {
		t.Fatalf("final %+v", s)
	}
	wantCode(t, final.CheckSendable(), "")

	// Every event names who did it, for whom, from where.
	envs, err := w.store.ReadStream(ctx, template.StreamOf(id), 1, event.Forwards, 0)
	if err != nil {
		t.Fatal(err)
	}
	if uint64(len(envs)) != final.Version() {
		t.Fatalf("%d events, version %d", len(envs), final.Version())
	}
	for _, env := range envs {
		if m := env.Meta; m.Actor != "creator" || m.Enterprise != eid || m.ClientIP != "10.0.0.9" || m.CorrelationID != "corr-creator" {
			t.Fatalf("%s meta %+v", env.Type, m)
		}
	}
}

// The uploaded file is read only for a caller that may add it, and only
// once the document could be added.
func TestTemplateDocumentIsReadAfterTheCheck(t *testing.T) {
	w := newWorld(t)
	id := createTemplate(t, w, "person", "")
	reads := 0
	file := commands.Upload{Read: func() (commands.Upload, error) {
		reads++
		return commands.Upload{Data: []byte("%PDF-1.4 not really"), MediaType: commands.PDFMediaType}, nil
	}}
	head := w.head(t)
	for _, tc := range []struct {
		account, template, name, code string
		read                          int
	}{
		{"outsider", id, "合同", "not_template_editor", 0},
		{"person", commands.UUIDs{}.NewID(), "合同", "template_not_found", 0},
		{"person", id, " ", "missing_name", 0},
		{"person", id, "合同", "", 1}, // read, then refused by the PDF check
	} {
		_, err := w.cmds.Templates.AddDocument.Handle(ctx, commands.AddTemplateDocument{Actor: act(tc.account), TemplateID: tc.template, Name: tc.name, File: file})
		if tc.code != "" {
			wantCode(t, err, tc.code)
		} else if _, ok := fault.As(err); !ok {
			t.Fatalf("a broken PDF: %v, want a refusal", err)
		}
		if reads != tc.read {
			t.Fatalf("%s: %d reads, want %d", tc.code, reads, tc.read)
		}
		reads = 0
	}
	if w.head(t) != head {
		t.Fatal("a refused document appended")
	}
}

// racer appends a competing change to the template stream just before the
// first template append.
type racer struct {
	commands.EventStore
	race func() // run once, then cleared
}

func (r *racer) Append(ctx context.Context, stream string, expected event.ExpectedVersion, evs ...event.New) (event.AppendResult, error) {
	if race := r.race; race != nil && event.Category(stream) == template.Category && expected != event.NoStream {
		r.race = nil
		race()
	}
	return r.EventStore.Append(ctx, stream, expected, evs...)
}

// An edit that lost the race with another edit is decided again on the
// new state: both stand.
func TestTemplateEditSurvivesAConcurrentChange(t *testing.T) {
	var w *world
	var id string
	r := &racer{}
	w = newWorld(t, withEvents(func(s commands.EventStore) commands.EventStore { r.EventStore = s; return r }))
	id = createTemplate(t, w, "person", "")
	appended := w.head(t)
	r.race = func() {
		if _, err := w.cmds.Templates.AddRole.Handle(ctx, commands.AddTemplateRole{Actor: act("person"), TemplateID: id, Name: "甲方", Kind: layout.Person, Order: 1}); err != nil {
			t.Error(err)
		}
	}
	if _, err := w.cmds.Templates.AddRole.Handle(ctx, commands.AddTemplateRole{Actor: act("person"), TemplateID: id, Name: "乙方", Kind: layout.Person, Order: 2}); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, role := range loadTemplate(t, w, id).Snapshot().Roles {
		names = append(names, role.Name)
	}
	if fmt.Sprint(names) != "[甲方 乙方]" || w.head(t) != appended+2 {
		t.Fatalf("roles %v, %d events appended", names, w.head(t)-appended)
	}
	// The same name in the race: the retry sees it and refuses.
	r.race = func() {
		if _, err := w.cmds.Templates.AddRole.Handle(ctx, commands.AddTemplateRole{Actor: act("person"), TemplateID: id, Name: "丙方", Kind: layout.Person, Order: 3}); err != nil {
			t.Error(err)
		}
	}
	_, err := w.cmds.Templates.AddRole.Handle(ctx, commands.AddTemplateRole{Actor: act("person"), TemplateID: id, Name: "丙方", Kind: layout.Person, Order: 3})
	wantCode(t, err, "duplicate_role_name")
}

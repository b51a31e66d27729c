package template

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"signet/domain/event"
	"signet/domain/fault"
	"signet/domain/layout"
)

var (
	t0      = time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)
	later   = t0.Add(time.Hour)
	creator = "0190a0d2-0000-7000-8000-000000000001"
	editor  = "0190a0d2-0000-7000-8000-000000000002"
	tid     = "0190a0d2-0000-7000-8000-0000000000t1"
	eid     = "0190a0d2-0000-7000-8000-0000000000e1"
	owner   = Owner{EnterpriseID: eid, AccountID: creator}
	pdf     = layout.File{SHA256: strings.Repeat("a", 64), Size: 1234, MediaType: "application/pdf"}

	doc1    = layout.Document{ID: "d1", Name: "采购合同", File: pdf, Pages: []layout.Page{layout.A4, layout.A4}}
	doc2    = layout.Document{ID: "d2", Name: "附件", Blank: true, File: pdf, Pages: []layout.Page{layout.A4}}
	buyer   = layout.Role{ID: "r1", Name: "甲方", Kind: layout.Enterprise, Order: 1}
	seller  = layout.Role{ID: "r2", Name: "乙方", Kind: layout.Person, Order: 2}
	seal    = layout.Field{ID: "f1", Kind: layout.Seal, RoleID: "r1", Required: true, DocumentID: "d1", Page: 2, Rect: layout.Rect{X: 400, Y: 100, W: 120, H: 120}}
	sign    = layout.Field{ID: "f2", Kind: layout.Signature, RoleID: "r2", Required: true, DocumentID: "d1", Page: 2, Rect: layout.Rect{X: 100, Y: 100, W: 120, H: 60}}
	amount  = layout.Field{ID: "f3", Kind: layout.Number, Name: "金额", Required: true, DocumentID: "d1", Page: 1, Rect: layout.Rect{X: 100, Y: 700, W: 150, H: 20}}
	annexed = layout.Field{ID: "f4", Kind: layout.Text, Name: "备注", DocumentID: "d2", Page: 1, Rect: layout.Rect{X: 50, Y: 50, W: 200, H: 20}}
)

func created() Event {
	return TemplateCreated{TemplateID: tid, Owner: owner, Name: "采购模板", ContractType: "采购合同", CreatedBy: creator, CreatedAt: t0}
}

// built is a template with two documents, two roles and four fields.
func built() []Event {
	return []Event{created(),
		TemplateDocumentAdded{Document: doc1, AddedBy: creator, AddedAt: t0},
		TemplateDocumentAdded{Document: doc2, AddedBy: creator, AddedAt: t0},
		TemplateRoleAdded{Role: buyer, AddedBy: creator, AddedAt: t0},
		TemplateRoleAdded{Role: seller, AddedBy: creator, AddedAt: t0},
		TemplateFieldPlaced{Field: seal, PlacedBy: creator, PlacedAt: t0},
		TemplateFieldPlaced{Field: sign, PlacedBy: creator, PlacedAt: t0},
		TemplateFieldPlaced{Field: amount, PlacedBy: creator, PlacedAt: t0},
		TemplateFieldPlaced{Field: annexed, PlacedBy: creator, PlacedAt: t0},
	}
}

func given(t *testing.T, evs ...Event) *Template {
	t.Helper()
	tp := New()
	for _, ev := range evs {
		if err := tp.Apply(ev); err != nil {
			t.Fatalf("given %s: %v", ev.EventType(), err)
		}
	}
	return tp
}

func with[T any](v T, edit func(*T)) T {
	edit(&v)
	return v
}

func cat(parts ...[]Event) []Event {
	var out []Event
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// manyDocs are MaxDocuments documents.
func manyDocs() []Event {
	var evs []Event
	for i := range layout.MaxDocuments {
		evs = append(evs, TemplateDocumentAdded{Document: with(doc2, func(d *layout.Document) { d.ID = fmt.Sprintf("dd%d", i) })})
	}
	return evs
}

// manyFields fills the template up to MaxFields fields.
func manyFields() []Event {
	evs := built()
	for i := 4; i < layout.MaxFields; i++ {
		evs = append(evs, TemplateFieldPlaced{Field: with(sign, func(f *layout.Field) { f.ID = fmt.Sprintf("ff%d", i) })})
	}
	return evs
}

// notFault marks a refusal that is a programming error, not a *fault.Error.
const notFault = "!"

func TestDecisions(t *testing.T) {
	choice := layout.Field{ID: "f9", Kind: layout.Choice, Name: " 付款方式 ", Choices: []string{" 月结 ", "现结"}, DocumentID: "d1", Page: 1,
		Rect: layout.Rect{X: 10, Y: 10, W: 100, H: 20}}
	tests := []struct {
		name    string
		given   []Event
		do      func(tp *Template) ([]Event, error)
		want    []Event
		errCode string
	}{
		// Create.
		{"create trims and records the owner", nil,
			func(*Template) ([]Event, error) {
				return Create(tid, owner, " 采购模板 ", " 采购合同 ", true, creator, t0.Add(1500*time.Nanosecond))
			},
			[]Event{TemplateCreated{TemplateID: tid, Owner: owner, Name: "采购模板", ContractType: "采购合同", Sequential: true, CreatedBy: creator, CreatedAt: t0.Add(time.Microsecond)}}, ""},
		{"create without a contract type", nil,
			func(*Template) ([]Event, error) {
				return Create(tid, Owner{AccountID: creator}, "劳动合同", "  ", false, creator, t0)
			},
			[]Event{TemplateCreated{TemplateID: tid, Owner: Owner{AccountID: creator}, Name: "劳动合同", CreatedBy: creator, CreatedAt: t0}}, ""},
		{"create needs a name", nil,
			func(*Template) ([]Event, error) { return Create(tid, owner, " ", "", false, creator, t0) }, nil, "missing_name"},
		{"create refuses a long contract type", nil,
			func(*Template) ([]Event, error) {
				return Create(tid, owner, "采购模板", strings.Repeat("类", layout.MaxNameRunes+1), false, creator, t0)
			}, nil, "invalid_contract_type"},
		{"create: the owner is the actor", nil,
			func(*Template) ([]Event, error) { return Create(tid, owner, "采购模板", "", false, editor, t0) }, nil, notFault},

		// ChangeDetails.
		{"change details", []Event{created()},
			func(tp *Template) ([]Event, error) {
				return tp.ChangeDetails(editor, "采购模板二", "", true, later)
			},
			[]Event{TemplateDetailsChanged{Name: "采购模板二", Sequential: true, ChangedBy: editor, ChangedAt: later}}, ""},
		{"the same details change nothing", []Event{created()},
			func(tp *Template) ([]Event, error) {
				return tp.ChangeDetails(editor, " 采购模板", "采购合同 ", false, later)
			}, nil, ""},
		{"change to an unprintable name", []Event{created()},
			func(tp *Template) ([]Event, error) { return tp.ChangeDetails(editor, "a\nb", "", false, later) }, nil, "invalid_name"},
		{"change a template that does not exist", nil,
			func(tp *Template) ([]Event, error) { return tp.ChangeDetails(editor, "x", "", false, later) }, nil, "template_not_found"},

		// AddDocument.
		{"add a document", []Event{created()},
			func(tp *Template) ([]Event, error) {
				return tp.AddDocument(editor, with(doc1, func(d *layout.Document) { d.Name = " 采购合同 " }), later)
			},
			[]Event{TemplateDocumentAdded{Document: doc1, AddedBy: editor, AddedAt: later}}, ""},
		{"a document ID once", cat([]Event{created()}, []Event{TemplateDocumentAdded{Document: doc1}}),
			func(tp *Template) ([]Event, error) { return tp.AddDocument(editor, doc1, later) }, nil, "document_exists"},
		{"at most MaxDocuments documents", cat([]Event{created()}, manyDocs()),
			func(tp *Template) ([]Event, error) { return tp.AddDocument(editor, doc1, later) }, nil, "too_many_documents"},
		{"a document has pages", []Event{created()},
			func(tp *Template) ([]Event, error) {
				return tp.AddDocument(editor, with(doc1, func(d *layout.Document) { d.Pages = nil }), later)
			}, nil, "document_without_pages"},
		{"a page has a size", []Event{created()},
			func(tp *Template) ([]Event, error) {
				return tp.AddDocument(editor, with(doc1, func(d *layout.Document) { d.Pages = []layout.Page{layout.A4, {W: math.NaN(), H: 10}} }), later)
			}, nil, "invalid_page_size"},
		{"a document has a name", []Event{created()},
			func(tp *Template) ([]Event, error) {
				return tp.AddDocument(editor, with(doc1, func(d *layout.Document) { d.Name = "" }), later)
			}, nil, "missing_name"},
		{"a document is stored first", []Event{created()},
			func(tp *Template) ([]Event, error) {
				return tp.AddDocument(editor, with(doc1, func(d *layout.Document) { d.File = layout.File{} }), later)
			}, nil, notFault},
		{"add a document to no template", nil,
			func(tp *Template) ([]Event, error) { return tp.AddDocument(editor, doc1, later) }, nil, "template_not_found"},

		// RemoveDocument.
		{"remove a document lists the fields on it", built(),
			func(tp *Template) ([]Event, error) { return tp.RemoveDocument(editor, "d1", later) },
			[]Event{TemplateDocumentRemoved{DocumentID: "d1", FieldIDs: []string{"f1", "f2", "f3"}, RemovedBy: editor, RemovedAt: later}}, ""},
		{"remove an unknown document", built(),
			func(tp *Template) ([]Event, error) { return tp.RemoveDocument(editor, "d9", later) }, nil, "document_not_found"},

		// AddRole.
		{"add a role", []Event{created()},
			func(tp *Template) ([]Event, error) {
				return tp.AddRole(editor, with(buyer, func(r *layout.Role) { r.Name = " 甲方 " }), later)
			},
			[]Event{TemplateRoleAdded{Role: buyer, AddedBy: editor, AddedAt: later}}, ""},
		{"a role ID once", built(),
			func(tp *Template) ([]Event, error) {
				return tp.AddRole(editor, with(buyer, func(r *layout.Role) { r.Name = "丙方" }), later)
			}, nil, "role_exists"},
		{"role names are unique", built(),
			func(tp *Template) ([]Event, error) {
				return tp.AddRole(editor, with(seller, func(r *layout.Role) { r.ID = "r3"; r.Name = "乙方 " }), later)
			}, nil, "duplicate_role_name"},
		{"a role is an enterprise or a person", []Event{created()},
			func(tp *Template) ([]Event, error) {
				return tp.AddRole(editor, with(buyer, func(r *layout.Role) { r.Kind = "robot" }), later)
			}, nil, "invalid_party_kind"},
		{"a role's order is from 1", []Event{created()},
			func(tp *Template) ([]Event, error) {
				return tp.AddRole(editor, with(buyer, func(r *layout.Role) { r.Order = 0 }), later)
			}, nil, "invalid_order"},
		{"at most MaxRoles roles", func() []Event {
			evs := []Event{created()}
			for i := range layout.MaxRoles {
				evs = append(evs, TemplateRoleAdded{Role: layout.Role{ID: fmt.Sprint("rr", i), Name: fmt.Sprint("方", i), Kind: layout.Person, Order: 1}})
			}
			return evs
		}(),
			func(tp *Template) ([]Event, error) { return tp.AddRole(editor, buyer, later) }, nil, "too_many_roles"},
		{"add a role to no template", nil,
			func(tp *Template) ([]Event, error) { return tp.AddRole(editor, buyer, later) }, nil, "template_not_found"},

		// RemoveRole.
		{"remove a role lists its signing fields", cat(built(), []Event{TemplateFieldPlaced{Field: with(seal, func(f *layout.Field) { f.ID = "f5"; f.Page = 1 })}}),
			func(tp *Template) ([]Event, error) { return tp.RemoveRole(editor, "r1", later) },
			[]Event{TemplateRoleRemoved{RoleID: "r1", FieldIDs: []string{"f1", "f5"}, RemovedBy: editor, RemovedAt: later}}, ""},
		{"remove an unknown role", built(),
			func(tp *Template) ([]Event, error) { return tp.RemoveRole(editor, "r9", later) }, nil, "role_not_found"},

		// PlaceField.
		{"place a seal", built()[:5],
			func(tp *Template) ([]Event, error) {
				return tp.PlaceField(editor, with(seal, func(f *layout.Field) { f.Required = false; f.Name = "ignored" }), later)
			},
			[]Event{TemplateFieldPlaced{Field: seal, PlacedBy: editor, PlacedAt: later}}, ""},
		{"move a field", built(),
			func(tp *Template) ([]Event, error) {
				return tp.PlaceField(editor, with(seal, func(f *layout.Field) { f.Page = 1 }), later)
			},
			[]Event{TemplateFieldPlaced{Field: with(seal, func(f *layout.Field) { f.Page = 1 }), PlacedBy: editor, PlacedAt: later}}, ""},
		{"placing a field where it is changes nothing", built(),
			func(tp *Template) ([]Event, error) { return tp.PlaceField(editor, amount, later) }, nil, ""},
		{"a business field keeps its own name", built(),
			func(tp *Template) ([]Event, error) {
				return tp.PlaceField(editor, with(amount, func(f *layout.Field) { f.Required = false }), later)
			},
			[]Event{TemplateFieldPlaced{Field: with(amount, func(f *layout.Field) { f.Required = false }), PlacedBy: editor, PlacedAt: later}}, ""},
		{"a choice field's choices are trimmed", built(),
			func(tp *Template) ([]Event, error) { return tp.PlaceField(editor, choice, later) },
			[]Event{TemplateFieldPlaced{Field: with(choice, func(f *layout.Field) { f.Name = "付款方式"; f.Choices = []string{"月结", "现结"} }), PlacedBy: editor, PlacedAt: later}}, ""},
		{"business field names are unique", built(),
			func(tp *Template) ([]Event, error) {
				return tp.PlaceField(editor, with(annexed, func(f *layout.Field) { f.Name = "金额" }), later)
			}, nil, "duplicate_field_name"},
		{"a field for an unknown role", built(),
			func(tp *Template) ([]Event, error) {
				return tp.PlaceField(editor, with(seal, func(f *layout.Field) { f.ID = "f9"; f.RoleID = "r9" }), later)
			}, nil, "unknown_role"},
		{"a person does not seal", built(),
			func(tp *Template) ([]Event, error) {
				return tp.PlaceField(editor, with(seal, func(f *layout.Field) { f.ID = "f9"; f.RoleID = "r2" }), later)
			}, nil, "seal_for_person"},
		{"a field lies on its page", built(),
			func(tp *Template) ([]Event, error) {
				return tp.PlaceField(editor, with(seal, func(f *layout.Field) { f.Rect.X = 500 }), later)
			}, nil, "field_off_page"},
		{"a field is on a page that exists", built(),
			func(tp *Template) ([]Event, error) {
				return tp.PlaceField(editor, with(annexed, func(f *layout.Field) { f.Page = 2 }), later)
			}, nil, "no_such_page"},
		{"a field is on a document of the template", built(),
			func(tp *Template) ([]Event, error) {
				return tp.PlaceField(editor, with(annexed, func(f *layout.Field) { f.DocumentID = "d9" }), later)
			}, nil, "unknown_document"},
		{"at most MaxFields fields", manyFields(),
			func(tp *Template) ([]Event, error) {
				return tp.PlaceField(editor, with(sign, func(f *layout.Field) { f.ID = "one-more" }), later)
			}, nil, "too_many_fields"},
		{"a full template still moves its fields", manyFields(),
			func(tp *Template) ([]Event, error) {
				return tp.PlaceField(editor, with(sign, func(f *layout.Field) { f.Page = 1 }), later)
			},
			[]Event{TemplateFieldPlaced{Field: with(sign, func(f *layout.Field) { f.Page = 1 }), PlacedBy: editor, PlacedAt: later}}, ""},
		{"a field needs an ID", built(),
			func(tp *Template) ([]Event, error) {
				return tp.PlaceField(editor, with(seal, func(f *layout.Field) { f.ID = "" }), later)
			}, nil, notFault},
		{"place a field on no template", nil,
			func(tp *Template) ([]Event, error) { return tp.PlaceField(editor, seal, later) }, nil, "template_not_found"},

		// RemoveField.
		{"remove a field", built(),
			func(tp *Template) ([]Event, error) { return tp.RemoveField(editor, "f3", later) },
			[]Event{TemplateFieldRemoved{FieldID: "f3", RemovedBy: editor, RemovedAt: later}}, ""},
		{"remove an unknown field", built(),
			func(tp *Template) ([]Event, error) { return tp.RemoveField(editor, "f9", later) }, nil, "field_not_found"},

		// Disable and Enable.
		{"disable", built(),
			func(tp *Template) ([]Event, error) { return tp.Disable(editor, later) },
			[]Event{TemplateDisabled{By: editor, At: later}}, ""},
		{"disable twice changes nothing", cat(built(), []Event{TemplateDisabled{}}),
			func(tp *Template) ([]Event, error) { return tp.Disable(editor, later) }, nil, ""},
		{"enable", cat(built(), []Event{TemplateDisabled{}}),
			func(tp *Template) ([]Event, error) { return tp.Enable(editor, later) },
			[]Event{TemplateEnabled{By: editor, At: later}}, ""},
		{"enable an enabled template changes nothing", built(),
			func(tp *Template) ([]Event, error) { return tp.Enable(editor, later) }, nil, ""},
		{"a disabled template can be edited", cat(built(), []Event{TemplateDisabled{}}),
			func(tp *Template) ([]Event, error) { return tp.RemoveField(editor, "f4", later) },
			[]Event{TemplateFieldRemoved{FieldID: "f4", RemovedBy: editor, RemovedAt: later}}, ""},
		{"disable no template", nil,
			func(tp *Template) ([]Event, error) { return tp.Disable(editor, later) }, nil, "template_not_found"},
		{"enable no template", nil,
			func(tp *Template) ([]Event, error) { return tp.Enable(editor, later) }, nil, "template_not_found"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tp := given(t, tc.given...)
			before := tp.Snapshot()
			got, err := tc.do(tp)
			switch tc.errCode {
			case "":
				if err != nil {
					t.Fatalf("error %v", err)
				}
			case notFault:
				if _, ok := fault.As(err); err == nil || ok {
					t.Fatalf("error %v, want a programming error", err)
				}
			default:
				if f, ok := fault.As(err); !ok || f.Code != tc.errCode {
					t.Fatalf("error %v, want code %s", err, tc.errCode)
				}
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("events\n got %#v\nwant %#v", got, tc.want)
			}
			if !reflect.DeepEqual(tp.Snapshot(), before) {
				t.Fatal("a decision changed the template")
			}
			// Whatever was decided applies cleanly.
			for _, ev := range got {
				if err := tp.Apply(ev); err != nil {
					t.Fatalf("apply %s: %v", ev.EventType(), err)
				}
			}
		})
	}
}

// A decision does not change what the caller passed in.
func TestPlaceFieldLeavesItsInputAlone(t *testing.T) {
	tp := given(t, built()...)
	choices := []string{" 月结 ", "现结"}
	f := layout.Field{ID: "f9", Kind: layout.Choice, Name: "付款方式", Choices: choices, DocumentID: "d1", Page: 1, Rect: layout.Rect{X: 10, Y: 10, W: 100, H: 20}}
	if _, err := tp.PlaceField(editor, f, later); err != nil {
		t.Fatal(err)
	}
	if choices[0] != " 月结 " {
		t.Fatalf("input choices changed: %q", choices)
	}
}

func TestRemovalsTakeTheirFields(t *testing.T) {
	tp := given(t, cat(built(), []Event{
		TemplateDocumentRemoved{DocumentID: "d2", FieldIDs: []string{"f4"}},
		TemplateRoleRemoved{RoleID: "r2", FieldIDs: []string{"f2"}},
	})...)
	s := tp.Snapshot()
	var ids []string
	for _, f := range s.Fields {
		ids = append(ids, f.ID)
	}
	if got := strings.Join(ids, ","); got != "f1,f3" {
		t.Fatalf("fields left %s, want f1,f3", got)
	}
	if len(s.Documents) != 1 || s.Documents[0].ID != "d1" || len(s.Roles) != 1 || s.Roles[0].ID != "r1" {
		t.Fatalf("documents %v roles %v", s.Documents, s.Roles)
	}
	if _, ok := tp.Field("f2"); ok {
		t.Fatal("f2 is still there")
	}
	if tp.Version() != uint64(len(built())+2) {
		t.Fatalf("version %d", tp.Version())
	}
}

func TestSnapshotIsACopyWithRolesInSigningOrder(t *testing.T) {
	tp := given(t, cat(built(), []Event{
		TemplateRoleAdded{Role: layout.Role{ID: "r3", Name: "丙方", Kind: layout.Person, Order: 1}},
		TemplateRoleAdded{Role: layout.Role{ID: "r4", Name: "B", Kind: layout.Person, Order: 2}},
		TemplateFieldPlaced{Field: layout.Field{ID: "f6", Kind: layout.Choice, Name: "方式", Choices: []string{"甲", "乙"}, DocumentID: "d1", Page: 1, Rect: amount.Rect}},
	})...)
	s := tp.Snapshot()
	var order []string
	for _, r := range s.Roles {
		order = append(order, fmt.Sprint(r.Order, r.Name))
	}
	if got := strings.Join(order, " "); got != "1丙方 1甲方 2B 2乙方" {
		t.Fatalf("roles in order %s", got)
	}
	s.Documents[0].Pages[0].W = 1
	s.Fields[len(s.Fields)-1].Choices[0] = "x"
	s.Roles[0].Name = "x"
	again := tp.Snapshot()
	if again.Documents[0].Pages[0] != layout.A4 || again.Fields[len(again.Fields)-1].Choices[0] != "甲" || again.Roles[0].Name != "丙方" {
		t.Fatal("changing a snapshot changed the template")
	}
	if s.Name != "采购模板" || s.ContractType != "采购合同" || s.Sequential {
		t.Fatalf("details %q %q %v", s.Name, s.ContractType, s.Sequential)
	}
}

func TestCheckSendable(t *testing.T) {
	tests := []struct {
		name    string
		given   []Event
		code    string
		message string
	}{
		{"a complete template", built(), "", ""},
		{"no such template", nil, "template_not_found", ""},
		{"disabled", cat(built(), []Event{TemplateDisabled{}}), "template_disabled", "disabled"},
		{"no document", []Event{created(), TemplateRoleAdded{Role: buyer}}, "template_without_document", ""},
		{"no role", []Event{created(), TemplateDocumentAdded{Document: doc1}}, "template_without_role", ""},
		{"an enterprise role without a seal", cat(built(), []Event{TemplateFieldRemoved{FieldID: "f1"}}), "role_without_signing_field", "甲方 has no seal field"},
		{"a person role without a signature", cat(built(), []Event{TemplateFieldRemoved{FieldID: "f2"}}), "role_without_signing_field", "乙方 has no signature field"},
		{"a date is no signature", cat(built(), []Event{TemplateFieldRemoved{FieldID: "f2"},
			TemplateFieldPlaced{Field: with(sign, func(f *layout.Field) { f.ID = "f7"; f.Kind = layout.SignDate })}}), "role_without_signing_field", "乙方"},
		{"removing the document leaves roles without fields", cat(built(), []Event{TemplateDocumentAdded{Document: with(doc1, func(d *layout.Document) { d.ID = "d3" })},
			TemplateDocumentRemoved{DocumentID: "d1"}}), "role_without_signing_field", "甲方"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := given(t, tc.given...).CheckSendable()
			if tc.code == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			f, ok := fault.As(err)
			if !ok || f.Code != tc.code || !strings.Contains(f.Message, tc.message) {
				t.Fatalf("error %v, want %s with %q", err, tc.code, tc.message)
			}
			if tc.code != "template_not_found" && f.Kind != fault.Rule {
				t.Fatalf("kind %d, want Rule", f.Kind)
			}
		})
	}
}

func envelopes(t *testing.T, evs []Event) []event.Envelope {
	t.Helper()
	var envs []event.Envelope
	for i, ev := range evs {
		n, err := NewEvent(fmt.Sprint("e", i), ev, event.Metadata{Actor: creator, OccurredAt: t0})
		if err != nil {
			t.Fatal(err)
		}
		envs = append(envs, event.Envelope{ID: n.ID, Stream: StreamOf(tid), Version: uint64(i + 1), Type: n.Type, Schema: n.Schema, Data: n.Data})
	}
	return envs
}

// A long history, decided step by step, replays from the store's
// encoding to the same template.
func TestReplayOfALongHistory(t *testing.T) {
	tp := New()
	var history []Event
	decide := func(evs []Event, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs {
			if err := tp.Apply(ev); err != nil {
				t.Fatal(err)
			}
		}
		history = append(history, evs...)
	}
	decide(Create(tid, owner, "采购模板", "采购合同", false, creator, t0))
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * time.Minute) }
	for i := range 10 {
		decide(tp.AddDocument(editor, with(doc1, func(d *layout.Document) { d.ID = fmt.Sprint("doc", i); d.Name = fmt.Sprint("文档", i) }), at(i)))
		decide(tp.AddRole(editor, layout.Role{ID: fmt.Sprint("role", i), Name: fmt.Sprint("第", i, "方"), Kind: layout.Person, Order: 10 - i}, at(i)))
		for p := 1; p <= 2; p++ {
			decide(tp.PlaceField(editor, layout.Field{ID: fmt.Sprint("sig", i, "-", p), Kind: layout.Signature, RoleID: fmt.Sprint("role", i),
				DocumentID: fmt.Sprint("doc", i), Page: p, Rect: layout.Rect{X: 10, Y: 10, W: 100, H: 40}}, at(i)))
		}
		decide(tp.PlaceField(editor, layout.Field{ID: fmt.Sprint("biz", i), Kind: layout.Text, Name: fmt.Sprint("字段", i),
			DocumentID: "doc0", Page: 1, Rect: layout.Rect{X: 10, Y: float64(100 + 30*i), W: 100, H: 20}}, at(i)))
		decide(tp.ChangeDetails(creator, fmt.Sprint("采购模板 v", i), "采购合同", i%2 == 0, at(i)))
		if i%3 == 0 {
			decide(tp.Disable(creator, at(i)))
		} else {
			decide(tp.Enable(creator, at(i)))
		}
	}
	decide(tp.PlaceField(editor, layout.Field{ID: "sig3-1", Kind: layout.Signature, RoleID: "role3", DocumentID: "doc4", Page: 2,
		Rect: layout.Rect{X: 300, Y: 300, W: 100, H: 40}}, at(11)))
	decide(tp.RemoveDocument(editor, "doc5", at(12)))
	decide(tp.RemoveRole(editor, "role7", at(13)))
	decide(tp.RemoveField(editor, "biz9", at(14)))
	decide(tp.Enable(creator, at(15)))

	got, err := Replay(envelopes(t, history))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Snapshot(), tp.Snapshot()) || got.Version() != uint64(len(history)) || got.Version() != tp.Version() {
		t.Fatalf("replayed\n%+v\nwant\n%+v", got.Snapshot(), tp.Snapshot())
	}
	if got.ID() != tid || got.Owner() != owner || got.Disabled() || got.Name() != "采购模板 v9" {
		t.Fatalf("replayed %s %+v disabled=%v %q", got.ID(), got.Owner(), got.Disabled(), got.Name())
	}
	if err := got.CheckSendable(); err == nil || !strings.Contains(err.Error(), "第5方") {
		// role5's fields were on doc5, which is gone.
		t.Fatalf("CheckSendable = %v, want role 第5方 without its signature", err)
	}
	if f, ok := got.Field("sig3-1"); !ok || f.DocumentID != "doc4" || f.Page != 2 {
		t.Fatalf("moved field %+v %v", f, ok)
	}
}

func TestReplayRefusesBrokenStreams(t *testing.T) {
	envs := envelopes(t, built())
	gap := append(envs[:2:2], envs[3:]...)
	if _, err := Replay(gap); !errors.Is(err, event.ErrInvalid) {
		t.Fatalf("a gap: %v", err)
	}
	if _, err := Replay(envelopes(t, built()[1:])); !errors.Is(err, event.ErrInvalid) {
		t.Fatalf("no creation first: %v", err)
	}
	unknown := envelopes(t, built())
	unknown[3].Type = "TemplateSomethingElse"
	if _, err := Replay(unknown); !IsUnknownEvent(err) {
		t.Fatalf("an unknown type: %v", err)
	}
	if err := given(t, created()).Apply(fakeEvent{}); !errors.Is(err, event.ErrInvalid) {
		t.Fatalf("a foreign event: %v", err)
	}
}

type fakeEvent struct{}

func (fakeEvent) EventType() string { return "Fake" }

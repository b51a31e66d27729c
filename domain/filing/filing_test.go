package filing

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"signet/domain/event"
	"signet/domain/fault"
)

var now = time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)

func code(err error) string {
	if err == nil {
		return ""
	}
	if f, ok := fault.As(err); ok {
		return f.Code
	}
	return "error: " + err.Error()
}

func TestDeskDecisions(t *testing.T) {
	folderA := FolderCreated{FolderID: "fa", Name: "采购", CreatedAt: now}
	folderB := FolderCreated{FolderID: "fb", Name: "销售", CreatedAt: now}
	filedA := ContractFiled{ContractID: "c1", FolderID: "fa", FiledAt: now}
	trashed := ContractTrashed{ContractID: "c1", TrashedAt: now}
	many := make([]Event, 0, MaxFolders)
	for i := range MaxFolders {
		many = append(many, FolderCreated{FolderID: "f" + strings.Repeat("x", i), Name: "n" + strings.Repeat("y", i%40) + string(rune('a'+i/40)), CreatedAt: now})
	}
	tests := []struct {
		name   string
		given  []Event
		decide func(d *Desk) ([]Event, error)
		want   []Event
		err    string
	}{
		{"create a folder", nil, func(d *Desk) ([]Event, error) { return d.CreateFolder("fa", "  采购 ", now) },
			[]Event{folderA}, ""},
		{"an empty name", nil, func(d *Desk) ([]Event, error) { return d.CreateFolder("fa", " ", now) }, nil, "missing_name"},
		{"a name too long", nil, func(d *Desk) ([]Event, error) { return d.CreateFolder("fa", strings.Repeat("合", 51), now) }, nil, "invalid_name"},
		{"fifty characters are fine", nil, func(d *Desk) ([]Event, error) { return d.CreateFolder("fa", strings.Repeat("合", 50), now) },
			[]Event{FolderCreated{FolderID: "fa", Name: strings.Repeat("合", 50), CreatedAt: now}}, ""},
		{"a phone number in a name", nil, func(d *Desk) ([]Event, error) { return d.CreateFolder("fa", "张三 138 0013 8000", now) }, nil, "invalid_name"},
		{"a date in a name is fine", nil, func(d *Desk) ([]Event, error) { return d.CreateFolder("fa", "2026-12-01 合同", now) },
			[]Event{FolderCreated{FolderID: "fa", Name: "2026-12-01 合同", CreatedAt: now}}, ""},
		{"a duplicate name", []Event{folderA}, func(d *Desk) ([]Event, error) { return d.CreateFolder("fb", "采购", now) }, nil, "duplicate_folder"},
		{"a duplicate name in another case", []Event{FolderCreated{FolderID: "fa", Name: "HR", CreatedAt: now}},
			func(d *Desk) ([]Event, error) { return d.CreateFolder("fb", "hr", now) }, nil, "duplicate_folder"},
		{"the 201st folder", many, func(d *Desk) ([]Event, error) { return d.CreateFolder("new", "新的", now) }, nil, "too_many_folders"},
		{"rename", []Event{folderA}, func(d *Desk) ([]Event, error) { return d.RenameFolder("fa", "采购2026", now) },
			[]Event{FolderRenamed{FolderID: "fa", Name: "采购2026", RenamedAt: now}}, ""},
		{"rename to its own name", []Event{folderA}, func(d *Desk) ([]Event, error) { return d.RenameFolder("fa", "采购", now) }, nil, ""},
		{"rename to another folder's name", []Event{folderA, folderB}, func(d *Desk) ([]Event, error) { return d.RenameFolder("fa", "销售", now) }, nil, "duplicate_folder"},
		{"rename an unknown folder", nil, func(d *Desk) ([]Event, error) { return d.RenameFolder("fa", "x", now) }, nil, "folder_not_found"},
		{"delete", []Event{folderA, filedA}, func(d *Desk) ([]Event, error) { return d.DeleteFolder("fa", now) },
			[]Event{FolderDeleted{FolderID: "fa", DeletedAt: now}}, ""},
		{"delete an unknown folder", nil, func(d *Desk) ([]Event, error) { return d.DeleteFolder("fa", now) }, nil, "folder_not_found"},
		{"a deleted folder's name is free", []Event{folderA, FolderDeleted{FolderID: "fa", DeletedAt: now}},
			func(d *Desk) ([]Event, error) { return d.CreateFolder("fc", "采购", now) }, []Event{FolderCreated{FolderID: "fc", Name: "采购", CreatedAt: now}}, ""},
		{"file", []Event{folderA}, func(d *Desk) ([]Event, error) { return d.File("c1", "fa", now) }, []Event{filedA}, ""},
		{"file again", []Event{folderA, filedA}, func(d *Desk) ([]Event, error) { return d.File("c1", "fa", now) }, nil, ""},
		{"move to another folder", []Event{folderA, folderB, filedA}, func(d *Desk) ([]Event, error) { return d.File("c1", "fb", now) },
			[]Event{ContractFiled{ContractID: "c1", FolderID: "fb", From: "fa", FiledAt: now}}, ""},
		{"file into an unknown folder", nil, func(d *Desk) ([]Event, error) { return d.File("c1", "fa", now) }, nil, "folder_not_found"},
		{"file from the bin", []Event{folderA, trashed}, func(d *Desk) ([]Event, error) { return d.File("c1", "fa", now) }, nil, "in_trash"},
		{"after its folder is deleted the contract is in none", []Event{folderA, filedA, FolderDeleted{FolderID: "fa", DeletedAt: now}, folderB},
			func(d *Desk) ([]Event, error) { return d.File("c1", "fb", now) }, []Event{ContractFiled{ContractID: "c1", FolderID: "fb", FiledAt: now}}, ""},
		{"unfile", []Event{folderA, filedA}, func(d *Desk) ([]Event, error) { return d.Unfile("c1", "fa", now) },
			[]Event{ContractUnfiled{ContractID: "c1", FolderID: "fa", UnfiledAt: now}}, ""},
		{"unfile from a folder it is not in", []Event{folderA, folderB, filedA}, func(d *Desk) ([]Event, error) { return d.Unfile("c1", "fb", now) }, nil, ""},
		{"archive", nil, func(d *Desk) ([]Event, error) { return d.Archive("c1", now) }, []Event{ContractArchived{ContractID: "c1", ArchivedAt: now}}, ""},
		{"archive twice", []Event{ContractArchived{ContractID: "c1", ArchivedAt: now}}, func(d *Desk) ([]Event, error) { return d.Archive("c1", now) }, nil, ""},
		{"archive from the bin", []Event{trashed}, func(d *Desk) ([]Event, error) { return d.Archive("c1", now) }, nil, "in_trash"},
		{"unarchive", []Event{ContractArchived{ContractID: "c1", ArchivedAt: now}}, func(d *Desk) ([]Event, error) { return d.Unarchive("c1", now) },
			[]Event{ContractUnarchived{ContractID: "c1", UnarchivedAt: now}}, ""},
		{"unarchive one not archived", nil, func(d *Desk) ([]Event, error) { return d.Unarchive("c1", now) }, nil, ""},
		{"trash", nil, func(d *Desk) ([]Event, error) { return d.Trash("c1", now) }, []Event{trashed}, ""},
		{"trash twice", []Event{trashed}, func(d *Desk) ([]Event, error) { return d.Trash("c1", now) }, nil, ""},
		{"restore", []Event{trashed}, func(d *Desk) ([]Event, error) { return d.Restore("c1", now) }, []Event{ContractRestored{ContractID: "c1", RestoredAt: now}}, ""},
		{"restore one not in the bin", nil, func(d *Desk) ([]Event, error) { return d.Restore("c1", now) }, nil, ""},
		{"delete for good from the bin, leaving its folder", []Event{folderA, filedA, ContractArchived{ContractID: "c1", ArchivedAt: now}, trashed},
			func(d *Desk) ([]Event, error) { return d.DeleteForMe("c1", now) }, []Event{ContractDeletedForMe{ContractID: "c1", FolderID: "fa", DeletedAt: now}}, ""},
		{"delete for good outside the bin", nil, func(d *Desk) ([]Event, error) { return d.DeleteForMe("c1", now) }, nil, "not_in_trash"},
		{"deleted for good is final", []Event{trashed, ContractDeletedForMe{ContractID: "c1", DeletedAt: now}},
			func(d *Desk) ([]Event, error) { return d.Restore("c1", now) }, nil, "contract_deleted"},
		{"deleted for good cannot be filed", []Event{folderA, trashed, ContractDeletedForMe{ContractID: "c1", DeletedAt: now}},
			func(d *Desk) ([]Event, error) { return d.File("c1", "fa", now) }, nil, "contract_deleted"},
		{"deleted for good cannot be trashed again", []Event{trashed, ContractDeletedForMe{ContractID: "c1", DeletedAt: now}},
			func(d *Desk) ([]Event, error) { return d.Trash("c1", now) }, nil, "contract_deleted"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := NewDesk()
			for _, e := range tc.given {
				if err := d.Apply(e); err != nil {
					t.Fatal(err)
				}
			}
			got, err := tc.decide(d)
			if code(err) != tc.err {
				t.Fatalf("error %q, want %q", code(err), tc.err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("events %#v\nwant %#v", got, tc.want)
			}
		})
	}
}

func TestTagsDecisions(t *testing.T) {
	red := TagDefined{TagID: "t1", Name: "重要", Color: "#FF0000", DefinedBy: "a", DefinedAt: now}
	tagged := ContractTagged{ContractID: "c1", TagID: "t1", TaggedBy: "a", TaggedAt: now}
	var many []Event
	for i := range MaxTags {
		many = append(many, TagDefined{TagID: "t" + strings.Repeat("x", i), Name: "n" + strings.Repeat("y", i), DefinedAt: now})
	}
	tests := []struct {
		name   string
		given  []Event
		decide func(g *Tags) ([]Event, error)
		want   []Event
		err    string
	}{
		{"define", nil, func(g *Tags) ([]Event, error) { return g.Define("t1", "重要", "#ff0000", "a", now) }, []Event{red}, ""},
		{"define without a color", nil, func(g *Tags) ([]Event, error) { return g.Define("t1", "重要", "", "a", now) },
			[]Event{TagDefined{TagID: "t1", Name: "重要", DefinedBy: "a", DefinedAt: now}}, ""},
		{"a bad color", nil, func(g *Tags) ([]Event, error) { return g.Define("t1", "重要", "red", "a", now) }, nil, "invalid_color"},
		{"a duplicate name", []Event{red}, func(g *Tags) ([]Event, error) { return g.Define("t2", "重要", "", "a", now) }, nil, "duplicate_tag"},
		{"the 101st tag", many, func(g *Tags) ([]Event, error) { return g.Define("new", "新", "", "a", now) }, nil, "too_many_tags"},
		{"a long name", nil, func(g *Tags) ([]Event, error) { return g.Define("t1", strings.Repeat("x", 51), "", "a", now) }, nil, "invalid_name"},
		{"remove", []Event{red, tagged}, func(g *Tags) ([]Event, error) { return g.Remove("t1", "a", now) },
			[]Event{TagRemoved{TagID: "t1", RemovedBy: "a", RemovedAt: now}}, ""},
		{"remove an unknown tag", nil, func(g *Tags) ([]Event, error) { return g.Remove("t1", "a", now) }, nil, "tag_not_found"},
		{"tag", []Event{red}, func(g *Tags) ([]Event, error) { return g.TagContract("c1", "t1", "a", now) }, []Event{tagged}, ""},
		{"tag twice", []Event{red, tagged}, func(g *Tags) ([]Event, error) { return g.TagContract("c1", "t1", "a", now) }, nil, ""},
		{"tag with an unknown tag", nil, func(g *Tags) ([]Event, error) { return g.TagContract("c1", "t1", "a", now) }, nil, "tag_not_found"},
		{"tag with a removed tag", []Event{red, TagRemoved{TagID: "t1", RemovedAt: now}},
			func(g *Tags) ([]Event, error) { return g.TagContract("c1", "t1", "a", now) }, nil, "tag_not_found"},
		{"untag", []Event{red, tagged}, func(g *Tags) ([]Event, error) { return g.UntagContract("c1", "t1", "b", now) },
			[]Event{ContractUntagged{ContractID: "c1", TagID: "t1", UntaggedBy: "b", UntaggedAt: now}}, ""},
		{"untag one not tagged", []Event{red}, func(g *Tags) ([]Event, error) { return g.UntagContract("c1", "t1", "b", now) }, nil, ""},
		{"a name freed by removal", []Event{red, TagRemoved{TagID: "t1", RemovedAt: now}},
			func(g *Tags) ([]Event, error) { return g.Define("t2", "重要", "", "a", now) }, []Event{TagDefined{TagID: "t2", Name: "重要", DefinedBy: "a", DefinedAt: now}}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := NewTags()
			for _, e := range tc.given {
				if err := g.Apply(e); err != nil {
					t.Fatal(err)
				}
			}
			got, err := tc.decide(g)
			if code(err) != tc.err {
				t.Fatalf("error %q, want %q", code(err), tc.err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("events %#v\nwant %#v", got, tc.want)
			}
		})
	}
}

// TestEventsRoundTrip stores each event type and reads it back.
func TestEventsRoundTrip(t *testing.T) {
	evs := []Event{
		FolderCreated{FolderID: "f", Name: "n", CreatedAt: now}, FolderRenamed{FolderID: "f", Name: "m", RenamedAt: now},
		FolderDeleted{FolderID: "f", DeletedAt: now}, ContractFiled{ContractID: "c", FolderID: "f", From: "g", FiledAt: now},
		ContractUnfiled{ContractID: "c", FolderID: "f", UnfiledAt: now}, ContractArchived{ContractID: "c", ArchivedAt: now},
		ContractUnarchived{ContractID: "c", UnarchivedAt: now}, ContractTrashed{ContractID: "c", TrashedAt: now},
		ContractRestored{ContractID: "c", RestoredAt: now}, ContractDeletedForMe{ContractID: "c", FolderID: "f", DeletedAt: now},
		TagDefined{TagID: "t", Name: "n", Color: "#000000", DefinedBy: "a", DefinedAt: now}, TagRemoved{TagID: "t", RemovedBy: "a", RemovedAt: now},
		ContractTagged{ContractID: "c", TagID: "t", TaggedBy: "a", TaggedAt: now}, ContractUntagged{ContractID: "c", TagID: "t", UntaggedBy: "a", UntaggedAt: now},
	}
	for i, e := range evs {
		n, err := NewEvent("id", e, event.Metadata{})
		if err != nil {
			t.Fatal(err)
		}
		if !Has(n.Type) {
			t.Fatalf("%s not registered", n.Type)
		}
		back, err := DecodeEnvelope(event.Envelope{Stream: "desk-x", Version: uint64(i + 1), Type: n.Type, Schema: n.Schema, Data: n.Data})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(back, e) {
			t.Fatalf("%s: read back %#v", n.Type, back)
		}
	}
	if d := NewDesk(); d.Apply(TagDefined{}) == nil {
		t.Fatal("a desk applied a tag event")
	}
	if g := NewTags(); g.Apply(FolderCreated{}) == nil {
		t.Fatal("tags applied a desk event")
	}
}

func FuzzCheckName(f *testing.F) {
	for _, s := range []string{"采购", " a ", "138 0013 8000", "１３８００１３８０００", "2026-12-01", "\x00", strings.Repeat("x", 60)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		name, err := CheckName("name", s)
		if err != nil {
			if _, ok := fault.As(err); !ok {
				t.Fatalf("not a refusal: %v", err)
			}
			return
		}
		if name == "" || len([]rune(name)) > MaxNameRunes || name != strings.TrimSpace(name) || longDigitRun(name) {
			t.Fatalf("accepted %q as %q", s, name)
		}
	})
}

func FuzzCheckColor(f *testing.F) {
	for _, s := range []string{"", "#aabbcc", "#AABBCC", "red", "#12345", "#1234567"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := CheckColor(s)
		if err != nil {
			return
		}
		if c != "" && (len(c) != 7 || c[0] != '#' || strings.ToUpper(c) != c) {
			t.Fatalf("accepted %q as %q", s, c)
		}
	})
}

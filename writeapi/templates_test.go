package writeapi

import (
	"bytes"
	"context"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gorilla/mux"

	"signet/commands"
	"signet/domain/fault"
	"signet/domain/layout"
	"signet/infra/web"
)

// fake is a command handler that records its command and answers as told.
type fake[C, R any] struct {
	got    []C
	answer func(C) (R, error)
}

func (f *fake[C, R]) Handle(_ context.Context, c C) (R, error) {
	f.got = append(f.got, c)
	return f.answer(c)
}

func (f *fake[C, R]) last(t *testing.T) C {
	t.Helper()
	if len(f.got) == 0 {
		t.Fatal("the command was not called")
	}
	return f.got[len(f.got)-1]
}

type templateFakes struct {
	create  *fake[commands.CreateTemplate, commands.CreateTemplateResult]
	change  *fake[commands.ChangeTemplate, commands.ChangeTemplateResult]
	addDoc  *fake[commands.AddTemplateDocument, commands.AddTemplateDocumentResult]
	rmDoc   *fake[commands.RemoveTemplateDocument, commands.Written]
	addRole *fake[commands.AddTemplateRole, commands.AddTemplateRoleResult]
	rmRole  *fake[commands.RemoveTemplateRole, commands.Written]
	place   *fake[commands.PlaceTemplateField, commands.PlaceTemplateFieldResult]
	rmField *fake[commands.RemoveTemplateField, commands.Written]
	disable *fake[commands.DisableTemplate, commands.TemplateStateResult]
	enable  *fake[commands.EnableTemplate, commands.TemplateStateResult]
	// read is what AddDocument's fake read from the upload.
	read    commands.Upload
	readErr error
}

const tid = "0190a0d2-0000-7000-8000-0000000000a1"

var pdfBytes = []byte("%PDF-1.4\n%%EOF\n")

func templateRouter(t testing.TB) (http.Handler, *templateFakes) {
	f := &templateFakes{
		create: &fake[commands.CreateTemplate, commands.CreateTemplateResult]{answer: func(commands.CreateTemplate) (commands.CreateTemplateResult, error) {
			return commands.CreateTemplateResult{TemplateID: tid, Written: commands.Written{Position: 7}}, nil
		}},
		change: &fake[commands.ChangeTemplate, commands.ChangeTemplateResult]{answer: func(c commands.ChangeTemplate) (commands.ChangeTemplateResult, error) {
			return commands.ChangeTemplateResult{Name: "新名", Sequential: true}, nil
		}},
		rmDoc: &fake[commands.RemoveTemplateDocument, commands.Written]{answer: func(commands.RemoveTemplateDocument) (commands.Written, error) {
			return commands.Written{Position: 9}, nil
		}},
		addRole: &fake[commands.AddTemplateRole, commands.AddTemplateRoleResult]{answer: func(c commands.AddTemplateRole) (commands.AddTemplateRoleResult, error) {
			return commands.AddTemplateRoleResult{Role: layout.Role{ID: "r1", Name: c.Name, Kind: c.Kind, Order: c.Order}, Written: commands.Written{Position: 10}}, nil
		}},
		rmRole: &fake[commands.RemoveTemplateRole, commands.Written]{answer: func(commands.RemoveTemplateRole) (commands.Written, error) {
			return commands.Written{}, fault.New(fault.NotFound, "role_not_found", "The template has no such role.")
		}},
		place: &fake[commands.PlaceTemplateField, commands.PlaceTemplateFieldResult]{answer: func(c commands.PlaceTemplateField) (commands.PlaceTemplateFieldResult, error) {
			fl := c.Field
			fl.ID = c.FieldID
			if fl.ID == "" {
				fl.ID = "f-new"
			}
			return commands.PlaceTemplateFieldResult{Field: fl, Written: commands.Written{Position: 11}}, nil
		}},
		rmField: &fake[commands.RemoveTemplateField, commands.Written]{answer: func(commands.RemoveTemplateField) (commands.Written, error) {
			return commands.Written{Position: 12}, nil
		}},
		disable: &fake[commands.DisableTemplate, commands.TemplateStateResult]{answer: func(commands.DisableTemplate) (commands.TemplateStateResult, error) {
			return commands.TemplateStateResult{Disabled: true, Written: commands.Written{Position: 13}}, nil
		}},
		enable: &fake[commands.EnableTemplate, commands.TemplateStateResult]{answer: func(commands.EnableTemplate) (commands.TemplateStateResult, error) {
			return commands.TemplateStateResult{}, nil
		}},
	}
	f.addDoc = &fake[commands.AddTemplateDocument, commands.AddTemplateDocumentResult]{answer: func(c commands.AddTemplateDocument) (commands.AddTemplateDocumentResult, error) {
		if c.Actor.AccountID == "outsider" {
			// Refused before the file is read.
			return commands.AddTemplateDocumentResult{}, fault.New(fault.Forbidden, "not_template_editor", "no")
		}
		if c.BlankPages == 0 {
			f.read, f.readErr = c.File.Read()
			if f.readErr != nil {
				return commands.AddTemplateDocumentResult{}, f.readErr
			}
		}
		return commands.AddTemplateDocumentResult{Document: layout.Document{ID: "d1", Name: c.Name, Blank: c.BlankPages > 0,
			File: layout.File{SHA256: strings.Repeat("b", 64), Size: 15, MediaType: "application/pdf"}, Pages: []layout.Page{layout.A4}},
			Written: commands.Written{Position: 8}}, nil
	}}
	cmds := commands.Commands{Templates: commands.TemplateCommands{Create: f.create, Change: f.change, AddDocument: f.addDoc, RemoveDocument: f.rmDoc,
		AddRole: f.addRole, RemoveRole: f.rmRole, PlaceField: f.place, RemoveField: f.rmField, Disable: f.disable, Enable: f.enable}}
	r := mux.NewRouter()
	pass := func(h http.Handler) http.Handler { return h }
	Register(r, Deps{Commands: cmds, Verify: func(token string) (web.Principal, error) { return web.Principal{AccountID: token}, nil },
		FaceCallbacks: pass, BankCallbacks: pass})
	return r, f
}

type call struct {
	method, path, contentType string
	body                      []byte
	token                     string
	header                    map[string]string
}

func (c call) do(h http.Handler) *httptest.ResponseRecorder {
	r := httptest.NewRequest(c.method, c.path, bytes.NewReader(c.body))
	if c.contentType != "" {
		r.Header.Set("Content-Type", c.contentType)
	}
	for k, v := range c.header {
		r.Header.Set(k, v)
	}
	token := c.token
	if token == "" {
		token = "acc-1"
	}
	if token != "-" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}

func jsonCall(method, path, body string) call {
	return call{method: method, path: path, contentType: "application/json", body: []byte(body)}
}

func want(t *testing.T, rec *httptest.ResponseRecorder, status int, position, body string) {
	t.Helper()
	if rec.Code != status || rec.Header().Get(PositionHeader) != position || !strings.Contains(rec.Body.String(), body) {
		t.Fatalf("got %d position %q %s, want %d position %q with %s", rec.Code, rec.Header().Get(PositionHeader), rec.Body, status, position, body)
	}
}

func TestTemplateRoutes(t *testing.T) {
	h, f := templateRouter(t)
	base := "/api/v1/templates/" + tid

	rec := jsonCall(http.MethodPost, "/api/v1/templates", `{"name":"采购模板","contract_type":"采购","enterprise_id":"e1","sequential":true}`).do(h)
	want(t, rec, http.StatusCreated, "7", `{"id":"`+tid+`"}`)
	if rec.Header().Get("Location") != base {
		t.Fatalf("Location %q", rec.Header().Get("Location"))
	}
	if c := f.create.last(t); c.Actor.AccountID != "acc-1" || c.EnterpriseID != "e1" || c.Name != "采购模板" || c.ContractType != "采购" || !c.Sequential {
		t.Fatalf("create %+v", c)
	}
	want(t, call{method: http.MethodPost, path: "/api/v1/templates", token: "-"}.do(h), http.StatusUnauthorized, "", "unauthenticated")
	want(t, jsonCall(http.MethodPost, "/api/v1/templates", `{"name":"x","owner":"y"}`).do(h), http.StatusBadRequest, "", "")

	want(t, jsonCall(http.MethodPatch, base, `{"sequential":true}`).do(h), http.StatusOK, "", `{"name":"新名","contract_type":"","sequential":true}`)
	if c := f.change.last(t); c.TemplateID != tid || c.Name != nil || c.ContractType != nil || c.Sequential == nil || !*c.Sequential {
		t.Fatalf("change %+v", c)
	}

	want(t, jsonCall(http.MethodPost, base+"/roles", `{"name":"甲方","kind":"enterprise","order":1}`).do(h),
		http.StatusCreated, "10", `{"role":{"id":"r1","name":"甲方","kind":"enterprise","order":1}}`)
	want(t, call{method: http.MethodDelete, path: base + "/roles/r9"}.do(h), http.StatusNotFound, "", "role_not_found")
	if c := f.rmRole.last(t); c.RoleID != "r9" || c.TemplateID != tid {
		t.Fatalf("remove role %+v", c)
	}
	want(t, call{method: http.MethodDelete, path: base + "/documents/d1"}.do(h), http.StatusNoContent, "9", "")

	field := `{"kind":"choice","name":"付款方式","required":true,"choices":["月结","现结"],"document_id":"d1","page":1,"rect":{"x":10,"y":20,"w":100,"h":20}}`
	want(t, jsonCall(http.MethodPost, base+"/fields", field).do(h), http.StatusCreated, "11",
		`{"field":{"id":"f-new","kind":"choice","name":"付款方式","required":true,"choices":["月结","现结"],"document_id":"d1","page":1,"rect":{"x":10,"y":20,"w":100,"h":20}}}`)
	if c := f.place.last(t); c.FieldID != "" || c.Field.Kind != layout.Choice || c.Field.Rect != (layout.Rect{X: 10, Y: 20, W: 100, H: 20}) || len(c.Field.Choices) != 2 {
		t.Fatalf("place %+v", c)
	}
	want(t, jsonCall(http.MethodPut, base+"/fields/f7", `{"kind":"seal","role_id":"r1","document_id":"d1","page":2,"rect":{"x":1,"y":2,"w":50,"h":50}}`).do(h),
		http.StatusOK, "11", `"id":"f7","kind":"seal","role_id":"r1"`)
	if c := f.place.last(t); c.FieldID != "f7" || c.Field.RoleID != "r1" || c.Field.Page != 2 {
		t.Fatalf("move %+v", c)
	}
	want(t, jsonCall(http.MethodPost, base+"/fields", `{"kind":"seal","rect":{"x":1,"y":2,"w":3,"h":4,"z":5}}`).do(h), http.StatusBadRequest, "", "")
	want(t, call{method: http.MethodDelete, path: base + "/fields/f7"}.do(h), http.StatusNoContent, "12", "")

	want(t, call{method: http.MethodPost, path: base + "/disable"}.do(h), http.StatusOK, "13", `{"disabled":true}`)
	want(t, jsonCall(http.MethodPost, base+"/enable", `{}`).do(h), http.StatusOK, "", `{"disabled":false}`)
	want(t, jsonCall(http.MethodPost, base+"/enable", `{"now":true}`).do(h), http.StatusBadRequest, "", "")
}

func TestTemplateDocumentBodies(t *testing.T) {
	h, f := templateRouter(t)
	path := "/api/v1/templates/" + tid + "/documents"

	// A blank document, one page unless told.
	want(t, jsonCall(http.MethodPost, path, `{"blank":true,"name":"空白"}`).do(h), http.StatusCreated, "8", `"blank":true`)
	if c := f.addDoc.last(t); c.BlankPages != 1 || c.Name != "空白" || c.TemplateID != tid {
		t.Fatalf("blank %+v", c)
	}
	want(t, jsonCall(http.MethodPost, path, `{"blank":true,"name":"空白","pages":3}`).do(h), http.StatusCreated, "8", "")
	if c := f.addDoc.last(t); c.BlankPages != 3 {
		t.Fatalf("pages %d", c.BlankPages)
	}
	n := len(f.addDoc.got)
	want(t, jsonCall(http.MethodPost, path, `{"blank":true,"name":"空白","pages":0}`).do(h), http.StatusBadRequest, "", "blank_pages")
	want(t, jsonCall(http.MethodPost, path, `{"name":"空白"}`).do(h), http.StatusBadRequest, "", "blank_required")
	want(t, jsonCall(http.MethodPost, path, `{"blank":true,"file":"x"}`).do(h), http.StatusBadRequest, "", "")
	if len(f.addDoc.got) != n {
		t.Fatal("a refused body reached the command")
	}

	// A raw PDF, named by ?name= or by its file name.
	rec := call{method: http.MethodPost, path: path + "?name=%E9%87%87%E8%B4%AD%E5%90%88%E5%90%8C", contentType: "application/pdf", body: pdfBytes}.do(h)
	want(t, rec, http.StatusCreated, "8", `{"document":{"id":"d1","name":"采购合同","blank":false,"file":{"sha256":"`)
	if !bytes.Equal(f.read.Data, pdfBytes) || f.read.MediaType != "application/pdf" {
		t.Fatalf("read %q %s", f.read.Data, f.read.MediaType)
	}
	call{method: http.MethodPost, path: path, contentType: "application/pdf", body: pdfBytes,
		header: map[string]string{"Content-Disposition": `attachment; filename="C:\docs\租赁合同.PDF"`}}.do(h)
	if c := f.addDoc.last(t); c.Name != "租赁合同" {
		t.Fatalf("name from the file name: %q", c.Name)
	}

	// A form, named by its name part.
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	_ = mw.WriteField("name", "表单合同")
	fw, _ := mw.CreateFormFile("file", "x.pdf")
	_, _ = fw.Write(pdfBytes)
	_ = mw.Close()
	want(t, call{method: http.MethodPost, path: path, contentType: mw.FormDataContentType(), body: b.Bytes()}.do(h), http.StatusCreated, "8", `"name":"表单合同"`)
	if !bytes.Equal(f.read.Data, pdfBytes) {
		t.Fatal("form file not read")
	}

	// Refusals of the body itself.
	want(t, call{method: http.MethodPost, path: path, contentType: "text/plain", body: pdfBytes}.do(h), http.StatusUnsupportedMediaType, "", "unsupported_media_type")
	want(t, call{method: http.MethodPost, path: path, contentType: "application/pdf", body: []byte("\x89PNG\r\n\x1a\n")}.do(h), http.StatusUnsupportedMediaType, "", "only PDF")
	big := call{method: http.MethodPost, path: path, contentType: "application/pdf", body: append(bytes.Clone(pdfBytes), make([]byte, 20<<20)...)}.do(h)
	want(t, big, http.StatusRequestEntityTooLarge, "", "the limit of 20 MB")

	// A refused caller's file is not read.
	f.read = commands.Upload{}
	want(t, call{method: http.MethodPost, path: path + "?name=x", contentType: "application/pdf", body: pdfBytes, token: "outsider"}.do(h), http.StatusForbidden, "", "not_template_editor")
	if f.read.Data != nil {
		t.Fatal("the outsider's file was read")
	}
}

func TestDocumentName(t *testing.T) {
	for in, want := range map[string]string{"合同.pdf": "合同", "a/b/合同.PDF": "合同", `C:\x\y.Pdf`: "y", ".pdf": ".pdf", "合同": "合同", "": ""} {
		if got := documentName(in); got != want {
			t.Errorf("documentName(%q) = %q, want %q", in, got, want)
		}
	}
}

// Whatever the field body, the answer is the field the command placed or a
// refusal in the API's error shape.
func FuzzFieldBody(f *testing.F) {
	f.Add([]byte(`{"kind":"choice","name":"付款方式","choices":["月结"],"document_id":"d1","page":1,"rect":{"x":10,"y":20,"w":100,"h":20}}`))
	f.Add([]byte(`{"kind":"seal","role_id":"r1","rect":{"x":1e308,"y":-0,"w":1,"h":1}}`))
	f.Add([]byte(`{"rect":null,"choices":null}`))
	f.Add([]byte(`[]`))
	h, fakes := templateRouter(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		n := len(fakes.place.got)
		rec := call{method: http.MethodPost, path: "/api/v1/templates/" + tid + "/fields", contentType: "application/json", body: body}.do(h)
		switch rec.Code {
		case http.StatusCreated:
			var out struct{ Field fieldJSON }
			if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || len(fakes.place.got) != n+1 {
				t.Fatalf("201 with %s: %v", rec.Body, err)
			}
			sent := fakes.place.got[n].Field
			if out.Field.Kind != string(sent.Kind) || layout.Rect(out.Field.Rect) != sent.Rect || out.Field.Page != sent.Page {
				t.Fatalf("answered %+v for %+v", out.Field, sent)
			}
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
			var e web.ErrorBody
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error.Code == "" || len(fakes.place.got) != n {
				t.Fatalf("%d with %s: %v", rec.Code, rec.Body, err)
			}
		default:
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	})
}

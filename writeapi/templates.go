package writeapi

import (
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/gorilla/mux"

	"signet/commands"
	"signet/domain/fault"
	"signet/domain/layout"
	"signet/infra/upload"
	"signet/infra/web"
)

func (a *api) registerTemplates(r *mux.Router, d Deps) {
	auth := web.RequireAuth(d.Verify)
	h := func(path string, f http.HandlerFunc, method string) {
		r.Handle(path, auth(f)).Methods(method)
	}
	h("/api/v1/templates", a.createTemplate, http.MethodPost)
	h("/api/v1/templates/{id}", a.changeTemplate, http.MethodPatch)
	h("/api/v1/templates/{id}/documents", a.addTemplateDocument, http.MethodPost)
	h("/api/v1/templates/{id}/documents/{doc}", a.removeTemplateDocument, http.MethodDelete)
	h("/api/v1/templates/{id}/roles", a.addTemplateRole, http.MethodPost)
	h("/api/v1/templates/{id}/roles/{role}", a.removeTemplateRole, http.MethodDelete)
	h("/api/v1/templates/{id}/fields", a.placeTemplateField, http.MethodPost)
	h("/api/v1/templates/{id}/fields/{field}", a.placeTemplateField, http.MethodPut)
	h("/api/v1/templates/{id}/fields/{field}", a.removeTemplateField, http.MethodDelete)
	h("/api/v1/templates/{id}/disable", a.disableTemplate, http.MethodPost)
	h("/api/v1/templates/{id}/enable", a.enableTemplate, http.MethodPost)
}

type createTemplateRequest struct {
	Name         string `json:"name"`
	ContractType string `json:"contract_type"`
	EnterpriseID string `json:"enterprise_id"`
	Sequential   bool   `json:"sequential"`
}

func (a *api) createTemplate(w http.ResponseWriter, r *http.Request) {
	var req createTemplateRequest
	if err := web.DecodeJSON(w, r, &req); err != nil {
		web.WriteError(w, r, err)
		return
	}
	res, err := a.cmds.Templates.Create.Handle(r.Context(), commands.CreateTemplate{Actor: actor(r), EnterpriseID: req.EnterpriseID,
		Name: req.Name, ContractType: req.ContractType, Sequential: req.Sequential})
	if err != nil {
		fail(w, r, res.Position, err)
		return
	}
	w.Header().Set("Location", "/api/v1/templates/"+res.TemplateID)
	written(w, http.StatusCreated, res.Position, createdTemplate{ID: res.TemplateID})
}

type createdTemplate struct {
	ID string `json:"id"`
}

type changeTemplateRequest struct {
	Name         *string `json:"name"`
	ContractType *string `json:"contract_type"`
	Sequential   *bool   `json:"sequential"`
}

type templateDetails struct {
	Name         string `json:"name"`
	ContractType string `json:"contract_type"`
	Sequential   bool   `json:"sequential"`
}

func (a *api) changeTemplate(w http.ResponseWriter, r *http.Request) {
	var req changeTemplateRequest
	if err := web.DecodeJSON(w, r, &req); err != nil {
		web.WriteError(w, r, err)
		return
	}
	res, err := a.cmds.Templates.Change.Handle(r.Context(), commands.ChangeTemplate{Actor: actor(r), TemplateID: mux.Vars(r)["id"],
		Name: req.Name, ContractType: req.ContractType, Sequential: req.Sequential})
	if err != nil {
		fail(w, r, res.Position, err)
		return
	}
	written(w, http.StatusOK, res.Position, templateDetails{Name: res.Name, ContractType: res.ContractType, Sequential: res.Sequential})
}

// blankRequest asks for a blank document (空白文档).
type blankRequest struct {
	Blank bool   `json:"blank"`
	Name  string `json:"name"`
	Pages *int   `json:"pages"` // default 1
}

// The API's shapes of a template's parts, apart from the events' ones.
type (
	pageJSON struct {
		W float64 `json:"w"`
		H float64 `json:"h"`
	}
	documentJSON struct {
		ID    string     `json:"id"`
		Name  string     `json:"name"`
		Blank bool       `json:"blank"`
		File  fileJSON   `json:"file"`
		Pages []pageJSON `json:"pages"`
	}
	roleJSON struct {
		ID    string `json:"id"`
		Name  string `json:"name"`
		Kind  string `json:"kind"`
		Order int    `json:"order"`
	}
	rectJSON struct {
		X float64 `json:"x"`
		Y float64 `json:"y"`
		W float64 `json:"w"`
		H float64 `json:"h"`
	}
	fieldJSON struct {
		ID         string   `json:"id"`
		Kind       string   `json:"kind"`
		RoleID     string   `json:"role_id,omitempty"`
		Name       string   `json:"name,omitempty"`
		Required   bool     `json:"required"`
		Choices    []string `json:"choices,omitempty"`
		DocumentID string   `json:"document_id"`
		Page       int      `json:"page"`
		Rect       rectJSON `json:"rect"`
	}
)

func documentOf(d layout.Document) documentJSON {
	out := documentJSON{ID: d.ID, Name: d.Name, Blank: d.Blank, File: fileJSON{d.File.SHA256, d.File.Size, d.File.MediaType}, Pages: []pageJSON{}}
	for _, p := range d.Pages {
		out.Pages = append(out.Pages, pageJSON(p))
	}
	return out
}

func roleOf(r layout.Role) roleJSON {
	return roleJSON{ID: r.ID, Name: r.Name, Kind: string(r.Kind), Order: r.Order}
}

func fieldOf(f layout.Field) fieldJSON {
	return fieldJSON{ID: f.ID, Kind: string(f.Kind), RoleID: f.RoleID, Name: f.Name, Required: f.Required, Choices: f.Choices,
		DocumentID: f.DocumentID, Page: f.Page, Rect: rectJSON(f.Rect)}
}

type documentAdded struct {
	Document documentJSON `json:"document"`
}

// addTemplateDocument takes a PDF as the body (?name= names it), as the
// form part "file" (with an optional "name" part before it), or a JSON
// request for a blank document. Without a name, the file's name is used.
func (a *api) addTemplateDocument(w http.ResponseWriter, r *http.Request) {
	cmd := commands.AddTemplateDocument{Actor: actor(r), TemplateID: mux.Vars(r)["id"], Name: r.URL.Query().Get("name")}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/json" {
		var req blankRequest
		if err := web.DecodeJSON(w, r, &req); err != nil {
			web.WriteError(w, r, err)
			return
		}
		if !req.Blank {
			web.WriteError(w, r, fault.Invalidf("blank", "blank_required",
				`JSON adds a blank document ({"blank": true, "name": ..., "pages": n}); send a PDF as application/pdf or multipart/form-data.`))
			return
		}
		if req.Name != "" {
			cmd.Name = req.Name
		}
		cmd.BlankPages = 1
		if req.Pages != nil {
			if *req.Pages < 1 {
				web.WriteError(w, r, fault.Invalidf("pages", "blank_pages", "A blank document has at least 1 page, not %d.", *req.Pages))
				return
			}
			cmd.BlankPages = *req.Pages
		}
	} else {
		doc, err := upload.OpenPDF(r, "file", []string{"name"}, upload.MaxPDFSize)
		if err != nil {
			web.WriteError(w, r, err)
			return
		}
		if cmd.Name == "" {
			cmd.Name = doc.Fields["name"]
		}
		if strings.TrimSpace(cmd.Name) == "" {
			cmd.Name = documentName(doc.FileName)
		}
		cmd.File = commands.Upload{Read: func() (commands.Upload, error) {
			f, err := doc.Read()
			if err != nil {
				return commands.Upload{}, err
			}
			return commands.Upload{Data: f.Data, MediaType: f.MediaType}, nil
		}}
	}
	res, err := a.cmds.Templates.AddDocument.Handle(r.Context(), cmd)
	if err != nil {
		fail(w, r, res.Position, err)
		return
	}
	written(w, http.StatusCreated, res.Position, documentAdded{Document: documentOf(res.Document)})
}

// documentName is a file's name without its directory and ".pdf".
func documentName(file string) string {
	if i := strings.LastIndexAny(file, `/\`); i >= 0 {
		file = file[i+1:]
	}
	if len(file) > 4 && strings.EqualFold(file[len(file)-4:], ".pdf") {
		file = file[:len(file)-4]
	}
	return file
}

func (a *api) removeTemplateDocument(w http.ResponseWriter, r *http.Request) {
	v := mux.Vars(r)
	res, err := a.cmds.Templates.RemoveDocument.Handle(r.Context(), commands.RemoveTemplateDocument{Actor: actor(r), TemplateID: v["id"], DocumentID: v["doc"]})
	noContent(w, r, res, err)
}

type templateRoleRequest struct {
	Name  string `json:"name"`
	Kind  string `json:"kind"`
	Order int    `json:"order"`
}

type roleAdded struct {
	Role roleJSON `json:"role"`
}

func (a *api) addTemplateRole(w http.ResponseWriter, r *http.Request) {
	var req templateRoleRequest
	if err := web.DecodeJSON(w, r, &req); err != nil {
		web.WriteError(w, r, err)
		return
	}
	res, err := a.cmds.Templates.AddRole.Handle(r.Context(), commands.AddTemplateRole{Actor: actor(r), TemplateID: mux.Vars(r)["id"],
		Name: req.Name, Kind: layout.PartyKind(req.Kind), Order: req.Order})
	if err != nil {
		fail(w, r, res.Position, err)
		return
	}
	written(w, http.StatusCreated, res.Position, roleAdded{Role: roleOf(res.Role)})
}

func (a *api) removeTemplateRole(w http.ResponseWriter, r *http.Request) {
	v := mux.Vars(r)
	res, err := a.cmds.Templates.RemoveRole.Handle(r.Context(), commands.RemoveTemplateRole{Actor: actor(r), TemplateID: v["id"], RoleID: v["role"]})
	noContent(w, r, res, err)
}

type fieldRequest struct {
	Kind       string   `json:"kind"`
	RoleID     string   `json:"role_id"`
	Name       string   `json:"name"`
	Required   bool     `json:"required"`
	Choices    []string `json:"choices"`
	DocumentID string   `json:"document_id"`
	Page       int      `json:"page"`
	Rect       rectJSON `json:"rect"`
}

type fieldPlaced struct {
	Field fieldJSON `json:"field"`
}

// placeTemplateField places a new field (POST) or moves or changes one (PUT).
func (a *api) placeTemplateField(w http.ResponseWriter, r *http.Request) {
	var req fieldRequest
	if err := web.DecodeJSON(w, r, &req); err != nil {
		web.WriteError(w, r, err)
		return
	}
	v := mux.Vars(r)
	res, err := a.cmds.Templates.PlaceField.Handle(r.Context(), commands.PlaceTemplateField{Actor: actor(r), TemplateID: v["id"], FieldID: v["field"],
		Field: layout.Field{Kind: layout.FieldKind(req.Kind), RoleID: req.RoleID, Name: req.Name, Required: req.Required, Choices: req.Choices,
			DocumentID: req.DocumentID, Page: req.Page, Rect: layout.Rect(req.Rect)}})
	if err != nil {
		fail(w, r, res.Position, err)
		return
	}
	status := http.StatusCreated
	if v["field"] != "" {
		status = http.StatusOK
	}
	written(w, status, res.Position, fieldPlaced{Field: fieldOf(res.Field)})
}

func (a *api) removeTemplateField(w http.ResponseWriter, r *http.Request) {
	v := mux.Vars(r)
	res, err := a.cmds.Templates.RemoveField.Handle(r.Context(), commands.RemoveTemplateField{Actor: actor(r), TemplateID: v["id"], FieldID: v["field"]})
	noContent(w, r, res, err)
}

type templateState struct {
	Disabled bool `json:"disabled"`
}

func (a *api) disableTemplate(w http.ResponseWriter, r *http.Request) {
	if !emptyBody(w, r) {
		return
	}
	res, err := a.cmds.Templates.Disable.Handle(r.Context(), commands.DisableTemplate{Actor: actor(r), TemplateID: mux.Vars(r)["id"]})
	if err != nil {
		fail(w, r, res.Position, err)
		return
	}
	written(w, http.StatusOK, res.Position, templateState{Disabled: res.Disabled})
}

func (a *api) enableTemplate(w http.ResponseWriter, r *http.Request) {
	if !emptyBody(w, r) {
		return
	}
	res, err := a.cmds.Templates.Enable.Handle(r.Context(), commands.EnableTemplate{Actor: actor(r), TemplateID: mux.Vars(r)["id"]})
	if err != nil {
		fail(w, r, res.Position, err)
		return
	}
	written(w, http.StatusOK, res.Position, templateState{Disabled: res.Disabled})
}

// noContent answers a removal: 204 with the position of its event.
func noContent(w http.ResponseWriter, r *http.Request, res commands.Written, err error) {
	if err != nil {
		fail(w, r, res.Position, err)
		return
	}
	if res.Position > 0 {
		w.Header().Set(PositionHeader, strconv.FormatUint(res.Position, 10))
	}
	w.WriteHeader(http.StatusNoContent)
}

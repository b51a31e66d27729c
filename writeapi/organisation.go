package writeapi

import (
	"net/http"

	"github.com/gorilla/mux"

	"signet/commands"
	"signet/infra/web"
)

func (a *api) registerOrganisation(r *mux.Router, d Deps) {
	auth := web.RequireAuth(d.Verify)
	handle := func(method, path string, h http.HandlerFunc) { r.Handle(path, auth(h)).Methods(method) }
	handle(http.MethodPost, "/api/v1/me/folders", a.createFolder)
	handle(http.MethodPatch, "/api/v1/me/folders/{id}", a.renameFolder)
	handle(http.MethodDelete, "/api/v1/me/folders/{id}", a.deleteFolder)
	handle(http.MethodPut, "/api/v1/me/folders/{id}/contracts/{cid}", a.fileContract)
	handle(http.MethodDelete, "/api/v1/me/folders/{id}/contracts/{cid}", a.unfileContract)
	o := a.cmds.Organisation
	handle(http.MethodPut, "/api/v1/me/archive/{cid}", a.deskMove(o.Archive))
	handle(http.MethodDelete, "/api/v1/me/archive/{cid}", a.deskMove(o.Unarchive))
	handle(http.MethodPut, "/api/v1/me/trash/{cid}", a.deskMove(o.Trash))
	handle(http.MethodDelete, "/api/v1/me/trash/{cid}", a.deskMove(o.Restore))
	handle(http.MethodDelete, "/api/v1/me/trash/{cid}/forever", a.deskMove(o.DeleteForMe))
	handle(http.MethodPost, "/api/v1/enterprises/{id}/tags", a.defineTag)
	handle(http.MethodDelete, "/api/v1/enterprises/{id}/tags/{tag}", a.removeTag)
	handle(http.MethodPut, "/api/v1/enterprises/{id}/tags/{tag}/contracts/{cid}", a.tagContract(o.Tag))
	handle(http.MethodDelete, "/api/v1/enterprises/{id}/tags/{tag}/contracts/{cid}", a.tagContract(o.Untag))
}

type folderRequest struct {
	Name string `json:"name"`
}

type folderCreated struct {
	ID string `json:"id"`
}

func (a *api) createFolder(w http.ResponseWriter, r *http.Request) {
	var req folderRequest
	if err := web.DecodeJSON(w, r, &req); err != nil {
		web.WriteError(w, r, err)
		return
	}
	res, err := a.cmds.Organisation.CreateFolder.Handle(r.Context(), commands.CreateFolder{Actor: actor(r), Name: req.Name})
	if err != nil {
		fail(w, r, res.Position, err)
		return
	}
	w.Header().Set("Location", "/api/v1/me/folders")
	written(w, http.StatusCreated, res.Position, folderCreated{ID: res.FolderID})
}

func (a *api) renameFolder(w http.ResponseWriter, r *http.Request) {
	var req folderRequest
	if err := web.DecodeJSON(w, r, &req); err != nil {
		web.WriteError(w, r, err)
		return
	}
	res, err := a.cmds.Organisation.RenameFolder.Handle(r.Context(), commands.RenameFolder{Actor: actor(r), FolderID: mux.Vars(r)["id"], Name: req.Name})
	noContent(w, r, res, err)
}

func (a *api) deleteFolder(w http.ResponseWriter, r *http.Request) {
	res, err := a.cmds.Organisation.DeleteFolder.Handle(r.Context(), commands.DeleteFolder{Actor: actor(r), FolderID: mux.Vars(r)["id"]})
	noContent(w, r, res, err)
}

// via is the enterprise a member of an enterprise party sees a contract as.
func via(r *http.Request) string { return r.URL.Query().Get("enterprise_id") }

func (a *api) fileContract(w http.ResponseWriter, r *http.Request) {
	v := mux.Vars(r)
	res, err := a.cmds.Organisation.File.Handle(r.Context(), commands.FileContract{Actor: actor(r), FolderID: v["id"], ContractID: v["cid"], EnterpriseID: via(r)})
	noContent(w, r, res, err)
}

func (a *api) unfileContract(w http.ResponseWriter, r *http.Request) {
	v := mux.Vars(r)
	res, err := a.cmds.Organisation.Unfile.Handle(r.Context(), commands.FileContract{Actor: actor(r), FolderID: v["id"], ContractID: v["cid"]})
	noContent(w, r, res, err)
}

func (a *api) deskMove(h commands.Handler[commands.DeskMove, commands.Written]) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		res, err := h.Handle(r.Context(), commands.DeskMove{Actor: actor(r), ContractID: mux.Vars(r)["cid"], EnterpriseID: via(r)})
		noContent(w, r, res, err)
	}
}

type tagRequest struct {
	Name  string `json:"name"`
	Color string `json:"color"`
}

type tagCreated struct {
	ID string `json:"id"`
}

func (a *api) defineTag(w http.ResponseWriter, r *http.Request) {
	var req tagRequest
	if err := web.DecodeJSON(w, r, &req); err != nil {
		web.WriteError(w, r, err)
		return
	}
	eid := mux.Vars(r)["id"]
	res, err := a.cmds.Organisation.DefineTag.Handle(r.Context(), commands.DefineTag{Actor: actor(r), EnterpriseID: eid, Name: req.Name, Color: req.Color})
	if err != nil {
		fail(w, r, res.Position, err)
		return
	}
	w.Header().Set("Location", "/api/v1/enterprises/"+eid+"/tags")
	written(w, http.StatusCreated, res.Position, tagCreated{ID: res.TagID})
}

func (a *api) removeTag(w http.ResponseWriter, r *http.Request) {
	v := mux.Vars(r)
	res, err := a.cmds.Organisation.RemoveTag.Handle(r.Context(), commands.RemoveTag{Actor: actor(r), EnterpriseID: v["id"], TagID: v["tag"]})
	noContent(w, r, res, err)
}

func (a *api) tagContract(h commands.Handler[commands.TagContract, commands.Written]) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v := mux.Vars(r)
		res, err := h.Handle(r.Context(), commands.TagContract{Actor: actor(r), EnterpriseID: v["id"], TagID: v["tag"], ContractID: v["cid"]})
		noContent(w, r, res, err)
	}
}

package writeapi

import (
	"net/http"

	"github.com/gorilla/mux"

	"signet/commands"
	"signet/domain/account"
	"signet/domain/fault"
	"signet/infra/upload"
	"signet/infra/web"
)

func (a *api) registerPersonal(r *mux.Router, d Deps) {
	auth := web.RequireAuth(d.Verify)
	r.Handle("/api/v1/me/id-cards/{side}", auth(http.HandlerFunc(a.uploadPersonalIDCard))).Methods(http.MethodPut)
	r.Handle("/api/v1/me/verification/phone-code", auth(http.HandlerFunc(a.sendPersonalPhoneCode))).Methods(http.MethodPost)
	r.Handle("/api/v1/me/verification/phone-code/confirm", auth(http.HandlerFunc(a.confirmPersonalPhoneCode))).Methods(http.MethodPost)
	r.Handle("/api/v1/me/verification/face-scans", auth(http.HandlerFunc(a.startPersonalFaceScan))).Methods(http.MethodPost)
}

func (a *api) uploadPersonalIDCard(w http.ResponseWriter, r *http.Request) {
	side := account.Side(mux.Vars(r)["side"])
	if side != account.Portrait && side != account.Emblem {
		web.WriteError(w, r, fault.New(fault.NotFound, "invalid_side", "An ID card side is portrait (人像面) or emblem (国徽面)."))
		return
	}
	f := readUpload(r, upload.Photos)
	res, err := a.cmds.UploadPersonalIDCard.Handle(r.Context(), commands.UploadPersonalIDCard{Actor: actor(r), Side: side, File: f})
	if err != nil {
		fail(w, r, res.Position, err)
		return
	}
	written(w, http.StatusOK, res.Position, idCardUploaded{File: fileOf(res.File), Recognized: res.Recognized, Recognizer: res.Recognizer})
}

type personRequest struct {
	Name     string `json:"name"`
	IDNumber string `json:"id_number"`
	Phone    string `json:"phone,omitempty"`
}

func (a *api) sendPersonalPhoneCode(w http.ResponseWriter, r *http.Request) {
	var req personRequest
	if err := web.DecodeJSON(w, r, &req); err != nil {
		web.WriteError(w, r, err)
		return
	}
	res, err := a.cmds.SendPersonalPhoneCode.Handle(r.Context(), commands.SendPersonalPhoneCode{Actor: actor(r), Name: req.Name, IDNumber: req.IDNumber, Phone: req.Phone})
	if err != nil {
		fail(w, r, res.Position, err)
		return
	}
	written(w, http.StatusAccepted, res.Position, phoneCodeSent{Phone: res.MaskedPhone, ExpiresAt: res.ExpiresAt, ResendAfter: res.ResendAfter})
}

type personalVerified struct {
	Verified bool `json:"verified"`
}

func (a *api) confirmPersonalPhoneCode(w http.ResponseWriter, r *http.Request) {
	var req codeConfirm
	if err := web.DecodeJSON(w, r, &req); err != nil {
		web.WriteError(w, r, err)
		return
	}
	res, err := a.cmds.ConfirmPersonalPhoneCode.Handle(r.Context(), commands.ConfirmPersonalPhoneCode{Actor: actor(r), Code: req.Code})
	if err != nil {
		fail(w, r, res.Position, err)
		return
	}
	written(w, http.StatusOK, res.Position, personalVerified{Verified: res.Verified})
}

func (a *api) startPersonalFaceScan(w http.ResponseWriter, r *http.Request) {
	var req personRequest
	if err := web.DecodeJSON(w, r, &req); err != nil {
		web.WriteError(w, r, err)
		return
	}
	if req.Phone != "" {
		web.WriteError(w, r, fault.Invalidf("phone", "unexpected_field", "A face scan needs only name and id_number."))
		return
	}
	res, err := a.cmds.StartPersonalFaceScan.Handle(r.Context(), commands.StartPersonalFaceScan{Actor: actor(r), Name: req.Name, IDNumber: req.IDNumber})
	if err != nil {
		fail(w, r, res.Position, err)
		return
	}
	written(w, http.StatusCreated, res.Position, faceScanStarted{SessionID: res.SessionID, QRURL: res.QRURL, ExpiresAt: res.ExpiresAt, AttemptsLeft: res.AttemptsLeft})
}

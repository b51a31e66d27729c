// Package writeapi turns HTTP requests into commands. It answers with the
// global position of the last event a command appended (Signet-Position), so
// that a client can ask the read API to wait for it (Signet-Wait-For).
package writeapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/mux"

	"signet/commands"
	"signet/infra/web"
)

// PositionHeader carries the global position of a write's last event.
const PositionHeader = "Signet-Position"

type api struct {
	cmds commands.Commands
}

// Deps are what the command endpoints need.
type Deps struct {
	Commands commands.Commands
	Verify   web.VerifyFunc
	// FaceCallbacks and BankCallbacks authenticate the providers' callbacks
	// (callback.Middleware with each provider's secret).
	FaceCallbacks func(http.Handler) http.Handler
	BankCallbacks func(http.Handler) http.Handler
}

// Register mounts the command endpoints on r.
func Register(r *mux.Router, d Deps) {
	a := &api{cmds: d.Commands}
	a.registerEnterprises(r, d)
	a.registerPersonal(r, d)
	// Full paths on r itself (no subrouter), so that a wrong method is a 405
	// from r's MethodNotAllowedHandler.
	r.HandleFunc("/api/v1/verification-codes", a.requestCode).Methods(http.MethodPost)
	r.HandleFunc("/api/v1/accounts", a.register).Methods(http.MethodPost)
	r.HandleFunc("/api/v1/sessions", a.login).Methods(http.MethodPost)
}

type codeRequest struct {
	To      string `json:"to"`
	Purpose string `json:"purpose"`
}

type codeResponse struct {
	ExpiresAt   time.Time `json:"expires_at"`
	ResendAfter time.Time `json:"resend_after"`
}

func (a *api) requestCode(w http.ResponseWriter, r *http.Request) {
	var req codeRequest
	if err := web.DecodeJSON(w, r, &req); err != nil {
		web.WriteError(w, r, err)
		return
	}
	res, err := a.cmds.RequestCode.Handle(r.Context(), commands.RequestCode{To: req.To, Purpose: req.Purpose, ClientIP: web.ClientIP(r)})
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusAccepted, codeResponse{ExpiresAt: res.ExpiresAt, ResendAfter: res.ResendAfter})
}

type registerRequest struct {
	Login               string `json:"login"`
	Code                string `json:"code"`
	Name                string `json:"name"`
	Company             string `json:"company"`
	InvitedBy           string `json:"invited_by"`
	Password            string `json:"password"`
	AcceptPrivacyPolicy bool   `json:"accept_privacy_policy"`
	AcceptPhoneFollowup bool   `json:"accept_phone_followup"`
}

type registerResponse struct {
	ID    string `json:"id"`
	Login string `json:"login"`
}

func (a *api) register(w http.ResponseWriter, r *http.Request) {
	var req registerRequest
	if err := web.DecodeJSON(w, r, &req); err != nil {
		web.WriteError(w, r, err)
		return
	}
	res, err := a.cmds.RegisterAccount.Handle(r.Context(), commands.RegisterAccount{
		Login: req.Login, Code: req.Code, Name: req.Name, Company: req.Company, InvitedBy: req.InvitedBy,
		Password: req.Password, AcceptPrivacyPolicy: req.AcceptPrivacyPolicy, AcceptPhoneFollowup: req.AcceptPhoneFollowup,
		ClientIP: web.ClientIP(r), CorrelationID: web.RequestID(r.Context()),
	})
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	w.Header().Set(PositionHeader, strconv.FormatUint(res.Position, 10))
	w.Header().Set("Location", "/api/v1/me")
	web.WriteJSON(w, http.StatusCreated, registerResponse{ID: res.AccountID, Login: res.MaskedLogin})
}

type loginRequest struct {
	Login    string `json:"login"`
	Password string `json:"password"`
}

type loginResponse struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
	AccountID string    `json:"account_id"`
}

func (a *api) login(w http.ResponseWriter, r *http.Request) {
	var req loginRequest
	if err := web.DecodeJSON(w, r, &req); err != nil {
		web.WriteError(w, r, err)
		return
	}
	res, err := a.cmds.Login.Handle(r.Context(), commands.Login{Login: req.Login, Password: req.Password, ClientIP: web.ClientIP(r)})
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	web.WriteJSON(w, http.StatusCreated, loginResponse{Token: res.Token, ExpiresAt: res.ExpiresAt, AccountID: res.AccountID})
}

// Package writeapi turns HTTP requests into commands. It answers with the
// global position of the last event a command appended (Signet-Position), so
// that a client can ask the read API to wait for it (Signet-Wait-For).
package writeapi

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/mux"

	"signet/commands"
	"signet/domain/fault"
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
	a.registerTemplates(r, d)
	a.registerSeals(r, d)
	a.registerContracts(r, d)
	a.registerBatches(r, d)
	a.registerOrganisation(r, d)
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
	// Invitation is the token of an admin's share link: the new account
	// joins that enterprise ("通过分享链接注册").
	Invitation string `json:"invitation"`
}

type registerResponse struct {
	ID     string  `json:"id"`
	Login  string  `json:"login"`
	Joined *joined `json:"joined,omitempty"`
}

func (a *api) register(w http.ResponseWriter, r *http.Request) {
	var req registerRequest
	if err := web.DecodeJSON(w, r, &req); err != nil {
		web.WriteError(w, r, err)
		return
	}
	// A bad link is refused before the account exists, so that registering
	// through it either does both or neither (barring an outage in between).
	if req.Invitation != "" {
		if _, err := a.cmds.CheckInvitation.Handle(r.Context(), commands.CheckInvitation{Token: req.Invitation}); err != nil {
			web.WriteError(w, r, onInvitation(err))
			return
		}
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
	out := registerResponse{ID: res.AccountID, Login: res.MaskedLogin}
	pos := res.Position
	if req.Invitation != "" {
		j, err := a.cmds.AcceptInvitation.Handle(r.Context(), commands.AcceptInvitation{
			Actor: commands.Actor{AccountID: res.AccountID, ClientIP: web.ClientIP(r), CorrelationID: web.RequestID(r.Context())}, Token: req.Invitation})
		if err != nil {
			// The account exists; the client can join with POST /api/v1/invitations/{token}/accept.
			web.WriteError(w, r, fmt.Errorf("account %s registered, joining failed: %w", res.AccountID, err))
			return
		}
		out.Joined, pos = &joined{EnterpriseID: j.EnterpriseID, Role: string(j.Role)}, j.Position
	}
	w.Header().Set(PositionHeader, strconv.FormatUint(pos, 10))
	w.Header().Set("Location", "/api/v1/me")
	web.WriteJSON(w, http.StatusCreated, out)
}

// onInvitation blames the invitation field for a bad share link.
func onInvitation(err error) error {
	if f, ok := fault.As(err); ok {
		return f.OnField("invitation")
	}
	return err
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

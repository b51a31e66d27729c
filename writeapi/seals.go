package writeapi

import (
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/mux"

	"signet/commands"
	"signet/domain/enterprise"
	"signet/domain/fault"
	"signet/infra/upload"
	"signet/infra/web"
)

func (a *api) registerSeals(r *mux.Router, d Deps) {
	auth := web.RequireAuth(d.Verify)
	h := func(path string, f http.HandlerFunc, method string) {
		r.Handle(path, auth(f)).Methods(method)
	}
	h("/api/v1/enterprises/{id}/seals", a.uploadSeal, http.MethodPost)
	h("/api/v1/enterprises/{id}/seals/{seal}/grants/{account}", a.grantSeal, http.MethodPut)
	h("/api/v1/enterprises/{id}/seals/{seal}/grants/{account}", a.revokeSeal, http.MethodDelete)
	h("/api/v1/enterprises/{id}/seals/{seal}/disable", a.disableSeal, http.MethodPost)
	h("/api/v1/enterprises/{id}/approval-policy", a.setApprovalPolicy, http.MethodPut)
	h("/api/v1/me/signatures", a.uploadSignatureImage, http.MethodPost)
}

type sealJSON struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Default   bool      `json:"default"`
	Disabled  bool      `json:"disabled"`
	File      fileJSON  `json:"file"`
	Grants    []string  `json:"grants"`
	CreatedBy string    `json:"created_by,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	ImageURL  string    `json:"image_url"`
}

func (a *api) uploadSeal(w http.ResponseWriter, r *http.Request) {
	name, f, err := sealUpload(r)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	eid := mux.Vars(r)["id"]
	res, err := a.cmds.Seals.UploadSeal.Handle(r.Context(), commands.UploadSeal{Actor: actor(r), EnterpriseID: eid, Name: name, File: f})
	if err != nil {
		fail(w, r, res.Position, err)
		return
	}
	s := res.Seal
	img := "/api/v1/enterprises/" + eid + "/seals/" + s.ID + "/image"
	w.Header().Set("Location", img)
	written(w, http.StatusCreated, res.Position, sealJSON{ID: s.ID, Name: s.Name, Default: s.Default, Disabled: s.Disabled,
		File: fileOf(s.File), Grants: append([]string{}, s.Grants...), CreatedBy: s.CreatedBy, CreatedAt: s.CreatedAt, ImageURL: img})
}

// Bounds of what a seal form may carry before its file part.
const (
	maxFormName     = 1 << 10  // the name part
	maxFormPreamble = 64 << 10 // every part before the file, boundaries included
)

// sealUpload takes the seal's name from ?name= or, failing that, from a
// multipart form's "name" part, which must come before its "file" part.
// Only the parts before the file are read here; the file is read once the
// command has checked that the caller may upload it.
func sealUpload(r *http.Request) (string, commands.Upload, error) {
	name := r.URL.Query().Get("name")
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		// A raw image, or a body upload.Read refuses when it is read.
		return name, readUpload(r, upload.Photos), nil
	}
	body := &io.LimitedReader{R: r.Body, N: maxFormPreamble}
	formName, part, err := formPreamble(multipart.NewReader(body, params["boundary"]), body)
	if err != nil {
		return "", commands.Upload{}, err
	}
	if name == "" {
		name = formName
	}
	return name, commands.Upload{Read: func() (commands.Upload, error) {
		if part == nil {
			return commands.Upload{}, fault.Invalidf("file", "missing_file", "The form has no file in the part \"file\"; choose the image and upload it again.")
		}
		// Room for the file: upload.Read's own limit trips first.
		body.N = upload.MaxSize + 2*maxFormPreamble
		sub := r.Clone(r.Context())
		sub.Body, sub.ContentLength = io.NopCloser(part), -1
		sub.Header = http.Header{"Content-Type": {"application/octet-stream"}}
		f, err := upload.Read(sub, "file", upload.Photos, upload.MaxSize)
		if err != nil {
			return commands.Upload{}, err
		}
		return commands.Upload{Data: f.Data, MediaType: f.MediaType}, nil
	}}, nil
}

// formPreamble reads a multipart form up to its "file" part: the "name"
// part's value and the file part (nil when the form has none). body is the
// limited reader under mr, to tell a preamble that is too large.
func formPreamble(mr *multipart.Reader, body *io.LimitedReader) (string, *multipart.Part, error) {
	name := ""
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return name, nil, nil
		}
		if err != nil {
			if body.N <= 0 {
				return "", nil, errFormTooLarge
			}
			return "", nil, fault.New(fault.Invalid, "malformed_multipart", "The request body is not valid multipart/form-data; send the form again.")
		}
		switch p.FormName() {
		case "file":
			return name, p, nil
		case "name":
			v, err := io.ReadAll(io.LimitReader(p, maxFormName+1))
			if err != nil {
				return "", nil, partErr(body)
			}
			if len(v) > maxFormName {
				return "", nil, fault.Invalidf("name", "invalid_seal_name", "A seal's name is at most %d characters.", enterprise.MaxSealNameRunes)
			}
			name = string(v)
		default:
			if _, err := io.Copy(io.Discard, p); err != nil {
				return "", nil, partErr(body)
			}
		}
	}
}

var errFormTooLarge = fault.New(fault.TooLarge, "form_too_large",
	"The form's parts before the file are larger than 64 KB; send only the name, then the file.")

func partErr(body *io.LimitedReader) error {
	if body.N <= 0 {
		return errFormTooLarge
	}
	return fault.New(fault.Invalid, "malformed_multipart", "The request body is not valid multipart/form-data; send the form again.")
}

// sealDone answers a write that returns nothing but its position.
func sealDone(w http.ResponseWriter, pos uint64) {
	if pos > 0 {
		w.Header().Set(PositionHeader, strconv.FormatUint(pos, 10))
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *api) grantSeal(w http.ResponseWriter, r *http.Request) {
	if !emptyBody(w, r) {
		return
	}
	v := mux.Vars(r)
	res, err := a.cmds.Seals.GrantSeal.Handle(r.Context(), commands.GrantSeal{Actor: actor(r), EnterpriseID: v["id"], SealID: v["seal"], AccountID: v["account"]})
	if err != nil {
		fail(w, r, res.Position, err)
		return
	}
	sealDone(w, res.Position)
}

func (a *api) revokeSeal(w http.ResponseWriter, r *http.Request) {
	v := mux.Vars(r)
	res, err := a.cmds.Seals.RevokeSeal.Handle(r.Context(), commands.RevokeSeal{Actor: actor(r), EnterpriseID: v["id"], SealID: v["seal"], AccountID: v["account"]})
	if err != nil {
		fail(w, r, res.Position, err)
		return
	}
	sealDone(w, res.Position)
}

func (a *api) disableSeal(w http.ResponseWriter, r *http.Request) {
	if !emptyBody(w, r) {
		return
	}
	v := mux.Vars(r)
	res, err := a.cmds.Seals.DisableSeal.Handle(r.Context(), commands.DisableSeal{Actor: actor(r), EnterpriseID: v["id"], SealID: v["seal"]})
	if err != nil {
		fail(w, r, res.Position, err)
		return
	}
	sealDone(w, res.Position)
}

type approvalPolicyRequest struct {
	Required  bool     `json:"required"`
	Approvers []string `json:"approvers"`
}

func (a *api) setApprovalPolicy(w http.ResponseWriter, r *http.Request) {
	var req approvalPolicyRequest
	if err := web.DecodeJSON(w, r, &req); err != nil {
		web.WriteError(w, r, err)
		return
	}
	res, err := a.cmds.Seals.SetApprovalPolicy.Handle(r.Context(), commands.SetApprovalPolicy{Actor: actor(r), EnterpriseID: mux.Vars(r)["id"],
		Required: req.Required, Approvers: req.Approvers})
	if err != nil {
		fail(w, r, res.Position, err)
		return
	}
	if req.Approvers == nil {
		req.Approvers = []string{}
	}
	written(w, http.StatusOK, res.Position, req)
}

type signatureJSON struct {
	ID       string   `json:"id"`
	File     fileJSON `json:"file"`
	ImageURL string   `json:"image_url"`
}

func (a *api) uploadSignatureImage(w http.ResponseWriter, r *http.Request) {
	res, err := a.cmds.Seals.UploadSignatureImage.Handle(r.Context(), commands.UploadSignatureImage{Actor: actor(r), File: readUpload(r, upload.Photos)})
	if err != nil {
		fail(w, r, res.Position, err)
		return
	}
	img := "/api/v1/me/signatures/" + res.SignatureID + "/image"
	w.Header().Set("Location", img)
	status := http.StatusCreated
	if res.Position == 0 {
		status = http.StatusOK // the same image was there already
	}
	written(w, status, res.Position, signatureJSON{ID: res.SignatureID, File: fileJSON{res.File.SHA256, res.File.Size, res.File.MediaType}, ImageURL: img})
}

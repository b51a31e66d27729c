package writeapi

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gorilla/mux"

	"signet/commands"
	"signet/domain/account"
	"signet/domain/enterprise"
	"signet/domain/fault"
	"signet/infra/web"
)

type handler[C, R any] func(ctx context.Context, c C) (R, error)

func (h handler[C, R]) Handle(ctx context.Context, c C) (R, error) { return h(ctx, c) }

func verifyTest(token string) (web.Principal, error) {
	id, ok := strings.CutPrefix(token, "test:")
	if !ok || id == "" {
		return web.Principal{}, fault.New(fault.Unauthorized, "invalid_token", "Log in again.")
	}
	return web.Principal{AccountID: id}, nil
}

func pngBytes(t *testing.T) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, 4, 4))
	img.Set(1, 1, color.NRGBA{R: 200, A: 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// sealServer mounts the routes with seal commands that record what they
// were given; UploadSeal reads the file only for the actor "admin".
type sealServer struct {
	srv     *httptest.Server
	uploads []commands.UploadSeal
	read    []commands.Upload
	grants  []commands.GrantSeal
	revokes []commands.RevokeSeal
	disable []commands.DisableSeal
	policy  []commands.SetApprovalPolicy
}

func newSealServer(t *testing.T) *sealServer {
	t.Helper()
	s := &sealServer{}
	var cmds commands.Commands
	cmds.Seals.UploadSeal = handler[commands.UploadSeal, commands.UploadSealResult](func(_ context.Context, c commands.UploadSeal) (commands.UploadSealResult, error) {
		s.uploads = append(s.uploads, c)
		if c.Actor.AccountID != "admin" {
			return commands.UploadSealResult{}, enterprise.ErrNotAdmin
		}
		f, err := c.File.Read()
		if err != nil {
			return commands.UploadSealResult{}, err
		}
		s.read = append(s.read, f)
		return commands.UploadSealResult{Seal: enterprise.Seal{ID: "seal-1", Name: c.Name, File: enterprise.File{SHA256: "abc", Size: int64(len(f.Data)), MediaType: f.MediaType},
			Grants: []string{}, CreatedBy: "admin"}, Written: commands.Written{Position: 42}}, nil
	})
	cmds.Seals.GrantSeal = handler[commands.GrantSeal, commands.Written](func(_ context.Context, c commands.GrantSeal) (commands.Written, error) {
		s.grants = append(s.grants, c)
		return commands.Written{Position: 7}, nil
	})
	cmds.Seals.RevokeSeal = handler[commands.RevokeSeal, commands.Written](func(_ context.Context, c commands.RevokeSeal) (commands.Written, error) {
		s.revokes = append(s.revokes, c)
		return commands.Written{}, nil
	})
	cmds.Seals.DisableSeal = handler[commands.DisableSeal, commands.Written](func(_ context.Context, c commands.DisableSeal) (commands.Written, error) {
		s.disable = append(s.disable, c)
		return commands.Written{}, fault.New(fault.Rule, "last_seal", "no")
	})
	cmds.Seals.SetApprovalPolicy = handler[commands.SetApprovalPolicy, commands.Written](func(_ context.Context, c commands.SetApprovalPolicy) (commands.Written, error) {
		s.policy = append(s.policy, c)
		return commands.Written{Position: 9}, nil
	})
	cmds.Seals.UploadSignatureImage = handler[commands.UploadSignatureImage, commands.UploadSignatureImageResult](func(_ context.Context, c commands.UploadSignatureImage) (commands.UploadSignatureImageResult, error) {
		f, err := c.File.Read()
		if err != nil {
			return commands.UploadSignatureImageResult{}, err
		}
		return commands.UploadSignatureImageResult{SignatureID: "sig-1", File: account.File{SHA256: "def", Size: int64(len(f.Data)), MediaType: f.MediaType}}, nil
	})
	r := mux.NewRouter()
	r.NotFoundHandler = web.NotFound()
	pass := func(h http.Handler) http.Handler { return h }
	Register(r, Deps{Commands: cmds, Verify: verifyTest, FaceCallbacks: pass, BankCallbacks: pass})
	s.srv = httptest.NewServer(web.Common(r))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *sealServer) send(t *testing.T, method, path, token, contentType string, body []byte) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, s.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

// form builds a multipart body of (name, value) parts in order; a part
// named "file" is a file part.
func form(t *testing.T, parts ...string) (string, []byte) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for i := 0; i+1 < len(parts); i += 2 {
		var w io.Writer
		var err error
		if parts[i] == "file" {
			w, err = mw.CreateFormFile("file", "seal.png")
		} else {
			w, err = mw.CreateFormField(parts[i])
		}
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, parts[i+1])
	}
	mw.Close()
	return mw.FormDataContentType(), b.Bytes()
}

func TestUploadSealRoute(t *testing.T) {
	s := newSealServer(t)
	img := pngBytes(t)
	base := "/api/v1/enterprises/e1/seals"

	// A raw image with ?name=.
	res, body := s.send(t, "POST", base+"?name=%E5%90%88%E5%90%8C%E4%B8%93%E7%94%A8%E7%AB%A0", "test:admin", "image/png", img)
	if res.StatusCode != 201 || res.Header.Get(PositionHeader) != "42" || res.Header.Get("Location") != base+"/seal-1/image" {
		t.Fatalf("raw upload: %d %v %s", res.StatusCode, res.Header, body)
	}
	var got sealJSON
	if err := json.Unmarshal([]byte(body), &got); err != nil || got.Name != "合同专用章" || got.File.MediaType != "image/png" || got.Grants == nil || got.ImageURL != base+"/seal-1/image" {
		t.Fatalf("answer %s", body)
	}
	if c := s.uploads[0]; c.EnterpriseID != "e1" || c.Actor.AccountID != "admin" || c.Name != "合同专用章" {
		t.Fatalf("command %+v", c)
	}

	// A form with the name before the file.
	ct, b := form(t, "name", "财务专用章", "file", string(img))
	res, body = s.send(t, "POST", base, "test:admin", ct, b)
	if res.StatusCode != 201 || s.uploads[1].Name != "财务专用章" || !bytes.Equal(s.read[1].Data, img) || s.read[1].MediaType != "image/png" {
		t.Fatalf("form upload: %d %s", res.StatusCode, body)
	}
	// ?name= wins over the form's.
	ct, b = form(t, "name", "财务专用章", "file", string(img))
	if res, _ = s.send(t, "POST", base+"?name=A", "test:admin", ct, b); res.StatusCode != 201 || s.uploads[2].Name != "A" {
		t.Fatalf("name from the query: %d %+v", res.StatusCode, s.uploads[2])
	}

	// A refused caller's file is never read.
	ct, b = form(t, "name", "财务专用章", "file", string(img))
	reads := len(s.read)
	if res, _ = s.send(t, "POST", base, "test:member", ct, b); res.StatusCode != 403 || len(s.read) != reads {
		t.Fatalf("member: %d, reads %d", res.StatusCode, len(s.read)-reads)
	}

	multi := func(parts ...string) []byte { _, b := form(t, parts...); return b }
	for _, c := range []struct {
		name, ct string // ct "form": multipart with the body's boundary
		body     []byte
		status   int
		code     string
	}{
		{"not an image", "image/png", []byte("GIF89a not a png"), 415, "unsupported"},
		{"a form without a file", "form", multi("name", "x"), 400, "missing_file"},
		{"a name too long", "form", multi("name", strings.Repeat("章", 400), "file", "x"), 400, "invalid_seal_name"},
		{"a large field before the file", "form", multi("note", strings.Repeat("x", 70<<10), "file", "x"), 413, "form_too_large"},
		{"no parts", "multipart/form-data; boundary=abc", []byte("garbage without a boundary"), 400, "malformed_multipart"},
		{"JSON", "application/json", []byte(`{}`), 415, "unsupported_media_type"},
	} {
		ct := c.ct
		if ct == "form" {
			ct = "multipart/form-data; boundary=" + boundaryOf(c.body)
		}
		res, body := s.send(t, "POST", base+"?name=n", "test:admin", ct, c.body)
		if res.StatusCode != c.status || !strings.Contains(body, c.code) {
			t.Errorf("%s: %d %s", c.name, res.StatusCode, body)
		}
	}
}

// boundaryOf reads the boundary of a body multipart.Writer wrote.
func boundaryOf(body []byte) string {
	line, _, _ := bytes.Cut(body, []byte("\r\n"))
	return strings.TrimPrefix(string(line), "--")
}

func TestSealWriteRoutes(t *testing.T) {
	s := newSealServer(t)
	res, body := s.send(t, "PUT", "/api/v1/enterprises/e1/seals/s1/grants/m1", "test:admin", "", nil)
	if res.StatusCode != 204 || res.Header.Get(PositionHeader) != "7" || s.grants[0] != (commands.GrantSeal{Actor: s.grants[0].Actor, EnterpriseID: "e1", SealID: "s1", AccountID: "m1"}) ||
		s.grants[0].Actor.AccountID != "admin" {
		t.Fatalf("grant: %d %s %+v", res.StatusCode, body, s.grants)
	}
	if res, _ = s.send(t, "PUT", "/api/v1/enterprises/e1/seals/s1/grants/m1", "test:admin", "application/json", []byte(`{"x":1}`)); res.StatusCode != 400 {
		t.Fatalf("grant with a body: %d", res.StatusCode)
	}
	res, _ = s.send(t, "DELETE", "/api/v1/enterprises/e1/seals/s1/grants/m1", "test:admin", "", nil)
	if res.StatusCode != 204 || res.Header.Get(PositionHeader) != "" || s.revokes[0].SealID != "s1" || s.revokes[0].AccountID != "m1" {
		t.Fatalf("revoke: %d %+v", res.StatusCode, s.revokes)
	}
	res, body = s.send(t, "POST", "/api/v1/enterprises/e1/seals/s1/disable", "test:admin", "", nil)
	if res.StatusCode != 422 || !strings.Contains(body, `"last_seal"`) || s.disable[0].SealID != "s1" {
		t.Fatalf("disable: %d %s", res.StatusCode, body)
	}
	res, body = s.send(t, "PUT", "/api/v1/enterprises/e1/approval-policy", "test:admin", "application/json", []byte(`{"required":true,"approvers":["m1","m2"]}`))
	if res.StatusCode != 200 || res.Header.Get(PositionHeader) != "9" || body != `{"required":true,"approvers":["m1","m2"]}`+"\n" ||
		!s.policy[0].Required || strings.Join(s.policy[0].Approvers, ",") != "m1,m2" {
		t.Fatalf("policy: %d %s %+v", res.StatusCode, body, s.policy)
	}
	res, body = s.send(t, "PUT", "/api/v1/enterprises/e1/approval-policy", "test:admin", "application/json", []byte(`{"required":false}`))
	if res.StatusCode != 200 || body != `{"required":false,"approvers":[]}`+"\n" {
		t.Fatalf("policy off: %d %s", res.StatusCode, body)
	}
	if res, _ = s.send(t, "PUT", "/api/v1/enterprises/e1/approval-policy", "", "application/json", []byte(`{}`)); res.StatusCode != 401 {
		t.Fatalf("no token: %d", res.StatusCode)
	}

	res, body = s.send(t, "POST", "/api/v1/me/signatures", "test:m1", "image/png", pngBytes(t))
	if res.StatusCode != 200 || res.Header.Get("Location") != "/api/v1/me/signatures/sig-1/image" || !strings.Contains(body, `"id":"sig-1"`) || !strings.Contains(body, `"media_type":"image/png"`) {
		t.Fatalf("signature: %d %s", res.StatusCode, body)
	}
	if res, _ = s.send(t, "POST", "/api/v1/me/signatures", "test:m1", "image/png", []byte("not an image")); res.StatusCode != 415 {
		t.Fatalf("signature not an image: %d", res.StatusCode)
	}
}

// FuzzFormPreamble: whatever the body, the preamble reader neither panics
// nor returns a name over its bound, and refuses only with a fault.
func FuzzFormPreamble(f *testing.F) {
	f.Add([]byte("--b\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\n合同专用章\r\n--b\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nxx\r\n--b--\r\n"))
	f.Add([]byte("--b\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nv\r\n--b--\r\n"))
	f.Add([]byte("no boundary at all"))
	f.Add([]byte("--b\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		body := &io.LimitedReader{R: bytes.NewReader(data), N: maxFormPreamble}
		name, part, err := formPreamble(multipart.NewReader(body, "b"), body)
		if err != nil {
			if _, ok := fault.As(err); !ok || name != "" || part != nil {
				t.Fatalf("refusal %v with name %q part %v", err, name, part)
			}
			return
		}
		if len(name) > maxFormName {
			t.Fatalf("name of %d bytes", len(name))
		}
		if part != nil && part.FormName() != "file" {
			t.Fatalf("part %q", part.FormName())
		}
	})
}

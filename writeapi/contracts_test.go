package writeapi

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"signet/domain/fault"
)

func multipartBody(t testing.TB, spec string, parts map[string]string) (string, string) {
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	if spec != "" {
		w.WriteField("spec", spec)
	}
	for name, data := range parts {
		p, _ := w.CreateFormFile(name, name+".pdf")
		p.Write([]byte(data))
	}
	w.Close()
	return b.String(), w.FormDataContentType()
}

func TestReadSend(t *testing.T) {
	deadline := `"signing_deadline":"2030-01-01T00:00:00Z"`
	cases := []struct {
		name, ct, body string
		code           string
		docs           int
	}{
		{"template json", "application/json", `{"template_id":"t",` + deadline + `}`, "", 0},
		{"no deadline", "application/json", `{"template_id":"t"}`, "missing_signing_deadline", 0},
		{"template with ad hoc fields", "application/json", `{"template_id":"t","sequential":false,` + deadline + `}`, "template_and_ad_hoc", 0},
		{"documents in json", "application/json", `{"documents":[{"id":"a","name":"x"}],` + deadline + `}`, "documents_need_multipart", 0},
		{"unknown field", "application/json", `{"templat_id":"t",` + deadline + `}`, "unknown_field", 0},
		{"wrong type", "text/plain", `x`, "unsupported_media_type", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/api/v1/contracts", strings.NewReader(tc.body))
			r.Header.Set("Content-Type", tc.ct)
			cmd, err := readSend(httptest.NewRecorder(), r)
			if f, _ := fault.As(err); (f == nil && tc.code != "") || (f != nil && f.Code != tc.code) || (err != nil && f == nil) {
				t.Fatalf("got %v, want %q", err, tc.code)
			}
			if err == nil && len(cmd.Documents) != tc.docs {
				t.Fatalf("documents %d", len(cmd.Documents))
			}
		})
	}
	spec := `{"title":"x",` + deadline + `,"documents":[{"id":"a","name":"甲"}]}`
	for _, tc := range []struct {
		name  string
		spec  string
		parts map[string]string
		code  string
	}{
		{"ad hoc", spec, map[string]string{"a": "%PDF-1.4"}, ""},
		{"no spec", "", map[string]string{"a": "%PDF-1.4"}, "missing_spec"},
		{"listed but missing", spec, map[string]string{}, "missing_document"},
		{"unlisted part", spec, map[string]string{"a": "%PDF", "b": "%PDF"}, "unlisted_document"},
		{"unlisted spec names from files", `{"title":"x",` + deadline + `}`, map[string]string{"z": "%PDF"}, ""},
		{"bad spec", `{"x":1}`, map[string]string{"a": "%PDF"}, "unknown_field"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body, ct := multipartBody(t, tc.spec, tc.parts)
			r := httptest.NewRequest(http.MethodPost, "/api/v1/contracts", strings.NewReader(body))
			r.Header.Set("Content-Type", ct)
			cmd, err := readSend(httptest.NewRecorder(), r)
			f, _ := fault.As(err)
			if (tc.code == "" && err != nil) || (tc.code != "" && (f == nil || f.Code != tc.code)) {
				t.Fatalf("got %v, want %q", err, tc.code)
			}
			if err == nil && len(cmd.Documents) != 1 {
				t.Fatalf("documents %+v", cmd.Documents)
			}
		})
	}
}

// FuzzReadSend: any body, JSON or multipart, is read into a command or
// refused with a fault; never a panic.
func FuzzReadSend(f *testing.F) {
	body, ct := multipartBody(f, `{"title":"x","signing_deadline":"2030-01-01T00:00:00Z","documents":[{"id":"a","name":"甲"}]}`, map[string]string{"a": "%PDF-1.4"})
	f.Add(body, ct)
	f.Add(`{"template_id":"t","signing_deadline":"2030-01-01T00:00:00Z"}`, "application/json")
	f.Add("--x\r\n\r\n", "multipart/form-data; boundary=x")
	f.Fuzz(func(t *testing.T, body, ct string) {
		r := httptest.NewRequest(http.MethodPost, "/api/v1/contracts", strings.NewReader(body))
		r.Header.Set("Content-Type", ct)
		if _, err := readSend(httptest.NewRecorder(), r); err != nil {
			if _, ok := fault.As(err); !ok {
				t.Fatalf("not a fault: %v", err)
			}
		}
	})
}

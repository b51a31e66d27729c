package upload

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"strings"
	"testing"

	"signet/domain/fault"
	"signet/infra/web"
)

type part struct {
	field, filename, contentType string
	data                         []byte
}

func multipartBody(t testing.TB, parts ...part) (body []byte, contentType string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		cd := `form-data; name="` + p.field + `"`
		if p.filename != "" {
			cd += `; filename="` + p.filename + `"`
		}
		h.Set("Content-Disposition", cd)
		if p.contentType != "" {
			h.Set("Content-Type", p.contentType)
		}
		w, err := mw.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(p.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), mw.FormDataContentType()
}

func request(body io.Reader, contentType string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/upload", body)
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	return r
}

func TestRead(t *testing.T) {
	pngData := encode(t, "png", 40, 30)
	jpegData := encode(t, "jpeg", 50, 20)
	bmpData := encode(t, "bmp", 7, 5)
	over := append(append([]byte{}, pngData...), make([]byte, MaxSize+1-len(pngData))...)
	sum := func(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

	mp := func(parts ...part) func() *http.Request {
		return func() *http.Request {
			b, ct := multipartBody(t, parts...)
			return request(bytes.NewReader(b), ct)
		}
	}
	raw := func(data []byte, ct string) func() *http.Request {
		return func() *http.Request { return request(bytes.NewReader(data), ct) }
	}
	chunked := func(data []byte, ct string) func() *http.Request {
		return func() *http.Request {
			r := request(io.MultiReader(bytes.NewReader(data)), ct)
			r.ContentLength = -1
			return r
		}
	}

	tests := []struct {
		name    string
		req     func() *http.Request
		allowed []string
		want    []byte // accepted content
		mt      string
		fname   string
		status  int
		code    string
		inMsg   string
	}{
		{name: "multipart png", req: mp(part{"licence", "licence.png", "image/png", pngData}),
			allowed: Photos, want: pngData, mt: PNG, fname: "licence.png"},
		{name: "jpeg named licence.png is a jpeg", req: mp(part{"licence", "licence.png", "image/png", jpegData}),
			allowed: Photos, want: jpegData, mt: JPEG, fname: "licence.png"},
		{name: "multipart with other fields first", req: mp(
			part{"note", "", "", []byte("hello")},
			part{"other", "x.png", "image/png", pngData},
			part{"licence", "l.jpg", "", jpegData},
			part{"after", "", "", []byte("never read")}),
			allowed: Photos, want: jpegData, mt: JPEG, fname: "l.jpg"},
		{name: "multipart bmp letter", req: mp(part{"letter", "a.bmp", "image/bmp", bmpData}),
			allowed: Letters, want: bmpData, mt: BMP, fname: "a.bmp"},
		{name: "raw png", req: raw(pngData, "image/png"), allowed: Photos, want: pngData, mt: PNG},
		{name: "raw jpeg declared png", req: raw(jpegData, "image/png"), allowed: Photos, want: jpegData, mt: JPEG},
		{name: "raw octet-stream", req: raw(jpegData, "application/octet-stream"), allowed: Photos, want: jpegData, mt: JPEG},
		{name: "raw chunked", req: chunked(pngData, "image/jpeg"), allowed: Photos, want: pngData, mt: PNG},
		{name: "raw with file name", req: func() *http.Request {
			r := request(bytes.NewReader(pngData), "image/png")
			r.Header.Set("Content-Disposition", `attachment; filename="营业执照.png"`)
			return r
		}, allowed: Photos, want: pngData, mt: PNG, fname: "营业执照.png"},

		{name: "pdf renamed png", req: mp(part{"licence", "licence.png", "image/png", []byte(pdfHeader)}),
			allowed: Photos, status: 415, code: "unsupported_media_type", inMsg: "This file is a PDF"},
		{name: "gif", req: mp(part{"licence", "a.gif", "image/gif", encode(t, "gif", 4, 4)}),
			allowed: Photos, status: 415, code: "unsupported_media_type", inMsg: "GIF"},
		{name: "raw gif", req: raw(encode(t, "gif", 4, 4), "image/gif"),
			allowed: Photos, status: 415, code: "unsupported_media_type", inMsg: "GIF"},
		{name: "bmp is no photo", req: mp(part{"licence", "a.bmp", "", bmpData}),
			allowed: Photos, status: 415, code: "unsupported_media_type"},
		{name: "truncated png", req: mp(part{"licence", "a.png", "", pngData[:len(pngData)-20]}),
			allowed: Photos, status: 415, code: "corrupt_image"},
		{name: "png bomb", req: raw(pngBomb(30000, 30000), "image/png"),
			allowed: Photos, status: 413, code: "image_too_large"},
		{name: "raw 10 MB + 1", req: raw(over, "image/png"),
			allowed: Photos, status: 413, code: "file_too_large", inMsg: "just over the limit of 10 MB"},
		{name: "raw 12.3 MB", req: raw(make([]byte, 12_900_000), "image/png"),
			allowed: Photos, status: 413, code: "file_too_large", inMsg: "The file is 12.3 MB; the limit is 10 MB."},
		{name: "raw chunked 10 MB + 1", req: chunked(over, "image/png"),
			allowed: Photos, status: 413, code: "file_too_large"},
		{name: "raw chunked 30 MB", req: chunked(make([]byte, 30<<20), "image/png"),
			allowed: Photos, status: 413, code: "file_too_large", inMsg: "larger than 10 MB"},
		{name: "multipart 10 MB + 1", req: mp(part{"licence", "a.png", "", over}),
			allowed: Photos, status: 413, code: "file_too_large"},
		{name: "multipart 10 MB + 1 chunked", req: func() *http.Request {
			b, ct := multipartBody(t, part{"licence", "a.png", "", over})
			r := request(io.MultiReader(bytes.NewReader(b)), ct)
			r.ContentLength = -1
			return r
		}, allowed: Photos, status: 413, code: "file_too_large", inMsg: "just over the limit of 10 MB"},
		{name: "multipart big field before file", req: func() *http.Request {
			b, ct := multipartBody(t, part{"junk", "", "", make([]byte, MaxSize+multipartSlack)}, part{"licence", "a.png", "", pngData})
			r := request(bytes.NewReader(b), ct)
			r.ContentLength = -1
			return r
		}, allowed: Photos, status: 413, code: "file_too_large"},
		{name: "missing part", req: mp(part{"other", "a.png", "", pngData}),
			allowed: Photos, status: 400, code: "missing_file"},
		{name: "no file chosen", req: mp(part{"licence", "", "application/octet-stream", nil}),
			allowed: Photos, status: 400, code: "missing_file"},
		{name: "empty file", req: mp(part{"licence", "a.png", "", nil}),
			allowed: Photos, status: 400, code: "empty_file"},
		{name: "empty raw body", req: raw(nil, "image/png"),
			allowed: Photos, status: 400, code: "missing_file"},
		{name: "json body", req: raw([]byte(`{"a":1}`), "application/json"),
			allowed: Photos, status: 415, code: "unsupported_media_type", inMsg: "multipart/form-data"},
		{name: "no content type", req: raw(pngData, ""),
			allowed: Photos, status: 415, code: "unsupported_media_type"},
		{name: "multipart without boundary", req: raw(pngData, "multipart/form-data"),
			allowed: Photos, status: 400, code: "malformed_multipart"},
		{name: "multipart garbage", req: raw([]byte("not multipart at all"), "multipart/form-data; boundary=xyz"),
			allowed: Photos, status: 400, code: "malformed_multipart"},
		{name: "multipart cut short", req: func() *http.Request {
			b, ct := multipartBody(t, part{"licence", "a.png", "", pngData})
			return request(bytes.NewReader(b[:len(b)/2]), ct)
		}, allowed: Photos, status: 400, code: "malformed_multipart"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			field := "licence"
			if tt.allowed[len(tt.allowed)-1] == BMP {
				field = "letter"
			}
			f, err := Read(tt.req(), field, tt.allowed, MaxSize)
			if tt.code == "" {
				if err != nil {
					t.Fatalf("Read: %v", err)
				}
				if !bytes.Equal(f.Data, tt.want) || f.MediaType != tt.mt || f.Size != int64(len(tt.want)) ||
					f.SHA256 != sum(tt.want) || f.Name != tt.fname || f.Width == 0 || f.Height == 0 {
					t.Fatalf("Read = %s %d bytes %d×%d sha %s name %q", f.MediaType, f.Size, f.Width, f.Height, f.SHA256, f.Name)
				}
				return
			}
			fe, ok := fault.As(err)
			if !ok {
				t.Fatalf("Read error = %v, want *fault.Error", err)
			}
			if got := web.Status(err); got != tt.status || fe.Code != tt.code || !strings.Contains(fe.Message, tt.inMsg) {
				t.Fatalf("Read error = %d %v, want %d %s containing %q", got, fe, tt.status, tt.code, tt.inMsg)
			}
			if fe.Kind == fault.Invalid && fe.Code != "malformed_multipart" && fe.Field != field {
				t.Fatalf("field = %q, want %q", fe.Field, field)
			}
		})
	}
}

// countingReader counts what is read from it and yields zeros without end.
type countingReader struct{ n int64 }

func (c *countingReader) Read(p []byte) (int, error) {
	clear(p)
	c.n += int64(len(p))
	return len(p), nil
}

// Read must stop at the end of its part: a huge part after it is not read.
func TestReadStopsAfterPart(t *testing.T) {
	pngData := encode(t, "png", 40, 30)
	head, ct := multipartBody(t, part{"licence", "a.png", "", pngData})
	head = head[:bytes.LastIndex(head, []byte("--"+ct[strings.Index(ct, "=")+1:]))]
	boundary := ct[strings.Index(ct, "=")+1:]
	head = append(head, "--"+boundary+"\r\nContent-Disposition: form-data; name=\"tail\"\r\n\r\n"...)
	tail := &countingReader{}
	r := request(io.MultiReader(bytes.NewReader(head), tail), ct)
	r.ContentLength = -1
	f, err := Read(r, "licence", Photos, MaxSize)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(f.Data, pngData) {
		t.Fatal("wrong data")
	}
	if tail.n > multipartSlack {
		t.Fatalf("read %d bytes past the file part", tail.n)
	}
}

// Through a handler, the refusal reaches the client as 413 with the API's
// error shape.
func TestReadThroughHandler(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, err := Read(r, "licence", Photos, MaxSize)
		if err != nil {
			web.WriteError(w, r, err)
			return
		}
		web.WriteJSON(w, http.StatusCreated, map[string]any{"sha256": f.SHA256})
	})
	body := make([]byte, MaxSize+1)
	copy(body, encode(t, "jpeg", 8, 8))
	b, ct := multipartBody(t, part{"licence", "a.jpg", "", body})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, request(bytes.NewReader(b), ct))
	if rec.Code != http.StatusRequestEntityTooLarge || !strings.Contains(rec.Body.String(), `"code":"file_too_large"`) {
		t.Fatalf("got %d %s", rec.Code, rec.Body)
	}
	b, ct = multipartBody(t, part{"licence", "a.jpg", "", body[:MaxSize]})
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, request(bytes.NewReader(b), ct))
	if rec.Code != http.StatusCreated {
		t.Fatalf("exactly 10 MB: got %d %s", rec.Code, rec.Body)
	}
}

func TestTooLargeMessage(t *testing.T) {
	tests := []struct {
		size  int64
		exact bool
		want  string
	}{
		{12_900_000, true, "The file is 12.3 MB; the limit is 10 MB."},
		{MaxSize + 1, true, "The file is just over the limit of 10 MB."},
		{20 << 20, true, "The file is 20 MB; the limit is 10 MB."},
		{15 << 20, false, "The upload is about 15 MB; the limit is 10 MB."},
		{-1, false, "The file is larger than 10 MB, the limit."},
		{MaxSize + 100, false, "The file is larger than 10 MB, the limit."},
	}
	for _, tt := range tests {
		f, _ := fault.As(tooLarge(tt.size, tt.exact, MaxSize))
		if !strings.HasPrefix(f.Message, tt.want) || f.Kind != fault.TooLarge || f.Code != "file_too_large" {
			t.Errorf("tooLarge(%d, %v) = %q, want prefix %q", tt.size, tt.exact, f.Message, tt.want)
		}
	}
}

func FuzzRead(f *testing.F) {
	const boundary = "XyZb0undary"
	pngData := encode(f, "png", 3, 2)
	var seed bytes.Buffer
	mw := multipart.NewWriter(&seed)
	_ = mw.SetBoundary(boundary)
	w, _ := mw.CreateFormFile("licence", "a.png")
	_, _ = w.Write(pngData)
	_ = mw.Close()
	f.Add(seed.Bytes(), true)
	f.Add(pngData, false)
	f.Add([]byte("--"+boundary+"\r\nContent-Disposition: form-data; name=\"licence\"\r\n\r\n%PDF-1.4\r\n--"+boundary+"--\r\n"), true)
	f.Add([]byte("--"+boundary+"--\r\n"), true)
	const limit = 4 << 10
	f.Fuzz(func(t *testing.T, body []byte, multi bool) {
		ct := "image/png"
		if multi {
			ct = "multipart/form-data; boundary=" + boundary
		}
		file, err := Read(request(bytes.NewReader(body), ct), "licence", Letters, limit)
		if err != nil {
			if _, ok := fault.As(err); !ok {
				t.Fatalf("error is no *fault.Error: %v", err)
			}
			return
		}
		s := sha256.Sum256(file.Data)
		if file.Size != int64(len(file.Data)) || file.Size > limit || file.SHA256 != hex.EncodeToString(s[:]) {
			t.Fatalf("inconsistent file: %d bytes, Size %d, sha %s", len(file.Data), file.Size, file.SHA256)
		}
		if mt, _, _, err := Sniff(file.Data, Letters); err != nil || mt != file.MediaType {
			t.Fatalf("accepted file fails Sniff: %v", err)
		}
	})
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }

func TestReadCutOff(t *testing.T) {
	r := request(io.MultiReader(bytes.NewReader([]byte("\x89PNG")), failingReader{}), "image/png")
	r.ContentLength = -1
	_, err := Read(r, "licence", Photos, MaxSize)
	if f, ok := fault.As(err); !ok || f.Code != "incomplete_body" || web.Status(err) != http.StatusBadRequest {
		t.Fatalf("Read = %v, want incomplete_body", err)
	}
}

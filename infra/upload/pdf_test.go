package upload

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"signet/domain/fault"
	"signet/infra/web"
)

var onePage = []byte("%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n")

func TestOpenPDF(t *testing.T) {
	big := append(bytes.Clone(onePage), make([]byte, 5<<10)...)
	tests := []struct {
		name       string
		body       func(t *testing.T) ([]byte, string)
		header     map[string]string
		unknownLen bool
		openErr    string // code refused by OpenPDF
		readErr    string // code refused by Read
		status     int
		inMsg      string
		fields     map[string]string
		fileName   string
	}{
		{name: "raw PDF", body: func(*testing.T) ([]byte, string) { return onePage, PDF },
			header: map[string]string{"Content-Disposition": `attachment; filename="采购合同.pdf"`}, fileName: "采购合同.pdf"},
		{name: "raw octet-stream", body: func(*testing.T) ([]byte, string) { return onePage, "application/octet-stream" }},
		{name: "junk before the header", body: func(*testing.T) ([]byte, string) { return append([]byte("junk\r\n"), onePage...), PDF }},
		{name: "raw too large by Content-Length", body: func(*testing.T) ([]byte, string) { return big, PDF },
			openErr: "file_too_large", status: 413, inMsg: "Compress the PDF"},
		{name: "raw too large, length unknown", body: func(*testing.T) ([]byte, string) { return big, PDF }, unknownLen: true,
			readErr: "file_too_large", status: 413, inMsg: "Compress the PDF"},
		{name: "an image is no PDF", body: func(t *testing.T) ([]byte, string) { return encode(t, "png", 4, 4), PDF },
			readErr: "unsupported_media_type", status: 415, inMsg: "This file is a PNG image"},
		{name: "empty body", body: func(*testing.T) ([]byte, string) { return nil, PDF }, unknownLen: true, readErr: "missing_file", status: 400},
		{name: "text is refused unread", body: func(*testing.T) ([]byte, string) { return onePage, "text/plain" }, openErr: "unsupported_media_type", status: 415},
		{name: "form with the name first", body: func(t *testing.T) ([]byte, string) {
			return multipartBody(t, part{"name", "", "", []byte("采购合同")}, part{"other", "", "", []byte("x")}, part{"photo", "a.png", "", []byte("png")},
				part{"file", "contract.pdf", PDF, onePage}, part{"submit", "", "", []byte("ok")})
		}, fields: map[string]string{"name": "采购合同"}, fileName: "contract.pdf"},
		{name: "form with the name after the file", body: func(t *testing.T) ([]byte, string) {
			return multipartBody(t, part{"file", "contract.pdf", PDF, onePage}, part{"name", "", "", []byte("采购合同")})
		}, readErr: "field_after_file", status: 400, fileName: "contract.pdf"},
		{name: "form without the file", body: func(t *testing.T) ([]byte, string) {
			return multipartBody(t, part{"name", "", "", []byte("采购合同")})
		}, openErr: "missing_file", status: 400},
		{name: "form with an empty file", body: func(t *testing.T) ([]byte, string) {
			return multipartBody(t, part{"file", "contract.pdf", PDF, nil})
		}, readErr: "empty_file", status: 400, fileName: "contract.pdf"},
		{name: "form with a long name", body: func(t *testing.T) ([]byte, string) {
			return multipartBody(t, part{"name", "", "", bytes.Repeat([]byte("x"), maxFormField+1)}, part{"file", "c.pdf", PDF, onePage})
		}, openErr: "form_field_too_long", status: 400},
		{name: "form with a file too large", body: func(t *testing.T) ([]byte, string) {
			return multipartBody(t, part{"file", "c.pdf", PDF, big})
		}, readErr: "file_too_large", status: 413, inMsg: "Compress the PDF", fileName: "c.pdf"},
		{name: "form without a boundary", body: func(*testing.T) ([]byte, string) { return onePage, "multipart/form-data" }, openErr: "malformed_multipart", status: 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body, ct := tc.body(t)
			r := request(bytes.NewReader(body), ct)
			for k, v := range tc.header {
				r.Header.Set(k, v)
			}
			if tc.unknownLen {
				r.ContentLength = -1
			}
			d, err := OpenPDF(r, "file", []string{"name"}, 4<<10)
			if tc.openErr != "" {
				wantRefusal(t, err, tc.openErr, tc.status, tc.inMsg)
				return
			}
			if err != nil {
				t.Fatalf("OpenPDF: %v", err)
			}
			if d.FileName != tc.fileName || len(d.Fields) != len(tc.fields) || d.Fields["name"] != tc.fields["name"] {
				t.Fatalf("file name %q fields %v", d.FileName, d.Fields)
			}
			f, err := d.Read()
			if tc.readErr != "" {
				wantRefusal(t, err, tc.readErr, tc.status, tc.inMsg)
				return
			}
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if f.MediaType != PDF || f.Size != int64(len(f.Data)) || len(f.SHA256) != 64 || !bytes.Contains(f.Data, []byte("%PDF-1.4")) {
				t.Fatalf("file %s %d %s", f.MediaType, f.Size, f.SHA256)
			}
			again, err2 := d.Read()
			if err2 != nil || again.SHA256 != f.SHA256 {
				t.Fatalf("second Read: %v", err2)
			}
		})
	}
}

// The limit is in the message, at the real limit.
func TestOpenPDFStatesTheLimit(t *testing.T) {
	r := request(bytes.NewReader(onePage), PDF)
	r.ContentLength = MaxPDFSize + 1
	_, err := OpenPDF(r, "file", nil, 0)
	wantRefusal(t, err, "file_too_large", 413, "The file is just over the limit of 20 MB.")
	r = request(bytes.NewReader(onePage), "multipart/form-data; boundary=x")
	r.ContentLength = 30 << 20
	_, err = OpenPDF(r, "file", nil, 0)
	wantRefusal(t, err, "file_too_large", 413, "The upload is about 30 MB; the limit is 20 MB.")
}

func wantRefusal(t *testing.T, err error, code string, status int, inMsg string) {
	t.Helper()
	f, ok := fault.As(err)
	if !ok || f.Code != code || web.Status(err) != status || !strings.Contains(f.Message, inMsg) {
		t.Fatalf("error %v (status %d), want %s %d with %q", err, web.Status(err), code, status, inMsg)
	}
}

// OpenPDF reads the form only up to the file part's header: a caller that
// is refused costs no reading of the file.
func TestOpenPDFReadsNoFile(t *testing.T) {
	head, ct := multipartBody(t, part{"name", "", "", []byte("合同")}, part{"file", "c.pdf", PDF, nil})
	boundary := ct[strings.Index(ct, "=")+1:]
	head = head[:bytes.LastIndex(head, []byte("--"+boundary))]
	head = head[:bytes.LastIndex(head, []byte("\r\n"))] // the file part's header and blank line stay
	huge := &countingReader{}
	r := request(io.MultiReader(bytes.NewReader(head), huge), ct)
	r.ContentLength = -1
	d, err := OpenPDF(r, "file", []string{"name"}, MaxPDFSize)
	if err != nil {
		t.Fatal(err)
	}
	if d.Fields["name"] != "合同" || d.FileName != "c.pdf" {
		t.Fatalf("fields %v name %q", d.Fields, d.FileName)
	}
	if huge.n > 64<<10 {
		t.Fatalf("read %d bytes of the file before Read", huge.n)
	}
	if _, err := d.Read(); web.Status(err) != http.StatusRequestEntityTooLarge {
		t.Fatalf("Read of an endless file: %v", err)
	}
}

func FuzzOpenPDF(f *testing.F) {
	const boundary = "XyZb0undary"
	var seed bytes.Buffer
	mw := multipart.NewWriter(&seed)
	_ = mw.SetBoundary(boundary)
	_ = mw.WriteField("name", "合同")
	w, _ := mw.CreateFormFile("file", "a.pdf")
	_, _ = w.Write(onePage)
	_ = mw.Close()
	f.Add(seed.Bytes(), true)
	f.Add(onePage, false)
	f.Add([]byte("--"+boundary+"\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n%PDF-\r\n--"+boundary+"\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nx\r\n--"+boundary+"--\r\n"), true)
	f.Add([]byte("--"+boundary+"--\r\n"), true)
	const limit = 4 << 10
	f.Fuzz(func(t *testing.T, body []byte, multi bool) {
		ct := PDF
		if multi {
			ct = "multipart/form-data; boundary=" + boundary
		}
		d, err := OpenPDF(request(bytes.NewReader(body), ct), "file", []string{"name"}, limit)
		if err != nil {
			if _, ok := fault.As(err); !ok {
				t.Fatalf("OpenPDF error is no *fault.Error: %v", err)
			}
			return
		}
		for k, v := range d.Fields {
			if k != "name" || len(v) > maxFormField {
				t.Fatalf("field %q of %d bytes kept", k, len(v))
			}
		}
		file, err := d.Read()
		if err != nil {
			if _, ok := fault.As(err); !ok {
				t.Fatalf("Read error is no *fault.Error: %v", err)
			}
			return
		}
		if file.Size != int64(len(file.Data)) || file.Size > limit || file.Size == 0 || file.MediaType != PDF ||
			!bytes.Contains(file.Data[:min(len(file.Data), pdfHeaderWindow)], []byte("%PDF-")) {
			t.Fatalf("inconsistent file: %d bytes, Size %d, %s", len(file.Data), file.Size, file.MediaType)
		}
	})
}

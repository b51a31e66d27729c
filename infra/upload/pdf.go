package upload

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"slices"

	"signet/domain/fault"
)

// PDF is the media type of documents.
const PDF = "application/pdf"

// MaxPDFSize is the upload limit of a document.
const MaxPDFSize = 20 << 20

// maxFormField bounds a text part of a document form (its name).
const maxFormField = 1 << 10

// pdfHeaderWindow is how far into a file PDF readers look for "%PDF-".
const pdfHeaderWindow = 1024

// Document is a PDF upload opened but not read: the form's text parts
// before the file and the file's name are known, its bytes are read by
// Read. A handler can so check who is uploading before reading megabytes.
type Document struct {
	// Fields are the form's text parts that came before the file part
	// (only the names OpenPDF was asked for).
	Fields map[string]string
	// FileName is the client's name of the file; informational only.
	FileName string

	read   func() (File, error)
	result *File
	err    error
}

// OpenPDF opens the PDF in r: multipart/form-data with the file in the part
// named field (text parts named in fields are kept when they come before
// it), or the raw file with Content-Type application/pdf or
// application/octet-stream. It reads the form only up to the file part's
// header. At most max bytes of file are accepted (MaxPDFSize when max <= 0).
// Every refusal is a *fault.Error.
func OpenPDF(r *http.Request, field string, fields []string, max int64) (*Document, error) {
	limit := max
	if limit <= 0 {
		limit = MaxPDFSize
	}
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		mt = ""
	}
	multi := mt == "multipart/form-data"
	if r.ContentLength > limit+multipartSlack || (!multi && r.ContentLength > limit) {
		// Refused before a byte is read; exact for a raw body.
		return nil, tooLargeAdvice(r.ContentLength, !multi, limit, pdfAdvice)
	}
	// No ResponseWriter: the caller's server closes the connection itself
	// when a refused body is left unread.
	body := http.MaxBytesReader(nil, r.Body, limit+multipartSlack)
	d := &Document{Fields: map[string]string{}}
	switch {
	case multi:
		if params["boundary"] == "" {
			return nil, malformed(errors.New("no boundary in the Content-Type"))
		}
		mr := multipart.NewReader(body, params["boundary"])
		p, err := d.formUpTo(mr, field, fields)
		if err != nil {
			return nil, bodyErr(err, r.ContentLength, limit, pdfAdvice)
		}
		d.FileName = cleanName(p.FileName())
		d.read = func() (File, error) {
			defer body.Close()
			data, err := readAtMost(p, limit, pdfAdvice)
			if err == nil {
				err = restOfForm(mr, field, fields)
			}
			if err != nil {
				return File{}, bodyErr(partErr(err), r.ContentLength, limit, pdfAdvice)
			}
			if len(data) == 0 {
				return File{}, fault.Invalidf(field, "empty_file", "The file %q is empty; choose the PDF again and upload it.", d.FileName)
			}
			return pdfFile(data, field, d.FileName)
		}
	case mt == PDF || mt == "application/octet-stream":
		if _, params, err := mime.ParseMediaType(r.Header.Get("Content-Disposition")); err == nil {
			d.FileName = cleanName(params["filename"])
		}
		d.read = func() (File, error) {
			defer body.Close()
			data, err := readAtMost(body, limit, pdfAdvice)
			if err != nil {
				return File{}, bodyErr(err, r.ContentLength, limit, pdfAdvice)
			}
			if len(data) == 0 {
				return File{}, fault.Invalidf(field, "missing_file", "The request body is empty; send the PDF as the body or as the form part %q.", field)
			}
			return pdfFile(data, field, d.FileName)
		}
	default:
		return nil, fault.New(fault.Unsupported, "unsupported_media_type", fmt.Sprintf(
			"Send the PDF as the request body with Content-Type application/pdf, or as multipart/form-data in the part %q.", field))
	}
	return d, nil
}

// Read reads the file and checks that it looks like a PDF (checking it
// whole is a PDF library's job). Later calls return the first result.
func (d *Document) Read() (File, error) {
	if d.read != nil {
		f, err := d.read()
		d.read, d.result, d.err = nil, &f, err
	}
	if d.result == nil {
		return File{}, errors.New("upload: document was not opened")
	}
	return *d.result, d.err
}

// formUpTo reads the parts before the file part, keeping the wanted text
// parts, and returns the file part unread.
func (d *Document) formUpTo(mr *multipart.Reader, field string, wanted []string) (*multipart.Part, error) {
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return nil, fault.Invalidf(field, "missing_file", "The form has no file in the part %q; choose the PDF and upload it again.", field)
		}
		if err != nil {
			return nil, partErr(err)
		}
		if p.FormName() == field {
			return p, nil
		}
		v, err := formValue(p)
		if err != nil {
			return nil, err
		}
		if p.FileName() == "" && slices.Contains(wanted, p.FormName()) {
			d.Fields[p.FormName()] = v
		}
	}
}

// restOfForm reads the parts after the file: a wanted text part there
// would be silently lost, so it is refused.
func restOfForm(mr *multipart.Reader, field string, wanted []string) error {
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return partErr(err)
		}
		if _, err := formValue(p); err != nil {
			return err
		}
		if p.FileName() == "" && slices.Contains(wanted, p.FormName()) {
			return fault.Invalidf(p.FormName(), "field_after_file", "Send the form field %q before the file part %q.", p.FormName(), field)
		}
	}
}

// formValue reads a part other than the file: a text part is short, a
// file part is skipped.
func formValue(p *multipart.Part) (string, error) {
	if p.FileName() != "" {
		if _, err := io.Copy(io.Discard, p); err != nil {
			return "", partErr(err)
		}
		return "", nil
	}
	v, err := io.ReadAll(io.LimitReader(p, maxFormField+1))
	if err != nil {
		return "", partErr(err)
	}
	if len(v) > maxFormField {
		return "", fault.Invalidf(p.FormName(), "form_field_too_long", "The form field %q is longer than %d bytes.", p.FormName(), maxFormField)
	}
	return string(v), nil
}

func pdfFile(data []byte, field, name string) (File, error) {
	if !bytes.Contains(data[:min(len(data), pdfHeaderWindow)], []byte("%PDF-")) {
		_, what := detect(data)
		return File{}, fault.New(fault.Unsupported, "unsupported_media_type", fmt.Sprintf("This file is %s; only PDF documents are accepted.", what)).OnField(field)
	}
	sum := sha256.Sum256(data)
	return File{Data: data, MediaType: PDF, Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:]), Name: name}, nil
}

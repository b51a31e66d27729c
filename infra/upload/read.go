package upload

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"signet/domain/fault"
)

// multipartSlack is what a multipart body may carry beyond the file itself:
// boundaries, part headers and small form fields.
const multipartSlack = 64 << 10

// File is an uploaded file that passed Sniff.
type File struct {
	Data      []byte
	MediaType string // from the content, never from the client
	Size      int64
	SHA256    string // lowercase hex of Data
	Width     int
	Height    int
	Name      string // the client's file name; informational only
}

// Read takes one file from r and checks it with Sniff. The body is either
// multipart/form-data with the file in the part named field, or the raw file
// with an image/* or application/octet-stream Content-Type (the declared type
// is ignored). At most max bytes are accepted (MaxSize when max <= 0); only
// that part is read, streamed, never spooled to disk. Every refusal is a
// *fault.Error.
func Read(r *http.Request, field string, allowed []string, max int64) (File, error) {
	limit := max
	if limit <= 0 {
		limit = MaxSize
	}
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		mt = ""
	}
	if r.ContentLength > limit+multipartSlack {
		// Refused before a byte is read; exact for a raw body.
		return File{}, tooLarge(r.ContentLength, !strings.HasPrefix(mt, "multipart/"), limit)
	}
	// No ResponseWriter: the caller's server closes the connection itself
	// when a refused body is left unread.
	body := http.MaxBytesReader(nil, r.Body, limit+multipartSlack)
	defer body.Close()

	var (
		data []byte
		name string
	)
	switch {
	case mt == "multipart/form-data":
		if params["boundary"] == "" {
			return File{}, malformed(errors.New("no boundary in the Content-Type"))
		}
		data, name, err = readPart(multipart.NewReader(body, params["boundary"]), field, limit)
	case mt == "application/octet-stream" || strings.HasPrefix(mt, "image/"):
		if r.ContentLength > limit {
			return File{}, tooLarge(r.ContentLength, true, limit)
		}
		data, err = readAtMost(body, limit, imageAdvice)
		if err == nil && len(data) == 0 {
			err = fault.Invalidf(field, "missing_file", "The request body is empty; send the image as the body or as the form part %q.", field)
		}
		if _, params, perr := mime.ParseMediaType(r.Header.Get("Content-Disposition")); perr == nil {
			name = params["filename"]
		}
	default:
		return File{}, fault.New(fault.Unsupported, "unsupported_media_type", fmt.Sprintf(
			"Send the image as multipart/form-data in the part %q, or as the request body with an image Content-Type.", field))
	}
	if err != nil {
		return File{}, bodyErr(err, r.ContentLength, limit, imageAdvice)
	}

	mediaType, w, h, err := Sniff(data, allowed)
	if err != nil {
		if f, ok := fault.As(err); ok {
			return File{}, f.OnField(field)
		}
		return File{}, err
	}
	sum := sha256.Sum256(data)
	return File{
		Data:      data,
		MediaType: mediaType,
		Size:      int64(len(data)),
		SHA256:    hex.EncodeToString(sum[:]),
		Width:     w,
		Height:    h,
		Name:      cleanName(name),
	}, nil
}

// readPart skips parts until the one named field and reads at most limit+1
// bytes of it; later parts are never read.
func readPart(mr *multipart.Reader, field string, limit int64) ([]byte, string, error) {
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return nil, "", fault.Invalidf(field, "missing_file", "The form has no file in the part %q; choose the image and upload it again.", field)
		}
		if err != nil {
			return nil, "", partErr(err)
		}
		if p.FormName() != field {
			if _, err := io.Copy(io.Discard, p); err != nil {
				return nil, "", partErr(err)
			}
			continue
		}
		data, err := readAtMost(p, limit, imageAdvice)
		if err != nil {
			return nil, "", partErr(err)
		}
		if len(data) == 0 {
			if p.FileName() == "" {
				return nil, "", fault.Invalidf(field, "missing_file", "No file was chosen for %q; choose the image and upload it again.", field)
			}
			return nil, "", fault.Invalidf(field, "empty_file", "The file %q is empty; choose the image again and upload it.", cleanName(p.FileName()))
		}
		return data, p.FileName(), nil
	}
}

// readAtMost reads rd to its end, refusing more than limit bytes; it learns
// the real size of a larger file if the rest is within the body's slack.
func readAtMost(rd io.Reader, limit int64, advice string) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(rd, limit+1))
	if err != nil || int64(len(data)) <= limit {
		return data, err
	}
	n, err := io.Copy(io.Discard, rd)
	if err != nil {
		return nil, err
	}
	return nil, tooLargeAdvice(int64(len(data))+n, true, limit, advice)
}

// bodyErr turns a failure to read the body into a *fault.Error.
func bodyErr(err error, contentLength, limit int64, advice string) error {
	var over *http.MaxBytesError
	if errors.As(err, &over) {
		return tooLargeAdvice(contentLength, false, limit, advice)
	}
	if _, ok := fault.As(err); !ok {
		return fault.New(fault.Invalid, "incomplete_body", "The upload was cut off before its end; send it again.")
	}
	return err
}

// partErr keeps refusals and the body limit's error, and calls anything
// else a malformed form.
func partErr(err error) error {
	var over *http.MaxBytesError
	if _, ok := fault.As(err); ok || errors.As(err, &over) {
		return err
	}
	return malformed(err)
}

func malformed(err error) error {
	return fault.New(fault.Invalid, "malformed_multipart", fmt.Sprintf(
		"The request body is not valid multipart/form-data (%v); send the form again.", err))
}

// What to do about a file over the limit.
const (
	imageAdvice = "Compress or scale the image down and upload it again."
	pdfAdvice   = "Compress the PDF or split it into several documents and upload it again."
)

// tooLarge refuses an image over the limit.
func tooLarge(size int64, exact bool, limit int64) error {
	return tooLargeAdvice(size, exact, limit, imageAdvice)
}

// tooLargeAdvice says how big the file is when that is known exactly, or
// about how big from Content-Length, or only that it is over the limit.
func tooLargeAdvice(size int64, exact bool, limit int64, advice string) error {
	var msg string
	switch {
	case exact && mb(size) == mb(limit):
		msg = fmt.Sprintf("The file is just over the limit of %s.", mb(limit))
	case exact:
		msg = fmt.Sprintf("The file is %s; the limit is %s.", mb(size), mb(limit))
	case size > limit && mb(size) != mb(limit):
		msg = fmt.Sprintf("The upload is about %s; the limit is %s.", mb(size), mb(limit))
	default:
		msg = fmt.Sprintf("The file is larger than %s, the limit.", mb(limit))
	}
	return fault.New(fault.TooLarge, "file_too_large", msg+" "+advice)
}

// mb formats a byte count in MB of 2^20 bytes, the unit the limit is stated in.
func mb(n int64) string {
	if n%(1<<20) == 0 {
		return fmt.Sprintf("%d MB", n>>20)
	}
	s := strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64)
	return strings.TrimSuffix(s, ".0") + " MB"
}

func cleanName(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
	for len(s) > 255 {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	return s
}

// Package web holds what the write and read HTTP layers share: the JSON error
// shape, strict body decoding, bearer-token authentication and middleware.
package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"signet/domain/event"
	"signet/domain/fault"
)

// MaxBodyBytes bounds every JSON request body.
const MaxBodyBytes = 1 << 20

// ErrorBody is the one error shape of the API.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail says what went wrong, for machines (code) and people (message).
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

var statusOf = map[fault.Kind]int{
	fault.Invalid:      http.StatusBadRequest,
	fault.Unauthorized: http.StatusUnauthorized,
	fault.Forbidden:    http.StatusForbidden,
	fault.NotFound:     http.StatusNotFound,
	fault.Conflict:     http.StatusConflict,
	fault.TooLarge:     http.StatusRequestEntityTooLarge,
	fault.Unsupported:  http.StatusUnsupportedMediaType,
	fault.Rule:         http.StatusUnprocessableEntity,
	fault.RateLimited:  http.StatusTooManyRequests,
	fault.Unavailable:  http.StatusServiceUnavailable,
}

// Status is the HTTP status for err.
func Status(err error) int {
	if f, ok := fault.As(err); ok {
		if s, ok := statusOf[f.Kind]; ok {
			return s
		}
	}
	switch {
	case errors.Is(err, event.ErrConcurrency):
		return http.StatusConflict
	case errors.Is(err, event.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// WriteError answers err in the API's error shape. Unexpected errors are
// logged and answered with a generic 500 that leaks nothing.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	status := Status(err)
	body := ErrorDetail{Code: "internal", Message: "Something went wrong on our side; the request was not applied."}
	if f, ok := fault.As(err); ok {
		body = ErrorDetail{Code: f.Code, Message: f.Message, Field: f.Field}
		if f.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int((f.RetryAfter+time.Second-1)/time.Second)))
		}
	} else {
		switch status {
		case http.StatusConflict:
			body = ErrorDetail{Code: "conflict", Message: "Someone else changed this at the same time; reload and try again."}
		case http.StatusNotFound:
			body = ErrorDetail{Code: "not_found", Message: "Nothing was found here."}
		case http.StatusServiceUnavailable:
			// A client that went away (Canceled) is no failure of ours.
			body = ErrorDetail{Code: "unavailable", Message: "A dependency did not answer in time; try again."}
		default:
			slog.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		}
	}
	WriteJSON(w, status, ErrorBody{Error: body})
}

// WriteJSON answers v as JSON with the given status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// DecodeJSON reads one JSON object into dst: application/json only, at most
// MaxBodyBytes, unknown fields and trailing data refused. Every failure is a
// *fault.Error naming, where it can, the field at fault.
func DecodeJSON(w http.ResponseWriter, r *http.Request, dst any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return fault.New(fault.Unsupported, "unsupported_media_type", "Send the request body as application/json.")
		}
	}
	body := http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	return DecodeStrict(body, dst)
}

// DecodeStrict is DecodeJSON without the HTTP wrapping; fuzzed directly.
func DecodeStrict(body io.Reader, dst any) error {
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeFault(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fault.New(fault.Invalid, "malformed_json", "The request body must hold exactly one JSON object.")
	}
	return nil
}

func decodeFault(err error) error {
	var (
		syntax   *json.SyntaxError
		typeErr  *json.UnmarshalTypeError
		tooLarge *http.MaxBytesError
	)
	switch {
	case errors.As(err, &tooLarge):
		return fault.New(fault.TooLarge, "body_too_large", fmt.Sprintf("The request body is larger than the %d bytes allowed.", tooLarge.Limit))
	case errors.Is(err, io.EOF):
		return fault.New(fault.Invalid, "empty_body", "The request body is empty; send a JSON object.")
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
		return fault.New(fault.Invalid, "malformed_json", "The request body is not valid JSON.")
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			return fault.New(fault.Invalid, "malformed_json", "The request body must be a JSON object.")
		}
		return fault.Invalidf(field, "wrong_type", "Field %q must be a JSON %s.", field, jsonKind(typeErr.Type.Kind().String()))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return fault.Invalidf(field, "unknown_field", "Field %q is not part of this request.", field)
	}
	return fault.New(fault.Invalid, "malformed_json", "The request body could not be read as JSON.")
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "struct", "map":
		return "object"
	case "slice", "array":
		return "array"
	}
	return "number"
}

// ClientIP is the caller's address as the server saw it.
func ClientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// client talks to a running signet over HTTP, as a user's program would.
type client struct {
	t    testing.TB
	base string
	http *http.Client
}

func newClient(t testing.TB, base string) *client {
	return &client{t: t, base: base, http: &http.Client{Timeout: 60 * time.Second}}
}

type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r response) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("status %d body %q: %v", r.Status, r.Body, err)
	}
}

// errorCode is the "code" of an error body, "" when the body is not one.
func (r response) errorCode() string {
	var e struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(r.Body, &e) != nil || e.Error.Message == "" {
		return ""
	}
	return e.Error.Code
}

// do sends body (a string is sent as is, anything else as JSON); headers come
// in name/value pairs.
func (c *client) do(method, path string, body any, headers ...string) (response, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			return response{}, err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		return response{}, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := c.http.Do(req)
	if err != nil {
		return response{}, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	return response{Status: res.StatusCode, Header: res.Header, Body: raw}, err
}

func (c *client) must(method, path string, body any, headers ...string) response {
	c.t.Helper()
	r, err := c.do(method, path, body, headers...)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	return r
}

var codeRe = regexp.MustCompile(`\b(\d{6})\b`)

// latestCode reads the newest verification code sent to login from the dev outbox.
func (c *client) latestCode(login string) (string, error) {
	r, err := c.do(http.MethodGet, "/dev/messages?to="+url.QueryEscape(login), nil)
	if err != nil {
		return "", err
	}
	var msgs []struct {
		To, Channel, Body string
		SentAt            time.Time `json:"sent_at"`
	}
	if err := json.Unmarshal(r.Body, &msgs); err != nil {
		return "", fmt.Errorf("dev messages: status %d %q: %w", r.Status, r.Body, err)
	}
	if len(msgs) == 0 {
		return "", fmt.Errorf("no message sent to %s", login)
	}
	m := codeRe.FindStringSubmatch(msgs[len(msgs)-1].Body)
	if m == nil {
		return "", fmt.Errorf("no code in %q", msgs[len(msgs)-1].Body)
	}
	return m[1], nil
}

func registration(login, code, password string) map[string]any {
	return map[string]any{
		"login": login, "code": code, "name": "林小明", "company": "杭州井然食品贸易有限公司",
		"invited_by": "", "password": password, "accept_privacy_policy": true, "accept_phone_followup": true,
	}
}

// register walks the whole registration: code, dev outbox, account. It
// returns the final response (201 on success) without failing the test, so
// concurrent and crash tests can count outcomes.
func (c *client) register(login, password string) (response, error) {
	r, err := c.do(http.MethodPost, "/api/v1/verification-codes", map[string]string{"to": login, "purpose": "register"})
	if err != nil {
		return r, err
	}
	if r.Status != http.StatusAccepted {
		return r, fmt.Errorf("code request: %d %s", r.Status, r.Body)
	}
	code, err := c.latestCode(login)
	if err != nil {
		return response{}, err
	}
	return c.do(http.MethodPost, "/api/v1/accounts", registration(login, code, password))
}

func (c *client) login(login, password string) (string, response) {
	c.t.Helper()
	r := c.must(http.MethodPost, "/api/v1/sessions", map[string]string{"login": login, "password": password})
	var out struct {
		Token string `json:"token"`
	}
	if r.Status == http.StatusCreated {
		r.json(c.t, &out)
	}
	return out.Token, r
}

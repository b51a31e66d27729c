package search

import (
	"encoding/base64"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"signet/domain/fault"
)

// Cursor is the position after the last hit of a page: the sort it belongs
// to, that hit's sort key and its ID (the tie-breaker). Encoded it is
// opaque base64; it carries no filter and no visibility, so a forged cursor
// can only move within what the query itself may read.
type Cursor struct {
	Sort string
	Key  int64
	ID   string
}

const cursorVersion = "1"

// Encode makes the opaque string form.
func (c Cursor) Encode() string {
	raw := cursorVersion + "|" + c.Sort + "|" + strconv.FormatInt(c.Key, 10) + "|" + c.ID
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

var errCursor = fault.Invalidf("after", "invalid_cursor", "the page cursor is not one this search gave out")

// DecodeCursor parses a cursor that must belong to sort; anything else is a
// *fault.Error Invalid "invalid_cursor".
func DecodeCursor(s, sort string) (Cursor, error) {
	if len(s) > 512 {
		return Cursor{}, errCursor
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || !utf8.Valid(raw) {
		return Cursor{}, errCursor
	}
	parts := strings.SplitN(string(raw), "|", 4)
	if len(parts) != 4 || parts[0] != cursorVersion || parts[1] != sort || parts[3] == "" {
		return Cursor{}, errCursor
	}
	key, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil || strconv.FormatInt(key, 10) != parts[2] {
		return Cursor{}, errCursor
	}
	return Cursor{Sort: parts[1], Key: key, ID: parts[3]}, nil
}

// Micros is the sort and range value of a time in both engines: Unix
// microseconds (exact in a float64, which bleve's numeric fields use); the
// zero time is 0.
func Micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// SentKey is the key of the "sent" orders: SentAt, or CreatedAt for drafts.
func SentKey(d ContractDoc) int64 {
	if d.SentAt != nil {
		return Micros(*d.SentAt)
	}
	return Micros(d.CreatedAt)
}

// Term is one piece of a text query. A Single term is one character (lower
// case) looked up in the unigram field, where every letter or digit of the
// text is a token; other terms are analysed like the text field (cjk:
// bigrams of Han runs, words of other scripts) and all their tokens must be
// present.
type Term struct {
	Text   string
	Single bool
}

// Terms splits a text query. A query of one character is Single; otherwise
// the text is split at white space and between CJK and other scripts, a CJK
// run of one character is Single, and pieces without a letter or digit are
// dropped (so a query of punctuation only filters nothing).
func Terms(s string) []Term {
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) == 1 {
		r, _ := utf8.DecodeRuneInString(s)
		if unicode.IsLetter(r) || unicode.IsNumber(r) {
			return []Term{{Text: strings.ToLower(s), Single: true}}
		}
		return nil
	}
	var out []Term
	for _, f := range strings.Fields(s) {
		start, prev := 0, -1
		flush := func(end int) {
			piece := f[start:end]
			if piece == "" || !hasWordRune(piece) {
				return
			}
			r, _ := utf8.DecodeRuneInString(piece)
			single := isCJK(r) && utf8.RuneCountInString(piece) == 1
			if single {
				piece = strings.ToLower(piece)
			}
			out = append(out, Term{Text: piece, Single: single})
		}
		for i, r := range f {
			c := 0
			if isCJK(r) {
				c = 1
			}
			if prev >= 0 && c != prev {
				flush(i)
				start = i
			}
			prev = c
		}
		flush(len(f))
	}
	return out
}

func isCJK(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul)
}

func hasWordRune(s string) bool {
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsNumber(r) {
			return true
		}
	}
	return false
}

// Prepared is a validated query as the adapters run it.
type Prepared struct {
	Principals []string // non-empty, no empty string
	Platform   bool     // audit only: PlatformPrincipal given, no visibility filter
	Text       []Term
	Sender     []Term // text part of ContractQuery.Sender (which is also matched exactly)
	Receiver   []Term
	Desc       bool
	After      *Cursor
	// Limit: adapters fetch Limit+1 hits; when the extra one exists the page
	// is cut to Limit and Next is the cursor after its last hit, so Next is
	// "" exactly on the last page.
	Limit int
}

// Deadline tells whether a contract sort is by deadline (else by sent key).
func Deadline(sort string) bool { return sort == DeadlineAsc || sort == DeadlineDesc }

// PrepareContracts validates q and fills its defaults (Sort, Limit, cleaned
// Status and Tags). Refusals are *fault.Error.
func PrepareContracts(q ContractQuery) (ContractQuery, Prepared, error) {
	var p Prepared
	var err error
	if p.Principals, err = principals(q.Principals); err != nil {
		return q, p, err
	}
	switch q.Sort {
	case "":
		q.Sort = SentDesc
	case SentDesc, SentAsc, DeadlineAsc, DeadlineDesc:
	default:
		return q, p, fault.Invalidf("sort", "invalid_sort", "sort must be one of sent_desc, sent_asc, deadline_asc, deadline_desc")
	}
	p.Desc = q.Sort == SentDesc || q.Sort == DeadlineDesc
	for _, f := range []struct {
		name string
		val  *string
	}{{"text", &q.Text}, {"sender", &q.Sender}, {"receiver", &q.Receiver}, {"number", &q.Number}, {"folder", &q.Folder}} {
		*f.val = strings.TrimSpace(*f.val)
		if err := checkText(f.name, *f.val); err != nil {
			return q, p, err
		}
	}
	if q.Status, err = cleanList("status", q.Status); err != nil {
		return q, p, err
	}
	if q.Tags, err = cleanList("tags", q.Tags); err != nil {
		return q, p, err
	}
	if q.SentFrom != nil && q.SentTo != nil && q.SentTo.Before(*q.SentFrom) {
		return q, p, fault.Invalidf("sent_to", "invalid_range", "the end of the sent range is before its start")
	}
	p.Text, p.Sender, p.Receiver = Terms(q.Text), Terms(q.Sender), Terms(q.Receiver)
	if p.Limit, err = limit(q.Limit); err != nil {
		return q, p, err
	}
	q.Limit = p.Limit
	if q.After != "" {
		c, err := DecodeCursor(q.After, q.Sort)
		if err != nil {
			return q, p, err
		}
		p.After = &c
	}
	return q, p, nil
}

// PrepareAudit validates an audit query and fills its defaults.
func PrepareAudit(q AuditQuery) (AuditQuery, Prepared, error) {
	var p Prepared
	var err error
	if p.Principals, err = principals(q.Principals); err != nil {
		return q, p, err
	}
	for _, pr := range p.Principals {
		if pr == PlatformPrincipal {
			p.Platform = true
		}
	}
	switch q.Sort {
	case "":
		q.Sort = NewestFirst
	case NewestFirst, OldestFirst:
	default:
		return q, p, fault.Invalidf("sort", "invalid_sort", "sort must be newest or oldest")
	}
	p.Desc = q.Sort == NewestFirst
	for _, f := range []struct {
		name string
		val  *string
	}{{"actor", &q.Actor}, {"enterprise", &q.Enterprise}, {"type", &q.Type}, {"stream", &q.Stream}, {"text", &q.Text}} {
		*f.val = strings.TrimSpace(*f.val)
		if err := checkText(f.name, *f.val); err != nil {
			return q, p, err
		}
	}
	if q.From != nil && q.To != nil && q.To.Before(*q.From) {
		return q, p, fault.Invalidf("to", "invalid_range", "the end of the time range is before its start")
	}
	p.Text = Terms(q.Text)
	if p.Limit, err = limit(q.Limit); err != nil {
		return q, p, err
	}
	q.Limit = p.Limit
	if q.After != "" {
		c, err := DecodeCursor(q.After, q.Sort)
		if err != nil {
			return q, p, err
		}
		p.After = &c
	}
	return q, p, nil
}

func principals(in []string) ([]string, error) {
	var out []string
	for _, p := range in {
		if p == "" {
			continue
		}
		if len(p) > 300 || !utf8.ValidString(p) {
			return nil, fault.Invalidf("principals", "invalid_principal", "a principal is malformed")
		}
		out = append(out, p)
	}
	if len(out) == 0 {
		return nil, ErrNoPrincipals
	}
	return out, nil
}

func checkText(field, s string) error {
	if !utf8.ValidString(s) {
		return fault.Invalidf(field, "invalid_text", "%s is not valid UTF-8", field)
	}
	if utf8.RuneCountInString(s) > maxTextRunes {
		return fault.Invalidf(field, "text_too_long", "%s is longer than %d characters", field, maxTextRunes)
	}
	return nil
}

func cleanList(field string, in []string) ([]string, error) {
	var out []string
	for _, s := range in {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if err := checkText(field, s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	if len(out) > 50 {
		return nil, fault.Invalidf(field, "too_many_values", "%s has more than 50 values", field)
	}
	return out, nil
}

func limit(n int) (int, error) {
	switch {
	case n < 0:
		return 0, fault.Invalidf("limit", "invalid_limit", "limit must not be negative")
	case n == 0:
		return DefaultLimit, nil
	case n > MaxLimit:
		return MaxLimit, nil
	}
	return n, nil
}

// ContractKey is the sort key of d under sort.
func ContractKey(d ContractDoc, sort string) int64 {
	if Deadline(sort) {
		return Micros(d.Deadline)
	}
	return SentKey(d)
}

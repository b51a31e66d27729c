package batch

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"signet/domain/account"
	"signet/domain/contract"
	"signet/domain/fault"
	"signet/domain/layout"
	"signet/domain/template"
)

// SheetRow is a row as read from the sheet: Line is the row number the
// user sees. The first row is the header.
type SheetRow struct {
	Line  int
	Cells []string
}

// RowError is one bad cell (or a whole bad row: Column "").
type RowError struct {
	Line    int    `json:"line"`
	Column  string `json:"column"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Row is a valid row, normalised: what sending its contract needs.
type Row struct {
	Line            int                            `json:"line"`
	Title           string                         `json:"title,omitempty"`
	Parties         map[string]contract.PartyInput `json:"parties"`
	Values          map[string]string              `json:"values,omitempty"`
	SigningDeadline time.Time                      `json:"signing_deadline"`
	ExpiresAt       *time.Time                     `json:"expires_at,omitempty"`
}

// Checked is a sheet's check: its valid rows in sheet order and every bad
// cell, by row.
type Checked struct {
	Total  int
	Valid  []Row
	Errors []RowError // by line, then column order
}

// Invalid is how many rows are bad.
func (c Checked) Invalid() int { return c.Total - len(c.Valid) }

// ByLine joins each bad row's errors into one sentence per row, as the
// sheet copy's error column shows them.
func (c Checked) ByLine() map[int]string {
	out := map[int]string{}
	for _, e := range c.Errors {
		msg := e.Message
		if e.Column != "" {
			msg = e.Column + "：" + msg
		}
		if prev, ok := out[e.Line]; ok {
			msg = prev + "；" + msg
		}
		out[e.Line] = msg
	}
	return out
}

// CheckRows checks a sheet's rows against a template: the header row must
// name the template's columns (in any order; optional ones may be left
// out), the sample's hint row is skipped, and every data row must make a
// contract the domain accepts, its signing deadline and expiry still
// ahead, and no row the same as an earlier one. A header that does not
// fit, no data rows or too many are refusals of the whole sheet.
func CheckRows(s template.Snapshot, rows []SheetRow, now time.Time) (Checked, error) {
	cols := Columns(s)
	if len(rows) == 0 {
		return Checked{}, rule("empty_sheet", "The sheet is empty: download the sample (batch-sample), fill one row per contract below its header and upload it.")
	}
	at, err := mapHeader(cols, rows[0])
	if err != nil {
		return Checked{}, err
	}
	data := rows[1:]
	if len(data) > 0 && isHintRow(cols, at, data[0]) {
		data = data[1:]
	}
	data = slices.DeleteFunc(slices.Clone(data), func(r SheetRow) bool {
		return !slices.ContainsFunc(r.Cells, func(c string) bool { return strings.TrimSpace(c) != "" })
	})
	if len(data) == 0 {
		return Checked{}, rule("empty_sheet", "The sheet has no rows below its header: fill one row per contract.")
	}
	if len(data) > MaxRows {
		return Checked{}, fault.New(fault.TooLarge, "too_many_rows", fmt.Sprintf("A batch has at most %d rows; this sheet has %d. Split it into several sheets.", MaxRows, len(data)))
	}
	ck := rowChecker{s: s, cols: cols, at: at, now: now, seen: make(map[string]int, len(data))}
	ck.fieldCols = map[string]string{"title": HeaderTitle, "signing_deadline": HeaderDeadline, "expires_at": HeaderExpiry}
	for _, c := range cols {
		switch c.Target {
		case TargetPartyName:
			ck.fieldCols["parties."+c.RoleID+".name"] = c.Header
		case TargetPartyContact:
			ck.fieldCols["parties."+c.RoleID+".contact"] = c.Header
		case TargetPartyEnterprise:
			ck.fieldCols["parties."+c.RoleID+".enterprise_name"] = c.Header
		case TargetValue:
			ck.fieldCols["values."+c.FieldID] = c.Header
		}
	}
	out := Checked{Total: len(data), Valid: make([]Row, 0, len(data))}
	for _, r := range data {
		row, errs := ck.row(r)
		if len(errs) > 0 {
			out.Errors = append(out.Errors, errs...)
			continue
		}
		out.Valid = append(out.Valid, row)
	}
	return out, nil
}

// mapHeader finds each column's place in the header row: at[i] is the
// cell index of cols[i], -1 when the column is left out.
func mapHeader(cols []Column, header SheetRow) ([]int, error) {
	byHeader := make(map[string]int, len(cols))
	for i, c := range cols {
		byHeader[c.Header] = i
	}
	at := make([]int, len(cols))
	for i := range at {
		at[i] = -1
	}
	var unknown, twice []string
	for j, cell := range header.Cells {
		// A byte order mark, and the sample's mark of a required column.
		h := strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(strings.TrimPrefix(cell, "\ufeff")), "*＊"))
		if h == "" {
			continue
		}
		i, ok := byHeader[h]
		switch {
		case !ok:
			unknown = append(unknown, h)
		case at[i] >= 0:
			twice = append(twice, h)
		default:
			at[i] = j
		}
	}
	var missing []string
	for i, c := range cols {
		if at[i] < 0 && c.Required {
			missing = append(missing, c.Header)
		}
	}
	if len(unknown)+len(twice)+len(missing) == 0 {
		return at, nil
	}
	var parts []string
	if len(missing) > 0 {
		parts = append(parts, "missing columns "+strings.Join(missing, ", "))
	}
	if len(unknown) > 0 {
		parts = append(parts, "unknown columns "+strings.Join(unknown, ", "))
	}
	if len(twice) > 0 {
		parts = append(parts, "columns given twice "+strings.Join(twice, ", "))
	}
	return nil, rule("sheet_header_mismatch", "Row %d, the header, does not fit this template (%s). Download the template's sample (batch-sample) again and fill it in; columns may be reordered.",
		header.Line, strings.Join(parts, "; "))
}

// isHintRow reports whether r is the sample's hint row, left in place.
func isHintRow(cols []Column, at []int, r SheetRow) bool {
	found := false
	for i, c := range cols {
		v := cell(r, at[i])
		if v == "" {
			continue
		}
		if v != c.Hint {
			return false
		}
		found = true
	}
	return found
}

func cell(r SheetRow, j int) string {
	if j < 0 || j >= len(r.Cells) {
		return ""
	}
	return strings.TrimSpace(r.Cells[j])
}

type rowChecker struct {
	s         template.Snapshot
	cols      []Column
	at        []int
	now       time.Time
	seen      map[string]int // a row's normalised cells -> its line
	fieldCols map[string]string
}

func (k *rowChecker) row(r SheetRow) (Row, []RowError) {
	row := Row{Line: r.Line, Parties: make(map[string]contract.PartyInput, len(k.s.Roles)), Values: map[string]string{}}
	var errs []RowError
	bad := func(c Column, code, format string, args ...any) {
		errs = append(errs, RowError{Line: r.Line, Column: c.Header, Code: code, Message: fmt.Sprintf(format, args...)})
	}
	norm := make([]string, len(k.cols))
	var expiry string
	var expiryCol Column
	for i, c := range k.cols {
		v := cell(r, k.at[i])
		norm[i] = v
		if v == "" {
			if c.Required {
				bad(c, "missing_value", "required, but empty.")
			}
			continue
		}
		if !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
			bad(c, "invalid_value", "has characters that cannot be shown.")
			continue
		}
		switch c.Target {
		case TargetTitle:
			if utf8.RuneCountInString(v) > contract.MaxTitleRunes {
				bad(c, "invalid_title", "at most %d characters.", contract.MaxTitleRunes)
			}
			row.Title = v
		case TargetPartyName, TargetPartyEnterprise:
			if utf8.RuneCountInString(v) > layout.MaxNameRunes {
				bad(c, "invalid_name", "at most %d characters.", layout.MaxNameRunes)
			}
			p := row.Parties[c.RoleID]
			if c.Target == TargetPartyName {
				p.Name = v
			} else {
				p.EnterpriseName = v
			}
			row.Parties[c.RoleID] = p
		case TargetPartyContact:
			l, err := account.ParseLogin(v)
			if err != nil {
				bad(c, "invalid_contact", "%q is neither a mainland mobile number (11 digits) nor an email address.", v)
				continue
			}
			norm[i] = l.String()
			p := row.Parties[c.RoleID]
			p.Contact = l.String()
			row.Parties[c.RoleID] = p
		case TargetValue:
			f, _ := k.field(c.FieldID)
			nv, err := layout.CheckValue(f, v)
			if err != nil {
				code, msg := "invalid_value", err.Error()
				if fe, ok := fault.As(err); ok {
					code, msg = fe.Code, fe.Message
				}
				errs = append(errs, RowError{Line: r.Line, Column: c.Header, Code: code, Message: msg})
				continue
			}
			norm[i] = nv
			row.Values[c.FieldID] = nv
		case TargetDeadline:
			t, ok := parseWhen(v)
			switch {
			case !ok:
				bad(c, "invalid_date", "%q is not a date such as 2026-12-31 or 2026-12-31 18:00.", v)
			case !t.After(k.now):
				bad(c, "deadline_passed", "%s is in the past; the signing deadline must be ahead.", v)
			case t.After(k.now.Add(contract.MaxSigningWindow)):
				bad(c, "deadline_too_far", "%s is more than a year from now.", v)
			default:
				row.SigningDeadline = t
				norm[i] = t.UTC().Format(time.RFC3339)
			}
		case TargetExpiry:
			expiry, expiryCol = v, c
		}
	}
	if expiry != "" {
		t, ok := parseWhen(expiry)
		switch {
		case !ok:
			bad(expiryCol, "invalid_date", "%q is not a date such as 2026-12-31.", expiry)
		case !t.After(k.now):
			bad(expiryCol, "expiry_passed", "%s is in the past.", expiry)
		case !row.SigningDeadline.IsZero() && !t.After(row.SigningDeadline):
			bad(expiryCol, "expiry_before_deadline", "the contract cannot expire before its signing deadline.")
		default:
			row.ExpiresAt = &t
		}
	}
	if len(errs) > 0 {
		return Row{}, errs
	}
	key := strings.Join(norm, "\x1f")
	if first, dup := k.seen[key]; dup {
		return Row{}, []RowError{{Line: r.Line, Code: "duplicate_row", Message: fmt.Sprintf("the same as row %d; a contract is sent once per row.", first)}}
	}
	k.seen[key] = r.Line
	if len(row.Values) == 0 {
		row.Values = nil
	}
	// The domain's own check of the whole contract (e.g. one person named
	// for two roles), with stand-ins for what sending decides.
	spec := contract.Spec{ContractID: "check", Number: "check", Title: row.Title, ContractType: k.s.ContractType,
		Sender: contract.Sender{AccountID: "check", Name: "check"}, Documents: k.s.Documents, Roles: k.s.Roles, Fields: k.s.Fields,
		Sequential: k.s.Sequential, Parties: row.Parties, Values: row.Values, SigningDeadline: row.SigningDeadline, ExpiresAt: row.ExpiresAt}
	if strings.TrimSpace(spec.Title) == "" {
		spec.Title = k.s.Name
	}
	if _, err := contract.Create(spec, k.now); err != nil {
		code, col, msg := "invalid_row", "", err.Error()
		if fe, ok := fault.As(err); ok {
			code, col, msg = fe.Code, k.fieldCols[fe.Field], fe.Message
		}
		delete(k.seen, key)
		return Row{}, []RowError{{Line: r.Line, Column: col, Code: code, Message: msg}}
	}
	return row, nil
}

func (k *rowChecker) field(id string) (layout.Field, bool) {
	i := slices.IndexFunc(k.s.Fields, func(f layout.Field) bool { return f.ID == id })
	if i < 0 {
		return layout.Field{}, false
	}
	return k.s.Fields[i], true
}

// parseWhen reads a date (the end of that day in Shanghai) or a date and
// a time (Shanghai time).
func parseWhen(v string) (time.Time, bool) {
	for _, l := range []string{"2006-01-02 15:04", "2006-01-02 15:04:05", "2006/1/2 15:04", "2006/1/2 15:04:05", "2006-1-2 15:04"} {
		if t, err := time.ParseInLocation(l, v, contract.Shanghai); err == nil {
			return t, true
		}
	}
	for _, l := range []string{"2006-01-02", "2006/01/02", "2006/1/2", "2006-1-2", "2006年1月2日", "20060102"} {
		if t, err := time.ParseInLocation(l, v, contract.Shanghai); err == nil {
			return t.AddDate(0, 0, 1).Add(-time.Second), true
		}
	}
	if serial, err := strconv.Atoi(v); err == nil && serial > 0 && serial < 2958466 && len(v) <= 5 {
		// An Excel date serial that a spreadsheet left unformatted.
		t := time.Date(1899, 12, 30, 0, 0, 0, 0, contract.Shanghai).AddDate(0, 0, serial)
		return t.AddDate(0, 0, 1).Add(-time.Second), true
	}
	return time.Time{}, false
}

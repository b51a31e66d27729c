// Package layout holds the value types that templates and contracts share:
// documents with their page sizes, signer roles (签约角色) and the fields
// placed on pages (签字处 / 盖章处 / 业务字段), with the rules that keep a
// field on its page and tied to a role that exists.
package layout

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"signet/domain/fault"
)

// PartyKind says who stands behind a role: an enterprise signs with a seal,
// a person with a signature.
type PartyKind string

const (
	Enterprise PartyKind = "enterprise"
	Person     PartyKind = "person"
)

// Valid reports whether k is a known party kind.
func (k PartyKind) Valid() bool { return k == Enterprise || k == Person }

// FieldKind is what a field holds.
type FieldKind string

const (
	Seal      FieldKind = "seal"      // 盖章处: an enterprise role's seal
	Signature FieldKind = "signature" // 签字处: a person role's signature
	SignDate  FieldKind = "sign_date" // 签署日期: filled when the role signs
	Text      FieldKind = "text"      // business fields, filled by the sender
	Number    FieldKind = "number"
	Date      FieldKind = "date"
	Choice    FieldKind = "choice"
)

// Signing reports whether the field is filled by a role when it signs.
func (k FieldKind) Signing() bool { return k == Seal || k == Signature || k == SignDate }

// Business reports whether the field is a business field (业务字段).
func (k FieldKind) Business() bool { return k == Text || k == Number || k == Date || k == Choice }

// File is a stored document: its bytes live in the blob store under SHA256.
type File struct {
	SHA256    string `json:"sha256"`
	Size      int64  `json:"size"`
	MediaType string `json:"media_type"`
}

// Page is a page's size in PDF points (1/72 inch).
type Page struct {
	W float64 `json:"w"`
	H float64 `json:"h"`
}

// A4 is the size of a blank document's page.
var A4 = Page{W: 595.28, H: 841.89}

// Document is one document of a template or contract (本地文档 / 空白文档).
type Document struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Blank bool   `json:"blank,omitempty"`
	File  File   `json:"file"`
	Pages []Page `json:"pages"`
}

// Role is a preset signer role (签约角色) such as 甲方 or 乙方.
type Role struct {
	ID    string    `json:"id"`
	Name  string    `json:"name"`
	Kind  PartyKind `json:"kind"`
	Order int       `json:"order"` // 1-based; in sequential signing lower orders sign first, equal orders together
}

// Rect is a rectangle on a page in PDF points, origin at the page's lower
// left corner (PDF user space).
type Rect struct {
	X float64 `json:"x"`
	Y float64 `json:"y"`
	W float64 `json:"w"`
	H float64 `json:"h"`
}

// Field is a place on a page: where a role seals, signs or dates, or a
// business field the sender fills in.
type Field struct {
	ID         string    `json:"id"`
	Kind       FieldKind `json:"kind"`
	RoleID     string    `json:"role_id,omitempty"` // signing fields only
	Name       string    `json:"name,omitempty"`    // business fields only
	Required   bool      `json:"required,omitempty"`
	Choices    []string  `json:"choices,omitempty"` // choice fields only
	DocumentID string    `json:"document_id"`
	Page       int       `json:"page"` // 1-based
	Rect       Rect      `json:"rect"`
}

// Limits on names and counts.
const (
	MaxNameRunes   = 100
	MaxChoices     = 50
	MaxValueRunes  = 500
	MaxRoles       = 20
	MaxFields      = 500
	MaxDocuments   = 20
	MinFieldPoints = 4 // a field narrower or lower than this cannot be seen
)

// CheckName validates a display name (template, role, field, document).
func CheckName(field, what, s string) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", fault.Invalidf(field, "missing_"+field, "Give the %s a name.", what)
	case !utf8.ValidString(s) || strings.ContainsAny(s, "\x00\r\n\t"):
		return "", fault.Invalidf(field, "invalid_"+field, "The %s's name has characters that cannot be shown.", what)
	case utf8.RuneCountInString(s) > MaxNameRunes:
		return "", fault.Invalidf(field, "invalid_"+field, "The %s's name is longer than %d characters.", what, MaxNameRunes)
	}
	return s, nil
}

// CheckRole validates a role on its own (uniqueness is the caller's).
func CheckRole(r Role) (Role, error) {
	name, err := CheckName("name", "role", r.Name)
	if err != nil {
		return Role{}, err
	}
	r.Name = name
	if !r.Kind.Valid() {
		return Role{}, fault.Invalidf("kind", "invalid_party_kind", "A role is signed by an %q or a %q, not %q.", Enterprise, Person, r.Kind)
	}
	if r.Order < 1 || r.Order > MaxRoles {
		return Role{}, fault.Invalidf("order", "invalid_order", "A role's signing order is a number from 1 to %d.", MaxRoles)
	}
	return r, nil
}

// CheckField validates a field against the documents and roles it refers
// to: its page must exist, its rectangle must lie on that page, a signing
// field must belong to a known role of the right kind (a seal to an
// enterprise, a signature to a person), a business field needs a name and,
// for a choice, its choices.
func CheckField(f Field, docs []Document, roles []Role) (Field, error) {
	switch {
	case f.Kind.Signing():
		var role *Role
		for i := range roles {
			if roles[i].ID == f.RoleID {
				role = &roles[i]
			}
		}
		if role == nil {
			return Field{}, fault.Invalidf("role_id", "unknown_role", "The field is for role %q, which this template does not have.", f.RoleID)
		}
		if f.Kind == Seal && role.Kind != Enterprise {
			return Field{}, fault.Invalidf("kind", "seal_for_person", "Role %s is a person: a person signs with a signature, not a seal.", role.Name)
		}
		if f.Kind == Signature && role.Kind != Person {
			return Field{}, fault.Invalidf("kind", "signature_for_enterprise", "Role %s is an enterprise: an enterprise signs with a seal, not a signature.", role.Name)
		}
		f.Name, f.Choices, f.Required = "", nil, true
	case f.Kind.Business():
		name, err := CheckName("name", "field", f.Name)
		if err != nil {
			return Field{}, err
		}
		f.Name, f.RoleID = name, ""
		if f.Kind == Choice {
			if len(f.Choices) == 0 || len(f.Choices) > MaxChoices {
				return Field{}, fault.Invalidf("choices", "invalid_choices", "A choice field offers 1 to %d choices.", MaxChoices)
			}
			seen := map[string]bool{}
			for i, c := range f.Choices {
				c, err := CheckName("choices", "choice", c)
				if err != nil {
					return Field{}, err
				}
				if seen[c] {
					return Field{}, fault.Invalidf("choices", "duplicate_choice", "The choice %q is offered twice.", c)
				}
				seen[c], f.Choices[i] = true, c
			}
		} else {
			f.Choices = nil
		}
	default:
		return Field{}, fault.Invalidf("kind", "invalid_field_kind", "A field is one of seal, signature, sign_date, text, number, date or choice, not %q.", f.Kind)
	}
	var doc *Document
	for i := range docs {
		if docs[i].ID == f.DocumentID {
			doc = &docs[i]
		}
	}
	if doc == nil {
		return Field{}, fault.Invalidf("document_id", "unknown_document", "The field is on document %q, which does not exist.", f.DocumentID)
	}
	if f.Page < 1 || f.Page > len(doc.Pages) {
		return Field{}, fault.Invalidf("page", "no_such_page", "Document %s has %d page(s); there is no page %d.", doc.Name, len(doc.Pages), f.Page)
	}
	p, r := doc.Pages[f.Page-1], f.Rect
	for _, v := range []float64{r.X, r.Y, r.W, r.H} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return Field{}, fault.Invalidf("rect", "invalid_rect", "The field's rectangle must be made of numbers.")
		}
	}
	if r.W < MinFieldPoints || r.H < MinFieldPoints {
		return Field{}, fault.Invalidf("rect", "field_too_small", "A field is at least %d points wide and high.", MinFieldPoints)
	}
	if r.X < 0 || r.Y < 0 || r.X+r.W > p.W+0.01 || r.Y+r.H > p.H+0.01 {
		return Field{}, fault.Invalidf("rect", "field_off_page",
			"The field (x %.1f, y %.1f, %.1f x %.1f points) does not lie on page %d, which is %.1f x %.1f points.", r.X, r.Y, r.W, r.H, f.Page, p.W, p.H)
	}
	return f, nil
}

// CheckValue validates a business field's value as the sender typed it and
// returns it in normal form (numbers as typed but checked, dates as
// 2006-01-02). An empty value is refused for a required field.
func CheckValue(f Field, v string) (string, error) {
	field := "values." + f.ID
	v = strings.TrimSpace(v)
	if v == "" {
		if f.Required {
			return "", fault.Invalidf(field, "missing_value", "%s is required.", f.Name)
		}
		return "", nil
	}
	if !utf8.ValidString(v) || utf8.RuneCountInString(v) > MaxValueRunes {
		return "", fault.Invalidf(field, "invalid_value", "%s is at most %d characters of text.", f.Name, MaxValueRunes)
	}
	switch f.Kind {
	case Number:
		n := strings.ReplaceAll(v, ",", "")
		if _, err := strconv.ParseFloat(n, 64); err != nil || strings.ContainsAny(n, "eEinfINFxX") {
			return "", fault.Invalidf(field, "invalid_number", "%s must be a number, not %q.", f.Name, v)
		}
		return n, nil
	case Date:
		for _, layout := range []string{"2006-01-02", "2006/01/02", "2006/1/2", "2006-1-2", "2006年1月2日"} {
			if t, err := time.Parse(layout, v); err == nil {
				return t.Format("2006-01-02"), nil
			}
		}
		return "", fault.Invalidf(field, "invalid_date", "%s must be a date such as 2026-12-31, not %q.", f.Name, v)
	case Choice:
		for _, c := range f.Choices {
			if c == v {
				return v, nil
			}
		}
		return "", fault.Invalidf(field, "unknown_choice", "%s is one of %s, not %q.", f.Name, strings.Join(f.Choices, " / "), v)
	case Text:
		if strings.ContainsRune(v, 0) {
			return "", fault.Invalidf(field, "invalid_value", "%s has characters that cannot be shown.", f.Name)
		}
		return v, nil
	}
	return "", fmt.Errorf("layout: %s is not a business field", f.Kind)
}

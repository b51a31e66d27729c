// Package search is the port of the searchable contract list and the audit
// trail: the document types the projections write, the queries the read API
// asks, and the Index interface that the adapters in search/bleve (embedded)
// and search/elastic (Elasticsearch) implement and search/searchtest checks.
//
// Visibility is part of every query: documents carry the principals that may
// see them (opaque strings such as "acct:<id>", "ent:<id>", "login:<hash>")
// and a query names the caller's principals; a query without principals is
// refused, never read as "everything".
package search

import (
	"context"
	"time"

	"signet/domain/fault"
)

// PlatformPrincipal in an AuditQuery's principals reads every audit record
// (platform auditors). It has no meaning for contract queries.
const PlatformPrincipal = "platform"

// ContractDoc is one contract as the search sees it.
type ContractDoc struct {
	ID     string `json:"id"`
	Number string `json:"number,omitempty"` // contract number, matched exactly
	Title  string `json:"title"`
	Status string `json:"status"`

	SenderName       string `json:"sender_name,omitempty"`       // display name: the enterprise's when sent for one, else the person's
	SenderPerson     string `json:"sender_person,omitempty"`     // the sending person's name
	SenderAccount    string `json:"sender_account,omitempty"`    // account ID, matched exactly
	SenderEnterprise string `json:"sender_enterprise,omitempty"` // enterprise ID, matched exactly

	Receivers    []string `json:"receivers,omitempty"`     // party and enterprise names (text)
	ReceiverKeys []string `json:"receiver_keys,omitempty"` // exact keys of party contacts (login hashes)

	SentAt    *time.Time `json:"sent_at,omitempty"` // nil for drafts
	CreatedAt time.Time  `json:"created_at"`
	Deadline  time.Time  `json:"deadline"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`

	Tags    []string `json:"tags,omitempty"`    // "<owner id>/<tag>"
	Folders []string `json:"folders,omitempty"` // "<account id>/<folder id>"
	Visible []string `json:"visible"`           // principals that may see it

	// Version is the global log position of the last event applied to the
	// document; it is the external version: a write never replaces a stored
	// document of the same or a greater version.
	Version uint64 `json:"version"`
}

// AuditRecord is one event as the audit trail shows it.
type AuditRecord struct {
	ID         string    `json:"id"` // event ID
	At         time.Time `json:"at"`
	Actor      string    `json:"actor,omitempty"`      // account ID
	Enterprise string    `json:"enterprise,omitempty"` // acting enterprise ID
	ClientIP   string    `json:"client_ip,omitempty"`  // masked
	Stream     string    `json:"stream"`
	Type       string    `json:"type"`
	Summary    string    `json:"summary"` // readable one-line sentence (text)
	Visible    []string  `json:"visible"`
	Position   uint64    `json:"position"` // global log position
}

// Sort orders of contract queries. Drafts (no SentAt) sort by CreatedAt in
// the "sent" orders; ties are broken by ID so that cursors are exact.
const (
	SentDesc     = "sent_desc" // default
	SentAsc      = "sent_asc"
	DeadlineAsc  = "deadline_asc"
	DeadlineDesc = "deadline_desc"
)

// Sort orders of audit queries, by global position.
const (
	NewestFirst = "newest" // default
	OldestFirst = "oldest"
)

// Limits of a page.
const (
	DefaultLimit = 20
	MaxLimit     = 200
	maxTextRunes = 200
)

// ContractQuery selects contracts. Every filter that is set must hold.
type ContractQuery struct {
	Principals []string // required: only documents visible to one of them are returned

	Text     string // words of the title: Chinese or Latin; one character finds titles containing it
	Sender   string // sender name or person (text), or exact account or enterprise ID
	Receiver string // receiver name or enterprise (text), or an exact receiver key
	Status   []string
	SentFrom *time.Time // inclusive; documents without SentAt never match a sent range
	SentTo   *time.Time // exclusive
	Number   string     // exact contract number
	Tags     []string   // each of them
	Folder   string     // exact "<account id>/<folder id>"

	Sort  string // SentDesc (default), SentAsc, DeadlineAsc, DeadlineDesc
	After string // cursor: ContractPage.Next of the previous page
	Limit int    // default 20, at most 200
}

// ContractPage is one page of a contract query.
type ContractPage struct {
	Hits  []ContractDoc
	Total int    // matches of the whole query, not only after the cursor
	Next  string // cursor of the next page, "" when this page is the last
}

// AuditQuery selects audit records. Every filter that is set must hold.
type AuditQuery struct {
	Principals []string // required; PlatformPrincipal reads everything

	Actor      string     // exact account ID
	Enterprise string     // exact acting enterprise ID
	Type       string     // exact event type
	Stream     string     // exact stream name: the trail of one contract, enterprise or account
	Text       string     // words of the summary
	From       *time.Time // inclusive
	To         *time.Time // exclusive

	Sort  string // NewestFirst (default) or OldestFirst
	After string
	Limit int
}

// AuditPage is one page of an audit query.
type AuditPage struct {
	Hits  []AuditRecord
	Total int
	Next  string
}

// Checkpoint is the global log position a named consumer has applied.
type Checkpoint struct {
	Name     string
	Position uint64
}

// Batch is one write: documents, audit records and optionally the writer's
// checkpoint. Adapters store it as one atomic write where the engine allows
// (bleve: one batch) and otherwise in one request whose parts are each
// idempotent (Elasticsearch: one _bulk with external versions), so that a
// replay after a partial write converges.
type Batch struct {
	// Contracts: a document whose Version is not greater than the stored
	// one is ignored, so replays and out-of-order writes never overwrite
	// newer data. Within one batch the greatest version of an ID wins.
	Contracts []ContractDoc
	// Audit: idempotent by ID; a stored record is never changed.
	Audit []AuditRecord
	// Checkpoint, when set, moves the named checkpoint forwards (never back).
	Checkpoint *Checkpoint
}

// Generation is one generation of the index: the live one, or the fresh one
// a rebuild fills.
type Generation interface {
	Write(ctx context.Context, b Batch) error
	// GetContract reads a document by ID as last written (no refresh delay).
	GetContract(ctx context.Context, id string) (ContractDoc, bool, error)
	SearchContracts(ctx context.Context, q ContractQuery) (ContractPage, error)
	SearchAudit(ctx context.Context, q AuditQuery) (AuditPage, error)
	// Checkpoint is the named checkpoint's position, 0 when never set.
	Checkpoint(ctx context.Context, name string) (uint64, error)
}

// Index is the search port.
type Index interface {
	Generation
	// BeginRebuild starts filling a fresh, empty generation while this one
	// keeps answering. Only one rebuild runs at a time (else a Conflict).
	BeginRebuild(ctx context.Context) (Rebuild, error)
	Close() error
}

// Rebuild is a generation being filled. Commit makes it the one the Index
// reads and writes, atomically for readers, and drops the old one; Abort
// drops the new one. After either, the Rebuild must not be used.
type Rebuild interface {
	Generation
	Commit(ctx context.Context) error
	Abort(ctx context.Context) error
}

// ErrNoPrincipals refuses a query that names no principal.
var ErrNoPrincipals = fault.New(fault.Forbidden, "no_principals", "a search must name the principals whose documents it may read")

// ErrRebuildRunning refuses a second concurrent rebuild.
var ErrRebuildRunning = fault.New(fault.Conflict, "rebuild_running", "a rebuild of the search index is already running")

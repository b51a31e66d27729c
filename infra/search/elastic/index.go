// Package elastic is the Elasticsearch adapter of the search port, on the
// plain go-elasticsearch/v8 API (not typedapi, which costs ~80 s of build).
//
// Open puts composable index templates (mappings: cjk text with a unigram
// ".uni" subfield, keywords, longs of microseconds; dynamic: strict) and,
// when missing, creates generation 1 of the indices "<prefix>contracts-<n>",
// "<prefix>audit-<n>" and "<prefix>meta-<n>" behind the aliases
// "<prefix>contracts", "<prefix>audit" and "<prefix>meta". Live reads and
// writes go through the aliases; a rebuild fills generation n+1 and switches
// all three aliases in one _aliases request, which is atomic for readers.
//
// A write is one _bulk request: contracts with version_type=external and
// version = ContractDoc.Version, audit records with "create", and the
// checkpoint as a meta document whose external version is the position. The
// request is not atomic, but every part is idempotent and versioned, so a
// replay after a partial failure converges and a checkpoint never moves
// back; 409 conflicts are those expected no-ops. Live writes refresh, so a
// search sees them when Write returns; a rebuild refreshes at Commit.
package elastic

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/elastic/go-elasticsearch/v8/esapi"

	"signet/infra/search"
)

// Config says where the cluster is.
type Config struct {
	URL       string            // e.g. http://127.0.0.1:9200 (SIGNET_SEARCH_URL)
	Prefix    string            // index and alias name prefix, default "signet-"
	Username  string            // optional basic auth
	Password  string            // optional basic auth
	Transport http.RoundTripper // optional
}

// Index is the Elasticsearch adapter; it implements search.Index.
type Index struct {
	es     *elasticsearch.Client
	prefix string
	live   *generation

	mu         sync.Mutex
	rebuilding bool
	closed     atomic.Bool
}

var _ search.Index = (*Index)(nil)

// generation addresses one set of the three indices: by alias (live) or by
// concrete name (a rebuild).
type generation struct {
	x       *Index
	names   [3]string
	refresh string // "true" for live writes, "false" while rebuilding
	alias   bool   // writes must go to an alias (require_alias)
}

var validPrefix = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,60}$`)

// Open connects, puts the templates and makes sure generation 1 exists.
func Open(ctx context.Context, cfg Config) (*Index, error) {
	if cfg.Prefix == "" {
		cfg.Prefix = "signet-"
	}
	if !validPrefix.MatchString(cfg.Prefix) {
		return nil, fmt.Errorf("elastic: invalid index prefix %q", cfg.Prefix)
	}
	es, err := elasticsearch.NewClient(elasticsearch.Config{
		Addresses: []string{cfg.URL}, Username: cfg.Username, Password: cfg.Password, Transport: cfg.Transport,
	})
	if err != nil {
		return nil, fmt.Errorf("elastic: client: %w", err)
	}
	x := &Index{es: es, prefix: cfg.Prefix}
	x.live = &generation{x: x, refresh: "true", alias: true}
	for k := range kinds {
		x.live.names[k] = x.alias(k)
		req := esapi.IndicesPutIndexTemplateRequest{Name: x.alias(k), Body: bytes.NewReader(mustJSON(template(cfg.Prefix, k)))}
		if err := x.do(ctx, req, nil, "put template "+x.alias(k)); err != nil {
			return nil, err
		}
	}
	n, err := x.current(ctx)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		if err := x.createGeneration(ctx, 1); err != nil {
			return nil, err
		}
		if err := x.switchTo(ctx, 0, 1); err != nil {
			return nil, err
		}
	}
	return x, nil
}

func (x *Index) alias(kind int) string { return x.prefix + kinds[kind] }

func (x *Index) concrete(kind, n int) string { return x.alias(kind) + "-" + strconv.Itoa(n) }

// esError is an error answer of Elasticsearch.
type esError struct {
	Status int
	Type   string
	Reason string
}

func (e *esError) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Type, e.Reason) }

func statusOf(err error) int {
	var e *esError
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

// missingDoc: a GET of a document that does not exist (a missing index is an
// error with a type, not a missing document).
func missingDoc(err error) bool {
	var e *esError
	return errors.As(err, &e) && e.Status == http.StatusNotFound && e.Type == ""
}

type request interface {
	Do(ctx context.Context, t esapi.Transport) (*esapi.Response, error)
}

// do performs req and decodes a 2xx body into out (when not nil).
func (x *Index) do(ctx context.Context, req request, out any, what string) error {
	if x.closed.Load() {
		return search.ErrClosed
	}
	res, err := req.Do(ctx, x.es)
	if err != nil {
		return fmt.Errorf("elastic: %s: %w", what, err)
	}
	defer res.Body.Close()
	if res.IsError() {
		var body struct {
			Error json.RawMessage `json:"error"`
		}
		raw, _ := io.ReadAll(io.LimitReader(res.Body, 1<<16))
		e := &esError{Status: res.StatusCode, Reason: strings.TrimSpace(string(raw))}
		if json.Unmarshal(raw, &body) == nil && len(body.Error) > 0 {
			var detail struct{ Type, Reason string }
			if json.Unmarshal(body.Error, &detail) == nil && detail.Type != "" {
				e.Type, e.Reason = detail.Type, detail.Reason
			}
		}
		return fmt.Errorf("elastic: %s: %w", what, e)
	}
	if out == nil {
		io.Copy(io.Discard, res.Body)
		return nil
	}
	if err := json.NewDecoder(res.Body).Decode(out); err != nil {
		return fmt.Errorf("elastic: %s: decode answer: %w", what, err)
	}
	return nil
}

// current is the generation number the contracts alias points at, 0 when
// the alias does not exist.
func (x *Index) current(ctx context.Context) (int, error) {
	var out map[string]any
	err := x.do(ctx, esapi.IndicesGetAliasRequest{Name: []string{x.alias(kindContracts)}}, &out, "read alias")
	if statusOf(err) == http.StatusNotFound {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	n := 0
	for name := range out {
		v, err := strconv.Atoi(strings.TrimPrefix(name, x.alias(kindContracts)+"-"))
		if err != nil || !strings.HasPrefix(name, x.alias(kindContracts)+"-") {
			return 0, fmt.Errorf("elastic: alias %s points at %s, not a generation", x.alias(kindContracts), name)
		}
		n = max(n, v)
	}
	return n, nil
}

// createGeneration creates the three indices of generation n (dropping
// leftovers of an interrupted rebuild first); the templates give them their
// settings and mappings.
func (x *Index) createGeneration(ctx context.Context, n int) error {
	if err := x.dropGeneration(ctx, n); err != nil {
		return err
	}
	for k := range kinds {
		if err := x.do(ctx, esapi.IndicesCreateRequest{Index: x.concrete(k, n)}, nil, "create index"); err != nil {
			return err
		}
	}
	return nil
}

func (x *Index) dropGeneration(ctx context.Context, n int) error {
	names := make([]string, len(kinds))
	for k := range kinds {
		names[k] = x.concrete(k, n)
	}
	yes := true
	return x.do(ctx, esapi.IndicesDeleteRequest{Index: names, IgnoreUnavailable: &yes}, nil, "delete indices")
}

// switchTo moves the three aliases from generation old (0: none) to n in one
// request.
func (x *Index) switchTo(ctx context.Context, old, n int) error {
	var actions []obj
	for k := range kinds {
		if old > 0 {
			actions = append(actions, obj{"remove": obj{"index": x.concrete(k, old), "alias": x.alias(k)}})
		}
		actions = append(actions, obj{"add": obj{"index": x.concrete(k, n), "alias": x.alias(k)}})
	}
	req := esapi.IndicesUpdateAliasesRequest{Body: bytes.NewReader(mustJSON(obj{"actions": actions}))}
	return x.do(ctx, req, nil, "switch aliases")
}

func (x *Index) Write(ctx context.Context, b search.Batch) error { return x.live.write(ctx, b) }

func (x *Index) GetContract(ctx context.Context, id string) (search.ContractDoc, bool, error) {
	return x.live.getContract(ctx, id)
}

func (x *Index) SearchContracts(ctx context.Context, q search.ContractQuery) (search.ContractPage, error) {
	return x.live.searchContracts(ctx, q)
}

func (x *Index) SearchAudit(ctx context.Context, q search.AuditQuery) (search.AuditPage, error) {
	return x.live.searchAudit(ctx, q)
}

func (x *Index) Checkpoint(ctx context.Context, name string) (uint64, error) {
	return x.live.checkpoint(ctx, name)
}

// Close releases the client; the indices stay.
func (x *Index) Close() error {
	x.closed.Store(true)
	return nil
}

// BeginRebuild creates generation n+1. One rebuild per Index at a time;
// nothing guards against a rebuild of the same prefix in another process.
func (x *Index) BeginRebuild(ctx context.Context) (search.Rebuild, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.closed.Load() {
		return nil, search.ErrClosed
	}
	if x.rebuilding {
		return nil, search.ErrRebuildRunning
	}
	old, err := x.current(ctx)
	if err != nil {
		return nil, err
	}
	n := old + 1
	if err := x.createGeneration(ctx, n); err != nil {
		return nil, err
	}
	x.rebuilding = true
	g := &generation{x: x, refresh: "false"}
	for k := range kinds {
		g.names[k] = x.concrete(k, n)
	}
	return &rebuild{generation: g, old: old, n: n}, nil
}

type rebuild struct {
	*generation
	old, n int
	done   atomic.Bool
}

func (r *rebuild) Write(ctx context.Context, b search.Batch) error {
	if r.done.Load() {
		return search.ErrClosed
	}
	return r.generation.write(ctx, b)
}

func (r *rebuild) GetContract(ctx context.Context, id string) (search.ContractDoc, bool, error) {
	if r.done.Load() {
		return search.ContractDoc{}, false, search.ErrClosed
	}
	return r.generation.getContract(ctx, id)
}

// SearchContracts on a rebuild before Commit may miss its latest writes:
// they become searchable at the refresh Commit does.
func (r *rebuild) SearchContracts(ctx context.Context, q search.ContractQuery) (search.ContractPage, error) {
	if r.done.Load() {
		return search.ContractPage{}, search.ErrClosed
	}
	return r.generation.searchContracts(ctx, q)
}

func (r *rebuild) SearchAudit(ctx context.Context, q search.AuditQuery) (search.AuditPage, error) {
	if r.done.Load() {
		return search.AuditPage{}, search.ErrClosed
	}
	return r.generation.searchAudit(ctx, q)
}

func (r *rebuild) Checkpoint(ctx context.Context, name string) (uint64, error) {
	if r.done.Load() {
		return 0, search.ErrClosed
	}
	return r.generation.checkpoint(ctx, name)
}

// Commit refreshes the new indices, switches the aliases to them in one
// request and deletes the old ones.
func (r *rebuild) Commit(ctx context.Context) error {
	if !r.done.CompareAndSwap(false, true) {
		return search.ErrClosed
	}
	x := r.x
	defer func() {
		x.mu.Lock()
		x.rebuilding = false
		x.mu.Unlock()
	}()
	if err := x.do(ctx, esapi.IndicesRefreshRequest{Index: r.names[:]}, nil, "refresh"); err != nil {
		return err
	}
	if err := x.switchTo(ctx, r.old, r.n); err != nil {
		return err
	}
	if r.old > 0 {
		return x.dropGeneration(ctx, r.old)
	}
	return nil
}

func (r *rebuild) Abort(ctx context.Context) error {
	if !r.done.CompareAndSwap(false, true) {
		return nil
	}
	x := r.x
	defer func() {
		x.mu.Lock()
		x.rebuilding = false
		x.mu.Unlock()
	}()
	return x.dropGeneration(ctx, r.n)
}

type bulkAnswer struct {
	Errors bool                         `json:"errors"`
	Items  []map[string]bulkItemOutcome `json:"items"`
}

type bulkItemOutcome struct {
	ID     string `json:"_id"`
	Status int    `json:"status"`
	Error  *struct {
		Type   string `json:"type"`
		Reason string `json:"reason"`
	} `json:"error"`
}

func (g *generation) write(ctx context.Context, b search.Batch) error {
	docs, err := b.Prepare()
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	line := func(v any) {
		buf.Write(mustJSON(v))
		buf.WriteByte('\n')
	}
	for _, d := range docs {
		line(obj{"index": obj{"_index": g.names[kindContracts], "_id": d.ID, "version": d.Version, "version_type": "external"}})
		line(contractSource(d))
	}
	for _, r := range b.Audit {
		line(obj{"create": obj{"_index": g.names[kindAudit], "_id": r.ID}})
		line(auditSource(r))
	}
	if c := b.Checkpoint; c != nil && c.Position > 0 {
		line(obj{"index": obj{"_index": g.names[kindMeta], "_id": "checkpoint-" + c.Name, "version": c.Position, "version_type": "external"}})
		line(obj{"name": c.Name, "position": c.Position})
	}
	if buf.Len() == 0 {
		return nil
	}
	req := esapi.BulkRequest{Body: &buf, Refresh: g.refresh}
	if g.alias {
		yes := true
		req.RequireAlias = &yes
	}
	var out bulkAnswer
	if err := g.x.do(ctx, req, &out, "bulk"); err != nil {
		return err
	}
	if !out.Errors {
		return nil
	}
	for _, item := range out.Items {
		for op, o := range item {
			if o.Status < 300 || o.Status == http.StatusConflict {
				continue
			}
			e := &esError{Status: o.Status}
			if o.Error != nil {
				e.Type, e.Reason = o.Error.Type, o.Error.Reason
			}
			return fmt.Errorf("elastic: bulk %s of %s: %w", op, o.ID, e)
		}
	}
	return nil
}

func (g *generation) getContract(ctx context.Context, id string) (search.ContractDoc, bool, error) {
	var out struct {
		Found  bool `json:"found"`
		Source struct {
			Doc search.ContractDoc `json:"doc"`
		} `json:"_source"`
	}
	if id == "" {
		return search.ContractDoc{}, false, nil
	}
	req := esapi.GetRequest{Index: g.names[kindContracts], DocumentID: id, SourceIncludes: []string{"doc"}}
	err := g.x.do(ctx, req, &out, "get contract")
	if missingDoc(err) {
		return search.ContractDoc{}, false, nil
	}
	if err != nil {
		return search.ContractDoc{}, false, err
	}
	return out.Source.Doc, out.Found, nil
}

func (g *generation) checkpoint(ctx context.Context, name string) (uint64, error) {
	var out struct {
		Found  bool `json:"found"`
		Source struct {
			Position uint64 `json:"position"`
		} `json:"_source"`
	}
	err := g.x.do(ctx, esapi.GetRequest{Index: g.names[kindMeta], DocumentID: "checkpoint-" + name}, &out, "get checkpoint")
	if missingDoc(err) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return out.Source.Position, nil
}

type searchAnswer[T any] struct {
	Hits struct {
		Total struct {
			Value int `json:"value"`
		} `json:"total"`
		Hits []struct {
			Source struct {
				Doc T `json:"doc"`
			} `json:"_source"`
		} `json:"hits"`
	} `json:"hits"`
}

func run[T any](ctx context.Context, x *Index, index string, body obj) (searchAnswer[T], error) {
	var out searchAnswer[T]
	req := esapi.SearchRequest{Index: []string{index}, Body: bytes.NewReader(mustJSON(body))}
	err := x.do(ctx, req, &out, "search "+index)
	return out, err
}

func (g *generation) searchContracts(ctx context.Context, q search.ContractQuery) (search.ContractPage, error) {
	q, p, err := search.PrepareContracts(q)
	if err != nil {
		return search.ContractPage{}, err
	}
	key := "sent_key"
	if search.Deadline(q.Sort) {
		key = "deadline_us"
	}
	out, err := run[search.ContractDoc](ctx, g.x, g.names[kindContracts], body(contractQuery(q, p), p, key))
	if err != nil {
		return search.ContractPage{}, err
	}
	page := search.ContractPage{Total: out.Hits.Total.Value}
	for _, h := range out.Hits.Hits {
		page.Hits = append(page.Hits, h.Source.Doc)
	}
	if len(page.Hits) > p.Limit {
		page.Hits = page.Hits[:p.Limit]
		last := page.Hits[p.Limit-1]
		page.Next = search.Cursor{Sort: q.Sort, Key: search.ContractKey(last, q.Sort), ID: last.ID}.Encode()
	}
	return page, nil
}

func (g *generation) searchAudit(ctx context.Context, q search.AuditQuery) (search.AuditPage, error) {
	q, p, err := search.PrepareAudit(q)
	if err != nil {
		return search.AuditPage{}, err
	}
	out, err := run[search.AuditRecord](ctx, g.x, g.names[kindAudit], body(auditQuery(q, p), p, "position"))
	if err != nil {
		return search.AuditPage{}, err
	}
	page := search.AuditPage{Total: out.Hits.Total.Value}
	for _, h := range out.Hits.Hits {
		page.Hits = append(page.Hits, h.Source.Doc)
	}
	if len(page.Hits) > p.Limit {
		page.Hits = page.Hits[:p.Limit]
		last := page.Hits[p.Limit-1]
		page.Next = search.Cursor{Sort: q.Sort, Key: int64(last.Position), ID: last.ID}.Encode()
	}
	return page, nil
}

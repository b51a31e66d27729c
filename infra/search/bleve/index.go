// Package bleve is the embedded adapter of the search port: a bleve (scorch)
// index on disk. Titles, names and summaries are analysed twice: with the cjk
// analyzer (bigrams of Chinese text, words of Latin text) and with one token
// per letter or digit, so that a one-character query still finds them.
//
// Layout of the directory:
//
//	CURRENT         name of the live generation, replaced by an atomic rename
//	gen-000001/     the live bleve index
//	gen-000002/     a rebuild in progress (removed at the next Open if CURRENT
//	                does not name it)
//
// One batch holds a write's contracts, audit records and checkpoint (bleve
// internal key), so they are applied together or not at all. Versions are
// read before writing under a per-generation mutex: one process writes.
package bleve

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/blevesearch/bleve/v2"

	"signet/infra/search"
)

const currentFile = "CURRENT"

// Index is the bleve adapter; it implements search.Index.
type Index struct {
	dir string

	// mu: readers of cur hold it shared for a whole call, so that Commit
	// (exclusive) never closes a generation under a running query.
	mu      sync.RWMutex
	cur     *gen
	rebuild *gen
	closed  bool
}

var _ search.Index = (*Index)(nil)

// gen is one bleve index directory.
type gen struct {
	name string
	path string
	idx  bleve.Index
	wmu  sync.Mutex // serializes read-check-write of versions
}

// Open opens (or creates) the index in dir.
func Open(dir string) (*Index, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("bleve: create %s: %w", dir, err)
	}
	name, err := readCurrent(dir)
	if err != nil {
		return nil, err
	}
	var g *gen
	if name == "" {
		name = genName(1)
		if g, err = createGen(dir, name); err != nil {
			return nil, err
		}
		if err := writeCurrent(dir, name); err != nil {
			g.idx.Close()
			return nil, err
		}
	} else if g, err = openGen(dir, name); err != nil {
		return nil, err
	}
	// Directories of aborted or interrupted rebuilds.
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.IsDir() && strings.HasPrefix(e.Name(), "gen-") && e.Name() != name {
			os.RemoveAll(filepath.Join(dir, e.Name()))
		}
	}
	return &Index{dir: dir, cur: g}, nil
}

func genName(n int) string { return fmt.Sprintf("gen-%06d", n) }

func genNumber(name string) int {
	n, _ := strconv.Atoi(strings.TrimPrefix(name, "gen-"))
	return n
}

func readCurrent(dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, currentFile))
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("bleve: read %s: %w", currentFile, err)
	}
	name := strings.TrimSpace(string(b))
	if !strings.HasPrefix(name, "gen-") || genNumber(name) <= 0 {
		return "", fmt.Errorf("bleve: %s names %q, not a generation", currentFile, name)
	}
	return name, nil
}

// writeCurrent replaces CURRENT atomically (write, fsync, rename, fsync dir).
func writeCurrent(dir, name string) error {
	tmp := filepath.Join(dir, currentFile+".tmp")
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("bleve: write %s: %w", currentFile, err)
	}
	_, err = f.WriteString(name + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(dir, currentFile))
	}
	if err == nil {
		if d, derr := os.Open(dir); derr == nil {
			err = d.Sync()
			d.Close()
		}
	}
	if err != nil {
		return fmt.Errorf("bleve: write %s: %w", currentFile, err)
	}
	return nil
}

func createGen(dir, name string) (*gen, error) {
	m, err := newMapping()
	if err != nil {
		return nil, fmt.Errorf("bleve: mapping: %w", err)
	}
	path := filepath.Join(dir, name)
	os.RemoveAll(path)
	idx, err := bleve.New(path, m)
	if err != nil {
		return nil, fmt.Errorf("bleve: create %s: %w", path, err)
	}
	return &gen{name: name, path: path, idx: idx}, nil
}

func openGen(dir, name string) (*gen, error) {
	path := filepath.Join(dir, name)
	idx, err := bleve.Open(path)
	if err != nil {
		return nil, fmt.Errorf("bleve: open %s: %w", path, err)
	}
	return &gen{name: name, path: path, idx: idx}, nil
}

// live runs f on the live generation.
func (x *Index) live(f func(g *gen) error) error {
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.closed {
		return search.ErrClosed
	}
	return f(x.cur)
}

func (x *Index) Write(ctx context.Context, b search.Batch) error {
	return x.live(func(g *gen) error { return g.write(ctx, b) })
}

func (x *Index) GetContract(ctx context.Context, id string) (d search.ContractDoc, ok bool, err error) {
	err = x.live(func(g *gen) error { d, ok, err = g.getContract(ctx, id); return err })
	return d, ok, err
}

func (x *Index) SearchContracts(ctx context.Context, q search.ContractQuery) (p search.ContractPage, err error) {
	err = x.live(func(g *gen) error { p, err = g.searchContracts(ctx, q); return err })
	return p, err
}

func (x *Index) SearchAudit(ctx context.Context, q search.AuditQuery) (p search.AuditPage, err error) {
	err = x.live(func(g *gen) error { p, err = g.searchAudit(ctx, q); return err })
	return p, err
}

func (x *Index) Checkpoint(ctx context.Context, name string) (pos uint64, err error) {
	err = x.live(func(g *gen) error { pos, err = g.checkpoint(name); return err })
	return pos, err
}

// Close closes the live generation and drops a rebuild in progress.
func (x *Index) Close() error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.closed {
		return nil
	}
	x.closed = true
	if rb := x.rebuild; rb != nil {
		x.rebuild = nil
		rb.idx.Close()
		os.RemoveAll(rb.path)
	}
	if err := x.cur.idx.Close(); err != nil {
		return fmt.Errorf("bleve: close: %w", err)
	}
	return nil
}

// BeginRebuild creates the next generation's directory.
func (x *Index) BeginRebuild(ctx context.Context) (search.Rebuild, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.closed {
		return nil, search.ErrClosed
	}
	if x.rebuild != nil {
		return nil, search.ErrRebuildRunning
	}
	g, err := createGen(x.dir, genName(genNumber(x.cur.name)+1))
	if err != nil {
		return nil, err
	}
	x.rebuild = g
	return &rebuild{x: x, g: g}, nil
}

type rebuild struct {
	x    *Index
	g    *gen
	done atomic.Bool
}

func (r *rebuild) use(f func() error) error {
	if r.done.Load() {
		return search.ErrClosed
	}
	return f()
}

func (r *rebuild) Write(ctx context.Context, b search.Batch) error {
	return r.use(func() error { return r.g.write(ctx, b) })
}

func (r *rebuild) GetContract(ctx context.Context, id string) (d search.ContractDoc, ok bool, err error) {
	err = r.use(func() error { d, ok, err = r.g.getContract(ctx, id); return err })
	return d, ok, err
}

func (r *rebuild) SearchContracts(ctx context.Context, q search.ContractQuery) (p search.ContractPage, err error) {
	err = r.use(func() error { p, err = r.g.searchContracts(ctx, q); return err })
	return p, err
}

func (r *rebuild) SearchAudit(ctx context.Context, q search.AuditQuery) (p search.AuditPage, err error) {
	err = r.use(func() error { p, err = r.g.searchAudit(ctx, q); return err })
	return p, err
}

func (r *rebuild) Checkpoint(ctx context.Context, name string) (pos uint64, err error) {
	err = r.use(func() error { pos, err = r.g.checkpoint(name); return err })
	return pos, err
}

// Commit points CURRENT at the new generation, swaps it in for readers and
// removes the old one.
func (r *rebuild) Commit(ctx context.Context) error {
	if !r.done.CompareAndSwap(false, true) {
		return search.ErrClosed
	}
	x := r.x
	x.mu.Lock()
	if x.closed || x.rebuild != r.g {
		x.mu.Unlock()
		return search.ErrClosed
	}
	if err := writeCurrent(x.dir, r.g.name); err != nil {
		x.rebuild = nil
		x.mu.Unlock()
		r.g.idx.Close()
		os.RemoveAll(r.g.path)
		return err
	}
	old := x.cur
	x.cur, x.rebuild = r.g, nil
	x.mu.Unlock()
	old.idx.Close()
	if err := os.RemoveAll(old.path); err != nil {
		return fmt.Errorf("bleve: remove old generation: %w", err)
	}
	return nil
}

func (r *rebuild) Abort(ctx context.Context) error {
	if !r.done.CompareAndSwap(false, true) {
		return nil
	}
	x := r.x
	x.mu.Lock()
	if x.rebuild == r.g {
		x.rebuild = nil
	}
	x.mu.Unlock()
	r.g.idx.Close()
	if err := os.RemoveAll(r.g.path); err != nil {
		return fmt.Errorf("bleve: remove aborted generation: %w", err)
	}
	return nil
}

func checkpointKey(name string) []byte { return []byte("checkpoint/" + name) }

func (g *gen) checkpoint(name string) (uint64, error) {
	v, err := g.idx.GetInternal(checkpointKey(name))
	if err != nil {
		return 0, fmt.Errorf("bleve: read checkpoint %s: %w", name, err)
	}
	if len(v) != 8 {
		return 0, nil
	}
	return binary.BigEndian.Uint64(v), nil
}

// stored reads the stored field f of the given bleve IDs.
func (g *gen) stored(ctx context.Context, ids []string, f string) (map[string]string, error) {
	out := make(map[string]string, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	req := bleve.NewSearchRequestOptions(bleve.NewDocIDQuery(ids), len(ids), 0, false)
	req.Score = bleve.ScoreNone
	req.Fields = []string{f}
	res, err := g.idx.SearchInContext(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("bleve: read stored %s: %w", f, err)
	}
	for _, h := range res.Hits {
		if s, ok := h.Fields[f].(string); ok {
			out[h.ID] = s
		}
	}
	return out, nil
}

func (g *gen) write(ctx context.Context, b search.Batch) error {
	docs, err := b.Prepare()
	if err != nil {
		return err
	}
	g.wmu.Lock()
	defer g.wmu.Unlock()

	ids := make([]string, len(docs))
	for i, d := range docs {
		ids[i] = bleveID(kindContract, d.ID)
	}
	versions, err := g.stored(ctx, ids, fieldVersion)
	if err != nil {
		return err
	}
	batch := g.idx.NewBatch()
	for i, d := range docs {
		if v, ok := versions[ids[i]]; ok {
			if stored, _ := strconv.ParseUint(v, 10, 64); d.Version <= stored {
				continue
			}
		}
		f, err := contractFields(d)
		if err != nil {
			return fmt.Errorf("bleve: encode contract %s: %w", d.ID, err)
		}
		if err := batch.Index(ids[i], f); err != nil {
			return fmt.Errorf("bleve: index contract %s: %w", d.ID, err)
		}
	}

	aids := make([]string, 0, len(b.Audit))
	for _, r := range b.Audit {
		aids = append(aids, bleveID(kindAudit, r.ID))
	}
	have, err := g.stored(ctx, aids, fieldDoc)
	if err != nil {
		return err
	}
	for i, r := range b.Audit {
		if _, ok := have[aids[i]]; ok {
			continue
		}
		have[aids[i]] = ""
		f, err := auditFields(r)
		if err != nil {
			return fmt.Errorf("bleve: encode audit record %s: %w", r.ID, err)
		}
		if err := batch.Index(aids[i], f); err != nil {
			return fmt.Errorf("bleve: index audit record %s: %w", r.ID, err)
		}
	}

	if c := b.Checkpoint; c != nil {
		cur, err := g.checkpoint(c.Name)
		if err != nil {
			return err
		}
		if c.Position > cur {
			v := make([]byte, 8)
			binary.BigEndian.PutUint64(v, c.Position)
			batch.SetInternal(checkpointKey(c.Name), v)
		}
	}
	if batch.Size() == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := g.idx.Batch(batch); err != nil {
		return fmt.Errorf("bleve: write batch: %w", err)
	}
	return nil
}

func (g *gen) getContract(ctx context.Context, id string) (search.ContractDoc, bool, error) {
	var d search.ContractDoc
	m, err := g.stored(ctx, []string{bleveID(kindContract, id)}, fieldDoc)
	if err != nil {
		return d, false, err
	}
	raw, ok := m[bleveID(kindContract, id)]
	if !ok {
		return d, false, nil
	}
	if err := json.Unmarshal([]byte(raw), &d); err != nil {
		return d, false, fmt.Errorf("bleve: decode contract %s: %w", id, err)
	}
	return d, true, nil
}

func (g *gen) searchContracts(ctx context.Context, q search.ContractQuery) (search.ContractPage, error) {
	q, p, err := search.PrepareContracts(q)
	if err != nil {
		return search.ContractPage{}, err
	}
	key := sentKey
	if search.Deadline(q.Sort) {
		key = deadlineKey
	}
	res, err := g.idx.SearchInContext(ctx, request(contractQuery(q, p), p, key, kindContract))
	if err != nil {
		return search.ContractPage{}, fmt.Errorf("bleve: search contracts: %w", err)
	}
	page := search.ContractPage{Total: int(res.Total)}
	for _, h := range res.Hits {
		var d search.ContractDoc
		raw, _ := h.Fields[fieldDoc].(string)
		if err := json.Unmarshal([]byte(raw), &d); err != nil {
			return search.ContractPage{}, fmt.Errorf("bleve: decode hit %s: %w", h.ID, err)
		}
		page.Hits = append(page.Hits, d)
	}
	if len(page.Hits) > p.Limit {
		page.Hits = page.Hits[:p.Limit]
		last := page.Hits[p.Limit-1]
		page.Next = search.Cursor{Sort: q.Sort, Key: search.ContractKey(last, q.Sort), ID: last.ID}.Encode()
	}
	return page, nil
}

func (g *gen) searchAudit(ctx context.Context, q search.AuditQuery) (search.AuditPage, error) {
	q, p, err := search.PrepareAudit(q)
	if err != nil {
		return search.AuditPage{}, err
	}
	res, err := g.idx.SearchInContext(ctx, request(auditQuery(q, p), p, positionKey, kindAudit))
	if err != nil {
		return search.AuditPage{}, fmt.Errorf("bleve: search audit: %w", err)
	}
	page := search.AuditPage{Total: int(res.Total)}
	for _, h := range res.Hits {
		var r search.AuditRecord
		raw, _ := h.Fields[fieldDoc].(string)
		if err := json.Unmarshal([]byte(raw), &r); err != nil {
			return search.AuditPage{}, fmt.Errorf("bleve: decode hit %s: %w", h.ID, err)
		}
		page.Hits = append(page.Hits, r)
	}
	if len(page.Hits) > p.Limit {
		page.Hits = page.Hits[:p.Limit]
		last := page.Hits[p.Limit-1]
		page.Next = search.Cursor{Sort: q.Sort, Key: int64(last.Position), ID: last.ID}.Encode()
	}
	return page, nil
}

func unixMicros(t *time.Time) *int64 {
	if t == nil {
		return nil
	}
	v := search.Micros(*t)
	return &v
}

package batches

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"signet/domain/fault"
	"signet/infra/redisdb"
	"signet/projections"
)

var (
	// ErrNotFound: there is no batch with this ID (or the ID cannot be one).
	ErrNotFound = fault.New(fault.NotFound, "batch_not_found", "There is no such batch; check the batch ID.")
	// ErrNotYours: the caller neither uploaded the batch nor administers its enterprise.
	ErrNotYours = fault.New(fault.Forbidden, "not_batch_sender",
		"Only the account that uploaded the sheet, and the administrators of its enterprise, may see this batch.")
)

// Progress is a batch as its sender sees it.
type Progress struct {
	ID              string     `json:"id"`
	Status          string     `json:"status"` // checked, running, paused, cancelled, completed
	TemplateID      string     `json:"template_id"`
	TemplateVersion uint64     `json:"template_version"`
	Sender          Sender     `json:"sender"`
	FileName        string     `json:"file_name"`
	Format          string     `json:"format"`
	Sheet           SheetCount `json:"sheet"`
	Rows            string     `json:"rows,omitempty"` // "all" or "valid", once started
	Total           int        `json:"total"`          // rows to send (0 before the start)
	Sent            int        `json:"sent"`
	Failed          int        `json:"failed"`
	Remaining       int        `json:"remaining"`
	// Rate is rows per second: over the last minute while running, over
	// the whole run once ended.
	Rate float64 `json:"rate"`
	// ETASeconds is the estimated time left while running (nil when unknown).
	ETASeconds *float64   `json:"eta_seconds,omitempty"`
	Pause      *Pause     `json:"pause,omitempty"`
	CheckedAt  time.Time  `json:"checked_at"`
	StartedAt  *time.Time `json:"started_at,omitempty"`
	EndedAt    *time.Time `json:"ended_at,omitempty"`
	LastRowAt  *time.Time `json:"last_row_at,omitempty"`
	ReportSHA  string     `json:"-"`       // the report's blob
	ErrorSheet string     `json:"-"`       // the error copy's blob, "" when every row is valid
	Version    uint64     `json:"version"` // of the batch's stream
}

// Sender is who uploaded the sheet and sends its rows.
type Sender struct {
	AccountID    string `json:"account_id"`
	EnterpriseID string `json:"enterprise_id,omitempty"`
}

// SheetCount is what the check found.
type SheetCount struct {
	Total   int `json:"total"`
	Valid   int `json:"valid"`
	Invalid int `json:"invalid"`
}

// Pause says why a batch waits.
type Pause struct {
	Reason  string    `json:"reason"`
	Message string    `json:"message"`
	At      time.Time `json:"at"`
}

// Reader answers batch queries from Redis.
type Reader struct {
	DB  *redisdb.DB
	Now func() time.Time // default time.Now
}

func (r Reader) key(parts ...string) string { return projections.Key(r.DB, Name, parts...) }

func (r Reader) now() time.Time {
	if r.Now == nil {
		return time.Now()
	}
	return r.Now()
}

// Progress returns the batch, or ErrNotFound.
func (r Reader) Progress(ctx context.Context, id string) (Progress, error) {
	if !projections.ValidID(id) {
		return Progress{}, ErrNotFound
	}
	pipe := r.DB.Pipeline()
	hc := pipe.HGetAll(ctx, r.key(batchKey(id)))
	rc := pipe.HGetAll(ctx, r.key(rateKey(id)))
	if _, err := pipe.Exec(ctx); err != nil {
		return Progress{}, fmt.Errorf("read batch %s: %w", id, err)
	}
	h := hc.Val()
	if h["id"] == "" {
		return Progress{}, ErrNotFound
	}
	num := func(f string) int { n, _ := strconv.Atoi(h[f]); return n }
	at := func(f string) *time.Time {
		if h[f] == "" {
			return nil
		}
		return projections.ParseTimePtr(h[f])
	}
	p := Progress{
		ID: id, Status: h["status"], TemplateID: h["template_id"], FileName: h["file_name"], Format: h["format"],
		Sender: Sender{AccountID: h["sender_account"], EnterpriseID: h["sender_enterprise"]},
		Sheet:  SheetCount{Total: num("total"), Valid: num("valid"), Invalid: num("invalid")},
		Rows:   h["rows"], Total: num("count"), Sent: num("sent"), Failed: num("failed"),
		CheckedAt: projections.ParseTime(h["checked_at"]), StartedAt: at("started_at"), EndedAt: at("ended_at"), LastRowAt: at("last_at"),
		ReportSHA: h["report_sha256"], ErrorSheet: h["error_sheet_sha256"],
	}
	p.TemplateVersion, _ = strconv.ParseUint(h["template_version"], 10, 64)
	p.Version, _ = strconv.ParseUint(h["version"], 10, 64)
	p.Remaining = max(0, p.Total-p.Sent-p.Failed)
	if h["pause_reason"] != "" {
		p.Pause = &Pause{Reason: h["pause_reason"], Message: h["pause_message"], At: projections.ParseTime(h["paused_at"])}
	}
	p.rate(rc.Val(), r.now())
	return p, nil
}

// rate fills Rate and ETASeconds from the rate buckets.
func (p *Progress) rate(buckets map[string]string, now time.Time) {
	done := p.Sent + p.Failed
	if p.StartedAt == nil || done == 0 {
		return
	}
	if p.Status != "running" {
		if p.LastRowAt != nil {
			if secs := p.LastRowAt.Sub(*p.StartedAt).Seconds(); secs > 0 {
				p.Rate = float64(done) / secs
			}
		}
		return
	}
	// The buckets of the last minute (the oldest may reach a little further).
	since := now.Add(-rateWindow * time.Second)
	if p.StartedAt.After(since) {
		since = *p.StartedAt
	}
	rows := 0
	for f, v := range buckets {
		b, err1 := strconv.ParseInt(f, 10, 64)
		n, err2 := strconv.Atoi(v)
		if err1 == nil && err2 == nil && time.Unix((b+1)*rateBucket, 0).After(since) {
			rows += n
		}
	}
	secs := now.Sub(since).Seconds()
	if secs < 1 {
		secs = 1
	}
	p.Rate = float64(rows) / secs
	if p.Rate > 0 {
		eta := float64(p.Remaining) / p.Rate
		p.ETASeconds = &eta
	}
}

// Caller is who asks: their account and the enterprises they administer
// (master admin or admin).
type Caller struct {
	AccountID string
	AdminOf   []string
}

// Access says whether c may see the batch: its uploader, or an
// administrator of the enterprise it sends for.
func (r Reader) Access(ctx context.Context, id string, c Caller) error {
	if !projections.ValidID(id) {
		return ErrNotFound
	}
	vals, err := r.DB.HMGet(ctx, r.key(batchKey(id)), "id", "sender_account", "sender_enterprise").Result()
	if err != nil {
		return fmt.Errorf("read batch %s: %w", id, err)
	}
	h := projections.Fields([]string{"id", "sender_account", "sender_enterprise"}, vals)
	switch {
	case h["id"] == "":
		return ErrNotFound
	case h["sender_account"] == c.AccountID:
		return nil
	case h["sender_enterprise"] != "" && slices.Contains(c.AdminOf, h["sender_enterprise"]):
		return nil
	}
	return ErrNotYours
}

// List returns the caller's batches and those of the enterprises they
// administer, newest first, at most limit.
func (r Reader) List(ctx context.Context, c Caller, limit int) ([]Progress, error) {
	if limit <= 0 {
		limit = 50
	}
	keys := []string{r.key(accountKey(c.AccountID))}
	for _, e := range c.AdminOf {
		if projections.ValidID(e) {
			keys = append(keys, r.key(enterpriseKey(e)))
		}
	}
	pipe := r.DB.Pipeline()
	cmds := make([]*redis.ZSliceCmd, len(keys))
	for i, k := range keys {
		cmds[i] = pipe.ZRevRangeWithScores(ctx, k, 0, int64(limit-1))
	}
	if _, err := pipe.Exec(ctx); err != nil && err != redis.Nil {
		return nil, fmt.Errorf("list batches: %w", err)
	}
	seen := map[string]float64{}
	for _, c := range cmds {
		for _, z := range c.Val() {
			if m, ok := z.Member.(string); ok {
				seen[m] = z.Score
			}
		}
	}
	ids := make([]string, 0, len(seen))
	for id := range seen {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b string) int { return cmp.Or(cmp.Compare(seen[b], seen[a]), cmp.Compare(a, b)) })
	if len(ids) > limit {
		ids = ids[:limit]
	}
	out := make([]Progress, 0, len(ids))
	for _, id := range ids {
		p, err := r.Progress(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// Running lists the batches being sent.
func (r Reader) Running(ctx context.Context) ([]string, error) {
	ids, err := r.DB.SMembers(ctx, r.key(runningKey())).Result()
	if err != nil {
		return nil, fmt.Errorf("read running batches: %w", err)
	}
	return ids, nil
}

// Package batches is the read model of batch sending: each batch's
// progress (status, counts, rate of the last minute), the batches of each
// account and enterprise, and the batches being sent, which the runner
// polls.
//
// Keys (relative to the projection's namespace):
//
//	batch:<id>          hash: the check, the start and how the batch stands
//	batch:<id>:rate     hash: rows recorded per 10-second bucket (unix seconds / 10)
//	account:<aid>       sorted set: the account's batches, by check time (ms)
//	enterprise:<eid>    sorted set: the enterprise's batches, by check time (ms)
//	running             set: batches being sent (a few at a time, never all)
package batches

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"signet/domain/batch"
	"signet/domain/event"
	"signet/projections"
)

// Name is the projection's stable name (consumer, checkpoint, key namespace).
const Name = "batches"

func batchKey(id string) string      { return "batch:" + id }
func rateKey(id string) string       { return "batch:" + id + ":rate" }
func accountKey(id string) string    { return "account:" + id }
func enterpriseKey(id string) string { return "enterprise:" + id }
func bucketOf(t time.Time) int64     { return t.Unix() / rateBucket }
func bucketField(b int64) string     { return strconv.FormatInt(b, 10) }
func ts(t time.Time) string          { return t.UTC().Format(time.RFC3339Nano) }
func itoa(n int) string              { return strconv.Itoa(n) }
func runningKey() string             { return "running" }

// Rate buckets: rows are counted per 10 seconds; a bucket older than the
// rate's window is dropped when a later row is recorded.
const (
	rateBucket = 10
	rateWindow = 60
)

// Projection maps batch events to the read model.
type Projection struct{}

func (Projection) Name() string { return Name }

// Handle ignores every stream but "batch-<id>".
func (Projection) Handle(_ context.Context, e event.Envelope) ([]projections.Op, error) {
	if event.Category(e.Stream) != batch.Category {
		return nil, nil
	}
	id := strings.TrimPrefix(e.Stream, batch.Category+"-")
	if !projections.ValidID(id) {
		return nil, fmt.Errorf("%s@%d: batch ID not usable as a key", e.Stream, e.Version)
	}
	ev, err := batch.DecodeEnvelope(e)
	if err != nil {
		return nil, err
	}
	k := batchKey(id)
	version := strconv.FormatUint(e.Version, 10)
	switch ev := ev.(type) {
	case batch.SheetChecked:
		s := ev.Sender
		for _, owner := range []string{s.AccountID, s.EnterpriseID} {
			if owner != "" && !projections.ValidID(owner) {
				return nil, fmt.Errorf("%s@%d: owner %q not usable as a key", e.Stream, e.Version, owner)
			}
		}
		ops := []projections.Op{
			projections.HSet(k, "id", id, "status", string(batch.StatusChecked), "template_id", ev.TemplateID,
				"template_version", strconv.FormatUint(ev.TemplateVersion, 10), "sender_account", s.AccountID, "sender_enterprise", s.EnterpriseID,
				"file_name", ev.FileName, "format", ev.Format, "total", itoa(ev.Total), "valid", itoa(ev.Valid), "invalid", itoa(ev.Invalid),
				"report_sha256", ev.ReportSHA256, "error_sheet_sha256", ev.ErrorSheetSHA256,
				"checked_at", ts(ev.CheckedAt), "sent", "0", "failed", "0", "version", version),
			projections.ZAdd(accountKey(s.AccountID), float64(ev.CheckedAt.UnixMilli()), id),
		}
		if s.EnterpriseID != "" {
			ops = append(ops, projections.ZAdd(enterpriseKey(s.EnterpriseID), float64(ev.CheckedAt.UnixMilli()), id))
		}
		return ops, nil
	case batch.BatchStarted:
		return []projections.Op{
			projections.HSet(k, "status", string(batch.StatusRunning), "rows", ev.Rows, "count", itoa(ev.Count), "started_by", ev.StartedBy,
				"started_at", ts(ev.StartedAt), "version", version),
			projections.SAdd(runningKey(), id),
		}, nil
	case batch.RowSent:
		return row(id, "sent", ev.SentAt, version), nil
	case batch.RowFailed:
		return row(id, "failed", ev.FailedAt, version), nil
	case batch.BatchPaused:
		return []projections.Op{
			projections.HSet(k, "status", string(batch.StatusPaused), "pause_reason", ev.Reason, "pause_message", ev.Message,
				"paused_at", ts(ev.PausedAt), "version", version),
			projections.SRem(runningKey(), id),
		}, nil
	case batch.BatchResumed:
		return []projections.Op{
			projections.HSet(k, "status", string(batch.StatusRunning), "pause_reason", "", "pause_message", "", "resumed_at", ts(ev.At), "version", version),
			projections.SAdd(runningKey(), id),
		}, nil
	case batch.BatchCancelled:
		return []projections.Op{
			projections.HSet(k, "status", string(batch.StatusCancelled), "ended_at", ts(ev.At), "cancelled_by", ev.By, "version", version),
			projections.SRem(runningKey(), id),
		}, nil
	case batch.BatchCompleted:
		return []projections.Op{
			projections.HSet(k, "status", string(batch.StatusCompleted), "ended_at", ts(ev.At), "version", version),
			projections.SRem(runningKey(), id),
		}, nil
	}
	return nil, fmt.Errorf("%s@%d: %s is not projected", e.Stream, e.Version, e.Type)
}

// row counts a row's outcome, in the batch and in its rate bucket.
func row(id, counter string, at time.Time, version string) []projections.Op {
	b := bucketOf(at)
	return []projections.Op{
		projections.HIncrBy(batchKey(id), counter, 1),
		projections.HSet(batchKey(id), "last_at", ts(at), "version", version),
		projections.HIncrBy(rateKey(id), bucketField(b), 1),
		projections.HDel(rateKey(id), bucketField(b-rateWindow/rateBucket-1)),
	}
}

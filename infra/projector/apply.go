package projector

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"signet/domain/event"
	"signet/projections"
)

// applyLua applies one batch of a projection atomically.
//
// What Redis guarantees (7.x, and miniredis behaves the same): a script runs
// in isolation, no other client's command interleaves, and replicas/AOF see
// its effects as one MULTI/EXEC. But there is NO rollback: when a
// redis.call raises an error (WRONGTYPE, "value is not an integer", a Lua
// runtime error in the script itself...) the writes the script already made
// stay. OOM is only refused before a script's first write, never in the
// middle, and SCRIPT KILL is refused once a script has written.
//
// So the script never lets a write fail halfway: pass 1 only reads. It
// decides which envelopes pass their (projection, stream) version guard and
// checks, with a simulation of the key types and integer values the batch
// itself produces, that every write of those envelopes will succeed (right
// type, integer counters, no int64 overflow). If one would not, the script
// returns {0, envelope index, reason} having written nothing. Only then does
// pass 2 write: the ops, the guards and finally the checkpoint (forwards
// only), with no code that can fail (command names, arities and numeric
// arguments were validated in Go before EVAL). The checks are conservative:
// they may refuse an odd batch that Redis would have accepted (e.g. SADD to
// a hash that an HDEL earlier in the batch emptied), never the reverse.
//
// KEYS: 1 guard hash (stream -> last applied version), 2 checkpoint,
// 3 poison list, 4 poison counter, then one key per op, in order.
// ARGV: 1 new checkpoint, 2 envelope count n, 3 poison record count p,
// 4 poison list cap, 5 distinct stream count s, 6 "1" when the batch has
// HINCRBY/INCRBY ops (only then are field values tracked), then p poison
// records, then the s distinct streams, then per envelope: stream, version,
// op count, and per op: command, argument count, arguments...
// Reply: {1, applied envelopes} or {0, failed envelope (1-based), reason}.
// Positions and versions are compared as Lua numbers (exact below 2^53) and
// written back as the strings Go sent.
const applyLua = `
local guardkey, ckptkey, poisonkey, poisoncnt = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local n, np, pcap, ns = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local track = ARGV[6] == '1'
local firststream = 7 + np
local first = firststream + ns
local MAXINT = 9.2e18

local curckpt = redis.call('GET', ckptkey)
curckpt = curckpt and tonumber(curckpt) or 0

-- guards of the batch's streams, 500 per HMGET
local guards = {}
for s = firststream, first - 1, 500 do
  local e = math.min(s + 499, first - 1)
  local vals = redis.call('HMGET', guardkey, unpack(ARGV, s, e))
  for i = 1, #vals do
    local v = vals[i]
    guards[ARGV[s + i - 1]] = v and tonumber(v) or 0
  end
end

local realtype, predicted, cleared, fields, strval = {}, {}, {}, {}, {}
local function rtype(k)
  local t = realtype[k]
  if t == nil then
    t = redis.call('TYPE', k)['ok']
    realtype[k] = t
  end
  return t
end
local function is(k, t)
  local p = predicted[k]
  if p == nil then p = rtype(k) end
  return p == 'none' or p == t
end
-- magnitude of v if Redis would parse it as a 64-bit integer, else false
local function intmag(v)
  if v == '0' then return 0 end
  if #v > 20 or string.match(v, '^%-?[1-9]%d*$') == nil then return false end
  local m = tonumber(v)
  if m == nil then return false end
  return math.abs(m)
end
local function fieldsof(k)
  local fs = fields[k]
  if fs == nil then fs = {}; fields[k] = fs end
  return fs
end
local function fieldmag(k, f)
  local fs = fields[k]
  if fs ~= nil and fs[f] ~= nil then return fs[f] end
  if cleared[k] or rtype(k) ~= 'hash' then return 0 end
  local v = redis.call('HGET', k, f)
  if not v then return 0 end
  return intmag(v)
end
local function strmag(k)
  local m = strval[k]
  if m ~= nil then return m end
  if cleared[k] or rtype(k) ~= 'string' then return 0 end
  local v = redis.call('GET', k)
  if not v then return 0 end
  return intmag(v)
end
local function replace(k, t)
  predicted[k] = t
  if track then
    cleared[k] = true
    fields[k] = {}
    strval[k] = 0
  end
end

-- pass 1: read only
local apply, dirty, newver = {}, {}, {}
local ai, ki = first, 5
for e = 1, n do
  local stream, ver, nops = ARGV[ai], ARGV[ai + 1], tonumber(ARGV[ai + 2])
  ai = ai + 3
  local v = tonumber(ver)
  local ok = v > guards[stream]
  apply[e] = ok
  if ok then
    if newver[stream] == nil then dirty[#dirty + 1] = stream end
    guards[stream] = v
    newver[stream] = ver
  end
  for o = 1, nops do
    local cmd, na = ARGV[ai], tonumber(ARGV[ai + 1])
    local a = ai + 2
    if ok then
      local k = KEYS[ki]
      local bad = nil
      if cmd == 'HSET' then
        if not is(k, 'hash') then bad = 'WRONGTYPE' else
          predicted[k] = 'hash'
          if track then
            local fs = fieldsof(k)
            for j = a, a + na - 1, 2 do fs[ARGV[j]] = intmag(ARGV[j + 1]) end
          end
        end
      elseif cmd == 'ZADD' then
        if not is(k, 'zset') then bad = 'WRONGTYPE' else predicted[k] = 'zset' end
      elseif cmd == 'SADD' then
        if not is(k, 'set') then bad = 'WRONGTYPE' else predicted[k] = 'set' end
      elseif cmd == 'SREM' then
        if not is(k, 'set') then bad = 'WRONGTYPE' end
      elseif cmd == 'ZREM' then
        if not is(k, 'zset') then bad = 'WRONGTYPE' end
      elseif cmd == 'HDEL' then
        if not is(k, 'hash') then bad = 'WRONGTYPE' elseif track then
          local fs = fieldsof(k)
          for j = a, a + na - 1 do fs[ARGV[j]] = 0 end
        end
      elseif cmd == 'SET' then
        replace(k, 'string')
        if track then strval[k] = intmag(ARGV[a]) end
      elseif cmd == 'DEL' then
        replace(k, 'none')
      elseif cmd == 'HINCRBY' then
        if not is(k, 'hash') then bad = 'WRONGTYPE' else
          local f = ARGV[a]
          local m = fieldmag(k, f)
          if m == false then bad = 'hash field ' .. f .. ' is not an integer' else
            m = m + math.abs(tonumber(ARGV[a + 1]) or MAXINT)
            if m > MAXINT then bad = 'increment would overflow' else
              predicted[k] = 'hash'
              fieldsof(k)[f] = m
            end
          end
        end
      elseif cmd == 'INCRBY' then
        if not is(k, 'string') then bad = 'WRONGTYPE' else
          local m = strmag(k)
          if m == false then bad = 'value is not an integer' else
            m = m + math.abs(tonumber(ARGV[a]) or MAXINT)
            if m > MAXINT then bad = 'increment would overflow' else
              predicted[k] = 'string'
              strval[k] = m
            end
          end
        end
      else
        bad = 'unknown command'
      end
      if bad ~= nil then
        return {0, e, cmd .. ' ' .. k .. ': ' .. bad}
      end
    end
    ai = a + na
    ki = ki + 1
  end
end

-- pass 2: write; nothing below can fail
for j = 7, firststream - 1 do
  redis.call('RPUSH', poisonkey, ARGV[j])
end
if np > 0 then
  redis.call('LTRIM', poisonkey, -pcap, -1)
  redis.call('INCRBY', poisoncnt, np)
end
local applied = 0
ai, ki = first, 5
for e = 1, n do
  local nops = tonumber(ARGV[ai + 2])
  ai = ai + 3
  local ok = apply[e]
  for o = 1, nops do
    local na = tonumber(ARGV[ai + 1])
    if ok then
      redis.call(ARGV[ai], KEYS[ki], unpack(ARGV, ai + 2, ai + 1 + na))
    end
    ai = ai + 2 + na
    ki = ki + 1
  end
  if ok then applied = applied + 1 end
end
local buf, nb = {}, 0
for i = 1, #dirty do
  local s = dirty[i]
  buf[nb + 1] = s
  buf[nb + 2] = newver[s]
  nb = nb + 2
  if nb >= 1000 or i == #dirty then
    redis.call('HSET', guardkey, unpack(buf, 1, nb))
    nb = 0
  end
end
if tonumber(ARGV[1]) > curckpt then
  redis.call('SET', ckptkey, ARGV[1])
end
return {1, applied}
`

var applyScript = redis.NewScript(applyLua)

const (
	// maxOpArgs bounds one op's arguments: Lua's unpack has a stack limit.
	maxOpArgs = 1000
	// poisonCap bounds the poison list; the counter keeps the full count.
	poisonCap = 10000
)

// errOp is a projection's op that cannot be applied; it poisons its event.
type errOp struct{ msg string }

func (e *errOp) Error() string { return e.msg }

// checkOps validates ops against the rules the script relies on: known
// single-key commands, their arities, argument types that encode exactly,
// integer increments and non-NaN scores.
func checkOps(ops []projections.Op) error {
	for i := range ops {
		if err := checkOp(&ops[i]); err != nil {
			return &errOp{fmt.Sprintf("op %d (%s %q): %v", i, ops[i].Cmd, ops[i].Key, err)}
		}
	}
	return nil
}

func checkOp(op *projections.Op) error {
	n := len(op.Args)
	if n > maxOpArgs {
		return fmt.Errorf("%d arguments, at most %d", n, maxOpArgs)
	}
	var arity error
	switch canonical(op.Cmd) {
	case projections.CmdHSet:
		if n < 2 || n%2 != 0 {
			arity = errors.New("wants field/value pairs")
		}
	case projections.CmdZAdd:
		if n < 2 || n%2 != 0 {
			arity = errors.New("wants score/member pairs")
		}
		for i := 0; i < n && arity == nil; i += 2 {
			if _, err := scoreArg(op.Args[i]); err != nil {
				arity = err
			}
		}
	case projections.CmdHDel, projections.CmdSAdd, projections.CmdSRem, projections.CmdZRem:
		if n < 1 {
			arity = errors.New("wants at least one argument")
		}
	case projections.CmdHIncrBy:
		if n != 2 {
			arity = errors.New("wants field and increment")
		} else if _, err := intArg(op.Args[1]); err != nil {
			arity = err
		}
	case projections.CmdIncrBy:
		if n != 1 {
			arity = errors.New("wants an increment")
		} else if _, err := intArg(op.Args[0]); err != nil {
			arity = err
		}
	case projections.CmdSet:
		if n != 1 {
			arity = errors.New("wants one value")
		}
	case projections.CmdDel:
		if n != 0 {
			arity = errors.New("takes no arguments")
		}
	default:
		return errors.New("command not allowed in a projection")
	}
	if op.Key == "" {
		return errors.New("empty key")
	}
	if arity != nil {
		return arity
	}
	for _, a := range op.Args {
		if err := valueArg(a); err != nil {
			return err
		}
	}
	return nil
}

func canonical(cmd string) string { return strings.ToUpper(cmd) }

// valueArg accepts the argument types that go-redis encodes exactly:
// strings and []byte byte for byte, integers in decimal, floats in their
// shortest exact decimal form, bools as 1/0.
func valueArg(a any) error {
	switch v := a.(type) {
	case string, []byte, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, bool:
		return nil
	case float64:
		if math.IsNaN(v) {
			return errors.New("NaN argument")
		}
		return nil
	case float32:
		if math.IsNaN(float64(v)) {
			return errors.New("NaN argument")
		}
		return nil
	default:
		return fmt.Errorf("argument of type %T (use string, []byte, an integer, a float or a bool)", a)
	}
}

func intArg(a any) (int64, error) {
	switch v := a.(type) {
	case int:
		return int64(v), nil
	case int8:
		return int64(v), nil
	case int16:
		return int64(v), nil
	case int32:
		return int64(v), nil
	case int64:
		return v, nil
	case uint8:
		return int64(v), nil
	case uint16:
		return int64(v), nil
	case uint32:
		return int64(v), nil
	case uint:
		if uint64(v) <= math.MaxInt64 {
			return int64(v), nil
		}
	case uint64:
		if v <= math.MaxInt64 {
			return int64(v), nil
		}
	case string:
		if i, err := strconv.ParseInt(v, 10, 64); err == nil && strconv.FormatInt(i, 10) == v {
			return i, nil
		}
	case []byte:
		return intArg(string(v))
	}
	return 0, fmt.Errorf("increment %v is not a 64-bit integer", a)
}

func scoreArg(a any) (float64, error) {
	var f float64
	switch v := a.(type) {
	case float64:
		f = v
	case float32:
		f = float64(v)
	case string:
		// Go and Redis parse decimal floats alike; refuse the forms where
		// they might not (hex floats, underscores).
		if strings.ContainsAny(v, "xXpP_") {
			return 0, fmt.Errorf("score %q is not a decimal number", v)
		}
		var err error
		if f, err = strconv.ParseFloat(v, 64); err != nil {
			return 0, fmt.Errorf("score %q is not a number", v)
		}
	default:
		i, err := intArg(a)
		if err != nil {
			return 0, fmt.Errorf("score of type %T", a)
		}
		f = float64(i)
	}
	if math.IsNaN(f) {
		return 0, errors.New("score is NaN")
	}
	return f, nil
}

// item is one envelope of a batch with the ops its projection mapped it to.
type item struct {
	id, typ  string
	stream   string
	version  uint64
	position uint64
	ops      []projections.Op
}

// PoisonRecord is what the poison list holds for an event a projection
// could not process.
type PoisonRecord struct {
	EventID  string    `json:"event_id"`
	Stream   string    `json:"stream"`
	Version  uint64    `json:"version"`
	Position uint64    `json:"position"`
	Type     string    `json:"type"`
	Error    string    `json:"error"`
	At       time.Time `json:"at"`
}

func poisonOf(e *event.Envelope, err error) PoisonRecord {
	return PoisonRecord{
		EventID: e.ID, Stream: e.Stream, Version: e.Version, Position: e.Position,
		Type: e.Type, Error: err.Error(), At: time.Now().UTC(),
	}
}

// batch is one script call's worth of work; its buffers are reused.
type batch struct {
	items   []item
	poison  []PoisonRecord
	last    uint64 // position of the batch's last event (the new checkpoint)
	err     error  // reading the log failed
	keys    []string
	args    []any
	idx     []int
	streams map[string]struct{}
	encoded bool // keys/args/idx are up to date
}

func (b *batch) reset() {
	clear(b.items)
	b.items = b.items[:0]
	b.poison = b.poison[:0]
	b.last, b.err, b.encoded = 0, nil, false
}

// keySet names a projection's bookkeeping keys.
type keySet struct {
	ns, guard, checkpoint, poison, poisonCount string
}

func keysFor(prefix, name string) keySet {
	p := prefix + "proj:" + name + ":"
	return keySet{
		ns:          prefix + projections.Namespace(name),
		guard:       p + "versions",
		checkpoint:  p + "checkpoint",
		poison:      p + "poison",
		poisonCount: p + "poisoned",
	}
}

// apply runs the batch script. When the script refuses an envelope, that
// envelope becomes a poison record and the batch is retried without its
// ops, so a refused batch applies nothing and a retried one applies the
// rest. It returns the number of envelopes whose ops were applied. A batch
// already encoded (catch-up encodes the next batch while this one runs) is
// sent as is.
func apply(ctx context.Context, rc redis.Scripter, ks *keySet, b *batch) (int, error) {
	for {
		if !b.encoded {
			b.encode(ks)
		}
		applied, failed, reason, err := b.run(ctx, rc)
		if err != nil || failed < 0 {
			return applied, err
		}
		it := &b.items[failed]
		b.poison = append(b.poison, PoisonRecord{
			EventID: it.id, Type: it.typ, Stream: it.stream, Version: it.version, Position: it.position,
			Error: "refused by redis check: " + reason, At: time.Now().UTC(),
		})
		it.ops = nil
	}
}

// applyOnce encodes the batch and runs the script once. failed is the index
// in b.items of the envelope the script refused (-1 when it applied).
func applyOnce(ctx context.Context, rc redis.Scripter, ks *keySet, b *batch) (applied, failed int, reason string, err error) {
	b.encode(ks)
	return b.run(ctx, rc)
}

// encode lays the batch out as the script's KEYS and ARGV.
func (b *batch) encode(ks *keySet) {
	n, nops := 0, 0
	track := false
	if b.streams == nil {
		b.streams = make(map[string]struct{})
	}
	clear(b.streams)
	for i := range b.items {
		it := &b.items[i]
		if len(it.ops) == 0 {
			continue
		}
		n++
		nops += len(it.ops)
		b.streams[it.stream] = struct{}{}
		for j := range it.ops {
			switch canonical(it.ops[j].Cmd) {
			case projections.CmdHIncrBy, projections.CmdIncrBy:
				track = true
			}
		}
	}
	trackArg := "0"
	if track {
		trackArg = "1"
	}
	keys := append(slices.Grow(b.keys[:0], 4+nops), ks.guard, ks.checkpoint, ks.poison, ks.poisonCount)
	args := append(b.args[:0], b.last, n, len(b.poison), poisonCap, len(b.streams), trackArg)
	for i := range b.poison {
		rec, _ := json.Marshal(&b.poison[i]) // strings, numbers and a time: cannot fail
		args = append(args, rec)
	}
	for s := range b.streams {
		args = append(args, s)
	}
	idx := b.idx[:0] // script envelope number -> b.items index
	for i := range b.items {
		it := &b.items[i]
		if len(it.ops) == 0 {
			continue
		}
		idx = append(idx, i)
		args = append(args, it.stream, it.version, len(it.ops))
		for j := range it.ops {
			op := &it.ops[j]
			keys = append(keys, ks.ns+op.Key)
			args = append(args, canonical(op.Cmd), len(op.Args))
			args = append(args, op.Args...)
		}
	}
	b.keys, b.args, b.idx, b.encoded = keys, args, idx, true
}

// run sends the encoded batch.
func (b *batch) run(ctx context.Context, rc redis.Scripter) (applied, failed int, reason string, err error) {
	res, err := applyScript.Run(ctx, rc, b.keys, b.args...).Slice()
	clear(b.args) // drop references to the batch's strings
	clear(b.keys)
	b.encoded = false
	if err != nil {
		return 0, -1, "", fmt.Errorf("apply batch: %w", err)
	}
	if len(res) >= 2 {
		status, _ := res[0].(int64)
		num, _ := res[1].(int64)
		if status == 1 {
			return int(num), -1, "", nil
		}
		if status == 0 && num >= 1 && int(num) <= len(b.idx) {
			reason := ""
			if len(res) > 2 {
				reason, _ = res[2].(string)
			}
			return 0, b.idx[num-1], reason, nil
		}
	}
	return 0, -1, "", fmt.Errorf("apply batch: unexpected reply %v", res)
}

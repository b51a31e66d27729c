// Package accounts is the read model of account profiles behind GET /api/v1/me.
// It keeps personal data masked: the full phone, email or ID number never
// reaches Redis.
//
// Keys (relative to the projection's namespace):
//
//	account:<id>        hash: the profile, quota counter, verification and its pending step
//	account:<id>:roles  set: platform roles
//	account:<id>:signatures  sorted set: signature images (JSON) by stream version
package accounts

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"signet/domain/account"
	"signet/domain/event"
	"signet/domain/fault"
	"signet/domain/identity"
	"signet/infra/redisdb"
	"signet/projections"
)

// Name is the projection's stable name (consumer, checkpoint, key namespace).
const Name = "accounts"

// Profile is what an account sees of itself.
type Profile struct {
	ID            string       `json:"id"`
	Login         string       `json:"login"` // masked
	LoginKind     string       `json:"login_kind"`
	Name          string       `json:"name"`
	Company       string       `json:"company"`
	InvitedBy     string       `json:"invited_by,omitempty"`
	RegisteredAt  time.Time    `json:"registered_at"`
	Consents      Consents     `json:"consents"`
	Verification  Verification `json:"verification"`
	Quota         Quota        `json:"quota"`
	PlatformRoles []string     `json:"platform_roles"` // sorted; [] when none
}

// Consents as given at registration.
type Consents struct {
	PrivacyPolicy        bool   `json:"privacy_policy"`
	PrivacyPolicyVersion string `json:"privacy_policy_version"`
	PhoneFollowup        bool   `json:"phone_followup"`
}

// Verification is where the holder's personal real-name verification stands.
type Verification struct {
	Verified   bool       `json:"verified"`
	Name       string     `json:"name,omitempty"`
	IDNumber   string     `json:"id_number,omitempty"` // masked
	Method     string     `json:"method,omitempty"`    // "phone" or "face"
	VerifiedAt *time.Time `json:"verified_at,omitempty"`
	Pending    *Pending   `json:"pending,omitempty"` // progress before verification, nil when none
}

// Pending is the progress of a verification not finished yet.
type Pending struct {
	IDCardSides []string `json:"id_card_sides"`          // uploaded sides: "portrait", "emblem"
	Phone       string   `json:"phone,omitempty"`        // masked; carrier check passed, code awaited
	FaceAttempt int      `json:"face_attempt,omitempty"` // attempt number of the last face scan started
	FaceDay     string   `json:"face_day,omitempty"`     // its calendar day in Shanghai, 2006-01-02
	LastFailure *Failure `json:"last_failure,omitempty"`
}

// Failure is the last refused step.
type Failure struct {
	Method string    `json:"method"`
	Step   string    `json:"step"`
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
}

// Quota is the free personal contracts of the account.
type Quota struct {
	PersonalContracts int64 `json:"personal_contracts"` // granted
	Used              int64 `json:"used"`
	Left              int64 `json:"left"`
}

// SignatureImage is a stored image of the holder's handwritten signature.
type SignatureImage struct {
	ID        string    `json:"id"`
	SHA256    string    `json:"sha256"`
	Size      int64     `json:"size"`
	MediaType string    `json:"media_type"`
	AddedAt   time.Time `json:"added_at"`
}

// Hash fields of account:<id> beyond the registration's.
const (
	fLoginKey       = "login_key"
	fQuota          = "quota_personal"
	fQuotaUsed      = "quota_personal_used"
	fVerified       = "verified"
	fVerifiedName   = "verified_name"
	fVerifiedID     = "verified_id_number" // masked
	fVerifiedMethod = "verified_method"
	fVerifiedAt     = "verified_at"
	fPendingPhone   = "pending_phone" // masked
	fIDCardPrefix   = "id_card_"      // + side
	fFaceAttempt    = "face_attempt"
	fFaceDay        = "face_day"
	fFailMethod     = "failure_method"
	fFailStep       = "failure_step"
	fFailReason     = "failure_reason"
	fFailAt         = "failure_at"
)

// Projection maps account events to profile hashes.
type Projection struct{}

func (Projection) Name() string { return Name }

// handled lists the events that change a profile; the login reservation
// events of the account package live in other streams and change nothing.
var handled = map[string]bool{
	account.TypeAccountRegistered: true, account.TypePersonalQuotaGranted: true, account.TypePersonalIDCardUploaded: true,
	account.TypePersonalCarrierCheckPassed: true, account.TypePersonalCheckFailed: true, account.TypePersonalFaceScanStarted: true,
	account.TypePersonVerified: true, account.TypePlatformRoleGranted: true, account.TypePlatformRoleRevoked: true,
	account.TypePersonalQuotaUsed: true, account.TypeSignatureImageAdded: true,
}

func (Projection) Handle(_ context.Context, e event.Envelope) ([]projections.Op, error) {
	if !handled[e.Type] {
		return nil, nil
	}
	category := account.Category
	if e.Type == account.TypePersonalQuotaUsed {
		category = account.QuotaCategory // the account's quota ledger
	}
	id, ok := strings.CutPrefix(e.Stream, category+"-")
	if !ok || id == "" {
		return nil, fmt.Errorf("%s@%d: %s outside an account stream", e.Stream, e.Version, e.Type)
	}
	decoded, err := account.DecodeEnvelope(e)
	if err != nil {
		return nil, err
	}
	key := "account:" + id
	switch ev := decoded.(type) {
	case account.AccountRegistered:
		login, err := account.LoginOf(ev.LoginKind, ev.Login)
		if err != nil {
			return nil, fmt.Errorf("stored login of %s: %w", ev.AccountID, err)
		}
		return []projections.Op{projections.HSet("account:"+ev.AccountID,
			"id", ev.AccountID,
			"login", login.Mask(),
			"login_kind", string(ev.LoginKind),
			// The login's hash (as in its reservation stream's name) lets
			// readers match the caller to a contract party's contact.
			fLoginKey, login.Hash(),
			"name", ev.Name,
			"company", ev.Company,
			"invited_by", ev.InvitedBy,
			"registered_at", timeStr(ev.RegisteredAt),
			"privacy_policy", boolStr(ev.PrivacyPolicy.Accepted),
			"privacy_policy_version", ev.PrivacyPolicy.Version,
			"phone_followup", boolStr(ev.PhoneFollowup.Accepted),
		)}, nil
	case account.ContractQuotaGranted:
		return []projections.Op{projections.HIncrBy(key, fQuota, int64(ev.Amount))}, nil
	case account.PersonalIDCardUploaded:
		return []projections.Op{projections.HSet(key, fIDCardPrefix+string(ev.Side), "1")}, nil
	case account.PersonalCarrierCheckPassed:
		return []projections.Op{projections.HSet(key, fPendingPhone, identity.MaskPhone(ev.Phone))}, nil
	case account.PersonalCheckFailed:
		ops := []projections.Op{projections.HSet(key,
			fFailMethod, string(ev.Method), fFailStep, ev.Step, fFailReason, ev.Reason, fFailAt, timeStr(ev.FailedAt))}
		if ev.Step == "code" && ev.AttemptsLeft != nil && *ev.AttemptsLeft == 0 {
			ops = append(ops, projections.HDel(key, fPendingPhone))
		}
		return ops, nil
	case account.PersonalFaceScanStarted:
		return []projections.Op{projections.HSet(key,
			fFaceAttempt, ev.Attempt, fFaceDay, ev.StartedAt.In(account.Shanghai).Format(time.DateOnly))}, nil
	case account.PersonVerified:
		return []projections.Op{
			projections.HSet(key, fVerified, "1", fVerifiedName, ev.Name, fVerifiedID, identity.MaskIDNumber(ev.IDNumber),
				fVerifiedMethod, string(ev.Method), fVerifiedAt, timeStr(ev.VerifiedAt)),
			projections.HDel(key, fPendingPhone),
		}, nil
	case account.PlatformRoleGranted:
		return []projections.Op{projections.SAdd(key+":roles", ev.Role)}, nil
	case account.PlatformRoleRevoked:
		return []projections.Op{projections.SRem(key+":roles", ev.Role)}, nil
	case account.PersonalQuotaUsed:
		// The ledger's running count: setting it is idempotent.
		return []projections.Op{projections.HSet(key, fQuotaUsed, int64(ev.Used))}, nil
	case account.SignatureImageAdded:
		doc, err := json.Marshal(SignatureImage{ID: ev.SignatureID, SHA256: ev.File.SHA256, Size: ev.File.Size, MediaType: ev.File.MediaType,
			AddedAt: ev.AddedAt.UTC()})
		if err != nil {
			return nil, err
		}
		return []projections.Op{projections.ZAdd(key+":signatures", float64(e.Version), string(doc))}, nil
	}
	return nil, fmt.Errorf("%s@%d: decoded %s as %T", e.Stream, e.Version, e.Type, decoded)
}

func timeStr(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func boolStr(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// Reader answers profile queries from Redis.
type Reader struct{ DB *redisdb.DB }

// Profile returns the account's profile, or a NotFound fault.
func (r Reader) Profile(ctx context.Context, accountID string) (Profile, error) {
	pipe := r.DB.Pipeline()
	hash := pipe.HGetAll(ctx, projections.Key(r.DB, Name, "account", accountID))
	roles := pipe.SMembers(ctx, projections.Key(r.DB, Name, "account", accountID, "roles"))
	if _, err := pipe.Exec(ctx); err != nil {
		return Profile{}, fmt.Errorf("read profile %s: %w", accountID, err)
	}
	m := hash.Val()
	if len(m) == 0 {
		return Profile{}, fault.New(fault.NotFound, "account_not_found", "This account has no profile (yet).")
	}
	quota, _ := strconv.ParseInt(m[fQuota], 10, 64)
	used, _ := strconv.ParseInt(m[fQuotaUsed], 10, 64)
	p := Profile{
		ID: m["id"], Login: m["login"], LoginKind: m["login_kind"], Name: m["name"], Company: m["company"],
		InvitedBy: m["invited_by"], RegisteredAt: projections.ParseTime(m["registered_at"]),
		Consents: Consents{
			PrivacyPolicy: m["privacy_policy"] == "1", PrivacyPolicyVersion: m["privacy_policy_version"],
			PhoneFollowup: m["phone_followup"] == "1",
		},
		Verification:  verification(m),
		Quota:         Quota{PersonalContracts: quota, Used: used, Left: max(0, quota-used)},
		PlatformRoles: roles.Val(),
	}
	if p.PlatformRoles == nil {
		p.PlatformRoles = []string{}
	}
	slices.Sort(p.PlatformRoles)
	return p, nil
}

func verification(m map[string]string) Verification {
	if m[fVerified] == "1" {
		at := projections.ParseTime(m[fVerifiedAt])
		return Verification{Verified: true, Name: m[fVerifiedName], IDNumber: m[fVerifiedID], Method: m[fVerifiedMethod], VerifiedAt: &at}
	}
	p := Pending{IDCardSides: []string{}, Phone: m[fPendingPhone], FaceDay: m[fFaceDay]}
	for _, s := range []account.Side{account.Portrait, account.Emblem} {
		if m[fIDCardPrefix+string(s)] == "1" {
			p.IDCardSides = append(p.IDCardSides, string(s))
		}
	}
	p.FaceAttempt, _ = strconv.Atoi(m[fFaceAttempt])
	if m[fFailStep] != "" {
		p.LastFailure = &Failure{Method: m[fFailMethod], Step: m[fFailStep], Reason: m[fFailReason], At: projections.ParseTime(m[fFailAt])}
	}
	if len(p.IDCardSides) == 0 && p.Phone == "" && p.FaceDay == "" && p.LastFailure == nil {
		return Verification{}
	}
	return Verification{Pending: &p}
}

// SignatureImages lists the account's signature images, oldest first
// ([] for an unknown account).
func (r Reader) SignatureImages(ctx context.Context, accountID string) ([]SignatureImage, error) {
	docs, err := r.DB.ZRange(ctx, projections.Key(r.DB, Name, "account", accountID, "signatures"), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("read signature images of %s: %w", accountID, err)
	}
	out := make([]SignatureImage, 0, len(docs))
	for _, d := range docs {
		var s SignatureImage
		if err := json.Unmarshal([]byte(d), &s); err != nil {
			return nil, fmt.Errorf("signature image of %s: %w", accountID, err)
		}
		out = append(out, s)
	}
	return out, nil
}

// HasPlatformRole reports whether the account holds a platform role (false
// for an unknown account).
func (r Reader) HasPlatformRole(ctx context.Context, accountID, role string) (bool, error) {
	ok, err := r.DB.SIsMember(ctx, projections.Key(r.DB, Name, "account", accountID, "roles"), role).Result()
	if err != nil {
		return false, fmt.Errorf("read platform roles of %s: %w", accountID, err)
	}
	return ok, nil
}

// LoginKey is the hash of the account's login (account.Login.Hash), the
// key by which contracts name their parties' contacts.
func (r Reader) LoginKey(ctx context.Context, accountID string) (string, error) {
	m, err := r.DB.HMGet(ctx, projections.Key(r.DB, Name, "account", accountID), fLoginKey).Result()
	if err != nil {
		return "", fmt.Errorf("login key of %s: %w", accountID, err)
	}
	if k, ok := m[0].(string); ok && k != "" {
		return k, nil
	}
	return "", fault.New(fault.NotFound, "account_not_found", "This account has no profile (yet).")
}

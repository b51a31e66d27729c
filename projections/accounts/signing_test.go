package accounts_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"signet/domain/account"
	"signet/projections/accounts"
)

// Used quota and signature images reach the profile and the signature
// list, once each however often the log is delivered.
func TestQuotaUsedAndSignatureImages(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	png := account.File{SHA256: "aa", Size: 10, MediaType: "image/png"}
	jpg := account.File{SHA256: "bb", Size: 20, MediaType: "image/jpeg"}
	w.append("a1", append(reg("a1", account.Phone, "13800138000"),
		account.SignatureImageAdded{SignatureID: "g1", File: png, AddedAt: t1},
		account.SignatureImageAdded{SignatureID: "g2", File: jpg, AddedAt: t1.Add(time.Minute)},
	)...)
	// Spending is counted on the account's quota ledger.
	w.appendTo(account.QuotaStream("a1"), "a1",
		account.PersonalQuotaUsed{ContractID: "c1", UsedAt: t1, Used: 1},
		account.PersonalQuotaUsed{ContractID: "c2", UsedAt: t1, Used: 2})
	w.append("a2", reg("a2", account.Phone, "13800138001")...)
	w.catchUp()
	w.catchUp()
	r := accounts.Reader{DB: w.db}
	p, err := r.Profile(ctx, "a1")
	if err != nil || p.Quota != (accounts.Quota{PersonalContracts: 5, Used: 2, Left: 3}) {
		t.Fatalf("quota %+v %v", p.Quota, err)
	}
	imgs, err := r.SignatureImages(ctx, "a1")
	want := []accounts.SignatureImage{{ID: "g1", SHA256: "aa", Size: 10, MediaType: "image/png", AddedAt: t1},
		{ID: "g2", SHA256: "bb", Size: 20, MediaType: "image/jpeg", AddedAt: t1.Add(time.Minute)}}
	if err != nil || !reflect.DeepEqual(imgs, want) {
		t.Fatalf("images %+v %v", imgs, err)
	}
	for _, id := range []string{"a2", "nobody"} {
		if imgs, err := r.SignatureImages(ctx, id); err != nil || imgs == nil || len(imgs) != 0 {
			t.Fatalf("%s: %+v %v", id, imgs, err)
		}
	}
}

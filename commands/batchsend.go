package commands

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"signet/domain/account"
	"signet/domain/contract"
	"signet/domain/enterprise"
	"signet/domain/event"
	"signet/domain/fault"
)

// Sending with a given contract ID (SendContract.ContractID) writes only
// events whose IDs derive from that ID. The event store stores an append
// of IDs it already holds in that stream once, and answers it as the
// original append, so a send retried after a crash between its appends
// (number, quota, contract) completes the first attempt instead of
// starting a second.

// derivedIDs makes the IDs of one append from a base ID and what is
// appended: the same every time.
type derivedIDs struct {
	base uuid.UUID
	what string
	n    int
}

func (d *derivedIDs) NewID() string {
	d.n++
	return uuid.NewSHA1(d.base, fmt.Appendf(nil, "%s/%d", d.what, d.n)).String()
}

func derive(id, what string) *derivedIDs {
	base, err := uuid.Parse(id)
	if err != nil {
		base = uuid.NewSHA1(uuid.NameSpaceOID, []byte(id))
	}
	return &derivedIDs{base: base, what: what}
}

// idsFor names the events of one append of a send: new IDs, or with a
// given contract ID IDs derived from it.
func (c *contracts) idsFor(contractID, what string) IDs {
	if contractID == "" {
		return c.ids
	}
	return derive(contractID, what)
}

// spendIDs names a contract's quota spend. A contract is paid for once,
// whichever command spends for it (send, or approve after approval), so
// its spend's ID is always derived from the contract's.
func spendIDs(contractID string) IDs { return derive(contractID, "quota") }

// numberRandom is the randomness of a contract number: random, or with a
// given contract ID derived from it, so that a retried send reserves the
// number its first attempt reserved (on the same day).
func numberRandom(contractID string, attempt int) []byte {
	if contractID == "" {
		return randomBytes(5)
	}
	sum := sha256.Sum256(fmt.Appendf(nil, "%s/number/%d", contractID, attempt))
	return sum[:5]
}

var errContractIDTaken = fault.New(fault.Conflict, "contract_exists", "A contract with this ID exists and was sent by someone else.")

// sentBefore answers a send with a given contract ID whose contract exists
// already: an earlier attempt sent it.
func (c *contracts) sentBefore(ctx context.Context, cmd SendContract) (SendContractResult, bool, error) {
	if cmd.ContractID == "" {
		return SendContractResult{}, false, nil
	}
	if !validID(cmd.ContractID) {
		return SendContractResult{}, false, fault.Invalidf("contract_id", "invalid_contract_id", "A contract ID is a lowercase UUID.")
	}
	if cmd.DryRun {
		return SendContractResult{}, false, nil
	}
	k, err := c.load(ctx, cmd.ContractID)
	if errors.Is(err, errContractNotFound) {
		return SendContractResult{}, false, nil
	}
	if err != nil {
		return SendContractResult{}, false, err
	}
	s := k.Sender()
	if s.AccountID != cmd.Actor.AccountID || s.EnterpriseID != cmd.EnterpriseID {
		return SendContractResult{}, false, errContractIDTaken
	}
	return SendContractResult{ContractID: k.ID(), Number: k.Created().Number, Status: k.Status(), Contract: k.Created(),
		Approvers: slices.Clone(k.Approvers())}, true, nil
}

// quotaSpent reports whether the quota ledger, at version, already holds
// the spend of contractID: an earlier attempt paid, then stopped before
// the contract was written. It asks the store to append that spend to a
// stream that must not exist: the store answers an append of stored
// event IDs as a retry, and refuses any other with a version conflict,
// so nothing is ever written.
func (c *contracts) quotaSpent(ctx context.Context, a Actor, s contract.Sender, contractID string, version uint64, now time.Time) (bool, error) {
	if contractID == "" || version == 0 {
		return false, nil
	}
	var (
		n   event.New
		err error
	)
	meta := a.meta(now, s.EnterpriseID)
	id := spendIDs(contractID).NewID()
	if s.EnterpriseID != "" {
		n, err = enterprise.NewEvent(id, enterprise.ContractQuotaUsed{ContractID: contractID, UsedBy: a.AccountID, UsedAt: now.UTC()}, meta)
	} else {
		n, err = account.NewEvent(id, account.PersonalQuotaUsed{ContractID: contractID, UsedAt: now.UTC()}, meta)
	}
	if err != nil {
		return false, err
	}
	_, err = c.events.Append(ctx, quotaStream(quotaOf(s)), event.NoStream, n)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, event.ErrConcurrency):
		return false, nil
	}
	return false, storeErr("look up quota spend", err)
}

// unlessSpent turns a refused spend into success when the contract's spend
// is on the ledger already.
func (c *contracts) unlessSpent(ctx context.Context, a Actor, s contract.Sender, contractID string, version uint64, now time.Time, refused error) error {
	if f, ok := fault.As(refused); !ok || f.Code != "quota_exhausted" {
		return refused
	}
	paid, err := c.quotaSpent(ctx, a, s, contractID, version, now)
	if err != nil {
		return err
	}
	if paid {
		return nil
	}
	return refused
}

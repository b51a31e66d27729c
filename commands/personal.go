package commands

import (
	"context"
	"errors"
	"fmt"
	"time"

	"signet/domain/account"
	"signet/domain/event"
	"signet/domain/fault"
	"signet/infra/face"
)

// Personal real-name verification of an account (认证为个人): ID card,
// then the carrier three-factor check and a code, or a face scan.

// decideAccount runs one decision against the caller's account stream and
// appends what was decided (refusals too), returning the decision's error.
// Like decide, it takes the decision again after a concurrent change.
func (s *verifier) decideAccount(ctx context.Context, a Actor, id string, d func(acct *account.Account, now time.Time) ([]account.Event, error)) (*account.Account, uint64, error) {
	for attempt := 1; ; attempt++ {
		acct, pos, err := s.decideAccountOnce(ctx, a, id, d)
		if attempt < decideAttempts && errors.Is(err, event.ErrConcurrency) {
			continue
		}
		return acct, pos, err
	}
}

func (s *verifier) decideAccountOnce(ctx context.Context, a Actor, id string, d func(acct *account.Account, now time.Time) ([]account.Event, error)) (*account.Account, uint64, error) {
	acct, err := s.loadAccount(ctx, id)
	if err != nil {
		return nil, 0, err
	}
	now := s.clock.Now()
	evs, derr := d(acct, now)
	if len(evs) == 0 {
		return acct, 0, derr
	}
	pos, err := appendEvents(ctx, s.events, s.ids, account.StreamOf(id), event.Exactly(acct.Version()), account.NewEvent, evs, a.meta(now, ""))
	if err != nil {
		return nil, 0, err
	}
	for _, ev := range evs {
		if err := acct.Apply(ev); err != nil {
			return nil, 0, err
		}
	}
	return acct, pos, derr
}

// UploadPersonalIDCard stores and reads one side of the caller's ID card.
type UploadPersonalIDCard struct {
	Actor Actor
	Side  account.Side
	File  Upload
}

func (s *verifier) uploadPersonalIDCard(ctx context.Context, c UploadPersonalIDCard) (UploadIDCardResult, error) {
	acct, err := s.loadAccount(ctx, c.Actor.AccountID)
	if err != nil {
		return UploadIDCardResult{}, err
	}
	if _, err := acct.UploadIDCard(c.Side, account.File{SHA256: "-", Size: 1}, account.IDCardFields{}, "", s.clock.Now()); err != nil {
		return UploadIDCardResult{}, err
	}
	file, err := c.File.load()
	if err != nil {
		return UploadIDCardResult{}, err
	}
	fields := recognizeIDCard(ctx, s.v.Recognizer, string(c.Side), file.Data)
	f, err := s.store(ctx, file)
	if err != nil {
		return UploadIDCardResult{}, err
	}
	_, pos, err := s.decideAccount(ctx, c.Actor, c.Actor.AccountID, func(a *account.Account, now time.Time) ([]account.Event, error) {
		return a.UploadIDCard(c.Side, account.File{SHA256: f.SHA256, Size: f.Size, MediaType: f.MediaType},
			account.IDCardFields{Name: fields.Name, IDNumber: fields.IDNumber, Authority: fields.Authority, ValidFrom: fields.ValidFrom, ValidUntil: fields.ValidUntil},
			s.v.Recognizer.Name(), now)
	})
	return UploadIDCardResult{File: f, Recognized: fields, Recognizer: s.v.Recognizer.Name(), Written: Written{pos}}, err
}

// SendPersonalPhoneCode checks (name, ID number, phone) with the carrier,
// then sends a code to the phone.
type SendPersonalPhoneCode struct {
	Actor    Actor
	Name     string
	IDNumber string
	Phone    string
}

func (s *verifier) sendPersonalPhoneCode(ctx context.Context, c SendPersonalPhoneCode) (SendPhoneCodeResult, error) {
	acct, err := s.loadAccount(ctx, c.Actor.AccountID)
	if err != nil {
		return SendPhoneCodeResult{}, err
	}
	p, phone, err := acct.PrepareCarrierCheck(c.Name, c.IDNumber, c.Phone, s.clock.Now())
	if err != nil {
		return SendPhoneCodeResult{}, err
	}
	if err := s.allowSender(ctx, c.Actor); err != nil {
		return SendPhoneCodeResult{}, err
	}
	res, err := s.v.Carrier.Check(ctx, p.Name, p.IDNumber, phone)
	if err != nil {
		return SendPhoneCodeResult{}, depErr("carrier check", errCarrierDown, err)
	}
	_, pos, err := s.decideAccount(ctx, c.Actor, c.Actor.AccountID, func(a *account.Account, now time.Time) ([]account.Event, error) {
		return a.CheckCarrier(c.Name, c.IDNumber, c.Phone, res.Match, res.Reason, now)
	})
	if err != nil {
		return SendPhoneCodeResult{Written: Written{pos}}, err
	}
	// The carrier check is recorded: refusals from here on still say where.
	code, exp, resend, err := s.codes.Issue(ctx, PurposePersonalPhone+":"+c.Actor.AccountID, phone)
	if err != nil {
		return SendPhoneCodeResult{Written: Written{pos}}, depErr("issue code", errCodesUnavailable, err)
	}
	now := s.clock.Now()
	if err := s.notifier.Notify(ctx, smsMessage(phone, fmt.Sprintf("您正在进行个人实名认证，验证码 %s，%d分钟内有效。", code, minutes(exp.Sub(now))), now)); err != nil {
		return SendPhoneCodeResult{Written: Written{pos}}, depErr("send code", errNotifyFailed, err)
	}
	return SendPhoneCodeResult{MaskedPhone: maskPhone(phone), ExpiresAt: exp, ResendAfter: resend, Written: Written{pos}}, nil
}

// ConfirmPersonalPhoneCode checks the code of the personal phone check.
type ConfirmPersonalPhoneCode struct {
	Actor Actor
	Code  string
}

// PersonalResult says whether the account is now verified.
type PersonalResult struct {
	Verified bool
	Written
}

func (s *verifier) confirmPersonalPhoneCode(ctx context.Context, c ConfirmPersonalPhoneCode) (PersonalResult, error) {
	if !sixDigits(c.Code) {
		return PersonalResult{}, errCodeFormat
	}
	acct, err := s.loadAccount(ctx, c.Actor.AccountID)
	if err != nil {
		return PersonalResult{}, err
	}
	var codeErr error
	left := -1
	pending := acct.PendingCarrier()
	if p := pending; p != nil && !acct.Verified() {
		codeErr = s.codes.Verify(ctx, PurposePersonalPhone+":"+c.Actor.AccountID, p.Phone, c.Code)
		if f, ok := fault.As(codeErr); ok {
			if f.Code == "code_attempts_exhausted" || f.Code == "code_expired" {
				left = 0
			}
		} else if codeErr != nil {
			return PersonalResult{}, depErr("verify code", errCodesUnavailable, codeErr)
		}
	}
	acct, pos, err := s.decideAccount(ctx, c.Actor, c.Actor.AccountID, func(a *account.Account, now time.Time) ([]account.Event, error) {
		// A carrier check that landed after the code was checked has not
		// had its own code checked.
		if !samePersonalCheck(pending, a.PendingCarrier()) {
			return nil, errPhoneCheckChanged
		}
		return a.ConfirmPhone(codeErr, left, now)
	})
	if acct == nil {
		return PersonalResult{}, err
	}
	return PersonalResult{Verified: acct.Verified(), Written: Written{pos}}, err
}

func samePersonalCheck(a, b *account.PersonalCarrierCheckPassed) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Name == b.Name && a.IDNumber == b.IDNumber && a.Phone == b.Phone
}

// StartPersonalFaceScan opens a face scan of the caller.
type StartPersonalFaceScan struct {
	Actor    Actor
	Name     string
	IDNumber string
}

func (s *verifier) startPersonalFaceScan(ctx context.Context, c StartPersonalFaceScan) (StartFaceScanResult, error) {
	acct, err := s.loadAccount(ctx, c.Actor.AccountID)
	if err != nil {
		return StartFaceScanResult{}, err
	}
	now := s.clock.Now()
	if _, err := acct.CheckFaceStart(c.Name, c.IDNumber, 1, now); err != nil {
		return StartFaceScanResult{}, err
	}
	p, _ := account.ParsePerson(c.Name, c.IDNumber, now)
	overLimit := func(attempt int) (StartFaceScanResult, error) {
		_, pos, err := s.decideAccount(ctx, c.Actor, c.Actor.AccountID, func(a *account.Account, now time.Time) ([]account.Event, error) {
			return a.CheckFaceStart(c.Name, c.IDNumber, attempt, now)
		})
		return StartFaceScanResult{Written: Written{pos}}, err
	}
	// One counter for the person, whichever account or enterprise asks;
	// peeked, then taken after the provider opened the session, so that an
	// outage costs no attempt.
	dayEnd := account.NextDay(now)
	used, err := s.v.FaceCounter.Peek(ctx, p.IDNumber, dayEnd)
	if err != nil {
		return StartFaceScanResult{}, fmt.Errorf("count face scans: %w: %w", errFaceDown, err)
	}
	if used >= account.FaceScansPerDay {
		return overLimit(used + 1)
	}
	sessionID := "a." + c.Actor.AccountID + "." + randomToken(8)
	sess, err := s.v.Face.Start(ctx, face.StartRequest{SessionID: sessionID, Name: p.Name, IDNumber: p.IDNumber, CallbackURL: s.v.FaceCallbackURL})
	if err != nil {
		return StartFaceScanResult{}, depErr("start face scan", errFaceDown, err)
	}
	attempt, err := s.v.FaceCounter.Take(ctx, p.IDNumber, dayEnd)
	if err != nil {
		return StartFaceScanResult{}, fmt.Errorf("count face scans: %w: %w", errFaceDown, err)
	}
	if attempt > account.FaceScansPerDay {
		return overLimit(attempt)
	}
	_, pos, err := s.decideAccount(ctx, c.Actor, c.Actor.AccountID, func(a *account.Account, now time.Time) ([]account.Event, error) {
		return a.StartFace(c.Name, c.IDNumber, sessionID, sess.QRURL, sess.ExpiresAt, attempt, now)
	})
	if err != nil {
		return StartFaceScanResult{}, err
	}
	return StartFaceScanResult{SessionID: sessionID, QRURL: sess.QRURL, ExpiresAt: sess.ExpiresAt,
		AttemptsLeft: account.FaceScansPerDay - attempt, Written: Written{pos}}, nil
}

// personalFaceCallback applies a face result to an account's session.
func (s *verifier) personalFaceCallback(ctx context.Context, c FaceCallback, accountID string) (CallbackResult, error) {
	a := Actor{AccountID: "provider:face", ClientIP: c.ClientIP}
	acct, pos, err := s.decideAccount(ctx, a, accountID, func(acct *account.Account, now time.Time) ([]account.Event, error) {
		return acct.FaceResult(c.Result.SessionID, c.Result.Passed, c.Result.Score, c.Result.Reason, now)
	})
	if err != nil {
		return CallbackResult{}, err
	}
	outcome := "failed"
	if c.Result.Passed {
		outcome = "passed"
	}
	if acct.Verified() && c.Result.Passed {
		outcome = "verified"
	}
	return CallbackResult{Subject: account.StreamOf(accountID), Outcome: outcome, Written: Written{pos}}, nil
}

// Package storetest is the conformance suite every mailstore.Store engine
// must pass: call Run from the engine's tests with a function that creates
// a fresh, empty store and returns an Opener for it.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

// Opener opens a handle on one store. Each call returns another,
// independent handle on the same data, as a second process or node would
// open it: the same database and blobs, but its own connections and none
// of the other handles' in-memory state (caches, watch hub) unless the
// engine shares that by design. The engine closes the handle at t's
// cleanup. The suite does not ask Watch to hear of another handle's
// changes (both engines keep a hub per process today).
type Opener func(t *testing.T) mailstore.Store

// Run runs every conformance test. newStore is called once per test: it
// creates a fresh, empty store (arranging its removal with t.Cleanup) and
// returns the Opener for it. Most tests use one handle; the multi-handle
// tests open a second one and race writers on both, which is how a
// scaled-out engine runs.
func Run(t *testing.T, newStore func(t *testing.T) Opener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, h *harness)
	}{
		{"DefaultMailboxes", testDefaultMailboxes},
		{"EnsureAccountIdempotent", testEnsureAccountIdempotent},
		{"NoAccount", testNoAccount},
		{"DeleteAccount", testDeleteAccount},
		{"InboxCaseInsensitive", testInboxCaseInsensitive},
		{"CreateMailbox", testCreateMailbox},
		{"InvalidNames", testInvalidNames},
		{"NameBounds", testNameBounds},
		{"UIDValidity", testUIDValidity},
		{"DeleteMailbox", testDeleteMailbox},
		{"RenameMailbox", testRenameMailbox},
		{"RenameInbox", testRenameInbox},
		{"MailboxObjectID", testMailboxObjectID},
		{"Subscriptions", testSubscriptions},
		{"AppendStatus", testAppendStatus},
		{"UIDNext", testUIDNext},
		{"InternalDate", testInternalDate},
		{"AppendDeliveryID", testAppendDeliveryID},
		{"DeliverMultipleAccounts", testDeliverMultipleAccounts},
		{"DeliverDedupe", testDeliverDedupe},
		{"DeliverFallback", testDeliverFallback},
		{"DeliverUnknownAccount", testDeliverUnknownAccount},
		{"FlagsNormalized", testFlagsNormalized},
		{"SetFlags", testSetFlags},
		{"SetFlagsIf", testSetFlagsIf},
		{"SetFlagsIfRace", testSetFlagsIfRace},
		{"Changes", testChanges},
		{"Copy", testCopy},
		{"Move", testMove},
		{"Expunge", testExpunge},
		{"ForeignMailbox", testForeignMailbox},
		{"Watch", testWatch},
		{"WatchAccount", testWatchAccount},
		{"ConcurrentAppends", testConcurrentAppends},
		{"ConcurrentEnsureAccount", testConcurrentEnsureAccount},
		{"HandlesSeeEachOther", testHandlesSeeEachOther},
		{"HandlesAppend", testHandlesAppend},
		{"HandlesDeliverDedupe", testHandlesDeliverDedupe},
		{"HandlesSetFlags", testHandlesSetFlags},
		{"HandlesClaimRecent", testHandlesClaimRecent},
		{"HandlesCreateMailbox", testHandlesCreateMailbox},
		{"HandlesRenameMailbox", testHandlesRenameMailbox},
		{"HandlesURLAuthKey", testHandlesURLAuthKey},
		{"HandlesQuota", testHandlesQuota},
		{"HandlesMoveExpunge", testHandlesMoveExpunge},
		{"HandlesDeleteMailbox", testHandlesDeleteMailbox},
		{"HandlesDeleteAccount", testHandlesDeleteAccount},
		{"HandlesExpungeCopy", testHandlesExpungeCopy},
		{"HandlesDeliverBatches", testHandlesDeliverBatches},
		{"HandlesCrossMove", testHandlesCrossMove},
		{"HandlesCollectRacingDelivery", testHandlesCollectRacingDelivery},
		{"BodyRoundTrip", testBodyRoundTrip},
		{"BlobMissing", testBlobMissing},
		{"CheckHealthy", testCheckHealthy},
		{"ACLSetReplaceRemove", testACLSetReplaceRemove},
		{"ACLRenameDelete", testACLRenameDelete},
		{"SharedWith", testSharedWith},
		{"QuotaUsage", testQuotaUsage},
		{"QuotaLimits", testQuotaLimits},
		{"QuotaDeliver", testQuotaDeliver},
		{"SaveDate", testSaveDate},
		{"SearchText", testSearchText},
		{"SearchTextChanges", testSearchTextChanges},
		{"Headers", testHeaders},
		{"Recent", testRecent},
		{"URLAuthKeys", testURLAuthKeys},
		{"CollectGarbage", testCollectGarbage},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			defer failOnPanic(t)
			ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
			defer cancel()
			open := newStore(t)
			tc.fn(t, &harness{t: t, s: open(t), ctx: ctx, open: open})
		})
	}
}

// testTimeout bounds each test's store calls: an engine that deadlocks
// (two handles waiting on each other, a lost wakeup) fails that test when
// the context ends instead of hanging the run until go test's -timeout.
const testTimeout = 2 * time.Minute

// failOnPanic turns a panic of a test (an engine's, or the suite's on an
// answer shorter than it asserts) into that test's failure, so one broken
// method does not end the run and hide every other test's result.
func failOnPanic(t *testing.T) {
	if r := recover(); r != nil {
		t.Fatalf("panic: %v\n%s", r, debug.Stack())
	}
}

// harness wraps a store with fatal-on-error helpers.
type harness struct {
	t    *testing.T
	s    mailstore.Store
	ctx  context.Context
	open Opener // nil under RunLimits
}

// other opens another handle on h's store, as a second node would.
func (h *harness) other() *harness {
	h.t.Helper()
	if h.open == nil {
		h.t.Fatal("storetest: this suite has no second handle")
	}
	return &harness{t: h.t, s: h.open(h.t), ctx: h.ctx, open: h.open}
}

func (h *harness) account(user string) {
	h.t.Helper()
	if err := h.s.EnsureAccount(h.ctx, user); err != nil {
		h.t.Fatalf("EnsureAccount(%q): %v", user, err)
	}
}

func (h *harness) box(user, name string) mailstore.MailboxInfo {
	h.t.Helper()
	mb, err := h.s.Mailbox(h.ctx, user, name)
	if err != nil {
		h.t.Fatalf("Mailbox(%q, %q): %v", user, name, err)
	}
	return mb
}

func (h *harness) create(user, name string) mailstore.MailboxInfo {
	h.t.Helper()
	mb, err := h.s.CreateMailbox(h.ctx, user, name, "")
	if err != nil {
		h.t.Fatalf("CreateMailbox(%q, %q): %v", user, name, err)
	}
	return mb
}

func (h *harness) append(user string, mailboxID int64, body string, flags ...string) uint32 {
	h.t.Helper()
	uid, err := h.s.Append(h.ctx, user, mailboxID, mailstore.NewMessage{Body: strings.NewReader(body), Flags: flags})
	if err != nil {
		h.t.Fatalf("Append: %v", err)
	}
	return uid
}

func (h *harness) messages(user string, mailboxID int64) []mailstore.Message {
	h.t.Helper()
	msgs, err := h.s.Messages(h.ctx, user, mailboxID)
	if err != nil {
		h.t.Fatalf("Messages: %v", err)
	}
	return msgs
}

func (h *harness) status(user string, mailboxID int64) mailstore.Status {
	h.t.Helper()
	st, err := h.s.Status(h.ctx, user, mailboxID)
	if err != nil {
		h.t.Fatalf("Status: %v", err)
	}
	return st
}

func (h *harness) names(user string) []string {
	h.t.Helper()
	mbs, err := h.s.Mailboxes(h.ctx, user)
	if err != nil {
		h.t.Fatalf("Mailboxes(%q): %v", user, err)
	}
	var out []string
	for _, mb := range mbs {
		out = append(out, mb.Name)
	}
	slices.Sort(out)
	return out
}

func (h *harness) body(blobID string) string {
	h.t.Helper()
	rc, err := h.s.OpenBlob(h.ctx, blobID)
	if err != nil {
		h.t.Fatalf("OpenBlob(%s): %v", blobID, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		h.t.Fatalf("read blob: %v", err)
	}
	return string(b)
}

func (h *harness) uids(user string, mailboxID int64) []uint32 {
	h.t.Helper()
	var out []uint32
	for _, m := range h.messages(user, mailboxID) {
		out = append(out, m.UID)
	}
	return out
}

func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: err = %v, want %v", what, err, target)
	}
}

func msg(i int) string {
	return fmt.Sprintf("From: a@example.org\r\nSubject: message %d\r\n\r\nbody %d\r\n", i, i)
}

// waitSignal waits for a watch signal with a deadline.
func waitSignal(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatalf("no watch signal after %s", what)
	}
}

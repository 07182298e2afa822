package imap

import "testing"

// TestPythonImaplibACL runs Python's imaplib through SETACL, GETACL,
// MYRIGHTS, LISTRIGHTS and a SELECT of the shared mailbox.
func TestPythonImaplibACL(t *testing.T) {
	runPython(t, startServer(t), "imaplib_acl.py")
}

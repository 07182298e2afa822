package imap

import "testing"

// TestPythonSortThreadCompress runs SORT and THREAD through imaplib and
// COMPRESS=DEFLATE through Python's zlib.
func TestPythonSortThreadCompress(t *testing.T) {
	runPython(t, startServer(t), "imaplib_sort_thread.py", "alice", "alicepw")
}

package imap

import (
	"strings"
)

// coreFeature: commands valid in any state (RFC 3501 §6.1), ID (RFC 2971),
// ENABLE (RFC 5161), LITERAL+ (RFC 7888, handled by readCommand). Sessions
// speak IMAP4rev1 until the client enables IMAP4rev2 (RFC 9051 §6.3.1).
var coreFeature = feature{
	caps: func(s *session) []string {
		return []string{"IMAP4rev1", "IMAP4rev2", "LITERAL+", "ENABLE", "UTF8=ACCEPT", "ID"}
	},
	commands: map[string]commandSpec{
		"CAPABILITY": {states: stateAny, handle: handleCapability},
		"NOOP":       {states: stateAny, handle: handleNoop},
		"LOGOUT":     {states: stateAny, handle: handleLogout},
		"ID":         {states: stateAny, handle: handleID},
		"ENABLE":     {states: stateAuthOrSelect, handle: handleEnable},
	},
}

func handleCapability(s *session, c *command) error {
	if err := c.p.end(); err != nil {
		return err
	}
	return s.writef("* CAPABILITY %s", s.srv.registry.capabilities(s))
}

// NOOP does nothing; the selected-mailbox sync before the tagged OK is its
// point (RFC 3501 §6.1.2).
func handleNoop(s *session, c *command) error { return c.p.end() }

func handleLogout(s *session, c *command) error {
	if err := c.p.end(); err != nil {
		return err
	}
	s.logout = true
	return s.writef("* BYE Logging out")
}

// RFC 2971: ID ( "key" "value" ... ) or ID NIL.
func handleID(s *session, c *command) error {
	if err := c.p.sp(); err != nil {
		return err
	}
	var fields []string
	if c.p.peek() == '(' {
		err := c.p.list(func() error {
			k, _, err := c.p.nstring()
			if err != nil {
				return err
			}
			if err := c.p.sp(); err != nil {
				return err
			}
			v, isNil, err := c.p.nstring()
			if err == nil && !isNil {
				fields = append(fields, k+"="+v)
			}
			return err
		})
		if err != nil {
			return err
		}
	} else if _, _, err := c.p.nstring(); err != nil {
		return err
	}
	if err := c.p.end(); err != nil {
		return err
	}
	if len(fields) > 0 {
		s.log.Debug("imap client id", "id", strings.Join(fields, " "))
	}
	return s.writef(`* ID ("name" "Rookery")`)
}

// RFC 5161: ENABLE lists what it enabled; unknown capabilities are ignored.
func handleEnable(s *session, c *command) error {
	if c.p.atEnd() {
		return errSyntax("ENABLE needs a capability")
	}
	var enabled []string
	for !c.p.atEnd() {
		if err := c.p.sp(); err != nil {
			return err
		}
		name, err := c.p.atom()
		if err != nil {
			return err
		}
		switch strings.ToUpper(name) {
		case "UTF8=ACCEPT":
			s.utf8 = true // RFC 6855 §3
			enabled = append(enabled, "UTF8=ACCEPT")
		case "IMAP4REV2":
			// RFC 9051: UTF-8 mailbox names, ESEARCH answers to SEARCH,
			// no \Recent, LIST in SELECT responses.
			s.rev2, s.utf8 = true, true
			enabled = append(enabled, "IMAP4rev2")
		case "CONDSTORE":
			if err := s.enableCondstore(); err != nil {
				return err
			}
			enabled = append(enabled, "CONDSTORE")
		case "QRESYNC":
			// RFC 7162 §3.2.3: QRESYNC implies CONDSTORE.
			if err := s.enableCondstore(); err != nil {
				return err
			}
			s.qresync = true
			enabled = append(enabled, "QRESYNC")
		}
	}
	if len(enabled) == 0 {
		return s.writef("* ENABLED")
	}
	return s.writef("* ENABLED %s", strings.Join(enabled, " "))
}

package imap

// previewFeature advertises PREVIEW (RFC 8970): the FETCH item is parsed
// in fetch_parse.go and rendered from imapmsg.Message.Preview.
var previewFeature = feature{
	caps: func(s *session) []string { return []string{"PREVIEW"} },
}

// parsePreviewModifiers reads the optional " (LAZY)" after PREVIEW
// (RFC 8970 §4). A list not starting with LAZY is left alone: after a
// lone FETCH item it holds the fetch modifiers, e.g. (CHANGEDSINCE n).
// The preview is always computed from the message, so LAZY changes
// nothing: the server never needs to answer NIL.
func parsePreviewModifiers(p *parser) error {
	save := p.i
	if !p.consume(' ') || !p.consume('(') {
		p.i = save
		return nil
	}
	if mod, _ := p.atom(); upperASCII(mod) != "LAZY" {
		p.i = save
		return nil
	}
	for !p.consume(')') {
		if err := p.sp(); err != nil {
			return err
		}
		mod, err := p.atom()
		if err != nil {
			return err
		}
		if upperASCII(mod) != "LAZY" {
			return errSyntax("unknown PREVIEW modifier %q", mod)
		}
	}
	return nil
}

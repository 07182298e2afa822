package imap

import "strings"

// createSpecialUseFeature: CREATE-SPECIAL-USE (RFC 6154 §3), CREATE with a
// USE parameter naming the new mailbox's special use. The parameter itself
// is parsed by handleCreate.
var createSpecialUseFeature = feature{
	caps: func(*session) []string { return []string{"CREATE-SPECIAL-USE"} },
}

// creatableUses are the attributes a created mailbox may carry. \All and
// \Flagged name virtual mailboxes, which this store does not have.
var creatableUses = []string{`\Archive`, `\Drafts`, `\Junk`, `\Sent`, `\Trash`}

// parseCreateParams reads RFC 4466 create-params: "(" create-param *(SP
// create-param) ")", of which only USE (RFC 6154) is known. It returns the
// one special use asked for, or "".
func parseCreateParams(p *parser) (string, error) {
	var uses []string
	err := p.list(func() error {
		name, err := p.atom()
		if err != nil {
			return err
		}
		if !strings.EqualFold(name, "USE") {
			return errBad("", "Unknown CREATE parameter "+name)
		}
		if err := p.sp(); err != nil {
			return err
		}
		return p.list(func() error {
			if !p.consume('\\') {
				return errSyntax("special-use attribute expected")
			}
			a, err := p.atom()
			if err != nil {
				return err
			}
			uses = append(uses, `\`+a)
			return nil
		})
	})
	if err != nil {
		return "", err
	}
	switch len(uses) {
	case 0:
		return "", nil
	case 1:
		for _, u := range creatableUses {
			if strings.EqualFold(u, uses[0]) {
				return u, nil
			}
		}
	}
	// RFC 6154 §3: an attribute the server cannot give is NO [USEATTR].
	return "", errNo("USEATTR", "Only one of "+strings.Join(creatableUses, " ")+" can be given")
}

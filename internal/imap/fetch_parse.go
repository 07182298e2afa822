package imap

import (
	"strconv"
	"strings"

	"github.com/rookery-mail/rookery/internal/imap/imapmsg"
)

// fetchKind is one FETCH data item (RFC 3501 §6.4.5).
type fetchKind int

const (
	fetchFlags fetchKind = iota
	fetchInternalDate
	fetchSize
	fetchEnvelope
	fetchBodyStructure // BODYSTRUCTURE
	fetchBody          // BODY without a section: non-extensible structure
	fetchSection       // BODY[...], BODY.PEEK[...], RFC822, RFC822.HEADER, RFC822.TEXT
	fetchUID
	fetchBinary     // BINARY[part], BINARY.PEEK[part] (RFC 3516)
	fetchBinarySize // BINARY.SIZE[part]
	fetchModSeq     // MODSEQ (RFC 7162 §3.1.4.2)
	fetchPreview    // PREVIEW (RFC 8970, preview.go)
	fetchEmailID    // EMAILID (RFC 8474, objectid.go)
	fetchThreadID   // THREADID (RFC 8474, objectid.go)
	fetchSaveDate   // SAVEDATE (RFC 8514, savedate.go)
)

type fetchItem struct {
	kind    fetchKind
	section imapmsg.Section
	peek    bool
	// respName is the item name in the response, e.g. `BODY[HEADER]`,
	// "RFC822.TEXT"; the partial origin is appended when set.
	respName   string
	hasPartial bool
	offset     uint32
	length     uint32
}

// needsBlob reports whether the item reads the message content.
func (it fetchItem) needsBlob() bool {
	switch it.kind {
	case fetchEnvelope, fetchBodyStructure, fetchBody, fetchSection, fetchBinary, fetchBinarySize, fetchPreview:
		return true
	}
	return false
}

// headerOnly reports whether the item reads nothing but the top-level
// header section, which the store's header cache gives without the blob.
func (it fetchItem) headerOnly() bool {
	switch it.kind {
	case fetchEnvelope:
		return true
	case fetchSection:
		switch it.section.Spec {
		case imapmsg.SpecHeader, imapmsg.SpecHeaderFields, imapmsg.SpecHeaderFieldsNot:
			return len(it.section.Part) == 0
		}
	}
	return false
}

// parseFetchItems reads a FETCH item or a parenthesized list of items.
func parseFetchItems(p *parser) ([]fetchItem, error) {
	if p.peek() != '(' {
		name, err := p.word(isFetchNameChar, "fetch item")
		if err != nil {
			return nil, err
		}
		switch strings.ToUpper(name) {
		case "ALL":
			return macroItems(fetchFlags, fetchInternalDate, fetchSize, fetchEnvelope), nil
		case "FAST":
			return macroItems(fetchFlags, fetchInternalDate, fetchSize), nil
		case "FULL":
			return macroItems(fetchFlags, fetchInternalDate, fetchSize, fetchEnvelope, fetchBody), nil
		}
		it, err := parseFetchItem(p, name)
		if err != nil {
			return nil, err
		}
		return []fetchItem{it}, nil
	}
	var items []fetchItem
	err := p.list(func() error {
		name, err := p.word(isFetchNameChar, "fetch item")
		if err != nil {
			return err
		}
		it, err := parseFetchItem(p, name)
		items = append(items, it)
		return err
	})
	if err == nil && len(items) == 0 {
		err = errSyntax("empty fetch item list")
	}
	return items, err
}

func isFetchNameChar(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.'
}

func macroItems(kinds ...fetchKind) []fetchItem {
	items := make([]fetchItem, len(kinds))
	for i, k := range kinds {
		items[i] = fetchItem{kind: k}
	}
	return items
}

func parseFetchItem(p *parser, name string) (fetchItem, error) {
	switch strings.ToUpper(name) {
	case "FLAGS":
		return fetchItem{kind: fetchFlags}, nil
	case "INTERNALDATE":
		return fetchItem{kind: fetchInternalDate}, nil
	case "RFC822.SIZE":
		return fetchItem{kind: fetchSize}, nil
	case "ENVELOPE":
		return fetchItem{kind: fetchEnvelope}, nil
	case "BODYSTRUCTURE":
		return fetchItem{kind: fetchBodyStructure}, nil
	case "UID":
		return fetchItem{kind: fetchUID}, nil
	case "MODSEQ":
		return fetchItem{kind: fetchModSeq}, nil
	case "PREVIEW":
		return fetchItem{kind: fetchPreview}, parsePreviewModifiers(p)
	case "EMAILID":
		return fetchItem{kind: fetchEmailID}, nil
	case "THREADID":
		return fetchItem{kind: fetchThreadID}, nil
	case "SAVEDATE":
		return fetchItem{kind: fetchSaveDate}, nil
	case "RFC822":
		return fetchItem{kind: fetchSection, respName: "RFC822"}, nil
	case "RFC822.HEADER":
		return fetchItem{kind: fetchSection, peek: true, respName: "RFC822.HEADER",
			section: imapmsg.Section{Spec: imapmsg.SpecHeader}}, nil
	case "RFC822.TEXT":
		return fetchItem{kind: fetchSection, respName: "RFC822.TEXT",
			section: imapmsg.Section{Spec: imapmsg.SpecText}}, nil
	case "BODY":
		if p.peek() != '[' {
			return fetchItem{kind: fetchBody}, nil
		}
		return parseBodySection(p, false)
	case "BODY.PEEK":
		return parseBodySection(p, true)
	case "BINARY", "BINARY.PEEK", "BINARY.SIZE":
		return parseBinarySection(p, strings.ToUpper(name))
	}
	return fetchItem{}, errSyntax("unknown fetch item %q", name)
}

// parseBodySection reads "[section]" and an optional "<offset.length>".
func parseBodySection(p *parser, peek bool) (fetchItem, error) {
	if err := p.expect('['); err != nil {
		return fetchItem{}, err
	}
	sec, spec, err := parseSection(p)
	if err != nil {
		return fetchItem{}, err
	}
	if err := p.expect(']'); err != nil {
		return fetchItem{}, err
	}
	it := fetchItem{kind: fetchSection, section: sec, peek: peek, respName: "BODY[" + spec + "]"}
	return it, parsePartial(p, &it)
}

// parseSection reads a section-spec (RFC 3501 §9) up to, not including,
// "]" and returns it with its canonical text for the response.
func parseSection(p *parser) (imapmsg.Section, string, error) {
	var sec imapmsg.Section
	var canon []string
	for isDigit(p.peek()) {
		n, err := p.number()
		if err != nil || n == 0 {
			return sec, "", errSyntax("invalid section part")
		}
		sec.Part = append(sec.Part, int(n))
		canon = append(canon, strconv.Itoa(int(n)))
		if !p.consume('.') {
			return sec, strings.Join(canon, "."), nil
		}
		if len(sec.Part) > 100 {
			return sec, "", errSyntax("section too deep")
		}
	}
	if len(sec.Part) > 0 && p.peek() == ']' {
		return sec, "", errSyntax("section ends with a dot")
	}
	if p.peek() == ']' {
		return sec, "", nil
	}
	word, err := p.word(func(c byte) bool { return isFetchNameChar(c) }, "section text")
	if err != nil {
		return sec, "", err
	}
	switch spec := imapmsg.Specifier(strings.ToUpper(word)); spec {
	case imapmsg.SpecHeader, imapmsg.SpecText:
		sec.Spec = spec
	case imapmsg.SpecMIME:
		if len(sec.Part) == 0 {
			return sec, "", errSyntax("MIME needs a part number")
		}
		sec.Spec = spec
	case imapmsg.SpecHeaderFields, imapmsg.SpecHeaderFieldsNot:
		sec.Spec = spec
		if err := p.sp(); err != nil {
			return sec, "", err
		}
		err := p.list(func() error {
			f, err := p.astring()
			sec.Fields = append(sec.Fields, strings.ToUpper(f))
			return err
		})
		if err != nil {
			return sec, "", err
		}
		if len(sec.Fields) == 0 {
			return sec, "", errSyntax("empty header field list")
		}
	default:
		return sec, "", errSyntax("unknown section %q", word)
	}
	canon = append(canon, string(sec.Spec))
	text := strings.Join(canon, ".")
	if len(sec.Fields) > 0 {
		quoted := make([]string, len(sec.Fields))
		for i, f := range sec.Fields {
			quoted[i] = quoteIMAP(f, false)
		}
		text += " (" + strings.Join(quoted, " ") + ")"
	}
	return sec, text, nil
}

// parseBinarySection reads "[section]" and, except for BINARY.SIZE, an
// optional partial (RFC 3516 §4.2). Besides the part numbers of the RFC's
// section-binary it takes the specifiers of BODY[] (TEXT, HEADER, MIME,
// HEADER.FIELDS), as Dovecot does; see imapmsg.Message.Binary.
func parseBinarySection(p *parser, name string) (fetchItem, error) {
	it := fetchItem{kind: fetchBinary, peek: name == "BINARY.PEEK"}
	if name == "BINARY.SIZE" {
		it.kind = fetchBinarySize
	}
	if err := p.expect('['); err != nil {
		return it, err
	}
	sec, spec, err := parseSection(p)
	if err != nil {
		return it, err
	}
	if err := p.expect(']'); err != nil {
		return it, err
	}
	it.section = sec
	base := "BINARY"
	if it.kind == fetchBinarySize {
		base = "BINARY.SIZE"
	}
	it.respName = base + "[" + spec + "]"
	if it.kind == fetchBinary {
		err = parsePartial(p, &it)
	}
	return it, err
}

// parsePartial reads an optional "<offset.length>" (RFC 3501 §6.4.5).
func parsePartial(p *parser, it *fetchItem) error {
	if !p.consume('<') {
		return nil
	}
	var err error
	if it.offset, err = p.number(); err != nil {
		return err
	}
	if err := p.expect('.'); err != nil {
		return err
	}
	if it.length, err = p.number(); err != nil {
		return err
	}
	if it.length == 0 {
		return errSyntax("partial length must be positive")
	}
	it.hasPartial = true
	return p.expect('>')
}

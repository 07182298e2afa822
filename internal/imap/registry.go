package imap

import "strings"

// connState is a session state (RFC 3501 §3); commandSpec.states is a mask.
type connState uint8

const (
	stateNotAuth connState = 1 << iota
	stateAuth
	stateSelected

	stateAny          = stateNotAuth | stateAuth | stateSelected
	stateAuthOrSelect = stateAuth | stateSelected
)

// handlerFunc runs one command. It reads its arguments from c.p (starting
// right after the command name) and returns nil for a tagged OK, an
// *imapError for NO/BAD, a syntax error for BAD, or another error, which
// is mapped by respError.
type handlerFunc func(s *session, c *command) error

// commandSpec is a registered command.
type commandSpec struct {
	states connState
	handle handlerFunc
	// noExpunge: RFC 3501 §7.4.1 forbids untagged EXPUNGE while a FETCH,
	// STORE or SEARCH (not their UID forms) is in progress.
	noExpunge bool
	// readsClient: the command reads the client while it runs (IDLE,
	// AUTHENTICATE), so it sees a hang-up itself and needs no hang-up
	// watch polling the socket for as long as it waits.
	readsClient bool
}

// feature is a set of commands and the capabilities they bring. An
// extension is one file declaring a feature and one line in builtinFeatures.
type feature struct {
	// caps lists the capabilities to advertise to s now (they may depend
	// on the state, e.g. STARTTLS); nil means none.
	caps     func(s *session) []string
	commands map[string]commandSpec
}

// builtinFeatures are the features every server has, in capability order.
var builtinFeatures = []*feature{
	&coreFeature,
	&authFeature,
	&mailboxFeature,
	&listFeature,
	&statusFeature,
	&selectFeature,
	&appendFeature,
	&fetchFeature,
	&storeFeature,
	&searchFeature,
	&expungeFeature,
	&copyFeature,
	&idleFeature,
	&createSpecialUseFeature,
	&condstoreFeature,
	&qresyncFeature,
	&sortFeature,
	&esortFeature,
	&threadFeature,
	&multiAppendFeature,
	&previewFeature,
	&aclFeature,
	&quotaFeature,
	&objectIDFeature,
	&saveDateFeature,
	&replaceFeature,
	&partialFeature,
	&contextFeature,
	&catenateFeature,
	&notifyFeature,
	&urlAuthFeature,
}

// registry maps command names ("FETCH", "UID FETCH") to their specs.
type registry struct {
	features []*feature
	commands map[string]commandSpec
}

func newRegistry(features []*feature) *registry {
	r := &registry{features: features, commands: make(map[string]commandSpec)}
	for _, f := range features {
		for name, spec := range f.commands {
			if _, dup := r.commands[name]; dup {
				panic("imap: command registered twice: " + name)
			}
			r.commands[name] = spec
		}
	}
	return r
}

func (r *registry) lookup(name string) (commandSpec, bool) {
	spec, ok := r.commands[name]
	return spec, ok
}

// capabilities is the CAPABILITY list for s in its current state.
func (r *registry) capabilities(s *session) string {
	var caps []string
	for _, f := range r.features {
		if f.caps != nil {
			caps = append(caps, f.caps(s)...)
		}
	}
	return strings.Join(caps, " ")
}

package submission

import (
	"errors"

	"github.com/emersion/go-sasl"
)

// loginServer is the obsolete but widely used SASL LOGIN mechanism
// (draft-murchison-sasl-login): the server asks "Username:" then
// "Password:" and the client answers each in turn.
type loginServer struct {
	check func(identity, user, pass string) error
	user  string
	step  int
}

var _ sasl.Server = (*loginServer)(nil)

func (l *loginServer) Next(response []byte) ([]byte, bool, error) {
	switch l.step {
	case 0:
		l.step++
		if response != nil { // initial response carries the user name
			l.user = string(response)
			l.step++
			return []byte("Password:"), false, nil
		}
		return []byte("Username:"), false, nil
	case 1:
		l.user = string(response)
		l.step++
		return []byte("Password:"), false, nil
	case 2:
		l.step++
		return nil, true, l.check("", l.user, string(response))
	}
	return nil, false, errors.New("sasl LOGIN: unexpected response")
}

package admin

import "testing"

// The store commands against one directory, with stores s1–s3 configured
// (the opener's default is store1, which no store here uses).
func TestStoreCommands(t *testing.T) {
	open, _ := opener(t)
	transcriptEnv(t, Env{Directory: open, Mailstores: func() []string { return []string{"s1", "s2", "s3"} }}, `
$ store list
$ store add s1
added mailstore s1
$ store add s1
! mailstore s1 is already registered
$ store add s9
! mailstore "s9" is not configured (configured: s1, s2, s3); add a [[mailstores]] entry first
$ store add Bad/Name
! invalid mailstore name "Bad/Name"
$ domain add example.test
added domain example.test
$ user add alice@example.test --password-stdin < pw
created alice@example.test
$ user add bob@example.test --password-stdin < pw
created bob@example.test
$ store add s2
added mailstore s2
$ user add carol@example.test --password-stdin < pw
created carol@example.test
$ user list
alice@example.test s1
bob@example.test s1
carol@example.test s2
$ store set s2 --accepting=false
mailstore s2 closed
$ store set s9 --accepting false
! mailstore s9 is not registered; add it with: rookery store add s9
$ store set s2 --accepting maybe
! --accepting must be true or false, got "maybe"
$ store set s2
! store set needs --accepting=true or --accepting=false
$ store list
s1 accepting 2
s2 closed 1
$ store rule add --domain Example.TEST --pattern ^[a-k] s2
added placement rule 1 s2 example.test ^[a-k]
$ store rule add --pattern ^z s3
! mailstore s3 is not registered; add it with: rookery store add s3
$ store rule add --pattern ([ s1
! invalid placement pattern "(["
$ store add s3
added mailstore s3
$ store rule add s3 --pattern ^z
added placement rule 2 s3 * ^z
$ store rule list
1 s2 example.test ^[a-k]
2 s3 * ^z
$ user add dave@example.test --password-stdin < pw
created dave@example.test
$ user add zoe@example.test --password-stdin < pw
created zoe@example.test
$ user add xavier@example.test --password-stdin < pw
created xavier@example.test
$ user add erin@example.test --password-stdin --mailstore s1 < pw
created erin@example.test
$ user list
alice@example.test s1
bob@example.test s1
carol@example.test s2
dave@example.test s2
erin@example.test s1
xavier@example.test s3
zoe@example.test s3
$ store rule delete 1
deleted placement rule 1
$ store rule delete 1
! placement rule 1 does not exist; see rookery store rule list
$ store rule delete one
! invalid rule ID "one"
$ store rule list
2 s3 * ^z
$ store list
s1 accepting 3
s2 closed 2
s3 accepting 2
$ user list example.test
alice@example.test s1
bob@example.test s1
carol@example.test s2
dave@example.test s2
erin@example.test s1
xavier@example.test s3
zoe@example.test s3
$ store set s1 --accepting=false
mailstore s1 closed
$ store set s3 --accepting=false
mailstore s3 closed
$ user add fay@example.test --password-stdin < pw
! no rule places fay@example.test and no mailstore accepts new accounts
`)
}

func TestStoreUsageErrors(t *testing.T) {
	open, _ := opener(t)
	transcript(t, open, `
		$ store
		!usage store: missing subcommand
		$ store frob
		!usage unknown command "store frob"
		$ store rule
		!usage unknown command "store rule"
		$ store rule frob
		!usage unknown command "store rule"
		$ store add
		!usage store add: wrong number of arguments
		$ store list extra
		!usage store list: wrong number of arguments
		$ store set s1 true
		!usage store set: wrong number of arguments
		$ store rule add --pattern
		!usage store rule add: flag needs an argument: -pattern
		$ store rule add
		!usage store rule add: wrong number of arguments
		$ store rule delete
		!usage store rule delete: wrong number of arguments
	`)
}

package admin

import (
	"errors"
	"flag"
	"io"
	"strings"
)

var errHelp = flag.ErrHelp

// flagSet is a flag.FlagSet that also accepts flags after positional
// arguments ("user add alice@example.test --password-stdin"), which the
// standard package stops at.
type flagSet struct {
	fs   *flag.FlagSet
	args []string // positional arguments, after parse
}

func newFlagSet(name string) *flagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors and usage are reported by Run, once
	return &flagSet{fs: fs}
}

// parse moves every flag (with its value, for non-boolean flags given as
// "--name value") in front of the positional arguments, then parses. "--"
// ends the flags; a lone "-" is positional.
func (f *flagSet) parse(args []string) error {
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			pos = append(pos, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimLeft(a, "-")
		if strings.Contains(name, "=") {
			continue
		}
		if fl := f.fs.Lookup(name); fl != nil && !isBool(fl) && i+1 < len(args) {
			flags = append(flags, args[i+1])
			i++
		}
	}
	if err := f.fs.Parse(flags); err != nil {
		return err
	}
	if f.fs.NArg() > 0 { // cannot happen: every non-flag went to pos
		return errors.New("unexpected argument " + f.fs.Arg(0))
	}
	f.args = pos
	return nil
}

func isBool(fl *flag.Flag) bool {
	b, ok := fl.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// defaults returns the flag descriptions for a usage message.
func (f *flagSet) defaults() string {
	var b strings.Builder
	f.fs.SetOutput(&b)
	f.fs.PrintDefaults()
	f.fs.SetOutput(io.Discard)
	return b.String()
}

// arg returns positional argument i, or "" when there are fewer.
func (f *flagSet) arg(i int) string {
	if i < len(f.args) {
		return f.args[i]
	}
	return ""
}

// bool returns the value of a boolean flag defined by the command.
func (f *flagSet) bool(name string) bool {
	v, _ := f.fs.Lookup(name).Value.(flag.Getter).Get().(bool)
	return v
}

// string returns the value of a string flag defined by the command.
func (f *flagSet) string(name string) string {
	v, _ := f.fs.Lookup(name).Value.(flag.Getter).Get().(string)
	return v
}

package control

import "errors"

// ErrorReport carries an error across the socket with its kind, so that
// the client can give it the type, and so the exit code, it would have
// had locally, and with its fix.
type ErrorReport struct {
	Message string `json:"message"`
	Kind    string `json:"kind"` // one of the Kind… below, or ""
	// Hint is the error's fix, when it knows one.
	Hint string `json:"hint,omitempty"`
}

// The kinds of error a report tells apart; for the command errors,
// Message is the command's path.
const (
	KindUsage      = "usage"
	KindNotFound   = "notfound"
	KindNoExec     = "noexec"
	KindIsDir      = "isdir"
	KindNotRunning = "notrunning"
)

// Report is err as a report of no particular kind, with its Hint.
func Report(err error) ErrorReport {
	r := ErrorReport{Message: err.Error()}
	var h interface{ Hint() string }
	if errors.As(err, &h) {
		r.Hint = h.Hint()
	}
	return r
}

// Err is a report of no particular kind as an error again, still with
// its Hint.
func (r ErrorReport) Err() error {
	if r.Hint != "" {
		return &HintError{Msg: r.Message, Fix: r.Hint}
	}
	return errors.New(r.Message)
}

// HintError is an error that came from another process with its fix.
type HintError struct{ Msg, Fix string }

func (e *HintError) Error() string { return e.Msg }

// Hint says how to fix it.
func (e *HintError) Hint() string { return e.Fix }

package commands

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"text/template"
	"time"

	units "github.com/docker/go-units"
	"golang.org/x/text/width"
)

// templateFuncs are the functions Docker offers in --format templates.
var templateFuncs = template.FuncMap{
	"json":  templateJSON,
	"upper": strings.ToUpper,
	"lower": strings.ToLower,
	"title": strings.Title, //nolint:staticcheck // Docker's own choice
	"join":  strings.Join,
	"split": strings.Split,
	"pad":   func(s string, l, r int) string { return strings.Repeat(" ", l) + s + strings.Repeat(" ", r) },
	"truncate": func(s string, n int) string {
		if len(s) > n {
			return s[:n]
		}
		return s
	},
	"println": fmt.Sprintln,
}

// templateJSON is Docker's json function: no HTML escaping of the value
// itself, no trailing newline.
func templateJSON(v any) (string, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSpace(buf.String()), nil
}

// headerFuncs replace templateFuncs when a table's header row is made:
// each passes the column name through, so `{{upper .ID}}` still heads its
// column with "IMAGE ID", as in Docker.
var headerFuncs = template.FuncMap{
	"json":     func(v string) string { return v },
	"upper":    func(v string) string { return v },
	"lower":    func(v string) string { return v },
	"title":    func(v string) string { return v },
	"join":     func(v string, _ string) string { return v },
	"split":    func(v string, _ string) string { return v },
	"pad":      func(v string, _, _ int) string { return v },
	"truncate": func(v string, _ int) string { return v },
}

// parseTemplate compiles a --format template with Docker's functions.
func parseTemplate(format string) (*template.Template, error) {
	t, err := template.New("format").Funcs(templateFuncs).Parse(format)
	if err != nil {
		return nil, usageErrorf("invalid --format template: %v", err)
	}
	return t, nil
}

// lister prints rows as Docker does: a table with headers by default or
// with "table TEMPLATE", one JSON object per line with "json", or one
// executed template per line otherwise.
type lister struct {
	w       io.Writer
	tmpl    *template.Template
	table   bool
	json    bool
	headers map[string]string
	tw      *tabwriter.Writer
}

// newLister prepares output for format; defaultTable (with or without a
// "table" prefix) is used when format is empty or "table", and headers
// name each field's column.
func newLister(w io.Writer, format, defaultTable string, headers map[string]string) (*lister, error) {
	l := &lister{w: w, headers: headers}
	switch {
	case format == "" || format == "table":
		format, l.table = strings.TrimPrefix(defaultTable, "table"), true
	case format == "json":
		l.json = true
		return l, nil
	case strings.HasPrefix(format, "table"):
		format, l.table = strings.TrimPrefix(format, "table"), true
	}
	format = strings.Trim(format, " ")
	format = strings.ReplaceAll(format, `\t`, "\t")
	format = strings.ReplaceAll(format, `\n`, "\n")
	t, err := parseTemplate(format)
	if err != nil {
		return nil, err
	}
	l.tmpl = t
	if l.table {
		l.tw = tabwriter.NewWriter(w, 10, 1, 3, ' ', 0)
		// Headers come from running the template over the header names.
		var buf bytes.Buffer
		ht, err := t.Clone()
		if err == nil {
			err = ht.Funcs(headerFuncs).Execute(&buf, headerRow(headers))
		}
		if err == nil {
			fmt.Fprintln(l.tw, buf.String())
		}
	}
	return l, nil
}

// headerRow makes {{.Field}} print the field's column header.
type headerRow map[string]string

// Label heads a {{.Label "com.example.key"}} column as Docker does: the
// key's last dotted part, dashes and underscores as spaces.
func (headerRow) Label(name string) string {
	parts := strings.Split(name, ".")
	return strings.NewReplacer("-", " ", "_", " ").Replace(parts[len(parts)-1])
}

// Row prints one item; jsonValue is what `--format json` prints for it
// (item itself when nil).
func (l *lister) Row(item any, jsonValue any) error {
	if jsonValue == nil {
		jsonValue = item
	}
	if l.json {
		b, err := json.Marshal(jsonValue)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(l.w, string(b))
		return err
	}
	var buf bytes.Buffer
	if err := l.tmpl.Execute(&buf, item); err != nil {
		return fmt.Errorf("template parsing error: %w", err)
	}
	out := io.Writer(l.w)
	if l.tw != nil {
		out = l.tw
	}
	_, err := fmt.Fprintln(out, buf.String())
	return err
}

// Flush ends the output.
func (l *lister) Flush() error {
	if l.tw != nil {
		return l.tw.Flush()
	}
	return nil
}

// printJSONOrTemplate prints values for inspect as Docker does: an
// indented JSON array ("[]" for none), or the template once per value.
// The template runs on the typed value first, so fields print as Docker's
// typed structs do (`{{.Config.Cmd}}` is "[sh]"); when that fails, on the
// value's JSON shape, which knows keys a struct may not (container
// inspect's extras).
func printJSONOrTemplate(w io.Writer, format string, values []any) error {
	if format == "" || format == "json" {
		if values == nil {
			values = []any{}
		}
		b, err := json.MarshalIndent(values, "", "    ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(w, string(b))
		return err
	}
	t, err := parseTemplate(strings.ReplaceAll(strings.ReplaceAll(format, `\t`, "\t"), `\n`, "\n"))
	if err != nil {
		return err
	}
	for _, v := range values {
		var buf bytes.Buffer
		if err := t.Execute(&buf, v); err != nil {
			// As Docker: retry on the JSON shape, where a key that is
			// missing there too is an error, not "<no value>".
			buf.Reset()
			generic, jerr := jsonShape(v)
			if jerr != nil {
				return jerr
			}
			strict, cerr := t.Clone()
			if cerr != nil {
				return cerr
			}
			if err := strict.Option("missingkey=error").Execute(&buf, generic); err != nil {
				return fmt.Errorf("template parsing error: %w", err)
			}
		}
		if _, err := fmt.Fprintln(w, buf.String()); err != nil {
			return err
		}
	}
	return nil
}

// jsonShape is v as its JSON decodes into maps and slices, numbers kept
// as written.
func jsonShape(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var generic any
	if err := dec.Decode(&generic); err != nil {
		return nil, err
	}
	return generic, nil
}

// printJSONOrTemplateOne prints a single value: indented JSON for "json",
// else the template executed on the value itself.
func printJSONOrTemplateOne(w io.Writer, format string, v any) error {
	if format == "json" {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(w, string(b))
		return err
	}
	t, err := parseTemplate(strings.ReplaceAll(format, `\n`, "\n"))
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, v); err != nil {
		return fmt.Errorf("format: %w", err)
	}
	_, err = fmt.Fprintln(w, buf.String())
	return err
}

// truncateID is Docker's short id: the first 12 hex digits, without the
// "sha256:" prefix. Anything else ("<missing>") is left alone.
func truncateID(id string) string {
	id = strings.TrimPrefix(id, "sha256:")
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// humanSize is Docker's SIZE column: decimal units, three significant
// digits ("7.8MB", "1.23GB").
func humanSize(n int64) string {
	return units.HumanSizeWithPrecision(float64(n), 3)
}

// createdSince is Docker's CREATED column ("2 weeks ago", "About an hour
// ago"); empty for an unknown time.
func createdSince(t, now time.Time) string {
	if t.IsZero() {
		return ""
	}
	return units.HumanDuration(now.Sub(t)) + " ago"
}

// ellipsis shortens s to at most max display columns, ending in "…" when
// cut, as Docker shortens wide columns (East Asian wide runes count 2).
func ellipsis(s string, max int) string {
	if max <= 0 {
		return ""
	}
	rs := []rune(s)
	if max == 1 {
		if len(rs) == 0 {
			return ""
		}
		return string(rs[0])
	}
	w := 0
	for i, r := range rs {
		cw := 1
		if k := width.LookupRune(r).Kind(); k == width.EastAsianWide || k == width.EastAsianFullwidth {
			cw = 2
		}
		if w+cw > max-1 {
			if displayWidth(rs[i:])+w <= max {
				return s
			}
			return string(rs[:i]) + "…"
		}
		w += cw
	}
	return s
}

func displayWidth(rs []rune) int {
	w := 0
	for _, r := range rs {
		if k := width.LookupRune(r).Kind(); k == width.EastAsianWide || k == width.EastAsianFullwidth {
			w += 2
		} else {
			w++
		}
	}
	return w
}

// marshalRow is how Docker's list rows print as JSON: one object with
// every field, keys sorted, HTML characters escaped ("\u003cnone\u003e").
func marshalRow(fields map[string]string) ([]byte, error) {
	return json.Marshal(fields)
}

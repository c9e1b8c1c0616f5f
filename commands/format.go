package commands

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"text/template"
)

// templateFuncs are the functions Docker offers in --format templates.
var templateFuncs = template.FuncMap{
	"json": func(v any) (string, error) {
		b, err := json.Marshal(v)
		return string(b), err
	},
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
	wrote   bool
}

// newLister prepares output for format; defaultTable is used when format
// is empty or "table", and headers name each field's column.
func newLister(w io.Writer, format, defaultTable string, headers map[string]string) (*lister, error) {
	l := &lister{w: w, headers: headers}
	switch {
	case format == "" || format == "table":
		format, l.table = defaultTable, true
	case format == "json":
		l.json = true
		return l, nil
	case strings.HasPrefix(format, "table "):
		format, l.table = strings.TrimPrefix(format, "table "), true
	}
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
		if err := t.Execute(&buf, headerRow(headers)); err == nil {
			fmt.Fprintln(l.tw, buf.String())
		}
	}
	return l, nil
}

// headerRow makes {{.Field}} print the field's column header.
type headerRow map[string]string

// Row prints one item; jsonValue is what `--format json` prints for it.
func (l *lister) Row(item any, jsonValue any) error {
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
		return fmt.Errorf("format: %w", err)
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

// printJSONOrTemplate prints values for inspect: an indented JSON array,
// or the template once per value.
func printJSONOrTemplate(w io.Writer, format string, values []any) error {
	if format == "" || format == "json" {
		b, err := json.MarshalIndent(values, "", "    ")
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
	for _, v := range values {
		// Templates see the JSON shape (field names as Docker's JSON).
		var generic any
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(b, &generic); err != nil {
			return err
		}
		var buf bytes.Buffer
		if err := t.Execute(&buf, generic); err != nil {
			return fmt.Errorf("format: %w", err)
		}
		fmt.Fprintln(w, buf.String())
	}
	return nil
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

// Command box-kube-codec is the part of `box kube` that links the
// Kubernetes API types (package box/engine/kube/codec). scripts/build
// builds it and embeds it in box, which runs it from memory:
//
//	box-kube-codec decode   YAML on standard input; the documents as JSON on standard output
//	box-kube-codec encode   a JSON array of objects on standard input; YAML on standard output
//
// An error is one line on standard error and exit status 1.
package main

import (
	"fmt"
	"io"
	"os"

	"box/engine/kube/codec"
)

func main() {
	err := fmt.Errorf("usage: box-kube-codec decode|encode")
	if len(os.Args) == 2 {
		var in, out []byte
		if in, err = io.ReadAll(os.Stdin); err == nil {
			if out, err = codec.Run(os.Args[1], in); err == nil {
				_, err = os.Stdout.Write(out)
			}
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

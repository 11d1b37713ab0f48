// Command hostimage builds a test host image: hostimage DIR ARCHIVE.txtar.
package main

import (
	"fmt"
	"os"

	"github.com/tourniquet-ir/tourniquet/internal/hostimage"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: hostimage DIR ARCHIVE.txtar")
		os.Exit(2)
	}
	if err := hostimage.BuildFile(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

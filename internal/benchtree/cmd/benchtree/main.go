// Command benchtree writes a benchmark host tree: benchtree DIR FILES ENVS.
package main

import (
	"fmt"
	"os"
	"strconv"

	"github.com/tourniquet-ir/tourniquet/internal/benchtree"
)

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: benchtree DIR FILES ENVS")
		os.Exit(2)
	}
	files, err1 := strconv.Atoi(os.Args[2])
	envs, err2 := strconv.Atoi(os.Args[3])
	if err1 != nil || err2 != nil {
		fmt.Fprintln(os.Stderr, "FILES and ENVS must be numbers")
		os.Exit(2)
	}
	n, err := benchtree.Generate(os.Args[1], benchtree.Spec{Files: files, Environments: envs})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(n)
}

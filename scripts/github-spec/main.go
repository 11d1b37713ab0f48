// Command github-spec writes the OpenAPI description the GitHub test peer
// serves: GitHub's official description (@octokit/openapi) trimmed to the
// requests Tourniquet sends (collectors/github.Endpoints), webhooks dropped,
// and rewritten where Prism would otherwise skip validation. It reads and
// writes in $TOURNIQUET_GITHUB_PEER (see scripts/testenv/github-peer.sh).
package main

import (
	"fmt"
	"os"

	"github.com/tourniquet-ir/tourniquet/rotators/github/ghtest"
)

func main() {
	out, err := ghtest.PrepareCached(ghtest.PeerDir())
	if err != nil {
		fmt.Fprintln(os.Stderr, "github-spec:", err)
		os.Exit(1)
	}
	fmt.Println(out)
}

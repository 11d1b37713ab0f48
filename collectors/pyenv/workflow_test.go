package pyenv

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestParseWorkflowUsesFixture(t *testing.T) {
	t.Parallel()
	want := []Use{
		{"actions/checkout", "", "v4", 8, "actions/checkout@v4"},
		{"aquasecurity/trivy-action", "", "0.28.0", 10, "aquasecurity/trivy-action@0.28.0"},
		{"aquasecurity/trivy-action", "", "57a97c7e7821a5776cebc9bb87c984fa69cba8f1", 13, "aquasecurity/trivy-action@57a97c7e7821a5776cebc9bb87c984fa69cba8f1"},
		{"checkmarx/kics-github-action", "", "v2", 21, "Checkmarx/kics-github-action@v2"},
		{"aquasecurity/setup-trivy", "", "v0.2.2", 22, "aquasecurity/setup-trivy@v0.2.2"},
		{"octo-org/shared", ".github/workflows/scan.yml", "main", 25, "octo-org/shared/.github/workflows/scan.yml@main"},
		{"github/codeql-action", "init", "v3", 31, "github/codeql-action/init@v3"},
	}
	if got := ParseWorkflowUses(readTestdata(t, "workflows", "ci.yml")); !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%+v\nwant\n%+v", got, want)
	}
}

func TestParseWorkflowUsesShapes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, data string
		want       []Use
	}{
		{"quoted with comment", `- uses: 'a/b@v1' # c`, []Use{{"a/b", "", "v1", 1, "a/b@v1"}}},
		{"double quoted key", `  - "uses": "A/B@v1"`, []Use{{"a/b", "", "v1", 1, "A/B@v1"}}},
		{"hash inside ref is not a comment", `uses: a/b@v1#x`, []Use{{"a/b", "", "v1#x", 1, "a/b@v1#x"}}},
		{"no ref", `uses: a/b`, []Use{{"a/b", "", "", 1, "a/b"}}},
		{"CRLF", "steps:\r\n  - uses: a/b@v1\r\n", []Use{{"a/b", "", "v1", 2, "a/b@v1"}}},
		{"nested list", "- - uses: a/b@v1", []Use{{"a/b", "", "v1", 1, "a/b@v1"}}},
		{"flow mapping, two uses", `- {name: x, uses: "a/b@v1"}` + "\n" + `- { uses: c/d@v2 , with: {x: 1}}`, []Use{{"a/b", "", "v1", 1, "a/b@v1"}, {"c/d", "", "v2", 2, "c/d@v2"}}},
		{"mention in run is ignored", "- run: echo uses: a/b@v1", nil},
		{"folded block scalar", "- run: >-\n    uses: a/b@v1\n  uses: c/d@v2\n", []Use{{"c/d", "", "v2", 3, "c/d@v2"}}},
		{"block scalar then sibling key", "    - run: |\n        uses: x/y@1\n\n      uses: c/d@v2\n", []Use{{"c/d", "", "v2", 4, "c/d@v2"}}},
		{"usesx is not uses", "usesx: a/b@v1\nuses:a/b@v1\n", nil},
		{"local, docker, expression", "uses: ./x\nuses: ../y\nuses: docker://alpine\nuses: DOCKER://x/y\nuses: ${{ x }}\nuses: \"\"\n", nil},
		{"unterminated quote", `uses: "a/b@v1`, nil},
		{"bad owner", `uses: a b/c@v1`, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := ParseWorkflowUses([]byte(tc.data)); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestParseWorkflowUsesCapped(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	for i := 0; i < maxUses+10; i++ {
		fmt.Fprintf(&b, "- uses: a/b@v%d\n", i)
	}
	if got := ParseWorkflowUses([]byte(b.String())); len(got) != maxUses {
		t.Errorf("got %d uses", len(got))
	}
}

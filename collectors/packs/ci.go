package packs

import (
	"fmt"
	"regexp"
	"strings"
)

var (
	fullSHARE = regexp.MustCompile(`^[0-9a-f]{40}$`)
	tagLikeRE = regexp.MustCompile(`^v?[0-9]+(\.[0-9]+)*$`)
)

// Verdict says why a `uses:` ref (tag, branch or commit SHA, as written) is
// bad under the rule, or "" when it is not: a safe ref (exact, or a SHA
// prefix of at least 7 characters either way) wins; then a known malicious
// commit, an exact bad ref, a tag in a bad range, an unpinned branch, and
// (AnyTag) any ref that is not a full commit SHA. Time is not considered:
// whether a tag ref was bad when it ran is the caller's question (the rule's
// window).
func (r *CIRule) Verdict(ref string) string {
	lref := strings.ToLower(ref)
	for _, safe := range r.SafeRefs {
		ls := strings.ToLower(safe)
		if lref == ls || (len(lref) >= 7 && fullSHARE.MatchString(ls) && strings.HasPrefix(ls, lref)) ||
			(len(ls) >= 7 && fullSHARE.MatchString(lref) && strings.HasPrefix(lref, ls)) {
			return ""
		}
	}
	if tag, ok := r.BadSHAs[lref]; ok {
		if tag != "" {
			return "known malicious commit (force-pushed to tag " + tag + ")"
		}
		return "known malicious commit"
	}
	for _, bad := range r.Refs {
		if ref == bad {
			return "compromised ref"
		}
	}
	for _, rg := range r.Ranges {
		if rg.Contains(ref) {
			return fmt.Sprintf("tag in the compromised range %s%s-%s%s (tags were force-pushed to malicious commits; pin a safe commit SHA)", rg.Prefix, rg.From, rg.Prefix, rg.To)
		}
	}
	for _, b := range r.Unpinned {
		if ref == b {
			return "unpinned branch ref that followed the compromised tags"
		}
	}
	if r.AnyTag && !fullSHARE.MatchString(lref) && (tagLikeRE.MatchString(ref) || ref != "") {
		return "every tag of this action was hijacked during the window; pin a verified commit SHA"
	}
	return ""
}

// KnownMalicious reports whether a verdict names a known malicious commit
// (bad at any time, unlike a tag, which was bad only inside the window).
func KnownMalicious(verdict string) bool {
	return strings.HasPrefix(verdict, "known malicious")
}

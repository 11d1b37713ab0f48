package aws

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"

	"github.com/tourniquet-ir/tourniquet/collectors"
	"github.com/tourniquet-ir/tourniquet/rotators"
)

// lookupInterval keeps LookupEvents under its documented limit of two
// requests per second per account and region.
const lookupInterval = 500 * time.Millisecond

// use is one call made with a key, as CloudTrail recorded it.
type use struct {
	Time      time.Time
	Name      string
	Source    string
	IP        string
	UserAgent string
	ErrorCode string
}

// lookupKeyUse pages through LookupEvents for one access key from since.
func (p *Provider) lookupKeyUse(ctx context.Context, c *clients, keyID string, since time.Time, maxPages int) ([]use, error) {
	var out []use
	in := &cloudtrail.LookupEventsInput{
		LookupAttributes: []types.LookupAttribute{{AttributeKey: types.LookupAttributeKeyAccessKeyId, AttributeValue: aws.String(keyID)}},
		StartTime:        aws.Time(since),
		MaxResults:       aws.Int32(50),
	}
	tick := time.NewTicker(lookupInterval)
	defer tick.Stop()
	for page := 0; page < maxPages; page++ {
		var resp *cloudtrail.LookupEventsOutput
		var err error
		for attempt := 0; ; attempt++ {
			resp, err = c.trail.LookupEvents(ctx, in)
			if errCode(err) == "ThrottlingException" && attempt < 5 {
				select {
				case <-ctx.Done():
					return nil, ctx.Err()
				case <-time.After(time.Duration(attempt+1) * time.Second):
				}
				continue
			}
			break
		}
		if err != nil {
			return nil, classify("CloudTrail LookupEvents", err)
		}
		for _, ev := range resp.Events {
			u := use{Time: aws.ToTime(ev.EventTime), Name: aws.ToString(ev.EventName), Source: aws.ToString(ev.EventSource)}
			var detail struct {
				SourceIPAddress string `json:"sourceIPAddress"`
				UserAgent       string `json:"userAgent"`
				ErrorCode       string `json:"errorCode"`
			}
			if json.Unmarshal([]byte(aws.ToString(ev.CloudTrailEvent)), &detail) == nil {
				u.IP, u.UserAgent, u.ErrorCode = detail.SourceIPAddress, detail.UserAgent, detail.ErrorCode
			}
			out = append(out, u)
		}
		if resp.NextToken == nil {
			break
		}
		in.NextToken = resp.NextToken
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-tick.C:
		}
	}
	return out, nil
}

// summary groups uses by source IP and user agent.
type summary struct {
	IP, UserAgent      string
	Calls, Failed      int
	Names              map[string]int
	First, Last        time.Time
	AssumedRoleOrWrite bool
}

func summarize(uses []use) []summary {
	by := map[string]*summary{}
	for _, u := range uses {
		k := u.IP + "\x00" + u.UserAgent
		s := by[k]
		if s == nil {
			s = &summary{IP: u.IP, UserAgent: u.UserAgent, Names: map[string]int{}, First: u.Time, Last: u.Time}
			by[k] = s
		}
		s.Calls++
		if u.ErrorCode != "" {
			s.Failed++
		}
		s.Names[u.Name]++
		if u.Time.Before(s.First) {
			s.First = u.Time
		}
		if u.Time.After(s.Last) {
			s.Last = u.Time
		}
	}
	var out []summary
	for _, s := range by {
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Calls > out[j].Calls || (out[i].Calls == out[j].Calls && out[i].IP < out[j].IP)
	})
	return out
}

func names(m map[string]int) string {
	var parts []string
	for n, c := range m {
		parts = append(parts, fmt.Sprintf("%s×%d", n, c))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

// evidenceAction records how the exposed key was used since the window
// started: the "was it misused?" question, answered from CloudTrail.
type evidenceAction struct{ p *Provider }

func (a evidenceAction) Describe(_ context.Context, rc *rotators.RunContext) (string, error) {
	return fmt.Sprintf("read-only: CloudTrail LookupEvents for %s since %s (at most 2 requests per second)", rc.Credential.Hint, since(rc).Format(time.RFC3339)), nil
}

func since(rc *rotators.RunContext) time.Time {
	if ws := rc.Host.WindowStart; ws != nil {
		return *ws
	}
	return rc.Now().Add(-90 * 24 * time.Hour) // LookupEvents keeps 90 days
}

func (a evidenceAction) Do(ctx context.Context, rc *rotators.RunContext) (rotators.Result, error) {
	keyID, _, err := a.p.exposedKey(rc)
	if err != nil {
		// After delivery the file holds the new key; the exposed key's ID
		// is still known to IAM: find it there by fingerprint.
		if keyID, err = a.p.keyByFP(ctx, rc, rc.Var("old_key_fp")); err != nil {
			return nil, err
		}
	}
	c, err := a.p.operator(ctx, rc)
	if err != nil {
		return nil, err
	}
	uses, err := a.p.lookupKeyUse(ctx, c, keyID, since(rc), 200)
	if err != nil {
		return nil, err
	}
	groups := summarize(uses)
	var fs []collectors.Finding
	var ips []string
	for _, g := range groups {
		first := g.First
		ips = append(ips, g.IP)
		fs = append(fs, collectors.Finding{
			ID: "f-ct-" + fp(keyID + "|" + g.IP + "|" + g.UserAgent)[7:19], Pack: "tourniquet-aws", Rule: "cloudtrail-key-use", Severity: "high",
			Path: "cloudtrail:" + rc.Credential.Hint,
			Detail: fmt.Sprintf("%s used %d times (%d failed) from %s with %q between %s and %s: %s", rc.Credential.Hint, g.Calls, g.Failed, g.IP, g.UserAgent,
				g.First.UTC().Format(time.RFC3339), g.Last.UTC().Format(time.RFC3339), names(g.Names)),
			ObservedAt: &first, Confidence: "confirmed",
		})
	}
	if len(fs) > 0 && rc.Findings != nil {
		if err := rc.Findings(ctx, target(rc), fs); err != nil {
			return nil, err
		}
	}
	return rotators.Result{"events": len(uses), "sources": len(groups), "source_ips": ips}, nil
}

func (a evidenceAction) Reconcile(context.Context, *rotators.RunContext) (rotators.Result, bool, error) {
	return nil, false, nil // read-only
}

// keyByFP finds the user's key with a fingerprint (IDs are not stored).
func (p *Provider) keyByFP(ctx context.Context, rc *rotators.RunContext, want string) (string, error) {
	user, err := p.user(rc)
	if err != nil {
		return "", err
	}
	c, err := p.operator(ctx, rc)
	if err != nil {
		return "", err
	}
	keys, err := p.listKeys(ctx, c, user)
	if err != nil {
		return "", err
	}
	if k, ok := findKey(keys, want); ok {
		return k.ID, nil
	}
	return "", fmt.Errorf("the key %s is no longer among user %s's keys", rc.Var("old_key_hint"), user)
}

// afterDeactivationAction looks for use of the exposed key after it was
// deactivated: success means something still holds a working copy (it should
// not be possible); failures show who is still trying.
type afterDeactivationAction struct{ p *Provider }

func (a afterDeactivationAction) Describe(_ context.Context, rc *rotators.RunContext) (string, error) {
	return fmt.Sprintf("read-only: CloudTrail LookupEvents for %s since its deactivation", orUnknown(rc.Var("old_key_hint"))), nil
}

func (a afterDeactivationAction) Do(ctx context.Context, rc *rotators.RunContext) (rotators.Result, error) {
	at, err := time.Parse(time.RFC3339, rc.Var("deactivated_at"))
	if err != nil {
		return nil, fmt.Errorf("the deactivation time is not recorded")
	}
	keyID, err := a.p.keyByFP(ctx, rc, rc.Var("old_key_fp"))
	if err != nil {
		return rotators.Result{"checked": false, "why": err.Error()}, nil
	}
	c, err := a.p.operator(ctx, rc)
	if err != nil {
		return nil, err
	}
	uses, err := a.p.lookupKeyUse(ctx, c, keyID, at, 20)
	if err != nil {
		return nil, err
	}
	ok, failed := 0, 0
	var fs []collectors.Finding
	for _, g := range summarize(uses) {
		ok += g.Calls - g.Failed
		failed += g.Failed
		sev, what := "high", "attempts with the deactivated key (refused): someone still holds it"
		if g.Calls > g.Failed {
			sev, what = "critical", "SUCCESSFUL calls with the key after its deactivation"
		}
		first := g.First
		fs = append(fs, collectors.Finding{
			ID: "f-ct-after-" + fp(keyID + "|" + g.IP + "|" + g.UserAgent)[7:19], Pack: "tourniquet-aws", Rule: "cloudtrail-use-after-deactivation", Severity: sev,
			Path:   "cloudtrail:" + rc.Var("old_key_hint"),
			Detail: fmt.Sprintf("%s: %d calls from %s with %q (%s)", what, g.Calls, g.IP, g.UserAgent, names(g.Names)), ObservedAt: &first, Confidence: "confirmed",
		})
	}
	if len(fs) > 0 && rc.Findings != nil {
		if err := rc.Findings(ctx, target(rc), fs); err != nil {
			return nil, err
		}
	}
	if ok > 0 {
		rc.Note("WARNING: %d successful calls with the exposed key after its deactivation", ok)
	}
	return rotators.Result{"successful": ok, "refused": failed, "note": "CloudTrail delivers events minutes after the call; run again later to see more"}, nil
}

func (a afterDeactivationAction) Reconcile(context.Context, *rotators.RunContext) (rotators.Result, bool, error) {
	return nil, false, nil
}

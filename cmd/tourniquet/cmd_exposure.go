package main

import (
	"fmt"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tourniquet-ir/tourniquet/internal/sanitize"
	"github.com/tourniquet-ir/tourniquet/store"
)

type exposureOptions struct {
	only string
	host string
}

func newExposureCmd(a *app) *cobra.Command {
	var o exposureOptions
	cmd := &cobra.Command{
		Use:   "exposure",
		Short: "List credentials with their exposure and rotation status",
		Long: `List every credential recorded for the incident: kind, hint, where it was found,
whether its current value existed inside the host's compromised window (exposed,
not_exposed, unknown) and why, and its rotation status. Values are never shown:
only fingerprints (sha256:…) and hints (AKIA…WXYZ).`,
		Example: `  tourniquet exposure
  tourniquet exposure --only exposed --host web-01
  tourniquet exposure --json | jq '.credentials[] | select(.rotation == "pending")'`,
		Args: argsUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch o.only {
			case "", store.Exposed, store.NotExposed, store.Unknown:
			default:
				return withCode(exitUsage, fmt.Errorf("--only must be exposed, not_exposed or unknown"))
			}
			st, err := a.openStore(cmd.Context(), true)
			if err != nil {
				return err
			}
			defer st.Close()
			all, err := st.Credentials(cmd.Context(), a.incident)
			if err != nil {
				return err
			}
			var creds []store.Credential
			for _, c := range all {
				if (o.only == "" || c.Exposure == o.only) && (o.host == "" || c.Host == o.host) {
					creds = append(creds, c)
				}
			}
			rank := map[string]int{store.Exposed: 0, store.Unknown: 1, store.NotExposed: 2}
			sort.SliceStable(creds, func(i, j int) bool { return rank[creds[i].Exposure] < rank[creds[j].Exposure] })
			if a.json {
				if creds == nil {
					creds = []store.Credential{}
				}
				return a.printJSON(struct {
					Schema      string             `json:"schema"`
					Incident    string             `json:"incident"`
					Credentials []store.Credential `json:"credentials"`
				}{"tourniquet.exposure/v1", a.incident, creds})
			}
			a.printExposure(creds)
			return nil
		},
	}
	cmd.Flags().StringVar(&o.only, "only", "", "show only credentials with this exposure (exposed, not_exposed, unknown)")
	cmd.Flags().StringVar(&o.host, "host", "", "show only credentials found on this host")
	return cmd
}

func (a *app) printExposure(creds []store.Credential) {
	if len(creds) == 0 {
		a.outf("No credentials recorded for incident %s.\n", sanitize.Terminal(a.incident))
		return
	}
	s := sanitize.Terminal
	counts := map[string]int{}
	rot := map[string]int{}
	for _, c := range creds {
		counts[c.Exposure]++
		if c.Exposure == store.Exposed {
			rot[c.Rotation]++
		}
	}
	a.outf("%d credentials: %d exposed (%d pending rotation, %d rotated), %d unknown, %d not exposed.\n\n",
		len(creds), counts[store.Exposed], rot[store.RotationPending]+rot[store.RotationInProgress]+rot[store.RotationManualRequired],
		rot[store.RotationRotated], counts[store.Unknown], counts[store.NotExposed])
	tw := tabwriter.NewWriter(a.io.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tEXPOSURE\tROTATION\tKIND\tHINT\tHOST\tLOCATION\tMODIFIED")
	for _, c := range creds {
		where := c.Path
		if c.Detail != "" {
			where += " (" + c.Detail + ")"
		}
		mod := "-"
		if c.ModifiedAt != nil {
			mod = c.ModifiedAt.UTC().Format(time.DateTime)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c.ID, c.Exposure, c.Rotation, s(c.Kind), sanitize.Truncate(c.Hint, 40),
			sanitize.Truncate(c.Host, 30), sanitize.Truncate(where, 70), mod)
	}
	tw.Flush()
	a.outf("\nWhy each is classified: tourniquet exposure --json (field \"reason\").\n")
}

package postmortem_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/tourniquet-ir/tourniquet/postmortem"
	"github.com/tourniquet-ir/tourniquet/postmortem/postmortemtest"
)

// BenchmarkExport measures the acceptance incident (3 hosts, a cluster, 40
// credentials, 12 runs): "all-four" is what the acceptance bounds (< 1 s),
// the whole export in every format, each read from the database, rendered
// and recorded in the chain as the CLI does. "verify" (walking the
// incident's audit chain, which every export does to state its head) is the
// baseline in the same run; the other rows split the cost.
//
//	go test -run '^$' -bench Export -benchtime 20x ./postmortem/
func BenchmarkExport(b *testing.B) {
	ctx := context.Background()
	st := generated(b, postmortemtest.Options{})
	o := options(b)
	b.Run("verify", func(b *testing.B) {
		for b.Loop() {
			if _, err := st.VerifyAudit(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("build", func(b *testing.B) {
		for b.Loop() {
			if _, err := postmortem.Build(ctx, st, o); err != nil {
				b.Fatal(err)
			}
		}
	})
	rep, err := postmortem.Build(ctx, st, o)
	if err != nil {
		b.Fatal(err)
	}
	for _, f := range postmortem.Formats {
		b.Run("render-"+string(f), func(b *testing.B) {
			var buf bytes.Buffer
			for b.Loop() {
				buf.Reset()
				if err := postmortem.Render(&buf, rep, f); err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(int64(buf.Len()))
		})
	}
	b.Run("all-four", func(b *testing.B) {
		var out bytes.Buffer
		for b.Loop() {
			for _, f := range postmortem.Formats {
				out.Reset()
				if _, err := postmortem.Export(ctx, st, o, f, &out, "bench"); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}

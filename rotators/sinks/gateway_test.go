package sinks

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tourniquet-ir/tourniquet/gateway/keystore"
	"github.com/tourniquet-ir/tourniquet/internal/redact"
)

func TestGatewaySinkRoundTrip(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ks, err := keystore.Open(filepath.Join(dir, "keystore.age"), filepath.Join(dir, "keystore.identity"), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	g := Gateway{Store: ks, Ref: "openai-prod"}
	if _, err := g.Current(ctx); !errors.Is(err, ErrNotInKeystore) {
		t.Fatalf("empty keystore: %v", err)
	}
	if err := g.Deliver(ctx, redact.NewSecretString(envNew)); err != nil {
		t.Fatal(err)
	}
	got, err := g.Current(ctx)
	if err != nil || string(got.Reveal()) != envNew {
		t.Fatalf("current: %v", err)
	}
	es, _ := ks.Entries()
	if len(es) != 1 || es[0].Hint != redact.Hint(envNew) {
		t.Errorf("entries %+v", es)
	}
	bad := Gateway{Store: ks, Ref: "has space"}
	err = bad.Deliver(ctx, redact.NewSecretString(envNew))
	if err == nil || strings.Contains(err.Error(), envNew) {
		t.Errorf("bad ref: %v", err)
	}
}

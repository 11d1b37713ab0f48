package sinks

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"

	"github.com/tourniquet-ir/tourniquet/internal/redact"
)

// Keystore is what the gateway sink needs of gateway/keystore.Store: the
// consumer-side interface, so that this package does not open keystores.
type Keystore interface {
	Put(ctx context.Context, ref string, v redact.Secret) error
	Get(ref string) (redact.Secret, bool, error)
}

// ErrNotInKeystore: the keystore holds nothing under the ref.
var ErrNotInKeystore = errors.New("no key under this reference in the gateway keystore")

// Gateway delivers a provider key to the embedded gateway's encrypted
// keystore under Ref (--param gateway_ref=NAME), replacing what was there,
// and reads it back. The gateway picks the change up from the keystore's
// version; switching a route to the new key is the gateway's own verified
// re-routing, not this sink's.
type Gateway struct {
	Store Keystore
	Ref   string
}

// Describe names the sink for plans and results.
func (g Gateway) Describe() string { return "gateway keystore entry " + g.Ref }

// Deliver puts v under Ref and confirms the keystore returns it.
func (g Gateway) Deliver(ctx context.Context, v redact.Secret) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if g.Store == nil || g.Ref == "" {
		return errors.New("gateway sink: a keystore and a reference are required")
	}
	if err := g.Store.Put(ctx, g.Ref, v); err != nil {
		return fmt.Errorf("deliver to %s: %w", g.Describe(), err)
	}
	got, err := g.Current(ctx)
	if err != nil {
		return err
	}
	if subtle.ConstantTimeCompare(got.Reveal(), v.Reveal()) != 1 {
		return fmt.Errorf("deliver to %s: the keystore does not read back the new key", g.Describe())
	}
	return nil
}

// Current returns the key under Ref.
func (g Gateway) Current(ctx context.Context) (redact.Secret, error) {
	if err := ctx.Err(); err != nil {
		return redact.Secret{}, err
	}
	if g.Store == nil {
		return redact.Secret{}, errors.New("gateway sink: no keystore")
	}
	v, ok, err := g.Store.Get(g.Ref)
	if err != nil {
		return redact.Secret{}, fmt.Errorf("read %s: %w", g.Describe(), err)
	}
	if !ok {
		return redact.Secret{}, fmt.Errorf("read %s: %w", g.Describe(), ErrNotInKeystore)
	}
	return v, nil
}

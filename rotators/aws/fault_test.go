package aws

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/tourniquet-ir/tourniquet/internal/faultinject"
	"github.com/tourniquet-ir/tourniquet/playbooks"
	"github.com/tourniquet-ir/tourniquet/store"
)

// TestAccessKeyRotationThroughFaults: every kind of fault, injected into
// 30% of the AWS requests (seeded) of the access key playbook, is retried
// (by the SDK or the engine) or pauses the run; resuming ends as a clean
// run does: exactly one new active key, delivered and working, the exposed
// key gone, touched only after the new one was verified.
func TestAccessKeyRotationThroughFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("starts moto per case")
	}
	t.Parallel()
	for _, k := range faultinject.All {
		for _, seed := range []int64{1, 2} {
			t.Run(fmt.Sprintf("%s/%d", k, seed), func(t *testing.T) {
				t.Parallel()
				ctx := context.Background()
				user := fmt.Sprintf("f%d%d", k, seed)
				e := newEnv(t, user)
				ft := &faultinject.Transport{Schedule: faultinject.Random(seed*10+int64(k), 0.3, k, nil)}
				e.provider = New(Options{Load: func(ctx context.Context, creds aws.CredentialsProvider) (aws.Config, error) {
					cfg := e.proxy.AWSConfig(ctx, e.adminID, e.adminSecret)
					if creds != nil {
						cfg.Credentials = creds
					}
					cfg.Retryer = fastRetryer
					cfg.HTTPClient = &http.Client{Transport: ft}
					return cfg, nil
				}})
				eng := func() *playbooks.Engine {
					en := e.engine()
					en.Sleep = func(context.Context, time.Duration) error { return nil }
					return en
				}
				pb, _ := playbooks.Find("aws-access-key")
				id, state, err := eng().Start(ctx, "default", pb, e.credID, map[string]any{"verify_timeout": "20s"})
				resumes := 0
				for state == store.RunPaused && resumes < 40 {
					resumes++
					state, err = eng().Resume(ctx, id)
				}
				if state != store.RunDone {
					t.Fatalf("run ended %s after %d resumes: %v", state, resumes, err)
				}
				e.assertRotated(user)
				e.oldTouchedAfterVerify()
				t.Logf("faults %d, resumes %d", ft.Total(), resumes)
			})
		}
	}
}

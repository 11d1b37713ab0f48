package aws

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/tourniquet-ir/tourniquet/internal/redact"
	"github.com/tourniquet-ir/tourniquet/playbooks"
	"github.com/tourniquet-ir/tourniquet/rotators/aws/awstest"
	"github.com/tourniquet-ir/tourniquet/store"
)

// BenchmarkRotate100Keys rotates the access keys of 100 IAM users through
// the whole playbook (plan, CloudTrail evidence, create, deliver, verify,
// deactivate, check, delete) against moto behind the CloudTrail proxy, 8 runs
// at a time, with one database. It reports the wall time of all 100
// (ns/op) and the AWS requests each rotation made.
//
//	go test -run XXX -bench Rotate100Keys -benchtime 1x ./rotators/aws/
func BenchmarkRotate100Keys(b *testing.B) {
	const users, concurrency = 100, 8
	ctx := context.Background()
	moto := awstest.StartMoto(b)
	proxy := awstest.NewProxy(b, moto.URL)
	proxy.SetLookupLimiter(nil) // one account's limit would serialise 100 runs; measured separately
	adminID, adminSecret := proxy.Bootstrap(ctx, b, "admin")
	pb, err := playbooks.Find("aws-access-key")
	if err != nil {
		b.Fatal(err)
	}
	provider := New(Options{Load: func(ctx context.Context, creds aws.CredentialsProvider) (aws.Config, error) {
		cfg := proxy.AWSConfig(ctx, adminID, adminSecret)
		if creds != nil {
			cfg.Credentials = creds
		}
		return cfg, nil
	}})
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		b.StopTimer()
		dir := b.TempDir()
		st, err := store.Open(ctx, filepath.Join(dir, "t.db"))
		if err != nil {
			b.Fatal(err)
		}
		var creds []string
		ws := time.Now().Add(-time.Hour)
		for i := 0; i < users; i++ {
			user := fmt.Sprintf("bench-%d-%03d", n, i)
			id, sec := proxy.Bootstrap(ctx, b, user)
			file := filepath.Join(dir, user, ".aws", "credentials")
			if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
				b.Fatal(err)
			}
			if err := os.WriteFile(file, []byte("[default]\naws_access_key_id = "+id+"\naws_secret_access_key = "+sec+"\n"), 0o600); err != nil {
				b.Fatal(err)
			}
			credID := fmt.Sprintf("c-%03d", i)
			err := st.Update(ctx, func(tx *store.Tx) error {
				inc, err := tx.EnsureIncident(ctx, "default")
				if err != nil {
					return err
				}
				hid, err := tx.UpsertHost(ctx, inc, store.Host{Name: "fleet", Root: "/", WindowStart: &ws, WindowOpen: true})
				if err != nil {
					return err
				}
				s := redact.NewSecretString(sec)
				_, err = tx.UpsertCredential(ctx, hid, store.Credential{ID: credID, Kind: "aws-access-key", Path: file, Detail: "profile default",
					Fingerprint: s.Fingerprint(), Hint: redact.Hint(id)})
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
			creds = append(creds, credID)
		}
		before := proxy.TotalCalls()
		b.StartTimer()
		start := time.Now()
		jobs := make(chan string)
		var wg sync.WaitGroup
		var mu sync.Mutex
		var failures []error
		for w := 0; w < concurrency; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for c := range jobs {
					e := &playbooks.Engine{Store: st, Actions: provider.Actions(), Yes: true}
					if _, state, err := e.Start(ctx, "default", pb, c, map[string]any{"verify_timeout": "30s"}); err != nil || state != store.RunDone {
						mu.Lock()
						failures = append(failures, fmt.Errorf("%s: %s %v", c, state, err))
						mu.Unlock()
					}
				}
			}()
		}
		for _, c := range creds {
			jobs <- c
		}
		close(jobs)
		wg.Wait()
		elapsed := time.Since(start)
		b.StopTimer()
		if len(failures) > 0 {
			b.Fatalf("%d rotations failed, first: %v", len(failures), failures[0])
		}
		calls := proxy.TotalCalls() - before
		b.ReportMetric(float64(calls)/users, "req/key")
		b.ReportMetric(elapsed.Seconds()/users*concurrency, "s/rotation")
		st.Close()
		b.StartTimer()
	}
}

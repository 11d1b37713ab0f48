package awstest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

// env is one moto + proxy with a bootstrapped operator.
type env struct {
	p     *Proxy
	moto  *Moto
	admin aws.Config // the operator's key
}

func newEnv(t *testing.T) env {
	t.Helper()
	t.Parallel()
	m := StartMoto(t)
	p := NewProxy(t, m.URL)
	id, secret := p.Bootstrap(t.Context(), t, "operator")
	return env{p: p, moto: m, admin: p.AWSConfig(t.Context(), id, secret)}
}

// newKey creates user (if needed) and an access key for it through the proxy
// with the operator's key, as a rotator would.
func (e env) newKey(t *testing.T, user string) aws.Config {
	t.Helper()
	ctx := t.Context()
	c := iam.NewFromConfig(e.admin)
	if _, err := c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(user)}); err != nil {
		if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(user)}); err != nil {
			t.Fatalf("CreateUser %s: %v", user, err)
		}
	}
	out, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(user)})
	if err != nil {
		t.Fatalf("CreateAccessKey %s: %v", user, err)
	}
	return e.p.AWSConfig(ctx, *out.AccessKey.AccessKeyId, *out.AccessKey.SecretAccessKey)
}

func keyID(t *testing.T, cfg aws.Config) string {
	t.Helper()
	c, err := cfg.Credentials.Retrieve(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return c.AccessKeyID
}

// Clients that surface the first answer instead of retrying it.
var (
	stsNoRetry = func(o *sts.Options) { o.Retryer = aws.NopRetryer{} }
	iamNoRetry = func(o *iam.Options) { o.Retryer = aws.NopRetryer{} }
	smNoRetry  = func(o *secretsmanager.Options) { o.Retryer = aws.NopRetryer{} }
	ctNoRetry  = func(o *cloudtrail.Options) { o.Retryer = aws.NopRetryer{} }
)

// wantAPIError fails unless err is an AWS API error with code and HTTP status.
func wantAPIError(t *testing.T, err error, code string, status int) {
	t.Helper()
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("error = %v, want API error %s", err, code)
	}
	if apiErr.ErrorCode() != code {
		t.Fatalf("error code = %q (%v), want %q", apiErr.ErrorCode(), err, code)
	}
	var respErr *awshttp.ResponseError
	if status != 0 && (!errors.As(err, &respErr) || respErr.HTTPStatusCode() != status) {
		t.Fatalf("error %v: want HTTP %d", err, status)
	}
}

func callerIdentity(t *testing.T, cfg aws.Config) error {
	t.Helper()
	_, err := sts.NewFromConfig(cfg, stsNoRetry).GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{})
	return err
}

func TestStartMotoStopsProcessGroup(t *testing.T) {
	t.Parallel()
	var m *Moto
	t.Run("start", func(t *testing.T) {
		m = StartMoto(t)
		resp, err := http.Get(m.URL + "/moto-api/")
		if err != nil {
			t.Fatalf("moto does not answer: %v", err)
		}
		resp.Body.Close()
	})
	if m == nil {
		t.Skip("moto_server did not start")
	}
	// The subtest's cleanup has run: the process must be gone and the port closed.
	select {
	case <-m.done:
	case <-time.After(10 * time.Second):
		t.Fatal("moto_server still running after cleanup")
	}
	if err := syscall.Kill(-m.cmd.Process.Pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("process group %d: kill(0) = %v, want ESRCH", m.cmd.Process.Pid, err)
	}
	if resp, err := http.Get(m.URL + "/moto-api/"); err == nil {
		resp.Body.Close()
		t.Errorf("%s still answers after cleanup", m.URL)
	}
}

func TestAccessKeyStatusEnforced(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	admin := iam.NewFromConfig(e.admin)

	app := e.newKey(t, "app")
	appKey := keyID(t, app)
	out, err := sts.NewFromConfig(app).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("GetCallerIdentity with new key: %v", err)
	}
	if want := "arn:aws:iam::123456789012:user/app"; aws.ToString(out.Arn) != want {
		t.Errorf("Arn = %s, want %s", aws.ToString(out.Arn), want)
	}

	setStatus := func(s iamtypes.StatusType) {
		t.Helper()
		if _, err := admin.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{
			UserName: aws.String("app"), AccessKeyId: aws.String(appKey), Status: s,
		}); err != nil {
			t.Fatalf("UpdateAccessKey %s: %v", s, err)
		}
	}

	setStatus(iamtypes.StatusTypeInactive)
	wantAPIError(t, callerIdentity(t, app), "InvalidClientTokenId", http.StatusForbidden)
	_, err = iam.NewFromConfig(app, iamNoRetry).ListAccessKeys(ctx, &iam.ListAccessKeysInput{})
	wantAPIError(t, err, "InvalidClientTokenId", http.StatusForbidden)
	_, err = secretsmanager.NewFromConfig(app, smNoRetry).ListSecrets(ctx, &secretsmanager.ListSecretsInput{})
	wantAPIError(t, err, "UnrecognizedClientException", http.StatusBadRequest)
	_, err = cloudtrail.NewFromConfig(app, ctNoRetry).LookupEvents(ctx, &cloudtrail.LookupEventsInput{})
	wantAPIError(t, err, "UnrecognizedClientException", http.StatusBadRequest)

	setStatus(iamtypes.StatusTypeActive)
	if err := callerIdentity(t, app); err != nil {
		t.Fatalf("reactivated key refused: %v", err)
	}

	// IAM allows two access keys per user; moto enforces it with 409 LimitExceeded.
	second := e.newKey(t, "app")
	_, err = admin.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("app")})
	wantAPIError(t, err, "LimitExceeded", http.StatusConflict)
	var limit *iamtypes.LimitExceededException
	if !errors.As(err, &limit) {
		t.Errorf("third key error %T is not *types.LimitExceededException", err)
	}

	if _, err := admin.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{
		UserName: aws.String("app"), AccessKeyId: aws.String(appKey),
	}); err != nil {
		t.Fatalf("DeleteAccessKey: %v", err)
	}
	wantAPIError(t, callerIdentity(t, app), "InvalidClientTokenId", http.StatusForbidden)
	if err := callerIdentity(t, second); err != nil {
		t.Errorf("the other key is refused: %v", err)
	}

	// The reason the proxy exists: moto itself still accepts the deleted key.
	direct := app.Copy()
	direct.BaseEndpoint = aws.String(e.moto.URL)
	if err := callerIdentity(t, direct); err != nil {
		t.Errorf("moto now refuses deleted keys (%v): the proxy's enforcement may be redundant", err)
	}

	// Refusals are recorded with their error code.
	var refused int
	for _, ev := range e.p.Events() {
		if ev.AccessKeyID == appKey && ev.ErrorCode == "InvalidClientTokenId" {
			refused++
		}
	}
	if refused != 3 {
		t.Errorf("%d InvalidClientTokenId events for the app key, want 3", refused)
	}
}

func TestPropagationDelay(t *testing.T) {
	e := newEnv(t)
	const delay = 700 * time.Millisecond
	old := e.newKey(t, "before")
	e.p.SetPropagationDelay(delay)

	created := time.Now()
	app := e.newKey(t, "app")
	wantAPIError(t, callerIdentity(t, app), "InvalidClientTokenId", http.StatusForbidden)
	if err := callerIdentity(t, old); err != nil {
		t.Errorf("key created before SetPropagationDelay refused: %v", err)
	}

	var err error
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		if err = callerIdentity(t, app); err == nil {
			break
		}
		wantAPIError(t, err, "InvalidClientTokenId", http.StatusForbidden)
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("key still refused 10s after creation: %v", err)
	}
	if waited := time.Since(created); waited < delay {
		t.Errorf("key accepted after %v, want >= %v", waited, delay)
	}
	if n := e.p.Calls("GetCallerIdentity"); n < 3 {
		t.Errorf("Calls(GetCallerIdentity) = %d, want >= 3", n)
	}
}

func TestPropagationDelayFakeClock(t *testing.T) {
	e := newEnv(t)
	var mu sync.Mutex
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	e.p.SetClock(func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }

	e.p.SetPropagationDelay(10 * time.Second)
	app := e.newKey(t, "app")
	advance(9 * time.Second)
	wantAPIError(t, callerIdentity(t, app), "InvalidClientTokenId", http.StatusForbidden)
	advance(time.Second)
	if err := callerIdentity(t, app); err != nil {
		t.Fatalf("key refused once the delay passed: %v", err)
	}
}

func TestFailNext(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()

	t.Run("SDK retries a transient 503", func(t *testing.T) {
		e.p.FailNext("GetCallerIdentity", http.StatusServiceUnavailable, "ServiceUnavailable", 1)
		before := e.p.Calls("GetCallerIdentity")
		if _, err := sts.NewFromConfig(e.admin).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
			t.Fatalf("GetCallerIdentity after one 503: %v", err)
		}
		if n := e.p.Calls("GetCallerIdentity") - before; n != 2 {
			t.Errorf("%d calls, want 2 (fault + retry)", n)
		}
		var codes []string
		for _, ev := range e.p.Events() {
			if ev.Name == "GetCallerIdentity" {
				codes = append(codes, ev.ErrorCode)
			}
		}
		if want := []string{"ServiceUnavailable", ""}; !slices.Equal(codes, want) {
			t.Errorf("recorded error codes %q, want %q", codes, want)
		}
	})

	t.Run("injected failure has no effect", func(t *testing.T) {
		c := iam.NewFromConfig(e.admin)
		if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("nokey")}); err != nil {
			t.Fatal(err)
		}
		e.p.FailNext("CreateAccessKey", http.StatusInternalServerError, "InternalFailure", 1)
		_, err := iam.NewFromConfig(e.admin, iamNoRetry).CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("nokey")})
		wantAPIError(t, err, "InternalFailure", http.StatusInternalServerError)
		keys, err := c.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("nokey")})
		if err != nil {
			t.Fatal(err)
		}
		if len(keys.AccessKeyMetadata) != 0 {
			t.Errorf("%d keys exist after an injected failure, want 0", len(keys.AccessKeyMetadata))
		}
	})

	t.Run("faults persist for n calls and queue", func(t *testing.T) {
		e.p.FailNext("ListUsers", http.StatusBadRequest, "Throttling", 2)
		e.p.FailNext("ListUsers", http.StatusServiceUnavailable, "ServiceUnavailable", 1)
		c := iam.NewFromConfig(e.admin, iamNoRetry)
		for _, want := range []struct {
			code   string
			status int
		}{{"Throttling", 400}, {"Throttling", 400}, {"ServiceUnavailable", 503}} {
			_, err := c.ListUsers(ctx, &iam.ListUsersInput{})
			wantAPIError(t, err, want.code, want.status)
		}
		if _, err := c.ListUsers(ctx, &iam.ListUsersInput{}); err != nil {
			t.Errorf("fourth ListUsers: %v", err)
		}
	})

	t.Run("JSON protocol", func(t *testing.T) {
		e.p.FailNext("CreateSecret", http.StatusBadRequest, "ThrottlingException", 1)
		_, err := secretsmanager.NewFromConfig(e.admin, smNoRetry).CreateSecret(ctx, &secretsmanager.CreateSecretInput{
			Name: aws.String("db"), SecretString: aws.String("s3cr3t"),
		})
		wantAPIError(t, err, "ThrottlingException", http.StatusBadRequest)

		e.p.SetLookupLimiter(nil)
		e.p.FailNext("LookupEvents", http.StatusBadRequest, "ThrottlingException", 1)
		ct := cloudtrail.NewFromConfig(e.admin, ctNoRetry)
		_, err = ct.LookupEvents(ctx, &cloudtrail.LookupEventsInput{})
		wantAPIError(t, err, "ThrottlingException", http.StatusBadRequest)
		if _, err := ct.LookupEvents(ctx, &cloudtrail.LookupEventsInput{}); err != nil {
			t.Errorf("second LookupEvents: %v", err)
		}
	})
}

func TestDropNext(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	c := iam.NewFromConfig(e.admin)
	countKeys := func(user string) int {
		t.Helper()
		out, err := c.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String(user)})
		if err != nil {
			t.Fatal(err)
		}
		return len(out.AccessKeyMetadata)
	}

	t.Run("the call takes effect, the caller never hears", func(t *testing.T) {
		if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("lost")}); err != nil {
			t.Fatal(err)
		}
		e.p.DropNext("CreateAccessKey", 1)
		_, err := iam.NewFromConfig(e.admin, iamNoRetry).CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("lost")})
		if err == nil {
			t.Fatal("CreateAccessKey succeeded through a dropped connection")
		}
		var apiErr smithy.APIError
		if errors.As(err, &apiErr) {
			t.Fatalf("got API error %v, want a connection error", err)
		}
		if n := countKeys("lost"); n != 1 {
			t.Errorf("%d keys after the dropped call, want 1", n)
		}
		var created []Event
		for _, ev := range e.p.Events() {
			if ev.Name == "CreateAccessKey" && slices.Contains(ev.Resources, Resource{"AWS::IAM::User", "lost"}) {
				created = append(created, ev)
			}
		}
		if len(created) != 1 || created[0].ErrorCode != "" {
			t.Errorf("CreateAccessKey events %+v, want one successful", created)
		}
	})

	t.Run("the SDK retries and orphans a key", func(t *testing.T) {
		if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("retried")}); err != nil {
			t.Fatal(err)
		}
		before := e.p.Calls("CreateAccessKey")
		e.p.DropNext("CreateAccessKey", 1)
		out, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("retried")})
		if err != nil {
			t.Fatalf("CreateAccessKey with default retries: %v", err)
		}
		if n := e.p.Calls("CreateAccessKey") - before; n != 2 {
			t.Errorf("%d CreateAccessKey calls, want 2", n)
		}
		if n := countKeys("retried"); n != 2 {
			t.Errorf("%d keys, want 2 (one orphaned by the lost answer)", n)
		}
		if err := callerIdentity(t, e.p.AWSConfig(ctx, *out.AccessKey.AccessKeyId, *out.AccessKey.SecretAccessKey)); err != nil {
			t.Errorf("returned key refused: %v", err)
		}
	})
}

func TestLookupEvents(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	e.p.SetLookupLimiter(nil) // throttling has its own test
	app := e.newKey(t, "app")
	appKey := keyID(t, app)

	// Four calls signed with the app key, across three services.
	if _, err := sts.NewFromConfig(app).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatal(err)
	}
	if _, err := iam.NewFromConfig(app).ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("app")}); err != nil {
		t.Fatal(err)
	}
	sm := secretsmanager.NewFromConfig(app)
	if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("db"), SecretString: aws.String("hunter2")}); err != nil {
		t.Fatal(err)
	}
	_, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("missing")})
	wantAPIError(t, err, "ResourceNotFoundException", http.StatusNotFound)

	ct := cloudtrail.NewFromConfig(e.admin, ctNoRetry)
	byKey := &cloudtrail.LookupEventsInput{LookupAttributes: []cttypes.LookupAttribute{{
		AttributeKey: cttypes.LookupAttributeKeyAccessKeyId, AttributeValue: aws.String(appKey),
	}}}
	out, err := ct.LookupEvents(ctx, byKey)
	if err != nil {
		t.Fatalf("LookupEvents: %v", err)
	}
	if out.NextToken != nil {
		t.Errorf("NextToken %q for a complete answer", *out.NextToken)
	}
	var names []string
	for _, ev := range out.Events {
		names = append(names, aws.ToString(ev.EventName))
	}
	if want := []string{"GetSecretValue", "CreateSecret", "ListAccessKeys", "GetCallerIdentity"}; !slices.Equal(names, want) {
		t.Fatalf("events %q, want newest first %q", names, want)
	}
	for i := 1; i < len(out.Events); i++ {
		if out.Events[i].EventTime.After(*out.Events[i-1].EventTime) {
			t.Errorf("event %d is newer than event %d", i, i-1)
		}
	}

	t.Run("event fields", func(t *testing.T) {
		ev := out.Events[0]
		if aws.ToString(ev.EventSource) != "secretsmanager.amazonaws.com" || aws.ToString(ev.ReadOnly) != "true" ||
			aws.ToString(ev.Username) != "app" || aws.ToString(ev.AccessKeyId) != appKey {
			t.Errorf("GetSecretValue event: source %s readOnly %s user %s key %s", aws.ToString(ev.EventSource),
				aws.ToString(ev.ReadOnly), aws.ToString(ev.Username), aws.ToString(ev.AccessKeyId))
		}
		if got := aws.ToString(out.Events[1].ReadOnly); got != "false" {
			t.Errorf("CreateSecret ReadOnly = %q, want false", got)
		}
		if got := aws.ToString(out.Events[2].EventSource); got != "iam.amazonaws.com" {
			t.Errorf("ListAccessKeys source = %q", got)
		}
		var rec struct {
			EventVersion string `json:"eventVersion"`
			UserIdentity struct {
				Type, AccessKeyID, UserName string
			} `json:"userIdentity"`
			EventTime       string `json:"eventTime"`
			EventSource     string `json:"eventSource"`
			EventName       string `json:"eventName"`
			AWSRegion       string `json:"awsRegion"`
			SourceIPAddress string `json:"sourceIPAddress"`
			UserAgent       string `json:"userAgent"`
			ErrorCode       string `json:"errorCode"`
		}
		if err := json.Unmarshal([]byte(aws.ToString(ev.CloudTrailEvent)), &rec); err != nil {
			t.Fatalf("CloudTrailEvent: %v", err)
		}
		if rec.UserIdentity.AccessKeyID != appKey || rec.UserIdentity.UserName != "app" || rec.UserIdentity.Type != "IAMUser" ||
			rec.EventName != "GetSecretValue" || rec.EventSource != "secretsmanager.amazonaws.com" ||
			rec.AWSRegion != "us-east-1" || rec.SourceIPAddress != "127.0.0.1" ||
			!strings.Contains(rec.UserAgent, "aws-sdk-go-v2") || rec.ErrorCode != "ResourceNotFoundException" ||
			rec.EventVersion == "" {
			t.Errorf("CloudTrailEvent = %+v", rec)
		}
		if at, err := time.Parse(time.RFC3339, rec.EventTime); err != nil || !at.Equal(*ev.EventTime) {
			t.Errorf("eventTime %q (%v) != EventTime %v", rec.EventTime, err, ev.EventTime)
		}
		if strings.Contains(aws.ToString(ev.CloudTrailEvent), "hunter2") || strings.Contains(aws.ToString(out.Events[1].CloudTrailEvent), "hunter2") {
			t.Error("a secret value reached CloudTrail")
		}
	})

	t.Run("pagination", func(t *testing.T) {
		in := *byKey
		in.MaxResults = aws.Int32(2)
		var pages [][]string
		pager := cloudtrail.NewLookupEventsPaginator(ct, &in)
		for pager.HasMorePages() {
			page, err := pager.NextPage(ctx)
			if err != nil {
				t.Fatalf("page %d: %v", len(pages)+1, err)
			}
			var p []string
			for _, ev := range page.Events {
				p = append(p, aws.ToString(ev.EventName))
			}
			pages = append(pages, p)
		}
		want := [][]string{{"GetSecretValue", "CreateSecret"}, {"ListAccessKeys", "GetCallerIdentity"}}
		if !slices.EqualFunc(pages, want, slices.Equal) {
			t.Errorf("pages %q, want %q", pages, want)
		}

		// Events recorded between pages do not shift the next page.
		first, err := ct.LookupEvents(ctx, &in)
		if err != nil {
			t.Fatal(err)
		}
		if err := callerIdentity(t, app); err != nil {
			t.Fatal(err)
		}
		in.NextToken = first.NextToken
		second, err := ct.LookupEvents(ctx, &in)
		if err != nil {
			t.Fatal(err)
		}
		// An offset-based token would repeat CreateSecret here.
		if got := aws.ToString(second.Events[0].EventName); got != "ListAccessKeys" {
			t.Errorf("second page starts with %s, want ListAccessKeys", got)
		}
	})

	t.Run("filters", func(t *testing.T) {
		lookup := func(key cttypes.LookupAttributeKey, value string) []string {
			t.Helper()
			out, err := ct.LookupEvents(ctx, &cloudtrail.LookupEventsInput{LookupAttributes: []cttypes.LookupAttribute{{
				AttributeKey: key, AttributeValue: aws.String(value),
			}}})
			if err != nil {
				t.Fatalf("LookupEvents %s=%s: %v", key, value, err)
			}
			var names []string
			for _, ev := range out.Events {
				names = append(names, aws.ToString(ev.EventName)+"/"+aws.ToString(ev.Username))
			}
			return names
		}
		for _, tc := range []struct {
			key   cttypes.LookupAttributeKey
			value string
			want  []string
		}{
			{cttypes.LookupAttributeKeyEventName, "CreateSecret", []string{"CreateSecret/app"}},
			{cttypes.LookupAttributeKeyEventSource, "sts.amazonaws.com", []string{"GetCallerIdentity/app", "GetCallerIdentity/app"}},
			{cttypes.LookupAttributeKeyUsername, "operator", []string{"CreateAccessKey/operator", "CreateUser/operator", "GetUser/operator"}},
			{cttypes.LookupAttributeKeyResourceName, appKey, []string{"CreateAccessKey/operator"}},
			{cttypes.LookupAttributeKeyResourceType, "AWS::SecretsManager::Secret", []string{"GetSecretValue/app", "CreateSecret/app"}},
			{cttypes.LookupAttributeKeyReadOnly, "false", []string{"CreateSecret/app", "CreateAccessKey/operator", "CreateUser/operator"}},
		} {
			if got := lookup(tc.key, tc.value); !slices.Equal(got, tc.want) {
				t.Errorf("%s=%s: %q, want %q", tc.key, tc.value, got, tc.want)
			}
		}
		evs := e.p.Events()
		if got := lookup(cttypes.LookupAttributeKeyEventId, evs[0].ID); len(got) != 1 {
			t.Errorf("EventId lookup: %q", got)
		}
	})

	t.Run("time range", func(t *testing.T) {
		out, err := ct.LookupEvents(ctx, &cloudtrail.LookupEventsInput{
			StartTime: aws.Time(time.Now().Add(time.Hour)), EndTime: aws.Time(time.Now().Add(2 * time.Hour)),
		})
		if err != nil || len(out.Events) != 0 {
			t.Errorf("future window: %d events, %v", len(out.Events), err)
		}
		out, err = ct.LookupEvents(ctx, &cloudtrail.LookupEventsInput{
			StartTime: aws.Time(time.Now().Add(-time.Hour)), EndTime: aws.Time(time.Now().Add(time.Hour)),
		})
		if err != nil || len(out.Events) != len(e.p.Events()) {
			t.Errorf("window around now: %d events, want %d, %v", len(out.Events), len(e.p.Events()), err)
		}
	})

	t.Run("argument errors", func(t *testing.T) {
		attr := func(k, v string) cttypes.LookupAttribute {
			return cttypes.LookupAttribute{AttributeKey: cttypes.LookupAttributeKey(k), AttributeValue: aws.String(v)}
		}
		otherQuery, err := ct.LookupEvents(ctx, &cloudtrail.LookupEventsInput{MaxResults: aws.Int32(1)})
		if err != nil || otherQuery.NextToken == nil {
			t.Fatalf("LookupEvents MaxResults 1: token %v, %v", otherQuery.NextToken, err)
		}
		for _, tc := range []struct {
			name string
			in   cloudtrail.LookupEventsInput
			code string
		}{
			{"two attributes", cloudtrail.LookupEventsInput{LookupAttributes: []cttypes.LookupAttribute{
				attr("EventName", "CreateSecret"), attr("Username", "app")}}, "InvalidLookupAttributesException"},
			{"unknown attribute", cloudtrail.LookupEventsInput{LookupAttributes: []cttypes.LookupAttribute{
				attr("Colour", "blue")}}, "InvalidLookupAttributesException"},
			{"empty value", cloudtrail.LookupEventsInput{LookupAttributes: []cttypes.LookupAttribute{
				attr("EventName", "")}}, "InvalidLookupAttributesException"},
			{"start after end", cloudtrail.LookupEventsInput{
				StartTime: aws.Time(time.Now()), EndTime: aws.Time(time.Now().Add(-time.Minute))}, "InvalidTimeRangeException"},
			{"MaxResults 0", cloudtrail.LookupEventsInput{MaxResults: aws.Int32(0)}, "InvalidMaxResultsException"},
			{"MaxResults 51", cloudtrail.LookupEventsInput{MaxResults: aws.Int32(51)}, "InvalidMaxResultsException"},
			{"made-up token", cloudtrail.LookupEventsInput{NextToken: aws.String("bogus")}, "InvalidNextTokenException"},
			{"token of another query", cloudtrail.LookupEventsInput{NextToken: otherQuery.NextToken,
				LookupAttributes: []cttypes.LookupAttribute{attr("Username", "app")}}, "InvalidNextTokenException"},
		} {
			_, err := ct.LookupEvents(ctx, &tc.in)
			var typed interface{ ErrorCode() string }
			if !errors.As(err, &typed) {
				t.Errorf("%s: error %v", tc.name, err)
				continue
			}
			if typed.ErrorCode() != tc.code {
				t.Errorf("%s: %s, want %s", tc.name, typed.ErrorCode(), tc.code)
			}
		}
		// The typed exceptions of the cloudtrail client are what a rotator matches.
		_, err = ct.LookupEvents(ctx, &cloudtrail.LookupEventsInput{NextToken: aws.String("bogus")})
		var badToken *cttypes.InvalidNextTokenException
		if !errors.As(err, &badToken) {
			t.Errorf("made-up token: %T, want *types.InvalidNextTokenException", err)
		}
	})

	t.Run("LookupEvents itself is not recorded", func(t *testing.T) {
		for _, ev := range e.p.Events() {
			if ev.Name == "LookupEvents" {
				t.Fatalf("recorded %+v", ev)
			}
		}
		if e.p.Calls("LookupEvents") == 0 {
			t.Error("LookupEvents calls not counted")
		}
	})
}

func TestAddEvent(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	e.p.SetLookupLimiter(nil)
	exposedKey, _ := e.p.Bootstrap(ctx, t, "ci")
	if again, _ := e.p.Bootstrap(ctx, t, "ci"); again == exposedKey {
		t.Fatal("a second Bootstrap of one user returned the same key")
	}

	attackAt := time.Now().Add(-36 * time.Hour).Truncate(time.Second)
	e.p.AddEvent(Event{
		Name: "ListBuckets", Source: "s3.amazonaws.com", AccessKeyID: exposedKey, Username: "ci",
		SourceIP: "203.0.113.7", UserAgent: "aws-cli/2.15.0", Time: attackAt, ReadOnly: true,
	})
	e.p.AddEvent(Event{ // outside CloudTrail's 90-day lookup window
		Name: "GetCallerIdentity", Source: "sts.amazonaws.com", AccessKeyID: exposedKey, Username: "ci",
		SourceIP: "203.0.113.7", Time: time.Now().Add(-100 * 24 * time.Hour),
	})
	exposed := e.p.AWSConfig(ctx, exposedKey, "unused: moto does not check signatures")
	if err := callerIdentity(t, exposed); err != nil {
		t.Fatal(err)
	}

	ct := cloudtrail.NewFromConfig(e.admin, ctNoRetry)
	out, err := ct.LookupEvents(ctx, &cloudtrail.LookupEventsInput{LookupAttributes: []cttypes.LookupAttribute{{
		AttributeKey: cttypes.LookupAttributeKeyAccessKeyId, AttributeValue: aws.String(exposedKey),
	}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Events) != 2 {
		t.Fatalf("%d events, want the call and the planted event within 90 days", len(out.Events))
	}
	planted := out.Events[1]
	if aws.ToString(planted.EventName) != "ListBuckets" || !planted.EventTime.Equal(attackAt) || aws.ToString(planted.ReadOnly) != "true" {
		t.Errorf("planted event = %s at %v", aws.ToString(planted.EventName), planted.EventTime)
	}
	if !strings.Contains(aws.ToString(planted.CloudTrailEvent), `"sourceIPAddress":"203.0.113.7"`) {
		t.Errorf("CloudTrailEvent %s lacks the attacker's IP", aws.ToString(planted.CloudTrailEvent))
	}

	out, err = ct.LookupEvents(ctx, &cloudtrail.LookupEventsInput{
		EndTime: aws.Time(attackAt.Add(time.Second)),
		LookupAttributes: []cttypes.LookupAttribute{{
			AttributeKey: cttypes.LookupAttributeKeyAccessKeyId, AttributeValue: aws.String(exposedKey),
		}},
	})
	if err != nil || len(out.Events) != 1 {
		t.Errorf("EndTime just after the attack: %d events, %v", len(out.Events), err)
	}
}

func TestLookupEventsThrottling(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	ct := cloudtrail.NewFromConfig(e.admin, ctNoRetry)

	t.Run("real time", func(t *testing.T) {
		// Three back-to-back lookups take milliseconds: the third exceeds 2/s.
		var errs []error
		for range 3 {
			_, err := ct.LookupEvents(ctx, &cloudtrail.LookupEventsInput{})
			errs = append(errs, err)
		}
		if errs[0] != nil || errs[1] != nil {
			t.Fatalf("first two lookups: %v", errs[:2])
		}
		wantAPIError(t, errs[2], "ThrottlingException", http.StatusBadRequest)
	})

	t.Run("fake clock", func(t *testing.T) {
		var mu sync.Mutex
		now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
		e.p.SetClock(func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
		// A fresh limiter: the default one remembers real-time admissions.
		e.p.SetLookupLimiter(NewWindowLimiter(2, time.Second))
		advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
		lookup := func() error {
			_, err := ct.LookupEvents(ctx, &cloudtrail.LookupEventsInput{})
			return err
		}
		for i, step := range []struct {
			advance   time.Duration
			throttled bool
		}{
			{0, false}, {400 * time.Millisecond, false}, {0, true}, {0, true},
			{600 * time.Millisecond, false}, // the first request left the window
			{0, true},
			{400 * time.Millisecond, false}, // the second left
			{time.Second, false}, {0, false}, {0, true},
		} {
			advance(step.advance)
			err := lookup()
			if step.throttled {
				wantAPIError(t, err, "ThrottlingException", http.StatusBadRequest)
			} else if err != nil {
				t.Fatalf("step %d: %v", i, err)
			}
		}
	})

	t.Run("injected limiter, SDK default retryer", func(t *testing.T) {
		n := 0 // guarded by the proxy's lock, which Allow runs under
		e.p.SetLookupLimiter(limiterFunc(func(time.Time) bool { n++; return n != 3 }))
		retrying := cloudtrail.NewFromConfig(e.admin)
		before := e.p.Calls("LookupEvents")
		for i := range 3 {
			if _, err := retrying.LookupEvents(ctx, &cloudtrail.LookupEventsInput{}); err != nil {
				t.Fatalf("lookup %d: %v", i, err)
			}
		}
		if got := e.p.Calls("LookupEvents") - before; got != 4 {
			t.Errorf("%d requests for 3 lookups, want 4 (one throttled and retried)", got)
		}
	})
}

type limiterFunc func(time.Time) bool

func (f limiterFunc) Allow(now time.Time) bool { return f(now) }

func TestAWSConfigIgnoresEnvironment(t *testing.T) {
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
	t.Setenv("AWS_PROFILE", "does-not-exist")
	t.Setenv("AWS_MAX_ATTEMPTS", "1")
	m := StartMoto(t)
	p := NewProxy(t, m.URL)
	cfg := p.AWSConfig(context.Background(), "AKIAIOSFODNN7EXAMPLE", "x")
	p.FailNext("GetCallerIdentity", http.StatusServiceUnavailable, "ServiceUnavailable", 1)
	if _, err := sts.NewFromConfig(cfg).GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatalf("GetCallerIdentity: %v", err)
	}
	if n := p.Calls("GetCallerIdentity"); n != 2 {
		t.Errorf("%d calls, want 2: the default retryer must retry", n)
	}
}

// fakeTB records how StartMoto ends a test without ending this one.
type fakeTB struct {
	testing.TB // nil: any method not overridden here panics
	skipped    bool
	failed     bool
	msg        string
	cleanups   []func()
}

func (f *fakeTB) Helper()           {}
func (f *fakeTB) Cleanup(fn func()) { f.cleanups = append(f.cleanups, fn) }
func (f *fakeTB) Skipf(format string, args ...any) {
	f.skipped, f.msg = true, fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.failed, f.msg = true, fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (f *fakeTB) Errorf(format string, args ...any) {
	f.failed, f.msg = true, fmt.Sprintf(format, args...)
}

func TestStartMotoMissing(t *testing.T) {
	emptyPath := t.TempDir()
	for _, tc := range []struct {
		name, path, motoServer, require string
		skip                            bool
		msg                             string
	}{
		{name: "not installed: skip", path: emptyPath, skip: true, msg: "moto_server not installed"},
		{name: "not installed, peers required: fail", path: emptyPath, require: "1", msg: "moto_server not installed"},
		{name: "MOTO_SERVER names nothing: fail", path: emptyPath, motoServer: "/nonexistent/moto_server", msg: "/nonexistent/moto_server"},
		{name: "moto_server exits at once: fail after retries", path: os.Getenv("PATH"), motoServer: "false", msg: "moto_server exited"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("PATH", tc.path)
			t.Setenv(MotoServerEnv, tc.motoServer)
			t.Setenv(RequirePeersEnv, tc.require)
			f := &fakeTB{}
			done := make(chan struct{})
			go func() {
				defer close(done)
				StartMoto(f)
			}()
			<-done
			for _, fn := range slices.Backward(f.cleanups) {
				fn()
			}
			if f.skipped != tc.skip || f.failed == tc.skip || !strings.Contains(f.msg, tc.msg) {
				t.Errorf("skipped %v failed %v %q; want skip %v and a message with %q", f.skipped, f.failed, f.msg, tc.skip, tc.msg)
			}
		})
	}
}

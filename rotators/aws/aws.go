// Package aws rotates AWS credentials: IAM access keys (with CloudTrail
// evidence of their use) and Secrets Manager secrets, as playbook actions.
// Calls go out with the operator's own credentials (the SDK's default chain,
// --aws-profile, SSO), or with the exposed key itself when asked (--self);
// never with anything read from a scanned root.
package aws

import (
	"context"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/tourniquet-ir/tourniquet/internal/redact"
	"github.com/tourniquet-ir/tourniquet/rotators"
)

// Options are the operator's AWS settings, as in the AWS CLI.
type Options struct {
	Profile     string // --aws-profile
	Region      string // --region
	EndpointURL string // --aws-endpoint-url (AWS_ENDPOINT_URL is read by the SDK too)
	// Load builds the SDK configuration; tests point it at an emulator.
	// creds, when set, replace the default chain (--self, verification
	// with the new key).
	Load func(ctx context.Context, creds aws.CredentialsProvider) (aws.Config, error)
}

// Provider holds the settings; clients are made per call so that a step
// can act with a different key (the new one, in verification).
type Provider struct {
	o Options
}

// New returns a provider.
func New(o Options) *Provider {
	if o.Load == nil {
		o.Load = func(ctx context.Context, creds aws.CredentialsProvider) (aws.Config, error) {
			var opts []func(*config.LoadOptions) error
			if o.Profile != "" {
				opts = append(opts, config.WithSharedConfigProfile(o.Profile))
			}
			if o.Region != "" {
				opts = append(opts, config.WithRegion(o.Region))
			}
			if creds != nil {
				opts = append(opts, config.WithCredentialsProvider(creds))
			}
			cfg, err := config.LoadDefaultConfig(ctx, opts...)
			if err != nil {
				return aws.Config{}, err
			}
			if o.EndpointURL != "" {
				cfg.BaseEndpoint = aws.String(o.EndpointURL)
			}
			if cfg.Region == "" {
				cfg.Region = "us-east-1" // IAM and STS are global; the SDK needs one
			}
			return cfg, nil
		}
	}
	return &Provider{o: o}
}

// The consumer-side interfaces: exactly the calls the actions make.
type iamAPI interface {
	GetAccessKeyLastUsed(context.Context, *iam.GetAccessKeyLastUsedInput, ...func(*iam.Options)) (*iam.GetAccessKeyLastUsedOutput, error)
	ListAccessKeys(context.Context, *iam.ListAccessKeysInput, ...func(*iam.Options)) (*iam.ListAccessKeysOutput, error)
	CreateAccessKey(context.Context, *iam.CreateAccessKeyInput, ...func(*iam.Options)) (*iam.CreateAccessKeyOutput, error)
	UpdateAccessKey(context.Context, *iam.UpdateAccessKeyInput, ...func(*iam.Options)) (*iam.UpdateAccessKeyOutput, error)
	DeleteAccessKey(context.Context, *iam.DeleteAccessKeyInput, ...func(*iam.Options)) (*iam.DeleteAccessKeyOutput, error)
	PutUserPolicy(context.Context, *iam.PutUserPolicyInput, ...func(*iam.Options)) (*iam.PutUserPolicyOutput, error)
	GetUserPolicy(context.Context, *iam.GetUserPolicyInput, ...func(*iam.Options)) (*iam.GetUserPolicyOutput, error)
}

type stsAPI interface {
	GetCallerIdentity(context.Context, *sts.GetCallerIdentityInput, ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)
	GetAccessKeyInfo(context.Context, *sts.GetAccessKeyInfoInput, ...func(*sts.Options)) (*sts.GetAccessKeyInfoOutput, error)
}

type trailAPI interface {
	LookupEvents(context.Context, *cloudtrail.LookupEventsInput, ...func(*cloudtrail.Options)) (*cloudtrail.LookupEventsOutput, error)
}

type smAPI interface {
	DescribeSecret(context.Context, *secretsmanager.DescribeSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error)
	PutSecretValue(context.Context, *secretsmanager.PutSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error)
	UpdateSecretVersionStage(context.Context, *secretsmanager.UpdateSecretVersionStageInput, ...func(*secretsmanager.Options)) (*secretsmanager.UpdateSecretVersionStageOutput, error)
	GetRandomPassword(context.Context, *secretsmanager.GetRandomPasswordInput, ...func(*secretsmanager.Options)) (*secretsmanager.GetRandomPasswordOutput, error)
	CreateSecret(context.Context, *secretsmanager.CreateSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.CreateSecretOutput, error)
	GetSecretValue(context.Context, *secretsmanager.GetSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

var (
	_ iamAPI   = (*iam.Client)(nil)
	_ stsAPI   = (*sts.Client)(nil)
	_ trailAPI = (*cloudtrail.Client)(nil)
	_ smAPI    = (*secretsmanager.Client)(nil)
)

type clients struct {
	iam   iamAPI
	sts   stsAPI
	trail trailAPI
	sm    smAPI
}

func staticCreds(keyID string, secret redact.Secret) aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(keyID, string(secret.Reveal()), "")
}

// clients builds clients acting as the operator, or as creds when given.
func (p *Provider) clients(ctx context.Context, creds aws.CredentialsProvider) (*clients, error) {
	cfg, err := p.o.Load(ctx, creds)
	if err != nil {
		return nil, fmt.Errorf("aws configuration: %w", err)
	}
	return &clients{
		iam:   iam.NewFromConfig(cfg),
		sts:   sts.NewFromConfig(cfg),
		trail: cloudtrail.NewFromConfig(cfg),
		sm:    secretsmanager.NewFromConfig(cfg),
	}, nil
}

// operator returns clients acting with the operator's credentials, or with
// the exposed key when the run was started with --self.
func (p *Provider) operator(ctx context.Context, rc *rotators.RunContext) (*clients, error) {
	if self, _ := rc.Params["self"].(bool); self {
		id, sec, err := p.selfKey(ctx, rc)
		if err != nil {
			return nil, err
		}
		return p.clients(ctx, staticCreds(id, sec))
	}
	return p.clients(ctx, nil)
}

var keyIDRE = regexp.MustCompile(`\b(AKIA|ASIA)[A-Z0-9]{16}\b`)

// classify wraps an AWS error for the engine (transient: retry then pause;
// auth: exit 4) and replaces any access key ID in its text with its hint.
func classify(op string, err error) error {
	if err == nil {
		return nil
	}
	clean := fmt.Errorf("%s: %s", op, keyIDRE.ReplaceAllStringFunc(err.Error(), redact.Hint))
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException",
			"ServiceUnavailable", "ServiceUnavailableException", "InternalFailure", "InternalError",
			"InternalServiceError", "InternalServiceErrorException", "RequestTimeout", "RequestTimeoutException":
			return rotators.Transient(clean)
		case "InvalidClientTokenId", "SignatureDoesNotMatch", "AccessDenied", "AccessDeniedException",
			"UnrecognizedClientException", "ExpiredToken", "ExpiredTokenException", "AuthFailure":
			return fmt.Errorf("%w: %w", rotators.ErrAuth, clean)
		}
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) && (re.HTTPStatusCode() >= 500 || re.HTTPStatusCode() == 429) {
		return rotators.Transient(clean)
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "connection reset") ||
		strings.Contains(err.Error(), "EOF") {
		return rotators.Transient(clean)
	}
	if errors.Is(err, context.Canceled) {
		return context.Canceled
	}
	return clean
}

// errCode returns the AWS error code of err, or "".
func errCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

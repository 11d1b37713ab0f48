// Package awstest provides real peers for tests of the AWS rotation playbook
// (IAM access keys, STS, Secrets Manager, CloudTrail).
//
// StartMoto runs moto_server (https://github.com/getmoto/moto) on a loopback
// port. NewProxy puts a stateful reverse proxy in front of it that adds what
// moto lacks and real AWS has:
//
//   - access-key status enforcement: moto accepts requests signed with
//     Inactive and deleted keys; the proxy refuses them as IAM does;
//   - IAM eventual consistency: SetPropagationDelay refuses new keys for a while;
//   - CloudTrail: every call is recorded as a management event and
//     LookupEvents is answered from those records (moto 5.2.1 answers HTTP 500),
//     including its argument errors, pagination and 2 requests/second limit;
//   - faults: FailNext (AWS error answers) and DropNext (the call takes effect,
//     the answer is lost).
//
// Point aws-sdk-go-v2 clients at the proxy with Proxy.AWSConfig:
//
//	m := awstest.StartMoto(t)
//	p := awstest.NewProxy(t, m.URL)
//	id, secret := p.Bootstrap(ctx, t, "operator")
//	client := iam.NewFromConfig(p.AWSConfig(ctx, id, secret))
//
// Tests skip when moto_server is not installed, unless
// TOURNIQUET_REQUIRE_PEERS=1.
package awstest

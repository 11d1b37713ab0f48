package aws

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/tourniquet-ir/tourniquet/rotators"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	apiErr := func(code string) error { return &smithy.GenericAPIError{Code: code, Message: "m"} }
	status := func(code int) error {
		return &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: code}}, Err: errors.New("x")}}
	}
	tests := []struct {
		err             error
		transient, auth bool
	}{
		{apiErr("Throttling"), true, false},
		{apiErr("ThrottlingException"), true, false},
		{apiErr("ServiceUnavailable"), true, false},
		{apiErr("InternalFailure"), true, false},
		{status(503), true, false},
		{status(429), true, false},
		{status(400), false, false},
		{fmt.Errorf("read: connection reset by peer"), true, false},
		{context.DeadlineExceeded, true, false},
		{apiErr("AccessDenied"), false, true},
		{apiErr("InvalidClientTokenId"), false, true},
		{apiErr("UnrecognizedClientException"), false, true},
		{apiErr("LimitExceeded"), false, false},
	}
	for _, tc := range tests {
		got := classify("op", tc.err)
		if rotators.IsTransient(got) != tc.transient || errors.Is(got, rotators.ErrAuth) != tc.auth {
			t.Errorf("classify(%v) = %v: transient %v auth %v, want %v %v", tc.err, got, rotators.IsTransient(got), errors.Is(got, rotators.ErrAuth), tc.transient, tc.auth)
		}
	}
	// Access key IDs in provider messages become hints.
	got := classify("op", apiErr("NoSuchEntity: The Access Key with id AKIAIOSFODNN7EXAMPLE cannot be found"))
	if strings.Contains(got.Error(), "AKIAIOSFODNN7EXAMPLE") || !strings.Contains(got.Error(), "AKIA…MPLE") {
		t.Errorf("key ID not redacted: %v", got)
	}
}

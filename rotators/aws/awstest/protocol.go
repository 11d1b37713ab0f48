package awstest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// protocol is the wire protocol of one AWS request.
type protocol int

const (
	protoUnknown protocol = iota
	// protoQuery is the AWS query protocol (IAM, STS): a form body with
	// Action=...&Version=..., answered in XML.
	protoQuery
	// protoJSON is AWS JSON 1.1 (Secrets Manager, CloudTrail): the operation is
	// named by the X-Amz-Target header.
	protoJSON
)

// accountID is moto's default account, used in ARNs of recorded events.
const accountID = "123456789012"

// request is what the proxy learns about an incoming call before forwarding it.
type request struct {
	proto     protocol
	service   string // signing name: iam, sts, secretsmanager, cloudtrail
	action    string // CreateAccessKey, GetCallerIdentity, LookupEvents, ...
	keyID     string // access key id from the SigV4 credential scope
	region    string // region from the SigV4 credential scope
	userAgent string
	sourceIP  string
	form      url.Values // query protocol parameters (nil for JSON)
	body      []byte
}

// eventSource is the CloudTrail eventSource of the request, e.g. iam.amazonaws.com.
func (r request) eventSource() string {
	if r.service == "" {
		return ""
	}
	return r.service + ".amazonaws.com"
}

func (r request) isLookupEvents() bool {
	return r.proto == protoJSON && r.service == "cloudtrail" && r.action == "LookupEvents"
}

// parseRequest recognises the protocol, the operation and the signer of r.
//
// Query protocol (https://smithy.io/2.0/aws/protocols/aws-query-protocol.html):
// POST, form-encoded body with Action and Version.
// JSON 1.1: the X-Amz-Target header is "<ServicePrefix>.<Operation>", e.g.
// "secretsmanager.CreateSecret" or "CloudTrail_20131101.LookupEvents" (the exact
// string aws-sdk-go-v2's cloudtrail client sends; the long
// "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents" form is
// accepted too).
// The signer comes from the SigV4 Authorization header
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html):
// "AWS4-HMAC-SHA256 Credential=AKID/yyyymmdd/region/service/aws4_request, ...",
// or from X-Amz-Credential for presigned requests.
func parseRequest(r *http.Request, body []byte) request {
	req := request{userAgent: r.UserAgent(), body: body}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		req.sourceIP = host
	} else {
		req.sourceIP = r.RemoteAddr
	}
	cred := credentialFromAuthorization(r.Header.Get("Authorization"))
	if cred == "" {
		cred = r.URL.Query().Get("X-Amz-Credential")
	}
	if parts := strings.Split(cred, "/"); len(parts) >= 4 {
		req.keyID, req.region, req.service = parts[0], parts[2], parts[3]
	}

	if target := r.Header.Get("X-Amz-Target"); target != "" {
		req.proto = protoJSON
		i := strings.LastIndex(target, ".")
		if i < 0 {
			return req
		}
		prefix := target[:i]
		req.action = target[i+1:]
		if req.service == "" {
			req.service = serviceFromTargetPrefix(prefix)
		}
		return req
	}

	form := r.URL.Query()
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		if body, err := url.ParseQuery(string(body)); err == nil {
			for k, v := range body {
				form[k] = append(form[k], v...)
			}
		}
	}
	if action := form.Get("Action"); action != "" {
		req.proto = protoQuery
		req.action = action
		req.form = form
		if req.service == "" {
			req.service = serviceFromVersion(form.Get("Version"))
		}
	}
	return req
}

// credentialFromAuthorization returns the Credential=... value of a SigV4
// Authorization header, or "".
func credentialFromAuthorization(h string) string {
	_, rest, ok := strings.Cut(h, "Credential=")
	if !ok {
		return ""
	}
	if i := strings.IndexAny(rest, ", "); i >= 0 {
		rest = rest[:i]
	}
	return rest
}

func serviceFromTargetPrefix(prefix string) string {
	switch {
	case strings.EqualFold(prefix, "secretsmanager"):
		return "secretsmanager"
	case strings.HasSuffix(prefix, "CloudTrail_20131101"):
		return "cloudtrail"
	}
	return strings.ToLower(prefix)
}

func serviceFromVersion(v string) string {
	switch v {
	case "2010-05-08":
		return "iam"
	case "2011-06-15":
		return "sts"
	}
	return ""
}

// xmlNamespace is the namespace of query-protocol documents per service.
func xmlNamespace(service string) string {
	switch service {
	case "iam":
		return "https://iam.amazonaws.com/doc/2010-05-08/"
	case "sts":
		return "https://sts.amazonaws.com/doc/2011-06-15/"
	}
	return ""
}

// Messages real AWS sends with these codes. InvalidClientTokenId and
// UnrecognizedClientException carry the same text on the wire; the others come
// from the "Common Errors" page of the service API references, e.g.
// https://docs.aws.amazon.com/secretsmanager/latest/apireference/CommonErrors.html
var defaultMessages = map[string]string{
	"InvalidClientTokenId":        "The security token included in the request is invalid.",
	"UnrecognizedClientException": "The security token included in the request is invalid.",
	"Throttling":                  "Rate exceeded",
	"ThrottlingException":         "Rate exceeded",
	"ServiceUnavailable":          "The request has failed due to a temporary failure of the server.",
	"InternalFailure":             "The request processing has failed because of an unknown error, exception or failure.",
}

func messageFor(code string) string {
	if m, ok := defaultMessages[code]; ok {
		return m
	}
	return "awstest: injected " + code
}

// writeError answers in the error format of the request's protocol.
//
// Query protocol (https://smithy.io/2.0/aws/protocols/aws-query-protocol.html,
// "Operation error serialization"):
//
//	<ErrorResponse xmlns="..."><Error><Type>Sender</Type><Code>..</Code>
//	<Message>..</Message></Error><RequestId>..</RequestId></ErrorResponse>
//
// with Type Sender for 4xx and Receiver for 5xx.
// JSON 1.1 (https://smithy.io/2.0/aws/protocols/aws-json-1_1-protocol.html,
// "Operation error serialization"): {"__type": code, "message": ...} and the
// X-Amzn-ErrorType header, which aws-sdk-go-v2 prefers over the body.
func writeError(w http.ResponseWriter, req request, status int, code, message string) {
	if message == "" {
		message = messageFor(code)
	}
	requestID := newID()
	w.Header().Set("X-Amzn-Requestid", requestID)
	if req.proto == protoQuery {
		typ := "Sender"
		if status >= 500 {
			typ = "Receiver"
		}
		doc := xmlErrorResponse{
			XMLNS:     xmlNamespace(req.service),
			Error:     xmlError{Type: typ, Code: code, Message: message},
			RequestID: requestID,
		}
		out, _ := xml.Marshal(doc) // cannot fail: fixed struct of strings
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(status)
		_, _ = w.Write(out)
		return
	}
	out, _ := json.Marshal(map[string]string{"__type": code, "message": message})
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-Errortype", code)
	w.WriteHeader(status)
	_, _ = w.Write(out)
}

type xmlErrorResponse struct {
	XMLName   xml.Name `xml:"ErrorResponse"`
	XMLNS     string   `xml:"xmlns,attr,omitempty"`
	Error     xmlError `xml:"Error"`
	RequestID string   `xml:"RequestId"`
}

type xmlError struct {
	Type    string `xml:"Type"`
	Code    string `xml:"Code"`
	Message string `xml:"Message"`
}

// upstreamErrorCode extracts the AWS error code of a failed upstream answer,
// the way the SDK would: the XML <Error><Code> for query, X-Amzn-ErrorType or
// __type for JSON. Answers that carry none (moto's HTML 500 page for an
// operation it does not implement) are recorded as InternalFailure (5xx) or
// UnknownError.
func upstreamErrorCode(req request, status int, header http.Header, body []byte) string {
	if status < 300 {
		return ""
	}
	var code string
	switch req.proto {
	case protoQuery:
		var doc struct {
			Error struct {
				Code string `xml:"Code"`
			} `xml:"Error"`
		}
		if xml.Unmarshal(body, &doc) == nil {
			code = doc.Error.Code
		}
	case protoJSON:
		code = header.Get("X-Amzn-Errortype")
		if code == "" {
			var doc struct {
				Type string `json:"__type"`
				Code string `json:"code"`
			}
			if json.Unmarshal(body, &doc) == nil {
				code = doc.Type
				if code == "" {
					code = doc.Code
				}
			}
		}
		// Sanitise like the SDK: "prefix#Code:uri" -> "Code".
		if i := strings.Index(code, ":"); i >= 0 {
			code = code[:i]
		}
		if i := strings.Index(code, "#"); i >= 0 {
			code = code[i+1:]
		}
	}
	if code != "" {
		return code
	}
	if status >= 500 {
		return "InternalFailure"
	}
	return "UnknownError"
}

// newID returns a random UUID-shaped identifier (event ids, request ids).
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return fmt.Sprintf("%s-%s-%s-%s-%s", h[0:8], h[8:12], h[12:16], h[16:20], h[20:32])
}

// hopHeaders are connection-scoped and never copied through the proxy
// (RFC 9110 section 7.6.1).
var hopHeaders = []string{
	"Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate",
	"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade",
	"Content-Length",
}

func copyHeader(dst, src http.Header) {
	for k, vs := range src {
		dst[k] = append([]string(nil), vs...)
	}
	for _, h := range hopHeaders {
		dst.Del(h)
	}
}

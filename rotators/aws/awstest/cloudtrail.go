package awstest

import (
	"bytes"
	"cmp"
	"encoding/json"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Event is one CloudTrail management event: a call the proxy recorded, or one
// a test planted with AddEvent.
type Event struct {
	ID, Name, Source, AccessKeyID, Username, SourceIP, UserAgent, Region string

	Time      time.Time
	ReadOnly  bool
	ErrorCode string // "" when the call succeeded

	// Resources are the IAM users, access keys and secrets the call named;
	// LookupEvents returns them and filters on them (ResourceType,
	// ResourceName).
	Resources []Resource
}

// Resource is a CloudTrail resource reference, e.g. {"AWS::IAM::AccessKey", "AKIA..."}.
type Resource struct{ Type, Name string }

// Limiter admits or throttles LookupEvents requests. Allow gets the proxy's
// clock reading and is called with the proxy's lock held, so implementations
// need no locking of their own.
type Limiter interface {
	Allow(now time.Time) bool
}

// NewWindowLimiter admits at most n requests in any window of length per.
// The proxy starts with NewWindowLimiter(2, time.Second): "The rate of lookup
// requests is limited to two per second, per account, per Region. If this
// limit is exceeded, a throttling error occurs."
// (https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_LookupEvents.html).
// Throttled requests do not use up the window.
func NewWindowLimiter(n int, per time.Duration) Limiter {
	return &windowLimiter{n: n, per: per}
}

type windowLimiter struct {
	n        int
	per      time.Duration
	admitted []time.Time
}

func (l *windowLimiter) Allow(now time.Time) bool {
	cut := now.Add(-l.per)
	i := 0
	for i < len(l.admitted) && !l.admitted[i].After(cut) {
		i++
	}
	l.admitted = l.admitted[i:]
	if len(l.admitted) >= l.n {
		return false
	}
	l.admitted = append(l.admitted, now)
	return true
}

// SetLookupLimiter replaces the LookupEvents rate limiter; nil turns
// throttling off.
func (p *Proxy) SetLookupLimiter(l Limiter) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.limiter = l
}

// AddEvent plants a historic CloudTrail event, e.g. an attacker's use of an
// exposed key from another IP. Empty ID, Time and Region default to a new id,
// the proxy's clock and us-east-1.
func (p *Proxy) AddEvent(ev Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if ev.ID == "" {
		ev.ID = newID()
	}
	if ev.Time.IsZero() {
		ev.Time = p.now()
	}
	if ev.Region == "" {
		ev.Region = "us-east-1"
	}
	ev.Resources = slices.Clone(ev.Resources)
	p.events = append(p.events, ev)
}

// Events returns every event, recorded and planted, in the order they were
// added (not LookupEvents' newest-first order).
func (p *Proxy) Events() []Event {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]Event, len(p.events))
	for i, e := range p.events {
		e.Resources = slices.Clone(e.Resources)
		out[i] = e
	}
	return out
}

// record stores one proxied call as an event. LookupEvents calls are not
// recorded: real CloudTrail does record them (as read-only cloudtrail.amazonaws.com
// events), but leaving them out keeps test assertions on "what did the
// rotator do" readable, and a rotator polling LookupEvents would otherwise
// find its own polls.
//
// Refused calls (InvalidClientTokenId for an Inactive or deleted key) are
// recorded too, so a test can see attempted use of a revoked key; whether
// real CloudTrail delivers such events to the key owner's account is not
// documented, so do not build product logic on it.
func (p *Proxy) record(req request, user, errCode string, res []Resource) {
	if req.action == "" || req.isLookupEvents() {
		return
	}
	region := req.region
	if region == "" {
		region = "us-east-1"
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.events = append(p.events, Event{
		ID:          newID(),
		Name:        req.action,
		Source:      req.eventSource(),
		AccessKeyID: req.keyID,
		Username:    user,
		SourceIP:    req.sourceIP,
		UserAgent:   req.userAgent,
		Region:      region,
		Time:        p.now(),
		ReadOnly:    readOnly(req.action),
		ErrorCode:   errCode,
		Resources:   res,
	})
}

// readOnly follows CloudTrail's classification of API calls that do not
// change anything (Get*, List*, Describe*, Lookup*).
func readOnly(action string) bool {
	for _, prefix := range []string{"Get", "List", "Describe", "Lookup", "BatchGet"} {
		if strings.HasPrefix(action, prefix) {
			return true
		}
	}
	return false
}

// lookupAttributeKeys are the documented AttributeKey values.
var lookupAttributeKeys = []string{
	"EventId", "EventName", "ReadOnly", "Username", "ResourceType",
	"ResourceName", "EventSource", "AccessKeyId",
}

func (e Event) matches(key, value string) bool {
	switch key {
	case "EventId":
		return e.ID == value
	case "EventName":
		return e.Name == value
	case "ReadOnly":
		return strings.EqualFold(strconv.FormatBool(e.ReadOnly), value)
	case "Username":
		return e.Username == value
	case "EventSource":
		return e.Source == value
	case "AccessKeyId":
		return e.AccessKeyID == value
	case "ResourceType":
		return slices.ContainsFunc(e.Resources, func(r Resource) bool { return r.Type == value })
	case "ResourceName":
		return slices.ContainsFunc(e.Resources, func(r Resource) bool { return r.Name == value })
	}
	return false
}

type lookupAttribute struct {
	AttributeKey   *string `json:"AttributeKey"`
	AttributeValue *string `json:"AttributeValue"`
}

type lookupInput struct {
	LookupAttributes []lookupAttribute `json:"LookupAttributes"`
	StartTime        *float64          `json:"StartTime"`
	EndTime          *float64          `json:"EndTime"`
	EventCategory    *string           `json:"EventCategory"`
	MaxResults       *int              `json:"MaxResults"`
	NextToken        *string           `json:"NextToken"`
}

// pageToken is what a NextToken stands for: the parameters of the query that
// issued it and the last event of the page it ended.
type pageToken struct {
	query   string
	lastAt  time.Time
	lastIdx int
}

const (
	lookupMaxResults = 50
	lookupRetention  = 90 * 24 * time.Hour
)

// lookupEvents answers CloudTrail LookupEvents
// (https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_LookupEvents.html):
//   - at most one LookupAttributes entry, AttributeKey one of
//     lookupAttributeKeys, else InvalidLookupAttributesException;
//   - StartTime/EndTime in epoch seconds, inclusive; start after end is
//     InvalidTimeRangeException; only the last 90 days are searched;
//   - MaxResults 1..50, default 50, else InvalidMaxResultsException;
//   - NextToken must come from an earlier answer to the same parameters, else
//     InvalidNextTokenException;
//   - events newest first; EventTime in whole epoch seconds and the
//     CloudTrailEvent eventTime in RFC 3339 seconds, as CloudTrail records
//     them, so time filters see second precision;
//   - more than 2 requests per second: ThrottlingException (see
//     NewWindowLimiter).
//
// EventCategory "insight" returns no events: the proxy records none.
func (p *Proxy) lookupEvents(w http.ResponseWriter, req request) {
	var in lookupInput
	if len(bytes.TrimSpace(req.body)) > 0 {
		if err := json.Unmarshal(req.body, &in); err != nil {
			writeError(w, req, http.StatusBadRequest, "SerializationException", "awstest: "+err.Error())
			return
		}
	}

	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	if p.limiter != nil && !p.limiter.Allow(now) {
		writeError(w, req, http.StatusBadRequest, "ThrottlingException", "Rate exceeded")
		return
	}

	var attr *lookupAttribute
	switch {
	case len(in.LookupAttributes) > 1:
		writeError(w, req, http.StatusBadRequest, "InvalidLookupAttributesException",
			"You can only specify one lookup attribute.")
		return
	case len(in.LookupAttributes) == 1:
		attr = &in.LookupAttributes[0]
		if attr.AttributeKey == nil || !slices.Contains(lookupAttributeKeys, *attr.AttributeKey) {
			writeError(w, req, http.StatusBadRequest, "InvalidLookupAttributesException",
				"AttributeKey must be one of "+strings.Join(lookupAttributeKeys, ", ")+".")
			return
		}
		if attr.AttributeValue == nil || *attr.AttributeValue == "" || len(*attr.AttributeValue) > 2000 {
			writeError(w, req, http.StatusBadRequest, "InvalidLookupAttributesException",
				"AttributeValue must be 1 to 2000 characters long.")
			return
		}
	}
	var start, end *time.Time
	if in.StartTime != nil {
		t := epochToTime(*in.StartTime)
		start = &t
	}
	if in.EndTime != nil {
		t := epochToTime(*in.EndTime)
		end = &t
	}
	if start != nil && end != nil && start.After(*end) {
		writeError(w, req, http.StatusBadRequest, "InvalidTimeRangeException",
			"Start time must not be after end time.")
		return
	}
	limit := lookupMaxResults
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > lookupMaxResults {
			writeError(w, req, http.StatusBadRequest, "InvalidMaxResultsException",
				"MaxResults must be between 1 and 50.")
			return
		}
		limit = *in.MaxResults
	}
	query := lookupQueryKey(in)
	var cursor *pageToken
	if in.NextToken != nil {
		tok, ok := p.tokens[*in.NextToken]
		if !ok || tok.query != query {
			writeError(w, req, http.StatusBadRequest, "InvalidNextTokenException",
				"Invalid NextToken: it must come from a previous call with the same parameters.")
			return
		}
		cursor = &tok
	}

	var matched []int
	earliest := now.Add(-lookupRetention).Truncate(time.Second)
	insight := in.EventCategory != nil && strings.EqualFold(*in.EventCategory, "insight")
	for i, e := range p.events {
		at := e.Time.Truncate(time.Second)
		switch {
		case insight, at.Before(earliest),
			start != nil && at.Before(*start),
			end != nil && at.After(*end),
			attr != nil && !e.matches(*attr.AttributeKey, *attr.AttributeValue):
			continue
		}
		matched = append(matched, i)
	}
	newestFirst := func(a, b int) int {
		if c := p.events[b].Time.Compare(p.events[a].Time); c != 0 {
			return c
		}
		return cmp.Compare(b, a)
	}
	slices.SortFunc(matched, newestFirst)
	if cursor != nil {
		matched = slices.DeleteFunc(matched, func(i int) bool {
			c := p.events[i].Time.Compare(cursor.lastAt)
			return c > 0 || c == 0 && i >= cursor.lastIdx
		})
	}

	out := lookupOutput{Events: []outEvent{}}
	page := matched[:min(limit, len(matched))]
	for _, i := range page {
		out.Events = append(out.Events, toOutEvent(p.events[i]))
	}
	if len(page) < len(matched) {
		last := page[len(page)-1]
		tok := newID()
		p.tokens[tok] = pageToken{query: query, lastAt: p.events[last].Time, lastIdx: last}
		out.NextToken = tok
	}
	body, err := json.Marshal(out)
	if err != nil {
		writeError(w, req, http.StatusInternalServerError, "InternalFailure", "awstest: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-Requestid", newID())
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// lookupQueryKey identifies the parameters a NextToken is bound to; MaxResults
// may change from page to page.
func lookupQueryKey(in lookupInput) string {
	in.MaxResults, in.NextToken = nil, nil
	b, _ := json.Marshal(in) // cannot fail: plain data
	return string(b)
}

func epochToTime(f float64) time.Time {
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC()
}

type lookupOutput struct {
	Events    []outEvent `json:"Events"`
	NextToken string     `json:"NextToken,omitempty"`
}

type outEvent struct {
	EventID         string        `json:"EventId"`
	EventName       string        `json:"EventName,omitempty"`
	ReadOnly        string        `json:"ReadOnly"`
	AccessKeyID     string        `json:"AccessKeyId,omitempty"`
	EventTime       int64         `json:"EventTime"`
	EventSource     string        `json:"EventSource,omitempty"`
	Username        string        `json:"Username,omitempty"`
	Resources       []outResource `json:"Resources,omitempty"`
	CloudTrailEvent string        `json:"CloudTrailEvent"`
}

type outResource struct {
	ResourceType string `json:"ResourceType,omitempty"`
	ResourceName string `json:"ResourceName,omitempty"`
}

// ctRecord is the CloudTrailEvent JSON document, a subset of
// https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html
// and the userIdentity element
// (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-user-identity.html).
type ctRecord struct {
	EventVersion       string     `json:"eventVersion"`
	UserIdentity       ctIdentity `json:"userIdentity"`
	EventTime          string     `json:"eventTime"`
	EventSource        string     `json:"eventSource"`
	EventName          string     `json:"eventName"`
	AWSRegion          string     `json:"awsRegion"`
	SourceIPAddress    string     `json:"sourceIPAddress"`
	UserAgent          string     `json:"userAgent"`
	ErrorCode          string     `json:"errorCode,omitempty"`
	EventID            string     `json:"eventID"`
	ReadOnly           bool       `json:"readOnly"`
	EventType          string     `json:"eventType"`
	ManagementEvent    bool       `json:"managementEvent"`
	RecipientAccountID string     `json:"recipientAccountId"`
	EventCategory      string     `json:"eventCategory"`
}

type ctIdentity struct {
	Type        string `json:"type"`
	ARN         string `json:"arn,omitempty"`
	AccountID   string `json:"accountId"`
	AccessKeyID string `json:"accessKeyId,omitempty"`
	UserName    string `json:"userName,omitempty"`
}

func toOutEvent(e Event) outEvent {
	ident := ctIdentity{Type: "IAMUser", AccountID: accountID, AccessKeyID: e.AccessKeyID, UserName: e.Username}
	if e.Username != "" {
		ident.ARN = "arn:aws:iam::" + accountID + ":user/" + e.Username
	} else {
		ident.Type = "Unknown"
	}
	rec, _ := json.Marshal(ctRecord{ // cannot fail: plain data
		EventVersion:       "1.11",
		UserIdentity:       ident,
		EventTime:          e.Time.UTC().Format(time.RFC3339),
		EventSource:        e.Source,
		EventName:          e.Name,
		AWSRegion:          e.Region,
		SourceIPAddress:    e.SourceIP,
		UserAgent:          e.UserAgent,
		ErrorCode:          e.ErrorCode,
		EventID:            e.ID,
		ReadOnly:           e.ReadOnly,
		EventType:          "AwsApiCall",
		ManagementEvent:    true,
		RecipientAccountID: accountID,
		EventCategory:      "Management",
	})
	out := outEvent{
		EventID:         e.ID,
		EventName:       e.Name,
		ReadOnly:        strconv.FormatBool(e.ReadOnly),
		AccessKeyID:     e.AccessKeyID,
		EventTime:       e.Time.Unix(),
		EventSource:     e.Source,
		Username:        e.Username,
		CloudTrailEvent: string(rec),
	}
	for _, r := range e.Resources {
		out.Resources = append(out.Resources, outResource{ResourceType: r.Type, ResourceName: r.Name})
	}
	return out
}

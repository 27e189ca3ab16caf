package source

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// SubscriptionError reports an SNS SubscriptionConfirmation message that was
// not confirmed: SQSOptions.ConfirmSubscriptions is off, the SubscribeURL is
// not an https URL on an SNS endpoint, or the confirmation request failed.
// Visit URL (for example with curl) to confirm the subscription by hand. The
// message stays in the queue (and goes to its DLQ after maxReceiveCount)
// unless it was deliberately left unconfirmed by option, see
// [SQSOptions.ConfirmSubscriptions].
type SubscriptionError struct {
	TopicArn string
	URL      string
	Err      error
}

func (e *SubscriptionError) Error() string {
	return fmt.Sprintf("sns subscription to %s awaits confirmation: visit %s (%v)", e.TopicArn, e.URL, e.Err)
}

func (e *SubscriptionError) Unwrap() error { return e.Err }

// snsControl is the part of an SNS control message the source looks at.
type snsControl struct {
	Type         string `json:"Type"`
	TopicArn     string `json:"TopicArn"`
	SubscribeURL string `json:"SubscribeURL"`
}

// subscriptionConfirmation returns the control message if body is an SNS
// SubscriptionConfirmation, else ok is false.
func subscriptionConfirmation(body []byte) (c snsControl, ok bool) {
	if !strings.Contains(string(body), `"SubscriptionConfirmation"`) {
		return c, false
	}
	if json.Unmarshal(body, &c) != nil || c.Type != "SubscriptionConfirmation" {
		return c, false
	}
	return c, true
}

// errNotAllowed says that ConfirmSubscriptions is off.
var errNotAllowed = fmt.Errorf("confirming subscriptions is off (SQSOptions.ConfirmSubscriptions)")

// snsHost reports whether u is https on an SNS endpoint host:
// sns.<region>.amazonaws.com (or .amazonaws.com.cn).
func snsHost(u *url.URL) bool {
	if u.Scheme != "https" || u.Port() != "" && u.Port() != "443" {
		return false
	}
	h := u.Hostname()
	var rest string
	switch {
	case strings.HasSuffix(h, ".amazonaws.com"):
		rest = strings.TrimSuffix(h, ".amazonaws.com")
	case strings.HasSuffix(h, ".amazonaws.com.cn"):
		rest = strings.TrimSuffix(h, ".amazonaws.com.cn")
	default:
		return false
	}
	region, ok := strings.CutPrefix(rest, "sns.")
	return ok && region != "" && !strings.ContainsAny(region, "./")
}

// confirm visits the SubscribeURL of c, if the options allow it.
func (s *SQS) confirm(ctx context.Context, c snsControl) error {
	if !s.opts.ConfirmSubscriptions {
		return &SubscriptionError{TopicArn: c.TopicArn, URL: c.SubscribeURL, Err: errNotAllowed}
	}
	u, err := url.Parse(c.SubscribeURL)
	allowed := snsHost
	if s.opts.subscribeURLAllowed != nil {
		allowed = s.opts.subscribeURLAllowed
	}
	if err != nil || !allowed(u) {
		return &SubscriptionError{TopicArn: c.TopicArn, URL: c.SubscribeURL,
			Err: fmt.Errorf("SubscribeURL is not an https URL on an sns.<region>.amazonaws.com host; not visited")}
	}
	hc := s.opts.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return &SubscriptionError{TopicArn: c.TopicArn, URL: c.SubscribeURL, Err: err}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return &SubscriptionError{TopicArn: c.TopicArn, URL: c.SubscribeURL, Err: err}
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return &SubscriptionError{TopicArn: c.TopicArn, URL: c.SubscribeURL, Err: fmt.Errorf("confirmation answered %s", resp.Status)}
	}
	return nil
}

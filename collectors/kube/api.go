package kube

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"syscall"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// API is what the collector reads from a cluster: lists only, never a
// write. Clientset adapts client-go; tests of the rules may use client-go's
// fake clientset through it, the cluster tests use a real API server.
type API interface {
	Pods(ctx context.Context) ([]corev1.Pod, error)
	DaemonSets(ctx context.Context) ([]appsv1.DaemonSet, error)
	Deployments(ctx context.Context) ([]appsv1.Deployment, error)
	StatefulSets(ctx context.Context) ([]appsv1.StatefulSet, error)
	Jobs(ctx context.Context) ([]batchv1.Job, error)
	CronJobs(ctx context.Context) ([]batchv1.CronJob, error)
	Events(ctx context.Context) ([]corev1.Event, error)
	Nodes(ctx context.Context) ([]corev1.Node, error)
	// Secrets lists secrets of every namespace as metadata and key names:
	// values are dropped where they are decoded, never returned.
	Secrets(ctx context.Context) ([]SecretMeta, error)
	ConfigMap(ctx context.Context, namespace, name string) (*corev1.ConfigMap, error)
	Roles(ctx context.Context) ([]rbacv1.Role, error)
	ClusterRoles(ctx context.Context) ([]rbacv1.ClusterRole, error)
	RoleBindings(ctx context.Context) ([]rbacv1.RoleBinding, error)
	ClusterRoleBindings(ctx context.Context) ([]rbacv1.ClusterRoleBinding, error)
}

// SecretMeta is everything about a Secret the collector keeps: never a value.
type SecretMeta struct {
	Namespace, Name, Type string
	Keys                  []string
	Created               time.Time
	// Modified is the latest of the creation time and the times in
	// managedFields (every write through the API records one): a value
	// changed after the window is newer than what the window exposed.
	Modified time.Time
}

// MaxObjects bounds the objects read of one kind: a larger cluster is
// reported as partial rather than held in memory whole.
const MaxObjects = 200_000

// listPage is the page size of every list: large enough to be quick, small
// enough that a slow API server answers each page within the timeout.
const listPage = 500

// Clientset reads through client-go.
type Clientset struct {
	C kubernetes.Interface
	// Timeout bounds each request (a page of a list); 0 means 30 s.
	Timeout time.Duration
}

var _ API = (*Clientset)(nil)

func (c *Clientset) timeout() time.Duration {
	if c.Timeout <= 0 {
		return 30 * time.Second
	}
	return c.Timeout
}

// errTruncated marks a list cut at MaxObjects.
var errTruncated = errors.New("more objects than the collector reads")

// pages lists with pagination, each page under its own timeout.
func pages[T any](ctx context.Context, timeout time.Duration, list func(context.Context, metav1.ListOptions) ([]T, string, error)) ([]T, error) {
	var out []T
	opts := metav1.ListOptions{Limit: listPage}
	for {
		var items []T
		var next string
		var err error
		for attempt := 1; ; attempt++ {
			pctx, cancel := context.WithTimeout(ctx, timeout)
			items, next, err = list(pctx, opts)
			cancel()
			if err == nil || attempt == pageAttempts || !transient(err) || ctx.Err() != nil {
				break
			}
			// client-go already waited out any Retry-After; this covers what
			// it does not retry (5xx, truncated answers, network timeouts).
			select {
			case <-time.After(time.Duration(attempt) * 250 * time.Millisecond):
			case <-ctx.Done():
			}
		}
		if err != nil {
			return out, err
		}
		out = append(out, items...)
		if len(out) >= MaxObjects {
			return out[:MaxObjects], errTruncated
		}
		if next == "" {
			return out, nil
		}
		opts.Continue = next
	}
}

func (c *Clientset) Pods(ctx context.Context) ([]corev1.Pod, error) {
	return pages(ctx, c.timeout(), func(ctx context.Context, o metav1.ListOptions) ([]corev1.Pod, string, error) {
		l, err := c.C.CoreV1().Pods("").List(ctx, o)
		if err != nil {
			return nil, "", err
		}
		return l.Items, l.Continue, nil
	})
}

func (c *Clientset) DaemonSets(ctx context.Context) ([]appsv1.DaemonSet, error) {
	return pages(ctx, c.timeout(), func(ctx context.Context, o metav1.ListOptions) ([]appsv1.DaemonSet, string, error) {
		l, err := c.C.AppsV1().DaemonSets("").List(ctx, o)
		if err != nil {
			return nil, "", err
		}
		return l.Items, l.Continue, nil
	})
}

func (c *Clientset) Deployments(ctx context.Context) ([]appsv1.Deployment, error) {
	return pages(ctx, c.timeout(), func(ctx context.Context, o metav1.ListOptions) ([]appsv1.Deployment, string, error) {
		l, err := c.C.AppsV1().Deployments("").List(ctx, o)
		if err != nil {
			return nil, "", err
		}
		return l.Items, l.Continue, nil
	})
}

func (c *Clientset) StatefulSets(ctx context.Context) ([]appsv1.StatefulSet, error) {
	return pages(ctx, c.timeout(), func(ctx context.Context, o metav1.ListOptions) ([]appsv1.StatefulSet, string, error) {
		l, err := c.C.AppsV1().StatefulSets("").List(ctx, o)
		if err != nil {
			return nil, "", err
		}
		return l.Items, l.Continue, nil
	})
}

func (c *Clientset) Jobs(ctx context.Context) ([]batchv1.Job, error) {
	return pages(ctx, c.timeout(), func(ctx context.Context, o metav1.ListOptions) ([]batchv1.Job, string, error) {
		l, err := c.C.BatchV1().Jobs("").List(ctx, o)
		if err != nil {
			return nil, "", err
		}
		return l.Items, l.Continue, nil
	})
}

func (c *Clientset) CronJobs(ctx context.Context) ([]batchv1.CronJob, error) {
	return pages(ctx, c.timeout(), func(ctx context.Context, o metav1.ListOptions) ([]batchv1.CronJob, string, error) {
		l, err := c.C.BatchV1().CronJobs("").List(ctx, o)
		if err != nil {
			return nil, "", err
		}
		return l.Items, l.Continue, nil
	})
}

func (c *Clientset) Events(ctx context.Context) ([]corev1.Event, error) {
	return pages(ctx, c.timeout(), func(ctx context.Context, o metav1.ListOptions) ([]corev1.Event, string, error) {
		l, err := c.C.CoreV1().Events("").List(ctx, o)
		if err != nil {
			return nil, "", err
		}
		return l.Items, l.Continue, nil
	})
}

func (c *Clientset) Nodes(ctx context.Context) ([]corev1.Node, error) {
	return pages(ctx, c.timeout(), func(ctx context.Context, o metav1.ListOptions) ([]corev1.Node, string, error) {
		l, err := c.C.CoreV1().Nodes().List(ctx, o)
		if err != nil {
			return nil, "", err
		}
		return l.Items, l.Continue, nil
	})
}

// Secrets lists every namespace's secrets. The API has no way to list key
// names without the values, so each page is decoded, reduced to SecretMeta
// and dropped here: no value (nor the last-applied annotation, which holds
// them too) leaves this function.
func (c *Clientset) Secrets(ctx context.Context) ([]SecretMeta, error) {
	return pages(ctx, c.timeout(), func(ctx context.Context, o metav1.ListOptions) ([]SecretMeta, string, error) {
		l, err := c.C.CoreV1().Secrets("").List(ctx, o)
		if err != nil {
			return nil, "", err
		}
		out := make([]SecretMeta, 0, len(l.Items))
		for i := range l.Items {
			out = append(out, secretMeta(&l.Items[i]))
			l.Items[i] = corev1.Secret{}
		}
		return out, l.Continue, nil
	})
}

// secretMeta keeps the names and times of s, never its data or annotations.
func secretMeta(s *corev1.Secret) SecretMeta {
	m := SecretMeta{Namespace: s.Namespace, Name: s.Name, Type: string(s.Type), Created: s.CreationTimestamp.UTC()}
	seen := map[string]bool{}
	for k := range s.Data {
		seen[k] = true
	}
	for k := range s.StringData {
		seen[k] = true
	}
	for k := range seen {
		m.Keys = append(m.Keys, k)
	}
	sort.Strings(m.Keys)
	m.Modified = m.Created
	for _, mf := range s.ManagedFields {
		if mf.Time != nil && mf.Time.UTC().After(m.Modified) {
			m.Modified = mf.Time.UTC()
		}
	}
	return m
}

func (c *Clientset) ConfigMap(ctx context.Context, namespace, name string) (*corev1.ConfigMap, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout())
	defer cancel()
	return c.C.CoreV1().ConfigMaps(namespace).Get(ctx, name, metav1.GetOptions{})
}

func (c *Clientset) Roles(ctx context.Context) ([]rbacv1.Role, error) {
	return pages(ctx, c.timeout(), func(ctx context.Context, o metav1.ListOptions) ([]rbacv1.Role, string, error) {
		l, err := c.C.RbacV1().Roles("").List(ctx, o)
		if err != nil {
			return nil, "", err
		}
		return l.Items, l.Continue, nil
	})
}

func (c *Clientset) ClusterRoles(ctx context.Context) ([]rbacv1.ClusterRole, error) {
	return pages(ctx, c.timeout(), func(ctx context.Context, o metav1.ListOptions) ([]rbacv1.ClusterRole, string, error) {
		l, err := c.C.RbacV1().ClusterRoles().List(ctx, o)
		if err != nil {
			return nil, "", err
		}
		return l.Items, l.Continue, nil
	})
}

func (c *Clientset) RoleBindings(ctx context.Context) ([]rbacv1.RoleBinding, error) {
	return pages(ctx, c.timeout(), func(ctx context.Context, o metav1.ListOptions) ([]rbacv1.RoleBinding, string, error) {
		l, err := c.C.RbacV1().RoleBindings("").List(ctx, o)
		if err != nil {
			return nil, "", err
		}
		return l.Items, l.Continue, nil
	})
}

func (c *Clientset) ClusterRoleBindings(ctx context.Context) ([]rbacv1.ClusterRoleBinding, error) {
	return pages(ctx, c.timeout(), func(ctx context.Context, o metav1.ListOptions) ([]rbacv1.ClusterRoleBinding, string, error) {
		l, err := c.C.RbacV1().ClusterRoleBindings().List(ctx, o)
		if err != nil {
			return nil, "", err
		}
		return l.Items, l.Continue, nil
	})
}

// explain turns a read error into the partial-result note an operator can
// act on: which permission is missing, or that the server was too slow.
func explain(what, need string, err error, timeout time.Duration) string {
	switch {
	case errors.Is(err, errTruncated):
		return fmt.Sprintf("more than %d objects: only the first %d were read", MaxObjects, MaxObjects)
	case apierrors.IsForbidden(err):
		return fmt.Sprintf("HTTP 403: the account lacks %s", need)
	case apierrors.IsUnauthorized(err):
		return "HTTP 401: the credentials were refused"
	case errors.Is(err, context.DeadlineExceeded), apierrors.IsTimeout(err), apierrors.IsServerTimeout(err), isTimeout(err):
		return fmt.Sprintf("timed out after %s", timeout)
	case apierrors.IsNotFound(err):
		return "HTTP 404: the API server does not serve " + what
	}
	return scrub(err.Error())
}

// pageAttempts bounds the tries of one page on a transient error.
const pageAttempts = 3

// transient reports whether a failed page is worth asking for again: a
// server error, a rate limit client-go gave up on, an answer cut short, a
// reset connection or a network timeout. The page's own deadline is not
// (the server is slow; asking again would only triple the wait), nor is a
// refusal.
func transient(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return false
	}
	if c := statusCode(err); c == http.StatusTooManyRequests || c >= 500 {
		return true
	}
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) || isTimeout(err)
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// statusCode is the HTTP status of an API error, 0 when there is none.
func statusCode(err error) int {
	var se apierrors.APIStatus
	if errors.As(err, &se) {
		return int(se.Status().Code)
	}
	return 0
}

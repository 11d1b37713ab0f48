// Package kubetest runs a real Kubernetes API server for tests: etcd
// (Debian's etcd-server) and kube-apiserver v1.33.13 built from the Go
// module proxy by scripts/testenv/kube-peer.sh, with RBAC authorization and
// static bearer tokens. No controllers run: pods stay as created (tests set
// their status through the status subresource), DaemonSets get no pods and
// deleted namespaces stay Terminating, so every test uses fresh namespaces.
package kubetest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/tourniquet-ir/tourniquet/internal/peerproc"
)

const (
	// RequirePeersEnv turns a missing peer from a skip into a failure (CI).
	RequirePeersEnv = "TOURNIQUET_REQUIRE_PEERS"
	// PeerDirEnv names the folder scripts/testenv/kube-peer.sh installed
	// kube-apiserver (and an etcd link) into.
	PeerDirEnv = "TOURNIQUET_KUBE_PEER"
	// Version is the kube-apiserver the script builds.
	Version = "v1.33.13"

	startTimeout = 60 * time.Second
)

// Tokens of the static users every server knows. Admin is in
// system:masters; Reader and Nobody have no permission until a test binds
// one (Reader for partial-permission tests, Nobody for "refused everything").
const (
	AdminToken  = "tourniquet-test-admin-token"
	ReaderToken = "tourniquet-test-reader-token"
	NobodyToken = "tourniquet-test-nobody-token"
	ReaderUser  = "reader"
	NobodyUser  = "nobody"
)

// Cluster is a running etcd + kube-apiserver.
type Cluster struct {
	URL    string // https://127.0.0.1:PORT
	CAPEM  []byte
	CAFile string
	Dir    string

	procs []*proc
}

// PeerDir returns where the peer is installed.
func PeerDir() string {
	if d := os.Getenv(PeerDirEnv); d != "" {
		return d
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".cache", "tourniquet", "kube-peer-"+Version)
}

// Start runs a fresh etcd and kube-apiserver for the test; both process
// groups are stopped in t.Cleanup. Without an install the test is skipped,
// unless TOURNIQUET_REQUIRE_PEERS=1.
func Start(t testing.TB) *Cluster {
	t.Helper()
	dir := PeerDir()
	apiserver := filepath.Join(dir, "kube-apiserver")
	etcd := filepath.Join(dir, "etcd")
	for _, bin := range []string{apiserver, etcd} {
		if _, err := os.Stat(bin); err != nil {
			msg := fmt.Sprintf("kubetest: %s is not installed (run scripts/testenv/kube-peer.sh, or set %s)", bin, PeerDirEnv)
			if os.Getenv(RequirePeersEnv) == "1" {
				t.Fatal(msg)
			}
			t.Skip(msg + "; set " + RequirePeersEnv + "=1 to fail instead of skipping")
		}
	}
	c := &Cluster{Dir: t.TempDir()}
	t.Cleanup(func() {
		for i := len(c.procs) - 1; i >= 0; i-- {
			if err := c.procs[i].stop(); err != nil {
				t.Errorf("kubetest: stop %s: %v", c.procs[i].name, err)
			}
		}
	})
	for attempt := 1; ; attempt++ {
		err := c.start(apiserver, etcd)
		if err == nil {
			return c
		}
		for _, p := range c.procs {
			_ = p.stop()
		}
		c.procs = nil
		if attempt == 3 {
			t.Fatalf("kubetest: start: %v", err)
		}
	}
}

func (c *Cluster) start(apiserver, etcdBin string) error {
	ports, err := freePorts(3)
	if err != nil {
		return err
	}
	etcdURL := "http://127.0.0.1:" + strconv.Itoa(ports[0])
	data := filepath.Join(c.Dir, fmt.Sprintf("etcd-%d", ports[0]))
	etcd := &proc{name: "etcd", out: &syncBuffer{}}
	etcd.cmd = exec.Command(etcdBin, "--data-dir", data, "--name", "kubetest",
		"--listen-client-urls", etcdURL, "--advertise-client-urls", etcdURL,
		"--listen-peer-urls", "http://127.0.0.1:"+strconv.Itoa(ports[1]),
		"--initial-advertise-peer-urls", "http://127.0.0.1:"+strconv.Itoa(ports[1]),
		"--initial-cluster", "kubetest=http://127.0.0.1:"+strconv.Itoa(ports[1]),
		"--unsafe-no-fsync", "--log-level", "error")
	if err := etcd.start(); err != nil {
		return err
	}
	c.procs = append(c.procs, etcd)

	if err := c.writeFiles(); err != nil {
		return err
	}
	c.URL = "https://127.0.0.1:" + strconv.Itoa(ports[2])
	f := func(n string) string { return filepath.Join(c.Dir, n) }
	api := &proc{name: "kube-apiserver", out: &syncBuffer{}}
	api.cmd = exec.Command(apiserver,
		"--etcd-servers="+etcdURL,
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", "--secure-port="+strconv.Itoa(ports[2]),
		"--tls-cert-file="+f("serving.crt"), "--tls-private-key-file="+f("serving.key"),
		"--token-auth-file="+f("tokens.csv"), "--authorization-mode=RBAC",
		"--service-account-key-file="+f("sa.pub"), "--service-account-signing-key-file="+f("sa.key"),
		"--service-account-issuer="+c.URL, "--service-cluster-ip-range=10.0.0.0/24",
		"--disable-admission-plugins=ServiceAccount", "--allow-privileged=true",
		"--enable-priority-and-fairness=false", "--endpoint-reconciler-type=none",
		"--event-ttl=24h", "--v=0")
	if err := api.start(); err != nil {
		return err
	}
	c.procs = append(c.procs, api)
	return c.waitReady(api, etcd)
}

func (c *Cluster) waitReady(api, etcd *proc) error {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(c.CAPEM)
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		for _, p := range []*proc{etcd, api} {
			select {
			case <-p.done:
				return fmt.Errorf("%s exited: %v; output:\n%s", p.name, p.cmd.ProcessState, p.out.String())
			default:
			}
		}
		req, _ := http.NewRequest(http.MethodGet, c.URL+"/readyz", nil)
		req.Header.Set("Authorization", "Bearer "+AdminToken)
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("kube-apiserver not ready within %v; output:\n%s", startTimeout, api.out.String())
}

// writeFiles makes a CA, a serving certificate for 127.0.0.1, the service
// account signing key and the static token file.
func (c *Cluster) writeFiles() error {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kubetest-ca"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return err
	}
	ca, _ := x509.ParseCertificate(caDER)
	srvKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	srvTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "kube-apiserver"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost", "kubernetes"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	srvDER, err := x509.CreateCertificate(rand.Reader, srvTmpl, ca, &srvKey.PublicKey, caKey)
	if err != nil {
		return err
	}
	srvKeyDER, err := x509.MarshalECPrivateKey(srvKey)
	if err != nil {
		return err
	}
	saKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	saPub, err := x509.MarshalPKIXPublicKey(&saKey.PublicKey)
	if err != nil {
		return err
	}
	c.CAPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	c.CAFile = filepath.Join(c.Dir, "ca.crt")
	files := map[string][]byte{
		"ca.crt":      c.CAPEM,
		"serving.crt": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srvDER}),
		"serving.key": pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: srvKeyDER}),
		"sa.key":      pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(saKey)}),
		"sa.pub":      pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: saPub}),
		"tokens.csv": []byte(AdminToken + ",admin,uid-admin,\"system:masters\"\n" +
			ReaderToken + "," + ReaderUser + ",uid-reader\n" +
			NobodyToken + "," + NobodyUser + ",uid-nobody\n"),
	}
	for n, b := range files {
		if err := os.WriteFile(filepath.Join(c.Dir, n), b, 0o600); err != nil {
			return err
		}
	}
	return nil
}

// Config is a client configuration for the server with a bearer token.
func (c *Cluster) Config(token string) *rest.Config {
	return &rest.Config{Host: c.URL, BearerToken: token, TLSClientConfig: rest.TLSClientConfig{CAData: c.CAPEM}, Timeout: 30 * time.Second}
}

// Admin is a clientset with system:masters.
func (c *Cluster) Admin(t testing.TB) kubernetes.Interface {
	t.Helper()
	cs, err := kubernetes.NewForConfig(c.Config(AdminToken))
	if err != nil {
		t.Fatalf("kubetest: clientset: %v", err)
	}
	return cs
}

// Kubeconfig writes a kubeconfig file for the server with the token (for
// CLI tests: `scan --kube --kubeconfig FILE`) and returns its path. The
// context and the cluster are both named name.
func (c *Cluster) Kubeconfig(t testing.TB, name, token string) string {
	t.Helper()
	var b bytes.Buffer
	fmt.Fprintf(&b, `apiVersion: v1
kind: Config
clusters:
- name: %[1]s
  cluster:
    server: %[2]s
    certificate-authority: %[3]s
users:
- name: %[1]s-user
  user:
    token: %[4]s
contexts:
- name: %[1]s
  context:
    cluster: %[1]s
    user: %[1]s-user
current-context: %[1]s
`, name, c.URL, c.CAFile, token)
	p := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(p, b.Bytes(), 0o600); err != nil {
		t.Fatalf("kubetest: %v", err)
	}
	return p
}

// proc is one peer process in its own process group.
type proc struct {
	name string
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
}

func (p *proc) start() error {
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	peerproc.Isolate(p.cmd)
	if err := p.cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", p.name, err)
	}
	p.done = make(chan struct{})
	go func() {
		_ = p.cmd.Wait()
		close(p.done)
	}()
	return nil
}

func (p *proc) stop() error {
	if p.done == nil {
		return nil
	}
	return peerproc.Stop(p.cmd, p.done, 10*time.Second)
}

func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var out []int
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		out = append(out, l.Addr().(*net.TCPAddr).Port)
	}
	return out, nil
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len() > 1<<20 {
		return len(p), nil
	}
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

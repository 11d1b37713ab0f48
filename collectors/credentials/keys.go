package credentials

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/binary"
	"encoding/pem"
	"math/big"
	"strconv"
	"strings"
)

// keyOpts says how to report the private keys found in a text.
type keyOpts struct {
	kind   string           // "" picks by block type; ssh-private-key or tls-private-key by path; or the file's kind (kubeconfig)
	owner  string           // Owner for every key
	note   string           // prepended to the key's own note
	hint   string           // replaces the public-key hint (a provider's key id)
	detail func(int) string // Detail for a block at a byte offset
}

const (
	pemBegin = "-----BEGIN "
	pemEnd   = "-----END "
	pemDash  = "-----"
	puttyTag = "PuTTY-User-Key-File-"
)

// maxKeyBlock bounds one key block: an RSA-16384 key in PEM is about 13 KB.
const maxKeyBlock = 64 << 10

// scanKeyBlocks adds every private key block in data (PEM, OpenSSH, PuTTY)
// and returns how many it found. Each block is searched for its END line
// only up to the next BEGIN, so that the scan stays linear.
func scanKeyBlocks(r *results, data []byte, o keyOpts) int {
	n := 0
	for off := 0; off < len(data) && !r.full(); {
		k := bytes.Index(data[off:], []byte(pemBegin))
		if k < 0 {
			break
		}
		i := off + k
		off = i + len(pemBegin)
		label, hdrEnd, ok := pemLabel(data, off)
		if !ok || !privateLabel(label) {
			continue
		}
		limit := len(data)
		if nb := bytes.Index(data[hdrEnd:], []byte(pemBegin)); nb >= 0 {
			limit = hdrEnd + nb
		}
		e := bytes.Index(data[hdrEnd:limit], []byte(pemEnd))
		if e < 0 {
			continue // unterminated; the next BEGIN is tried in turn
		}
		e += hdrEnd
		tail := e + len(pemEnd)
		if !bytes.HasPrefix(data[tail:], []byte(label)) || !bytes.HasPrefix(data[tail+len(label):], []byte(pemDash)) {
			continue
		}
		end := tail + len(label) + len(pemDash)
		off = end
		if end-i > maxKeyBlock {
			continue
		}
		block := canonicalPEM(data[i:end], label)
		addKey(r, block, label, i, o)
		n++
	}
	// PuTTY files run from their tag to the Private-MAC (or Private-Hash)
	// line. The next MAC line is searched once and reused by every tag
	// before it; a tag followed by another tag before any MAC is skipped.
	mac := -1
	for off := 0; off < len(data) && !r.full(); {
		k := bytes.Index(data[off:], []byte(puttyTag))
		if k < 0 {
			break
		}
		i := off + k
		off = i + len(puttyTag)
		if i > 0 && data[i-1] != '\n' && data[i-1] != '\r' && data[i-1] != ' ' && data[i-1] != '"' {
			continue
		}
		if mac < i {
			if mac = nextPuttyMAC(data, i); mac < 0 {
				break
			}
		}
		if nt := bytes.Index(data[off:mac], []byte(puttyTag)); nt >= 0 || mac-i > maxKeyBlock {
			continue
		}
		block, end := puttyBlock(data, i, mac)
		off = end
		addPutty(r, block, i, o)
		n++
	}
	return n
}

// nextPuttyMAC finds the next Private-MAC or Private-Hash line from i.
func nextPuttyMAC(data []byte, i int) int {
	a := bytes.Index(data[i:], []byte("Private-MAC:"))
	b := bytes.Index(data[i:], []byte("Private-Hash:"))
	switch {
	case a < 0 && b < 0:
		return -1
	case a < 0 || b >= 0 && b < a:
		return i + b
	}
	return i + a
}

// pemLabel reads "LABEL-----" at off.
func pemLabel(data []byte, off int) (string, int, bool) {
	j := off
	for j < len(data) && j-off <= 64 && (data[j] >= 'A' && data[j] <= 'Z' || data[j] >= '0' && data[j] <= '9' || data[j] == ' ') {
		j++
	}
	if j == off || !bytes.HasPrefix(data[j:], []byte(pemDash)) {
		return "", 0, false
	}
	return string(data[off:j]), j + len(pemDash), true
}

func privateLabel(label string) bool {
	return strings.HasSuffix(label, "PRIVATE KEY") || label == "PGP PRIVATE KEY BLOCK"
}

// canonicalPEM gives one form to a key block however it was embedded: lines
// trimmed of indentation and carriage returns, "\n" escapes (JSON, .env)
// turned into newlines, a block flattened onto one line split again. The same
// key then has the same fingerprint in a .pem file, a kubeconfig and a JSON
// service-account file.
func canonicalPEM(raw []byte, label string) string {
	s := string(raw)
	if !strings.Contains(s, "\n") && strings.Contains(s, `\n`) {
		s = strings.ReplaceAll(s, `\r\n`, "\n")
		s = strings.ReplaceAll(s, `\n`, "\n")
	}
	if !strings.Contains(s, "\n") {
		head := pemBegin + label + pemDash
		foot := pemEnd + label + pemDash
		body := strings.TrimSuffix(strings.TrimPrefix(s, head), foot)
		return head + "\n" + strings.Join(strings.Fields(body), "\n") + "\n" + foot
	}
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.Trim(l, " \t\r")
	}
	return strings.Join(lines, "\n")
}

// addKey describes one PEM or OpenSSH block and adds it.
func addKey(r *results, block, label string, off int, o keyOpts) {
	f := Found{Owner: o.owner}
	if o.detail != nil {
		f.Detail = o.detail(off)
	}
	sshStyle := true
	switch {
	case label == "PGP PRIVATE KEY BLOCK":
		f.Kind = KindGenericSecret
		f.Note = joinNote(o.note, "PGP private key")
		r.add(f, block)
		return
	case label == "OPENSSH PRIVATE KEY" && (o.kind == "" || o.kind == KindTLSPrivateKey):
		f.Kind = KindSSHPrivateKey
	case o.kind != "":
		f.Kind = o.kind
		sshStyle = o.kind == KindSSHPrivateKey
	default:
		f.Kind = KindTLSPrivateKey
		sshStyle = false
	}
	pub, encrypted := keyPublic(block, label)
	f.Hint = o.hint
	if f.Hint == "" {
		f.Hint = pub.hint(sshStyle)
	}
	if f.Hint == "" {
		f.Hint = strings.ToLower(label)
		if encrypted && !strings.Contains(label, "ENCRYPTED") {
			f.Hint += " (encrypted)"
		}
	}
	if encrypted {
		f.Note = joinNote(o.note, "passphrase-protected")
	} else {
		f.Note = o.note
	}
	r.add(f, block)
}

func joinNote(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "; " + b
}

// pubKey is the public half of a private key, in the forms hints use.
type pubKey struct {
	sshBlob []byte // SSH wire format; nil when SSH has no such key type
	spki    []byte // DER SubjectPublicKeyInfo; nil when x509 cannot encode it
	alg     string // "RSA-2048", "ECDSA-P256", "Ed25519" ...
}

// hint renders the key's public fingerprint: OpenSSH's "ssh-ed25519
// SHA256:…" (what ssh-keygen -lf prints) for SSH keys, the SPKI pin
// "RSA-2048 pin-sha256:…" (openssl pkey -pubout | sha256 | base64) for
// others, each falling back to the other when it cannot be computed.
func (p pubKey) hint(sshStyle bool) string {
	if sshStyle || p.spki == nil {
		if t, ok := sshKeyType(p.sshBlob); ok {
			sum := sha256.Sum256(p.sshBlob)
			return t + " SHA256:" + base64.RawStdEncoding.EncodeToString(sum[:])
		}
	}
	if p.spki != nil {
		sum := sha256.Sum256(p.spki)
		return p.alg + " pin-sha256:" + base64.StdEncoding.EncodeToString(sum[:])
	}
	return ""
}

// keyPublic derives the public key of a canonical block, and whether the
// private part is encrypted. Nothing private is returned.
func keyPublic(block, label string) (pubKey, bool) {
	if label == "OPENSSH PRIVATE KEY" {
		return openSSHPublic(block)
	}
	b, _ := pem.Decode([]byte(block))
	if b == nil {
		return pubKey{}, label == "ENCRYPTED PRIVATE KEY"
	}
	if label == "ENCRYPTED PRIVATE KEY" || strings.Contains(b.Headers["Proc-Type"], "ENCRYPTED") {
		return pubKey{}, true
	}
	if len(b.Bytes) > maxKeyBlock {
		return pubKey{}, false
	}
	switch label {
	case "RSA PRIVATE KEY":
		return rsaPublic(b.Bytes), false
	case "EC PRIVATE KEY":
		k, err := x509.ParseECPrivateKey(b.Bytes)
		if err != nil {
			return pubKey{}, false
		}
		return ecdsaPublic(&k.PublicKey), false
	case "DSA PRIVATE KEY":
		return dsaPublic(b.Bytes), false
	case "PRIVATE KEY":
		return pkcs8Public(b.Bytes), false
	}
	return pubKey{}, false
}

// openSSHPublic reads the public key blob from an openssh-key-v1 block: it
// sits unencrypted in the header even when the private part is encrypted.
func openSSHPublic(block string) (pubKey, bool) {
	body := block
	if i := strings.IndexByte(body, '\n'); i >= 0 {
		body = body[i+1:]
	}
	if i := strings.LastIndex(body, pemEnd); i >= 0 {
		body = body[:i]
	}
	raw, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(body), ""))
	if err != nil {
		return pubKey{}, false
	}
	const magic = "openssh-key-v1\x00"
	if !bytes.HasPrefix(raw, []byte(magic)) {
		return pubKey{}, false
	}
	rd := wire(raw[len(magic):])
	cipher, ok1 := rd.str()
	_, ok2 := rd.str() // kdfname
	_, ok3 := rd.str() // kdfoptions
	n, ok4 := rd.u32()
	blob, ok5 := rd.str()
	if !(ok1 && ok2 && ok3 && ok4 && ok5) || n < 1 {
		return pubKey{}, false
	}
	encrypted := string(cipher) != "none"
	return pubKey{sshBlob: blob}, encrypted
}

// wire reads SSH wire-format fields.
type wire []byte

func (w *wire) u32() (uint32, bool) {
	if len(*w) < 4 {
		return 0, false
	}
	v := binary.BigEndian.Uint32(*w)
	*w = (*w)[4:]
	return v, true
}

func (w *wire) str() ([]byte, bool) {
	n, ok := w.u32()
	if !ok || uint64(n) > uint64(len(*w)) {
		return nil, false
	}
	s := (*w)[:n]
	*w = (*w)[n:]
	return s, true
}

// sshKeyType is the key type named at the start of an SSH public key blob.
func sshKeyType(blob []byte) (string, bool) {
	if blob == nil {
		return "", false
	}
	rd := wire(blob)
	t, ok := rd.str()
	if !ok || len(t) == 0 || len(t) > 64 {
		return "", false
	}
	for _, c := range t {
		if c <= 0x20 || c >= 0x7f {
			return "", false
		}
	}
	return string(t), true
}

func putString(b []byte, s []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

func putMPInt(b []byte, n *big.Int) []byte {
	v := n.Bytes()
	if len(v) > 0 && v[0]&0x80 != 0 {
		v = append([]byte{0}, v...)
	}
	return putString(b, v)
}

// pkcs1 is an RSA private key (RFC 8017); parsed by hand so that a hostile
// key is not validated (which costs modular exponentiations).
type pkcs1 struct {
	Version                     int
	N, E, D, P, Q, Dp, Dq, Qinv *big.Int
	Rest                        []asn1.RawValue `asn1:"optional"`
}

const maxRSABits = 16384

func rsaPublic(der []byte) pubKey {
	var k pkcs1
	if _, err := asn1.Unmarshal(der, &k); err != nil || k.N == nil || k.E == nil ||
		k.N.Sign() <= 0 || k.E.Sign() <= 0 || k.N.BitLen() > maxRSABits || k.E.BitLen() > 64 {
		return pubKey{}
	}
	return rsaPub(k.N, k.E)
}

func rsaPub(n, e *big.Int) pubKey {
	p := pubKey{alg: "RSA-" + strconv.Itoa(n.BitLen())}
	blob := putString(nil, []byte("ssh-rsa"))
	blob = putMPInt(blob, e)
	p.sshBlob = putMPInt(blob, n)
	if e.IsInt64() && e.Int64() <= 1<<31-1 {
		if der, err := x509.MarshalPKIXPublicKey(&rsa.PublicKey{N: n, E: int(e.Int64())}); err == nil {
			p.spki = der
		}
	}
	return p
}

func ecdsaPublic(k *ecdsa.PublicKey) pubKey {
	var p pubKey
	if der, err := x509.MarshalPKIXPublicKey(k); err == nil {
		p.spki = der
	}
	ek, err := k.ECDH()
	if err != nil {
		return p
	}
	name := k.Curve.Params().Name // "P-256"
	p.alg = "ECDSA-" + name
	curve := "nistp" + strings.TrimPrefix(name, "P-")
	blob := putString(nil, []byte("ecdsa-sha2-"+curve))
	blob = putString(blob, []byte(curve))
	p.sshBlob = putString(blob, ek.Bytes())
	return p
}

func ed25519Public(k ed25519.PublicKey) pubKey {
	p := pubKey{alg: "Ed25519"}
	blob := putString(nil, []byte("ssh-ed25519"))
	p.sshBlob = putString(blob, k)
	if der, err := x509.MarshalPKIXPublicKey(k); err == nil {
		p.spki = der
	}
	return p
}

// dsaKey is OpenSSL's DSA private key structure.
type dsaKey struct {
	Version       int
	P, Q, G, Y, X *big.Int
}

func dsaPublic(der []byte) pubKey {
	var k dsaKey
	if _, err := asn1.Unmarshal(der, &k); err != nil || k.P == nil || k.Q == nil || k.G == nil || k.Y == nil ||
		k.P.Sign() <= 0 || k.Q.Sign() <= 0 || k.G.Sign() <= 0 || k.Y.Sign() <= 0 || k.P.BitLen() > maxRSABits {
		return pubKey{}
	}
	blob := putString(nil, []byte("ssh-dss"))
	for _, v := range []*big.Int{k.P, k.Q, k.G, k.Y} {
		blob = putMPInt(blob, v)
	}
	return pubKey{sshBlob: blob, alg: "DSA-" + strconv.Itoa(k.P.BitLen())}
}

type pkcs8 struct {
	Version    int
	Algo       pkix.AlgorithmIdentifier
	PrivateKey []byte
}

var oidRSA = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}

func pkcs8Public(der []byte) pubKey {
	var k pkcs8
	if _, err := asn1.Unmarshal(der, &k); err != nil {
		return pubKey{}
	}
	if k.Algo.Algorithm.Equal(oidRSA) {
		return rsaPublic(k.PrivateKey)
	}
	key, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return pubKey{}
	}
	switch key := key.(type) {
	case *ecdsa.PrivateKey:
		return ecdsaPublic(&key.PublicKey)
	case ed25519.PrivateKey:
		return ed25519Public(key.Public().(ed25519.PublicKey))
	case *ecdh.PrivateKey:
		p := pubKey{alg: "X25519"}
		if der, err := x509.MarshalPKIXPublicKey(key.PublicKey()); err == nil {
			p.spki = der
		}
		return p
	}
	return pubKey{}
}

// puttyBlock returns the canonical text of a PuTTY key file from its tag
// at i through the end of its MAC line at mac, and where that line ends.
func puttyBlock(data []byte, i, mac int) (string, int) {
	end := len(data)
	if nl := bytes.IndexByte(data[mac:min(len(data), mac+1024)], '\n'); nl >= 0 {
		end = mac + nl
	} else {
		end = min(len(data), mac+1024)
	}
	lines := strings.Split(string(data[i:end]), "\n")
	for k, l := range lines {
		lines[k] = strings.Trim(l, " \t\r")
	}
	return strings.Join(lines, "\n"), end
}

// addPutty adds a PuTTY key with the fingerprint of its public lines.
func addPutty(r *results, block string, off int, o keyOpts) {
	f := Found{Kind: KindSSHPrivateKey, Owner: o.owner, Note: o.note}
	if o.kind != "" && o.kind != KindTLSPrivateKey {
		f.Kind = o.kind
	}
	if o.detail != nil {
		f.Detail = o.detail(off)
	}
	lines := strings.Split(block, "\n")
	encrypted := false
	var pub []byte
	for k := 0; k < len(lines); k++ {
		name, val, ok := strings.Cut(lines[k], ":")
		if !ok {
			continue
		}
		val = strings.TrimSpace(val)
		switch name {
		case "Encryption":
			encrypted = val != "none"
		case "Public-Lines":
			n, err := strconv.Atoi(val)
			if err != nil || n < 1 || n > 64 || k+n >= len(lines) {
				continue
			}
			pub, _ = base64.StdEncoding.DecodeString(strings.Join(lines[k+1:k+1+n], ""))
			k += n
		}
	}
	f.Hint = pubKey{sshBlob: pub}.hint(true)
	if f.Hint == "" {
		f.Hint = "putty private key"
	}
	if encrypted {
		f.Note = joinNote(f.Note, "passphrase-protected")
	}
	r.add(f, block)
}

package credentials

import "strings"

// format is the parser chosen for a path.
type format uint8

const (
	fmtNone format = iota // not wanted; Parse falls back to fmtText
	fmtText               // ScanText, after sniffing for JSON and YAML credential files
	fmtAWS
	fmtSSH
	fmtKeyFile
	fmtGitCredentials
	fmtGitConfig
	fmtGH
	fmtGlab
	fmtKube
	fmtSAToken
	fmtMountedSecret
	fmtEnv
	fmtShell
	fmtSystemd
	fmtDocker
	fmtNpmrc
	fmtYarnrc
	fmtPypirc
	fmtNetrc
	fmtVault
	fmtGCP
	fmtGcloudDB
	fmtAzure
	fmtPgpass
	fmtMyCnf
	fmtRedis
	fmtKeyword
	fmtTerraformVars
	fmtTerraformState
	fmtWireGuard
	fmtConfigYAML
	fmtCredentialsJSON
	fmtAWSCache
	fmtHelmRepos
	numFormats
)

// parsers maps each format to its parser. fmtNone parses as text.
var parsers = [numFormats]func(r *results, path string, data []byte){
	fmtNone:            parseText,
	fmtText:            parseText,
	fmtAWS:             parseAWS,
	fmtSSH:             parseKeyFile,
	fmtKeyFile:         parseKeyFile,
	fmtGitCredentials:  parseGitCredentials,
	fmtGitConfig:       parseGitConfig,
	fmtGH:              parseGH,
	fmtGlab:            parseGlab,
	fmtKube:            parseKubeFile,
	fmtSAToken:         parseSAToken,
	fmtMountedSecret:   parseMountedSecret,
	fmtEnv:             parseDotenv,
	fmtShell:           parseShell,
	fmtSystemd:         parseSystemd,
	fmtDocker:          parseDockerFile,
	fmtNpmrc:           parseNpmrc,
	fmtYarnrc:          parseYarnrc,
	fmtPypirc:          parsePypirc,
	fmtNetrc:           parseNetrc,
	fmtVault:           parseVault,
	fmtGCP:             parseGCPFile,
	fmtGcloudDB:        parseGcloudDB,
	fmtAzure:           parseAzure,
	fmtPgpass:          parsePgpass,
	fmtMyCnf:           parseMyCnf,
	fmtRedis:           parseRedis,
	fmtKeyword:         parseKeyword,
	fmtTerraformVars:   parseTFVars,
	fmtTerraformState:  parseTFState,
	fmtWireGuard:       parseWireGuard,
	fmtConfigYAML:      parseText,
	fmtCredentialsJSON: parseText,
	fmtAWSCache:        parseAWSCache,
	fmtHelmRepos:       parseHelmRepos,
}

// Wanted reports whether the file at path is one this package parses: a
// known credential location or a name that credential files carry. path is
// absolute and slash-separated as seen inside the scanned root; a home
// directory is recognised by the dotfile names under it, wherever it is.
// Generic text files (.json, .yaml, .conf ...) are the caller's choice: Parse
// sniffs and scans them too. Wanted does only string comparisons.
func Wanted(path string) bool { return formatOf(path) != fmtNone }

// formatOf picks the parser for path. It is called for every file of a walk:
// a switch on the base name, then suffix and substring checks, no allocation.
func formatOf(p string) format {
	i := strings.LastIndexByte(p, '/')
	base := p[i+1:]
	dir := ""
	if i > 0 {
		dir = p[:i]
	}
	if base == "" {
		return fmtNone
	}
	if f := byName(p, base, dir); f != fmtNone {
		return f
	}
	if strings.Contains(p, "/.ssh/") {
		return sshDirFile(base)
	}
	if strings.HasPrefix(p, "/run/secrets/") || strings.HasPrefix(p, "/var/run/secrets/") || strings.HasPrefix(p, "/var/secrets/") {
		return mountedSecret(base, dir)
	}
	if strings.HasPrefix(p, "/var/lib/kubelet/pods/") {
		return kubeletVolume(base, dir)
	}
	switch {
	case strings.HasPrefix(base, ".env.") || strings.HasSuffix(base, ".env"):
		return fmtEnv
	case strings.HasSuffix(base, ".tfvars") || strings.HasSuffix(base, ".tfvars.json"):
		return fmtTerraformVars
	case strings.HasSuffix(base, ".service"):
		if strings.Contains(dir, "/systemd") {
			return fmtSystemd
		}
	case strings.HasSuffix(base, ".conf"):
		switch {
		case strings.HasSuffix(dir, ".service.d"):
			return fmtSystemd
		case dir == "/etc/wireguard":
			return fmtWireGuard
		case dir == "/etc/kubernetes":
			return fmtKube
		case dir == "/etc/mysql/conf.d" || dir == "/etc/mysql/mysql.conf.d" || dir == "/etc/mysql/mariadb.conf.d":
			return fmtMyCnf
		}
	case strings.HasSuffix(base, ".sh"):
		if dir == "/etc/profile.d" {
			return fmtShell
		}
	case strings.HasSuffix(base, ".key") || strings.HasSuffix(base, ".pem") ||
		strings.HasSuffix(base, ".p8") || strings.HasSuffix(base, ".ppk"):
		if dir == "/etc/ssh" && strings.HasPrefix(base, "ssh_host_") {
			return fmtSSH
		}
		if inPackageTree(p) {
			return fmtNone // test keys shipped by packages are not this host's
		}
		return fmtKeyFile
	case strings.HasSuffix(base, "_key"):
		if dir == "/etc/ssh" && strings.HasPrefix(base, "ssh_host_") {
			return fmtSSH
		}
	case strings.HasSuffix(base, ".json"):
		switch {
		case strings.HasSuffix(dir, "/.aws/cli/cache") || strings.HasSuffix(dir, "/.aws/sso/cache"):
			return fmtAWSCache
		case strings.Contains(dir, "/.config/gcloud"):
			return fmtGCP
		case inPackageTree(p):
			return fmtNone
		case strings.Contains(base, "credential") || strings.Contains(base, "service-account") ||
			strings.Contains(base, "service_account") || strings.Contains(base, "serviceaccount") ||
			strings.Contains(base, "keyfile"):
			return fmtCredentialsJSON
		}
	case strings.HasSuffix(base, ".yaml") || strings.HasSuffix(base, ".yml"):
		if strings.Contains(base, "litellm") && !inPackageTree(p) {
			return fmtConfigYAML
		}
	}
	if strings.Contains(base, "kubeconfig") {
		return fmtKube
	}
	return fmtNone
}

// byName handles the exact base names.
func byName(p, base, dir string) format {
	switch base {
	case "credentials":
		switch {
		case strings.HasSuffix(dir, "/.aws"):
			return fmtAWS
		case strings.HasSuffix(dir, "/.config/git"):
			return fmtGitCredentials
		}
	case "config":
		switch {
		case strings.HasSuffix(dir, "/.aws"):
			return fmtAWS
		case strings.HasSuffix(dir, "/.kube"):
			return fmtKube
		case strings.HasSuffix(dir, "/.config/git") || strings.HasSuffix(dir, "/.git"):
			return fmtGitConfig
		}
	case ".git-credentials":
		return fmtGitCredentials
	case ".gitconfig":
		return fmtGitConfig
	case "hosts.yml":
		if strings.HasSuffix(dir, "/gh") {
			return fmtGH
		}
	case "config.yml", "config.yaml", "proxy_config.yaml", "proxy_server_config.yaml":
		if base == "config.yml" && strings.HasSuffix(dir, "/glab-cli") {
			return fmtGlab
		}
		if !inPackageTree(p) {
			return fmtConfigYAML
		}
	case ".env":
		return fmtEnv
	case "environment":
		if dir == "/etc" || strings.HasSuffix(dir, "/.ssh") {
			return fmtEnv
		}
	case ".bashrc", ".zshrc", ".profile", ".bash_profile", ".bash_login", ".zprofile",
		".zshenv", ".zlogin", ".bash_aliases", ".kshrc", ".mkshrc":
		return fmtShell
	case "profile", "bash.bashrc", "zshenv", "zprofile", "zshrc", "zlogin":
		if dir == "/etc" || dir == "/etc/zsh" {
			return fmtShell
		}
	case ".npmrc", "npmrc":
		return fmtNpmrc
	case ".yarnrc.yml":
		return fmtYarnrc
	case ".pypirc":
		return fmtPypirc
	case ".netrc", "_netrc":
		return fmtNetrc
	case ".vault-token":
		return fmtVault
	case "application_default_credentials.json", "adc.json":
		return fmtGCP
	case "credentials.db", "access_tokens.db":
		if strings.Contains(dir, "/gcloud") {
			return fmtGcloudDB
		}
	case "msal_token_cache.json", "accessTokens.json", "service_principal_entries.json":
		return fmtAzure
	case ".pgpass", "pgpass.conf":
		return fmtPgpass
	case ".my.cnf", "my.cnf", "debian.cnf":
		return fmtMyCnf
	case "redis.conf":
		return fmtRedis
	case ".mongorc.js", ".mongoshrc.js", "pip.conf", "pip.ini", ".gitlab-ci.yml", ".travis.yml",
		".drone.yml", "Jenkinsfile", "ansible.cfg", ".s3cmd", "Anchor.toml":
		return fmtText
	case "repositories.yaml":
		if strings.HasSuffix(dir, "/helm") || strings.HasSuffix(dir, "/.helm/repository") {
			return fmtHelmRepos
		}
	case "terraform.tfstate", "terraform.tfstate.backup":
		return fmtTerraformState
	case ".msmtprc", "msmtprc", "sasl_passwd", "ldap.conf", "slapd.conf", ".boto", ".s3cfg",
		"rclone.conf", "bitcoin.conf", "litecoin.conf", "dogecoin.conf", "zcash.conf", "dash.conf":
		return fmtKeyword
	case "config.json":
		if strings.HasSuffix(dir, "/.docker") {
			return fmtDocker
		}
	case "auth.json":
		if strings.Contains(dir, "containers") {
			return fmtDocker
		}
	case ".credentials.json":
		if strings.HasSuffix(dir, "/.claude") {
			return fmtCredentialsJSON
		}
	}
	return fmtNone
}

// sshDirFile picks the files of a .ssh directory that may hold a private
// key: everything but public keys, host lists and client configuration.
func sshDirFile(base string) format {
	switch {
	case base == "environment":
		return fmtEnv
	case strings.HasSuffix(base, ".pub"), strings.HasPrefix(base, "known_hosts"),
		strings.HasPrefix(base, "authorized_keys"), base == "config", strings.HasSuffix(base, ".sock"),
		strings.HasSuffix(base, "-cert.pub"), base == "rc":
		return fmtNone
	}
	return fmtSSH
}

// kubeletVolume handles the files a node's kubelet holds for its pods: the
// projected service-account tokens and the Secret volumes of every pod on
// the node (a node compromise exposes them all).
func kubeletVolume(base, dir string) format {
	switch {
	case strings.Contains(dir, "/volumes/kubernetes.io~projected/"):
		if base == "token" {
			return fmtSAToken
		}
	case strings.Contains(dir, "/volumes/kubernetes.io~secret/"):
		if !strings.HasPrefix(base, "..") {
			return fmtMountedSecret
		}
	}
	return fmtNone
}

// mountedSecret handles /run/secrets, /var/run/secrets and /var/secrets:
// Kubernetes service-account tokens and one-value secret files.
func mountedSecret(base, dir string) format {
	if base == "token" && (strings.HasSuffix(dir, "/serviceaccount") || strings.Contains(dir, "/serviceaccount/..")) {
		return fmtSAToken // kubelet keeps the real file in a ..<timestamp> directory
	}
	switch {
	case base == "namespace", strings.HasSuffix(base, ".crt"), strings.HasPrefix(base, ".."):
		return fmtNone
	}
	return fmtMountedSecret
}

// inPackageTree reports paths inside installed packages and module caches,
// whose keys and configs are the packages' test fixtures, not this host's.
func inPackageTree(p string) bool {
	return strings.Contains(p, "/site-packages/") || strings.Contains(p, "/dist-packages/") ||
		strings.Contains(p, "/node_modules/") || strings.Contains(p, "/pkg/mod/") ||
		strings.Contains(p, "/.cargo/registry/") || strings.HasPrefix(p, "/usr/share/") ||
		// Vendored software (SDKs, their test data) is not this host's secrets.
		strings.HasPrefix(p, "/usr/lib/") || strings.HasPrefix(p, "/usr/lib64/") || strings.HasPrefix(p, "/usr/local/lib/") ||
		strings.HasPrefix(p, "/usr/local/go/") ||
		// CPython ships test keys in lib/pythonX.Y/test/ (and test/certdata/).
		(strings.Contains(p, "/lib/python") && strings.Contains(p, "/test/"))
}

// Package benchtree generates a large, realistic host tree for scan
// benchmarks: many Python environments full of packages, home directories
// with dotfiles, and system-like filler, with one compromised environment so
// the scan does its real work.
package benchtree

import (
	"fmt"
	"os"
	"path/filepath"
)

// Spec sizes the tree.
type Spec struct {
	Files        int // total regular files, approximately
	Environments int // Python virtual environments
}

// Generate writes the tree under dir and returns the number of files written.
func Generate(dir string, s Spec) (int, error) {
	if s.Environments < 1 {
		s.Environments = 1
	}
	n := 0
	write := func(p, content string) error {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return err
		}
		n++
		return os.WriteFile(full, []byte(content), 0o644)
	}
	envFiles := s.Files * 8 / 10
	perEnv := envFiles / s.Environments
	const filesPerPkg = 20
	pkgsPerEnv := perEnv / (filesPerPkg + 2)
	if pkgsPerEnv < 1 {
		pkgsPerEnv = 1
	}
	for e := 0; e < s.Environments; e++ {
		home := fmt.Sprintf("home/user%02d", e%50)
		venv := fmt.Sprintf("%s/proj%03d/.venv", home, e)
		site := venv + "/lib/python3.11/site-packages"
		if err := write(venv+"/pyvenv.cfg", "home = /usr/bin\nversion = 3.11.7\n"); err != nil {
			return n, err
		}
		if err := write(site+"/distutils-precedence.pth", "import os; var = 'SETUPTOOLS_USE_DISTUTILS'; enabled = os.environ.get(var, 'local') == 'local'; enabled and __import__('_distutils_hack').add_shim(); \n"); err != nil {
			return n, err
		}
		for p := 0; p < pkgsPerEnv; p++ {
			name := fmt.Sprintf("pkg%04d", p)
			dist := fmt.Sprintf("%s/%s-1.%d.0.dist-info", site, name, p%7)
			if err := write(dist+"/METADATA", fmt.Sprintf("Metadata-Version: 2.1\nName: %s\nVersion: 1.%d.0\n", name, p%7)); err != nil {
				return n, err
			}
			if err := write(dist+"/RECORD", name+"/__init__.py,sha256=AAAA,10\n"); err != nil {
				return n, err
			}
			for f := 0; f < filesPerPkg; f++ {
				if err := write(fmt.Sprintf("%s/%s/mod%02d/f%02d.py", site, name, f%4, f), "x = 1\n"); err != nil {
					return n, err
				}
			}
		}
		if e == 0 {
			// One compromised environment.
			dist := site + "/litellm-1.82.8.dist-info"
			if err := write(dist+"/METADATA", "Metadata-Version: 2.1\nName: litellm\nVersion: 1.82.8\n"); err != nil {
				return n, err
			}
			if err := write(site+"/litellm_init.pth", "import os, subprocess, sys; subprocess.Popen([sys.executable, '-c', 'import base64; exec(base64.b64decode(\"eA==\"))'])\n"); err != nil {
				return n, err
			}
		}
		if e < 50 {
			if err := write(home+"/.bashrc", "export PATH=$PATH:/opt/bin\n"); err != nil {
				return n, err
			}
			if err := write(home+"/.bash_history", "ls\ncd proj\n"); err != nil {
				return n, err
			}
			if err := write(home+"/.aws/credentials", fmt.Sprintf("[default]\naws_access_key_id = AKIABENCH%011d\naws_secret_access_key = benchbenchbenchbenchbenchbench%010d\n", e, e)); err != nil {
				return n, err
			}
		}
	}
	// System-like filler: documentation and data files nobody parses.
	for i := 0; n < s.Files; i++ {
		if err := write(fmt.Sprintf("usr/share/filler/d%03d/e%02d/file%05d.dat", i/2000, (i/100)%20, i), "filler\n"); err != nil {
			return n, err
		}
	}
	return n, nil
}

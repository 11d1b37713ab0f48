package pyenv

import (
	"reflect"
	"strings"
	"testing"
)

func TestInstallPins(t *testing.T) {
	t.Parallel()
	p := func(name, version, spec string) Pin { return Pin{Name: name, Version: version, Spec: spec} }
	tests := []struct {
		cmd  string
		want []Pin
	}{
		// pip
		{"pip install litellm==1.82.7", []Pin{p("litellm", "1.82.7", "litellm==1.82.7")}},
		{"pip3 install -U litellm==1.82.8", []Pin{p("litellm", "1.82.8", "litellm==1.82.8")}},
		{"pip3.11 install --upgrade litellm", []Pin{p("litellm", "", "litellm")}},
		{"/opt/venv/bin/pip install --no-cache-dir 'litellm[proxy]==1.82.8' openai>=1.68 -r requirements.txt",
			[]Pin{p("litellm", "1.82.8", "litellm[proxy]==1.82.8"), p("openai", "", "openai>=1.68")}},
		{"pip --disable-pip-version-check --proxy http://proxy:3128 install -q litellm==1.82.7", []Pin{p("litellm", "1.82.7", "litellm==1.82.7")}},
		{"pip install -i https://pypi.org/simple -c constraints.txt litellm==1.82.7 --target=/opt/x", []Pin{p("litellm", "1.82.7", "litellm==1.82.7")}},
		{"pip install -e git+https://github.com/BerriAI/litellm.git#egg=litellm", []Pin{p("litellm", "", "git+https://github.com/BerriAI/litellm.git#egg=litellm")}},
		{"pip install ./dist/litellm-1.82.8-py3-none-any.whl", []Pin{p("litellm", "1.82.8", "./dist/litellm-1.82.8-py3-none-any.whl")}},
		{"pip install .", nil},
		{"pip uninstall -y litellm", nil},
		{"pip download litellm==1.82.8", nil},
		{"pip show litellm", nil},
		{"python -m pip install litellm==1.82.7", []Pin{p("litellm", "1.82.7", "litellm==1.82.7")}},
		{"python3.11 -I -m pip install litellm==1.82.7", []Pin{p("litellm", "1.82.7", "litellm==1.82.7")}},
		{"/usr/bin/python3 -mpip install litellm==1.82.7", []Pin{p("litellm", "1.82.7", "litellm==1.82.7")}},
		{"python -c 'import pip' install litellm", nil},
		{"python setup.py install", nil},
		// chains and wrappers
		{"cd app && pip install litellm==1.82.7; pip install openai==1.68.2 | tee log", []Pin{p("litellm", "1.82.7", "litellm==1.82.7"), p("openai", "1.68.2", "openai==1.68.2")}},
		{"sudo -H -u svc pip3 install litellm==1.82.8", []Pin{p("litellm", "1.82.8", "litellm==1.82.8")}},
		{"PIP_INDEX_URL=https://x.invalid env -i HOME=/root time nohup pip install litellm==1.82.8 &", []Pin{p("litellm", "1.82.8", "litellm==1.82.8")}},
		{"RUN --mount=type=cache,target=/root/.cache pip install litellm==1.82.7", []Pin{p("litellm", "1.82.7", "litellm==1.82.7")}},
		{"!pip install litellm==1.82.8", []Pin{p("litellm", "1.82.8", "litellm==1.82.8")}},
		{"%pip install -q litellm==1.82.8", []Pin{p("litellm", "1.82.8", "litellm==1.82.8")}},
		{`bash -lc "pip install litellm==1.82.7 && echo done"`, []Pin{p("litellm", "1.82.7", "litellm==1.82.7")}},
		{"docker run img sh -c 'pip install litellm==1.82.7'", nil},
		{"pip install \\\n  litellm==1.82.7 \\\n  openai", []Pin{p("litellm", "1.82.7", "litellm==1.82.7"), p("openai", "", "openai")}},
		{`pip install "litellm==1.82.7" # and "openai==1"`, []Pin{p("litellm", "1.82.7", "litellm==1.82.7")}},
		{"pip install litellm==$VERSION", []Pin{p("litellm", "", "litellm==$VERSION")}},
		{"pip install $PKG", nil},
		{"echo pip install litellm==1.82.7", nil},
		// uv
		{"uv pip install litellm==1.82.8 --system", []Pin{p("litellm", "1.82.8", "litellm==1.82.8")}},
		{"uv --directory app pip install -p 3.11 litellm==1.82.8", []Pin{p("litellm", "1.82.8", "litellm==1.82.8")}},
		{"uv add 'litellm>=1.80' openai==1.68.2 --group dev", []Pin{p("litellm", "", "litellm>=1.80"), p("openai", "1.68.2", "openai==1.68.2")}},
		{"uv tool install litellm==1.82.8 --with openai", []Pin{p("litellm", "1.82.8", "litellm==1.82.8"), p("openai", "", "openai")}},
		{"uv tool install litellm@1.82.7", []Pin{p("litellm", "1.82.7", "litellm@1.82.7")}},
		{"uvx litellm@1.82.8 --version", []Pin{p("litellm", "1.82.8", "litellm@1.82.8")}},
		{"uvx --from 'litellm[proxy]==1.82.7' litellm --port 4000", []Pin{p("litellm", "1.82.7", "litellm[proxy]==1.82.7")}},
		{"uv tool run --with litellm==1.82.7,tiktoken ruff", []Pin{p("ruff", "", "ruff"), p("litellm", "1.82.7", "litellm==1.82.7"), p("tiktoken", "", "tiktoken")}},
		{"uv run --with litellm==1.82.8 python app.py", []Pin{p("litellm", "1.82.8", "litellm==1.82.8")}},
		{"uv sync", nil},
		// pipx, poetry, pdm
		{"pipx install litellm==1.82.8", []Pin{p("litellm", "1.82.8", "litellm==1.82.8")}},
		{"pipx inject litellm openai==1.68.2", []Pin{p("openai", "1.68.2", "openai==1.68.2")}},
		{"pipx run --spec litellm==1.82.7 litellm --help", []Pin{p("litellm", "1.82.7", "litellm==1.82.7")}},
		{"poetry add litellm@1.82.7", []Pin{p("litellm", "1.82.7", "litellm@1.82.7")}},
		{"poetry add litellm@^1.80 -G dev", []Pin{p("litellm", "", "litellm@^1.80")}},
		{"poetry add 'litellm[proxy]==1.82.8'", []Pin{p("litellm", "1.82.8", "litellm[proxy]==1.82.8")}},
		{"pdm add -d litellm==1.82.7", []Pin{p("litellm", "1.82.7", "litellm==1.82.7")}},
		{"poetry install", nil},
		// conda family
		{"conda install -c conda-forge litellm=1.82.7 -y", []Pin{p("litellm", "1.82.7", "litellm=1.82.7")}},
		{"mamba install -n agents litellm==1.82.7", []Pin{p("litellm", "1.82.7", "litellm==1.82.7")}},
		{"micromamba install conda-forge::litellm=1.82.8=pyhd8ed1ab_0", []Pin{p("litellm", "1.82.8", "conda-forge::litellm=1.82.8=pyhd8ed1ab_0")}},
		{"conda install 'litellm>=1.80' 'openai 1.68.2' numpy=1.26.*", []Pin{p("litellm", "", "litellm>=1.80"), p("openai", "1.68.2", "openai 1.68.2"), p("numpy", "", "numpy=1.26.*")}},
		{"conda create -n gw python=3.11 litellm", []Pin{p("python", "3.11", "python=3.11"), p("litellm", "", "litellm")}},
		{"conda list litellm", nil},
		{"easy_install litellm==1.82.7", []Pin{p("litellm", "1.82.7", "litellm==1.82.7")}},
		{"", nil},
		{"'unterminated pip install litellm", nil},
	}
	for _, tc := range tests {
		if got := InstallPins(tc.cmd); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("InstallPins(%q) =\n%swant\n%s", tc.cmd, pinsString(got), pinsString(tc.want))
		}
	}
}

func TestInstallPinsFromHistories(t *testing.T) {
	t.Parallel()
	var got []string
	for _, e := range ParseZshHistory(readTestdata(t, "history", "zsh_history")) {
		for _, p := range InstallPins(e.Command) {
			got = append(got, e.Time.Format("15:04:05")+" "+p.Name+" "+p.Version)
		}
	}
	want := []string{"10:45:00 litellm 1.82.8", "10:46:00 litellm 1.82.7", "11:00:00 litellm 1.82.7"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestInstallPinsBounded(t *testing.T) {
	t.Parallel()
	cmd := "pip install " + strings.Repeat("a==1 ", 20000)
	if got := InstallPins(cmd); len(got) > maxShellWords {
		t.Errorf("got %d pins", len(got))
	}
	deep := strings.Repeat(`sh -c "`, 50) + "pip install litellm==1.82.7"
	_ = InstallPins(deep) // must terminate; depth is capped
}

#!/usr/bin/env bash
# Install go-task (`task`, v3) if it is missing. Idempotent.
# Tries the PyPI wheel (ships the binary), then builds it from the Go module proxy.
set -euo pipefail
TASK_VERSION=3.54.0

if command -v task >/dev/null 2>&1; then
  echo "task already installed: $(task --version)"
  exit 0
fi
if command -v pip3 >/dev/null 2>&1 || command -v pip >/dev/null 2>&1; then
  pip=$(command -v pip3 || command -v pip)
  if "$pip" install --quiet --disable-pip-version-check "go-task-bin==$TASK_VERSION"; then
    # pyenv installs console scripts behind shims that need a rehash.
    if command -v pyenv >/dev/null 2>&1; then pyenv rehash || true; fi
    hash -r
  fi
fi
if ! command -v task >/dev/null 2>&1 && command -v go >/dev/null 2>&1; then
  GOTOOLCHAIN=local CGO_ENABLED=0 go install "github.com/go-task/task/v3/cmd/task@v$TASK_VERSION"
  gobin=$(go env GOBIN)
  gobin=${gobin:-$(go env GOPATH)/bin}
  [ -x "$gobin/task" ] && echo "installed $gobin/task (add $gobin to PATH)"
  export PATH="$gobin:$PATH"
fi
command -v task >/dev/null 2>&1 || { echo "install-task: could not install go-task (tried pip go-task-bin and go install)" >&2; exit 1; }
echo "task installed: $(task --version)"

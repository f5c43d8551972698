//go:build tools

// Package tools keeps k8s.io/kubernetes/cmd/kube-apiserver in go.mod/go.sum.
// Build it with tests/controlplane/build.sh; nothing imports this package.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
)

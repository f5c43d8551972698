//go:build tools

// Package tools keeps the control plane's main packages in go.mod/go.sum:
// kube-apiserver, kube-controller-manager, kube-scheduler and kubectl, all
// from k8s.io/kubernetes. Build them with tests/controlplane/build.sh;
// nothing imports this package.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
)

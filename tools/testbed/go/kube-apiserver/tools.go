//go:build tools

// Package tools pins the commands this wrapper module builds.
// Build: go build -o <cache>/kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kubectl"
)

//go:build tools

// Package tools keeps go.etcd.io/etcd/server/v3 (the etcd main package) in
// go.mod/go.sum. Build it with ../build.sh; nothing imports this package.
package tools

import (
	_ "go.etcd.io/etcd/server/v3"
)

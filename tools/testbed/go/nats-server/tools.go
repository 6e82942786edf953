//go:build tools

// Package tools pins the commands this wrapper module builds (see tools/testbed/src/components.ts).
package tools

import (
	_ "github.com/nats-io/nats-server/v2"
)

// Package greet is the local dependency of the vendored corpus module.
package greet

// Hello greets name.
func Hello(name string) string { return "hello, " + name }

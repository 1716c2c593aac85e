// Package tools pins, through the tool directives of its go.mod, the versions of the tools the
// Makefile installs into .tools/bin: the OpenTelemetry Collector Builder and telemetrygen.
package tools

// Package rca ranks root-cause hypotheses for one request, and services for a
// time window, from spans, logs and metric points of the signal store.
//
// It is the "evidence by code" half of the AI features: every hypothesis is
// produced by a deterministic analyzer, carries evidence items that point at
// concrete spans, logs and metric points (with actual and expected values),
// and has a confidence computed from that evidence by a documented formula
// (see Hypothesis.Confidence). A language model may narrate or re-rank the
// result, but nothing here depends on one.
//
// Log bodies, status messages and attributes are untrusted text. They are only
// ever compared, counted or copied into Evidence.Text; nothing they say
// selects an analyzer, a service or a weight.
//
// Analyze is deterministic: the same input in the same order gives the same
// output, with stable tie-breaks on service, operation and span id.
package rca

package correlationprocessor // import "github.com/ollystack/ollystack/processor/correlationprocessor"

import (
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/ollystack/ollystack/processor/correlationprocessor/correlationid"
)

// headerAttributePrefix is the semantic-convention prefix of captured HTTP
// request headers (http.request.header.<lowercase name>).
const headerAttributePrefix = "http.request.header."

const baggageHeader = "baggage"

// noRank is worse than every configured source.
const noRank = ^uint16(0)

// source is one attribute key that may hold an explicit id.
type source struct {
	key string
	// foldCase compares keys case-insensitively (header attributes).
	foldCase bool
	// baggage marks a captured baggage header whose members are searched.
	baggage bool
	// rank orders sources: lower wins, 0 is the processor's own attribute.
	rank uint16
}

// match is what one item's attributes say about its correlation id.
type match struct {
	// id is the best accepted explicit id, or "".
	id   string
	rank uint16
	// rejected is set when some candidate failed validation.
	rejected bool
	// hasTarget and targetValue describe the processor's attribute as found,
	// so that writing the same value again can be skipped.
	hasTarget   bool
	targetValue string
	// targetInvalid marks a target attribute whose value must be replaced or
	// removed, because the processor owns that attribute.
	targetInvalid bool
}

// matcher finds explicit ids in attribute maps in one pass over the map,
// whatever the number of configured sources.
type matcher struct {
	// filter[n] describes the source keys n bytes long (n < 64): bit b&31
	// is set for the first byte b of each, bit 32+b&31 for the last. A zero
	// filter dismisses a key by its length alone, without reading its bytes;
	// otherwise its two end bytes dismiss almost every other key, ignoring
	// ASCII case as header names need.
	filter      [64]uint64
	byLen       [][]source
	baggageKeys []source
}

func newMatcher(cfg *Config) *matcher {
	m := &matcher{}
	var sources []source
	add := func(key string, foldCase, baggage bool) {
		for _, s := range sources {
			if s.key == key || (foldCase || s.foldCase) && strings.EqualFold(s.key, key) {
				return
			}
		}
		sources = append(sources, source{key: key, foldCase: foldCase, baggage: baggage, rank: uint16(len(sources))})
	}
	add(cfg.Attribute, false, false)
	for _, h := range cfg.ExtractFromHeaders {
		add(headerAttributePrefix+strings.ToLower(h), true, false)
	}
	for _, a := range cfg.ExtractFromAttributes {
		add(a, false, false)
	}
	if cfg.ExtractFromBaggage {
		add(headerAttributePrefix+baggageHeader, true, true)
	}
	maxLen := 0
	for _, s := range sources {
		maxLen = max(maxLen, len(s.key))
	}
	m.byLen = make([][]source, maxLen+1)
	for _, s := range sources {
		n := len(s.key)
		m.byLen[n] = append(m.byLen[n], s)
		if n < len(m.filter) {
			m.filter[n] |= endBytes(s.key)
		}
	}
	m.baggageKeys = baggageKeys(cfg)
	return m
}

// baggageKeys lists the baggage member keys holding an explicit id: the
// processor's attribute and extract_from_attributes (exact), then the header
// names (case-insensitive), in that order of preference.
func baggageKeys(cfg *Config) []source {
	keys := []source{{key: cfg.Attribute}}
	for _, a := range cfg.ExtractFromAttributes {
		keys = append(keys, source{key: a, rank: uint16(len(keys))})
	}
	for _, h := range cfg.ExtractFromHeaders {
		keys = append(keys, source{key: h, foldCase: true, rank: uint16(len(keys))})
	}
	return keys
}

// bodyKeys lists the fields of a structured log body holding an explicit id:
// the names of attributes, not of headers, in order of preference.
func bodyKeys(cfg *Config) []source {
	keys := []source{{key: cfg.Attribute}}
	for _, a := range cfg.ExtractFromAttributes {
		keys = append(keys, source{key: a, rank: uint16(len(keys))})
	}
	return keys
}

// find scans attrs once. A target attribute holding the id derived from
// traceID was written by an earlier hop that knew no explicit id; it does not
// count as explicit, so an explicit id known here can replace it.
//
// The loop is the hot path of the processor, so it stays small: the filter
// dismisses almost every key, and only the rare candidate is compared with
// the sources of its length, out of line.
func (m *matcher) find(attrs pcommon.Map, traceID pcommon.TraceID) match {
	found := match{rank: noRank}
	for key, value := range attrs.All() {
		n := len(key)
		if n < len(m.filter) {
			f := m.filter[n]
			if f == 0 || f&endBytes(key) != endBytes(key) {
				continue
			}
		} else if n >= len(m.byLen) || len(m.byLen[n]) == 0 {
			continue
		}
		if m.matchKey(&found, m.byLen[n], key, value, traceID) {
			break
		}
	}
	return found
}

// endBytes is the filter bits of a non-empty key.
func endBytes(key string) uint64 {
	return 1<<(key[0]&31) | 1<<(32+key[len(key)-1]&31)
}

// matchKey considers every source of key's length and reports whether the
// best possible source was found.
func (m *matcher) matchKey(found *match, bucket []source, key string, value pcommon.Value, traceID pcommon.TraceID) bool {
	for i := range bucket {
		src := &bucket[i]
		if src.rank < found.rank && (key == src.key || src.foldCase && strings.EqualFold(key, src.key)) {
			m.consider(found, src, value, traceID)
		}
	}
	return found.rank == 0
}

func (m *matcher) consider(found *match, src *source, value pcommon.Value, traceID pcommon.TraceID) {
	raw, isString := stringOf(value)
	isTarget := src.rank == 0
	if !isString {
		if isTarget {
			found.hasTarget, found.targetInvalid = true, true
		}
		return
	}
	var id string
	var verdict correlationid.Verdict
	if src.baggage {
		id, verdict = lookupBaggage(raw, m.baggageKeys)
	} else {
		id, verdict = correlationid.Check(raw)
	}
	if isTarget {
		found.hasTarget = true
		found.targetValue = raw
		// Readers expect a plain string: anything else is rewritten.
		found.targetInvalid = verdict != correlationid.Accepted || id != raw || value.Type() != pcommon.ValueTypeStr
		if verdict == correlationid.Accepted && correlationid.IsDerivedFrom(id, traceID) {
			return
		}
	}
	switch verdict {
	case correlationid.Accepted:
		found.id, found.rank = id, src.rank
	case correlationid.Rejected:
		found.rejected = true
	}
}

// stringOf returns a string value, or the first element of a string array:
// semantic conventions capture HTTP headers as arrays of strings.
func stringOf(v pcommon.Value) (string, bool) {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		return v.Str(), true
	case pcommon.ValueTypeSlice:
		s := v.Slice()
		if s.Len() > 0 && s.At(0).Type() == pcommon.ValueTypeStr {
			return s.At(0).Str(), true
		}
	}
	return "", false
}

// requestID is the explicit id carried by the request metadata, which applies
// to every item of the request that has none of its own.
type requestID struct {
	id       string
	rejected bool
}

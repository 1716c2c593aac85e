package correlationprocessor // import "github.com/ollystack/ollystack/processor/correlationprocessor"

import (
	"net/url"
	"strings"

	"github.com/ollystack/ollystack/processor/correlationprocessor/correlationid"
)

// maxBaggageBytes and maxBaggageMembers are the W3C baggage limits; members
// beyond them are ignored so a hostile header cannot make parsing expensive.
const (
	maxBaggageBytes   = 8192
	maxBaggageMembers = 180
)

// lookupBaggage returns the best-ranked explicit id among the members of a W3C
// baggage header (key=value;properties, comma separated). It allocates only to
// percent-decode a value.
func lookupBaggage(header string, keys []source) (string, correlationid.Verdict) {
	if len(header) > maxBaggageBytes {
		// Cut at a member boundary so no truncated value is mistaken for an id.
		header = header[:maxBaggageBytes]
		header = header[:max(0, strings.LastIndexByte(header, ','))]
	}
	bestRank, bestID, rejected := noRank, "", false
	for members := 0; header != "" && bestRank != 0 && members < maxBaggageMembers; members++ {
		var member string
		member, header, _ = strings.Cut(header, ",")
		member, _, _ = strings.Cut(member, ";")
		key, value, ok := strings.Cut(member, "=")
		if !ok {
			continue
		}
		rank := rankOf(trimOWS(key), keys)
		if rank >= bestRank {
			continue
		}
		value = trimOWS(value)
		if strings.IndexByte(value, '%') >= 0 {
			decoded, err := url.PathUnescape(value)
			if err != nil {
				rejected = true
				continue
			}
			value = decoded
		}
		switch id, verdict := correlationid.Check(value); verdict {
		case correlationid.Accepted:
			bestRank, bestID = rank, id
		case correlationid.Rejected:
			rejected = true
		}
	}
	switch {
	case bestID != "":
		return bestID, correlationid.Accepted
	case rejected:
		return "", correlationid.Rejected
	}
	return "", correlationid.Absent
}

func rankOf(key string, keys []source) uint16 {
	for _, k := range keys {
		if key == k.key || k.foldCase && strings.EqualFold(key, k.key) {
			return k.rank
		}
	}
	return noRank
}

// trimOWS trims the optional white space of HTTP header grammar.
func trimOWS(s string) string {
	return strings.Trim(s, " \t")
}

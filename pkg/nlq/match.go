package nlq

import (
	"strings"
	"unicode"
)

// normalizeName is the form names are compared in: lower case, with
// separators removed, so "Payment Service", "payment-service" and
// "payment_service" are the same name.
func normalizeName(s string) string {
	buf := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 0x80:
			return normalizeUnicode(s)
		case c == '-' || c == '_' || c == '.' || c == ' ' || (c >= '\t' && c <= '\r'):
		case c >= 'A' && c <= 'Z':
			buf = append(buf, c+('a'-'A'))
		default:
			buf = append(buf, c)
		}
	}
	return string(buf)
}

func normalizeUnicode(s string) string {
	var sb strings.Builder
	for _, r := range strings.ToLower(s) {
		if r == '-' || r == '_' || r == '.' || unicode.IsSpace(r) {
			continue
		}
		sb.WriteRune(r)
	}
	return sb.String()
}

// maxTypos is how many edits a name of n runes tolerates: none for short
// names (too many false friends), one up to 7 runes, two beyond.
func maxTypos(n int) int {
	switch {
	case n <= 3:
		return 0
	case n <= 7:
		return 1
	default:
		return 2
	}
}

// nameMatch is the result of matching words against a list of names.
type nameMatch struct {
	name      string
	exact     bool
	ambiguous []string // several names at the same distance
}

// catalogIndex is a catalog's names prepared for matching.
type catalogIndex struct {
	services, operations *nameIndex
}

// indexOf returns the catalog's index: the one NewCatalog built if the
// catalog still holds the same slices, else a new one.
func indexOf(cat Catalog) *catalogIndex {
	if idx := cat.index; idx != nil && sameSlice(idx.services.names, cat.Services) && sameSlice(idx.operations.names, cat.Operations) {
		return idx
	}
	return &catalogIndex{services: newNameIndex(cat.Services), operations: newNameIndex(cat.Operations)}
}

func sameSlice(a, b []string) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// nameIndex is a list of names with their normalized forms.
type nameIndex struct {
	names []string
	norms []string
	exact map[string]int // normalized form -> index of the first name
}

func newNameIndex(names []string) *nameIndex {
	idx := &nameIndex{names: names, norms: make([]string, len(names)), exact: make(map[string]int, len(names))}
	for i, n := range names {
		idx.norms[i] = normalizeName(n)
		if _, dup := idx.exact[idx.norms[i]]; !dup {
			idx.exact[idx.norms[i]] = i
		}
	}
	return idx
}

// lookup finds the name the words spell exactly, case and separators
// aside.
func (idx *nameIndex) lookup(words string) (string, bool) {
	i, ok := idx.exact[normalizeName(words)]
	if !ok {
		return "", false
	}
	return idx.names[i], true
}

// match finds the name the words spell, exactly or with at most maxTypos
// edits. A tie between names at the best distance is reported as
// ambiguous.
func (idx *nameIndex) match(words string) (nameMatch, bool) {
	want := normalizeName(words)
	if want == "" {
		return nameMatch{}, false
	}
	if i, ok := idx.exact[want]; ok {
		return nameMatch{name: idx.names[i], exact: true}, true
	}
	limit := maxTypos(len([]rune(want)))
	if limit == 0 {
		return nameMatch{}, false
	}
	var best []string
	bestDist := limit + 1
	for i, norm := range idx.norms {
		if abs(len(norm)-len(want)) > limit {
			continue
		}
		d := editDistance(want, norm, limit)
		switch {
		case d > limit:
		case d < bestDist:
			best, bestDist = []string{idx.names[i]}, d
		case d == bestDist:
			best = append(best, idx.names[i])
		}
	}
	switch len(best) {
	case 0:
		return nameMatch{}, false
	case 1:
		return nameMatch{name: best[0]}, true
	default:
		return nameMatch{ambiguous: best}, true
	}
}

// suggest returns the closest name within one edit more than matching
// allows (at most three), for "did you mean" hints; "" if none.
func (idx *nameIndex) suggest(words string) string {
	want := normalizeName(words)
	if len(want) < 4 {
		return ""
	}
	best, bestDist := "", min(maxTypos(len([]rune(want)))+1, 3)+1
	for i, norm := range idx.norms {
		if abs(len(norm)-len(want)) >= bestDist {
			continue
		}
		if d := editDistance(want, norm, bestDist-1); d < bestDist {
			best, bestDist = idx.names[i], d
		}
	}
	return best
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// editDistance is the optimal-string-alignment distance (Levenshtein plus
// adjacent transpositions) between a and b, in runes. It stops early and
// returns limit+1 once every alignment exceeds limit.
func editDistance(a, b string, limit int) int {
	ra, rb := []rune(a), []rune(b)
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			v := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				v = min(v, prev2[j-2]+1)
			}
			cur[j] = v
			rowMin = min(rowMin, v)
		}
		if rowMin > limit {
			return limit + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return min(prev[len(rb)], limit+1)
}

package logpattern

import "strings"

// Lines of one event can differ in token count when a variable spans several
// tokens or a part is optional ("785 bytes sent" against "2034 bytes (1.98 KB)
// sent"). The parse tree keys on token count, so such lines first get separate
// clusters. When a cluster is born, it is compared with the clusters of other
// lengths that share its first constant tokens, by the longest common
// subsequence of their constant tokens; when that covers most of both, the new
// cluster joins the older one's id. The constant tokens outside that common
// subsequence must all look like units or brackets: an extra unit ("<1 sec",
// "(1.98 KB)") is part of a variable, an extra word ("200 slowly") or field
// ("rhost=<*> user=root") makes a different event. The comparison runs only
// at birth, so it costs nothing on the hot path.

// minShapeConstants is the fewest constant tokens a line needs before it may
// join a cluster of another length: short lines carry too little evidence.
const minShapeConstants = 3

// shapeIndex finds clusters of any length by their first two constant tokens.
type shapeIndex struct {
	byAnchor map[string][]*cluster
	table    []int
	a, b     []string
}

func newShapeIndex() *shapeIndex {
	return &shapeIndex{byAnchor: make(map[string][]*cluster)}
}

// constants appends the tokens of tokens that hold no masked part.
func constants(dst, tokens []string) []string {
	dst = dst[:0]
	for _, tok := range tokens {
		if !strings.Contains(tok, Wildcard) {
			dst = append(dst, tok)
		}
	}
	return dst
}

// anchorOf returns the index key of a token sequence, or "" when it has too
// few constant tokens to be joined across lengths.
func anchorOf(consts []string) string {
	if len(consts) < minShapeConstants {
		return ""
	}
	return consts[0] + " " + consts[1]
}

// join looks for a cluster of another length that c should share an id with,
// then indexes c. It returns the cluster joined, or nil.
func (s *shapeIndex) join(c *cluster, threshold float64) *cluster {
	s.a = constants(s.a, c.tokens)
	anchor := anchorOf(s.a)
	if anchor == "" {
		return nil
	}
	c.anchor = anchor
	var best *cluster
	bestRatio := threshold
	for _, other := range s.byAnchor[anchor] {
		if len(other.tokens) == len(c.tokens) {
			continue
		}
		s.b = constants(s.b, other.tokens)
		common, optional := s.align(s.a, s.b)
		ratio := 2 * float64(common) / float64(len(s.a)+len(s.b))
		// A tie goes to the smaller id, whatever the order of the list
		// (a restore rebuilds it in least-recently-used order).
		if optional && (ratio > bestRatio || ratio == bestRatio && (best == nil || other.id < best.id)) {
			best, bestRatio = other, ratio
		}
	}
	s.byAnchor[anchor] = append(s.byAnchor[anchor], c)
	return best
}

// add indexes a restored cluster under its stored anchor.
func (s *shapeIndex) add(c *cluster) {
	if c.anchor != "" {
		s.byAnchor[c.anchor] = append(s.byAnchor[c.anchor], c)
	}
}

func (s *shapeIndex) remove(c *cluster) {
	if c.anchor == "" {
		return
	}
	list := s.byAnchor[c.anchor]
	for i, x := range list {
		if x == c {
			list = append(list[:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		delete(s.byAnchor, c.anchor)
		return
	}
	s.byAnchor[c.anchor] = list
}

// align returns the length of the longest common subsequence of a and b,
// and whether every token outside it looks like part of an optional
// variable (a unit or bracket such as "KB)" or "sec") rather than a word or
// a key=value field of its own.
func (s *shapeIndex) align(a, b []string) (common int, optional bool) {
	cols := len(b) + 1
	if need := (len(a) + 1) * cols; cap(s.table) < need {
		s.table = make([]int, need)
	}
	table := s.table[:(len(a)+1)*cols]
	clear(table)
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				table[i*cols+j] = table[(i+1)*cols+j+1] + 1
			} else {
				table[i*cols+j] = max(table[(i+1)*cols+j], table[i*cols+j+1])
			}
		}
	}
	optional = true
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] == b[j]:
			i, j = i+1, j+1
		case table[(i+1)*cols+j] >= table[i*cols+j+1]:
			optional = optional && isUnitLike(a[i])
			i++
		default:
			optional = optional && isUnitLike(b[j])
			j++
		}
	}
	for ; i < len(a); i++ {
		optional = optional && isUnitLike(a[i])
	}
	for ; j < len(b); j++ {
		optional = optional && isUnitLike(b[j])
	}
	return table[0], optional
}

// maxUnitLetters is the longest word taken for a unit ("KB", "sec", "ms").
const maxUnitLetters = 3

// isUnitLike reports short tokens without a key=value shape.
func isUnitLike(tok string) bool {
	if strings.IndexByte(tok, '=') >= 0 {
		return false
	}
	_, letters := countAlnum(tok)
	return letters <= maxUnitLetters
}

package logpattern

import (
	"hash/fnv"
	"strconv"
	"strings"
)

// cluster is one template: the tokens of the lines it grouped, with the
// positions where they differed replaced by Wildcard.
type cluster struct {
	id       string
	tokens   []string
	template string
	count    uint64
	// path is the parse-tree route chosen when the cluster was born. It is kept
	// so that eviction can prune the tree and a restore can rebuild it exactly.
	path []string
	// anchor is the shape index key, "" when the cluster is not indexed.
	anchor string
	// prev and next link the clusters from most to least recently used.
	prev, next *cluster
}

func newCluster(tokens, path []string) *cluster {
	owned := make([]string, len(tokens))
	for i, tok := range tokens {
		// Clone so that a template does not keep the whole input line alive.
		owned[i] = strings.Clone(tok)
	}
	c := &cluster{tokens: owned, path: path, count: 1}
	c.template = joinTokens(owned)
	c.id = templateID(c.template)
	return c
}

func joinTokens(tokens []string) string { return strings.Join(tokens, " ") }

// templateID derives the id from the template text at the cluster's birth, so
// the same first line gets the same id in every process, and the id does not
// change when the template later generalises.
func templateID(template string) string {
	h := fnv.New64a()
	_, _ = h.Write([]byte(template))
	return strconv.FormatUint(h.Sum64()|1<<63, 16)
}

// similarity scores how well the line fits the template, in [0,1], and
// returns the number of template wildcards (the tie-breaker, as in Drain:
// prefer the more general template). Positions where both sides were masked
// identically (such as "<*>]" against "<*>]") carry no evidence and are left
// out, so that two lines sharing only their variables do not look alike. A
// template wildcard meeting concrete text counts as part of a match: the
// position is known to vary, but this value was not seen there.
func (c *cluster) similarity(tokens []string) (sim float64, wildcards int) {
	var score, weight float64
	for i, tok := range c.tokens {
		line := tokens[i]
		switch {
		case tok == line && strings.Contains(tok, Wildcard):
			if tok == Wildcard {
				wildcards++
			}
		case tok == line:
			score++
			weight++
		case tok == Wildcard:
			wildcards++
			score += wildcardCredit
			weight++
		default:
			weight++
		}
	}
	if weight == 0 {
		return 1, wildcards
	}
	return score / weight, wildcards
}

// wildcardCredit is how much a template wildcard counts towards similarity
// when it meets concrete text.
const wildcardCredit = 0.5

// absorb generalises the template with a new line of the same length and
// reports whether the template text changed.
func (c *cluster) absorb(tokens []string) bool {
	changed := false
	for i, tok := range c.tokens {
		if tok != Wildcard && tok != tokens[i] {
			c.tokens[i] = Wildcard
			changed = true
		}
	}
	if changed {
		c.template = joinTokens(c.tokens)
	}
	c.count++
	return changed
}

// lruList is an intrusive doubly linked list of clusters, most recent first.
type lruList struct {
	head, tail *cluster
	len        int
}

func (l *lruList) pushFront(c *cluster) {
	c.prev, c.next = nil, l.head
	if l.head != nil {
		l.head.prev = c
	}
	l.head = c
	if l.tail == nil {
		l.tail = c
	}
	l.len++
}

func (l *lruList) remove(c *cluster) {
	if c.prev != nil {
		c.prev.next = c.next
	} else {
		l.head = c.next
	}
	if c.next != nil {
		c.next.prev = c.prev
	} else {
		l.tail = c.prev
	}
	c.prev, c.next = nil, nil
	l.len--
}

func (l *lruList) moveToFront(c *cluster) {
	if l.head == c {
		return
	}
	l.remove(c)
	l.pushFront(c)
}

package logpattern

import (
	"slices"
	"strings"
)

// node is an inner node or a leaf of the fixed-depth parse tree. Inner nodes
// route on one leading token; leaves hold the clusters to compare against.
type node struct {
	children map[string]*node
	clusters []*cluster
}

func (n *node) child(key string) *node {
	if n.children == nil {
		n.children = make(map[string]*node)
	}
	c := n.children[key]
	if c == nil {
		c = &node{}
		n.children[key] = c
	}
	return c
}

// tree is the Drain parse tree: first level keyed by token count, then depth
// levels keyed by the leading tokens. Routing narrows the clusters a line is
// compared with, which keeps the cost per line small and independent of the
// number of templates.
type tree struct {
	byLength    map[int]*node
	depth       int
	maxChildren int
}

func newTree(depth, maxChildren int) *tree {
	return &tree{byLength: make(map[int]*node), depth: depth, maxChildren: maxChildren}
}

// routeKey is the key a token routes on. Tokens with a masked part go to the
// wildcard child: a variable there would otherwise split one template over
// many subtrees.
func routeKey(tok string) string {
	if strings.Contains(tok, Wildcard) {
		return Wildcard
	}
	return tok
}

// find returns the leaf a line belongs to, or nil. It prefers the exact child
// and falls back to the wildcard child, like Drain.
func (t *tree) find(tokens []string) *node {
	n := t.byLength[len(tokens)]
	for i := 0; n != nil && i < t.depth && i < len(tokens); i++ {
		next := n.children[routeKey(tokens[i])]
		if next == nil {
			next = n.children[Wildcard]
		}
		n = next
	}
	return n
}

// route chooses the path of a new cluster, creating nodes as needed. Once a
// node has maxChildren children, further distinct tokens share its wildcard
// child, which bounds the fan-out when a leading token is a variable that the
// masker did not recognise.
func (t *tree) route(tokens []string) (leaf *node, path []string) {
	n := t.byLength[len(tokens)]
	if n == nil {
		n = &node{}
		t.byLength[len(tokens)] = n
	}
	levels := min(t.depth, len(tokens))
	path = make([]string, 0, levels)
	for i := 0; i < levels; i++ {
		key := routeKey(tokens[i])
		if _, ok := n.children[key]; !ok && len(n.children) >= t.maxChildren-1 {
			key = Wildcard
		}
		key = strings.Clone(key)
		path = append(path, key)
		n = n.child(key)
	}
	return n, path
}

// leafAt returns the leaf at a stored path, creating it (used by restore).
func (t *tree) leafAt(length int, path []string) *node {
	n := t.byLength[length]
	if n == nil {
		n = &node{}
		t.byLength[length] = n
	}
	for _, key := range path {
		n = n.child(key)
	}
	return n
}

// remove takes an evicted cluster out of its leaf and prunes nodes left empty,
// so that memory follows the number of live clusters.
func (t *tree) remove(c *cluster) {
	root := t.byLength[len(c.tokens)]
	if root == nil {
		return
	}
	nodes := make([]*node, 0, len(c.path)+1)
	nodes = append(nodes, root)
	n := root
	for _, key := range c.path {
		n = n.children[key]
		if n == nil {
			return
		}
		nodes = append(nodes, n)
	}
	n.clusters = slices.DeleteFunc(n.clusters, func(x *cluster) bool { return x == c })
	for i := len(nodes) - 1; i > 0; i-- {
		if len(nodes[i].children) > 0 || len(nodes[i].clusters) > 0 {
			return
		}
		delete(nodes[i-1].children, c.path[i-1])
	}
	if len(root.children) == 0 && len(root.clusters) == 0 {
		delete(t.byLength, len(c.tokens))
	}
}

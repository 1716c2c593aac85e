package embedded

import (
	"crypto/sha256"
	"fmt"
	"math"
	"strings"

	"github.com/ncruces/go-sqlite3"
)

// maxCachedResources bounds the writer's hash → ResourceId cache. A miss
// costs one indexed lookup, while an unbounded map would grow with every
// process that ever sent data (service.instance.id, k8s.pod.uid change at
// each restart).
const maxCachedResources = 10_000

// maintenanceChunkResources bounds the resources (and stale uses) one
// maintenance transaction deletes: a resource row carries all of a
// process's attributes, often kilobytes, so this is about as much I/O as a
// chunk of spans.
const maintenanceChunkResources = 1000

// resourceUse keys ollystack_resource_uses.
type resourceUse struct {
	id    int64
	table string
}

// cacheResources remembers committed resource ids, evicting arbitrary
// entries to stay within maxCachedResources.
func (w *writer) cacheResources(ids map[[sha256.Size]byte]int64) {
	for hash, id := range ids {
		if _, ok := w.resourceIDs[hash]; !ok && len(w.resourceIDs) >= maxCachedResources {
			// Map iteration starts at a random place: random eviction,
			// which is all a cache whose misses are cheap needs.
			for old := range w.resourceIDs {
				delete(w.resourceIDs, old)
				break
			}
		}
		w.resourceIDs[hash] = id
	}
}

// sweepResourcesStep deletes up to maintenanceChunkResources uses that only
// point at deleted rows, then the resources those uses leave with none. It
// returns whether it deleted anything.
//
// The writer goroutine runs this and every write on the one write
// connection, so no write can run between a resource's delete and the
// removal of its cache entry, and a write that reuses a cached id records a
// use in its own transaction, which keeps the resource alive. A rolled-back
// sweep has only dropped cache entries, which costs a lookup later.
func (w *writer) sweepResourcesStep() (bool, error) {
	var freed []int64
	for _, table := range dataTables {
		budget := maintenanceChunkResources - len(freed)
		if budget <= 0 {
			break
		}
		// Rows below a table's smallest rowid are gone, so a use whose
		// LastRowId is below it points at nothing. min(rowid) is one
		// B-tree descent; an empty table makes every use of it stale.
		first := int64(math.MaxInt64)
		err := w.db.query(`SELECT min(rowid) FROM `+table, nil, func(st *sqlite3.Stmt) error {
			if st.ColumnType(0) != sqlite3.NULL {
				first = st.ColumnInt64(0)
			}
			return nil
		})
		if err != nil {
			return false, err
		}
		err = w.db.query(`DELETE FROM ollystack_resource_uses WHERE (ResourceId, TableName) IN
			(SELECT ResourceId, TableName FROM ollystack_resource_uses WHERE TableName = ? AND LastRowId < ? LIMIT ?)
			RETURNING ResourceId`, []any{table, first, budget}, func(st *sqlite3.Stmt) error {
			freed = append(freed, st.ColumnInt64(0))
			return nil
		})
		if err != nil {
			return false, fmt.Errorf("expire uses of %s: %w", table, err)
		}
	}
	for _, id := range freed {
		err := w.db.query(`DELETE FROM ollystack_resources WHERE ResourceId = ?1
			AND NOT EXISTS (SELECT 1 FROM ollystack_resource_uses WHERE ResourceId = ?1)
			RETURNING Hash`, []any{id}, func(st *sqlite3.Stmt) error {
			var hash [sha256.Size]byte
			copy(hash[:], st.ColumnRawBlob(0))
			delete(w.resourceIDs, hash)
			return nil
		})
		if err != nil {
			return false, fmt.Errorf("delete unused resource: %w", err)
		}
	}
	return len(freed) > 0, nil
}

// seedResourceUses gives each resource of a file written before
// ollystack_resource_uses existed a use at the current end of every data
// table (0 for an empty one): without a use the sweep would never find it,
// and with these it goes once everything stored now has gone. It runs once
// per file; running it again (a crash before the meta row) would only keep
// some resources longer.
func seedResourceUses(c *dbConn) error {
	seeded := false
	err := c.query(`SELECT 1 FROM ollystack_meta WHERE Key = 'resource_uses'`, nil, func(*sqlite3.Stmt) error {
		seeded = true
		return nil
	})
	if err != nil || seeded {
		return err
	}
	ends := make([]string, len(dataTables))
	for i, t := range dataTables {
		ends[i] = fmt.Sprintf(`SELECT '%s' AS name, coalesce((SELECT max(rowid) FROM %s), 0) AS last`, t, t)
	}
	// "WHERE true" tells SQLite's parser that ON CONFLICT is the upsert
	// clause, not part of the join.
	err = c.exec(`INSERT INTO ollystack_resource_uses (ResourceId, TableName, LastRowId)
		SELECT r.ResourceId, e.name, e.last FROM ollystack_resources r, (` + strings.Join(ends, ` UNION ALL `) + `) e
		WHERE true ON CONFLICT DO NOTHING`)
	if err != nil {
		return fmt.Errorf("seed resource uses: %w", err)
	}
	return c.exec(`INSERT INTO ollystack_meta (Key, Value) VALUES ('resource_uses', '1')`)
}

package embedded

import (
	"time"

	"go.uber.org/zap"
)

// checkpointInterval is how often the checkpointer copies committed WAL
// frames into the database file.
const checkpointInterval = 500 * time.Millisecond

// runCheckpointer checkpoints the WAL from its own connection and
// goroutine. SQLite's automatic checkpoint would run inside the committing
// writer, stalling ingest on the one goroutine that can write; a PASSIVE
// checkpoint elsewhere needs no write lock and uses the other core.
func (s *Store) runCheckpointer(c *dbConn) {
	defer close(s.checkpointerDone)
	ticker := time.NewTicker(checkpointInterval)
	defer ticker.Stop()
	for {
		select {
		case <-s.stop:
			if err := c.close(); err != nil {
				s.logger.Warn("closing the signal store checkpoint connection failed", zap.Error(err))
			}
			return
		case <-ticker.C:
			if err := c.conn.Exec(`PRAGMA wal_checkpoint(PASSIVE)`); err != nil {
				s.logger.Debug("signal store WAL checkpoint failed; will retry", zap.Error(err))
			}
		}
	}
}

package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"

	chproto "github.com/ClickHouse/ch-go/proto"
	"github.com/ClickHouse/clickhouse-go/v2/lib/column"
	"github.com/ClickHouse/clickhouse-go/v2/lib/proto"
)

// withRevision re-encodes the Native output of the engine, written as for
// protocol revision 0 (no client), as clickhouse-server's HTTP interface
// writes it for a client that sent client_protocol_version=revision: each
// block then starts with its BlockInfo and, from revision 54454, each column
// says whether it has a custom serialization. clickhouse-go reads HTTP
// answers that way.
func withRevision(native []byte, revision uint64) ([]byte, error) {
	r := chproto.NewReader(bytes.NewReader(native))
	var out chproto.Buffer
	for n := 0; ; n++ {
		block := proto.Block{ServerContext: &column.ServerContext{Revision: revision, Timezone: time.UTC}}
		if err := block.Decode(r, 0); err != nil {
			if n > 0 && errors.Is(err, io.EOF) {
				return out.Buf, nil
			}
			return nil, fmt.Errorf("decode Native block %d: %w", n, err)
		}
		if err := block.Encode(&out, revision); err != nil {
			return nil, fmt.Errorf("encode Native block %d: %w", n, err)
		}
	}
}

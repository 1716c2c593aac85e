package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
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
	var out chproto.Buffer
	err := eachBlock(native, &column.ServerContext{Revision: revision, Timezone: time.UTC}, func(block *proto.Block) error {
		return encodeBlock(&out, block, revision)
	})
	return out.Buf, err
}

// eachBlock calls fn with each block of the engine's Native output, written
// as for revision 0.
func eachBlock(native []byte, ctx *column.ServerContext, fn func(*proto.Block) error) error {
	r := chproto.NewReader(bytes.NewReader(native))
	for n := 0; len(native) > 0; n++ {
		block := &proto.Block{ServerContext: ctx}
		if err := block.Decode(r, 0); err != nil {
			if n > 0 && errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("decode Native block %d: %w", n, err)
		}
		if err := fn(block); err != nil {
			return fmt.Errorf("Native block %d: %w", n, err)
		}
	}
	return nil
}

// encodeBlock encodes a block as the server does. A block without rows has
// only its header (names, types, serialization flags): clickhouse-go's
// decoder reads no more, though its encoder would write the state prefix of
// LowCardinality and Map columns.
func encodeBlock(buf *chproto.Buffer, block *proto.Block, revision uint64) error {
	if block.Rows() > 0 {
		return block.Encode(buf, revision)
	}
	if err := block.EncodeHeader(buf, revision); err != nil {
		return err
	}
	for _, c := range block.Columns {
		buf.PutString(c.Name())
		buf.PutString(string(c.Type()))
		if revision >= proto.DBMS_MIN_REVISION_WITH_CUSTOM_SERIALIZATION {
			buf.PutBool(false)
		}
	}
	return nil
}

// selectStatement matches the statements that return rows.
var selectStatement = regexp.MustCompile(`(?i)^\s*(SELECT|WITH)\s`)

// resultHeader is the empty block of the columns a query returns, from
// DESCRIBE (query), which does not run it.
func (h *handler) resultHeader(req *request, ctx *column.ServerContext) (*proto.Block, error) {
	describe := *req
	describe.sql, describe.format = "DESCRIBE ("+req.sql+")", "TabSeparated"
	columns, err := h.describe(&describe)
	if err != nil {
		return nil, err
	}
	block := &proto.Block{ServerContext: ctx}
	for _, c := range columns {
		if err := block.AddColumn(c.name, column.Type(c.typ)); err != nil {
			return nil, err
		}
	}
	return block, nil
}

// headerNative is the header block of the query's result, in Native for the
// request's revision.
func (h *handler) headerNative(req *request) ([]byte, error) {
	header, err := h.resultHeader(req, &column.ServerContext{Revision: req.revision, Timezone: time.UTC})
	if err != nil {
		return nil, err
	}
	var buf chproto.Buffer
	if err := encodeBlock(&buf, header, req.revision); err != nil {
		return nil, err
	}
	return buf.Buf, nil
}

// describedColumn is a row of DESCRIBE.
type describedColumn struct{ name, typ, defaultKind string }

func (h *handler) describe(req *request) ([]describedColumn, error) {
	out, err := h.execute(req)
	if err != nil {
		return nil, err
	}
	var columns []describedColumn
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		f := strings.Split(line, "\t")
		if len(f) < 3 {
			return nil, fmt.Errorf("%s: %q", req.sql, line)
		}
		columns = append(columns, describedColumn{name: f[0], typ: f[1], defaultKind: f[2]})
	}
	return columns, nil
}

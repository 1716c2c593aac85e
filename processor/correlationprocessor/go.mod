module github.com/ollystack/ollystack/processor/correlationprocessor

go 1.26.0

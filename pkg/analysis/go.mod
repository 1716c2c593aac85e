module github.com/ollystack/ollystack/pkg/analysis

go 1.26.0

module github.com/ollystack/ollystack/internal/tools

go 1.26.0

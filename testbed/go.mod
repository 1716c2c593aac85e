module github.com/ollystack/ollystack/testbed

go 1.26.0
